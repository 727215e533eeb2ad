"""Staff on the tablet: a hidden corner, id + PIN with lockout, resume a draft, close the kiosk."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractButton
from sqlalchemy.orm import Session

from kiosk.storage import repository
from kiosk.ui.screens.staff import StaffMenu, StaffSignIn
from kiosk.ui.screens.start import WelcomeScreen
from tests.app.conftest import STAFF_PIN, KioskUnderTest
from tests.app.test_patient_walk import NAME, PATIENT, _start

PIN = STAFF_PIN


CORNER = QPoint(20, 20)


def _corner_taps(k: KioskUnderTest, count: int, where: QPoint = CORNER) -> None:
    for _ in range(count):
        QTest.mouseClick(k.screen, Qt.MouseButton.LeftButton, pos=where)


def _sign_in(k: KioskUnderTest, pin: str) -> None:
    panel = k.kiosk.staff.panel
    assert isinstance(panel, StaffSignIn)
    panel.staff_id.setText("maria.lopez")
    panel.pin.setText(pin)
    k.tap(panel.sign_in_button)


def test_only_five_quick_taps_in_the_corner_open_the_sign_in(kiosk: KioskUnderTest) -> None:
    k = kiosk
    _corner_taps(k, 4)
    assert k.kiosk.staff.panel is None
    _corner_taps(k, 5, QPoint(600, 400))  # not the corner
    assert k.kiosk.staff.panel is None
    _corner_taps(k, 1)  # the fifth within three seconds
    assert isinstance(k.kiosk.staff.panel, StaffSignIn)
    k.tap(k.kiosk.staff.panel.cancel_button)
    assert k.kiosk.staff.panel is None


def test_wrong_pins_are_refused_then_locked(kiosk: KioskUnderTest) -> None:
    k = kiosk
    k.add_staff()
    _corner_taps(k, 5)
    for attempt in range(1, 6):
        _sign_in(k, "111111")
        panel = k.kiosk.staff.panel
        assert isinstance(panel, StaffSignIn)
        assert panel.pin.text() == ""  # never left on screen
        expected = "locked until" if attempt == 5 else "do not match"
        assert expected in panel.message.text()
    _sign_in(k, PIN)  # even the right PIN waits out the lock
    assert "locked until" in k.kiosk.staff.panel.message.text()  # type: ignore[union-attr]
    with Session(k.engine()) as session:
        events = [(e.actor, e.action) for e in repository.load_audit(session)]
    staff_events = [e for e in events if e[0].startswith("staff:")]
    assert (
        staff_events
        == [("staff:maria.lopez", "staff.login_failed")] * 4
        + [("staff:maria.lopez", "staff.lockout")] * 2
    )


def test_staff_resume_an_interrupted_visit_where_it_stopped(kiosk: KioskUnderTest) -> None:
    k = kiosk
    k.add_staff()
    _start(k)
    k.fill_and_next(PATIENT)  # name
    k.fill_and_next(PATIENT)  # date of birth
    k.kiosk.flow.wipe()  # the patient walked away
    assert isinstance(k.screen, WelcomeScreen)
    _corner_taps(k, 5)
    _sign_in(k, PIN)
    menu = k.kiosk.staff.panel
    assert isinstance(menu, StaffMenu)
    [(visit_id, resume)] = menu.resume_buttons.items()
    assert isinstance(resume, QAbstractButton)
    assert NAME in resume.text() and "1961-03-05" in resume.text()
    k.tap(resume)
    assert k.kiosk.staff.panel is None
    assert k.kiosk.flow.visit_id == visit_id
    assert "phone" in k.question().widgets  # the first page still to answer
    visit = k.kiosk.flow.visit
    assert visit is not None and visit.answers["patient_name"] == NAME
    with Session(k.engine()) as session:
        events = [(e.actor, e.action, e.subject) for e in repository.load_audit(session)]
    assert ("system", "visit.wiped", visit_id) in events
    assert events[-1] == ("staff:maria.lopez", "visit.resumed", visit_id)


def test_staff_can_close_the_kiosk(kiosk: KioskUnderTest) -> None:
    k = kiosk
    k.add_staff()
    _corner_taps(k, 5)
    _sign_in(k, PIN)
    menu = k.kiosk.staff.panel
    assert isinstance(menu, StaffMenu)
    k.tap(menu.exit_button)
    assert not k.kiosk.window.isVisible()
    with Session(k.engine()) as session:
        events = [(e.actor, e.action) for e in repository.load_audit(session)]
    assert events[-2:] == [
        ("staff:maria.lopez", "staff.login"),
        ("staff:maria.lopez", "kiosk.exit"),
    ]


def test_staff_open_the_console_on_the_tablet_and_closing_it_brings_the_kiosk_back(
    kiosk: KioskUnderTest,
) -> None:
    from kiosk.app.staff_app import StaffConsole
    from kiosk.ui.staff.queue import QueueView

    k = kiosk
    k.add_staff()
    _start(k)
    k.fill_and_next({"patient_name": NAME})  # a visit in progress on the tablet
    _corner_taps(k, 5)
    _sign_in(k, PIN)
    menu = k.kiosk.staff.panel
    assert isinstance(menu, StaffMenu)
    k.tap(menu.console_button)
    console = k.kiosk.staff.console
    assert isinstance(console, StaffConsole)
    assert not k.kiosk.window.isVisible()  # the kiosk is hidden, its visit wiped
    assert isinstance(k.screen, WelcomeScreen)
    assert console.window.isVisible()
    assert console.window.who.text() == "Maria Lopez (staff)"  # no second sign-in
    queue = console.window.panel
    assert isinstance(queue, QueueView)
    assert [e.patient_name for e in queue.entries] == [NAME]  # the interrupted draft
    console.window.close()
    assert k.kiosk.window.isVisible()
    assert isinstance(k.screen, WelcomeScreen)
    with Session(k.engine()) as session:
        actions = [e.action for e in repository.load_audit(session)]
    assert "staff.console_opened" in actions
    assert actions[-1] == "staff.logout"
