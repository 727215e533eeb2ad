"""Records the clinic can trust, on both databases: migrations that keep data, immutable signed
records, a tamper-evident audit trail, one action = one transaction, draft purge, name search."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, String, inspect, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from kiosk import paths
from kiosk.domain.model import Packet
from kiosk.domain.records import VisitStatus
from kiosk.domain.signature import DrawnSignature
from kiosk.domain.visit import Signing
from kiosk.storage import audit, migrate, repository
from kiosk.storage.db import Database, engine_for, open_database
from kiosk.storage.keys import AUDIT_KEY, KeyStore
from kiosk.storage.models import (
    AnswerRecord,
    AuditEventRecord,
    ConsentRecord,
    DocumentRecord,
    VisitRecord,
)
from kiosk.storage.search import fold_name, search_visits
from tests.conftest import CLINIC_TIME
from tests.storage.conftest import add_draft

NAME = "Rosa Álvarez-Núñez"


def _sign(db: Database, packet: Packet, visit_id: str) -> int:
    signing = Signing(
        signer_name=NAME,
        signed_at=CLINIC_TIME,
        text_sha256="0" * 64,
        statement="I agree.",
        meaning="My signature means I agree.",
        signature=DrawnSignature((((1.0, 2.0), (300.0, 40.0)),), 800, 260, b"\x89PNG-test"),
    )
    with db.begin() as session:
        consent = repository.record_consent(
            session,
            visit_id,
            consent=packet.consent,
            language="en",
            signing=signing,
            now=CLINIC_TIME,
        )
        repository.store_document(
            session, visit_id, content=b"%PDF-1.7 test", now=CLINIC_TIME, consent_id=consent.id
        )
        repository.audit(
            session,
            actor="patient",
            device="kiosk-1",
            action="consent.signed",
            subject=visit_id,
            now=CLINIC_TIME,
        )
        return consent.id


# --- migrations ---


def _legacy_rows(engine: Engine) -> None:
    """Data as the first schema held it: a signed visit, answers, audit events with no chain."""
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO visits (id, kiosk_id, language, packet_id, packet_version, status,"
                " patient_name, birth_date, started_at, updated_at) VALUES ('v1', 'kiosk-1', 'es',"
                " 'ketamine_intake', 2, 'draft', :name, '1961-03-05', :at, :at)"
            ),
            {"name": NAME, "at": CLINIC_TIME},
        )
        connection.execute(
            text(
                "INSERT INTO answers (visit_id, form_id, form_version, item_id, value_json,"
                " answered_at) VALUES ('v1', 'intake', 2, 'patient_name', :value, :at)"
            ),
            {"value": json.dumps(NAME), "at": CLINIC_TIME},
        )
        for seq, action in ((1, "visit.started"), (2, "staff.login"), (5, "kiosk.exit")):
            connection.execute(
                text(
                    "INSERT INTO audit_events (seq, at, actor, device, action, subject)"
                    " VALUES (:seq, :at, 'system', 'kiosk-1', :action, 'v1')"
                ),
                {"seq": seq, "at": CLINIC_TIME + dt.timedelta(seconds=seq), "action": action},
            )


@pytest.mark.parametrize("stamped", [True, False], ids=["alembic-0001", "made-by-create_all"])
def test_upgrading_a_first_schema_database_keeps_its_data(
    empty_database_url: str, stamped: bool
) -> None:
    database_url = empty_database_url
    keys = KeyStore(paths.key_dir())
    engine, _path, _new = engine_for(database_url, keys, create=True)
    audit_key = keys.read_or_create(AUDIT_KEY, may_create=True)
    migrate.upgrade(engine, audit_key, migrate.FIRST_REVISION)
    _legacy_rows(engine)
    if not stamped:  # issue 4 made its tables with create_all: no alembic_version table
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE alembic_version"))
    assert migrate.current_revision(engine) == migrate.FIRST_REVISION
    engine.dispose()

    db = open_database(database_url)
    try:
        assert migrate.current_revision(db.engine) == migrate.head_revision()
        with db.begin() as session:
            visit = repository.get_visit(session, "v1")
            assert (visit.patient_name, visit.language, visit.birth_date) == (
                NAME,
                "es",
                "1961-03-05",
            )
            assert visit.name_search == "rosa alvarez-nunez"
            assert repository.load_answers(session, "v1") == {"patient_name": NAME}
            events = repository.load_audit(session)
        assert [(e.seq, e.action) for e in events] == [
            (1, "visit.started"),
            (2, "staff.login"),
            (3, "kiosk.exit"),  # renumbered: the chain starts without gaps
        ]
        with db.engine.connect() as connection:
            assert audit.verify(connection, db.audit_key).ok
        names = {t["name"] for t in inspect(db.engine).get_indexes("visits")}
        assert "ix_visits_name_search_birth_date" in names
    finally:
        db.dispose()


def test_opening_a_new_database_creates_the_newest_schema(db: Database) -> None:
    assert migrate.current_revision(db.engine) == migrate.head_revision()
    tables = set(inspect(db.engine).get_table_names())
    assert {
        "visits",
        "answers",
        "consents",
        "documents",
        "audit_events",
        "alembic_version",
    } <= tables


# --- immutability ---

REFUSED = (IntegrityError, DBAPIError)


def _refused(db: Database, statement: str, **params: object) -> str:
    with pytest.raises(REFUSED) as caught, db.begin() as session:
        session.execute(text(statement), params)
    return str(caught.value.orig)


@pytest.fixture
def signed(db: Database, packet: Packet) -> Iterator[tuple[Database, str, int]]:
    visit_id = add_draft(db, packet, NAME)
    consent_id = _sign(db, packet, visit_id)
    yield db, visit_id, consent_id


def test_a_signed_consent_cannot_be_changed_or_deleted_at_the_database(
    signed: tuple[Database, str, int],
) -> None:
    db, visit_id, consent_id = signed
    assert "never changed" in _refused(
        db, "UPDATE consents SET signer_name = 'Someone Else' WHERE id = :id", id=consent_id
    )
    assert "never changed" in _refused(db, "DELETE FROM consents WHERE id = :id", id=consent_id)
    assert "never changed" in _refused(db, "UPDATE documents SET content = :c", c=b"forged")
    assert "never changed" in _refused(db, "DELETE FROM documents")
    assert "never changed" in _refused(
        db, "UPDATE visits SET patient_name = 'Someone Else' WHERE id = :id", id=visit_id
    )
    assert "never changed" in _refused(db, "DELETE FROM visits WHERE id = :id", id=visit_id)
    assert "never changed" in _refused(
        db, "UPDATE answers SET value_json = '\"x\"' WHERE visit_id = :id", id=visit_id
    )
    assert "never changed" in _refused(db, "DELETE FROM answers WHERE visit_id = :id", id=visit_id)
    with db.begin() as session:
        consent = session.get(ConsentRecord, consent_id)
        assert consent is not None and consent.signer_name == NAME
        assert session.scalars(select(DocumentRecord)).one().content == b"%PDF-1.7 test"
        assert repository.load_answers(session, visit_id)["patient_name"] == NAME


def test_audit_events_cannot_be_changed_deleted_or_truncated(
    signed: tuple[Database, str, int],
) -> None:
    db, _, _ = signed
    assert "append-only" in _refused(db, "UPDATE audit_events SET action = 'nothing'")
    assert "append-only" in _refused(db, "DELETE FROM audit_events")
    if db.dialect == "postgresql":
        assert "append-only" in _refused(db, "TRUNCATE audit_events")
    with db.begin() as session:
        assert len(repository.load_audit(session)) == 3


def test_a_correction_is_a_new_consent_that_points_to_the_old_one(
    signed: tuple[Database, str, int],
) -> None:
    db, _, consent_id = signed
    with db.begin() as session:
        old = session.get(ConsentRecord, consent_id)
        assert old is not None
        correction = ConsentRecord(
            **{
                c.key: getattr(old, c.key)
                for c in ConsentRecord.__table__.columns
                if c.key not in ("id", "supersedes_id")
            },
            supersedes_id=consent_id,
        )
        correction.signer_name = "Rosa Alvarez Nunez"
        session.add(correction)
    with db.begin() as session:
        rows = session.scalars(select(ConsentRecord).order_by(ConsentRecord.id)).all()
    assert [(r.signer_name, r.supersedes_id) for r in rows] == [
        (NAME, None),
        ("Rosa Alvarez Nunez", consent_id),
    ]


def test_drafts_stay_editable_until_signed(db: Database, packet: Packet) -> None:
    visit_id = add_draft(db, packet, NAME)
    with db.begin() as session:
        repository.set_identity(session, visit_id, name="Rosa Alvarez", birth_date="1961-03-05")
        session.execute(text("DELETE FROM answers WHERE visit_id = :id"), {"id": visit_id})
    with db.begin() as session:
        assert repository.get_visit(session, visit_id).patient_name == "Rosa Alvarez"


# --- the audit chain ---


def _drop_guards(db: Database) -> None:
    """What an attacker with database access does first: remove the triggers."""
    with db.begin() as session:
        if db.dialect == "sqlite":
            for name in ("audit_events_no_update", "audit_events_no_delete"):
                session.execute(text(f"DROP TRIGGER {name}"))
        else:
            session.execute(text("DROP TRIGGER audit_events_no_change ON audit_events"))


def _events(db: Database, count: int) -> audit.Head:
    head = None
    with db.begin() as session:
        for number in range(count):
            head = repository.audit(
                session,
                actor="staff:maria.lopez",
                device="kiosk-1",
                action="staff.login",
                subject=f"s{number}",
                now=CLINIC_TIME + dt.timedelta(seconds=number),
            )
    assert head is not None
    return head


def _verify(db: Database, anchor: audit.Head | None = None) -> audit.Verification:
    with db.engine.connect() as connection:
        return audit.verify(connection, db.audit_key, anchor)


def test_an_untouched_chain_verifies_with_and_without_its_head(db: Database) -> None:
    head = _events(db, 6)
    assert head.seq == 6
    result = _verify(db, head)
    assert result.ok and result.events == 6 and result.head == head
    assert _verify(db).ok


def test_an_edited_event_is_found_at_its_sequence_number(db: Database) -> None:
    _events(db, 6)
    _drop_guards(db)
    with db.begin() as session:
        session.execute(text("UPDATE audit_events SET actor = 'staff:someone' WHERE seq = 3"))
    result = _verify(db)
    assert not result.ok
    assert result.problems == ["event 3 was changed after it was written (its seal does not match)"]


def test_a_deleted_event_is_found(db: Database) -> None:
    _events(db, 6)
    _drop_guards(db)
    with db.begin() as session:
        session.execute(text("DELETE FROM audit_events WHERE seq = 4"))
    problems = _verify(db).problems
    assert "event 4 is missing (the next one is 5)" in problems
    assert "event 5 does not link to the event before it" in problems


def test_reordered_events_are_found(db: Database) -> None:
    _events(db, 6)
    _drop_guards(db)
    with db.begin() as session:  # swap events 2 and 3 by renumbering them
        session.execute(text("UPDATE audit_events SET seq = 100 WHERE seq = 2"))
        session.execute(text("UPDATE audit_events SET seq = 2 WHERE seq = 3"))
        session.execute(text("UPDATE audit_events SET seq = 3 WHERE seq = 100"))
    result = _verify(db)
    assert not result.ok
    assert any("event 2" in p for p in result.problems)


def test_a_chain_recomputed_without_the_key_is_found(db: Database) -> None:
    """Someone edits an event and recomputes the chain with plain SHA-256 (no key)."""
    import hashlib

    _events(db, 3)
    _drop_guards(db)
    with db.begin() as session:
        rows = session.execute(
            select(
                AuditEventRecord.seq,
                AuditEventRecord.at,
                AuditEventRecord.actor,
                AuditEventRecord.device,
                AuditEventRecord.action,
                AuditEventRecord.subject,
            ).order_by(AuditEventRecord.seq)
        ).all()
        prev = audit.GENESIS
        for row in rows:
            payload = audit.canonical(
                row.seq, row.at, "staff:forger", row.device, row.action, row.subject, prev
            )
            mac = hashlib.sha256(payload).hexdigest()
            session.execute(
                text(
                    "UPDATE audit_events SET actor = 'staff:forger', prev_mac = :p, mac = :m"
                    " WHERE seq = :s"
                ),
                {"p": prev, "m": mac, "s": row.seq},
            )
            prev = mac
    assert len(_verify(db).problems) == 3


def test_events_cut_off_the_end_are_found_only_with_a_printed_head(db: Database) -> None:
    head = _events(db, 6)
    _drop_guards(db)
    with db.begin() as session:
        session.execute(text("DELETE FROM audit_events WHERE seq >= 5"))
    assert _verify(db).ok  # a shorter chain is still consistent on its own ...
    result = _verify(db, head)  # ... but not with the head printed on a consent
    assert result.problems == [
        "the trail ends at event 4 but a printed head shows event 6: "
        "events were removed from the end"
    ]
    forged = audit.Head(4, "f" * 64)
    assert _verify(db, forged).problems == ["event 4 does not match the printed head"]


def test_a_head_is_read_as_printed() -> None:
    head = audit.Head(12, "ab" * 32)
    assert audit.Head.parse(f" {head} \n") == head
    for bad in ("12", "x:" + "ab" * 32, "12:abc", "12:" + "zz" * 32):
        with pytest.raises(ValueError, match="a chain head looks like"):
            audit.Head.parse(bad)


def test_no_patient_data_in_the_audit_trail(db: Database, packet: Packet) -> None:
    visit_id = add_draft(db, packet, NAME)
    _sign(db, packet, visit_id)
    with db.begin() as session:
        rows = session.execute(select(AuditEventRecord)).scalars().all()
        text_of_trail = " ".join(f"{r.actor} {r.device} {r.action} {r.subject}" for r in rows)
    assert "Rosa" not in text_of_trail and "1961" not in text_of_trail
    assert {r.subject for r in rows} == {visit_id}


# --- one action, one transaction ---


def test_a_failure_after_the_audit_event_leaves_nothing_of_the_action(
    db: Database, packet: Packet
) -> None:
    visit_id = add_draft(db, packet, NAME)
    with db.begin() as session:
        before = (len(repository.load_audit(session)), repository.load_answers(session, visit_id))

    class ActionInterruptedError(Exception):
        pass

    with pytest.raises(ActionInterruptedError), db.begin() as session:
        repository.save_answers(
            session,
            visit_id,
            form=packet.form("intake"),
            answers={"phone": "5550100199"},
            removed=[],
            now=CLINIC_TIME,
        )
        repository.audit(
            session,
            actor="patient",
            device="kiosk-1",
            action="visit.page_saved",
            subject=visit_id,
            now=CLINIC_TIME,
        )
        repository.store_document(session, visit_id, content=b"%PDF", now=CLINIC_TIME)
        session.flush()  # everything reached the database ...
        raise ActionInterruptedError  # ... and then the action failed before it finished
    with db.begin() as session:
        after = (len(repository.load_audit(session)), repository.load_answers(session, visit_id))
        assert session.scalars(select(DocumentRecord)).all() == []
    assert after == before
    assert _verify(db).ok


# --- drafts and search ---


def test_abandoned_drafts_are_purged_and_audited_signed_visits_are_kept(
    db: Database, packet: Packet
) -> None:
    old = add_draft(db, packet, "Ana Old", now=CLINIC_TIME - dt.timedelta(hours=80))
    recent = add_draft(db, packet, "Ana Recent", now=CLINIC_TIME - dt.timedelta(hours=1))
    done = add_draft(db, packet, "Ana Signed", now=CLINIC_TIME - dt.timedelta(hours=90))
    _sign(db, packet, done)
    with db.begin() as session:
        purged = repository.purge_abandoned_drafts(
            session,
            idle_since=CLINIC_TIME - dt.timedelta(hours=72),
            device="kiosk-1",
            now=CLINIC_TIME,
        )
    assert purged == repository.PurgeResult(1)
    with db.begin() as session:
        gone = repository.get_visit(session, old)
        assert (gone.status, gone.patient_name, gone.name_search, gone.birth_date) == (
            "abandoned",
            "",
            "",
            "",
        )
        assert repository.load_answers(session, old) == {}
        assert repository.get_visit(session, recent).status == "draft"
        assert repository.load_answers(session, recent)["patient_name"] == "Ana Recent"
        assert repository.get_visit(session, done).status == "signed"
        events = [(e.action, e.subject) for e in repository.load_audit(session)]
    assert ("visit.purged", old) in events
    assert [e for e in events if e[0] == "visit.purged"] == [("visit.purged", old)]
    assert _verify(db).ok


def test_every_visit_status_is_stored_as_its_text(db: Database, packet: Packet) -> None:
    """No migration came with VisitStatus: each member must reach the column as its value (not
    its name, which a driver's enum support could send) and fit it."""
    column = inspect(VisitRecord).columns["status"].type
    assert isinstance(column, String) and column.length is not None
    assert max(len(status) for status in VisitStatus) <= column.length
    ids = {status: add_draft(db, packet, f"Ana {status.name}") for status in VisitStatus}
    with db.begin() as session:
        for status, visit_id in ids.items():
            repository.get_visit(session, visit_id).status = status
    with db.begin() as session:
        rows = session.execute(text("SELECT id, status FROM visits")).all()
    stored = {visit_id: status for visit_id, status in rows}
    assert stored == {visit_id: status.value for status, visit_id in ids.items()}


@pytest.mark.parametrize(
    ("typed", "folded"),
    [
        ("  José  ÁLVAREZ ", "jose alvarez"),
        ("Strauß", "strauss"),
        ("NÚÑEZ", "nunez"),
        ("Zoë O'Brien", "zoe o'brien"),
        ("", ""),
    ],
)
def test_names_are_folded_for_search(typed: str, folded: str) -> None:
    assert fold_name(typed) == folded


def test_search_ignores_case_and_accents_and_filters_by_birth_date(
    db: Database, packet: Packet
) -> None:
    first = add_draft(db, packet, "José Álvarez")
    add_draft(db, packet, "Josefina Alvarado")
    add_draft(db, packet, "María 100%_Test")
    with db.begin() as session:
        assert [v.visit_id for v in search_visits(session, "jose alvarez")] == [first]
        assert {v.patient_name for v in search_visits(session, "JOSE")} == {
            "José Álvarez",
            "Josefina Alvarado",
        }
        assert search_visits(session, "jose", birth_date="1999-01-01") == []
        assert [v.patient_name for v in search_visits(session, "maria 100%_")] == [
            "María 100%_Test"
        ]
        assert search_visits(session, "%") == []  # wildcards are text, not patterns


NAME_RANGE = "name_search >= 'jose' AND name_search < 'josf'"


@pytest.mark.parametrize(
    ("where", "index"),
    [
        (NAME_RANGE, "ix_visits_name_search_birth_date"),
        # With a date of birth the index that starts with it goes straight to that day's names.
        (f"{NAME_RANGE} AND birth_date = '1961-03-05'", "ix_visits_birth_date_name_search"),
        # The console's day queue.
        ("started_at >= '2026-11-22' AND started_at < '2026-11-23'", "ix_visits_started_at"),
    ],
)
def test_searches_use_their_index(db: Database, where: str, index: str) -> None:
    with db.engine.connect() as connection:
        if db.dialect == "sqlite":
            explain = "EXPLAIN QUERY PLAN"
        else:
            connection.execute(text("SET enable_seqscan = off"))
            explain = "EXPLAIN"
        plan = connection.execute(text(f"{explain} SELECT id FROM visits WHERE {where}")).all()
    assert index in " ".join(str(row) for row in plan)


def test_every_saved_visit_has_its_folded_name(db: Database, packet: Packet) -> None:
    visit_id = add_draft(db, packet, "Ånne  Ñ")
    with db.begin() as session:
        stored = session.get(VisitRecord, visit_id)
        assert stored is not None and stored.name_search == "anne n"
        assert session.scalars(select(AnswerRecord.item_id)).all()


def test_a_plain_postgresql_url_uses_psycopg_3(tmp_path: Path) -> None:
    engine, path, _ = engine_for(
        "postgresql://kiosk@db.clinic.example/kiosk", KeyStore(tmp_path), create=False
    )
    assert path is None
    assert engine.dialect.driver == "psycopg"
    engine.dispose()
