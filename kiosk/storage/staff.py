"""Staff users: argon2id PIN hashes, and a lockout with back-off counted per (id, device).

Sign-in gives nothing away (issue 17): an unknown id, a disabled id and a wrong PIN get the same
reply, cost the same argon2 verification, and lock the same way after the same number of tries.
Wrong PINs are counted per id *and device*, in a small file in that device's data folder (so a
restart does not reset them): someone at a tablet can lock an id on that tablet only, never the
front desk out.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import hashlib
import json
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from kiosk import paths
from kiosk.domain.answers import clean_text
from kiosk.storage import audit
from kiosk.storage.models import StaffUserRecord

log = logging.getLogger(__name__)

SERVICE_ROLE = "service"  # a scheduled export's or backup's account: never signs in to a console
ROLES = ("staff", "clinician", "admin", SERVICE_ROLE)
FREE_ATTEMPTS = 5  # wrong PINs before the first lock
FIRST_LOCK = dt.timedelta(minutes=5)
LONGEST_LOCK = dt.timedelta(hours=24)
STAFF_NAME_MAX_CHARS = 100  # what the queue and the audit reader show; longer names are cut
THROTTLE_FILE = "staff-sign-in-failures.json"
TRACKED_MAX = 10_000  # (id, device) pairs kept; typing many unknown ids cannot fill the disk
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
    LOCKED = "locked"  # also for unknown ids, after as many tries
    DISABLED = "disabled"  # the right PIN of a disabled id: audited apart, answered as WRONG


@dataclass(frozen=True)
class PinResult:
    check: PinCheck
    staff_id: str = ""
    display_name: str = ""
    role: str = ""
    locked_until: dt.datetime | None = None


class SignInThrottle:
    """Wrong PINs per (staff id as typed, device), and the lock they earn.

    Kept in ``path`` (a JSON file in this device's data folder) when given, else in memory.
    Keys are hashes: an id typed by mistake (perhaps a patient's name) is never written down.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._memory: dict[str, list[object]] = {}

    @staticmethod
    def key(staff_id: str, device: str) -> str:
        def digest(text: str) -> str:
            return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]

        return f"{digest(staff_id)}:{digest(device)}"

    def locked_until(self, key: str, now: dt.datetime) -> dt.datetime | None:
        _, until = self._entry(self._load(), key)
        return until if until is not None and until > now else None

    def failed(self, key: str, now: dt.datetime) -> dt.datetime | None:
        """Count a wrong PIN; the end of the lock it earns, if it earns one."""
        entries = self._load()
        failures, _ = self._entry(entries, key)
        failures += 1
        until = now + lock_length(failures) if failures >= FREE_ATTEMPTS else None
        entries.pop(key, None)  # re-added last: the newest are kept when the file is trimmed
        entries[key] = [failures, until.isoformat() if until else None, now.isoformat()]
        self._save(dict(list(entries.items())[-TRACKED_MAX:]))
        return until

    def cleared(self, key: str) -> None:
        entries = self._load()
        if entries.pop(key, None) is not None:
            self._save(entries)

    def clear_id(self, staff_id: str) -> None:
        """Forget an id's wrong PINs on every device this folder has seen (a PIN reset)."""
        prefix = self.key(staff_id, "").split(":")[0] + ":"
        entries = self._load()
        kept = {k: v for k, v in entries.items() if not k.startswith(prefix)}
        if len(kept) != len(entries):
            self._save(kept)

    @staticmethod
    def _entry(entries: dict[str, list[object]], key: str) -> tuple[int, dt.datetime | None]:
        try:
            failures, until, _ = entries[key]
            count = int(failures) if isinstance(failures, int) else 0
            return count, dt.datetime.fromisoformat(until) if isinstance(until, str) else None
        except (KeyError, ValueError, TypeError):
            return 0, None

    def _load(self) -> dict[str, list[object]]:
        if self.path is None:
            return dict(self._memory)
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("the staff sign-in counts could not be read: %s", type(exc).__name__)
            return dict(self._memory)
        return data if isinstance(data, dict) else {}

    def _save(self, entries: dict[str, list[object]]) -> None:
        self._memory = entries  # what this process goes on with if the file cannot be written
        if self.path is None:
            return
        temporary = self.path.with_name(f"{self.path.name}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_text(json.dumps(entries), encoding="utf-8")
            os.replace(temporary, self.path)
        except OSError as exc:
            log.warning("the staff sign-in counts could not be saved: %s", type(exc).__name__)


def device_throttle() -> SignInThrottle:
    """This device's counts, in its data folder (read at each sign-in, so every process on the
    device shares them)."""
    return SignInThrottle(paths.data_dir() / THROTTLE_FILE)


def clean_name(name: str) -> str:
    """A staff member's name cleaned like a patient's (controls, bidi overrides, zero-width
    characters dropped, whitespace collapsed) and cut to ``STAFF_NAME_MAX_CHARS``."""
    return clean_text(name)[:STAFF_NAME_MAX_CHARS].strip()


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
    name = clean_name(name)
    if not name:
        raise StaffError("a staff user needs a name (letters, not only spaces or invisible marks)")
    validate_pin(pin)
    if session.get(StaffUserRecord, staff_id) is not None:
        raise StaffError(f"staff id '{staff_id}' already exists")
    session.add(
        StaffUserRecord(
            id=staff_id,
            display_name=name,
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
    device_throttle().clear_id(record.id)  # on this computer; other devices' locks run out


def lock_length(failed_attempts: int) -> dt.timedelta:
    """5 minutes at the 5th wrong PIN, doubling with each further one, at most a day."""
    doublings = min(failed_attempts - FREE_ATTEMPTS, 16)
    return min(FIRST_LOCK * (1 << doublings), LONGEST_LOCK)


def check_pin(
    session: Session,
    staff_id: str,
    pin: str,
    now: dt.datetime,
    *,
    device: str = "",
    throttle: SignInThrottle | None = None,
) -> PinResult:
    """Verify a PIN typed on ``device``. Every call verifies one argon2 hash (a dummy one for an
    unknown id or while locked), so the time taken tells nothing. Unknown ids, disabled ids and
    wrong PINs count toward the same lock, per (id, device), in ``throttle`` (default: this
    device's file, so a restart does not reset them)."""
    throttle = throttle or device_throttle()
    typed = staff_id.strip().lower()
    key = SignInThrottle.key(typed, device)
    record = session.get(StaffUserRecord, typed) if _ID.match(typed) else None
    known = record.id if record is not None else ""
    locked = throttle.locked_until(key, now)
    if locked is not None:
        _verify(_dummy_hash(), pin)
        return PinResult(PinCheck.LOCKED, known, locked_until=locked)
    right = _verify(record.pin_hash if record is not None else _dummy_hash(), pin)
    if record is None or not right or not record.active:
        locked = throttle.failed(key, now)
        if locked is not None:
            return PinResult(PinCheck.LOCKED, known, locked_until=locked)
        disabled = record is not None and right and not record.active
        return PinResult(PinCheck.DISABLED if disabled else PinCheck.WRONG, known)
    throttle.cleared(key)
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
    session: Session,
    staff_id: str,
    pin: str,
    *,
    action: str,
    device: str,
    now: dt.datetime,
    throttle: SignInThrottle | None = None,
) -> PinResult:
    """:func:`check_pin`, with its outcome on the audit trail in the same transaction: ``action``
    ("staff.login", "staff.witness") when right, ``<action>_failed`` (also for unknown ids),
    ``<action>_disabled`` (for staff to review; the person signing in is told it is wrong), or
    ``staff.lockout``."""
    result = check_pin(session, staff_id, pin, now, device=device, throttle=throttle)
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
