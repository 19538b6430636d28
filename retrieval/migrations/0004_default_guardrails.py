"""Default guardrails, in general German and English: knowledge admins edit them in the admin."""

from django.db import migrations

DEFAULT_RULES = [
    {
        "name": "Versprechen nur mit Quelle",
        "kind": "guarded_phrase",
        "phrases": "garantiert\ngarantieren\nimmer kostenlos\nfür immer kostenlos\ninnerhalb von 24 Stunden\n"
                   "auf jeden Fall\nguaranteed\nguarantee\nalways free\nfree forever\nwithin 24 hours",
    },
    {
        "name": "Rechtsberatung",
        "kind": "blocked_topic",
        "phrases": "verklagen\nAnwalt\nRechtsanwalt\nRechtsberatung\nrechtlich beraten\nvor Gericht\n"
                   "Gericht ziehen\nsue\nlawsuit\nlegal advice\nlawyer\nattorney\ntake you to court",
        "message": "de: Rechtliche Fragen kann ich nicht beantworten. Gern verbinde ich Sie mit unserem Kundenservice.\n"
                   "en: I can't give legal advice. Let me connect you with our customer service team.",
    },
    {
        "name": "Medizinische Beratung",
        "kind": "blocked_topic",
        "phrases": "medizinische Beratung\nmedizinischen Rat\nGesundheitsrisiko\ngesundheitsschädlich\nmedical advice\n"
                   "health risk\nharmful to my health",
        "message": "de: Zu gesundheitlichen Fragen kann ich keine Auskunft geben. Bitte wenden Sie sich an eine Ärztin oder einen Arzt.\n"
                   "en: I can't give medical advice. Please ask a doctor.",
    },
    {
        "name": "Person gewünscht",
        "kind": "handoff_trigger",
        "phrases": "mit einem Mitarbeiter sprechen\nmit einer Mitarbeiterin sprechen\nmit einem Menschen sprechen\n"
                   "echten Menschen\nMitarbeiter sprechen\nKundenberater sprechen\nspeak to a human\nspeak to a person\n"
                   "talk to a human\ntalk to a person\nreal person\nhuman agent",
    },
    {
        "name": "Beschwerde und Drohung",
        "kind": "handoff_trigger",
        "phrases": "unverschämt\nFrechheit\nSkandal\nich beschwere mich\ninakzeptabel\nAnzeige erstatten\nzeige euch an\n"
                   "this is unacceptable\nI want to complain\nridiculous",
    },
    {
        "name": "Kunden- und Auftragsnummern",
        "kind": "redaction",
        "phrases": r"/\b(?:kunden|auftrags|bestell|vertrags|rechnungs|customer|order|account|invoice|contract)[-\s]?"
                   r"(?:nr\.?|nummer|number|no\.?|id)\s*[:#]?\s*[A-Z0-9][A-Z0-9-]{3,}/",
        "message": "REFERENCE",
    },
]


def create(apps, schema_editor):
    GuardrailRule = apps.get_model("retrieval", "GuardrailRule")
    for rule in DEFAULT_RULES:
        GuardrailRule.objects.get_or_create(name=rule["name"], defaults=rule)


def remove(apps, schema_editor):
    GuardrailRule = apps.get_model("retrieval", "GuardrailRule")
    GuardrailRule.objects.filter(name__in=[rule["name"] for rule in DEFAULT_RULES]).delete()


class Migration(migrations.Migration):
    dependencies = [("retrieval", "0003_answers_and_guardrails")]
    operations = [migrations.RunPython(create, remove)]
