"""The signed consent as a PDF: the exact text, the drawn signature and its manifestation.

21 CFR §11.50 wants the printed name, the date and time of signing and the meaning of the signature
in every human-readable form of the record, so all of it is drawn as page content next to the
signature image (never only in a form field or the signature dictionary). Every page carries a
footer identifying the patient, the document and the consent version, with "page X of Y".

All text uses the bundled DejaVu fonts (embedded, with accents and non-Latin scripts), and every
piece of text that is not our own markup is escaped before it reaches ReportLab's paragraph parser.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from io import BytesIO
from typing import Any

from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.lib.utils import ImageReader
from reportlab.platypus import (
    Flowable,
    HRFlowable,
    KeepTogether,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from kiosk.documents.layout import (
    ACCENT,
    FONT,
    FONT_BOLD,
    INK,
    MARGIN_BOTTOM,
    MARGIN_TOP,
    MUTED,
    PAGE_HEIGHT,
    PANEL,
    RULE,
    TEXT_WIDTH,
    PageFurniture,
    build_document,
    clean_text,
    markup,
    register_fonts,
)

# Re-exported: the consent's comprehension and reading rows are worded in the domain, where the
# staff console reads them too.
from kiosk.domain.answer_text import AnswerWords, answer_text
from kiosk.domain.findings import comprehension_rows, reading_rows
from kiosk.domain.model import AnswerValue, ConsentDocument, Packet
from kiosk.domain.strings import Strings
from kiosk.domain.visit import Signing, Visit

__all__ = [
    "ConsentPdfData",
    "attestation_rows",
    "comprehension_rows",
    "consent_answer_rows",
    "consent_pdf_data",
    "reading_rows",
    "render_consent_pdf",
]

_SIGNATURE_MAX_WIDTH = 8 * cm
_SIGNATURE_MAX_HEIGHT = 3 * cm
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

_BLANK_LINE = re.compile(r"\n[ \t]*\n")


@dataclass(frozen=True)
class ConsentPdfData:
    """Everything printed on one signed consent.

    ``document_id`` identifies the PDF, not the patient. ``statement`` and ``meaning`` are already
    in the visit's ``language``; ``summary`` rows may contain patient text and are escaped.
    """

    clinic_name: str
    language: str
    consent: ConsentDocument
    document_id: str
    patient_name: str
    birth_date: str
    signer_name: str
    signed_at: datetime
    signature_png: bytes | None  # None when the patient typed their name with a witness
    text_sha256: str
    statement: str
    meaning: str
    summary: tuple[tuple[str, str], ...] = ()
    comprehension: tuple[tuple[str, str], ...] = ()  # question -> how it went
    attestations: tuple[tuple[str, str], ...] = ()  # statement -> the patient's answer
    reading: tuple[tuple[str, str], ...] = ()  # section -> time on screen, read to the end
    typed_name: str = ""  # the name as typed, for a witnessed typed signature
    witness_name: str = ""  # "Maria Lopez (staff id maria.lopez)"
    witness_reason: str = ""  # why the patient could not draw a signature
    audit_head: str = ""  # "SEQ:HMAC" of the audit trail right after this signing


def attestation_rows(
    consent: ConsentDocument,
    answers: Mapping[str, AnswerValue],
    language: str,
    strings: Strings,
) -> tuple[tuple[str, str], ...]:
    """Each attestation with the patient's answer, for the PDF."""
    rows = []
    for item in consent.attestations:
        value = answers.get(item.id)
        choice = item.choice(value) if item.choices else None
        if choice is not None:
            answer = choice.label.get(language)
        elif value is True:
            answer = strings.get("pdf.attested_yes", language)
        else:
            answer = strings.get("pdf.attested_no", language)
        rows.append((item.text.get(language), answer))
    return tuple(rows)


def consent_answer_rows(
    packet: Packet, answers: Mapping[str, AnswerValue], words: AnswerWords
) -> tuple[tuple[str, str], ...]:
    """The answers that matter to consent (the packet's ``consent_answers``), as the patient
    saw them, for the consent PDF. Questions that were never asked are left out."""
    pages = {item.id: page for form in packet.forms for page in form.pages for item in page.items}
    rows = []
    for item_id in packet.consent_answers:
        if item_id not in answers:
            continue
        page = pages[item_id]
        item = next(i for i in page.items if i.id == item_id)
        question = words.local(item.text)
        if page.title:  # "Their full name" and the checklists need their page's context
            question = f"{words.local(page.title)} — {question}"
        rows.append((question, answer_text(item, answers[item_id], words)))
    return tuple(rows)


