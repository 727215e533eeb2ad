"""The patient kiosk: one window, the flow's current screen in it."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QFont, QFontDatabase, QResizeEvent
from PySide6.QtWidgets import QApplication, QMainWindow, QStackedWidget, QWidget

from kiosk import paths
from kiosk.app.flow import Clock, FlowConfig, VisitFlow, local_now
from kiosk.app.idle import IdleWatcher
from kiosk.config import Settings
from kiosk.domain.loader import load_packet
from kiosk.domain.strings import load_strings
from kiosk.storage.db import create_schema, make_engine, session_factory
from kiosk.ui.screens.start import WelcomeScreen
from kiosk.ui.screens.still_there import StillThereOverlay

log = logging.getLogger(__name__)

WINDOW_SIZE = (1280, 800)  # a common 10-inch tablet in landscape


class KioskWindow(QMainWindow):
    """Shows exactly one screen at a time; the previous one is destroyed, not hidden."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("kioskWindow")
        self.setWindowTitle("Patient check-in")
        self.stack = QStackedWidget()
        self.setCentralWidget(self.stack)
        self.overlay: QWidget | None = None  # "Are you still there?" covers the screen

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.overlay is not None:
            self.overlay.setGeometry(self.rect())

    def show_screen(self, screen: QWidget) -> None:
        old = self.stack.currentWidget()
        self.stack.addWidget(screen)
        self.stack.setCurrentWidget(screen)
        if old is not None:
            self.stack.removeWidget(old)
            old.deleteLater()

    @property
    def screen_widget(self) -> QWidget | None:
        return self.stack.currentWidget()


def apply_theme(app: QApplication) -> None:
    """Bundled font and the kiosk stylesheet."""
    for font_file in sorted(paths.FONTS_DIR.glob("*.ttf")):
        QFontDatabase.addApplicationFont(str(font_file))
    app.setFont(QFont("DejaVu Sans", 16))
    app.setStyleSheet(stylesheet())


def stylesheet() -> str:
    """The kiosk stylesheet with its image paths made absolute."""
    text = (paths.STYLES_DIR / "kiosk.qss").read_text(encoding="utf-8")
    return text.replace("@STYLES@", paths.STYLES_DIR.as_posix())


class PrivacyGuard(QObject):
    """After ``idle_s`` without a touch, ask "Are you still there?" for ``warning_s``; then wipe.

    Quiet on Welcome, where nothing private is shown.
    """

    def __init__(self, window: KioskWindow, flow: VisitFlow, idle_s: int, warning_s: int) -> None:
        super().__init__(window)
        self.window = window
        self.flow = flow
        self.warning_s = warning_s
        self.watcher = IdleWatcher(idle_s * 1000, self)
        app = QApplication.instance()
        assert app is not None
        app.installEventFilter(self.watcher)
        self.watcher.idle.connect(self.ask)
        flow.screen_changed.connect(self._screen_changed)

    def _screen_changed(self, screen: QWidget) -> None:
        self._drop_overlay()
        if isinstance(screen, WelcomeScreen):
            self.watcher.disarm()
        else:
            self.watcher.arm()

    def ask(self) -> None:
        """Show the countdown over the current screen."""
        self.watcher.disarm()
        self._drop_overlay()
        overlay = StillThereOverlay(self.window, self.flow.texts, self.warning_s)
        overlay.stay.connect(self._stay)
        overlay.timed_out.connect(self.flow.wipe)
        self.window.overlay = overlay
        overlay.show()
        overlay.raise_()
        overlay.stay_button.setFocus()

    def _stay(self) -> None:
        self._drop_overlay()
        self.watcher.arm()

    def _drop_overlay(self) -> None:
        overlay = self.window.overlay
        if overlay is not None:
            self.window.overlay = None
            overlay.hide()
            overlay.deleteLater()


@dataclass
class Kiosk:
    """A wired kiosk: window and flow (tests and the demo drive these)."""

    window: KioskWindow
    flow: VisitFlow
    guard: PrivacyGuard


def build_kiosk(settings: Settings, clock: Clock = local_now) -> Kiosk:
    """Load forms and strings, open the database, wire the flow to a window on Welcome."""
    packet = load_packet(settings.forms_dir, settings.text_values())
    strings = load_strings(paths.STRINGS_DIR)
    engine = make_engine(settings.database_url)
    create_schema(engine)
    flow = VisitFlow(
        packet,
        strings,
        session_factory(engine),
        FlowConfig(
            clinic_name=settings.clinic_name,
            kiosk_id=settings.kiosk_id,
            done_seconds=settings.done_seconds,
            output_dir=settings.output_dir,
        ),
        clock=clock,
    )
    window = KioskWindow()
    window.resize(*WINDOW_SIZE)
    flow.screen_changed.connect(window.show_screen)
    guard = PrivacyGuard(window, flow, settings.idle_timeout_s, settings.idle_warning_s)
    flow.show_welcome()
    return Kiosk(window, flow, guard)


def run_kiosk(settings: Settings, *, windowed: bool) -> int:
    """Start the patient kiosk and run until the window closes."""
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName(paths.APP_NAME)
    apply_theme(app)
    kiosk = build_kiosk(settings)
    if windowed:
        kiosk.window.show()
    else:
        kiosk.window.setWindowFlag(Qt.WindowType.FramelessWindowHint, True)
        kiosk.window.showFullScreen()
    return app.exec()
