"""The forms shipped in ``forms/`` load, pass the checker and carry the right clinical content."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from kiosk.documents.summary_pdf import flagged_items
from kiosk.domain.loader import check_paths, load_packet
from kiosk.domain.model import (
    LANGUAGES,
    ConsentDocument,
    Form,
    ItemType,
    LocalizedText,
    Packet,
    Severity,
)
from kiosk.paths import FORMS_DIR

PHQ9_ITEM_LOINC: dict[str, str] = {
    "phq9_1": "44250-9",
    "phq9_2": "44255-8",
    "phq9_3": "44259-0",
    "phq9_4": "44254-1",
    "phq9_5": "44251-7",
    "phq9_6": "44258-2",
    "phq9_7": "44252-5",
    "phq9_8": "44253-3",
    "phq9_9": "44260-8",
}
PHQ9_ANSWER_CODES: dict[int, str] = {
    0: "LA6568-5",
    1: "LA6569-3",
    2: "LA6570-1",
    3: "LA6571-9",
}
PHQ9_DIFFICULTY_CODES: dict[str, str] = {
    "not_difficult": "LA6572-7",
    "somewhat": "LA6573-5",
    "very": "LA6575-0",
    "extremely": "LA6574-3",
}
PHQ9_STEM = (
    "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
)
INTAKE_ITEM_IDS = (
    "patient_name",
    "birth_date",
    "phone",
    "emergency_contact_name",
    "emergency_contact_phone",
    "emergency_contact_relationship",
    "has_driver",
    "driver_name",
    "driver_phone",
)
PAIN_CONDITIONS = (
    "phantom_limb_pain",
    "other_nerve_pain",
    "crps",
    "fibromyalgia",
    "migraine",
    "low_back_pain",
    "other",
)
PACKET_FORMS = [
    "intake",
    "pain_history",
    "medicines",
    "medical_history",
    "phq9",
    "gad7",
    "peg",
    "infusion_day",
]
FORM_VERSIONS = {
    "intake": 2,
    "pain_history": 1,
    "medicines": 1,
    "medical_history": 1,
    "phq9": 1,
    "infusion_day": 1,
}
INTAKE_FORMS = ("intake", "pain_history", "medicines", "medical_history", "infusion_day")
"""The clinic's own questionnaires (not validated instruments): one question per page."""
GROUPED_PAGES = (
    {"emergency_contact_name", "emergency_contact_phone", "emergency_contact_relationship"},
    {"driver_name", "driver_phone"},
)
"""The only pages that hold more than one field: one contact's details."""

LONG_TEXT = 20
"""Texts at least this long must differ between languages (short labels like 'PHQ-9' may not)."""


@pytest.fixture(scope="module")
def packet() -> Packet:
    return load_packet(FORMS_DIR)


@pytest.fixture(scope="module")
def phq9(packet: Packet) -> Form:
    return packet.form("phq9")


@pytest.fixture(scope="module")
def intake(packet: Packet) -> Form:
    return packet.form("intake")


def _texts(value: object, path: str) -> Iterator[tuple[str, LocalizedText]]:
    """Yield every LocalizedText reachable from ``value`` with a readable path to it."""
    if isinstance(value, LocalizedText):
        yield path, value
    elif isinstance(value, tuple):
        for index, element in enumerate(value):
            yield from _texts(element, f"{path}[{index}]")
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        label = getattr(value, "id", None)
        here = f"{path}({label})" if isinstance(label, str) else path
        for field in dataclasses.fields(value):
            yield from _texts(getattr(value, field.name), f"{here}.{field.name}")


def test_packet_loads_every_shipped_form(packet: Packet) -> None:
    assert packet.id == "ketamine_infusion"
    assert packet.version == 1
    assert [form.id for form in packet.forms] == PACKET_FORMS
    assert packet.consent.id == "ketamine_consent"
    for form_id, version in FORM_VERSIONS.items():
        assert packet.form(form_id).version == version, form_id


def test_checker_finds_no_problems() -> None:
    assert check_paths([FORMS_DIR]) == []


def test_every_yaml_file_is_part_of_the_packet(packet: Packet) -> None:
    ids = {form.id for form in packet.forms} | {packet.consent.id}
    stems = {path.stem for path in FORMS_DIR.glob("*.yaml")} - {"packet"}
    assert stems == ids


def test_the_clinician_summary_shows_every_answer_a_form_flag_looks_at(packet: Packet) -> None:
    """A flag in the summary's flags box points at a shaded answer below it: every question a
    form's flag reads is in one of the packet's ``summary_sections`` (the consent's flags read
    the attestations, printed on the consent PDF instead)."""
    flagged = flagged_items(packet, [rule.id for form in packet.forms for rule in form.flags])
    shown = {item_id for group in packet.summary_sections for item_id in group.items}
    assert {"heart_conditions", "phq9_9", "has_driver", "last_food"} <= flagged
    assert flagged - shown == set()


def test_identity_items(packet: Packet) -> None:
    name = packet.identity_item("name")
    birth_date = packet.identity_item("birth_date")
    assert name is not None
    assert name.id == "patient_name"
    assert birth_date is not None
    assert birth_date.id == "birth_date"
    assert birth_date.past_only


