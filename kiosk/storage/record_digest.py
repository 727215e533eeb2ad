"""A visit's records as one SHA-256, and the check that the stored rows still match the trail.

Triggers protect rows only from someone without the database key: ``DROP TRIGGER`` (SQLite) or
``session_replication_role = replica`` (PostgreSQL) removes them. So every audit event that writes
a visit's records carries :func:`visit_digest` of those records as stored right after the write,
inside the event's HMAC (:mod:`kiosk.storage.audit`). :func:`verify_records` recomputes each
visit's digest from its rows and compares it with the last one the trail recorded: a changed,
added or deleted row, or a deleted visit, shows.

What the digest covers (everything a clinician or a court reads as the patient's record):

* the visit: id, kiosk, packet id and version, status, name and date of birth as given, started
  and finished times;
* every answer (item, form id and version, value, answered at), score (rule, form, value, band,
  computed at), flag (rule, form, severity, raised / retracted at, what raised it, acknowledged
  by / at, decision, note), quiz attempt and consent (every column, the signature image as its
  SHA-256, ``supersedes_id``);
* every document's id, kind, consent, SHA-256 and creation time.

What it leaves out, and why: ``visits.language`` (the patient switches it without an audited
write; the language each consent was signed in is in the consent row, which is covered),
``visits.updated_at`` and ``visits.name_search`` (bookkeeping: a time the purge reads, and a
folding of the covered name that a migration may recompute), documents' bytes (their SHA-256 is
covered; the bytes are checked against it, and the seal, by ``kiosk verify``), and the alert
escalations (a watcher's delivery log, not the visit's record).

Deterministic across SQLite and PostgreSQL: times are UTC ISO 8601 with microseconds, rows are
ordered by a key unique within the visit, and the JSON is compact, sorted and ASCII.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, bindparam, case, exists, func, select
from sqlalchemy.orm import Session

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

DIGEST_VERSION = 1
SIGNED_ACTION = "consent.signed"
CHANGED_ACTION = "visit.records_changed"
"""The event a write leaves before it when the visit's records no longer match the trail: the
write then digests the changed rows anew, and this event keeps the change on record."""

_VISIT = (
    VisitRecord.id,
    VisitRecord.kiosk_id,
    VisitRecord.packet_id,
    VisitRecord.packet_version,
    VisitRecord.status,
    VisitRecord.patient_name,
    VisitRecord.birth_date,
    VisitRecord.started_at,
    VisitRecord.finished_at,
)
_ANSWERS = (
    AnswerRecord.item_id,
    AnswerRecord.form_id,
    AnswerRecord.form_version,
    AnswerRecord.value_json,
    AnswerRecord.answered_at,
)
_SCORES = (
    ScoreRecord.rule_id,
    ScoreRecord.form_id,
    ScoreRecord.form_version,
    ScoreRecord.value,
    ScoreRecord.band,
    ScoreRecord.computed_at,
)
_FLAGS = (
    FlagRecord.rule_id,
    FlagRecord.form_id,
    FlagRecord.severity,
    FlagRecord.raised_at,
    FlagRecord.retracted_at,
    FlagRecord.raised_answers_json,
    FlagRecord.acknowledged_by,
    FlagRecord.acknowledged_at,
    FlagRecord.decision,
    FlagRecord.note,
)
_QUIZ = (
    QuizAttemptRecord.question_id,
    QuizAttemptRecord.attempt,
    QuizAttemptRecord.document_id,
    QuizAttemptRecord.document_version,
    QuizAttemptRecord.answer_json,
    QuizAttemptRecord.correct,
    QuizAttemptRecord.answered_at,
)
_CONSENTS = (
    ConsentRecord.id,
    ConsentRecord.document_id,
    ConsentRecord.document_version,
    ConsentRecord.language,
    ConsentRecord.text_sha256,
    ConsentRecord.signer_name,
    ConsentRecord.statement,
    ConsentRecord.meaning,
    ConsentRecord.signed_at,
    ConsentRecord.signed_at_local,
    ConsentRecord.method,
    ConsentRecord.signature_png,
    ConsentRecord.signature_strokes_json,
    ConsentRecord.typed_name,
    ConsentRecord.witness_staff_id,
    ConsentRecord.witness_name,
    ConsentRecord.witness_reason,
    ConsentRecord.comprehension_json,
    ConsentRecord.attestations_json,
    ConsentRecord.reading_json,
    ConsentRecord.supersedes_id,
)
_DOCUMENTS = (
    DocumentRecord.id,
    DocumentRecord.kind,
    DocumentRecord.consent_id,
    DocumentRecord.sha256,
    DocumentRecord.created_at,
)


def _plain(value: object) -> object:
    """One stored value as JSON the same on both databases."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat(timespec="microseconds")
    if isinstance(value, bytes):
        return "sha256:" + hashlib.sha256(value).hexdigest()
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        return repr(value)  # the shortest text that reads back as the same double
    return str(value)


def _query(columns: Sequence[Any], visit_column: Any, order: Sequence[Any]) -> Select[Any]:
    return select(*columns).where(visit_column == bindparam("visit_id")).order_by(*order)


