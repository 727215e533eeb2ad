"""Frozen types describing forms, consent documents and the packet.

Everything here is plain data built by :mod:`kiosk.domain.loader` from the YAML files in
``forms/``. Nothing in this module knows about Qt, databases or PDFs.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeAlias

LANGUAGES: tuple[str, ...] = ("en", "es")
"""Languages every patient-facing text must be written in."""

Row: TypeAlias = Mapping[str, str]
"""One row of a list answer (e.g. one medicine): column id -> text."""

AnswerValue: TypeAlias = str | int | bool | tuple[str, ...] | tuple[Row, ...]
"""A normalised answer: text/date/phone/choice -> str or int, yes/no/agree -> bool,
multi -> tuple of choice values, list -> tuple of rows."""

TEXT_VALUES: tuple[str, ...] = (
    "clinic_name",
    "clinic_phone",
    "fasting_food_hours",
    "fasting_clear_liquid_hours",
)
"""Clinic settings a form's text may name as ``{clinic_name}``; the loader fills them in."""


@dataclass(frozen=True)
class LocalizedText:
    """A text in every supported language."""

    values: Mapping[str, str]

    def get(self, language: str) -> str:
        """Return the text in ``language``, falling back to English."""
        return self.values.get(language) or self.values["en"]


class ItemType(enum.StrEnum):
    """The kinds of question a form can ask; the UI has one widget per kind."""

    TEXT = "text"
    DATE = "date"
    PHONE = "phone"
    SINGLE_CHOICE = "single_choice"
    MULTI_CHOICE = "multi_choice"
    YES_NO = "yes_no"
    SCALE = "scale"
    LIST = "list"  # rows the patient adds, e.g. one per medicine
    AGREE = "agree"  # one tick box, e.g. "I have read this"


@dataclass(frozen=True)
class Choice:
    """One answer option. ``value`` is what is stored and scored."""

    value: str | int
    label: LocalizedText
    code: str | None = None  # LOINC answer code (LA…)
    exclusive: bool = False  # multi-choice: "None of these" clears every other choice


@dataclass(frozen=True)
class Column:
    """One field of each row of a list item (e.g. a medicine's name)."""

    id: str
    text: LocalizedText
    required: bool = True
    max_length: int = 200


# --- conditions -------------------------------------------------------------------------------


class Comparison(enum.StrEnum):
    """How a condition compares an answer with its operand."""

    EQUALS = "equals"
    NOT_EQUALS = "not_equals"
    IN = "in"
    CONTAINS = "contains"  # multi-choice answer includes the operand
    GTE = "gte"
    GT = "gt"
    LTE = "lte"
    LT = "lt"
    ANSWERED = "answered"


@dataclass(frozen=True)
class Compare:
    """Compare one answer (``item``) or computed score (``score``) with an operand."""

    subject: str
    comparison: Comparison
    operand: str | int | float | bool | tuple[str | int, ...]
    is_score: bool = False


@dataclass(frozen=True)
class AllOf:
    """True when every inner condition is true."""

    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    """True when at least one inner condition is true."""

    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    """True when the inner condition is false."""

    condition: Condition


Condition: TypeAlias = Compare | AllOf | AnyOf | Not


# --- questionnaires ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """One question."""

    id: str
    type: ItemType
    text: LocalizedText
    required: bool = True
    help: LocalizedText | None = None
    choices: tuple[Choice, ...] = ()
    minimum: int = 0  # scale only
    maximum: int = 10  # scale only
    min_label: LocalizedText | None = None  # scale only
    max_label: LocalizedText | None = None  # scale only
    max_length: int = 200  # text only
    past_only: bool = False  # date only: no dates after today
    loinc: str | None = None
    show_if: Condition | None = None
    identity: str | None = None  # "name" or "birth_date": the patient's identity fields
    columns: tuple[Column, ...] = ()  # list only
    add_label: LocalizedText | None = None  # list only: "Add another medicine"
    max_rows: int = 30  # list only

    def choice(self, value: object) -> Choice | None:
        """Return the choice whose stored value is ``value``."""
        return next((c for c in self.choices if c.value == value), None)


@dataclass(frozen=True)
class Page:
    """One screen of questions (usually a single question: one thing per screen)."""

    id: str
    items: tuple[Item, ...]
    title: LocalizedText | None = None
    intro: LocalizedText | None = None
    show_if: Condition | None = None


@dataclass(frozen=True)
class Band:
    """A named range of a score, inclusive at both ends."""

    id: str
    minimum: float
    maximum: float
    label: LocalizedText


class ScoreMethod(enum.StrEnum):
    """How a score combines its items."""

    SUM = "sum"
    MEAN = "mean"


@dataclass(frozen=True)
class ScoreRule:
    """A score declared in form data, e.g. ``phq9_total``."""

    id: str
    method: ScoreMethod
    items: tuple[str, ...]
    label: LocalizedText
    bands: tuple[Band, ...] = ()
    loinc: str | None = None

    def band_for(self, value: float) -> Band | None:
        """Return the band that contains ``value``."""
        return next((b for b in self.bands if b.minimum <= value <= b.maximum), None)


