"""Every question type walked through every place that handles it (forms/README.md lists them).

Each ``ItemType`` member gets a tiny form with one question and a stored answer, built by
:func:`sample` — a ``match`` that ends in ``assert_never``, so mypy refuses a new type until it has
a sample here. Then the answer goes through validation, the answer widget, ``answer_text``, the
FHIR export and both PDFs. Choice labels differ from the stored values on purpose: a place that
printed the value instead of the label fails.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, assert_never

import pytest
from pypdf import PdfReader
from pytestqt.qtbot import QtBot

from kiosk.documents.consent_pdf import ConsentPdfData, render_consent_pdf
from kiosk.documents.fhir import visit_bundle
from kiosk.documents.summary_pdf import render_summary_pdf, summary_data
from kiosk.domain.answer_text import CELL, LINE, AnswerWords, answer_text
from kiosk.domain.answers import AnswerProblem, Checked, validate
from kiosk.domain.export_model import ExportedAnswer, ExportedForm, ExportedVisit
from kiosk.domain.model import (
    AnswerValue,
    Choice,
    Column,
    ConsentDocument,
    Form,
    Item,
    ItemType,
    LocalizedText,
    Packet,
    Page,
    Section,
    SummaryGroup,
)
from kiosk.domain.strings import Strings
from kiosk.ui.texts import Texts
from kiosk.ui.widgets.answers import create_answer_widget
from tests.conftest import CLINIC_TIME

TODAY = CLINIC_TIME.date()
FORM_ID = "walk"


def _text(en: str, es: str) -> LocalizedText:
    return LocalizedText({"en": en, "es": es})


@dataclass(frozen=True)
class Sample:
    """One question of a type, an answer to it as stored, and how each place shows it."""

    item: Item
    stored: AnswerValue
    english: str  # answer_text in English
    spanish: str  # answer_text in Spanish
    fhir_type: str  # the Questionnaire item's type


def sample(item_type: ItemType) -> Sample:
    """A question of ``item_type`` and a stored answer to it."""
    question = _text(f"Question of type {item_type}", f"Pregunta de tipo {item_type}")
    match item_type:
        case ItemType.TEXT:
            item = Item("q", item_type, question, max_length=80)
            text = "Uses a cane on stairs"
            return Sample(item, text, text, text, "string")
        case ItemType.DATE:
            item = Item("q", item_type, question, past_only=True)
            return Sample(item, "1961-03-05", "March 5, 1961", "5 de marzo de 1961", "date")
        case ItemType.PHONE:
            item = Item("q", item_type, question)
            return Sample(item, "(555) 010-0199", "(555) 010-0199", "(555) 010-0199", "string")
        case ItemType.SINGLE_CHOICE:
            options = (
                Choice("most_days", _text("Most days of the week", "Casi todos los días")),
                Choice("never", _text("Never", "Nunca")),
            )
            item = Item("q", item_type, question, choices=options)
            return Sample(
                item, "most_days", "Most days of the week", "Casi todos los días", "choice"
            )
        case ItemType.MULTI_CHOICE:
            choices = (
                Choice("pen", _text("Penicillin", "Penicilina")),
                Choice("latex", _text("Latex gloves", "Guantes de látex")),
                Choice("iod", _text("Iodine", "Yodo")),
            )
            item = Item("q", item_type, question, choices=choices)
            english = LINE.join(["Penicillin", "Iodine"])
            spanish = LINE.join(["Penicilina", "Yodo"])
            return Sample(item, ("pen", "iod"), english, spanish, "choice")
        case ItemType.YES_NO:
            item = Item("q", item_type, question)
            return Sample(item, True, "Yes", "Sí", "boolean")
        case ItemType.SCALE:
            item = Item("q", item_type, question, minimum=0, maximum=10)
            return Sample(item, 7, "7 / 10", "7 / 10", "integer")
        case ItemType.LIST:
            columns = (
                Column("name", _text("Medicine", "Medicamento")),
                Column("dose", _text("Dose", "Dosis"), required=False),
            )
            item = Item("q", item_type, question, columns=columns, add_label=_text("Add", "Añadir"))
            rows = ({"name": "Gabapentin", "dose": "300 mg"}, {"name": "Aspirin", "dose": ""})
            shown = LINE.join([CELL.join(["Gabapentin", "300 mg"]), "Aspirin"])
            return Sample(item, rows, shown, shown, "group")
        case ItemType.AGREE:
            item = Item("q", item_type, question)
            return Sample(item, True, "Yes", "Sí", "boolean")
        case _ as unreachable:
            assert_never(unreachable)


EVERY_TYPE = pytest.mark.parametrize("item_type", list(ItemType), ids=str)

# The FHIR R4 answer value that goes with each Questionnaire item type.
_FHIR_ANSWER = {
    "string": "valueString",
    "text": "valueString",
    "date": "valueDate",
    "choice": "valueCoding",
    "boolean": "valueBoolean",
    "integer": "valueInteger",
    "group": "valueString",  # in the row's own items, one per filled-in column
}


@pytest.fixture(scope="module")
def words(strings: Strings) -> dict[str, AnswerWords]:
    return {language: AnswerWords.from_strings(strings, language) for language in ("en", "es")}


def _flat(text: str) -> str:
    return " ".join(text.split())


def _pieces(answer: str) -> list[str]:
    """The separate words an answer is made of (each chosen choice, each cell of each row)."""
    return [cell for line in answer.split(LINE) for cell in line.split(CELL) if cell.strip()]


def _pdf_text(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF-")
    return _flat(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages))


# --- validation and the answer widget ----------------------------------------------------------


@EVERY_TYPE
def test_the_stored_answer_is_valid_and_nothing_is_required(item_type: ItemType) -> None:
    s = sample(item_type)
    assert validate(s.item, s.stored, TODAY) == Checked(s.stored)
    assert validate(s.item, None, TODAY) == Checked(problem=AnswerProblem.REQUIRED)


@EVERY_TYPE
def test_the_widget_shows_the_stored_answer_and_gives_it_back(
    qtbot: QtBot, strings: Strings, item_type: ItemType
) -> None:
    s = sample(item_type)
    widget = create_answer_widget(s.item, Texts(strings, "en"))
    qtbot.addWidget(widget)
    assert widget.objectName() == f"answer_{s.item.id}"
    assert widget.accessibleName() == s.item.text.get("en")
    empty = validate(s.item, widget.value(), TODAY)
    assert empty.value is None  # a fresh widget has no answer yet
    widget.set_value(s.stored)
    assert validate(s.item, widget.value(), TODAY) == Checked(s.stored)


# --- words -------------------------------------------------------------------------------------


@EVERY_TYPE
def test_answer_text_spells_the_answer(words: dict[str, AnswerWords], item_type: ItemType) -> None:
    s = sample(item_type)
    assert answer_text(s.item, s.stored, words["en"]) == s.english
    assert answer_text(s.item, s.stored, words["es"]) == s.spanish
    assert answer_text(s.item, None, words["en"]) == "Not answered"


# --- FHIR --------------------------------------------------------------------------------------


def _exported(s: Sample) -> ExportedVisit:
    at = dt.datetime(2026, 11, 22, 14, 14, tzinfo=dt.UTC)
    form = ExportedForm(
        FORM_ID,
        1,
        (ExportedAnswer(s.item.id, s.stored, at),),
        title=_text("Walk", "Paseo"),
        items=(s.item,),
    )
    return ExportedVisit(
        visit_id="visit-1",
        document_number="KC-00000001",
        patient_name="Rosa Prueba",
        birth_date="1961-03-05",
        language="en",
        kiosk_id="lobby-1",
        status="signed",
        started_at=at,
        finished_at=at,
        packet_id="walk_packet",
        packet_version=1,
        forms=(form,),
    )


def _answer_keys(node: object) -> Iterator[str]:
    """Every ``value…`` key of every answer under ``node``."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key == "answer":
                for answer in value:
                    yield from (k for k in answer if k.startswith("value"))
            yield from _answer_keys(value)
    elif isinstance(node, list):
        for part in node:
            yield from _answer_keys(part)


