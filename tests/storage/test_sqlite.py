"""The embedded SQLite file: durable settings on every connection, encrypted at rest, fail-closed
keys, and transactions that really are one writer at a time."""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from kiosk import paths
from kiosk.domain.model import Packet
from kiosk.storage import repository
from kiosk.storage.db import EXPECTED_PRAGMAS, Database, OpenError, open_database
from kiosk.storage.keys import AUDIT_KEY, DATABASE_KEY, KeyStore, KeyStoreError
from tests.conftest import CLINIC_TIME

PATIENT = "Xiomara Testpatient-Quintana"  # synthetic, and unlikely to appear by chance


def _pragmas(connection: object) -> dict[str, object]:
    assert hasattr(connection, "exec_driver_sql")
    return {
        name: connection.exec_driver_sql(f"PRAGMA {name}").scalar_one() for name in EXPECTED_PRAGMAS
    }


def test_every_pooled_connection_has_wal_full_sync_and_foreign_keys(sqlite_db: Database) -> None:
    engine: Engine = sqlite_db.engine
    held = [engine.connect() for _ in range(4)]  # four connections open at once
    try:
        assert [_pragmas(c) for c in held] == [EXPECTED_PRAGMAS] * 4
    finally:
        for connection in held:
            connection.close()
    with engine.connect() as connection:
        connection.invalidate()  # the connection broke: the pool must open a new one
    with engine.connect() as connection:
        assert _pragmas(connection) == {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1}
    engine.dispose()  # a reconnect after the pool was thrown away
    with engine.connect() as connection:
        assert _pragmas(connection) == EXPECTED_PRAGMAS


