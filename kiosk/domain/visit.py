"""The patient's visit as a pure state machine.

Steps: every visible question page of the packet's forms, then review, then each consent section,
then each comprehension question (a wrong answer re-shows its section, then asks again), then the
attestations, then signing, then done. A returning patient whose signed consent is still current
(see :mod:`kiosk.domain.reconsent`) goes from review straight to done. Which pages are visible
follows from the answers (skip logic), so the list of steps is always derived, never stored. No
clock inside: callers pass ``today``/``now``.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from kiosk.domain.answers import AnswerProblem, clean_text, validate
from kiosk.domain.conditions import evaluate, item_visible, page_visible, visible_items
from kiosk.domain.model import (
    AnswerValue,
    FlagRule,
    Form,
    Item,
    Notice,
    Packet,
    Page,
    QuizQuestion,
)
from kiosk.domain.reconsent import ConsentNeed, NeedKind, PriorConsent
from kiosk.domain.scoring import ScoreReport, score_forms
from kiosk.domain.signature import DrawnSignature

MISSES_BEFORE_DISCUSSION = 2
"""A comprehension question missed this often raises the "discuss with clinician" flag."""


def same_name(typed: str, given: str) -> bool:
    """The same name, ignoring case, extra spaces and accents ("nunez" matches "Núñez"): the
    witness confirms who is signing; the name is stored exactly as typed."""

    def plain(name: str) -> str:
        decomposed = unicodedata.normalize("NFKD", clean_text(name).casefold())
        letters = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
        return " ".join(letters.split())

    return plain(typed) == plain(given) != ""


def _validate_all(
    items: Iterable[Item], raw: Mapping[str, object], today: dt.date
) -> tuple[dict[str, AnswerValue], dict[str, AnswerProblem]]:
    """Validate each item's raw answer: (accepted values, problems), keyed by item id."""
    accepted: dict[str, AnswerValue] = {}
    problems: dict[str, AnswerProblem] = {}
    for item in items:
        checked = validate(item, raw.get(item.id), today)
        if checked.problem is not None:
            problems[item.id] = checked.problem
        elif checked.value is not None:
            accepted[item.id] = checked.value
    return accepted, problems


class StepKind(enum.StrEnum):
    """What kind of screen a step is."""

    PAGE = "page"
    REVIEW = "review"
    SECTION = "section"
    QUIZ = "quiz"
    RETEACH = "reteach"  # a quiz question's section, shown again after a wrong answer
    ATTEST = "attest"
    SIGN = "sign"
    DONE = "done"


@dataclass(frozen=True)
class Step:
    """One screen of the visit. ``key`` is a page id or section id where there is one."""

    kind: StepKind
    key: str = ""
    form_id: str = ""


class VisitError(RuntimeError):
    """A caller asked the visit for something its state does not allow."""


@dataclass(frozen=True)
class PageSaved:
    """What a successful page submission changed, for storage to persist."""

    form: Form
    answers: Mapping[str, AnswerValue]
    removed: tuple[str, ...]  # answers dropped because skip logic now hides their items


@dataclass(frozen=True)
class QuizAttempt:
    """One answer to a comprehension question."""

    question_id: str
    number: int  # 1 for the first try
    answer: str | int
    correct: bool


@dataclass(frozen=True)
class QuizAnswered:
    """What answering a comprehension question changed, for storage to persist."""

    attempt: QuizAttempt
    raised: Notice | None  # the "discuss with clinician" flag, on a second miss


