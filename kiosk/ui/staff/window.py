"""The staff console's window: a header with who is signed in, the urgent-finding banner (when a
flag waits), then one panel at a time."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QMainWindow,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk.ui.screens.base import label
from kiosk.ui.staff.alert_banner import AlertBanner
from kiosk.ui.staff.login import push_button
from kiosk.ui.staff.style import CONSOLE_STYLE


class ConsoleWindow(QMainWindow):
    """Header (clinic, signed-in member of staff, Sign out), the urgent-finding banner, then a
    stack of panels. The banner sits outside the stack, so it stays over every panel, the sign-in
    included. The panel shown before is destroyed when another replaces it: nothing of a visit
    lingers hidden."""

    sign_out_requested = Signal()
    closing = Signal()

    def __init__(self, clinic_name: str) -> None:
        super().__init__()
        self.setObjectName("staffConsole")
        self.setWindowTitle(f"{clinic_name} — staff console")
        self.setStyleSheet(CONSOLE_STYLE)  # this window only: the patient kiosk keeps its own
        root = QWidget()
        root.setObjectName("consoleRoot")
        column = QVBoxLayout(root)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        header = QFrame()
        header.setObjectName("consoleHeader")
        header.setMinimumHeight(56)  # the same with or without the Sign out button
        row = QHBoxLayout(header)
        row.setContentsMargins(20, 10, 20, 10)
        title = label(f"{clinic_name} · Consent console", "consoleTitle")
        title.setWordWrap(False)
        row.addWidget(title)
        row.addStretch(1)
        self.who = label("")
        self.who.setWordWrap(False)
        self.who.setObjectName("signedInAs")
        row.addWidget(self.who)
        self.sign_out_button = push_button("Sign out", "signOut")
        self.sign_out_button.clicked.connect(self.sign_out_requested)
        self.sign_out_button.setVisible(False)
        row.addWidget(self.sign_out_button)
        column.addWidget(header)
        self.alert_banner = AlertBanner()
        column.addWidget(self.alert_banner)
        self.stack = QStackedWidget()
        column.addWidget(self.stack, 1)
        self.setCentralWidget(root)
        self.resize(1280, 800)

    def show_panel(self, panel: QWidget) -> None:
        old = self.stack.currentWidget()
        self.stack.addWidget(panel)
        self.stack.setCurrentWidget(panel)
        if old is not None and old is not panel:
            self.stack.removeWidget(old)
            old.deleteLater()

    @property
    def panel(self) -> QWidget | None:
        return self.stack.currentWidget()

    def set_signed_in(self, who: str) -> None:
        self.who.setText(who)
        self.sign_out_button.setVisible(bool(who))
        self.alert_banner.set_signed_in(bool(who))  # patient details only while signed in

    def closeEvent(self, event: QCloseEvent) -> None:
        self.closing.emit()
        event.accept()
