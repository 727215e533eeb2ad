"""The front desk's status of a visit: stored status and open flags."""

from __future__ import annotations

import datetime as dt

import pytest

from kiosk.domain.console import QueueStatus, RaisedFlag, queue_status
from kiosk.domain.model import Severity
from kiosk.domain.records import VisitStatus

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


# The literal strings here are what the visits table holds; they may never change (no migration).
@pytest.mark.parametrize(
    ("stored", "flags", "expected"),
    [
        ("draft", (), QueueStatus.IN_PROGRESS),
        # an urgent flag waiting puts any visit at the top, still answering or on paper
        ("draft", (flag(Severity.URGENT),), QueueStatus.NEEDS_REVIEW_URGENT),
        ("paper", (flag(Severity.URGENT),), QueueStatus.NEEDS_REVIEW_URGENT),
        ("abandoned", (flag(Severity.URGENT),), QueueStatus.NEEDS_REVIEW_URGENT),
        ("draft", (flag(Severity.REVIEW),), QueueStatus.IN_PROGRESS),  # the badge says it
        ("signed", (), QueueStatus.SIGNED),
        ("signed", (flag(Severity.URGENT),), QueueStatus.NEEDS_REVIEW_URGENT),
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


def test_every_stored_status_has_its_own_queue_status() -> None:
    """Walks VisitStatus: a status added there fails here until the console is told how to show
    it, instead of falling through to the guess made for a newer kiosk's unknown status."""
    expected = {
        VisitStatus.DRAFT: QueueStatus.IN_PROGRESS,
        VisitStatus.SIGNED: QueueStatus.SIGNED,
        VisitStatus.PAPER: QueueStatus.PAPER,
        VisitStatus.CONSENT_ON_FILE: QueueStatus.CONSENT_ON_FILE,
        VisitStatus.ABANDONED: QueueStatus.ABANDONED,
    }
    assert {status: queue_status(status, ()) for status in VisitStatus} == expected
    # read back from the database as plain text, each reads the same
    assert {status: queue_status(str(status.value), ()) for status in VisitStatus} == expected
    # and every front-desk status but the two that come from open flags is reached
    assert set(QueueStatus) - set(expected.values()) == {
        QueueStatus.NEEDS_REVIEW,
        QueueStatus.NEEDS_REVIEW_URGENT,
    }
