"""A synthetic patient taps through the real kiosk: Welcome to a signed, stored consent PDF."""

from __future__ import annotations

import hashlib
import io

import pytest
from pypdf import PdfReader
from PySide6.QtWidgets import QLineEdit
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from kiosk.domain.model import Packet
from kiosk.storage import repository
from kiosk.storage.models import AnswerRecord, ConsentRecord, VisitRecord
from kiosk.ui.screens.consent import SectionScreen, SignatureScreen
from kiosk.ui.screens.done import DoneScreen
from kiosk.ui.screens.question import QuestionScreen
from kiosk.ui.screens.review import ReviewScreen
from kiosk.ui.screens.start import LanguageScreen, WelcomeScreen
from kiosk.ui.widgets.answers import DateAnswer, ScaleAnswer, SingleChoiceAnswer, TextAnswer
from tests.app.conftest import KioskUnderTest

NAME = "Rosa Prueba Núñez"  # synthetic; non-ASCII on purpose (set through the widget, not keys)
PHQ9 = [1, 1, 2, 2, 0, 0, 1, 0, 1]  # total 8 (mild) and item 9 = 1 -> flag


def _start(k: KioskUnderTest, language: str = "en") -> None:
    welcome = k.screen
    assert isinstance(welcome, WelcomeScreen)
    k.tap(welcome.start_button)
    chooser = k.screen
    assert isinstance(chooser, LanguageScreen)
    k.tap(chooser.buttons[language])


def _type(edit: QLineEdit, value: str) -> None:
    edit.setFocus()
    edit.setText(value)


def _next(k: KioskUnderTest) -> None:
    k.tap(k.question().primary_button)


def _choose(k: KioskUnderTest, item_id: str, value: object) -> None:
    widget = k.question().widgets[item_id]
    assert isinstance(widget, SingleChoiceAnswer | ScaleAnswer)
    button = widget.button_for(value)
    assert button is not None
    k.tap(button)


def _fill_intake(k: KioskUnderTest, condition: str = "crps") -> None:
    name = k.question().widgets["patient_name"]
    assert isinstance(name, TextAnswer)
    _type(name.edit, NAME)
    _next(k)
    date = k.question().widgets["birth_date"]
    assert isinstance(date, DateAnswer)
    date.month.setCurrentIndex(3)
    _type(date.day, "5")
    _type(date.year, "1961")
    _next(k)
    phone = k.question().widgets["phone"]
    assert isinstance(phone, TextAnswer)
    _type(phone.edit, "555 010 0199")
    _next(k)
    for item_id, value in (
        ("emergency_contact_name", "Luis Prueba"),
        ("emergency_contact_phone", "5550100142"),
    ):
        widget = k.question().widgets[item_id]
        assert isinstance(widget, TextAnswer)
        _type(widget.edit, value)
    _next(k)
    _choose(k, "main_condition", condition)
    _next(k)


def _fill_phq9(k: KioskUnderTest) -> None:
    for number, value in enumerate(PHQ9, start=1):
        _choose(k, f"phq9_{number}", value)
        _next(k)
    _choose(k, "phq9_difficulty", "somewhat")
    _next(k)


def _sign(k: KioskUnderTest) -> None:
    screen = k.screen
    assert isinstance(screen, SignatureScreen)
    pad = screen.pad
    w, h = pad.width(), pad.height()
    k.draw(pad, [(int(w * x / 20), int(h * (0.5 + 0.2 * (-1) ** x))) for x in range(2, 18)])
    k.draw(pad, [(int(w * (0.3 + x / 40)), int(h * 0.65)) for x in range(0, 16)])
    k.tap(screen.primary_button)


