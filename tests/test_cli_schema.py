"""``kiosk audit verify`` checks the protective triggers too: a dropped one fails with exit 1
even when the audit chain itself is unbroken (issue 17)."""

from __future__ import annotations

from sqlalchemy import text

from tests.test_cli_records import Records, _kiosk, records

__all__ = ["records"]  # the fixture, used by name


def test_audit_verify_names_a_dropped_trigger(records: Records) -> None:
    db = records.open()
    try:
        with db.begin() as session:
            session.execute(text("DROP TRIGGER scores_closed_no_update"))
    finally:
        db.dispose()
    done = _kiosk("audit", "verify", "--database", records.url)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "BROKEN: the protective trigger scores_closed_no_update is missing",
        "the chain of 4 audit events is unbroken; its protection is not",
    ]
