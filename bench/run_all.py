"""Run every benchmark and write BENCHMARKS.md at the repository root (``make bench``).

Run: ``.venv/bin/python bench/run_all.py [--quick] [--trials N] [--only P1,P4] [--out FILE]``.

Every figure is a ratio of two medians measured in the same run, interleaved, because the
machine is shared and noisy; absolute times are shown but not relied on. Goals are reported as
met or missed, with the reason for every miss; nothing is asserted, and no goal is tested
anywhere (DESIGN §9). ``--quick`` skips the 1M-visit search and uses the fewest runs allowed
(a smoke run; its file says so).
"""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import bench_alerts
import bench_documents
import bench_memory
import bench_records
import bench_search
import bench_startup
import bench_transition
from bench_common import MIN_RUNS, Part, describe_machine, load_average, table_header

from kiosk import paths
from kiosk.domain.loader import load_packet

PARTS = ("P1", "P2", "P3", "P4", "P5", "P6", "Alerts", "Records")


def _git(*args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=paths.PROJECT_ROOT, capture_output=True, text=True, check=False
    )
    return done.stdout


def code_state() -> str:
    """The commit measured, and product files that differed from it while the bench ran."""
    commit = _git("rev-parse", "--short", "HEAD").strip() or "unknown"
    changed = [
        line[3:]
        for line in _git("status", "--porcelain", "--", "kiosk", "forms", "resources").splitlines()
    ]
    if not changed:
        return f"commit {commit}, no uncommitted changes to kiosk/, forms/ or resources/"
    return (
        f"commit {commit}, with uncommitted changes (other work in the same tree) to: "
        + ", ".join(f"`{name}`" for name in changed)
    )


