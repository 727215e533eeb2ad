"""The chain covers the records (issue 17): every audited write of a visit carries the digest of
its records, and ``kiosk audit verify`` and the start-up check recompute them.

An attacker with the database key removes the protective triggers first (SQLite: ``DROP
TRIGGER``; PostgreSQL: ``session_replication_role = replica``), then changes or deletes rows.
Each change must be named, with the visit's document number, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Connection, select, text

from kiosk import cli
from kiosk.app.service import Finished, OpenVisit, VisitConfig, VisitService
from kiosk.app.synthetic import SYNTHETIC_ANSWERS
from kiosk.domain.model import Packet
from kiosk.domain.records import FlagDecision
from kiosk.domain.strings import Strings
from kiosk.storage import audit, console, record_digest, repository
from kiosk.storage.db import Database
from kiosk.storage.health import startup_check
from kiosk.storage.models import AuditEventRecord, FlagRecord
from tests.app.test_service import at_signing, signature
from tests.conftest import CLINIC_TIME


def _service(packet: Packet, strings: Strings, db: Database) -> VisitService:
    config = VisitConfig(clinic_name="Riverbend Pain Clinic", kiosk_id="kiosk-1", output_dir=None)
    return VisitService(packet, strings, db.sessions, config, lambda: CLINIC_TIME)


def _signed_visit(service: VisitService) -> str:
    opened: OpenVisit = at_signing(service)
    assert isinstance(service.sign(opened, signature()), Finished)
    return opened.id


@pytest.fixture
def visits(
    packet: Packet, strings: Strings, db: Database, monkeypatch: pytest.MonkeyPatch
) -> tuple[str, str]:
    """A signed visit (with no driver home: a review flag) and a draft (its first page
    saved), written through the visit service."""
    monkeypatch.setitem(SYNTHETIC_ANSWERS, "has_driver", False)
    service = _service(packet, strings, db)
    signed = _signed_visit(service)
    draft = service.start("en")
    assert draft is not None
    page = draft.visit.page()
    raw = {
        i.id: SYNTHETIC_ANSWERS[i.id]
        for i in draft.visit.items_on(page)
        if i.id in SYNTHETIC_ANSWERS
    }
    service.submit_page(draft, raw)
    return signed, draft.id


def _problems(db: Database) -> list[str]:
    with db.engine.connect() as connection:
        return repository.record_problems(connection)


def _acknowledge(db: Database, visit_id: str) -> None:
    """A clinician acknowledges the visit's first flag through the console's audited path."""
    with db.begin() as session:
        rule_id = session.scalars(
            select(FlagRecord.rule_id).where(FlagRecord.visit_id == visit_id)
        ).first()
        assert rule_id is not None, "the synthetic patient raises a flag"
        assert console.acknowledge_flag(
            session,
            visit_id,
            rule_id,
            staff_id="dr.chen",
            decision=FlagDecision.DISCUSSED_PROCEED,
            note="talked it through",
            device="front-desk",
            now=CLINIC_TIME + dt.timedelta(hours=1),
        )


def _tamper(db: Database, change: Callable[[Connection], object]) -> None:
    """Remove every protective trigger the way an attacker with the key would, then change."""
    with db.engine.begin() as connection:
        if db.dialect == "sqlite":
            names = connection.execute(
                text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            ).scalars()
            for name in list(names):
                connection.execute(text(f'DROP TRIGGER "{name}"'))
        else:
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        change(connection)


def _sql(statement: str) -> Callable[[str], Callable[[Connection], object]]:
    def for_visit(visit_id: str) -> Callable[[Connection], object]:
        return lambda connection: connection.execute(text(statement), {"v": visit_id})

    return for_visit


def _delete_visit(visit_id: str) -> Callable[[Connection], object]:
    def change(connection: Connection) -> None:
        for table in ("documents", "consents", "quiz_attempts", "flags", "scores", "answers"):
            connection.execute(text(f"DELETE FROM {table} WHERE visit_id = :v"), {"v": visit_id})
        connection.execute(
            text("DELETE FROM alert_escalations WHERE visit_id = :v"), {"v": visit_id}
        )
        connection.execute(text("DELETE FROM visits WHERE id = :v"), {"v": visit_id})

    return change


def _delete_consent(visit_id: str) -> Callable[[Connection], object]:
    def change(connection: Connection) -> None:
        connection.execute(
            text("UPDATE documents SET consent_id = NULL WHERE visit_id = :v"), {"v": visit_id}
        )
        connection.execute(text("DELETE FROM consents WHERE visit_id = :v"), {"v": visit_id})

    return change


TAMPERING = {
    "an answer": _sql(
        "UPDATE answers SET value_json = '\"2\"' WHERE visit_id = :v AND id = "
        "(SELECT MIN(id) FROM answers WHERE visit_id = :v)"
    ),
    "a birth date": _sql("UPDATE visits SET birth_date = '1970-01-01' WHERE id = :v"),
    "a score": _sql("UPDATE scores SET value = value + 1 WHERE visit_id = :v"),
    "a flag": _sql("UPDATE flags SET severity = 'info' WHERE visit_id = :v"),
    "a deleted flag": _sql("DELETE FROM flags WHERE visit_id = :v"),
    "a deleted quiz attempt": _sql("DELETE FROM quiz_attempts WHERE visit_id = :v"),
    "a deleted consent": _delete_consent,
    "a deleted document": _sql(
        "DELETE FROM documents WHERE visit_id = :v AND kind = 'clinician_summary'"
    ),
}


def test_an_untouched_database_verifies(db: Database, visits: tuple[str, str]) -> None:
    """Every write of the visit service carries a digest, and the stored rows match them."""
    signed, draft = visits
    with db.read() as session:
        written = session.execute(
            select(AuditEventRecord.subject, AuditEventRecord.action, AuditEventRecord.digest)
        ).all()
        assert all(digest for _, _, digest in written), "every event of the service has one"
        last = {subject: digest for subject, _, digest in written}
        assert last[signed] == record_digest.visit_digest(session, signed)
        assert last[draft] == record_digest.visit_digest(session, draft)
        assert record_digest.visit_digest(session, "no-such-visit") is None
        actions = [action for subject, action, _ in written if subject == signed]
        # the PDF prints the signing event's head; the documents' event comes after it
        assert actions[-2:] == ["consent.signed", "document.stored"]
    with db.engine.connect() as connection:
        assert audit.verify(connection, db.audit_key).ok
    assert _problems(db) == []
    assert startup_check(db).ok


@pytest.mark.parametrize("what", list(TAMPERING))
def test_a_changed_record_of_a_signed_visit_is_named(
    db: Database, visits: tuple[str, str], what: str
) -> None:
    signed, _ = visits
    with db.read() as session:
        last_write = max(e.seq for e in repository.load_audit(session) if e.subject == signed)
    _tamper(db, TAMPERING[what](signed))
    number = repository.document_number(signed)
    expected = f"visit {number} records changed after event {last_write}"
    assert _problems(db) == [expected]
    health = startup_check(db)
    assert f"records: {expected}" in health.problems
    with db.engine.connect() as connection:
        assert audit.verify(connection, db.audit_key).ok  # the events themselves are intact


def test_a_changed_draft_is_named_too(db: Database, visits: tuple[str, str]) -> None:
    _, draft = visits
    _tamper(db, TAMPERING["an answer"](draft))
    assert [p.split(" records")[0] for p in _problems(db)] == [
        f"visit {repository.document_number(draft)}"
    ]


def test_a_deleted_signed_visit_is_named(db: Database, visits: tuple[str, str]) -> None:
    signed, draft = visits
    _tamper(db, _delete_visit(signed))
    problems = _problems(db)
    assert len(problems) == 1
    assert problems[0].startswith(f"signed visit {repository.document_number(signed)} is missing")
    assert f"records: {problems[0]}" in startup_check(db).problems
    _tamper(db, _delete_visit(draft))
    assert _problems(db)[1].startswith(f"visit {repository.document_number(draft)} is missing")


def test_the_command_names_the_visit_and_fails(
    db: Database, visits: tuple[str, str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    signed, _ = visits
    url = db.engine.url.render_as_string(hide_password=False)
    assert cli.main(["audit", "verify", "--database", url]) == 0
    assert capsys.readouterr().out.startswith("ok: ")
    _tamper(db, TAMPERING["a birth date"](signed))
    assert cli.main(["audit", "verify", "--database", url]) == 1
    out = capsys.readouterr().out
    assert "BROKEN: 1 problem(s)" in out  # after the dropped triggers' own lines
    assert f"visit {repository.document_number(signed)} records changed after event" in out
    assert "1970" not in out  # no patient data in what the command prints


def test_acknowledging_a_flag_through_the_console_keeps_the_records_whole(
    db: Database, visits: tuple[str, str]
) -> None:
    signed, _ = visits
    _acknowledge(db, signed)
    assert _problems(db) == []
    # ...and the acknowledgement is covered from then on: un-acknowledging it shows.
    _tamper(
        db,
        _sql("UPDATE flags SET acknowledged_at = NULL, acknowledged_by = NULL WHERE visit_id = :v")(
            signed
        ),
    )
    assert len(_problems(db)) == 1


def test_the_digest_is_the_same_for_the_same_records_at_any_offset() -> None:
    """Times are normalised to UTC: the same instant written with another offset is equal."""
    instant = dt.datetime(2026, 11, 22, 14, 14, 3, tzinfo=dt.UTC)
    offset = instant.astimezone(dt.timezone(dt.timedelta(hours=-5)))
    assert record_digest._plain(instant) == record_digest._plain(offset)
    assert record_digest._plain(0.1 + 0.2) == "0.30000000000000004"


def test_a_later_write_does_not_hide_a_change(
    packet: Packet, strings: Strings, db: Database, visits: tuple[str, str]
) -> None:
    """A write digests the visit anew; a change made before it is put on the trail first."""
    signed, draft = visits
    _tamper(db, TAMPERING["a birth date"](draft))
    _tamper(db, TAMPERING["a score"](signed))
    service = _service(packet, strings, db)
    resumed = service.resume(draft, "maria.lopez")
    assert resumed is not None
    page = resumed.visit.page()
    items = resumed.visit.items_on(page)
    service.submit_page(
        resumed, {i.id: SYNTHETIC_ANSWERS[i.id] for i in items if i.id in SYNTHETIC_ANSWERS}
    )
    _acknowledge(db, signed)
    with db.read() as session:
        found = {
            e.subject: e.seq
            for e in repository.load_audit(session)
            if e.action == record_digest.CHANGED_ACTION
        }
    assert set(found) == {signed, draft}
    problems = _problems(db)
    for visit_id in (signed, draft):
        number = repository.document_number(visit_id)
        message = f"visit {number} records were found changed before event {found[visit_id]}"
        assert message in problems
        assert f"records: {message}" in startup_check(db).problems
