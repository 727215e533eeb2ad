"""Urgent findings over every console panel: a red banner, a chime and an OS notification.

Before anyone signs in (or after an idle sign-out) the banner says only where and when: "Urgent
finding on tablet-2 at 10:42 — sign in to see it". Signed in, each flag gets a row with its
document number, its wording from the form files and "Open visit". There is no close button: a
flag leaves the banner only when a clinician acknowledges it in the visit.

What reaches this module is :class:`AlertItem`, which has no field for a name, a birth date or an
answer: the widgets cannot show what they are never given.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QUrl, Signal
from PySide6.QtGui import QAccessible, QAccessibleEvent, QFont, QFontMetrics
from PySide6.QtMultimedia import QMediaDevices, QSoundEffect
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStyle,
    QSystemTrayIcon,
    QVBoxLayout,
    QWidget,
)

from kiosk import paths
from kiosk.ui.screens.base import label
from kiosk.ui.staff.login import push_button
from kiosk.ui.staff.style import URGENT

log = logging.getLogger(__name__)  # counts and states only: never a visit or a flag's words

CHIME = paths.SOUNDS_DIR / "chime.wav"
MAX_ROWS = 2  # more at once are counted (the queue lists them all): the panel keeps its room
TITLE = "Urgent finding"

BANNER_STYLE = f"""
#urgentAlert {{ background: {URGENT}; border-bottom: 3px solid #6e1510; }}
#urgentAlert QLabel {{ color: white; }}
#urgentAlertIcon {{ font-size: 34px; font-weight: bold; }}
#urgentAlertTitle {{ font-size: 24px; font-weight: bold; }}
#urgentAlertSummary {{ font-size: 16px; }}
#urgentAlertRow {{ background: #8f1d17; border-radius: 6px; }}
#urgentAlertDocument {{ font-size: 16px; font-weight: bold; }}
#urgentAlertMessage {{ font-size: 15px; }}
#urgentAlertHistory {{ color: #ffd9d5; font-size: 13px; }}
#urgentAlert QPushButton {{
    background: white; color: {URGENT}; border: 2px solid white; border-radius: 6px;
    padding: 7px 18px; font-size: 15px; font-weight: bold; min-height: 20px;
}}
#urgentAlert QPushButton:hover {{ background: #ffe9e6; }}
#urgentAlert QPushButton:focus {{ border: 2px solid #1d232b; }}
"""


@dataclass(frozen=True)
class AlertItem:
    """One unacknowledged urgent flag, as the banner may show it.

    ``document_number`` and ``message`` are shown to signed-in staff only; before sign-in the
    banner uses the tablet and the time alone.
    """

    flag_id: int
    visit_id: str
    kiosk_id: str
    raised_at: dt.datetime
    retracted_at: dt.datetime | None
    document_number: str  # "KC-…", derived from the visit id, never from patient data
    message: str  # the flag as the clinical team worded it in the form files


def _hhmm(moment: dt.datetime, tz: dt.tzinfo) -> str:
    return f"{moment.astimezone(tz):%H:%M}"


def public_summary(items: Sequence[AlertItem], tz: dt.tzinfo) -> str:
    """The words anyone passing the screen may read: tablet and time, or a count. Also the OS
    notification's text, whoever is signed in."""
    if not items:
        return ""
    if len(items) == 1:
        item = items[0]
        return (
            f"Urgent finding on {item.kiosk_id} at {_hhmm(item.raised_at, tz)} — sign in to see it"
        )
    return f"{len(items)} urgent findings — sign in to see them"


def history(item: AlertItem, tz: dt.tzinfo) -> str:
    """ "tablet-2 · raised 10:41 · answer changed 10:43"."""
    parts = [item.kiosk_id, f"raised {_hhmm(item.raised_at, tz)}"]
    if item.retracted_at is not None:
        parts.append(f"answer changed {_hhmm(item.retracted_at, tz)}")
    return " · ".join(parts)


