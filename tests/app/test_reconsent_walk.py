"""A returning patient at the real kiosk: a current consent is not asked again; one older than
the validity is."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from pypdf import PdfReader
from PySide6.QtWidgets import QLabel
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from kiosk.config import Settings
from kiosk.domain.model import Packet
from kiosk.domain.records import VisitStatus
from kiosk.storage import reconsent, repository
from kiosk.storage.models import ConsentRecord, DocumentRecord, VisitRecord
from kiosk.ui.screens.consent import SectionScreen
from kiosk.ui.screens.done import DoneScreen
from kiosk.ui.screens.review import ReviewScreen
from tests.app.conftest import KioskFactory, KioskUnderTest
from tests.app.test_patient_walk import PATIENT, _start
from tests.conftest import CLINIC_TIME
from tests.storage.test_reconsent import signed_visit


def _to_review(k: KioskUnderTest) -> tuple[list[str], ReviewScreen]:
    pages = k.fill_until(PATIENT, lambda s: isinstance(s, ReviewScreen))
    review = k.screen
    assert isinstance(review, ReviewScreen)
    return pages, review


def _new_visit(session: Session, earlier: str) -> VisitRecord:
    return session.scalars(select(VisitRecord).where(VisitRecord.id != earlier)).one()


def test_a_current_consent_is_not_asked_again(
    kiosk: KioskUnderTest,
    packet: Packet,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    k = kiosk
    # signed a month ago, the name typed differently (case and accents do not matter)
    earlier = signed_visit(
        k.kiosk.db, packet, "ROSA PRUEBA NUNEZ", at=CLINIC_TIME - dt.timedelta(days=30)
    )
    _start(k)
    pages, review = _to_review(k)

    def fails(*args: object, **kwargs: object) -> None:
        raise OperationalError("UPDATE visits", {}, OSError("disk full"))

    with monkeypatch.context() as patched:  # a failed save first: the patient stays on review
        patched.setattr(reconsent, "record_consent_on_file", fails)
        k.tap(review.primary_button)
    assert k.screen is review and review.message.isVisible()
    assert "could not save the consent on file: OperationalError" in caplog.text
    visit = k.kiosk.flow.visit
    assert visit is not None and visit.on_file is None and not visit.is_signed
    k.tap(review.primary_button)

    done = k.screen
    assert isinstance(done, DoneScreen), type(done).__name__
    shown = [label.text() for label in done.findChildren(QLabel)]
    assert (
        "The consent you signed with us is still current. "
        "You do not need to sign it again today." in shown
    )
    assert visit.is_signed and visit.back() is False

    with Session(k.engine()) as session:
        record = _new_visit(session, earlier)
        assert (record.status, record.finished_at) == (VisitStatus.CONSENT_ON_FILE, CLINIC_TIME)
        assert not session.scalars(
            select(ConsentRecord).where(ConsentRecord.visit_id == record.id)
        ).all()
        actions = [e.action for e in repository.load_audit(session) if e.subject == record.id]
        assert actions == [
            "visit.started",
            *["visit.page_saved"] * len(pages),
            "consent.still_current",
        ]
        summary = repository.latest_document(session, record.id, repository.CLINICIAN_SUMMARY)
        documents = select(DocumentRecord).where(DocumentRecord.visit_id == record.id)
        kinds = {d.kind for d in session.scalars(documents)}
    assert kinds == {repository.CLINICIAN_SUMMARY}  # no consent PDF: nothing was signed
    text = " ".join(
        " ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(summary.content)).pages
    )
    assert f"Consent on file: version {packet.consent.version} signed 2026-10-23" in text
    assert not list(k.output_dir.glob("*.pdf"))


def test_a_consent_older_than_twelve_months_is_asked_again_in_spanish(
    kiosk: KioskUnderTest, packet: Packet
) -> None:
    k = kiosk
    earlier = signed_visit(
        k.kiosk.db, packet, "Rosa Prueba Núñez", at=CLINIC_TIME - dt.timedelta(days=396)
    )  # 2025-10-22: thirteen months ago
    _start(k, "es")
    _, review = _to_review(k)
    k.tap(review.primary_button)

    section = k.screen
    assert isinstance(section, SectionScreen), type(section).__name__
    assert section.objectName() == f"section_{packet.consent.sections[0].id}"
    assert section.notice.isVisible()
    assert section.notice.text() == (
        "Bienvenido de nuevo. Usted firmó este formulario hace más de 12 meses. "
        "Es hora de leerlo y firmarlo otra vez."
    )
    k.tap(section.primary_button)
    second = k.screen
    assert isinstance(second, SectionScreen) and not second.notice.isVisible()
    with Session(k.engine()) as session:
        assert _new_visit(session, earlier).status == "draft"


def test_the_validity_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings.load().consent_validity_months == 12
    monkeypatch.setenv("KIOSK_CONSENT_VALIDITY_MONTHS", "6")
    assert Settings.load().consent_validity_months == 6
    monkeypatch.setenv("KIOSK_CONSENT_VALIDITY_MONTHS", "0")
    with pytest.raises(SystemExit, match="KIOSK_CONSENT_VALIDITY_MONTHS"):
        Settings.load()


def test_the_clinics_validity_reaches_the_kiosk(
    kiosk_factory: KioskFactory, packet: Packet
) -> None:
    """With KIOSK_CONSENT_VALIDITY_MONTHS=24, a thirteen-month-old consent is still current."""
    k = kiosk_factory(consent_validity_months=24)
    signed_visit(k.kiosk.db, packet, "Rosa Prueba Núñez", at=CLINIC_TIME - dt.timedelta(days=396))
    _start(k)
    _, review = _to_review(k)
    k.tap(review.primary_button)
    assert isinstance(k.screen, DoneScreen), type(k.screen).__name__
