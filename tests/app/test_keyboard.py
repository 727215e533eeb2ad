"""The kiosk's own on-screen keyboard: letters or digits for the field, never covering it."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLineEdit, QPushButton

from kiosk.ui.widgets.answers import DateAnswer, TextAnswer
from kiosk.ui.widgets.keyboard import OnScreenKeyboard
from tests.app.conftest import KioskFactory, KioskUnderTest
from tests.app.test_patient_walk import PATIENT, _start
from tests.ui.conftest import MIN_TARGET


def _keyboard(k: KioskUnderTest) -> OnScreenKeyboard:
    keyboard = k.kiosk.window.keyboard
    assert keyboard is not None
    return keyboard


def _key(keyboard: OnScreenKeyboard, text: str) -> QPushButton:
    keys = [b for b in keyboard.findChildren(QPushButton) if b.text() == text and b.isVisible()]
    assert keys, text
    return keys[0]


def _tap_field(k: KioskUnderTest, edit: QLineEdit) -> None:
    """A finger on the field: that is what gives it focus on a tablet."""
    QTest.mouseClick(edit, Qt.MouseButton.LeftButton)
    k.qtbot.waitUntil(edit.hasFocus, timeout=2000)


def test_tapping_a_name_field_brings_letters_and_typing_works(kiosk: KioskUnderTest) -> None:
    k = kiosk
    _start(k, "es")
    keyboard = _keyboard(k)
    assert not keyboard.isVisible()
    name = k.question().widgets["patient_name"]
    assert isinstance(name, TextAnswer)
    _tap_field(k, name.edit)
    k.qtbot.waitUntil(keyboard.isVisible, timeout=2000)
    assert keyboard.letters.isVisible() and not keyboard.digits.isVisible()
    k.tap(keyboard.shift_key)
    for char in "ana":
        k.tap(_key(keyboard, char if char != "a" or name.edit.text() else "A"))
    k.tap(_key(keyboard, " "))
    for char in "mu":
        k.tap(_key(keyboard, char))
    k.tap(_key(keyboard, "ñ"))
    k.tap(_key(keyboard, "o"))
    k.tap(keyboard.accent_key)
    k.tap(_key(keyboard, "á"))
    k.tap(keyboard._backspaces[0])
    assert name.edit.text() == "Ana muño"
    assert name.edit.hasFocus()  # keys never take the focus
    for key in keyboard.findChildren(QPushButton):
        if key.isVisible():
            assert key.width() >= MIN_TARGET and key.height() >= MIN_TARGET, key.text()
            assert key.accessibleName(), key.text()
    k.tap(keyboard._hides[0])
    assert not keyboard.isVisible()


def test_dates_and_phones_get_digits(kiosk: KioskUnderTest) -> None:
    k = kiosk
    _start(k)
    k.fill_and_next(PATIENT)
    date = k.question().widgets["birth_date"]
    assert isinstance(date, DateAnswer)
    _tap_field(k, date.year)
    keyboard = _keyboard(k)
    k.qtbot.waitUntil(keyboard.isVisible, timeout=2000)
    assert keyboard.digits.isVisible() and not keyboard.letters.isVisible()
    for digit in "1961":
        k.tap(_key(keyboard, digit))
    assert date.year.text() == "1961"


def test_the_focused_field_is_never_behind_the_keyboard(kiosk: KioskUnderTest) -> None:
    k = kiosk
    _start(k)
    k.fill_and_next(PATIENT)
    k.fill_and_next(PATIENT)
    k.fill_and_next(PATIENT)  # emergency contact: three fields, the last near the bottom
    screen = k.question()
    edits = [e for e in screen.findChildren(QLineEdit) if e.isVisible()]
    last = edits[-1]
    _tap_field(k, last)
    keyboard = _keyboard(k)
    k.qtbot.waitUntil(keyboard.isVisible, timeout=2000)
    k.qtbot.wait(300)
    window = k.kiosk.window
    field_bottom = last.mapTo(window, QPoint(0, last.height())).y()
    keyboard_top = keyboard.mapTo(window, QPoint(0, 0)).y()
    viewport = screen.scroll_area.viewport()
    viewport_bottom = viewport.mapTo(window, QPoint(0, viewport.height())).y()
    assert field_bottom <= min(keyboard_top, viewport_bottom)
    assert last.mapTo(window, QPoint(0, 0)).y() >= viewport.mapTo(window, QPoint(0, 0)).y()


def test_the_keyboard_goes_away_with_the_screen(kiosk: KioskUnderTest) -> None:
    k = kiosk
    _start(k)
    name = k.question().widgets["patient_name"]
    assert isinstance(name, TextAnswer)
    _tap_field(k, name.edit)
    keyboard = _keyboard(k)
    k.qtbot.waitUntil(keyboard.isVisible, timeout=2000)
    k.kiosk.flow.wipe()
    assert not keyboard.isVisible()


def test_no_on_screen_keyboard_where_the_tablet_has_a_real_one(
    kiosk_factory: KioskFactory,
) -> None:
    k = kiosk_factory(keyboard="none")
    assert k.kiosk.window.keyboard is None
    assert k.kiosk.window.findChild(OnScreenKeyboard) is None
