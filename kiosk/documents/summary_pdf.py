"""The clinician summary: one or two pages read while the patient is still in the waiting room.

Flags come first, in a coloured box (urgent, then review, then info), because they decide whether
the infusion can start on time; then every score with its band; then the answers a clinician
checks before an infusion, in the sections the packet declares (``summary_sections`` in
``forms/packet.yaml``: contraindications, medicines, allergies, the ride home, last food and
drink). Section titles, labels, band names and flag messages are taken from the form files, so the
summary says exactly what the clinical team reviewed there; choice answers show the choice's
English label, never the stored value.

The clinician reads English, but patient-entered text may be anything (markup, other scripts,
control characters): it is escaped with the consent PDF's helpers and long text wraps and splits
across pages instead of breaking the layout. Pure rendering: no database, no Qt.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, TypeAlias, cast

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.platypus import (
    Flowable,
    HRFlowable,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from kiosk import paths
from kiosk.documents.layout import (
    ACCENT,
    FONT,
    FONT_BOLD,
    INK,
    MUTED,
    PANEL,
    RULE,
    TEXT_WIDTH,
    PageFurniture,
    build_document,
    clean_text,
    markup,
    register_fonts,
)
from kiosk.domain.answer_text import AnswerWords, answer_text
from kiosk.domain.conditions import compares, visible_items
from kiosk.domain.findings import (
    NOT_SCORED,
    SEVERITY_ORDER,
    StoredScoreLike,
    describe_flags,
    score_lines,
)
from kiosk.domain.model import (
    AnswerValue,
    Item,
    ItemType,
    Packet,
    SummaryGroup,
)
from kiosk.domain.strings import Strings, load_strings

FlagSeverity: TypeAlias = Literal["urgent", "review", "info"]

TITLE = "Clinician summary"
NO_FLAGS = "No flags raised"
FLAGS_NOTE = (
    "Every flag is for clinician review. None is an automatic refusal: the clinician decides."
)
IDENTITY_MAX_CHARS = 200
"""Name, date of birth and ids in the header are shortened beyond this (the kiosk allows 100), so
the flags always start on page 1; answers are never shortened."""

_LANGUAGE_NAMES = {"en": "English", "es": "Spanish (español)"}

# --- data ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SummaryScore:
    """One score row: what it is, its value as people read it, its band, its LOINC code."""

    label: str
    value: str
    band: str = ""
    loinc: str = ""


@dataclass(frozen=True)
class SummaryFlag:
    """One raised flag, worded as in the form file."""

    message: str
    severity: FlagSeverity


@dataclass(frozen=True)
class SummarySection:
    """A titled list of (question, answer) rows; ``flagged_rows`` (row indexes) are answers that
    raised a flag, shaded so the clinician finds them from the flags box."""

    title: str
    rows: tuple[tuple[str, str], ...]
    flagged_rows: frozenset[int] = frozenset()


@dataclass(frozen=True)
class SummaryPdfData:
    """Everything printed on one clinician summary.

    ``consent_status`` is a sentence such as "Signed 2026-11-22 09:14 -05:00" or "Not signed yet".
    Patient text anywhere in here is escaped when rendered.
    """

    clinic_name: str
    document_id: str
    patient_name: str
    birth_date: str
    started_at: datetime  # when the visit started; must be timezone-aware
    language: str  # the language the patient used, e.g. "es"
    kiosk_id: str
    consent_status: str
    scores: tuple[SummaryScore, ...] = ()
    flags: tuple[SummaryFlag, ...] = ()
    sections: tuple[SummarySection, ...] = ()


# --- building the data from the domain -----------------------------------------------------------


def summary_data(
    packet: Packet,
    answers: Mapping[str, AnswerValue],
    scores: Iterable[StoredScoreLike],
    flags: Iterable[str],
    *,
    clinic_name: str,
    document_id: str,
    started_at: datetime,
    language: str,
    kiosk_id: str,
    consent_status: str,
    patient_name: str | None = None,
    birth_date: str | None = None,
    strings: Strings | None = None,
) -> SummaryPdfData:
    """Build the summary from a visit's answers, stored scores and raised flag ids.

    Every score rule of the packet gets a row (one without a stored score says so, never a silent
    0). Flag ids are looked up in the packet's forms and consent; an id no form describes is still
    shown, for review. Name and date of birth default to the answers of the identity items.
    The answer sections are the packet's ``summary_sections`` (``forms/packet.yaml``).
    Answers are spelled in English with ``strings`` (the bundled strings table by default), the
    way the review screen and the staff console spell them.
    """
    words = _english_words(strings)
    raised = list(flags)
    flagged = flagged_items(packet, raised)
    return SummaryPdfData(
        clinic_name=clinic_name,
        document_id=document_id,
        patient_name=(
            patient_name if patient_name is not None else _identity(packet, answers, "name")
        ),
        birth_date=(
            birth_date if birth_date is not None else _identity(packet, answers, "birth_date")
        ),
        started_at=started_at,
        language=language,
        kiosk_id=kiosk_id,
        consent_status=consent_status,
        scores=_score_rows(packet, list(scores)),
        flags=_flag_rows(packet, raised),
        sections=tuple(
            _section(packet, answers, group, flagged, words) for group in packet.summary_sections
        ),
    )


def flagged_items(packet: Packet, flag_ids: Iterable[str]) -> frozenset[str]:
    """The item ids whose answers the raised flags' conditions look at."""
    wanted = set(flag_ids)
    rules = [rule for form in packet.forms for rule in form.flags]
    rules.extend(packet.consent.flags)
    return frozenset(
        compare.subject
        for rule in rules
        if rule.id in wanted
        for compare in compares(rule.when)
        if not compare.is_score
    )


