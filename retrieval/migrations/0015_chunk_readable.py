from django.db import migrations, models

BATCH = 2000


def fill_readable(apps, schema_editor):
    """Existing chunks get their readable text once, here, instead of at every search."""
    from retrieval.index.readable import readable_text

    Chunk = apps.get_model("retrieval", "Chunk")
    last = 0
    while True:
        batch = list(Chunk.objects.filter(pk__gt=last, readable="").order_by("pk").only("pk", "text")[:BATCH])
        if not batch:
            return
        for chunk in batch:
            chunk.readable = readable_text(chunk.text)
        Chunk.objects.bulk_update(batch, ["readable"])
        last = batch[-1].pk


class Migration(migrations.Migration):

    dependencies = [
        ('retrieval', '0014_translation_drafts'),
    ]

    operations = [
        migrations.AddField(
            model_name='chunk',
            name='readable',
            field=models.TextField(blank=True, db_default='', default='', help_text='The text as the reader sees it (Markdown rendered), for snippets.'),
        ),
        migrations.RunPython(fill_readable, migrations.RunPython.noop, elidable=True),
    ]
