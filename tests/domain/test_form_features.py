"""List and tick-box items, exclusive choices, clinic settings in text, and quiz checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.domain.answers import AnswerProblem, Checked, validate
from kiosk.domain.conditions import evaluate
from kiosk.domain.errors import FormError
from kiosk.domain.loader import load_document
from kiosk.domain.model import Form, ItemType
from tests.domain.conftest import CONSENT_YAML, TODAY

FORM_YAML = """\
kind: questionnaire
id: meds
version: 1
published_wording: true
title: {en: "Medicines at {clinic_name}", es: "Medicamentos en {clinic_name}"}
pages:
  - id: list
    items:
      - id: medicines
        type: list
        text: {en: Your medicines, es: Sus medicamentos}
        add_label: {en: Add another medicine, es: Añadir otro medicamento}
        max_rows: 3
        columns:
          - {id: name, text: {en: Name, es: Nombre}, max_length: 20}
          - {id: dose, text: {en: How much, es: Cuánto}, required: false}
  - id: which
    items:
      - id: conditions
        type: multi_choice
        text: {en: "Do you have any of these? Call {clinic_phone}.", es: "¿Tiene alguno? {{no}}"}
        choices:
          - {value: "heart", label: {en: Heart disease, es: Enfermedad del corazón}}
          - {value: "seizures", label: {en: Seizures, es: Convulsiones}}
          - {value: "none", label: {en: None of these, es: Ninguno}, exclusive: true}
  - id: agree
    items:
      - id: understood
        type: agree
        text:
          en: "No food for {fasting_food_hours} hours"
          es: "Sin comer {fasting_food_hours} horas"
  - id: food
    items:
      - id: last_food
        type: single_choice
        text: {en: Last food, es: Última comida}
        choices:
          - {value: 0, label: {en: Under 2 hours, es: Menos de 2 horas}}
          - {value: 6, label: {en: 6 hours or more, es: 6 horas o más}}
flags:
  - id: ate_recently
    severity: review
    when: {item: last_food, lt: {setting: fasting_food_hours}}
    message: {en: Ate recently, es: Comió hace poco}
  - id: no_medicines
    severity: info
    when: {item: medicines, answered: false}
    message: {en: No medicines listed, es: Sin medicamentos}
