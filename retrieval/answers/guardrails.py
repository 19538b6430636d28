"""Guardrails: prompt-injection detection, hand-over rules, blocked topics, guarded promises and
required clauses. The rules are data (GuardrailRule, edited in the admin); the matching is here.

A question is always treated as data: nothing in it can change which sources may be cited or
what may be said. Injection attempts are detected only to hand the conversation to a person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from governance.models import AuditEvent
from governance.services import audit_record
from retrieval.answers.redaction import RedactionPattern
from retrieval.models import GuardrailRule
from retrieval.text.tokens import fold_german, language_of, stemmer_for, tokens

# Instruction-override patterns (general language knowledge, German and English).
INJECTION_PATTERNS = [
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(previous|prior|above|earlier|all|your|the)\b.{0,30}\b(instructions?|rules?|prompts?|guidelines?|polic(y|ies))",
    r"\b(ignorier\w*|vergiss|vergessen\s+sie|missachte\w*|überschreib\w*)\b.{0,50}\b(anweisung\w*|regeln?|vorgaben?|instruktion\w*|richtlinie\w*|prompts?)",
    r"\bsystem\s*(override|prompt|message|nachricht|anweisung)",
    r"\b(developer|dev|god|admin|debug|jailbreak)\s*mode\b|\bjailbreak\b|\bDAN\b",
    r"\b(you\s+are\s+now|act\s+as|pretend\s+(to\s+be|you\s+are)|role-?\s?play|from\s+now\s+on\s+you)\b",
    r"\b(du\s+bist\s+(jetzt|ab\s+sofort|nun)|tu\s+so,?\s+als|stell\s+dir\s+vor,?\s+du\s+bist|spiel\w*\s+(die\s+rolle|einen?)|rollenspiel|ab\s+jetzt\s+bist\s+du)\b",
    r"\b(reply|respond|answer|say)\s+(only|just|exactly)\s+(with|:)",
    r"\b(antworte|antworten\s+sie|sag\w*|schreib\w*)\s+(nur|ausschließlich|lediglich|genau)\s+(mit|:|[\"„'])",
    r"\b(reveal|print|show|output|list|zeig\w*|nenn\w*|gib)\b.{0,40}\b(system\s*prompt|internal|interne[nrs]?|confidential|vertraulich\w*|geheim\w*)\b.{0,30}\b(rules?|instructions?|regeln|anweisungen|richtlinien?|policies|informationen|daten)",
    r"<\s*/?\s*(system|assistant|instructions?)\s*>|\[\s*(system|inst)\s*\]|###\s*(system|instruction)",
]
_INJECTION = [re.compile(pattern, re.IGNORECASE | re.DOTALL) for pattern in INJECTION_PATTERNS]


def is_injection_attempt(question: str) -> bool:
    return any(pattern.search(question) for pattern in _INJECTION)


@lru_cache(maxsize=4096)
def _phrase_matcher(line: str) -> re.Pattern[str] | tuple[str, ...]:
    if len(line) > 2 and line.startswith("/") and line.endswith("/"):
        return re.compile(line[1:-1], re.IGNORECASE)
    return tuple(_stem_words(line))


def _stem_words(text: str) -> list[str]:
    words = []
    for word in tokens(text):
        stems = {word}
        for language in ("de", "en"):
            stemmer = stemmer_for(language)
            stems.add(fold_german(stemmer.stemWord(word)) if language == "de" else stemmer.stemWord(word))
        words.append("|".join(sorted(stems)))
    return words


def phrase_in(line: str, text: str, *, max_gap: int = 2) -> bool:
    """The phrase's words occur in order (any inflection), with at most `max_gap` words between."""
    matcher = _phrase_matcher(line)
    if isinstance(matcher, re.Pattern):
        return bool(matcher.search(text))
    if not matcher:
        return False
    words = [set(stems.split("|")) for stems in _stem_words(text)]
    wanted = [set(stems.split("|")) for stems in matcher]
    for start, candidate in enumerate(words):
        if not candidate & wanted[0]:
            continue
        position, ok = start, True
        for phrase_word in wanted[1:]:
            window = words[position + 1: position + 2 + max_gap]
            offset = next((i for i, word in enumerate(window) if word & phrase_word), None)
            if offset is None:
                ok = False
                break
            position += offset + 1
        if ok:
            return True
    return False


@dataclass(frozen=True)
class HandoffDecision:
    reason: str
    rule: str
    message: str


