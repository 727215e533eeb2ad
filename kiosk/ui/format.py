"""Answers as a patient reads them back, for callers that hold a :class:`Texts`.

The wording itself lives in :mod:`kiosk.domain.answer_text` (one place for the review screen, the
staff console and both PDFs); this only binds it to a screen's language.
"""

from __future__ import annotations

from kiosk.domain import answer_text as domain
from kiosk.domain.model import AnswerValue, Item
from kiosk.ui.texts import Texts


def answer_text(item: Item, value: AnswerValue | None, texts: Texts) -> str:
    """:func:`kiosk.domain.answer_text.answer_text` in ``texts``' language."""
    return domain.answer_text(item, value, texts.answer_words)
