"""What the patient and staff see when the records are in trouble: a full disk or a read-only
database during a visit, and a kiosk that starts in safe mode when its records fail the check."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QLabel, QPushButton
from sqlalchemy import Engine, event, select, text
from sqlalchemy.orm import Session

from kiosk.app.kiosk_app import Kiosk, SafeMode, open_kiosk
from kiosk.config import Settings
from kiosk.domain.model import Packet
from kiosk.storage import audit, repository
from kiosk.storage.db import open_database
from kiosk.storage.heads import keeper_name, read_head_file
from kiosk.storage.models import AuditEventRecord, ConsentRecord, DocumentRecord, VisitRecord
from kiosk.ui.screens.done import DoneScreen
from kiosk.ui.screens.safe_mode import SafeModeScreen
from tests.app.conftest import KioskUnderTest
from tests.app.test_patient_walk import NAME, _sign, _start
from tests.app.test_signing_alternatives import _to_signature
from tests.conftest import CLINIC_TIME

SAVE_FAILED = "We could not save your answers. Please ask the front desk for help."


def _limit(engine: Engine, pragma: str) -> Callable[[], None]:
    """A real storage fault on every connection from now on; returns how to lift it."""

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        if pragma == "full":  # the file may not grow by a single page: a full disk
            pages = cursor.execute("PRAGMA page_count").fetchone()[0]
            cursor.execute(f"PRAGMA max_page_count = {pages}")
        else:
            cursor.execute("PRAGMA query_only = ON")  # a read-only database
        cursor.close()

    engine.dispose()
    event.listen(engine, "connect", on_connect)

    def lift() -> None:
        event.remove(engine, "connect", on_connect)
        engine.dispose()

    return lift


def _counts(k: KioskUnderTest) -> tuple[int, int, int]:
    with Session(k.engine()) as session:
        answers = session.execute(text("SELECT count(*) FROM answers")).scalar_one()
        events = session.execute(text("SELECT count(*) FROM audit_events")).scalar_one()
        documents = session.execute(text("SELECT count(*) FROM documents")).scalar_one()
    return answers, events, documents


def test_a_full_disk_at_signing_keeps_nothing_partial_and_asks_for_staff(
    kiosk: KioskUnderTest, packet: Packet
) -> None:
    k = kiosk
    screen = _to_signature(k, packet)
    before = _counts(k)
    lift = _limit(k.engine(), "full")
    _sign(k)
    assert k.screen is screen  # still on the signature screen ...
    assert SAVE_FAILED in screen.message.text()  # ... with a kind message to see staff
    lift()
    assert _counts(k) == before  # no consent, no document, no audit event
    with Session(k.engine()) as session:
        assert session.scalars(select(ConsentRecord)).all() == []
        assert session.scalars(select(VisitRecord.status)).one() == "draft"
    _sign(k)  # once staff free some space the patient can sign
    k.qtbot.waitUntil(lambda: isinstance(k.screen, DoneScreen))
    with Session(k.engine()) as session:
        assert session.scalars(select(VisitRecord.status)).one() == "signed"
        kinds = sorted(session.scalars(select(DocumentRecord.kind)).all())
        assert kinds == [repository.CLINICIAN_SUMMARY, repository.CONSENT_PDF]


def test_a_page_that_cannot_be_saved_stays_on_screen_with_its_answers(
    kiosk: KioskUnderTest,
) -> None:
    k = kiosk
    _start(k)
    screen = k.question()
    first_page = screen.page.id
    screen.widgets["patient_name"].edit.setText(NAME)  # type: ignore[attr-defined]
    before = _counts(k)
    lift = _limit(k.engine(), "read-only")
    k.tap(screen.primary_button)
    assert k.screen is screen
    assert SAVE_FAILED in screen.message.text()
    assert screen.widgets["patient_name"].edit.text() == NAME  # type: ignore[attr-defined]
    lift()
    assert _counts(k) == before
    k.tap(screen.primary_button)
    assert k.question().page.id != first_page
    assert _counts(k)[0] == before[0] + 1


def _labels(widget: object) -> str:
    assert isinstance(widget, SafeModeScreen)
    return "\n".join(label.text() for label in widget.findChildren(QLabel))


def _settings(tmp_path: Path, **overrides: object) -> Settings:
    url = f"sqlite:///{tmp_path / 'kiosk.sqlite3'}"
    return dataclasses.replace(Settings.load(database_url=url), output_dir=None, **overrides)  # type: ignore[arg-type]


def _open(settings: Settings) -> Kiosk | SafeMode:
    result = open_kiosk(settings, clock=lambda: CLINIC_TIME)
    return result


def _close(result: Kiosk | SafeMode) -> None:
    if isinstance(result, Kiosk):
        result.shutdown()
    else:
        result.window.close()
        result.window.deleteLater()


def _make_records(settings: Settings) -> None:
    kiosk = _open(settings)
    assert isinstance(kiosk, Kiosk)
    kiosk.flow.record("kiosk.started")
    _close(kiosk)


def _safe_mode(settings: Settings) -> SafeMode:
    result = _open(settings)
    assert isinstance(result, SafeMode), "the kiosk started normally"
    screen = result.window.screen_widget
    text_shown = _labels(screen)
    assert "This tablet is paused. Please ask a member of staff." in text_shown
    assert "Esta tableta está en pausa. Por favor pida ayuda al personal." in text_shown
    assert "will not start new visits" in text_shown
    assert result.window.findChildren(QPushButton) == []  # nothing to start a visit with
    return result


def test_a_healthy_database_starts_normally(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    _make_records(settings)
    result = _open(settings)
    assert isinstance(result, Kiosk)
    _close(result)


def test_a_wrong_key_starts_safe_mode_and_leaves_the_file_untouched(
    tmp_path: Path, qtbot: object
) -> None:
    settings = _settings(tmp_path)
    _make_records(settings)
    database = tmp_path / "kiosk.sqlite3"
    before = hashlib.sha256(database.read_bytes()).hexdigest()
    other_keys = tmp_path / "other-keys"
    open_database(f"sqlite:///{tmp_path / 'other.sqlite3'}", key_dir=other_keys).dispose()
    result = _safe_mode(dataclasses.replace(settings, key_dir=other_keys))
    assert any("wrong key" in p for p in result.problems)
    assert hashlib.sha256(database.read_bytes()).hexdigest() == before
    _close(result)


def test_a_missing_key_starts_safe_mode_and_never_makes_a_new_database(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    _make_records(settings)
    (settings.key_dir / "database.key").unlink()
    result = _safe_mode(settings)
    assert any("database.key is missing" in p for p in result.problems)
    assert not (settings.key_dir / "database.key").exists()  # no new key was made either
    _close(result)


def test_a_damaged_file_starts_safe_mode(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    _make_records(settings)
    database = tmp_path / "kiosk.sqlite3"
    data = bytearray(database.read_bytes())
    data[4096 + 2000] ^= 0xFF  # one flipped byte in the second page
    database.write_bytes(bytes(data))
    result = _safe_mode(settings)
    assert result.problems
    _close(result)


def test_an_edited_audit_trail_starts_safe_mode_and_is_recorded(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    _make_records(settings)
    db = open_database(settings.database_url, key_dir=settings.key_dir)
    with db.begin() as session:
        session.execute(text("DROP TRIGGER audit_events_no_update"))
        session.execute(text("UPDATE audit_events SET actor = 'staff:nobody' WHERE seq = 1"))
    db.dispose()
    result = _safe_mode(settings)
    assert result.problems == [
        "the protective trigger audit_events_no_update is missing",
        "audit trail: event 1 was changed after it was written (its seal does not match)",
    ]
    _close(result)
    db = open_database(settings.database_url, key_dir=settings.key_dir)
    with db.begin() as session:
        assert repository.load_audit(session)[-1].action == "kiosk.safe_mode"
    db.dispose()


def test_events_cut_off_the_end_start_safe_mode(kiosk: KioskUnderTest, packet: Packet) -> None:
    """Every commit keeps the head beside the database; a shorter trail at the next start is
    caught, even when the cut starts at the signing (storage.heads)."""
    k = kiosk
    _to_signature(k, packet)
    _sign(k)
    k.qtbot.waitUntil(lambda: isinstance(k.screen, DoneScreen))
    db = k.kiosk.db
    assert db.head_file is not None
    kept = read_head_file(db.head_file, db.audit_key)
    assert kept is not None
    with db.begin() as session:
        signed = session.scalars(
            select(AuditEventRecord).where(AuditEventRecord.action == "consent.signed")
        ).one()
        consent = session.scalars(select(ConsentRecord)).one()
        assert consent.signer_name == NAME
        assert kept.head == audit.current_head(session)  # the newest event, not the signing's
    with db.begin() as session:  # remove the signing's events, and what came after
        session.execute(text("DROP TRIGGER audit_events_no_delete"))
        session.execute(text("DELETE FROM audit_events WHERE seq >= :seq"), {"seq": signed.seq})
    settings = _settings(Path(str(db.path)).parent, key_dir=db.keys.folder)
    result = _safe_mode(settings)
    assert (
        f"the trail ends at event {signed.seq - 1} but the head kept by {keeper_name()} "
        f"({db.head_file.name}) shows event {kept.head.seq}: events were removed from the end"
    ) in result.problems
    _close(result)


def test_a_deleted_or_rolled_back_head_is_safe_mode_until_staff_adopt(
    tmp_path: Path, qtbot: object
) -> None:
    """The kept head moves with every commit; put back an older copy, or delete it, and the
    kiosk pauses, start after start (its own safe-mode event never carries the old head on),
    until staff verify and run `kiosk audit adopt-head`."""
    from kiosk.cli import main

    settings = _settings(tmp_path)
    _make_records(settings)
    head_file = tmp_path / "kiosk.sqlite3.audit-head"
    older = head_file.read_bytes()
    _make_records(settings)
    assert head_file.read_bytes() != older  # the start-up and kiosk.started moved it on
    head_file.write_bytes(older)
    for _ in range(2):
        result = _safe_mode(settings)
        assert any("the kept head was rolled back" in problem for problem in result.problems)
        _close(result)
    head_file.unlink()
    for _ in range(2):
        result = _safe_mode(settings)
        assert any(problem.startswith("no audit head is kept") for problem in result.problems)
        _close(result)
    assert main(["audit", "adopt-head", "--database", settings.database_url]) == 0
    started = _open(settings)
    assert isinstance(started, Kiosk)
    _close(started)
