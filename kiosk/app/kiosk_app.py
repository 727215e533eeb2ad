"""The patient kiosk: one window, the flow's current screen in it."""

from __future__ import annotations

import datetime as dt
import logging
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType, TracebackType

from PySide6.QtCore import QElapsedTimer, QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent, QKeySequence, QMouseEvent
from PySide6.QtWidgets import (
    QApplication,
    QMainWindow,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from kiosk import paths
from kiosk.app.alerts import AlertConfig, AlertWatcher
from kiosk.app.clock import Clock, local_now
from kiosk.app.flow import FlowConfig, VisitFlow
from kiosk.app.idle import IdleWatcher
from kiosk.app.instance import DataFolderError, acquire_single_instance
from kiosk.app.service import SAVE_FAILED
from kiosk.config import Settings
from kiosk.documents.seal import Certificates, init_certificates
from kiosk.domain.loader import load_packet
from kiosk.domain.model import Packet
from kiosk.domain.strings import Strings, load_strings
from kiosk.storage import repository
from kiosk.storage.db import Database, OpenError, open_database
from kiosk.storage.health import startup_check
from kiosk.ui.privacy import wipe_widgets
from kiosk.ui.screens.display import DisplayPanel
from kiosk.ui.screens.safe_mode import SafeModeScreen
from kiosk.ui.screens.staff import DraftEntry, StaffMenu, StaffSignIn
from kiosk.ui.screens.start import WelcomeScreen
from kiosk.ui.screens.still_there import StillThereOverlay
from kiosk.ui.speech import Reader
from kiosk.ui.theme import DEFAULT_APPEARANCE, Appearance, apply_theme, stylesheet
from kiosk.ui.widgets.keyboard import OnScreenKeyboard

log = logging.getLogger(__name__)

WINDOW_SIZE = (1280, 800)  # a common 10-inch tablet in landscape
ALERT_POLL_MS = 1000  # the tablet's watcher only escalates: a second is plenty


class KioskWindow(QMainWindow):
    """Shows exactly one screen at a time; the previous one is destroyed, not hidden."""

    close_refused = Signal()  # someone tried to close the kiosk without staff

    def __init__(self, keyboard: OnScreenKeyboard | None = None) -> None:
        super().__init__()
        self.setObjectName("kioskWindow")
        self.setWindowTitle("Patient check-in")
        self.stack = QStackedWidget()
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.stack, 1)
        self.keyboard = keyboard
        if keyboard is not None:  # docked under the screen: the screen shrinks, never hides
            column.addWidget(keyboard)
            app = QApplication.instance()
            if isinstance(app, QApplication):
                app.focusChanged.connect(keyboard.follow_focus)
                app.installEventFilter(keyboard)
        self.setCentralWidget(central)
        self._may_close = False

    def release(self) -> None:
        """Let the window close (staff exit, shutdown, tests); until then closing is ignored."""
        self._may_close = True

    def closeEvent(self, event: QCloseEvent) -> None:
        """Alt+F4, the window manager's close and Ctrl+Q do nothing on a locked kiosk."""
        if self._may_close:
            event.accept()
        else:
            log.info("a request to close the kiosk window was ignored")
            self.close_refused.emit()
            event.ignore()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        quit_keys = event.matches(QKeySequence.StandardKey.Quit) or event.matches(
            QKeySequence.StandardKey.Close
        )
        if event.key() == Qt.Key.Key_Escape or quit_keys:
            event.accept()  # swallowed: never leaves the kiosk or a screen
            return
        super().keyPressEvent(event)

    def show_screen(self, screen: QWidget) -> None:
        if self.keyboard is not None:
            self.keyboard.dismiss()  # until a field on the new screen is tapped
        old = self.stack.currentWidget()
        self.stack.addWidget(screen)
        self.stack.setCurrentWidget(screen)
        if old is not None:
            self.stack.removeWidget(old)
            old.deleteLater()

    @property
    def screen_widget(self) -> QWidget | None:
        return self.stack.currentWidget()


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
        self.overlay: StillThereOverlay | None = None
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
        overlay.stay.connect(self.stay)
        overlay.timed_out.connect(self.flow.wipe)
        self.overlay = overlay
        overlay.show()
        overlay.raise_()
        overlay.stay_button.setFocus()

    def stay(self) -> None:
        """The patient is still here: keep everything and start counting again."""
        self._drop_overlay()
        self.watcher.arm()

    def _drop_overlay(self) -> None:
        overlay, self.overlay = self.overlay, None
        if overlay is not None:
            overlay.hide()
            overlay.deleteLater()


