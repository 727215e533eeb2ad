"""A PostgreSQL backup is never a plaintext dump: pg_dump streams through the encryption into a
0600 file, and a failed dump or a full disk leaves no file at all, not even a temporary one."""

from __future__ import annotations

import os
import resource
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from kiosk.domain.model import Packet
from kiosk.storage import backup as backup_module
from kiosk.storage.backup import BackupError, backup
from kiosk.storage.db import Database, open_database
from kiosk.storage.keys import AUDIT_KEY, KeyStore
from tests.conftest import CLINIC_TIME
from tests.storage.conftest import add_draft, fresh_postgres_database
from tests.test_cli import _kiosk

NAME = "Quintessa Fakename Núñez"  # synthetic
PG_DUMP_MAGIC = b"PGDMP"


@pytest.fixture
def pg(tmp_path: Path) -> Iterator[Database]:
    for url in fresh_postgres_database(tmp_path):
        db = open_database(url)
        yield db
        db.dispose()


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_backup_is_encrypted_private_and_decrypts_to_the_dump(
    pg: Database, packet: Packet, tmp_path: Path
) -> None:
    add_draft(pg, packet, NAME, CLINIC_TIME)
    existing = tmp_path / "existing"
    existing.mkdir(mode=0o755)
    os.chmod(existing, 0o755)
    result = backup(pg, existing / "records.pgdump")
    content = result.path.read_bytes()
    assert not content.startswith(PG_DUMP_MAGIC) and PG_DUMP_MAGIC not in content
    assert NAME.encode() not in content and b"Fakename" not in content
    assert mode(result.path) == 0o600
    assert mode(existing) == 0o755  # a folder the clinic chose is left as it is
    assert sorted(p.name for p in existing.iterdir()) == ["records.pgdump"]
    decrypted = subprocess.run(
        [sys.executable, "-m", "kiosk", "backup-decrypt", str(result.path)],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert decrypted.returncode == 0, decrypted.stderr
    assert decrypted.stdout.startswith(PG_DUMP_MAGIC)  # test_backup restores one with it


def test_a_failed_pg_dump_leaves_no_file(
    pg: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pg_dump that dies half-way (here: a stand-in that wrote part of a dump, then failed)."""
    fake = tmp_path / "pg_dump"
    fake.write_text("#!/bin/sh\nprintf 'PGDMP partial'\necho 'connection lost' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr(backup_module, "shutil", SimpleNamespace(which=lambda name: str(fake)))
    folder = tmp_path / "backups"
    with pytest.raises(BackupError, match="pg_dump failed: connection lost"):
        backup(pg, folder / "records.pgdump")
    assert list(folder.iterdir()) == []


def test_a_full_disk_leaves_no_file(pg: Database, packet: Packet, tmp_path: Path) -> None:
    """A real EFBIG (RLIMIT_FSIZE) while the encrypted dump is written: nothing is left."""
    add_draft(pg, packet, NAME, CLINIC_TIME)
    folder = tmp_path / "backups"
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, hard))  # pg_dump writes to a pipe
    try:
        with pytest.raises(BackupError, match="could not be written"):
            backup(pg, folder / "records.pgdump")
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, handler)
    assert list(folder.iterdir()) == []


def test_decrypt_refuses_a_plain_dump(tmp_path: Path) -> None:
    KeyStore(tmp_path / "keys").create(AUDIT_KEY)  # the test's KIOSK_KEY_DIR
    plain = tmp_path / "plain.dump"
    plain.write_bytes(b"PGDMP not encrypted")
    done = _kiosk("backup-decrypt", str(plain))
    assert done.returncode == 1
    assert "not an encrypted kiosk backup" in done.stderr
    assert "Traceback" not in done.stderr
