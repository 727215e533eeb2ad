"""Staff users: argon2id PINs, a lockout per (id, device) that survives restarts, and sign-in
replies that give nothing away: unknown, disabled and wrong look the same (issue 17)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from kiosk import paths
from kiosk.storage import staff
from kiosk.storage.db import open_database
from kiosk.storage.models import AuditEventRecord, StaffUserRecord
from kiosk.storage.staff import PinCheck, StaffError

NOW = dt.datetime(2026, 11, 22, 14, 0, tzinfo=dt.UTC)
KIOSK = (sys.executable, "-m", "kiosk")
PIN = "482916"


@pytest.fixture
def url(database_url: str) -> str:
    return database_url


@pytest.fixture
def engine(url: str) -> Iterator[Engine]:
    db = open_database(url)
    with db.begin() as session:
        staff.add_staff(session, "maria.lopez", name="Maria Lopez", role="staff", pin=PIN, now=NOW)
    yield db.engine
    db.dispose()


def check(
    engine: Engine, pin: str, at: dt.datetime = NOW, who: str = "maria.lopez", device: str = ""
) -> staff.PinResult:
    with sessionmaker(engine).begin() as session:
        return staff.check_pin(session, who, pin, at, device=device)


def test_the_pin_is_stored_as_an_argon2id_hash(engine: Engine) -> None:
    with Session(engine) as session:
        record = session.scalars(select(StaffUserRecord)).one()
    assert record.pin_hash.startswith("$argon2id$")
    assert PIN not in record.pin_hash
    result = check(engine, PIN)
    assert (result.check, result.staff_id, result.display_name, result.role) == (
        PinCheck.OK,
        "maria.lopez",
        "Maria Lopez",
        "staff",
    )


def test_wrong_and_unknown_look_the_same(engine: Engine) -> None:
    assert check(engine, "000000").check is PinCheck.WRONG
    assert check(engine, PIN, who="nobody").check is PinCheck.WRONG
    assert check(engine, PIN, who="nobody").staff_id == ""


def test_five_wrong_pins_lock_with_doubling_back_off_that_survives_a_restart(
    engine: Engine, url: str
) -> None:
    for _ in range(4):
        assert check(engine, "111111").check is PinCheck.WRONG
    fifth = check(engine, "111111")
    assert fifth.check is PinCheck.LOCKED
    assert fifth.locked_until == NOW + dt.timedelta(minutes=5)
    restarted = open_database(url).engine  # a new process would see the same
    assert check(restarted, PIN, NOW + dt.timedelta(minutes=4)).check is PinCheck.LOCKED
    sixth = check(restarted, "111111", NOW + dt.timedelta(minutes=6))
    assert sixth.locked_until == NOW + dt.timedelta(minutes=6 + 10)
    assert check(restarted, PIN, NOW + dt.timedelta(minutes=17)).check is PinCheck.OK
    assert check(restarted, "111111", NOW + dt.timedelta(minutes=18)).check is PinCheck.WRONG


def test_lock_length_is_capped_at_a_day() -> None:
    assert staff.lock_length(5) == dt.timedelta(minutes=5)
    assert staff.lock_length(6) == dt.timedelta(minutes=10)
    assert staff.lock_length(40) == dt.timedelta(hours=24)


def test_a_disabled_user_cannot_sign_in_and_reset_pin_unlocks(engine: Engine) -> None:
    with sessionmaker(engine).begin() as session:
        staff.set_active(session, "maria.lopez", active=False)
    assert check(engine, PIN).check is PinCheck.DISABLED
    with sessionmaker(engine).begin() as session:
        staff.set_active(session, "maria.lopez", active=True)
    for _ in range(5):
        check(engine, "111111")
    with sessionmaker(engine).begin() as session:
        staff.reset_pin(session, "maria.lopez", pin="246810")
    assert check(engine, "246810").check is PinCheck.OK


@pytest.mark.parametrize(
    ("staff_id", "role", "pin", "message"),
    [
        ("Maria Lopez", "staff", PIN, "lower-case"),
        ("ana", "boss", PIN, "role"),
        ("ana", "staff", "1234", "6 to 12 digits"),
        ("ana", "staff", "12ab56", "6 to 12 digits"),
        ("maria.lopez", "staff", PIN, "already exists"),
    ],
)
def test_bad_staff_users_are_refused_plainly(
    engine: Engine, staff_id: str, role: str, pin: str, message: str
) -> None:
    with pytest.raises(StaffError, match=message), sessionmaker(engine).begin() as session:
        staff.add_staff(session, staff_id, name="Ana", role=role, pin=pin, now=NOW)


def test_the_command_line_adds_and_disables(url: str) -> None:
    def kiosk(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "kiosk", "staff-user", *args, "--database", url],
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
        )

    added = kiosk(
        "add", "li.wei", "--name", "Li Wei", "--role", "clinician", "--pin-stdin", stdin="135790\n"
    )
    assert added.returncode == 0, added.stderr
    assert "staff user 'li.wei' added" in added.stdout
    again = kiosk("add", "li.wei", "--name", "Li Wei", "--pin-stdin", stdin="135790\n")
    assert again.returncode == 2 and "already exists" in again.stderr
    assert "135790" not in again.stderr + again.stdout
    assert kiosk("disable", "li.wei").returncode == 0
    engine = open_database(url).engine
    assert check(engine, "135790", who="li.wei").check is PinCheck.DISABLED


# --- sign-in gives nothing away (issue 17) ---


@pytest.mark.parametrize("who", ["maria.lopez", "nobody", "Maria Lopez", "x" * 300])
def test_unknown_ids_are_locked_exactly_like_real_ones(engine: Engine, who: str) -> None:
    replies = [check(engine, "111111", who=who) for _ in range(5)]
    assert [r.check for r in replies] == [PinCheck.WRONG] * 4 + [PinCheck.LOCKED]
    assert replies[-1].locked_until == NOW + dt.timedelta(minutes=5)
    later = check(engine, "111111", NOW + dt.timedelta(minutes=6), who=who)
    assert (later.check, later.locked_until) == (
        PinCheck.LOCKED,
        NOW + dt.timedelta(minutes=6 + 10),
    )


def test_a_disabled_id_counts_and_locks_like_a_wrong_pin(engine: Engine) -> None:
    """Its right PIN is DISABLED (kept apart for the audit), and it leads to the same lock."""
    with sessionmaker(engine).begin() as session:
        staff.set_active(session, "maria.lopez", active=False)
    assert [check(engine, PIN).check for _ in range(5)] == [PinCheck.DISABLED] * 4 + [
        PinCheck.LOCKED
    ]


def test_the_audit_tells_staff_what_the_reply_does_not(engine: Engine, url: str) -> None:
    with sessionmaker(engine).begin() as session:
        staff.add_staff(session, "old.hand", name="Old Hand", role="staff", pin=PIN, now=NOW)
        staff.set_active(session, "old.hand", active=False)
    db = open_database(url)
    with db.begin() as session:
        for who, pin in [("maria.lopez", "111111"), ("nobody", PIN), ("old.hand", PIN)]:
            staff.check_pin_audited(
                session, who, pin, action="staff.login", device="tablet-1", now=NOW
            )
    with Session(engine) as session:
        events = session.scalars(select(AuditEventRecord).order_by(AuditEventRecord.seq)).all()
        assert [(e.actor, e.action, e.subject) for e in events] == [
            ("staff:maria.lopez", "staff.login_failed", "maria.lopez"),
            ("staff:unknown", "staff.login_failed", ""),  # an id typed is never written down
            ("staff:old.hand", "staff.login_disabled", "old.hand"),
        ]
    db.dispose()


def test_every_reply_costs_one_argon2_verification(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No timing oracle: an unknown id, and an id while locked, verify the dummy hash."""
    verified: list[str] = []
    real = staff._verify

    def spy(pin_hash: str, pin: str) -> bool:
        verified.append(pin_hash)
        return real(pin_hash, pin)

    monkeypatch.setattr(staff, "_verify", spy)
    check(engine, PIN, who="nobody")
    assert verified == [staff._dummy_hash()]
    check(engine, "111111")
    assert len(verified) == 2 and verified[1].startswith("$argon2id$")
    assert verified[1] != staff._dummy_hash()
    for _ in range(4):
        check(engine, "111111")
    verified.clear()
    assert check(engine, PIN).check is PinCheck.LOCKED
    assert verified == [staff._dummy_hash()]


