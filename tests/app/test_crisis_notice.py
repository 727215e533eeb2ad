"""Right after the PHQ-9 item 9 page is saved with an answer above "Not at all", the real kiosk
shows the calm crisis notice in the patient's language; Continue goes on and the visit ends as
any other. Not shown for "Not at all", nor twice for the same raise; the wipe works on it."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtWidgets import QLabel
from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.app.synthetic import consent_answers
from kiosk.domain.model import AnswerValue, Packet
from kiosk.storage import repository
from kiosk.storage.models import VisitRecord
from kiosk.ui.screens.consent import SignatureScreen
from kiosk.ui.screens.done import DoneScreen
from kiosk.ui.screens.notice import NoticeScreen
from kiosk.ui.screens.review import ReviewScreen
from kiosk.ui.screens.start import WelcomeScreen
from tests.app.conftest import KioskFactory, KioskUnderTest
from tests.app.test_patient_walk import PATIENT, _read_sections, _sign, _start
from tests.conftest import CLINIC_TIME
from tests.storage.test_reconsent import signed_visit

TITLE = {"en": "Thank you for telling us", "es": "Gracias por decírnoslo"}
NEXT_PAGE = "phq9_difficulty_page"  # the page after item 9 when a problem was checked


def _to_notice(k: KioskUnderTest, answers: dict[str, AnswerValue]) -> NoticeScreen:
    pages = k.fill_until(answers, lambda s: isinstance(s, NoticeScreen | ReviewScreen))
    screen = k.screen
    assert isinstance(screen, NoticeScreen), f"no notice after {pages[-3:]}"
    assert pages[-1] == "phq9_9_page"  # right after the page that raised it
    return screen


def _labels(screen: NoticeScreen) -> list[str]:
    return [lbl.text() for lbl in screen.findChildren(QLabel) if lbl.isVisible()]


def _finish(k: KioskUnderTest, packet: Packet) -> None:
    """From the review to the thank-you screen, every answer right."""
    review = k.screen
    assert isinstance(review, ReviewScreen), type(review).__name__
    k.tap(review.primary_button)
    _read_sections(k, packet)
    right = consent_answers(packet)
    k.fill_until(right, lambda s: isinstance(s, SignatureScreen))
    _sign(k)
    k.qtbot.waitUntil(lambda: isinstance(k.screen, DoneScreen))


@pytest.mark.parametrize("language", ["en", "es"])
def test_item_9_above_not_at_all_shows_the_notice_then_the_visit_goes_on_to_the_end(
    kiosk: KioskUnderTest, packet: Packet, language: str
) -> None:
    k = kiosk
    _start(k, language)
    notice = _to_notice(k, {**PATIENT, "phq9_9": 1})
    shown = _labels(notice)
    assert TITLE[language] in shown
    assert any(text.endswith(":\n988") for text in shown)  # the default line (KIOSK_CRISIS_LINE)
    assert not notice.back_button.isVisible()
    with Session(k.engine()) as session:  # the page was saved before the notice
        visit = session.scalars(select(VisitRecord)).one()
        assert "phq9_item9" in repository.load_flags(session, visit.id)
    k.tap(notice.primary_button)
    assert k.question().page.id == NEXT_PAGE
    assert k.question().texts.language == language
    k.fill_until(PATIENT, lambda s: isinstance(s, ReviewScreen))
    _finish(k, packet)
    assert k.notices == []  # shown once: not again on the way to the end
    with Session(k.engine()) as session:
        visit = session.scalars(select(VisitRecord)).one()
        assert visit.status == "signed"
        assert "phq9_item9" in repository.load_flags(session, visit.id)


def test_not_at_all_shows_no_notice(kiosk: KioskUnderTest) -> None:
    k = kiosk
    _start(k)
    pages = k.fill_until({**PATIENT, "phq9_9": 0}, lambda s: isinstance(s, ReviewScreen))
    assert "phq9_9_page" in pages
    assert pages[pages.index("phq9_9_page") + 1] == NEXT_PAGE
    assert k.notices == []


def test_the_clinics_crisis_line_is_the_one_shown(kiosk_factory: KioskFactory) -> None:
    k = kiosk_factory(crisis_line="1-800-555-0199")
    _start(k)
    notice = _to_notice(k, {**PATIENT, "phq9_9": 3})
    assert any(text.endswith(":\n1-800-555-0199") for text in _labels(notice))
    assert not any("988" in text for text in _labels(notice))


def test_saving_the_page_again_with_the_same_answer_does_not_show_it_again(
    kiosk: KioskUnderTest,
) -> None:
    k = kiosk
    _start(k)
    k.tap(_to_notice(k, {**PATIENT, "phq9_9": 2}).primary_button)
    k.tap(k.question().back_button)
    assert k.question().page.id == "phq9_9_page"
    k.fill_and_next({"phq9_9": 2})
    assert k.question().page.id == NEXT_PAGE
    k.tap(k.question().back_button)
    k.fill_and_next({"phq9_9": 0})  # cleared…
    k.tap(k.question().back_button)
    k.fill_and_next({"phq9_9": 1})  # …and raised again: the patient hears it again
    assert isinstance(k.screen, NoticeScreen)


def test_the_language_button_shows_the_same_notice_in_the_other_language(
    kiosk: KioskUnderTest,
) -> None:
    k = kiosk
    _start(k)
    notice = _to_notice(k, {**PATIENT, "phq9_9": 1})
    k.tap(notice.language_button)
    spanish = k.screen
    assert isinstance(spanish, NoticeScreen) and spanish is not notice
    assert TITLE["es"] in _labels(spanish)
    k.tap(spanish.primary_button)
    assert k.question().page.id == NEXT_PAGE and k.question().texts.language == "es"


def test_inactivity_on_the_notice_wipes_to_welcome_like_any_screen(
    kiosk_factory: KioskFactory,
) -> None:
    k = kiosk_factory(idle_timeout_s=1, idle_warning_s=1)
    _start(k)
    _to_notice(k, {**PATIENT, "phq9_9": 1})
    k.qtbot.waitUntil(lambda: isinstance(k.screen, WelcomeScreen), timeout=5000)
    assert k.kiosk.flow.visit is None
    k.tap(k.screen.start_button)  # type: ignore[attr-defined]
    # A new visit starts at its first page: no notice is carried over to the next patient.
    k.tap(k.screen.buttons["en"])  # type: ignore[attr-defined]
    assert k.question().page.id == "name_page"


def test_a_returning_patient_with_a_current_consent_sees_it_too(
    kiosk: KioskUnderTest, packet: Packet
) -> None:
    """Before, a returning patient whose consent was current never met the crisis line: it was
    only in the consent. The notice follows the page save, whatever comes after it."""
    k = kiosk
    signed_visit(k.kiosk.db, packet, "ROSA PRUEBA NUNEZ", at=CLINIC_TIME - dt.timedelta(days=30))
    _start(k)
    k.tap(_to_notice(k, {**PATIENT, "phq9_9": 1}).primary_button)
    review = k.fill_until(PATIENT, lambda s: isinstance(s, ReviewScreen))
    assert review and k.notices == []
    k.tap(k.screen.primary_button)  # type: ignore[attr-defined]
    assert isinstance(k.screen, DoneScreen)
    visit = k.kiosk.flow.visit
    assert visit is not None and visit.on_file is not None  # consent on file: not asked again
