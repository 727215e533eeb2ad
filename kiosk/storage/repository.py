"""Use cases on a Session. Callers own the transaction: one patient action, one commit."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import Connection, delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from kiosk.domain.conditions import compares
from kiosk.domain.model import AnswerValue, ConsentDocument, FlagRule, Form, Notice, Packet
from kiosk.domain.records import SignedConsent, VisitStatus
from kiosk.domain.scoring import ScoreReport
from kiosk.domain.visit import QuizAttempt, QuizResult, Reading, Signing
from kiosk.storage import audit as audit_chain
from kiosk.storage import record_digest
from kiosk.storage.models import (
    AnswerRecord,
    AuditEventRecord,
    ConsentRecord,
    DocumentRecord,
    FlagRecord,
    QuizAttemptRecord,
    ScoreRecord,
    VisitRecord,
)
from kiosk.storage.search import fold_name

log = logging.getLogger(__name__)  # actions and exception types only, never patient data

CONSENT_PDF = "consent_pdf"
CLINICIAN_SUMMARY = "clinician_summary"


class NotFoundError(LookupError):
    """No record has that id."""


def new_visit_id(session: Session) -> str:
    """A random id whose printed document number (its first 8 characters) no other visit has.

    Eight hex digits alone would collide about once in a hundred clinics of 10,000 visits; a range
    on the primary key finds an earlier visit with the same start, and another id is drawn."""
    while True:
        candidate = uuid.uuid4().hex
        prefix = candidate[:DOCUMENT_NUMBER_CHARS]
        taken = session.scalar(
            select(VisitRecord.id)
            .where(VisitRecord.id >= prefix, VisitRecord.id < prefix + "g")  # hex sorts below g
            .limit(1)
        )
        if taken is None:
            return candidate


def start_visit(
    session: Session, *, packet: Packet, language: str, kiosk_id: str, now: dt.datetime
) -> str:
    """Create a draft visit and return its id."""
    visit = VisitRecord(
        id=new_visit_id(session),
        kiosk_id=kiosk_id,
        language=language,
        packet_id=packet.id,
        packet_version=packet.version,
        status=VisitStatus.DRAFT,
        started_at=now,
        updated_at=now,
    )
    session.add(visit)
    return visit.id


def get_visit(session: Session, visit_id: str) -> VisitRecord:
    visit = session.get(VisitRecord, visit_id)
    if visit is None:
        raise NotFoundError("no visit with that id")
    return visit


def encode_json(value: AnswerValue) -> object:
    """An answer as plain JSON data (tuples become lists)."""
    return (
        [dict(v) if isinstance(v, Mapping) else v for v in value]
        if isinstance(value, tuple)
        else value
    )


def encode_value(value: AnswerValue) -> str:
    return json.dumps(encode_json(value), ensure_ascii=False)


def decode_value(text: str) -> AnswerValue:
    value = json.loads(text)
    if isinstance(value, list) and all(isinstance(v, dict) for v in value) and value:
        return tuple({str(k): str(v) for k, v in row.items()} for row in value)
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    if isinstance(value, str | int | bool):
        return value
    raise ValueError("stored answer has an unexpected type")


def save_answers(
    session: Session,
    visit_id: str,
    *,
    form: Form,
    answers: Mapping[str, AnswerValue],
    removed: Iterable[str],
    now: dt.datetime,
) -> None:
    """Insert or replace the answers of one page and delete answers skip logic has hidden."""
    visit = get_visit(session, visit_id)
    removed = list(removed)
    if removed:
        session.execute(
            delete(AnswerRecord).where(
                AnswerRecord.visit_id == visit_id, AnswerRecord.item_id.in_(removed)
            )
        )
    existing = {
        a.item_id: a
        for a in session.scalars(
            select(AnswerRecord).where(
                AnswerRecord.visit_id == visit_id, AnswerRecord.item_id.in_(list(answers))
            )
        )
    }
    for item_id, value in answers.items():
        record = existing.get(item_id)
        if record is None:
            record = AnswerRecord(visit_id=visit_id, item_id=item_id)
            session.add(record)
        record.form_id = form.id
        record.form_version = form.version
        record.value_json = encode_value(value)
        record.answered_at = now
    visit.updated_at = now


@dataclass(frozen=True)
class DraftVisit:
    """An unfinished visit, for staff to resume."""

    visit_id: str
    patient_name: str
    birth_date: str
    language: str
    started_at: dt.datetime
    updated_at: dt.datetime


def list_drafts(session: Session, *, since: dt.datetime) -> list[DraftVisit]:
    """Drafts started since ``since`` (e.g. today's), most recently touched first."""
    rows = session.scalars(
        select(VisitRecord)
        .where(VisitRecord.status == VisitStatus.DRAFT, VisitRecord.started_at >= since)
        .order_by(VisitRecord.updated_at.desc())
    )
    return [
        DraftVisit(r.id, r.patient_name, r.birth_date, r.language, r.started_at, r.updated_at)
        for r in rows
    ]


def set_language(session: Session, visit_id: str, language: str) -> None:
    """The patient switched language part-way; later screens and the consent follow it."""
    get_visit(session, visit_id).language = language


def set_identity(session: Session, visit_id: str, *, name: str, birth_date: str) -> None:
    """Keep the visit's name and date of birth in step with the answers (for the staff queue)."""
    visit = get_visit(session, visit_id)
    visit.patient_name = name
    visit.name_search = fold_name(name)
    visit.birth_date = birth_date


def load_answers(session: Session, visit_id: str) -> dict[str, AnswerValue]:
    """Every stored answer of a visit, decoded."""
    rows = session.scalars(select(AnswerRecord).where(AnswerRecord.visit_id == visit_id))
    return {row.item_id: decode_value(row.value_json) for row in rows}


def save_scores(
    session: Session,
    visit_id: str,
    reports: Iterable[ScoreReport],
    now: dt.datetime,
    *,
    answers: Mapping[str, AnswerValue] | None = None,
) -> None:
    """Replace the visit's scores with these and keep its flags in step, never losing one.

    A newly raised flag is stored with the answers (and scores) its rule read, from
    ``answers``. A flag no longer raised (the patient changed the answer) is not deleted: it is
    marked retracted, keeps what raised it, and still waits for a clinician. Raised again, it is
    current again. Only the flags of the reported forms are touched (consent flags are kept).
    """
    reports = list(reports)
    session.execute(delete(ScoreRecord).where(ScoreRecord.visit_id == visit_id))
    form_ids = [report.form.id for report in reports]
    stored = {
        f.rule_id: f
        for f in session.scalars(
            select(FlagRecord).where(
                FlagRecord.visit_id == visit_id, FlagRecord.form_id.in_(form_ids)
            )
        )
    }
    raised: set[str] = set()
    for report in reports:
        scores = {result.rule.id: result.value for result in report.scores}
        for result in report.scores:
            session.add(
                ScoreRecord(
                    visit_id=visit_id,
                    form_id=report.form.id,
                    form_version=report.form.version,
                    rule_id=result.rule.id,
                    value=result.value,
                    band=result.band.id if result.band else None,
                    computed_at=now,
                )
            )
        for flag in report.flags:
            raised.add(flag.id)
            _raise_flag(
                session,
                visit_id,
                (report.form.id, flag.id, str(flag.severity)),
                now,
                read=_what_raised(flag, answers or {}, scores),
                existing=stored.get(flag.id),
            )
    for rule_id, record in stored.items():
        if rule_id not in raised:
            _retract(record, now)


def _what_raised(
    flag: FlagRule, answers: Mapping[str, AnswerValue], scores: Mapping[str, float]
) -> dict[str, object]:
    """The answers (and scores, as ``score:<id>``) a flag's rule read when it was raised."""
    read: dict[str, object] = {}
    for compare in compares(flag.when):
        if compare.is_score:
            if compare.subject in scores:
                read[f"score:{compare.subject}"] = scores[compare.subject]
        elif compare.subject in answers:
            read[compare.subject] = encode_json(answers[compare.subject])
    return read


def _retract(record: FlagRecord, now: dt.datetime) -> None:
    """A changed answer no longer meets the rule: the flag stays on record, marked."""
    if record.retracted_at is None:
        record.retracted_at = now


def record_quiz_attempt(
    session: Session,
    visit_id: str,
    *,
    consent: ConsentDocument,
    attempt: QuizAttempt,
    raised: Notice | None,
    now: dt.datetime,
) -> None:
    """Keep one comprehension answer and, on a second miss, its "discuss" flag."""
    visit = get_visit(session, visit_id)
    session.add(
        QuizAttemptRecord(
            visit_id=visit_id,
            document_id=consent.id,
            document_version=consent.version,
            question_id=attempt.question_id,
            attempt=attempt.number,
            answer_json=json.dumps(attempt.answer),
            correct=attempt.correct,
            answered_at=now,
        )
    )
    if raised is not None:
        rule = (consent.id, raised.id, str(raised.severity))
        read = {f"quiz:{attempt.question_id}": attempt.answer}
        _raise_flag(session, visit_id, rule, now, read=read)
    visit.updated_at = now


def set_consent_flags(
    session: Session,
    visit_id: str,
    *,
    consent: ConsentDocument,
    flags: Iterable[FlagRule],
    attestations: Mapping[str, AnswerValue] | None = None,
    now: dt.datetime,
) -> None:
    """Raise the consent's condition flags that hold now; retract (never delete) the ones that
    no longer do. ``attestations`` are kept with a flag as what raised it."""
    raised = {flag.id: flag for flag in flags}
    rule_ids = [flag.id for flag in consent.flags]
    stored = {
        record.rule_id: record
        for record in session.scalars(
            select(FlagRecord).where(
                FlagRecord.visit_id == visit_id, FlagRecord.rule_id.in_(rule_ids)
            )
        )
    }
    for rule_id, record in stored.items():
        if rule_id not in raised:
            _retract(record, now)
    for flag in raised.values():
        read = _what_raised(flag, attestations or {}, {})
        rule = (consent.id, flag.id, str(flag.severity))
        _raise_flag(session, visit_id, rule, now, read=read, existing=stored.get(flag.id))


def _raise_flag(
    session: Session,
    visit_id: str,
    rule: tuple[str, str, str],
    now: dt.datetime,
    *,
    read: Mapping[str, object],
    existing: FlagRecord | None = None,
) -> None:
    """Store a raised flag (``rule`` = form id, rule id, severity) with what raised it; a
    retracted one raised again is current again (its first raising time stays)."""
    form_id, rule_id, severity = rule
    if existing is None:
        existing = session.scalar(
            select(FlagRecord).where(FlagRecord.visit_id == visit_id, FlagRecord.rule_id == rule_id)
        )
    if existing is None:
        session.add(
            FlagRecord(
                visit_id=visit_id,
                form_id=form_id,
                rule_id=rule_id,
                severity=severity,
                raised_at=now,
                raised_answers_json=json.dumps(dict(read), ensure_ascii=False, sort_keys=True),
            )
        )
    elif existing.retracted_at is not None:
        existing.retracted_at = None
        existing.raised_answers_json = json.dumps(dict(read), ensure_ascii=False, sort_keys=True)


@dataclass(frozen=True)
class StoredQuizAttempt:
    question_id: str
    attempt: int
    answer: str | int
    correct: bool


def load_quiz_attempts(session: Session, visit_id: str) -> list[StoredQuizAttempt]:
    rows = session.scalars(
        select(QuizAttemptRecord)
        .where(QuizAttemptRecord.visit_id == visit_id)
        .order_by(QuizAttemptRecord.id)
    )
    return [
        StoredQuizAttempt(r.question_id, r.attempt, json.loads(r.answer_json), r.correct)
        for r in rows
    ]


@dataclass(frozen=True)
class StoredScore:
    rule_id: str
    value: float
    band: str | None


def load_scores(session: Session, visit_id: str) -> list[StoredScore]:
    rows = session.scalars(
        select(ScoreRecord).where(ScoreRecord.visit_id == visit_id).order_by(ScoreRecord.id)
    )
    return [StoredScore(r.rule_id, r.value, r.band) for r in rows]


def load_flags(session: Session, visit_id: str) -> list[str]:
    """The rule ids of the visit's current flags, in the order raised (retracted ones, which a
    changed answer no longer meets, are kept on record but are not current)."""
    rows = session.scalars(
        select(FlagRecord)
        .where(FlagRecord.visit_id == visit_id, FlagRecord.retracted_at.is_(None))
        .order_by(FlagRecord.id)
    )
    return [r.rule_id for r in rows]


def record_consent(
    session: Session,
    visit_id: str,
    *,
    consent: ConsentDocument,
    language: str,
    signing: Signing,
    now: dt.datetime,
) -> ConsentRecord:
    """Store the signed consent and mark the visit signed."""
    visit = get_visit(session, visit_id)
    if visit.status != VisitStatus.DRAFT:
        raise ValueError("this visit is already signed")
    record = ConsentRecord(
        visit_id=visit_id,
        document_id=consent.id,
        document_version=consent.version,
        language=language,
        text_sha256=signing.text_sha256,
        signer_name=signing.signer_name,
        statement=signing.statement,
        meaning=signing.meaning,
        signed_at=signing.signed_at,
        signed_at_local=signing.signed_at.isoformat(timespec="seconds"),
        method=str(signing.method),
        signature_png=signing.signature.png if signing.signature else None,
        signature_strokes_json=(
            json.dumps(signing.signature.strokes_json()) if signing.signature else None
        ),
        typed_name=signing.typed_name or None,
        witness_staff_id=signing.witness.staff_id if signing.witness else None,
        witness_name=signing.witness.name if signing.witness else None,
        witness_reason=signing.witness.reason if signing.witness else None,
        comprehension_json=json.dumps([r.as_json() for r in signing.comprehension]),
        attestations_json=json.dumps(
            {k: encode_json(v) for k, v in signing.attestations.items()}, ensure_ascii=False
        ),
        reading_json=json.dumps([r.as_json() for r in signing.reading]),
    )
    session.add(record)
    visit.status = VisitStatus.SIGNED
    visit.finished_at = now
    visit.updated_at = now
    session.flush()
    return record


def signed_consent(record: ConsentRecord) -> SignedConsent:
    """A stored consent read back (the inverse of :func:`record_consent`)."""
    return SignedConsent(
        document_id=record.document_id,
        version=record.document_version,
        language=record.language,
        signed_at=record.signed_at,
        signed_at_local=record.signed_at_local,
        method=record.method,
        signer_name=record.signer_name,
        text_sha256=record.text_sha256,
        witness_staff_id=record.witness_staff_id,
        witness_name=record.witness_name,
        witness_reason=record.witness_reason,
        comprehension=tuple(
            QuizResult.from_json(r) for r in json.loads(record.comprehension_json or "[]")
        ),
        reading=tuple(Reading.from_json(r) for r in json.loads(record.reading_json or "[]")),
    )


def load_consent(session: Session, visit_id: str) -> SignedConsent | None:
    """The visit's newest signed consent, if it has one."""
    record = session.scalars(
        select(ConsentRecord)
        .where(ConsentRecord.visit_id == visit_id)
        .order_by(ConsentRecord.id.desc())
    ).first()
    return signed_consent(record) if record is not None else None


PAPER_FLAG = "paper_consent_requested"


def close_draft(session: Session, visit_id: str, *, status: VisitStatus, now: dt.datetime) -> None:
    """Finish a draft visit without a signature (``paper``, ``consent_on_file``).

    Raises:
        NotFoundError: when no visit has that id.
        ValueError: when the visit is no longer a draft.
    """
    visit = get_visit(session, visit_id)
    if visit.status != VisitStatus.DRAFT:
        raise ValueError("this visit is already closed")
    visit.status = status
    visit.finished_at = now
    visit.updated_at = now


def record_paper_choice(
    session: Session, visit_id: str, *, consent: ConsentDocument, now: dt.datetime
) -> None:
    """The patient chose paper: no electronic signature; the visit waits for staff."""
    # Flagged while still a draft: the database refuses new rows of a closed visit (0007).
    _raise_flag(session, visit_id, (consent.id, PAPER_FLAG, "review"), now, read={})
    session.flush()
    close_draft(session, visit_id, status=VisitStatus.PAPER, now=now)


def audit(
    session: Session,
    *,
    actor: str,
    device: str,
    action: str,
    subject: str = "",
    now: dt.datetime,
) -> audit_chain.Head:
    """Append one chained audit event, in the caller's transaction (it commits with the action).

    Returns the new head of the chain (what a consent PDF prints)."""
    return audit_chain.append(
        session, actor=actor, device=device, action=action, subject=subject, now=now
    )


def audit_write(
    session: Session,
    *,
    visit_id: str,
    actor: str,
    device: str,
    action: str,
    now: dt.datetime,
) -> audit_chain.Head:
    """The audit event of a write to a visit's records: it carries the digest of the visit's
    records as they stand after the caller's writes so far (storage.record_digest), so the
    chain covers the records too. Call it after the transaction's writes to that visit; a write
    after it needs another event."""
    session.flush()
    return audit_chain.append(
        session,
        actor=actor,
        device=device,
        action=action,
        subject=visit_id,
        now=now,
        digest=record_digest.visit_digest(session, visit_id),
    )


def check_records(session: Session, visit_id: str, *, device: str, now: dt.datetime) -> bool:
    """Before a write to a visit: do its records still match the last digest the trail holds?

    A write digests the visit anew, which would hide a change made outside the kiosk (triggers
    dropped). So a mismatch is put on the trail first, as ``visit.records_changed`` (no digest),
    in the caller's transaction; ``kiosk audit verify`` reports it for good. The write goes on:
    a patient or a clinician is never stopped by it. Returns whether the records matched."""
    last = record_digest.last_digest(session, visit_id)
    if last is None or record_digest.visit_digest(session, visit_id) == last[1]:
        return True
    log.error("a visit's records changed after event %s, outside the kiosk", last[0])
    audit_chain.append(
        session,
        actor="system",
        device=device,
        action=record_digest.CHANGED_ACTION,
        subject=visit_id,
        now=now,
    )
    return False


def record_problems(reader: Session | Connection, *, newest_events: int | None = None) -> list[str]:
    """The visits whose records no longer match the trail's digests, in plain words naming
    their document numbers (storage.record_digest.verify_records; ``newest_events`` limits the
    recomputation to the visits those newest events wrote)."""
    found = record_digest.verify_records(reader, newest_events=newest_events)
    return [problem.describe(document_number(problem.visit_id)) for problem in found]


def record_event(
    sessions: sessionmaker[Session],
    *,
    actor: str,
    device: str,
    action: str,
    subject: str = "",
    now: dt.datetime,
) -> bool:
    """One audit event in a transaction of its own (start-up, exit, a staff view or print).

    A failure is logged by action and exception type, never raised: the kiosk must still wipe,
    close or carry on, and the console must still show what was asked. Returns whether it was kept.
    """
    try:
        with sessions.begin() as session:
            audit(session, actor=actor, device=device, action=action, subject=subject, now=now)
    except SQLAlchemyError as exc:
        log.error("could not record %s: %s", action, type(exc).__name__)
        return False
    return True


@dataclass(frozen=True)
class PurgeResult:
    """What a drafts purge did: how many drafts it purged, and the document numbers of those it
    kept because a flag waits for a clinician."""

    purged: int
    kept: tuple[str, ...] = ()


def purge_abandoned_drafts(
    session: Session, *, idle_since: dt.datetime, device: str, now: dt.datetime
) -> PurgeResult:
    """Drafts untouched since ``idle_since`` lose their answers, scores, flags, quiz attempts
    and the name and date of birth; the visit row stays as "abandoned" (so staff see that a visit
    was started) and each purge is audited.

    A draft with an urgent or review flag not yet acknowledged is kept whole (a clinician must
    be able to find the patient); it is purged by the first purge after its flags are
    acknowledged.
    """
    waiting = (
        select(FlagRecord.visit_id)
        .where(
            FlagRecord.acknowledged_at.is_(None),
            FlagRecord.severity.in_(("urgent", "review")),
        )
        .distinct()
    )
    idle = (VisitRecord.status == VisitStatus.DRAFT, VisitRecord.updated_at < idle_since)
    stale = list(session.scalars(select(VisitRecord).where(*idle, VisitRecord.id.not_in(waiting))))
    kept = sorted(session.scalars(select(VisitRecord.id).where(*idle, VisitRecord.id.in_(waiting))))
    for visit in stale:
        check_records(session, visit.id, device=device, now=now)
        for table in (AnswerRecord, ScoreRecord, FlagRecord, QuizAttemptRecord):
            session.execute(delete(table).where(table.visit_id == visit.id))
        visit.status = VisitStatus.ABANDONED
        visit.patient_name = visit.name_search = visit.birth_date = ""
        visit.updated_at = now
        audit_write(
            session,
            visit_id=visit.id,
            actor="system",
            device=device,
            action="visit.purged",
            now=now,
        )
    for visit_id in kept:
        audit(
            session,
            actor="system",
            device=device,
            action="visit.purge_kept_flagged",
            subject=visit_id,
            now=now,
        )
    return PurgeResult(len(stale), tuple(document_number(v) for v in kept))


@dataclass(frozen=True)
class AuditEvent:
    seq: int
    actor: str
    device: str
    action: str
    subject: str


def load_audit(session: Session) -> list[AuditEvent]:
    rows = session.scalars(select(AuditEventRecord).order_by(AuditEventRecord.seq))
    return [AuditEvent(r.seq, r.actor, r.device, r.action, r.subject) for r in rows]


DOCUMENT_NUMBER_CHARS = 8


def document_number(visit_id: str) -> str:
    """The printed document id: derived from the visit id, never from patient data (and unique:
    see :func:`new_visit_id`)."""
    return f"KC-{visit_id[:DOCUMENT_NUMBER_CHARS].upper()}"


def store_document(
    session: Session,
    visit_id: str,
    *,
    content: bytes,
    now: dt.datetime,
    consent_id: int | None = None,
    kind: str = CONSENT_PDF,
) -> DocumentRecord:
    """Store a generated document with its SHA-256."""
    record = DocumentRecord(
        id=uuid.uuid4().hex,
        visit_id=visit_id,
        consent_id=consent_id,
        kind=kind,
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        created_at=now,
    )
    session.add(record)
    return record


def latest_document(session: Session, visit_id: str, kind: str = CONSENT_PDF) -> DocumentRecord:
    record = session.scalars(
        select(DocumentRecord)
        .where(DocumentRecord.visit_id == visit_id, DocumentRecord.kind == kind)
        .order_by(DocumentRecord.created_at.desc())
    ).first()
    if record is None:
        raise NotFoundError("no document for that visit")
    return record


@dataclass(frozen=True)
class StoredDocument:
    document_number: str
    visit_id: str
    kind: str
    created_at: dt.datetime


def find_document(session: Session, sha256: str) -> StoredDocument | None:
    """The stored document whose bytes have this SHA-256, if any."""
    record = session.scalars(
        select(DocumentRecord).where(DocumentRecord.sha256 == sha256.lower())
    ).first()
    if record is None:
        return None
    return StoredDocument(
        document_number(record.visit_id), record.visit_id, record.kind, record.created_at
    )
