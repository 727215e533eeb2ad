"""The front desk's status of a visit: stored status and open flags."""

from __future__ import annotations

import datetime as dt

import pytest

from kiosk.domain.console import QueueStatus, RaisedFlag, queue_status
from kiosk.domain.model import Severity

NOW = dt.datetime(2026, 11, 22, 14, 0, tzinfo=dt.UTC)


def flag(severity: Severity, *, seen: bool = False) -> RaisedFlag:
    return RaisedFlag(
        "some_flag",
        severity,
        "message",
        NOW,
        acknowledged_by="dr.chen" if seen else None,
        acknowledged_at=NOW if seen else None,
    )


@pytest.mark.parametrize(
    ("stored", "flags", "expected"),
    [
        ("draft", (), QueueStatus.IN_PROGRESS),
        ("draft", (flag(Severity.URGENT),), QueueStatus.IN_PROGRESS),  # the badge says it
        ("signed", (), QueueStatus.SIGNED),
        ("signed", (flag(Severity.URGENT),), QueueStatus.NEEDS_REVIEW),
        ("signed", (flag(Severity.REVIEW),), QueueStatus.NEEDS_REVIEW),
        ("signed", (flag(Severity.INFO),), QueueStatus.SIGNED),  # info never holds a visit up
        ("signed", (flag(Severity.URGENT, seen=True),), QueueStatus.SIGNED),
        ("consent_on_file", (flag(Severity.REVIEW),), QueueStatus.NEEDS_REVIEW),
        ("consent_on_file", (), QueueStatus.CONSENT_ON_FILE),
        ("paper", (flag(Severity.REVIEW),), QueueStatus.PAPER),  # staff bring the form
        ("abandoned", (), QueueStatus.ABANDONED),
        ("from_a_newer_kiosk", (), QueueStatus.IN_PROGRESS),  # shown, never hidden
    ],
)
def test_queue_status(stored: str, flags: tuple[RaisedFlag, ...], expected: QueueStatus) -> None:
    assert queue_status(stored, flags) is expected