def consent_pdf_data(
    visit: Visit,
    signing: Signing,
    strings: Strings,
    *,
    clinic_name: str,
    document_id: str,
    audit_head: str,
) -> ConsentPdfData:
    """Everything the signed consent prints, from the visit as signed.

    Args:
        visit: The visit that was just signed (its packet, language and answers).
        signing: What the visit accepted as the signature.
        strings: The strings table (the PDF's own words).
        clinic_name: Printed in the heading.
        document_id: The document number printed on every page ("KC-…").
        audit_head: "SEQ:HMAC" of the audit trail right after this signing.
    """
    consent = visit.packet.consent
    language = visit.language
    witness = signing.witness
    return ConsentPdfData(
        clinic_name=clinic_name,
        language=language,
        consent=consent,
        document_id=document_id,
        patient_name=visit.identity("name"),
        birth_date=visit.identity("birth_date"),
        signer_name=signing.signer_name,
        signed_at=signing.signed_at,
        signature_png=signing.signature.png if signing.signature else None,
        text_sha256=signing.text_sha256,
        statement=signing.statement,
        meaning=signing.meaning,
        comprehension=comprehension_rows(consent, signing.comprehension, language, strings),
        attestations=attestation_rows(consent, signing.attestations, language, strings),
        reading=reading_rows(consent, signing.reading, language, strings),
        summary=consent_answer_rows(
            visit.packet, visit.answers, AnswerWords.from_strings(strings, language)
        ),
        typed_name=signing.typed_name,
        witness_name=f"{witness.name} ({witness.staff_id})" if witness else "",
        witness_reason=witness.reason if witness else "",
        audit_head=audit_head,
    )


def format_signed_at(moment: datetime) -> str:
    """Signing time with its UTC offset, e.g. ``2026-11-22 09:14:03 -05:00 (UTC-05:00)``.

    Raises:
        ValueError: for a naive datetime, whose instant cannot be known.
    """
    offset = moment.utcoffset()
    if offset is None:
        raise ValueError("The signing time has no time zone; pass a timezone-aware datetime.")
    text = _format_offset(offset)
    return f"{moment:%Y-%m-%d %H:%M:%S} {text} (UTC{text})"


def render_consent_pdf(data: ConsentPdfData, strings: Strings) -> bytes:
    """Render the signed consent to PDF bytes (US Letter).

    Raises:
        ValueError: when ``signature_png`` is empty or not a readable PNG, or ``signed_at`` is
            naive.
    """
    register_fonts()
    signed_at = format_signed_at(data.signed_at)
    lang = data.language
    styles = _Styles()

    def label(key: str, **values: object) -> str:
        return strings.get(f"pdf.{key}", lang, **values)

    title = data.consent.title.get(lang)
    version = label("version", version=data.consent.version)
    consent_ref = f"{data.consent.id}, {version}"

    story: list[Flowable] = [
        Paragraph(markup(data.clinic_name), styles.clinic),
        HRFlowable(width="100%", thickness=0.8, color=RULE, spaceBefore=2, spaceAfter=18),
        Paragraph(markup(title), styles.title),
        Paragraph(
            f"{markup(version)}&nbsp;&nbsp;·&nbsp;&nbsp;"
            f"{markup(label('document'))} {markup(data.document_id)}",
            styles.subtitle,
        ),
        _patient_panel(data, label, styles),
    ]
    for section in data.consent.sections:
        story.append(Paragraph(markup(section.title.get(lang)), styles.heading))
        story.extend(Paragraph(markup(p), styles.body) for p in _paragraphs(section.body.get(lang)))
    for heading, rows in (
        ("summary", data.summary),
        ("comprehension", data.comprehension),
        ("attestations", data.attestations),
        ("reading", data.reading),
    ):
        if rows:
            story.append(Paragraph(markup(label(heading)), styles.heading))
            story.append(_summary_table(rows, styles))

    field_rows: list[list[tuple[str, str]]] = [
        [(label("signed_by"), data.signer_name), (label("signed_at"), signed_at)],
        [(label("meaning"), data.meaning)],
    ]
    if data.signature_png is not None:
        mark: list[Flowable] = [
            _read_signature(data.signature_png),
            Paragraph(markup(label("signature_image")), styles.caption),
        ]
    else:
        if not data.typed_name or not data.witness_name:
            raise ValueError("a consent without a drawn signature needs a typed name and witness")
        mark = [
            Paragraph(markup(data.typed_name), styles.typed),
            Paragraph(markup(label("typed_signature")), styles.caption),
        ]
        field_rows.append([(label("witnessed_by"), data.witness_name)])
        field_rows.append(
            [
                (
                    label("witness_statement"),
                    label("witness_text", reason=data.witness_reason),
                )
            ]
        )
    field_rows.append(
        [(label("consent_version"), consent_ref), (label("document"), data.document_id)]
    )
    field_rows.append([(label("text_sha256"), data.text_sha256)])
    hash_rows = {len(field_rows) - 1}
    if data.audit_head:
        field_rows.append([(label("audit_head"), data.audit_head)])
        hash_rows.add(len(field_rows) - 1)
    fields = _field_grid(field_rows, styles, hash_rows=hash_rows)
    story.append(
        KeepTogether(
            [
                Paragraph(markup(label("signature")), styles.heading),
                *(Paragraph(markup(p), styles.body) for p in _paragraphs(data.statement)),
                Spacer(1, 10),
                *mark,
                Spacer(1, 10),
                fields,
                Paragraph(markup(label("text_sha256_note")), styles.caption),
                *(
                    [Paragraph(markup(label("audit_head_note")), styles.caption)]
                    if data.audit_head
                    else []
                ),
            ]
        )
    )

    furniture = PageFurniture(
        patient_name=data.patient_name,
        birth_date=f"{label('date_of_birth')}: {data.birth_date}",
        line_two=f"{label('document')}: {data.document_id}  ·  "
        f"{label('consent_version')}: {consent_ref}",
        running_header=(data.clinic_name, title),
        page_label=lambda page, pages: label("page", page=page, pages=pages),
    )
    return build_document(
        story,
        furniture,
        title=data.clinic_name,
        subject=f"{title} ({version})",
        lang=lang,
        font_size=11,
    )