def message_for(rule: GuardrailRule, locale: str) -> str:
    """A rule's message in the question's language: lines may start with 'de:' or 'en:'."""
    language = language_of(locale)
    generic = []
    for line in rule.message.splitlines():
        match = re.match(r"^\s*([a-z]{2}):\s*(.*)$", line)
        if match and match.group(1) == language:
            return match.group(2).strip()
        if not match and line.strip():
            generic.append(line.strip())
    return " ".join(generic) or HANDOFF_MESSAGES.get(language, HANDOFF_MESSAGES["en"])


HANDOFF_MESSAGES = {
    "de": "Dazu verbinde ich Sie gern mit einer Mitarbeiterin oder einem Mitarbeiter unseres Kundenservice.",
    "en": "Let me connect you with a member of our customer service team for this.",
}
REFUSAL_MESSAGES = {
    "de": "Dazu habe ich leider keine gesicherte Information. Bitte wenden Sie sich an unseren Kundenservice.",
    "en": "I'm sorry, I don't have reliable information on that. Please contact our customer service.",
}


def _rules(kind: str, audience: str) -> list[GuardrailRule]:
    return [
        rule for rule in GuardrailRule.objects.filter(kind=kind, active=True).select_related("space")
        if rule.audience in (GuardrailRule.Audience.ALL, audience)
    ]


def handoff_check(question: str, *, audience: str, locale: str) -> HandoffDecision | None:
    """Injection attempts, blocked topics and hand-over triggers all lead to a person."""
    if is_injection_attempt(question):
        return HandoffDecision("injection_attempt", "built-in", HANDOFF_MESSAGES.get(language_of(locale), HANDOFF_MESSAGES["en"]))
    for kind, reason in ((GuardrailRule.Kind.BLOCKED_TOPIC, "blocked_topic"), (GuardrailRule.Kind.HANDOFF_TRIGGER, "handoff_requested")):
        for rule in _rules(kind, audience):
            if any(phrase_in(line, question) for line in rule.lines()):
                return HandoffDecision(reason, rule.name, message_for(rule, locale))
    return None


def guarded_phrases(audience: str) -> list[str]:
    return [line for rule in _rules(GuardrailRule.Kind.GUARDED_PHRASE, audience) for line in rule.lines()]


def unsupported_promises(sentence: str, quote: str, phrases: list[str]) -> list[str]:
    """Guarded phrases a sentence states that its cited passage does not state."""
    return [phrase for phrase in phrases if phrase_in(phrase, sentence, max_gap=0) and not phrase_in(phrase, quote, max_gap=0)]


def required_clauses(space_ids: set[int], audience: str, locale: str) -> list[str]:
    return [
        message_for(rule, locale) for rule in _rules(GuardrailRule.Kind.REQUIRED_CLAUSE, audience)
        if rule.space_id is None or rule.space_id in space_ids
    ]


def redaction_patterns() -> list[RedactionPattern]:
    patterns = []
    for rule in GuardrailRule.objects.filter(kind=GuardrailRule.Kind.REDACTION, active=True):
        label = (rule.message.strip() or rule.name).upper().replace(" ", "_")[:40]
        for line in rule.lines():
            body = line[1:-1] if len(line) > 2 and line.startswith("/") and line.endswith("/") else line
            try:
                patterns.append(RedactionPattern(label, re.compile(body, re.IGNORECASE)))
            except re.error:
                continue  # validated on save in the admin; a broken pattern never blocks answering
    return patterns


# --- writes: every change of a rule is audited in its transaction ---------------------------------


@transaction.atomic
def guardrail_rule_save(*, actor: AbstractBaseUser, rule: GuardrailRule, created: bool, changed: list[str]) -> GuardrailRule:
    """Create or change a guardrail rule (already validated) and audit it in the same transaction."""
    rule.save()
    audit_record(
        event_type=AuditEvent.Type.POLICY_CREATE if created else AuditEvent.Type.POLICY_CHANGE,
        actor=actor, target_label=rule.name,
        details={"kind": rule.kind, "changed": list(changed), "active": rule.active},
    )
    return rule


@transaction.atomic
def guardrail_rule_delete(*, actor: AbstractBaseUser, rule: GuardrailRule) -> None:
    """Delete a guardrail rule, keeping what it said in the audit log."""
    audit_record(event_type=AuditEvent.Type.POLICY_DELETE, actor=actor, target_label=rule.name,
                 details={"kind": rule.kind, "phrases": rule.phrases, "message": rule.message})
    rule.delete()
