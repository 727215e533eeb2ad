"""The staff console on a real database: first run, sign-in and lockout, the live queue with red
flags (also from another process, on SQLite and PostgreSQL), search, detail and acknowledge."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QFrame, QLabel, QPushButton
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from kiosk import cli, paths
from kiosk.app.demo import PHQ9_ITEM9, DemoPatient, write_flagged_visit
from kiosk.app.staff_app import StaffConsole
from kiosk.config import Settings
from kiosk.domain.console import QueueStatus
from kiosk.domain.loader import load_packet
from kiosk.domain.model import Packet
from kiosk.domain.records import FlagDecision
from kiosk.domain.scoring import score_raw_answers
from kiosk.domain.strings import Strings
from kiosk.storage import repository, staff
from kiosk.storage.db import Database, open_database
from kiosk.storage.models import FlagRecord
from kiosk.ui.staff.detail import VisitDetailView
from kiosk.ui.staff.login import LoginPanel, SetupPanel
from kiosk.ui.staff.preview import PdfPreview
from kiosk.ui.staff.queue import QueueView
from tests.app.conftest import KioskFactory
from tests.conftest import CLINIC_TIME
from tests.storage.conftest import add_draft
from tests.storage.test_reconsent import signed_visit

ROOT = Path(__file__).resolve().parents[2]
ADMIN_PIN = "736251"
CLINICIAN_PIN = "918273"
FRONT_DESK_PIN = "564738"


ConsoleFactory = Callable[..., StaffConsole]


@pytest.fixture
def console_factory(qtbot: QtBot, strings: Strings) -> Iterator[ConsoleFactory]:
    """Consoles on a database URL, each with its own connection pool (like separate runs)."""
    made: list[StaffConsole] = []

    def make(url: str, *, with_staff: bool = True, **options: object) -> StaffConsole:
        db = open_database(url)
        if with_staff:
            add_staff_users(db)
        settings = dataclasses.replace(Settings.load(database_url=url), kiosk_id="front-desk")
        packet = load_packet(paths.FORMS_DIR)
        console = StaffConsole(settings, db, packet, strings, lambda: CLINIC_TIME, **options)  # type: ignore[arg-type]
        made.append(console)
        qtbot.addWidget(console.window)
        console.window.show()
        return console

    yield make
    for console in made:
        console.shutdown()
        console.db.dispose()


def add_staff_users(db: Database) -> None:
    with db.begin() as session:
        if staff.has_staff(session):
            return
        when = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        for staff_id, name, role, pin in (
            ("ana.admin", "Ana Admin", "admin", ADMIN_PIN),
            ("dr.chen", "Dr Chen", "clinician", CLINICIAN_PIN),
            ("frank.desk", "Frank Desk", "staff", FRONT_DESK_PIN),
        ):
            staff.add_staff(session, staff_id, name=name, role=role, pin=pin, now=when)


def sign_in(console: StaffConsole, staff_id: str, pin: str) -> None:
    panel = console.window.panel
    assert isinstance(panel, LoginPanel), type(panel).__name__
    panel.staff_id.setText(staff_id)
    panel.pin.setText(pin)
    panel.sign_in_button.click()


def queue_of(console: StaffConsole) -> QueueView:
    panel = console.window.panel
    assert isinstance(panel, QueueView), type(panel).__name__
    return panel


def row_texts(queue: QueueView) -> list[list[str]]:
    table = queue.table
    rows = []
    for r in range(table.rowCount()):
        cells = [table.item(r, c) for c in range(table.columnCount())]
        rows.append([cell.text() if cell is not None else "" for cell in cells])
    return rows


def flagged_visit(db: Database, packet: Packet, name: str, birth_date: str = "1961-03-05") -> str:
    """A visit whose PHQ-9 page raised the urgent item-9 flag, written as a tablet writes it."""
    return write_flagged_visit(db, packet, name, birth_date, CLINIC_TIME, kiosk_id="kiosk-1")


def audit_actions(db: Database) -> list[str]:
    with db.begin() as session:
        return [event.action for event in repository.load_audit(session)]


# --- first run and sign-in ------------------------------------------------------------------------


def test_the_first_run_asks_for_an_administrator_then_signs_in(
    console_factory: ConsoleFactory, sqlite_url: str
) -> None:
    console = console_factory(sqlite_url, with_staff=False)
    setup = console.window.panel
    assert isinstance(setup, SetupPanel)
    setup.staff_id.setText("ana.admin")
    setup.display_name.setText("Ana Admin")
    setup.pin.setText(ADMIN_PIN)
    setup.pin_again.setText("000000")
    setup.create_button.click()
    assert "not the same" in setup.message.text()
    setup.pin.setText("12")
    setup.pin_again.setText("12")
    setup.create_button.click()
    assert "6 to 12 digits" in setup.message.text()  # kind, and nothing was created
    setup.pin.setText(ADMIN_PIN)
    setup.pin_again.setText(ADMIN_PIN)
    setup.create_button.click()
    login = console.window.panel
    assert isinstance(login, LoginPanel)
    assert "Administrator 'ana.admin' created" in login.message.text()
    with console.db.begin() as session:
        assert staff.check_pin(session, "ana.admin", ADMIN_PIN, CLINIC_TIME).role == "admin"
    sign_in(console, "ana.admin", ADMIN_PIN)
    assert console.window.who.text() == "Ana Admin (admin)"
    queue_of(console)
    assert audit_actions(console.db)[:2] == ["staff.add", "staff.login"]


def test_five_wrong_pins_lock_the_id_and_the_lock_survives_a_restart(
    console_factory: ConsoleFactory, sqlite_url: str
) -> None:
    console = console_factory(sqlite_url)
    login = console.window.panel
    assert isinstance(login, LoginPanel)
    for _ in range(4):
        sign_in(console, "dr.chen", "111111")
        assert login.message.text() == "That staff id and PIN do not match. Please try again."
        assert login.pin.text() == ""  # the PIN never stays on screen
    sign_in(console, "dr.chen", "111111")
    assert "locked until" in login.message.text()
    console.shutdown()
    console.db.dispose()

    restarted = console_factory(sqlite_url)  # a new process would read the same rows
    sign_in(restarted, "dr.chen", CLINICIAN_PIN)  # the right PIN, but still locked
    again = restarted.window.panel
    assert isinstance(again, LoginPanel)
    assert "locked until" in again.message.text()
    actions = audit_actions(restarted.db)
    assert actions.count("staff.login_failed") == 4
    assert actions.count("staff.lockout") == 2
    assert "staff.login" not in actions


def test_staff_are_signed_out_after_inactivity(
    console_factory: ConsoleFactory, sqlite_url: str, qtbot: QtBot
) -> None:
    console = console_factory(sqlite_url, idle_s=1)
    sign_in(console, "frank.desk", FRONT_DESK_PIN)
    queue_of(console)
    qtbot.waitUntil(lambda: isinstance(console.window.panel, LoginPanel), timeout=5000)
    login = console.window.panel
    assert isinstance(login, LoginPanel)
    assert "signed out after a time without activity" in login.message.text()
    assert console.window.who.text() == ""
    assert "staff.logout_idle" in audit_actions(console.db)


# --- the queue ------------------------------------------------------------------------------------


def test_the_queue_shows_todays_visits_with_status_and_flag_badges(
    console_factory: ConsoleFactory, sqlite_url: str, packet: Packet
) -> None:
    db = open_database(sqlite_url)
    flagged_visit(db, packet, "Zoë Flagged")
    add_draft(db, packet, "Quiet Patient", birth_date="1970-01-02")
    add_draft(db, packet, "Yesterday Patient", now=CLINIC_TIME - dt.timedelta(days=1))
    db.dispose()
    console = console_factory(sqlite_url)
    sign_in(console, "frank.desk", FRONT_DESK_PIN)
    rows = row_texts(queue_of(console))
    names = [row[1] for row in rows]
    # yesterday's is not today's; the urgent one comes first although it is older
    assert names == ["Zoë Flagged", "Quiet Patient"]
    flagged = rows[0]
    assert flagged[3] == "Needs review — urgent"  # still answering, but a clinician is needed
    assert flagged[4] == "⚠ 1 urgent"
    quiet = next(row for row in rows if row[1] == "Quiet Patient")
    assert quiet[4] == ""
    assert "2 visits" in queue_of(console).heading.text()
    assert queue_of(console).counts.text() == "Signed consents: none yet"


def test_a_flag_raised_on_another_tablet_appears_within_two_seconds(
    console_factory: ConsoleFactory, any_database_url: str, qtbot: QtBot
) -> None:
    """Two processes, one database: the console here, a tablet in a subprocess."""
    console = console_factory(any_database_url)
    sign_in(console, "dr.chen", CLINICIAN_PIN)
    queue = queue_of(console)
    assert queue.table.rowCount() == 0
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    tablet = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.app.tablet_writer",
            any_database_url,
            "Tablet Two Patient",
            CLINIC_TIME.isoformat(),
        ],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert tablet.returncode == 0, tablet.stderr[-2000:]
    # From the tablet's commit: the console polls every 0.5 s, so 2 s is four chances.
    qtbot.waitUntil(lambda: queue.table.rowCount() == 1, timeout=2000)
    row = row_texts(queue)[0]
    assert row[1] == "Tablet Two Patient"
    assert row[4] == "⚠ 1 urgent"
    assert row[5] == "tablet-2"


def test_search_by_name_ignores_case_and_accents_and_takes_birth_date_and_days(
    console_factory: ConsoleFactory, sqlite_url: str, packet: Packet
) -> None:
    db = open_database(sqlite_url)
    add_draft(db, packet, "José Álvarez", birth_date="1950-07-04")
    add_draft(db, packet, "Josefina Ruiz", birth_date="1988-12-01")
    add_draft(
        db, packet, "Jose Alvarez", birth_date="1990-01-01", now=CLINIC_TIME - dt.timedelta(days=40)
    )
    db.dispose()
    console = console_factory(sqlite_url)
    sign_in(console, "frank.desk", FRONT_DESK_PIN)
    queue = queue_of(console)

    queue.name.setText("JOSE alv")
    queue.search_button.click()
    assert [r[1] for r in row_texts(queue)] == ["José Álvarez"]  # today only

    queue.first_day.setDate(queue.first_day.date().addDays(-60))
    queue.search_button.click()
    assert {r[1] for r in row_texts(queue)} == {"Jose Alvarez", "José Álvarez"}
    started = {r[1]: r[0] for r in row_texts(queue)}
    assert started == {"José Álvarez": "09:14", "Jose Alvarez": "2026-10-13 09:14"}

    queue.birth_date.setText("1990-01-01")
    queue.search_button.click()
    assert [r[1] for r in row_texts(queue)] == ["Jose Alvarez"]

    queue.birth_date.setText("01/01/1990")
    queue.search_button.click()
    assert "year-month-day" in queue.message.text()
    assert [r[1] for r in row_texts(queue)] == ["Jose Alvarez"]  # the last results stay

    queue.today_button.click()
    assert {r[1] for r in row_texts(queue)} == {"José Álvarez", "Josefina Ruiz"}
    assert "visits.searched" in audit_actions(console.db)


# --- detail and acknowledge -----------------------------------------------------------------------


def open_row(console: StaffConsole, name: str) -> VisitDetailView:
    queue = queue_of(console)
    row = next(i for i, r in enumerate(row_texts(queue)) if r[1] == name)
    queue.table.selectRow(row)
    queue.open_button.click()
    detail = console.window.panel
    assert isinstance(detail, VisitDetailView), type(detail).__name__
    return detail


def labels(widget: object) -> list[str]:
    assert hasattr(widget, "findChildren")
    return [label.text() for label in widget.findChildren(QLabel)]


def test_a_clinician_acknowledges_a_flag_and_the_queue_shows_it_seen(
    console_factory: ConsoleFactory, sqlite_url: str, packet: Packet
) -> None:
    db = open_database(sqlite_url)
    visit_id = flagged_visit(db, packet, "Zoë Flagged")
    db.dispose()
    console = console_factory(sqlite_url)
    sign_in(console, "dr.chen", CLINICIAN_PIN)
    detail = open_row(console, "Zoë Flagged")
    shown = labels(detail)
    assert "URGENT" in shown
    assert any("item 9 (thoughts of death or self-harm)" in text for text in shown)
    assert "PHQ-9 total score" in " ".join(shown)
    assert "Minimal" in shown or "Mild" in shown  # the band of a total of 9
    assert "44261-6" in shown
    assert any(
        text.startswith("Over the last 2 weeks") or "Little interest" in text for text in shown
    )  # answers grouped under their form
    decision_form = detail.findChild(QFrame, "decision_phq9_item9")
    assert decision_form is not None and not decision_form.isVisibleTo(detail)
    detail.ack_buttons["phq9_item9"].click()
    assert decision_form.isVisibleTo(detail)  # acknowledging is a decision: the form opens
    choice, note, save = detail.decision_forms["phq9_item9"]
    assert not save.isEnabled()  # nothing is stored before a decision is chosen
    choice.setCurrentIndex(choice.findData(FlagDecision.DISCUSSED_PROCEED))
    note.setText("Denies current intent; safety plan given.")
    assert save.isEnabled()
    save.click()

    after = console.window.panel
    assert isinstance(after, VisitDetailView)
    detail = after
    assert "phq9_item9" not in detail.ack_buttons
    seen = detail.findChild(QLabel, "seen_phq9_item9")
    assert seen is not None and seen.text().startswith("Seen by dr.chen at 2026-11-22 09:14")
    assert seen.text().endswith(": Discussed, proceed")
    shown_note = detail.findChild(QLabel, "note_phq9_item9")
    assert shown_note is not None
    assert shown_note.text() == "Note: Denies current intent; safety plan given."
    with console.db.begin() as session:
        record = session.scalar(select(FlagRecord).where(FlagRecord.visit_id == visit_id))
        assert record is not None
        assert record.acknowledged_by == "dr.chen"
        assert record.acknowledged_at is not None
        assert (record.decision, record.note) == (
            "discussed_proceed",
            "Denies current intent; safety plan given.",
        )
    actions = audit_actions(console.db)
    assert "visit.viewed" in actions and "flag.acknowledged.discussed_proceed" in actions

    detail.back_button.click()
    row = next(r for r in row_texts(queue_of(console)) if r[1] == "Zoë Flagged")
    assert row[4] == "1 seen"


def test_front_desk_staff_see_flags_but_only_clinicians_acknowledge(
    console_factory: ConsoleFactory, sqlite_url: str, packet: Packet
) -> None:
    db = open_database(sqlite_url)
    flagged_visit(db, packet, "Zoë Flagged")
    db.dispose()
    console = console_factory(sqlite_url)
    sign_in(console, "frank.desk", FRONT_DESK_PIN)
    detail = open_row(console, "Zoë Flagged")
    button = detail.ack_buttons["phq9_item9"]
    assert isinstance(button, QPushButton)
    assert not button.isEnabled()
    console.acknowledge("phq9_item9", FlagDecision.HOLD, "")  # even called directly, nothing
    with console.db.begin() as session:
        assert session.scalar(select(FlagRecord.acknowledged_at)) is None


def test_a_finished_visit_with_an_open_flag_needs_review(
    console_factory: ConsoleFactory, sqlite_url: str, packet: Packet
) -> None:
    db = open_database(sqlite_url)
    visit_id = flagged_visit(db, packet, "Paper Patient")
    with db.begin() as session:
        repository.record_paper_choice(session, visit_id, consent=packet.consent, now=CLINIC_TIME)
    db.dispose()
    console = console_factory(sqlite_url)
    sign_in(console, "frank.desk", FRONT_DESK_PIN)
    entry = queue_of(console).entries[0]
    assert entry.status is QueueStatus.NEEDS_REVIEW_URGENT  # paper, but urgent comes first
    assert row_texts(queue_of(console))[0][4] == "⚠ 1 urgent · ⚠ 1 review"
    detail = open_row(console, "Paper Patient")
    paper = "The patient chose to sign on paper. Give them the paper consent form."
    assert paper in labels(detail)


# --- preview and print a real signed consent ------------------------------------------------------


def file_printer(path: Path) -> QPrinter:
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(path))
    return printer


def test_staff_preview_and_print_the_sealed_consent_and_every_print_is_audited(
    kiosk_factory: KioskFactory, console_factory: ConsoleFactory, tmp_path: Path
) -> None:
    tablet = kiosk_factory()
    finished = DemoPatient(tablet.kiosk).run()
    with tablet.kiosk.db.begin() as session:
        stored = repository.latest_document(session, finished.visit_id).content
    stored_pages = len(PdfReader(io.BytesIO(stored)).pages)
    outputs = iter([tmp_path / "print-1.pdf", tmp_path / "print-2.pdf"])
    console = console_factory(
        tablet.database_url,
        make_preview=lambda: PdfPreview(find_default_printer=lambda: file_printer(next(outputs))),
    )
    sign_in(console, "frank.desk", FRONT_DESK_PIN)
    detail = open_row(console, "Rosa Demo Núñez")
    consent_card = " ".join(labels(detail))
    assert "ketamine_consent, version 2" in consent_card
    assert "Answered correctly" in consent_card  # comprehension results
    assert "drawn signature" in consent_card
    detail.preview_buttons["consent_pdf"].click()
    preview = console.window.panel
    assert isinstance(preview, PdfPreview)
    assert preview.page_count == stored_pages
    preview.print_default_button.click()
    preview.print_default_button.click()  # a reprint
    for number in (1, 2):
        printed = PdfReader(tmp_path / f"print-{number}.pdf")
        assert len(printed.pages) == stored_pages  # one sheet per page of the sealed consent
    preview.close_button.click()
    assert isinstance(console.window.panel, VisitDetailView)
    actions = audit_actions(console.db)
    assert actions.count("document.viewed.consent_pdf") == 1
    assert actions.count("document.printed.consent_pdf") == 1
    assert actions.count("document.reprinted.consent_pdf") == 1


def test_staff_see_re_consent_and_signature_counts_per_version(
    console_factory: ConsoleFactory, sqlite_url: str, packet: Packet
) -> None:
    db = open_database(sqlite_url)
    old = CLINIC_TIME - dt.timedelta(days=200)
    signed_visit(db, packet, "Rosa Vuelve", at=old, birth_date="1960-01-01", version=1)
    signed_visit(db, packet, "Otro Paciente", at=old, birth_date="1970-01-01", version=1)
    add_draft(db, packet, "rosa vuelve", birth_date="1960-01-01")  # returning today
    add_draft(db, packet, "New Patient", birth_date="1980-01-01")
    db.dispose()
    console = console_factory(sqlite_url)
    sign_in(console, "frank.desk", FRONT_DESK_PIN)
    counts = queue_of(console).counts.text()
    version = packet.consent.version
    assert counts == "Signed consents per version — ketamine_consent version 1: 2"
    detail = open_row(console, "rosa vuelve")
    note = detail.findChild(QLabel, "consentNote")
    assert note is not None and note.text() == f"Consent history: re-consent: version 1 → {version}"
    detail.back_button.click()
    detail = open_row(console, "New Patient")
    note = detail.findChild(QLabel, "consentNote")
    assert note is not None and note.text() == "Consent history: first consent"


def test_kiosk_staff_without_the_key_says_why_and_opens_nothing(
    sqlite_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    qapp: object,
) -> None:
    open_database(sqlite_url).dispose()  # records made with this test's keys
    monkeypatch.setenv("KIOSK_KEY_DIR", str(tmp_path / "another-computer"))
    assert cli.main(["staff", "--database", sqlite_url]) == 1
    assert "The records cannot be opened: " in capsys.readouterr().err


def test_a_flag_raised_while_the_visit_is_open_appears_in_its_detail(
    console_factory: ConsoleFactory, sqlite_url: str, packet: Packet, qtbot: QtBot
) -> None:
    db = open_database(sqlite_url)
    visit_id = add_draft(db, packet, "Still Answering")
    console = console_factory(sqlite_url)
    sign_in(console, "dr.chen", CLINICIAN_PIN)
    detail = open_row(console, "Still Answering")
    assert detail.ack_buttons == {}
    form = packet.form("phq9")
    report = score_raw_answers(form, PHQ9_ITEM9, CLINIC_TIME.date())
    with db.begin() as session:  # the patient answers the PHQ-9 on the tablet meanwhile
        repository.save_answers(
            session, visit_id, form=form, answers=PHQ9_ITEM9, removed=(), now=CLINIC_TIME
        )
        repository.save_scores(session, visit_id, [report], CLINIC_TIME)
        repository.audit(
            session,
            actor="patient",
            device="kiosk-1",
            action="visit.page_saved",
            subject=visit_id,
            now=CLINIC_TIME,
        )
    db.dispose()

    def flag_shown() -> bool:
        panel = console.window.panel
        return isinstance(panel, VisitDetailView) and "phq9_item9" in panel.ack_buttons

    qtbot.waitUntil(flag_shown, timeout=2000)
    assert audit_actions(console.db).count("visit.viewed") == 1  # a refresh is not a new view


def test_a_search_ending_in_the_last_code_point_is_an_empty_result_not_an_error(
    console_factory: ConsoleFactory, sqlite_url: str, packet: Packet
) -> None:
    """U+10FFFF has no next character for the search range's upper bound (issue 17)."""
    db = open_database(sqlite_url)
    add_draft(db, packet, "José Álvarez", birth_date="1950-07-04")
    db.dispose()
    console = console_factory(sqlite_url)
    sign_in(console, "frank.desk", FRONT_DESK_PIN)
    queue = queue_of(console)
    queue.name.setText("Jos\U0010ffff")
    queue.search_button.click()
    assert row_texts(queue) == []
    queue.name.setText("Jos")
    queue.search_button.click()
    assert [r[1] for r in row_texts(queue)] == ["José Álvarez"]