class AppearanceControl(QObject):
    """Shows the text-size-and-colours panel; restyles the whole kiosk as the patient chooses;
    puts the default back for the next patient (on Welcome)."""

    def __init__(self, window: KioskWindow, flow: VisitFlow) -> None:
        super().__init__(window)
        self.window = window
        self.flow = flow
        self.appearance = DEFAULT_APPEARANCE
        self.panel: DisplayPanel | None = None
        flow.display_requested.connect(self.open)
        flow.screen_changed.connect(self._screen_changed)

    def open(self) -> None:
        self.close()
        panel = DisplayPanel(self.window, self.flow.texts, self.appearance)
        panel.chosen.connect(self.apply)
        panel.done.connect(self.close)
        self.panel = panel
        panel.show()
        panel.raise_()

    def apply(self, appearance: Appearance) -> None:
        self.appearance = appearance
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.setStyleSheet(stylesheet(appearance))

    def close(self) -> None:
        panel, self.panel = self.panel, None
        if panel is not None:
            panel.hide()
            panel.deleteLater()

    def _screen_changed(self, screen: QWidget) -> None:
        self.close()
        if isinstance(screen, WelcomeScreen) and self.appearance != DEFAULT_APPEARANCE:
            self.apply(DEFAULT_APPEARANCE)


CORNER_PX = 90  # the hidden staff corner: top left
CORNER_TAPS = 5
CORNER_WINDOW_MS = 3000


