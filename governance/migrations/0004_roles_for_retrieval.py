"""Give the roles their permissions on guardrails, answers and API keys."""

from django.db import migrations


def sync_roles(apps, schema_editor):
    from governance.roles import roles_sync

    roles_sync(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0003_audit_types"),
        ("retrieval", "0004_default_guardrails"),
    ]
    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
