"""Shared fixtures for the UI tests: texts in both languages, and a kiosk-sized themed window."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)
from pytestqt.qtbot import QtBot

from kiosk.app.kiosk_app import WINDOW_SIZE
from kiosk.domain.strings import Strings
from kiosk.ui.texts import Texts
from kiosk.ui.theme import apply_theme
from kiosk.ui.widgets.signature_pad import SignaturePad

KIOSK_WIDTH, KIOSK_HEIGHT = 1280, 800
MIN_TARGET = 48  # px: the smallest tap target a patient's finger can hit reliably

Show = Callable[[QWidget], QWidget]
INTERACTIVE = (QAbstractButton, QLineEdit, QComboBox, SignaturePad)


@pytest.fixture
def texts_en(strings: Strings) -> Texts:
    return Texts(strings, "en")


@pytest.fixture
def texts_es(strings: Strings) -> Texts:
    return Texts(strings, "es")


@pytest.fixture(scope="session")
def themed_app(qapp: QApplication) -> QApplication:
    """The application with the kiosk's bundled font and stylesheet, as the kiosk runs it."""
    apply_theme(qapp)
    return qapp


@pytest.fixture(autouse=True)
def _application(themed_app: QApplication) -> QApplication:
    """Every UI test needs a QApplication before it builds its first widget."""
    return themed_app


def settle(qtbot: QtBot) -> None:
    """Let pending layout requests, polish and deferred deletes run."""
    for _ in range(3):
        QApplication.processEvents()
        qtbot.wait(1)


@pytest.fixture
def show(qtbot: QtBot, themed_app: QApplication) -> Iterator[Show]:
    """Put a widget alone in a 1280x800 window (the kiosk tablet's screen) and show it."""
    assert WINDOW_SIZE == (KIOSK_WIDTH, KIOSK_HEIGHT)
    yield from _shower(qtbot, KIOSK_WIDTH, KIOSK_HEIGHT)


@pytest.fixture
def show_portrait(qtbot: QtBot, themed_app: QApplication) -> Iterator[Show]:
    """The same tablet turned upright: 800x1280."""
    yield from _shower(qtbot, KIOSK_HEIGHT, KIOSK_WIDTH)


def _shower(qtbot: QtBot, width: int, height: int) -> Iterator[Show]:
    windows: list[QWidget] = []

    def _show(widget: QWidget) -> QWidget:
        window = QWidget()
        window.setObjectName("testKioskWindow")
        layout = QVBoxLayout(window)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(widget)
        # Fixed, like a full-screen tablet: content that needs more room must cope, not grow.
        window.setFixedSize(width, height)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        settle(qtbot)
        windows.append(window)
        return window

    yield _show
    for window in windows:
        window.close()


def interactive_widgets(root: QWidget) -> list[QWidget]:
    """Every widget under ``root`` a patient can tap or type into."""
    return [w for w in root.findChildren(QWidget) if isinstance(w, INTERACTIVE)]


def describe(widget: QWidget) -> str:
    """A short description of a widget for assertion messages."""
    text = widget.text() if isinstance(widget, QAbstractButton | QLineEdit) else ""
    return f"{type(widget).__name__}(objectName={widget.objectName()!r}, text={text!r})"


def enclosing_scroll_area(widget: QWidget) -> QScrollArea | None:
    parent = widget.parentWidget()
    while parent is not None and not isinstance(parent, QScrollArea):
        parent = parent.parentWidget()
    return parent


def tap(qtbot: QtBot, button: QAbstractButton) -> None:
    """Tap like a finger: scroll the button into view, then press and release at its centre."""
    assert button.isVisible(), describe(button)
    area = enclosing_scroll_area(button)
    if area is not None:
        area.ensureWidgetVisible(button)
        settle(qtbot)
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)


def draw(widget: QWidget, points: list[tuple[int, int]]) -> None:
    """A finger stroke: press at the first point, move through the rest, release at the last."""
    no_keys = Qt.KeyboardModifier.NoModifier
    QTest.mousePress(widget, Qt.MouseButton.LeftButton, no_keys, QPoint(*points[0]))
    for x, y in points[1:]:
        QTest.mouseMove(widget, QPoint(x, y))
    QTest.mouseRelease(widget, Qt.MouseButton.LeftButton, no_keys, QPoint(*points[-1]))


def scribble(width: int, height: int) -> list[tuple[int, int]]:
    """A zig-zag across most of a pad: long enough to count as a signature."""
    return [(int(width * x / 20), int(height * (0.5 + 0.2 * (-1) ** x))) for x in range(2, 18)]
