"""A stored answer in words (kiosk.domain.answer_text): the review screen, the staff console and
both PDFs spell answers this one way."""

from __future__ import annotations

import datetime as dt

import pytest

from kiosk import paths
from kiosk.domain.answer_text import AnswerWords, answer_text
from kiosk.domain.loader import load_packet
from kiosk.domain.model import (
    AnswerValue,
    Choice,
    Column,
    Item,
    ItemType,
    LocalizedText,
    Packet,
)
from kiosk.domain.strings import Strings


def _text(en: str, es: str) -> LocalizedText:
    return LocalizedText({"en": en, "es": es})


YES_NO = Item("had_ketamine_before", ItemType.YES_NO, _text("Had ketamine?", "¿Ketamina?"))
MULTI = Item(
    "allergies",
    ItemType.MULTI_CHOICE,
    _text("Allergic to any of these?", "¿Alérgico a alguno?"),
    choices=(
        Choice("penicillin", _text("Penicillin", "Penicilina")),
        Choice("latex", _text("Latex", "Látex")),
        Choice("iodine", _text("Iodine", "Yodo")),
    ),
)
NUMBERED = Item(
    "how_often",
    ItemType.MULTI_CHOICE,
    _text("How often?", "¿Con qué frecuencia?"),
    choices=(Choice(0, _text("Never", "Nunca")), Choice(1, _text("Sometimes", "A veces"))),
)
MEDICINES = Item(
    "current_medicines",
    ItemType.LIST,
    _text("Your medicines", "Sus medicinas"),
    columns=(
        Column("name", _text("Name", "Nombre")),
        Column("dose", _text("Dose", "Dosis"), required=False),
    ),
)


@pytest.fixture(scope="module")
def shipped() -> Packet:
    """The shipped forms (tests/domain's own ``packet`` is a small test packet)."""
    return load_packet(paths.FORMS_DIR)


@pytest.fixture(scope="module")
def en(strings: Strings) -> AnswerWords:
    return AnswerWords.from_strings(strings, "en")


@pytest.fixture(scope="module")
def es(strings: Strings) -> AnswerWords:
    return AnswerWords.from_strings(strings, "es")


def test_words_come_from_the_strings_table(en: AnswerWords, es: AnswerWords) -> None:
    assert (en.language, en.yes, en.no, en.not_answered) == ("en", "Yes", "No", "Not answered")
    assert (es.language, es.yes, es.no, es.not_answered) == ("es", "Sí", "No", "Sin respuesta")
    assert en.months[0] == "January" and es.months[11] == "diciembre"
    assert es.local(_text("Latex", "Látex")) == "Látex"
    assert es.local(None) == ""


def test_words_need_twelve_months() -> None:
    with pytest.raises(ValueError, match="12 month names"):
        AnswerWords("en", "Yes", "No", "Not answered", ("January",))


def test_dates_read_like_people_say_them(shipped: Packet, en: AnswerWords, es: AnswerWords) -> None:
    item = shipped.form("intake").item("birth_date")
    assert answer_text(item, "1961-03-05", en) == "March 5, 1961"
    assert answer_text(item, "1961-03-05", es) == "5 de marzo de 1961"
    assert answer_text(item, "2001-12-31", en) == "December 31, 2001"
    assert en.long_date(dt.date(2024, 2, 29)) == "February 29, 2024"


def test_choices_scales_lists_and_yes_no(shipped: Packet, en: AnswerWords, es: AnswerWords) -> None:
    condition = shipped.form("medical_history").item("sex_at_birth")
    assert answer_text(condition, "female", en) == condition.choices[0].label.get("en")
    assert answer_text(condition, "female", es) == condition.choices[0].label.get("es")
    assert answer_text(shipped.form("phq9").item("phq9_1"), 1, en) == "Several days"
    pain_now = shipped.form("pain_history").item("pain_now")
    assert answer_text(pain_now, 7, en) == "7 / 10"
    assert answer_text(pain_now, 0, en) == "0 / 10"
    rows = ({"name": "Gabapentin", "dose": "300 mg"}, {"name": "Aspirin", "dose": ""})
    assert answer_text(MEDICINES, rows, en) == "Gabapentin · 300 mg\nAspirin"
    assert answer_text(YES_NO, True, en) == "Yes"
    assert answer_text(YES_NO, False, en) == "No"
    assert answer_text(YES_NO, True, es) == "Sí"
    phone = shipped.form("intake").item("phone")
    assert answer_text(phone, "(555) 010-0199", en) == "(555) 010-0199"


def test_each_chosen_choice_on_its_own_line(en: AnswerWords, es: AnswerWords) -> None:
    assert answer_text(MULTI, ("penicillin", "iodine"), en) == "Penicillin\nIodine"
    assert answer_text(MULTI, ("latex",), es) == "Látex"
    # a multi-choice answer stores each value as text, even a numbered choice's
    assert answer_text(NUMBERED, ("0", "1"), es) == "Nunca\nA veces"


@pytest.mark.parametrize("empty", [None, ()])
def test_nothing_stored_says_not_answered(
    shipped: Packet, en: AnswerWords, es: AnswerWords, empty: AnswerValue | None
) -> None:
    item = shipped.form("intake").item("phone")
    assert answer_text(item, empty, en) == "Not answered"
    assert answer_text(item, empty, es) == "Sin respuesta"


@pytest.mark.parametrize(
    ("item", "stored", "shown"),
    [
        # a choice no longer in the form (removed in a later version) is kept, beside the known
        (MULTI, ("penicillin", "mystery"), "Penicillin\nmystery"),
        (MULTI, "latex", "Latex"),  # one value where a tuple belongs
        (YES_NO, "maybe", "maybe"),  # not a bool: never reported as "No"
        (YES_NO, 1, "1"),
        (NUMBERED, True, "True"),  # True == 1 in Python, but it is no choice's value
        (
            MEDICINES,
            ({"name": "Aspirin", "dose": "81 mg", "note": "at night"},),
            "Aspirin · 81 mg · at night",
        ),  # a field the form does not declare
        (MEDICINES, ("Aspirin", "Ibuprofen"), "Aspirin\nIbuprofen"),  # rows stored as text
        (MEDICINES, "Aspirin", "Aspirin"),
        (Item("born", ItemType.DATE, _text("Born", "Nació")), "1961-02-30", "1961-02-30"),
        (Item("pain", ItemType.SCALE, _text("Pain", "Dolor")), "a lot", "a lot"),
        (Item("pain", ItemType.SCALE, _text("Pain", "Dolor")), True, "True"),
    ],
)
def test_values_no_form_explains_are_shown_as_stored(
    en: AnswerWords, item: Item, stored: AnswerValue, shown: str
) -> None:
    assert answer_text(item, stored, en) == shown
