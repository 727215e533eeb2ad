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

from kiosk.domain.console import (
    ConsentSummary,
    QueueEntry,
    RaisedFlag,
    SignatureCount,
    StoredDocumentInfo,
    VisitDetail,
)
from kiosk.domain.findings import (
    comprehension_rows,
    flag_catalogue,
    reading_rows,
    score_lines,
    unknown_flag,
)
from kiosk.domain.model import Packet
from kiosk.domain.strings import Strings
from kiosk.domain.visit import QuizResult, Reading
from kiosk.storage import repository
from kiosk.storage.models import (
    AuditEventRecord,
    ConsentRecord,
    DocumentRecord,
    FlagRecord,
    VisitRecord,
)
from kiosk.storage.search import fold_name, name_starts_with

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
    query = select(VisitRecord)
    folded = fold_name(name)
    if folded:  # a range on the indexed folded name (LIKE would use no index: DESIGN §8)
        query = query.where(*name_starts_with(folded))
    if birth_date:
        query = query.where(VisitRecord.birth_date == birth_date)
    if since is not None:
        query = query.where(VisitRecord.started_at >= since)
    if until is not None:
        query = query.where(VisitRecord.started_at < until)
    visits = [
        v
        for v in session.scalars(query.order_by(VisitRecord.started_at.desc()).limit(limit))
        if v.name_search.startswith(folded)  # PostgreSQL collations may order punctuation apart
    ]
    flags = _flags_of(session, packet, [v.id for v in visits])
    return [_entry(v, tuple(flags.get(v.id, ()))) for v in visits]


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


def _flags_of(
    session: Session, packet: Packet, visit_ids: Sequence[str]
) -> dict[str, list[RaisedFlag]]:
    """Each visit's flags, worded from the forms, urgent first."""
    if not visit_ids:
        return {}
    known = flag_catalogue(packet)
    order = {flag_id: index for index, flag_id in enumerate(known)}
    found: dict[str, list[RaisedFlag]] = {}
    rows = session.scalars(select(FlagRecord).where(FlagRecord.visit_id.in_(list(visit_ids))))
    for row in rows:
        info = known.get(row.rule_id) or unknown_flag(row.rule_id)
        found.setdefault(row.visit_id, []).append(
            RaisedFlag(
                rule_id=row.rule_id,
                severity=info.severity,
                message=info.message,
                raised_at=row.raised_at,
                acknowledged_by=row.acknowledged_by,
                acknowledged_at=row.acknowledged_at,
            )
        )
    severity_rank = {"urgent": 0, "review": 1, "info": 2}
    for flags in found.values():
        flags.sort(key=lambda f: (severity_rank[str(f.severity)], order.get(f.rule_id, len(order))))
    return found


def queue_entry(session: Session, packet: Packet, visit_id: str) -> QueueEntry:
    visit = repository.get_visit(session, visit_id)
    return _entry(visit, tuple(_flags_of(session, packet, [visit_id]).get(visit_id, ())))


def visit_detail(
    session: Session, packet: Packet, strings: Strings, visit_id: str, *, consent_note: str = ""
) -> VisitDetail:
    """Answers, scores with bands, flags, the consent and its evidence, the stored documents."""
    entry = queue_entry(session, packet, visit_id)
    consent = session.scalars(
        select(ConsentRecord)
        .where(ConsentRecord.visit_id == visit_id)
        .order_by(ConsentRecord.id.desc())
    ).first()
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
        consent=_consent_summary(packet, strings, consent) if consent else None,
        documents=tuple(
            StoredDocumentInfo(doc_id, kind, created, sha, int(size or 0))
            for doc_id, kind, created, sha, size in documents
        ),
        consent_note=consent_note,
        events=tuple((at, actor, action) for at, actor, action in events),
    )


def _consent_summary(packet: Packet, strings: Strings, record: ConsentRecord) -> ConsentSummary:
    consent = packet.consent
    language = "en"  # staff read English; the patient's language is shown beside it
    results = [
        QuizResult(
            str(r["question"]),
            tuple(r.get("attempts", ())),
            bool(r.get("correct")),
            bool(r.get("needs_discussion")),
        )
        for r in json.loads(record.comprehension_json or "[]")
    ]
    reading = [
        Reading(
            str(r["section"]),
            float(r.get("seconds", 0.0)),
            bool(r.get("reached_end")),
            int(r.get("views", 0)),
        )
        for r in json.loads(record.reading_json or "[]")
    ]
    witness = ""
    if record.witness_staff_id:
        witness = f"{record.witness_name} ({record.witness_staff_id}): {record.witness_reason}"
    same_document = record.document_id == consent.id
    return ConsentSummary(
        document_id=record.document_id,
        version=record.document_version,
        language=record.language,
        signed_at=record.signed_at,
        method=record.method,
        signer_name=record.signer_name,
        text_sha256=record.text_sha256,
        witness=witness,
        # The wording comes from the consent now in the forms; an older document's questions
        # may differ, so its results are then shown by question id.
        comprehension=comprehension_rows(consent, results, language, strings)
        if same_document
        else tuple((r.question_id, "correct" if r.correct else "missed") for r in results),
        reading=reading_rows(consent, reading, language, strings),
    )


def acknowledge_flag(
    session: Session,
    visit_id: str,
    rule_id: str,
    *,
    staff_id: str,
    device: str,
    now: dt.datetime,
) -> bool:
    """A clinician has seen this flag: who and when are kept, and the act is audited. Returns
    False when the flag is gone (the patient changed the answer) or was acknowledged already."""
    record = session.scalar(
        select(FlagRecord).where(FlagRecord.visit_id == visit_id, FlagRecord.rule_id == rule_id)
    )
    if record is None or record.acknowledged_at is not None:
        return False
    record.acknowledged_by = staff_id
    record.acknowledged_at = now
    repository.audit(
        session,
        actor=f"staff:{staff_id}",
        device=device,
        action="flag.acknowledged",
        subject=visit_id,
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
