"""Alerts: an urgent flag raised on a tablet → the banner on a signed-out staff console (issue 16).

Run: ``.venv/bin/python bench/bench_alerts.py [--runs N] [--database URL]``. Nothing here is
asserted; the issue's requirement is 2 s, tested as a deadline in tests/app/test_console_alerts.py.

Each run is two processes on one database (an encrypted SQLite file in a temporary folder, or
``--database`` for PostgreSQL): this process holds a real ``StaffConsole`` (offscreen, on its
sign-in panel, polling its alert watcher every 500 ms as shipped); a new ``python -m
tests.app.tablet_writer`` process writes a synthetic visit whose PHQ-9 page raises the urgent
``phq9_item9`` flag, through the same storage calls as the kiosk, and prints the monotonic time
just after that commit. The time of a run is from that commit to the first moment the console's
event loop has the banner visible (checked after each ``processEvents``, which sleeps 2 ms between
rounds so the tablet keeps its CPU). The flag is then acknowledged and the banner gone before the
next run.

Baseline, in the same runs and the same event loop: a bare ``QTimer`` at the same 500 ms running
one Core ``SELECT`` of open urgent flag ids on its own connection: the least any polling console
could do. Both see the same commit at the same moment, so the ratio is what the watcher, the
banner, the audit events and the chime add to polling itself. With a 500 ms period both medians
sit near 250 ms plus the query (the commit lands at a random phase of each timer).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_common import MIN_RUNS, Part, Row, bench_env, fmt, median
from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication
from sqlalchemy import func, select

from kiosk import paths
from kiosk.app.clock import local_now
from kiosk.app.staff_app import ALERT_POLL_MS, StaffConsole
from kiosk.config import Settings
from kiosk.domain.loader import load_packet
from kiosk.domain.records import FlagDecision
from kiosk.domain.strings import load_strings
from kiosk.storage import console as records
from kiosk.storage.db import Database, open_database
from kiosk.storage.models import FlagRecord

GOAL_MS = 2000.0  # issue 16: every running console shows the alert within 2 s
DEADLINE_S = 120.0  # a tablet process that has not committed by then has failed


class BarePoll:
    """The baseline: a 500 ms timer and one indexed count of open urgent flags."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.seen_at: float | None = None
        self.known = self._count()
        self.timer = QTimer()
        self.timer.setInterval(ALERT_POLL_MS)
        self.timer.timeout.connect(self._poll)
        self.timer.start()

    def _count(self) -> int:
        query = select(func.count(FlagRecord.id)).where(
            FlagRecord.severity == "urgent", FlagRecord.acknowledged_at.is_(None)
        )
        with self.db.engine.connect() as connection:
            return int(connection.execute(query).scalar_one())

    def _poll(self) -> None:
        count = self._count()
        if count > self.known and self.seen_at is None:
            self.seen_at = time.monotonic()
        self.known = count

    def rearm(self) -> None:
        self.known = self._count()
        self.seen_at = None


def _tablet(url: str, env: dict[str, str], number: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.app.tablet_writer",
            url,
            f"Bench Patient {number}",
            local_now().isoformat(),
        ],
        cwd=paths.PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _spin(app: QApplication, until: float) -> None:
    app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)
    if time.monotonic() > until:
        raise RuntimeError("the alert bench timed out")
    time.sleep(0.002)


def one_run(
    app: QApplication, console: StaffConsole, bare: BarePoll, url: str, env: dict[str, str], n: int
) -> tuple[float, float]:
    """(console ms, bare poll ms) from the tablet's commit."""
    banner = console.window.alert_banner
    bare.rearm()
    tablet = _tablet(url, env, n)
    seen: float | None = None
    until = time.monotonic() + DEADLINE_S
    while seen is None or bare.seen_at is None or tablet.poll() is None:
        _spin(app, until)
        if seen is None and banner.isVisible():
            seen = time.monotonic()
    out, err = tablet.communicate()
    assert bare.seen_at is not None
    if tablet.returncode != 0:
        raise RuntimeError(f"the tablet process failed:\n{err}")
    visit_id, committed_line = out.splitlines()[:2]
    committed = float(committed_line.removeprefix("committed "))
    with console.db.begin() as session:
        records.acknowledge_flag(
            session,
            visit_id,
            "phq9_item9",
            staff_id="bench.clinician",
            decision=FlagDecision.DISCUSSED_PROCEED,
            device="bench-console",
            now=local_now(),
        )
    until = time.monotonic() + DEADLINE_S
    while banner.isVisible():
        _spin(app, until)
    return (seen - committed) * 1000, (bare.seen_at - committed) * 1000


