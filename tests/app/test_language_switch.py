"""Switching language on any screen keeps every answer, saved or still on screen."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.app.synthetic import consent_answers
from kiosk.domain.model import Packet
from kiosk.storage import repository
from kiosk.storage.models import VisitRecord
from kiosk.ui.screens.base import Screen
from kiosk.ui.screens.consent import SectionScreen, SignatureScreen
from kiosk.ui.screens.review import ReviewScreen
from kiosk.ui.widgets.answers import DateAnswer, ListAnswer
from tests.app.conftest import KioskUnderTest
from tests.app.test_patient_walk import NAME, PATIENT, _read_sections, _start


def _switch(k: KioskUnderTest) -> None:
    screen = k.screen
    assert isinstance(screen, Screen)
    k.tap(screen.language_button)


def test_every_patient_screen_offers_the_other_language(kiosk: KioskUnderTest) -> None:
    k = kiosk
    _start(k)
    button = k.question().language_button
    assert button.text() == "Español"
    assert button.accessibleName() == "Cambiar a español"
    _switch(k)
    assert k.question().language_button.text() == "English"
    assert k.question().primary_button.text() == "Siguiente"


def test_switching_keeps_saved_and_unsaved_answers(kiosk: KioskUnderTest, packet: Packet) -> None:
    k = kiosk
    _start(k)
    k.fill_and_next(PATIENT)  # name saved
    date = k.question().widgets["birth_date"]
    assert isinstance(date, DateAnswer)
    date.month.setCurrentIndex(3)  # typed but not saved yet, and not complete
    date.year.setText("1961")
    _switch(k)
    date = k.question().widgets["birth_date"]
    assert isinstance(date, DateAnswer)
    assert (date.month.currentText(), date.day.text(), date.year.text()) == ("marzo", "", "1961")
    date.day.setText("5")
    k.tap(k.question().primary_button)
    k.fill_until(PATIENT, lambda s: "current_medicines" in getattr(s, "widgets", {}))
    medicines = k.question().widgets["current_medicines"]
    assert isinstance(medicines, ListAnswer)
    k.answer(medicines, PATIENT["current_medicines"])
    _switch(k)  # back to English with two unsaved rows on screen
    medicines = k.question().widgets["current_medicines"]
    assert isinstance(medicines, ListAnswer)
    rows = PATIENT["current_medicines"]
    assert isinstance(rows, tuple)
    assert medicines.value() == [dict(r) for r in rows if isinstance(r, dict)]
    k.fill_until(PATIENT, lambda s: isinstance(s, ReviewScreen))
    review = k.screen
    assert isinstance(review, ReviewScreen)
    assert review.primary_button.text() == "Everything is correct"
    _switch(k)
    review = k.screen
    assert isinstance(review, ReviewScreen)
    assert review.primary_button.text() == "Todo está correcto"
    k.tap(review.primary_button)
    section = k.screen
    assert isinstance(section, SectionScreen)
    _switch(k)  # a consent section in English again
    _read_sections(k, packet)
    k.fill_until(consent_answers(packet), lambda s: isinstance(s, SignatureScreen))
    with Session(k.engine()) as session:
        visit = session.scalars(select(VisitRecord)).one()
        assert visit.language == "en"
        answers = repository.load_answers(session, visit.id)
    assert answers["patient_name"] == NAME
    assert answers["birth_date"] == "1961-03-05"
    assert answers["current_medicines"] == PATIENT["current_medicines"]


def test_strokes_on_the_pad_survive_a_switch(kiosk: KioskUnderTest, packet: Packet) -> None:
    k = kiosk
    _start(k)
    k.fill_until(PATIENT, lambda s: isinstance(s, ReviewScreen))
    k.tap(k.screen.primary_button)  # type: ignore[attr-defined]
    _read_sections(k, packet)
    k.fill_until(consent_answers(packet), lambda s: isinstance(s, SignatureScreen))
    screen = k.screen
    assert isinstance(screen, SignatureScreen)
    w, h = screen.pad.width(), screen.pad.height()
    k.draw(screen.pad, [(int(w * x / 20), int(h * (0.5 + 0.2 * (-1) ** x))) for x in range(2, 18)])
    drawn = screen.pad.strokes()
    _switch(k)
    screen = k.screen
    assert isinstance(screen, SignatureScreen)
    assert screen.pad.strokes() == drawn
    assert "Firmar" in screen.primary_button.text()
