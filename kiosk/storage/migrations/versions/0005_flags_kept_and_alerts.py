"""Urgent findings are never lost, and reach a person exactly once (issue 16).

- ``flags`` keep what raised them and what became of them: the answers the rule read when it
  was raised (``raised_answers_json``), when a changed answer no longer met the rule
  (``retracted_at``: the flag stays and still needs a clinician), and the clinician's
  ``decision`` and ``note`` when acknowledging it.
- ``alert_escalations``: one row per escalated flag. The watcher that inserts the row owns the
  escalation (the unique ``flag_id`` makes a second watcher's insert fail), so a flag is
  escalated exactly once however many watchers run; delivery attempts and the last outcome are
  kept on the same row.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("flags") as batch_op:
        batch_op.add_column(sa.Column("raised_answers_json", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("retracted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("decision", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=True))
    op.create_table(
        "alert_escalations",
        sa.Column("flag_id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.String(length=32), nullable=False),
        sa.Column("claimed_by", sa.String(length=128), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=200), nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("flag_id"),
    )


def downgrade() -> None:
    raise NotImplementedError("records are never downgraded; restore a backup instead")
