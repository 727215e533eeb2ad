"""'Are you still there?': a large countdown over the current screen before it is wiped."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QWidget

from kiosk.ui.screens.base import button, label
from kiosk.ui.screens.overlay import Overlay
from kiosk.ui.texts import Texts


class StillThereOverlay(Overlay):
    """Covers the whole window; "I'm still here" keeps everything, silence wipes it."""

    stay = Signal()
    timed_out = Signal()

    def __init__(self, parent: QWidget, texts: Texts, seconds: int) -> None:
        super().__init__(parent, "stillThere")
        self.texts = texts
        self.remaining = seconds
        layout = self.card_layout
        layout.setContentsMargins(48, 40, 48, 40)
        layout.setSpacing(24)
        title = label(texts("idle.title"), "screenTitle")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(title)
        body = label(texts("idle.body"), "pageIntro")
        body.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(body)
        self.countdown = label("", "countdown")
        self.countdown.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.countdown)
        self.stay_button = button(texts("idle.stay"), "primary")
        self.stay_button.clicked.connect(self._stay)
        layout.addWidget(self.stay_button, 0, Qt.AlignmentFlag.AlignHCenter)
        self.timer = QTimer(self)
        self.timer.setInterval(1000)
        self.timer.timeout.connect(self._tick)
        self._show_remaining()
        self.timer.start()

    def _show_remaining(self) -> None:
        self.countdown.setText(str(self.remaining))
        self.countdown.setAccessibleName(self.texts("idle.seconds", s=self.remaining))

    def _tick(self) -> None:
        self.remaining -= 1
        if self.remaining <= 0:
            self.timer.stop()
            self.timed_out.emit()
        else:
            self._show_remaining()

    def _stay(self) -> None:
        if self.timer.isActive():
            self.timer.stop()
            self.stay.emit()