@EVERY_TYPE
def test_fhir_asks_the_question_with_its_type_and_answers_in_kind(item_type: ItemType) -> None:
    s = sample(item_type)
    bundle = visit_bundle(_exported(s), now=CLINIC_TIME)  # validated as R4 on the way out
    resources: dict[str, Any] = {
        e["resource"]["resourceType"]: e["resource"] for e in bundle["entry"]
    }
    [question] = resources["Questionnaire"]["item"]
    assert (question["linkId"], question["type"]) == (s.item.id, s.fhir_type)
    answered = resources["QuestionnaireResponse"]["item"]  # a list: one group per row
    assert {entry["linkId"] for entry in answered} == {s.item.id}
    assert set(_answer_keys(answered)) == {_FHIR_ANSWER[s.fhir_type]}


# --- PDFs --------------------------------------------------------------------------------------


def _consent() -> ConsentDocument:
    return ConsentDocument(
        id="walk_consent",
        version=1,
        title=_text("Consent", "Consentimiento"),
        sections=(Section("what", _text("What", "Qué"), _text("Body.", "Cuerpo.")),),
        statement=_text("I agree.", "Acepto."),
        meaning=_text("Consent", "Consentimiento"),
    )


@EVERY_TYPE
def test_the_consent_pdf_prints_the_answer_row(
    strings: Strings, words: dict[str, AnswerWords], item_type: ItemType
) -> None:
    s = sample(item_type)
    consent = _consent()
    data = ConsentPdfData(
        clinic_name="Walk Clinic",
        language="es",
        consent=consent,
        document_id="KC-00000001",
        patient_name="Rosa Prueba",
        birth_date="1961-03-05",
        signer_name="Rosa Prueba",
        signed_at=CLINIC_TIME,
        signature_png=None,
        typed_name="Rosa Prueba",
        witness_name="Maria Lopez (staff id maria.lopez)",
        text_sha256="0" * 64,
        statement=consent.statement.get("es"),
        meaning=consent.meaning.get("es"),
        summary=((s.item.text.get("es"), answer_text(s.item, s.stored, words["es"])),),
    )
    shown = _pdf_text(render_consent_pdf(data, strings))
    assert _flat(s.item.text.get("es")) in shown
    for piece in _pieces(s.spanish):
        assert _flat(piece) in shown, piece


@EVERY_TYPE
def test_the_clinician_summary_prints_the_answer(strings: Strings, item_type: ItemType) -> None:
    s = sample(item_type)
    form = Form(FORM_ID, 1, _text("Walk", "Paseo"), (Page("page", (s.item,)),))
    packet = Packet(
        "walk_packet",
        1,
        (form,),
        _consent(),
        summary_sections=(SummaryGroup("Answers", (s.item.id,)),),
    )
    data = summary_data(
        packet,
        {s.item.id: s.stored},
        (),
        (),
        clinic_name="Walk Clinic",
        document_id="KS-00000001",
        started_at=CLINIC_TIME,
        language="es",
        kiosk_id="lobby-1",
        consent_status="Not signed yet",
        strings=strings,
    )
    shown = _pdf_text(render_summary_pdf(data))
    for piece in _pieces(s.english):
        assert _flat(piece) in shown, piece
