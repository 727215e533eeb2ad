"""The staff console (``kiosk staff``): sign-in, the live queue, visit detail, preview and print.

The console owns its transactions: reads go through plain connections (on SQLite they never
queue behind a tablet's write), and every view, acknowledgement, print and sign-in is one
transaction with its audit event. The queue follows other processes by polling the newest audit
sequence number (one indexed lookup) every half second; it reloads only when that moved.

Urgent flags are watched for the console's whole life, signed in or not: an alert watcher polled
every half second puts them in the banner above every panel, chimes, notifies and audits each
alert shown and each repeat (issue 16).
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QApplication
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from kiosk import paths
from kiosk.app.alerts import AlertConfig, AlertState, AlertWatcher
from kiosk.app.clock import Clock, local_now
from kiosk.app.idle import IdleWatcher
from kiosk.config import Settings
from kiosk.domain.console import VisitDetail
from kiosk.domain.findings import flag_catalogue, unknown_flag
from kiosk.domain.loader import load_packet
from kiosk.domain.model import Packet
from kiosk.domain.records import FlagDecision
from kiosk.domain.strings import Strings, load_strings
from kiosk.storage import console, reconsent, repository, staff
from kiosk.storage.alerts import UrgentFlag
from kiosk.storage.db import Database, OpenError, open_database
from kiosk.storage.staff import SERVICE_ROLE, PinCheck, PinResult
from kiosk.ui.staff.alert_banner import AlertAnnouncer, AlertItem, public_summary
from kiosk.ui.staff.detail import DOCUMENT_TITLES, VisitDetailView
from kiosk.ui.staff.login import LoginPanel, SetupPanel
from kiosk.ui.staff.preview import PdfPreview
from kiosk.ui.staff.queue import QueueView, SearchRequest
from kiosk.ui.staff.window import ConsoleWindow
from kiosk.ui.texts import Texts
from kiosk.ui.theme import register_fonts

log = logging.getLogger(__name__)
# Log lines carry staff ids and outcomes only, never patient data.

POLL_MS = 500  # a flag raised on a tablet shows here within about half a second
ALERT_POLL_MS = 500  # …and in the urgent-finding banner, signed in or not (the goal is 2 s)
ACKNOWLEDGING_ROLES = ("clinician", "admin")


@dataclass
class SignedIn:
    staff_id: str
    name: str
    role: str


class StaffConsole(QObject):
    """Wires the console window to the records."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        packet: Packet,
        strings: Strings,
        clock: Clock = local_now,
        *,
        idle_s: int | None = None,
        poll_ms: int = POLL_MS,
        alert_poll_ms: int = ALERT_POLL_MS,
        make_preview: Callable[[], PdfPreview] = PdfPreview,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.db = db
        self.packet = packet
        self.texts = Texts(strings, "en")  # staff read English; patient text is shown as given
        self.clock = clock
        self.make_preview = make_preview  # tests hand in a preview that prints to a file
        self.window = ConsoleWindow(settings.clinic_name)
        self.window.sign_out_requested.connect(self.sign_out)
        self.window.closing.connect(self._closing)
        self.user: SignedIn | None = None
        self.search: SearchRequest | None = None  # None: today's queue
        self.visit_id: str | None = None  # the visit open in detail or preview
        self.marker = -1
        self.poll_timer = QTimer(self)
        self.poll_timer.setInterval(poll_ms)
        self.poll_timer.timeout.connect(self.poll)
        self.idle = IdleWatcher((idle_s or settings.staff_idle_s) * 1000, self)
        self.idle.idle.connect(self._idle_sign_out)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self.idle)
        # The alert timer belongs to the console, not to a sign-in: signed out after idle or
        # minimised, the console still watches (sign_out stops only the queue's poll).
        self.alerts = AlertWatcher(
            db.sessions, AlertConfig.from_settings(settings, settings.kiosk_id), clock
        )
        self.alert_state: AlertState | None = None
        self.announcer = AlertAnnouncer(self.window)
        self.flag_words = {flag_id: f.message for flag_id, f in flag_catalogue(packet).items()}
        self.window.alert_banner.visit_requested.connect(self._open_alerted_visit)
        self.alert_timer = QTimer(self)
        self.alert_timer.setInterval(alert_poll_ms)
        self.alert_timer.timeout.connect(self.poll_alerts)
        self.alert_timer.start()
        self.show_start()

    # --- plumbing ---

    @property
    def now(self) -> dt.datetime:
        return self.clock()

    @property
    def queue(self) -> QueueView | None:
        """The queue, when it is the panel on screen."""
        panel = self.window.panel
        return panel if isinstance(panel, QueueView) else None

    def _device(self) -> str:
        return self.settings.kiosk_id

    def _actor(self) -> str:
        return f"staff:{self.user.staff_id}" if self.user else "staff:unknown"

    def _record(self, action: str, subject: str = "") -> None:
        """An audit event on its own; a failure is logged (the console carries on)."""
        repository.record_event(
            self.db.sessions,
            actor=self._actor(),
            device=self._device(),
            action=action,
            subject=subject,
            now=self.now,
        )

    # --- sign-in ---

    def show_start(self) -> None:
        """The first run asks for an administrator; afterwards, the sign-in."""
        try:
            with self.db.read() as session:
                first_run = not staff.has_staff(session)
        except SQLAlchemyError as exc:
            log.error("could not read the staff list: %s", type(exc).__name__)
            first_run = False
        if first_run:
            setup = SetupPanel()
            setup.submitted.connect(self._create_admin)
            self.window.show_panel(setup)
        else:
            self._show_login()

    def _show_login(self, message: str = "") -> None:
        login = LoginPanel(self.settings.clinic_name)
        login.submitted.connect(self.sign_in)
        login.reset(message)
        self.window.show_panel(login)
        self.window.set_signed_in("")

    def _create_admin(self, staff_id: str, name: str, pin: str) -> None:
        panel = self.window.panel
        try:
            with self.db.begin() as session:
                if staff.has_staff(session):  # another console did it meanwhile
                    raise staff.StaffError("an administrator exists already: please sign in")
                staff.add_staff(session, staff_id, name=name, role="admin", pin=pin, now=self.now)
                repository.audit(
                    session,
                    actor="setup",
                    device=self._device(),
                    action="staff.add",
                    subject=staff_id,
                    now=self.now,
                )
        except staff.StaffError as exc:
            if isinstance(panel, SetupPanel):
                panel.refuse(f"Not created: {exc}.")
            return
        except SQLAlchemyError as exc:
            log.error("could not create the administrator: %s", type(exc).__name__)
            if isinstance(panel, SetupPanel):
                panel.refuse("The records could not be saved. Nothing was created.")
            return
        log.info("the first administrator was created: %s", staff_id)
        self._show_login(f"Administrator '{staff_id}' created. Sign in with the new PIN.")

    def sign_in(self, staff_id: str, pin: str) -> None:
        panel = self.window.panel
        now = self.now
        try:
            with self.db.begin() as session:
                result = staff.check_pin_audited(
                    session, staff_id, pin, action="staff.login", device=self._device(), now=now
                )
        except SQLAlchemyError as exc:
            log.error("a staff PIN could not be checked: %s", type(exc).__name__)
            if isinstance(panel, LoginPanel):
                panel.refuse("The records could not be reached. Please try again.")
            return
        log.info("console sign-in: %s (%s)", result.staff_id or "unknown id", result.check)
        if result.check is not PinCheck.OK:
            if isinstance(panel, LoginPanel):
                panel.refuse(self._refusal(result, now))
            return
        if result.role == SERVICE_ROLE:  # a scheduled job's account never opens the records
            if isinstance(panel, LoginPanel):
                panel.refuse("A service account cannot sign in to the console.")
            return
        self.user = SignedIn(result.staff_id, result.display_name, result.role)
        self.window.set_signed_in(f"{result.display_name} ({result.role})")
        self.idle.arm()
        self.show_queue()

    def start_signed_in(self, staff_id: str) -> bool:
        """Open on the queue for a member of staff who has just signed in on this tablet (their
        PIN was checked and audited there). False, and the sign-in shown, if they cannot be."""
        try:
            with self.db.read() as session:
                member = staff.active_member(session, staff_id)
        except SQLAlchemyError as exc:
            log.error("could not read a staff user: %s", type(exc).__name__)
            member = None
        if member is None:
            self._show_login()
            return False
        name, role = member
        self.user = SignedIn(staff_id, name, role)
        self.window.set_signed_in(f"{name} ({role})")
        self.idle.arm()
        self.show_queue()
        return True

    def _refusal(self, result: PinResult, now: dt.datetime) -> str:
        if result.check is PinCheck.LOCKED and result.locked_until is not None:
            until = result.locked_until.astimezone(now.tzinfo)
            return (
                f"Too many wrong PINs. This staff id is locked until {until:%H:%M} "
                f"({until:%Y-%m-%d}). An administrator can reset the PIN."
            )
        # A disabled id is answered like a wrong PIN (its audit event tells staff apart).
        return "That staff id and PIN do not match. Please try again."

    def sign_out(self, *, timed_out: bool = False) -> None:
        """Back to the sign-in; nothing of the queue or a visit stays in the window."""
        if self.user is None:
            return
        self._record("staff.logout_idle" if timed_out else "staff.logout", self.user.staff_id)
        log.info("console sign-out (%s)", "inactivity" if timed_out else "by staff")
        self.user = None
        self.visit_id = None
        self.poll_timer.stop()
        self.idle.disarm()
        note = "You were signed out after a time without activity." if timed_out else ""
        self._show_login(note)

    def _idle_sign_out(self) -> None:
        self.sign_out(timed_out=True)

    def _closing(self) -> None:
        if self.user is not None:
            self.sign_out()
        self.poll_timer.stop()
        self._stop_alerts()  # the window is gone: nobody would see an alert

    # --- queue ---

    def show_queue(self) -> None:
        if self.user is None:
            return
        today = self.now.date()
        queue = QueueView(today)
        queue.search_requested.connect(self._search)
        queue.today_requested.connect(self._today)
        queue.visit_opened.connect(self.open_visit)
        self.visit_id = None
        if self.search is not None:
            queue.show_search(self.search)
        self.window.show_panel(queue)
        self.marker = -1
        self.poll()
        self.poll_timer.start()

    def _search(self, request: SearchRequest) -> None:
        self.search = request
        self._record("visits.searched")  # who searched, never what for
        self.marker = -1
        self.poll()

    def _today(self) -> None:
        self.search = None
        if self.queue is not None:
            self.queue.reset_search(self.now.date())
        self.marker = -1
        self.poll()

    def poll(self) -> None:
        """Reload the queue, or the visit on screen, when anything changed in the records (any
        process, any tablet): a flag raised while a clinician reads the visit appears there too."""
        panel = self.window.panel
        if isinstance(panel, VisitDetailView):
            self._poll_detail(panel)
            return
        queue = self.queue
        if queue is None:
            return
        try:
            with self.db.read() as session:
                marker = console.change_marker(session)
                if marker == self.marker:
                    return
                since, until, heading = self._range()
                request = self.search
                entries = console.find_visits(
                    session,
                    self.packet,
                    since=since,
                    until=until,
                    name=request.name if request else "",
                    birth_date=request.birth_date if request else "",
                )
                counts = console.signature_counts(session)
        except SQLAlchemyError as exc:
            log.error("could not read the queue: %s", type(exc).__name__)
            queue.show_message("The records could not be reached. Trying again…")
            return
        self.marker = marker
        queue.show_entries(heading, entries, self._tz)
        queue.show_counts(counts)

    def _marker(self) -> int | None:
        try:
            with self.db.read() as session:
                return console.change_marker(session)
        except SQLAlchemyError as exc:
            log.error("could not read the records' change marker: %s", type(exc).__name__)
            return None

    def _poll_detail(self, view: VisitDetailView) -> None:
        marker = self._marker()
        if marker is None or marker == self.marker:
            return
        detail = self._load_detail(view.detail.entry.visit_id)
        if detail is None:
            return
        self.marker = marker
        position = view.scroll_area.verticalScrollBar().value()
        fresh = self._show_detail(detail)
        bar = fresh.scroll_area.verticalScrollBar()
        # Once the new view is laid out, the reader keeps their place.
        QTimer.singleShot(0, lambda: bar.setValue(position))

    @property
    def _tz(self) -> dt.tzinfo:
        tz = self.now.tzinfo
        assert tz is not None
        return tz

    def _range(self) -> tuple[dt.datetime, dt.datetime, str]:
        """The visit days asked for, as [since, until) in the clinic's time."""
        request = self.search
        today = self.now.date()
        first, last = (request.first_day, request.last_day) if request else (today, today)
        since = dt.datetime.combine(first, dt.time(), self._tz)
        until = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), self._tz)
        if request is None:
            heading = f"Today, {today:%A %d %B %Y}"
        elif first == last:
            heading = f"Visits on {first:%Y-%m-%d}"
        else:
            heading = f"Visits from {first:%Y-%m-%d} to {last:%Y-%m-%d}"
        if request and (request.name or request.birth_date):
            heading += " matching the search"
        return since, until, heading

    # --- urgent findings ---

    def poll_alerts(self) -> None:
        """Put every open urgent flag in the banner; chime, notify and audit those this console
        has not shown yet and those due again. One small indexed query; on a database error the
        watcher hands back its last state, which is shown again but never announced again."""
        previous, state = self.alert_state, self.alerts.poll()
        self.alert_state = state
        tz = self._tz
        items = [self._alert_item(flag) for flag in state.open]
        self.window.alert_banner.show_items(items, tz)
        if not items:
            self.announcer.clear()
        if state is previous or not (state.new or state.repeat_due):
            return
        for action, flags in (("alert.shown", state.new), ("alert.repeated", state.repeat_due)):
            for flag in flags:  # one event per flag per showing; the subject is the visit id
                repository.record_event(
                    self.db.sessions,
                    actor="system",
                    device=self._device(),
                    action=action,
                    subject=flag.visit_id,
                    now=self.now,
                )
        self.alerts.mark_announced(flag.flag_id for flag in (*state.new, *state.repeat_due))
        self.announcer.announce(public_summary(items, tz))  # no patient data, signed in or not
        log.info("urgent-finding alert: %d new, %d again", len(state.new), len(state.repeat_due))

    def _alert_item(self, flag: UrgentFlag) -> AlertItem:
        words = self.flag_words.get(flag.rule_id) or unknown_flag(flag.rule_id).message
        return AlertItem(
            flag_id=flag.flag_id,
            visit_id=flag.visit_id,
            kiosk_id=flag.kiosk_id,
            raised_at=flag.raised_at,
            retracted_at=flag.retracted_at,
            document_number=flag.document_number,
            message=words,
        )

    def _open_alerted_visit(self, visit_id: str) -> None:
        if self.user is not None:  # the banner offers the visit only while signed in
            self.open_visit(visit_id)

    def _stop_alerts(self) -> None:
        self.alert_timer.stop()
        self.alerts.stop()
        self.announcer.clear()

    # --- one visit ---

    def open_visit(self, visit_id: str) -> None:
        """The visit's detail; the view is audited."""
        detail = self._load_detail(visit_id)
        if detail is None:
            if self.queue is not None:
                self.queue.show_message("That visit could not be opened. Please try again.")
            return
        self._record("visit.viewed", visit_id)
        self.marker = self._marker() or -1  # this view's own event needs no reload
        self._show_detail(detail)
        self.poll_timer.start()

    def _load_detail(self, visit_id: str) -> VisitDetail | None:
        try:
            with self.db.read() as session:
                note = self._consent_note(session, visit_id)
                return console.visit_detail(session, self.packet, visit_id, consent_note=note)
        except (SQLAlchemyError, repository.NotFoundError) as exc:
            log.error("could not read a visit: %s", type(exc).__name__)
            return None

    def _consent_note(self, session: Session, visit_id: str) -> str:
        """ "first consent", "re-consent: version 1 → 2", "consent on file: …" for this visit."""
        need = reconsent.consent_need_for_visit(
            session,
            visit_id,
            self.packet.consent,
            self.now,
            self.settings.consent_validity_months,
        )
        return need.staff_label()

    def _show_detail(self, detail: VisitDetail) -> VisitDetailView:
        user = self.user
        view = VisitDetailView(
            detail,
            self.packet,
            self.texts,
            self._tz,
            may_acknowledge=user is not None and user.role in ACKNOWLEDGING_ROLES,
        )
        view.back_requested.connect(self.show_queue)
        view.acknowledge_requested.connect(self.acknowledge)
        view.preview_requested.connect(self.preview)
        self.visit_id = detail.entry.visit_id
        self.window.show_panel(view)
        return view

    def acknowledge(self, rule_id: str, decision: object, note: object = "") -> None:
        """A clinician's decision on a flag (discussed and proceed, hold, refer, patient left),
        with an optional note: stored, audited, and shown in the detail and the exports."""
        user, visit_id = self.user, self.visit_id
        if user is None or visit_id is None or user.role not in ACKNOWLEDGING_ROLES:
            return
        if not isinstance(decision, FlagDecision):
            return  # the form sends one only once a decision is chosen
        try:
            with self.db.begin() as session:
                console.acknowledge_flag(
                    session,
                    visit_id,
                    rule_id,
                    staff_id=user.staff_id,
                    decision=decision,
                    note=note if isinstance(note, str) else "",
                    device=self._device(),
                    now=self.now,
                )
        except SQLAlchemyError as exc:
            log.error("could not acknowledge a flag: %s", type(exc).__name__)
        detail = self._load_detail(visit_id)
        if detail is not None:
            self._show_detail(detail)

    def preview(self, kind: str) -> None:
        """The sealed PDF in the viewer; opening it is audited."""
        visit_id = self.visit_id
        if visit_id is None:
            return
        try:
            with self.db.read() as session:
                _, content = console.document_content(session, visit_id, kind)
        except (SQLAlchemyError, repository.NotFoundError) as exc:
            log.error("could not read a document: %s", type(exc).__name__)
            return
        self._record(f"document.viewed.{kind}", visit_id)
        number = repository.document_number(visit_id)
        preview = self.make_preview()
        preview.setObjectName("documentPreview")
        preview.load(content, f"{DOCUMENT_TITLES.get(kind, kind)} {number}")
        preview.printed.connect(
            lambda how, pages, _printer: self._printed(visit_id, kind, how, pages)
        )
        preview.closed.connect(lambda: self.open_visit(visit_id))
        self.window.show_panel(preview)

    def _printed(self, visit_id: str, kind: str, how: str, pages: int) -> None:
        """Every print and reprint is on the audit trail (the way it went, never the content)."""
        try:
            with self.db.begin() as session:
                before = console.times_printed(session, visit_id, [kind])
                action = "document.reprinted" if before else "document.printed"
                repository.audit(
                    session,
                    actor=self._actor(),
                    device=self._device(),
                    action=f"{action}.{kind}",
                    subject=visit_id,
                    now=self.now,
                )
        except SQLAlchemyError as exc:
            log.error("could not record a print: %s", type(exc).__name__)
            return
        log.info("a %s was printed (%s, %d pages)", kind, how, pages)

    def shutdown(self) -> None:
        """Close the window for good (it signs out first) and leave no event filter behind."""
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self.idle)
        self.poll_timer.stop()
        self._stop_alerts()
        self.idle.disarm()
        if self.window.isVisible():
            self.window.close()
        self.window.deleteLater()


def open_console(settings: Settings, clock: Clock = local_now) -> StaffConsole | str:
    """Open the records and build the console; or the reason it cannot open (no patient data)."""
    try:
        db = open_database(settings.database_url, key_dir=settings.key_dir)
    except OpenError as exc:
        return str(exc)
    packet = load_packet(settings.forms_dir, settings.text_values())
    return StaffConsole(settings, db, packet, load_strings(paths.STRINGS_DIR), clock)


def run_staff_console(settings: Settings) -> int:
    """``kiosk staff``: the console window until it is closed."""
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName(f"{paths.APP_NAME} staff")
    register_fonts(app)
    console_or_reason = open_console(settings)
    if isinstance(console_or_reason, str):
        print(f"The records cannot be opened: {console_or_reason}", file=sys.stderr)
        return 1
    staff_console = console_or_reason
    staff_console.window.show()
    try:
        return app.exec()
    finally:
        staff_console.db.dispose()
