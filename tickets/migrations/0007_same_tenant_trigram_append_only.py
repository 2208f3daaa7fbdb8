"""PostgreSQL-only parts of the ticket domain:

* same-tenant composite foreign keys for every new tenant-owned reference;
* pg_trgm and a trigram index on the subject (similar-ticket suggestions; when the extension
  cannot be created the suggestions fall back to full-text search, see tickets.selectors);
* the append-only trigger of ``tickets_ticketevent``: UPDATE and DELETE are refused, except
  (a) an UPDATE that only nulls ``actor_id`` (Django's SET_NULL when a user is deleted) and
  (b) a DELETE of a row whose tenant is being deleted: ``tickets.apps`` marks the tenant ids in
  the transaction-local setting ``helpdesk.purge_tenants`` before Django's cascade runs.
  TRUNCATE (the test runner's flush) fires no row triggers.
"""

from django.db import migrations

from helpdesk.tenancy import same_tenant_foreign_key

SAME_TENANT = [
    ("Team", "last_assigned"),
    ("ProductArea", "team"),
    ("CustomFieldTicketType", "custom_field"),
    ("CustomFieldTicketType", "ticket_type"),
    ("PriorityMatrixEntry", "severity"),
    ("PriorityMatrixEntry", "business_impact"),
    ("PriorityMatrixEntry", "priority"),
    ("RoutingRule", "severity"),
    ("RoutingRule", "product_area"),
    ("RoutingRule", "ticket_type"),
    ("RoutingRule", "team"),
    ("Ticket", "type"),
    ("Ticket", "priority"),
    ("Ticket", "business_impact"),
    ("Ticket", "product_area"),
    ("Ticket", "merged_into"),
    ("Message", "ticket"),
    ("Attachment", "ticket"),
    ("Attachment", "message"),
    ("TicketEvent", "ticket"),
]

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION tickets_event_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.tenant_id::text = ANY (string_to_array(
            coalesce(current_setting('helpdesk.purge_tenants', true), ''), ',')) THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'ticket events are append-only: DELETE refused (event %%)', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF NEW.actor_id IS NULL AND OLD.actor_id IS NOT NULL
        AND (to_jsonb(NEW) - 'actor_id') = (to_jsonb(OLD) - 'actor_id') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'ticket events are append-only: UPDATE refused (event %%)', OLD.id
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS tickets_event_append_only ON tickets_ticketevent;
CREATE TRIGGER tickets_event_append_only
    BEFORE UPDATE OR DELETE ON tickets_ticketevent
    FOR EACH ROW EXECUTE FUNCTION tickets_event_append_only();
"""

DROP_APPEND_ONLY = """
DROP TRIGGER IF EXISTS tickets_event_append_only ON tickets_ticketevent;
DROP FUNCTION IF EXISTS tickets_event_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(APPEND_ONLY)
    # The extension needs the right to create it; without it, suggestions use full text.
    try:
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SAVEPOINT tickets_trgm")
            try:
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            except Exception:
                cursor.execute("ROLLBACK TO SAVEPOINT tickets_trgm")
                return
            cursor.execute("RELEASE SAVEPOINT tickets_trgm")
    except Exception:  # no savepoints outside a transaction: just skip
        return
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS tickets_ticket_subject_trgm "
        "ON tickets_ticket USING gin (subject gin_trgm_ops)"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(DROP_APPEND_ONLY)
    schema_editor.execute("DROP INDEX IF EXISTS tickets_ticket_subject_trgm")


class Migration(migrations.Migration):
    dependencies = [("tickets", "0006_catalogs_conversation_events")]

    operations = [
        *[same_tenant_foreign_key("tickets", model, field) for model, field in SAME_TENANT],
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
