"""A real kiosk (real window, real SQLite file) and a patient who taps through it."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractButton, QApplication, QScrollArea, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine

from kiosk.app.kiosk_app import Kiosk, open_kiosk
from kiosk.config import Settings
from kiosk.domain.model import AnswerValue
from kiosk.domain.records import FlagDecision
from kiosk.storage import console, staff
from kiosk.storage.db import Database
from kiosk.ui.screens.notice import NoticeScreen
from kiosk.ui.screens.question import QuestionScreen
from kiosk.ui.theme import apply_theme
from kiosk.ui.widgets.answers import (
    AgreeAnswer,
    AnswerWidget,
    ButtonsAnswer,
    DateAnswer,
    ListAnswer,
    MultiChoiceAnswer,
    TextAnswer,
)
from tests.conftest import CLINIC_TIME
from tests.storage.conftest import fresh_postgres_database

STAFF_PIN = "482916"


@pytest.fixture(params=["sqlite", "postgresql"])
def any_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL of each kind (PostgreSQL: a fresh database on the test server)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'kiosk.sqlite3'}"
    else:
        yield from fresh_postgres_database(tmp_path)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'kiosk.sqlite3'}"


def acknowledge_item9(db: Database, visit_id: str, staff_id: str = "dr.chen") -> None:
    """A clinician acknowledges the visit's PHQ-9 item 9 flag (it must be open)."""
    with db.begin() as session:
        assert console.acknowledge_flag(
            session,
            visit_id,
            "phq9_item9",
            staff_id=staff_id,
            decision=FlagDecision.DISCUSSED_PROCEED,
            device="front-desk",
            now=dt.datetime.now(dt.UTC),
        )


@dataclasses.dataclass
class KioskUnderTest:
    kiosk: Kiosk
    qtbot: QtBot
    database_url: str
    output_dir: Path
    notices: list[str] = dataclasses.field(default_factory=list)  # tapped through by fill_until

    @property
    def screen(self) -> QWidget:
        widget = self.kiosk.window.screen_widget
        assert widget is not None
        return widget

    def tap(self, button: QAbstractButton) -> None:
        """Tap like a finger: scroll the button into view first, then press at its centre."""
        assert button.isVisible() and button.isEnabled(), button.text()
        parent = button.parentWidget()
        while parent is not None and not isinstance(parent, QScrollArea):
            parent = parent.parentWidget()
        if parent is not None:
            self.qtbot.wait(1)  # let a new screen lay itself out first
            parent.ensureWidgetVisible(button)
        QTest.mouseClick(button, Qt.MouseButton.LeftButton)

    def question(self) -> QuestionScreen:
        screen = self.screen
        assert isinstance(screen, QuestionScreen), type(screen).__name__
        return screen

    def answer(self, widget: AnswerWidget, value: AnswerValue | None) -> None:
        """Give one answer the way a patient does: tap buttons, type into fields."""
        if value is None:
            return
        if isinstance(widget, TextAnswer):  # also phone
            assert isinstance(value, str)
            widget.edit.setFocus()
            widget.edit.setText(value)  # non-ASCII names cannot go through key events
        elif isinstance(widget, DateAnswer):
            year, month, day = str(value).split("-")
            widget.month.setCurrentIndex(int(month))
            widget.day.setText(str(int(day)))
            widget.year.setText(year)
        elif isinstance(widget, AgreeAnswer):
            if widget.button.isChecked() is not value:
                self.tap(widget.button)
        elif isinstance(widget, ListAnswer):
            assert isinstance(value, tuple)
            for number, row in enumerate(value):
                if number >= len(widget.rows):
                    self.tap(widget.add_button)
                assert isinstance(row, Mapping)
                for column, text in row.items():
                    widget.rows[number][1][column].setText(text)
        elif isinstance(widget, MultiChoiceAnswer):
            assert isinstance(value, tuple)
            for choice in value:
                button = widget.button_for(choice)
                assert button is not None, choice
                if not button.isChecked():
                    self.tap(button)
        elif isinstance(widget, ButtonsAnswer):
            button = widget.button_for(value)
            assert button is not None, value
            self.tap(button)
        else:
            raise AssertionError(f"no way to answer {type(widget).__name__}")

    def fill_and_next(self, answers: Mapping[str, AnswerValue]) -> QuestionScreen:
        """Answer every question on the page from ``answers``, then tap the primary button."""
        screen = self.question()
        for item_id, widget in screen.widgets.items():
            self.answer(widget, answers.get(item_id))
        self.tap(screen.primary_button)
        return screen

    def fill_until(
        self, answers: Mapping[str, AnswerValue], stop: Callable[[QWidget], bool]
    ) -> list[str]:
        """Fill question pages until ``stop(screen)``; return the page ids seen. A notice after
        a page (the crisis line after PHQ-9 item 9) is tapped through and kept in ``notices``."""
        seen: list[str] = []
        for _ in range(200):
            screen = self.screen
            if stop(screen):
                return seen
            if isinstance(screen, NoticeScreen):
                self.notices.append(screen.name)
                self.tap(screen.primary_button)
                continue
            seen.append(self.question().page.id)
            self.fill_and_next(answers)
        raise AssertionError("never reached the expected screen")

    def add_staff(self) -> None:
        """A synthetic member of staff, maria.lopez, with PIN ``STAFF_PIN``."""
        with self.kiosk.db.begin() as session:
            staff.add_staff(
                session,
                "maria.lopez",
                name="Maria Lopez",
                role="staff",
                pin=STAFF_PIN,
                now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
            )

    def engine(self) -> Engine:
        return self.kiosk.db.engine

    def draw(self, widget: QWidget, points: list[tuple[int, int]]) -> None:
        """A finger stroke: press, move through the points, release."""
        first = QPoint(*points[0])
        no_keys = Qt.KeyboardModifier.NoModifier
        QTest.mousePress(widget, Qt.MouseButton.LeftButton, no_keys, first)
        for x, y in points[1:]:
            QTest.mouseMove(widget, QPoint(x, y))
        QTest.mouseRelease(widget, Qt.MouseButton.LeftButton, no_keys, QPoint(*points[-1]))


KioskFactory = Callable[..., KioskUnderTest]


@pytest.fixture
def kiosk_factory(qtbot: QtBot, tmp_path: Path) -> Iterator[KioskFactory]:
    """Build a kiosk on a fresh SQLite file; keyword arguments override settings."""
    built: list[Kiosk] = []

    def make(**overrides: object) -> KioskUnderTest:
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        apply_theme(app)
        url = f"sqlite:///{tmp_path / 'kiosk.sqlite3'}"
        settings = dataclasses.replace(
            Settings.load(database_url=url),
            output_dir=tmp_path / "consents",
            done_seconds=1,
            **overrides,  # type: ignore[arg-type]
        )
        kiosk = open_kiosk(settings, clock=lambda: CLINIC_TIME)
        assert isinstance(kiosk, Kiosk), kiosk.problems
        built.append(kiosk)
        qtbot.addWidget(kiosk.window)
        kiosk.window.show()
        qtbot.waitExposed(kiosk.window)
        return KioskUnderTest(kiosk, qtbot, url, tmp_path / "consents")

    yield make
    for kiosk in built:
        kiosk.shutdown()


@pytest.fixture
def kiosk(kiosk_factory: KioskFactory) -> KioskUnderTest:
    return kiosk_factory()