"""


def write(tmp_path: Path, text: str, name: str = "form.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def form(tmp_path: Path) -> Form:
    document = load_document(write(tmp_path, FORM_YAML), {"clinic_name": "Sunrise Clinic"})
    assert isinstance(document, Form)
    return document


def problems_of(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(FormError) as caught:
        load_document(write(tmp_path, text))
    return [f"{p.line}: {p.message}" for p in caught.value.problems]


# --- loading ---------------------------------------------------------------------------------


def test_list_items_load_with_their_columns(form: Form) -> None:
    item = form.item("medicines")
    assert item.type is ItemType.LIST
    assert [c.id for c in item.columns] == ["name", "dose"]
    assert [c.required for c in item.columns] == [True, False]
    assert item.max_rows == 3
    assert item.add_label is not None and item.add_label.get("es") == "Añadir otro medicamento"
    assert form.published_wording


def test_clinic_settings_fill_placeholders_and_defaults_cover_the_rest(form: Form) -> None:
    assert form.title.get("en") == "Medicines at Sunrise Clinic"
    assert form.item("conditions").text.get("en") == "Do you have any of these? Call 555-0100."
    assert form.item("understood").text.get("es") == "Sin comer 6 horas"
    assert form.item("conditions").text.get("es") == "¿Tiene alguno? {no}"  # {{ }} are braces


def test_a_setting_can_be_a_condition_operand(tmp_path: Path) -> None:
    strict = load_document(write(tmp_path, FORM_YAML), {"fasting_food_hours": "8"})
    assert isinstance(strict, Form)
    flag = next(f for f in strict.flags if f.id == "ate_recently")
    assert evaluate(flag.when, {"last_food": 6})
    assert not evaluate(flag.when, {"last_food": 8})


def test_unknown_placeholder_is_reported_with_a_suggestion(tmp_path: Path) -> None:
    text = FORM_YAML.replace("{clinic_phone}", "{clinic_phon}")
    [problem] = problems_of(tmp_path, text)
    assert "'{clinic_phon}'" in problem and "did you mean 'clinic_phone'" in problem


def test_unknown_setting_operand_is_reported(tmp_path: Path) -> None:
    text = FORM_YAML.replace("{setting: fasting_food_hours}", "{setting: fasting_hours}")
    [problem] = problems_of(tmp_path, text)
    assert "setting 'fasting_hours'" in problem and "did you mean" in problem


def test_exclusive_is_only_for_multi_choice(tmp_path: Path) -> None:
    text = FORM_YAML.replace(
        "{value: 6, label: {en: 6 hours or more, es: 6 horas o más}}",
        "{value: 6, label: {en: 6 hours or more, es: 6 horas o más}, exclusive: true}",
    )
    [problem] = problems_of(tmp_path, text)
    assert "'exclusive' is only for multi_choice" in problem


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "        add_label: {en: Add another medicine, es: Añadir otro medicamento}\n",
            "",
            "add_label",
        ),
        (
            "          - {id: name, text: {en: Name, es: Nombre}, max_length: 20}\n",
            "",
            "first column",
        ),
        ("        max_rows: 3\n", "        max_rows: 0\n", "at least 1"),
        ("        type: agree\n", "        type: agree\n        max_rows: 2\n", "only for list"),
        ("when: {item: medicines, answered: false}", "when: {item: medicines, equals: x}", "list"),
    ],
)
def test_list_mistakes_are_reported(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in FORM_YAML
    problems = problems_of(tmp_path, FORM_YAML.replace(old, new))
    assert any(expected in p for p in problems), problems


# --- answers ---------------------------------------------------------------------------------


def test_list_answers_drop_blank_rows_and_clean_text(form: Form) -> None:
    item = form.item("medicines")
    raw = [
        {"name": "  Gabapentin ", "dose": "300 mg\tat night"},
        {"name": "", "dose": ""},
        {"name": "Ibuprofen"},
    ]
    assert validate(item, raw, TODAY) == Checked(
        (
            {"name": "Gabapentin", "dose": "300 mg at night"},
            {"name": "Ibuprofen", "dose": ""},
        )
    )


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ([{"name": "", "dose": "2 a day"}], AnswerProblem.ROW_INCOMPLETE),
        ([{"name": "x" * 21}], AnswerProblem.TOO_LONG),
        ([{"name": f"m{i}"} for i in range(4)], AnswerProblem.TOO_MANY_ROWS),
        ([{"name": "", "dose": ""}], AnswerProblem.REQUIRED),
        ([{"brand": "x"}], AnswerProblem.UNKNOWN_ITEM),
        ("Gabapentin", AnswerProblem.NOT_A_CHOICE),
        ([["Gabapentin"]], AnswerProblem.NOT_A_CHOICE),
        ([{"name": 5}], AnswerProblem.NOT_A_CHOICE),
    ],
)
def test_list_answer_problems(form: Form, raw: object, problem: AnswerProblem) -> None:
    assert validate(form.item("medicines"), raw, TODAY).problem is problem


def test_agree_must_be_ticked(form: Form) -> None:
    item = form.item("understood")
    assert validate(item, True, TODAY) == Checked(True)
    assert validate(item, False, TODAY).problem is AnswerProblem.REQUIRED
    assert validate(item, "yes", TODAY).problem is AnswerProblem.NOT_A_CHOICE


def test_an_exclusive_choice_cannot_be_combined(form: Form) -> None:
    item = form.item("conditions")
    assert validate(item, ["none"], TODAY) == Checked(("none",))
    assert validate(item, ["seizures", "heart"], TODAY) == Checked(("heart", "seizures"))
    assert validate(item, ["heart", "none"], TODAY).problem is AnswerProblem.EXCLUSIVE_CHOICE


# --- consent quiz checks ---------------------------------------------------------------------

QUIZ_TAIL = """\
quiz:
  flag: {id: discuss, severity: review, message: {en: Discuss, es: Hablar}}
  questions:
    - id: q1
      section: risk
      text: {en: Question, es: Pregunta}
      choices:
        - {value: "a", label: {en: A, es: A}}
        - {value: "b", label: {en: B, es: B}}
      correct: "c"
attestations:
  - id: attest_read
    type: text
    text: {en: I read it, es: Lo leí}
flags:
  - id: f1
    severity: review
    when: {item: q1, equals: "a"}
    message: {en: x, es: x}
"""


def test_quiz_and_attestation_mistakes_are_all_reported(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, CONSENT_YAML + QUIZ_TAIL)
    joined = "\n".join(problems)
    assert "section 'risk', which does not exist; did you mean 'risks'?" in joined
    assert "'correct' is 'c', which is not one of its choices" in joined
    assert "attestation 'attest_read' must be agree, yes_no or single_choice" in joined
    assert "flag 'f1' looks at item 'q1', which does not exist" in joined