def test_intake_has_required_items(intake: Form) -> None:
    assert intake.title.get("en") == "About you"
    assert tuple(item.id for item in intake.items) == INTAKE_ITEM_IDS
    assert intake.item("phone").type is ItemType.PHONE
    assert intake.item("emergency_contact_phone").type is ItemType.PHONE
    assert not intake.item("emergency_contact_relationship").required
    assert intake.item("has_driver").type is ItemType.YES_NO
    assert intake.item("driver_phone").type is ItemType.PHONE


def test_pain_questions_moved_out_of_intake(packet: Packet) -> None:
    ids = {item.id for item in packet.form("intake").items}
    assert not ids & {"main_condition", "main_condition_other", "pain_now"}
    pain = packet.form("pain_history")
    conditions = pain.item("pain_conditions")
    assert conditions.type is ItemType.MULTI_CHOICE
    assert tuple(choice.value for choice in conditions.choices) == PAIN_CONDITIONS


@pytest.mark.parametrize("form_id", INTAKE_FORMS)
def test_one_question_per_page(packet: Packet, form_id: str) -> None:
    for page in packet.form(form_id).pages:
        ids = {item.id for item in page.items}
        if len(ids) > 1:
            assert ids in GROUPED_PAGES, page.id


def test_driver_details_show_only_with_a_driver(intake: Form) -> None:
    page = next(p for p in intake.pages if "driver_name" in {i.id for i in p.items})
    assert {i.id for i in page.items} == {"driver_name", "driver_phone"}
    assert page.show_if is not None


def test_other_condition_page_shows_only_for_other(packet: Packet) -> None:
    pain = packet.form("pain_history")
    page = next(p for p in pain.pages if "pain_condition_other" in {i.id for i in p.items})
    assert len(page.items) == 1
    assert page.show_if is not None


def test_pain_now_scale(packet: Packet) -> None:
    pain = packet.form("pain_history").item("pain_now")
    assert pain.type is ItemType.SCALE
    assert (pain.minimum, pain.maximum) == (0, 10)
    assert pain.loinc == "72514-3"
    assert pain.min_label is not None
    assert pain.min_label.get("en") == "No pain"
    assert pain.max_label is not None
    assert pain.max_label.get("en") == "Worst pain you can imagine"


def test_phq9_items_and_loinc_codes(phq9: Form) -> None:
    assert phq9.loinc == "44249-1"
    assert phq9.copyright is not None
    assert "Pfizer" in phq9.copyright
    assert "No permission required" in phq9.copyright
    scored = [item for item in phq9.items if item.id != "phq9_difficulty"]
    assert {item.id: item.loinc for item in scored} == PHQ9_ITEM_LOINC
    assert [item.loinc for item in scored] == [
        "44250-9",
        "44255-8",
        "44259-0",
        "44254-1",
        "44251-7",
        "44258-2",
        "44252-5",
        "44253-3",
        "44260-8",
    ]
    for item in scored:
        assert item.type is ItemType.SINGLE_CHOICE
        assert item.required
        assert {c.value: c.code for c in item.choices} == PHQ9_ANSWER_CODES


def test_phq9_one_item_per_page_with_stem(phq9: Form) -> None:
    for page in phq9.pages:
        assert len(page.items) == 1
        if page.items[0].id in PHQ9_ITEM_LOINC:
            assert page.intro is not None
            assert page.intro.get("en") == PHQ9_STEM


def test_phq9_difficulty_is_not_scored(phq9: Form) -> None:
    difficulty = phq9.item("phq9_difficulty")
    assert difficulty.loinc == "69722-7"
    assert {c.value: c.code for c in difficulty.choices} == PHQ9_DIFFICULTY_CODES
    for score in phq9.scores:
        assert "phq9_difficulty" not in score.items


def test_phq9_total_score_and_bands(phq9: Form) -> None:
    total = next(score for score in phq9.scores if score.id == "phq9_total")
    assert total.loinc == "44261-6"
    assert total.items == tuple(PHQ9_ITEM_LOINC)
    bands = [(b.id, b.minimum, b.maximum) for b in total.bands]
    assert bands == [
        ("minimal", 0, 4),
        ("mild", 5, 9),
        ("moderate", 10, 14),
        ("moderately_severe", 15, 19),
        ("severe", 20, 27),
    ]


def test_phq9_item9_flag_is_urgent(phq9: Form) -> None:
    flag = next(f for f in phq9.flags if f.id == "phq9_item9")
    assert flag.severity is Severity.URGENT


def test_consent(packet: Packet) -> None:
    consent: ConsentDocument = packet.consent
    assert consent.version == 2
    assert len(consent.sections) == 13
    assert consent.meaning.get("en") == "Patient's consent to ketamine infusion treatment"
    for language in LANGUAGES:
        assert consent.full_text(language).strip()


def test_every_text_is_translated(packet: Packet) -> None:
    texts = list(_texts(packet, "packet"))
    assert len(texts) > 50
    for path, text in texts:
        for language in LANGUAGES:
            assert text.values.get(language, "").strip(), f"{path} has no {language} text"
        english, spanish = text.values["en"], text.values["es"]
        if len(english) >= LONG_TEXT:
            assert english != spanish, f"{path} is not translated"