@dataclass(frozen=True)
class QuizResult:
    """How one question went, as stored with the consent and printed on it."""

    question_id: str
    attempts: tuple[str | int, ...]
    correct: bool  # the last answer was right
    needs_discussion: bool  # missed twice

    def as_json(self) -> dict[str, object]:
        return {
            "question": self.question_id,
            "attempts": list(self.attempts),
            "correct": self.correct,
            "needs_discussion": self.needs_discussion,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> QuizResult:
        """What :meth:`as_json` wrote (stored with the consent)."""
        return cls(
            str(data["question"]),
            tuple(data.get("attempts", ())),
            bool(data.get("correct")),
            bool(data.get("needs_discussion")),
        )


@dataclass(frozen=True)
class Reading:
    """Evidence that a consent section was read: time on screen and whether it was scrolled
    to the end (or fitted without scrolling), summed over every time it was shown."""

    section_id: str
    seconds: float = 0.0
    reached_end: bool = False
    views: int = 0

    def add(self, seconds: float, reached_end: bool) -> Reading:
        return Reading(
            self.section_id,
            self.seconds + max(0.0, seconds),
            self.reached_end or reached_end,
            self.views + 1,
        )

    def as_json(self) -> dict[str, object]:
        return {
            "section": self.section_id,
            "seconds": round(self.seconds, 1),
            "reached_end": self.reached_end,
            "views": self.views,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Reading:
        """What :meth:`as_json` wrote (stored with the consent)."""
        return cls(
            str(data["section"]),
            float(data.get("seconds", 0.0)),
            bool(data.get("reached_end")),
            int(data.get("views", 0)),
        )


@dataclass(frozen=True)
class AttestationsSaved:
    """The attestations as ticked, and the flags they raise."""

    answers: Mapping[str, AnswerValue]
    flags: tuple[FlagRule, ...]


class SignatureMethod(enum.StrEnum):
    """How the patient signed."""

    DRAWN = "drawn"  # with a finger or stylus on the pad
    TYPED_WITNESSED = "typed_witnessed"  # typed their full name, a member of staff witnessing


@dataclass(frozen=True)
class Witness:
    """The member of staff who witnessed a typed signature (signed in with id and PIN)."""

    staff_id: str
    name: str
    reason: str  # why the patient could not draw a signature, as they chose it


@dataclass(frozen=True)
class Signing:
    """The record of a signature, as the visit accepted it."""

    signer_name: str
    signed_at: dt.datetime  # timezone-aware, in the kiosk's local offset
    signature: DrawnSignature | None  # None when typed with a witness
    text_sha256: str
    statement: str
    meaning: str
    comprehension: tuple[QuizResult, ...] = ()
    attestations: Mapping[str, AnswerValue] = field(default_factory=dict)
    reading: tuple[Reading, ...] = ()
    method: SignatureMethod = SignatureMethod.DRAWN
    typed_name: str = ""
    witness: Witness | None = None


@dataclass(frozen=True)
class VisitState:
    """Everything about a visit that changes as the patient goes, in one immutable value.

    A checkpoint is this object and a rollback is one assignment: nothing is copied field by
    field, so a field added here can never be forgotten by a rollback.
    """

    language: str
    answers: Mapping[str, AnswerValue] = field(default_factory=dict)
    current: Step | None = None
    review_confirmed: bool = False
    editing_from_review: bool = False
    signing: Signing | None = None
    quiz_attempts: tuple[QuizAttempt, ...] = ()
    attestations: Mapping[str, AnswerValue] = field(default_factory=dict)
    reading: Mapping[str, Reading] = field(default_factory=dict)
    paper: bool = False  # the patient chose to sign on paper
    on_file: PriorConsent | None = None  # a still-current earlier consent: nothing to sign today
    renewal: ConsentNeed | None = None  # signed before, due again today (shown, not a step)


class Visit:
    """One patient's way through a packet: the packet and the visit's one :class:`VisitState`."""

    def __init__(
        self,
        packet: Packet,
        language: str,
        answers: Mapping[str, AnswerValue] | None = None,
    ) -> None:
        self.packet = packet
        self.state = VisitState(language, dict(answers or {}))

    def _update(self, **changes: Any) -> None:
        self.state = replace(self.state, **changes)

    def __repr__(self) -> str:  # no answers: a repr can end up in a log or a traceback
        return f"Visit(packet={self.packet.id!r}, step={self.current!r})"

    # --- the state, read ---

    @property
    def language(self) -> str:
        return self.state.language

    @language.setter
    def language(self, language: str) -> None:
        self._update(language=language)

    @property
    def answers(self) -> Mapping[str, AnswerValue]:
        return self.state.answers

    @property
    def signing(self) -> Signing | None:
        return self.state.signing

    @property
    def quiz_attempts(self) -> tuple[QuizAttempt, ...]:
        return self.state.quiz_attempts

    @property
    def attestations(self) -> Mapping[str, AnswerValue]:
        return self.state.attestations

    @property
    def reading(self) -> Mapping[str, Reading]:
        return self.state.reading

    @property
    def paper(self) -> bool:
        return self.state.paper

    @property
    def on_file(self) -> PriorConsent | None:
        return self.state.on_file

    @property
    def renewal(self) -> ConsentNeed | None:
        return self.state.renewal

    @renewal.setter
    def renewal(self, need: ConsentNeed | None) -> None:
        self._update(renewal=need)

    # --- steps ---

    @property
    def steps(self) -> list[Step]:
        """Every step this patient will see, given the answers so far."""
        steps = [
            Step(StepKind.PAGE, page.id, form.id)
            for form in self.packet.forms
            for page in form.pages
            if page_visible(page, self.answers)
        ]
        steps.append(Step(StepKind.REVIEW))
        if self.on_file is not None:
            steps.append(Step(StepKind.DONE))
            return steps
        consent = self.packet.consent
        steps.extend(Step(StepKind.SECTION, s.id) for s in consent.sections)
        if consent.quiz is not None:
            steps.extend(Step(StepKind.QUIZ, q.id) for q in consent.quiz.questions)
        if consent.attestations:
            steps.append(Step(StepKind.ATTEST))
        steps.append(Step(StepKind.SIGN))
        steps.append(Step(StepKind.DONE))
        return steps

    @property
    def current(self) -> Step:
        """The step on screen now."""
        return self.state.current or self.steps[0]

    @property
    def progress(self) -> tuple[int, int]:
        """``(X, Y)`` for "step X of Y"; the final thank-you screen is not counted."""
        steps = self.steps[:-1]
        current = self._shown_step()
        index = steps.index(current) if current in steps else len(steps) - 1
        return index + 1, len(steps)

    def _shown_step(self) -> Step:
        """The current step as placed in ``steps`` (re-teaching counts as its question)."""
        if self.current.kind is StepKind.RETEACH:
            return Step(StepKind.QUIZ, self.current.key)
        return self.current

    @property
    def is_signed(self) -> bool:
        """Signed, handed over to paper, or closed with a consent on file: either way the
        record is closed to changes."""
        return self.signing is not None or self.paper or self.on_file is not None

    def form(self, form_id: str) -> Form:
        return self.packet.form(form_id)

    def page(self, step: Step | None = None) -> Page:
        """The question page of ``step`` (default: the current step)."""
        step = step or self.current
        if step.kind is not StepKind.PAGE:
            raise VisitError("this step is not a question page")
        return next(p for p in self.form(step.form_id).pages if p.id == step.key)

    def items_on(self, page: Page) -> list[Item]:
        """The items of ``page`` that this patient is asked."""
        return [item for item in page.items if item_visible(item, self.answers)]

    def resume(self) -> None:
        """Staff resumed an interrupted visit: go to the first page still missing an answer,
        or to review when every page is answered (the consent is read again from there)."""
        self._require_unsigned()
        incomplete = [s for s in self.steps if s.kind is StepKind.PAGE and self._incomplete(s)]
        self._move_to(incomplete[0] if incomplete else Step(StepKind.REVIEW))

    # --- identity ---

    def identity(self, role: str) -> str:
        """The patient's name or birth date as answered, or an empty string."""
        item = self.packet.identity_item(role)
        value = self.answers.get(item.id) if item else None
        return value if isinstance(value, str) else ""

    # --- moving ---

    def _move_to(self, step: Step, **changes: Any) -> None:
        self._update(current=step, **changes)

    def submit_page(
        self, raw: Mapping[str, object], today: dt.date
    ) -> PageSaved | dict[str, AnswerProblem]:
        """Validate the current page's answers. On success store them and move on.

        Returns:
            ``PageSaved`` (what storage must persist) or a mapping item id → problem; on problems
            nothing is stored and the visit stays on this page.
        """
        self._require_unsigned()
        step = self.current
        page = self.page(step)
        accepted, problems = _validate_all(self.items_on(page), raw, today)
        if problems:
            return problems
        cleared = [item.id for item in page.items if item.id not in accepted]
        answers = {k: v for k, v in self.answers.items() if k not in cleared}
        answers.update(accepted)
        answers, removed = self._without_hidden(answers)
        self._update(answers=answers)
        self._advance_after_page(step)
        form = self.form(step.form_id)
        return PageSaved(form, dict(accepted), tuple(sorted({*removed, *cleared})))

    def _without_hidden(
        self, answers: dict[str, AnswerValue]
    ) -> tuple[dict[str, AnswerValue], list[str]]:
        """``answers`` without those whose items skip logic now hides (so they are neither
        stored nor scored), and the ids dropped."""
        removed: list[str] = []
        while True:  # hiding one item can hide another that depends on it
            shown = {item.id for item in visible_items(self.packet.forms, answers)}
            stale = [item_id for item_id in answers if item_id not in shown]
            if not stale:
                return answers, removed
            answers = {k: v for k, v in answers.items() if k in shown}
            removed.extend(stale)

    def _advance_after_page(self, step: Step) -> None:
        steps = self.steps
        following = steps[steps.index(step) + 1 :]
        if self.state.editing_from_review:
            unanswered = [s for s in following if s.kind is StepKind.PAGE and self._incomplete(s)]
            if unanswered:
                self._move_to(unanswered[0])
            else:
                self._move_to(Step(StepKind.REVIEW), editing_from_review=False)
            return
        self._move_to(following[0])

    def _incomplete(self, step: Step) -> bool:
        return any(
            item.required and item.id not in self.answers for item in self.items_on(self.page(step))
        )

    def next(self) -> None:
        """Move on from a review, consent-section or re-teach screen."""
        self._require_unsigned()
        step = self.current
        if step.kind is StepKind.RETEACH:
            self._move_to(Step(StepKind.QUIZ, step.key))
            return
        if step.kind is StepKind.REVIEW:
            missing = self.missing_required()
            if missing:
                raise VisitError(f"{len(missing)} required answers are missing")
        elif step.kind is not StepKind.SECTION:
            raise VisitError(f"use the page's own action on a {step.kind} step")
        steps = self.steps
        confirmed = self.state.review_confirmed or step.kind is StepKind.REVIEW
        self._move_to(steps[steps.index(step) + 1], review_confirmed=confirmed)

    def back(self) -> bool:
        """Go to the previous step. Returns False on the first step or once signed."""
        if self.is_signed:
            return False
        if self.current.kind is StepKind.RETEACH:
            self._move_to(Step(StepKind.QUIZ, self.current.key))
            return True
        steps = self.steps
        index = steps.index(self.current)
        if index == 0:
            return False
        self._move_to(steps[index - 1], editing_from_review=False)
        return True

    def edit(self, page_id: str) -> None:
        """From review: reopen one page; after it, the visit returns to review."""
        self._require_unsigned()
        if self.current.kind is not StepKind.REVIEW:
            raise VisitError("answers are changed from the review screen")
        step = next((s for s in self.steps if s.kind is StepKind.PAGE and s.key == page_id), None)
        if step is None:
            raise VisitError("no such page is shown to this patient")
        self._move_to(step, editing_from_review=True)

    @property
    def editing_from_review(self) -> bool:
        return self.state.editing_from_review

    # --- reading evidence ---

    def record_reading(self, seconds: float, reached_end: bool) -> None:
        """Add the time the current consent section (or its re-teach) was on screen."""
        self._require_unsigned()
        if self.current.kind is StepKind.RETEACH:
            section_id = self.quiz_question().section
        elif self.current.kind is StepKind.SECTION:
            section_id = self.current.key
        else:
            raise VisitError("reading time is kept for consent sections only")
        earlier = self.reading.get(section_id, Reading(section_id))
        self._update(reading={**self.reading, section_id: earlier.add(seconds, reached_end)})

    def reading_evidence(self) -> tuple[Reading, ...]:
        """Each section's reading record, in the consent's order (unseen ones included)."""
        return tuple(self.reading.get(s.id, Reading(s.id)) for s in self.packet.consent.sections)

    # --- comprehension check ---

    def quiz_question(self, step: Step | None = None) -> QuizQuestion:
        """The comprehension question of a quiz or re-teach ``step`` (default: the current)."""
        step = step or self.current
        quiz = self.packet.consent.quiz
        if quiz is None or step.kind not in (StepKind.QUIZ, StepKind.RETEACH):
            raise VisitError("this step is not a comprehension question")
        return quiz.question(step.key)

    def attempts(self, question_id: str) -> list[QuizAttempt]:
        return [a for a in self.quiz_attempts if a.question_id == question_id]

    def answer_quiz(self, answer: object) -> QuizAnswered | None:
        """Check an answer. Right: move on. First miss: re-show the section. Second: flag, move on.

        Returns:
            What storage must persist, or None when ``answer`` is not one of the choices.
        """
        self._require_unsigned()
        question = self.quiz_question()
        if self.current.kind is not StepKind.QUIZ:
            raise VisitError("the question is not on screen")
        choice = None if isinstance(answer, bool) else question.as_item().choice(answer)
        if choice is None:
            return None
        earlier = self.attempts(question.id)
        attempt = QuizAttempt(
            question.id, len(earlier) + 1, choice.value, choice.value == question.correct
        )
        self._update(quiz_attempts=(*self.quiz_attempts, attempt))
        misses = sum(1 for a in (*earlier, attempt) if not a.correct)
        raised = None
        if not attempt.correct and misses == 1:
            self._move_to(Step(StepKind.RETEACH, question.id))
        else:
            if not attempt.correct and misses == MISSES_BEFORE_DISCUSSION:
                raised = self.packet.consent.quiz.flag if self.packet.consent.quiz else None
            steps = self.steps
            self._move_to(steps[steps.index(self.current) + 1])
        return QuizAnswered(attempt, raised)

    def comprehension(self) -> tuple[QuizResult, ...]:
        """Each question's attempts and outcome, in the consent's order."""
        quiz = self.packet.consent.quiz
        results = []
        for question in quiz.questions if quiz else ():
            attempts = self.attempts(question.id)
            if attempts:
                results.append(
                    QuizResult(
                        question.id,
                        tuple(a.answer for a in attempts),
                        attempts[-1].correct,
                        sum(1 for a in attempts if not a.correct) >= MISSES_BEFORE_DISCUSSION,
                    )
                )
        return tuple(results)

    def _quiz_done(self) -> bool:
        """Every question was answered right, or missed twice (which never blocks)."""
        done = {r.question_id for r in self.comprehension() if r.correct or r.needs_discussion}
        quiz = self.packet.consent.quiz
        return quiz is None or all(q.id in done for q in quiz.questions)

    # --- attestations ---

    def submit_attestations(
        self, raw: Mapping[str, object], today: dt.date
    ) -> AttestationsSaved | dict[str, AnswerProblem]:
        """Check the ticks before signing; on success keep them and move to signing."""
        self._require_unsigned()
        if self.current.kind is not StepKind.ATTEST:
            raise VisitError("the attestations are not on screen")
        accepted, problems = _validate_all(self.packet.consent.attestations, raw, today)
        if problems:
            return problems
        self._move_to(Step(StepKind.SIGN), attestations=accepted)
        return AttestationsSaved(dict(accepted), self.attestation_flags())

    def attestation_flags(self) -> tuple[FlagRule, ...]:
        """The consent's flags that the attestations raise."""
        return tuple(f for f in self.packet.consent.flags if evaluate(f.when, self.attestations))

    def _attested(self) -> bool:
        return all(
            item.id in self.attestations or not item.required
            for item in self.packet.consent.attestations
        )

    # --- completeness and signing ---

    def missing_required(self) -> list[str]:
        """Ids of required, visible items that have no answer yet."""
        return [
            item.id
            for item in visible_items(self.packet.forms, self.answers)
            if item.required and item.id not in self.answers
        ]

    def scores(self) -> list[ScoreReport]:
        """Scores and flags of every form, from the answers so far."""
        return score_forms(self.packet.forms, self.answers)

    def consent_text_sha256(self) -> str:
        """SHA-256 of the exact consent text shown in this visit's language."""
        text = self.packet.consent.full_text(self.language)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def _ready_to_sign(self, now: dt.datetime) -> None:
        self._require_unsigned()
        if self.current.kind is not StepKind.SIGN:
            raise VisitError("the visit is not at the signing step")
        if not self.state.review_confirmed or self.missing_required():
            raise VisitError("answers must be complete and reviewed before signing")
        if not self._quiz_done() or not self._attested():
            raise VisitError("the comprehension check and attestations come before signing")
        if now.utcoffset() is None:
            raise VisitError("the signing time needs a UTC offset")

    def _finish_signing(
        self,
        now: dt.datetime,
        signature: DrawnSignature | None,
        *,
        witnessed: tuple[str, Witness] | None = None,
    ) -> Signing:
        """The signing record; ``witnessed`` is (the typed name, its witness) for a typed one."""
        consent = self.packet.consent
        typed_name, witness = witnessed if witnessed is not None else ("", None)
        signing = Signing(
            signer_name=self.identity("name"),
            signed_at=now,
            signature=signature,
            text_sha256=self.consent_text_sha256(),
            statement=consent.statement.get(self.language),
            meaning=consent.meaning.get(self.language),
            comprehension=self.comprehension(),
            attestations=dict(self.attestations),
            reading=self.reading_evidence(),
            method=SignatureMethod.DRAWN if witness is None else SignatureMethod.TYPED_WITNESSED,
            typed_name=typed_name,
            witness=witness,
        )
        self._move_to(Step(StepKind.DONE), signing=signing)
        return signing

    def sign(self, signature: DrawnSignature, now: dt.datetime) -> Signing:
        """Record the signature and finish. The visit cannot go back afterwards.

        Raises:
            VisitError: when not on the signing step, review was skipped, answers are missing,
                the signature is trivial, or ``now`` has no UTC offset.
        """
        self._ready_to_sign(now)
        if signature.is_trivial():
            raise VisitError("the signature is empty or too small")
        return self._finish_signing(now, signature)

    def sign_typed(self, typed_name: str, witness: Witness, now: dt.datetime) -> Signing:
        """A patient who cannot draw types their full name; a member of staff witnesses it.

        Raises:
            VisitError: as ``sign``, or when the typed name is not the name given at the start
                or no reason was given.
        """
        self._ready_to_sign(now)
        if not same_name(typed_name, self.identity("name")):
            raise VisitError("the typed name is not the name given at the start")
        if not witness.reason.strip() or not witness.staff_id:
            raise VisitError("a typed signature needs a reason and a witness")
        return self._finish_signing(now, None, witnessed=(clean_text(typed_name), witness))

    def choose_paper(self) -> None:
        """The patient prefers to sign on paper: no electronic signature; staff take over."""
        self._require_unsigned()
        if self.current.kind is not StepKind.SIGN:
            raise VisitError("paper is chosen at the signing step")
        self._move_to(Step(StepKind.DONE), paper=True)

    def keep_consent_on_file(self, need: ConsentNeed) -> PriorConsent:
        """From review: the patient's earlier consent is still current, so the visit ends here,
        without the consent's sections, questions, attestations or signature.

        Args:
            need: The decision of :func:`kiosk.domain.reconsent.decide` for this packet's
                consent; it must be ``CURRENT``.

        Returns:
            The consent on file.

        Raises:
            VisitError: when not on the review step, answers are missing, or ``need`` is not a
                current consent of this packet's consent document and version.
        """
        self._require_unsigned()
        if self.current.kind is not StepKind.REVIEW:
            raise VisitError("a consent on file is accepted at the review step")
        if self.missing_required():
            raise VisitError("answers must be complete before the visit is closed")
        consent = self.packet.consent
        prior = need.prior
        if (
            need.kind is not NeedKind.CURRENT
            or prior is None
            or (need.document_id, need.version) != (consent.id, consent.version)
            or (prior.document_id, prior.version) != (consent.id, consent.version)
        ):
            raise VisitError("only a current consent of this version is kept on file")
        self._move_to(Step(StepKind.DONE), review_confirmed=True, on_file=prior)
        return prior

    def checkpoint(self) -> VisitState:
        """The state now; ``rollback`` returns to it (e.g. when a save fails)."""
        return self.state

    def rollback(self, checkpoint: VisitState) -> None:
        """Return to a checkpoint: nothing the failed step did remains."""
        self.state = checkpoint

    def _require_unsigned(self) -> None:
        if self.is_signed:
            raise VisitError("this visit is signed; a correction is a new record")
