"""The signed consent PDF: manifestation as page content, escaping, footers, fonts, signature."""

from __future__ import annotations

import dataclasses
import hashlib
import io
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from PIL import Image, ImageDraw
from pypdf import PdfReader

from kiosk.documents.consent_pdf import (
    ConsentPdfData,
    format_signed_at,
    render_consent_pdf,
)
from kiosk.documents.layout import register_fonts
from kiosk.domain.model import ConsentDocument, LocalizedText, Section
from kiosk.domain.strings import Strings, load_strings
from kiosk.paths import STRINGS_DIR

HOSTILE = '<b>Bob & "Al"</b>'
SIGNED_AT = datetime(2026, 11, 22, 9, 14, 3, tzinfo=timezone(timedelta(hours=-5)))
SIGNED_AT_TEXT = "2026-11-22 09:14:03 -05:00 (UTC-05:00)"

PARAGRAPH_EN = (
    "Ketamine is given slowly through a small tube in a vein while a nurse watches you. "
    "Each infusion takes about 40 to 60 minutes; we check your blood pressure, heart rate "
    "and breathing throughout."
)
PARAGRAPH_ES = (
    "La ketamina se administra lentamente por un pequeño tubo en una vena mientras una "
    "enfermera lo vigila. Cada infusión dura de 40 a 60 minutos; controlamos su presión "
    "arterial, frecuencia cardíaca y respiración durante todo el tratamiento."
)


def _text(en: str, es: str) -> LocalizedText:
    return LocalizedText({"en": en, "es": es})


def _consent(paragraphs: int = 1) -> ConsentDocument:
    return ConsentDocument(
        id="ketamine-infusion",
        version=1,
        title=_text("Informed consent for ketamine infusion", "Consentimiento para infusión"),
        sections=(
            Section(
                "what",
                _text("What the treatment is", "En qué consiste el tratamiento"),
                _text(
                    "\n\n".join([PARAGRAPH_EN] * paragraphs),
                    "\n\n".join([PARAGRAPH_ES] * paragraphs),
                ),
            ),
            Section(
                "risks",
                _text("Risks and side effects", "Riesgos y efectos secundarios"),
                _text(
                    "Common effects:\n- dizziness\n- nausea\n\nRare: high blood pressure.",
                    "Efectos comunes:\n- mareo\n- náuseas\n\nRaro: presión arterial alta.",
                ),
            ),
            Section(
                "rights",
                _text("Your rights", "Sus derechos"),
                _text("You may stop at any time.", "Puede detenerse en cualquier momento."),
            ),
        ),
        statement=_text(
            "I have read this consent and agree to treatment.",
            "He leído este consentimiento y acepto el tratamiento.",
        ),
        meaning=_text("Consent to treatment", "Consentimiento al tratamiento"),
    )


def _signature_png() -> bytes:
    image = Image.new("RGBA", (300, 100), (0, 0, 0, 0))
    ImageDraw.Draw(image).line(
        [(10, 80), (60, 20), (110, 85), (160, 25), (220, 70), (290, 40)],
        fill=(20, 30, 90, 255),
        width=4,
    )
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def strings() -> Strings:
    return load_strings(STRINGS_DIR)


def _data(language: str = "en", paragraphs: int = 1, **changes: Any) -> ConsentPdfData:
    consent = _consent(paragraphs)
    data = ConsentPdfData(
        clinic_name="Riverbend Pain Clinic",
        language=language,
        consent=consent,
        document_id="KC-3F9A2B1C",
        patient_name="José Núñez",
        birth_date="1980-03-04",
        signer_name="José Núñez",
        signed_at=SIGNED_AT,
        signature_png=_signature_png(),
        text_sha256=hashlib.sha256(consent.full_text(language).encode()).hexdigest(),
        statement=consent.statement.get(language),
        meaning=consent.meaning.get(language),
        summary=(("PEG pain score (0–10)", "6.3"), ("PHQ-9", "11 — moderate")),
    )
    return dataclasses.replace(data, **changes)


def _read(pdf: bytes) -> PdfReader:
    assert pdf.startswith(b"%PDF-")
    return PdfReader(io.BytesIO(pdf))


def _all_text(reader: PdfReader) -> str:
    return "\n".join(page.extract_text() for page in reader.pages)


def test_english_render_carries_the_signature_manifestation(strings: Strings) -> None:
    data = _data()
    text = _all_text(_read(render_consent_pdf(data, strings)))

    assert "Riverbend Pain Clinic" in text
    assert "Informed consent for ketamine infusion" in text
    assert "version 1" in text
    assert "José Núñez" in text
    assert "Signed by" in text
    assert "Date and time of signing" in text
    assert SIGNED_AT_TEXT in text
    assert "Meaning of this signature" in text
    assert "Consent to treatment" in text
    assert "I have read this consent and agree to treatment." in text
    assert "ketamine-infusion, version 1" in text
    assert data.text_sha256 in text
    assert "PHQ-9" in text
    assert "11 — moderate" in text


