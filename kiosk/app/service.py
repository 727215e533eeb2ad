"""The visit's use cases, without Qt: one patient action, one transaction, one outcome.

Each method takes what the patient did on an :class:`OpenVisit`, moves the visit (the pure state
machine in :mod:`kiosk.domain.visit`), stores what changed together with its audit event (and any
document: the clinician summary, the sealed consent) in one transaction, and returns an outcome
value that tells the navigator (:mod:`kiosk.app.flow`) what to show. When a save fails the visit
is put back to before the action (one assignment of its state) and the outcome says so: the
patient keeps their answers on screen with a kind message.

Words reach the patient as :class:`Message` keys of the strings table, never as text: the service
knows no language and no widget.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from kiosk.app.clock import Clock, local_now
from kiosk.documents.consent_pdf import consent_pdf_data, render_consent_pdf
from kiosk.documents.seal import Certificates, SealError, seal_pdf
from kiosk.documents.summary_pdf import format_time, render_summary_pdf, summary_data
from kiosk.domain.answers import AnswerProblem
from kiosk.domain.model import Packet
from kiosk.domain.reconsent import DEFAULT_VALIDITY_MONTHS, ConsentNeed
from kiosk.domain.records import VisitStatus
from kiosk.domain.signature import DrawnSignature
from kiosk.domain.strings import Strings
from kiosk.domain.visit import (
    AttestationsSaved,
    PageSaved,
    Signing,
    StepKind,
    Visit,
    VisitError,
    VisitState,
    Witness,
    same_name,
)
from kiosk.private_files import private_folder, write_private_file
from kiosk.storage import audit as audit_chain
from kiosk.storage import reconsent, repository, staff
from kiosk.storage.staff import SERVICE_ROLE, PinCheck, PinResult

log = logging.getLogger(__name__)
# Log lines name what failed and the exception's type only: messages can carry patient data.

PATIENT = "patient"
"""The actor of what the patient does."""
SYSTEM = "system"
"""The actor of what the kiosk does on its own (start-up, a wipe after inactivity, a copy)."""

_STORAGE_ERRORS = (SQLAlchemyError, SealError, OSError, ValueError)
"""What a save can meet: the database (a full disk, a read-only file), the seal, the file copy."""


@dataclass(frozen=True)
class VisitConfig:
    """What the visit service needs from the settings."""

    clinic_name: str
    kiosk_id: str
    output_dir: Path | None  # consent PDFs are also written here as KC-XXXXXXXX.pdf
    certificates: Certificates | None = None  # the clinic's seal; None leaves PDFs unsealed
    consent_validity_months: int = DEFAULT_VALIDITY_MONTHS  # then a returning patient re-signs


@dataclass
class OpenVisit:
    """The visit on the tablet now: its record's id and its state machine."""

    id: str
    visit: Visit


@dataclass(frozen=True)
class FinishedVisit:
    """What a finished visit left behind (for the demo and for tests)."""

    visit_id: str
    document_number: str
    pdf_sha256: str
    pdf_path: Path | None


@dataclass(frozen=True)
class Message:
    """Words for the patient: a key of the strings table and the values it takes."""

    key: str
    values: Mapping[str, object] = field(default_factory=dict)


SAVE_FAILED = Message("errors.save_failed")


@dataclass(frozen=True)
class ShowStep:
    """Saved (or nothing to save): show the visit's current step, with ``notice`` on it."""

    notice: Message | None = None


@dataclass(frozen=True)
class Notify:
    """Saved, and the answers newly raised flags that have a ``patient_notice``: show the
    patient these notices (the ``notice.<name>`` screens, in this order), then the visit's
    current step."""

    notices: tuple[str, ...]


@dataclass(frozen=True)
class Invalid:
    """Nothing saved and the visit did not move: these answers on screen need attention."""

    problems: Mapping[str, AnswerProblem]


@dataclass(frozen=True)
class Refused:
    """Nothing saved and the visit did not move: tell the patient why (a trivial signature, a
    typed name that differs, a wrong PIN)."""

    message: Message


@dataclass(frozen=True)
class SaveFailed:
    """The records could not be written: the visit is back to before the action."""

    message: Message = SAVE_FAILED


@dataclass(frozen=True)
class Finished:
    """Signed and stored: the visit is done."""

    finished: FinishedVisit


Outcome = ShowStep | Notify | Invalid | Refused | SaveFailed | Finished
"""What a patient's action came to; the navigator matches on it."""