def signed_in_summary(items: Sequence[AlertItem]) -> str:
    if len(items) == 1:
        return "1 urgent finding waits for a clinician: open the visit and acknowledge it."
    return (
        f"{len(items)} urgent findings wait for a clinician: open each visit and acknowledge "
        "its finding."
    )


def _document_width() -> int:
    """Room for any document number in the rows' bold 16 px, so their messages line up."""
    font = QFont("DejaVu Sans")
    font.setPixelSize(16)
    font.setBold(True)
    metrics = QFontMetrics(font)
    widest = max(metrics.horizontalAdvance(c) for c in "0123456789ABCDEF")
    return metrics.horizontalAdvance("KC-") + 8 * widest + 4


class AlertBanner(QFrame):
    """The bar above every panel of the console. Hidden while there is nothing to show; never
    closed by a click (acknowledging in the visit is the only way a flag leaves it)."""

    visit_requested = Signal(str)  # visit id: a signed-in member of staff wants to open it

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("urgentAlert")
        self.setAccessibleName(TITLE)
        self.setStyleSheet(BANNER_STYLE)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.items: tuple[AlertItem, ...] = ()
        self.signed_in = False
        self.tz: dt.tzinfo = dt.UTC
        self.open_buttons: dict[str, QPushButton] = {}  # visit id → its "Open visit" button
        self._shown: tuple[object, ...] | None = None  # what is on screen, to skip redraws
        row = QHBoxLayout(self)
        row.setContentsMargins(20, 12, 20, 12)
        row.setSpacing(16)
        icon = label("⚠", "urgentAlertIcon", wrap=False)
        icon.setAccessibleName("Warning")
        row.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        column = QVBoxLayout()
        column.setSpacing(6)
        self.title = label(TITLE, "urgentAlertTitle", wrap=False)
        column.addWidget(self.title)
        self.summary = label("", "urgentAlertSummary")
        column.addWidget(self.summary)
        self.rows = QVBoxLayout()
        self.rows.setSpacing(6)
        column.addLayout(self.rows)
        row.addLayout(column, 1)
        self.setVisible(False)

    def show_items(self, items: Sequence[AlertItem], tz: dt.tzinfo) -> None:
        """The open urgent flags now (oldest first); an empty list hides the banner."""
        self.items = tuple(items)
        self.tz = tz
        self._render()

    def set_signed_in(self, signed_in: bool) -> None:
        """Signed in: document numbers, flags and "Open visit"; signed out: tablet and time."""
        self.signed_in = signed_in
        self._render()

    def texts(self) -> list[str]:
        """Every text the banner shows now (what a passer-by could read), buttons included."""
        shown = [w for w in self.findChildren(QWidget) if w.isVisibleTo(self)]
        return [w.text() for w in shown if isinstance(w, QLabel | QPushButton) and w.text()]

    def _render(self) -> None:
        state = (self.items, self.signed_in, self.tz)
        if state == self._shown:
            return  # polled every half second: nothing changed, nothing redrawn
        self._shown = state
        self._clear_rows()
        if not self.items:
            self.summary.setText("")
            self.setVisible(False)
            return
        self.title.setText(TITLE if len(self.items) == 1 else f"{TITLE}s")
        if self.signed_in:
            self.summary.setText(signed_in_summary(self.items))
            rows: list[QWidget] = [self._row(item) for item in self.items[:MAX_ROWS]]
            hidden = len(self.items) - MAX_ROWS
            if hidden > 0:
                more = "1 more" if hidden == 1 else f"{hidden} more"
                rows.append(label(f"…and {more}: the queue lists every visit that needs review."))
            for widget in rows:
                self.rows.addWidget(widget)
                widget.show()  # now, not at the next event loop turn: the banner is read at once
        else:
            self.summary.setText(public_summary(self.items, self.tz))
        self.summary.setAccessibleName(self.summary.text())
        self.setAccessibleDescription(self.summary.text())
        was_hidden = self.isHidden()
        self.setVisible(True)
        if was_hidden:  # screen readers announce it like a dialog's alert
            QAccessible.updateAccessibility(QAccessibleEvent(self, QAccessible.Event.Alert))

    def _row(self, item: AlertItem) -> QFrame:
        frame = QFrame()
        frame.setObjectName("urgentAlertRow")
        frame.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        line = QHBoxLayout(frame)
        line.setContentsMargins(12, 6, 12, 6)
        line.setSpacing(14)
        document = label(item.document_number, "urgentAlertDocument", wrap=False)
        document.setMinimumWidth(_document_width())
        line.addWidget(document, 0, Qt.AlignmentFlag.AlignTop)
        words = QVBoxLayout()
        words.setSpacing(2)
        words.addWidget(label(item.message, "urgentAlertMessage"))
        words.addWidget(label(history(item, self.tz), "urgentAlertHistory"))
        line.addLayout(words, 1)
        button = push_button("Open visit", f"openAlertVisit_{item.flag_id}")
        button.setAccessibleName(f"Open visit {item.document_number}")
        visit_id = item.visit_id
        button.clicked.connect(lambda _=False: self.visit_requested.emit(visit_id))
        line.addWidget(button, 0, Qt.AlignmentFlag.AlignVCenter)
        self.open_buttons.setdefault(item.visit_id, button)
        return frame

    def _clear_rows(self) -> None:
        self.open_buttons = {}
        while self.rows.count():
            child = self.rows.takeAt(0)
            widget = child.widget() if child is not None else None
            if widget is not None:
                widget.hide()
                widget.deleteLater()