def render(
    parts: list[Part],
    machine: list[tuple[str, str]],
    *,
    quick: bool,
    partial: list[str],
    seconds: float,
    loads: tuple[str, str],
    state: str,
) -> str:
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`bench/run_all.py`); do not edit by hand. Each figure is a "
        "ratio of two medians measured in the same run, the two sides interleaved, because "
        "the machine is shared and noisy: absolute times are shown but not relied on. A goal "
        "that is missed says so, with the reason; the baselines are not tuned. Nothing here is "
        "asserted, and no speed or memory goal is tested anywhere (DESIGN §9).",
        "",
    ]
    if quick:
        lines += [
            "> **Quick run** (`--quick`): no 1M-visit search, the fewest runs allowed. "
            "A smoke run, not the figures of record.",
            "",
        ]
    if partial:
        lines += [f"> **Partial run**: only {', '.join(partial)}.", ""]
    lines += ["## Machine", "", "| | |", "|---|---|"]
    lines += [f"| {what} | {value} |" for what, value in machine]
    lines += [
        f"| load average (1, 5, 15 min) | {loads[0]} at the start, {loads[1]} at the end |",
        f"| code | {state} |",
        f"| whole run | {seconds / 60:.1f} minutes |",
        "",
        "## Summary",
        "",
        "| | measurement | median | baseline, same run | ratio | goal | |",
        "|---|---|---|---|---|---|---|",
    ]
    for part in parts:
        for row in part.rows:
            if row.goal is not None or row.absolute_goal is not None:
                lines.append(f"| {part.key} " + row.markdown())
    crash = next((p for p in parts if p.key == "Records"), None)
    if crash is not None:
        lines += [
            "",
            "Crash trials (trials, acknowledged saves lost, partial visits, other problems): "
            + crash.details[2].strip("| ").replace(" | ", ", ")
            + ".",
        ]
    missed = [p for p in parts if p.missed]
    if missed:
        lines += [
            "",
            "Missed goals, in short (details and reasons under each part): "
            + "; ".join(
                f"{p.key} ({', '.join(f'{r.ratio:.1f}×' for r in p.rows if r.met is False)})"
                for p in missed
            )
            + ".",
        ]
    for part in parts:
        lines += ["", f"## {part.key}: {part.title}", ""]
        lines += [f"- {bullet}" for bullet in part.method]
        if part.rows:
            lines += ["", *table_header(), *[row.markdown() for row in part.rows]]
        if part.details:
            lines += ["", *part.details]
        if part.why:
            lines += ["", "**Why the goal is missed.**" if part.rows else "**Problems.**", ""]
            lines += [f"- {why}" for why in part.why]
        elif part.missed:
            lines += ["", "**Why the goal is missed:** not explained by the bench; see above."]
        lines.append("")
        lines.append(f"*Measured in {part.seconds:.0f} s.*")
    return "\n".join(lines).rstrip() + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="no 1M search, fewest runs")
    parser.add_argument("--trials", type=int, default=30, help="crash trials (default 30)")
    parser.add_argument("--only", default="", help=f"comma-separated parts of {PARTS}")
    parser.add_argument(
        "--out", type=Path, default=paths.PROJECT_ROOT / "BENCHMARKS.md", help="report file"
    )
    args = parser.parse_args()
    only = [p.strip() for p in args.only.split(",") if p.strip()] or list(PARTS)
    unknown = sorted(set(only) - set(PARTS))
    if unknown:
        parser.error(f"unknown parts {unknown}; choose from {PARTS}")
    if args.trials < 1:
        parser.error("--trials must be at least 1")
    quick = args.quick
    runs = MIN_RUNS if quick else 7

    started = time.perf_counter()
    load_start = load_average()
    print("machine ...", flush=True)
    machine = describe_machine()
    for what, value in machine:
        print(f"  {what}: {value}")
    packet = load_packet(paths.FORMS_DIR)
    parts: list[Part] = []
    with tempfile.TemporaryDirectory(prefix="kiosk-bench-") as name:
        folder = Path(name)

        def place(part: str) -> Path:
            target = folder / part
            target.mkdir()
            return target

        def records() -> list[Part]:
            where = place("records")
            crash = bench_records.crash_trials(args.trials, where, packet)
            bench_records.print_crash_trials(crash)
            return [bench_records.crash_part(crash)]

        def latency() -> list[Part]:
            start = time.perf_counter()
            result = bench_records.save_latency(200 if quick else 300, place("latency"), packet)
            part = bench_records.latency_part(result)
            part.seconds = time.perf_counter() - start
            return [part]

        plan: dict[str, tuple[str, Callable[[], list[Part]]]] = {
            "P1": (
                "cold start (fresh processes)",
                lambda: [bench_startup.measure(runs, place("startup"))],
            ),
            "P2": (
                "next-page transition",
                lambda: [bench_transition.measure(MIN_RUNS, 10 if quick else 20)],
            ),
            "P3": ("consent PDF render + seal", lambda: [bench_documents.measure(runs)]),
            "P5": ("saving one page", latency),
            "Records": (f"{args.trials} crash trials", records),
            "P6": (
                "peak memory (fresh processes, whole visits)",
                lambda: [bench_memory.measure(MIN_RUNS, MIN_RUNS, place("memory"))],
            ),
            "P4": (
                "staff search" + (" at 10k and 100k" if quick else " at 10k, 100k and 1M"),
                lambda: [
                    bench_search.measure(
                        30 if quick else 60,
                        bench_search.QUICK_SIZES if quick else bench_search.SIZES,
                        place("search"),
                    )
                ],
            ),
            "Alerts": (
                "urgent flag: tablet commit → console banner",
                lambda: [bench_alerts.measure(runs, place("alerts"))],
            ),
        }
        for key, (what, run) in plan.items():
            if key not in only:
                continue
            print(f"{key}: {what} ...", flush=True)
            begun = time.perf_counter()
            for part in run():
                if not part.seconds:
                    part.seconds = time.perf_counter() - begun
                part.print_summary()
                parts.append(part)
    parts.sort(key=lambda p: PARTS.index(p.key))
    seconds = time.perf_counter() - started
    report = render(
        parts,
        machine,
        quick=quick,
        partial=only if set(only) != set(PARTS) else [],
        seconds=seconds,
        loads=(load_start, load_average()),
        state=code_state(),
    )
    args.out.write_text(report, encoding="utf-8")
    print(f"wrote {args.out} ({seconds / 60:.1f} minutes, {dt.datetime.now():%H:%M})")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
