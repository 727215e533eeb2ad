"""Hostile text on the signed consent PDF: what a patient can type never breaks the document.

Each string of the corpus is put in every place that prints patient or witness text: the patient
panel and page footer (patient name), "signed by", the typed name, the witness and the reason
given for the witness, and a consent answer and question. For each one the tests prove:

* the PDF renders without an exception and its text layer reads back without a warning;
* the text is printed literally: ReportLab markup (``<b>``, ``<para>``, ``<font>``, ``&amp;``)
  shows as the characters typed and never switches font, size or paragraph;
* every character the page shows comes back on extraction, in the 7 body places and (shortened
  with "…" if needed, never between a letter and its accent) in every footer;
* the layout changes only by wrapping: same page count and same fonts and sizes as the same data
  with plain ASCII of the same length, every word inside the margins, the footer intact;
* only the embedded DejaVu fonts are used (``pdffonts``: ``emb yes``, no base-14 font), and a
  hostile PDF still takes the clinic's seal, which then verifies.

What is guaranteed, exactly (``layout.clean_text``): the page shows what the text layer holds.
Line breaks (CR, CRLF, NEL, U+2028/9) print as line breaks in the body and as one space in the
footer, runs of spaces print as one. Removed: control characters other than tab and newline, DEL,
invisible format characters (bidi overrides and isolates, zero-width space and joiners, BOM, soft
hyphen, tag characters) and variation selectors; ReportLab has no bidi or shaping engine, so they
would change nothing on the page. Printed as U+FFFD "�", one per code point: lone surrogates,
characters DejaVu Sans has no glyph for (CJK, Hangul, most emoji) and anything above U+FFFF
(ReportLab writes a ToUnicode entry for those that readers reject, so it could not be extracted).
Right-to-left text (Hebrew, Arabic) keeps its characters in typing order and is drawn left to
right, unshaped (no bidi in ReportLab without rlbidi); extractors that reorder right-to-left runs
(pypdf, poppler) give each such word back mirrored, so those words are compared either way round.
"""

from __future__ import annotations

import functools
import hashlib
import io
import logging
import re
import shutil
import string
import subprocess
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from pypdf import PageObject, PdfReader
from reportlab.pdfbase import pdfmetrics

from kiosk import paths
from kiosk.documents import layout
from kiosk.documents.consent_pdf import (
    ConsentPdfData,
    render_consent_pdf,
)
from kiosk.documents.layout import FONT, register_fonts
from kiosk.documents.seal import Certificates, check_seal, seal_pdf
from kiosk.domain.model import ConsentDocument, LocalizedText, Section
from kiosk.domain.strings import Strings, load_strings
from tests.pdf_readers import assert_second_readers_accept

SIGNED_AT = datetime(2026, 11, 22, 9, 14, 3, tzinfo=timezone(timedelta(hours=-5)))
BIRTH_DATE = "1980-03-04"
DOCUMENT_ID = "KC-3F9A2B1C"
BODY_PLACES = 7  # panel, answer, question, signed by, typed name, witness, witness statement
FOOTER_RULE = 0.88 * 72  # the footer's rule, in points from the bottom of the page
TOLERANCE = 1.0  # points: rounding in poppler's word boxes
ASCII_LETTERS = string.ascii_letters + string.digits
# The template's geometry, in points (ReportLab's unit constants are untyped).
PAGE_WIDTH, PAGE_HEIGHT = float(layout.PAGE_WIDTH), float(layout.PAGE_HEIGHT)
MARGIN_X, MARGIN_TOP = float(layout.MARGIN_X), float(layout.MARGIN_TOP)
MARGIN_BOTTOM = float(layout.MARGIN_BOTTOM)


@dataclass(frozen=True)
class Hostile:
    """What the patient typed, and what the page must show (and extraction give back)."""

    text: str
    shown: str
    rtl: bool = False  # right-to-left words may come back mirrored (see the module docstring)


def _same(text: str, *, rtl: bool = False) -> Hostile:
    return Hostile(text, text, rtl)


