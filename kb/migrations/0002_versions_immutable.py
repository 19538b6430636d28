"""Article versions are immutable: the database refuses any UPDATE of a version row."""

from django.db import migrations

SQL = """
CREATE FUNCTION kb_articleversion_refuse_update() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'article versions are immutable: create a new version instead'
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER kb_articleversion_immutable BEFORE UPDATE ON kb_articleversion
    FOR EACH ROW EXECUTE FUNCTION kb_articleversion_refuse_update();
"""

REVERSE = """
DROP TRIGGER IF EXISTS kb_articleversion_immutable ON kb_articleversion;
DROP FUNCTION IF EXISTS kb_articleversion_refuse_update();
"""


class Migration(migrations.Migration):
    dependencies = [("kb", "0001_initial")]
    operations = [migrations.RunSQL(SQL, REVERSE)]
