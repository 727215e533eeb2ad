"""Staff users: argon2id PIN hashes and a persistent lockout with back-off."""

from __future__ import annotations

import datetime as dt
import enum
import functools
import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from kiosk.storage import audit
from kiosk.storage.models import StaffUserRecord

SERVICE_ROLE = "service"  # a scheduled export's or backup's account: never signs in to a console
ROLES = ("staff", "clinician", "admin", SERVICE_ROLE)
FREE_ATTEMPTS = 5  # wrong PINs before the first lock
FIRST_LOCK = dt.timedelta(minutes=5)
LONGEST_LOCK = dt.timedelta(hours=24)
_PIN = re.compile(r"^\d{6,12}$")
_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")
_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile


@functools.cache
def _dummy_hash() -> str:
    """Verified against for unknown ids, so they cost the same work (no timing oracle). Made on
    first use: an argon2 hash takes ~150 ms and has no place on the kiosk's start-up path."""
    return _hasher.hash("000000-not-a-pin")


class StaffError(ValueError):
    """A staff id, role or PIN that cannot be accepted; the message says why, plainly."""


class PinCheck(enum.StrEnum):
    OK = "ok"
    WRONG = "wrong"  # also for unknown ids: nobody learns which ids exist
    LOCKED = "locked"
    DISABLED = "disabled"


@dataclass(frozen=True)
class PinResult:
    check: PinCheck
    staff_id: str = ""
    display_name: str = ""
    role: str = ""
    locked_until: dt.datetime | None = None


def validate_pin(pin: str) -> None:
    if not _PIN.match(pin):
        raise StaffError("a PIN is 6 to 12 digits")


def add_staff(
    session: Session, staff_id: str, *, name: str, role: str, pin: str, now: dt.datetime
) -> None:
    if not _ID.match(staff_id):
        raise StaffError("a staff id is 2-63 lower-case letters, digits, '.', '_' or '-'")
    if role not in ROLES:
        raise StaffError(f"role must be one of {', '.join(ROLES)}")
    if not name.strip():
        raise StaffError("a staff user needs a name")
    validate_pin(pin)
    if session.get(StaffUserRecord, staff_id) is not None:
        raise StaffError(f"staff id '{staff_id}' already exists")
    session.add(
        StaffUserRecord(
            id=staff_id,
            display_name=name.strip(),
            role=role,
            pin_hash=_hasher.hash(pin),
            active=True,
            failed_attempts=0,
            created_at=now,
        )
    )


def _get(session: Session, staff_id: str) -> StaffUserRecord:
    record = session.get(StaffUserRecord, staff_id)
    if record is None:
        raise StaffError(f"no staff user '{staff_id}'")
    return record


def set_active(session: Session, staff_id: str, *, active: bool) -> None:
    _get(session, staff_id).active = active


def reset_pin(session: Session, staff_id: str, *, pin: str) -> None:
    validate_pin(pin)
    record = _get(session, staff_id)
    record.pin_hash = _hasher.hash(pin)
    record.failed_attempts = 0
    record.locked_until = None


def lock_length(failed_attempts: int) -> dt.timedelta:
    """5 minutes at the 5th wrong PIN, doubling with each further one, at most a day."""
    doublings = min(failed_attempts - FREE_ATTEMPTS, 16)
    return min(FIRST_LOCK * (1 << doublings), LONGEST_LOCK)


def check_pin(session: Session, staff_id: str, pin: str, now: dt.datetime) -> PinResult:
    """Verify a PIN. Wrong PINs are counted in the database, so a restart does not reset them."""
    record = session.get(StaffUserRecord, staff_id.strip().lower())
    if record is None:
        _verify(_dummy_hash(), pin)
        return PinResult(PinCheck.WRONG)
    if record.locked_until is not None and record.locked_until > now:
        return PinResult(PinCheck.LOCKED, record.id, locked_until=record.locked_until)
    if not _verify(record.pin_hash, pin):
        record.failed_attempts += 1
        if record.failed_attempts >= FREE_ATTEMPTS:
            record.locked_until = now + lock_length(record.failed_attempts)
            return PinResult(PinCheck.LOCKED, record.id, locked_until=record.locked_until)
        return PinResult(PinCheck.WRONG, record.id)
    if not record.active:
        return PinResult(PinCheck.DISABLED, record.id)
    record.failed_attempts = 0
    record.locked_until = None
    if _hasher.check_needs_rehash(record.pin_hash):
        record.pin_hash = _hasher.hash(pin)
    return PinResult(PinCheck.OK, record.id, record.display_name, record.role)


def _verify(pin_hash: str, pin: str) -> bool:
    try:
        return _hasher.verify(pin_hash, pin)
    except (VerificationError, InvalidHashError):
        return False


def has_staff(session: Session) -> bool:
    return session.query(StaffUserRecord.id).first() is not None


def check_pin_audited(
    session: Session, staff_id: str, pin: str, *, action: str, device: str, now: dt.datetime
) -> PinResult:
    """:func:`check_pin`, with its outcome on the audit trail in the same transaction: ``action``
    ("staff.login", "staff.witness") when right, ``<action>_failed`` (also for unknown ids),
    ``<action>_disabled``, or ``staff.lockout``."""
    result = check_pin(session, staff_id, pin, now)
    outcome = {
        PinCheck.OK: action,
        PinCheck.LOCKED: "staff.lockout",
        PinCheck.DISABLED: f"{action}_disabled",
    }.get(result.check, f"{action}_failed")
    audit.append(
        session,
        actor=f"staff:{result.staff_id or 'unknown'}",
        device=device,
        action=outcome,
        subject=result.staff_id,
        now=now,
    )
    return result


def active_member(session: Session, staff_id: str) -> tuple[str, str] | None:
    """(display name, role) of an active staff user, or None."""
    record = session.get(StaffUserRecord, staff_id)
    if record is None or not record.active:
        return None
    return record.display_name, record.role
