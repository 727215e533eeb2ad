"""The audit trail: append-only events linked by a keyed hash chain.

Each event stores ``prev_mac`` (the previous event's ``mac``) and
``mac = HMAC-SHA256(audit key, canonical event incl. prev_mac)``. Editing an event breaks its own
mac; deleting or reordering events breaks the links; recomputing the chain needs the key, which
lives outside the database. Removing events from the *end* leaves a shorter chain that is still
consistent, so the head (sequence number and mac) is printed on every consent PDF and kept beside
the kiosk: :func:`verify` given such a head detects that too.

Appends are serialised so the chain never forks: SQLite transactions begin IMMEDIATE (one writer);
PostgreSQL takes a transaction-scoped advisory lock.

An event that writes a visit's records also carries ``digest``, the SHA-256 of those records as
stored right after the write (:mod:`kiosk.storage.record_digest`), inside the mac: the chain then
covers the records, not only the events. Events without a digest (every event written before
migration 0006, and events that write no patient data) keep their original canonical form, so an
older trail verifies unchanged.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import Connection, select, text
from sqlalchemy.orm import Session

from kiosk.storage.models import AuditEventRecord

GENESIS = "0" * 64
AUDIT_KEY_INFO = "audit_key"  # where sessions carry the key (sessionmaker info)
_PG_AUDIT_LOCK = 0x4B494F534B  # "KIOSK": the advisory lock id for appends on PostgreSQL


class AuditKeyMissingError(RuntimeError):
    """A session was opened without the audit key; nothing can be appended."""


def canonical(  # noqa: PLR0917 - the chain's fields, in their fixed order
    seq: int,
    at: dt.datetime,
    actor: str,
    device: str,
    action: str,
    subject: str,
    prev_mac: str,
    digest: str | None = None,
) -> bytes:
    """The exact bytes the mac covers: a JSON array in a fixed order, ASCII only. The records'
    digest is the last field, present only when the event has one (backward compatible)."""
    stamp = at.astimezone(dt.UTC).isoformat(timespec="microseconds")
    fields: list[object] = [seq, stamp, actor, device, action, subject, prev_mac]
    if digest is not None:
        fields.append(digest)
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def mac_of(key: bytes, payload: bytes) -> str:
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Head:
    """The newest event's sequence number and mac: what a consent PDF prints."""

    seq: int
    mac: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.mac}"

    @classmethod
    def parse(cls, value: str) -> Head:
        """Read ``SEQ:MAC`` as printed; raises ValueError with a plain message."""
        seq, sep, mac = value.strip().partition(":")
        mac = mac.strip().lower()
        if not sep or not seq.strip().isdigit() or len(mac) != 64:
            raise ValueError("a chain head looks like 1234:<64 hexadecimal characters>")
        try:
            bytes.fromhex(mac)
        except ValueError:
            raise ValueError("a chain head looks like 1234:<64 hexadecimal characters>") from None
        return cls(int(seq), mac)


def _lock_for_append(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _PG_AUDIT_LOCK})


def current_head(session: Session) -> Head | None:
    row = session.execute(
        select(AuditEventRecord.seq, AuditEventRecord.mac)
        .order_by(AuditEventRecord.seq.desc())
        .limit(1)
    ).first()
    return Head(row.seq, row.mac) if row else None


def append(
    session: Session,
    *,
    actor: str,
    device: str,
    action: str,
    subject: str,
    now: dt.datetime,
    digest: str | None = None,
) -> Head:
    """Add one event to the caller's transaction, chained to the current head; ``digest`` is
    the SHA-256 of the records this event wrote (None: it wrote no patient data)."""
    key = session.info.get(AUDIT_KEY_INFO)
    if not isinstance(key, bytes):
        raise AuditKeyMissingError("this session has no audit key")
    _lock_for_append(session)
    session.flush()  # events added earlier in this transaction are part of the head
    head = current_head(session)
    seq = head.seq + 1 if head else 1
    prev = head.mac if head else GENESIS
    mac = mac_of(key, canonical(seq, now, actor, device, action, subject, prev, digest))
    session.add(
        AuditEventRecord(
            seq=seq,
            at=now,
            actor=actor,
            device=device,
            action=action,
            subject=subject,
            prev_mac=prev,
            mac=mac,
            digest=digest,
        )
    )
    session.flush()
    return Head(seq, mac)


@dataclass
class Verification:
    """What :func:`verify` found: ``ok`` only with no problems."""

    events: int = 0
    head: Head | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


MAX_PROBLEMS = 20


def verify_rows(
    rows: Iterable[tuple[int, dt.datetime, str, str, str, str, str, str, str | None]],
    key: bytes,
    anchor: Head | None = None,
) -> Verification:
    """Walk events in sequence order: (seq, at, actor, device, action, subject, prev_mac, mac,
    digest)."""
    result = Verification()
    expected_seq, prev = 1, GENESIS
    macs: dict[int, str] = {}

    def problem(message: str) -> None:
        if len(result.problems) < MAX_PROBLEMS:
            result.problems.append(message)

    for seq, at, actor, device, action, subject, prev_mac, mac, digest in rows:
        result.events += 1
        if seq != expected_seq:
            problem(
                f"event {expected_seq} is missing (the next one is {seq})"
                if seq > expected_seq
                else f"event {seq} is out of order (after {expected_seq - 1})"
            )
        if prev_mac != prev:
            problem(f"event {seq} does not link to the event before it")
        if not hmac.compare_digest(
            mac,
            mac_of(key, canonical(seq, at, actor, device, action, subject, prev_mac, digest)),
        ):
            problem(f"event {seq} was changed after it was written (its seal does not match)")
        macs[seq] = mac
        expected_seq, prev = seq + 1, mac
        result.head = Head(seq, mac)
    if anchor is not None:
        last = result.head.seq if result.head else 0
        if anchor.seq > last:
            problem(
                f"the trail ends at event {last} but a printed head shows event {anchor.seq}: "
                "events were removed from the end"
            )
        elif not hmac.compare_digest(macs.get(anchor.seq, ""), anchor.mac):
            problem(f"event {anchor.seq} does not match the printed head")
    return result


def verify(
    connection: Connection | Session, key: bytes, anchor: Head | None = None
) -> Verification:
    """Verify the whole chain in the database, streaming it in sequence order."""
    columns = (
        AuditEventRecord.seq,
        AuditEventRecord.at,
        AuditEventRecord.actor,
        AuditEventRecord.device,
        AuditEventRecord.action,
        AuditEventRecord.subject,
        AuditEventRecord.prev_mac,
        AuditEventRecord.mac,
        AuditEventRecord.digest,
    )
    query = select(*columns).order_by(AuditEventRecord.seq).execution_options(yield_per=2000)
    rows = connection.execute(query)
    return verify_rows((tuple(row) for row in rows), key, anchor)  # type: ignore[misc]
