"""Urgent flags waiting for a person, and their escalations (issue 16), on a Session.

What leaves this module names a flag by rule, form, tablet, time and document number only: never
the patient's name, birth date or answers (an alert may be shown before anyone signs in, and an
escalation leaves the clinic's records for a pager or SMS gateway).

Escalating exactly once, however many watchers run: the watcher whose INSERT of the flag's
``alert_escalations`` row commits owns the escalation (``flag_id`` is the primary key, so every
other watcher's insert fails), and that insert is also its claim on the first delivery attempt.
Each later attempt is claimed by an UPDATE that only matches the attempt number the watcher read
and a ``next_attempt_at`` that is due; it moves ``next_attempt_at`` to the end of a lease, so a
second watcher cannot take the same attempt, and a watcher that dies mid-delivery leaves an attempt
that any other watcher resumes when the lease runs out. The caller owns the transactions.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import CursorResult, Select, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from kiosk.storage import repository
from kiosk.storage.db import BEGIN_OPTION
from kiosk.storage.models import AlertEscalationRecord, FlagRecord, VisitRecord

URGENT = "urgent"
DELIVERING = "delivering"  # the outcome while an attempt is under way (it is recorded once)
OUTCOME_CHARS = 200  # alert_escalations.outcome


@dataclass(frozen=True)
class UrgentFlag:
    """An urgent flag nobody has acknowledged yet: identifiers and times, no patient data."""

    flag_id: int
    visit_id: str
    document_number: str  # "KC-…" from repository.document_number
    rule_id: str  # e.g. "phq9_item9"
    form_id: str
    kiosk_id: str  # the tablet the visit runs on (visits.kiosk_id)
    raised_at: dt.datetime
    retracted_at: dt.datetime | None


@contextlib.contextmanager
def reading(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A look at the records through the writers' session factory that never writes: on SQLite it
    begins DEFERRED, so a watcher polling twice a second never takes the tablets' write lock.
    Nothing is committed."""
    with sessions() as session:
        session.connection(execution_options={BEGIN_OPTION: "DEFERRED"})
        try:
            yield session
        finally:
            session.rollback()


def _urgent_flags() -> Select[int, str, str, str, str, dt.datetime, dt.datetime | None]:
    """Urgent flags with their tablet: the columns an UrgentFlag is made of, and nothing else."""
    return select(
        FlagRecord.id,
        FlagRecord.visit_id,
        FlagRecord.rule_id,
        FlagRecord.form_id,
        VisitRecord.kiosk_id,
        FlagRecord.raised_at,
        FlagRecord.retracted_at,
    ).join(VisitRecord, VisitRecord.id == FlagRecord.visit_id)


def _urgent_flag(row: Any) -> UrgentFlag:
    return UrgentFlag(
        flag_id=row.id,
        visit_id=row.visit_id,
        document_number=repository.document_number(row.visit_id),
        rule_id=row.rule_id,
        form_id=row.form_id,
        kiosk_id=row.kiosk_id,
        raised_at=row.raised_at,
        retracted_at=row.retracted_at,
    )


def open_urgent_flags(session: Session) -> list[UrgentFlag]:
    """Urgent flags not yet acknowledged (retracted ones included: they still need a clinician),
    oldest first. Never patient name/birth date/answers."""
    rows = session.execute(
        _urgent_flags()
        .where(FlagRecord.severity == URGENT, FlagRecord.acknowledged_at.is_(None))
        .order_by(FlagRecord.raised_at, FlagRecord.id)
    )
    return [_urgent_flag(row) for row in rows]


def flags_to_escalate(
    session: Session, *, raised_before: dt.datetime, raised_after: dt.datetime | None = None
) -> list[UrgentFlag]:
    """Open urgent flags raised at or before ``raised_before`` (and after ``raised_after``, when
    given) that no watcher has escalated yet, oldest first."""
    rows = session.execute(
        _urgent_flags()
        .outerjoin(AlertEscalationRecord, AlertEscalationRecord.flag_id == FlagRecord.id)
        .where(
            FlagRecord.severity == URGENT,
            FlagRecord.acknowledged_at.is_(None),
            FlagRecord.raised_at <= raised_before,
            FlagRecord.raised_at > (raised_after or dt.datetime.min.replace(tzinfo=dt.UTC)),
            AlertEscalationRecord.flag_id.is_(None),
        )
        .order_by(FlagRecord.raised_at, FlagRecord.id)
    )
    return [_urgent_flag(row) for row in rows]


def claim_escalation(
    session: Session,
    flag: UrgentFlag,
    *,
    raised_before: dt.datetime,
    claimed_by: str,
    device: str,
    now: dt.datetime,
    lease_until: dt.datetime,
) -> bool:
    """Claim the escalation of ``flag`` and its first delivery attempt, audited as
    ``alert.escalated``.

    Returns False, changing nothing, when the flag has been acknowledged meanwhile (it is never
    escalated) or is gone. When another watcher holds the escalation, the insert raises
    :class:`sqlalchemy.exc.IntegrityError`: the caller rolls back; that watcher delivers it.
    """
    still_open = session.scalar(
        select(FlagRecord.id).where(
            FlagRecord.id == flag.flag_id,
            FlagRecord.severity == URGENT,
            FlagRecord.acknowledged_at.is_(None),
            FlagRecord.raised_at <= raised_before,
        )
    )
    if still_open is None:
        return False
    session.add(
        AlertEscalationRecord(
            flag_id=flag.flag_id,
            visit_id=flag.visit_id,
            claimed_by=claimed_by[:128],
            claimed_at=now,
            attempts=1,
            next_attempt_at=lease_until,
            outcome=DELIVERING,
        )
    )
    session.flush()  # the unique flag id decides here, before the audit event is written
    repository.audit(
        session,
        actor="system",
        device=device,
        action="alert.escalated",
        subject=flag.visit_id,
        now=now,
    )
    return True