def test_a_patient_goes_from_welcome_to_a_signed_consent_pdf(
    kiosk: KioskUnderTest, packet: Packet
) -> None:
    k = kiosk
    _start(k)
    assert k.question().progress_label.text().startswith("Step 1 of ")
    _fill_intake(k)
    assert "pain_now" in k.question().widgets
    _choose(k, "pain_now", 7)
    _next(k)
    _fill_phq9(k)

    review = k.screen
    assert isinstance(review, ReviewScreen)
    shown = [label.text() for label in review.findChildren(type(review.progress_label))]
    assert NAME in shown
    assert "March 5, 1961" in shown
    assert "(555) 010-0199" in shown
    assert "7 / 10" in shown
    k.tap(review.primary_button)

    for _ in packet.consent.sections:
        section = k.screen
        assert isinstance(section, SectionScreen)
        k.tap(section.primary_button)
    signature = k.screen
    assert isinstance(signature, SignatureScreen)
    assert f"Signing as: {NAME}" in [
        lbl.text() for lbl in signature.findChildren(type(signature.progress_label))
    ]
    _sign(k)
    k.qtbot.waitUntil(lambda: isinstance(k.screen, DoneScreen))

    with Session(k.engine()) as session:
        visit = session.scalars(select(VisitRecord)).one()
        assert (visit.status, visit.language, visit.patient_name, visit.birth_date) == (
            "signed",
            "en",
            NAME,
            "1961-03-05",
        )
        answers = repository.load_answers(session, visit.id)
        assert answers["phq9_9"] == 1
        assert answers["phone"] == "(555) 010-0199"
        assert "main_condition_other" not in answers
        versions = {
            (r.item_id, r.form_id, r.form_version) for r in session.scalars(select(AnswerRecord))
        }
        assert ("phq9_1", "phq9", packet.form("phq9").version) in versions
        scores = {s.rule_id: (s.value, s.band) for s in repository.load_scores(session, visit.id)}
        assert scores["phq9_total"] == (8.0, "mild")
        assert repository.load_flags(session, visit.id) == ["phq9_item9"]
        consent = session.scalars(select(ConsentRecord)).one()
        shown_text = packet.consent.full_text("en").encode("utf-8")
        assert consent.text_sha256 == hashlib.sha256(shown_text).hexdigest()
        assert consent.signer_name == NAME
        assert consent.signed_at_local == "2026-11-22T09:14:03-05:00"
        assert consent.signature_png.startswith(b"\x89PNG")
        document = repository.latest_document(session, visit.id)
        pdf = document.content

    assert hashlib.sha256(pdf).hexdigest() == document.sha256
    pdf_text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert NAME in pdf_text
    assert "version 1" in pdf_text
    assert packet.consent.meaning.get("en") in " ".join(pdf_text.split())
    copies = list(k.output_dir.glob("*.pdf"))
    assert [p.name for p in copies] == [f"{repository.document_number(visit.id)}.pdf"]
    assert copies[0].read_bytes() == pdf

    # the thank-you screen goes back to Welcome by itself
    k.qtbot.waitUntil(lambda: isinstance(k.screen, WelcomeScreen), timeout=5000)


def test_bad_answers_get_a_kind_message_and_nothing_is_lost(kiosk: KioskUnderTest) -> None:
    k = kiosk
    _start(k)
    _next(k)  # no name
    screen = k.question()
    assert screen.errors["patient_name"].isVisible()
    assert screen.errors["patient_name"].text() == "Please answer this question."
    name = screen.widgets["patient_name"]
    assert isinstance(name, TextAnswer)
    _type(name.edit, NAME)
    assert not screen.errors["patient_name"].isVisible()  # the message goes once they type
    _next(k)

    date = k.question().widgets["birth_date"]
    assert isinstance(date, DateAnswer)
    date.month.setCurrentIndex(2)
    _type(date.day, "30")
    _type(date.year, "1961")
    _next(k)
    screen = k.question()
    assert "birth_date" in screen.widgets  # still here
    assert screen.errors["birth_date"].isVisible()
    assert "real date" in screen.errors["birth_date"].text()
    assert (date.month.currentIndex(), date.day.text(), date.year.text()) == (2, "30", "1961")
    _type(date.year, "2099")
    _type(date.day, "3")
    _next(k)
    assert "future" in k.question().errors["birth_date"].text()
    with Session(k.engine()) as session:
        stored = {r.item_id for r in session.scalars(select(AnswerRecord))}
    assert stored == {"patient_name"}  # the name page was saved when they moved on; no date yet