PATIENT_NOTICES: tuple[str, ...] = ("crisis",)
"""Screens a questionnaire's flag may show the patient once the page that raised it is saved
(``patient_notice: crisis``). Each one's words are ``notice.<name>.*`` in the strings table; a
test holds the two together. A fixed list, not whatever the strings hold: what a patient is told
after an answer is a clinical decision, reviewed in code like the words themselves."""


class Severity(enum.StrEnum):
    """How urgently a clinician should look at a flag."""

    INFO = "info"
    REVIEW = "review"
    URGENT = "urgent"


@dataclass(frozen=True)
class FlagRule:
    """A red flag for clinician review, raised when its condition holds.

    ``patient_notice`` names a calm screen (one of :data:`PATIENT_NOTICES`) the patient sees
    right after the page whose saving raised the flag; empty for none.
    """

    id: str
    severity: Severity
    when: Condition
    message: LocalizedText
    patient_notice: str = ""


@dataclass(frozen=True)
class Form:
    """A questionnaire (intake, PHQ-9…)."""

    id: str
    version: int
    title: LocalizedText
    pages: tuple[Page, ...]
    scores: tuple[ScoreRule, ...] = ()
    flags: tuple[FlagRule, ...] = ()
    loinc: str | None = None
    copyright: str | None = None
    published_wording: bool = False  # a validated instrument: its wording must never change
    source: str = ""

    @property
    def items(self) -> tuple[Item, ...]:
        """Every item of every page, in order."""
        return tuple(item for page in self.pages for item in page.items)

    def item(self, item_id: str) -> Item:
        """Return the item called ``item_id`` (KeyError if there is none)."""
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)


# --- consent ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """One screen of consent education."""

    id: str
    title: LocalizedText
    body: LocalizedText


@dataclass(frozen=True)
class QuizQuestion:
    """A comprehension question about one section; a wrong answer shows that section again."""

    id: str
    section: str
    text: LocalizedText
    choices: tuple[Choice, ...]
    correct: str | int

    def as_item(self) -> Item:
        """The question as a single-choice item, so it is shown and checked like any other."""
        return Item(self.id, ItemType.SINGLE_CHOICE, self.text, choices=self.choices)


@dataclass(frozen=True)
class Notice:
    """A flag raised by an event rather than a condition (e.g. a quiz question missed twice)."""

    id: str
    severity: Severity
    message: LocalizedText


@dataclass(frozen=True)
class Quiz:
    """The comprehension check: its questions and the flag raised when one is missed twice."""

    questions: tuple[QuizQuestion, ...]
    flag: Notice

    def question(self, question_id: str) -> QuizQuestion:
        for question in self.questions:
            if question.id == question_id:
                return question
        raise KeyError(question_id)


@dataclass(frozen=True)
class ConsentDocument:
    """The consent the patient reads and signs; its version is stored with the signature."""

    id: str
    version: int
    title: LocalizedText
    sections: tuple[Section, ...]
    statement: LocalizedText  # what the patient agrees to by signing
    meaning: LocalizedText  # short meaning of the signature, printed beside it
    quiz: Quiz | None = None
    attestations: tuple[Item, ...] = ()  # ticked on one screen just before signing
    flags: tuple[FlagRule, ...] = ()  # conditions on attestation answers
    source: str = ""

    def section(self, section_id: str) -> Section:
        for section in self.sections:
            if section.id == section_id:
                return section
        raise KeyError(section_id)

    def full_text(self, language: str) -> str:
        """The exact text shown to the patient, used for the SHA-256 stored with the consent."""
        parts = [f"{self.title.get(language)} (version {self.version})"]
        for section in self.sections:
            parts.append(section.title.get(language))
            parts.append(section.body.get(language))
        for question in self.quiz.questions if self.quiz else ():
            parts.append(question.text.get(language))
            parts.extend(f"- {choice.label.get(language)}" for choice in question.choices)
        for item in self.attestations:
            parts.append(item.text.get(language))
            parts.extend(f"- {choice.label.get(language)}" for choice in item.choices)
        parts.append(self.statement.get(language))
        parts.append(self.meaning.get(language))
        return "\n\n".join(parts)


# --- packet -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SummaryGroup:
    """One titled section of answers on the clinician summary (``summary_sections`` in the
    packet file), printed after the flags and the scores.

    The file lists form ids (every question of that form) and question ids; the loader checks
    each and expands the forms, so ``items`` holds question ids of the packet only, each once.
    """

    title: str  # English only: the clinician summary is written for the clinical team
    items: tuple[str, ...]


@dataclass(frozen=True)
class Packet:
    """What a visit contains: which forms in which order, then which consent."""

    id: str
    version: int
    forms: tuple[Form, ...]
    consent: ConsentDocument
    consent_answers: tuple[str, ...] = ()  # item ids printed on the consent PDF with its text
    summary_sections: tuple[SummaryGroup, ...] = ()  # the clinician summary's answers

    def form(self, form_id: str) -> Form:
        """Return the packet's form called ``form_id``."""
        for form in self.forms:
            if form.id == form_id:
                return form
        raise KeyError(form_id)

    def identity_item(self, role: str) -> Item | None:
        """The item that asks for the patient's ``name`` or ``birth_date``."""
        for form in self.forms:
            for item in form.items:
                if item.identity == role:
                    return item
        return None
