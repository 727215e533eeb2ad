"""Storage round trips, on an encrypted SQLite file and on PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from kiosk.domain.model import AnswerValue, Packet
from kiosk.domain.scoring import score_form
from kiosk.domain.signature import DrawnSignature
from kiosk.domain.visit import QuizAttempt, QuizResult, Reading, Signing
from kiosk.storage import repository
from kiosk.storage.db import Database
from kiosk.storage.models import AnswerRecord, ConsentRecord, FlagRecord, VisitRecord
from tests.conftest import CLINIC_TIME
from tests.storage.conftest import add_draft


def test_foreign_keys_are_enforced(db: Database) -> None:
    sessions = db.sessions
    with pytest.raises(IntegrityError), sessions.begin() as session:
        session.add(
            AnswerRecord(
                visit_id="no-such-visit",
                form_id="intake",
                form_version=1,
                item_id="pain_now",
                value_json="3",
                answered_at=CLINIC_TIME,
            )
        )


def test_answers_round_trip_with_their_form_version(db: Database, packet: Packet) -> None:
    sessions = db.sessions
    intake = packet.form("intake")
    with sessions.begin() as session:
        visit_id = repository.start_visit(
            session, packet=packet, language="es", kiosk_id="tablet-1", now=CLINIC_TIME
        )
    answers: dict[str, AnswerValue] = {
        "patient_name": "Ana Prueba Núñez",
        "pain_now": 7,
        "main_condition": "crps",
        "some_multi": ("a", "b"),
        "some_flag": True,
    }
    with sessions.begin() as session:
        repository.save_answers(
            session, visit_id, form=intake, answers=answers, removed=(), now=CLINIC_TIME
        )
    with sessions.begin() as session:
        assert repository.load_answers(session, visit_id) == answers
        row = session.scalars(select(AnswerRecord).where(AnswerRecord.item_id == "pain_now")).one()
        assert (row.form_id, row.form_version) == ("intake", intake.version)
        assert row.answered_at == CLINIC_TIME  # the same instant, returned aware in UTC
        assert row.answered_at.tzinfo == dt.UTC
    later = CLINIC_TIME + dt.timedelta(minutes=1)
    with sessions.begin() as session:
        repository.save_answers(
            session,
            visit_id,
            form=intake,
            answers={"pain_now": 4},
            removed=["some_flag"],
            now=later,
        )
    with sessions.begin() as session:
        stored = repository.load_answers(session, visit_id)
        assert stored["pain_now"] == 4
        assert "some_flag" not in stored
        assert session.get(VisitRecord, visit_id) is not None


def test_scores_are_replaced_and_a_flag_is_retracted_never_lost_as_answers_change(
    db: Database, packet: Packet
) -> None:
    sessions = db.sessions
    phq9 = packet.form("phq9")
    with sessions.begin() as session:
        visit_id = repository.start_visit(
            session, packet=packet, language="en", kiosk_id="t", now=CLINIC_TIME
        )
    answers: dict[str, int] = {f"phq9_{n}": 1 for n in range(1, 10)}
    with sessions.begin() as session:
        report = score_form(phq9, answers)
        repository.save_scores(session, visit_id, [report], CLINIC_TIME, answers=answers)
    with sessions.begin() as session:
        scores = repository.load_scores(session, visit_id)
        assert [(s.rule_id, s.value, s.band) for s in scores] == [
            ("phq9_total", 9.0, "mild"),
            ("phq2_total", 2.0, "negative"),
        ]
        assert repository.load_flags(session, visit_id) == ["phq9_item9"]
    answers["phq9_9"] = 0
    later = CLINIC_TIME + dt.timedelta(minutes=2)
    with sessions.begin() as session:
        report = score_form(phq9, answers)
        repository.save_scores(session, visit_id, [report], later, answers=answers)
    with sessions.begin() as session:
        assert [s.value for s in repository.load_scores(session, visit_id)] == [8.0, 2.0]
        assert repository.load_flags(session, visit_id) == []  # not current any more…
        kept = session.scalars(select(FlagRecord)).one()  # …but never lost
        assert (kept.rule_id, kept.raised_at, kept.retracted_at) == (
            "phq9_item9",
            CLINIC_TIME,
            later,
        )
        assert json.loads(kept.raised_answers_json or "") == {"phq9_9": 1}
        assert kept.acknowledged_at is None
    answers["phq9_9"] = 2  # raised again: current again, first raised at the same time
    with sessions.begin() as session:
        report = score_form(phq9, answers)
        repository.save_scores(session, visit_id, [report], later, answers=answers)
    with sessions.begin() as session:
        assert repository.load_flags(session, visit_id) == ["phq9_item9"]
        again = session.scalars(select(FlagRecord)).one()
        assert (again.raised_at, again.retracted_at) == (CLINIC_TIME, None)
        assert json.loads(again.raised_answers_json or "") == {"phq9_9": 2}


def _signing() -> Signing:
    strokes = (((10.0, 10.0), (200.0, 60.0), (400.0, 20.0)),)
    return Signing(
        signer_name="Ana Prueba Núñez",
        signed_at=CLINIC_TIME,
        signature=DrawnSignature(strokes, 800, 260, b"\x89PNG-bytes"),
        text_sha256="ab" * 32,
        statement="I agree.",
        meaning="Patient's consent",
    )


def test_signed_consent_and_document_are_stored(db: Database, packet: Packet) -> None:
    sessions = db.sessions
    with sessions.begin() as session:
        visit_id = repository.start_visit(
            session, packet=packet, language="en", kiosk_id="t", now=CLINIC_TIME
        )
    pdf = b"%PDF-1.4 synthetic"
    with sessions.begin() as session:
        consent = repository.record_consent(
            session,
            visit_id,
            consent=packet.consent,
            language="en",
            signing=_signing(),
            now=CLINIC_TIME,
        )
        repository.store_document(
            session, visit_id, content=pdf, now=CLINIC_TIME, consent_id=consent.id
        )
    with sessions.begin() as session:
        visit = repository.get_visit(session, visit_id)
        assert visit.status == "signed"
        record = session.scalars(select(ConsentRecord)).one()
        assert (record.document_id, record.document_version) == (
            packet.consent.id,
            packet.consent.version,
        )
        assert record.signed_at == CLINIC_TIME
        assert record.signed_at_local == "2026-11-22T09:14:03-05:00"
        assert record.signature_png == b"\x89PNG-bytes"
        assert json.loads(record.signature_strokes_json or "null")[0][1] == [200.0, 60.0]
        document = repository.latest_document(session, visit_id)
        assert document.content == pdf
        assert document.sha256 == hashlib.sha256(pdf).hexdigest()
    with pytest.raises(ValueError, match="already signed"), sessions.begin() as session:
        repository.record_consent(
            session,
            visit_id,
            consent=packet.consent,
            language="en",
            signing=_signing(),
            now=CLINIC_TIME,
        )


def test_naive_datetimes_are_refused(db: Database, packet: Packet) -> None:
    sessions = db.sessions
    with pytest.raises(Exception, match="naive"), sessions.begin() as session:
        repository.start_visit(
            session, packet=packet, language="en", kiosk_id="t", now=dt.datetime(2026, 1, 1)
        )


def test_document_number_is_not_patient_data() -> None:
    assert repository.document_number("3f9a2b1c" + "0" * 24) == "KC-3F9A2B1C"


def test_list_answers_round_trip(db: Database, packet: Packet) -> None:
    rows = ({"name": "Gabapentin", "dose": "300 mg"}, {"name": "Ibuprofen", "dose": ""})
    value = repository.decode_value(repository.encode_value(rows))
    assert value == rows
    assert repository.decode_value(repository.encode_value(("a", "b"))) == ("a", "b")
    assert repository.decode_value(repository.encode_value(())) == ()


def test_quiz_attempts_and_consent_flags_are_kept(db: Database, packet: Packet) -> None:
    consent = packet.consent
    assert consent.quiz is not None and consent.flags
    sessions = db.sessions
    with sessions.begin() as session:
        visit_id = repository.start_visit(
            session, packet=packet, language="es", kiosk_id="t", now=CLINIC_TIME
        )
    question = consent.quiz.questions[0]
    wrong = next(c.value for c in question.choices if c.value != question.correct)
    with sessions.begin() as session:
        for number in (1, 2):
            repository.record_quiz_attempt(
                session,
                visit_id,
                consent=consent,
                attempt=QuizAttempt(question.id, number, wrong, correct=False),
                raised=consent.quiz.flag if number == 2 else None,
                now=CLINIC_TIME,
            )
        repository.set_consent_flags(
            session, visit_id, consent=consent, flags=consent.flags[:1], now=CLINIC_TIME
        )
    phq9 = packet.form("phq9")
    with sessions.begin() as session:  # a later page save must not drop the consent's flags
        repository.save_scores(session, visit_id, [score_form(phq9, {})], CLINIC_TIME)
    with sessions.begin() as session:
        attempts = repository.load_quiz_attempts(session, visit_id)
        assert [(a.question_id, a.attempt, a.answer, a.correct) for a in attempts] == [
            (question.id, 1, wrong, False),
            (question.id, 2, wrong, False),
        ]
        assert repository.load_flags(session, visit_id) == [
            consent.quiz.flag.id,
            consent.flags[0].id,
        ]
    with sessions.begin() as session:  # the attestation was changed: its flag is retracted
        repository.set_consent_flags(session, visit_id, consent=consent, flags=(), now=CLINIC_TIME)
    with sessions.begin() as session:
        assert repository.load_flags(session, visit_id) == [consent.quiz.flag.id]
        retracted = session.scalars(
            select(FlagRecord).where(FlagRecord.rule_id == consent.flags[0].id)
        ).one()
        assert retracted.retracted_at == CLINIC_TIME


def test_the_consent_keeps_comprehension_and_attestations(db: Database, packet: Packet) -> None:
    sessions = db.sessions
    with sessions.begin() as session:
        visit_id = repository.start_visit(
            session, packet=packet, language="en", kiosk_id="t", now=CLINIC_TIME
        )
    signing = dataclasses.replace(
        _signing(),
        comprehension=(QuizResult("quiz_x", ("false", "true"), True, False),),
        attestations={"attest_read": True, "attest_questions": "will_ask"},
        reading=(Reading("what_it_is", 41.26, True, 2),),
    )
    with sessions.begin() as session:
        repository.record_consent(
            session,
            visit_id,
            consent=packet.consent,
            language="en",
            signing=signing,
            now=CLINIC_TIME,
        )
    with sessions.begin() as session:
        record = session.scalars(select(ConsentRecord)).one()
        assert json.loads(record.comprehension_json) == [
            {
                "question": "quiz_x",
                "attempts": ["false", "true"],
                "correct": True,
                "needs_discussion": False,
            }
        ]
        assert json.loads(record.attestations_json) == {
            "attest_read": True,
            "attest_questions": "will_ask",
        }
        assert json.loads(record.reading_json) == [
            {"section": "what_it_is", "seconds": 41.3, "reached_end": True, "views": 2}
        ]


def test_new_visits_never_share_a_document_number(
    db: Database, packet: Packet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The printed number is the id's first 8 characters: an id whose start is taken is drawn
    again."""
    first = add_draft(db, packet, "Primera Sintética")
    drawn = iter([uuid.UUID(first[:8] + "f" * 24), uuid.UUID("0123abcd" + "0" * 24)])
    monkeypatch.setattr(uuid, "uuid4", lambda: next(drawn))
    second = add_draft(db, packet, "Segunda Sintética")
    assert second == "0123abcd" + "0" * 24
    assert repository.document_number(first) != repository.document_number(second)
