"""The tail can't be cut quietly (issue 17): the kept head moves with every committed event, a
missing, rolled-back, garbled or forged head on a non-empty trail fails the start-up check, and
heads kept by consoles and watchers (``kiosk audit verify --anchors``) catch what the tablet's own
head cannot. Every case on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from kiosk.domain.model import Packet
from kiosk.storage import audit, heads, repository
from kiosk.storage.db import Database, open_database
from kiosk.storage.health import startup_check
from tests.conftest import CLINIC_TIME
from tests.storage.conftest import add_draft

NAME = "Ana Quintero"


def _head(db: Database) -> audit.Head:
    with db.begin() as session:
        head = audit.current_head(session)
    assert head is not None
    return head


def _kept(db: Database) -> audit.Head | None:
    assert db.head_file is not None
    kept = heads.read_head_file(db.head_file, db.audit_key)
    return kept.head if kept else None


def _staff_event(db: Database, action: str = "visit.viewed") -> None:
    assert repository.record_event(
        db.sessions, actor="staff:maria", device="front-desk", action=action, now=CLINIC_TIME
    )


def _cut_after(db: Database, seq: int) -> None:
    """Delete every event after ``seq`` the way an attacker with the database key would."""
    with db.engine.begin() as connection:
        if db.dialect == "sqlite":
            names = connection.execute(
                text(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                    "AND tbl_name = 'audit_events'"
                )
            ).scalars()
            for name in list(names):
                connection.execute(text(f"DROP TRIGGER {name}"))
        else:
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        connection.execute(text("DELETE FROM audit_events WHERE seq > :seq"), {"seq": seq})


def _kiosk(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "kiosk", *args, "--database", database_url],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=120,
        check=False,
    )
    assert NAME not in done.stdout + done.stderr
    return done


def _problems(db: Database) -> list[str]:
    """The start-up check's problems with the kept head (others, e.g. the dropped triggers,
    are their own tests' business)."""
    return [p for p in startup_check(db, kept_head=db.head_file).problems if "head" in p]


def test_a_new_database_starts_with_no_head_and_an_empty_trail(db: Database) -> None:
    assert db.head_file is not None and not db.head_file.exists()
    assert _problems(db) == []


def test_the_kept_head_moves_with_every_committed_event(
    db: Database, database_url: str, packet: Packet
) -> None:
    add_draft(db, packet, NAME)  # the patient's actions: start, page saved
    assert _kept(db) == _head(db)
    _staff_event(db)  # a staff action, in a transaction of its own
    assert _kept(db) == _head(db)
    with pytest.raises(RuntimeError), db.begin() as session:  # rolled back: nothing kept
        repository.audit(session, actor="system", device="k", action="x.failed", now=CLINIC_TIME)
        raise RuntimeError
    assert _kept(db) == _head(db)
    # A command line event, in another process: the same file moves.
    done = _kiosk(database_url, "audit", "adopt-head")
    assert done.returncode == 0, done.stdout + done.stderr
    assert _kept(db) == _head(db)
    with db.begin() as session:
        assert repository.load_audit(session)[-1].action == "audit.head_adopted"
    assert _problems(db) == []
    assert "matches the head kept in" in _kiosk(database_url, "audit", "verify").stdout


def test_a_tail_cut_after_the_last_signing_fails_the_start_up_and_verify(
    db: Database, database_url: str, packet: Packet
) -> None:
    add_draft(db, packet, NAME)
    signed = _head(db)  # stands for the last signing (printed on its PDF)
    add_draft(db, packet, "Bruno Díaz")
    kept = _head(db)
    _cut_after(db, signed.seq)
    expected = (
        f"the trail ends at event {signed.seq} but the head kept by {heads.keeper_name()} "
        f"({db.head_file.name if db.head_file else ''}) shows event {kept.seq}: "
        "events were removed from the end"
    )
    assert expected in _problems(db)
    done = _kiosk(database_url, "audit", "verify")
    assert done.returncode == 1
    assert expected in done.stdout
    # Whatever is written after the cut never moves the head kept as evidence.
    _staff_event(db)
    assert _kept(db) == kept
    assert expected.replace(f"event {signed.seq} but", f"event {signed.seq + 1} but") in (
        _problems(db)
    )


def test_a_missing_head_on_a_non_empty_trail_fails_the_start_up(
    db: Database, database_url: str, packet: Packet
) -> None:
    add_draft(db, packet, NAME)
    assert db.head_file is not None
    db.head_file.unlink()
    problems = _problems(db)
    assert len(problems) == 1
    assert problems[0].startswith("no audit head is kept for these 2 audit events")
    assert "kiosk audit adopt-head" in problems[0]
    _staff_event(db, "kiosk.safe_mode")  # what a refused start records: it makes no new head
    assert not db.head_file.exists()
    assert _problems(db)[0].startswith("no audit head is kept for these 3 audit events")
    assert _kiosk(database_url, "audit", "verify").returncode == (
        1 if db.dialect == "sqlite" else 0  # elsewhere than the tablet no kept head is normal
    )