LONG_WORDS = ('<b>Zoë</b> & "Al" Núñez-O\'Brien ' * 200)[:5000]
LONG_WORD = ("Zoë<b>&amp;</b>Ñandú" * 300)[:5000]
CONTROLS = (
    "Ana"
    + "".join(map(chr, range(0x20)))  # all of C0, tab and newline included
    + "\x7f\x85\x9fRuiz"  # DEL, NEL (a line break), a C1 control
    + "\u200bZoe\u202eLee\ufeff\u2066Kim\u2069\u00ad\u200d\u200c\u200e\u200fMoe"
)
ZALGO = (
    "Z\u0351\u0352\u0357\u0300\u0301\u0302\u0303\u0304a\u0316\u0317\u0318\u0319\u031c"
    "\u031dl\u0334\u0335\u0336g\u0361o\u0338 Co\u0300\u0301\u0302\u0306\u0307me\u0303\u0304t"
)
ACCENTS = "Zoe\u0308 Rene\u0301e Nu\u0301n\u0303ez " * 12  # decomposed: letter + combining mark

CORPUS: dict[str, Hostile] = {
    "markup-bold": _same('<b>Bob</b> & "Al"'),
    "markup-para": _same("<para>x</para> </para><para>Eve"),
    "markup-font-img-br": _same('<font size=80>Huge</font> <img src="x"/> <br/>Ann'),
    "markup-entities": _same("&amp; &#0; &lt;i&gt; &nbsp; Tom & Jerry"),
    "long-words-5000": _same(LONG_WORDS),
    "long-one-word-5000": _same(LONG_WORD),
    "hebrew": _same("דנה כהן Dana Cohen", rtl=True),
    "arabic": _same("عمر الفاروق Omar Farouk", rtl=True),
    "emoji": Hostile(
        "Ana \U0001f600 \U0001f469\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466 "
        "\U0001f1fa\U0001f1f8 \U0001f3f3\ufe0f\u200d\U0001f308 \U0001f44d\U0001f3fd "
        "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f "
        "\u2764\ufe0f Ruiz",
        # smiley, family of 4, flag, rainbow flag, thumb + skin tone, subdivision flag, heart
        "Ana \ufffd \ufffd\ufffd\ufffd\ufffd \ufffd\ufffd \ufffd\ufffd \ufffd\ufffd \ufffd "
        "\u2764 Ruiz",
    ),
    "no-glyph-cjk": Hostile("山田 Yamada 김", "\ufffd\ufffd Yamada \ufffd"),
    "zalgo": _same(ZALGO),
    "decomposed-accents": _same(ACCENTS),
    "controls": Hostile(CONTROLS, "Ana\nRuizZoeLeeKimMoe"),
    "spaces": Hostile("  \t Ana   Ruiz \t  ", "Ana Ruiz"),
    "lone-surrogates": Hostile("Lone \ud800 half \udfff", "Lone \ufffd half \ufffd"),
}
assert len(LONG_WORDS) == len(LONG_WORD) == 5000


def _text(en: str) -> LocalizedText:
    return LocalizedText({"en": en, "es": en})


CONSENT = ConsentDocument(
    id="ketamine-infusion",
    version=1,
    title=_text("Informed consent for ketamine infusion"),
    sections=(
        Section(
            "what",
            _text("What the treatment is"),
            _text(
                "Ketamine is given slowly through a small tube in a vein while a nurse watches "
                "you. Each infusion takes about 40 to 60 minutes."
            ),
        ),
        Section("rights", _text("Your rights"), _text("You may stop at any time.")),
    ),
    statement=_text("I have read this consent and agree to treatment."),
    meaning=_text("Consent to treatment"),
)


@functools.cache
def _strings() -> Strings:
    return load_strings(paths.STRINGS_DIR)


