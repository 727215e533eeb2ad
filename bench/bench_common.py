"""What every benchmark shares: samples and their medians, goals, the machine, the report parts.

A figure is a ratio of two medians measured in the same run, interleaved (the machine is shared
and noisy): absolute times are shown but not relied on. Nothing here is asserted anywhere.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

MIN_RUNS = 5


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def timed_ms(action: Callable[[], object]) -> float:
    """Milliseconds ``action`` took (perf_counter)."""
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000


def interleave(
    product: Callable[[], float], baseline: Callable[[], float], runs: int
) -> tuple[list[float], list[float]]:
    """``runs`` samples of each, alternating which goes first, so both see the same machine."""
    ours: list[float] = []
    bare: list[float] = []
    for number in range(runs):
        if number % 2:
            bare.append(baseline())
            ours.append(product())
        else:
            ours.append(product())
            bare.append(baseline())
    return ours, bare


def fmt(value: float, unit: str) -> str:
    if unit != "ms":
        return f"{value:.1f} {unit}"
    if value < 1:
        return f"{value:.3f} ms"
    return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"


@dataclass
class Row:
    """One comparison: ``measured`` samples against ``against`` samples of the same run."""

    label: str
    measured: list[float]
    against: list[float]
    against_label: str
    goal: float | None = None  # the most the median ratio may be; None: shown, no goal
    unit: str = "ms"
    absolute_goal: float | None = None  # the most the measured median may be, in ``unit``

    @property
    def ratio(self) -> float:
        return median(self.measured) / median(self.against)

    @property
    def met(self) -> bool | None:
        if self.goal is None and self.absolute_goal is None:
            return None
        ok = self.goal is None or self.ratio <= self.goal
        if self.absolute_goal is not None:
            ok = ok and median(self.measured) <= self.absolute_goal
        return ok

    def goal_text(self) -> str:
        parts = []
        if self.goal is not None:
            parts.append(f"≤ {self.goal:g}×")
        if self.absolute_goal is not None:
            parts.append(f"median < {fmt(self.absolute_goal, self.unit)}")
        return ", ".join(parts) or "—"

    def markdown(self) -> str:
        met = {None: "—", True: "**met**", False: "**missed**"}[self.met]
        spread = f"{fmt(min(self.measured), self.unit)}–{fmt(max(self.measured), self.unit)}"
        return (
            f"| {self.label} | {fmt(median(self.measured), self.unit)} ({spread}, "
            f"n={len(self.measured)}) | {self.against_label}: "
            f"{fmt(median(self.against), self.unit)} (n={len(self.against)}) | "
            f"{self.ratio:.2f}× | {self.goal_text()} | {met} |"
        )

    def console(self) -> str:
        met = {None: "", True: "  met", False: "  MISSED"}[self.met]
        return (
            f"  {self.label}: {fmt(median(self.measured), self.unit)} vs "
            f"{self.against_label} {fmt(median(self.against), self.unit)} = {self.ratio:.2f}x "
            f"(goal {self.goal_text()}){met}"
        )


@dataclass
class Part:
    """One section of BENCHMARKS.md: what was measured, how, the figures, and why a goal missed."""

    key: str
    title: str
    method: list[str]  # bullets: exactly what is inside each timing
    rows: list[Row] = field(default_factory=list)
    details: list[str] = field(default_factory=list)  # markdown lines shown after the table
    why: list[str] = field(default_factory=list)  # plain words for every missed goal
    seconds: float = 0.0  # how long this part took to measure

    @property
    def missed(self) -> bool:
        return any(row.met is False for row in self.rows)

    def print_summary(self) -> None:
        print(f"{self.key} {self.title} ({self.seconds:.0f} s)")
        for row in self.rows:
            print(row.console())

    def print_report(self) -> None:
        """The summary, the details and every reason, for a bench run on its own."""
        self.print_summary()
        print("\n".join(self.details))
        for why in self.why:
            print(f"why: {why}")


def table_header() -> list[str]:
    return [
        "| measurement | median (min–max, runs) | baseline, same run | ratio | goal | |",
        "|---|---|---|---|---|---|",
    ]


def bench_env() -> dict[str, str]:
    """The environment for a child process: offscreen Qt, no KIOSK_* setting from outside."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    return env


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _filesystem(folder: str) -> str:
    best = ("", "unknown", "unknown")
    try:
        for line in Path("/proc/mounts").read_text().splitlines():
            device, mount, kind = line.split()[:3]
            if folder.startswith(mount) and len(mount) > len(best[0]):
                best = (mount, kind, device)
    except OSError:
        pass
    return f"{best[1]} on {best[2]}"


def _sqlcipher_versions() -> tuple[str, str]:
    from kiosk.storage.db import open_database

    with tempfile.TemporaryDirectory(prefix="kiosk-bench-") as name:
        db = open_database(f"sqlite:///{Path(name) / 'v.sqlite3'}", key_dir=Path(name) / "k")
        with db.engine.connect() as connection:
            cipher = str(connection.exec_driver_sql("PRAGMA cipher_version").scalar())
            sqlite = str(connection.exec_driver_sql("SELECT sqlite_version()").scalar())
        db.dispose()
    return cipher, sqlite


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def describe_machine() -> list[tuple[str, str]]:
    """The machine and the software, as (what, value) pairs for the report."""
    from PySide6 import QtCore

    cipher, sqlite = _sqlcipher_versions()
    temp = tempfile.gettempdir()
    return [
        ("date", dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")),
        ("CPU", f"{_cpu_model()}, {os.cpu_count()} logical cores (shared with other work)"),
        ("memory", _memory_gib()),
        ("kernel", f"{platform.system()} {platform.release()} ({platform.machine()})"),
        (
            "OS",
            platform.freedesktop_os_release().get("PRETTY_NAME", "unknown")
            if hasattr(platform, "freedesktop_os_release")
            else "unknown",
        ),
        ("temp folder", f"{temp} ({_filesystem(temp)})"),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("Qt", f"Qt {QtCore.qVersion()}, PySide6 {metadata.version('PySide6')}, offscreen"),
        (
            "SQLite",
            f"kiosk: SQLCipher {cipher} on SQLite {sqlite}; stdlib sqlite3: SQLite "
            f"{sqlite3.sqlite_version}",
        ),
        (
            "libraries",
            ", ".join(
                f"{name} {metadata.version(name)}"
                for name in ("SQLAlchemy", "alembic", "reportlab", "pyHanko", "sqlcipher3")
            ),
        ),
    ]
