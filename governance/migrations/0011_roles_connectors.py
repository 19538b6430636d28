"""Knowledge admins may see connected sources and their runs (and import runs)."""

from django.db import migrations


def sync_roles(apps, schema_editor):
    from governance.roles import roles_sync

    roles_sync(apps)


class Migration(migrations.Migration):
    dependencies = [("governance", "0010_connectors"), ("retrieval", "0008_answer_cache")]
    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
