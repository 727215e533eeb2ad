"""Urgent flags waiting for a person, and the claims that make an escalation happen once
(kiosk.storage.alerts), on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from kiosk.domain.model import AnswerValue, Packet
from kiosk.domain.records import FlagDecision
from kiosk.domain.scoring import score_raw_answers
from kiosk.storage import alerts, console, repository
from kiosk.storage.db import Database, open_database
from kiosk.storage.models import AlertEscalationRecord, FlagRecord
from tests.conftest import CLINIC_TIME
from tests.storage.conftest import BIRTH_DATE, add_draft

NAME = "Zoë Alertcase-Példa"
MINUTE = dt.timedelta(minutes=1)
PHQ9_ITEM9: dict[str, AnswerValue] = {f"phq9_{n}": 0 for n in range(1, 9)}
PHQ9_ITEM9 |= {"phq9_9": 2, "phq9_difficulty": "somewhat"}


def _phq9_page(
    db: Database, packet: Packet, visit_id: str, answers: dict[str, AnswerValue]
) -> None:
    """The PHQ-9 page saved as the kiosk saves it: answers, scores and flags in one transaction."""
    form = packet.form("phq9")
    with db.begin() as session:
        repository.save_answers(
            session, visit_id, form=form, answers=answers, removed=(), now=CLINIC_TIME
        )
        report = score_raw_answers(form, answers, CLINIC_TIME.date())
        repository.save_scores(session, visit_id, [report], CLINIC_TIME, answers=answers)


def _flag(db: Database, visit_id: str, rule_id: str, severity: str, raised_at: dt.datetime) -> int:
    with db.begin() as session:
        record = FlagRecord(
            visit_id=visit_id,
            form_id="phq9",
            rule_id=rule_id,
            severity=severity,
            raised_at=raised_at,
        )
        session.add(record)
        session.flush()
        return record.id


def _open(db: Database) -> list[alerts.UrgentFlag]:
    with alerts.reading(db.sessions) as session:
        return alerts.open_urgent_flags(session)


def _acknowledge(db: Database, visit_id: str, rule_id: str) -> None:
    with db.begin() as session:
        assert console.acknowledge_flag(
            session,
            visit_id,
            rule_id,
            staff_id="dr.ito",
            decision=FlagDecision.REFER,
            device="desk",
            now=CLINIC_TIME,
        )


def _claim(db: Database, flag: alerts.UrgentFlag, now: dt.datetime, by: str = "w1") -> bool:
    with db.begin() as session:
        return alerts.claim_escalation(
            session,
            flag,
            raised_before=now,
            claimed_by=by,
            device=by,
            now=now,
            lease_until=now + MINUTE,
        )


def _actions(db: Database) -> list[str]:
    with db.begin() as session:
        return [e.action for e in repository.load_audit(session) if e.action.startswith("alert.")]


def test_item9_raises_an_urgent_flag_that_names_no_patient(db: Database, packet: Packet) -> None:
    visit_id = add_draft(db, packet, NAME, kiosk="tablet-2")
    _phq9_page(db, packet, visit_id, PHQ9_ITEM9)
    (flag,) = _open(db)
    assert (flag.visit_id, flag.rule_id, flag.form_id, flag.kiosk_id) == (
        visit_id,
        "phq9_item9",
        "phq9",
        "tablet-2",
    )
    assert flag.document_number == repository.document_number(visit_id)
    assert flag.raised_at == CLINIC_TIME
    assert flag.retracted_at is None
    fields = " ".join(str(value) for value in dataclasses.asdict(flag).values())
    for private in (NAME, "Zoë", BIRTH_DATE, "1961", "somewhat"):
        assert private not in fields


def test_open_flags_are_the_unacknowledged_urgent_ones_oldest_first_retracted_kept(
    db: Database, packet: Packet
) -> None:
    first = add_draft(db, packet, "Ann Example")
    second = add_draft(db, packet, "Ben Example")
    later = _flag(db, first, "phq9_item9", "urgent", CLINIC_TIME + MINUTE)
    earlier = _flag(db, second, "phq9_item9", "urgent", CLINIC_TIME)
    _flag(db, first, "phq9_moderate", "review", CLINIC_TIME - MINUTE)
    _flag(db, first, "phq9_note", "info", CLINIC_TIME - MINUTE)
    assert [f.flag_id for f in _open(db)] == [earlier, later]

    # The patient changed the answer: the flag is retracted, and still waits for a clinician.
    retracted = add_draft(db, packet, "Cy Example")
    _phq9_page(db, packet, retracted, PHQ9_ITEM9)
    _phq9_page(db, packet, retracted, PHQ9_ITEM9 | {"phq9_9": 0})
    by_visit = {f.visit_id: f for f in _open(db)}
    assert by_visit[retracted].retracted_at == CLINIC_TIME

    _acknowledge(db, second, "phq9_item9")
    _acknowledge(db, retracted, "phq9_item9")
    assert [f.flag_id for f in _open(db)] == [later]


def test_only_flags_past_the_delay_and_not_yet_escalated_are_due(
    db: Database, packet: Packet
) -> None:
    visit_id = add_draft(db, packet, NAME)
    old = _flag(db, visit_id, "phq9_item9", "urgent", CLINIC_TIME)
    _flag(db, add_draft(db, packet, NAME), "phq9_item9", "urgent", CLINIC_TIME + MINUTE)
    with alerts.reading(db.sessions) as session:
        due = alerts.flags_to_escalate(session, raised_before=CLINIC_TIME)
        assert alerts.flags_to_escalate(session, raised_before=CLINIC_TIME - MINUTE) == []
    assert [f.flag_id for f in due] == [old]
    assert _claim(db, due[0], CLINIC_TIME)
    with alerts.reading(db.sessions) as session:
        assert alerts.flags_to_escalate(session, raised_before=CLINIC_TIME) == []
        later = alerts.flags_to_escalate(session, raised_before=CLINIC_TIME + MINUTE)
    assert [f.flag_id for f in later] == [old + 1]
    with alerts.reading(db.sessions) as session:  # too old to page: the consoles still show it
        recent_only = alerts.flags_to_escalate(
            session, raised_before=CLINIC_TIME + MINUTE, raised_after=CLINIC_TIME + MINUTE
        )
    assert recent_only == []


def test_an_escalation_is_claimed_once_and_audited_once(db: Database, packet: Packet) -> None:
    visit_id = add_draft(db, packet, NAME)
    _flag(db, visit_id, "phq9_item9", "urgent", CLINIC_TIME)
    (flag,) = _open(db)
    assert _claim(db, flag, CLINIC_TIME, by="watcher-a")
    with pytest.raises(IntegrityError):
        _claim(db, flag, CLINIC_TIME, by="watcher-b")
    with db.begin() as session:
        row = session.get(AlertEscalationRecord, flag.flag_id)
        assert row is not None
        assert (row.visit_id, row.claimed_by, row.attempts) == (visit_id, "watcher-a", 1)
        assert row.next_attempt_at == CLINIC_TIME + MINUTE  # the first attempt's lease
        assert row.delivered_at is None
        events = [e for e in repository.load_audit(session) if e.action == "alert.escalated"]
    assert [(e.actor, e.device, e.subject) for e in events] == [("system", "watcher-a", visit_id)]


def test_two_watchers_claiming_at_once_one_wins(database_url: str, packet: Packet) -> None:
    """Two engines (two watcher processes' worth), the second insert racing the first's open
    transaction: it waits for the first to commit, then fails on the flag id."""
    first, second = open_database(database_url), open_database(database_url)
    try:
        visit_id = add_draft(first, packet, NAME)
        _flag(first, visit_id, "phq9_item9", "urgent", CLINIC_TIME)
        (flag,) = _open(first)
        outcome: list[object] = []
        with first.begin() as session:
            assert alerts.claim_escalation(
                session,
                flag,
                raised_before=CLINIC_TIME,
                claimed_by="watcher-a",
                device="a",
                now=CLINIC_TIME,
                lease_until=CLINIC_TIME + MINUTE,
            )

            def race() -> None:
                try:
                    outcome.append(_claim(second, flag, CLINIC_TIME, by="watcher-b"))
                except IntegrityError as exc:
                    outcome.append(exc)

            racer = threading.Thread(target=race)
            racer.start()
            racer.join(0.5)  # it is waiting on the first watcher's transaction
            assert outcome == []
        racer.join(15)
        assert len(outcome) == 1 and isinstance(outcome[0], IntegrityError)
        assert _actions(first) == ["alert.escalated"]
    finally:
        first.dispose()
        second.dispose()


def test_an_acknowledged_flag_is_never_claimed(db: Database, packet: Packet) -> None:
    visit_id = add_draft(db, packet, NAME)
    _flag(db, visit_id, "phq9_item9", "urgent", CLINIC_TIME)
    (flag,) = _open(db)  # seen open by a watcher…
    _acknowledge(db, visit_id, "phq9_item9")  # …and acknowledged before it claims
    assert not _claim(db, flag, CLINIC_TIME + MINUTE)
    with db.begin() as session:
        assert session.scalars(select(AlertEscalationRecord)).all() == []
    assert _actions(db) == []


def test_a_flag_is_not_claimed_before_its_delay(db: Database, packet: Packet) -> None:
    visit_id = add_draft(db, packet, NAME)
    _flag(db, visit_id, "phq9_item9", "urgent", CLINIC_TIME)
    (flag,) = _open(db)
    assert not _claim(db, flag, CLINIC_TIME - dt.timedelta(seconds=1))


def test_each_attempt_is_claimed_by_one_watcher_and_recorded_once(
    db: Database, packet: Packet
) -> None:
    visit_id = add_draft(db, packet, NAME)
    _flag(db, visit_id, "phq9_item9", "urgent", CLINIC_TIME)
    (flag,) = _open(db)
    now = CLINIC_TIME
    assert _claim(db, flag, now)

    def due(at: dt.datetime) -> list[alerts.DueAttempt]:
        with alerts.reading(db.sessions) as session:
            return alerts.due_attempts(session, now=at)

    def record(attempt: int, *, delivered: bool, at: dt.datetime) -> bool:
        with db.begin() as session:
            return alerts.record_attempt(
                session,
                flag.flag_id,
                visit_id=visit_id,
                attempt=attempt,
                delivered=delivered,
                outcome="delivered: webhook HTTP 200" if delivered else "failed: webhook HTTP 500",
                retry_at=None if delivered else at + dt.timedelta(seconds=5),
                device="w1",
                now=at,
            )

    def claim(seen: int, at: dt.datetime) -> bool:
        with db.begin() as session:
            return alerts.claim_attempt(
                session, flag.flag_id, seen_attempts=seen, now=at, lease_until=at + MINUTE
            )

    assert due(now) == []  # attempt 1 is under way (leased)
    assert not record(2, delivered=False, at=now)  # not an attempt anyone holds
    assert record(1, delivered=False, at=now)
    assert not record(1, delivered=False, at=now)  # recorded once
    assert due(now + dt.timedelta(seconds=4)) == []
    retry_at = now + dt.timedelta(seconds=5)
    (pending,) = due(retry_at)
    assert (pending.flag_id, pending.attempts, pending.acknowledged) == (flag.flag_id, 1, False)
    assert pending.flag == flag
    assert not claim(1, now + dt.timedelta(seconds=4))  # not due yet
    assert not claim(0, retry_at)  # a stale read of the attempt count
    assert claim(1, retry_at)
    assert not claim(1, retry_at)  # a second watcher with the same read gets nothing
    assert due(retry_at) == []
    assert record(2, delivered=True, at=retry_at)
    assert due(retry_at + dt.timedelta(hours=1)) == []
    with db.begin() as session:
        row = session.get(AlertEscalationRecord, flag.flag_id)
        assert row is not None
        assert (row.attempts, row.delivered_at, row.next_attempt_at) == (2, retry_at, None)
        assert row.outcome == "delivered: webhook HTTP 200"
        assert alerts.next_attempt_due(session) is None
    assert _actions(db) == ["alert.escalated", "alert.delivery_failed", "alert.delivered"]


def test_a_lease_that_ran_out_is_resumed_by_another_watcher(db: Database, packet: Packet) -> None:
    visit_id = add_draft(db, packet, NAME)
    _flag(db, visit_id, "phq9_item9", "urgent", CLINIC_TIME)
    (flag,) = _open(db)
    assert _claim(db, flag, CLINIC_TIME)  # …and the watcher died before recording anything
    with alerts.reading(db.sessions) as session:
        assert alerts.next_attempt_due(session) == CLINIC_TIME + MINUTE
        (pending,) = alerts.due_attempts(session, now=CLINIC_TIME + MINUTE)
    assert pending.attempts == 1
    with db.begin() as session:
        later = CLINIC_TIME + MINUTE
        assert alerts.claim_attempt(
            session, flag.flag_id, seen_attempts=1, now=later, lease_until=later + MINUTE
        )


def test_attempts_stop_when_the_flag_is_acknowledged_or_gone(db: Database, packet: Packet) -> None:
    acknowledged = add_draft(db, packet, NAME)
    gone = add_draft(db, packet, "Dee Example")
    for visit_id in (acknowledged, gone):
        _flag(db, visit_id, "phq9_item9", "urgent", CLINIC_TIME)
    for flag in _open(db):
        assert _claim(db, flag, CLINIC_TIME)
    _acknowledge(db, acknowledged, "phq9_item9")
    with db.begin() as session:
        record = session.scalar(select(FlagRecord).where(FlagRecord.visit_id == gone))
        session.delete(record)
    later = CLINIC_TIME + MINUTE
    with alerts.reading(db.sessions) as session:
        due = {d.visit_id: d for d in alerts.due_attempts(session, now=later)}
    assert due[acknowledged].acknowledged and due[acknowledged].flag is not None
    assert due[gone].flag is None
    for visit_id, pending in due.items():
        for outcome, cancelled in (("cancelled", True), ("again", False)):  # cancelled once
            with db.begin() as session:
                assert cancelled is alerts.cancel_attempts(
                    session,
                    pending.flag_id,
                    visit_id=visit_id,
                    seen_attempts=1,
                    outcome=outcome,
                    device="w1",
                    now=later,
                )
    with alerts.reading(db.sessions) as session:
        assert alerts.due_attempts(session, now=later + MINUTE) == []
        assert alerts.next_attempt_due(session) is None
    assert _actions(db).count("alert.cancelled") == 2
