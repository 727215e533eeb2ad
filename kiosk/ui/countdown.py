"""Whole seconds counted down on screen (the thank-you screen, "Are you still there?")."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal


class Countdown(QObject):
    """Emits ``ticked(remaining)`` now and every second, then ``ended`` once at zero.

    ``stop()`` ends it early without ``ended`` and says whether it was still running, so a
    button and the last second can never both act.
    """

    ticked = Signal(int)
    ended = Signal()

    def __init__(self, seconds: int, parent: QObject) -> None:
        super().__init__(parent)
        self.remaining = seconds
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.ticked.emit(self.remaining)
        self._timer.start()

    def stop(self) -> bool:
        running = self._timer.isActive()
        self._timer.stop()
        return running

    def _tick(self) -> None:
        self.remaining -= 1
        if self.remaining <= 0:
            self._timer.stop()
            self.ended.emit()
        else:
            self.ticked.emit(self.remaining)
