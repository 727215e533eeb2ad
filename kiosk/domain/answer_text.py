"""A stored answer in words, one way for every place that shows it.

The review screen, the staff console's visit detail, the consent PDF's answer rows and the English
clinician summary all spell an answer with :func:`answer_text`, so a patient, a member of staff
and a clinician read the same thing:

- nothing stored (``None`` or an empty tuple): "Not answered";
- a choice: its label in the reader's language, never the stored value;
- yes/no and agree: "Yes" / "No";
- a date: "March 5, 1961" / "5 de marzo de 1961";
- a scale: "7 / 10";
- several values (the choices of a multi-choice answer, the rows of a list): one per line, so a
  screen and a PDF cell show them as a short list; the cells of one list row are joined with
  " · " ("Gabapentin · 300 mg").

Whatever is stored is shown: a value no form explains (a choice removed from a later version of
the form, a yes/no that is not a bool, a list row's unknown field) is shown as stored, never
dropped, because staff must see everything the record holds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import assert_never

from kiosk.domain.answers import stored_date
from kiosk.domain.model import AnswerValue, Item, ItemType, LocalizedText
from kiosk.domain.strings import Strings

LINE = "\n"
"""Between the values of one answer: each chosen choice, each list row, on its own line."""

CELL = " · "
"""Between the filled-in cells of one list row."""

_MONTH_KEYS = tuple(f"date.months.m{month:02d}" for month in range(1, 13))


@dataclass(frozen=True)
class AnswerWords:
    """The words an answer is spelled with, in one language.

    Build it with :meth:`from_strings` from the strings table (``answers.yes``, ``answers.no``,
    ``review.not_answered``, ``date.months.m01`` … ``m12``).
    """

    language: str
    yes: str
    no: str
    not_answered: str
    months: tuple[str, ...]  # January … December, as a date is written in this language

    def __post_init__(self) -> None:
        if len(self.months) != 12:
            raise ValueError(f"AnswerWords needs 12 month names, got {len(self.months)}")

    @classmethod
    def from_strings(cls, strings: Strings, language: str) -> AnswerWords:
        """The answer words of ``language`` from the strings table (English where it lacks one).

        Raises:
            KeyError: when the table lacks one of the keys (a programming error, caught by tests).
        """
        return cls(
            language=language,
            yes=strings.get("answers.yes", language),
            no=strings.get("answers.no", language),
            not_answered=strings.get("review.not_answered", language),
            months=tuple(strings.get(key, language) for key in _MONTH_KEYS),
        )

    def local(self, text: LocalizedText | None) -> str:
        """A form's text (a choice label…) in this language; "" for no text."""
        return text.get(self.language) if text else ""

    def long_date(self, day: dt.date) -> str:
        """A date as a person says it: "March 5, 1961", "5 de marzo de 1961"."""
        month = self.months[day.month - 1]
        if self.language == "es":
            return f"{day.day} de {month} de {day.year}"
        return f"{month} {day.day}, {day.year}"


def answer_text(item: Item, value: AnswerValue | None, words: AnswerWords) -> str:
    """Plain words for the answer stored for ``item``: a choice's label, "Yes", "March 5, 1961",
    "7 / 10", one line per chosen choice or list row; "Not answered" when nothing is stored.

    A value the item's type does not explain is shown as stored (see the module's docstring).
    """
    if value is None or value == ():
        return words.not_answered
    match item.type:
        case ItemType.TEXT | ItemType.PHONE:
            return _as_stored(value)
        case ItemType.DATE:
            day = stored_date(value)
            return words.long_date(day) if day is not None else _as_stored(value)
        case ItemType.SINGLE_CHOICE:
            return _choice_label(item, value, words)
        case ItemType.MULTI_CHOICE:
            if isinstance(value, tuple):
                return LINE.join(_choice_label(item, chosen, words) for chosen in value)
            return _choice_label(item, value, words)
        case ItemType.YES_NO | ItemType.AGREE:
            if isinstance(value, bool):
                return words.yes if value else words.no
            return _as_stored(value)
        case ItemType.SCALE:
            if isinstance(value, int) and not isinstance(value, bool):
                return f"{value} / {item.maximum}"
            return _as_stored(value)
        case ItemType.LIST:
            if isinstance(value, tuple):
                return LINE.join(_row_text(item, row) for row in value)
            return _as_stored(value)
        case _ as unreachable:
            assert_never(unreachable)


def _choice_label(item: Item, value: object, words: AnswerWords) -> str:
    """The label of the choice stored as ``value``; the value itself when no choice has it.

    A multi-choice answer stores each choice's value as text ("1" for the choice ``1``), a
    single choice stores it as the form wrote it; both find their choice. A bool never does
    (``True == 1`` in Python, but no form stores a yes/no as a choice).
    """
    if not isinstance(value, bool):
        for choice in item.choices:
            if choice.value == value or str(choice.value) == value:
                return words.local(choice.label)
    return _as_stored(value)


def _row_text(item: Item, row: object) -> str:
    """One list row: its filled-in cells in the form's column order, then any field the form
    does not declare (kept, so nothing stored is hidden)."""
    if not isinstance(row, Mapping):
        return _as_stored(row)
    declared = [column.id for column in item.columns]
    keys = declared + [key for key in row if key not in declared]
    return CELL.join(cell for key in keys if (cell := _as_stored(row.get(key, ""))).strip())


def _as_stored(value: object) -> str:
    """Any stored value as text, without Python's quotes and brackets."""
    if isinstance(value, Mapping):
        return CELL.join(text for cell in value.values() if (text := _as_stored(cell)).strip())
    if isinstance(value, tuple | list):
        return LINE.join(_as_stored(part) for part in value)
    if value is None:
        return ""
    return str(value)
