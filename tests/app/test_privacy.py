"""The privacy cycle: inactivity asks, then wipes; nothing of the patient stays on the tablet."""

from __future__ import annotations

from collections.abc import Iterator

from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QLabel,
    QLineEdit,
    QWidget,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.app.synthetic import SYNTHETIC_ANSWERS, consent_answers
from kiosk.domain.model import AnswerValue, Packet
from kiosk.storage import repository
from kiosk.storage.models import VisitRecord
from kiosk.ui.screens.consent import SignatureScreen
from kiosk.ui.screens.done import DoneScreen
from kiosk.ui.screens.review import ReviewScreen
from kiosk.ui.screens.start import LanguageScreen, WelcomeScreen
from kiosk.ui.screens.still_there import StillThereOverlay
from tests.app.conftest import KioskFactory, KioskUnderTest
from tests.app.test_patient_walk import _read_sections, _sign, _start

NAME = "Zoltan Privado Quixote"  # synthetic and unlikely anywhere else on a screen
PATIENT: dict[str, AnswerValue] = {
    **SYNTHETIC_ANSWERS,
    "patient_name": NAME,
    "phone": "(555) 010-0177",
    "birth_date": "1958-07-19",
    "emergency_contact_name": "Yolanda Privado",
    "driver_name": "Yolanda Privado",
}
SECRETS = ("Zoltan", "Quixote", "Privado", "010-0177", "0100177", "1958", "July 19", "Gabapentin")


def _texts_of(widget: QWidget) -> Iterator[str]:
    yield widget.accessibleName()
    yield widget.accessibleDescription()
    yield widget.toolTip()
    yield widget.windowTitle()
    if isinstance(widget, QLabel | QAbstractButton):
        yield widget.text()
    if isinstance(widget, QLineEdit):
        yield widget.text()
        yield widget.placeholderText()
    if isinstance(widget, QComboBox):
        yield from (widget.itemText(i) for i in range(widget.count()))


def _patient_strings_left() -> list[str]:
    """Every widget the application still has, searched for the synthetic patient's data."""
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QApplication.processEvents()
    found: list[str] = []
    for widget in QApplication.allWidgets():
        for text in _texts_of(widget):
            found.extend(f"{type(widget).__name__}: {text!r}" for s in SECRETS if s in text)
    clipboard = QApplication.clipboard().text()
    found.extend(f"clipboard: {clipboard!r}" for s in SECRETS if s in clipboard)
    return found


def _overlay(k: KioskUnderTest) -> StillThereOverlay | None:
    return k.kiosk.guard.overlay


def _to_review(k: KioskUnderTest) -> None:
    _start(k)
    k.fill_until(PATIENT, lambda s: isinstance(s, ReviewScreen))


def test_inactivity_asks_then_wipes_everything_and_keeps_the_draft(
    kiosk_factory: KioskFactory,
) -> None:
    k = kiosk_factory(idle_timeout_s=1, idle_warning_s=2)
    _to_review(k)
    assert any(NAME in t for t in _patient_strings_left())  # the search does find it
    QApplication.clipboard().setText(NAME)  # as if the patient had copied their name
    k.qtbot.waitUntil(lambda: _overlay(k) is not None, timeout=4000)
    overlay = _overlay(k)
    assert overlay is not None and overlay.isVisible()
    assert "Are you still there?" in [lbl.text() for lbl in overlay.findChildren(QLabel)]
    assert overlay.geometry() == k.kiosk.window.rect()  # covers the whole screen
    k.qtbot.waitUntil(lambda: isinstance(k.screen, WelcomeScreen), timeout=5000)
    assert _overlay(k) is None
    assert k.kiosk.flow.visit is None
    assert _patient_strings_left() == []
    with Session(k.engine()) as session:  # the draft stays for staff to resume
        visit = session.scalars(select(VisitRecord)).one()
        assert visit.status == "draft"
        assert repository.load_answers(session, visit.id)["patient_name"] == NAME


def test_i_am_still_here_keeps_the_screen_and_the_answers(kiosk_factory: KioskFactory) -> None:
    k = kiosk_factory(idle_timeout_s=1, idle_warning_s=30)
    _start(k)
    name = k.question().widgets["patient_name"]
    k.answer(name, NAME)
    page = k.screen
    k.qtbot.waitUntil(lambda: _overlay(k) is not None, timeout=4000)
    overlay = _overlay(k)
    assert overlay is not None
    k.tap(overlay.stay_button)
    k.qtbot.waitUntil(lambda: _overlay(k) is None, timeout=1000)
    assert k.screen is page
    assert k.question().values()["patient_name"] == NAME
    # the watch starts again: a second quiet spell asks again
    k.qtbot.waitUntil(lambda: _overlay(k) is not None, timeout=4000)


def test_welcome_never_asks(kiosk_factory: KioskFactory) -> None:
    k = kiosk_factory(idle_timeout_s=1, idle_warning_s=1)
    assert isinstance(k.screen, WelcomeScreen)
    k.qtbot.wait(1600)
    assert _overlay(k) is None


def test_an_abandoned_language_choice_goes_back_to_welcome(kiosk_factory: KioskFactory) -> None:
    k = kiosk_factory(idle_timeout_s=1, idle_warning_s=1)
    welcome = k.screen
    assert isinstance(welcome, WelcomeScreen)
    k.tap(welcome.start_button)
    assert isinstance(k.screen, LanguageScreen)
    k.qtbot.waitUntil(lambda: isinstance(k.screen, WelcomeScreen), timeout=5000)


def test_nothing_of_the_patient_stays_after_a_finished_visit(
    kiosk: KioskUnderTest, packet: Packet
) -> None:
    k = kiosk
    _to_review(k)
    k.tap(k.screen.primary_button)  # type: ignore[attr-defined]
    _read_sections(k, packet)
    k.fill_until(consent_answers(packet), lambda s: isinstance(s, SignatureScreen))
    _sign(k)
    k.qtbot.waitUntil(lambda: isinstance(k.screen, DoneScreen))
    k.qtbot.waitUntil(lambda: isinstance(k.screen, WelcomeScreen), timeout=5000)
    assert _patient_strings_left() == []