def test_a_tablet_locks_an_id_on_that_tablet_only(engine: Engine, url: str) -> None:
    for _ in range(5):
        check(engine, "111111", device="tablet-1")
    assert check(engine, PIN, device="tablet-1").check is PinCheck.LOCKED
    assert check(engine, PIN, device="front-desk").check is PinCheck.OK  # not locked out
    restarted = open_database(url).engine  # the tablet's count is in its data folder
    assert check(restarted, PIN, device="tablet-1").check is PinCheck.LOCKED
    # At most a day, and only there:
    a_day_later = NOW + dt.timedelta(hours=24, minutes=1)
    assert check(restarted, PIN, a_day_later, device="tablet-1").check is PinCheck.OK


def test_the_counts_hold_no_staff_id(engine: Engine, tmp_path: Path) -> None:
    for who in ("maria.lopez", "Rosa Alvarez typed by mistake"):
        check(engine, "111111", who=who, device="tablet-1")
    kept = (paths.data_dir() / staff.THROTTLE_FILE).read_text()
    assert "maria" not in kept and "Rosa" not in kept and "tablet" not in kept
    assert len(json.loads(kept)) == 2


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("  Ana\u200b   Lopez\x07 ", "Ana Lopez"),
        ("\u202eAna Lopez\u202c", "Ana Lopez"),  # a bidi override cannot reverse the name
        ("Ana\nLopez", "Ana Lopez"),
        ("A" * 300, "A" * staff.STAFF_NAME_MAX_CHARS),
    ],
)
def test_staff_names_are_cleaned_like_patient_names(
    engine: Engine, typed: str, stored: str
) -> None:
    with sessionmaker(engine).begin() as session:
        staff.add_staff(session, "ana.lopez", name=typed, role="staff", pin=PIN, now=NOW)
    with Session(engine) as session:
        assert session.get(StaffUserRecord, "ana.lopez").display_name == stored  # type: ignore[union-attr]


@pytest.mark.parametrize("typed", ["\u200b\u200b", "\u202e", "   ", "\x00\x1b"])
def test_a_name_of_only_invisible_characters_is_refused(engine: Engine, typed: str) -> None:
    with pytest.raises(StaffError, match="needs a name"), sessionmaker(engine).begin() as session:
        staff.add_staff(session, "ana.lopez", name=typed, role="staff", pin=PIN, now=NOW)


def test_the_command_line_cleans_the_name(url: str) -> None:
    name = "\u202eLi\u200b Wei\x1b[2J"  # bidi override, zero-width space, terminal escape
    done = subprocess.run(
        [*KIOSK, "staff-user", "add", "li.wei", "--database", url, "--pin-stdin", "--name", name],
        input="135790\n",
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    with Session(open_database(url).engine) as session:
        assert session.get(StaffUserRecord, "li.wei").display_name == "Li Wei[2J"  # type: ignore[union-attr]