class AlertAnnouncer(QObject):
    """What makes an alert hard to miss beyond the banner: the chime, the window asking for
    attention (taskbar flash / urgency hint; a minimised window is not pulled open), and a tray
    notification where the desktop has a tray. The counters say what was asked for: tests and
    the bench have no loudspeaker to listen to."""

    def __init__(
        self,
        window: QWidget,
        sound: Path = CHIME,
        *,
        tray_available: Callable[[], bool] = QSystemTrayIcon.isSystemTrayAvailable,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.sound = sound
        self.tray_available = tray_available
        self.chimes_requested = 0
        self.chimes_played = 0  # handed to an audio device (none offscreen)
        self.attention_requests = 0
        self.notifications: list[str] = []  # the texts sent to the tray, for checking
        self._effect: QSoundEffect | None = None
        self._tray: QSystemTrayIcon | None = None
        self._silent_logged = False

    def announce(self, text: str) -> None:
        """A new flag or a repeat: chime, ask for attention, notify with ``text`` (which must
        carry no patient data: the notification shows on a locked or shared desktop too)."""
        self.chime()
        self.attention_requests += 1
        if not self.window.isMinimized() and self.window.isVisible():
            self.window.raise_()
        QApplication.alert(self.window)  # flashes until the window is activated
        self.notify(text)

    def chime(self) -> None:
        self.chimes_requested += 1
        if QMediaDevices.defaultAudioOutput().isNull():
            if not self._silent_logged:  # once: a console without speakers still alerts
                log.warning("no audio output: the urgent-finding chime cannot be heard here")
                self._silent_logged = True
            return
        if self._effect is None:
            self._effect = QSoundEffect(self)
            self._effect.setSource(QUrl.fromLocalFile(str(self.sound)))
        self._effect.play()  # a sound still loading plays once it is loaded
        self.chimes_played += 1

    def notify(self, text: str) -> None:
        if not self.tray_available():
            return
        if self._tray is None:
            style = QApplication.style()
            self._tray = QSystemTrayIcon(
                style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning), self
            )
            self._tray.setToolTip("Consent console: urgent finding")
        self._tray.show()
        self._tray.showMessage(TITLE, text, QSystemTrayIcon.MessageIcon.Warning, 15_000)
        self.notifications.append(text)

    def clear(self) -> None:
        """Nothing is open any more: the tray icon goes."""
        if self._tray is not None:
            self._tray.hide()
