"""On PostgreSQL the database itself refuses UPDATE and DELETE on audit events (DESIGN.md §5).

SQLite relies on the application guard (``AuditEvent.save``/``delete`` and the queryset). TRUNCATE
is left to the database owner (test databases are flushed with it).
"""

from __future__ import annotations

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION declarations_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER declarations_auditevent_append_only
    BEFORE UPDATE OR DELETE ON declarations_auditevent
    FOR EACH ROW EXECUTE FUNCTION declarations_auditevent_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS declarations_auditevent_append_only ON declarations_auditevent;
DROP FUNCTION IF EXISTS declarations_auditevent_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("declarations", "0002_fill_legal_references")]
    operations = [migrations.RunPython(forwards, backwards)]
