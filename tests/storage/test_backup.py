"""Backups and restores: a consistent, encrypted, checked copy that brings back exactly its records.

SQLite backups are copied page by page with the online backup API and stay encrypted with the
clinic's key; PostgreSQL backups are ``pg_dump`` streams encrypted on their way to the disk,
restored with ``kiosk backup-decrypt FILE | pg_restore``. Both are 0600.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from kiosk.domain.model import AnswerValue, Packet
from kiosk.storage import audit, backup_crypto, health, repository
from kiosk.storage import backup as backup_module
from kiosk.storage.backup import BackupError, backup, restore
from kiosk.storage.db import Database, OpenError, open_database
from kiosk.storage.heads import read_head_file
from kiosk.storage.health import anchor_file
from kiosk.storage.models import VisitRecord
from tests.conftest import CLINIC_TIME
from tests.storage.conftest import add_draft, fresh_postgres_database

# Synthetic patients only: distinctive words to look for in raw bytes.
PATIENTS = ("Quintessa Fakename Núñez", "Barnaby Madeup Ortega", "Ximena Inventada Ruiz")
SQLITE_HEADER = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"


def _kept(path: Path, db: Database) -> audit.Head | None:
    """The head kept in ``path`` (storage.heads), or None when there is none."""
    kept = read_head_file(path, db.audit_key)
    return kept.head if kept else None


def _records(db: Database) -> dict[str, dict[str, AnswerValue]]:
    """Every visit's answers, by visit id."""
    with db.begin() as session:
        ids = session.scalars(select(VisitRecord.id)).all()
        return {visit_id: repository.load_answers(session, visit_id) for visit_id in ids}


def _verify(db: Database) -> audit.Verification:
    with db.engine.connect() as connection:
        return audit.verify(connection, db.audit_key)


def _head(db: Database) -> audit.Head | None:
    with db.begin() as session:
        return audit.current_head(session)


def _open_sqlite(path: Path, key_dir: Path | None = None) -> Database:
    return open_database(f"sqlite:///{path}", key_dir=key_dir, create=False, upgrade=False)


def test_backup_writes_a_checked_copy_and_reports_the_audit_head(
    db: Database, packet: Packet, tmp_path: Path
) -> None:
    """On both databases ``backup`` makes a new file and reports the trail's size and head."""
    for number, name in enumerate(PATIENTS[:2]):
        add_draft(db, packet, name, CLINIC_TIME + dt.timedelta(minutes=number))
    destination = tmp_path / "backups" / "records.backup"
    result = backup(db, destination)
    assert result.path == destination
    assert destination.is_file()
    assert result.size == destination.stat().st_size > 0
    assert result.audit_events == 4
    assert result.head == _head(db)
    content = destination.read_bytes()
    assert not content.startswith((PG_DUMP_MAGIC, SQLITE_HEADER))  # never in plaintext
    assert content.startswith(backup_crypto.MAGIC) == (db.dialect == "postgresql")
    assert stat.S_IMODE(os.stat(destination).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(destination.parent).st_mode) == 0o700  # made for the backup
    assert not destination.with_name(destination.name + ".partial").exists()


def test_backup_refuses_an_existing_destination(db: Database, tmp_path: Path) -> None:
    """An existing file is never overwritten, on either database."""
    destination = tmp_path / "records.backup"
    destination.write_bytes(b"yesterday's backup")
    with pytest.raises(BackupError, match="already exists"):
        backup(db, destination)
    assert destination.read_bytes() == b"yesterday's backup"


def test_backup_leaves_out_an_unfinished_transaction_and_does_not_wait_for_it(
    db: Database, packet: Packet, tmp_path: Path
) -> None:
    """A backup taken while a patient action is half-written holds only committed records."""
    kept = add_draft(db, packet, PATIENTS[0])
    with db.begin() as session:
        repository.start_visit(
            session, packet=packet, language="en", kiosk_id="tablet-2", now=CLINIC_TIME
        )
        session.flush()
        result = backup(db, tmp_path / "records.backup")
    assert result.audit_events == 2
    if db.dialect == "sqlite":
        copy = _open_sqlite(result.path)
        try:
            assert list(_records(copy)) == [kept]
        finally:
            copy.dispose()


