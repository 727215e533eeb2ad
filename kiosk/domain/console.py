"""What the staff console shows: the day's queue, one visit in detail, signature counts.

Storage fills these from the records; the console's widgets draw them. Pure Python.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import assert_never

from kiosk.domain.findings import ScoreLine
from kiosk.domain.model import AnswerValue, Severity
from kiosk.domain.records import DECISION_LABELS, FlagDecision, SignedConsent, VisitStatus


class QueueStatus(enum.StrEnum):
    """Where a visit stands, as the front desk needs to know it: its :class:`VisitStatus` as
    stored, and for a finished visit whether a flag still waits for a clinician."""

    NEEDS_REVIEW_URGENT = "needs_review_urgent"  # an urgent flag waits, whatever the status
    IN_PROGRESS = "in_progress"  # the patient is still answering (or was interrupted)
    NEEDS_REVIEW = "needs_review"  # finished, with an urgent or review flag not yet acknowledged
    SIGNED = "signed"
    PAPER = "paper"  # the patient chose to sign on paper: staff bring the form
    CONSENT_ON_FILE = "consent_on_file"  # a returning patient whose consent is still current
    ABANDONED = "abandoned"  # an unfinished visit purged after the retention time


STATUS_LABELS: dict[QueueStatus, str] = {
    QueueStatus.NEEDS_REVIEW_URGENT: "Needs review — urgent",
    QueueStatus.IN_PROGRESS: "In progress",
    QueueStatus.NEEDS_REVIEW: "Needs review",
    QueueStatus.SIGNED: "Signed",
    QueueStatus.PAPER: "Paper consent",
    QueueStatus.CONSENT_ON_FILE: "Consent on file",
    QueueStatus.ABANDONED: "Abandoned",
}


@dataclass(frozen=True)
class RaisedFlag:
    """A flag raised in a visit, worded from the forms, with who acknowledged it and when."""

    rule_id: str
    severity: Severity
    message: str
    raised_at: dt.datetime
    acknowledged_by: str | None = None
    acknowledged_at: dt.datetime | None = None
    form_id: str = ""  # the form (or consent) that raised it
    retracted_at: dt.datetime | None = None  # a changed answer no longer meets the rule
    raised_answers: Mapping[str, object] = field(default_factory=dict)  # what the rule read
    decision: FlagDecision | None = None  # the clinician's, when acknowledging
    note: str = ""

    @property
    def open(self) -> bool:
        """Still waiting for a clinician (info flags never hold a visit up; a retracted flag
        still does: somebody saw the first answer)."""
        return self.acknowledged_at is None and self.severity is not Severity.INFO

    @property
    def decision_label(self) -> str:
        return DECISION_LABELS[self.decision] if self.decision is not None else ""

    def history(self, tz: dt.tzinfo | None) -> str:
        """ "raised 10:41 · answer changed 10:43", in the console's time zone."""

        def hhmm(moment: dt.datetime) -> str:
            return moment.astimezone(tz).strftime("%H:%M")

        parts = [f"raised {hhmm(self.raised_at)}"]
        if self.retracted_at is not None:
            parts.append(f"answer changed {hhmm(self.retracted_at)}")
        return " · ".join(parts)


def queue_status(visit_status: str, flags: tuple[RaisedFlag, ...]) -> QueueStatus:
    """The front desk's status for a stored visit status and its flags.

    An open urgent flag makes any visit "Needs review — urgent", paper and in-progress visits
    included (it sorts to the top of the queue). Otherwise paper stays "Paper consent" whatever
    its flags (the front desk must bring the form); a finished visit with an open urgent or
    review flag "Needs review"; an unknown stored status (a newer kiosk's) reads as in progress
    rather than hiding the visit.
    """
    if any(flag.open and flag.severity is Severity.URGENT for flag in flags):
        return QueueStatus.NEEDS_REVIEW_URGENT
    try:
        status = VisitStatus(visit_status)
    except ValueError:
        return QueueStatus.IN_PROGRESS
    match status:
        case VisitStatus.DRAFT:
            return QueueStatus.IN_PROGRESS
        case VisitStatus.ABANDONED:
            return QueueStatus.ABANDONED
        case VisitStatus.PAPER:
            return QueueStatus.PAPER
        case VisitStatus.SIGNED:
            return _finished(QueueStatus.SIGNED, flags)
        case VisitStatus.CONSENT_ON_FILE:
            return _finished(QueueStatus.CONSENT_ON_FILE, flags)
        case _:
            assert_never(status)


def _finished(status: QueueStatus, flags: tuple[RaisedFlag, ...]) -> QueueStatus:
    return QueueStatus.NEEDS_REVIEW if any(flag.open for flag in flags) else status


@dataclass(frozen=True)
class QueueEntry:
    """One visit in the queue."""

    visit_id: str
    document_number: str
    patient_name: str
    birth_date: str
    visit_status: str  # as stored: a VisitStatus, or a newer kiosk's status this one does not know
    kiosk_id: str
    language: str
    started_at: dt.datetime
    updated_at: dt.datetime
    flags: tuple[RaisedFlag, ...] = ()

    @property
    def status(self) -> QueueStatus:
        return queue_status(self.visit_status, self.flags)

    def open_count(self, severity: Severity) -> int:
        """Flags of this severity not yet acknowledged."""
        return sum(1 for f in self.flags if f.severity is severity and f.acknowledged_at is None)


@dataclass(frozen=True)
class StoredDocumentInfo:
    """A document kept with the visit (the sealed consent PDF, the clinician summary)."""

    document_id: str
    kind: str
    created_at: dt.datetime
    sha256: str
    size: int


@dataclass(frozen=True)
class VisitDetail:
    """Everything staff see about one visit."""

    entry: QueueEntry
    answers: Mapping[str, AnswerValue]
    scores: tuple[ScoreLine, ...]
    consent: SignedConsent | None = None
    documents: tuple[StoredDocumentInfo, ...] = ()
    consent_note: str = ""  # "re-consent: version 1 → 2", "first consent", …
    events: tuple[tuple[dt.datetime, str, str], ...] = field(default=())  # (at, actor, action)


@dataclass(frozen=True)
class SignatureCount:
    """How many consents were signed on one version of one consent document."""

    document_id: str
    version: int
    count: int