def _english_words(strings: Strings | None) -> AnswerWords:
    """English answer words (the clinician reads English), from ``strings`` or the bundled table."""
    if strings is not None:
        return AnswerWords.from_strings(strings, "en")
    return _bundled_english_words()


@functools.cache
def _bundled_english_words() -> AnswerWords:
    return AnswerWords.from_strings(load_strings(paths.STRINGS_DIR), "en")


def _identity(packet: Packet, answers: Mapping[str, AnswerValue], role: str) -> str:
    item = packet.identity_item(role)
    value = answers.get(item.id) if item is not None else None
    return value if isinstance(value, str) else ""


def _score_rows(packet: Packet, stored: Sequence[StoredScoreLike]) -> tuple[SummaryScore, ...]:
    return tuple(
        SummaryScore(line.label, line.value, line.band, line.loinc)
        for line in score_lines(packet, stored)
    )


def _flag_rows(packet: Packet, flag_ids: Iterable[str]) -> tuple[SummaryFlag, ...]:
    return tuple(
        SummaryFlag(flag.message, cast(FlagSeverity, str(flag.severity)))
        for flag in describe_flags(packet, flag_ids)
    )


def _by_severity(flags: Iterable[SummaryFlag]) -> list[SummaryFlag]:
    """Urgent first, then review, then info; the given order within each (sort is stable)."""
    order = {str(severity): rank for severity, rank in SEVERITY_ORDER.items()}
    return sorted(flags, key=lambda flag: order.get(flag.severity, len(order)))


def _section(
    packet: Packet,
    answers: Mapping[str, AnswerValue],
    group: SummaryGroup,
    flag_items: frozenset[str],
    words: AnswerWords,
) -> SummarySection:
    visible = {item.id for item in visible_items(packet.forms, answers)}
    labels = _question_labels(packet)
    rows: list[tuple[str, str]] = []
    flagged: set[int] = set()
    items = {item.id: item for form in packet.forms for item in form.items}
    for item in (items[item_id] for item_id in group.items):  # ids the loader checked
        if item.id not in visible:
            continue  # skip logic hid it: the patient was never asked
        value = answers.get(item.id)
        if item.type is ItemType.LIST and isinstance(value, tuple) and value:
            rows.extend(_list_rows(item, value))
            continue
        if item.id in flag_items:
            flagged.add(len(rows))
        rows.append((labels[item.id], answer_text(item, value, words)))
    return SummarySection(group.title, tuple(rows), frozenset(flagged))


def _question_labels(packet: Packet) -> dict[str, str]:
    """Each item's English question; a question worded like another ("Their full name", "Do you
    have any of these…") is prefixed with its page title so it stands on its own."""
    texts = [
        (item.id, item.text.get("en"), page.title)
        for form in packet.forms
        for page in form.pages
        for item in page.items
    ]
    counts: dict[str, int] = {}
    for _, text, _ in texts:
        counts[text] = counts.get(text, 0) + 1
    return {
        item_id: f"{title.get('en')}: {text}" if counts[text] > 1 and title else text
        for item_id, text, title in texts
    }


