"""The patient kiosk: one window, the flow's current screen in it."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication, QMainWindow, QStackedWidget, QWidget

from kiosk import paths
from kiosk.app.flow import Clock, FlowConfig, VisitFlow, local_now
from kiosk.config import Settings
from kiosk.domain.loader import load_packet
from kiosk.domain.strings import load_strings
from kiosk.storage.db import create_schema, make_engine, session_factory

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


@dataclass
class Kiosk:
    """A wired kiosk: window and flow (tests and the demo drive these)."""

    window: KioskWindow
    flow: VisitFlow


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
    flow.show_welcome()
    return Kiosk(window, flow)


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
