"""The visit service without Qt: the patient's actions against a real SQLite file, and what a
failed save leaves behind (nothing: the visit is back where it was, and it can try again).

No QApplication here, and no widget: the service returns outcomes; these tests read them and
the records.
"""

from __future__ import annotations

import datetime as dt
import io
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from sqlalchemy import text

from kiosk.app.service import (
    Finished,
    Invalid,
    Message,
    Notify,
    OpenVisit,
    Refused,
    SaveFailed,
    ShowStep,
    VisitConfig,
    VisitService,
)
from kiosk.app.synthetic import SYNTHETIC_ANSWERS, consent_answers, signature_strokes
from kiosk.documents.seal import Certificates
from kiosk.domain.answers import AnswerProblem
from kiosk.domain.model import Packet
from kiosk.domain.records import VisitStatus
from kiosk.domain.signature import DrawnSignature
from kiosk.domain.strings import Strings
from kiosk.domain.visit import StepKind
from kiosk.storage import repository
from kiosk.storage.db import Database, open_database
from tests.conftest import CLINIC_TIME

FAULT = "test_fault_documents"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_database(f"sqlite:///{tmp_path / 'kiosk.sqlite3'}")
    yield database
    database.dispose()


def make_service(
    packet: Packet, strings: Strings, db: Database, tmp_path: Path, minutes: int = 0
) -> VisitService:
    config = VisitConfig(
        clinic_name="Riverbend Pain Clinic",
        kiosk_id="kiosk-1",
        output_dir=tmp_path / "out",
        certificates=Certificates(tmp_path / "keys"),
    )
    return VisitService(
        packet, strings, db.sessions, config, lambda: CLINIC_TIME + dt.timedelta(minutes=minutes)
    )


@pytest.fixture
def service(packet: Packet, strings: Strings, db: Database, tmp_path: Path) -> VisitService:
    return make_service(packet, strings, db, tmp_path)


def break_documents(db: Database) -> None:
    """A real fault: every new document is refused by the database itself."""
    with db.engine.begin() as connection:
        connection.execute(
            text(
                f"CREATE TRIGGER {FAULT} BEFORE INSERT ON documents "
                "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
            )
        )


def mend_documents(db: Database) -> None:
    with db.engine.begin() as connection:
        connection.execute(text(f"DROP TRIGGER {FAULT}"))


def signature() -> DrawnSignature:
    width, height = 600.0, 200.0
    strokes = signature_strokes(width, height)
    image = Image.new("RGB", (int(width), int(height)), "white")
    draw = ImageDraw.Draw(image)
    for stroke in strokes:
        draw.line(stroke, fill="black", width=3)
    png = io.BytesIO()
    image.save(png, format="PNG")
    return DrawnSignature(tuple(tuple(s) for s in strokes), width, height, png.getvalue())


def answer_intake(service: VisitService, opened: OpenVisit) -> None:
    """Every question page, answered from the synthetic patient, up to the review."""
    visit = opened.visit
    for _ in range(100):
        if visit.current.kind is not StepKind.PAGE:
            break
        page = visit.page()
        raw = {
            i.id: SYNTHETIC_ANSWERS[i.id] for i in visit.items_on(page) if i.id in SYNTHETIC_ANSWERS
        }
        assert service.submit_page(opened, raw) == ShowStep(), page.id
    assert visit.current.kind is StepKind.REVIEW


def to_signing(service: VisitService, opened: OpenVisit) -> None:
    """Intake, review, every section, the quiz and the attestations: at the signature."""
    answer_intake(service, opened)
    assert service.confirm_review(opened) == ShowStep()
    visit = opened.visit
    right = consent_answers(service.packet)
    for _ in range(50):
        step = visit.current
        match step.kind:
            case StepKind.SECTION:
                visit.next()
            case StepKind.QUIZ:
                assert service.answer_quiz(opened, right) == ShowStep()
            case StepKind.ATTEST:
                assert service.submit_attestations(opened, right) == ShowStep()
            case _:
                break
    assert visit.current.kind is StepKind.SIGN


def at_signing(service: VisitService) -> OpenVisit:
    """A new visit, taken to its signature."""
    opened = service.start("en")
    assert opened is not None
    to_signing(service, opened)
    return opened


def status(db: Database, visit_id: str) -> str:
    with db.read() as session:
        return repository.get_visit(session, visit_id).status


def actions(db: Database) -> list[str]:
    with db.read() as session:
        return [event.action for event in repository.load_audit(session)]