# Built once: the same statement objects each time keep SQLAlchemy's compiled cache hot (new
# ones per visit cost ~10 ms a visit in result-column matching alone).
_QUERIES = {
    "answers": _query(_ANSWERS, AnswerRecord.visit_id, [AnswerRecord.item_id]),
    "scores": _query(_SCORES, ScoreRecord.visit_id, [ScoreRecord.rule_id]),
    "flags": _query(_FLAGS, FlagRecord.visit_id, [FlagRecord.rule_id]),
    "quiz": _query(
        _QUIZ,
        QuizAttemptRecord.visit_id,
        [QuizAttemptRecord.question_id, QuizAttemptRecord.attempt],
    ),
    "consents": _query(_CONSENTS, ConsentRecord.visit_id, [ConsentRecord.id]),
    "documents": _query(_DOCUMENTS, DocumentRecord.visit_id, [DocumentRecord.id]),
}
_VISIT_QUERY = select(*_VISIT).where(VisitRecord.id == bindparam("visit_id"))
_HAS_DIGEST = AuditEventRecord.digest.is_not(None)


def visit_digest(reader: Session | Connection, visit_id: str) -> str | None:
    """SHA-256 (hex) of the visit's records as stored now; None when there is no such visit.

    Read in the caller's transaction: inside a write, call it after the writes are flushed."""
    key = {"visit_id": visit_id}
    visit = reader.execute(_VISIT_QUERY, key).first()
    if visit is None:
        return None
    content: dict[str, object] = {"v": DIGEST_VERSION, "visit": [_plain(value) for value in visit]}
    for part, query in _QUERIES.items():
        content[part] = [[_plain(value) for value in row] for row in reader.execute(query, key)]
    payload = json.dumps(content, separators=(",", ":"), sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(payload.encode("ascii")).hexdigest()


def last_digest(reader: Session | Connection, visit_id: str) -> tuple[int, str] | None:
    """The visit's newest recorded digest and its event (the trail read backwards from its end,
    so a visit written recently is found at once)."""
    row = reader.execute(
        select(AuditEventRecord.seq, AuditEventRecord.digest)
        .where(AuditEventRecord.subject == visit_id, _HAS_DIGEST)
        .order_by(AuditEventRecord.seq.desc())
        .limit(1)
    ).first()
    return (row.seq, row.digest or "") if row is not None else None


@dataclass(frozen=True)
class RecordProblem:
    """A visit whose stored records no longer match the last digest the trail recorded."""

    visit_id: str
    seq: int  # the visit's last audited write
    missing: bool = False
    signed: bool = False
    found_before_write: bool = False  # a CHANGED_ACTION event: ``seq`` is that event's

    def describe(self, number: str) -> str:
        """In plain words, naming the visit by its printed document ``number`` (KC-…)."""
        if self.found_before_write:
            return f"visit {number} records were found changed before event {self.seq}"
        if not self.missing:
            return f"visit {number} records changed after event {self.seq}"
        kind = "signed visit" if self.signed else "visit"
        return f"{kind} {number} is missing (its last audited write was event {self.seq})"


def _missing_visits(reader: Session | Connection) -> list[RecordProblem]:
    """Visits the trail wrote (with a digest) whose row is gone: one query over the trail."""
    signed = func.max(case((AuditEventRecord.action == SIGNED_ACTION, 1), else_=0))
    gone = ~exists().where(VisitRecord.id == AuditEventRecord.subject)
    query = (
        select(AuditEventRecord.subject, func.max(AuditEventRecord.seq), signed)
        .where(_HAS_DIGEST, gone)
        .group_by(AuditEventRecord.subject)
    )
    return [
        RecordProblem(subject, int(seq), missing=True, signed=bool(was_signed))
        for subject, seq, was_signed in reader.execute(query)
    ]


def _last_digests(
    reader: Session | Connection, where: Iterable[ColumnElement[bool]]
) -> dict[str, tuple[int, str]]:
    """Each visit's last recorded digest and its event, for the events matching ``where``."""
    query = (
        select(AuditEventRecord.subject, AuditEventRecord.seq, AuditEventRecord.digest)
        .where(_HAS_DIGEST, *where)
        .order_by(AuditEventRecord.seq)
        .execution_options(yield_per=5000)
    )
    last: dict[str, tuple[int, str]] = {}
    for subject, seq, digest in reader.execute(query):
        last[subject] = (seq, digest or "")
    return last


def verify_records(
    reader: Session | Connection, *, newest_events: int | None = None
) -> list[RecordProblem]:
    """Recompute the digest of every visit the trail wrote and compare it with the last one
    recorded; a visit whose row is gone is reported as missing (a signed one says so).

    ``newest_events`` limits the recomputation to the visits written by the newest that many
    events (the start-up check); missing visits are found over the whole trail either way (one
    query). Trust the digests only once the chain itself verifies (:func:`audit.verify`)."""
    since = 0
    if newest_events is not None:
        top = reader.execute(select(func.max(AuditEventRecord.seq))).scalar()
        since = max(0, int(top or 0) - newest_events)
    problems = _missing_visits(reader)
    gone = {problem.visit_id for problem in problems}
    # A visit written by an event after ``since`` has its last digest after ``since`` too.
    where = [AuditEventRecord.seq > since] if since else []
    for visit_id, (seq, digest) in _last_digests(reader, where).items():
        if visit_id in gone:
            continue
        if visit_digest(reader, visit_id) != digest:
            problems.append(RecordProblem(visit_id, seq))
    found = select(AuditEventRecord.subject, AuditEventRecord.seq).where(
        AuditEventRecord.action == CHANGED_ACTION, *where
    )
    problems += [
        RecordProblem(visit_id, seq, found_before_write=True)
        for visit_id, seq in reader.execute(found)
    ]
    return sorted(problems, key=lambda problem: problem.seq)
