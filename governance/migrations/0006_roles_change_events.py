"""Roles may see change events; approvers and knowledge admins may announce them."""

from django.db import migrations


def sync_roles(apps, schema_editor):
    from governance.roles import roles_sync

    roles_sync(apps)


class Migration(migrations.Migration):
    dependencies = [("governance", "0005_changeevent_and_more"), ("retrieval", "0004_default_guardrails")]
    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