def test_unknown_disabled_and_wrong_get_the_same_replies(
    console_factory: ConsoleFactory, sqlite_url: str
) -> None:
    """Sign-in gives nothing away (issue 17): the same words for each, and the same lock."""
    console = console_factory(sqlite_url)
    with console.db.begin() as session:
        staff.set_active(session, "frank.desk", active=False)
    login = console.window.panel
    assert isinstance(login, LoginPanel)
    replies: dict[str, list[str]] = {}
    for who, pin in [("dr.chen", "111111"), ("no.such.id", CLINICIAN_PIN)]:
        replies[who] = []
        for _ in range(5):
            sign_in(console, who, pin)
            replies[who].append(login.message.text())
    sign_in(console, "frank.desk", FRONT_DESK_PIN)  # disabled, with its right PIN
    assert login.message.text() == replies["dr.chen"][0]
    assert replies["dr.chen"] == replies["no.such.id"]
    assert replies["dr.chen"][:4] == ["That staff id and PIN do not match. Please try again."] * 4
    assert "locked until" in replies["dr.chen"][4]


def test_a_tablets_wrong_pins_do_not_lock_the_front_desk_out(
    console_factory: ConsoleFactory, sqlite_url: str
) -> None:
    console = console_factory(sqlite_url)  # the front desk ("front-desk")
    for _ in range(7):
        with console.db.begin() as session:
            staff.check_pin_audited(
                session,
                "dr.chen",
                "111111",
                action="staff.login",
                device="tablet-2",
                now=CLINIC_TIME,
            )
    sign_in(console, "dr.chen", CLINICIAN_PIN)
    queue_of(console)
    assert console.window.who.text() == "Dr Chen (clinician)"
