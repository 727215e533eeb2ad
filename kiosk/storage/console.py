"""The staff console's reads and its few writes (acknowledging a flag), on a Session.

Reads are plain selects that work alike on SQLite and PostgreSQL. The console follows other
tablets' work by watching :func:`change_marker`: every patient action is one transaction with its
audit event, so the newest audit sequence number moves whenever anything a console shows changes.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiosk.domain.answers import clean_text
from kiosk.domain.console import (
    QueueEntry,
    QueueStatus,
    RaisedFlag,
    SignatureCount,
    StoredDocumentInfo,
    VisitDetail,
)
from kiosk.domain.findings import SEVERITY_ORDER, flag_catalogue, score_lines, unknown_flag
from kiosk.domain.model import Packet, Severity
from kiosk.domain.records import FlagDecision
from kiosk.storage import repository
from kiosk.storage.models import (
    AuditEventRecord,
    ConsentRecord,
    DocumentRecord,
    FlagRecord,
    VisitRecord,
)
from kiosk.storage.search import matching_visits

NOTE_MAX_CHARS = 2000  # a clinician's note on a decision: a few sentences, not a chart
QUEUE_LIMIT = 500  # a day's visits at the busiest clinic fit many times over


def change_marker(session: Session) -> int:
    """The newest audit event's number: it moves with every stored patient or staff action."""
    return int(session.scalar(select(func.coalesce(func.max(AuditEventRecord.seq), 0))) or 0)


def find_visits(
    session: Session,
    packet: Packet,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    name: str = "",
    birth_date: str = "",
    limit: int = QUEUE_LIMIT,
) -> list[QueueEntry]:
    """Visits started in [since, until), optionally with a name (any case, accents or not; the
    start of the name is enough) and a date of birth; newest first, with their flags."""
    visits = matching_visits(session, name, birth_date, since, until, limit=limit)
    flags = raised_flags(session, packet, [v.id for v in visits])
    order = _form_order(packet)
    entries = [_entry(v, _for_the_queue(order, flags.get(v.id, []))) for v in visits]
    # An urgent flag waiting for a clinician goes to the top, whatever the visit's status; the
    # sort is stable, so the newest-first order holds within each group.
    return sorted(entries, key=lambda e: e.status is not QueueStatus.NEEDS_REVIEW_URGENT)


def _entry(visit: VisitRecord, flags: tuple[RaisedFlag, ...]) -> QueueEntry:
    return QueueEntry(
        visit_id=visit.id,
        document_number=repository.document_number(visit.id),
        patient_name=visit.patient_name,
        birth_date=visit.birth_date,
        visit_status=visit.status,
        kiosk_id=visit.kiosk_id,
        language=visit.language,
        started_at=visit.started_at,
        updated_at=visit.updated_at,
        flags=flags,
    )


_SEVERITIES = frozenset(str(severity) for severity in Severity)


def raised_flags(
    session: Session, packet: Packet, visit_ids: Sequence[str]
) -> dict[str, list[RaisedFlag]]:
    """Each visit's flags in the order raised, worded from the forms, with the severity stored
    when each was raised (the console and the exports read flags through this one place)."""
    if not visit_ids:
        return {}
    known = flag_catalogue(packet)
    found: dict[str, list[RaisedFlag]] = {}
    rows = session.scalars(
        select(FlagRecord).where(FlagRecord.visit_id.in_(list(visit_ids))).order_by(FlagRecord.id)
    )
    for row in rows:
        info = known.get(row.rule_id) or unknown_flag(row.rule_id)
        severity = row.severity if row.severity in _SEVERITIES else info.severity
        found.setdefault(row.visit_id, []).append(
            RaisedFlag(
                rule_id=row.rule_id,
                severity=Severity(severity),
                message=info.message,
                raised_at=row.raised_at,
                acknowledged_by=row.acknowledged_by,
                acknowledged_at=row.acknowledged_at,
                form_id=row.form_id,
                retracted_at=row.retracted_at,
                raised_answers=_raised_answers(row.raised_answers_json),
                decision=_decision(row.decision),
                note=row.note or "",
            )
        )
    return found


def _raised_answers(text: str | None) -> dict[str, object]:
    """What the rule read when the flag was raised (older flags kept nothing: empty)."""
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        return {}
    return dict(data) if isinstance(data, dict) else {}


def _decision(stored: str | None) -> FlagDecision | None:
    try:
        return FlagDecision(stored) if stored else None
    except ValueError:  # a newer kiosk's decision: kept in the record, not worded here
        return None


