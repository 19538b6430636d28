"""The glossary entries that apply to a text, as rules for retrieval.text.translation."""

from __future__ import annotations

from kb.models import GlossaryEntry
from retrieval.text.translation import GlossaryRule


def _rule(entry: GlossaryEntry) -> GlossaryRule:
    return GlossaryRule(term=entry.term, required=entry.required_form, forbidden=tuple(entry.forbidden_variants),
                        do_not_translate=entry.do_not_translate)


def glossary_rules(*, source_locale: str, target_locale: str) -> list[GlossaryRule]:
    """The entries of one locale pair (translations)."""
    entries = GlossaryEntry.objects.filter(source_locale=source_locale, target_locale=target_locale)
    return [_rule(entry) for entry in entries]


def glossary_rules_for(locale: str) -> list[GlossaryRule]:
    """Every entry whose target language is `locale` (answers written in it), longest forbidden variants first."""
    return [_rule(entry) for entry in GlossaryEntry.objects.filter(target_locale=locale).exclude(forbidden_variants=[])]
