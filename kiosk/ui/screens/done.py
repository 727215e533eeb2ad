"""Thank you, please return the tablet; back to Welcome after a few seconds."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from kiosk.ui.screens.base import button, label
from kiosk.ui.texts import Texts


class DoneScreen(QWidget):
    """Counts down, then emits ``finished``; tapping Finish does it at once."""

    finished = Signal()

    def __init__(self, texts: Texts, seconds: int, note: str = "") -> None:
        super().__init__()
        self.setObjectName("doneScreen")
        self.texts = texts
        self.remaining = seconds
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
        self.timer = QTimer(self)
        self.timer.setInterval(1000)
        self.timer.timeout.connect(self._tick)
        self._show_remaining()
        self.timer.start()

    def _show_remaining(self) -> None:
        if self.remaining == 1:
            self.countdown.setText(self.texts("done.returning_one"))
        else:
            self.countdown.setText(self.texts("done.returning", s=self.remaining))

    def _tick(self) -> None:
        self.remaining -= 1
        if self.remaining <= 0:
            self._finish()
        else:
            self._show_remaining()

    def _finish(self) -> None:
        if self.timer.isActive():
            self.timer.stop()
            self.finished.emit()
