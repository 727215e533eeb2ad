"""Compute the scores, bands and flags that a form declares in its data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from kiosk.domain.answers import AnswerProblem, validate
from kiosk.domain.conditions import evaluate, visible_items
from kiosk.domain.model import AnswerValue, Band, FlagRule, Form, ScoreMethod, ScoreRule


@dataclass(frozen=True)
class ScoreResult:
    """One computed score; ``value`` is unrounded (a PEG mean may be 6.333…)."""

    rule: ScoreRule
    value: float
    band: Band | None

    @property
    def display(self) -> str:
        """How people read it: a mean to one decimal (PEG 6.3), a sum as a whole number."""
        if self.rule.method is ScoreMethod.MEAN:
            return f"{self.value:.1f}"
        return f"{self.value:g}"


@dataclass(frozen=True)
class ScoreReport:
    """Every score and raised flag of one form."""

    form: Form
    scores: tuple[ScoreResult, ...]
    flags: tuple[FlagRule, ...]

    def as_json(self) -> dict[str, object]:
        """The JSON shape of ``kiosk forms score`` (DESIGN §7)."""
        return {
            "form": self.form.id,
            "version": self.form.version,
            "scores": {
                s.rule.id: {
                    "value": int(s.value) if s.value.is_integer() else s.value,
                    "band": s.band.id if s.band else None,
                }
                for s in self.scores
            },
            "flags": [f.id for f in self.flags],
        }


class UnscorableAnswersError(ValueError):
    """Some answers are missing or invalid, so no honest score can be given."""

    def __init__(self, missing: list[str], invalid: Mapping[str, AnswerProblem]) -> None:
        self.missing = missing
        self.invalid = dict(invalid)
        parts = []
        if missing:
            parts.append("missing required answers: " + ", ".join(missing))
        if invalid:
            parts.append(
                "answers not allowed: "
                + ", ".join(f"{item} ({problem})" for item, problem in invalid.items())
            )
        super().__init__("; ".join(parts))


def compute_score(rule: ScoreRule, answers: Mapping[str, AnswerValue]) -> ScoreResult | None:
    """Return the score, or None when any of its items is unanswered (never a silent 0)."""
    values: list[float] = []
    for item_id in rule.items:
        value = answers.get(item_id)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        values.append(float(value))
    total = sum(values)
    result = total / len(values) if rule.method is ScoreMethod.MEAN else total
    return ScoreResult(rule, result, rule.band_for(result))


def score_form(form: Form, answers: Mapping[str, AnswerValue]) -> ScoreReport:
    """Compute every score of ``form`` that its answers allow, then every flag that holds."""
    results = tuple(
        r for r in (compute_score(rule, answers) for rule in form.scores) if r is not None
    )
    values = {r.rule.id: r.value for r in results}
    flags = tuple(flag for flag in form.flags if evaluate(flag.when, answers, values))
    return ScoreReport(form, results, flags)


def score_forms(forms: Iterable[Form], answers: Mapping[str, AnswerValue]) -> list[ScoreReport]:
    """Score several forms against one visit's answers."""
    return [score_form(form, answers) for form in forms]


def score_raw_answers(form: Form, raw: Mapping[str, object], today: dt.date) -> ScoreReport:
    """Validate raw answers (e.g. from a JSON file) and score them.

    Raises:
        UnscorableAnswersError: naming every missing required item and every invalid answer.
    """

    answers: dict[str, AnswerValue] = {}
    invalid: dict[str, AnswerProblem] = {}
    known = {item.id: item for item in form.items}
    for item_id, value in raw.items():
        if item_id not in known:
            invalid[item_id] = AnswerProblem.UNKNOWN_ITEM
            continue
        checked = validate(known[item_id], value, today)
        if checked.problem is AnswerProblem.REQUIRED:
            continue
        if checked.problem is not None:
            invalid[item_id] = checked.problem
        elif checked.value is not None:
            answers[item_id] = checked.value
    missing = [
        item.id
        for item in visible_items([form], answers)
        if item.required and item.id not in answers and item.id not in invalid
    ]
    if missing or invalid:
        raise UnscorableAnswersError(missing, invalid)
    return score_form(form, answers)