# --- text ----------------------------------------------------------------------------------------


def _paragraphs(text: str) -> list[str]:
    """Split on blank lines; single line breaks stay inside their paragraph."""
    return [part.strip() for part in _BLANK_LINE.split(clean_text(text)) if part.strip()]


def _format_offset(offset: timedelta) -> str:
    seconds = int(offset.total_seconds())
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{sign}{hours:02d}:{minutes:02d}"
    return f"{text}:{secs:02d}" if secs else text


# --- flowables -----------------------------------------------------------------------------------


class _Styles:
    def __init__(self) -> None:
        base = ParagraphStyle(
            "base", fontName=FONT, bulletFontName=FONT, fontSize=11.5, leading=16.5, textColor=INK
        )
        self.body = ParagraphStyle("body", parent=base, spaceAfter=8)
        self.clinic = ParagraphStyle(
            "clinic", parent=base, fontName=FONT_BOLD, fontSize=13, leading=17, textColor=ACCENT
        )
        self.title = ParagraphStyle(
            "title", parent=base, fontName=FONT_BOLD, fontSize=20, leading=25, spaceAfter=4
        )
        self.subtitle = ParagraphStyle(
            "subtitle", parent=base, fontSize=11, leading=15, textColor=MUTED, spaceAfter=16
        )
        self.heading = ParagraphStyle(
            "heading",
            parent=base,
            fontName=FONT_BOLD,
            fontSize=13.5,
            leading=18,
            textColor=ACCENT,
            spaceBefore=14,
            spaceAfter=6,
            keepWithNext=1,
        )
        self.label = ParagraphStyle(
            "label", parent=base, fontSize=9, leading=12, textColor=MUTED, spaceAfter=1
        )
        self.value = ParagraphStyle("value", parent=base, fontSize=11.5, leading=15)
        self.hash = ParagraphStyle("hash", parent=base, fontSize=9.5, leading=13)
        self.typed = ParagraphStyle(
            "typed", parent=base, fontName=FONT_BOLD, fontSize=20, leading=26, spaceBefore=10
        )
        self.caption = ParagraphStyle(
            "caption", parent=base, fontSize=9, leading=12, textColor=MUTED, spaceBefore=3
        )


class _Table(Table):  # type: ignore[misc]
    """ReportLab's table, rows kept whole as before, except a first row taller than a whole page
    (a 5,000-character name or answer): moving it to the next page cannot help, so instead of
    stopping the render with a LayoutError that one row is split across pages."""

    def split(self, avail_width: float, avail_height: float) -> list[Flowable]:
        parts: list[Flowable] = super().split(avail_width, avail_height)
        page = PAGE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM  # the frame has no padding
        if parts or not self._rowHeights or self._rowHeights[0] <= page:
            return parts
        self.splitInRow = 1
        try:
            parts = super().split(avail_width, avail_height)
        finally:
            self.splitInRow = 0
        for part in parts:  # the rest of the table keeps its rows whole again
            part.splitInRow = 0
        return parts


