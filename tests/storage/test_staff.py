"""Staff users: argon2id PINs, and a lockout that counts in the database and survives restarts."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from kiosk.storage import staff
from kiosk.storage.db import open_database
from kiosk.storage.models import StaffUserRecord
from kiosk.storage.staff import PinCheck, StaffError

NOW = dt.datetime(2026, 11, 22, 14, 0, tzinfo=dt.UTC)
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
    engine: Engine, pin: str, at: dt.datetime = NOW, who: str = "maria.lopez"
) -> staff.PinResult:
    with sessionmaker(engine).begin() as session:
        return staff.check_pin(session, who, pin, at)


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
