"""The kiosk's own on-screen keyboard, so a field is never untypeable on a tablet.

It docks under the screen (the screen shrinks; the focused field scrolls into view above it),
types into whichever text field has focus, and shows digits for phone numbers and dates.
Keys never take focus, so the field keeps its cursor. Nothing typed is stored by the keyboard.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from kiosk.ui.texts import Texts

LETTER_ROWS = ("1234567890", "qwertyuiop", "asdfghjklñ", "zxcvbnm-'.")
ACCENT_ROWS = ("áéíóúü", "ÁÉÍÓÚÜ")
DIGIT_ROWS = ("123", "456", "789")
DIGIT_EXTRAS = ("(", "0", ")")
DIGIT_HINTS = Qt.InputMethodHint.ImhDigitsOnly | Qt.InputMethodHint.ImhDialableCharactersOnly


def wants_digits(edit: QLineEdit) -> bool:
    """Phone numbers, days and years get the digit pad."""
    return bool(edit.inputMethodHints() & DIGIT_HINTS)


class OnScreenKeyboard(QWidget):
    """Letters (with Spanish letters and accents) or digits, for the focused QLineEdit."""

    hidden_by_patient = Signal()

    def __init__(self, texts: Texts) -> None:
        super().__init__()
        self.setObjectName("keyboard")
        self.setAccessibleName(texts("keyboard.name"))
        self.texts = texts
        self.shift = False
        self.target: QLineEdit | None = None
        self._backspaces: list[QPushButton] = []
        self._hides: list[QPushButton] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 10, 16, 12)
        layout.setSpacing(8)
        self.letters = QWidget()
        self.letters.setObjectName("keyboardLetters")
        self.letter_keys: list[QPushButton] = []
        letters = QVBoxLayout(self.letters)
        letters.setContentsMargins(0, 0, 0, 0)
        letters.setSpacing(8)
        for row_text in LETTER_ROWS:
            row = QHBoxLayout()
            row.setSpacing(8)
            for char in row_text:
                key = self._key(char, partial(self._type, char))
                if char.isalpha():
                    self.letter_keys.append(key)
                row.addWidget(key)
            letters.addLayout(row)
        self.accents = QWidget()
        accents = QHBoxLayout(self.accents)
        accents.setContentsMargins(0, 0, 0, 0)
        accents.setSpacing(8)
        self.accent_keys = [self._key(char, partial(self._type, char)) for char in ACCENT_ROWS[0]]
        for key in self.accent_keys:
            accents.addWidget(key)
        self.accents.setVisible(False)
        letters.addWidget(self.accents)
        bottom = QHBoxLayout()
        bottom.setSpacing(8)
        self.shift_key = self._key("⇧", self._toggle_shift, "keyWide")
        self.accent_key = self._key("á é ñ", self._toggle_accents, "keyWide")
        space = self._key(" ", partial(self._type, " "), "keySpace")
        bottom.addWidget(self.shift_key)
        bottom.addWidget(self.accent_key)
        bottom.addWidget(space, 4)
        self._controls(bottom)
        letters.addLayout(bottom)
        layout.addWidget(self.letters)

        self.digits = QWidget()
        self.digits.setObjectName("keyboardDigits")
        grid = QGridLayout(self.digits)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(8)
        for r, row_text in enumerate((*DIGIT_ROWS, "".join(DIGIT_EXTRAS))):
            for c, char in enumerate(row_text):
                grid.addWidget(self._key(char, partial(self._type, char)), r, c)
        digit_controls = QHBoxLayout()
        digit_controls.setSpacing(8)
        self._controls(digit_controls)
        grid.addLayout(digit_controls, len(DIGIT_ROWS) + 1, 0, 1, 3)
        layout.addWidget(self.digits, 0, Qt.AlignmentFlag.AlignHCenter)
        self.retranslate(texts)
        self.setVisible(False)

    def _controls(self, row: QHBoxLayout) -> None:
        """Backspace and "hide keyboard", at the end of a row."""
        backspace = self._key("⌫", self._backspace, "keyWide")
        backspace.setAutoRepeat(True)
        hide = self._key("", self._hide_by_patient, "keyWide")
        row.addWidget(backspace)
        row.addWidget(hide)
        self._backspaces.append(backspace)
        self._hides.append(hide)

    def retranslate(self, texts: Texts) -> None:
        """Names for the keys that are symbols, in the visit's language."""
        self.texts = texts
        self.setAccessibleName(texts("keyboard.name"))
        self.shift_key.setAccessibleName(texts("keyboard.shift"))
        self.accent_key.setAccessibleName(texts("keyboard.accents"))
        for key in self.findChildren(QPushButton, "keySpace"):
            key.setAccessibleName(texts("keyboard.space"))
        for key in self._backspaces:
            key.setAccessibleName(texts("keyboard.backspace"))
        for key in self._hides:
            key.setText(texts("keyboard.hide"))
            key.setAccessibleName(texts("keyboard.hide"))

    def _key(self, text: str, action: Callable[[], object], name: str = "key") -> QPushButton:
        key = QPushButton(text)
        key.setObjectName(name)
        key.setAccessibleName(text)
        key.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the field keeps focus and its cursor
        key.clicked.connect(action)
        return key

    # --- following the focus ---

    def follow_focus(self, _old: QWidget | None, new: QWidget | None) -> None:
        """Show for a text field (digits or letters to suit it); hide when something else takes
        the focus. Focus going nowhere (the window losing activation) changes nothing."""
        if isinstance(new, QLineEdit) and not new.isReadOnly():
            self.show_for(new)
        elif new is not None and not self.isAncestorOf(new):
            self.dismiss()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """A tap on a text field always brings the keyboard, with or without window focus."""
        if (
            event.type() == QEvent.Type.MouseButtonRelease
            and isinstance(watched, QLineEdit)
            and watched.isEnabled()
            and not watched.isReadOnly()
            and watched.window() is self.window()
        ):
            self.show_for(watched)
        return False

    def show_for(self, edit: QLineEdit) -> None:
        if self.target is edit and self.isVisible():
            return
        self.target = edit
        digits = wants_digits(edit)
        self.digits.setVisible(digits)
        self.letters.setVisible(not digits)
        self.setVisible(True)
        # Once the screen has shrunk to make room (a layout pass or two later), scroll the field
        # into view above the keys.
        for delay in (0, 60, 200):
            QTimer.singleShot(delay, lambda: self._reveal(edit))

    def _reveal(self, edit: QLineEdit) -> None:
        if self.target is not edit or not isValid(edit):  # the screen may have gone meanwhile
            return
        area = _scroll_area_of(edit)
        if area is not None:
            area.ensureWidgetVisible(edit, 50, 50)

    def dismiss(self) -> None:
        """Hide and forget the field (a new screen, a wipe)."""
        self.target = None
        self.setVisible(False)

    # --- typing ---

    def _type(self, text: str) -> None:
        if self.target is None:
            return
        if self.shift:
            text = text.upper()
            self._toggle_shift()
        self.target.insert(text)

    def _backspace(self) -> None:
        if self.target is not None:
            self.target.backspace()

    def _toggle_shift(self) -> None:
        self.shift = not self.shift
        for key in (*self.letter_keys, *self.accent_keys):
            key.setText(key.text().upper() if self.shift else key.text().lower())
        self.shift_key.setProperty("active", self.shift)
        self.shift_key.style().unpolish(self.shift_key)
        self.shift_key.style().polish(self.shift_key)

    def _toggle_accents(self) -> None:
        self.accents.setVisible(not self.accents.isVisible())

    def _hide_by_patient(self) -> None:
        self.setVisible(False)
        self.hidden_by_patient.emit()


def _scroll_area_of(widget: QWidget) -> QScrollArea | None:
    parent = widget.parentWidget()
    while parent is not None and not isinstance(parent, QScrollArea):
        parent = parent.parentWidget()
    return parent
