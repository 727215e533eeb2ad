"""The records commands, run as staff would: ``kiosk audit verify``, ``backup``, ``restore`` and
``drafts purge`` on an encrypted SQLite file, each in its own process.

Exit codes are the contract (0 done, 1 refused or broken, 2 bad usage), messages are plain, and
no output ever holds patient data.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text

from kiosk import paths
from kiosk.app.instance import acquire_single_instance
from kiosk.domain.model import Packet
from kiosk.domain.scoring import score_form
from kiosk.storage import audit, repository, staff
from kiosk.storage.db import Database, open_database
from kiosk.storage.models import VisitRecord
from tests.conftest import CLINIC_TIME
from tests.storage.conftest import add_draft

PATIENT = "Ottoline Syntheticson Peñalver"  # synthetic; must never appear in any output
OTHER_PATIENT = "Benedikt Placeholder Ruiz"


SERVICE_ID, SERVICE_PIN = "nightly.backup", "624813"
AS_SERVICE = ("--staff", SERVICE_ID, "--pin-stdin")  # who takes the copy, named


def _kiosk(
    *args: str, key_dir: Path | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """Run ``kiosk ARGS`` in a new process; check that its output holds no patient name."""
    env = dict(os.environ)
    if key_dir is not None:
        env["KIOSK_KEY_DIR"] = str(key_dir)
    done = subprocess.run(
        [sys.executable, "-m", "kiosk", *args],
        capture_output=True,
        text=True,
        input=stdin,
        env=env,
        timeout=120,
        check=False,
    )
    for name in (PATIENT, OTHER_PATIENT):
        for word in name.split():
            assert word not in done.stdout + done.stderr
    return done


@dataclass(frozen=True)
class Records:
    """An encrypted SQLite database with two visits and their audit events."""

    url: str
    path: Path
    visit_id: str

    def open(self) -> Database:
        return open_database(self.url, create=False)

    def head(self) -> audit.Head:
        db = self.open()
        try:
            with db.begin() as session:
                head = audit.current_head(session)
        finally:
            db.dispose()
        assert head is not None
        return head


@pytest.fixture
def records(tmp_path: Path, packet: Packet) -> Iterator[Records]:
    """A fresh database (keys in the test's KIOSK_KEY_DIR) with two visits, four events."""
    path = tmp_path / "data" / "kiosk.sqlite3"
    url = f"sqlite:///{path}"
    db = open_database(url)
    try:
        visit_id = add_draft(db, packet, PATIENT, CLINIC_TIME)
        add_draft(db, packet, OTHER_PATIENT, CLINIC_TIME + dt.timedelta(minutes=20))
    finally:
        db.dispose()
    yield Records(url, path, visit_id)


def _add_service_account(records: Records, role: str = "service") -> None:
    db = records.open()
    try:
        with db.begin() as session:
            staff.add_staff(
                session,
                SERVICE_ID,
                name="Nightly backup",
                role=role,
                pin=SERVICE_PIN,
                now=CLINIC_TIME,
            )
    finally:
        db.dispose()


def _backup(records: Records, destination: Path) -> subprocess.CompletedProcess[str]:
    return _kiosk(
        "backup", "--database", records.url, str(destination), *AS_SERVICE, stdin=SERVICE_PIN
    )


def test_audit_verify_passes_an_unbroken_trail(records: Records) -> None:
    """Exit 0 and "ok" with the event count and the head, with or without the trusted head."""
    head = records.head()
    done = _kiosk("audit", "verify", "--database", records.url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok: 4 audit events, chain unbroken")
    assert str(head) in done.stdout
    with_head = _kiosk("audit", "verify", "--database", records.url, "--head", str(head))
    assert with_head.returncode == 0, with_head.stderr
    assert "matches the head given" in with_head.stdout


def test_audit_verify_finds_an_edited_event(records: Records) -> None:
    """An event changed behind the kiosk's back (its trigger dropped first) fails with exit 1."""
    db = records.open()
    try:
        with db.begin() as session:
            session.execute(text("DROP TRIGGER audit_events_no_update"))
            session.execute(text("UPDATE audit_events SET action = 'visit.viewed' WHERE seq = 2"))
    finally:
        db.dispose()
    done = _kiosk("audit", "verify", "--database", records.url)
    assert done.returncode == 1
    assert done.stdout.startswith("BROKEN")
    assert "event 2 was changed" in done.stdout


def test_audit_verify_with_a_later_head_finds_events_cut_off_the_end(records: Records) -> None:
    """A printed head beyond the trail's end means events were removed: exit 1; a head whose
    mac differs from the stored event fails too."""
    head = records.head()
    later = audit.Head(head.seq + 3, "ab" * 32)
    done = _kiosk("audit", "verify", "--database", records.url, "--head", str(later))
    assert done.returncode == 1
    assert "removed from the end" in done.stdout
    forged = audit.Head(head.seq, "cd" * 32)
    mismatch = _kiosk("audit", "verify", "--database", records.url, "--head", str(forged))
    assert mismatch.returncode == 1
    assert f"event {head.seq} does not match the printed head" in mismatch.stdout


@pytest.mark.parametrize("bad", ["twelve", "12:xyz", "3:" + "g" * 64])
def test_audit_verify_refuses_a_malformed_head(records: Records, bad: str) -> None:
    """Bad ``--head`` text is a usage error (exit 2) with the expected shape, not a verdict."""
    done = _kiosk("audit", "verify", "--database", records.url, "--head", bad)
    assert done.returncode == 2
    assert "--head: a chain head looks like 1234:<64 hexadecimal characters>" in done.stderr
    assert done.stdout == ""


def test_backup_command_writes_once_and_never_overwrites(records: Records, tmp_path: Path) -> None:
    """``backup DEST`` makes DEST (exit 0); the same DEST again is refused (exit 1), unchanged."""
    destination = tmp_path / "backups" / "monday.sqlite3"
    _add_service_account(records)
    done = _backup(records, destination)
    assert done.returncode == 0, done.stderr
    assert destination.is_file()
    assert f"backup: {destination}" in done.stdout
    assert "keep a copy of that folder" in done.stdout
    first = destination.read_bytes()
    db = records.open()
    try:
        with db.begin() as session:
            *copied, last = repository.load_audit(session)
    finally:
        db.dispose()
    # the copy holds the trail up to the PIN check; the event after it says who took it
    assert copied[-1].action == "staff.backup"
    assert f"{len(copied)} audit events" in done.stdout
    assert f"audit head: {copied[-1].seq}:" in done.stdout
    assert (last.action, last.actor, last.subject) == (
        "backup.written",
        f"staff:{SERVICE_ID}",
        f"up to event {copied[-1].seq}",
    )

    again = _backup(records, destination)
    assert again.returncode == 1
    assert again.stderr.strip() == (
        f"no backup made: {destination} already exists; choose a new file name"
    )
    assert destination.read_bytes() == first


def test_drafts_purge_clears_old_drafts_only(records: Records, packet: Packet) -> None:
    """A draft untouched for longer than the limit loses its answers and name and is marked
    abandoned, with a "visit.purged" audit event; younger drafts are kept as they are."""
    db = records.open()
    try:
        old = add_draft(db, packet, "Wilhelmina Fictive Abara", CLINIC_TIME - dt.timedelta(days=30))
        recent = add_draft(db, packet, "Cosimo Notreal Baptiste", _hours_ago(0))
    finally:
        db.dispose()
    # The limit falls between the fixture's two drafts (at CLINIC_TIME, a fixed day that the
    # wall clock has since passed) and the old one, whatever today's date is.
    limit = int((dt.datetime.now(dt.UTC) - CLINIC_TIME).total_seconds() // 3600) + 15 * 24

    done = _kiosk("drafts", "purge", "--database", records.url, "--older-than-hours", str(limit))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("purged 1 ")
    assert "Wilhelmina" not in done.stdout + done.stderr

    db = records.open()
    try:
        with db.begin() as session:
            purged = repository.get_visit(session, old)
            assert purged.status == "abandoned"
            assert (purged.patient_name, purged.name_search, purged.birth_date) == ("", "", "")
            assert repository.load_answers(session, old) == {}
            kept = repository.get_visit(session, recent)
            assert kept.status == "draft"
            assert repository.load_answers(session, recent)["patient_name"] == (
                "Cosimo Notreal Baptiste"
            )
            events = repository.load_audit(session)
        with db.engine.connect() as connection:
            assert audit.verify(connection, db.audit_key).ok
    finally:
        db.dispose()
    assert [(e.action, e.subject, e.actor) for e in events if e.action == "visit.purged"] == [
        ("visit.purged", old, "system")
    ]


def test_drafts_purge_says_which_flagged_drafts_it_kept_and_why(
    records: Records, packet: Packet
) -> None:
    """A draft whose urgent flag nobody acknowledged keeps its name and flags; the command
    names it by document number only."""
    db = records.open()
    try:
        flagged = add_draft(
            db, packet, "Wilhelmina Fictive Abara", CLINIC_TIME - dt.timedelta(days=30)
        )
        answers = {f"phq9_{n}": 0 for n in range(1, 10)} | {"phq9_9": 2}
        with db.begin() as session:
            report = score_form(packet.form("phq9"), answers)
            when = CLINIC_TIME - dt.timedelta(days=30)
            repository.save_scores(session, flagged, [report], when, answers=answers)
    finally:
        db.dispose()
    done = _kiosk("drafts", "purge", "--database", records.url, "--older-than-hours", "1")
    assert done.returncode == 0, done.stderr
    number = repository.document_number(flagged)
    assert done.stdout.splitlines()[1] == (
        f"kept 1 unfinished visit(s) whole, because a flag waits for a clinician: {number} "
        "(acknowledge the flags in the staff console; the next purge then removes them)"
    )
    assert "Wilhelmina" not in done.stdout + done.stderr
    db = records.open()
    try:
        with db.begin() as session:
            kept = repository.get_visit(session, flagged)
            assert (kept.status, kept.patient_name) == ("draft", "Wilhelmina Fictive Abara")
            assert repository.load_flags(session, flagged) == ["phq9_item9"]
    finally:
        db.dispose()


def _hours_ago(hours: int) -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours)


def test_drafts_purge_refuses_zero_hours(records: Records) -> None:
    """``--older-than-hours 0`` would purge a patient mid-visit: usage error, nothing purged."""
    done = _kiosk("drafts", "purge", "--database", records.url, "--older-than-hours", "0")
    assert done.returncode == 2
    assert "more than 0" in done.stderr
    db = records.open()
    try:
        with db.begin() as session:
            assert repository.get_visit(session, records.visit_id).status == "draft"
    finally:
        db.dispose()


def test_a_wrong_key_folder_is_refused_and_changes_nothing(
    records: Records, tmp_path: Path
) -> None:
    """With another database's keys, every records command exits 1 saying the records cannot be
    opened; the database file and the key folder stay byte for byte as they were."""
    other_keys = tmp_path / "other-keys"
    open_database(f"sqlite:///{tmp_path / 'other' / 'k.sqlite3'}", key_dir=other_keys).dispose()
    key_files = {p.name: p.read_bytes() for p in other_keys.iterdir()}
    before = records.path.read_bytes()
    destination = tmp_path / "wrong-key.backup"
    for command in (
        ("audit", "verify"),
        ("backup", str(destination), *AS_SERVICE),
        ("drafts", "purge", "--older-than-hours", "1"),
    ):
        done = _kiosk(*command, "--database", records.url, key_dir=other_keys, stdin="000000")
        assert done.returncode == 1, command
        assert "The records cannot be opened:" in done.stderr
        assert "cannot be opened with the key in" in done.stderr
        assert "Nothing was changed" in done.stderr
        assert done.stdout == ""
    assert records.path.read_bytes() == before
    assert {p.name: p.read_bytes() for p in other_keys.iterdir()} == key_files
    assert not destination.exists()


def test_a_missing_key_is_refused_and_not_replaced(records: Records, tmp_path: Path) -> None:
    """An empty key folder is not filled with new keys: exit 1, the missing key named."""
    empty = tmp_path / "empty-keys"
    empty.mkdir()
    before = records.path.read_bytes()
    done = _kiosk("audit", "verify", "--database", records.url, key_dir=empty)
    assert done.returncode == 1
    assert "database.key is missing" in done.stderr
    assert list(empty.iterdir()) == []
    assert records.path.read_bytes() == before


def test_records_commands_do_not_make_a_database_that_is_not_there(tmp_path: Path) -> None:
    """``audit verify`` on a missing file says so (exit 1) and creates neither file nor keys."""
    missing = tmp_path / "nowhere" / "kiosk.sqlite3"
    done = _kiosk("audit", "verify", "--database", f"sqlite:///{missing}")
    assert done.returncode == 1
    assert "there is no database" in done.stderr
    assert not missing.exists()
    keys = paths.key_dir()  # holds only the test clinic's seal certificates (tests/conftest.py)
    assert not (keys / "database.key").exists() and not (keys / "audit.key").exists()


def test_restore_command_waits_for_the_kiosk_to_stop_then_restores(
    records: Records, tmp_path: Path, packet: Packet
) -> None:
    """While the kiosk holds its lock, ``restore`` refuses (exit 1, the file untouched); once it
    is stopped, the backup's records come back and the previous file is kept aside."""
    backup_file = tmp_path / "backup.sqlite3"
    _add_service_account(records)
    assert _backup(records, backup_file).returncode == 0
    db = records.open()
    try:
        later = add_draft(db, packet, "Perpetua Sample Lindqvist", _hours_ago(0))
    finally:
        db.dispose()
    before = records.path.read_bytes()

    lock = acquire_single_instance(paths.data_dir())
    assert lock is not None
    try:
        refused = _kiosk("restore", "--database", records.url, str(backup_file))
    finally:
        lock.unlock()
    assert refused.returncode == 1
    assert "Stop the kiosk" in refused.stderr
    assert records.path.read_bytes() == before

    done = _kiosk("restore", "--database", records.url, str(backup_file))
    assert done.returncode == 0, done.stderr
    assert f"restored from {backup_file}" in done.stdout
    asides = [  # the file kept aside, not the audit head kept beside it (storage.heads)
        aside
        for aside in records.path.parent.glob("kiosk.sqlite3.before-restore-*")
        if not aside.name.endswith(".audit-head")
    ]
    assert len(asides) == 1
    assert f"kept in {asides[0]}" in done.stdout
    db = records.open()
    try:
        with db.begin() as session:
            assert session.get(VisitRecord, later) is None
            assert session.get(VisitRecord, records.visit_id) is not None
    finally:
        db.dispose()


@pytest.mark.parametrize(
    "url", ["bogus://x", "not a url", "postgresql+nosuch://kiosk:s3cret@db/kiosk"]
)
def test_a_database_url_the_kiosk_cannot_use_gets_a_plain_message(url: str) -> None:
    """No traceback, and never the URL (it may hold a password); exit 2, a usage error."""
    done = _kiosk("audit", "verify", "--database", url)
    assert done.returncode == 2
    assert done.stderr.strip().startswith(
        "The records cannot be opened: the database URL is not one this kiosk can use"
    )
    assert "Traceback" not in done.stderr and "s3cret" not in done.stderr + done.stdout


def test_a_backup_names_a_person_with_the_right_role_and_pin(
    records: Records, tmp_path: Path
) -> None:
    """No --staff: exit 2 saying why; a wrong PIN: exit 1; a front-desk account: refused; no
    copy is made in any of them."""
    destination = tmp_path / "nobody.sqlite3"
    nobody = _kiosk("backup", "--database", records.url, str(destination))
    assert nobody.returncode == 2
    assert nobody.stderr.startswith("A backup names a person: give --staff ID (admin, service)")
    _add_service_account(records)
    wrong = _kiosk("backup", "--database", records.url, str(destination), *AS_SERVICE, stdin="1")
    assert (wrong.returncode, wrong.stderr.strip()) == (1, "The staff id or PIN is not right.")
    assert not destination.exists()


def test_a_front_desk_account_cannot_take_a_backup(records: Records, tmp_path: Path) -> None:
    _add_service_account(records, role="staff")
    done = _backup(records, tmp_path / "desk.sqlite3")
    assert (done.returncode, done.stderr.strip()) == (
        1,
        "A backup needs one of these accounts: admin, service.",
    )
    assert not (tmp_path / "desk.sqlite3").exists()


def test_audit_verify_reads_the_head_this_computers_watchers_saw(records: Records) -> None:
    """The seen head a console or watcher keeps in the data folder is one file, not a folder of
    them: verify checks it (it used to crash listing it as a folder)."""
    from kiosk.storage import heads

    db = records.open()
    try:
        seen = heads.seen_head_file(db.engine.url, db.path, paths.data_dir())
        heads.write_head_file(seen, records.head(), db.audit_key, keeper="front-desk")
    finally:
        db.dispose()
    done = _kiosk("audit", "verify", "--database", records.url)
    assert done.returncode == 0, done.stderr
    assert f"the head seen in {seen}" in done.stdout
    assert "Traceback" not in done.stderr
