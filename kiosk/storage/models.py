"""Tables (DESIGN §4): visits, answers, scores, flags, quiz attempts, consents, documents."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Stores aware datetimes as UTC and returns them aware, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError("naive datetimes are not stored; give a UTC offset")
        utc = value.astimezone(dt.UTC)
        # PostgreSQL gets the offset (a naive value would be read in the session's time zone);
        # SQLite stores text, kept as plain UTC.
        return utc if dialect.name == "postgresql" else utc.replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base of every kiosk table."""


class VisitRecord(Base):
    """One patient's visit at a kiosk, from Start to signature."""

    __tablename__ = "visits"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kiosk_id: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    packet_id: Mapped[str] = mapped_column(String(64))
    packet_version: Mapped[int] = mapped_column(Integer)
    # A kiosk.domain.records.VisitStatus value. Read back as text, not as the enum: a newer kiosk
    # sharing the database may write a status this one does not know, and staff must still see
    # that visit (kiosk.domain.console.queue_status).
    status: Mapped[str] = mapped_column(String(16), index=True)
    patient_name: Mapped[str] = mapped_column(String(200), default="")
    # The name folded for search (lower case, no accents, single spaces): see storage.search.
    name_search: Mapped[str] = mapped_column(String(200), default="")
    birth_date: Mapped[str] = mapped_column(String(10), default="")
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    answers: Mapped[list[AnswerRecord]] = relationship(back_populates="visit")

    __table_args__ = (
        Index("ix_visits_name_search_birth_date", "name_search", "birth_date"),
        # A date of birth first, then the name: staff searches give both (migration 0004).
        Index("ix_visits_birth_date_name_search", "birth_date", "name_search"),
        Index("ix_visits_started_at", "started_at"),  # the console's day queue
    )


class AnswerRecord(Base):
    """The current answer to one item in one visit, with the form version it was asked in."""

    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("visit_id", "item_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    visit_id: Mapped[str] = mapped_column(ForeignKey("visits.id"), index=True)
    form_id: Mapped[str] = mapped_column(String(64))
    form_version: Mapped[int] = mapped_column(Integer)
    item_id: Mapped[str] = mapped_column(String(64))
    value_json: Mapped[str] = mapped_column(Text)
    answered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    visit: Mapped[VisitRecord] = relationship(back_populates="answers")


class ScoreRecord(Base):
    """A computed score and its band."""

    __tablename__ = "scores"
    __table_args__ = (UniqueConstraint("visit_id", "rule_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    visit_id: Mapped[str] = mapped_column(ForeignKey("visits.id"), index=True)
    form_id: Mapped[str] = mapped_column(String(64))
    form_version: Mapped[int] = mapped_column(Integer)
    rule_id: Mapped[str] = mapped_column(String(64))
    value: Mapped[float] = mapped_column(Float)
    band: Mapped[str | None] = mapped_column(String(64), nullable=True)
    computed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class FlagRecord(Base):
    """A red flag for clinician review (never an automatic refusal)."""

    __tablename__ = "flags"
    __table_args__ = (UniqueConstraint("visit_id", "rule_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    visit_id: Mapped[str] = mapped_column(ForeignKey("visits.id"), index=True)
    form_id: Mapped[str] = mapped_column(String(64))
    rule_id: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    raised_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    acknowledged_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The answers the rule read when the flag was raised, as JSON {item id: value}: kept when a
    # changed answer retracts the flag (migration 0005).
    raised_answers_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    # A changed answer no longer meets the rule: the flag stays, and still needs a clinician.
    retracted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decision: Mapped[str | None] = mapped_column(String(32), nullable=True)  # a FlagDecision
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


class AlertEscalationRecord(Base):
    """An urgent flag escalated to the clinic's pager or SMS gateway: exactly one row per flag
    (the watcher whose insert succeeds owns the delivery), with its attempts and outcome."""

    __tablename__ = "alert_escalations"

    flag_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    visit_id: Mapped[str] = mapped_column(String(32))
    claimed_by: Mapped[str] = mapped_column(String(128))  # the watcher: device and process
    claimed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    outcome: Mapped[str] = mapped_column(String(200), default="", server_default="")


class QuizAttemptRecord(Base):
    """One answer to a comprehension question, kept whether right or wrong."""

    __tablename__ = "quiz_attempts"
    __table_args__ = (UniqueConstraint("visit_id", "question_id", "attempt"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    visit_id: Mapped[str] = mapped_column(ForeignKey("visits.id"), index=True)
    document_id: Mapped[str] = mapped_column(String(64))
    document_version: Mapped[int] = mapped_column(Integer)
    question_id: Mapped[str] = mapped_column(String(64))
    attempt: Mapped[int] = mapped_column(Integer)
    answer_json: Mapped[str] = mapped_column(Text)
    correct: Mapped[bool] = mapped_column()
    answered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class ConsentRecord(Base):
    """A signed consent. Never updated: a correction is a new record pointing to this one."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    visit_id: Mapped[str] = mapped_column(ForeignKey("visits.id"), index=True)
    document_id: Mapped[str] = mapped_column(String(64))
    document_version: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(8))
    text_sha256: Mapped[str] = mapped_column(String(64))
    signer_name: Mapped[str] = mapped_column(String(200))
    statement: Mapped[str] = mapped_column(Text)
    meaning: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    signed_at_local: Mapped[str] = mapped_column(String(40))  # ISO 8601 with the kiosk's offset
    method: Mapped[str] = mapped_column(String(24), default="drawn")  # or typed_witnessed
    signature_png: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    signature_strokes_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    typed_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    witness_staff_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    witness_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    witness_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    comprehension_json: Mapped[str] = mapped_column(Text, default="[]")  # QuizResult.as_json list
    attestations_json: Mapped[str] = mapped_column(Text, default="{}")  # attestation id -> answer
    reading_json: Mapped[str] = mapped_column(Text, default="[]")  # Reading.as_json per section
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("consents.id"), nullable=True)


class DocumentRecord(Base):
    """A generated document (the consent PDF) and its SHA-256."""

    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    visit_id: Mapped[str] = mapped_column(ForeignKey("visits.id"), index=True)
    consent_id: Mapped[int | None] = mapped_column(ForeignKey("consents.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(32))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64), index=True)  # kiosk verify looks files up
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class StaffUserRecord(Base):
    """A member of staff: unique id, argon2id PIN hash, a lockout that survives restarts."""

    __tablename__ = "staff_users"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))  # staff | clinician | admin
    pin_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class AuditEventRecord(Base):
    """Who did what, when, on which device: identifiers only, never patient data.

    Append-only (database triggers refuse UPDATE and DELETE). ``mac`` is an HMAC-SHA256, keyed
    with the audit key kept outside the database, over this event and ``prev_mac``: see
    storage.audit.
    """

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(100))  # "staff:<id>", "patient", "system"
    device: Mapped[str] = mapped_column(String(64))  # the kiosk id
    action: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(64), default="")  # a visit or staff id
    prev_mac: Mapped[str] = mapped_column(String(64))
    mac: Mapped[str] = mapped_column(String(64))
    # SHA-256 of the visit's records right after this event's write (migration 0006); None for
    # an event that writes no patient data. Covered by the mac: see storage.audit.
    digest: Mapped[str | None] = mapped_column(String(64), nullable=True)