@dataclass(frozen=True)
class StaffCheck:
    """A staff id and PIN, checked: the staff member when it was right, else why not."""

    result: PinResult | None
    refusal: Message | None = None


class VisitService:
    """The visit's use cases for one kiosk."""

    def __init__(
        self,
        packet: Packet,
        strings: Strings,
        sessions: sessionmaker[Session],
        config: VisitConfig,
        clock: Clock = local_now,
    ) -> None:
        self.packet = packet
        self.strings = strings
        self.sessions = sessions
        self.config = config
        self.clock = clock

    # --- audit ---

    def record(self, action: str, *, actor: str, subject: str = "") -> None:
        """An audit event on its own (identifiers only). A failure is logged, never raised:
        the kiosk must still wipe, close or carry on."""
        repository.record_event(
            self.sessions,
            actor=actor,
            device=self.config.kiosk_id,
            action=action,
            subject=subject,
            now=self.clock(),
        )

    def audit(self, session: Session, action: str, *, actor: str, subject: str) -> audit_chain.Head:
        """Add an audit event to the caller's transaction; returns the chain's new head. Every
        event here writes the visit ``subject``: it carries the digest of the visit's records as
        they stand now (repository.audit_write), so call it after the transaction's writes."""
        return repository.audit_write(
            session,
            visit_id=subject,
            actor=actor,
            device=self.config.kiosk_id,
            action=action,
            now=self.clock(),
        )

    def _check_records(self, session: Session, visit_id: str) -> None:
        """Before a write: a change made to the visit's rows outside the kiosk goes on the
        trail first (repository.check_records), so the write's digest cannot hide it."""
        repository.check_records(session, visit_id, device=self.config.kiosk_id, now=self.clock())

    def check_staff(self, staff_id: str, pin: str, action: str) -> StaffCheck:
        """Check a staff id and PIN (through the persistent lockout) and audit it as ``action``
        ("staff.login", "staff.witness"), or its _failed / _disabled form, or staff.lockout."""
        now = self.clock()
        try:
            with self.sessions.begin() as session:
                result = staff.check_pin_audited(
                    session, staff_id, pin, action=action, device=self.config.kiosk_id, now=now
                )
        except SQLAlchemyError as exc:
            log.error("a staff PIN could not be checked: %s", type(exc).__name__)
            return StaffCheck(None, SAVE_FAILED)
        log.info("%s: %s (%s)", action, result.staff_id or "unknown id", result.check)
        match result.check:
            case PinCheck.OK if result.role == SERVICE_ROLE:  # a script's account, not a person
                return StaffCheck(None, Message("staff.wrong"))
            case PinCheck.OK:
                return StaffCheck(result)
            case PinCheck.LOCKED if result.locked_until is not None:
                until = result.locked_until.astimezone(now.tzinfo).strftime("%H:%M")
                return StaffCheck(None, Message("staff.locked", {"time": until}))
        # A disabled id is answered like a wrong PIN (its audit event tells staff apart).
        return StaffCheck(None, Message("staff.wrong"))

    # --- a visit opens ---

    def start(self, language: str) -> OpenVisit | None:
        """A new visit (a draft row) in ``language``; None when it cannot be stored."""
        try:
            with self.sessions.begin() as session:
                visit_id = repository.start_visit(
                    session,
                    packet=self.packet,
                    language=language,
                    kiosk_id=self.config.kiosk_id,
                    now=self.clock(),
                )
                self.audit(session, "visit.started", actor=PATIENT, subject=visit_id)
        except SQLAlchemyError as exc:
            log.error("could not start a visit: %s", type(exc).__name__)
            return None
        return OpenVisit(visit_id, Visit(self.packet, language))

    def resume(self, visit_id: str, resumed_by: str) -> OpenVisit | None:
        """Staff resume an interrupted visit: at the first page still missing an answer, or at
        review. None when the visit is not a draft or cannot be read."""
        try:
            with self.sessions.begin() as session:
                record = repository.get_visit(session, visit_id)
                if record.status != VisitStatus.DRAFT:
                    return None
                language = record.language
                answers = repository.load_answers(session, visit_id)
        except (SQLAlchemyError, repository.NotFoundError) as exc:
            log.error("could not resume a visit: %s", type(exc).__name__)
            return None
        visit = Visit(self.packet, language, answers=answers)
        visit.resume()
        log.info("a draft visit was resumed by staff")
        self.record("visit.resumed", actor=f"staff:{resumed_by}", subject=visit_id)
        return OpenVisit(visit_id, visit)

    # --- the patient's actions ---

    def submit_page(self, open_visit: OpenVisit, raw: Mapping[str, object]) -> Outcome:
        """A question page's answers: checked, then stored with the identity and the scores.

        When the save raises a flag with a ``patient_notice`` that was not raised before it,
        the outcome is :class:`Notify`. Saving the same answer again shows nothing new; an
        answer changed so that the flag clears, then raises it again, shows the notice again
        (each raise reaches staff, so the patient hears it each time)."""
        visit, visit_id = open_visit.visit, open_visit.id
        checkpoint = visit.checkpoint()
        raised_before = {f.id for report in visit.scores() for f in report.flags}
        result = visit.submit_page(raw, self.clock().date())
        if not isinstance(result, PageSaved):
            return Invalid(result)
        now = self.clock()
        reports = visit.scores()

        def write(session: Session) -> None:
            repository.save_answers(
                session,
                visit_id,
                form=result.form,
                answers=result.answers,
                removed=result.removed,
                now=now,
            )
            repository.set_identity(
                session,
                visit_id,
                name=visit.identity("name"),
                birth_date=visit.identity("birth_date"),
            )
            repository.save_scores(session, visit_id, reports, now, answers=visit.answers)

        outcome = self._commit(open_visit, "a page", checkpoint, write, "visit.page_saved")
        notices = tuple(
            dict.fromkeys(
                f.patient_notice
                for report in reports
                for f in report.flags
                if f.patient_notice and f.id not in raised_before
            )
        )
        if isinstance(outcome, ShowStep) and notices:
            return Notify(notices)
        return outcome

    def answer_quiz(self, open_visit: OpenVisit, raw: Mapping[str, object]) -> Outcome:
        """A comprehension answer: stored with the flag a second miss raises. A wrong answer
        that moves on (the second miss) tells the patient a clinician will talk it through."""
        visit = open_visit.visit
        checkpoint = visit.checkpoint()
        question = visit.quiz_question()
        answered = visit.answer_quiz(raw.get(question.id))
        if answered is None:
            return Invalid({question.id: AnswerProblem.REQUIRED})
        outcome = self._commit(
            open_visit,
            "a quiz answer",
            checkpoint,
            lambda session: repository.record_quiz_attempt(
                session,
                open_visit.id,
                consent=self.packet.consent,
                attempt=answered.attempt,
                raised=answered.raised,
                now=self.clock(),
            ),
            "consent.quiz_answered",
        )
        if (
            isinstance(outcome, ShowStep)
            and not answered.attempt.correct
            and visit.current.kind is not StepKind.RETEACH
        ):
            return ShowStep(Message("quiz.discuss"))
        return outcome

    def submit_attestations(self, open_visit: OpenVisit, raw: Mapping[str, object]) -> Outcome:
        """The ticks before signing, and the flags they raise."""
        visit = open_visit.visit
        checkpoint = visit.checkpoint()
        result = visit.submit_attestations(raw, self.clock().date())
        if not isinstance(result, AttestationsSaved):
            return Invalid(result)
        return self._commit(
            open_visit,
            "the attestations",
            checkpoint,
            lambda session: repository.set_consent_flags(
                session,
                open_visit.id,
                consent=self.packet.consent,
                flags=result.flags,
                attestations=result.answers,
                now=self.clock(),
            ),
            "consent.attested",
        )

    def confirm_review(self, open_visit: OpenVisit) -> Outcome:
        """The intake is certified. A returning patient whose consent is still current is done
        (the visit is closed with the clinician summary); one whose consent is due again goes
        on to the consent, told why on its first section."""
        visit = open_visit.visit
        if visit.missing_required():
            return ShowStep()  # the review screen shows what is missing
        need = self._consent_need(open_visit.id)
        if need is not None and not need.asks_consent:
            return self._keep_consent_on_file(open_visit, need)
        visit.renewal = need if need is not None and need.is_renewal else None
        visit.next()
        return ShowStep()

    def sign(self, open_visit: OpenVisit, signature: DrawnSignature) -> Outcome:
        """A drawn signature: the consent, its PDF and the summary are stored."""
        visit = open_visit.visit
        checkpoint = visit.checkpoint()
        try:
            signing = visit.sign(signature, self.clock())
        except VisitError:
            return Refused(Message("sign.trivial"))
        return self._store_signed(open_visit, signing, checkpoint)

    def sign_typed(
        self, open_visit: OpenVisit, typed_name: str, reason: str, staff_id: str, pin: str
    ) -> Outcome:
        """A typed name with a staff witness, who confirms with their id and PIN."""
        visit = open_visit.visit
        if not same_name(typed_name, visit.identity("name")):
            return Refused(Message("typed.name_differs"))
        if not reason:
            return Refused(Message("typed.no_reason"))
        check = self.check_staff(staff_id, pin, "staff.witness")
        if check.result is None:
            return Refused(check.refusal or Message("staff.wrong"))
        witness = Witness(check.result.staff_id, check.result.display_name, reason)
        checkpoint = visit.checkpoint()
        try:
            signing = visit.sign_typed(typed_name, witness, self.clock())
        except VisitError:
            return SaveFailed()
        return self._store_signed(open_visit, signing, checkpoint)

    def choose_paper(self, open_visit: OpenVisit) -> Outcome:
        """No electronic signature: the visit is closed as 'paper' and staff are flagged."""
        visit, visit_id = open_visit.visit, open_visit.id
        checkpoint = visit.checkpoint()
        visit.choose_paper()

        def write(session: Session) -> None:
            now = self.clock()
            repository.record_paper_choice(session, visit_id, consent=self.packet.consent, now=now)
            self._store_summary(
                session, open_visit, "Paper consent requested: not signed here", now
            )

        outcome = self._commit(
            open_visit, "the paper choice", checkpoint, write, "consent.paper_chosen"
        )
        if isinstance(outcome, ShowStep):
            log.info("a patient chose to sign on paper")
            return ShowStep(Message("paper.done"))
        return outcome

    def switch_language(self, open_visit: OpenVisit, language: str) -> Outcome:
        """The visit goes on in ``language`` (kept with the visit's record)."""
        try:
            with self.sessions.begin() as session:
                repository.set_language(session, open_visit.id, language)
        except SQLAlchemyError as exc:
            log.error("could not save the language: %s", type(exc).__name__)
            return SaveFailed()
        open_visit.visit.language = language
        return ShowStep()

    # --- storing ---

    def _commit(
        self,
        open_visit: OpenVisit,
        what: str,
        checkpoint: VisitState,
        write: Callable[[Session], None],
        action: str,
    ) -> ShowStep | SaveFailed:
        """Run ``write`` and its audit event ``action`` in one transaction. On failure put the
        visit back to ``checkpoint`` (a full disk or a read-only database included)."""
        try:
            with self.sessions.begin() as session:
                self._check_records(session, open_visit.id)
                write(session)
                self.audit(session, action, actor=PATIENT, subject=open_visit.id)
        except _STORAGE_ERRORS as exc:
            log.error("could not save %s: %s", what, type(exc).__name__)
            open_visit.visit.rollback(checkpoint)
            return SaveFailed()
        return ShowStep()

    def _consent_need(self, visit_id: str) -> ConsentNeed | None:
        """Whether this patient signs the consent today (their stored name and date of birth
        against earlier signed visits). None when that cannot be read: the consent is then
        asked as usual, which is never wrong."""
        try:
            with self.sessions.begin() as session:
                return reconsent.consent_need_for_visit(
                    session,
                    visit_id,
                    self.packet.consent,
                    self.clock(),
                    self.config.consent_validity_months,
                )
        except (SQLAlchemyError, repository.NotFoundError) as exc:
            log.error("could not look up an earlier consent: %s", type(exc).__name__)
            return None

    def _keep_consent_on_file(self, open_visit: OpenVisit, need: ConsentNeed) -> Outcome:
        """Close the visit without the consent steps: status, audit event and the clinician
        summary in one transaction; then the thank-you screen says the consent is current."""
        visit = open_visit.visit
        checkpoint = visit.checkpoint()
        visit.keep_consent_on_file(need)
        now = self.clock()
        label = need.staff_label()
        status = label[:1].upper() + label[1:]  # "Consent on file: version 2 signed 2026-01-05"

        def write(session: Session) -> None:
            reconsent.record_consent_on_file(session, open_visit.id, now=now)
            self._store_summary(session, open_visit, status, now)

        outcome = self._commit(
            open_visit, "the consent on file", checkpoint, write, "consent.still_current"
        )
        if isinstance(outcome, ShowStep):
            log.info("a returning patient's consent is still current: not asked again")
        return outcome

    def _store_summary(
        self, session: Session, open_visit: OpenVisit, consent_status: str, now: dt.datetime
    ) -> None:
        """The clinician summary (scores, bands, flags first, the answers that matter),
        sealed like the consent and stored in the same transaction as the patient's action."""
        visit, visit_id = open_visit.visit, open_visit.id
        record = repository.get_visit(session, visit_id)
        data = summary_data(
            self.packet,
            visit.answers,
            repository.load_scores(session, visit_id),
            repository.load_flags(session, visit_id),
            clinic_name=self.config.clinic_name,
            document_id=repository.document_number(visit_id),
            started_at=record.started_at.astimezone(now.tzinfo),
            language=visit.language,
            kiosk_id=self.config.kiosk_id,
            consent_status=consent_status,
        )
        pdf = self._sealed(render_summary_pdf(data))
        repository.store_document(
            session, visit_id, content=pdf, now=now, kind=repository.CLINICIAN_SUMMARY
        )

    def _store_signed(
        self, open_visit: OpenVisit, signing: Signing, checkpoint: VisitState
    ) -> Finished | SaveFailed:
        """The consent, its audit events and the PDF that prints the chain's head: one
        transaction. The PDF is rendered inside it, after the events, so the head it prints
        includes this signing."""
        visit, visit_id = open_visit.visit, open_visit.id
        now = signing.signed_at
        number = repository.document_number(visit_id)
        witness = signing.witness
        try:
            with self.sessions.begin() as session:
                self._check_records(session, visit_id)
                consent = repository.record_consent(
                    session,
                    visit_id,
                    consent=self.packet.consent,
                    language=visit.language,
                    signing=signing,
                    now=now,
                )
                head = self.audit(session, "consent.signed", actor=PATIENT, subject=visit_id)
                if witness is not None:
                    head = self.audit(
                        session,
                        "consent.witnessed",
                        actor=f"staff:{witness.staff_id}",
                        subject=visit_id,
                    )
                data = consent_pdf_data(
                    visit,
                    signing,
                    self.strings,
                    clinic_name=self.config.clinic_name,
                    document_id=number,
                    audit_head=str(head),
                )
                pdf = self._sealed(render_consent_pdf(data, self.strings))
                document = repository.store_document(
                    session, visit_id, content=pdf, now=now, consent_id=consent.id
                )
                sha256 = document.sha256
                status = f"Signed {format_time(signing.signed_at)} ({signing.method})"
                self._store_summary(session, open_visit, status, now)
                # The PDF prints the head of the signing event, so that event cannot cover the
                # PDF's own hash: this last event of the transaction seals the documents too.
                self.audit(session, "document.stored", actor=SYSTEM, subject=visit_id)
        except _STORAGE_ERRORS as exc:
            log.error("could not store the signed consent: %s", type(exc).__name__)
            visit.rollback(checkpoint)
            return SaveFailed()
        path = self._write_pdf(number, pdf)
        if self.config.output_dir is not None:  # a copy outside the database is on the record
            written = "document.copy_written" if path is not None else "document.copy_failed"
            self.record(written, actor=SYSTEM, subject=visit_id)
        return Finished(FinishedVisit(visit_id, number, sha256, path))

    def _sealed(self, pdf: bytes) -> bytes:
        """The clinic's PAdES seal over the whole PDF (no seal without certificates)."""
        if self.config.certificates is None:
            return pdf
        return seal_pdf(
            pdf,
            self.config.certificates,
            reason="Patient's informed consent, signed at the kiosk",
            location=f"{self.config.clinic_name}, kiosk {self.config.kiosk_id}",
        )

    def _write_pdf(self, number: str, pdf: bytes) -> Path | None:
        """A copy for staff to print; the database keeps the original. Named by number only,
        private (0600 in a 0700 folder) and whole or absent: a full disk leaves no truncated
        copy, and an earlier copy stays as it was. None when there is no copy."""
        if self.config.output_dir is None:
            return None
        try:
            private_folder(self.config.output_dir)
            path = self.config.output_dir / f"{number}.pdf"
            write_private_file(path, pdf)
        except OSError as exc:
            log.error("could not write the consent PDF copy: %s", type(exc).__name__)
            return None
        return path
