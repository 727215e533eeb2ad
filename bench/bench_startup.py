"""P1: cold start to an interactive Welcome screen, against a bare PySide6 window.

Run: ``.venv/bin/python bench/bench_startup.py [--runs N]``. Nothing here is asserted.

Every run is a fresh ``python -c`` process (offscreen Qt). The clock starts in the parent just
before the child is spawned and stops inside the child, in the first event the running event loop
processes once the window is visible (a ``QTimer.singleShot(0)``; if it ever fired before a
window was shown it would re-post itself). Both read the same monotonic clock, so interpreter
start-up is inside both timings.

* product: the real ``kiosk run --windowed`` path (``kiosk.cli.main``): settings, the
  single-instance lock, fonts and stylesheet, ``open_kiosk`` (open the encrypted database,
  migrations check, start-up check: quick_check, cipher_integrity_check, foreign keys, audit
  chain; purge of old drafts; load and check the forms; build the window, flow and on-screen
  keyboard; Welcome), the ``kiosk.started`` audit event, crash guards, ``show()``. The
  QApplication is made first by the harness (so it can post the timer); ``run_kiosk`` reuses it.
  On an existing data and key folder, made by one start before timing: key and certificate
  generation and the first migration are NOT counted (they happen once per installation).
* baseline: ``import PySide6``, a QApplication, a QMainWindow holding a QLabel, resized to the
  same 1280×800, ``show()``, the same timer and exit point.

Runs alternate product and baseline. The OS file cache is warm (every file was read by the
preparation start): "cold" means a new process, not a rebooted machine.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench_common import MIN_RUNS, Part, Row, bench_env, fmt, median

REPORTER = """
import json, os, sys, time
def _report(screen):
    fields = {"t": time.clock_gettime(time.CLOCK_MONOTONIC), "screen": screen}
    with open("/proc/self/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                fields[key] = int(value.split()[0])
    sys.stdout.write("BENCH " + json.dumps(fields) + "\\n")
    sys.stdout.flush()
"""

BASELINE = (
    REPORTER
    + """
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow
app = QApplication([sys.argv[0]])
window = QMainWindow()
window.setCentralWidget(QLabel("Welcome"))
window.resize(1280, 800)
window.show()
def done():
    _report(type(window.centralWidget()).__name__)
    app.exit(0)
QTimer.singleShot(0, done)
app.exec()
os._exit(0)
"""
)

PRODUCT = (
    REPORTER
    + """
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
app = QApplication([sys.argv[0]])
def done():
    shown = [w for w in app.topLevelWidgets() if w.isVisible() and w.objectName() == "kioskWindow"]
    if not shown:
        QTimer.singleShot(0, done)
        return
    _report(type(shown[0].screen_widget).__name__)
    app.exit(0)
QTimer.singleShot(0, done)
from kiosk.cli import main
code = main(["run", "--windowed"])
os._exit(code)
"""
)

# The same start, cut into phases (each mark: time and VmRSS), to say where the time goes.
PHASES = (
    REPORTER
    + """
marks = []
def mark(label):
    rss = 0
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    marks.append((label, time.clock_gettime(time.CLOCK_MONOTONIC), rss))
mark("interpreter start-up")
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
mark("import PySide6 (QtCore, QtWidgets)")
app = QApplication([sys.argv[0]])
mark("QApplication")
import sqlalchemy.orm
mark("import SQLAlchemy")
import alembic.command, alembic.runtime.migration, alembic.script
mark("import Alembic")
import reportlab.platypus
mark("import ReportLab")
import kiosk.app.kiosk_app as ka
from kiosk.config import Settings
from kiosk.ui.theme import apply_theme
mark("import the kiosk's own modules (and what they pull in: YAML, PIL, cryptography, ...)")
apply_theme(app)
mark("fonts and stylesheet")
inner = {}
def wrap(name):
    original = getattr(ka, name)
    def timed(*args, **kwargs):
        start = time.clock_gettime(time.CLOCK_MONOTONIC)
        try:
            return original(*args, **kwargs)
        finally:
            inner[name] = inner.get(name, 0.0) + time.clock_gettime(time.CLOCK_MONOTONIC) - start
    setattr(ka, name, timed)
for name in ("open_database", "startup_check", "purge_drafts", "load_packet", "build_kiosk"):
    wrap(name)
kiosk = ka.open_kiosk(Settings.load())
mark("open_kiosk")
kiosk.window.show()
def done():
    mark("show() and the first event")
    base = float(sys.argv[1])
    rows = []
    previous = base
    for label, at, rss in marks:
        rows.append([label, (at - previous) * 1000, rss])
        previous = at
    sys.stdout.write("PHASES " + json.dumps({"marks": rows, "inner": {
        k: v * 1000 for k, v in inner.items()}}) + "\\n")
    sys.stdout.flush()
    os._exit(0)
QTimer.singleShot(0, done)
app.exec()
"""
)


@dataclass(frozen=True)
class ChildResult:
    ms: float  # from just before the spawn to the report
    hwm_mib: float
    rss_mib: float
    screen: str


def run_child(code: str, env: dict[str, str], cwd: Path, *, marker: str = "BENCH") -> ChildResult:
    """Spawn ``python -c code``; the child's first ``BENCH {json}`` line is its report."""
    start = time.clock_gettime(time.CLOCK_MONOTONIC)
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    reports = [line for line in done.stdout.splitlines() if line.startswith(marker + " ")]
    if not reports:
        raise RuntimeError(
            f"the child reported nothing (exit {done.returncode}):\n{done.stdout}\n{done.stderr}"
        )
    fields = json.loads(reports[0].split(" ", 1)[1])
    return ChildResult(
        ms=(float(fields["t"]) - start) * 1000,
        hwm_mib=int(fields["VmHWM"]) / 1024,
        rss_mib=int(fields["VmRSS"]) / 1024,
        screen=str(fields["screen"]),
    )


def child_reports(code: str, env: dict[str, str], cwd: Path) -> list[dict[str, object]]:
    """Every ``BENCH`` report of one child (the visit child reports twice)."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    reports = [
        json.loads(line.split(" ", 1)[1])
        for line in done.stdout.splitlines()
        if line.startswith("BENCH ")
    ]
    if not reports or done.returncode != 0:
        raise RuntimeError(
            f"the child failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}"
        )
    return reports


@dataclass(frozen=True)
class Installation:
    """A data and key folder on which the kiosk has started once (keys, certificates, records)."""

    folder: Path
    data: Path
    keys: Path

    def env(self, data: Path | None = None) -> dict[str, str]:
        env = bench_env()
        env["KIOSK_DATA_DIR"] = str(data or self.data)
        env["KIOSK_KEY_DIR"] = str(self.keys)
        env["KIOSK_ID"] = "bench-tablet"
        # An installed kiosk has its bytecode compiled (pip does it); this sandbox sets
        # PYTHONDONTWRITEBYTECODE, and the kiosk's own editable sources have no cache. Keep one
        # in the bench folder, made by the untimed first start, so the tree stays untouched.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(self.folder / "pycache")
        return env

    def copy_data(self, name: str) -> Path:
        """A fresh copy of the records as they were after the first start."""
        target = self.folder / name
        shutil.copytree(self.pristine, target)
        return target

    @property
    def pristine(self) -> Path:
        return self.folder / "pristine-data"


def install(folder: Path) -> Installation:
    """Start the kiosk once on new folders (keys, certificates, database, migrations), untimed."""
    place = Installation(folder, folder / "data", folder / "keys")
    result = run_child(PRODUCT, place.env(), folder)
    if result.screen != "WelcomeScreen":
        raise RuntimeError(f"the kiosk did not start on Welcome but on {result.screen}")
    for needed in ("database.key", "audit.key", "kiosk-seal.crt", "clinic-root.crt"):
        if not (place.keys / needed).exists():
            raise RuntimeError(f"the first start made no {needed}")
    shutil.copytree(place.data, place.pristine, ignore=shutil.ignore_patterns("kiosk.lock"))
    return place


Phases = tuple[list[tuple[str, float, float]], dict[str, float]]


def phases(place: Installation, runs: int) -> Phases:
    """Median of each phase over ``runs`` children: (label, ms, VmRSS MiB at its end), and the
    median time inside each wrapped step of ``open_kiosk``."""
    collected: list[Any] = []
    for _ in range(runs):
        start = time.clock_gettime(time.CLOCK_MONOTONIC)
        done = subprocess.run(
            [sys.executable, "-c", PHASES, repr(start)],
            env=place.env(),
            cwd=place.folder,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        lines = [line for line in done.stdout.splitlines() if line.startswith("PHASES ")]
        if not lines:
            raise RuntimeError(f"the phases child failed:\n{done.stdout}\n{done.stderr}")
        collected.append(json.loads(lines[0].split(" ", 1)[1]))
    table = [
        (
            str(label),
            median([float(c["marks"][index][1]) for c in collected]),
            median([float(c["marks"][index][2]) / 1024 for c in collected]),
        )
        for index, (label, _, _) in enumerate(collected[0]["marks"])
    ]
    inner = {
        str(name): median([float(c["inner"][name]) for c in collected])
        for name in collected[0]["inner"]
    }
    return table, inner


def measure(runs: int, folder: Path, phase_runs: int = 3) -> Part:
    """P1, interleaved: ``runs`` product starts and ``runs`` bare windows."""
    started = time.perf_counter()
    place = install(folder)
    env = place.env()
    product: list[float] = []
    baseline: list[float] = []
    screens: set[str] = set()
    for number in range(runs):
        order = ("product", "baseline") if number % 2 == 0 else ("baseline", "product")
        for which in order:
            if which == "product":
                result = run_child(PRODUCT, env, folder)
                screens.add(result.screen)
                product.append(result.ms)
            else:
                baseline.append(run_child(BASELINE, env, folder).ms)
        print(
            f"  ... start {number + 1}/{runs}: kiosk {product[-1]:.0f} ms, "
            f"bare window {baseline[-1]:.0f} ms",
            flush=True,
        )
    if screens != {"WelcomeScreen"}:
        raise RuntimeError(f"the kiosk started on {screens}, not only on Welcome")
    table, inner = phases(place, phase_runs)
    row = Row(
        "cold start to an interactive Welcome",
        product,
        baseline,
        "bare PySide6 window",
        goal=1.3,
    )
    part = Part(
        "P1",
        "Cold start to an interactive Welcome screen",
        method=[
            "Each run is a new `python -c` process, offscreen. Timed from just before the parent "
            "spawns it to the first event the child's running event loop processes once the "
            "window is visible (`QTimer.singleShot(0)`); interpreter start-up is in both.",
            "**Kiosk:** the real `kiosk run --windowed` path (`kiosk.cli.main`): settings, the "
            "single-instance lock, fonts and stylesheet, `open_kiosk` (open the SQLCipher "
            "database, migration check, start-up check: `quick_check`, "
            "`cipher_integrity_check`, foreign keys, the audit chain; purge of old drafts; load "
            "and check the forms; window, flow and on-screen keyboard; Welcome), the "
            "`kiosk.started` audit event, `show()`.",
            "On a data and key folder made by one untimed start first: **key and certificate "
            "generation and the first migration are not counted** (they happen once per "
            'installation). The OS file cache is warm: "cold" means a new process.',
            "**Baseline:** `import PySide6`, a `QApplication`, a `QMainWindow` with a `QLabel`, "
            "1280×800 like the kiosk, `show()`, the same timer and exit point.",
            f"{runs} runs of each, alternating which goes first.",
        ],
        rows=[row],
    )
    total = sum(ms for _, ms, _ in table)
    part.details += [
        f"Where the kiosk's start goes (one more series of {phase_runs} starts, cut into phases "
        "by marks inside the child; medians, so the sum differs a little from the total above; "
        "this series replays `open_kiosk` without the lock, the `kiosk.started` event and the "
        "crash guards):",
        "",
        "| phase | ms | VmRSS at its end |",
        "|---|---|---|",
    ]
    part.details += [f"| {label} | {ms:.0f} | {rss:.0f} MiB |" for label, ms, rss in table]
    part.details.append(f"| **total** | **{total:.0f}** | |")
    if inner:
        names = {
            "open_database": "open the encrypted database + Alembic migration check",
            "startup_check": "start-up check (quick_check, cipher_integrity_check, audit chain)",
            "purge_drafts": "purge abandoned drafts",
            "load_packet": "load and check the YAML forms",
            "build_kiosk": "build window, flow, keyboard and Welcome (incl. the forms)",
        }
        part.details += [
            "",
            "Inside `open_kiosk`: "
            + "; ".join(f"{names.get(k, k)} {v:.0f} ms" for k, v in inner.items())
            + ".",
        ]
    if row.met is False:
        by_label = {label: ms for label, ms, _ in table}
        imports = sum(ms for label, ms, _ in table if label.startswith("import "))
        bare_imports = by_label.get("import PySide6 (QtCore, QtWidgets)", 0.0)
        part.why.append(
            f"The kiosk takes {fmt(median(product), 'ms')} where a bare window takes "
            f"{fmt(median(baseline), 'ms')}: the ratio counts work the bare window does not do "
            "at all, not Qt overhead. "
            f"Importing is the largest share: about {imports - bare_imports:.0f} ms beyond "
            "PySide6 itself (SQLAlchemy "
            f"{by_label.get('import SQLAlchemy', 0):.0f} ms, Alembic "
            f"{by_label.get('import Alembic', 0):.0f} ms, ReportLab "
            f"{by_label.get('import ReportLab', 0):.0f} ms, the kiosk's own modules with YAML, "
            "PIL and cryptography the rest). Opening and checking the encrypted records "
            f"({inner.get('open_database', 0) + inner.get('startup_check', 0):.0f} ms), loading "
            f"the forms ({inner.get('load_packet', 0):.0f} ms) and building the window with its "
            f"keyboard ({inner.get('build_kiosk', 0) - inner.get('load_packet', 0):.0f} ms) "
            "follow. A 1.3× goal against a window that imports nothing but Qt would need the "
            "database, PDF and migration libraries off the start-up path (imported after "
            "Welcome is shown, or never on a normal start) — a product change, not a bench "
            "change; the baseline is not tuned."
        )
    part.seconds = time.perf_counter() - started
    return part


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=7, help=f"starts of each (>= {MIN_RUNS})")
    args = parser.parse_args()
    if args.runs < MIN_RUNS:
        parser.error(f"--runs must be at least {MIN_RUNS}")
    with tempfile.TemporaryDirectory(prefix="kiosk-bench-") as name:
        part = measure(args.runs, Path(name))
    part.print_report()


if __name__ == "__main__":
    main()