def _form_order(packet: Packet) -> dict[str, int]:
    return {flag_id: index for index, flag_id in enumerate(flag_catalogue(packet))}


def _for_the_queue(order: dict[str, int], flags: list[RaisedFlag]) -> tuple[RaisedFlag, ...]:
    """Urgent first, then review, then info; the forms' order (``order``) within each."""
    return tuple(
        sorted(flags, key=lambda f: (SEVERITY_ORDER[f.severity], order.get(f.rule_id, len(order))))
    )


def queue_entry(session: Session, packet: Packet, visit_id: str) -> QueueEntry:
    visit = repository.get_visit(session, visit_id)
    flags = raised_flags(session, packet, [visit_id]).get(visit_id, [])
    return _entry(visit, _for_the_queue(_form_order(packet), flags))


def visit_detail(
    session: Session, packet: Packet, visit_id: str, *, consent_note: str = ""
) -> VisitDetail:
    """Answers, scores with bands, flags, the consent and its evidence, the stored documents."""
    entry = queue_entry(session, packet, visit_id)
    documents = session.execute(
        select(
            DocumentRecord.id,
            DocumentRecord.kind,
            DocumentRecord.created_at,
            DocumentRecord.sha256,
            func.length(DocumentRecord.content),
        )
        .where(DocumentRecord.visit_id == visit_id)
        .order_by(DocumentRecord.created_at)
    ).all()
    events = session.execute(
        select(AuditEventRecord.at, AuditEventRecord.actor, AuditEventRecord.action)
        .where(AuditEventRecord.subject == visit_id)
        .order_by(AuditEventRecord.seq)
    ).all()
    return VisitDetail(
        entry=entry,
        answers=repository.load_answers(session, visit_id),
        scores=score_lines(packet, repository.load_scores(session, visit_id)),
        consent=repository.load_consent(session, visit_id),
        documents=tuple(
            StoredDocumentInfo(doc_id, kind, created, sha, int(size or 0))
            for doc_id, kind, created, sha, size in documents
        ),
        consent_note=consent_note,
        events=tuple((at, actor, action) for at, actor, action in events),
    )


def acknowledge_flag(
    session: Session,
    visit_id: str,
    rule_id: str,
    *,
    staff_id: str,
    decision: FlagDecision,
    note: str = "",
    device: str,
    now: dt.datetime,
) -> bool:
    """A clinician has seen this flag and decided: who, when, the decision and the note are
    kept, and the act is audited. A retracted flag is acknowledged like any other. Returns False
    when there is no such flag or it was acknowledged already."""
    record = session.scalar(
        select(FlagRecord).where(FlagRecord.visit_id == visit_id, FlagRecord.rule_id == rule_id)
    )
    if record is None or record.acknowledged_at is not None:
        return False
    repository.check_records(session, visit_id, device=device, now=now)  # before it re-digests
    record.acknowledged_by = staff_id
    record.acknowledged_at = now
    record.decision = str(decision)
    record.note = clean_text(note)[:NOTE_MAX_CHARS] or None
    repository.audit_write(
        session,
        visit_id=visit_id,
        actor=f"staff:{staff_id}",
        device=device,
        action=f"flag.acknowledged.{decision}",
        now=now,
    )
    return True


def signature_counts(session: Session) -> list[SignatureCount]:
    """Signed consents per consent document and version, newest version first."""
    rows = session.execute(
        select(ConsentRecord.document_id, ConsentRecord.document_version, func.count())
        .group_by(ConsentRecord.document_id, ConsentRecord.document_version)
        .order_by(ConsentRecord.document_id, ConsentRecord.document_version.desc())
    ).all()
    return [SignatureCount(doc, int(version), int(count)) for doc, version, count in rows]


def document_content(session: Session, visit_id: str, kind: str) -> tuple[str, bytes]:
    """The newest stored document of this kind: its id and bytes (NotFoundError if none)."""
    record = repository.latest_document(session, visit_id, kind)
    return record.id, record.content


def times_printed(session: Session, visit_id: str, kinds: Iterable[str]) -> int:
    """How many times documents of a visit were printed before (a reprint is audited as such)."""
    actions = [f"document.printed.{kind}" for kind in kinds] + [
        f"document.reprinted.{kind}" for kind in kinds
    ]
    return int(
        session.scalar(
            select(func.count())
            .select_from(AuditEventRecord)
            .where(AuditEventRecord.subject == visit_id, AuditEventRecord.action.in_(actions))
        )
        or 0
    )