def measure(runs: int, folder: Path, database_url: str = "") -> Part:
    started = time.perf_counter()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = QApplication.instance() or QApplication([sys.argv[0]])
    assert isinstance(app, QApplication)
    keys = folder / "keys"
    saved = {name: os.environ.get(name) for name in ("KIOSK_KEY_DIR", "KIOSK_DATA_DIR")}
    os.environ["KIOSK_KEY_DIR"] = str(keys)  # this process and the tablets: the same keys
    url = database_url or f"sqlite:///{folder / 'alerts.sqlite3'}"
    os.environ["KIOSK_DATA_DIR"] = str(folder / "data")
    env = {
        **bench_env(),
        "KIOSK_KEY_DIR": str(keys),
        "KIOSK_DATA_DIR": str(folder / "data"),
        "PYTHONPATH": str(paths.PROJECT_ROOT),
    }
    db = open_database(url, key_dir=keys)
    settings = dataclasses.replace(
        Settings.load(database_url=url), kiosk_id="bench-console", key_dir=keys
    )
    packet = load_packet(paths.FORMS_DIR)
    console = StaffConsole(settings, db, packet, load_strings(paths.STRINGS_DIR), local_now)
    console.window.show()
    bare = BarePoll(db)
    ours: list[float] = []
    baseline: list[float] = []
    try:
        for number in range(runs):
            banner_ms, bare_ms = one_run(app, console, bare, url, env, number)
            ours.append(banner_ms)
            baseline.append(bare_ms)
            print(
                f"  ... run {number + 1}/{runs}: banner {banner_ms:.0f} ms, "
                f"bare poll {bare_ms:.0f} ms",
                flush=True,
            )
        chimes = console.announcer.chimes_requested
    finally:
        bare.timer.stop()
        console.shutdown()
        db.dispose()
        for name, value in saved.items():  # run_all measures other parts in this process
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    kind = "PostgreSQL" if url.startswith("postgresql") else "SQLite (SQLCipher, WAL)"
    row = Row(
        "tablet commit → banner on a signed-out console",
        ours,
        baseline,
        f"bare {ALERT_POLL_MS} ms SELECT poll",
        absolute_goal=GOAL_MS,
    )
    part = Part(
        "Alerts",
        "Urgent flag: tablet commit → console banner",
        method=[
            f"{runs} runs on {kind}; each a new tablet process writing a flagged PHQ-9 page, "
            "timed from its commit (monotonic clock, printed by the tablet) to the banner "
            "visible in this process's console (signed out, offscreen).",
            f"Baseline in the same runs: a bare {ALERT_POLL_MS} ms timer counting open urgent "
            "flags with one SELECT.",
            f"Requirement: {fmt(GOAL_MS, 'ms')} (issue 16). Chimes requested: {chimes} "
            f"(one per run expected: {runs}).",
        ],
        rows=[row],
    )
    if row.met is False:
        part.why.append(
            "The banner took longer than 2 s at the median: see the runs above; the console "
            f"polls every {ALERT_POLL_MS} ms, so the rest is the event loop or the query."
        )
    part.details = [
        f"Runs (banner ms): {', '.join(f'{x:.0f}' for x in ours)}; median "
        f"{median(ours):.0f} ms, worst {max(ours):.0f} ms."
    ]
    part.seconds = time.perf_counter() - started
    return part


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=7, help=f"tablet commits (>= {MIN_RUNS})")
    parser.add_argument("--database", default="", help="a PostgreSQL URL (default: SQLite)")
    args = parser.parse_args()
    if args.runs < MIN_RUNS:
        parser.error(f"--runs must be at least {MIN_RUNS}")
    with tempfile.TemporaryDirectory(prefix="kiosk-bench-") as name:
        part = measure(args.runs, Path(name), args.database)
    part.print_report()
    print(f"measured {dt.datetime.now():%Y-%m-%d %H:%M}")


if __name__ == "__main__":
    main()
