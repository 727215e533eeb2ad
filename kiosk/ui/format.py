"""Answers as a patient reads them back (review screen)."""

from __future__ import annotations

import re

from kiosk.domain.model import AnswerValue, Item, ItemType
from kiosk.ui.texts import Texts

_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


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
        case ItemType.YES_NO:
            return texts("answers.yes") if value is True else texts("answers.no")
        case ItemType.DATE if isinstance(value, str) and _ISO.match(value):
            year, month, day = value.split("-")
            month_name = texts(f"date.months.m{month}")
            if texts.language == "es":
                return f"{int(day)} de {month_name} de {year}"
            return f"{month_name} {int(day)}, {year}"
        case ItemType.SCALE:
            return f"{value} / {item.maximum}"
    return str(value)
