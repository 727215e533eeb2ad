"""A synthetic patient walks through the real kiosk, offscreen, by tapping its real widgets.

Used by ``kiosk demo`` and for the README screenshots. The patient is invented.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import assert_never

from PySide6.QtCore import (
    QCoreApplication,
    QEventLoop,
    QMessageLogContext,
    QTimer,
    QtMsgType,
    qInstallMessageHandler,
)
from PySide6.QtWidgets import QAbstractButton, QApplication, QWidget

from kiosk.app.kiosk_app import Kiosk
from kiosk.app.service import FinishedVisit
from kiosk.app.synthetic import SYNTHETIC_ANSWERS, consent_answers, signature_strokes
from kiosk.domain.answers import AnswerProblem, validate
from kiosk.domain.loader import suggest
from kiosk.domain.model import AnswerValue, Item, Packet
from kiosk.domain.scoring import score_raw_answers
from kiosk.storage import repository
from kiosk.storage.db import Database
from kiosk.ui.screens.consent import SectionScreen, SignatureScreen
from kiosk.ui.screens.done import DoneScreen
from kiosk.ui.screens.notice import NoticeScreen
from kiosk.ui.screens.question import QuestionScreen
from kiosk.ui.screens.review import ReviewScreen
from kiosk.ui.screens.start import LanguageScreen, WelcomeScreen


def settle(ms: int = 30) -> None:
    """Let Qt lay out and paint."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


@dataclass
class DemoPatient:
    """Taps through a kiosk the way a patient would.

    ``on_screen`` sees each screen once it is filled in, just before the patient moves on.
    ``screens`` counts the screens met; ``taps`` the buttons tapped, answers given and
    strokes drawn.
    """

    kiosk: Kiosk
    language: str = "en"
    answers: Mapping[str, AnswerValue] = field(default_factory=lambda: dict(SYNTHETIC_ANSWERS))
    on_screen: Callable[[QWidget], None] | None = None
    finished: FinishedVisit | None = None
    screens: int = 0
    taps: int = 0
    notices: list[str] = field(default_factory=list)  # the notices met (e.g. "crisis")

    def run(self, max_steps: int = 300) -> FinishedVisit:
        """Go from Welcome to the signed consent; return what the visit left behind.

        Raises:
            RuntimeError: the patient met a screen they do not know, or never reached the end.
        """
        self.answers = {**consent_answers(self.kiosk.flow.packet), **self.answers}
        self.kiosk.flow.visit_finished.connect(self._finished)
        last: QWidget | None = None
        for _ in range(max_steps):
            screen = self.kiosk.window.screen_widget
            if screen is not last:
                self.screens += 1
                last = screen
            settle()
            if isinstance(screen, DoneScreen) and self.finished is not None:
                self._seen(screen)
                return self.finished
            self._act(screen)
        raise RuntimeError("the demo patient did not reach the end")

    def _finished(self, finished: FinishedVisit) -> None:
        self.finished = finished

    def _seen(self, screen: QWidget) -> bool:
        """Show ``screen`` to ``on_screen``; False when that replaced it (act on the new one)."""
        settle()
        if self.on_screen is not None:
            self.on_screen(screen)
        return self.kiosk.window.screen_widget is screen

    def _tap(self, button: QAbstractButton) -> None:
        self.taps += 1
        button.click()

    def _act(self, screen: QWidget | None) -> None:
        if isinstance(screen, WelcomeScreen):
            if self._seen(screen):
                self._tap(screen.start_button)
        elif isinstance(screen, LanguageScreen):
            if self._seen(screen):
                self._tap(screen.buttons[self.language])
        elif isinstance(screen, QuestionScreen):
            for item_id, widget in screen.widgets.items():
                value = self.answers.get(item_id)
                widget.set_value(value)
                self.taps += value is not None
            if self._seen(screen):
                self._tap(screen.primary_button)
        elif isinstance(screen, SectionScreen):
            if self._seen(screen):
                bar = screen.scroll_area.verticalScrollBar()
                bar.setValue(bar.maximum())  # reads to the end, as the reading record shows
                self._tap(screen.primary_button)
        elif isinstance(screen, NoticeScreen):
            self.notices.append(screen.name)
            if self._seen(screen):
                self._tap(screen.primary_button)
        elif isinstance(screen, ReviewScreen):
            if self._seen(screen):
                self._tap(screen.primary_button)
        elif isinstance(screen, SignatureScreen):
            pad = screen.pad
            for stroke in signature_strokes(pad.width(), pad.height()):
                pad.add_stroke(stroke)
                self.taps += 1
            if self._seen(screen):
                self._tap(screen.primary_button)
        else:
            raise RuntimeError(f"the demo patient does not know {type(screen).__name__}")


