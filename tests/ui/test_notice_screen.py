"""The calm notice after an answer (the crisis line after PHQ-9 item 9): its words in both
languages, one big Continue, and every word on screen at 100 % and 200 % text, landscape and
upright."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import QApplication, QLabel, QWidget
from pytestqt.qtbot import QtBot

from kiosk.domain.model import PATIENT_NOTICES
from kiosk.domain.strings import Strings
from kiosk.ui.screens.notice import NoticeScreen
from kiosk.ui.texts import Texts
from kiosk.ui.theme import Appearance, stylesheet
from tests.ui.conftest import MIN_TARGET, Show, tap
from tests.ui.test_screens import _check_screen

LINE = "1-800-555-0199"  # a clinic's own line from KIOSK_CRISIS_LINE (reserved for fiction)


def _notice(strings: Strings, language: str, name: str = "crisis") -> NoticeScreen:
    return NoticeScreen(name, Texts(strings, language), {"crisis_line": LINE}, progress=(31, 52))


def _words(screen: QWidget) -> list[str]:
    return [lbl.text() for lbl in screen.findChildren(QLabel) if lbl.isVisible() and lbl.text()]


@pytest.fixture(params=[1.0, 2.0], ids=["100%", "200%"])
def text_size(request: pytest.FixtureRequest, themed_app: QApplication) -> Iterator[float]:
    size: float = request.param
    themed_app.setStyleSheet(stylesheet(Appearance(text_size=size)))
    yield size
    themed_app.setStyleSheet(stylesheet())


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            [
                "Thank you for telling us",
                "A staff member has been told. They will come and talk with you soon.",
                "If you feel you are in danger now, please tell the front desk right away.",
                f"You can call or text the crisis line at any time, day or night:\n{LINE}",
            ],
        ),
        (
            "es",
            [
                "Gracias por decírnoslo",
                "Ya le avisamos a una persona del personal. Vendrá a hablar con usted pronto.",
                "Si siente que está en peligro ahora, dígaselo ya a la recepción.",
                "Puede llamar o mandar un mensaje de texto a la línea de crisis a cualquier "
                f"hora, de día o de noche:\n{LINE}",
            ],
        ),
    ],
)
def test_the_crisis_notice_says_it_in_the_patients_language(
    show: Show, strings: Strings, language: str, expected: list[str]
) -> None:
    screen = _notice(strings, language)
    show(screen)
    words = _words(screen)
    for text in expected:
        assert text in words
    assert words.index(expected[0]) < words.index(expected[1]) < words.index(expected[3])
    assert screen.title_label.objectName() == "screenTitle"  # the calm heading is the large type
    assert screen.primary_button.text() == ("Continue" if language == "en" else "Continuar")
    assert not screen.back_button.isVisible()  # one way on; nothing to go back to


def test_continue_is_the_one_way_on(show: Show, qtbot: QtBot, strings: Strings) -> None:
    screen = _notice(strings, "en")
    show(screen)
    with qtbot.waitSignal(screen.continued, timeout=1000):
        tap(qtbot, screen.primary_button)


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("name", PATIENT_NOTICES)
def test_every_notice_fits_landscape_and_scrolls_nowhere_sideways(
    show: Show, strings: Strings, name: str, language: str, text_size: float
) -> None:
    screen = _notice(strings, language, name)
    window = show(screen)
    assert screen.title_label.font().pixelSize() == round(34 * text_size)
    _check_screen(window)


def _not_on_screen(screen: NoticeScreen, window: QWidget) -> list[str]:
    """What of the message or the button a patient would not see without scrolling."""
    viewport = screen.scroll_area.viewport()
    seen = QRect(QPoint(0, 0), viewport.size())
    hidden = []
    for lbl in screen.content.findChildren(QLabel):
        place = QRect(lbl.mapTo(viewport, QPoint(0, 0)), lbl.size())
        if lbl.isVisible() and lbl.text() and not seen.contains(place):
            hidden.append(f"{lbl.text()[:30]!r} at {place} in a {seen} viewport")
    button = screen.primary_button
    corner = button.mapTo(window, QPoint(0, 0))
    if not QRect(QPoint(0, 0), window.size()).contains(QRect(corner, button.size())):
        hidden.append(f"the button at {corner}")
    return hidden


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("name", PATIENT_NOTICES)
def test_upright_the_whole_notice_and_continue_are_on_screen_without_scrolling(
    show_portrait: Show, strings: Strings, name: str, language: str, text_size: float
) -> None:
    """Upright, even at 200 %, nothing of the message is below the fold: a patient who may be
    in distress reads it all without having to find out that it scrolls. (Landscape at 200 %
    fits too today; upright is where the words wrap most.)"""
    screen = _notice(strings, language, name)
    window = show_portrait(screen)
    _check_screen(window, (800, 1280))  # nothing cut off, every target big and inside
    assert len([lbl for lbl in screen.content.findChildren(QLabel) if lbl.isVisible()]) >= 4
    assert _not_on_screen(screen, window) == []
    button = screen.primary_button
    assert button.height() >= MIN_TARGET and button.width() >= 220  # a big target


def test_a_notice_too_long_for_the_screen_is_caught(
    show_portrait: Show, strings: Strings, text_size: float
) -> None:
    """The check above can fail: ten times the words do not fit upright."""
    body = {k: "\n\n".join([v] * 10) for k, v in strings.table["notice.crisis.body"].items()}
    longer = Strings({**strings.table, "notice.crisis.body": body})
    screen = _notice(longer, "en")
    assert _not_on_screen(screen, show_portrait(screen))
