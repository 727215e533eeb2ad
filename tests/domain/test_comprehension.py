"""The comprehension check (re-teach loop) and the attestations before signing."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from kiosk.domain.answers import AnswerProblem
from kiosk.domain.loader import load_packet
from kiosk.domain.model import Packet, Severity
from kiosk.domain.signature import DrawnSignature
from kiosk.domain.visit import (
    AttestationsSaved,
    QuizAnswered,
    SignatureMethod,
    Step,
    StepKind,
    Visit,
    VisitError,
    Witness,
    same_name,
)
from tests.domain.conftest import CONSENT_YAML, TODAY, write_packet
from tests.domain.test_visit import answer_pages

QUIZ_YAML = """\
quiz:
  flag:
    id: comprehension_discuss
    severity: review
    message: {en: Go over the consent with the patient, es: Repase el consentimiento}
  questions:
    - id: quiz_what
      section: what_it_is
      text: {en: Ketamine is an anaesthetic, es: La ketamina es un anestésico}
      choices:
        - {value: "true", label: {en: "True", es: Verdadero}}
        - {value: "false", label: {en: "False", es: Falso}}
      correct: "true"
    - id: quiz_risks
      section: risks
      text: {en: You may feel detached, es: Puede sentirse desconectado}
      choices:
        - {value: "true", label: {en: "True", es: Verdadero}}
        - {value: "false", label: {en: "False", es: Falso}}
      correct: "true"
attestations:
  - id: attest_read
    type: agree
    text: {en: I read this, es: Leí esto}
  - id: attest_questions
    type: single_choice
    text: {en: My questions, es: Mis preguntas}
    choices:
      - {value: answered, label: {en: Answered, es: Contestadas}}
      - {value: will_ask, label: {en: I will ask staff, es: Preguntaré al personal}}
flags:
  - id: questions_before_infusion
    severity: review
    when: {item: attest_questions, equals: will_ask}
    message: {en: Has questions, es: Tiene preguntas}
