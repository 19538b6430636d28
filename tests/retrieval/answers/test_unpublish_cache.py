"""The answer cache after an emergency unpublish: a reply citing the withdrawn article is never served
again (the cache is keyed on the passages retrieved, and nothing of the article is retrieved)."""

from __future__ import annotations

from governance import services
from retrieval.answers.pipeline import answer_question

RETURNS = (
    "# Rückgabe im Shop\n\n## Frist\n\nSie können im Online-Shop gekaufte Geräte innerhalb von 14 Tagen ab Erhalt "
    "der Ware zurückgeben. Das Rücksendeetikett kostet 4,95 €."
)
QUESTION = "Wie lange kann ich ein online gekauftes Handy zurückgeben?"


def test_a_cached_answer_is_not_served_after_its_article_is_unpublished(publish, standin, endpoint, admin_user_role):
    article = publish("rueckgabe", body=RETURNS, title="Rückgabe im Shop")
    standin.script.answer = "Sie können das Gerät innerhalb von 14 Tagen ab Erhalt der Ware zurückgeben. [1]"
    first = answer_question(question=QUESTION, audience="public", locale="de", endpoint=endpoint)
    cached = answer_question(question=QUESTION, audience="public", locale="de", endpoint=endpoint)
    assert (first.status, first.cached, cached.cached) == ("answered", False, True)
    assert [c.slug for c in cached.citations] == ["rueckgabe"]

    services.article_unpublish(actor=admin_user_role, article=article, reason="Frist ist falsch")

    for audience in ("public", "internal"):
        after = answer_question(question=QUESTION, audience=audience, locale="de", endpoint=endpoint)
        assert after.cached is False
        assert after.status == "refused"
        assert after.citations == [] and "14 Tagen" not in (after.answer or "")