def test_sqlite_backup_is_encrypted_and_opens_with_the_same_keys(
    sqlite_db: Database, packet: Packet, tmp_path: Path
) -> None:
    """The copy has no plaintext header or patient name, opens with the clinic's key folder
    (and no other), and holds the same visits and the same verifying audit chain."""
    for number, name in enumerate(PATIENTS):
        add_draft(sqlite_db, packet, name, CLINIC_TIME + dt.timedelta(minutes=number))
    result = backup(sqlite_db, tmp_path / "copy.sqlite3")
    raw = result.path.read_bytes()
    assert not raw.startswith(SQLITE_HEADER)
    for name in PATIENTS:
        for word in name.split():
            assert word.encode("utf-8") not in raw
    assert not Path(f"{result.path}-wal").exists()

    copy = _open_sqlite(result.path, sqlite_db.keys.folder)
    try:
        assert _records(copy) == _records(sqlite_db)
        checked = _verify(copy)
        assert checked.ok, checked.problems
        assert checked.events == result.audit_events == 6
        assert checked.head == result.head == _head(sqlite_db)
    finally:
        copy.dispose()

    other_keys = tmp_path / "other-keys"
    open_database(f"sqlite:///{tmp_path / 'other.sqlite3'}", key_dir=other_keys).dispose()
    with pytest.raises(OpenError, match="cannot be opened"):
        _open_sqlite(result.path, other_keys)


def test_restore_brings_back_exactly_the_backed_up_records(
    sqlite_url: str, packet: Packet, tmp_path: Path
) -> None:
    """Records added after the backup are gone from the live database after a restore, and
    the database as it was is kept aside, whole."""
    db = open_database(sqlite_url)
    add_draft(db, packet, PATIENTS[0])
    backed_up = _records(db)
    result = backup(db, tmp_path / "backups" / "monday.sqlite3")
    later = add_draft(db, packet, PATIENTS[1], CLINIC_TIME + dt.timedelta(minutes=5))
    before_restore = _records(db)
    with db.begin() as session:  # every commit keeps the newest head beside the file
        newest = audit.current_head(session)
    assert newest is not None
    assert _kept(anchor_file(db, tmp_path), db) == newest
    db.dispose()  # the kiosk is stopped

    aside = restore(result.path, sqlite_url, db.keys.folder)

    live = open_database(sqlite_url, create=False)
    try:
        assert _records(live) == backed_up
        checked = _verify(live)
        assert checked.ok, checked.problems
        assert result.head is not None and checked.head is not None
        assert checked.head.seq == result.head.seq + 1  # the backup's trail, then the restore
        with live.begin() as session:
            assert repository.load_audit(session)[-1].action == "records.restored"
        # the kept head follows the restore, so the next start-up check passes
        assert _kept(anchor_file(live, tmp_path), live) == checked.head
        assert health.startup_check(live, checked.head, kept_head=live.head_file).ok
    finally:
        live.dispose()
    assert aside is not None and aside.is_file()
    assert aside.name.startswith("kiosk.sqlite3.before-restore-")
    assert _kept(health.anchor_file_for(aside), live) == newest  # it still vouches for that file
    kept = _open_sqlite(aside)
    try:
        assert _records(kept) == before_restore
        assert later in _records(kept)
        assert _verify(kept).ok
    finally:
        kept.dispose()
    assert result.path.is_file()  # the backup itself is still there for next time


def test_restore_replaces_a_damaged_file_and_keeps_its_bytes(
    sqlite_url: str, packet: Packet, tmp_path: Path
) -> None:
    """A live file that no longer opens is moved aside untouched; the backup takes its place."""
    db = open_database(sqlite_url)
    add_draft(db, packet, PATIENTS[2])
    backed_up = _records(db)
    result = backup(db, tmp_path / "records.backup")
    db.dispose()
    assert db.path is not None
    damaged = b"\x00" * 4096 + b"not a database any more" * 100
    db.path.write_bytes(damaged)

    aside = restore(result.path, sqlite_url, db.keys.folder)

    assert aside is not None
    assert aside.read_bytes() == damaged
    live = open_database(sqlite_url, create=False)
    try:
        assert _records(live) == backed_up
        assert _verify(live).ok
    finally:
        live.dispose()


def test_restore_into_a_missing_file_sets_nothing_aside(
    sqlite_url: str, packet: Packet, tmp_path: Path
) -> None:
    """With the live database deleted, restore writes it back and has nothing to keep aside."""
    db = open_database(sqlite_url)
    add_draft(db, packet, PATIENTS[0])
    backed_up = _records(db)
    result = backup(db, tmp_path / "records.backup")
    db.dispose()
    assert db.path is not None
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db.path}{suffix}").unlink(missing_ok=True)

    assert restore(result.path, sqlite_url, db.keys.folder) is None

    live = open_database(sqlite_url, create=False)
    try:
        assert _records(live) == backed_up
    finally:
        live.dispose()