class StaffAccess(QObject):
    """Five taps in the top-left corner within three seconds open the staff sign-in.

    A signed-in member of staff may resume a draft visit or close the kiosk. PINs go through
    the persistent lockout; only the staff id and the outcome are logged.
    """

    def __init__(
        self,
        window: KioskWindow,
        flow: VisitFlow,
        sessions: sessionmaker[Session],
        clock: Clock,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.flow = flow
        self.sessions = sessions
        self.clock = clock
        self.taps: list[int] = []
        self.last_stamp = -1
        self.timer = QElapsedTimer()
        self.timer.start()
        self.panel: StaffSignIn | StaffMenu | None = None
        self.staff_id = ""  # who is signed in on the tablet, while the menu is open
        self.console_opener: Callable[[str], QObject] | None = None  # set by build_kiosk
        self.console: QObject | None = None  # the staff console opened on this tablet
        app = QApplication.instance()
        assert app is not None
        app.installEventFilter(self)
        flow.screen_changed.connect(lambda _screen: self.close())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.MouseButtonPress
            and isinstance(watched, QWidget)
            and watched.window() is self.window
            and isinstance(event, QMouseEvent)
        ):
            point = self.window.mapFromGlobal(event.globalPosition().toPoint())
            stamp = event.timestamp()  # a press not taken by a widget reaches its parents too
            if (
                stamp != self.last_stamp
                and 0 <= point.x() < CORNER_PX
                and 0 <= point.y() < CORNER_PX
            ):
                self.last_stamp = stamp
                now = self.timer.elapsed()
                self.taps = [t for t in self.taps if now - t < CORNER_WINDOW_MS] + [now]
                if len(self.taps) >= CORNER_TAPS and self.panel is None:
                    self.taps = []
                    self.open_sign_in()
        return False

    def open_sign_in(self) -> None:
        self.close()
        panel = StaffSignIn(self.window.stack, self.flow.texts)  # the keyboard stays usable
        panel.submitted.connect(self._signed_in)
        panel.cancelled.connect(self.close)
        self._show(panel)

    def _signed_in(self, staff_id: str, pin: str) -> None:
        panel = self.panel
        if not isinstance(panel, StaffSignIn):
            return
        result, refusal = self.flow.check_staff(staff_id, pin, "staff.login")
        if result is None:
            panel.refuse(refusal)
            return
        drafts = self._todays_drafts(self.clock())
        if drafts is None:  # the same kind message as when the PIN itself cannot be checked
            panel.refuse(self.flow.say(SAVE_FAILED))
            return
        self.staff_id = result.staff_id
        self._open_menu(result.display_name, drafts)

    def _todays_drafts(self, now: dt.datetime) -> list[DraftEntry] | None:
        """Today's unfinished visits but the one on screen, for the resume list; None when the
        records cannot be read (only the error's type is logged: its message may hold a name)."""
        start_of_day = now.replace(hour=0, minute=0, second=0, microsecond=0)
        try:
            with self.sessions.begin() as session:
                drafts = repository.list_drafts(session, since=start_of_day)
        except SQLAlchemyError as exc:
            log.error("could not read the unfinished visits: %s", type(exc).__name__)
            return None
        return [
            DraftEntry(
                d.visit_id,
                f"{d.patient_name or '—'} · {d.birth_date or '—'} · "
                f"{d.started_at.astimezone(now.tzinfo):%H:%M}",
            )
            for d in drafts
            if d.visit_id != self.flow.visit_id
        ]

    def _open_menu(self, staff_name: str, entries: list[DraftEntry]) -> None:
        menu = StaffMenu(self.window.stack, self.flow.texts, staff_name, entries)
        menu.resume_requested.connect(self._resume)
        menu.exit_requested.connect(self._exit)
        menu.console_requested.connect(self._open_console)
        menu.closed.connect(self.close)
        self._show(menu)

    def _resume(self, visit_id: str) -> None:
        self.close()
        self.flow.resume(visit_id, resumed_by=self.staff_id)

    def _exit(self) -> None:
        log.info("the kiosk was closed by staff")
        self.flow.record("kiosk.exit", actor=f"staff:{self.staff_id}")
        self.close()
        self.flow.wipe()
        self.window.release()
        self.window.close()

    def _open_console(self) -> None:
        """The staff console on this tablet, for whoever signed in here; closing it brings the
        kiosk back on Welcome. The visit on screen is wiped first (its draft stays)."""
        if self.console_opener is None:
            return
        staff_id = self.staff_id
        self.flow.record("staff.console_opened", actor=f"staff:{staff_id}")
        self.close()
        self.flow.wipe()
        self.console = self.console_opener(staff_id)

    def _show(self, panel: StaffSignIn | StaffMenu) -> None:
        if self.window.keyboard is not None:
            self.window.keyboard.dismiss()
        self.panel = panel
        panel.show()
        panel.raise_()

    def close(self) -> None:
        panel, self.panel = self.panel, None
        if panel is not None:
            if self.window.keyboard is not None:
                self.window.keyboard.dismiss()
            wipe_widgets(panel)  # the PIN and the resume list never linger
            panel.hide()
            panel.deleteLater()


class BackgroundAlerts(QObject):
    """The urgent-flag watcher inside the kiosk process: a flag nobody acknowledges is escalated
    even when no staff console is open anywhere (issue 16). It shows nothing: the patient's screen
    never learns of an alert; the watcher's state is dropped after each poll."""

    def __init__(
        self, watcher: AlertWatcher, parent: QObject, interval_ms: int = ALERT_POLL_MS
    ) -> None:
        super().__init__(parent)
        self.watcher = watcher
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.poll)
        self.timer.start()

    def poll(self) -> None:
        self.watcher.poll()  # starts due escalations on its own thread; never raises

    def stop(self) -> None:
        self.timer.stop()
        self.watcher.stop()


@dataclass
class Kiosk:
    """A wired kiosk: window and flow (tests and the demo drive these)."""

    window: KioskWindow
    flow: VisitFlow
    guard: PrivacyGuard
    appearance: AppearanceControl
    staff: StaffAccess
    db: Database
    alerts: BackgroundAlerts | None = None

    def shutdown(self) -> None:
        """Close the window for good: the application-wide event filters go with it (a kiosk
        rebuilt in the same process must not leave them behind) and the database is closed."""
        app = QApplication.instance()
        if app is not None:
            for watcher in (self.guard.watcher, self.staff, self.window.keyboard):
                if watcher is not None:
                    app.removeEventFilter(watcher)
        self.guard.watcher.disarm()
        if self.alerts is not None:
            self.alerts.stop()
        self.window.release()
        self.window.close()
        self.window.deleteLater()
        self.db.dispose()


