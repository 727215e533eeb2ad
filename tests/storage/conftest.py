"""Storage tests run against both databases: an encrypted SQLite file and a PostgreSQL server.

PostgreSQL comes from ``KIOSK_TEST_DATABASE_URL`` (a database on a server where the tests may
create databases; ``make test`` finds or starts one). Each test gets a fresh database, made from a
migrated template and dropped afterwards. Without the variable the PostgreSQL cases are skipped,
except under ``CI=true``, where that is a failure.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from kiosk.domain.model import Packet
from kiosk.storage import repository
from kiosk.storage.db import Database, open_database
from tests.conftest import CLINIC_TIME

TEST_URL_VARIABLE = "KIOSK_TEST_DATABASE_URL"
BIRTH_DATE = "1961-03-05"
_template: dict[str, str] = {}


def postgres_server_url() -> str:
    """The configured server URL, or skip (fail under CI) when there is none."""
    url = os.environ.get(TEST_URL_VARIABLE, "").strip()
    if url:
        return url
    message = f"{TEST_URL_VARIABLE} is not set: no PostgreSQL server to test against"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (under CI=true this is a failure, not a skip)")
    pytest.skip(message)


def _admin(url: str) -> object:
    return create_engine(url, isolation_level="AUTOCOMMIT")


def _template_name(server_url: str, tmp_root: Path) -> str:
    """A database migrated to the newest schema, made once per test session."""
    if "name" not in _template:
        name = f"kiosk_template_{uuid.uuid4().hex[:10]}"
        admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
        open_database(url, key_dir=tmp_root / "template-keys").dispose()
        _template["name"] = name
        _template["server"] = server_url
    return _template["name"]


def fresh_postgres_database(tmp_path: Path, *, migrated: bool = True) -> Iterator[str]:
    """A new database on the test server (at the newest schema, or empty), dropped after."""
    server_url = postgres_server_url()
    template = _template_name(server_url, tmp_path) if migrated else "template0"
    name = f"kiosk_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if "name" in _template:
        admin = create_engine(_template["server"], isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{_template["name"]}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'nested' / 'kiosk.sqlite3'}"
    else:
        yield from fresh_postgres_database(tmp_path)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a database of each kind with no tables at all."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'kiosk.sqlite3'}"
    else:
        yield from fresh_postgres_database(tmp_path, migrated=False)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """An open, migrated database of each kind."""
    database = open_database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'kiosk.sqlite3'}"


@pytest.fixture
def sqlite_db(sqlite_url: str) -> Iterator[Database]:
    database = open_database(sqlite_url)
    yield database
    database.dispose()


def add_draft(
    db: Database,
    packet: Packet,
    name: str,
    now: dt.datetime = CLINIC_TIME,
    kiosk: str = "kiosk-1",
    birth_date: str = BIRTH_DATE,
) -> str:
    """A draft visit with its name page, written as the kiosk does: each action one transaction
    with its audit event. Returns the visit id."""
    with db.begin() as session:
        visit_id = repository.start_visit(
            session, packet=packet, language="en", kiosk_id=kiosk, now=now
        )
        repository.audit(
            session,
            actor="patient",
            device=kiosk,
            action="visit.started",
            subject=visit_id,
            now=now,
        )
    with db.begin() as session:
        repository.save_answers(
            session,
            visit_id,
            form=packet.form("intake"),
            answers={"patient_name": name, "birth_date": birth_date},
            removed=(),
            now=now,
        )
        repository.set_identity(session, visit_id, name=name, birth_date=birth_date)
        repository.audit(
            session,
            actor="patient",
            device=kiosk,
            action="visit.page_saved",
            subject=visit_id,
            now=now,
        )
    return visit_id
