"""What a screen needs to show words: the strings table and the patient's language."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from kiosk.domain.answer_text import AnswerWords
from kiosk.domain.answers import AnswerProblem
from kiosk.domain.model import LocalizedText
from kiosk.domain.strings import Strings


@dataclass(frozen=True)
class Texts:
    """Strings bound to one language."""

    strings: Strings
    language: str

    def __call__(self, key: str, **values: object) -> str:
        return self.strings.get(key, self.language, **values)

    def local(self, text: LocalizedText | None) -> str:
        return text.get(self.language) if text else ""

    def problem(self, problem: AnswerProblem) -> str:
        return self(f"errors.{problem}")

    @cached_property
    def answer_words(self) -> AnswerWords:
        """The words answers are spelled with in this language, for
        :func:`kiosk.domain.answer_text.answer_text`."""
        return AnswerWords.from_strings(self.strings, self.language)