def test_hostile_patient_text_appears_literally(strings: Strings) -> None:
    data = _data(
        clinic_name=f"Clinic {HOSTILE}",
        patient_name=HOSTILE,
        signer_name=HOSTILE,
        summary=(("Allergies", HOSTILE), (HOSTILE, "yes")),
    )
    text = _all_text(_read(render_consent_pdf(data, strings)))

    assert text.count(HOSTILE) >= 5  # clinic, patient panel, footer, signer, summary rows
    assert "&amp;" not in text
    assert "&lt;" not in text


def test_consent_text_from_forms_is_escaped_too(strings: Strings) -> None:
    consent = _consent()
    section = dataclasses.replace(
        consent.sections[0], body=_text("Dose < 0.5 mg/kg & <i>rate</i>", "Dosis < 0,5 mg/kg")
    )
    data = _data(consent=dataclasses.replace(consent, sections=(section,)))
    text = _all_text(_read(render_consent_pdf(data, strings)))

    assert "Dose < 0.5 mg/kg & <i>rate</i>" in text


def test_spanish_render_has_accents_and_spanish_labels(strings: Strings) -> None:
    data = _data("es")
    text = _all_text(_read(render_consent_pdf(data, strings)))

    assert "Núñez" in text
    assert "versión 1" in text
    assert "En qué consiste el tratamiento" in text
    assert "Firmado por" in text
    assert "Fecha y hora de la firma" in text
    assert "Significado de esta firma" in text
    assert "Consentimiento al tratamiento" in text
    assert "Fecha de nacimiento" in text
    assert "Página 1 de" in text
    assert "Signed by" not in text


def test_every_page_has_the_footer_with_the_right_page_count(strings: Strings) -> None:
    reader = _read(render_consent_pdf(_data(paragraphs=12), strings))
    pages = len(reader.pages)

    assert pages >= 2
    for number, page in enumerate(reader.pages, start=1):
        text = page.extract_text()
        assert f"Page {number} of {pages}" in text
        assert "José Núñez" in text
        assert "1980-03-04" in text
        assert "KC-3F9A2B1C" in text
        assert "ketamine-infusion, version 1" in text


def _image_count(page: Any) -> int:
    xobjects = page["/Resources"].get("/XObject")
    if xobjects is None:
        return 0
    return sum(
        1 for ref in xobjects.get_object().values() if ref.get_object()["/Subtype"] == "/Image"
    )


def test_signature_is_an_image_on_the_page(strings: Strings) -> None:
    reader = _read(render_consent_pdf(_data(paragraphs=12), strings))

    counts = [_image_count(page) for page in reader.pages]
    assert sum(counts) == 1
    assert counts[-1] == 1  # the signature block closes the document
    assert not reader.get_fields()  # page content, not a form field


def test_only_embedded_dejavu_fonts_are_used(strings: Strings) -> None:
    reader = _read(render_consent_pdf(_data(paragraphs=12), strings))

    base_fonts: set[str] = set()
    for page in reader.pages:
        resources: Any = page["/Resources"]
        for ref in resources["/Font"].values():
            font = ref.get_object()
            name = str(font["/BaseFont"])
            base_fonts.add(name.split("+", 1)[-1])
            assert "/FontFile2" in font["/FontDescriptor"].get_object(), name
    assert base_fonts == {"DejaVuSans", "DejaVuSans-Bold"}


def test_metadata_names_the_clinic_but_not_the_patient(strings: Strings) -> None:
    reader = _read(render_consent_pdf(_data(), strings))
    metadata = reader.metadata

    assert metadata is not None
    assert metadata.title == "Riverbend Pain Clinic"
    assert metadata.author == "Consent kiosk"
    for value in metadata.values():
        assert "Núñez" not in str(value)
        assert "1980-03-04" not in str(value)


@pytest.mark.parametrize(
    "png",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"not an image", id="not-png"),
        pytest.param(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, id="png-header-garbage"),
        pytest.param(_signature_png()[:60], id="truncated-png"),
    ],
)
def test_unreadable_signature_raises_value_error(strings: Strings, png: bytes) -> None:
    with pytest.raises(ValueError, match="signature image"):
        render_consent_pdf(_data(signature_png=png), strings)


def test_naive_signing_time_raises_value_error(strings: Strings) -> None:
    with pytest.raises(ValueError, match="time zone"):
        render_consent_pdf(_data(signed_at=datetime(2026, 11, 22, 9, 14, 3)), strings)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (SIGNED_AT, SIGNED_AT_TEXT),
        (datetime(2026, 1, 2, 3, 4, 5, 999, tzinfo=UTC), "2026-01-02 03:04:05 +00:00 (UTC+00:00)"),
        (
            datetime(2026, 7, 1, 18, 0, tzinfo=timezone(timedelta(hours=5, minutes=30))),
            "2026-07-01 18:00:00 +05:30 (UTC+05:30)",
        ),
    ],
)
def test_signing_time_is_printed_with_its_offset(moment: datetime, expected: str) -> None:
    assert format_signed_at(moment) == expected


def test_font_registration_is_idempotent(strings: Strings) -> None:
    register_fonts()
    register_fonts()
    assert render_consent_pdf(_data(), strings).startswith(b"%PDF-")
