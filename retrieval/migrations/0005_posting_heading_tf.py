"""Postings count heading-path occurrences apart, so search can weigh titles and headings higher.

Existing postings get 0 (their headings count like body text) until `manage.py kb_reindex`
rebuilds them.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('retrieval', '0004_default_guardrails'),
    ]

    operations = [
        migrations.AddField(
            model_name='posting',
            name='heading_tf',
            field=models.PositiveSmallIntegerField(db_default=0, default=0),
        ),
    ]