@functools.cache
def _signature_png() -> bytes:
    image = Image.new("RGBA", (300, 100), (0, 0, 0, 0))
    ImageDraw.Draw(image).line([(10, 80), (80, 20), (160, 85), (290, 30)], fill="navy", width=4)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _data(text: str, *, drawn: bool = False) -> ConsentPdfData:
    """``text`` in every place that prints patient or witness text. ``drawn``: a drawn
    signature (no typed name or witness) instead of the witnessed typed name."""
    return ConsentPdfData(
        clinic_name="Riverbend Pain Clinic",
        language="en",
        consent=CONSENT,
        document_id=DOCUMENT_ID,
        patient_name=text,
        birth_date=BIRTH_DATE,
        signer_name=text,
        signed_at=SIGNED_AT,
        signature_png=_signature_png() if drawn else None,
        text_sha256=hashlib.sha256(CONSENT.full_text("en").encode()).hexdigest(),
        statement=CONSENT.statement.get("en"),
        meaning=CONSENT.meaning.get("en"),
        summary=(("Allergies", text), (text, "yes")),
        typed_name="" if drawn else text,
        witness_name="" if drawn else text,
        witness_reason="" if drawn else text,
        audit_head="42:" + "ab" * 32,
    )


@functools.cache
def _render(text: str) -> bytes:
    return render_consent_pdf(_data(text), _strings())


@functools.cache
def _ascii_like(char: str) -> str:
    """The ASCII letter or digit whose DejaVu Sans advance is closest to that of ``char``."""
    register_fonts()
    width = pdfmetrics.stringWidth(char, FONT, 10)
    return min(
        ASCII_LETTERS, key=lambda letter: abs(pdfmetrics.stringWidth(letter, FONT, 10) - width)
    )


def _twin(text: str) -> str:
    """Plain ASCII as long and as wide as what is printed: each printed character becomes the
    letter of the nearest width, spaces and line breaks stay, invisible and combining characters
    (zero width) go. No markup, no accents, nothing right to left."""
    out = []
    for char in text.replace("\r\n", "\n"):
        if char in "\n\r\x85\u2028\u2029":
            out.append("\n")
        elif char in " \t":
            out.append(" ")
        elif unicodedata.category(char) in ("Cc", "Cf", "Mn", "Me"):
            continue
        else:
            out.append(_ascii_like(char))
    return "".join(out)


# --- reading the PDF back ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Run:
    """A piece of extracted text where it starts on the page (points, from the bottom left)."""

    text: str
    x: float
    y: float
    font: str  # base font name without the subset tag
    size: float


def _page_runs(page: PageObject) -> list[_Run]:
    runs: list[_Run] = []

    def visit(text: str, cm: list[float], tm: list[float], font: object, size: float) -> None:
        if not text or not isinstance(font, dict):
            return
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        name = str(font["/BaseFont"]).split("+", 1)[-1]
        runs.append(_Run(text, x, y, name, round(float(size), 2)))

    page.extract_text(visitor_text=visit)
    return runs


def _pages(pdf: bytes) -> list[list[_Run]]:
    return [_page_runs(page) for page in PdfReader(io.BytesIO(pdf)).pages]


@functools.cache
def _rendered_pages(text: str) -> list[list[_Run]]:
    return _pages(_render(text))


def _in_body(run: _Run) -> bool:
    return MARGIN_BOTTOM - TOLERANCE <= run.y <= PAGE_HEIGHT - MARGIN_TOP + TOLERANCE


def _columns(pages: list[list[_Run]]) -> tuple[str, str]:
    """Body text of the left and the right column, each read on across pages (a table row
    split over two pages interleaves its two cells in the content stream)."""
    split = MARGIN_X + 0.4 * (PAGE_WIDTH - 2 * MARGIN_X)  # right cells start at >= 0.42
    body = [run for runs in pages for run in runs if _in_body(run)]
    left = "".join(run.text for run in body if run.x < split)
    right = "".join(run.text for run in body if run.x >= split)
    return left, right


def _squash(text: str) -> str:
    """Whitespace removed: wrapping turns spaces into line breaks and may cut inside words."""
    return "".join(text.split())


def _words_survive(shown: str, extracted: str) -> bool:
    """Every word of ``shown`` is in ``extracted``, right-to-left words either way round."""
    squashed = _squash(extracted)
    return all(word in squashed or word[::-1] in squashed for word in shown.split())


