"""Thank you, please return the tablet; back to Welcome after a few seconds."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from kiosk.ui.countdown import Countdown
from kiosk.ui.screens.base import button, label
from kiosk.ui.texts import Texts


class DoneScreen(QWidget):
    """Counts down, then emits ``finished``; tapping Finish does it at once."""

    finished = Signal()

    def __init__(self, texts: Texts, seconds: int, note: str = "") -> None:
        super().__init__()
        self.setObjectName("doneScreen")
        self.texts = texts
        layout = QVBoxLayout(self)
        layout.setContentsMargins(60, 60, 60, 60)
        layout.setSpacing(28)
        layout.addStretch(2)
        lines = [(texts("done.title"), "screenTitle"), (texts("done.body"), "pageIntro")]
        if note:
            lines.append((note, "noticeText"))
        for text, name in lines:
            widget = label(text, name)
            widget.setAlignment(Qt.AlignmentFlag.AlignCenter)
            layout.addWidget(widget)
        self.countdown = label("", "hintText")
        self.countdown.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.countdown)
        self.finish_button = button(texts("done.finish"), "primary")
        self.finish_button.clicked.connect(self._finish)
        layout.addWidget(self.finish_button, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(3)
        self.clock = Countdown(seconds, self)
        self.clock.ticked.connect(self._show_remaining)
        self.clock.ended.connect(self.finished)
        self.clock.start()

    def _show_remaining(self, remaining: int) -> None:
        if remaining == 1:
            self.countdown.setText(self.texts("done.returning_one"))
        else:
            self.countdown.setText(self.texts("done.returning", s=remaining))

    def _finish(self) -> None:
        if self.clock.stop():
            self.finished.emit()
