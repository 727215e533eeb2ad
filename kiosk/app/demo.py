"""A synthetic patient walks through the real kiosk, offscreen, by tapping its real widgets.

Used by ``kiosk demo`` and for the README screenshots. The patient is invented.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import (
    QCoreApplication,
    QEventLoop,
    QMessageLogContext,
    QTimer,
    QtMsgType,
    qInstallMessageHandler,
)
from PySide6.QtWidgets import QApplication, QWidget

from kiosk.app.kiosk_app import Kiosk
from kiosk.app.service import FinishedVisit
from kiosk.app.synthetic import SYNTHETIC_ANSWERS, consent_answers, signature_strokes
from kiosk.domain.model import AnswerValue, Packet
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
    """

    kiosk: Kiosk
    language: str = "en"
    answers: Mapping[str, AnswerValue] = field(default_factory=lambda: dict(SYNTHETIC_ANSWERS))
    on_screen: Callable[[QWidget], None] | None = None
    finished: FinishedVisit | None = None

    def run(self, max_steps: int = 300) -> FinishedVisit:
        """Go from Welcome to the signed consent; return what the visit left behind."""
        self.answers = {**consent_answers(self.kiosk.flow.packet), **self.answers}
        self.kiosk.flow.visit_finished.connect(self._finished)
        for _ in range(max_steps):
            screen = self.kiosk.window.screen_widget
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

    def _act(self, screen: QWidget | None) -> None:
        if isinstance(screen, WelcomeScreen):
            if self._seen(screen):
                screen.start_button.click()
        elif isinstance(screen, LanguageScreen):
            if self._seen(screen):
                screen.buttons[self.language].click()
        elif isinstance(screen, QuestionScreen):
            for item_id, widget in screen.widgets.items():
                widget.set_value(self.answers.get(item_id))
            if self._seen(screen):
                screen.primary_button.click()
        elif isinstance(screen, SectionScreen):
            if self._seen(screen):
                bar = screen.scroll_area.verticalScrollBar()
                bar.setValue(bar.maximum())  # reads to the end, as the reading record shows
                screen.primary_button.click()
        elif isinstance(screen, ReviewScreen | NoticeScreen):
            if self._seen(screen):
                screen.primary_button.click()
        elif isinstance(screen, SignatureScreen):
            pad = screen.pad
            for stroke in signature_strokes(pad.width(), pad.height()):
                pad.add_stroke(stroke)
            if self._seen(screen):
                screen.primary_button.click()
        else:
            raise RuntimeError(f"the demo patient does not know {type(screen).__name__}")


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
        repository.audit(
            session,
            actor="patient",
            device=kiosk_id,
            action="visit.started",
            subject=visit_id,
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
            repository.audit(
                session,
                actor="patient",
                device=kiosk_id,
                action="visit.page_saved",
                subject=visit_id,
                now=now,
            )
    return visit_id
