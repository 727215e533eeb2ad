"""Records the clinic can trust: audit chain, immutability triggers, name search.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

- audit_events gets ``prev_mac`` and ``mac``; events written before the chain existed are chained
  now, in sequence order, with the audit key (passed in by kiosk.storage.migrate).
- visits gets ``name_search`` (folded name) and an index on (name_search, birth_date).
- Triggers refuse UPDATE and DELETE of consents, documents and audit events, and any change to a
  signed visit or its answers, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

GENESIS = "0" * 64

# What each trigger says when it refuses. A correction is a new record that points to the old.
NEVER_CHANGED = {
    "consents": "signed consents are never changed or deleted; add a correction that points to it",
    "documents": "sealed documents are never changed or deleted; store a new one",
    "audit_events": "the audit trail is append-only",
}
SIGNED_VISIT = "a signed visit and its answers are never changed"


def _fold(name: str) -> str:
    """A frozen copy of storage.search.fold_name as it was when this migration was written."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.split())


def _utc(value: object) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    assert isinstance(value, dt.datetime)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _chain_existing_events(key: bytes) -> None:
    conn = op.get_bind()
    rows = conn.execute(
        sa.text("SELECT seq, at, actor, device, action, subject FROM audit_events ORDER BY seq")
    ).all()
    prev = GENESIS
    for index, row in enumerate(rows, start=1):
        if row.seq != index:  # renumber so the chain has no gaps from the start
            conn.execute(
                sa.text("UPDATE audit_events SET seq = :new WHERE seq = :old"),
                {"new": index, "old": row.seq},
            )
        stamp = _utc(row.at).isoformat(timespec="microseconds")
        fields = [index, stamp, row.actor, row.device, row.action, row.subject, prev]
        payload = json.dumps(fields, separators=(",", ":"), ensure_ascii=True).encode("ascii")
        mac = hmac.new(key, payload, hashlib.sha256).hexdigest()
        conn.execute(
            sa.text("UPDATE audit_events SET prev_mac = :prev, mac = :mac WHERE seq = :seq"),
            {"prev": prev, "mac": mac, "seq": index},
        )
        prev = mac


def _fill_name_search() -> None:
    conn = op.get_bind()
    for row in conn.execute(sa.text("SELECT id, patient_name FROM visits")).all():
        conn.execute(
            sa.text("UPDATE visits SET name_search = :folded WHERE id = :id"),
            {"folded": _fold(row.patient_name), "id": row.id},
        )


def _sqlite_triggers() -> list[str]:
    statements = []
    for table, message in NEVER_CHANGED.items():
        for event in ("UPDATE", "DELETE"):
            statements.append(
                f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
            )
    statements += [
        "CREATE TRIGGER visits_signed_no_update BEFORE UPDATE ON visits "
        f"WHEN OLD.status = 'signed' BEGIN SELECT RAISE(ABORT, '{SIGNED_VISIT}'); END",
        "CREATE TRIGGER visits_signed_no_delete BEFORE DELETE ON visits "
        f"WHEN OLD.status = 'signed' BEGIN SELECT RAISE(ABORT, '{SIGNED_VISIT}'); END",
    ]
    signed = "(SELECT status FROM visits WHERE id = {row}.visit_id) = 'signed'"
    for event, row in (("INSERT", "NEW"), ("UPDATE", "OLD"), ("DELETE", "OLD")):
        statements.append(
            f"CREATE TRIGGER answers_signed_no_{event.lower()} BEFORE {event} ON answers "
            f"WHEN {signed.format(row=row)} BEGIN SELECT RAISE(ABORT, '{SIGNED_VISIT}'); END"
        )
    return statements


def _postgresql_triggers() -> list[str]:
    statements = [
        """CREATE FUNCTION kiosk_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'integrity_constraint_violation';
        END $$""",
        f"""CREATE FUNCTION kiosk_refuse_signed_visit() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP <> 'INSERT' AND OLD.status = 'signed' THEN
            RAISE EXCEPTION '{SIGNED_VISIT}' USING ERRCODE = 'integrity_constraint_violation';
          END IF;
          IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
          RETURN NEW;
        END $$""",
        f"""CREATE FUNCTION kiosk_refuse_signed_answer() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE target varchar;
        BEGIN
          IF TG_OP = 'INSERT' THEN target := NEW.visit_id; ELSE target := OLD.visit_id; END IF;
          IF (SELECT status FROM visits WHERE id = target) = 'signed' THEN
            RAISE EXCEPTION '{SIGNED_VISIT}' USING ERRCODE = 'integrity_constraint_violation';
          END IF;
          IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
          RETURN NEW;
        END $$""",  # noqa: S608 - built from this file's constants only
    ]
    for table, message in NEVER_CHANGED.items():
        statements += [
            f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION kiosk_refuse_change('{message}')",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION kiosk_refuse_change('{message}')",
        ]
    statements += [
        "CREATE TRIGGER visits_signed_no_change BEFORE UPDATE OR DELETE ON visits "
        "FOR EACH ROW EXECUTE FUNCTION kiosk_refuse_signed_visit()",
        "CREATE TRIGGER answers_signed_no_change BEFORE INSERT OR UPDATE OR DELETE ON answers "
        "FOR EACH ROW EXECUTE FUNCTION kiosk_refuse_signed_answer()",
        "CREATE TRIGGER visits_no_truncate BEFORE TRUNCATE ON visits "
        f"FOR EACH STATEMENT EXECUTE FUNCTION kiosk_refuse_change('{SIGNED_VISIT}')",
    ]
    return statements


def upgrade() -> None:
    key = op.get_context().config.attributes.get("audit_key")  # type: ignore[union-attr]
    if not isinstance(key, bytes):
        raise RuntimeError("this migration needs the audit key (run it through kiosk)")
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("prev_mac", sa.String(64), nullable=False, server_default=""))
        batch.add_column(sa.Column("mac", sa.String(64), nullable=False, server_default=""))
    _chain_existing_events(key)
    with op.batch_alter_table("visits") as batch:
        batch.add_column(
            sa.Column("name_search", sa.String(200), nullable=False, server_default="")
        )
        batch.create_index("ix_visits_name_search_birth_date", ["name_search", "birth_date"])
    _fill_name_search()
    dialect = op.get_bind().dialect.name
    for statement in _sqlite_triggers() if dialect == "sqlite" else _postgresql_triggers():
        op.execute(statement)


def downgrade() -> None:
    raise NotImplementedError("records are never downgraded; restore a backup instead")