def test_the_service_imports_no_qt() -> None:
    """The visit's use cases load without PySide6 (and so run without a QApplication)."""
    code = (
        "import sys, kiosk.app.service; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "[]"


def test_a_whole_visit_through_the_service_signs_and_stores_the_sealed_consent(
    service: VisitService, db: Database, tmp_path: Path
) -> None:
    opened = at_signing(service)
    outcome = service.sign(opened, signature())
    assert isinstance(outcome, Finished)
    finished = outcome.finished
    assert finished.visit_id == opened.id
    assert finished.pdf_path == tmp_path / "out" / f"{finished.document_number}.pdf"
    assert finished.pdf_path.read_bytes().startswith(b"%PDF")
    assert status(db, opened.id) == VisitStatus.SIGNED
    with db.read() as session:
        stored = repository.latest_document(session, opened.id)
        assert stored.sha256 == finished.pdf_sha256
        summary = repository.latest_document(session, opened.id, repository.CLINICIAN_SUMMARY)
        assert summary.content.startswith(b"%PDF")
    events = actions(db)
    assert events[0] == "visit.started"
    # the documents' event seals the PDF's hash into the chain (the PDF prints the signing's head)
    assert events[-3:] == ["consent.signed", "document.stored", "document.copy_written"]
    assert {"visit.page_saved", "consent.quiz_answered", "consent.attested"} <= set(events)


def test_invalid_answers_change_nothing(service: VisitService, db: Database) -> None:
    opened = service.start("en")
    assert opened is not None
    page = opened.visit.page()
    required = next(item for item in opened.visit.items_on(page) if item.required)
    before = opened.visit.checkpoint()
    outcome = service.submit_page(opened, {})
    assert isinstance(outcome, Invalid)
    assert outcome.problems[required.id] is AnswerProblem.REQUIRED
    assert opened.visit.checkpoint() is before
    assert actions(db) == ["visit.started"]


def test_a_trivial_signature_is_refused_and_the_visit_stays_at_signing(
    service: VisitService,
) -> None:
    opened = at_signing(service)
    tap = DrawnSignature((((10.0, 10.0), (11.0, 11.0)),), 600.0, 200.0)
    assert service.sign(opened, tap) == Refused(Message("sign.trivial"))
    assert opened.visit.current.kind is StepKind.SIGN and opened.visit.signing is None


def test_a_failed_paper_save_leaves_the_visit_at_signing_and_it_can_try_again(
    service: VisitService, db: Database
) -> None:
    """Before the visit's state was one object, the failed save left the visit counted as
    paper: Back refused and choosing paper again raised VisitError."""
    opened = at_signing(service)
    break_documents(db)  # the clinician summary cannot be stored
    assert service.choose_paper(opened) == SaveFailed(Message("errors.save_failed"))
    visit = opened.visit
    assert not visit.paper and not visit.is_signed
    assert visit.current.kind is StepKind.SIGN
    assert status(db, opened.id) == VisitStatus.DRAFT
    assert "consent.paper_chosen" not in actions(db)
    assert service.choose_paper(opened) == SaveFailed()  # again: refused kindly, not raised
    mend_documents(db)
    assert service.choose_paper(opened) == ShowStep(Message("paper.done"))
    assert visit.paper and visit.current.kind is StepKind.DONE
    assert status(db, opened.id) == VisitStatus.PAPER
    assert actions(db).count("consent.paper_chosen") == 1


def test_after_a_failed_paper_save_the_patient_can_go_back(
    service: VisitService, db: Database
) -> None:
    opened = at_signing(service)
    break_documents(db)
    assert isinstance(service.choose_paper(opened), SaveFailed)
    assert opened.visit.back()
    assert opened.visit.current.kind is not StepKind.SIGN


def test_a_failed_signing_save_rolls_the_signature_back(
    service: VisitService, db: Database
) -> None:
    opened = at_signing(service)
    break_documents(db)
    assert service.sign(opened, signature()) == SaveFailed()
    assert opened.visit.signing is None and opened.visit.current.kind is StepKind.SIGN
    assert status(db, opened.id) == VisitStatus.DRAFT
    mend_documents(db)
    assert isinstance(service.sign(opened, signature()), Finished)
    assert status(db, opened.id) == VisitStatus.SIGNED


def test_a_failed_consent_on_file_save_leaves_the_visit_at_review(
    packet: Packet, strings: Strings, db: Database, tmp_path: Path
) -> None:
    """A returning patient with a current consent: when closing the visit cannot be stored,
    the visit is back at review with no consent on file, and the next try closes it."""
    first = make_service(packet, strings, db, tmp_path)
    assert isinstance(first.sign(at_signing(first), signature()), Finished)

    later = make_service(packet, strings, db, tmp_path, minutes=90)
    opened = later.start("en")
    assert opened is not None
    answer_intake(later, opened)
    break_documents(db)
    assert later.confirm_review(opened) == SaveFailed()
    visit = opened.visit
    assert visit.on_file is None and not visit.is_signed
    assert visit.current.kind is StepKind.REVIEW
    assert status(db, opened.id) == VisitStatus.DRAFT
    mend_documents(db)
    assert later.confirm_review(opened) == ShowStep()
    assert visit.on_file is not None and visit.current.kind is StepKind.DONE
    assert status(db, opened.id) == VisitStatus.CONSENT_ON_FILE
    assert actions(db).count("consent.still_current") == 1


def test_a_wrong_witness_pin_is_refused_and_audited(service: VisitService, db: Database) -> None:
    opened = at_signing(service)
    name = opened.visit.identity("name")
    outcome = service.sign_typed(opened, name, "hand_injury", "nobody", "000000")
    assert outcome == Refused(Message("staff.wrong"))
    assert opened.visit.signing is None
    assert service.sign_typed(opened, "Someone Else", "hand_injury", "x", "1") == Refused(
        Message("typed.name_differs")
    )
    assert "staff.witness_failed" in actions(db)


def test_resume_opens_a_draft_at_its_first_unanswered_page(
    service: VisitService, db: Database
) -> None:
    opened = service.start("en")
    assert opened is not None
    first_page = opened.visit.page()
    raw = {i.id: SYNTHETIC_ANSWERS[i.id] for i in opened.visit.items_on(first_page)}
    assert service.submit_page(opened, raw) == ShowStep()
    resumed = service.resume(opened.id, resumed_by="maria")
    assert resumed is not None and resumed.id == opened.id
    assert resumed.visit.current == opened.visit.current
    assert dict(resumed.visit.answers) == dict(opened.visit.answers)
    assert actions(db)[-1] == "visit.resumed"
    assert service.resume("no-such-visit", resumed_by="maria") is None


# --- a notice for the patient after a page that raises a flag with one (PHQ-9 item 9) ---------


def at_page(service: VisitService, page_id: str) -> OpenVisit:
    """A new visit whose earlier pages are answered from the synthetic patient."""
    opened = service.start("en")
    assert opened is not None
    visit = opened.visit
    while visit.page().id != page_id:
        raw = {i.id: SYNTHETIC_ANSWERS[i.id] for i in visit.items_on(visit.page())}
        assert service.submit_page(opened, raw) == ShowStep()
    return opened


def item9_again(service: VisitService, opened: OpenVisit, value: int) -> object:
    """Back to PHQ-9 item 9 and save it with ``value``."""
    visit = opened.visit
    while visit.page().id != "phq9_9_page":
        assert visit.back()
    return service.submit_page(opened, {"phq9_9": value})


def flags(db: Database, visit_id: str) -> set[str]:
    with db.read() as session:
        return set(repository.load_flags(session, visit_id))


def test_a_page_raising_item_9_tells_the_navigator_to_show_the_crisis_notice_once(
    service: VisitService, db: Database
) -> None:
    opened = at_page(service, "phq9_9_page")
    assert service.submit_page(opened, {"phq9_9": 1}) == Notify(("crisis",))
    assert opened.visit.page().id == "phq9_difficulty_page"  # saved, and the visit moved on
    assert "phq9_item9" in flags(db, opened.id)
    # Saved again, still above "Not at all": the patient was told; nothing new to say.
    assert item9_again(service, opened, 2) == ShowStep()
    assert item9_again(service, opened, 0) == ShowStep()  # cleared
    assert item9_again(service, opened, 3) == Notify(("crisis",))  # raised again: told again


def test_item_9_at_not_at_all_shows_no_notice(service: VisitService) -> None:
    opened = at_page(service, "phq9_9_page")
    assert service.submit_page(opened, {"phq9_9": 0}) == ShowStep()


def test_a_failed_save_shows_no_notice_and_the_retry_does(
    service: VisitService, db: Database
) -> None:
    opened = at_page(service, "phq9_9_page")
    with db.engine.begin() as connection:
        connection.execute(
            text(
                f"CREATE TRIGGER {FAULT} BEFORE INSERT ON answers "
                "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
            )
        )
    assert service.submit_page(opened, {"phq9_9": 1}) == SaveFailed()
    assert opened.visit.page().id == "phq9_9_page"
    with db.engine.begin() as connection:
        connection.execute(text(f"DROP TRIGGER {FAULT}"))
    assert service.submit_page(opened, {"phq9_9": 1}) == Notify(("crisis",))