@dataclass(frozen=True)
class DueAttempt:
    """An escalation whose next delivery attempt is due (a retry, or a lease that ran out)."""

    flag_id: int
    visit_id: str
    attempts: int  # attempts claimed so far; the next one is attempts + 1
    flag: UrgentFlag | None  # None when the flag is no longer on record
    acknowledged: bool


def due_attempts(session: Session, *, now: dt.datetime) -> list[DueAttempt]:
    """Undelivered escalations whose ``next_attempt_at`` has come, oldest claim first."""
    rows = session.execute(
        select(
            AlertEscalationRecord.flag_id,
            AlertEscalationRecord.visit_id,
            AlertEscalationRecord.attempts,
            FlagRecord.id,
            FlagRecord.rule_id,
            FlagRecord.form_id,
            FlagRecord.raised_at,
            FlagRecord.retracted_at,
            FlagRecord.acknowledged_at,
            VisitRecord.kiosk_id,
        )
        .outerjoin(FlagRecord, FlagRecord.id == AlertEscalationRecord.flag_id)
        .outerjoin(VisitRecord, VisitRecord.id == FlagRecord.visit_id)
        .where(
            AlertEscalationRecord.delivered_at.is_(None),
            AlertEscalationRecord.next_attempt_at.is_not(None),
            AlertEscalationRecord.next_attempt_at <= now,
        )
        .order_by(AlertEscalationRecord.claimed_at, AlertEscalationRecord.flag_id)
    )
    return [
        DueAttempt(
            flag_id=row.flag_id,
            visit_id=row.visit_id,
            attempts=row.attempts,
            # row.id and row.kiosk_id are the flag's and its visit's: None when the flag is gone.
            flag=_urgent_flag(row) if row.id is not None and row.kiosk_id is not None else None,
            acknowledged=row.acknowledged_at is not None,
        )
        for row in rows
    ]


def next_attempt_due(session: Session) -> dt.datetime | None:
    """When the earliest undelivered escalation's next attempt (or lease end) comes."""
    return session.scalar(
        select(func.min(AlertEscalationRecord.next_attempt_at)).where(
            AlertEscalationRecord.delivered_at.is_(None),
            AlertEscalationRecord.next_attempt_at.is_not(None),
        )
    )


def _changed(session: Session, statement: Any) -> bool:
    result = session.execute(statement)
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


def claim_attempt(
    session: Session,
    flag_id: int,
    *,
    seen_attempts: int,
    now: dt.datetime,
    lease_until: dt.datetime,
) -> bool:
    """Claim attempt ``seen_attempts + 1``. True for exactly one watcher: the UPDATE matches only
    while the row still has the attempt count this watcher read and its time is due."""
    return _changed(
        session,
        update(AlertEscalationRecord)
        .where(
            AlertEscalationRecord.flag_id == flag_id,
            AlertEscalationRecord.attempts == seen_attempts,
            AlertEscalationRecord.delivered_at.is_(None),
            AlertEscalationRecord.next_attempt_at <= now,
        )
        .values(attempts=seen_attempts + 1, next_attempt_at=lease_until, outcome=DELIVERING),
    )


def record_attempt(
    session: Session,
    flag_id: int,
    *,
    visit_id: str,
    attempt: int,
    delivered: bool,
    outcome: str,
    retry_at: dt.datetime | None,
    device: str,
    now: dt.datetime,
) -> bool:
    """Keep the result of attempt ``attempt`` of the flag's escalation, audited
    as ``alert.delivered`` or ``alert.delivery_failed`` (the subject is the visit id; the outcome
    stays on the row, never in the audit trail). A failed attempt is retried at ``retry_at``.

    Returns False, changing nothing, when this watcher no longer holds the attempt (its lease ran
    out and another watcher took the next one) or it was recorded already."""
    kept = _changed(
        session,
        update(AlertEscalationRecord)
        .where(
            AlertEscalationRecord.flag_id == flag_id,
            AlertEscalationRecord.attempts == attempt,
            AlertEscalationRecord.delivered_at.is_(None),
            AlertEscalationRecord.outcome == DELIVERING,
        )
        .values(
            delivered_at=now if delivered else None,
            next_attempt_at=None if delivered else retry_at,
            outcome=outcome[:OUTCOME_CHARS],
        ),
    )
    if kept:
        repository.audit(
            session,
            actor="system",
            device=device,
            action="alert.delivered" if delivered else "alert.delivery_failed",
            subject=visit_id,
            now=now,
        )
    return kept


def cancel_attempts(
    session: Session,
    flag_id: int,
    *,
    visit_id: str,
    seen_attempts: int,
    outcome: str,
    device: str,
    now: dt.datetime,
) -> bool:
    """No more attempts for this escalation (its flag was acknowledged, or is gone), audited as
    ``alert.cancelled``. Matched like :func:`claim_attempt`, so only one watcher cancels."""
    cancelled = _changed(
        session,
        update(AlertEscalationRecord)
        .where(
            AlertEscalationRecord.flag_id == flag_id,
            AlertEscalationRecord.attempts == seen_attempts,
            AlertEscalationRecord.delivered_at.is_(None),
            AlertEscalationRecord.next_attempt_at <= now,
        )
        .values(next_attempt_at=None, outcome=outcome[:OUTCOME_CHARS]),
    )
    if cancelled:
        repository.audit(
            session,
            actor="system",
            device=device,
            action="alert.cancelled",
            subject=visit_id,
            now=now,
        )
    return cancelled
