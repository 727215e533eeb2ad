"""Urgent flags waiting for a person, and their escalations (issue 16), on a Session.

What leaves this module names a flag by rule, form, tablet, time and document number only: never
the patient's name, birth date or answers (an alert may be shown before anyone signs in, and an
escalation leaves the clinic's records for a pager or SMS gateway).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.storage.models import FlagRecord, VisitRecord
from kiosk.storage.repository import document_number

URGENT = "urgent"


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


def open_urgent_flags(session: Session) -> list[UrgentFlag]:
    """Urgent flags not yet acknowledged (retracted ones included: they still need a clinician),
    oldest first. Never patient name/birth date/answers."""
    rows = session.execute(
        select(
            FlagRecord.id,
            FlagRecord.visit_id,
            FlagRecord.rule_id,
            FlagRecord.form_id,
            VisitRecord.kiosk_id,
            FlagRecord.raised_at,
            FlagRecord.retracted_at,
        )
        .join(VisitRecord, VisitRecord.id == FlagRecord.visit_id)
        .where(FlagRecord.severity == URGENT, FlagRecord.acknowledged_at.is_(None))
        .order_by(FlagRecord.raised_at, FlagRecord.id)
    )
    return [
        UrgentFlag(
            flag_id=row.id,
            visit_id=row.visit_id,
            document_number=document_number(row.visit_id),
            rule_id=row.rule_id,
            form_id=row.form_id,
            kiosk_id=row.kiosk_id,
            raised_at=row.raised_at,
            retracted_at=row.retracted_at,
        )
        for row in rows
    ]
