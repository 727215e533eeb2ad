"""The shipped intake questionnaires raise the right named flag, at the right severity.

Answers are given as the kiosk stores them: int or str for a choice, a tuple of str for a
multi_choice, bool for yes_no. Every flag is for clinician review: none of them stops a
patient (the guideline's contraindications are relative).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path

import pytest

from kiosk.domain.conditions import page_visible
from kiosk.domain.loader import load_document
from kiosk.domain.model import AnswerValue, Form, Page, Severity
from kiosk.domain.scoring import score_form
from kiosk.paths import FORMS_DIR

REVIEW = Severity.REVIEW
URGENT = Severity.URGENT
INFO = Severity.INFO
OWN_FORMS = ("intake", "pain_history", "medicines", "medical_history", "infusion_day")


@cache
def _form(form_id: str) -> Form:
    return _load(FORMS_DIR / f"{form_id}.yaml")


def _load(path: Path, settings: Mapping[str, str] | None = None) -> Form:
    form = load_document(path, settings)
    assert isinstance(form, Form)
    return form


def _flags(form: Form, answers: Mapping[str, AnswerValue]) -> dict[str, Severity]:
    return {flag.id: flag.severity for flag in score_form(form, answers).flags}


def _page_of(form: Form, item_id: str) -> Page:
    return next(page for page in form.pages if item_id in {item.id for item in page.items})


# --- medical history: relative contraindications, mental health, substances ------------------

# (item, answer, flag raised, severity): every choice that asks a clinician to look.
MEDICAL_FLAGS: tuple[tuple[str, str, str, Severity], ...] = (
    ("heart_conditions", "high_blood_pressure_uncontrolled", "ci_high_blood_pressure", URGENT),
    ("heart_conditions", "heart_disease", "ci_heart_disease", REVIEW),
    ("heart_conditions", "irregular_heartbeat", "ci_irregular_heartbeat", REVIEW),
    ("heart_conditions", "stroke", "ci_stroke", REVIEW),
    ("brain_eye_conditions", "head_injury_brain_pressure", "ci_brain_pressure", REVIEW),
    ("brain_eye_conditions", "glaucoma_eye_pressure", "ci_eye_pressure", REVIEW),
    ("brain_eye_conditions", "seizures", "ci_seizures", REVIEW),
    ("other_health_conditions", "severe_liver_disease", "ci_liver_disease", REVIEW),
    ("other_health_conditions", "bladder_problems", "ci_bladder_problems", REVIEW),
    (
        "other_health_conditions",
        "sleep_apnea_lung_disease",
        "ci_sleep_apnea_lung_disease",
        REVIEW,
    ),
    ("other_health_conditions", "ketamine_bad_reaction", "ci_ketamine_bad_reaction", REVIEW),
    ("mental_health_history", "psychosis", "ci_psychosis", URGENT),
    ("mental_health_history", "bipolar", "bipolar_disorder", REVIEW),
    ("other_drugs", "stimulants", "stimulant_drug_use", REVIEW),
    ("other_drugs", "opioids_not_prescribed", "opioid_misuse", REVIEW),
    ("other_drugs", "ketamine_or_pcp", "ketamine_or_pcp_misuse", REVIEW),
    ("other_drugs", "other", "other_drug_use", INFO),
)
CHECKLISTS = (
    "heart_conditions",
    "brain_eye_conditions",
    "other_health_conditions",
    "mental_health_history",
    "other_drugs",
)
NOT_FLAGGED = {"mental_health_history": {"depression", "anxiety", "ptsd", "other"}}
"""Checklist answers that raise no flag (the PHQ-9 and GAD-7 measure them)."""


@pytest.mark.parametrize(("item_id", "answer", "flag_id", "severity"), MEDICAL_FLAGS)
def test_each_checklist_answer_raises_its_flag(
    item_id: str, answer: str, flag_id: str, severity: Severity
) -> None:
    assert _flags(_form("medical_history"), {item_id: (answer,)}) == {flag_id: severity}


@pytest.mark.parametrize("item_id", CHECKLISTS)
def test_every_checklist_choice_is_flagged_or_known_to_be_safe(item_id: str) -> None:
    choices = {str(c.value) for c in _form("medical_history").item(item_id).choices}
    flagged = {answer for item, answer, _, _ in MEDICAL_FLAGS if item == item_id}
    assert choices == flagged | NOT_FLAGGED.get(item_id, set()) | {"none"}


@pytest.mark.parametrize("item_id", CHECKLISTS)
def test_none_is_exclusive_and_raises_no_flag(item_id: str) -> None:
    form = _form("medical_history")
    none = form.item(item_id).choice("none")
    assert none is not None
    assert none.exclusive
    assert _flags(form, {item_id: ("none",)}) == {}


@pytest.mark.parametrize("answer", sorted(NOT_FLAGGED["mental_health_history"]))
def test_mental_health_answers_without_a_flag(answer: str) -> None:
    assert _flags(_form("medical_history"), {"mental_health_history": (answer,)}) == {}


def test_several_conditions_raise_several_flags() -> None:
    answers: dict[str, AnswerValue] = {
        "heart_conditions": ("heart_disease", "stroke"),
        "brain_eye_conditions": ("seizures",),
    }
    assert _flags(_form("medical_history"), answers) == {
        "ci_heart_disease": REVIEW,
        "ci_stroke": REVIEW,
        "ci_seizures": REVIEW,
    }


@pytest.mark.parametrize("answer", ["pregnant", "might_be_pregnant", "breastfeeding"])
def test_pregnancy_answers_raise_the_pregnancy_flag(answer: str) -> None:
    assert _flags(_form("medical_history"), {"pregnancy": answer}) == {"ci_pregnancy": REVIEW}


def test_not_pregnant_raises_no_flag() -> None:
    assert _flags(_form("medical_history"), {"pregnancy": "no"}) == {}


@pytest.mark.parametrize(
    ("sex", "shown"),
    [("female", True), ("intersex", True), ("prefer_not_to_say", True), ("male", False)],
)
def test_pregnancy_page_depends_on_sex_at_birth(sex: str, shown: bool) -> None:
    form = _form("medical_history")
    page = _page_of(form, "pregnancy")
    assert page_visible(page, {"sex_at_birth": sex}) is shown


def test_sex_at_birth_is_asked_first_and_explained() -> None:
    form = _form("medical_history")
    first = form.pages[0].items[0]
    assert first.id == "sex_at_birth"
    assert first.help is not None
    assert {str(c.value) for c in first.choices} == {
        "female",
        "male",
        "intersex",
        "prefer_not_to_say",
    }


@pytest.mark.parametrize(
    ("item_id", "flag_id", "severity"),
    [
        ("past_self_harm", "self_harm_history", REVIEW),
        ("substance_problem", "ci_substance_use", REVIEW),
    ],
)
def test_yes_no_answers_raise_their_flag_only_on_yes(
    item_id: str, flag_id: str, severity: Severity
) -> None:
    form = _form("medical_history")
    assert _flags(form, {item_id: True}) == {flag_id: severity}
    assert _flags(form, {item_id: False}) == {}


@pytest.mark.parametrize(
    ("item_id", "answer", "expected"),
    [
        ("alcohol", "never", {}),
        ("alcohol", "monthly_or_less", {}),
        ("alcohol", "weekly", {}),
        ("alcohol", "most_days", {"alcohol_most_days": REVIEW}),
        ("cannabis", "never", {}),
        ("cannabis", "past_only", {}),
        ("cannabis", "sometimes", {}),
        ("cannabis", "daily", {"cannabis_daily": INFO}),
    ],
)
def test_alcohol_and_cannabis(item_id: str, answer: str, expected: dict[str, Severity]) -> None:
    form = _form("medical_history")
    assert {str(c.value) for c in form.item(item_id).choices} >= {answer}
    assert _flags(form, {item_id: answer}) == expected


# --- medicines --------------------------------------------------------------------------------

MEDICINE_FLAGS: tuple[tuple[str, str, Severity], ...] = (
    ("benzodiazepines", "med_benzodiazepine", REVIEW),
    ("lamotrigine", "med_lamotrigine", REVIEW),
    ("opioids", "med_opioid", REVIEW),
    ("stimulants", "med_stimulant", REVIEW),
    ("maoi", "med_maoi", REVIEW),
    ("not_sure", "med_not_sure", INFO),
)


@pytest.mark.parametrize(("answer", "flag_id", "severity"), MEDICINE_FLAGS)
def test_each_medicine_of_interest_raises_its_flag(
    answer: str, flag_id: str, severity: Severity
) -> None:
    form = _form("medicines")
    assert _flags(form, {"medicines_of_interest": (answer,)}) == {flag_id: severity}


def test_medicines_of_interest_choices() -> None:
    item = _form("medicines").item("medicines_of_interest")
    values = [str(c.value) for c in item.choices]
    assert values == [answer for answer, _, _ in MEDICINE_FLAGS[:5]] + ["none", "not_sure"]
    assert [str(c.value) for c in item.choices if c.exclusive] == ["none", "not_sure"]


def test_no_medicine_of_interest_raises_no_flag() -> None:
    assert _flags(_form("medicines"), {"medicines_of_interest": ("none",)}) == {}


def test_several_medicines_raise_several_flags() -> None:
    answers: dict[str, AnswerValue] = {"medicines_of_interest": ("benzodiazepines", "opioids")}
    assert _flags(_form("medicines"), answers) == {
        "med_benzodiazepine": REVIEW,
        "med_opioid": REVIEW,
    }


@pytest.mark.parametrize(
    ("question", "list_item"),
    [("takes_medicines", "current_medicines"), ("has_allergies", "allergies")],
)
def test_lists_show_only_after_yes(question: str, list_item: str) -> None:
    page = _page_of(_form("medicines"), list_item)
    assert page_visible(page, {question: True})
    assert not page_visible(page, {question: False})


# --- intake: today's driver ---------------------------------------------------------------


def test_no_driver_raises_a_review_flag() -> None:
    assert _flags(_form("intake"), {"has_driver": False}) == {"no_driver": REVIEW}
    assert _flags(_form("intake"), {"has_driver": True}) == {}


def test_driver_details_show_only_with_a_driver() -> None:
    page = _page_of(_form("intake"), "driver_name")
    assert page_visible(page, {"has_driver": True})
    assert not page_visible(page, {"has_driver": False})


# --- pain history -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("helped_a_lot", {}),
        ("helped_some", {}),
        ("did_not_help", {}),
        ("bad_reaction", {"ketamine_bad_reaction_before": REVIEW}),
    ],
)
def test_ketamine_before_result(answer: str, expected: dict[str, Severity]) -> None:
    assert _flags(_form("pain_history"), {"ketamine_before_result": answer}) == expected


def test_ketamine_result_asked_only_after_ketamine() -> None:
    form = _form("pain_history")
    page = _page_of(form, "ketamine_before_result")
    assert page_visible(page, {"treatments_tried": ("surgery", "ketamine_before")})
    assert not page_visible(page, {"treatments_tried": ("surgery",)})
    none = form.item("treatments_tried").choice("none")
    assert none is not None
    assert none.exclusive


def test_other_pain_condition_asked_only_for_other() -> None:
    page = _page_of(_form("pain_history"), "pain_condition_other")
    assert page_visible(page, {"pain_conditions": ("migraine", "other")})
    assert not page_visible(page, {"pain_conditions": ("migraine",)})


# --- infusion day: fasting follows the clinic's settings -----------------------------------

# With the default settings (food 6 hours, clear liquids 2 hours).
DEFAULT_FOOD = {0: True, 2: True, 4: True, 6: False, 8: False}
DEFAULT_DRINK = {0: True, 1: True, 2: False, 4: False}


@pytest.mark.parametrize(("hours", "flagged"), sorted(DEFAULT_FOOD.items()))
def test_food_flag_with_default_settings(hours: int, flagged: bool) -> None:
    expected = {"ate_recently": REVIEW} if flagged else {}
    assert _flags(_form("infusion_day"), {"last_food": hours}) == expected


@pytest.mark.parametrize(("hours", "flagged"), sorted(DEFAULT_DRINK.items()))
def test_drink_flag_with_default_settings(hours: int, flagged: bool) -> None:
    expected = {"drank_recently": REVIEW} if flagged else {}
    assert _flags(_form("infusion_day"), {"last_drink": hours}) == expected


def test_fasting_choices_cover_every_answer() -> None:
    form = _form("infusion_day")
    assert [c.value for c in form.item("last_food").choices] == list(DEFAULT_FOOD)
    assert [c.value for c in form.item("last_drink").choices] == list(DEFAULT_DRINK)


def test_fasting_flags_follow_the_clinic_settings() -> None:
    settings = {"fasting_food_hours": "8", "fasting_clear_liquid_hours": "4"}
    form = _load(FORMS_DIR / "infusion_day.yaml", settings)
    assert _flags(form, {"last_food": 6}) == {"ate_recently": REVIEW}
    assert _flags(form, {"last_food": 8}) == {}
    assert _flags(form, {"last_drink": 2}) == {"drank_recently": REVIEW}
    assert _flags(form, {"last_drink": 4}) == {}
    messages = {flag.id: flag.message.get("en") for flag in form.flags}
    assert "less than 8 hours ago" in messages["ate_recently"]
    assert "less than 4 hours ago" in messages["drank_recently"]


# --- across the clinic's own questionnaires -----------------------------------------------


def test_item_and_flag_ids_are_unique_across_the_intake_forms() -> None:
    items = [item.id for form_id in OWN_FORMS for item in _form(form_id).items]
    flags = [flag.id for form_id in OWN_FORMS for flag in _form(form_id).flags]
    assert len(items) == len(set(items))
    assert len(flags) == len(set(flags))


@pytest.mark.parametrize("form_id", OWN_FORMS)
def test_every_flag_message_is_in_both_languages(form_id: str) -> None:
    for flag in _form(form_id).flags:
        english, spanish = flag.message.values["en"], flag.message.values["es"]
        assert english.strip()
        assert spanish.strip()
        assert english != spanish, flag.id
