"""A source article, a glossary and a stand-in model that translates by a script (tests/llm_standin.py)."""

from __future__ import annotations

import pytest

from governance import services
from kb.models import Article, GlossaryEntry

SOURCE = (
    "# Rückgabe\n\n"
    "Geräte aus dem Online-Shop können Sie innerhalb von 14 Tagen zurückgeben. Öffnen Sie dazu Mein Konto > "
    "Bestellungen > Rücksendung.\n\n"
    "## Kosten\n\n"
    "Das Rücksendeetikett kostet 4,95 €. Die VerityBox senden Sie bis zum 1. März 2027 kostenlos zurück."
)
ENGLISH = {
    "Rückgabe": "Returns",
    "# Rückgabe\n\nGeräte aus dem Online-Shop können Sie innerhalb von 14 Tagen zurückgeben. Öffnen Sie dazu Mein Konto > "
    "Bestellungen > Rücksendung.":
        "# Returns\n\nYou can return devices from the online shop within 14 days. To do so, open My Account > "
        "Orders > Return.",
    "## Kosten\n\nDas Rücksendeetikett kostet 4,95 €. Die VerityBox senden Sie bis zum 1. März 2027 kostenlos zurück.":
        "## Costs\n\nThe return label costs €4.95. You can send the VerityBox back free of charge until 1 March 2027.",
}
SECTION_2_KEY = ("## Kosten\n\nDas Rücksendeetikett kostet 4,95 €. Die VerityBox senden Sie bis zum 1. März 2027 "
                 "kostenlos zurück.")
GERMAN = {  # the back-translations
    "# Returns\n\nYou can return devices from the online shop within 14 days. To do so, open My Account > Orders > Return.":
        "# Rückgabe\n\nSie können Geräte aus dem Online-Shop innerhalb von 14 Tagen zurückgeben. Öffnen Sie dazu Mein "
        "Konto > Bestellungen > Rücksendung.",
    "## Costs\n\nThe return label costs €4.95. You can send the VerityBox back free of charge until 1 March 2027.":
        "## Kosten\n\nDas Rücksendeetikett kostet 4,95 €. Sie können die VerityBox bis zum 1. März 2027 kostenlos "
        "zurücksenden.",
}


class Translator:
    """The stand-in's replies: the scripted translation of the user message, by direction."""

    def __init__(self) -> None:
        self.english = dict(ENGLISH)
        self.german = dict(GERMAN)

    def __call__(self, prompt: str) -> str:
        table = self.english if "into English" in prompt.split("\n", 1)[0] else self.german
        for text, translation in sorted(table.items(), key=lambda item: -len(item[0])):
            if prompt.endswith("\n" + text):
                return translation
        return "<no script>"


@pytest.fixture
def translator(standin, settings) -> Translator:
    settings.VERITY_GENERATOR = "llm"
    settings.VERITY_LLM_BASE_URL = standin.url
    settings.VERITY_LLM_MODEL = "standin"
    script = Translator()
    standin.script.reply = script
    return script


@pytest.fixture
def source(publish) -> Article:
    return publish("rueckgabe", body=SOURCE, title="Rückgabe")


@pytest.fixture
def glossary(db) -> list[GlossaryEntry]:
    return [
        GlossaryEntry.objects.create(source_locale="de", target_locale="en", term="Mein Konto", translation="My Account",
                                     forbidden_variants=["My Profile", "Customer Account"]),
        GlossaryEntry.objects.create(source_locale="de", target_locale="en", term="VerityBox", do_not_translate=True,
                                     forbidden_variants=["Verity Box"]),
    ]


@pytest.fixture
def inline(django_capture_on_commit_callbacks):
    """Run what a service enqueues after commit, here (eager Celery runs the task in this process)."""

    def run(call, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return call(*args, **kwargs)

    return run


@pytest.fixture
def open_review_of():
    def find(article: Article):
        return services._open_review(article)

    return find
