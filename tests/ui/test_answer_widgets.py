"""Answer widgets: one per item type, values that round-trip through the domain's validation."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton
from pytestqt.qtbot import QtBot

from kiosk.domain.answers import AnswerProblem, Checked, validate
from kiosk.domain.model import Choice, Item, ItemType, LocalizedText, Packet
from kiosk.ui.texts import Texts
from kiosk.ui.widgets.answers import (
    AnswerWidget,
    DateAnswer,
    ListAnswer,
    MultiChoiceAnswer,
    PhoneAnswer,
    ScaleAnswer,
    SingleChoiceAnswer,
    TextAnswer,
    YesNoAnswer,
    create_answer_widget,
)
from tests.conftest import CLINIC_TIME
from tests.ui.conftest import Show, tap

TODAY = CLINIC_TIME.date()
Hint = Qt.InputMethodHint


def _text(en: str, es: str) -> LocalizedText:
    return LocalizedText({"en": en, "es": es})


YES_NO_ITEM = Item(
    id="had_ketamine_before",
    type=ItemType.YES_NO,
    text=_text("Have you had ketamine before?", "¿Ha recibido ketamina antes?"),
)
MULTI_ITEM = Item(
    id="allergies",
    type=ItemType.MULTI_CHOICE,
    text=_text("Are you allergic to any of these?", "¿Es alérgico a alguno de estos?"),
    choices=(
        Choice("penicillin", _text("Penicillin", "Penicilina")),
        Choice("latex", _text("Latex", "Látex")),
        Choice("iodine", _text("Iodine", "Yodo")),
    ),
)


def _checked(item: Item, widget: AnswerWidget) -> Checked:
    return validate(item, widget.value(), TODAY)


def _buttons(widget: AnswerWidget) -> list[QPushButton]:
    return widget.findChildren(QPushButton)


def _checked_texts(widget: AnswerWidget) -> list[str]:
    return [b.text() for b in _buttons(widget) if b.isChecked()]


def _has_hints(edit: QLineEdit, *hints: Hint) -> bool:
    given = edit.inputMethodHints()
    return all(given & hint == hint for hint in hints)


# --- the factory ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("form_id", "item_id", "expected"),
    [
        ("intake", "patient_name", TextAnswer),
        ("intake", "birth_date", DateAnswer),
        ("intake", "phone", PhoneAnswer),
        ("medical_history", "sex_at_birth", SingleChoiceAnswer),
        ("pain_history", "pain_conditions", MultiChoiceAnswer),
        ("pain_history", "pain_now", ScaleAnswer),
        ("intake", "has_driver", YesNoAnswer),
        ("medicines", "current_medicines", ListAnswer),
        ("phq9", "phq9_1", SingleChoiceAnswer),
    ],
)
def test_the_factory_builds_the_widget_for_each_shipped_item_type(
    packet: Packet, texts_en: Texts, form_id: str, item_id: str, expected: type[AnswerWidget]
) -> None:
    item = packet.form(form_id).item(item_id)
    widget = create_answer_widget(item, texts_en)
    assert type(widget) is expected
    assert widget.objectName() == f"answer_{item_id}"
    assert widget.accessibleName() == item.text.get("en")


@pytest.mark.parametrize(
    ("item", "expected"), [(YES_NO_ITEM, YesNoAnswer), (MULTI_ITEM, MultiChoiceAnswer)]
)
def test_the_factory_builds_yes_no_and_multi_choice_widgets(
    texts_en: Texts, item: Item, expected: type[AnswerWidget]
) -> None:
    assert type(create_answer_widget(item, texts_en)) is expected


# --- text and phone ---------------------------------------------------------------------------


def test_text_round_trips_and_empty_text_is_required(packet: Packet, texts_en: Texts) -> None:
    item = packet.form("intake").item("patient_name")
    widget = create_answer_widget(item, texts_en)
    assert isinstance(widget, TextAnswer)
    widget.set_value("Rosa Prueba Núñez")
    assert widget.edit.text() == "Rosa Prueba Núñez"
    assert _checked(item, widget) == Checked("Rosa Prueba Núñez")
    widget.set_value(None)
    assert widget.edit.text() == ""
    assert _checked(item, widget) == Checked(problem=AnswerProblem.REQUIRED)


def test_phone_typed_loosely_is_normalised_and_round_trips(packet: Packet, texts_en: Texts) -> None:
    item = packet.form("intake").item("phone")
    widget = create_answer_widget(item, texts_en)
    assert isinstance(widget, PhoneAnswer)
    assert widget.edit.placeholderText() == "(555) 123-4567"
    widget.edit.setText("555 010 0199")
    assert _checked(item, widget) == Checked("(555) 010-0199")
    widget.set_value("(555) 010-0199")
    assert widget.edit.text() == "(555) 010-0199"
    assert _checked(item, widget) == Checked("(555) 010-0199")
    widget.edit.setText("555 01")
    assert _checked(item, widget) == Checked(problem=AnswerProblem.PHONE_INVALID)


def test_typing_into_a_text_answer_reports_a_change(
    qtbot: QtBot, packet: Packet, texts_en: Texts
) -> None:
    widget = create_answer_widget(packet.form("intake").item("patient_name"), texts_en)
    assert isinstance(widget, TextAnswer)
    qtbot.addWidget(widget)
    with qtbot.waitSignal(widget.changed, timeout=1000):
        QTest.keyClicks(widget.edit, "Rosa")
    assert widget.value() == "Rosa"


# --- dates ------------------------------------------------------------------------------------


def test_date_round_trips_through_validation(packet: Packet, texts_en: Texts) -> None:
    item = packet.form("intake").item("birth_date")
    widget = create_answer_widget(item, texts_en)
    assert isinstance(widget, DateAnswer)
    widget.set_value("1961-03-05")
    assert (widget.month.currentText(), widget.day.text(), widget.year.text()) == (
        "March",
        "5",
        "1961",
    )
    assert _checked(item, widget) == Checked("1961-03-05")


def test_a_date_picked_field_by_field_validates(packet: Packet, texts_en: Texts) -> None:
    item = packet.form("intake").item("birth_date")
    widget = create_answer_widget(item, texts_en)
    assert isinstance(widget, DateAnswer)
    widget.month.setCurrentIndex(12)
    widget.day.setText("31")
    widget.year.setText("1999")
    assert _checked(item, widget) == Checked("1999-12-31")


def test_an_empty_date_is_none_and_required(packet: Packet, texts_en: Texts) -> None:
    item = packet.form("intake").item("birth_date")
    widget = create_answer_widget(item, texts_en)
    assert isinstance(widget, DateAnswer)
    assert widget.value() is None
    assert widget.month.currentText() == "Choose month"
    widget.set_value("1961-03-05")
    widget.set_value(None)
    assert widget.value() is None
    assert _checked(item, widget) == Checked(problem=AnswerProblem.REQUIRED)


@pytest.mark.parametrize(
    ("month", "day", "year"),
    [(0, "", "1961"), (3, "", "1961"), (0, "5", "1961"), (3, "5", ""), (2, "30", "1961")],
)
def test_a_partial_or_impossible_date_is_rejected_as_invalid(
    packet: Packet, texts_en: Texts, month: int, day: str, year: str
) -> None:
    item = packet.form("intake").item("birth_date")
    widget = create_answer_widget(item, texts_en)
    assert isinstance(widget, DateAnswer)
    widget.month.setCurrentIndex(month)
    widget.day.setText(day)
    widget.year.setText(year)
    assert widget.value() is not None
    assert _checked(item, widget) == Checked(problem=AnswerProblem.DATE_INVALID)


def test_day_and_year_accept_digits_only(qtbot: QtBot, packet: Packet, texts_en: Texts) -> None:
    widget = create_answer_widget(packet.form("intake").item("birth_date"), texts_en)
    assert isinstance(widget, DateAnswer)
    qtbot.addWidget(widget)
    QTest.keyClicks(widget.day, "1x2")
    QTest.keyClicks(widget.year, "19a61")
    assert (widget.day.text(), widget.year.text()) == ("12", "1961")


def test_english_date_reads_month_day_year(show: Show, packet: Packet, texts_en: Texts) -> None:
    widget = create_answer_widget(packet.form("intake").item("birth_date"), texts_en)
    assert isinstance(widget, DateAnswer)
    show(widget)
    assert widget.month.x() < widget.day.x() < widget.year.x()
    labels = sorted(
        (lbl for lbl in widget.findChildren(QLabel) if lbl.isVisible()), key=lambda w: w.x()
    )
    assert [lbl.text() for lbl in labels] == ["Month", "Day", "Year"]


def test_spanish_date_puts_day_before_month_with_spanish_names(
    show: Show, packet: Packet, texts_es: Texts
) -> None:
    item = packet.form("intake").item("birth_date")
    widget = create_answer_widget(item, texts_es)
    assert isinstance(widget, DateAnswer)
    show(widget)
    assert widget.day.x() < widget.month.x() < widget.year.x()
    labels = sorted(
        (lbl for lbl in widget.findChildren(QLabel) if lbl.isVisible()), key=lambda w: w.x()
    )
    assert [lbl.text() for lbl in labels] == ["Día", "Mes", "Año"]
    assert widget.month.itemText(0) == "Elija el mes"
    assert widget.month.itemText(3) == "marzo"
    widget.set_value("1961-03-05")
    assert widget.month.currentText() == "marzo"
    assert _checked(item, widget) == Checked("1961-03-05")


# --- input hints (the on-screen keyboard must not learn or suggest patient data) -------------


def test_text_input_is_sensitive_and_never_predicted(packet: Packet, texts_en: Texts) -> None:
    widget = create_answer_widget(packet.form("intake").item("patient_name"), texts_en)
    assert isinstance(widget, TextAnswer)
    assert _has_hints(widget.edit, Hint.ImhSensitiveData, Hint.ImhNoPredictiveText)


def test_phone_input_is_sensitive_and_dialable(packet: Packet, texts_en: Texts) -> None:
    widget = create_answer_widget(packet.form("intake").item("phone"), texts_en)
    assert isinstance(widget, PhoneAnswer)
    assert _has_hints(
        widget.edit,
        Hint.ImhSensitiveData,
        Hint.ImhNoPredictiveText,
        Hint.ImhDialableCharactersOnly,
    )


def test_day_and_year_are_sensitive_digit_fields(packet: Packet, texts_en: Texts) -> None:
    widget = create_answer_widget(packet.form("intake").item("birth_date"), texts_en)
    assert isinstance(widget, DateAnswer)
    for edit in (widget.day, widget.year):
        assert _has_hints(
            edit, Hint.ImhSensitiveData, Hint.ImhNoPredictiveText, Hint.ImhDigitsOnly
        ), edit.objectName()


def test_every_line_edit_on_the_intake_is_sensitive(packet: Packet, texts_en: Texts) -> None:
    widgets = [create_answer_widget(item, texts_en) for item in packet.form("intake").items]
    edits = [edit for widget in widgets for edit in widget.findChildren(QLineEdit)]
    assert len(edits) >= 6  # name, day, year, phone, contact name, contact phone, other…
    for edit in edits:
        assert _has_hints(edit, Hint.ImhSensitiveData, Hint.ImhNoPredictiveText), edit.objectName()


# --- the 0-10 scale ---------------------------------------------------------------------------


def test_scale_has_eleven_buttons_labelled_0_to_10(packet: Packet, texts_en: Texts) -> None:
    widget = create_answer_widget(packet.form("pain_history").item("pain_now"), texts_en)
    assert isinstance(widget, ScaleAnswer)
    buttons = _buttons(widget)
    assert [b.text() for b in buttons] == [str(n) for n in range(11)]
    assert all(b.isCheckable() and not b.isChecked() for b in buttons)
    assert widget.value() is None
    hints = [lbl.text() for lbl in widget.findChildren(QLabel)]
    assert hints == ["No pain", "Worst pain you can imagine"]


def test_tapping_a_scale_point_checks_only_that_one(
    qtbot: QtBot, show: Show, packet: Packet, texts_en: Texts
) -> None:
    item = packet.form("pain_history").item("pain_now")
    widget = create_answer_widget(item, texts_en)
    assert isinstance(widget, ScaleAnswer)
    show(widget)
    seven = widget.button_for(7)
    assert seven is not None
    with qtbot.waitSignal(widget.changed, timeout=1000):
        tap(qtbot, seven)
    assert _checked_texts(widget) == ["7"]
    three = widget.button_for(3)
    assert three is not None
    tap(qtbot, three)
    assert _checked_texts(widget) == ["3"]
    assert _checked(item, widget) == Checked(3)


@pytest.mark.parametrize("point", [0, 7, 10])
def test_scale_round_trips(packet: Packet, texts_en: Texts, point: int) -> None:
    item = packet.form("pain_history").item("pain_now")
    widget = create_answer_widget(item, texts_en)
    widget.set_value(point)
    assert _checked_texts(widget) == [str(point)]
    assert _checked(item, widget) == Checked(point)
    widget.set_value(None)
    assert _checked_texts(widget) == []
    assert _checked(item, widget) == Checked(problem=AnswerProblem.REQUIRED)


def test_scale_in_spanish_has_spanish_end_labels(packet: Packet, texts_es: Texts) -> None:
    widget = create_answer_widget(packet.form("pain_history").item("pain_now"), texts_es)
    hints = [lbl.text() for lbl in widget.findChildren(QLabel)]
    assert hints == ["Sin dolor", "El peor dolor que pueda imaginar"]


# --- single choice ----------------------------------------------------------------------------


def test_single_choice_is_exclusive(
    qtbot: QtBot, show: Show, packet: Packet, texts_en: Texts
) -> None:
    item = packet.form("medical_history").item("sex_at_birth")
    widget = create_answer_widget(item, texts_en)
    assert isinstance(widget, SingleChoiceAnswer)
    show(widget)
    assert [b.text() for b in _buttons(widget)] == [c.label.get("en") for c in item.choices]
    female, male = widget.button_for("female"), widget.button_for("male")
    assert female is not None and male is not None
    tap(qtbot, female)
    assert _checked_texts(widget) == [female.text()]
    tap(qtbot, male)
    assert _checked_texts(widget) == [male.text()]
    tap(qtbot, male)  # tapping the chosen answer again keeps it chosen
    assert _checked(item, widget) == Checked("male")


@pytest.mark.parametrize("value", ["female", "prefer_not_to_say"])
def test_single_choice_round_trips(packet: Packet, texts_en: Texts, value: str) -> None:
    item = packet.form("medical_history").item("sex_at_birth")
    widget = create_answer_widget(item, texts_en)
    widget.set_value(value)
    assert len(_checked_texts(widget)) == 1
    assert _checked(item, widget) == Checked(value)
    widget.set_value(None)
    assert widget.value() is None


@pytest.mark.parametrize("number", range(1, 10))
def test_phq9_items_round_trip_their_scores(packet: Packet, texts_en: Texts, number: int) -> None:
    item = packet.form("phq9").item(f"phq9_{number}")
    widget = create_answer_widget(item, texts_en)
    assert [b.text() for b in _buttons(widget)] == [
        "Not at all",
        "Several days",
        "More than half the days",
        "Nearly every day",
    ]
    for score in (0, 2, 3):
        widget.set_value(score)
        assert _checked(item, widget) == Checked(score)


def test_phq9_in_spanish_shows_the_official_spanish_answers(
    packet: Packet, texts_es: Texts
) -> None:
    widget = create_answer_widget(packet.form("phq9").item("phq9_1"), texts_es)
    assert [b.text() for b in _buttons(widget)] == [
        "Ningún día",
        "Varios días",
        "Más de la mitad de los días",
        "Casi todos los días",
    ]
    assert widget.accessibleName() == "Poco interés o placer en hacer cosas"


# --- multi choice -----------------------------------------------------------------------------


def test_multi_choice_allows_several_and_gives_a_list_of_strings(
    qtbot: QtBot, show: Show, texts_en: Texts
) -> None:
    widget = create_answer_widget(MULTI_ITEM, texts_en)
    assert isinstance(widget, MultiChoiceAnswer)
    show(widget)
    assert widget.value() == []
    assert "Choose all that apply." in [lbl.text() for lbl in widget.findChildren(QLabel)]
    for value in ("iodine", "penicillin"):
        button = widget.button_for(value)
        assert button is not None
        tap(qtbot, button)
    assert _checked_texts(widget) == ["Penicillin", "Iodine"]
    given = widget.value()
    assert isinstance(given, list) and sorted(given) == ["iodine", "penicillin"]
    assert _checked(MULTI_ITEM, widget) == Checked(("penicillin", "iodine"))
    iodine = widget.button_for("iodine")
    assert iodine is not None
    tap(qtbot, iodine)  # a second tap takes it back
    assert widget.value() == ["penicillin"]


def test_multi_choice_round_trips(texts_en: Texts) -> None:
    widget = create_answer_widget(MULTI_ITEM, texts_en)
    widget.set_value(("latex", "iodine"))
    assert _checked_texts(widget) == ["Latex", "Iodine"]
    assert _checked(MULTI_ITEM, widget) == Checked(("latex", "iodine"))
    widget.set_value(None)
    assert widget.value() == []
    assert _checked(MULTI_ITEM, widget) == Checked(problem=AnswerProblem.REQUIRED)


def test_multi_choice_in_spanish(texts_es: Texts) -> None:
    widget = create_answer_widget(MULTI_ITEM, texts_es)
    assert [b.text() for b in _buttons(widget)] == ["Penicilina", "Látex", "Yodo"]
    assert "Elija todas las que correspondan." in [
        lbl.text() for lbl in widget.findChildren(QLabel)
    ]


# --- yes / no ---------------------------------------------------------------------------------


def test_yes_no_is_exclusive_and_gives_booleans(qtbot: QtBot, show: Show, texts_en: Texts) -> None:
    widget = create_answer_widget(YES_NO_ITEM, texts_en)
    assert isinstance(widget, YesNoAnswer)
    show(widget)
    assert [b.text() for b in _buttons(widget)] == ["Yes", "No"]
    assert widget.value() is None
    yes, no = widget.button_for(True), widget.button_for(False)
    assert yes is not None and no is not None
    tap(qtbot, yes)
    assert (_checked_texts(widget), widget.value()) == (["Yes"], True)
    tap(qtbot, no)
    assert (_checked_texts(widget), widget.value()) == (["No"], False)
    assert _checked(YES_NO_ITEM, widget) == Checked(False)


@pytest.mark.parametrize("answer", [True, False])
def test_yes_no_round_trips(texts_en: Texts, answer: bool) -> None:
    widget = create_answer_widget(YES_NO_ITEM, texts_en)
    widget.set_value(answer)
    assert _checked(YES_NO_ITEM, widget) == Checked(answer)
    widget.set_value(None)
    assert widget.value() is None


def test_yes_no_in_spanish(texts_es: Texts) -> None:
    widget = create_answer_widget(YES_NO_ITEM, texts_es)
    assert [b.text() for b in _buttons(widget)] == ["Sí", "No"]
    assert [b.accessibleName() for b in _buttons(widget)] == ["Sí", "No"]


# --- marking an answer that needs attention ---------------------------------------------------


def test_set_invalid_marks_and_unmarks_the_inputs(packet: Packet, texts_en: Texts) -> None:
    widget = create_answer_widget(packet.form("intake").item("birth_date"), texts_en)
    assert isinstance(widget, DateAnswer)
    inputs = [widget.month, widget.day, widget.year]
    widget.set_invalid(True)
    assert [w.property("invalid") for w in inputs] == [True, True, True]
    widget.set_invalid(False)
    assert [w.property("invalid") for w in inputs] == [False, False, False]