def test_a_garbled_or_forged_head_fails_the_start_up(db: Database, packet: Packet) -> None:
    add_draft(db, packet, NAME)
    head = _head(db)
    assert db.head_file is not None
    db.head_file.write_bytes(b"\xff\x00garbage")
    assert "is unreadable" in _problems(db)[0]
    db.head_file.write_text(f"{head}\n", encoding="ascii")  # the old, unsealed form
    assert "garbled or in an old, unsealed form" in _problems(db)[0]
    heads.write_head_file(db.head_file, head, b"k" * 32)  # sealed with another key
    assert "not sealed with this clinic's audit key" in _problems(db)[0]
    heads.write_head_file(db.head_file, head, db.audit_key)
    assert _problems(db) == []


def test_a_head_rolled_back_with_the_cut_is_caught(db: Database, packet: Packet) -> None:
    """The attacker cuts the tail and puts back an older copy of the head file."""
    add_draft(db, packet, NAME)
    assert db.head_file is not None
    older = db.head_file.read_bytes()
    older_head = _head(db)
    add_draft(db, packet, "Bruno Díaz")
    signed = _head(db)
    _staff_event(db)
    _staff_event(db)
    _cut_after(db, signed.seq)
    db.head_file.write_bytes(older)
    problems = _problems(db)
    if db.dialect == "sqlite":  # one writer: the kept head must be the trail's head
        assert problems == [
            f"the audit head kept in {db.head_file.name} is event {older_head.seq} but the trail "
            f"ends at event {signed.seq}: the kept head was rolled back, or not saved after a "
            f"crash; {heads.ADOPT_HINT}"
        ]
    else:  # many writers: a lagging head is normal; the consoles' heads catch it (below)
        assert problems == []
    _staff_event(db, "kiosk.safe_mode")  # the next commit never carries a rolled-back head on
    if db.dialect == "sqlite":
        assert _kept(db) == older_head
        assert _problems(db)


def test_a_console_head_catches_a_cut_the_tablet_hid(
    db: Database, database_url: str, packet: Packet, tmp_path: Path
) -> None:
    """PostgreSQL's case above: the tablet's own head rolled back too, so only the head the
    front desk's watcher kept in its own folder shows what was removed."""
    add_draft(db, packet, NAME)
    assert db.head_file is not None
    older = db.head_file.read_bytes()
    signed = _head(db)
    console_data = tmp_path / "front-desk-data"
    watch = heads.HeadWatch.for_sessions(db.sessions, console_data, "front-desk")
    assert watch is not None
    with db.read() as session:
        watch.look(session)
    _staff_event(db)
    _staff_event(db)
    with db.read() as session:
        watch.look(session)
    seen = _head(db)
    assert heads.read_head_file(watch.path, db.audit_key) is not None
    _cut_after(db, signed.seq)
    db.head_file.write_bytes(older)
    with db.read() as session:  # the watcher notices at once and keeps its head as evidence
        watch.look(session)
    kept = heads.read_head_file(watch.path, db.audit_key)
    assert kept is not None and kept.head == seen
    anchors = tmp_path / "collected"
    anchors.mkdir()
    shutil.copy(watch.path, anchors)
    done = _kiosk(database_url, "audit", "verify", "--anchors", str(anchors))
    assert done.returncode == 1
    assert (
        f"the trail ends at event {signed.seq} but the head kept by front-desk "
        f"({watch.path.name}) shows event {seen.seq}: events were removed from the end"
    ) in done.stdout
    # The same events re-grown past the console's head are still caught: another mac.
    for _ in range(3):
        _staff_event(db, "visit.printed")
    done = _kiosk(database_url, "audit", "verify", "--anchors", str(anchors))
    assert done.returncode == 1
    assert f"event {seen.seq} of the trail does not match the head kept by front-desk" in (
        done.stdout
    )


def test_an_upgraded_kiosk_adopts_its_head_once_staff_verified(
    database_url: str, packet: Packet
) -> None:
    """A trail written before heads were kept: safe mode until `kiosk audit adopt-head`."""
    db = open_database(database_url)
    try:
        add_draft(db, packet, NAME)
        assert db.head_file is not None
        db.head_file.write_text(f"{_head(db)}\n", encoding="ascii")  # the old form, or none
        assert _problems(db)
        done = _kiosk(database_url, "audit", "adopt-head")
        assert done.returncode == 0, done.stdout + done.stderr
        assert done.stdout.startswith("adopted: 2 audit events verified")
        assert _problems(db) == []
        assert list(db.head_file.parent.glob(f"{db.head_file.name}.replaced-*"))
    finally:
        db.dispose()


def test_adopt_head_refuses_a_broken_trail(db: Database, database_url: str, packet: Packet) -> None:
    add_draft(db, packet, NAME)
    add_draft(db, packet, "Bruno Díaz")
    _cut_after(db, 99)  # the triggers off, nothing cut yet
    with db.engine.begin() as connection:  # an event from the middle removed
        if db.dialect == "postgresql":
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        connection.execute(text("DELETE FROM audit_events WHERE seq = 2"))
    assert db.head_file is not None
    before = db.head_file.read_bytes()
    done = _kiosk(database_url, "audit", "adopt-head")
    assert done.returncode == 1
    assert "no head was adopted" in done.stdout
    assert db.head_file.read_bytes() == before
