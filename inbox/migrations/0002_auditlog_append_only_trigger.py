"""The audit log is append-only in the database too (PostgreSQL): a trigger refuses every
UPDATE and DELETE of its rows, whoever sends them (the model refuses them already)."""

from typing import Any

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION inbox_auditlog_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'inbox_auditlog is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS inbox_auditlog_append_only ON inbox_auditlog;
CREATE TRIGGER inbox_auditlog_append_only BEFORE UPDATE OR DELETE ON inbox_auditlog
    FOR EACH ROW EXECUTE FUNCTION inbox_auditlog_refuse_change();
"""

DROP = """
DROP TRIGGER IF EXISTS inbox_auditlog_append_only ON inbox_auditlog;
DROP FUNCTION IF EXISTS inbox_auditlog_refuse_change();
"""


def create(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("inbox", "0001_staff_membership_and_audit_log")]

    operations = [migrations.RunPython(create, drop)]
