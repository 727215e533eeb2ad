"""Reading grade of every patient-facing screen, in English and Spanish.

English: Flesch-Kincaid grade. Spanish: Fernández-Huerta reading ease, turned into a grade with
the scale's own bands (90-100 "very easy", 4th grade; 80-90 5th; 70-80 6th; 60-70 7th-8th; below
60 high school): grade = 14 - ease / 10, so ease 60 is grade 8. textstat counts syllables; it is
pinned to 0.7.4 because later versions download NLTK data at run time.

Run ``python -m tests.readability`` for the table; ``tests/test_readability.py`` enforces it.
"""

from __future__ import annotations

import re
import statistics
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import textstat

from kiosk import paths
from kiosk.domain.loader import load_packet
from kiosk.domain.model import LANGUAGES, PATIENT_NOTICES, Item, LocalizedText, Packet
from kiosk.domain.strings import Strings, load_strings

GRADE_LIMIT = 8.0
NOTICE_GRADE_LIMIT = 6.0
"""The notices after an answer (the crisis line after PHQ-9 item 9) are read by someone who may
be at their worst: grade 6 at most."""
UI_GROUPS = (
    "welcome",
    "language",
    "review",
    "section",
    "quiz",
    "attest",
    "sign",
    "done",
    "idle",
    "display",
    "typed",
    "paper",
    "errors",
)
"""Sections of ``resources/strings/ui.yaml`` a patient reads; each counts as one screen.
(Staff words and the names of keyboard keys are not patient prose.)"""

_ENDS_SENTENCE = re.compile(r"[.!?:;…]\s*$")
_FORMAT_FIELD = re.compile(r"\{[a-z_]+\}")


@dataclass(frozen=True)
class Screen:
    """The words of one screen, as a reader meets them."""

    name: str
    language: str
    text: str
    fixed_wording: bool  # a validated instrument: reported, never reworded

    @property
    def grade(self) -> float:
        return reading_grade(self.text, self.language)


def reading_grade(text: str, language: str) -> float:
    """US school grade needed to read ``text`` (see the module docstring for Spanish)."""
    textstat.set_lang(language)
    try:
        if language == "es":
            return 14.0 - float(textstat.fernandez_huerta(text)) / 10.0
        return float(textstat.flesch_kincaid_grade(text))
    finally:
        textstat.set_lang("en")


def _sentence(text: str) -> str:
    """A label or a choice is read as a sentence of its own."""
    text = " ".join(text.split())
    return text if not text or _ENDS_SENTENCE.search(text) else text + "."


def _join(parts: Iterator[str]) -> str:
    return " ".join(_sentence(p) for p in parts if p.strip())


def _local(text: LocalizedText | None, language: str) -> Iterator[str]:
    if text is not None:
        yield text.get(language)


def _item_words(item: Item, language: str) -> Iterator[str]:
    yield item.text.get(language)
    yield from _local(item.help, language)
    for choice in item.choices:
        yield choice.label.get(language)
    yield from _local(item.min_label, language)
    yield from _local(item.max_label, language)
    for column in item.columns:
        yield column.text.get(language)
    yield from _local(item.add_label, language)


def packet_screens(packet: Packet, strings: Strings, language: str) -> Iterator[Screen]:
    """Every screen built from the forms and the consent."""
    for form in packet.forms:
        for page in form.pages:
            parts = [*_local(page.title, language), *_local(page.intro, language)]
            for item in page.items:
                parts.extend(_item_words(item, language))
            text = _join(iter(parts))
            yield Screen(f"{form.id}/{page.id}", language, text, form.published_wording)
    consent = packet.consent
    for section in consent.sections:
        text = _join(iter([section.title.get(language), *section.body.get(language).split("\n\n")]))
        yield Screen(f"consent/{section.id}", language, text, fixed_wording=False)
    quiz_title = strings.get("quiz.title", language)
    for question in consent.quiz.questions if consent.quiz else ():
        text = _join(iter([quiz_title, *_item_words(question.as_item(), language)]))
        yield Screen(f"quiz/{question.id}", language, text, fixed_wording=False)
    if consent.attestations:
        parts = [strings.get("attest.title", language), strings.get("attest.intro", language)]
        for item in consent.attestations:
            parts.extend(_item_words(item, language))
        yield Screen("consent/attestations", language, _join(iter(parts)), fixed_wording=False)
    signing = [strings.get("sign.title", language), consent.statement.get(language)]
    yield Screen("consent/signature", language, _join(iter(signing)), fixed_wording=False)


def ui_screens(strings: Strings, language: str) -> Iterator[Screen]:
    """The kiosk's own words (welcome, review, errors…), one screen per group."""
    for group in UI_GROUPS:
        keys = sorted(k for k in strings.table if k.startswith(f"{group}."))
        parts = [_FORMAT_FIELD.sub("3", strings.get(k, language)) for k in keys]
        yield Screen(f"ui/{group}", language, _join(iter(parts)), fixed_wording=False)


def notice_screens(strings: Strings, language: str) -> Iterator[Screen]:
    """Each patient notice (``notice.<name>.*``) as its screen shows it, with Continue."""
    for name in PATIENT_NOTICES:
        parts = [
            strings.get(f"notice.{name}.title", language),
            *strings.get(f"notice.{name}.body", language).split("\n\n"),
            strings.get(f"notice.{name}.help", language),
            strings.get("notice.continue", language),
        ]
        text = _join(iter(_FORMAT_FIELD.sub("988", p) for p in parts))
        yield Screen(f"notice/{name}", language, text, fixed_wording=False)


def all_screens(packet: Packet, strings: Strings) -> list[Screen]:
    return [
        screen
        for language in LANGUAGES
        for screen in (
            *packet_screens(packet, strings, language),
            *ui_screens(strings, language),
            *notice_screens(strings, language),
        )
    ]


def main() -> int:
    """Print every screen's grade, then the median and worst per language."""
    screens = all_screens(load_packet(paths.FORMS_DIR), load_strings(paths.STRINGS_DIR))
    for screen in screens:
        mark = " (published wording)" if screen.fixed_wording else ""
        print(f"{screen.language}  {screen.grade:5.1f}  {screen.name}{mark}")
    for language in LANGUAGES:
        for kind, prefixes in (("consent and quiz", ("consent/", "quiz/")), ("kiosk", ("ui/",))):
            group = [
                s.grade for s in screens if s.language == language and s.name.startswith(prefixes)
            ]
            print(
                f"{language}: {kind}: {len(group)} screens, median grade "
                f"{statistics.median(group):.1f}, worst {max(group):.1f}"
            )
        ours = [s for s in screens if s.language == language and not s.fixed_wording]
        fixed = [s for s in screens if s.language == language and s.fixed_wording]
        worst = max(ours, key=lambda s: s.grade)
        print(
            f"{language}: {len(ours)} screens written by us, median grade "
            f"{statistics.median(s.grade for s in ours):.1f}, worst {worst.grade:.1f} "
            f"({worst.name}); {len(fixed)} published-instrument screens, median "
            f"{statistics.median(s.grade for s in fixed):.1f}, worst "
            f"{max(s.grade for s in fixed):.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