def _mappings(value: tuple[object, ...]) -> list[Mapping[str, object]]:
    return [row for row in value if isinstance(row, Mapping)]


def _row_cells(item: Item, row: Mapping[str, object]) -> list[str]:
    ids = [column.id for column in item.columns] or list(row)
    return [str(row.get(column_id) or "") for column_id in ids]


def _list_rows(item: Item, value: tuple[object, ...]) -> list[tuple[str, str]]:
    """One row per entry (one per medicine): the first column, then the rest ("300 mg daily")."""
    rows = []
    for row in _mappings(value):
        first, *rest = _row_cells(item, row) or [""]
        details = " · ".join(text for text in rest if text.strip())
        rows.append((f"• {first}", details or "—"))
    return rows


# --- rendering -----------------------------------------------------------------------------------

_FLAGGED_ROW = colors.HexColor("#fff4d6")
_GAP = 10  # points between blocks

# severity -> (chip colour, row tint, chip text)
_SEVERITY_STYLE: dict[str, tuple[colors.Color, colors.Color, str]] = {
    "urgent": (colors.HexColor("#b42318"), colors.HexColor("#fdecea"), "URGENT"),
    "review": (colors.HexColor("#a15c00"), colors.HexColor("#fff4e0"), "REVIEW"),
    "info": (colors.HexColor("#59636e"), colors.HexColor("#f1f3f5"), "INFO"),
}


def render_summary_pdf(data: SummaryPdfData) -> bytes:
    """Render the clinician summary to PDF bytes (US Letter).

    Raises:
        ValueError: when ``started_at`` is naive (the visit time would be ambiguous).
    """
    register_fonts()
    started = format_time(data.started_at)
    styles = _Styles()
    story: list[Flowable] = [
        Paragraph(_text(data.clinic_name), styles.clinic),
        HRFlowable(width="100%", thickness=0.8, color=RULE, spaceBefore=2, spaceAfter=8),
        Paragraph(TITLE, styles.title),
        _header_panel(data, started, styles),
        Spacer(1, _GAP),
        _flags_box(_by_severity(data.flags), styles),
    ]
    if data.flags:
        story.append(Paragraph(_text(FLAGS_NOTE), styles.caption))
    if data.scores:
        story += [Spacer(1, _GAP), _scores_table(data.scores, styles)]
    for section in data.sections:
        if section.rows:
            story += [Spacer(1, _GAP), _section_table(section, styles)]
    story.append(Spacer(1, 4))

    furniture = PageFurniture(
        patient_name=_shorten(data.patient_name),
        birth_date=f"Date of birth: {_shorten(data.birth_date)}",
        line_two=f"Document: {_shorten(data.document_id)}  ·  {TITLE}",
        running_header=(clean_text(data.clinic_name), TITLE),
        page_label=lambda page, pages: f"Page {page} of {pages}",
    )
    return build_document(
        story, furniture, title=data.clinic_name, subject=TITLE, lang="en", font_size=10
    )


def format_time(moment: datetime) -> str:
    """``2026-11-22 09:14 -05:00``: minutes are enough for a waiting-room summary.

    Raises:
        ValueError: for a naive datetime, whose instant cannot be known.
    """
    offset = moment.utcoffset()
    if offset is None:
        raise ValueError("The visit time has no time zone; pass a timezone-aware datetime.")
    minutes = round(offset.total_seconds() / 60)
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"{moment:%Y-%m-%d %H:%M} {sign}{hours:02d}:{rest:02d}"


def _text(text: str) -> str:
    """Any text (patient's or form's) -> escaped paragraph markup the fonts can draw."""
    return markup(text)


def _shorten(text: str) -> str:
    text = " ".join(clean_text(text).split())
    return text if len(text) <= IDENTITY_MAX_CHARS else text[: IDENTITY_MAX_CHARS - 1] + "…"


