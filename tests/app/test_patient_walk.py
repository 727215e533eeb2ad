"""A synthetic patient taps through the real kiosk: Welcome to a signed, stored consent PDF."""

from __future__ import annotations

import hashlib
import io
import json

import pytest
from pypdf import PdfReader
from PySide6.QtWidgets import QLabel, QLineEdit, QWidget
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from kiosk import paths
from kiosk.app.synthetic import SYNTHETIC_ANSWERS, consent_answers
from kiosk.documents.seal import Certificates, check_seal
from kiosk.domain.model import AnswerValue, Packet
from kiosk.storage import repository
from kiosk.storage.models import AnswerRecord, ConsentRecord, VisitRecord
from kiosk.ui.screens.consent import SectionScreen, SignatureScreen
from kiosk.ui.screens.done import DoneScreen
from kiosk.ui.screens.question import QuestionScreen
from kiosk.ui.screens.review import ReviewScreen
from kiosk.ui.screens.start import LanguageScreen, WelcomeScreen
from kiosk.ui.widgets.answers import DateAnswer, TextAnswer
from tests.app.conftest import KioskUnderTest
from tests.pdf_readers import assert_second_readers_accept

NAME = "Rosa Prueba Núñez"  # synthetic; non-ASCII on purpose (set through the widget, not keys)
PHQ9 = [1, 1, 2, 2, 0, 0, 1, 0, 1]  # total 8 (mild) and item 9 = 1 -> flag
PATIENT: dict[str, AnswerValue] = {
    **SYNTHETIC_ANSWERS,
    "patient_name": NAME,
    **{f"phq9_{n}": v for n, v in enumerate(PHQ9, start=1)},
}


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


def _to_review(k: KioskUnderTest, answers: dict[str, AnswerValue] | None = None) -> list[str]:
    return k.fill_until(answers or PATIENT, lambda s: isinstance(s, ReviewScreen))


def _read_sections(k: KioskUnderTest, packet: Packet) -> None:
    for section in packet.consent.sections:
        screen = k.screen
        assert isinstance(screen, SectionScreen), type(screen).__name__
        assert screen.objectName() == f"section_{section.id}"
        k.tap(screen.primary_button)


