"""Staff search and the day's queue stay fast on years of visits.

- ``(birth_date, name_search)``: staff usually give a date of birth; with it first, the index
  goes straight to that day's names and then to the name prefix. The older
  ``(name_search, birth_date)`` index had to walk every name in the prefix range and filter the
  dates (31,496 entries for a two-letter prefix at a million visits: ``BENCHMARKS.md`` P4).
- ``started_at``: the console's queue and its day-range searches ask for visits started between
  two times; without it every refresh read the whole table.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_visits_birth_date_name_search", "visits", ["birth_date", "name_search"])
    op.create_index("ix_visits_started_at", "visits", ["started_at"])


def downgrade() -> None:
    raise NotImplementedError("records are never downgraded; restore a backup instead")
