"""The kiosk's navigator: a screen for each step of the visit, the patient's taps to the service.

The navigator builds a fresh screen for each step (nothing of one screen survives into the next),
connects its signals to :class:`~kiosk.app.service.VisitService`, and shows what each action's
outcome calls for: the next step, the problems on this page, or a kind message when a save
failed (the service has then put the visit back, and the patient's answers stay on screen).
Transactions, audit events, scores, flags and documents are the service's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import assert_never

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget
from sqlalchemy.orm import Session, sessionmaker

from kiosk.app.clock import Clock, local_now
from kiosk.app.service import (
    SYSTEM,
    Finished,
    Invalid,
    Message,
    Notify,
    OpenVisit,
    Outcome,
    Refused,
    SaveFailed,
    ShowStep,
    VisitConfig,
    VisitService,
)
from kiosk.config import DEFAULT_CRISIS_LINE
from kiosk.domain.model import LANGUAGES, Packet
from kiosk.domain.reconsent import ConsentNeed, NeedKind
from kiosk.domain.signature import DrawnSignature
from kiosk.domain.strings import Strings
from kiosk.domain.visit import StepKind, Visit, VisitError
from kiosk.storage.staff import PinResult
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
from kiosk.ui.screens.notice import NoticeScreen
from kiosk.ui.screens.question import QuestionScreen
from kiosk.ui.screens.review import ReviewScreen, review_entries
from kiosk.ui.screens.start import LanguageScreen, WelcomeScreen
from kiosk.ui.speech import Reader
from kiosk.ui.texts import Texts

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class FlowConfig(VisitConfig):
    """The service's settings and the navigator's own."""

    done_seconds: int  # the thank-you screen's countdown back to Welcome
    crisis_line: str = DEFAULT_CRISIS_LINE  # {crisis_line} on the patient notices


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
        self.service = VisitService(packet, strings, sessions, config, clock)
        self.reader = reader
        self.config = config
        self.open: OpenVisit | None = None
        self.screen: QWidget | None = None
        self._pending_notice = ""  # a calm note for the next screen (e.g. after a quiz miss)
        self._notices: tuple[str, ...] = ()  # notice screens to show before the next step

    # --- plumbing ---

    @property
    def packet(self) -> Packet:
        return self.service.packet

    @property
    def strings(self) -> Strings:
        return self.service.strings

    @property
    def sessions(self) -> sessionmaker[Session]:
        return self.service.sessions

    @property
    def visit(self) -> Visit | None:
        """The visit on screen, if any."""
        return self.open.visit if self.open else None

    @property
    def visit_id(self) -> str | None:
        return self.open.id if self.open else None

    @property
    def texts(self) -> Texts:
        return Texts(self.strings, self.visit.language if self.visit else "en")

    def say(self, message: Message) -> str:
        """A service's message in the patient's language."""
        return self.texts(message.key, **message.values)

    def _show(self, screen: QWidget) -> None:
        if self.reader is not None:
            self.reader.stop()  # nothing goes on reading over the next screen
        self.screen = screen
        self.screen_changed.emit(screen)

    def _require_open(self) -> OpenVisit:
        if self.open is None:
            raise VisitError("no visit in progress")
        return self.open

    def _require_visit(self) -> Visit:
        return self._require_open().visit

    def record(self, action: str, *, actor: str = SYSTEM, subject: str = "") -> None:
        """An audit event of the kiosk's own (start-up, a refused close, a staff exit). A
        failure is logged, never raised: the kiosk must still wipe, close or carry on."""
        self.service.record(action, actor=actor, subject=subject)

    def check_staff(self, staff_id: str, pin: str, action: str) -> tuple[PinResult | None, str]:
        """Check a staff id and PIN and audit it (see ``VisitService.check_staff``).

        Returns:
            The result when the PIN is right, else None and the kind message to show.
        """
        check = self.service.check_staff(staff_id, pin, action)
        return check.result, self.say(check.refusal) if check.refusal else ""

    # --- outcomes ---

    def _follow(self, outcome: Outcome) -> None:
        """Show what a patient's action came to."""
        screen = self.screen
        match outcome:
            case ShowStep(notice):
                if notice is not None:
                    self._pending_notice = self.say(notice)
                self.show_step()
            case Notify(notices):
                self._notices = notices
                self.show_step()
            case Invalid(problems):
                if isinstance(screen, QuestionScreen):
                    screen.show_problems(problems)
            case Refused(message):
                if isinstance(screen, TypedSignatureScreen):
                    screen.refuse(self.say(message))
                elif isinstance(screen, SignatureScreen):
                    screen.error.setVisible(True)
                elif isinstance(screen, Screen):
                    screen.show_message(self.say(message))
            case SaveFailed(message):
                if isinstance(screen, TypedSignatureScreen):
                    screen.refuse(self.say(message))
                elif isinstance(screen, Screen):
                    screen.show_message(self.say(message))
            case Finished(finished):
                self.show_step()
                self.visit_finished.emit(finished)
            case _ as unreachable:
                assert_never(unreachable)

    # --- steps ---

    def wipe(self) -> None:
        """Inactivity: empty the screen, close everything else, forget the visit, show Welcome.

        The draft stays in the database for staff to resume; nothing stays on the tablet.
        """
        screen = self.screen
        if screen is not None:
            wipe_widgets(screen)
            close_everything_else(keep=screen.window())
        if self.open is not None:
            log.info("a visit was wiped from the screen; its draft is kept for staff")
            self.record("visit.wiped", actor=SYSTEM, subject=self.open.id)
        self.show_welcome()

    def show_welcome(self) -> None:
        """Forget the visit and show Welcome (the draft stays in the database)."""
        self.open = None
        self._notices = ()
        welcome = WelcomeScreen(self.strings, self.config.clinic_name)
        welcome.started.connect(self.show_language)
        self._show(welcome)

    def show_language(self) -> None:
        screen = LanguageScreen(self.strings)
        screen.language_chosen.connect(self.start_visit)
        self._show(screen)

    def start_visit(self, language: str) -> None:
        """Create the visit (a draft row) and show its first page."""
        self.open = self.service.start(language)
        self._notices = ()
        if self.open is None:
            self.show_welcome()
            return
        self.show_step()

    def resume(self, visit_id: str, resumed_by: str = "") -> bool:
        """Staff resume an interrupted visit on this tablet. Returns False if it cannot be."""
        opened = self.service.resume(visit_id, resumed_by)
        if opened is None:
            return False
        self.open = opened
        self._notices = ()
        self.show_step()
        return True

    def show_step(self) -> None:
        """Build the screen for the visit's current step (after any notice still to show)."""
        visit = self._require_visit()
        if self._notices:
            self._show_notice(visit, self._notices[0])
            return
        step = visit.current
        texts = self.texts
        progress = visit.progress
        screen: QWidget
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
                screen = question
            case StepKind.REVIEW:
                review = ReviewScreen(review_entries(visit, texts), texts, progress=progress)
                review.confirmed.connect(self._review_confirmed)
                review.change_requested.connect(self._change)
                review.back_requested.connect(self._back)
                screen = review
            case StepKind.SECTION | StepKind.RETEACH:
                screen = self._section_screen(visit, texts, progress)
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
                sign = SignatureScreen(
                    self.packet.consent.statement.get(visit.language),
                    visit.identity("name"),
                    texts,
                    progress=progress,
                )
                sign.signed.connect(self._signed)
                sign.back_requested.connect(self._back)
                sign.typed_requested.connect(self.show_typed_signature)
                sign.paper_requested.connect(self.show_paper)
                screen = sign
            case StepKind.DONE:
                note = texts("paper.done") if visit.paper else ""
                if visit.on_file is not None:
                    # No date: whoever types a name and a date of birth would learn when that
                    # person signed here. Staff see the date in the console.
                    note = texts("done.consent_on_file")
                done = DoneScreen(texts, self.config.done_seconds, note)
                done.finished.connect(self.show_welcome)
                screen = done
            case _ as unreachable:
                assert_never(unreachable)
        if self._pending_notice:
            if isinstance(screen, Screen):
                screen.show_notice(self._pending_notice)
            self._pending_notice = ""
        if isinstance(screen, Screen):
            screen.language_button.clicked.connect(self.switch_language)
            screen.display_button.clicked.connect(self.display_requested)
        self._show(screen)

    def _show_notice(self, visit: Visit, name: str) -> None:
        """A calm notice after a saved page (see :class:`~kiosk.app.service.Notify`). Continue
        goes on to the next notice or the step; a language switch shows it again, translated."""
        screen = NoticeScreen(
            name, self.texts, {"crisis_line": self.config.crisis_line}, progress=visit.progress
        )
        screen.continued.connect(self._notice_read)
        screen.language_button.clicked.connect(self.switch_language)
        screen.display_button.clicked.connect(self.display_requested)
        self._show(screen)

    def _notice_read(self) -> None:
        self._notices = self._notices[1:]
        self.show_step()

    def _section_screen(self, visit: Visit, texts: Texts, progress: tuple[int, int]) -> Screen:
        """A consent section, or its re-teach after a wrong answer to its question."""
        step = visit.current
        reteach = step.kind is StepKind.RETEACH
        sections = self.packet.consent.sections
        key = visit.quiz_question().section if reteach else step.key
        index = next(i for i, s in enumerate(sections) if s.id == key)
        screen = SectionScreen(
            sections[index],
            texts,
            progress=progress,
            part=(index + 1, len(sections)),
            heading=texts.local(self.packet.consent.title),
            primary=texts("quiz.try_again") if reteach else "",
            reader=self.reader,
        )
        if reteach:
            screen.show_notice(texts("quiz.reteach"))
        elif index == 0 and visit.renewal is not None:
            screen.show_notice(self._renewal_notice(visit.renewal))
        screen.read.connect(lambda s=screen: self._section_left(s, forward=True))
        screen.back_requested.connect(lambda s=screen: self._section_left(s, forward=False))
        return screen

    def _quiz_screen(self, visit: Visit, texts: Texts, progress: tuple[int, int]) -> Screen:
        question = visit.quiz_question()
        quiz = self.packet.consent.quiz
        questions = quiz.questions if quiz else ()
        number = next(i for i, q in enumerate(questions) if q.id == question.id) + 1
        screen = quiz_screen(question, (number, len(questions)), texts, progress=progress)
        screen.submitted.connect(self._quiz_answered)
        screen.back_requested.connect(self._back)
        return screen

    def _renewal_notice(self, need: ConsentNeed) -> str:
        """Why a returning patient reads and signs the consent again."""
        if need.kind is NeedKind.RENEW_VERSION:
            return self.texts("section.consent_changed")
        return self.texts("section.consent_due", months=need.validity_months)

    def show_typed_signature(self) -> None:
        """The typed-name-with-witness screen (the visit stays at its signing step)."""
        visit = self._require_visit()
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
        visit = self._require_visit()
        screen = PaperScreen(self.texts, progress=visit.progress)
        screen.confirmed.connect(self.choose_paper)
        screen.back_requested.connect(self.show_step)
        screen.language_button.clicked.connect(self.switch_language)
        self._show(screen)

    # --- the patient's actions: to the service, and its outcome on screen ---

    def _page_submitted(self, raw: dict[str, object]) -> None:
        self._follow(self.service.submit_page(self._require_open(), raw))

    def _quiz_answered(self, raw: dict[str, object]) -> None:
        self._follow(self.service.answer_quiz(self._require_open(), raw))

    def _attested(self, raw: dict[str, object]) -> None:
        self._follow(self.service.submit_attestations(self._require_open(), raw))

    def _review_confirmed(self) -> None:
        self._follow(self.service.confirm_review(self._require_open()))

    def _signed(self, signature: DrawnSignature) -> None:
        self._follow(self.service.sign(self._require_open(), signature))

    def _typed_submitted(self, typed_name: str, reason: str, staff_id: str, pin: str) -> None:
        if isinstance(self.screen, TypedSignatureScreen):
            outcome = self.service.sign_typed(
                self._require_open(), typed_name, reason, staff_id, pin
            )
            self._follow(outcome)

    def choose_paper(self) -> None:
        """No electronic signature: the visit is closed as 'paper' and staff are flagged."""
        self._follow(self.service.choose_paper(self._require_open()))

    def switch_language(self) -> None:
        """Show the same step in the next language, keeping what is on screen unsaved too."""
        open_visit = self._require_open()
        old = self.screen
        language = LANGUAGES[(LANGUAGES.index(open_visit.visit.language) + 1) % len(LANGUAGES)]
        outcome = self.service.switch_language(open_visit, language)
        self._follow(outcome)
        new = self.screen
        if not isinstance(outcome, ShowStep):
            return
        if isinstance(old, QuestionScreen) and isinstance(new, QuestionScreen):
            for item_id, value in old.values().items():
                widget = new.widgets.get(item_id)
                if widget is not None:
                    widget.set_raw(value)
        if isinstance(old, SignatureScreen) and isinstance(new, SignatureScreen):
            for stroke in old.pad.strokes():
                new.pad.add_stroke(stroke)

    # --- moves that store nothing ---

    def _section_left(self, screen: SectionScreen, *, forward: bool) -> None:
        """Keep how long the section was shown and whether it was read to the end, then move."""
        visit = self._require_visit()
        visit.record_reading(screen.seconds_shown(), screen.reached_end())
        if forward:
            self._next()
        else:
            self._back()

    def _next(self) -> None:
        self._require_visit().next()
        self.show_step()

    def _back(self) -> None:
        if self._require_visit().back():
            self.show_step()

    def _change(self, page_id: str) -> None:
        self._require_visit().edit(page_id)
        self.show_step()
