"""Every closed visit's records are protected, not only a signed visit's answers (issue 17).

A visit that is no longer a draft (signed, paper, consent on file, abandoned, or a status a newer
kiosk writes) is closed: its row, answers, scores, quiz attempts and flags can no longer be
inserted, changed or deleted. 0002 protected only status ``signed`` and only the answers, so a
paper or consent-on-file visit could be edited, and a signed visit's scores, quiz attempts and
flags deleted, with no bypass at all. An abandoned visit is included: the purge deletes its rows
while it is still a draft, and nothing is ever added to it afterwards.

The one write allowed on a closed visit is a clinician's acknowledgement of a flag
(``acknowledged_by``, ``acknowledged_at``, ``decision``, ``note``; audited by
``storage.console.acknowledge_flag``), and on every visit it is written once: once any of those
columns is set, none of them changes again.

On PostgreSQL, TRUNCATE of answers, scores, quiz attempts and flags is refused too (0002 refused
it only for visits, consents, documents and audit events).

``kiosk.storage.schema_check`` reads the statements below (and 0002's) to check at start-up that
every trigger is still there as created: they are the one definition of what must exist.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

CLOSED_VISIT = "a closed visit and its records are never changed"
ACKNOWLEDGED = "a flag acknowledgement is written once and never changed"
# The visit's own rows: no insert, update or delete once the visit is closed.
CHILD_TABLES = ("answers", "scores", "quiz_attempts")
# Flags: these may be written once (NULL -> value), by the acknowledgement; the others never change
# once the visit is closed. A column added to flags must be added to one of the two lists (a test
# compares them with the table).
FLAG_ACK_COLUMNS = ("acknowledged_by", "acknowledged_at", "decision", "note")
FLAG_KEPT_COLUMNS = (
    "id",
    "visit_id",
    "form_id",
    "rule_id",
    "severity",
    "raised_at",
    "raised_answers_json",
    "retracted_at",
)


def _sqlite_triggers() -> list[str]:
    closed = "(SELECT status FROM visits WHERE id = {row}.visit_id) <> 'draft'"
    refuse = f"BEGIN SELECT RAISE(ABORT, '{CLOSED_VISIT}'); END"
    statements = [
        "CREATE TRIGGER visits_closed_no_update BEFORE UPDATE ON visits "
        f"WHEN OLD.status <> 'draft' {refuse}",
        "CREATE TRIGGER visits_closed_no_delete BEFORE DELETE ON visits "
        f"WHEN OLD.status <> 'draft' {refuse}",
    ]
    when = {
        "INSERT": closed.format(row="NEW"),
        # A row moved into a closed visit is refused as well as one moved out of it.
        "UPDATE": f"{closed.format(row='OLD')} OR {closed.format(row='NEW')}",
        "DELETE": closed.format(row="OLD"),
    }
    for table in CHILD_TABLES:
        for event, condition in when.items():
            statements.append(
                f"CREATE TRIGGER {table}_closed_no_{event.lower()} BEFORE {event} ON {table} "
                f"WHEN {condition} {refuse}"
            )
    kept_changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in FLAG_KEPT_COLUMNS)
    ack_written = " OR ".join(f"OLD.{c} IS NOT NULL" for c in FLAG_ACK_COLUMNS)
    ack_changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in FLAG_ACK_COLUMNS)
    statements += [
        f"CREATE TRIGGER flags_closed_no_insert BEFORE INSERT ON flags WHEN {when['INSERT']} "
        f"{refuse}",
        f"CREATE TRIGGER flags_closed_no_update BEFORE UPDATE ON flags WHEN ({when['UPDATE']}) "
        f"AND ({kept_changed}) {refuse}",
        f"CREATE TRIGGER flags_closed_no_delete BEFORE DELETE ON flags WHEN {when['DELETE']} "
        f"{refuse}",
        f"CREATE TRIGGER flags_acknowledged_no_update BEFORE UPDATE ON flags "
        f"WHEN ({ack_written}) AND ({ack_changed}) "
        f"BEGIN SELECT RAISE(ABORT, '{ACKNOWLEDGED}'); END",
    ]
    return statements


def _postgresql_triggers() -> list[str]:
    ack_columns = ", ".join(f"'{c}'" for c in FLAG_ACK_COLUMNS)
    ack_written = " OR ".join(f"OLD.{c} IS NOT NULL" for c in FLAG_ACK_COLUMNS)
    ack_new = ", ".join(f"NEW.{c}" for c in FLAG_ACK_COLUMNS)
    ack_old = ", ".join(f"OLD.{c}" for c in FLAG_ACK_COLUMNS)
    # Whether the row's visit (before and after the change) is closed; a missing visit is left
    # to the foreign key.
    closed = """
          IF TG_OP <> 'INSERT' THEN
            closed := coalesce((SELECT status FROM visits WHERE id = OLD.visit_id) <> 'draft',
                               false);
          END IF;
          IF TG_OP <> 'DELETE' THEN
            closed := closed OR coalesce(
              (SELECT status FROM visits WHERE id = NEW.visit_id) <> 'draft', false);
          END IF;"""
    refuse = f"RAISE EXCEPTION '{CLOSED_VISIT}' USING ERRCODE = 'integrity_constraint_violation'"
    statements = [
        f"""CREATE FUNCTION kiosk_refuse_closed_visit() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF OLD.status <> 'draft' THEN
            {refuse};
          END IF;
          IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
          RETURN NEW;
        END $$""",
        f"""CREATE FUNCTION kiosk_refuse_closed_record() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE closed boolean := false;
        BEGIN{closed}
          IF closed THEN
            {refuse};
          END IF;
          IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
          RETURN NEW;
        END $$""",
        f"""CREATE FUNCTION kiosk_refuse_closed_flag() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
          closed boolean := false;
          ack text[] := ARRAY[{ack_columns}];
        BEGIN{closed}
          IF TG_OP = 'UPDATE' THEN
            IF ({ack_written}) AND ROW({ack_new}) IS DISTINCT FROM ROW({ack_old}) THEN
              RAISE EXCEPTION '{ACKNOWLEDGED}' USING ERRCODE = 'integrity_constraint_violation';
            END IF;
            IF closed AND (to_jsonb(NEW) - ack) IS DISTINCT FROM (to_jsonb(OLD) - ack) THEN
              {refuse};
            END IF;
          ELSIF closed THEN
            {refuse};
          END IF;
          IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
          RETURN NEW;
        END $$""",
        "CREATE TRIGGER visits_closed_no_change BEFORE UPDATE OR DELETE ON visits "
        "FOR EACH ROW EXECUTE FUNCTION kiosk_refuse_closed_visit()",
    ]
    for table in CHILD_TABLES:
        statements.append(
            f"CREATE TRIGGER {table}_closed_no_change BEFORE INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION kiosk_refuse_closed_record()"
        )
    statements.append(
        "CREATE TRIGGER flags_closed_no_change BEFORE INSERT OR UPDATE OR DELETE ON flags "
        "FOR EACH ROW EXECUTE FUNCTION kiosk_refuse_closed_flag()"
    )
    for table in (*CHILD_TABLES, "flags"):
        statements.append(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION kiosk_refuse_change('{CLOSED_VISIT}')"
        )
    return statements


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in _sqlite_triggers() if dialect == "sqlite" else _postgresql_triggers():
        op.execute(statement)


def downgrade() -> None:
    raise NotImplementedError("records are never downgraded; restore a backup instead")
