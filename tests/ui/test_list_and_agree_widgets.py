"""Rows the patient adds (medicines, allergies), tick boxes, and "None of these"."""

from __future__ import annotations

from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLineEdit, QPushButton
from pytestqt.qtbot import QtBot

from kiosk.domain.answers import Checked, validate
from kiosk.domain.model import Choice, Column, Item, ItemType, LocalizedText
from kiosk.ui.texts import Texts
from kiosk.ui.widgets.answers import AgreeAnswer, ListAnswer, MultiChoiceAnswer
from tests.conftest import CLINIC_TIME
from tests.ui.conftest import MIN_TARGET, Show, settle, tap

TODAY = CLINIC_TIME.date()


def _text(en: str, es: str = "") -> LocalizedText:
    return LocalizedText({"en": en, "es": es or en})


MEDICINES = Item(
    id="current_medicines",
    type=ItemType.LIST,
    text=_text("List the medicines you take now."),
    columns=(
        Column("name", _text("Medicine name", "Nombre del medicamento")),
        Column("dose", _text("How much and how often", "Cuánto y cada cuándo"), required=False),
    ),
    add_label=_text("Add another medicine", "Añadir otro medicamento"),
    max_rows=3,
)
AGREE = Item(
    id="attest_read",
    type=ItemType.AGREE,
    text=_text("I read this information, or someone read it to me."),
)
CONDITIONS = Item(
    id="heart",
    type=ItemType.MULTI_CHOICE,
    text=_text("Do you have any of these?"),
    choices=(
        Choice("high_blood_pressure", _text("High blood pressure")),
        Choice("stroke", _text("Stroke")),
        Choice("none", _text("None of these"), exclusive=True),
    ),
)


def edits(widget: ListAnswer) -> list[dict[str, QLineEdit]]:
    return [row for _frame, row in widget.rows]


def test_a_list_starts_with_one_empty_row_and_adds_more(
    qtbot: QtBot, show: Show, texts_en: Texts
) -> None:
    widget = ListAnswer(MEDICINES, texts_en)
    show(widget)
    assert len(widget.rows) == 1
    QTest.keyClicks(edits(widget)[0]["name"], "Gabapentin")
    QTest.keyClicks(edits(widget)[0]["dose"], "300 mg at night")
    tap(qtbot, widget.add_button)
    settle(qtbot)
    assert len(widget.rows) == 2
    assert edits(widget)[1]["name"].hasFocus()
    QTest.keyClicks(edits(widget)[1]["name"], "Ibuprofen")
    assert validate(MEDICINES, widget.value(), TODAY) == Checked(
        ({"name": "Gabapentin", "dose": "300 mg at night"}, {"name": "Ibuprofen", "dose": ""})
    )


def test_adding_stops_at_the_row_limit(qtbot: QtBot, show: Show, texts_en: Texts) -> None:
    widget = ListAnswer(MEDICINES, texts_en)
    show(widget)
    tap(qtbot, widget.add_button)
    tap(qtbot, widget.add_button)
    assert len(widget.rows) == MEDICINES.max_rows
    assert not widget.add_button.isEnabled()


def test_remove_takes_out_that_row_only(qtbot: QtBot, show: Show, texts_en: Texts) -> None:
    widget = ListAnswer(MEDICINES, texts_en)
    widget.set_value(({"name": "A", "dose": ""}, {"name": "B", "dose": "1"}))
    show(widget)
    first_frame = widget.rows[0][0]
    [remove] = [b for b in first_frame.findChildren(QPushButton) if b.objectName() == "removeRow"]
    tap(qtbot, remove)
    settle(qtbot)
    assert widget.value() == [{"name": "B", "dose": "1"}]
    last = widget.rows[0][0].findChildren(QPushButton)[0]
    tap(qtbot, last)
    settle(qtbot)
    assert widget.value() == [{"name": "", "dose": ""}]  # never an empty, untypeable list


def test_a_row_added_after_a_removal_gets_names_of_its_own(
    qtbot: QtBot, show: Show, texts_en: Texts
) -> None:
    widget = ListAnswer(MEDICINES, texts_en)
    widget.set_value(({"name": "A", "dose": ""}, {"name": "B", "dose": ""}))
    show(widget)
    [remove] = widget.rows[0][0].findChildren(QPushButton, "removeRow")
    tap(qtbot, remove)
    settle(qtbot)
    tap(qtbot, widget.add_button)
    settle(qtbot)
    fields = [edit for row in edits(widget) for edit in row.values()]
    names = [edit.objectName() for edit in fields]
    assert len(fields) == 4
    assert len(set(names)) == len(names), names
    assert widget.findChild(QLineEdit, names[0]) is fields[0]  # found by name: the shown row
    # and a screen reader hears the rows as they now stand
    assert [edit.accessibleName() for edit in fields] == [
        "Medicine name (1)",
        "How much and how often (you may skip this) (1)",
        "Medicine name (2)",
        "How much and how often (you may skip this) (2)",
    ]
    assert [b.accessibleName() for b in widget.findChildren(QPushButton, "removeRow")] == [
        "Remove (1)",
        "Remove (2)",
    ]


def test_list_round_trips_and_labels_fields(show: Show, texts_es: Texts) -> None:
    widget = ListAnswer(MEDICINES, texts_es)
    rows = ({"name": "Metformina", "dose": "500 mg"},)
    widget.set_value(rows)
    show(widget)
    assert validate(MEDICINES, widget.value(), TODAY) == Checked(rows)
    names = [e.accessibleName() for e in widget.findChildren(QLineEdit)]
    assert names == [
        "Nombre del medicamento (1)",
        "Cuánto y cada cuándo (puede dejarlo en blanco) (1)",
    ]
    assert widget.add_button.text().endswith("Añadir otro medicamento")
    for button in widget.findChildren(QPushButton):
        assert button.height() >= MIN_TARGET and button.width() >= MIN_TARGET


def test_agree_is_a_large_tick_box_carrying_its_words(
    qtbot: QtBot, show: Show, texts_en: Texts
) -> None:
    widget = AgreeAnswer(AGREE, texts_en)
    show(widget)
    assert widget.value() is False
    assert widget.button.text() == "I read this information, or someone read it to me."
    assert widget.button.height() >= MIN_TARGET
    tap(qtbot, widget.button)
    assert widget.value() is True
    assert widget.box.text() == "✓"
    assert validate(AGREE, widget.value(), TODAY) == Checked(True)
    tap(qtbot, widget.button)
    assert widget.value() is False
    widget.set_value(True)
    assert widget.button.isChecked()


def test_none_of_these_clears_the_others_and_the_others_clear_it(
    qtbot: QtBot, show: Show, texts_en: Texts
) -> None:
    widget = MultiChoiceAnswer(CONDITIONS, texts_en)
    show(widget)
    buttons = {v: widget.button_for(v) for v in ("high_blood_pressure", "stroke", "none")}
    tap(qtbot, buttons["high_blood_pressure"])  # type: ignore[arg-type]
    tap(qtbot, buttons["stroke"])  # type: ignore[arg-type]
    assert widget.value() == ["high_blood_pressure", "stroke"]
    tap(qtbot, buttons["none"])  # type: ignore[arg-type]
    assert widget.value() == ["none"]
    tap(qtbot, buttons["stroke"])  # type: ignore[arg-type]
    assert widget.value() == ["stroke"]
    assert validate(CONDITIONS, widget.value(), TODAY) == Checked(("stroke",))
