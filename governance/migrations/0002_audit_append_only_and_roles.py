"""The audit log is append-only (UPDATE and DELETE refused by the database); role groups."""

from django.db import migrations

SQL = """
CREATE FUNCTION governance_auditevent_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only'
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER governance_auditevent_append_only BEFORE UPDATE OR DELETE ON governance_auditevent
    FOR EACH ROW EXECUTE FUNCTION governance_auditevent_refuse_change();
"""

REVERSE = """
DROP TRIGGER IF EXISTS governance_auditevent_append_only ON governance_auditevent;
DROP FUNCTION IF EXISTS governance_auditevent_refuse_change();
"""


def create_roles(apps, schema_editor):
    from governance.roles import roles_sync

    roles_sync(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0001_initial"),
        ("kb", "0002_versions_immutable"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [
        migrations.RunSQL(SQL, REVERSE),
        migrations.RunPython(create_roles, migrations.RunPython.noop),
    ]
