"""Find a document by its SHA-256: ``kiosk verify`` looks up the file it is given.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_documents_sha256", "documents", ["sha256"])


def downgrade() -> None:
    raise NotImplementedError("records are never downgraded; restore a backup instead")
