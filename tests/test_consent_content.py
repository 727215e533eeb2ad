"""The ketamine consent (version 2) carries the clinical content the clinic agreed to show.

These tests check content, not wording style: every screen exists in order, the key facts
are stated in English and Spanish, clinic settings come from placeholders, and the quiz and
the attestations are complete. Readability is checked elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from kiosk.domain.loader import load_document
from kiosk.domain.model import (
    LANGUAGES,
    TEXT_VALUES,
    Compare,
    Comparison,
    ConsentDocument,
    ItemType,
    LocalizedText,
    Quiz,
    Section,
    Severity,
)
from kiosk.paths import FORMS_DIR

CONSENT_FILE = FORMS_DIR / "ketamine_consent.yaml"

SECTION_IDS = (
    "what_ketamine_is",
    "how_it_works",
    "evidence",
    "infusion_day",
    "benefits_and_limits",
    "risks_common",
    "risks_rare",
    "who_may_not_be_suitable",
    "alternatives",
    "preparation_and_aftercare",
    "cost",
    "your_choice",
    "questions",
)

# Clinic settings replaced by markers that contain no digits, so that any digit left in a
# text was written into the form itself.
MARKERS: dict[str, str] = {name: f"<<{name}>>" for name in TEXT_VALUES}

ALLOWED_NUMBERS = frozenset({"1", "3", "7", "10", "100", "12", "24", "45", "50", "911", "988"})
"""Numbers a text may contain: frequencies (1 in 7, 3 in 10, 1 in 100), 12 weeks of relief
for CRPS, 24 hours, 45 minutes, 50 years, 911 and 988. Never fasting hours or a phone number."""

KEY_FACTS: dict[str, dict[str, tuple[str, ...]]] = {
    "what_ketamine_is": {
        "en": ("anesthesia", "50 years", "fda", "off-label", "not a research study"),
        "es": ("anestesia", "50 años", "fda", "fuera de indicación", "no es un estudio"),
    },
    "how_it_works": {
        "en": ("nmda", "receptors", "neuroplasticity", "do not fully understand"),
        "es": ("nmda", "receptores", "neuroplasticidad", "no saben bien"),
    },
    "evidence": {
        "en": (
            "crps",
            "moderate",
            "12 weeks",
            "phantom limb",
            "nerve pain",
            "fibromyalgia",
            "migraine",
            "low back",
            "may not help you",
        ),
        "es": (
            "sdrc",
            "moderadas",
            "12 semanas",
            "miembro fantasma",
            "nervios",
            "fibromialgia",
            "migraña",
            "parte baja de la espalda",
            "no le ayude",
        ),
    },
    "infusion_day": {
        "en": ("iv line", "blood pressure", "heart rate", "oxygen", "45 minutes", "rest"),
        "es": ("intravenosa", "presión arterial", "pulso", "oxígeno", "45 minutos", "descansar"),
    },
    "benefits_and_limits": {
        "en": ("hours", "three months", "not everyone", "more infusions", "no guarantee"),
        "es": ("horas", "tres meses", "no a todos", "más infusiones", "no hay garantía"),
    },
    "risks_common": {
        "en": ("3 in 10", "1 in 7", "dreamlike", "dizzy", "nausea", "blurred", "double vision"),
        "es": ("3 de cada 10", "1 de cada 7", "sueño", "mareo", "náuseas", "borrosa", "doble"),
    },
    "risks_rare": {
        "en": ("bladder", "liver", "dark urine", "yellow", "blood", "controlled substance"),
        "es": ("vejiga", "hígado", "orina oscura", "amarillos", "sangre", "sustancia controlada"),
    },
    "who_may_not_be_suitable": {
        "en": (
            "blood pressure",
            "heart",
            "pregnant",
            "breastfeeding",
            "psychosis",
            "liver",
            "eyes",
            "alcohol or drugs",
            "every medicine",
            "does not always mean",
        ),
        "es": (
            "presión alta",
            "corazón",
            "embarazada",
            "pecho",
            "psicosis",
            "hígado",
            "ojos",
            "alcohol o las drogas",
            "todos los medicamentos",
            "no siempre quiere decir",
        ),
    },
    "alternatives": {
        "en": (
            "care as it is now",
            "medicines",
            "physical therapy",
            "nerve blocks",
            "counseling",
            "no new treatment",
            "will not change",
        ),
        "es": (
            "ahora",
            "medicamentos",
            "terapia física",
            "bloqueos de nervios",
            "psicólogo",
            "ningún tratamiento nuevo",
            "no va a cambiar",
        ),
    },
    "preparation_and_aftercare": {
        "en": (
            "24 hours",
            "drive you home",
            "alcohol",
            "legal papers",
            "on your own",
            "911",
            "988",
        ),
        "es": ("24 horas", "llevarle a casa", "alcohol", "papeles legales", "por su cuenta"),
    },
    "cost": {
        "en": ("insurance", "pay for it yourself", "good faith estimate", "front desk"),
        "es": ("seguro", "tenga que pagarlo", "estimación de buena fe", "recepción"),
    },
    "your_choice": {
        "en": ("your choice", "say no", "stop at any time", "during an infusion"),
        "es": ("usted decide", "decir que no", "parar en cualquier momento", "infusión"),
    },
    "questions": {
        "en": ("questions", "at any time", "doctor"),
        "es": ("preguntas", "en cualquier momento", "médico"),
    },
}

PLACEHOLDERS_IN: dict[str, tuple[str, ...]] = {
    "preparation_and_aftercare": ("fasting_food_hours", "fasting_clear_liquid_hours"),
    "cost": ("clinic_name",),
    "your_choice": ("clinic_name",),
    "questions": ("clinic_name", "clinic_phone"),
}

QUIZ_TOPICS = frozenset(
    {
        "what_ketamine_is",  # off-label
        "preparation_and_aftercare",  # an adult drives; no driving for 24 hours
        "risks_common",  # what you may feel
        "benefits_and_limits",  # no guarantee
        "your_choice",  # stopping at any time
        "who_may_not_be_suitable",  # pregnancy and medicines
        "risks_rare",  # bladder and liver warning signs
        "cost",
    }
)
TRUE_FALSE = ("true", "false")
ATTESTATIONS: dict[str, ItemType] = {
    "attest_read": ItemType.AGREE,
    "attest_questions": ItemType.SINGLE_CHOICE,
    "attest_esign": ItemType.AGREE,
    "attest_cost": ItemType.AGREE,
}


def _load(values: dict[str, str] | None = None) -> ConsentDocument:
    document = load_document(CONSENT_FILE, values)
    assert isinstance(document, ConsentDocument)
    return document


@pytest.fixture(scope="module")
def consent() -> ConsentDocument:
    """The consent as the loader reads it with the default clinic settings."""
    return _load()


@pytest.fixture(scope="module")
def marked() -> ConsentDocument:
    """The consent with each clinic setting replaced by a digit-free marker."""
    return _load(MARKERS)


def _quiz(consent: ConsentDocument) -> Quiz:
    assert consent.quiz is not None, "the consent has no quiz"
    return consent.quiz


def _sections(consent: ConsentDocument) -> dict[str, Section]:
    return {section.id: section for section in consent.sections}


def _patient_texts(consent: ConsentDocument) -> Iterator[tuple[str, LocalizedText]]:
    """Every text the patient reads, with a readable name for messages."""
    yield "title", consent.title
    for section in consent.sections:
        yield f"section {section.id} title", section.title
        yield f"section {section.id} body", section.body
    for question in _quiz(consent).questions:
        yield f"quiz {question.id}", question.text
        for choice in question.choices:
            yield f"quiz {question.id} choice {choice.value}", choice.label
    for item in consent.attestations:
        yield f"attestation {item.id}", item.text
        for choice in item.choices:
            yield f"attestation {item.id} choice {choice.value}", choice.label
    yield "statement", consent.statement
    yield "meaning", consent.meaning


def test_version_and_meaning(consent: ConsentDocument) -> None:
    assert consent.id == "ketamine_consent"
    assert consent.version == 2
    assert consent.meaning.get("en") == "Patient's consent to ketamine infusion treatment"


def test_sections_in_order(consent: ConsentDocument) -> None:
    ids = [section.id for section in consent.sections]
    assert len(ids) == len(set(ids)), "a section id is used twice"
    assert [i for i in ids if i in SECTION_IDS] == list(SECTION_IDS)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("section_id", sorted(KEY_FACTS))
def test_section_states_key_facts(marked: ConsentDocument, section_id: str, language: str) -> None:
    body = _sections(marked)[section_id].body.get(language)
    folded = " ".join(body.split()).casefold()
    for fact in KEY_FACTS[section_id][language]:
        wanted = " ".join(fact.split()).casefold()
        assert wanted in folded, f"{section_id} ({language}) does not mention {fact!r}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_clinic_settings_come_from_placeholders(marked: ConsentDocument, language: str) -> None:
    sections = _sections(marked)
    for section_id, names in PLACEHOLDERS_IN.items():
        body = sections[section_id].body.get(language)
        for name in names:
            assert MARKERS[name] in body, f"{section_id} ({language}) does not use {{{name}}}"
    assert MARKERS["clinic_name"] in marked.statement.get(language)


def test_no_hard_coded_hours_or_phone_numbers(marked: ConsentDocument) -> None:
    for where, text in _patient_texts(marked):
        for language in LANGUAGES:
            numbers = set(re.findall(r"\d+", text.get(language)))
            extra = numbers - ALLOWED_NUMBERS
            assert not extra, f"{where} ({language}) hard-codes {sorted(extra)}; use a placeholder"


def test_every_text_is_translated(consent: ConsentDocument) -> None:
    for where, text in _patient_texts(consent):
        english, spanish = text.values.get("en", ""), text.values.get("es", "")
        assert english.strip(), f"{where} has no English text"
        assert spanish.strip(), f"{where} has no Spanish text"
        if len(english) >= 20:
            assert english != spanish, f"{where} is not translated"


def test_quiz_flag(consent: ConsentDocument) -> None:
    flag = _quiz(consent).flag
    assert flag.id == "comprehension_discuss"
    assert flag.severity is Severity.REVIEW
    for language in LANGUAGES:
        assert flag.message.get(language).strip()


def test_quiz_questions(consent: ConsentDocument) -> None:
    questions = _quiz(consent).questions
    assert 5 <= len(questions) <= 8
    ids = [question.id for question in questions]
    assert len(ids) == len(set(ids))
    section_ids = {section.id for section in consent.sections}
    for question in questions:
        assert question.section in section_ids, f"{question.id}: unknown section"
        values = [choice.value for choice in question.choices]
        assert question.correct in values, f"{question.id}: 'correct' is not a choice"
        assert len(values) == len(set(values))
        assert len(values) in (2, 3), f"{question.id}: use true/false or three choices"
        if len(values) == 2:
            assert tuple(values) == TRUE_FALSE, f"{question.id}: two choices must be true/false"


def test_quiz_mixes_kinds_and_answers(consent: ConsentDocument) -> None:
    questions = _quiz(consent).questions
    true_false = [q for q in questions if len(q.choices) == 2]
    three_choice = [q for q in questions if len(q.choices) == 3]
    assert true_false, "no true/false question"
    assert three_choice, "no three-choice question"
    assert {q.correct for q in true_false} == set(TRUE_FALSE), "true/false answers are all the same"
    positions = {[c.value for c in q.choices].index(q.correct) for q in three_choice}
    assert len(positions) > 1, "the right answer is always in the same place"


def test_quiz_covers_the_key_topics(consent: ConsentDocument) -> None:
    covered = {question.section for question in _quiz(consent).questions}
    assert covered >= QUIZ_TOPICS, f"no question about {sorted(QUIZ_TOPICS - covered)}"


def test_attestations(consent: ConsentDocument) -> None:
    types = {item.id: item.type for item in consent.attestations}
    assert types == ATTESTATIONS
    assert [item.id for item in consent.attestations] == list(ATTESTATIONS)
    for item in consent.attestations:
        assert item.required, f"{item.id} must be required"
    questions = next(i for i in consent.attestations if i.id == "attest_questions")
    assert [choice.value for choice in questions.choices] == ["answered", "will_ask"]


def test_flag_for_questions_before_infusion(consent: ConsentDocument) -> None:
    (flag,) = consent.flags
    assert flag.id == "questions_before_infusion"
    assert flag.severity is Severity.REVIEW
    assert flag.when == Compare("attest_questions", Comparison.EQUALS, "will_ask")
    for language in LANGUAGES:
        assert flag.message.get(language).strip()


@pytest.mark.parametrize("language", LANGUAGES)
def test_statement(consent: ConsentDocument, language: str) -> None:
    statement = consent.statement.get(language).casefold()
    expected = {
        "en": ("by signing", "read", "ask questions", "ketamine infusions", "stop at any time"),
        "es": ("al firmar", "leí", "hacer preguntas", "infusiones de ketamina", "parar"),
    }[language]
    for phrase in expected:
        assert phrase in statement, f"the {language} statement does not say {phrase!r}"
