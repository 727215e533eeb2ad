"""Scores, bands and flags declared in form data; scoring raw answers from a file."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest

from kiosk.domain.answers import AnswerProblem
from kiosk.domain.loader import load_document
from kiosk.domain.model import AnswerValue, Form, ScoreMethod, ScoreRule
from kiosk.domain.scoring import (
    UnscorableAnswersError,
    compute_score,
    score_form,
    score_raw_answers,
)
from kiosk.paths import FORMS_DIR
from tests.domain.conftest import PHQ9_BANDS

TODAY = dt.date(2024, 6, 1)
PHQ9_ITEMS = tuple(f"phq9_{n}" for n in range(1, 10))
SHIPPED_PHQ9 = FORMS_DIR / "phq9.yaml"

PEG_YAML = """\
kind: questionnaire
id: peg
version: 2
title: {en: PEG, es: PEG}
pages:
  - id: peg_page
    items:
      - {id: peg_1, type: scale, text: {en: Pain, es: Dolor}}
      - {id: peg_2, type: scale, text: {en: Enjoyment, es: Disfrute}}
      - {id: peg_3, type: scale, text: {en: Activity, es: Actividad}}
scores:
  - id: peg_mean
    method: mean
    items: [peg_1, peg_2, peg_3]
    label: {en: PEG score, es: Puntuación PEG}
    bands:
      - {id: low, min: 0, max: 4, label: {en: Low, es: Baja}}
      - {id: high, min: 4.01, max: 10, label: {en: High, es: Alta}}
flags:
  - id: peg_high
    severity: review
    when: {score: peg_mean, gt: 6}
    message: {en: High PEG, es: PEG alto}
