"""Audit events carry a digest of the records they wrote (issue 17).

``audit_events.digest``: SHA-256 (hex) of the canonical content of the visit's records right after
the audited write (answers, scores, flags with their acknowledgement, quiz attempts, consents,
documents' SHA-256, identity and status), or NULL for an event that writes no patient data and
for every event written before this revision. The event's mac covers it, so the chain proves the
records, not only the events: ``kiosk audit verify`` recomputes each visit's digest from its rows.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Adding a nullable column rewrites no row, so the append-only triggers are not involved.
    op.add_column("audit_events", sa.Column("digest", sa.String(length=64), nullable=True))


def downgrade() -> None:
    raise NotImplementedError("records are never downgraded; restore a backup instead")
