"""Which language Verity writes in where there is no request: stored text about an article and e-mails."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation


def supported_language(code: str | None) -> str:
    """The language of settings.LANGUAGES that `code` (an article's locale such as "de-AT", a person's
    language) is written in; English for any other language, never the server default."""
    base = (code or "").replace("_", "-").split("-")[0].lower()
    return base if base in {language for language, _name in settings.LANGUAGES} else "en"


def written_in(code: str | None) -> translation.override:
    """Activate the language for text written in `code`, e.g. a flag reason in its article's language.

    (Django would fill a language without Verity's translations from LANGUAGE_CODE, German; English
    is the better default for a French article.)
    """
    return translation.override(supported_language(code))
