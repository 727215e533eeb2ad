"""What every PDF the kiosk makes shares: fonts, page geometry, colours, the text cleaning that
keeps patient text literal and extractable, the running header and footer (page X of Y), and the
page set-up. The consent (consent_pdf) and the clinician summary (summary_pdf) build on it."""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.units import inch
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate

from kiosk import paths

FONT = "DejaVuSans"
FONT_BOLD = "DejaVuSans-Bold"
_FONT_FILES = {FONT: "DejaVuSans.ttf", FONT_BOLD: "DejaVuSans-Bold.ttf"}
_font_lock = threading.Lock()

PDF_AUTHOR = "Consent kiosk"

PAGE_WIDTH, PAGE_HEIGHT = LETTER
MARGIN_X = 1.0 * inch
MARGIN_TOP = 0.95 * inch
MARGIN_BOTTOM = 1.2 * inch
TEXT_WIDTH = PAGE_WIDTH - 2 * MARGIN_X

INK = colors.HexColor("#1f2328")
MUTED = colors.HexColor("#59636e")
ACCENT = colors.HexColor("#2f5d7c")
RULE = colors.HexColor("#c8d1da")
PANEL = colors.HexColor("#f3f6f9")

# C0 controls other than tab and newline (and DEL) have no place in printed text.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# Every way of writing a line break becomes "\n" (next line, line and paragraph separators).
_LINE_BREAKS = str.maketrans({"\r": "\n", "\x85": "\n", "\u2028": "\n", "\u2029": "\n"})
_REPLACEMENT = "\ufffd"  # drawn where a character cannot be both printed and extracted


def register_fonts() -> None:
    """Register the bundled DejaVu fonts with ReportLab; safe to call any number of times."""
    with _font_lock:
        registered = set(pdfmetrics.getRegisteredFontNames())
        for name, file_name in _FONT_FILES.items():
            if name not in registered:
                pdfmetrics.registerFont(TTFont(name, str(paths.FONTS_DIR / file_name)))
        # <b> inside a paragraph must resolve to DejaVu too, never to a base-14 font.
        pdfmetrics.registerFontFamily(
            FONT, normal=FONT, bold=FONT_BOLD, italic=FONT, boldItalic=FONT_BOLD
        )


def build_document(
    story: list[Any],
    furniture: PageFurniture,
    *,
    title: str,
    subject: str,
    lang: str,
    font_size: float,
) -> bytes:
    """Lay ``story`` out on Letter pages with our margins, the running header and the footer
    (page X of Y). Metadata names the clinic and the kind of document, never the patient."""
    buffer = BytesIO()
    document = BaseDocTemplate(
        buffer,
        pagesize=LETTER,
        leftMargin=MARGIN_X,
        rightMargin=MARGIN_X,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
        title=title,
        author=PDF_AUTHOR,
        creator=PDF_AUTHOR,
        subject=subject,
        lang=lang,
        # Without this the canvas declares an unembedded Helvetica on every page.
        initialFontName=FONT,
        initialFontSize=font_size,
    )
    # No frame padding: tables, rules and footer line up exactly with the text.
    frame = Frame(
        MARGIN_X,
        MARGIN_BOTTOM,
        TEXT_WIDTH,
        PAGE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
        id="body",
    )
    document.addPageTemplates([PageTemplate(id="page", frames=[frame])])
    document.build(story, canvasmaker=functools.partial(NumberedCanvas, furniture=furniture))
    return buffer.getvalue()


# --- text ---------------------------------------------------------------------------------------


def clean_text(text: str) -> str:
    """Text as it may be printed: what the page shows is exactly what its text layer holds.

    Line breaks are normalised to "\\n". Removed: C0/C1 controls (tab and newline kept), DEL,
    format characters (Unicode category Cf: bidi overrides and isolates, zero-width spaces and
    joiners, BOM, soft hyphen, tag characters) and variation selectors: ReportLab lays text out
    left to right with neither bidi nor shaping, so they would change nothing on the page yet
    stay in the extracted text. Replaced by U+FFFD: lone surrogates, characters the DejaVu fonts
    have no glyph for, and everything above U+FFFF (ReportLab writes a ToUnicode entry for those
    that PDF readers reject, so they could be seen but not extracted).
    """
    text = _CONTROL_CHARS.sub("", text.replace("\r\n", "\n").translate(_LINE_BREAKS))
    if text.isascii():
        return text
    printable = _printable()
    return "".join(_printed(char, printable) for char in text)


