"""Validate and normalise one answer per item type.

Problems are returned as message keys; the patient-facing wording (English and Spanish) lives in
``resources/strings.yaml`` under ``errors.<key>``.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import assert_never

from kiosk.domain.model import AnswerValue, Item, ItemType, Row

OLDEST_AGE_YEARS = 120


class AnswerProblem(enum.StrEnum):
    """Why an answer was not accepted (a key into the patient-facing messages)."""

    REQUIRED = "required"
    TOO_LONG = "too_long"
    DATE_INVALID = "date_invalid"
    DATE_FUTURE = "date_future"
    DATE_TOO_OLD = "date_too_old"
    PHONE_INVALID = "phone_invalid"
    NOT_A_CHOICE = "not_a_choice"
    OUT_OF_RANGE = "out_of_range"
    EXCLUSIVE_CHOICE = "exclusive_choice"  # "None of these" together with another choice
    ROW_INCOMPLETE = "row_incomplete"  # a list row without its required field
    TOO_MANY_ROWS = "too_many_rows"
    UNKNOWN_ITEM = "unknown_item"  # only from files: the form has no such item


@dataclass(frozen=True)
class Checked:
    """The outcome of validating one answer: a normalised value, or a problem, or neither."""

    value: AnswerValue | None = None
    problem: AnswerProblem | None = None


_DATE = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")
_PHONE_CHARS = re.compile(r"^[\d\s()+.\-]*$")


def stored_date(value: object) -> dt.date | None:
    """Read back a date answer as ``validate`` stores it (``YYYY-MM-DD``); None otherwise."""
    if not isinstance(value, str):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


# Dropped from text answers: control (Cc) and format (Cf) characters, lone surrogates (Cs), which
# UTF-8 cannot store, and the 66 noncharacters (U+FDD0-U+FDEF, U+FFFE, U+FFFF and the last two of
# every plane), which are never text (and a leading U+FFFE reads as a byte-order mark to Qt's
# Python binding, which would show the answer byte-swapped). Other private-use (Co) and
# "unassigned" (Cn) code points are kept: Python's Unicode tables lag the tablet's, so a code
# point unknown to them may be a real letter of a name (CJK Extension H) or a newer emoji.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})


def _dropped(ch: str) -> bool:
    code = ord(ch)
    if 0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE:
        return True
    return unicodedata.category(ch) in _DROPPED_CATEGORIES and not ch.isspace()


def clean_text(raw: str) -> str:
    """Drop control and format characters, lone surrogates and noncharacters; collapse runs of
    whitespace (line breaks and tabs included) to one space, none at either end. Every text a
    patient types is stored this way (answers and the typed signature alike)."""
    return " ".join("".join(ch for ch in raw if not _dropped(ch)).split())


def _is_empty(raw: object) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip()) or raw in ([], ())


def validate(item: Item, raw: object, today: dt.date) -> Checked:
    """Validate ``raw`` (as a screen or a JSON file gives it) for ``item``.

    Returns:
        ``Checked(value)`` with the normalised value, ``Checked()`` for an allowed empty answer, or
        ``Checked(problem=…)``.
    """
    if _is_empty(raw):
        return Checked(problem=AnswerProblem.REQUIRED) if item.required else Checked()
    match item.type:
        case ItemType.TEXT:
            return _text(item, raw)
        case ItemType.DATE:
            return _date(item, raw, today)
        case ItemType.PHONE:
            return _phone(raw)
        case ItemType.SINGLE_CHOICE:
            choice = None if isinstance(raw, bool) else item.choice(raw)
            return Checked(choice.value) if choice else Checked(problem=AnswerProblem.NOT_A_CHOICE)
        case ItemType.MULTI_CHOICE:
            return _multi(item, raw)
        case ItemType.YES_NO:
            if isinstance(raw, bool):
                return Checked(raw)
            return Checked(problem=AnswerProblem.NOT_A_CHOICE)
        case ItemType.AGREE:
            if raw is True:
                return Checked(True)
            if raw is False:
                return Checked(problem=AnswerProblem.REQUIRED) if item.required else Checked()
            return Checked(problem=AnswerProblem.NOT_A_CHOICE)
        case ItemType.LIST:
            return _rows(item, raw)
        case ItemType.SCALE:
            if isinstance(raw, bool) or not isinstance(raw, int):
                return Checked(problem=AnswerProblem.OUT_OF_RANGE)
            if not item.minimum <= raw <= item.maximum:
                return Checked(problem=AnswerProblem.OUT_OF_RANGE)
            return Checked(raw)
        case _ as unreachable:
            assert_never(unreachable)


def _text(item: Item, raw: object) -> Checked:
    if not isinstance(raw, str):
        return Checked(problem=AnswerProblem.REQUIRED)
    text = clean_text(raw)
    if not text:
        return Checked(problem=AnswerProblem.REQUIRED) if item.required else Checked()
    if len(text) > item.max_length:
        return Checked(problem=AnswerProblem.TOO_LONG)
    return Checked(text)


def _date(item: Item, raw: object, today: dt.date) -> Checked:
    match = _DATE.match(raw) if isinstance(raw, str) else None
    if match is None:
        return Checked(problem=AnswerProblem.DATE_INVALID)
    try:
        day = dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return Checked(problem=AnswerProblem.DATE_INVALID)
    if item.past_only:
        if day > today:
            return Checked(problem=AnswerProblem.DATE_FUTURE)
        if (
            today.year - day.year - ((today.month, today.day) < (day.month, day.day))
            > OLDEST_AGE_YEARS
        ):
            return Checked(problem=AnswerProblem.DATE_TOO_OLD)
    return Checked(day.isoformat())


def _phone(raw: object) -> Checked:
    if not isinstance(raw, str) or not _PHONE_CHARS.match(raw):
        return Checked(problem=AnswerProblem.PHONE_INVALID)
    # Digits of any script (Arabic-Indic, full-width…) count as the digits they are; they are
    # stored as ASCII, so "٠١٢…" is refused like "012…" and a stored number is always dialable.
    raw = "".join(str(unicodedata.digit(ch)) if ch.isdecimal() else ch for ch in raw)
    digits = re.sub(r"\D", "", raw)
    if raw.strip().startswith("+") and not raw.strip().startswith("+1"):
        if 8 <= len(digits) <= 15:
            return Checked("+" + digits)
        return Checked(problem=AnswerProblem.PHONE_INVALID)
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) != 10 or digits[0] in "01":  # NANP area codes start with 2-9
        return Checked(problem=AnswerProblem.PHONE_INVALID)
    return Checked(f"({digits[:3]}) {digits[3:6]}-{digits[6:]}")


def _multi(item: Item, raw: object) -> Checked:
    if isinstance(raw, str) or not isinstance(raw, Sequence):
        return Checked(problem=AnswerProblem.NOT_A_CHOICE)
    chosen: list[str] = []
    for value in raw:
        choice = None if isinstance(value, bool) else item.choice(value)
        if choice is None:
            return Checked(problem=AnswerProblem.NOT_A_CHOICE)
        if str(choice.value) not in chosen:
            chosen.append(str(choice.value))
    exclusive = [c for c in item.choices if c.exclusive and str(c.value) in chosen]
    if exclusive and len(chosen) > 1:
        return Checked(problem=AnswerProblem.EXCLUSIVE_CHOICE)
    order = [str(c.value) for c in item.choices]
    return Checked(tuple(sorted(chosen, key=order.index)))


def _rows(item: Item, raw: object) -> Checked:
    """Rows of a list item: blank rows are dropped, each kept row has its required fields."""
    if isinstance(raw, str | Mapping) or not isinstance(raw, Sequence):
        return Checked(problem=AnswerProblem.NOT_A_CHOICE)
    rows: list[Row] = []
    for raw_row in raw:
        if not isinstance(raw_row, Mapping):
            return Checked(problem=AnswerProblem.NOT_A_CHOICE)
        if any(key not in {c.id for c in item.columns} for key in raw_row):
            return Checked(problem=AnswerProblem.UNKNOWN_ITEM)
        row: dict[str, str] = {}
        for column in item.columns:
            value = raw_row.get(column.id, "")
            if not isinstance(value, str):
                return Checked(problem=AnswerProblem.NOT_A_CHOICE)
            text = clean_text(value)
            if len(text) > column.max_length:
                return Checked(problem=AnswerProblem.TOO_LONG)
            row[column.id] = text
        if not any(row.values()):
            continue
        if any(column.required and not row[column.id] for column in item.columns):
            return Checked(problem=AnswerProblem.ROW_INCOMPLETE)
        rows.append(row)
    if len(rows) > item.max_rows:
        return Checked(problem=AnswerProblem.TOO_MANY_ROWS)
    if not rows:
        return Checked(problem=AnswerProblem.REQUIRED) if item.required else Checked()
    return Checked(tuple(rows))