class DemoAnswersError(ValueError):
    """Answers for the demo patient that cannot be used; ``problems`` are one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def demo_items(packet: Packet) -> dict[str, Item]:
    """Every question the demo patient can be given an answer to: the packet's forms, the
    comprehension questions and the ticks before signing."""
    items = {item.id: item for form in packet.forms for item in form.items}
    quiz = packet.consent.quiz
    items.update((q.id, q.as_item()) for q in (quiz.questions if quiz else ()))
    items.update((item.id, item) for item in packet.consent.attestations)
    return items


def override_answers(
    packet: Packet, raw: Mapping[str, object], today: dt.date
) -> dict[str, AnswerValue]:
    """The synthetic patient's answers with ``raw`` (item id -> answer, as JSON gives it) in
    their place. An empty answer to a question that may be skipped leaves it unanswered.

    Raises:
        DemoAnswersError: naming every unknown item (with the nearest id) and every answer its
            question does not take (with what it takes).
    """
    items = demo_items(packet)
    answers: dict[str, AnswerValue] = {**consent_answers(packet), **SYNTHETIC_ANSWERS}
    problems: list[str] = []
    for item_id, value in raw.items():
        item = items.get(item_id)
        if item is None:
            problems.append(
                f"'{_printable(item_id)}' is not a question of the visit{suggest(item_id, items)}"
            )
            continue
        checked = validate(item, value, today)
        if checked.problem is not None:
            shown = _printable(json.dumps(value, ensure_ascii=False))
            problems.append(f"'{item_id}': {shown} {_why(item, checked.problem)}")
        elif checked.value is None:
            answers.pop(item_id, None)  # may be skipped: the demo patient skips it
        else:
            answers[item_id] = checked.value
    if problems:
        raise DemoAnswersError(problems)
    return answers


def _printable(text: str, limit: int = 60) -> str:
    """Text from a file as it may be printed: no line breaks or terminal escapes of its own,
    and not a screenful."""
    text = text if text.isprintable() else ascii(text)[1:-1]
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _why(item: Item, problem: AnswerProblem) -> str:
    """Why an answer is not taken, and what the question takes, for whoever wrote the file."""
    takes = ", ".join(json.dumps(c.value, ensure_ascii=False) for c in item.choices)
    match problem:
        case AnswerProblem.REQUIRED:
            return "leaves it unanswered, but the question must be answered"
        case AnswerProblem.NOT_A_CHOICE:
            return f"is not among its answers ({takes or 'true or false'})"
        case AnswerProblem.OUT_OF_RANGE:
            return f"is not a whole number from {item.minimum} to {item.maximum}"
        case AnswerProblem.TOO_LONG:
            return f"is longer than {item.max_length} characters"
        case AnswerProblem.DATE_INVALID:
            return 'is not a date written like "1961-03-05"'
        case AnswerProblem.DATE_FUTURE:
            return "is a date in the future"
        case AnswerProblem.DATE_TOO_OLD:
            return "is a date too long ago"
        case AnswerProblem.PHONE_INVALID:
            return 'is not a 10-digit phone number like "(555) 010-0199"'
        case AnswerProblem.EXCLUSIVE_CHOICE:
            return f'chooses "none" with other answers (it takes a list of: {takes})'
        case AnswerProblem.ROW_INCOMPLETE | AnswerProblem.TOO_MANY_ROWS:
            columns = ", ".join(c.id for c in item.columns)
            return (
                f"is not a list of at most {item.max_rows} rows, each with its first field "
                f"(the fields: {columns})"
            )
        case AnswerProblem.UNKNOWN_ITEM:
            return "is for a question the visit does not have"
        case _ as unreachable:
            assert_never(unreachable)


def _quiet_offscreen(mode: QtMsgType, context: QMessageLogContext, message: str) -> None:
    """The offscreen platform warns on every window it cannot resize; that is not news."""
    if "propagateSizeHints" not in message:
        sys.stderr.write(message + "\n")


def ensure_app() -> QApplication:
    """The running QApplication, or a new one."""
    app = QCoreApplication.instance()
    if isinstance(app, QApplication):
        return app
    qInstallMessageHandler(_quiet_offscreen)
    return QApplication([])


def write_screenshot(widget: QWidget, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    widget.window().grab().save(str(path))


PHQ9_ITEM9: dict[str, AnswerValue] = {f"phq9_{n}": 1 for n in range(1, 10)}
PHQ9_ITEM9["phq9_difficulty"] = "somewhat"
"""A PHQ-9 page whose item 9 is above "Not at all": it raises the urgent ``phq9_item9`` flag."""


def write_flagged_visit(  # noqa: PLR0917 - synthetic data, every argument named at the call
    db: Database,
    packet: Packet,
    name: str,
    birth_date: str,
    now: dt.datetime,
    kiosk_id: str = "tablet-2",
) -> str:
    """A synthetic visit written the way a tablet writes it (each page one transaction with its
    audit event): the identity page, then a PHQ-9 page that raises the urgent item-9 flag.
    For the staff console's screenshots and tests. Returns the visit id."""
    pages = (
        (packet.form("intake"), {"patient_name": name, "birth_date": birth_date}),
        (packet.form("phq9"), PHQ9_ITEM9),
    )
    with db.begin() as session:
        visit_id = repository.start_visit(
            session, packet=packet, language="en", kiosk_id=kiosk_id, now=now
        )
        repository.audit_write(
            session,
            visit_id=visit_id,
            actor="patient",
            device=kiosk_id,
            action="visit.started",
            now=now,
        )
    for form, answers in pages:
        with db.begin() as session:
            repository.save_answers(
                session, visit_id, form=form, answers=answers, removed=(), now=now
            )
            repository.set_identity(session, visit_id, name=name, birth_date=birth_date)
            if form.scores:
                report = score_raw_answers(form, answers, now.date())
                repository.save_scores(session, visit_id, [report], now)
            repository.audit_write(
                session,
                visit_id=visit_id,
                actor="patient",
                device=kiosk_id,
                action="visit.page_saved",
                now=now,
            )
    return visit_id