def test_writers_take_turns(sqlite_db: Database, packet: Packet) -> None:
    """Transactions begin IMMEDIATE: a second writer waits instead of failing part-way."""
    results: list[str] = []

    def write(number: int) -> None:
        for _ in range(10):
            with sqlite_db.begin() as session:
                repository.audit(
                    session, actor="system", device=f"k{number}", action="test", now=CLINIC_TIME
                )
        results.append(f"writer {number} done")

    threads = [threading.Thread(target=write, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 3
    with sqlite_db.begin() as session:
        assert [e.seq for e in repository.load_audit(session)] == list(range(1, 31))


def _patient_visit(db: Database, packet: Packet) -> None:
    with db.begin() as session:
        visit_id = repository.start_visit(
            session, packet=packet, language="en", kiosk_id="k1", now=CLINIC_TIME
        )
        repository.save_answers(
            session,
            visit_id,
            form=packet.form("intake"),
            answers={"patient_name": PATIENT},
            removed=[],
            now=CLINIC_TIME,
        )
        repository.set_identity(session, visit_id, name=PATIENT, birth_date="1961-03-05")
        repository.audit(
            session, actor="patient", device="k1", action="visit.started", now=CLINIC_TIME
        )


def test_the_file_holds_no_readable_patient_data(
    sqlite_db: Database, sqlite_url: str, packet: Packet
) -> None:
    _patient_visit(sqlite_db, packet)
    assert sqlite_db.path is not None
    files = [p for p in sqlite_db.path.parent.iterdir() if p.name.startswith("kiosk.sqlite3")]
    assert any(
        p.name.endswith("-wal") for p in files
    )  # the WAL is checked too, before a checkpoint
    needles = [
        PATIENT.encode(),
        PATIENT.encode("utf-16-le"),
        b"Testpatient",
        b"1961-03-05",
        b"xiomara",  # the folded search column
        b"SQLite format 3",
    ]
    for path in files:
        raw = path.read_bytes()
        for needle in needles:
            assert needle not in raw, f"{needle!r} found in {path.name}"
    with pytest.raises(sqlite3.DatabaseError, match="not a database"):
        sqlite3.connect(sqlite_db.path).execute("SELECT count(*) FROM visits").fetchall()


def test_the_keys_live_outside_the_data_folder_with_private_permissions(
    sqlite_db: Database,
) -> None:
    keys = sqlite_db.keys.folder
    assert sqlite_db.path is not None
    assert not keys.is_relative_to(paths.data_dir())
    assert keys != sqlite_db.path.parent
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700
    for name in (DATABASE_KEY, AUDIT_KEY):
        assert stat.S_IMODE((keys / name).stat().st_mode) == 0o600
    key_hex = (keys / DATABASE_KEY).read_text().strip()
    assert key_hex.encode() not in sqlite_db.path.read_bytes()


def test_the_default_key_folder_is_not_in_the_data_folder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("KIOSK_KEY_DIR")
    assert not paths.key_dir().is_relative_to(paths.data_dir())


def test_a_wrong_key_fails_closed_and_changes_nothing(
    sqlite_db: Database, sqlite_url: str, packet: Packet, tmp_path: Path
) -> None:
    _patient_visit(sqlite_db, packet)
    sqlite_db.dispose()
    assert sqlite_db.path is not None
    before = {p.name: p.read_bytes() for p in sqlite_db.path.parent.glob("kiosk.sqlite3*")}
    wrong = tmp_path / "wrong-keys"
    open_database(f"sqlite:///{tmp_path / 'elsewhere.sqlite3'}", key_dir=wrong).dispose()
    with pytest.raises(OpenError, match="wrong key, or the file is damaged"):
        open_database(sqlite_url, key_dir=wrong)
    after = {p.name: p.read_bytes() for p in sqlite_db.path.parent.glob("kiosk.sqlite3*")}
    assert after == before
    reopened = open_database(sqlite_url)  # the right key still opens it, data intact
    with reopened.begin() as session:
        assert [v.patient_name for v in repository.list_drafts(session, since=CLINIC_TIME)] == [
            PATIENT
        ]
    reopened.dispose()


@pytest.mark.parametrize("name", [DATABASE_KEY, AUDIT_KEY])
def test_a_missing_key_fails_closed_and_never_makes_a_new_database(
    sqlite_db: Database, sqlite_url: str, packet: Packet, name: str
) -> None:
    _patient_visit(sqlite_db, packet)
    sqlite_db.dispose()
    assert sqlite_db.path is not None
    before = sqlite_db.path.read_bytes()
    (sqlite_db.keys.folder / name).unlink()
    with pytest.raises(OpenError, match=f"{name} is missing"):
        open_database(sqlite_url)
    assert not (sqlite_db.keys.folder / name).exists()
    assert sqlite_db.path.read_bytes() == before


def test_a_missing_database_is_not_made_when_creating_is_not_allowed(tmp_path: Path) -> None:
    with pytest.raises(OpenError, match="there is no database"):
        open_database(f"sqlite:///{tmp_path / 'none.sqlite3'}", create=False)
    assert not (tmp_path / "none.sqlite3").exists()


def test_a_file_that_is_not_a_kiosk_database_is_refused(tmp_path: Path) -> None:
    stranger = tmp_path / "stranger.sqlite3"
    with sqlite3.connect(stranger) as connection:
        connection.execute("CREATE TABLE t (x)")
    before = stranger.read_bytes()
    with pytest.raises(OpenError):
        open_database(f"sqlite:///{stranger}")
    assert stranger.read_bytes() == before


def test_an_in_memory_database_is_refused() -> None:
    with pytest.raises(OpenError, match="in-memory"):
        open_database("sqlite:///:memory:")


@pytest.mark.parametrize(
    ("content", "message"),
    [("not hex at all", "not a key written by kiosk"), ("abcd", "not a key written by kiosk")],
)
def test_a_malformed_key_file_is_reported_without_its_content(
    tmp_path: Path, content: str, message: str
) -> None:
    store = KeyStore(tmp_path)
    (tmp_path / DATABASE_KEY).write_text(content)
    with pytest.raises(KeyStoreError, match=message) as caught:
        store.read(DATABASE_KEY)
    assert content not in str(caught.value)


def test_a_key_is_never_overwritten(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "fresh-keys")
    first = store.create(DATABASE_KEY)
    with pytest.raises(KeyStoreError, match="already exists"):
        store.create(DATABASE_KEY)
    assert store.read(DATABASE_KEY) == first
    assert os.stat(store.path(DATABASE_KEY)).st_size == 65  # 64 hex digits and a newline
    assert [p.name for p in store.folder.iterdir()] == [DATABASE_KEY]  # no temporary files left


def test_a_write_is_refused_on_a_read_only_connection(sqlite_db: Database) -> None:
    with sqlite_db.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA query_only = ON")
        with pytest.raises(OperationalError, match="readonly"):
            connection.execute(
                text("INSERT INTO staff_users VALUES ('a','b','c','d',1,0,NULL,'x')")
            )
        connection.rollback()
        connection.exec_driver_sql("PRAGMA query_only = OFF")