"""


@pytest.fixture(params=["written", "shipped"])
def any_phq9(request: pytest.FixtureRequest, phq9_form: Form) -> Form:
    """The PHQ-9 written for these tests, and the shipped forms/phq9.yaml when it exists."""
    if request.param == "written":
        return phq9_form
    if not SHIPPED_PHQ9.exists():
        pytest.skip(f"{SHIPPED_PHQ9} does not exist yet")
    form = load_document(SHIPPED_PHQ9)
    assert isinstance(form, Form)
    return form


@pytest.fixture
def peg_form(tmp_path: Path) -> Form:
    path = tmp_path / "peg.yaml"
    path.write_text(PEG_YAML, encoding="utf-8")
    form = load_document(path)
    assert isinstance(form, Form)
    return form


def phq9_answers(total: int, *, item9: int | None = None) -> dict[str, AnswerValue]:
    """PHQ-9 answers adding up to ``total``; item 9 fixed when ``item9`` is given."""
    answers: dict[str, AnswerValue] = {}
    remaining = total
    if item9 is not None:
        answers["phq9_9"] = item9
        remaining -= item9
    for item_id in PHQ9_ITEMS:
        if item_id in answers:
            continue
        value = min(3, remaining)
        answers[item_id] = value
        remaining -= value
    assert remaining == 0, f"{total} cannot be reached"
    return answers


def _rule(form: Form, rule_id: str) -> ScoreRule:
    return next(s for s in form.scores if s.id == rule_id)


# --- PHQ-9 bands ----------------------------------------------------------------------------------

BOUNDARIES = [(v, band) for band, low, high in PHQ9_BANDS for v in (low, high)]


@pytest.mark.parametrize(("total", "band"), BOUNDARIES, ids=[f"{t}-{b}" for t, b in BOUNDARIES])
def test_phq9_total_at_every_band_boundary(any_phq9: Form, total: int, band: str) -> None:
    report = score_form(any_phq9, phq9_answers(total))
    (result,) = [s for s in report.scores if s.rule.id == "phq9_total"]
    assert result.value == total
    assert result.band is not None
    assert result.band.id == band
    scores = report.as_json()["scores"]
    assert isinstance(scores, dict)
    assert scores["phq9_total"] == {"value": total, "band": band}


def test_phq9_bands_cover_every_possible_total_once(any_phq9: Form) -> None:
    rule = _rule(any_phq9, "phq9_total")
    assert rule.method is ScoreMethod.SUM
    assert rule.items == PHQ9_ITEMS
    for total in range(28):
        assert len([b for b in rule.bands if b.minimum <= total <= b.maximum]) == 1, total


# --- PHQ-9 item 9 flag ----------------------------------------------------------------------------


def test_item9_flag_raised_with_total_of_one(any_phq9: Form) -> None:
    report = score_form(any_phq9, phq9_answers(1, item9=1))
    assert [f.id for f in report.flags] == ["phq9_item9"]
    assert report.scores[0].value == 1
    assert report.scores[0].band is not None and report.scores[0].band.id == "minimal"
    assert report.as_json()["flags"] == ["phq9_item9"]


@pytest.mark.parametrize("item9", [2, 3])
def test_item9_flag_raised_for_higher_answers(any_phq9: Form, item9: int) -> None:
    assert [f.id for f in score_form(any_phq9, phq9_answers(item9, item9=item9)).flags] == [
        "phq9_item9"
    ]


def test_item9_flag_not_raised_when_item9_is_zero_whatever_the_total(any_phq9: Form) -> None:
    # Items 1–8 can add up to at most 24 (eight items of 0–3), the highest total with item 9 = 0.
    answers = phq9_answers(24, item9=0)
    report = score_form(any_phq9, answers)
    assert report.flags == ()
    assert report.scores[0].value == 24
    assert report.scores[0].band is not None and report.scores[0].band.id == "severe"
    assert report.as_json()["flags"] == []


def test_item9_flag_is_raised_even_when_the_total_cannot_be_scored(any_phq9: Form) -> None:
    report = score_form(any_phq9, {"phq9_9": 2})
    assert report.scores == ()
    assert [f.id for f in report.flags] == ["phq9_item9"]


# --- what is summed -------------------------------------------------------------------------------


def test_difficulty_item_is_not_summed(phq9_form: Form) -> None:
    answers = phq9_answers(9)
    answers["phq9_difficulty"] = 3
    report = score_form(phq9_form, answers)
    assert report.scores[0].value == 9
    assert report.scores[0].band is not None and report.scores[0].band.id == "mild"


def test_score_with_a_missing_item_is_not_computed(phq9_form: Form) -> None:
    answers = phq9_answers(0)
    del answers["phq9_4"]
    rule = _rule(phq9_form, "phq9_total")
    assert compute_score(rule, answers) is None
    assert score_form(phq9_form, answers).scores == ()
    assert score_form(phq9_form, answers).as_json()["scores"] == {}


def test_non_numeric_answers_are_never_summed(phq9_form: Form) -> None:
    rule = _rule(phq9_form, "phq9_total")
    answers = phq9_answers(0)
    assert compute_score(rule, {**answers, "phq9_1": True}) is None
    assert compute_score(rule, {**answers, "phq9_1": "3"}) is None


# --- means ----------------------------------------------------------------------------------------


def test_mean_score_is_not_rounded(peg_form: Form) -> None:
    report = score_form(peg_form, {"peg_1": 6, "peg_2": 6, "peg_3": 7})
    (result,) = report.scores
    assert result.rule.method is ScoreMethod.MEAN
    assert result.value == pytest.approx(19 / 3, abs=1e-12)
    assert result.value != round(result.value, 2)
    assert result.band is not None and result.band.id == "high"
    assert [f.id for f in report.flags] == ["peg_high"]
    data = report.as_json()
    assert data["scores"] == {"peg_mean": {"value": 19 / 3, "band": "high"}}
    # A whole-number mean is written as an integer.
    whole = score_form(peg_form, {"peg_1": 2, "peg_2": 3, "peg_3": 4}).as_json()
    assert whole["scores"] == {"peg_mean": {"value": 3, "band": "low"}}
    assert isinstance(whole["scores"], dict)
    assert type(whole["scores"]["peg_mean"]["value"]) is int
    assert whole["flags"] == []


def test_score_flags_use_computed_scores(peg_form: Form) -> None:
    assert score_form(peg_form, {"peg_1": 6, "peg_2": 6, "peg_3": 6}).flags == ()
    assert [f.id for f in score_form(peg_form, {"peg_1": 6, "peg_2": 6, "peg_3": 7}).flags] == [
        "peg_high"
    ]
    # No score (an item missing): a score condition cannot hold.
    assert score_form(peg_form, {"peg_1": 10, "peg_2": 10}).flags == ()


# --- JSON shape -----------------------------------------------------------------------------------


def test_as_json_shape(phq9_form: Form) -> None:
    data = score_form(phq9_form, phq9_answers(12, item9=1)).as_json()
    assert data == {
        "form": "phq9",
        "version": 1,
        "scores": {"phq9_total": {"value": 12, "band": "moderate"}},
        "flags": ["phq9_item9"],
    }
    assert json.loads(json.dumps(data)) == data
    assert list(data) == ["form", "version", "scores", "flags"]


def test_as_json_band_is_null_outside_every_band(peg_form: Form) -> None:
    rule = _rule(peg_form, "peg_mean")
    gappy = dataclasses.replace(
        rule, bands=(rule.bands[0], dataclasses.replace(rule.bands[1], minimum=5))
    )
    form = dataclasses.replace(peg_form, scores=(gappy,), flags=())
    data = score_form(form, {"peg_1": 4, "peg_2": 5, "peg_3": 5}).as_json()
    assert data["scores"] == {"peg_mean": {"value": 14 / 3, "band": None}}


# --- raw answers from a file ----------------------------------------------------------------------


def test_score_raw_answers_valid(phq9_form: Form) -> None:
    raw: dict[str, object] = dict(phq9_answers(15, item9=0))
    report = score_raw_answers(phq9_form, raw, TODAY)
    assert report.as_json() == {
        "form": "phq9",
        "version": 1,
        "scores": {"phq9_total": {"value": 15, "band": "moderately_severe"}},
        "flags": [],
    }


def test_score_raw_answers_names_missing_items(phq9_form: Form) -> None:
    raw: dict[str, object] = {f"phq9_{n}": 1 for n in range(1, 8)}
    with pytest.raises(UnscorableAnswersError) as caught:
        score_raw_answers(phq9_form, raw, TODAY)
    assert caught.value.missing == ["phq9_8", "phq9_9"]
    assert caught.value.invalid == {}
    assert "phq9_8" in str(caught.value) and "phq9_9" in str(caught.value)
    assert "phq9_difficulty" not in str(caught.value)  # optional


def test_score_raw_answers_treats_null_and_empty_as_missing(phq9_form: Form) -> None:
    raw: dict[str, object] = {**phq9_answers(0), "phq9_2": None, "phq9_5": ""}
    with pytest.raises(UnscorableAnswersError) as caught:
        score_raw_answers(phq9_form, raw, TODAY)
    assert caught.value.missing == ["phq9_2", "phq9_5"]


def test_score_raw_answers_names_out_of_range_and_unknown_items(phq9_form: Form) -> None:
    raw: dict[str, object] = {
        **phq9_answers(5),
        "phq9_3": 4,
        "phq9_6": True,
        "phq9_10": 1,
    }
    del raw["phq9_9"]
    with pytest.raises(UnscorableAnswersError) as caught:
        score_raw_answers(phq9_form, raw, TODAY)
    error = caught.value
    assert error.missing == ["phq9_9"]
    assert error.invalid == {
        "phq9_3": AnswerProblem.NOT_A_CHOICE,
        "phq9_6": AnswerProblem.NOT_A_CHOICE,
        "phq9_10": AnswerProblem.UNKNOWN_ITEM,
    }
    message = str(error)
    for item_id in ("phq9_3", "phq9_6", "phq9_9", "phq9_10"):
        assert item_id in message
    assert isinstance(error, ValueError)


def test_score_raw_answers_mean_form_out_of_range(peg_form: Form) -> None:
    with pytest.raises(UnscorableAnswersError) as caught:
        score_raw_answers(peg_form, {"peg_1": 11, "peg_2": -1, "peg_3": 5}, TODAY)
    assert caught.value.invalid == {
        "peg_1": AnswerProblem.OUT_OF_RANGE,
        "peg_2": AnswerProblem.OUT_OF_RANGE,
    }
    assert caught.value.missing == []