def test_restore_refuses_what_it_cannot_check_and_changes_nothing(
    sqlite_url: str, packet: Packet, tmp_path: Path
) -> None:
    """A missing backup, a file that is not a backup, or a PostgreSQL URL: the live file stays."""
    db = open_database(sqlite_url)
    add_draft(db, packet, PATIENTS[0])
    db.dispose()
    assert db.path is not None
    live_bytes = db.path.read_bytes()
    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_bytes(b"shopping list" * 100)

    with pytest.raises(BackupError, match="no backup"):
        restore(tmp_path / "missing.sqlite3", sqlite_url, db.keys.folder)
    with pytest.raises(BackupError, match="cannot be opened"):
        restore(not_a_backup, sqlite_url, db.keys.folder)
    with pytest.raises(BackupError, match="pg_restore"):
        restore(not_a_backup, "postgresql+psycopg://nobody@127.0.0.1/none", db.keys.folder)
    assert db.path.read_bytes() == live_bytes
    assert sorted(p.name for p in db.path.parent.iterdir() if ".before-restore-" in p.name) == []


@pytest.fixture
def postgres_url(tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database (skipped without a test server)."""
    yield from fresh_postgres_database(tmp_path)


@pytest.fixture
def empty_postgres_url(tmp_path: Path) -> Iterator[str]:
    """A new database with no tables on the test server, dropped afterwards."""
    yield from fresh_postgres_database(tmp_path, migrated=False)


def _pg_restore(backup_file: Path, database_url: str) -> None:
    """As the README says: ``kiosk backup-decrypt FILE | pg_restore …`` (no plaintext file)."""
    pg_restore = shutil.which("pg_restore")
    if pg_restore is None:
        pytest.skip("pg_restore is not installed")
    dsn = make_url(database_url).set(drivername="postgresql")
    decrypt = subprocess.Popen(
        [sys.executable, "-m", "kiosk", "backup-decrypt", str(backup_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    done = subprocess.run(
        [
            pg_restore,
            "--no-owner",
            "--exit-on-error",
            "--dbname",
            dsn.render_as_string(hide_password=False),
        ],
        stdin=decrypt.stdout,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert decrypt.stdout is not None
    decrypt.stdout.close()
    _, decrypt_errors = decrypt.communicate(timeout=120)
    assert decrypt.returncode == 0, decrypt_errors
    assert done.returncode == 0, done.stderr


def test_postgres_dump_restores_into_a_new_database(
    postgres_url: str, empty_postgres_url: str, packet: Packet, tmp_path: Path
) -> None:
    """``pg_restore`` of the backup into an empty database gives the same visits, answers and
    audit chain, and the immutability triggers come back with them."""
    db = open_database(postgres_url)
    try:
        for number, name in enumerate(PATIENTS):
            add_draft(db, packet, name, CLINIC_TIME + dt.timedelta(minutes=number))
        original = _records(db)
        result = backup(db, tmp_path / "records.pgdump")
    finally:
        db.dispose()
    _pg_restore(result.path, empty_postgres_url)

    restored = open_database(empty_postgres_url, create=False)
    try:
        assert _records(restored) == original
        checked = _verify(restored)
        assert checked.ok, checked.problems
        assert checked.head == result.head
        assert checked.events == result.audit_events == 6
        with pytest.raises(IntegrityError, match="append-only"), restored.begin() as session:
            session.execute(text("UPDATE audit_events SET action = 'x' WHERE seq = 1"))
    finally:
        restored.dispose()


def test_postgres_backup_reports_a_head_that_is_in_the_dump(
    postgres_url: str,
    empty_postgres_url: str,
    packet: Packet,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A tablet that keeps writing while ``pg_dump`` runs must not make the backup report a head
    the dump does not hold: the printed head is used later to check the restored trail."""
    db = open_database(postgres_url)

    class PgDumpThenAWrite(subprocess.Popen[bytes]):
        def wait(self, timeout: float | None = None) -> int:
            code = super().wait(timeout)
            add_draft(
                db, packet, PATIENTS[1], CLINIC_TIME + dt.timedelta(minutes=9)
            )  # lands just after the dump's snapshot
            return code

    try:
        add_draft(db, packet, PATIENTS[0])
        with monkeypatch.context() as patch:
            patch.setattr(
                backup_module,
                "subprocess",
                SimpleNamespace(Popen=PgDumpThenAWrite, PIPE=subprocess.PIPE),
            )
            result = backup(db, tmp_path / "records.pgdump")
    finally:
        db.dispose()
    _pg_restore(result.path, empty_postgres_url)
    restored = open_database(empty_postgres_url, create=False)
    try:
        with restored.engine.connect() as connection:
            checked = audit.verify(connection, restored.audit_key, result.head)
    finally:
        restored.dispose()
    assert checked.ok, checked.problems
    assert checked.head == result.head