def _labels(widget: QWidget) -> list[str]:
    return [label.text() for label in widget.findChildren(QLabel) if label.isVisible()]


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
    pages = _to_review(k)
    asked = {
        item.id
        for form in packet.forms
        for page in form.pages
        for item in page.items
        if page.id in pages
    }
    assert {"driver_name", "current_medicines", "allergies", "pregnancy", "gad7_7"} <= asked
    assert "ketamine_before_result" not in asked and "pain_condition_other" not in asked

    review = k.screen
    assert isinstance(review, ReviewScreen)
    shown = _labels(review)
    assert NAME in shown
    assert "March 5, 1961" in shown
    assert "(555) 010-0199" in shown
    assert "7 / 10" in shown
    assert "Gabapentin · 300 mg, 3 times a day\nLisinopril · 10 mg every morning" in shown
    k.tap(review.primary_button)
    _read_sections(k, packet)

    quiz = packet.consent.quiz
    assert quiz is not None
    right = consent_answers(packet)
    first, second, *rest = quiz.questions
    wrong = {q.id: next(c.value for c in q.choices if c.value != q.correct) for q in quiz.questions}
    # a wrong answer re-teaches its section, then asks again
    k.fill_and_next({first.id: wrong[first.id]})
    reteach = k.screen
    assert isinstance(reteach, SectionScreen)
    assert reteach.objectName() == f"section_{first.section}"
    assert reteach.notice.isVisible() and "not quite right" in reteach.notice.text()
    assert reteach.primary_button.text() == "Try the question again"
    k.tap(reteach.primary_button)
    assert k.question().page.id == f"quiz_{first.id}"
    k.fill_and_next(right)
    # missed twice: never blocked, staff will discuss it
    k.fill_and_next({second.id: wrong[second.id]})
    k.tap(k.screen.primary_button)  # type: ignore[attr-defined]
    k.fill_and_next({second.id: wrong[second.id]})
    after = k.question()
    assert after.page.id == f"quiz_{rest[0].id}"
    assert after.notice.isVisible() and "staff member" in after.notice.text()
    for _ in rest:
        k.fill_and_next(right)
    attestations = k.question()
    assert attestations.page.id == "attestations"
    k.tap(attestations.primary_button)  # nothing ticked yet: kindly refused
    assert k.screen is attestations
    assert attestations.errors["attest_read"].isVisible()
    k.fill_and_next({**right, "attest_questions": "will_ask"})

    signature = k.screen
    assert isinstance(signature, SignatureScreen)
    assert f"Signing as: {NAME}" in _labels(signature)
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
        assert answers["current_medicines"] == SYNTHETIC_ANSWERS["current_medicines"]
        assert answers["pain_conditions"] == ("crps",)
        versions = {
            (r.item_id, r.form_id, r.form_version) for r in session.scalars(select(AnswerRecord))
        }
        assert ("phq9_1", "phq9", packet.form("phq9").version) in versions
        assert ("gad7_1", "gad7", packet.form("gad7").version) in versions
        scores = {s.rule_id: (s.value, s.band) for s in repository.load_scores(session, visit.id)}
        assert scores["phq9_total"] == (8.0, "mild")
        assert scores["gad7_total"] == (4.0, "minimal")
        assert scores["peg_score"][0] == pytest.approx(19 / 3)
        assert set(repository.load_flags(session, visit.id)) == {
            "phq9_item9",
            quiz.flag.id,
            "questions_before_infusion",
        }
        audit = repository.load_audit(session)
        actions = [e.action for e in audit]  # every saved step has its event, in order
        assert actions == [
            "visit.started",
            *["visit.page_saved"] * len(pages),
            *["consent.quiz_answered"] * (len(quiz.questions) + 2),
            "consent.attested",
            "consent.signed",
            "document.stored",  # the consent PDF and the summary, sealed into the chain
            "document.copy_written",  # the printable copy in the output folder
        ]
        assert {e.subject for e in audit} == {visit.id}
        assert all(e.device == k.kiosk.flow.config.kiosk_id for e in audit)
        for event in audit:  # identifiers only: no patient data in the audit trail
            assert "Rosa" not in repr(event) and "1961" not in repr(event)
        attempts = repository.load_quiz_attempts(session, visit.id)
        assert len(attempts) == len(quiz.questions) + 2
        consent = session.scalars(select(ConsentRecord)).one()
        shown_text = packet.consent.full_text("en").encode("utf-8")
        assert consent.text_sha256 == hashlib.sha256(shown_text).hexdigest()
        assert consent.signer_name == NAME
        assert consent.signed_at_local == "2026-11-22T09:14:03-05:00"
        assert consent.signature_png is not None and consent.signature_png.startswith(b"\x89PNG")
        assert consent.method == "drawn"
        results = {r["question"]: r for r in json.loads(consent.comprehension_json)}
        assert results[first.id]["attempts"] == [wrong[first.id], first.correct]
        assert results[second.id]["needs_discussion"] is True
        assert json.loads(consent.attestations_json)["attest_questions"] == "will_ask"
        reading = {r["section"]: r for r in json.loads(consent.reading_json)}
        assert list(reading) == [s.id for s in packet.consent.sections]
        assert all(r["views"] >= 1 and r["seconds"] >= 0 for r in reading.values())
        assert reading[first.section]["views"] >= 2  # read again after the wrong answer
        document = repository.latest_document(session, visit.id)
        pdf = document.content
        summary = repository.latest_document(session, visit.id, repository.CLINICIAN_SUMMARY)

    assert hashlib.sha256(pdf).hexdigest() == document.sha256
    certificates = Certificates(paths.key_dir())
    assert check_seal(pdf, certificates).ok and check_seal(summary.content, certificates).ok
    assert_second_readers_accept(pdf)
    assert_second_readers_accept(summary.content)
    summary_text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(summary.content)).pages)
    assert "Clinician summary" in summary_text and NAME in summary_text
    assert "PHQ-9" in summary_text and "mild" in summary_text.lower()
    pdf_text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert NAME in pdf_text
    assert f"version {packet.consent.version}" in pdf_text
    assert packet.consent.meaning.get("en") in " ".join(pdf_text.split())
    assert "Reading record" in pdf_text and "on screen" in pdf_text
    assert "Answers that matter to this consent" in pdf_text  # the packet's consent_answers
    driver = packet.form("intake").item("driver_name").text.get("en")
    assert driver in pdf_text and str(SYNTHETIC_ANSWERS["driver_name"]) in pdf_text
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
    answers = {**PATIENT, "pain_conditions": ("migraine", "other"), "sex_at_birth": "male"}
    k.fill_until(answers, lambda s: "pain_condition_other" in getattr(s, "widgets", {}))
    other = k.question().widgets["pain_condition_other"]
    assert isinstance(other, TextAnswer)
    _type(other.edit, "Pain after a burn")
    _next(k)
    k.tap(k.question().back_button)
    k.tap(k.question().back_button)
    assert "pain_conditions" in k.question().widgets
    k.tap(k.question().widgets["pain_conditions"].button_for("other"))  # type: ignore[attr-defined]
    _next(k)
    assert "pain_areas" in k.question().widgets  # the 'other' page is skipped now
    pages = _to_review(k, answers)
    assert "pregnancy_page" not in pages  # not asked of a patient born male
    review = k.screen
    assert isinstance(review, ReviewScreen)
    assert "Pain after a burn" not in _labels(review)
    k.tap(review.change_buttons["pain_now_page"][0])  # type: ignore[arg-type]
    screen = k.question()
    assert screen.primary_button.text() == "Save and go back to review"
    k.fill_and_next({"pain_now": 9})
    review = k.screen
    assert isinstance(review, ReviewScreen)
    assert "9 / 10" in _labels(review)
    with Session(k.engine()) as session:
        visit = session.scalars(select(VisitRecord)).one()
        answers_stored = repository.load_answers(session, visit.id)
    assert answers_stored["pain_now"] == 9
    assert answers_stored["pain_conditions"] == ("migraine",)
    assert "pain_condition_other" not in answers_stored  # hidden by skip logic, so deleted
    assert "pregnancy" not in answers_stored


