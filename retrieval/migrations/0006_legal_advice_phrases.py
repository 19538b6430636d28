"""The default "Rechtsberatung" topic named a lawyer anywhere ("Anwalt", "lawyer"): a customer asking
for an insurer's lawyer hotline or whether legal costs are covered was handed over. It now names
asking for legal advice or taking legal steps. A rule a knowledge admin has edited is left alone."""

from django.db import migrations

OLD = ("verklagen\nAnwalt\nRechtsanwalt\nRechtsberatung\nrechtlich beraten\nvor Gericht\n"
       "Gericht ziehen\nsue\nlawsuit\nlegal advice\nlawyer\nattorney\ntake you to court")
NEW = ("verklagen\nRechtsberatung\nrechtlich beraten\nrechtliche Beratung\nvor Gericht\nGericht ziehen\n"
       "mein Anwalt\nmeinen Anwalt\nmeinem Anwalt\nAnwalt einschalten\nist das rechtens\nist das überhaupt legal\n"
       "sue\nlawsuit\nlegal advice\nmy lawyer\nmy attorney\ntake you to court\nis that legal")


def _replace(apps, old: str, new: str) -> None:
    GuardrailRule = apps.get_model("retrieval", "GuardrailRule")
    GuardrailRule.objects.filter(name="Rechtsberatung", kind="blocked_topic", phrases=old).update(phrases=new)


class Migration(migrations.Migration):
    dependencies = [("retrieval", "0005_posting_heading_tf")]
    operations = [migrations.RunPython(lambda apps, _: _replace(apps, OLD, NEW), lambda apps, _: _replace(apps, NEW, OLD))]
