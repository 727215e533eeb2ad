"""Backups through the database's own mechanism, and restoring one.

SQLite: the online backup API (``sqlite3_backup``) copies a consistent snapshot page by page while
the kiosk keeps running; the copy is encrypted with the same key. It is checked (quick_check and
the audit chain) before it is called a backup. PostgreSQL: ``pg_dump --format=custom``, streamed
through AES-GCM (storage.backup_crypto) into the file, so no plaintext dump is ever on a disk;
``kiosk backup-decrypt FILE | pg_restore …`` restores it. Backups are 0600; a folder made for one
is 0700.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from kiosk.private_files import private_folder, private_writer
from kiosk.storage import audit, heads
from kiosk.storage.backup_crypto import encrypt_stream
from kiosk.storage.db import Database, OpenError, open_database
from kiosk.storage.health import anchor_file, anchor_file_for, startup_check


class BackupError(RuntimeError):
    """The backup or restore did not happen; the message says why (no patient data)."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    audit_events: int
    head: audit.Head | None


def _copy_sqlite(source: Database, destination: Path) -> None:
    """Page-by-page online copy into ``destination`` (which must not exist)."""
    from sqlcipher3 import dbapi2 as sqlcipher

    key = source.keys.read("database.key")
    target = sqlcipher.connect(str(destination))
    try:
        target.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
        raw = source.engine.raw_connection()
        try:
            raw.driver_connection.backup(target, pages=256)  # type: ignore[union-attr]
        finally:
            raw.close()
        target.execute("PRAGMA journal_mode=WAL").fetchall()
    finally:
        target.close()


def _check_copy(path: Path, key_dir: Path) -> tuple[int, audit.Head | None]:
    copy = open_database(f"sqlite:///{path}", key_dir=key_dir, create=False, upgrade=False)
    try:
        health = startup_check(copy)
        if not health.ok:
            raise BackupError("the copy failed its check: " + "; ".join(health.problems))
        with copy.begin() as session:
            head = audit.current_head(session)
        return health.audit_events, head
    finally:
        copy.dispose()


def backup(db: Database, destination: Path) -> BackupResult:
    """Write a consistent, checked copy of the records to ``destination`` (a new file)."""
    if destination.exists():
        raise BackupError(f"{destination} already exists; choose a new file name")
    if not destination.parent.is_dir():
        try:
            private_folder(destination.parent)
        except OSError as exc:
            raise BackupError(f"the backup folder cannot be made ({type(exc).__name__})") from None
    if db.dialect == "postgresql":
        return _pg_dump(db, destination)
    partial = destination.with_name(destination.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        _copy_sqlite(db, partial)
        events, head = _check_copy(partial, db.keys.folder)
    except (OSError, OpenError) as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"the backup could not be written ({exc})") from None
    except BackupError:
        partial.unlink(missing_ok=True)
        raise
    for suffix in ("-wal", "-shm"):
        Path(str(partial) + suffix).unlink(missing_ok=True)
    os.chmod(partial, 0o600)
    partial.replace(destination)
    return BackupResult(destination, destination.stat().st_size, events, head)


def _pg_dump(db: Database, destination: Path) -> BackupResult:
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise BackupError("pg_dump is not installed (Debian: apt-get install postgresql-client)")
    url = db.engine.url.set(drivername="postgresql")
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    dsn = url.set(password=None).render_as_string(hide_password=False)
    # Read before the dump starts, so the dump holds at least this head (writes may go on).
    with db.begin() as session:
        head = audit.current_head(session)
    # pg_dump writes to a pipe, never to a file: only the encrypted stream reaches the disk,
    # under a temporary name that is removed if anything fails (storage.private_files).
    try:
        with (
            tempfile.TemporaryFile() as errors,
            private_writer(destination, replace=False) as handle,
        ):
            dump = subprocess.Popen(
                [pg_dump, "--format=custom", "--dbname", dsn],
                stdout=subprocess.PIPE,
                stderr=errors,
                env=env,
            )
            stream = dump.stdout
            assert stream is not None  # stdout=PIPE
            try:
                encrypt_stream(stream, handle, db.audit_key)
            finally:
                stream.close()  # a write that failed here stops pg_dump too (SIGPIPE)
                returncode = dump.wait()
            if returncode != 0:
                errors.seek(0)
                reason = errors.read().decode("utf-8", "replace").strip()[:300]
                raise BackupError(f"pg_dump failed: {reason}")
    except OSError as exc:
        raise BackupError(f"the backup could not be written ({type(exc).__name__})") from None
    return BackupResult(destination, destination.stat().st_size, head.seq if head else 0, head)


def restore(source: Path, database_url: str, key_dir: Path) -> Path | None:
    """Put the backup ``source`` in place of the SQLite database at ``database_url``.

    The backup is checked first; the current file (if any) is first copied aside as
    ``<name>.before-restore-<UTC time>``, whose path is returned. The kiosk must be stopped.
    """
    from kiosk.storage.db import sqlite_path

    target = sqlite_path(database_url)
    if target is None:
        raise BackupError(
            "restore a PostgreSQL backup with kiosk backup-decrypt FILE | pg_restore (see README)"
        )
    if not source.is_file():
        raise BackupError(f"there is no backup at {source}")
    try:
        _check_copy(source, key_dir)
    except OpenError as exc:
        raise BackupError(f"the backup cannot be opened: {exc}") from None
    aside = None
    if target.exists():
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        aside = target.with_name(f"{target.name}.before-restore-{stamp}")
        try:
            current = open_database(
                f"sqlite:///{target}", key_dir=key_dir, create=False, upgrade=False
            )
        except OpenError:  # damaged or unreadable: keep its files exactly as they are
            for suffix in ("", "-wal", "-shm"):
                if Path(str(target) + suffix).exists():
                    Path(str(target) + suffix).replace(str(aside) + suffix)
        else:
            try:
                _copy_sqlite(current, aside)
            finally:
                current.dispose()
            for suffix in ("", "-wal", "-shm"):
                Path(str(target) + suffix).unlink(missing_ok=True)
    source_db = open_database(f"sqlite:///{source}", key_dir=key_dir, create=False, upgrade=False)
    try:
        _copy_sqlite(source_db, target)
    finally:
        source_db.dispose()
    _reset_kept_head(target, aside, key_dir)
    return aside


def _reset_kept_head(target: Path, aside: Path | None, key_dir: Path) -> None:
    """The head kept beside the old file is newer than the backup: keep it with the old file
    (it still vouches for that one) and record the restore, whose head is the new kept head.
    Otherwise the next start-up would rightly report events missing from the end."""
    restored = open_database(f"sqlite:///{target}", key_dir=key_dir, create=False)
    try:
        kept = anchor_file(restored, target.parent)
        if kept.exists():
            if aside is not None:
                kept.replace(anchor_file_for(aside))
            else:
                kept.unlink()
        with restored.begin() as session:
            head = audit.append(
                session,
                actor="cli",
                device=socket.gethostname(),
                action="records.restored",
                subject="",
                now=dt.datetime.now(dt.UTC),
            )
        heads.write_head_file(kept, head, restored.audit_key)  # commits never make a missing one
    finally:
        restored.dispose()