def _footer_line(runs: list[_Run]) -> str:
    return "".join(run.text for run in runs if run.y < FOOTER_RULE and "Page " not in run.text)


def _pdffonts(pdf: bytes, folder: Path) -> list[tuple[str, str]]:
    """(font name without subset tag, the "emb" column) for every font poppler finds."""
    tool = shutil.which("pdffonts")
    if tool is None:
        pytest.skip("poppler-utils (pdffonts) is not installed")
    path = folder / "fonts.pdf"
    path.write_bytes(pdf)
    output = subprocess.run([tool, str(path)], capture_output=True, text=True, check=True).stdout
    rows = output.splitlines()[2:]
    return [(row.split()[0].split("+", 1)[-1], row.split()[-5]) for row in rows]


_WORD = re.compile(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>'
)


def _word_boxes(pdf: bytes, folder: Path) -> list[tuple[float, float, float, float, str]]:
    """Every word poppler finds, with its box in points from the top left of its page."""
    tool = shutil.which("pdftotext")
    if tool is None:
        pytest.skip("poppler-utils (pdftotext) is not installed")
    path = folder / "words.pdf"
    path.write_bytes(pdf)
    html = subprocess.run(
        [tool, "-bbox", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return [
        (float(x0), float(y0), float(x1), float(y1), word)
        for x0, y0, x1, y1, word in _WORD.findall(html)
    ]


# --- the tests -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", CORPUS)
def test_hostile_text_is_printed_and_extractable_everywhere(
    name: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Renders without an exception; the text layer reads back without a warning and holds the
    printed form of the text in all 7 body places, with no control or format character left."""
    hostile = CORPUS[name]
    pdf = _render(hostile.text)
    with caplog.at_level(logging.WARNING):
        pages = _pages(pdf)
        plain = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text

    left, right = _columns(pages)
    if hostile.rtl:
        assert _words_survive(hostile.shown, left)
        assert _words_survive(hostile.shown, right)
    else:
        shown = _squash(hostile.shown)
        assert _squash(left).count(shown) + _squash(right).count(shown) == BODY_PLACES
    leftovers = {c for c in plain if unicodedata.category(c) in ("Cc", "Cf", "Cs")} - {"\n"}
    assert not leftovers, sorted(map(hex, map(ord, leftovers)))
    assert "\x00" not in plain


@pytest.mark.parametrize("name", CORPUS)
def test_every_footer_is_intact_and_names_the_patient(name: str) -> None:
    """Each page's footer has the page number, date of birth, document and consent, and the
    name on one line: whole, or cut with "…" never between a letter and its combining marks."""
    hostile = CORPUS[name]
    pages = _rendered_pages(hostile.text)
    one_line = " ".join(hostile.shown.split())

    for number, runs in enumerate(pages, start=1):
        footer = "".join(run.text for run in runs if run.y < FOOTER_RULE)
        assert f"Page {number} of {len(pages)}" in footer
        assert f"Date of birth: {BIRTH_DATE}" in footer
        assert f"Document: {DOCUMENT_ID}" in footer
        assert "ketamine-infusion, version 1" in footer
        line = _footer_line(runs).split("\n")[0]
        if hostile.rtl:
            assert _words_survive(hostile.shown, line)
            continue
        printed = line.rsplit("  ·  Date of birth", 1)[0]
        if printed.endswith("…"):
            kept = printed[:-1].rstrip()
            assert one_line.startswith(kept), (printed, one_line)
            assert not unicodedata.category(one_line[len(kept)]).startswith("M"), printed
        else:
            assert printed == one_line


@pytest.mark.parametrize("name", CORPUS)
def test_layout_changes_only_by_wrapping(name: str) -> None:
    """The same page count and the same (font, size) pairs as the same data with plain ASCII of
    the same length: no markup changed a font or a size, nothing added a page wrapping does not
    explain."""
    hostile = CORPUS[name]
    pages = _rendered_pages(hostile.text)
    twin = _rendered_pages(_twin(hostile.text))

    assert len(pages) == len(twin)
    styles = {(run.font, run.size) for runs in pages for run in runs if run.text.strip()}
    twin_styles = {(run.font, run.size) for runs in twin for run in runs if run.text.strip()}
    assert styles == twin_styles


@pytest.mark.parametrize("name", CORPUS)
def test_every_word_stays_inside_the_margins(name: str, tmp_path: Path) -> None:
    """poppler's word boxes: every word between the side margins, and every word in the body,
    the running header or the footer, never in the gap between body and footer."""
    boxes = _word_boxes(_render(CORPUS[name].text), tmp_path)
    body_top, body_bottom = MARGIN_TOP, PAGE_HEIGHT - MARGIN_BOTTOM
    footer_top = PAGE_HEIGHT - FOOTER_RULE

    assert boxes
    for x0, y0, x1, y1, word in boxes:
        assert x0 >= MARGIN_X - TOLERANCE and x1 <= PAGE_WIDTH - MARGIN_X + TOLERANCE, word
        in_body = body_top - TOLERANCE <= y0 and y1 <= body_bottom + TOLERANCE
        assert in_body or y1 <= body_top or y0 >= footer_top, (word, y0, y1)


def test_markup_is_shown_literally_and_switches_nothing() -> None:
    """``<b>``, ``<font size=80>``, entities and paragraph tags print as typed: the text of the
    markup is in the text layer, and the bold face only appears where the template puts it."""
    for name in ("markup-bold", "markup-para", "markup-font-img-br", "markup-entities"):
        text = CORPUS[name].text
        pages = _rendered_pages(text)
        extracted = "".join(run.text for runs in pages for run in runs)
        assert _squash(text) in _squash(extracted)
        sizes = {run.size for runs in pages for run in runs}
        assert 80 not in sizes
        bold = {
            (run.size, run.text.strip())
            for runs in pages
            for run in runs
            if run.font.endswith("Bold") and run.text.strip()
        }
        # Bold is the template's: clinic, title, headings, page labels, the typed name (20 pt).
        assert all(size in (9, 13, 13.5, 20) for size, _ in bold), bold
    pdf = _render(CORPUS["markup-bold"].text)
    extracted = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert extracted.count('<b>Bob</b> & "Al"') >= BODY_PLACES
    assert "&amp;" not in extracted and "&lt;" not in extracted
    pages = _rendered_pages(CORPUS["markup-entities"].text)
    assert "&amp; &#0; &lt;i&gt; &nbsp; Tom & Jerry" in "".join(r.text for p in pages for r in p)


@pytest.mark.parametrize("name", CORPUS)
def test_only_embedded_dejavu_fonts(name: str, tmp_path: Path) -> None:
    """pdffonts: every font embedded ("emb yes"), DejaVu only, never a base-14 font such as
    Helvetica (which a missing font or a markup font switch would bring in)."""
    fonts = _pdffonts(_render(CORPUS[name].text), tmp_path)

    assert fonts
    assert all(embedded == "yes" for _, embedded in fonts), fonts
    assert {font for font, _ in fonts} <= {"DejaVuSans", "DejaVuSans-Bold"}, fonts


def test_hostile_pdf_takes_the_seal_and_verifies(tmp_path: Path) -> None:
    """The short strings of the corpus in one consent with a drawn signature: it renders, takes
    the clinic's seal, the seal verifies (pyHanko, pdfsig, qpdf), the text is still extractable."""
    everything = " ".join(h.text for h in CORPUS.values() if len(h.text) < 1000)
    pdf = render_consent_pdf(_data(everything, drawn=True), _strings())
    certificates = Certificates(paths.key_dir())
    sealed = seal_pdf(
        pdf, certificates, reason="Patient's informed consent", location="Test Clinic, kiosk 1"
    )

    assert check_seal(sealed, certificates).ok, check_seal(sealed, certificates).reasons
    assert_second_readers_accept(sealed)
    fonts = _pdffonts(sealed, tmp_path)
    assert fonts and all(embedded == "yes" for _, embedded in fonts)
    left, _ = _columns(_pages(sealed))
    assert _squash(CORPUS["markup-bold"].shown) in _squash(left)
    assert _squash(CORPUS["emoji"].shown) in _squash(left)
