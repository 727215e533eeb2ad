"""Flags are never lost: a retracted flag still waits for a clinician and is acknowledged with a
decision; the drafts purge keeps a visit whose flag nobody has seen. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from kiosk.domain.console import QueueStatus
from kiosk.domain.model import Packet
from kiosk.domain.records import FlagDecision, VisitStatus
from kiosk.domain.scoring import score_form
from kiosk.storage import console, repository
from kiosk.storage.db import Database
from kiosk.storage.models import FlagRecord
from tests.conftest import CLINIC_TIME
from tests.storage.conftest import add_draft

ITEM9 = {f"phq9_{n}": 0 for n in range(1, 10)} | {"phq9_9": 1}


def raise_item9(db: Database, packet: Packet, visit_id: str, at: dt.datetime) -> None:
    answers = dict(ITEM9)
    with db.begin() as session:
        report = score_form(packet.form("phq9"), answers)
        repository.save_scores(session, visit_id, [report], at, answers=answers)


def change_item9(db: Database, packet: Packet, visit_id: str, at: dt.datetime) -> None:
    answers = ITEM9 | {"phq9_9": 0}
    with db.begin() as session:
        report = score_form(packet.form("phq9"), answers)
        repository.save_scores(session, visit_id, [report], at, answers=answers)


def test_a_retracted_flag_is_shown_with_its_history_and_acknowledged_with_a_decision(
    db: Database, packet: Packet
) -> None:
    visit_id = add_draft(db, packet, "Ana Flagged")
    raise_item9(db, packet, visit_id, CLINIC_TIME)
    change_item9(db, packet, visit_id, CLINIC_TIME + dt.timedelta(minutes=2))
    with db.read() as session:
        entry = console.queue_entry(session, packet, visit_id)
    (flag,) = entry.flags
    assert flag.rule_id == "phq9_item9" and flag.open
    assert flag.history(CLINIC_TIME.tzinfo) == "raised 09:14 · answer changed 09:16"
    assert flag.raised_answers == {"phq9_9": 1}
    assert entry.status is QueueStatus.NEEDS_REVIEW_URGENT  # in progress, but urgent

    with db.begin() as session:
        done = console.acknowledge_flag(
            session,
            visit_id,
            "phq9_item9",
            staff_id="dr.chen",
            decision=FlagDecision.HOLD,
            note="  Talked with her;\u200b safety plan made.  ",
            device="front-desk",
            now=CLINIC_TIME + dt.timedelta(minutes=5),
        )
    assert done
    with db.read() as session:
        (seen,) = console.queue_entry(session, packet, visit_id).flags
        actions = [e.action for e in repository.load_audit(session)]
    assert not seen.open and seen.acknowledged_by == "dr.chen"
    assert (seen.decision, seen.decision_label) == (FlagDecision.HOLD, "Hold today's infusion")
    assert seen.note == "Talked with her; safety plan made."
    assert actions[-1] == "flag.acknowledged.hold_infusion"
    with db.begin() as session:  # once is enough: a second acknowledgement changes nothing
        again = console.acknowledge_flag(
            session,
            visit_id,
            "phq9_item9",
            staff_id="dr.ruiz",
            decision=FlagDecision.REFER,
            device="front-desk",
            now=CLINIC_TIME + dt.timedelta(minutes=6),
        )
    assert not again


def test_the_queue_puts_urgent_visits_first_whatever_their_status(
    db: Database, packet: Packet
) -> None:
    urgent = add_draft(db, packet, "Ana Urgent", now=CLINIC_TIME)
    newer = add_draft(db, packet, "Ana Newer", now=CLINIC_TIME + dt.timedelta(minutes=10))
    raise_item9(db, packet, urgent, CLINIC_TIME)
    with db.read() as session:
        queue = console.find_visits(session, packet, since=CLINIC_TIME - dt.timedelta(hours=1))
    assert [e.visit_id for e in queue] == [urgent, newer]
    assert [e.status for e in queue] == [QueueStatus.NEEDS_REVIEW_URGENT, QueueStatus.IN_PROGRESS]


def test_the_purge_keeps_a_draft_whose_flag_waits_and_purges_it_once_acknowledged(
    db: Database, packet: Packet
) -> None:
    old = CLINIC_TIME - dt.timedelta(hours=80)
    flagged = add_draft(db, packet, "Ana Flagged", now=old)
    plain = add_draft(db, packet, "Ana Plain", now=old)
    raise_item9(db, packet, flagged, old)
    change_item9(db, packet, flagged, old)  # retracted: still waits for a clinician
    idle_since = CLINIC_TIME - dt.timedelta(hours=72)
    with db.begin() as session:
        result = repository.purge_abandoned_drafts(
            session, idle_since=idle_since, device="kiosk-1", now=CLINIC_TIME
        )
    assert result == repository.PurgeResult(1, (repository.document_number(flagged),))
    with db.read() as session:
        kept = repository.get_visit(session, flagged)
        assert (kept.status, kept.patient_name) == (VisitStatus.DRAFT, "Ana Flagged")
        assert session.scalars(select(FlagRecord.rule_id)).all() == ["phq9_item9"]
        assert repository.get_visit(session, plain).patient_name == ""
        actions = [e.action for e in repository.load_audit(session)]
    assert actions[-2:] == ["visit.purged", "visit.purge_kept_flagged"]

    with db.begin() as session:
        console.acknowledge_flag(
            session,
            flagged,
            "phq9_item9",
            staff_id="dr.chen",
            decision=FlagDecision.PATIENT_LEFT,
            device="front-desk",
            now=CLINIC_TIME,
        )
    with db.begin() as session:
        result = repository.purge_abandoned_drafts(
            session, idle_since=idle_since, device="kiosk-1", now=CLINIC_TIME
        )
    assert result == repository.PurgeResult(1)
    with db.read() as session:
        assert repository.get_visit(session, flagged).status == VisitStatus.ABANDONED