"""

QUIZ = [Step(StepKind.QUIZ, "quiz_what"), Step(StepKind.QUIZ, "quiz_risks")]
ATTEST = Step(StepKind.ATTEST)
SIGN = Step(StepKind.SIGN)
ALL_TICKED: dict[str, object] = {"attest_read": True, "attest_questions": "answered"}


@pytest.fixture
def quiz_packet(tmp_path: Path) -> Packet:
    folder = write_packet(tmp_path / "quiz")
    (folder / "consent.yaml").write_text(CONSENT_YAML + QUIZ_YAML, encoding="utf-8")
    return load_packet(folder)


@pytest.fixture
def visit(quiz_packet: Packet) -> Visit:
    visit = Visit(quiz_packet, "en")
    answer_pages(visit)
    visit.next()  # review
    visit.next()  # section 1
    visit.next()  # section 2
    assert visit.current == QUIZ[0]
    return visit


def answer(visit: Visit, value: object) -> QuizAnswered:
    result = visit.answer_quiz(value)
    assert result is not None
    return result


def test_quiz_and_attestation_steps_follow_the_sections(visit: Visit) -> None:
    kinds = [s for s in visit.steps if s.kind in (StepKind.QUIZ, StepKind.ATTEST, StepKind.SIGN)]
    assert kinds == [*QUIZ, ATTEST, SIGN]


def test_a_right_answer_moves_to_the_next_question(visit: Visit) -> None:
    result = answer(visit, "true")
    assert result.attempt.correct and result.attempt.number == 1 and result.raised is None
    assert visit.current == QUIZ[1]


def test_a_wrong_answer_shows_the_section_again_then_asks_again(visit: Visit) -> None:
    result = answer(visit, "false")
    assert not result.attempt.correct and result.raised is None
    assert visit.current == Step(StepKind.RETEACH, "quiz_what")
    assert visit.quiz_question().section == "what_it_is"
    assert visit.progress == (visit.steps.index(QUIZ[0]) + 1, len(visit.steps) - 1)
    visit.next()
    assert visit.current == QUIZ[0]
    second = answer(visit, "true")
    assert second.attempt.number == 2 and second.attempt.correct and second.raised is None
    assert visit.current == QUIZ[1]
    [result_what] = visit.comprehension()
    assert result_what.attempts == ("false", "true")
    assert result_what.correct and not result_what.needs_discussion


def test_a_second_miss_raises_the_discuss_flag_but_never_blocks(visit: Visit) -> None:
    answer(visit, "false")
    visit.next()
    result = answer(visit, "false")
    assert result.raised is not None
    assert result.raised.id == "comprehension_discuss"
    assert result.raised.severity is Severity.REVIEW
    assert visit.current == QUIZ[1]
    assert visit.comprehension()[0].needs_discussion


def test_back_from_reteach_returns_to_the_question(visit: Visit) -> None:
    answer(visit, "false")
    assert visit.back()
    assert visit.current == QUIZ[0]


def test_an_answer_that_is_not_a_choice_changes_nothing(visit: Visit) -> None:
    assert visit.answer_quiz("maybe") is None
    assert visit.answer_quiz(None) is None
    assert visit.answer_quiz(True) is None
    assert visit.current == QUIZ[0]
    assert visit.quiz_attempts == ()


def test_answering_off_the_quiz_step_is_refused(visit: Visit) -> None:
    answer(visit, "false")
    with pytest.raises(VisitError):
        visit.answer_quiz("true")  # the section is on screen, not the question


def finish_quiz(visit: Visit) -> None:
    answer(visit, "true")
    answer(visit, "true")
    assert visit.current == ATTEST


def test_attestations_must_all_be_given(visit: Visit) -> None:
    finish_quiz(visit)
    problems = visit.submit_attestations({"attest_read": False}, TODAY)
    assert problems == {
        "attest_read": AnswerProblem.REQUIRED,
        "attest_questions": AnswerProblem.REQUIRED,
    }
    assert visit.current == ATTEST


def test_attestations_move_to_signing_and_raise_their_flags(visit: Visit) -> None:
    finish_quiz(visit)
    saved = visit.submit_attestations({"attest_read": True, "attest_questions": "will_ask"}, TODAY)
    assert isinstance(saved, AttestationsSaved)
    assert [f.id for f in saved.flags] == ["questions_before_infusion"]
    assert visit.current == SIGN
    quiet = Visit(visit.packet, "en")
    quiet.state = dataclasses.replace(
        quiet.state, attestations={"attest_read": True, "attest_questions": "answered"}
    )
    assert quiet.attestation_flags() == ()


def test_signing_carries_comprehension_and_attestations(
    visit: Visit, scribble: DrawnSignature
) -> None:
    answer(visit, "false")
    visit.next()
    answer(visit, "true")
    answer(visit, "true")
    assert isinstance(visit.submit_attestations(ALL_TICKED, TODAY), AttestationsSaved)
    signing = visit.sign(scribble, dt.datetime(2024, 6, 1, 10, tzinfo=dt.UTC))
    assert [r.as_json() for r in signing.comprehension] == [
        {
            "question": "quiz_what",
            "attempts": ["false", "true"],
            "correct": True,
            "needs_discussion": False,
        },
        {
            "question": "quiz_risks",
            "attempts": ["true"],
            "correct": True,
            "needs_discussion": False,
        },
    ]
    assert signing.attestations == ALL_TICKED


def test_signing_is_refused_before_the_quiz_and_attestations(
    visit: Visit, scribble: DrawnSignature
) -> None:
    visit.state = dataclasses.replace(visit.state, current=SIGN)  # as a bug in a caller might
    with pytest.raises(VisitError, match="comprehension"):
        visit.sign(scribble, dt.datetime(2024, 6, 1, 10, tzinfo=dt.UTC))


def test_rollback_forgets_a_quiz_answer(visit: Visit) -> None:
    checkpoint = visit.checkpoint()
    answer(visit, "false")
    visit.rollback(checkpoint)
    assert visit.quiz_attempts == ()
    assert visit.current == QUIZ[0]


def test_the_hashed_text_includes_quiz_and_attestations(quiz_packet: Packet) -> None:
    text = quiz_packet.consent.full_text("es")
    assert "La ketamina es un anestésico" in text
    assert "- Preguntaré al personal" in text
    assert "Leí esto" in text


def test_reading_time_adds_up_over_visits_and_reteaching(visit: Visit) -> None:
    visit.back()  # to the last section
    assert visit.current == Step(StepKind.SECTION, "risks")
    visit.record_reading(12.5, reached_end=False)
    visit.next()
    answer(visit, "false")  # re-teach shows "what_it_is" again
    visit.record_reading(30.0, reached_end=True)
    visit.record_reading(-5.0, reached_end=False)  # a clock oddity never subtracts
    what, risks = visit.reading_evidence()
    assert (what.section_id, what.seconds, what.reached_end, what.views) == (
        "what_it_is",
        30.0,
        True,
        2,
    )
    assert (risks.seconds, risks.reached_end, risks.views) == (12.5, False, 1)
    assert risks.as_json() == {
        "section": "risks",
        "seconds": 12.5,
        "reached_end": False,
        "views": 1,
    }


def test_reading_is_kept_only_for_sections(visit: Visit) -> None:
    with pytest.raises(VisitError):
        visit.record_reading(3.0, reached_end=True)  # a quiz question is on screen


def test_rollback_forgets_reading(visit: Visit) -> None:
    visit.back()
    checkpoint = visit.checkpoint()
    visit.record_reading(9.0, reached_end=True)
    visit.rollback(checkpoint)
    assert visit.reading == {}


def _to_signing(visit: Visit) -> None:
    answer(visit, "true")
    answer(visit, "true")
    assert isinstance(visit.submit_attestations(ALL_TICKED, TODAY), AttestationsSaved)
    assert visit.current == SIGN


WITNESS = Witness("maria.lopez", "Maria Lopez", "My hands make it hard or painful")
SIGNED_AT = dt.datetime(2024, 6, 1, 10, tzinfo=dt.UTC)


def test_a_typed_name_with_a_witness_signs(visit: Visit) -> None:
    _to_signing(visit)
    name = visit.identity("name")
    signing = visit.sign_typed(f"  {name.upper()} ", WITNESS, SIGNED_AT)
    assert signing.method is SignatureMethod.TYPED_WITNESSED
    assert signing.signature is None
    assert signing.typed_name == name.upper()
    assert signing.witness == WITNESS
    assert visit.current == Step(StepKind.DONE) and visit.is_signed


def test_a_typed_name_must_be_the_name_given(visit: Visit) -> None:
    _to_signing(visit)
    with pytest.raises(VisitError, match="typed name"):
        visit.sign_typed("Someone Else", WITNESS, SIGNED_AT)
    with pytest.raises(VisitError, match="reason"):
        visit.sign_typed(visit.identity("name"), Witness("maria.lopez", "Maria", " "), SIGNED_AT)
    assert not visit.is_signed


@pytest.mark.parametrize(
    ("typed", "given", "same"),
    [
        ("rosa nunez", "Rosa Núñez", True),
        ("Rosa  Núñez", "Rosa Núñez", True),
        ("Rosa", "Rosa Núñez", False),
        ("", "", False),
    ],
)
def test_same_name_ignores_case_spaces_and_accents(typed: str, given: str, same: bool) -> None:
    assert same_name(typed, given) is same


def test_choosing_paper_closes_the_visit_without_a_signature(visit: Visit) -> None:
    _to_signing(visit)
    visit.choose_paper()
    assert visit.paper and visit.signing is None
    assert visit.is_signed  # closed to changes all the same
    assert visit.current == Step(StepKind.DONE)
    assert visit.back() is False