def _printed(char: str, printable: frozenset[int]) -> str:
    if char < "\x80":
        return char
    if unicodedata.category(char) in ("Cc", "Cf") or _is_variation_selector(char):
        return ""
    return char if ord(char) in printable else _REPLACEMENT


def _is_variation_selector(char: str) -> bool:
    return "\ufe00" <= char <= "\ufe0f" or "\U000e0100" <= char <= "\U000e01ef"


@functools.cache
def _printable() -> frozenset[int]:
    """Code points both DejaVu faces draw, within the Basic Multilingual Plane."""
    register_fonts()
    regular = pdfmetrics.getFont(FONT).face.charToGlyph
    bold = pdfmetrics.getFont(FONT_BOLD).face.charToGlyph
    return frozenset(code for code in regular.keys() & bold.keys() if code <= 0xFFFF)


def markup(text: str) -> str:
    """Plain text -> paragraph markup: escaped, with its line breaks kept."""
    return escape(clean_text(text)).replace("\n", "<br/>")


def single_line(text: str) -> str:
    return " ".join(clean_text(text).split())


def fit_text(text: str, font: str, size: float, width: float) -> str:
    """``text`` shortened with an ellipsis until it fits ``width`` points.

    The longest prefix that fits is found by bisection (a 5,000-character name costs a dozen
    measurements, not thousands), and the cut never separates a letter from its combining marks,
    so "René" is never shortened to a bare "Rene…".
    """
    if pdfmetrics.stringWidth(text, font, size) <= width:
        return text
    low, high = 0, len(text) - 1  # the longest prefix that fits (with "…") is in [low, high]
    while low < high:
        middle = (low + high + 1) // 2
        if pdfmetrics.stringWidth(text[:middle] + "…", font, size) <= width:
            low = middle
        else:
            high = middle - 1
    while low and unicodedata.category(text[low]).startswith("M"):
        low -= 1
    return text[:low].rstrip() + "…"


# --- page furniture ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageFurniture:
    patient_name: str
    birth_date: str  # labelled
    line_two: str  # document id and consent version
    running_header: tuple[str, str]  # clinic, consent title: on pages after the first
    page_label: Callable[[int, int], str]


class NumberedCanvas(Canvas):  # type: ignore[misc]
    """Holds pages back until the end so every footer can say "page X of Y" with the real Y."""

    def __init__(self, *args: Any, furniture: PageFurniture, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._furniture = furniture
        self._page_states: list[dict[str, Any]] = []

    def showPage(self) -> None:
        self._page_states.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._page_states)
        for number, state in enumerate(self._page_states, start=1):
            self.__dict__.update(state)
            self._draw_furniture(number, total)
            super().showPage()
        super().save()

    def _draw_furniture(self, page: int, pages: int) -> None:
        furniture = self._furniture
        left, right = MARGIN_X, PAGE_WIDTH - MARGIN_X
        self.saveState()
        self.setStrokeColor(RULE)
        self.setLineWidth(0.6)

        if page > 1:
            clinic, title = (single_line(text) for text in furniture.running_header)
            y = PAGE_HEIGHT - 0.6 * inch
            self.setFont(FONT, 8.5)
            self.setFillColor(MUTED)
            clinic = fit_text(clinic, FONT, 8.5, TEXT_WIDTH * 0.4)
            title_room = TEXT_WIDTH - pdfmetrics.stringWidth(clinic, FONT, 8.5) - 24
            self.drawString(left, y, clinic)
            self.drawRightString(right, y, fit_text(title, FONT, 8.5, title_room))
            self.line(left, y - 6, right, y - 6)

        self.line(left, 0.88 * inch, right, 0.88 * inch)
        page_label = furniture.page_label(page, pages)
        self.setFont(FONT_BOLD, 9)
        self.setFillColor(INK)
        self.drawRightString(right, 0.66 * inch, page_label)
        room = TEXT_WIDTH - pdfmetrics.stringWidth(page_label, FONT_BOLD, 9) - 18
        # A very long name is shortened, never the date of birth beside it.
        birth_date = f"  ·  {single_line(furniture.birth_date)}"
        room -= pdfmetrics.stringWidth(birth_date, FONT, 9)
        name = fit_text(single_line(furniture.patient_name), FONT, 9, room)
        self.setFont(FONT, 9)
        self.drawString(left, 0.66 * inch, name + birth_date)
        self.setFont(FONT, 8)
        self.setFillColor(MUTED)
        self.drawString(
            left, 0.48 * inch, fit_text(single_line(furniture.line_two), FONT, 8, TEXT_WIDTH)
        )
        self.restoreState()