def test_skip_logic_back_and_change_from_review(kiosk: KioskUnderTest, packet: Packet) -> None:
    k = kiosk
    _start(k)
    _fill_intake(k, condition="other")
    other = k.question().widgets["main_condition_other"]
    assert isinstance(other, TextAnswer)
    _type(other.edit, "Pain after a burn")
    _next(k)
    k.tap(k.question().back_button)
    k.tap(k.question().back_button)
    assert "main_condition" in k.question().widgets
    _choose(k, "main_condition", "migraine")
    _next(k)
    assert "pain_now" in k.question().widgets  # the 'other' page is skipped now
    _choose(k, "pain_now", 3)
    _next(k)
    _fill_phq9(k)
    review = k.screen
    assert isinstance(review, ReviewScreen)
    texts = [lbl.text() for lbl in review.findChildren(type(review.progress_label))]
    assert "Pain after a burn" not in texts
    k.tap(review.change_buttons["pain_now_page"][0])  # type: ignore[arg-type]
    screen = k.question()
    assert screen.primary_button.text() == "Save and go back to review"
    _choose(k, "pain_now", 9)
    _next(k)
    review = k.screen
    assert isinstance(review, ReviewScreen)
    assert "9 / 10" in [lbl.text() for lbl in review.findChildren(type(review.progress_label))]
    with Session(k.engine()) as session:
        visit = session.scalars(select(VisitRecord)).one()
        answers = repository.load_answers(session, visit.id)
    assert answers["pain_now"] == 9
    assert answers["main_condition"] == "migraine"
    assert "main_condition_other" not in answers  # hidden by skip logic, so deleted


def test_a_dot_is_not_a_signature_and_signed_visits_cannot_go_back(
    kiosk: KioskUnderTest, packet: Packet
) -> None:
    k = kiosk
    _start(k, "es")
    _fill_intake(k)
    _choose(k, "pain_now", 2)
    assert k.question().primary_button.text() == "Siguiente"
    _next(k)
    _fill_phq9(k)
    review = k.screen
    assert isinstance(review, ReviewScreen)
    k.tap(review.primary_button)
    for _ in packet.consent.sections:
        k.tap(k.screen.primary_button)  # type: ignore[attr-defined]
    screen = k.screen
    assert isinstance(screen, SignatureScreen)
    k.draw(screen.pad, [(100, 100), (102, 101)])
    k.tap(screen.primary_button)
    assert screen.error.isVisible()
    assert "punto" in screen.error.text()
    assert k.screen is screen
    k.tap(screen.clear_button)
    assert screen.pad.is_empty()
    _sign(k)
    k.qtbot.waitUntil(lambda: isinstance(k.screen, DoneScreen))
    visit = k.kiosk.flow.visit
    assert visit is not None and visit.is_signed
    assert visit.back() is False
    with Session(k.engine()) as session:
        consent = session.scalars(select(ConsentRecord)).one()
    assert consent.language == "es"
    spanish = packet.consent.full_text("es").encode("utf-8")
    assert consent.text_sha256 == hashlib.sha256(spanish).hexdigest()


def test_a_failed_save_keeps_the_patient_on_the_page_with_their_answers(
    kiosk: KioskUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    k = kiosk
    _start(k)
    name = k.question().widgets["patient_name"]
    assert isinstance(name, TextAnswer)
    _type(name.edit, NAME)
    with k.engine().begin() as connection:  # a real fault: the answers table is gone
        connection.execute(text("DROP TABLE answers"))
    _next(k)
    screen = k.question()
    assert isinstance(screen, QuestionScreen)
    assert "patient_name" in screen.widgets
    assert screen.message.isVisible()
    assert "could not save" in screen.message.text()
    assert name.edit.text() == NAME
    visit = k.kiosk.flow.visit
    assert visit is not None and visit.answers == {}  # rolled back: nothing half-done
    assert "could not save a page: OperationalError" in caplog.text
    assert "Rosa" not in caplog.text  # no patient data in logs
