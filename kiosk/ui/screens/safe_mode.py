"""Safe mode: the records failed their start-up check, so no intake starts.

The patient sees a short message in both languages asking for staff; staff see what was found
and what to do. No patient data is on this screen (the problems name files and event numbers).
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QVBoxLayout, QWidget

from kiosk.domain.strings import Strings
from kiosk.ui.screens.base import label


class SafeModeScreen(QWidget):
    """A paused kiosk: a message for patients, the reasons and next steps for staff."""

    def __init__(self, strings: Strings, problems: Sequence[str]) -> None:
        super().__init__()
        self.setObjectName("safeModeScreen")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(60, 50, 60, 50)
        layout.setSpacing(22)
        layout.addStretch(1)
        for language in ("en", "es"):
            title = label(strings.get("safe_mode.title", language), "screenTitle")
            title.setAlignment(Qt.AlignmentFlag.AlignCenter)
            layout.addWidget(title)
        layout.addSpacing(16)
        panel = QFrame()
        panel.setObjectName("safeModePanel")
        inner = QVBoxLayout(panel)
        inner.setContentsMargins(28, 22, 28, 22)
        inner.setSpacing(10)
        inner.addWidget(label(strings.get("safe_mode.staff", "en"), "pageIntro"))
        self.problems = label("\n".join(f"• {p}" for p in problems), "safeModeProblems")
        self.problems.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        inner.addWidget(self.problems)
        inner.addWidget(label(strings.get("safe_mode.next", "en"), "itemHelp"))
        layout.addWidget(panel)
        layout.addStretch(2)