class _Styles:
    def __init__(self) -> None:
        base = ParagraphStyle(
            "base", fontName=FONT, bulletFontName=FONT, fontSize=9.5, leading=12.5, textColor=INK
        )
        self.base = base
        self.clinic = ParagraphStyle(
            "clinic", parent=base, fontName=FONT_BOLD, fontSize=11, leading=14, textColor=ACCENT
        )
        self.title = ParagraphStyle(
            "title", parent=base, fontName=FONT_BOLD, fontSize=17, leading=21, spaceAfter=8
        )
        self.heading = ParagraphStyle(
            "heading",
            parent=base,
            fontName=FONT_BOLD,
            fontSize=11.5,
            leading=15,
            textColor=ACCENT,
        )
        self.label = ParagraphStyle(
            "label", parent=base, fontSize=7.5, leading=9.5, textColor=MUTED
        )
        self.value = ParagraphStyle("value", parent=base, fontSize=10, leading=13)
        self.value_bold = ParagraphStyle("value_bold", parent=self.value, fontName=FONT_BOLD)
        self.cell = ParagraphStyle("cell", parent=base)
        self.cell_bold = ParagraphStyle("cell_bold", parent=base, fontName=FONT_BOLD)
        self.cell_muted = ParagraphStyle("cell_muted", parent=base, textColor=MUTED)
        self.column = ParagraphStyle(
            "column", parent=base, fontName=FONT_BOLD, fontSize=8, leading=10, textColor=MUTED
        )
        self.flag = ParagraphStyle("flag", parent=base, fontSize=9.5, leading=12.5)
        self.chip = ParagraphStyle(
            "chip",
            parent=base,
            fontName=FONT_BOLD,
            fontSize=7.5,
            leading=9.5,
            textColor=colors.white,
            alignment=1,
        )
        self.caption = ParagraphStyle(
            "caption", parent=base, fontSize=8, leading=10.5, textColor=MUTED, spaceBefore=3
        )


def _header_panel(data: SummaryPdfData, started: str, styles: _Styles) -> Table:
    """Who, when, where: three label-above-value columns, the consent status across the bottom."""
    language = _LANGUAGE_NAMES.get(data.language, data.language)

    def field(label: str, value: str, style: ParagraphStyle | None = None) -> list[Flowable]:
        return [
            Paragraph(_text(label), styles.label),
            Paragraph(_text(_shorten(value)), style or styles.value),
        ]

    cells = [
        [
            field("Patient", data.patient_name, styles.value_bold),
            field("Date of birth", data.birth_date, styles.value_bold),
            field("Document", data.document_id),
        ],
        [
            field("Visit started", started),
            field("Language used", language),
            field("Kiosk", data.kiosk_id),
        ],
        [field("Consent", data.consent_status, styles.value_bold), "", ""],
    ]
    table = Table(cells, colWidths=[TEXT_WIDTH * 0.46, TEXT_WIDTH * 0.27, TEXT_WIDTH * 0.27])
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), PANEL),
                ("FONTNAME", (0, 0), (-1, -1), FONT),  # plain-string cells default to Helvetica
                ("SPAN", (0, 2), (-1, 2)),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 9),
                ("RIGHTPADDING", (0, 0), (-1, -1), 9),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                ("TOPPADDING", (0, 0), (-1, 0), 7),
                ("BOTTOMPADDING", (0, -1), (-1, -1), 7),
            ]
        )
    )
    return table


def _title_row(title: str, columns: int, styles: _Styles) -> list[Flowable | str]:
    """A block's title as its table's first row: repeated when the table continues on the next
    page, and never left alone at the bottom of a page (which a separate heading would be, or
    would drag the whole table onto the next page with it)."""
    return [Paragraph(_text(title), styles.heading), *[""] * (columns - 1)]


def _title_commands(columns: int) -> list[tuple[object, ...]]:
    return [
        ("SPAN", (0, 0), (columns - 1, 0)),
        ("LEFTPADDING", (0, 0), (-1, 0), 0),
        ("TOPPADDING", (0, 0), (-1, 0), 0),
        ("BOTTOMPADDING", (0, 0), (-1, 0), 5),
    ]


