"""Questions and feedback stored before the redaction learnt addresses, names, birth dates and the
identity numbers (issue #14 item 7) are redacted again with today's rules, as are the questions and
comments that feedback flags quote. (The audit log is append-only and keeps what it recorded.)"""

import re

from django.db import migrations

# a feedback flag quotes the question in its evidence and the comment in its summary
FLAG_QUESTION = re.compile(r"^(Question: )(.*)$", re.MULTILINE)
FLAG_COMMENT = re.compile(r"^(An answer citing v\d+ was rated unhelpful: )(.*)$", re.DOTALL)


def redact_stored(apps, schema_editor):
    # today's rules (pure Python, no models): what this migration applies is what new questions get
    from retrieval.answers.redaction import redact

    def redacted(text):
        return redact(text).text

    def in_part(pattern, text):
        return pattern.sub(lambda match: match.group(1) + redacted(match.group(2)), text)

    AnswerRecord = apps.get_model("retrieval", "AnswerRecord")
    Feedback = apps.get_model("retrieval", "Feedback")
    Flag = apps.get_model("governance", "Flag")
    for model, fields, rewrite in (
        (AnswerRecord, ["question"], lambda row: {"question": redacted(row.question)}),
        (Feedback, ["comment"], lambda row: {"comment": redacted(row.comment)}),
        (Flag, ["summary", "evidence"], lambda row: {"summary": in_part(FLAG_COMMENT, row.summary),
                                                    "evidence": in_part(FLAG_QUESTION, row.evidence)}),
    ):
        rows = model.objects.all() if model is not Flag else model.objects.filter(reason="feedback")
        changed = []
        for row in rows.only("pk", *fields).iterator(chunk_size=2000):
            values = rewrite(row)
            if any(getattr(row, field) != value for field, value in values.items()):
                for field, value in values.items():
                    setattr(row, field, value)
                changed.append(row)
        model.objects.bulk_update(changed, fields, batch_size=1000)


class Migration(migrations.Migration):

    dependencies = [
        ("retrieval", "0009_index_job_batches"),
        ("governance", "0013_import_run_batches"),
    ]

    operations = [migrations.RunPython(redact_stored, migrations.RunPython.noop)]
