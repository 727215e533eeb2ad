"""The consent copy for staff (``KIOSK_OUTPUT_DIR``): private, crash-safe, and on the record
whether it was written or not. The full disk is real: a file-size limit the kernel enforces
(EFBIG) while the copy is written, and only then."""

from __future__ import annotations

import os
import resource
import signal
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.app import service as service_module
from kiosk.app.service import Finished, VisitService
from kiosk.domain.model import Packet
from kiosk.domain.strings import Strings
from kiosk.private_files import write_private_file
from kiosk.storage import repository
from kiosk.storage.db import Database, open_database
from tests.app.test_service import at_signing, make_service, signature

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes and RLIMIT_FSIZE")


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    opened = open_database(f"sqlite:///{tmp_path / 'kiosk.sqlite3'}")
    yield opened
    opened.dispose()


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def events(db: Database) -> list[tuple[str, str]]:
    with db.read() as session:
        return [(event.action, event.subject) for event in repository.load_audit(session)]


def test_the_copy_is_0600_in_a_0700_folder(
    packet: Packet, strings: Strings, database: Database, tmp_path: Path
) -> None:
    service = make_service(packet, strings, database, tmp_path)
    outcome = service.sign(at_signing(service), signature())
    assert isinstance(outcome, Finished)
    copy = outcome.finished.pdf_path
    assert copy is not None and copy.read_bytes().startswith(b"%PDF")
    assert mode(copy) == 0o600
    assert mode(copy.parent) == 0o700
    assert [p.name for p in copy.parent.iterdir()] == [copy.name]  # no temporary file left
    assert events(database)[-1] == ("document.copy_written", outcome.finished.visit_id)


def test_a_full_disk_leaves_no_partial_copy_keeps_the_old_one_and_is_audited(
    packet: Packet,
    strings: Strings,
    database: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    service: VisitService = make_service(packet, strings, database, tmp_path)
    opened = at_signing(service)
    out = tmp_path / "out"
    out.mkdir()
    earlier = out / f"{repository.document_number(opened.id)}.pdf"
    earlier.write_bytes(b"%PDF-1.7 an earlier copy")

    def on_a_full_disk(path: Path, data: bytes) -> None:
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, hard))
        try:
            write_private_file(path, data)
        finally:
            resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
            signal.signal(signal.SIGXFSZ, handler)

    monkeypatch.setattr(service_module, "write_private_file", on_a_full_disk)
    outcome = service.sign(opened, signature())
    assert isinstance(outcome, Finished)  # the consent is signed and stored all the same
    assert outcome.finished.pdf_path is None
    assert earlier.read_bytes() == b"%PDF-1.7 an earlier copy"
    assert [p.name for p in out.iterdir()] == [earlier.name]  # no partial or temporary file
    with database.read() as session:  # the database keeps the whole, sealed original
        stored = repository.latest_document(session, opened.id)
        assert stored.content.startswith(b"%PDF") and len(stored.content) > 4096
    assert events(database)[-1] == ("document.copy_failed", opened.id)  # identifiers only
