"""A real kiosk (real window, real SQLite file) and a patient who taps through it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractButton, QApplication, QScrollArea, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine

from kiosk.app.kiosk_app import Kiosk, apply_theme, build_kiosk
from kiosk.config import Settings
from kiosk.storage.db import make_engine
from kiosk.ui.screens.question import QuestionScreen
from tests.conftest import CLINIC_TIME


@dataclasses.dataclass
class KioskUnderTest:
    kiosk: Kiosk
    qtbot: QtBot
    database_url: str
    output_dir: Path

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

    def engine(self) -> Engine:
        return make_engine(self.database_url)

    def draw(self, widget: QWidget, points: list[tuple[int, int]]) -> None:
        """A finger stroke: press, move through the points, release."""
        first = QPoint(*points[0])
        no_keys = Qt.KeyboardModifier.NoModifier
        QTest.mousePress(widget, Qt.MouseButton.LeftButton, no_keys, first)
        for x, y in points[1:]:
            QTest.mouseMove(widget, QPoint(x, y))
        QTest.mouseRelease(widget, Qt.MouseButton.LeftButton, no_keys, QPoint(*points[-1]))


@pytest.fixture
def kiosk(qtbot: QtBot, tmp_path: Path) -> Iterator[KioskUnderTest]:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app)
    url = f"sqlite:///{tmp_path / 'kiosk.sqlite3'}"
    settings = dataclasses.replace(
        Settings.load(database_url=url), output_dir=tmp_path / "consents", done_seconds=1
    )
    built = build_kiosk(settings, clock=lambda: CLINIC_TIME)
    qtbot.addWidget(built.window)
    built.window.show()
    qtbot.waitExposed(built.window)
    yield KioskUnderTest(built, qtbot, url, tmp_path / "consents")
    built.window.close()
