"""Signing the way each patient can: typed name with a staff witness, or paper."""

from __future__ import annotations

import io
import json

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.app.synthetic import consent_answers
from kiosk.domain.model import Packet
from kiosk.storage import repository
from kiosk.storage.models import ConsentRecord, VisitRecord
from kiosk.ui.screens.consent import PaperScreen, SignatureScreen, TypedSignatureScreen
from kiosk.ui.screens.done import DoneScreen
from kiosk.ui.screens.review import ReviewScreen
from kiosk.ui.widgets.answers import ChoiceButton
from tests.app.conftest import STAFF_PIN, KioskUnderTest
from tests.app.test_patient_walk import NAME, PATIENT, _labels, _read_sections, _start
from tests.pdf_readers import assert_second_readers_accept

PIN = STAFF_PIN


def _to_signature(k: KioskUnderTest, packet: Packet) -> SignatureScreen:
    k.add_staff()
    _start(k)
    k.fill_until(PATIENT, lambda s: isinstance(s, ReviewScreen))
    k.tap(k.screen.primary_button)  # type: ignore[attr-defined]
    _read_sections(k, packet)
    k.fill_until(consent_answers(packet), lambda s: isinstance(s, SignatureScreen))
    screen = k.screen
    assert isinstance(screen, SignatureScreen)
    return screen


def _fill_typed(
    k: KioskUnderTest, name: str, pin: str, reason: bool = True
) -> TypedSignatureScreen:
    screen = k.screen
    assert isinstance(screen, TypedSignatureScreen)
    screen.name.setText(name)
    if reason:
        first = screen.reasons.buttons()[0]
        assert isinstance(first, ChoiceButton)
        k.tap(first)
    screen.staff_id.setText("maria.lopez")
    screen.pin.setText(pin)
    k.tap(screen.primary_button)
    return screen


def test_a_typed_name_witnessed_by_staff_signs_the_consent(
    kiosk: KioskUnderTest, packet: Packet
) -> None:
    k = kiosk
    k.tap(_to_signature(k, packet).typed_button)
    screen = _fill_typed(k, NAME.lower(), PIN, reason=False)
    assert "choose a reason" in screen.message.text()
    assert screen.pin.text() == ""  # the PIN never stays on screen
    screen = _fill_typed(k, "Someone Else", PIN)
    assert "same full name" in screen.message.text()
    screen = _fill_typed(k, NAME.lower(), "000000", reason=False)
    assert "do not match" in screen.message.text()
    _fill_typed(k, NAME.lower(), PIN, reason=False)  # the reason stays chosen
    k.qtbot.waitUntil(lambda: isinstance(k.screen, DoneScreen))
    with Session(k.engine()) as session:
        consent = session.scalars(select(ConsentRecord)).one()
        assert consent.method == "typed_witnessed"
        assert consent.signature_png is None and consent.signature_strokes_json is None
        assert consent.typed_name == NAME.lower()
        assert (consent.witness_staff_id, consent.witness_name) == ("maria.lopez", "Maria Lopez")
        assert consent.witness_reason == "My hands make it hard or painful"
        visit = session.scalars(select(VisitRecord)).one()
        pdf = repository.latest_document(session, visit.id).content
    text = " ".join(
        " ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages
    )
    assert NAME.lower() in text
    assert "typed by the patient" in text
    assert "Maria Lopez (maria.lopez)" in text
    assert "could not sign by hand because: My hands make it hard or painful" in text


def test_paper_is_recorded_with_no_signature_and_staff_are_told(
    kiosk: KioskUnderTest, packet: Packet
) -> None:
    k = kiosk
    k.tap(_to_signature(k, packet).paper_button)
    paper = k.screen
    assert isinstance(paper, PaperScreen)
    k.tap(paper.back_button)
    assert isinstance(k.screen, SignatureScreen)  # changed their mind: back to signing
    k.tap(k.screen.paper_button)
    k.tap(k.screen.primary_button)
    done = k.screen
    assert isinstance(done, DoneScreen)
    assert "paper consent form" in " ".join(_labels(done))
    with Session(k.engine()) as session:
        visit = session.scalars(select(VisitRecord)).one()
        assert visit.status == "paper"
        assert session.scalars(select(ConsentRecord)).all() == []
        assert repository.PAPER_FLAG in repository.load_flags(session, visit.id)
        summary = repository.latest_document(session, visit.id, repository.CLINICIAN_SUMMARY)
        with pytest.raises(repository.NotFoundError):  # no consent PDF without a signature
            repository.latest_document(session, visit.id)
    summary_text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(summary.content)).pages)
    assert "Paper consent requested" in " ".join(summary_text.split())
    assert_second_readers_accept(summary.content)
    with Session(k.engine()) as session:
        assert json.dumps(repository.load_answers(session, visit.id)["patient_name"]) == json.dumps(
            NAME
        )
    assert k.kiosk.flow.visit is not None and k.kiosk.flow.visit.back() is False


def test_a_typed_name_with_hidden_characters_is_the_same_name_and_kept_clean(
    kiosk: KioskUnderTest, packet: Packet
) -> None:
    """A byte-order mark at the start (PySide6 would read it as one when the text crossed a
    str-typed signal), a NUL and a zero-width space inside: the same name, stored cleaned."""
    k = kiosk
    k.tap(_to_signature(k, packet).typed_button)
    first, _, last = NAME.lower().rpartition(" ")
    _fill_typed(k, f"\ufeff{first}\x00 \u200b{last}  ", PIN)
    k.qtbot.waitUntil(lambda: isinstance(k.screen, DoneScreen))
    with Session(k.engine()) as session:
        consent = session.scalars(select(ConsentRecord)).one()
    assert consent.typed_name == NAME.lower()