@dataclass
class SafeMode:
    """A kiosk whose records failed the start-up check: a staff message, no intake."""

    window: KioskWindow
    problems: list[str]


def open_kiosk(settings: Settings, clock: Clock = local_now) -> Kiosk | SafeMode:
    """Open and check the records, purge abandoned drafts, then build the kiosk; if the records
    cannot be opened or fail their check, a safe-mode window instead (fail closed)."""
    strings = load_strings(paths.STRINGS_DIR)
    try:
        db = open_database(settings.database_url, key_dir=settings.key_dir)
    except OpenError as exc:
        log.error("the records could not be opened: %s", exc)
        return safe_mode(strings, [str(exc)])
    health = startup_check(db, kept_head=db.head_file)  # a cut tail is safe mode (heads)
    if not health.ok:
        _record(db, settings, "kiosk.safe_mode", clock())
        db.dispose()
        return safe_mode(strings, health.problems)
    certificates = Certificates(settings.key_dir)
    if not certificates.exist():
        if settings.certificates == "require":
            db.dispose()
            return safe_mode(strings, [certificates.missing_message()])
        init_certificates(
            certificates, clinic_name=settings.clinic_name, kiosk_id=settings.kiosk_id
        )
        _record(db, settings, "certificates.created", clock())
    purge_drafts(db, settings, clock())
    return build_kiosk(settings, db, clock, strings)


def _record(db: Database, settings: Settings, action: str, now: dt.datetime) -> None:
    """A system event at start-up, before there is a flow to record it. Logged, never raised."""
    repository.record_event(
        db.sessions, actor="system", device=settings.kiosk_id, action=action, now=now
    )


def purge_drafts(db: Database, settings: Settings, now: dt.datetime) -> int:
    """Abandoned drafts older than the retention time lose their answers (audited)."""
    idle_since = now - dt.timedelta(hours=settings.draft_retention_h)
    try:
        with db.begin() as session:
            return repository.purge_abandoned_drafts(
                session, idle_since=idle_since, device=settings.kiosk_id, now=now
            ).purged
    except SQLAlchemyError as exc:
        log.error("abandoned drafts could not be purged: %s", type(exc).__name__)
        return 0


def safe_mode(strings: Strings, problems: list[str]) -> SafeMode:
    window = KioskWindow()
    window.resize(*WINDOW_SIZE)
    window.show_screen(SafeModeScreen(strings, problems))
    window.release()  # nothing private here; IT may close it while they repair
    return SafeMode(window, problems)


def build_kiosk(
    settings: Settings, db: Database, clock: Clock = local_now, strings: Strings | None = None
) -> Kiosk:
    """Load forms (and strings, unless given), wire the flow on ``db`` to a window on Welcome."""
    packet = load_packet(settings.forms_dir, settings.text_values())
    strings = strings or load_strings(paths.STRINGS_DIR)
    flow = VisitFlow(
        packet,
        strings,
        db.sessions,
        FlowConfig(
            clinic_name=settings.clinic_name,
            kiosk_id=settings.kiosk_id,
            done_seconds=settings.done_seconds,
            output_dir=settings.output_dir,
            certificates=Certificates(settings.key_dir),
            consent_validity_months=settings.consent_validity_months,
            crisis_line=settings.crisis_line,
        ),
        clock=clock,
        reader=Reader(settings.speech_engine),
    )
    keyboard = OnScreenKeyboard(flow.texts) if settings.keyboard == "builtin" else None
    window = KioskWindow(keyboard)
    window.resize(*WINDOW_SIZE)
    if keyboard is not None:
        flow.screen_changed.connect(lambda _screen: keyboard.retranslate(flow.texts))
    flow.screen_changed.connect(window.show_screen)
    window.close_refused.connect(lambda: flow.record("kiosk.close_refused"))
    guard = PrivacyGuard(window, flow, settings.idle_timeout_s, settings.idle_warning_s)
    appearance = AppearanceControl(window, flow)
    staff_access = StaffAccess(window, flow, db.sessions, clock)
    staff_access.console_opener = lambda staff_id: open_tablet_console(
        settings, db, packet, strings, clock, window, flow, staff_id
    )
    watcher = AlertWatcher(
        db.sessions, AlertConfig.from_settings(settings, settings.kiosk_id), clock
    )
    alerts = BackgroundAlerts(watcher, window)
    flow.show_welcome()
    return Kiosk(window, flow, guard, appearance, staff_access, db, alerts)


