"""Crash safety and save latency of the records, measured in one run on this machine.

Run: ``.venv/bin/python bench/bench_records.py [--trials N]``. Nothing here is asserted.

1. Crash trials: the writer of ``tests/storage/test_crash.py`` (synthetic visits saved the way
   the app saves them) is SIGKILLed at a random moment, N times against one growing database;
   after each kill the database is checked against everything ever acknowledged. Reports
   ``crash trials: N, acknowledged saves lost: X, partial visits: Y``.
2. Save latency: one answered page through the real path (``save_answers`` + ``set_identity`` +
   ``save_scores`` + audit event, one transaction, encrypted, WAL, ``synchronous=FULL``) against
   a bare stdlib ``sqlite3`` insert + commit with the same journal settings, in the same folder
   and interleaved, so both see the same disk at the same moment. The ratio is what encryption,
   the ORM and the audit chain cost a patient per page.

A SIGKILL ends the process, not the machine: the OS still writes out what the killed process had
handed it, so these trials prove transactions are atomic across a crash, not that ``FULL`` sync
survives a power cut.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from kiosk import paths

sys.path.insert(0, str(paths.PROJECT_ROOT))  # the crash writer lives with the tests

from kiosk.domain.loader import load_packet
from kiosk.domain.model import Packet
from kiosk.storage import repository
from kiosk.storage.db import open_database
from tests.storage.crash_writer import (
    KILL_DELAY,
    KIOSK_ID,
    Ack,
    answer_for,
    check,
    page_plan,
    run_trial,
)
from tests.storage.crash_writer import save_page as save_page_as_the_app_does

SEED = 20261122


def describe_machine() -> str:
    return (
        f"machine: {platform.platform()} ({platform.machine()}), {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, stdlib SQLite {sqlite3.sqlite_version}, "
        f"temp folder {tempfile.gettempdir()}"
    )


def crash_trials(trials: int, folder: Path, packet: Packet) -> None:
    """Kill the writer ``trials`` times; count acknowledged saves lost and half-saved visits."""
    url = f"sqlite:///{folder / 'crash.sqlite3'}"
    key_dir = folder / "crash-keys"
    open_database(url, key_dir=key_dir).dispose()
    rng = random.Random(SEED)
    acks: list[Ack] = []
    lost: set[str] = set()
    partial: set[str] = set()
    other: list[str] = []
    unacknowledged = 0
    started = time.perf_counter()
    for number in range(1, trials + 1):
        trial = run_trial(url, key_dir, rng.uniform(*KILL_DELAY), seed=number)
        if trial.returncode != -9:
            other.append(f"trial {number}: the writer ended by itself ({trial.returncode})")
        acks += trial.acks
        report = check(url, key_dir, acks, packet)
        lost.update(report.lost)
        partial.update(report.partial)
        unacknowledged = report.unacknowledged_commits
        if report.integrity != ["ok"] or report.cipher_problems or report.audit_problems:
            other.append(f"trial {number}: {report.summary()}")
        other += report.other
        if number % 10 == 0 or number == trials:
            print(f"  ... {number} trials, {time.perf_counter() - started:.0f} s", flush=True)
    print(
        f"crash trials: {trials}, acknowledged saves lost: {len(lost)}, "
        f"partial visits: {len(partial)}"
    )
    print(
        f"  ({len(acks)} saves acknowledged; {report.visits} visits, {report.pages} pages, "
        f"{report.documents} documents, {report.events} audit events; committed in the instant "
        f"before a kill, so never acknowledged: {unacknowledged}; integrity_check "
        f"{report.integrity[:1]}, cipher_integrity_check problems "
        f"{len(report.cipher_problems)}, audit chain "
        f"{'ok' if not report.audit_problems else report.audit_problems[:1]})"
    )
    for problem in other[:10]:
        print(f"  problem: {problem}")


def timings_ms(action: Callable[[], object], times: list[float]) -> None:
    start = time.perf_counter()
    action()
    times.append((time.perf_counter() - start) * 1000)


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20, method="inclusive")[-1]


def save_latency(runs: int, folder: Path, packet: Packet) -> None:
    """Median and p95 of one page save, real path against bare sqlite3, interleaved."""
    db = open_database(f"sqlite:///{folder / 'latency.sqlite3'}", key_dir=folder / "latency-keys")
    page = page_plan(packet)[0]  # the name, date of birth and phone: three answers
    answers = {item.id: answer_for(item, 1) for item in page.items}
    now = dt.datetime.now(dt.UTC)
    with db.engine.connect() as connection:
        sqlite_version = connection.exec_driver_sql("SELECT sqlite_version()").scalar()
        cipher_version = connection.exec_driver_sql("PRAGMA cipher_version").scalar()
    print(f"kiosk database: SQLCipher {cipher_version} on SQLite {sqlite_version}")
    with db.begin() as session:
        visit_id = repository.start_visit(
            session, packet=packet, language="en", kiosk_id=KIOSK_ID, now=now
        )

    def save_page() -> None:
        save_page_as_the_app_does(db, visit_id, page.form, answers, answers)

    raw = sqlite3.connect(folder / "raw.sqlite3", isolation_level=None)
    raw.execute("PRAGMA journal_mode=WAL").fetchall()
    raw.execute("PRAGMA synchronous=FULL")
    raw.execute("CREATE TABLE rows (id INTEGER PRIMARY KEY, value TEXT NOT NULL)")
    row = "x" * 100

    def insert_row() -> None:
        raw.execute("BEGIN")
        raw.execute("INSERT INTO rows (value) VALUES (?)", (row,))
        raw.execute("COMMIT")

    for _ in range(10):  # warm both up: caches, the WAL file, the pool's connection
        save_page()
        insert_row()
    kiosk_times: list[float] = []
    raw_times: list[float] = []
    for _ in range(runs):
        timings_ms(save_page, kiosk_times)
        timings_ms(insert_row, raw_times)
    raw.close()
    db.dispose()
    kiosk_median, raw_median = statistics.median(kiosk_times), statistics.median(raw_times)
    print(f"save latency over {runs} runs each, interleaved, same folder:")
    print(
        f"  kiosk page save (encrypted, WAL, FULL, 3 answers + identity + scores + audit): "
        f"median {kiosk_median:6.2f} ms, p95 {p95(kiosk_times):6.2f} ms"
    )
    print(
        f"  raw sqlite3 insert+commit (WAL, FULL, one row):                            "
        f"median {raw_median:6.2f} ms, p95 {p95(raw_times):6.2f} ms"
    )
    print(f"  ratio (median): {kiosk_median / raw_median:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--trials", type=int, default=100, help="crash trials (default 100)")
    parser.add_argument("--runs", type=int, default=300, help="latency runs (at least 200)")
    args = parser.parse_args()
    if args.trials < 1:
        parser.error("--trials must be at least 1")
    print(describe_machine())
    packet = load_packet(paths.FORMS_DIR)
    with tempfile.TemporaryDirectory(prefix="kiosk-bench-") as name:
        folder = Path(name)
        print(f"kill delay after the first acknowledgement: {KILL_DELAY[0]}-{KILL_DELAY[1]} s")
        crash_trials(args.trials, folder, packet)
        save_latency(max(args.runs, 200), folder, packet)


if __name__ == "__main__":
    main()
