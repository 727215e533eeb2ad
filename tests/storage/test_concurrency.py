"""Two kiosks writing to one database at the same moment lose nothing and never fork the chain.

Each writer is a separate process (``tests/storage/visit_writer.py``), as two tablets sharing a
PostgreSQL server would be; the same is run on one encrypted SQLite file, where BEGIN IMMEDIATE
and the busy timeout must serialise the two. (SQLite's busy handler polls, so one writer in a tight
loop may finish before the other gets in: there the writers overlap in time, not in the trail.)
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from kiosk import paths
from kiosk.storage import audit, repository
from kiosk.storage.db import open_database
from kiosk.storage.models import AuditEventRecord, VisitRecord
from tests.storage.visit_writer import ACTIONS_PER_VISIT, expected_answers

VISITS_PER_WRITER = 40
DEVICES = ("tablet-a", "tablet-b")
TIMEOUT_S = 120


def _start_writers(url: str, go_file: Path) -> list[subprocess.Popen[str]]:
    writers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.storage.visit_writer",
                url,
                device,
                str(VISITS_PER_WRITER),
                str(go_file),
            ],
            cwd=paths.PROJECT_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for device in DEVICES
    ]
    ready = [go_file.with_name(f"{go_file.name}.{device}.ready") for device in DEVICES]
    deadline = time.monotonic() + TIMEOUT_S
    while not all(path.exists() for path in ready):
        finished = [w for w in writers if w.poll() is not None]
        if finished or time.monotonic() > deadline:
            for writer in writers:
                writer.kill()
            errors = [w.communicate()[1] for w in writers]
            raise AssertionError(f"a writer did not get ready: {errors}")
        time.sleep(0.01)
    go_file.touch()  # both are waiting on this: they start together
    return writers


def test_two_processes_writing_at_once_keep_every_visit_and_one_chain(
    database_url: str, tmp_path: Path
) -> None:
    """Every visit of both writers is stored with its answers, and the audit trail is one
    unbroken chain numbered 1..N with exactly one event per action (no fork, no lost append)."""
    open_database(database_url).dispose()  # made, migrated and keyed before the writers start
    writers = _start_writers(database_url, tmp_path / "go")
    written: dict[str, list[str]] = {}
    windows: list[tuple[float, float]] = []
    try:
        for writer in writers:
            out, err = writer.communicate(timeout=TIMEOUT_S)
            assert writer.returncode == 0, err
            report = json.loads(out)
            written[report["device"]] = report["visits"]
            windows.append((report["started"], report["finished"]))
    finally:
        for writer in writers:
            if writer.poll() is None:
                writer.kill()
                writer.wait()
    assert max(s for s, _ in windows) < min(f for _, f in windows), "the writers did not overlap"
    assert sorted(written) == sorted(DEVICES)
    assert all(len(ids) == VISITS_PER_WRITER for ids in written.values())

    expected_events = len(DEVICES) * VISITS_PER_WRITER * ACTIONS_PER_VISIT
    db = open_database(database_url, create=False)
    try:
        with db.begin() as session:
            assert (
                session.scalar(select(func.count()).select_from(VisitRecord))
                == len(DEVICES) * VISITS_PER_WRITER
            )
            for device, visit_ids in written.items():
                for number, visit_id in enumerate(visit_ids):
                    visit = repository.get_visit(session, visit_id)
                    assert visit.kiosk_id == device
                    answers = expected_answers(device, number)
                    assert visit.patient_name == answers["patient_name"]
                    assert repository.load_answers(session, visit_id) == answers
            events = repository.load_audit(session)
            links = session.scalars(select(AuditEventRecord.prev_mac)).all()
        with db.engine.connect() as connection:
            result = audit.verify(connection, db.audit_key)
    finally:
        db.dispose()

    assert result.ok, result.problems
    assert result.events == expected_events
    assert [event.seq for event in events] == list(range(1, expected_events + 1))
    assert len(set(links)) == len(links), "two events link to the same predecessor: a fork"
    for device, visit_ids in written.items():
        for visit_id in visit_ids:
            mine = [e for e in events if e.subject == visit_id]
            assert [e.action for e in mine] == ["visit.started", "visit.page_saved"]
            assert {e.device for e in mine} == {device}
    if database_url.startswith("postgresql"):  # the server queues the two fairly: they take turns
        devices_in_order = [event.device for event in events]
        switches = sum(a != b for a, b in itertools.pairwise(devices_in_order))
        assert switches > 1, "the two writers' actions did not interleave"
