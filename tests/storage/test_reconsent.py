"""A returning patient's earlier consent, found by folded name and date of birth, on both
databases; the visit closed with a consent on file."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import select

from kiosk.domain.model import Packet
from kiosk.domain.reconsent import NeedKind, PriorConsent
from kiosk.domain.records import VisitStatus
from kiosk.domain.signature import DrawnSignature
from kiosk.domain.visit import Signing
from kiosk.storage import repository
from kiosk.storage.db import Database
from kiosk.storage.models import ConsentRecord
from kiosk.storage.reconsent import (
    consent_need_for_visit,
    prior_consent,
    record_consent_on_file,
)
from tests.conftest import CLINIC_TIME
from tests.storage.conftest import BIRTH_DATE, add_draft

NAME = "José Álvarez"
DAY = dt.timedelta(days=1)


def signed_visit(
    db: Database,
    packet: Packet,
    name: str = NAME,
    *,
    at: dt.datetime,
    birth_date: str = BIRTH_DATE,
    version: int | None = None,
) -> str:
    """A visit started ten minutes before ``at`` and signed at ``at``; returns its id."""
    visit_id = add_draft(db, packet, name, at - dt.timedelta(minutes=10), birth_date=birth_date)
    consent = packet.consent
    if version is not None:
        consent = dataclasses.replace(consent, version=version)
    signing = Signing(
        signer_name=name,
        signed_at=at,
        text_sha256="0" * 64,
        statement="I agree.",
        meaning="My signature means I agree.",
        signature=DrawnSignature((((1.0, 2.0), (300.0, 40.0)),), 800, 260, b"\x89PNG-test"),
    )
    with db.begin() as session:
        repository.record_consent(
            session, visit_id, consent=consent, language="en", signing=signing, now=at
        )
    return visit_id


def prior(
    db: Database,
    name: str = NAME,
    birth_date: str = BIRTH_DATE,
    *,
    document_id: str | None = None,
    exclude_visit_id: str | None = None,
    signed_before: dt.datetime | None = None,
) -> PriorConsent | None:
    with db.begin() as session:
        return prior_consent(
            session,
            name,
            birth_date,
            document_id=document_id,
            exclude_visit_id=exclude_visit_id,
            signed_before=signed_before,
        )


def test_no_earlier_visit_means_a_first_consent(db: Database, packet: Packet) -> None:
    visit_id = add_draft(db, packet, NAME)
    assert prior(db) is None
    with db.begin() as session:
        need = consent_need_for_visit(session, visit_id, packet.consent, CLINIC_TIME, 12)
    assert need.kind is NeedKind.FIRST
    assert need.staff_label() == "first consent"


def test_the_name_matches_without_accents_case_or_extra_spaces(
    db: Database, packet: Packet
) -> None:
    first = signed_visit(db, packet, "José Álvarez", at=CLINIC_TIME - 30 * DAY)
    found = prior(db, "  jose   ALVAREZ ")
    assert found == PriorConsent(
        packet.consent.id, packet.consent.version, CLINIC_TIME - 30 * DAY, visit_id=first
    )
    assert found is not None
    assert found.signed_at.utcoffset() == CLINIC_TIME.utcoffset()  # the kiosk's own offset
    assert prior(db, "Jose Alvarez Ruiz") is None  # equal names only, not a prefix
    assert prior(db, "Jos") is None
    assert prior(db, "") is None


def test_another_birth_date_is_another_patient(db: Database, packet: Packet) -> None:
    signed_visit(db, packet, at=CLINIC_TIME - 30 * DAY, birth_date="1961-03-06")
    today = add_draft(db, packet, "jose alvarez")
    assert prior(db) is None
    with db.begin() as session:
        need = consent_need_for_visit(session, today, packet.consent, CLINIC_TIME, 12)
    assert need.kind is NeedKind.FIRST


def test_a_paper_visit_is_no_consent(db: Database, packet: Packet) -> None:
    paper = add_draft(db, packet, NAME, CLINIC_TIME - 30 * DAY)
    with db.begin() as session:
        repository.record_paper_choice(
            session, paper, consent=packet.consent, now=CLINIC_TIME - 30 * DAY
        )
    assert prior(db) is None


def test_the_newest_signature_wins(db: Database, packet: Packet) -> None:
    older = signed_visit(db, packet, at=CLINIC_TIME - 400 * DAY, version=1)
    newer = signed_visit(db, packet, at=CLINIC_TIME - 20 * DAY)
    found = prior(db)
    assert found is not None
    assert (found.visit_id, found.version) == (newer, packet.consent.version)
    excluded = prior(db, exclude_visit_id=newer)
    assert excluded is not None and excluded.visit_id == older
    before = prior(db, signed_before=CLINIC_TIME - 21 * DAY)
    assert before is not None and before.visit_id == older
    assert prior(db, document_id="another_consent") is None


def test_a_correction_replaces_the_consent_it_corrects(db: Database, packet: Packet) -> None:
    earlier = signed_visit(db, packet, at=CLINIC_TIME - 90 * DAY)
    wrong_clock = signed_visit(db, packet, at=CLINIC_TIME - 5 * DAY)
    corrected_at = CLINIC_TIME - 6 * DAY  # the tablet's clock was a day ahead
    with db.begin() as session:
        old = session.scalars(
            select(ConsentRecord).where(ConsentRecord.visit_id == wrong_clock)
        ).one()
        fields = {
            c.key: getattr(old, c.key)
            for c in ConsentRecord.__table__.columns
            if c.key not in ("id", "supersedes_id")
        }
        fields |= {
            "signed_at": corrected_at,
            "signed_at_local": corrected_at.isoformat(timespec="seconds"),
        }
        session.add(ConsentRecord(**fields, supersedes_id=old.id))
    found = prior(db)
    assert found is not None
    assert (found.visit_id, found.signed_at) == (wrong_clock, corrected_at)
    assert found.visit_id != earlier


def test_the_need_of_a_visit_uses_its_identity_and_earlier_consents_only(
    db: Database, packet: Packet
) -> None:
    signed_visit(db, packet, "JOSE ALVAREZ", at=CLINIC_TIME - 500 * DAY, version=1)
    today = add_draft(db, packet, NAME)
    with db.begin() as session:
        need = consent_need_for_visit(session, today, packet.consent, CLINIC_TIME, 12)
    assert need.kind is NeedKind.RENEW_VERSION
    assert need.staff_label() == f"re-consent: version 1 → {packet.consent.version}"

    signed_visit(db, packet, at=CLINIC_TIME - 400 * DAY)  # this version, 13 months ago
    with db.begin() as session:
        need = consent_need_for_visit(session, today, packet.consent, CLINIC_TIME, 12)
        assert need.kind is NeedKind.RENEW_EXPIRED
        assert need.staff_label() == "re-consent: signed 2025-10-18, older than 12 months"
        assert consent_need_for_visit(session, today, packet.consent, CLINIC_TIME, 24).kind == (
            NeedKind.CURRENT
        )

    later = signed_visit(db, packet, at=CLINIC_TIME + 2 * DAY)  # after today's visit began
    with db.begin() as session:
        need = consent_need_for_visit(session, today, packet.consent, CLINIC_TIME, 12)
        assert need.kind is NeedKind.RENEW_EXPIRED  # a later signature does not count
        # the later visit itself: its own consent is left out, today's draft has none
        need = consent_need_for_visit(session, later, packet.consent, CLINIC_TIME, 12)
        assert need.kind is NeedKind.RENEW_EXPIRED
        with pytest.raises(repository.NotFoundError):
            consent_need_for_visit(session, "nope", packet.consent, CLINIC_TIME, 12)


def test_a_visit_closed_with_its_consent_on_file(db: Database, packet: Packet) -> None:
    first = signed_visit(db, packet, at=CLINIC_TIME - 30 * DAY)
    today = add_draft(db, packet, "jose alvarez")
    with db.begin() as session:
        need = consent_need_for_visit(session, today, packet.consent, CLINIC_TIME, 12)
        assert need.kind is NeedKind.CURRENT
        assert need.prior is not None and need.prior.visit_id == first
        record_consent_on_file(session, today, now=CLINIC_TIME)
    with db.begin() as session:
        visit = repository.get_visit(session, today)
        assert (visit.status, visit.finished_at) == (VisitStatus.CONSENT_ON_FILE, CLINIC_TIME)
        with pytest.raises(ValueError, match="already closed"):
            record_consent_on_file(session, today, now=CLINIC_TIME)
    with db.begin() as session:
        # staff see what the kiosk decided, judged when the visit closed, even a year on
        need = consent_need_for_visit(session, today, packet.consent, CLINIC_TIME + 400 * DAY, 12)
        assert need.kind is NeedKind.CURRENT
        assert need.staff_label() == f"consent on file: version {packet.consent.version} " + (
            "signed 2026-10-23"
        )
        # not a draft: neither listed for staff to resume nor purged
        assert today not in {
            d.visit_id for d in repository.list_drafts(session, since=visit.started_at)
        }
        purged = repository.purge_abandoned_drafts(
            session, idle_since=CLINIC_TIME + DAY, device="kiosk-1", now=CLINIC_TIME + DAY
        )
        assert purged == repository.PurgeResult(0)
    # the next visit still goes back to the signature, not to the visit without one
    found = prior(db)
    assert found is not None and found.visit_id == first
