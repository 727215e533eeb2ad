"""P2: showing the next page of ten questions, against a bare QStackedWidget switch.

Run: ``.venv/bin/python bench/bench_transition.py [--rounds R --runs K]``. Nothing is asserted.

Each path runs in its own child process (offscreen Qt), because the kiosk's stylesheet is set on
the whole application and would otherwise style the bare baseline too. Rounds alternate the
children; every child first makes ``WARMUP`` untimed transitions, then ``K`` timed ones.

Inside one timing, for both paths: build the new page's widgets, put it in the stack and make
it current, take the old page out and ``deleteLater`` it, then ``processEvents()`` (layout,
polish, the paint into the offscreen backing store) and ``sendPostedEvents(DeferredDelete)``
(the old page destroyed, as the event loop does after a tap).

* kiosk: a real kiosk from ``build_kiosk`` (encrypted database, shipped forms, stylesheet and
  fonts, on-screen keyboard, the flow's privacy guard, appearance and staff wiring), visible,
  1280×800, whose visit is a synthetic packet with one page of ten single-choice questions (four
  answers each, PHQ-9-like wording). A timing is ``flow.show_step()``: the ``QuestionScreen``
  built by the widget factory, its signals connected, ``screen_changed`` emitted to the window's
  ``show_screen`` and the other listeners. The database is not touched (saving a page is P5).
* baseline: a visible 1280×800 ``QMainWindow`` holding a ``QStackedWidget``; a timing builds a
  ``QWidget`` with a ``QVBoxLayout`` of ten ``QLabel`` + ten ``QPushButton`` and switches to
  it the same way. No stylesheet, default fonts.
* two more bare variants show where the difference goes: the same bare page under the kiosk's
  stylesheet and fonts, and a bare page with the kiosk page's widget count (ten labels, forty
  buttons) under the stylesheet.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from bench_common import MIN_RUNS, Part, Row, bench_env, median

WARMUP = 5
QUESTIONS = 10
ANSWERS = ("Not at all", "Several days", "More than half the days", "Nearly every day")
TEXTS = (
    "Little interest or pleasure in doing things",
    "Feeling down, depressed, or hopeless",
    "Trouble falling or staying asleep, or sleeping too much",
    "Feeling tired or having little energy",
    "Poor appetite or overeating",
    "Feeling bad about yourself, or that you are a failure",
    "Trouble concentrating on things, such as reading the newspaper",
    "Moving or speaking so slowly that other people could have noticed",
    "Feeling nervous, anxious, or on edge",
    "Not being able to stop or control worrying",
)
MODES = ("kiosk", "bare", "bare-styled", "bare-styled-40")
keep: list[object] = []  # windows live as long as the child


def _one_transition(switch: Callable[[], None]) -> float:
    from PySide6.QtCore import QCoreApplication, QEvent
    from PySide6.QtWidgets import QApplication

    start = time.perf_counter()
    switch()
    QApplication.processEvents()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    return (time.perf_counter() - start) * 1000


def _kiosk_switch(folder: Path) -> Callable[[], None]:
    """A real kiosk showing the synthetic ten-question page again and again."""
    import dataclasses

    from PySide6.QtWidgets import QApplication

    from kiosk import paths
    from kiosk.app.kiosk_app import build_kiosk
    from kiosk.app.service import OpenVisit
    from kiosk.config import Settings
    from kiosk.domain.model import Choice, Form, Item, ItemType, LocalizedText, Page
    from kiosk.domain.visit import Visit
    from kiosk.storage.db import open_database
    from kiosk.ui.theme import apply_theme

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app)
    url = f"sqlite:///{folder / 'kiosk.sqlite3'}"
    settings = dataclasses.replace(
        Settings.load(database_url=url, forms_dir=paths.FORMS_DIR), key_dir=folder / "keys"
    )
    db = open_database(url, key_dir=settings.key_dir)
    kiosk = build_kiosk(settings, db)
    kiosk.window.show()

    def text(value: str) -> LocalizedText:
        return LocalizedText({"en": value, "es": value})

    items = tuple(
        Item(
            id=f"bench_{number}",
            type=ItemType.SINGLE_CHOICE,
            text=text(f"Over the last 2 weeks, how often have you been bothered by: {words}?"),
            choices=tuple(Choice(value, text(label)) for value, label in enumerate(ANSWERS)),
        )
        for number, words in enumerate(TEXTS[:QUESTIONS], start=1)
    )
    form = Form(
        id="bench_ten",
        version=1,
        title=text("How you have been feeling"),
        pages=(Page(id="bench_ten_page", items=items, title=text("The last two weeks")),),
    )
    packet = dataclasses.replace(kiosk.flow.packet, forms=(form,))
    kiosk.flow.open = OpenVisit("bench-visit", Visit(packet, "en"))
    shown = kiosk.window

    def switch() -> None:
        kiosk.flow.show_step()

    switch()
    screen = shown.screen_widget
    widgets = getattr(screen, "widgets", {})
    if type(screen).__name__ != "QuestionScreen" or len(widgets) != QUESTIONS:
        raise RuntimeError(f"the kiosk showed {type(screen).__name__} with {len(widgets)} items")
    return switch


def _bare_switch(*, styled: bool, buttons_per_label: int) -> Callable[[], None]:
    from PySide6.QtWidgets import (
        QApplication,
        QLabel,
        QMainWindow,
        QPushButton,
        QStackedWidget,
        QVBoxLayout,
        QWidget,
    )

    if styled:
        from kiosk.ui.theme import apply_theme

        app = QApplication.instance()
        assert isinstance(app, QApplication)
        apply_theme(app)
    window = QMainWindow()
    stack = QStackedWidget()
    window.setCentralWidget(stack)
    window.resize(1280, 800)
    window.show()
    keep.append(window)

    def switch() -> None:
        page = QWidget()
        column = QVBoxLayout(page)
        for words in TEXTS[:QUESTIONS]:
            column.addWidget(QLabel(words))
            for answer in ANSWERS[:buttons_per_label]:
                column.addWidget(QPushButton(answer))
        old = stack.currentWidget()
        stack.addWidget(page)
        stack.setCurrentWidget(page)
        if old is not None:
            stack.removeWidget(old)
            old.deleteLater()

    return switch


def _page_widget_count() -> int:
    """Widgets on the page now current in the window's stack (the page and everything in it)."""
    from PySide6.QtWidgets import QApplication, QStackedWidget, QWidget

    counts = [0]
    for window in QApplication.topLevelWidgets():
        if window.isVisible():
            for stack in window.findChildren(QStackedWidget):
                page = stack.currentWidget()
                if page is not None:
                    counts.append(len(page.findChildren(QWidget)) + 1)
    return max(counts)