def _flags_box(flags: Sequence[SummaryFlag], styles: _Styles) -> Table:
    """One tinted row per flag with a coloured severity chip; a grey "No flags raised" if none."""
    title = f"Flags for clinician review ({len(flags)})" if flags else "Flags"
    chip_width = 0.78 * inch
    commands: list[tuple[object, ...]] = [
        ("FONTNAME", (0, 0), (-1, -1), FONT),  # plain-string cells default to Helvetica
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 1), (-1, -1), 8),
        ("RIGHTPADDING", (0, 1), (-1, -1), 8),
        ("TOPPADDING", (0, 1), (-1, -1), 5),
        ("TOPPADDING", (0, 1), (0, -1), 7),  # the smaller chip text sits on the message's line
        ("BOTTOMPADDING", (0, 1), (-1, -1), 6),
        *_title_commands(2),
    ]
    cells: list[list[Flowable | str]] = [_title_row(title, 2, styles)]
    if not flags:
        cells.append([Paragraph(NO_FLAGS, styles.cell_bold), ""])
        commands += [
            ("SPAN", (0, 1), (1, 1)),
            ("BACKGROUND", (0, 1), (-1, 1), PANEL),
            ("BOX", (0, 1), (-1, 1), 0.6, RULE),
        ]
    for row, flag in enumerate(flags, start=1):
        chip, tint, word = _SEVERITY_STYLE.get(flag.severity, _SEVERITY_STYLE["review"])
        cells.append([Paragraph(word, styles.chip), Paragraph(_text(flag.message), styles.flag)])
        commands += [
            ("BACKGROUND", (0, row), (0, row), chip),
            ("BACKGROUND", (1, row), (1, row), tint),
        ]
        if row > 1:
            commands.append(("LINEABOVE", (0, row), (-1, row), 1.5, colors.white))
    table = Table(
        cells, colWidths=[chip_width, TEXT_WIDTH - chip_width], repeatRows=1, splitInRow=1
    )
    table.setStyle(TableStyle(commands))
    return table


def _scores_table(scores: Sequence[SummaryScore], styles: _Styles) -> Table:
    """Score, value, band and LOINC code; a score that could not be computed says so in grey."""
    header = [Paragraph(name, styles.column) for name in ("SCORE", "VALUE", "BAND", "LOINC")]
    cells: list[list[Flowable | str]] = [_title_row("Scores", 4, styles), header]
    for score in scores:
        missing = score.band == NOT_SCORED
        cells.append(
            [
                Paragraph(_text(score.label), styles.cell),
                Paragraph(_text(score.value), styles.cell_bold),
                Paragraph(
                    _text(score.band or "—"), styles.cell_muted if missing else styles.cell_bold
                ),
                Paragraph(_text(score.loinc or "—"), styles.cell_muted),
            ]
        )
    widths = [0.5, 0.1, 0.24, 0.16]
    table = Table(cells, colWidths=[TEXT_WIDTH * w for w in widths], repeatRows=2, splitInRow=1)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), FONT),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 1), (-1, 1), 0.8, ACCENT),
                ("LINEBELOW", (0, 2), (-1, -1), 0.5, RULE),
                ("LEFTPADDING", (0, 1), (-1, -1), 4),
                ("RIGHTPADDING", (0, 0), (-1, -1), 8),
                ("TOPPADDING", (0, 1), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 1), (-1, -1), 4),
                *_title_commands(4),
            ]
        )
    )
    return table


def _section_table(section: SummarySection, styles: _Styles) -> Table:
    """Question and answer rows; an answer that raised a flag is bold on a tinted row."""
    cells: list[list[Flowable | str]] = [_title_row(section.title, 2, styles)]
    commands: list[tuple[object, ...]] = [
        ("FONTNAME", (0, 0), (-1, -1), FONT),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 1), (-1, -1), 0.5, RULE),
        ("LEFTPADDING", (0, 1), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 8),
        ("TOPPADDING", (0, 1), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 1), (-1, -1), 4),
        *_title_commands(2),
    ]
    for index, (question, answer) in enumerate(section.rows):
        flagged = index in section.flagged_rows
        cells.append(
            [
                Paragraph(_text(question), styles.cell),
                Paragraph(_text(answer), styles.cell_bold if flagged else styles.cell),
            ]
        )
        if flagged:
            commands.append(("BACKGROUND", (0, index + 1), (-1, index + 1), _FLAGGED_ROW))
    # splitInRow: a very long answer continues on the next page instead of breaking the layout.
    table = Table(
        cells,
        colWidths=[TEXT_WIDTH * 0.55, TEXT_WIDTH * 0.45],
        repeatRows=1,
        splitInRow=1,
    )
    table.setStyle(TableStyle(commands))
    return table
