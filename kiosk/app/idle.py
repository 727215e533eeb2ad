"""Inactivity: after a quiet spell, ask "Are you still there?", then wipe and go to Welcome."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QTimer, Signal

ACTIVITY = frozenset(
    {
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseButtonRelease,
        QEvent.Type.MouseMove,
        QEvent.Type.TouchBegin,
        QEvent.Type.TouchUpdate,
        QEvent.Type.TouchEnd,
        QEvent.Type.KeyPress,
        QEvent.Type.Wheel,
        QEvent.Type.InputMethod,
    }
)


class IdleWatcher(QObject):
    """Watches every input event of the application; emits ``idle`` after ``timeout_ms`` of
    none while armed. Disarmed on Welcome, where nothing private is on screen."""

    idle = Signal()

    def __init__(self, timeout_ms: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(timeout_ms)
        self.timer.timeout.connect(self.idle)
        self.armed = False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if self.armed and event.type() in ACTIVITY:
            self.timer.start()
        return False

    def arm(self) -> None:
        """Start counting quiet time from now."""
        self.armed = True
        self.timer.start()

    def disarm(self) -> None:
        self.armed = False
        self.timer.stop()
