"""The validated instruments shipped in ``forms/`` (PHQ-9, GAD-7, PEG): wording, codes and scoring.

Every band boundary is scored from the real form files, and ``kiosk forms score`` is run on each.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kiosk.cli import main
from kiosk.domain.loader import load_document
from kiosk.domain.model import AnswerValue, Form, ScoreMethod
from kiosk.domain.scoring import ScoreReport, ScoreResult, compute_score, score_form
from kiosk.paths import FORMS_DIR

PHQ9_ITEMS = tuple(f"phq9_{n}" for n in range(1, 10))
GAD7_ITEMS = tuple(f"gad7_{n}" for n in range(1, 8))
PEG_ITEMS = ("peg_pain", "peg_enjoyment", "peg_activity")

FREQUENCY_CODES: dict[int, str] = {0: "LA6568-5", 1: "LA6569-3", 2: "LA6570-1", 3: "LA6571-9"}
GAD7_STEM = "Over the last 2 weeks, how often have you been bothered by the following problems?"
GAD7_ITEMS_TEXT_LOINC: dict[str, tuple[str, str]] = {
    "gad7_1": ("Feeling nervous, anxious, or on edge", "69725-0"),
    "gad7_2": ("Not being able to stop or control worrying", "68509-9"),
    "gad7_3": ("Worrying too much about different things", "69733-4"),
    "gad7_4": ("Trouble relaxing", "69734-2"),
    "gad7_5": ("Being so restless that it is hard to sit still", "69735-9"),
    "gad7_6": ("Becoming easily annoyed or irritable", "69689-8"),
    "gad7_7": ("Feeling afraid, as if something awful might happen", "69736-7"),
}
PEG_ITEMS_TEXT: dict[str, tuple[str, str, str, str]] = {
    "peg_pain": (
        "What number best describes your pain on average in the past week?",
        "75893-8",
        "No pain",
        "Pain as bad as you can imagine",
    ),
    "peg_enjoyment": (
        "What number best describes how, during the past week, pain has interfered with your "
        "enjoyment of life?",
        "91145-3",
        "Does not interfere",
        "Completely interferes",
    ),
    "peg_activity": (
        "What number best describes how, during the past week, pain has interfered with your "
        "general activity?",
        "91146-1",
        "Does not interfere",
        "Completely interferes",
    ),
}


def _load(form_id: str) -> Form:
    form = load_document(FORMS_DIR / f"{form_id}.yaml")
    assert isinstance(form, Form)
    return form


@pytest.fixture(scope="module")
def forms() -> dict[str, Form]:
    return {form_id: _load(form_id) for form_id in ("phq9", "gad7", "peg")}


def spread(total: int, items: tuple[str, ...], highest: int = 3) -> dict[str, AnswerValue]:
    """Answers adding up to ``total``, one point at a time round the items, so every item counts."""
    assert 0 <= total <= highest * len(items)
    answers: dict[str, AnswerValue] = dict.fromkeys(items, 0)
    for point in range(total):
        item = items[point % len(items)]
        current = answers[item]
        assert isinstance(current, int)
        answers[item] = current + 1
    return answers


def result(report: ScoreReport, score_id: str) -> ScoreResult:
    return next(s for s in report.scores if s.rule.id == score_id)


# --- every band boundary ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "moderately_severe"),
        (19, "moderately_severe"),
        (20, "severe"),
        (27, "severe"),
    ],
)
def test_phq9_total_band_boundaries(forms: dict[str, Form], total: int, band: str) -> None:
    scored = result(score_form(forms["phq9"], spread(total, PHQ9_ITEMS)), "phq9_total")
    assert scored.value == total
    assert scored.band is not None
    assert scored.band.id == band


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "severe"),
        (21, "severe"),
    ],
)
def test_gad7_total_band_boundaries(forms: dict[str, Form], total: int, band: str) -> None:
    scored = result(score_form(forms["gad7"], spread(total, GAD7_ITEMS)), "gad7_total")
    assert scored.value == total
    assert scored.band is not None
    assert scored.band.id == band


@pytest.mark.parametrize(
    ("form_id", "score_id", "items"),
    [("phq9", "phq2_total", PHQ9_ITEMS), ("gad7", "gad2_total", GAD7_ITEMS)],
)
@pytest.mark.parametrize(
    ("total", "band"), [(0, "negative"), (2, "negative"), (3, "positive"), (6, "positive")]
)
def test_two_item_screen_band_boundaries(
    forms: dict[str, Form],
    form_id: str,
    score_id: str,
    items: tuple[str, ...],
    total: int,
    band: str,
) -> None:
    # Every other item is at its highest, so the screen must add up items 1 and 2 only.
    answers: dict[str, AnswerValue] = {**dict.fromkeys(items[2:], 3), **spread(total, items[:2])}
    scored = result(score_form(forms[form_id], answers), score_id)
    assert scored.value == total
    assert scored.band is not None
    assert scored.band.id == band


def test_two_item_screens_use_items_one_and_two_and_the_right_loinc(
    forms: dict[str, Form],
) -> None:
    phq2 = next(r for r in forms["phq9"].scores if r.id == "phq2_total")
    gad2 = next(r for r in forms["gad7"].scores if r.id == "gad2_total")
    assert (phq2.method, phq2.items, phq2.loinc) == (
        ScoreMethod.SUM,
        ("phq9_1", "phq9_2"),
        "55758-7",
    )
    assert (gad2.method, gad2.items, gad2.loinc) == (ScoreMethod.SUM, ("gad7_1", "gad7_2"), None)


def test_phq2_is_scored_even_before_the_rest_of_the_phq9(forms: dict[str, Form]) -> None:
    report = score_form(forms["phq9"], {"phq9_1": 2, "phq9_2": 1})
    assert [s.rule.id for s in report.scores] == ["phq2_total"]
    assert result(report, "phq2_total").value == 3


# --- GAD-7 flag -------------------------------------------------------------------------------


@pytest.mark.parametrize(("total", "raised"), [(0, False), (9, False), (10, True), (21, True)])
def test_gad7_flag_from_a_total_of_ten(forms: dict[str, Form], total: int, raised: bool) -> None:
    report = score_form(forms["gad7"], spread(total, GAD7_ITEMS))
    assert ("gad7_moderate_or_worse" in [f.id for f in report.flags]) is raised


def test_gad7_flag_asks_for_review_in_both_languages(forms: dict[str, Form]) -> None:
    (flag,) = forms["gad7"].flags
    assert (flag.id, flag.severity.value) == ("gad7_moderate_or_worse", "review")
    assert flag.message.values["en"]
    assert flag.message.values["es"]


# --- PEG --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "mean"),
    [
        ((0, 0, 0), 0.0),
        ((7, 6, 6), 19 / 3),
        ((1, 0, 0), 1 / 3),
        ((5, 5, 5), 5.0),
        ((10,) * 3, 10.0),
    ],
)
def test_peg_score_is_the_mean_with_no_band(
    forms: dict[str, Form], answers: tuple[int, int, int], mean: float
) -> None:
    rule = next(r for r in forms["peg"].scores if r.id == "peg_score")
    scored = compute_score(rule, dict(zip(PEG_ITEMS, answers, strict=True)))
    assert scored is not None
    assert scored.value == pytest.approx(mean)
    assert scored.band is None


def test_peg_score_is_stored_unrounded(forms: dict[str, Form]) -> None:
    answers: dict[str, AnswerValue] = {"peg_pain": 7, "peg_enjoyment": 6, "peg_activity": 6}
    scored = result(score_form(forms["peg"], answers), "peg_score")
    assert scored.value == pytest.approx(6.3333333333)
    assert scored.value != round(scored.value, 1)
    assert scored.value != round(scored.value, 2)


def test_peg_score_rule(forms: dict[str, Form]) -> None:
    (rule,) = forms["peg"].scores
    assert (rule.id, rule.method, rule.items, rule.loinc) == (
        "peg_score",
        ScoreMethod.MEAN,
        PEG_ITEMS,
        "91147-9",
    )
    assert rule.bands == ()


@pytest.mark.parametrize("item_id", PEG_ITEMS)
def test_peg_items_wording_codes_and_range(forms: dict[str, Form], item_id: str) -> None:
    text, loinc, lowest, highest = PEG_ITEMS_TEXT[item_id]
    item = forms["peg"].item(item_id)
    assert item.text.values["en"] == text
    assert item.loinc == loinc
    assert (item.minimum, item.maximum) == (0, 10)
    assert item.min_label is not None
    assert item.max_label is not None
    assert (item.min_label.values["en"], item.max_label.values["en"]) == (lowest, highest)


# --- GAD-7 wording and codes ------------------------------------------------------------------


def test_gad7_has_seven_items_one_per_page_in_order(forms: dict[str, Form]) -> None:
    gad7 = forms["gad7"]
    assert [tuple(i.id for i in page.items) for page in gad7.pages] == [(i,) for i in GAD7_ITEMS]
    assert gad7.loinc == "69737-5"


@pytest.mark.parametrize("item_id", GAD7_ITEMS)
def test_gad7_item_loinc_and_answer_codes(forms: dict[str, Form], item_id: str) -> None:
    item = forms["gad7"].item(item_id)
    assert item.loinc == GAD7_ITEMS_TEXT_LOINC[item_id][1]
    assert {c.value: c.code for c in item.choices} == FREQUENCY_CODES
    assert [c.value for c in item.choices] == [0, 1, 2, 3]


@pytest.mark.parametrize("item_id", GAD7_ITEMS)
def test_gad7_english_wording_is_the_published_one(forms: dict[str, Form], item_id: str) -> None:
    page = next(p for p in forms["gad7"].pages if p.items[0].id == item_id)
    assert page.intro is not None
    assert page.intro.values["en"] == GAD7_STEM
    assert page.items[0].text.values["en"] == GAD7_ITEMS_TEXT_LOINC[item_id][0]


def test_gad7_answer_labels_match_the_phq9_in_both_languages(forms: dict[str, Form]) -> None:
    gad7_labels = [c.label.values for c in forms["gad7"].item("gad7_1").choices]
    phq9_labels = [c.label.values for c in forms["phq9"].item("phq9_1").choices]
    assert gad7_labels == phq9_labels


@pytest.mark.parametrize("form_id", ["phq9", "gad7", "peg"])
def test_instruments_are_marked_as_published_wording(forms: dict[str, Form], form_id: str) -> None:
    assert forms[form_id].published_wording is True


# --- kiosk forms score ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("form_id", "answers", "scores", "flags"),
    [
        (
            "phq9",
            {
                **dict(zip(PHQ9_ITEMS, (2, 1, 3, 2, 1, 0, 1, 0, 1), strict=True)),
                "phq9_difficulty": "somewhat",
            },
            {
                "phq9_total": {"value": 11, "band": "moderate"},
                "phq2_total": {"value": 3, "band": "positive"},
            },
            ["phq9_item9"],
        ),
        (
            "gad7",
            dict(zip(GAD7_ITEMS, (2, 1, 2, 1, 2, 1, 1), strict=True)),
            {
                "gad7_total": {"value": 10, "band": "moderate"},
                "gad2_total": {"value": 3, "band": "positive"},
            },
            ["gad7_moderate_or_worse"],
        ),
        (
            "peg",
            {"peg_pain": 7, "peg_enjoyment": 6, "peg_activity": 6},
            {"peg_score": {"value": pytest.approx(19 / 3), "band": None}},
            [],
        ),
    ],
)
def test_kiosk_forms_score(
    forms: dict[str, Form],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    form_id: str,
    answers: dict[str, object],
    scores: dict[str, object],
    flags: list[str],
) -> None:
    answers_file = tmp_path / "answers.json"
    answers_file.write_text(json.dumps(answers), encoding="utf-8")
    form_file = FORMS_DIR / f"{form_id}.yaml"

    code = main(["forms", "score", str(form_file), "--answers", str(answers_file)])

    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert json.loads(captured.out) == {
        "form": form_id,
        "version": forms[form_id].version,
        "scores": scores,
        "flags": flags,
    }


def test_scores_are_shown_as_people_read_them() -> None:
    peg = _load("peg")
    report = score_form(peg, {"peg_pain": 7, "peg_enjoyment": 6, "peg_activity": 6})
    (result,) = report.scores
    assert result.value == pytest.approx(19 / 3)  # stored unrounded
    assert result.display == "6.3"  # shown to one decimal
    phq9 = _load("phq9")
    total = next(s for s in score_form(phq9, {f"phq9_{n}": 3 for n in range(1, 10)}).scores)
    assert total.display == "27"
