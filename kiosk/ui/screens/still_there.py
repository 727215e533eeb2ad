"""'Are you still there?': a large countdown over the current screen before it is wiped."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QWidget

from kiosk.ui.countdown import Countdown
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
        self.clock = Countdown(seconds, self)
        self.clock.ticked.connect(self._show_remaining)
        self.clock.ended.connect(self.timed_out)
        self.clock.start()

    def _show_remaining(self, remaining: int) -> None:
        self.countdown.setText(str(remaining))
        self.countdown.setAccessibleName(self.texts("idle.seconds", s=remaining))

    def _stay(self) -> None:
        if self.clock.stop():
            self.stay.emit()