PROFILED = {  # (file ending, function) -> what it is, for the "where the time goes" table
    ("question.py", "__init__"): "build the QuestionScreen (widget factory, labels, top bar)",
    ("~", "<method 'addWidget' of 'PySide6.QtWidgets.QStackedWidget' objects>"): (
        "QStackedWidget.addWidget (the new page polished under the stylesheet)"
    ),
    ("~", "<method 'setCurrentWidget' of 'PySide6.QtWidgets.QStackedWidget' objects>"): (
        "QStackedWidget.setCurrentWidget (show, layout)"
    ),
    ("~", "<built-in method processEvents>"): "processEvents (layout, paint)",
    ("~", "<built-in method sendPostedEvents>"): "sendPostedEvents (old page destroyed)",
}
FILTERS = ("keyboard.py", "idle.py", "kiosk_app.py")  # application-wide Python event filters


def profile_kiosk(switch: Callable[[], None], transitions: int) -> dict[str, float]:
    """Milliseconds per transition (under cProfile, so inflated) in each named part, and the
    number of Qt events per transition (``events``)."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(transitions):
        _one_transition(switch)
    profiler.disable()
    stats = cast(Any, pstats.Stats(profiler)).stats
    found: dict[str, float] = {"total": 0.0, "filters": 0.0}
    events = 0
    for (file, _line, function), (_cc, calls, _tt, cumulative, _callers) in stats.items():
        for (ending, name), label in PROFILED.items():
            if file.endswith(ending) and function == name:
                found[label] = found.get(label, 0.0) + cumulative
        if function == "eventFilter" and file.endswith(FILTERS):
            found["filters"] += cumulative
            if file.endswith("idle.py"):  # the idle watcher sees every event once
                events = calls
        if function == "_one_transition":
            found["total"] += cumulative
    per_transition = {label: seconds * 1000 / transitions for label, seconds in found.items()}
    return {**per_transition, "events": events / transitions}


def child(mode: str, runs: int, *, profile: bool = False) -> dict[str, object]:
    """In a child process: ``WARMUP`` untimed, then ``runs`` timed transitions of ``mode``."""
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from kiosk.app.demo import ensure_app

    ensure_app()  # quiets the offscreen platform's size-hint warning
    with tempfile.TemporaryDirectory(prefix="kiosk-bench-") as name:
        if mode == "kiosk":
            switch = _kiosk_switch(Path(name))
        else:
            switch = _bare_switch(
                styled=mode != "bare", buttons_per_label=4 if mode.endswith("-40") else 1
            )
        for _ in range(WARMUP):
            _one_transition(switch)
        samples = [_one_transition(switch) for _ in range(runs)]
        result: dict[str, object] = {"samples": samples, "widgets": _page_widget_count()}
        if profile:
            result["profile"] = profile_kiosk(switch, 10)
        return result


def run_child(mode: str, runs: int, *, profile: bool = False) -> Any:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", mode, "--runs", str(runs)]
    done = subprocess.run(
        [*command, "--profile"] if profile else command,
        env=bench_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"the {mode} child failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(lines[0].split(" ", 1)[1])


def measure(rounds: int, runs: int) -> Part:
    started = time.perf_counter()
    samples: dict[str, list[float]] = {mode: [] for mode in MODES}
    widgets: dict[str, int] = {}
    profile: dict[str, float] = {}
    for number in range(rounds):
        order = MODES[number % len(MODES) :] + MODES[: number % len(MODES)]
        for mode in order:
            result = run_child(mode, runs, profile=number == 0 and mode == "kiosk")
            samples[mode] += [float(x) for x in result["samples"]]
            widgets[mode] = int(result["widgets"])
            profile = result.get("profile", profile)
        print(
            f"  ... round {number + 1}/{rounds}: "
            + ", ".join(f"{m} {median(samples[m]):.1f} ms" for m in MODES),
            flush=True,
        )
    bare = samples["bare"]
    main_row = Row(
        "next page: ten questions, built and shown",
        samples["kiosk"],
        bare,
        "bare stack switch, 10 labels + 10 buttons",
        goal=2.0,
        absolute_goal=16.0,
    )
    rows = [
        main_row,
        Row(
            "bare page (10 labels + 10 buttons) under the kiosk stylesheet and fonts",
            samples["bare-styled"],
            bare,
            "the same page unstyled",
        ),
        Row(
            "bare page with the kiosk page's widget count (10 labels + 40 buttons), styled",
            samples["bare-styled-40"],
            bare,
            "bare page, 10 + 10, unstyled",
        ),
    ]
    part = Part(
        "P2",
        "Next-page transition (ten questions)",
        method=[
            "One timing, for both paths: build the new page's widgets; add it to the stack and "
            "make it current; take the old page out and `deleteLater` it; `processEvents()` "
            "(layout, polish, paint into the offscreen backing store); "
            "`sendPostedEvents(DeferredDelete)` (the old page destroyed). No database work "
            "(saving the page is P5).",
            "**Kiosk:** a real kiosk from `build_kiosk` (encrypted database, stylesheet and "
            "fonts, on-screen keyboard, privacy guard, appearance and staff wiring), visible at "
            "1280×800, whose visit is a synthetic packet with one page of ten single-choice "
            "questions of four answers each (PHQ-9-like wording). A timing is "
            "`flow.show_step()`: the `QuestionScreen` from the widget factory, its signals "
            "connected, `screen_changed` to `KioskWindow.show_screen` and the other listeners.",
            "**Baseline:** a visible 1280×800 `QMainWindow` with a `QStackedWidget`; a new "
            "`QWidget` with a `QVBoxLayout` of ten `QLabel` + ten `QPushButton`, switched the "
            "same way. No stylesheet, default font.",
            "Each path runs in its own child process (the kiosk's stylesheet is set on the whole "
            f"application); {rounds} rounds alternate the children, each child makes {WARMUP} "
            f"untimed transitions then {runs} timed ones, so each median is of "
            f"{rounds * runs} transitions. The two extra rows are bare variants that show where "
            "the difference goes.",
        ],
        rows=rows,
    )
    part.details.append(
        "Widgets on the page shown (the page and everything in it): "
        + ", ".join(f"{mode} {count}" for mode, count in widgets.items())
        + "."
    )
    if profile:
        total = profile.pop("total", 0.0)
        filters = profile.pop("filters", 0.0)
        events = profile.pop("events", 0.0)
        part.details += [
            "",
            "Where the kiosk's transition goes (10 more transitions under cProfile, which "
            "inflates Python calls; ms per transition, nested rows overlap):",
            "",
            "| part of one kiosk transition | ms (profiled) | share |",
            "|---|---|---|",
        ]
        part.details += [
            f"| {label} | {ms:.1f} | {ms / total:.0%} |" for label, ms in profile.items()
        ]
        part.details += [
            f"| of which: the three application-wide Python event filters (on-screen keyboard, "
            f"idle watcher, staff corner), each called for every one of the {events:.0f} Qt "
            f"events of a transition | {filters:.1f} | "
            f"{filters / total:.0%} |",
            f"| **whole transition** | **{total:.1f}** | |",
        ]
    if main_row.met is False:
        styled = median(samples["bare-styled"]) - median(bare)
        more = median(samples["bare-styled-40"]) - median(samples["bare-styled"])
        over_16 = median(samples["kiosk"]) > 16.0
        why = (
            f"The kiosk's page takes {median(samples['kiosk']):.1f} ms against "
            f"{median(bare):.1f} ms for the bare switch"
            + (" (over the 16 ms frame budget)" if over_16 else " (within one 16 ms frame)")
            + f". It is a much bigger page: {widgets.get('kiosk', 0)} widgets against "
            f"{widgets.get('bare', 0)} (a scroll area and frame, a top bar with progress, "
            "language and text-size buttons, per question a label, a hidden error label and "
            "four large answer buttons in a button group, Back and Next), each made in Python "
            "with an object name, accessible name and cursor, then polished by Qt's style-sheet "
            "engine. The bare variants show the pieces: the stylesheet and large DejaVu text "
            f"alone add about {styled:.1f} ms to the bare page, and forty buttons instead of ten "
            f"add about {more:.1f} ms more."
        )
        if profile:
            why += (
                f" Profiled, building the screen in Python is about "
                f"{profile.get(next(iter(PROFILED.values())), 0.0) / total:.0%} of a transition, "
                "and the three application-wide event filters, written in Python and called for "
                f"every one of the ~{events:.0f} events a transition generates (polish, layout, "
                f"show, paint, child added), about {filters / total:.0%}. Reaching 16 ms would "
                "mean building fewer widgets per page (or reusing them), and event filters that "
                "return early in C++ (or only watch the widgets they need)."
            )
        part.why.append(why)
    part.seconds = time.perf_counter() - started
    return part


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=5, help=f"rounds (>= {MIN_RUNS})")
    parser.add_argument("--runs", type=int, default=20, help="timed transitions per child")
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--profile", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print("RESULT " + json.dumps(child(args.child, args.runs, profile=args.profile)))
        return
    if args.rounds < MIN_RUNS:
        parser.error(f"--rounds must be at least {MIN_RUNS}")
    part = measure(args.rounds, args.runs)
    part.print_report()


if __name__ == "__main__":
    main()
