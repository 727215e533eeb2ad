"""Validation and normalisation of one answer per item type."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kiosk.domain.answers import AnswerProblem, Checked, validate
from kiosk.domain.model import AnswerValue, Choice, Item, ItemType, LocalizedText

TODAY = dt.date(2024, 6, 1)
P = AnswerProblem


def _text(words: str) -> LocalizedText:
    return LocalizedText({"en": words, "es": words})


def make(item_type: ItemType, **fields: Any) -> Item:
    return Item(id="q", type=item_type, text=_text("Question"), **fields)


def _choices(*values: str | int) -> tuple[Choice, ...]:
    return tuple(Choice(v, _text(str(v))) for v in values)


def ok(value: AnswerValue) -> Checked:
    return Checked(value=value)


def bad(problem: AnswerProblem) -> Checked:
    return Checked(problem=problem)


# --- required and optional ------------------------------------------------------------------------

ALL_TYPES: dict[ItemType, dict[str, Any]] = {
    ItemType.TEXT: {},
    ItemType.DATE: {"past_only": True},
    ItemType.PHONE: {},
    ItemType.SINGLE_CHOICE: {"choices": _choices("a", "b")},
    ItemType.MULTI_CHOICE: {"choices": _choices("a", "b")},
    ItemType.YES_NO: {},
    ItemType.SCALE: {},
}
EMPTIES: list[object] = [None, "", "   ", "\t\n", [], ()]


@pytest.mark.parametrize("item_type", list(ALL_TYPES))
@pytest.mark.parametrize("raw", EMPTIES, ids=repr)
def test_empty_answer_to_a_required_item_is_required(item_type: ItemType, raw: object) -> None:
    item = make(item_type, **ALL_TYPES[item_type])
    assert validate(item, raw, TODAY) == bad(P.REQUIRED)


@pytest.mark.parametrize("item_type", list(ALL_TYPES))
@pytest.mark.parametrize("raw", EMPTIES, ids=repr)
def test_empty_answer_to_an_optional_item_is_allowed(item_type: ItemType, raw: object) -> None:
    item = make(item_type, required=False, **ALL_TYPES[item_type])
    assert validate(item, raw, TODAY) == Checked(value=None, problem=None)


def test_zero_and_false_are_answers_not_empties() -> None:
    assert validate(make(ItemType.SCALE), 0, TODAY) == ok(0)
    assert validate(make(ItemType.YES_NO), False, TODAY) == ok(False)
    assert validate(make(ItemType.SINGLE_CHOICE, choices=_choices(0, 1)), 0, TODAY) == ok(0)


# --- text -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Ana López", "Ana López"),
        ("  Ana   María  López  ", "Ana María López"),
        ("Ana\u00a0López", "Ana López"),  # non-breaking space collapses too
        ("Ana\x00 Ló\x07pez\x1b", "Ana López"),  # control characters dropped
        ("Ana\u200b López", "Ana López"),  # zero-width (format) character dropped
        ("José 李 Ωmega 😀", "José 李 Ωmega 😀"),
    ],
)
def test_text_is_cleaned(raw: str, expected: str) -> None:
    assert validate(make(ItemType.TEXT), raw, TODAY) == ok(expected)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ibuprofen\nacetaminophen", "ibuprofen acetaminophen"),
        ("John\tSmith", "John Smith"),
        ("line one\r\nline two", "line one line two"),
    ],
)
def test_text_line_breaks_and_tabs_become_single_spaces(raw: str, expected: str) -> None:
    """Whitespace is collapsed, never deleted: words on two lines must not be glued together."""
    assert validate(make(ItemType.TEXT), raw, TODAY) == ok(expected)


def test_text_of_only_control_characters_is_empty() -> None:
    assert validate(make(ItemType.TEXT), "\x00\x01\x02", TODAY) == bad(P.REQUIRED)
    assert validate(make(ItemType.TEXT, required=False), "\x00\x01", TODAY) == Checked()


def test_text_length_is_counted_after_cleaning() -> None:
    item = make(ItemType.TEXT, max_length=5)
    assert validate(item, "abcde", TODAY) == ok("abcde")
    assert validate(item, "abcdef", TODAY) == bad(P.TOO_LONG)
    assert validate(item, "  ab     cd  ", TODAY) == ok("ab cd")
    assert validate(make(ItemType.TEXT), "x" * 200, TODAY) == ok("x" * 200)
    assert validate(make(ItemType.TEXT), "x" * 201, TODAY) == bad(P.TOO_LONG)


def test_text_that_is_not_a_string_is_refused() -> None:
    checked = validate(make(ItemType.TEXT), 42, TODAY)
    assert checked.value is None
    assert checked.problem is not None


# --- dates ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1980-02-29", "1980-02-29"),
        ("1980-2-3", "1980-02-03"),
        ("  1980-12-31 ", "1980-12-31"),
        ("2024-06-01", "2024-06-01"),  # today is not in the future
    ],
)
def test_valid_dates_are_normalised_to_iso(raw: str, expected: str) -> None:
    assert validate(make(ItemType.DATE, past_only=True), raw, TODAY) == ok(expected)


@pytest.mark.parametrize(
    "raw",
    [
        "02/03/1980",
        "1980/02/03",
        "03-02-1980",
        "19800203",
        "yesterday",
        "1980-02-03T10:00",
        "80-02-03",
        "1980-02-30",
        "1981-02-29",
        "2023-02-30",
        "1980-13-01",
        "1980-00-10",
        "1980-01-00",
        "1980-04-31",
        19800203,
        dt.date(1980, 2, 3),
    ],
    ids=repr,
)
def test_malformed_or_impossible_dates_are_refused(raw: object) -> None:
    assert validate(make(ItemType.DATE), raw, TODAY) == bad(P.DATE_INVALID)


def test_future_date_is_refused_only_when_past_only() -> None:
    assert validate(make(ItemType.DATE, past_only=True), "2024-06-02", TODAY) == bad(P.DATE_FUTURE)
    assert validate(make(ItemType.DATE, past_only=True), "2090-01-01", TODAY) == bad(P.DATE_FUTURE)
    assert validate(make(ItemType.DATE), "2024-06-02", TODAY) == ok("2024-06-02")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1900-01-01", bad(P.DATE_TOO_OLD)),
        ("1850-06-01", bad(P.DATE_TOO_OLD)),
        ("1904-06-01", ok("1904-06-01")),  # 120th birthday today: 120 years old
        ("1903-06-02", ok("1903-06-02")),  # 121st birthday tomorrow: still 120 years old
        ("1903-12-31", ok("1903-12-31")),  # 120 years old
        ("1903-06-01", bad(P.DATE_TOO_OLD)),  # 121st birthday today
        ("1903-01-01", bad(P.DATE_TOO_OLD)),  # 121 years old
    ],
)
def test_birth_dates_more_than_120_years_ago_are_refused(raw: str, expected: Checked) -> None:
    assert validate(make(ItemType.DATE, past_only=True), raw, TODAY) == expected


def test_old_dates_are_allowed_when_not_past_only() -> None:
    assert validate(make(ItemType.DATE), "1850-06-01", TODAY) == ok("1850-06-01")


# --- phone numbers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "5551234567",
        "555-123-4567",
        "555 123 4567",
        "555.123.4567",
        "(555) 123-4567",
        "(555)123-4567",
        "  555 123 4567  ",
        "+1 555 123 4567",
        "+1 (555) 123-4567",
        "+15551234567",
        "1-555-123-4567",
        "1 555 123 4567",
    ],
)
def test_north_american_numbers_are_normalised(raw: str) -> None:
    assert validate(make(ItemType.PHONE), raw, TODAY) == ok("(555) 123-4567")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+44 20 7946 0958", "+442079460958"),
        ("+52 55 1234 5678", "+525512345678"),
        ("+34 612-345-678", "+34612345678"),
    ],
)
def test_international_numbers_keep_their_country_code(raw: str, expected: str) -> None:
    assert validate(make(ItemType.PHONE), raw, TODAY) == ok(expected)


@pytest.mark.parametrize(
    "raw",
    [
        "555-CALL-NOW",
        "555123456a",
        "five five five",
        "555123456",  # 9 digits
        "55512345678",  # 11 digits not starting with 1
        "25551234567",
        "555_123_4567",
        "555/123/4567",
        "+44 12",  # too short for an international number
        "+1234567890123456",  # too long
        "+1 555 123 456",  # +1 with 9 digits
        "1555123456",  # area code cannot start with 1
        "0551234567",  # ... nor with 0
        5551234567,
    ],
    ids=repr,
)
def test_bad_phone_numbers_are_refused(raw: object) -> None:
    assert validate(make(ItemType.PHONE), raw, TODAY) == bad(P.PHONE_INVALID)


# --- choices --------------------------------------------------------------------------------------


def test_single_choice() -> None:
    item = make(ItemType.SINGLE_CHOICE, choices=_choices("pain", "other"))
    assert validate(item, "other", TODAY) == ok("other")
    assert validate(item, "Other", TODAY) == bad(P.NOT_A_CHOICE)
    assert validate(item, "nope", TODAY) == bad(P.NOT_A_CHOICE)
    assert validate(item, ["other"], TODAY) == bad(P.NOT_A_CHOICE)


def test_single_choice_with_numeric_values() -> None:
    item = make(ItemType.SINGLE_CHOICE, choices=_choices(0, 1, 2, 3))
    assert validate(item, 3, TODAY) == ok(3)
    assert validate(item, 4, TODAY) == bad(P.NOT_A_CHOICE)
    assert validate(item, -1, TODAY) == bad(P.NOT_A_CHOICE)
    assert validate(item, "3", TODAY) == bad(P.NOT_A_CHOICE)


@pytest.mark.parametrize("raw", [True, False])
def test_a_bool_is_not_a_numeric_choice(raw: bool) -> None:
    """JSON ``true`` must not be scored as 1 (scales refuse bools the same way)."""
    single = make(ItemType.SINGLE_CHOICE, choices=_choices(0, 1, 2, 3))
    multi = make(ItemType.MULTI_CHOICE, choices=_choices(0, 1, 2, 3))
    assert validate(single, raw, TODAY) == bad(P.NOT_A_CHOICE)
    assert validate(multi, [raw], TODAY) == bad(P.NOT_A_CHOICE)


def test_multi_choice_is_deduplicated_and_in_choice_order() -> None:
    item = make(ItemType.MULTI_CHOICE, choices=_choices("ibuprofen", "tramadol", "codeine"))
    assert validate(item, ["codeine", "ibuprofen", "codeine"], TODAY) == ok(
        ("ibuprofen", "codeine")
    )
    assert validate(item, ("tramadol",), TODAY) == ok(("tramadol",))
    assert validate(item, ["tramadol", "aspirin"], TODAY) == bad(P.NOT_A_CHOICE)
    assert validate(item, "tramadol", TODAY) == bad(P.NOT_A_CHOICE)  # a string is not a list
    assert validate(item, 3, TODAY) == bad(P.NOT_A_CHOICE)


# --- yes/no and scales ----------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["yes", "no", "true", 1, 0, "1"], ids=repr)
def test_yes_no_takes_only_bools(raw: object) -> None:
    assert validate(make(ItemType.YES_NO), raw, TODAY) == bad(P.NOT_A_CHOICE)


def test_yes_no_accepts_bools() -> None:
    assert validate(make(ItemType.YES_NO), True, TODAY) == ok(True)
    assert validate(make(ItemType.YES_NO), False, TODAY) == ok(False)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (1, ok(1)),
        (5, ok(5)),
        (3, ok(3)),
        (0, bad(P.OUT_OF_RANGE)),
        (6, bad(P.OUT_OF_RANGE)),
        (-1, bad(P.OUT_OF_RANGE)),
        (True, bad(P.OUT_OF_RANGE)),
        (False, bad(P.OUT_OF_RANGE)),
        (2.5, bad(P.OUT_OF_RANGE)),
        (3.0, bad(P.OUT_OF_RANGE)),
        ("3", bad(P.OUT_OF_RANGE)),
    ],
    ids=repr,
)
def test_scale_bounds_and_types(raw: object, expected: Checked) -> None:
    item = make(ItemType.SCALE, minimum=1, maximum=5)
    assert validate(item, raw, TODAY) == expected


def test_default_scale_is_zero_to_ten() -> None:
    item = make(ItemType.SCALE)
    assert validate(item, 0, TODAY) == ok(0)
    assert validate(item, 10, TODAY) == ok(10)
    assert validate(item, 11, TODAY) == bad(P.OUT_OF_RANGE)
