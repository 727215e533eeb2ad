"""Answers as a patient reads them back (review screen)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from kiosk.domain.answers import stored_date
from kiosk.domain.model import AnswerValue, Item, ItemType
from kiosk.ui.texts import Texts


def answer_text(item: Item, value: AnswerValue | None, texts: Texts) -> str:
    """Plain words for a stored answer: a choice's label, "Yes", "March 5, 1961"…"""
    if value is None or value == ():
        return texts("review.not_answered")
    match item.type:
        case ItemType.SINGLE_CHOICE:
            choice = item.choice(value)
            return texts.local(choice.label) if choice else str(value)
        case ItemType.MULTI_CHOICE if isinstance(value, tuple):
            labels = [texts.local(c.label) for c in item.choices if str(c.value) in value]
            return "; ".join(labels)
        case ItemType.YES_NO | ItemType.AGREE:
            return texts("answers.yes") if value is True else texts("answers.no")
        case ItemType.LIST if isinstance(value, tuple):
            rows = [row for row in value if isinstance(row, Mapping)]
            return "\n".join(" · ".join(v for v in row.values() if v) for row in rows)
        case ItemType.DATE if (day := stored_date(value)) is not None:
            return long_date(day, texts)
        case ItemType.SCALE:
            return f"{value} / {item.maximum}"
    return str(value)


def long_date(day: dt.date, texts: Texts) -> str:
    """A date as a patient says it: "March 5, 1961", "5 de marzo de 1961"."""
    month_name = texts(f"date.months.m{day.month:02d}")
    if texts.language == "es":
        return f"{day.day} de {month_name} de {day.year}"
    return f"{month_name} {day.day}, {day.year}"
