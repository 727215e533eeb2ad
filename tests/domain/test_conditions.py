"""Declarative conditions: comparisons on present and missing answers, nesting, scores."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.domain.conditions import evaluate
from kiosk.domain.loader import load_document
from kiosk.domain.model import (
    AllOf,
    AnswerValue,
    AnyOf,
    Compare,
    Comparison,
    Condition,
    Form,
    Not,
)

ANSWERS: dict[str, AnswerValue] = {
    "reason": "other",
    "pain": 7,
    "meds": ("ibuprofen", "tramadol"),
    "smoker": False,
    "name": "Ana",
}

C = Comparison


def cmp(subject: str, comparison: Comparison, operand: object) -> Compare:
    return Compare(subject, comparison, operand)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        # equals / not_equals
        (cmp("reason", C.EQUALS, "other"), True),
        (cmp("reason", C.EQUALS, "pain"), False),
        (cmp("pain", C.EQUALS, 7), True),
        (cmp("smoker", C.EQUALS, False), True),
        (cmp("smoker", C.EQUALS, True), False),
        (cmp("reason", C.NOT_EQUALS, "pain"), True),
        (cmp("reason", C.NOT_EQUALS, "other"), False),
        # in
        (cmp("reason", C.IN, ("pain", "other")), True),
        (cmp("reason", C.IN, ("pain", "depression")), False),
        (cmp("pain", C.IN, (6, 7, 8)), True),
        # contains (multi-choice answers)
        (cmp("meds", C.CONTAINS, "tramadol"), True),
        (cmp("meds", C.CONTAINS, "codeine"), False),
        (cmp("reason", C.CONTAINS, "other"), False),  # a plain answer contains nothing
        # numeric comparisons, at and beside the boundary
        (cmp("pain", C.GTE, 7), True),
        (cmp("pain", C.GTE, 8), False),
        (cmp("pain", C.GT, 6), True),
        (cmp("pain", C.GT, 7), False),
        (cmp("pain", C.LTE, 7), True),
        (cmp("pain", C.LTE, 6), False),
        (cmp("pain", C.LT, 8), True),
        (cmp("pain", C.LT, 7), False),
        (cmp("pain", C.GTE, 6.5), True),
        # numeric comparisons never hold for text or yes/no answers
        (cmp("name", C.GTE, 0), False),
        (cmp("smoker", C.LT, 1), False),
        (cmp("smoker", C.GTE, 0), False),
        # answered
        (cmp("pain", C.ANSWERED, True), True),
        (cmp("pain", C.ANSWERED, False), False),
        (cmp("smoker", C.ANSWERED, True), True),  # False is an answer
    ],
    ids=lambda v: str(v) if isinstance(v, bool) else f"{v.subject}-{v.comparison}-{v.operand}",
)
def test_comparison_on_present_answers(condition: Compare, expected: bool) -> None:
    assert evaluate(condition, ANSWERS) is expected


@pytest.mark.parametrize(
    "comparison",
    [C.EQUALS, C.NOT_EQUALS, C.IN, C.CONTAINS, C.GTE, C.GT, C.LTE, C.LT],
)
def test_every_comparison_with_a_missing_answer_is_false(comparison: Comparison) -> None:
    operand: object = ("x",) if comparison is C.IN else 0
    assert evaluate(cmp("missing", comparison, operand), ANSWERS) is False
    # ... and with an empty answer set too
    assert evaluate(cmp("pain", comparison, operand), {}) is False


def test_answered_on_a_missing_answer() -> None:
    assert evaluate(cmp("missing", C.ANSWERED, False), ANSWERS) is True
    assert evaluate(cmp("missing", C.ANSWERED, True), ANSWERS) is False


def test_all_any_not() -> None:
    yes = cmp("reason", C.EQUALS, "other")
    no = cmp("pain", C.LT, 3)
    assert evaluate(AllOf((yes, yes)), ANSWERS) is True
    assert evaluate(AllOf((yes, no)), ANSWERS) is False
    assert evaluate(AnyOf((no, yes)), ANSWERS) is True
    assert evaluate(AnyOf((no, no)), ANSWERS) is False
    assert evaluate(Not(no), ANSWERS) is True
    assert evaluate(Not(yes), ANSWERS) is False
    assert evaluate(AllOf(()), ANSWERS) is True
    assert evaluate(AnyOf(()), ANSWERS) is False


def test_deep_nesting() -> None:
    condition: Condition = AnyOf(
        (
            cmp("reason", C.EQUALS, "pain"),
            AllOf(
                (
                    cmp("pain", C.GTE, 5),
                    Not(cmp("smoker", C.EQUALS, True)),
                    Not(AnyOf((cmp("meds", C.CONTAINS, "codeine"), cmp("x", C.ANSWERED, True)))),
                )
            ),
        )
    )
    assert evaluate(condition, ANSWERS) is True
    assert evaluate(condition, {**ANSWERS, "x": 1}) is False
    assert evaluate(condition, {**ANSWERS, "pain": 4}) is False
    assert evaluate(condition, {**ANSWERS, "pain": 4, "reason": "pain"}) is True


def test_not_of_a_missing_comparison_is_true() -> None:
    # "not equals" on a missing answer is false, but "not (equals)" is true: the difference matters.
    assert evaluate(cmp("missing", C.NOT_EQUALS, "x"), ANSWERS) is False
    assert evaluate(Not(cmp("missing", C.EQUALS, "x")), ANSWERS) is True


def test_score_conditions_look_at_scores_not_answers() -> None:
    high = Compare("phq9_total", C.GTE, 10, is_score=True)
    assert evaluate(high, {}, {"phq9_total": 12}) is True
    assert evaluate(high, {}, {"phq9_total": 9}) is False
    assert evaluate(high, {}, {"phq9_total": 10.0}) is True
    # A score condition ignores an answer of the same name, and no scores means false.
    assert evaluate(high, {"phq9_total": 20}, {}) is False
    assert evaluate(high, {"phq9_total": 20}) is False
    # An item condition ignores a score of the same name.
    assert evaluate(cmp("phq9_total", C.GTE, 10), {}, {"phq9_total": 20}) is False
    answered = Compare("peg_mean", C.ANSWERED, True, is_score=True)
    assert evaluate(answered, {}, {"peg_mean": 0.0}) is True
    assert evaluate(answered, {"peg_mean": 1}, {}) is False
    mixed = AllOf((high, cmp("pain", C.GT, 5)))
    assert evaluate(mixed, ANSWERS, {"phq9_total": 15}) is True
    assert evaluate(mixed, ANSWERS, {"phq9_total": 5}) is False


def test_not_a_condition_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        evaluate("pain >= 5", ANSWERS)  # type: ignore[arg-type]


NESTED_FORM = """\
kind: questionnaire
id: nested
version: 1
title: {en: Nested, es: Anidado}
pages:
  - id: first
    items:
      - {id: reason, type: text, text: {en: Reason, es: Motivo}}
      - {id: pain, type: scale, text: {en: Pain, es: Dolor}}
      - {id: smoker, type: yes_no, text: {en: Smoker, es: Fuma}}
  - id: second
    show_if:
      any:
        - {item: reason, in: [injury, surgery]}
        - all:
            - {item: pain, gte: 5}
            - not: {item: smoker, answered: true}
    items:
      - {id: details, type: text, text: {en: Details, es: Detalles}}
"""


def test_conditions_from_yaml_are_parsed_and_evaluated(tmp_path: Path) -> None:
    path = tmp_path / "nested.yaml"
    path.write_text(NESTED_FORM, encoding="utf-8")
    form = load_document(path)
    assert isinstance(form, Form)
    condition = form.pages[1].show_if
    assert condition == AnyOf(
        (
            Compare("reason", C.IN, ("injury", "surgery")),
            AllOf(
                (
                    Compare("pain", C.GTE, 5),
                    Not(Compare("smoker", C.ANSWERED, True)),
                )
            ),
        )
    )
    assert evaluate(condition, {"reason": "surgery"}) is True
    assert evaluate(condition, {"reason": "flu", "pain": 5}) is True
    assert evaluate(condition, {"reason": "flu", "pain": 5, "smoker": False}) is False
    assert evaluate(condition, {"reason": "flu", "pain": 4}) is False
