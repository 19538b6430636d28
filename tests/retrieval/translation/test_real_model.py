"""The default model itself (Qwen2.5-Coder-1.5B) drafts a translation of one section of a demo article, de→en.

One test, three model calls (title, section, back), under a minute on a quiet 2-core machine. Skipped
where the model is not installed. (The whole article, 5 sections: README, "Translations with a score".)
"""

from __future__ import annotations

from pathlib import Path

from kb.kbformat import parse_article_file
from kb.models import GlossaryEntry
from retrieval.translation.drafting import translation_draft, translation_run

DEMO = Path(__file__).resolve().parents[3] / "demo" / "kb" / "roaming-schweiz.md"


def test_the_model_drafts_a_scored_translation_of_a_demo_article(publish, author, real_model, capsys, settings):
    settings.VERITY_GENERATOR = "llm"
    settings.VERITY_LLM_BASE_URL, settings.VERITY_LLM_API_KEY = real_model.base_url, real_model.api_key
    demo = parse_article_file(DEMO)
    section = "## Reisepaket Schweiz" + demo.body.split("## Reisepaket Schweiz")[1].split("\n## ")[0]
    source = publish("roaming-schweiz", body=section, title=demo.title)
    GlossaryEntry.objects.create(source_locale="de", target_locale="en", term="Mein Alpenfunk", do_not_translate=True)
    GlossaryEntry.objects.create(source_locale="de", target_locale="en", term="Reisepaket Schweiz",
                                 translation="Switzerland travel pack", forbidden_variants=["Travel Package Switzerland"])
    requested = translation_draft(article=source, target_locale="en", actor=author, dispatch=lambda pk: None)

    draft = translation_run(requested.pk, endpoint=real_model)

    assert draft.status == "done", draft.error
    assert draft.target.live_version is None and draft.version.author == author
    assert draft.parts["sections"] == 1
    with capsys.disabled():  # for a person to read: `dev.py test ... -s`
        print(f"\nscore {draft.score} {draft.parts}\n{draft.version.title}\n{draft.version.body}")
        for section in draft.spans:
            print(section["section"], section["agreement"], section["missing"], section["replaced"])
    assert draft.parts["survival"] >= 50  # most numbers, amounts and paths survive even a small model
