"""Text size and colours: chosen from any screen, kept through the visit, reset for the next."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from kiosk.ui.screens.base import Screen
from kiosk.ui.screens.display import DisplayPanel
from kiosk.ui.screens.start import WelcomeScreen
from kiosk.ui.theme import Appearance
from tests.app.conftest import KioskUnderTest
from tests.app.test_patient_walk import PATIENT, _start


def _panel(k: KioskUnderTest) -> DisplayPanel:
    screen = k.screen
    assert isinstance(screen, Screen)
    k.tap(screen.display_button)
    panel = k.kiosk.appearance.panel
    assert panel is not None and panel.isVisible()
    return panel


def _title_px(k: KioskUnderTest) -> int:
    screen = k.screen
    assert isinstance(screen, Screen)
    return screen.title_label.font().pixelSize()


def test_largest_text_and_high_contrast_from_a_question_then_reset(
    kiosk: KioskUnderTest,
) -> None:
    k = kiosk
    _start(k)
    assert _title_px(k) == 34
    panel = _panel(k)
    assert panel.size_buttons[1.0].isChecked()
    k.tap(panel.size_buttons[2.0])
    k.tap(panel.contrast_buttons[True])
    assert k.kiosk.appearance.appearance == Appearance(2.0, high_contrast=True)
    k.tap(panel.done_button)
    assert k.kiosk.appearance.panel is None
    assert _title_px(k) == 68
    sheet = QApplication.instance().styleSheet()  # type: ignore[union-attr]
    assert "#FFFF00" in sheet
    k.fill_and_next(PATIENT)
    assert _title_px(k) == 68
    k.kiosk.flow.wipe()  # the next patient starts from the default
    assert isinstance(k.screen, WelcomeScreen)
    assert k.kiosk.appearance.appearance == Appearance()
    assert "#FFFF00" not in QApplication.instance().styleSheet()  # type: ignore[union-attr]