def test_a_dot_is_not_a_signature_and_signed_visits_cannot_go_back(
    kiosk: KioskUnderTest, packet: Packet
) -> None:
    k = kiosk
    _start(k, "es")
    assert k.question().primary_button.text() == "Siguiente"
    _to_review(k)
    review = k.screen
    assert isinstance(review, ReviewScreen)
    k.tap(review.primary_button)
    _read_sections(k, packet)
    k.fill_until(consent_answers(packet), lambda s: isinstance(s, SignatureScreen))
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


def test_a_failed_quiz_save_keeps_the_question_and_stores_nothing(
    kiosk: KioskUnderTest, packet: Packet, caplog: pytest.LogCaptureFixture
) -> None:
    k = kiosk
    _start(k)
    _to_review(k)
    k.tap(k.screen.primary_button)  # type: ignore[attr-defined]
    _read_sections(k, packet)
    quiz = packet.consent.quiz
    assert quiz is not None
    first = quiz.questions[0]
    with k.engine().begin() as connection:  # a real fault: the quiz table is gone
        connection.execute(text("DROP TABLE quiz_attempts"))
    screen = k.fill_and_next({first.id: first.correct})
    assert k.screen is screen
    assert screen.message.isVisible() and "could not save" in screen.message.text()
    visit = k.kiosk.flow.visit
    assert visit is not None and visit.quiz_attempts == ()
    assert visit.current.key == first.id
    assert "could not save a quiz answer: OperationalError" in caplog.text
