"""Welcome and language choice: shown before a visit exists, in both languages."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from kiosk.domain.strings import Strings
from kiosk.ui.screens.base import button, label


class WelcomeScreen(QWidget):
    """The screen a patient finds: the clinic's name and one big button."""

    started = Signal()

    def __init__(self, strings: Strings, clinic_name: str) -> None:
        super().__init__()
        self.setObjectName("welcomeScreen")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(60, 60, 60, 60)
        layout.setSpacing(28)
        layout.addStretch(2)
        clinic = label(clinic_name, "clinicName")
        clinic.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(clinic)
        for language in ("en", "es"):
            title = label(strings.get("welcome.title", language), "screenTitle")
            title.setAlignment(Qt.AlignmentFlag.AlignCenter)
            body = label(strings.get("welcome.body", language), "pageIntro")
            body.setAlignment(Qt.AlignmentFlag.AlignCenter)
            layout.addWidget(title)
            layout.addLayout(_centered(body))
        layout.addSpacing(20)
        start_text = f"{strings.get('welcome.start', 'en')}\n{strings.get('welcome.start', 'es')}"
        self.start_button = button(start_text, "start")
        self.start_button.clicked.connect(self.started)
        layout.addWidget(self.start_button, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(3)


def _centered(widget: QLabel, width: int = 900) -> QHBoxLayout:
    """A wrapped label kept to a readable width in the middle (its height follows its text)."""
    widget.setMaximumWidth(width)
    row = QHBoxLayout()
    row.addStretch(1)
    row.addWidget(widget, 100)
    row.addStretch(1)
    return row


class LanguageScreen(QWidget):
    """English or Español, asked in both."""

    language_chosen = Signal(str)

    def __init__(self, strings: Strings) -> None:
        super().__init__()
        self.setObjectName("languageScreen")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(40, 60, 40, 60)
        layout.setSpacing(28)
        layout.addStretch(2)
        for language in ("en", "es"):
            title = label(strings.get("language.title", language), "screenTitle")
            title.setAlignment(Qt.AlignmentFlag.AlignCenter)
            layout.addWidget(title)
        layout.addSpacing(24)
        row = QHBoxLayout()
        row.setSpacing(24)
        row.addStretch(1)
        self.buttons = {}
        for language, name in (("en", "English"), ("es", "Español")):
            choice = button(name, "language")
            choice.clicked.connect(lambda _=False, lang=language: self.language_chosen.emit(lang))
            self.buttons[language] = choice
            row.addWidget(choice)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addStretch(3)
