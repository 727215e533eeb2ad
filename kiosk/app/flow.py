"""Visit ↔ screens ↔ repository/documents. One patient action, one transaction.

The flow owns the patient's :class:`~kiosk.domain.visit.Visit`, builds a fresh screen for each
step (nothing of one screen survives into the next), and commits what each action changed. If a
save fails, the visit is rolled back to before the action and the patient keeps their answers on
screen with a kind message.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from kiosk.app.clock import Clock, local_now
from kiosk.documents.consent_pdf import (
    ConsentPdfData,
    attestation_rows,
    comprehension_rows,
    reading_rows,
    render_consent_pdf,
)
from kiosk.documents.seal import Certificates, SealError, seal_pdf
from kiosk.documents.summary_pdf import format_time, render_summary_pdf, summary_data
from kiosk.domain.answers import AnswerProblem
from kiosk.domain.model import Packet
from kiosk.domain.reconsent import DEFAULT_VALIDITY_MONTHS, ConsentNeed, NeedKind
from kiosk.domain.scoring import ScoreReport
from kiosk.domain.signature import DrawnSignature
from kiosk.domain.strings import Strings
from kiosk.domain.visit import (
    AttestationsSaved,
    Checkpoint,
    PageSaved,
    Signing,
    StepKind,
    Visit,
    VisitError,
    Witness,
    same_name,
)
from kiosk.storage import audit as audit_chain
from kiosk.storage import reconsent, repository, staff
from kiosk.storage.health import save_anchor
from kiosk.storage.staff import PinCheck, PinResult
from kiosk.ui.format import answer_text
from kiosk.ui.privacy import close_everything_else, wipe_widgets
from kiosk.ui.screens.base import Screen
from kiosk.ui.screens.consent import (
    PaperScreen,
    SectionScreen,
    SignatureScreen,
    TypedSignatureScreen,
    attestation_screen,
    quiz_screen,
)
from kiosk.ui.screens.done import DoneScreen
from kiosk.ui.screens.question import QuestionScreen
from kiosk.ui.screens.review import ReviewScreen, review_entries
from kiosk.ui.screens.start import LanguageScreen, WelcomeScreen
from kiosk.ui.speech import Reader
from kiosk.ui.texts import Texts

log = logging.getLogger(__name__)
# Log lines name what failed and the exception's type only: messages can carry patient data.

@dataclass(frozen=True)
class FlowConfig:
    """What the flow needs from the settings."""

    clinic_name: str
    kiosk_id: str
    done_seconds: int
    output_dir: Path | None  # consent PDFs are also written here as KC-XXXXXXXX.pdf
    anchor_file: Path | None = None  # where the newest audit head is kept (storage.health)
    certificates: Certificates | None = None  # the clinic's seal; None leaves PDFs unsealed
    consent_validity_months: int = DEFAULT_VALIDITY_MONTHS  # then a returning patient re-signs


@dataclass(frozen=True)
class FinishedVisit:
    """What a finished visit left behind (for the demo and for tests)."""

    visit_id: str
    document_number: str
    pdf_sha256: str
    pdf_path: Path | None


class VisitFlow(QObject):
    """Drives one kiosk: Welcome → language → pages → review → consent → signature → done."""

    screen_changed = Signal(QWidget)
    display_requested = Signal()  # the patient tapped "Aa" (text size and colours)
    visit_finished = Signal(object)  # FinishedVisit

    def __init__(
        self,
        packet: Packet,
        strings: Strings,
        sessions: sessionmaker[Session],
        config: FlowConfig,
        clock: Clock = local_now,
        *,
        reader: Reader | None = None,
    ) -> None:
        super().__init__()
        self.reader = reader
        self.packet = packet
        self.strings = strings
        self.sessions = sessions
        self.config = config
        self.clock = clock
        self.visit: Visit | None = None
        self.visit_id: str | None = None
        self.screen: QWidget | None = None
        self._pending_notice = ""  # a calm note for the next screen (e.g. after a quiz miss)

    # --- plumbing ---

    @property
    def texts(self) -> Texts:
        return Texts(self.strings, self.visit.language if self.visit else "en")

    def _show(self, screen: QWidget) -> None:
        if self.reader is not None:
            self.reader.stop()  # nothing goes on reading over the next screen
        self.screen = screen
        self.screen_changed.emit(screen)

    def _require_visit(self) -> tuple[Visit, str]:
        if self.visit is None or self.visit_id is None:
            raise VisitError("no visit in progress")
        return self.visit, self.visit_id

    # --- audit ---

    def record(self, action: str, *, actor: str = "system", subject: str = "") -> None:
        """An audit event on its own (identifiers only). A failure is logged, never raised:
        the kiosk must still wipe, close or carry on."""
        repository.record_event(
            self.sessions,
            actor=actor or "patient",
            device=self.config.kiosk_id,
            action=action,
            subject=subject,
            now=self.clock(),
        )

    def audit(
        self, session: Session, action: str, *, actor: str = "", subject: str = ""
    ) -> audit_chain.Head:
        """Add an audit event to the caller's transaction; returns the chain's new head."""
        return repository.audit(
            session,
            actor=actor or "patient",
            device=self.config.kiosk_id,
            action=action,
            subject=subject,
            now=self.clock(),
        )

    def check_staff(self, staff_id: str, pin: str, action: str) -> tuple[PinResult | None, str]:
        """Check a staff id and PIN (through the persistent lockout) and audit it as ``action``
        ("staff.login", "staff.witness"), or its _failed / _disabled form, or staff.lockout.

        Returns:
            The result when the PIN is right, else None and the kind message to show.
        """
        now = self.clock()
        try:
            with self.sessions.begin() as session:
                result = staff.check_pin_audited(
                    session, staff_id, pin, action=action, device=self.config.kiosk_id, now=now
                )
        except SQLAlchemyError as exc:
            log.error("a staff PIN could not be checked: %s", type(exc).__name__)
            return None, self.texts("errors.save_failed")
        log.info("%s: %s (%s)", action, result.staff_id or "unknown id", result.check)
        texts = self.texts
        if result.check is PinCheck.OK:
            return result, ""
        if result.check is PinCheck.LOCKED and result.locked_until is not None:
            until = result.locked_until.astimezone(now.tzinfo).strftime("%H:%M")
            return None, texts("staff.locked", time=until)
        if result.check is PinCheck.DISABLED:
            return None, texts("staff.disabled")
        return None, texts("staff.wrong")

    # --- steps ---

    def wipe(self) -> None:
        """Inactivity: empty the screen, close everything else, forget the visit, show Welcome.

        The draft stays in the database for staff to resume; nothing stays on the tablet.
        """
        screen = self.screen
        if screen is not None:
            wipe_widgets(screen)
            close_everything_else(keep=screen.window())
        if self.visit is not None:
            log.info("a visit was wiped from the screen; its draft is kept for staff")
            self.record("visit.wiped", actor="system", subject=self.visit_id or "")
        self.show_welcome()

    def show_welcome(self) -> None:
        """Forget the visit and show Welcome (the draft stays in the database)."""
        self.visit = None
        self.visit_id = None
        welcome = WelcomeScreen(self.strings, self.config.clinic_name)
        welcome.started.connect(self.show_language)
        self._show(welcome)

    def show_language(self) -> None:
        screen = LanguageScreen(self.strings)
        screen.language_chosen.connect(self.start_visit)
        self._show(screen)

    def start_visit(self, language: str) -> None:
        """Create the visit (a draft row) and show its first page."""
        now = self.clock()
        try:
            with self.sessions.begin() as session:
                visit_id = repository.start_visit(
                    session,
                    packet=self.packet,
                    language=language,
                    kiosk_id=self.config.kiosk_id,
                    now=now,
                )
                self.audit(session, "visit.started", subject=visit_id)
        except SQLAlchemyError as exc:
            log.error("could not start a visit: %s", type(exc).__name__)
            self.show_welcome()
            return
        self.visit = Visit(self.packet, language)
        self.visit_id = visit_id
        self.show_step()

    def resume(self, visit_id: str, resumed_by: str = "") -> bool:
        """Staff resume an interrupted visit on this tablet. Returns False if it cannot be."""
        try:
            with self.sessions.begin() as session:
                record = repository.get_visit(session, visit_id)
                if record.status != "draft":
                    return False
                language = record.language
                answers = repository.load_answers(session, visit_id)
        except (SQLAlchemyError, repository.NotFoundError) as exc:
            log.error("could not resume a visit: %s", type(exc).__name__)
            return False
        visit = Visit(self.packet, language, answers=dict(answers))
        visit.resume()
        self.visit = visit
        self.visit_id = visit_id
        log.info("a draft visit was resumed by staff")
        self.record("visit.resumed", actor=f"staff:{resumed_by}", subject=visit_id)
        self.show_step()
        return True

    def show_step(self) -> None:
        """Build the screen for the visit's current step."""
        visit, _ = self._require_visit()
        step = visit.current
        texts = self.texts
        progress = visit.progress
        match step.kind:
            case StepKind.PAGE:
                page = visit.page()
                question = QuestionScreen(
                    page,
                    visit.items_on(page),
                    visit.answers,
                    texts,
                    progress=progress,
                    can_go_back=True,
                    heading=texts.local(visit.form(step.form_id).title),
                    editing_from_review=visit.editing_from_review,
                )
                question.submitted.connect(self._page_submitted)
                question.back_requested.connect(self._back)
                screen: QWidget = question
            case StepKind.REVIEW:
                screen = ReviewScreen(review_entries(visit, texts), texts, progress=progress)
                screen.confirmed.connect(self._review_confirmed)
                screen.change_requested.connect(self._change)
                screen.back_requested.connect(self._back)
            case StepKind.SECTION | StepKind.RETEACH:
                sections = self.packet.consent.sections
                key = visit.quiz_question().section if step.kind is StepKind.RETEACH else step.key
                index = next(i for i, s in enumerate(sections) if s.id == key)
                screen = SectionScreen(
                    sections[index],
                    texts,
                    progress=progress,
                    part=(index + 1, len(sections)),
                    heading=texts.local(self.packet.consent.title),
                    primary=texts("quiz.try_again") if step.kind is StepKind.RETEACH else "",
                    reader=self.reader,
                )
                if step.kind is StepKind.RETEACH:
                    screen.show_notice(texts("quiz.reteach"))
                elif index == 0 and visit.renewal is not None:
                    screen.show_notice(self._renewal_notice(visit.renewal))
                screen.read.connect(lambda s=screen: self._section_left(s, forward=True))
                screen.back_requested.connect(lambda s=screen: self._section_left(s, forward=False))
            case StepKind.QUIZ:
                screen = self._quiz_screen(visit, texts, progress)
            case StepKind.ATTEST:
                attest = attestation_screen(
                    self.packet.consent, visit.attestations, texts, progress=progress
                )
                attest.submitted.connect(self._attested)
                attest.back_requested.connect(self._back)
                screen = attest
            case StepKind.SIGN:
                screen = SignatureScreen(
                    self.packet.consent.statement.get(visit.language),
                    visit.identity("name"),
                    texts,
                    progress=progress,
                )
                screen.signed.connect(self._signed)
                screen.back_requested.connect(self._back)
                screen.typed_requested.connect(self.show_typed_signature)
                screen.paper_requested.connect(self.show_paper)
            case StepKind.DONE:
                note = texts("paper.done") if visit.paper else ""
                if visit.on_file is not None:
                    # No date: whoever types a name and a date of birth would learn when that
                    # person signed here. Staff see the date in the console.
                    note = texts("done.consent_on_file")
                screen = DoneScreen(texts, self.config.done_seconds, note)
                screen.finished.connect(self.show_welcome)
        if self._pending_notice:
            if isinstance(screen, Screen):
                screen.show_notice(self._pending_notice)
            self._pending_notice = ""
        if isinstance(screen, Screen):
            screen.language_button.clicked.connect(self.switch_language)
            screen.display_button.clicked.connect(self.display_requested)
        self._show(screen)

    def _quiz_screen(self, visit: Visit, texts: Texts, progress: tuple[int, int]) -> Screen:
        question = visit.quiz_question()
        quiz = self.packet.consent.quiz
        questions = quiz.questions if quiz else ()
        number = next(i for i, q in enumerate(questions) if q.id == question.id) + 1
        screen = quiz_screen(question, (number, len(questions)), texts, progress=progress)
        screen.submitted.connect(self._quiz_answered)
        screen.back_requested.connect(self._back)
        return screen

    # --- actions ---

    def _quiz_answered(self, raw: dict[str, object]) -> None:
        visit, visit_id = self._require_visit()
        screen = self.screen
        checkpoint = visit.checkpoint()
        question = visit.quiz_question()
        answered = visit.answer_quiz(raw.get(question.id))
        if answered is None:
            if isinstance(screen, QuestionScreen):
                screen.show_problems({question.id: AnswerProblem.REQUIRED})
            return
        saved = self._commit(
            "a quiz answer",
            checkpoint,
            lambda session: repository.record_quiz_attempt(
                session,
                visit_id,
                consent=self.packet.consent,
                attempt=answered.attempt,
                raised=answered.raised,
                now=self.clock(),
            ),
            "consent.quiz_answered",
        )
        if not saved:
            return
        if not answered.attempt.correct and visit.current.kind is not StepKind.RETEACH:
            self._pending_notice = self.texts("quiz.discuss")
        self.show_step()

    def _attested(self, raw: dict[str, object]) -> None:
        visit, visit_id = self._require_visit()
        screen = self.screen
        checkpoint = visit.checkpoint()
        result = visit.submit_attestations(raw, self.clock().date())
        if not isinstance(result, AttestationsSaved):
            if isinstance(screen, QuestionScreen):
                screen.show_problems(result)
            return
        saved = self._commit(
            "the attestations",
            checkpoint,
            lambda session: repository.set_consent_flags(
                session,
                visit_id,
                consent=self.packet.consent,
                flags=result.flags,
                now=self.clock(),
            ),
            "consent.attested",
        )
        if saved:
            self.show_step()

    def _commit(
        self,
        what: str,
        checkpoint: Checkpoint,
        write: Callable[[Session], None],
        action: str = "",
    ) -> bool:
        """Run ``write`` and its audit event ``action`` in one transaction. On failure undo the
        visit's step, keep the screen and its answers, and tell the patient kindly (a full disk or
        a read-only database included). Returns whether it was saved."""
        _, visit_id = self._require_visit()
        try:
            with self.sessions.begin() as session:
                write(session)
                if action:
                    self.audit(session, action, subject=visit_id)
        except (SQLAlchemyError, SealError, OSError, ValueError) as exc:
            log.error("could not save %s: %s", what, type(exc).__name__)
            self._require_visit()[0].rollback(checkpoint)
            if isinstance(self.screen, Screen):
                self.screen.show_message(self.texts("errors.save_failed"))
            return False
        return True

    def _page_submitted(self, raw: dict[str, object]) -> None:
        visit, visit_id = self._require_visit()
        screen = self.screen
        checkpoint = visit.checkpoint()
        result = visit.submit_page(raw, self.clock().date())
        if not isinstance(result, PageSaved):
            if isinstance(screen, QuestionScreen):
                screen.show_problems(result)
            return
        now = self.clock()
        reports: list[ScoreReport] = visit.scores()

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
            repository.save_scores(session, visit_id, reports, now)

        if self._commit("a page", checkpoint, write, "visit.page_saved"):
            self.show_step()

    def _back(self) -> None:
        visit, _ = self._require_visit()
        if visit.back():
            self.show_step()

    def switch_language(self) -> None:
        """Show the same step in the other language, keeping what is on screen unsaved too."""
        visit, visit_id = self._require_visit()
        old = self.screen
        language = "es" if visit.language == "en" else "en"
        try:
            with self.sessions.begin() as session:
                repository.set_language(session, visit_id, language)
        except SQLAlchemyError as exc:
            log.error("could not save the language: %s", type(exc).__name__)
            if isinstance(old, Screen):
                old.show_message(self.texts("errors.save_failed"))
            return
        visit.language = language
        self.show_step()
        new = self.screen
        if isinstance(old, QuestionScreen) and isinstance(new, QuestionScreen):
            for item_id, value in old.values().items():
                widget = new.widgets.get(item_id)
                if widget is not None:
                    widget.set_raw(value)
        if isinstance(old, SignatureScreen) and isinstance(new, SignatureScreen):
            for stroke in old.pad.strokes():
                new.pad.add_stroke(stroke)

    def _section_left(self, screen: SectionScreen, *, forward: bool) -> None:
        """Keep how long the section was shown and whether it was read to the end, then move."""
        visit, _ = self._require_visit()
        visit.record_reading(screen.seconds_shown(), screen.reached_end())
        if forward:
            self._next()
        else:
            self._back()

    def _next(self) -> None:
        visit, _ = self._require_visit()
        visit.next()
        self.show_step()

    def _review_confirmed(self) -> None:
        """The intake is certified: a returning patient whose consent is still current is done;
        one whose consent is due again is told so on the first consent section."""
        visit, _ = self._require_visit()
        if visit.missing_required():
            self.show_step()  # the review screen shows what is missing
            return
        need = self._consent_need()
        if need is not None and not need.asks_consent:
            self._keep_consent_on_file(need)
            return
        visit.renewal = need if need is not None and need.is_renewal else None
        self._next()

    def _consent_need(self) -> ConsentNeed | None:
        """Whether this patient signs the consent today (their stored name and date of birth
        against earlier signed visits). None when that cannot be read: the consent is then
        asked as usual, which is never wrong."""
        _, visit_id = self._require_visit()
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

    def _keep_consent_on_file(self, need: ConsentNeed) -> None:
        """Close the visit without the consent steps: status, audit event and the clinician
        summary in one transaction; then the thank-you screen says the consent is current."""
        visit, visit_id = self._require_visit()
        checkpoint = visit.checkpoint()
        visit.keep_consent_on_file(need)
        now = self.clock()
        label = need.staff_label()
        status = label[:1].upper() + label[1:]  # "Consent on file: version 2 signed 2026-01-05"

        def write(session: Session) -> None:
            reconsent.record_consent_on_file(session, visit_id, now=now)
            self._store_summary(session, visit_id, status, now)

        if self._commit("the consent on file", checkpoint, write, "consent.still_current"):
            log.info("a returning patient's consent is still current: not asked again")
            self.show_step()

    def _renewal_notice(self, need: ConsentNeed) -> str:
        """Why a returning patient reads and signs the consent again."""
        if need.kind is NeedKind.RENEW_VERSION:
            return self.texts("section.consent_changed")
        return self.texts("section.consent_due", months=need.validity_months)

    def _change(self, page_id: str) -> None:
        visit, _ = self._require_visit()
        visit.edit(page_id)
        self.show_step()

    def _signed(self, signature: DrawnSignature) -> None:
        visit, _ = self._require_visit()
        checkpoint = visit.checkpoint()
        try:
            signing = visit.sign(signature, self.clock())
        except VisitError:
            if isinstance(self.screen, SignatureScreen):
                self.screen.error.setVisible(True)
            return
        self._store_signed(signing, checkpoint)

    def sign_typed(self, typed_name: str, witness: Witness) -> bool:
        """A typed name with a staff witness (already signed in with id and PIN)."""
        visit, _ = self._require_visit()
        checkpoint = visit.checkpoint()
        try:
            signing = visit.sign_typed(typed_name, witness, self.clock())
        except VisitError:
            return False
        self._store_signed(signing, checkpoint)
        return True

    def show_typed_signature(self) -> None:
        """The typed-name-with-witness screen (the visit stays at its signing step)."""
        visit, _ = self._require_visit()
        screen = TypedSignatureScreen(
            self.packet.consent.statement.get(visit.language),
            self.texts,
            progress=visit.progress,
        )
        screen.submitted.connect(self._typed_submitted)
        screen.back_requested.connect(self.show_step)
        screen.language_button.clicked.connect(self.switch_language)
        self._show(screen)

    def show_paper(self) -> None:
        visit, _ = self._require_visit()
        screen = PaperScreen(self.texts, progress=visit.progress)
        screen.confirmed.connect(self.choose_paper)
        screen.back_requested.connect(self.show_step)
        screen.language_button.clicked.connect(self.switch_language)
        self._show(screen)

    def _typed_submitted(self, typed_name: str, reason: str, staff_id: str, pin: str) -> None:
        visit, _ = self._require_visit()
        screen = self.screen
        if not isinstance(screen, TypedSignatureScreen):
            return
        texts = self.texts
        if not same_name(typed_name, visit.identity("name")):
            screen.refuse(texts("typed.name_differs"))
            return
        if not reason:
            screen.refuse(texts("typed.no_reason"))
            return
        result, refusal = self.check_staff(staff_id, pin, "staff.witness")
        if result is None:
            screen.refuse(refusal)
            return
        witness = Witness(result.staff_id, result.display_name, reason)
        if not self.sign_typed(typed_name, witness):
            screen.refuse(texts("errors.save_failed"))

    def choose_paper(self) -> None:
        """No electronic signature: the visit is closed as 'paper' and staff are flagged."""
        visit, visit_id = self._require_visit()
        checkpoint = visit.checkpoint()
        visit.choose_paper()
        saved = self._commit(
            "the paper choice",
            checkpoint,
            lambda session: self._paper_chosen(session, visit_id),
        )
        if saved:
            log.info("a patient chose to sign on paper")
            self._pending_notice = self.texts("paper.done")
            self.show_step()

    def _paper_chosen(self, session: Session, visit_id: str) -> None:
        now = self.clock()
        repository.record_paper_choice(session, visit_id, consent=self.packet.consent, now=now)
        self.audit(session, "consent.paper_chosen", subject=visit_id)
        self._store_summary(session, visit_id, "Paper consent requested: not signed here", now)

    def _store_summary(
        self, session: Session, visit_id: str, consent_status: str, now: dt.datetime
    ) -> None:
        """The clinician summary (scores, bands, flags first, the answers that matter),
        sealed like the consent and stored in the same transaction as the patient's action."""
        visit, _ = self._require_visit()
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

    def _store_signed(self, signing: Signing, checkpoint: Checkpoint) -> None:
        """The consent, its audit events and the PDF that prints the chain's head: one
        transaction. The PDF is rendered inside it, after the events, so the head it prints
        includes this signing."""
        visit, visit_id = self._require_visit()
        screen = self.screen
        now = signing.signed_at
        number = repository.document_number(visit_id)
        witness = signing.witness
        try:
            with self.sessions.begin() as session:
                consent = repository.record_consent(
                    session,
                    visit_id,
                    consent=self.packet.consent,
                    language=visit.language,
                    signing=signing,
                    now=now,
                )
                head = self.audit(session, "consent.signed", subject=visit_id)
                if witness is not None:
                    head = self.audit(
                        session,
                        "consent.witnessed",
                        actor=f"staff:{witness.staff_id}",
                        subject=visit_id,
                    )
                pdf = self._sealed(self._render_pdf(signing, number, head))
                document = repository.store_document(
                    session, visit_id, content=pdf, now=now, consent_id=consent.id
                )
                sha256 = document.sha256
                status = f"Signed {format_time(signing.signed_at)} ({signing.method})"
                self._store_summary(session, visit_id, status, now)
        except (SQLAlchemyError, ValueError, OSError, SealError) as exc:
            log.error("could not store the signed consent: %s", type(exc).__name__)
            visit.rollback(checkpoint)
            if isinstance(screen, Screen):
                screen.show_message(self.texts("errors.save_failed"))
            return
        self._remember_head(head)
        path = self._write_pdf(number, pdf)
        if path is not None:  # a copy outside the database is an export: it is on the record
            self.record("document.copy_written", actor="system", subject=visit_id)
        self.show_step()
        self.visit_finished.emit(FinishedVisit(visit_id, number, sha256, path))

    def _render_pdf(self, signing: Signing, number: str, head: audit_chain.Head) -> bytes:
        visit, _ = self._require_visit()
        witness = signing.witness
        return render_consent_pdf(
            ConsentPdfData(
                clinic_name=self.config.clinic_name,
                language=visit.language,
                consent=self.packet.consent,
                document_id=number,
                patient_name=visit.identity("name"),
                birth_date=visit.identity("birth_date"),
                signer_name=signing.signer_name,
                signed_at=signing.signed_at,
                signature_png=signing.signature.png if signing.signature else None,
                text_sha256=signing.text_sha256,
                statement=signing.statement,
                meaning=signing.meaning,
                comprehension=comprehension_rows(
                    self.packet.consent, signing.comprehension, visit.language, self.strings
                ),
                attestations=attestation_rows(
                    self.packet.consent, signing.attestations, visit.language, self.strings
                ),
                reading=reading_rows(
                    self.packet.consent, signing.reading, visit.language, self.strings
                ),
                summary=self._consent_answers(),
                typed_name=signing.typed_name,
                witness_name=f"{witness.name} ({witness.staff_id})" if witness else "",
                witness_reason=witness.reason if witness else "",
                audit_head=str(head),
            ),
            self.strings,
        )

    def _consent_answers(self) -> tuple[tuple[str, str], ...]:
        """The answers that matter to consent (the packet's ``consent_answers``), as the
        patient saw them, for the consent PDF. Questions that were never asked are left out."""
        visit, _ = self._require_visit()
        texts = self.texts
        rows = []
        for item_id in self.packet.consent_answers:
            if item_id not in visit.answers:
                continue
            page = next(
                page
                for form in self.packet.forms
                for page in form.pages
                if any(i.id == item_id for i in page.items)
            )
            item = next(i for i in page.items if i.id == item_id)
            question = texts.local(item.text)
            if page.title:  # "Their full name" and the checklists need their page's context
                question = f"{texts.local(page.title)} — {question}"
            rows.append((question, answer_text(item, visit.answers[item_id], texts)))
        return tuple(rows)

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

    def _remember_head(self, head: audit_chain.Head) -> None:
        """Keep the newest head beside the data too: the next start-up check then notices
        events removed from the end of the trail."""
        if self.config.anchor_file is None:
            return
        try:
            save_anchor(self.config.anchor_file, head)
        except OSError as exc:
            log.error("could not keep the audit head: %s", type(exc).__name__)

    def _write_pdf(self, number: str, pdf: bytes) -> Path | None:
        """A copy for staff to print; the database keeps the original. Named by number only."""
        if self.config.output_dir is None:
            return None
        try:
            self.config.output_dir.mkdir(parents=True, exist_ok=True)
            path = self.config.output_dir / f"{number}.pdf"
            path.write_bytes(pdf)
        except OSError as exc:
            log.error("could not write the consent PDF copy: %s", type(exc).__name__)
            return None
        return path
