"""Every closed visit's records are refused by the database itself (migration 0007), and the
start-up check finds a protective trigger dropped, disabled or changed, or PostgreSQL's
``session_replication_role`` turned to ``replica`` (issue 17). SQLite and PostgreSQL."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from kiosk.domain.model import Packet
from kiosk.domain.records import FlagDecision, VisitStatus
from kiosk.domain.visit import QuizAttempt
from kiosk.storage import console, reconsent, repository
from kiosk.storage.db import Database, open_database
from kiosk.storage.health import startup_check
from kiosk.storage.models import FlagRecord, QuizAttemptRecord, ScoreRecord
from kiosk.storage.schema_check import (
    expected_postgresql,
    expected_sqlite_triggers,
    schema_problems,
)
from tests.conftest import CLINIC_TIME
from tests.storage.conftest import add_draft, fresh_postgres_database
from tests.storage.test_flags_kept import raise_item9
from tests.storage.test_records import _sign

NAME = "Rosa Alvarez"
REFUSED = (IntegrityError, DBAPIError)
PAPER_FLAG = repository.PAPER_FLAG


@pytest.fixture
def pg_db(tmp_path: Path) -> Iterator[Database]:
    """An open, migrated PostgreSQL database (for what only PostgreSQL has)."""
    for url in fresh_postgres_database(tmp_path):  # one database, dropped when the loop ends
        database = open_database(url)
        try:
            yield database
        finally:
            database.dispose()


def _quiz_attempt(db: Database, packet: Packet, visit_id: str) -> None:
    with db.begin() as session:
        repository.record_quiz_attempt(
            session,
            visit_id,
            consent=packet.consent,
            attempt=QuizAttempt("q_what_is_ketamine", 1, "a", False),
            raised=None,
            now=CLINIC_TIME,
        )


def _paper(db: Database, packet: Packet, visit_id: str) -> None:
    with db.begin() as session:
        repository.record_paper_choice(session, visit_id, consent=packet.consent, now=CLINIC_TIME)


def _on_file(db: Database, packet: Packet, visit_id: str) -> None:
    with db.begin() as session:
        reconsent.record_consent_on_file(session, visit_id, now=CLINIC_TIME)


CLOSINGS: dict[str, Callable[[Database, Packet, str], object]] = {
    VisitStatus.SIGNED: _sign,
    VisitStatus.PAPER: _paper,
    VisitStatus.CONSENT_ON_FILE: _on_file,
}


def _closed_visit(db: Database, packet: Packet, status: str) -> str:
    """A visit with answers, scores, an urgent flag and a quiz attempt, closed as ``status``."""
    visit_id = add_draft(db, packet, NAME)
    raise_item9(db, packet, visit_id, CLINIC_TIME)
    _quiz_attempt(db, packet, visit_id)
    CLOSINGS[status](db, packet, visit_id)
    with db.read() as session:
        assert repository.get_visit(session, visit_id).status == status
    return visit_id


def _refused(db: Database, statement: str, visit_id: str) -> str:
    with pytest.raises(REFUSED) as caught, db.begin() as session:
        session.execute(text(statement), {"id": visit_id})
    return str(caught.value.orig)


def _counts(db: Database, visit_id: str) -> tuple[int, ...]:
    with db.read() as session:
        rows = [
            len(session.scalars(select(table).where(table.visit_id == visit_id)).all())
            for table in (ScoreRecord, QuizAttemptRecord, FlagRecord)
        ]
        return (*rows, len(repository.load_answers(session, visit_id)))


CHANGES = (
    "UPDATE scores SET value = 0, band = 'none' WHERE visit_id = :id",
    "DELETE FROM scores WHERE visit_id = :id",
    "INSERT INTO scores (visit_id, form_id, form_version, rule_id, value, band, computed_at) "
    "VALUES (:id, 'phq9', 1, 'forged', 0, NULL, CURRENT_TIMESTAMP)",
    "UPDATE quiz_attempts SET correct = NOT correct WHERE visit_id = :id",
    "DELETE FROM quiz_attempts WHERE visit_id = :id",
    "INSERT INTO quiz_attempts (visit_id, document_id, document_version, question_id, attempt, "
    "answer_json, correct, answered_at) "
    "VALUES (:id, 'consent', 1, 'forged', 9, '\"a\"', true, CURRENT_TIMESTAMP)",
    "UPDATE flags SET severity = 'info' WHERE visit_id = :id",
    "UPDATE flags SET retracted_at = CURRENT_TIMESTAMP WHERE visit_id = :id",
    "UPDATE flags SET raised_answers_json = '{}' WHERE visit_id = :id",
    "DELETE FROM flags WHERE visit_id = :id",
    "INSERT INTO flags (visit_id, form_id, rule_id, severity, raised_at) "
    "VALUES (:id, 'phq9', 'forged', 'info', CURRENT_TIMESTAMP)",
    "UPDATE answers SET value_json = '\"x\"' WHERE visit_id = :id",
    "DELETE FROM answers WHERE visit_id = :id",
    "INSERT INTO answers (visit_id, form_id, form_version, item_id, value_json, answered_at) "
    "VALUES (:id, 'intake', 1, 'forged', '\"x\"', CURRENT_TIMESTAMP)",
    "UPDATE visits SET birth_date = '1900-01-01' WHERE id = :id",
    "UPDATE visits SET status = 'draft' WHERE id = :id",
    "DELETE FROM visits WHERE id = :id",
)


@pytest.mark.parametrize("status", list(CLOSINGS))
def test_a_closed_visits_records_are_refused_by_the_database(
    db: Database, packet: Packet, status: str
) -> None:
    visit_id = _closed_visit(db, packet, status)
    before = _counts(db, visit_id)
    assert all(before)  # scores, a quiz attempt, flags and answers to protect
    for statement in CHANGES:
        assert "never changed" in _refused(db, statement, visit_id), statement
    assert _counts(db, visit_id) == before
    with db.read() as session:
        visit = repository.get_visit(session, visit_id)
        assert (visit.status, visit.birth_date) == (status, "1961-03-05")


def test_truncating_a_records_table_is_refused_on_postgresql(
    pg_db: Database, packet: Packet
) -> None:
    db = pg_db
    visit_id = _closed_visit(db, packet, VisitStatus.SIGNED)
    for table in ("answers", "scores", "quiz_attempts", "flags"):
        assert "never changed" in _refused(db, f"TRUNCATE {table} CASCADE", visit_id)


def test_drafts_stay_writable_and_the_purge_still_works(db: Database, packet: Packet) -> None:
    visit_id = add_draft(db, packet, NAME)
    raise_item9(db, packet, visit_id, CLINIC_TIME)
    _quiz_attempt(db, packet, visit_id)
    with db.begin() as session:
        session.execute(text("UPDATE scores SET value = 3 WHERE visit_id = :id"), {"id": visit_id})
        assert console.acknowledge_flag(
            session,
            visit_id,
            "phq9_item9",
            staff_id="dr.chen",
            decision=FlagDecision.DISCUSSED_PROCEED,
            device="console-1",
            now=CLINIC_TIME,
        )
    with db.begin() as session:
        purged = repository.purge_abandoned_drafts(
            session, idle_since=CLINIC_TIME.replace(year=2100), device="kiosk-1", now=CLINIC_TIME
        )
    assert purged.purged == 1
    assert _counts(db, visit_id) == (0, 0, 0, 0)
    with db.read() as session:
        assert repository.get_visit(session, visit_id).status == VisitStatus.ABANDONED
    # An abandoned visit is closed: nothing is added to it or changed on it afterwards.
    assert "never changed" in _refused(
        db, "UPDATE visits SET patient_name = 'Someone' WHERE id = :id", visit_id
    )
    assert "never changed" in _refused(db, CHANGES[2], visit_id)


def _acknowledge(db: Database, visit_id: str, note: str = "") -> bool:
    with db.begin() as session:
        return console.acknowledge_flag(
            session,
            visit_id,
            "phq9_item9",
            staff_id="dr.chen",
            decision=FlagDecision.HOLD,
            note=note,
            device="console-1",
            now=CLINIC_TIME,
        )


@pytest.mark.parametrize("status", [VisitStatus.SIGNED, VisitStatus.DRAFT])
def test_a_flag_is_acknowledged_once_and_never_changed_after(
    db: Database, packet: Packet, status: str
) -> None:
    if status == VisitStatus.DRAFT:
        visit_id = add_draft(db, packet, NAME)
        raise_item9(db, packet, visit_id, CLINIC_TIME)
    else:
        visit_id = _closed_visit(db, packet, status)
    assert _acknowledge(db, visit_id, note="Seen with the patient")
    assert not _acknowledge(db, visit_id)  # the console's own refusal
    where = "WHERE visit_id = :id AND rule_id = 'phq9_item9'"
    for change in (
        "decision = 'refer'",
        "note = 'rewritten'",
        "acknowledged_by = 'someone.else'",
        "acknowledged_by = NULL, acknowledged_at = NULL, decision = NULL, note = NULL",
    ):
        message = _refused(db, f"UPDATE flags SET {change} {where}", visit_id)
        assert "written once" in message, change
    with db.read() as session:
        flag = session.scalars(
            select(FlagRecord).where(
                FlagRecord.visit_id == visit_id, FlagRecord.rule_id == "phq9_item9"
            )
        ).one()
        assert (flag.acknowledged_by, flag.decision, flag.note) == (
            "dr.chen",
            str(FlagDecision.HOLD),
            "Seen with the patient",
        )


def test_every_flag_column_is_either_kept_or_an_acknowledgement() -> None:
    """A column added to flags must be given to one of 0007's lists (SQLite's trigger names
    each column); PostgreSQL compares whole rows."""
    migration = importlib.import_module(
        "kiosk.storage.migrations.versions.0007_protect_every_record"
    )
    columns = {column.name for column in FlagRecord.__table__.columns}
    assert columns == set(migration.FLAG_KEPT_COLUMNS) | set(migration.FLAG_ACK_COLUMNS)


def test_a_migrated_database_has_every_protective_trigger(db: Database) -> None:
    assert schema_problems(db) == []
    assert startup_check(db).ok
    if db.dialect == "sqlite":
        names = set(expected_sqlite_triggers())
        assert {"answers_signed_no_update", "scores_closed_no_delete"} <= names
    else:
        names = set(expected_postgresql()[0])
        assert {"answers_signed_no_change", "flags_closed_no_change", "flags_no_truncate"} <= names


def _tampered(db: Database, statements: list[str]) -> list[str]:
    with db.engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))
    problems = schema_problems(db)
    health = startup_check(db)
    assert not health.ok  # safe mode
    assert set(problems) <= set(health.problems)
    return problems


# (SQLite trigger, PostgreSQL trigger and its table): 0002's and 0007's, one of each kind.
DROPS = (
    ("answers_signed_no_update", ("answers_signed_no_change", "answers")),
    ("visits_signed_no_delete", ("visits_signed_no_change", "visits")),
    ("scores_closed_no_delete", ("scores_closed_no_change", "scores")),
    ("quiz_attempts_closed_no_insert", ("quiz_attempts_closed_no_change", "quiz_attempts")),
    ("flags_closed_no_update", ("flags_closed_no_change", "flags")),
    ("flags_acknowledged_no_update", ("flags_no_truncate", "flags")),
    ("visits_closed_no_update", ("visits_closed_no_change", "visits")),
    ("audit_events_no_delete", ("audit_events_no_change", "audit_events")),
    ("consents_no_update", ("documents_no_truncate", "documents")),
)


@pytest.mark.parametrize(("sqlite_name", "postgresql"), DROPS)
def test_a_dropped_trigger_is_named_and_means_safe_mode(
    db: Database, sqlite_name: str, postgresql: tuple[str, str]
) -> None:
    if db.dialect == "sqlite":
        name, drop = sqlite_name, f"DROP TRIGGER {sqlite_name}"
    else:
        name, drop = postgresql[0], f"DROP TRIGGER {postgresql[0]} ON {postgresql[1]}"
    assert _tampered(db, [drop]) == [f"the protective trigger {name} is missing"]


def test_a_trigger_replaced_by_a_harmless_one_is_found(db: Database) -> None:
    if db.dialect == "sqlite":
        statements = [
            "DROP TRIGGER scores_closed_no_update",
            "CREATE TRIGGER scores_closed_no_update BEFORE UPDATE ON scores "
            "WHEN 0 BEGIN SELECT RAISE(ABORT, 'a closed visit and its records are never changed'); "
            "END",
        ]
        expected = ["the protective trigger scores_closed_no_update has been changed"]
    else:
        statements = [
            "DROP TRIGGER scores_closed_no_change ON scores",
            "CREATE TRIGGER scores_closed_no_change BEFORE INSERT ON scores "
            "FOR EACH ROW EXECUTE FUNCTION kiosk_refuse_closed_record()",
        ]
        expected = ["the protective trigger scores_closed_no_change has been changed"]
    assert _tampered(db, statements) == expected


def test_a_postgresql_function_given_another_body_is_found(pg_db: Database) -> None:
    db = pg_db
    replaced = (
        "CREATE OR REPLACE FUNCTION kiosk_refuse_closed_flag() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; "
        "RETURN NEW; END $$"
    )
    assert _tampered(db, [replaced]) == [
        "the protective trigger flags_closed_no_change has been changed"
    ]


def test_a_disabled_postgresql_trigger_is_found(pg_db: Database, packet: Packet) -> None:
    db = pg_db
    visit_id = _closed_visit(db, packet, VisitStatus.PAPER)
    problems = _tampered(
        db,
        [
            "ALTER TABLE scores DISABLE TRIGGER scores_closed_no_change",
            "ALTER TABLE visits DISABLE TRIGGER ALL",
        ],
    )
    assert sorted(problems) == [
        f"the protective trigger {name} is disabled"
        for name in (
            "scores_closed_no_change",
            "visits_closed_no_change",
            "visits_no_truncate",
            "visits_signed_no_change",
        )
    ]
    with db.begin() as session:  # what the check exists for: the scores are open to change
        session.execute(text("DELETE FROM scores WHERE visit_id = :id"), {"id": visit_id})


def test_replica_replication_role_is_found(pg_db: Database, packet: Packet) -> None:
    """``session_replication_role = replica`` switches every ordinary trigger off without
    touching one: the check reads the setting itself."""
    db = pg_db
    visit_id = _closed_visit(db, packet, VisitStatus.SIGNED)
    name = db.engine.url.database
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'ALTER DATABASE "{name}" SET session_replication_role = replica'))
    db.dispose()  # new connections take the database's setting
    reopened = open_database(db.engine.url.render_as_string(hide_password=False))
    try:
        problems = schema_problems(reopened)
        assert problems == ["session_replication_role is replica: triggers are off"]
        assert not startup_check(reopened).ok
        with reopened.begin() as session:  # indeed off: a signed visit's answers can go
            session.execute(text("DELETE FROM scores WHERE visit_id = :id"), {"id": visit_id})
    finally:
        reopened.dispose()