def _patient_panel(data: ConsentPdfData, label: Callable[..., str], styles: _Styles) -> Table:
    cells = [
        [
            [Paragraph(markup(label("patient_name")), styles.label)],
            [Paragraph(markup(label("date_of_birth")), styles.label)],
        ],
        [
            [Paragraph(markup(data.patient_name), styles.value)],
            [Paragraph(markup(data.birth_date), styles.value)],
        ],
    ]
    table = _Table(cells, colWidths=[TEXT_WIDTH * 0.64, TEXT_WIDTH * 0.36])
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), PANEL),
                ("FONTNAME", (0, 0), (-1, -1), FONT),  # plain-string cells default to Helvetica
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 10),
                ("RIGHTPADDING", (0, 0), (-1, -1), 10),
                ("TOPPADDING", (0, 0), (-1, 0), 8),
                ("BOTTOMPADDING", (0, 0), (-1, 0), 0),
                ("TOPPADDING", (0, 1), (-1, 1), 1),
                ("BOTTOMPADDING", (0, 1), (-1, 1), 9),
            ]
        )
    )
    table.spaceAfter = 6
    return table


def _summary_table(rows: Sequence[tuple[str, str]], styles: _Styles) -> Table:
    cells = [
        [Paragraph(markup(name), styles.value), Paragraph(markup(value), styles.value)]
        for name, value in rows
    ]
    table = _Table(cells, colWidths=[TEXT_WIDTH * 0.6, TEXT_WIDTH * 0.4])
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), FONT),  # plain-string cells default to Helvetica
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.5, RULE),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 8),
                ("TOPPADDING", (0, 0), (-1, -1), 5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    return table


def _field_grid(
    rows: Sequence[Sequence[tuple[str, str]]], styles: _Styles, *, hash_rows: Collection[int]
) -> Table:
    """Label-above-value fields, two per row; a row with one field spans the full width."""
    cells: list[list[object]] = []
    spans: list[tuple[Any, ...]] = []
    for index, row in enumerate(rows):
        value_style = styles.hash if index in hash_rows else styles.value
        line: list[object] = [
            [Paragraph(markup(name), styles.label), Paragraph(markup(value), value_style)]
            for name, value in row
        ]
        if len(line) == 1:
            line.append("")
            spans.append(("SPAN", (0, index), (1, index)))
        cells.append(line)
    table = _Table(cells, colWidths=[TEXT_WIDTH * 0.42, TEXT_WIDTH * 0.58])
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), FONT),  # plain-string cells default to Helvetica
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 10),
                ("TOPPADDING", (0, 0), (-1, -1), 5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
                ("LINEABOVE", (0, 0), (-1, 0), 0.5, RULE),
                *spans,
            ]
        )
    )
    return table


class _SignatureImage(Flowable):  # type: ignore[misc]
    """The drawn signature, aspect ratio kept, standing on a signature line."""

    _LINE_GAP = 4.0

    def __init__(self, reader: Any, width: float, height: float) -> None:
        super().__init__()
        self._reader = reader
        self._image_width = width
        self._image_height = height
        self.hAlign = "LEFT"

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return _SIGNATURE_MAX_WIDTH, self._image_height + self._LINE_GAP

    def draw(self) -> None:
        canvas = self.canv
        # mask="auto" keeps a transparent background transparent instead of black.
        canvas.drawImage(
            self._reader,
            0,
            self._LINE_GAP,
            self._image_width,
            self._image_height,
            mask="auto",
        )
        canvas.setStrokeColor(MUTED)
        canvas.setLineWidth(0.7)
        canvas.line(0, 0, _SIGNATURE_MAX_WIDTH, 0)


def _read_signature(png: bytes) -> _SignatureImage:
    if not png:
        raise ValueError("The signature image is empty.")
    if not png.startswith(_PNG_MAGIC):
        raise ValueError("The signature image is not a PNG file.")
    try:
        reader = ImageReader(BytesIO(png))
        pixel_width, pixel_height = (int(n) for n in reader.getSize())
        reader.getRGBData()  # decode now: a damaged file must fail here, not halfway through
    except Exception as error:
        raise ValueError("The signature image could not be read.") from error
    if pixel_width <= 0 or pixel_height <= 0:
        raise ValueError("The signature image has no pixels.")
    scale = min(_SIGNATURE_MAX_WIDTH / pixel_width, _SIGNATURE_MAX_HEIGHT / pixel_height)
    return _SignatureImage(reader, pixel_width * scale, pixel_height * scale)