def open_tablet_console(  # noqa: PLR0917 - wiring, called from one place
    settings: Settings,
    db: Database,
    packet: Packet,
    strings: Strings,
    clock: Clock,
    window: KioskWindow,
    flow: VisitFlow,
    staff_id: str,
) -> QObject:
    """The staff console in place of the kiosk window, for staff signed in on the tablet; when it
    is closed, the kiosk comes back on Welcome."""
    from kiosk.app.staff_app import StaffConsole  # rarely opened on a tablet: not at start-up

    console = StaffConsole(settings, db, packet, strings, clock)
    console.start_signed_in(staff_id)
    console.window.setGeometry(window.geometry())
    full_screen = window.isFullScreen()
    window.hide()

    def back_to_kiosk() -> None:
        console.window.closing.disconnect(back_to_kiosk)
        console.shutdown()
        flow.show_welcome()
        if full_screen:
            window.showFullScreen()
        else:
            window.show()

    console.window.closing.connect(back_to_kiosk)
    if full_screen:
        console.window.showFullScreen()
    else:
        console.window.show()
    return console


def install_crash_guards(app: QApplication, kiosk: Kiosk) -> Callable[[], None]:
    """An unexpected error wipes the screen and returns to Welcome; SIGTERM wipes, then quits.

    Only the exception's type is logged: its message could carry what a patient typed.
    Returns a function that puts the previous handlers back.
    """
    previous_hook = sys.excepthook

    def on_error(
        exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        log.error("unexpected error (%s); the screen was wiped", exc_type.__name__)
        try:
            kiosk.flow.wipe()
        except Exception as again:  # the kiosk must keep running, whatever failed
            log.error("wiping after an error failed too (%s)", type(again).__name__)

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        log.info("stopping on SIGTERM; the screen was wiped first")
        kiosk.flow.wipe()
        kiosk.flow.record("kiosk.stopped_by_signal")
        kiosk.window.release()
        app.quit()

    sys.excepthook = on_error
    previous_term = signal.signal(signal.SIGTERM, on_sigterm)
    # Python runs signal handlers between bytecodes; Qt's loop is C++, so wake Python up.
    ticker = QTimer(kiosk.window)
    ticker.timeout.connect(lambda: None)
    ticker.start(250)

    def restore() -> None:
        ticker.stop()
        sys.excepthook = previous_hook
        signal.signal(signal.SIGTERM, previous_term)

    return restore


def run_kiosk(settings: Settings, *, windowed: bool) -> int:
    """Start the patient kiosk and run until staff close it (or SIGTERM)."""
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName(paths.APP_NAME)
    try:
        lock = acquire_single_instance(paths.data_dir())
    except DataFolderError as exc:
        # Said plainly on the screen and on standard error, never "already running": a read-only
        # or missing data folder is for IT to repair, and no patient can start a visit meanwhile.
        problem = f"The kiosk cannot start: {exc}."
        print(problem, file=sys.stderr)
        apply_theme(app)
        kiosk: Kiosk | SafeMode = safe_mode(load_strings(paths.STRINGS_DIR), [problem])
        lock = None
    else:
        if lock is None:
            print("The kiosk is already running on this computer.", file=sys.stderr)
            return 1
        apply_theme(app)
        kiosk = open_kiosk(settings)
    if isinstance(kiosk, Kiosk):
        kiosk.flow.record("kiosk.started")
        install_crash_guards(app, kiosk)
    if windowed:
        kiosk.window.show()
    else:
        kiosk.window.setWindowFlag(Qt.WindowType.FramelessWindowHint, True)
        kiosk.window.showFullScreen()
    try:
        return app.exec()
    finally:
        if isinstance(kiosk, Kiosk) and kiosk.alerts is not None:
            kiosk.alerts.stop()  # lets an escalation being delivered finish or give up
        if lock is not None:
            lock.unlock()
