"""Headings weighted apart (0005) lifted SciFact train but not test (hybrid 0.716 either way) and
made answers worse on all three evaluation sets, so postings no longer count them apart."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('retrieval', '0006_legal_advice_phrases'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='posting',
            name='heading_tf',
        ),
    ]
