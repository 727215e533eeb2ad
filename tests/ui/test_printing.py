"""Printing a PDF: rendered page by page onto a real QPrinter writing a PDF file, and the file
itself through a real CUPS scheduler (a private cupsd with a capture backend) when one is
installed."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pypdf import PdfReader
from PySide6.QtCore import QTimer
from PySide6.QtGui import QImage, QPageRanges
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import QApplication
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas

from kiosk.ui.staff.printing import (
    NO_PRINTER_MESSAGE,
    RENDER_DPI_LIMIT,
    PrintError,
    Route,
    choose_route,
    clean_title,
    print_pdf,
    print_to_default,
    print_via_dialog,
    print_with_cups,
    send_to_printer,
)

PAGE_WORDS = ("Page one", "Page two", "Page three")
BAND_TOPS = (0.10, 0.45, 0.80)  # where each page's black band starts, as a share of the height
BAND_HEIGHT = 0.08


def three_page_pdf() -> bytes:
    """Three Letter pages, each with its words and a black band at its own height, so a print
    shows which page landed on which sheet."""
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=letter)
    width, height = letter
    for words, top in zip(PAGE_WORDS, BAND_TOPS, strict=True):
        page.setFont("Helvetica", 36)
        page.drawString(72, height - 72, words)
        page.rect(72, height * (1 - top - BAND_HEIGHT), width - 144, height * BAND_HEIGHT, fill=1)
        page.showPage()
    page.save()
    return out.getvalue()


def file_printer(path: Path) -> QPrinter:
    """A real QPrinter that writes a PDF file: what Print to File makes in the dialog."""
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(path))
    return printer


def rendered_page(pdf_path: Path, page: int, folder: Path) -> QImage:
    """Page ``page`` of a PDF as poppler draws it (grey, 40 dpi): a second reader's eyes."""
    tool = shutil.which("pdftoppm")
    if tool is None:
        pytest.skip("poppler-utils (pdftoppm) is not installed")
    stem = folder / f"page{page}"
    page_text = str(page)
    subprocess.run(
        [
            tool,
            "-gray",
            "-r",
            "40",
            "-f",
            page_text,
            "-l",
            page_text,
            "-singlefile",
            str(pdf_path),
            str(stem),
        ],
        check=True,
    )
    image = QImage(str(stem.with_suffix(".pgm")))
    assert not image.isNull()
    return image


def dark_rows(image: QImage) -> list[float]:
    """The rows (as a share of the height) where the middle of the page is black."""
    x = image.width() // 2
    return [
        y / image.height() for y in range(image.height()) if image.pixelColor(x, y).value() < 60
    ]


# --- the QPrinter route ---------------------------------------------------------------------------


def test_print_pdf_writes_one_sheet_per_page_with_the_page_on_it(tmp_path: Path) -> None:
    out = tmp_path / "out.pdf"

    assert print_pdf(three_page_pdf(), file_printer(out)) == 3

    reader = PdfReader(out)
    assert len(reader.pages) == 3
    for page in reader.pages:
        (image,) = page.images  # the page, rendered: one image per sheet
        assert image.image is not None
        width, height = image.image.size
        # The page's own shape (8.5 x 11), not stretched to the paper's.
        assert width / height == pytest.approx(612 / 792, rel=0.01)
        # Rendered at no more than the limit, whatever the printer's resolution (1200 here).
        assert width <= 8.5 * RENDER_DPI_LIMIT + 1
        assert width >= 8.5 * RENDER_DPI_LIMIT * 0.8  # and not much less: text stays sharp


def test_printed_sheets_show_the_pages_in_order(tmp_path: Path) -> None:
    out = tmp_path / "out.pdf"
    print_pdf(three_page_pdf(), file_printer(out))

    for number, top in enumerate(BAND_TOPS, start=1):
        rows = dark_rows(rendered_page(out, number, tmp_path))
        assert rows, f"sheet {number} is blank"
        # The band lands near where it is on its page; the paper's margins shift it a little.
        middle = (min(rows) + max(rows)) / 2
        assert middle == pytest.approx(top + BAND_HEIGHT / 2, abs=0.06), number


def test_a_page_range_from_the_dialog_prints_only_those_pages(tmp_path: Path) -> None:
    out = tmp_path / "out.pdf"
    printer = file_printer(out)
    printer.setPrintRange(QPrinter.PrintRange.PageRange)
    ranges = QPageRanges()
    ranges.addRange(2, 3)
    printer.setPageRanges(ranges)

    assert print_pdf(three_page_pdf(), printer) == 2

    assert len(PdfReader(out).pages) == 2
    rows = dark_rows(rendered_page(out, 1, tmp_path))
    assert (min(rows) + max(rows)) / 2 == pytest.approx(0.49, abs=0.06)  # page two's band


def test_a_page_range_outside_the_document_says_so(tmp_path: Path) -> None:
    printer = file_printer(tmp_path / "out.pdf")
    printer.setFromTo(5, 6)
    printer.setPrintRange(QPrinter.PrintRange.PageRange)
    with pytest.raises(PrintError, match=r"not in this document \(it has 3\)"):
        print_pdf(three_page_pdf(), printer)


def test_damaged_bytes_raise_a_kind_message(tmp_path: Path) -> None:
    out = tmp_path / "out.pdf"
    with pytest.raises(PrintError, match="can't be opened: the file looks damaged") as raised:
        print_pdf(three_page_pdf()[:300], file_printer(out))
    assert "ask IT" in str(raised.value)
    assert not out.exists()  # nothing was started


@pytest.mark.qt_log_ignore("QPainter::begin")  # Qt's own note of the failure we provoke
def test_a_printer_that_cannot_start_raises_a_kind_message(tmp_path: Path) -> None:
    printer = file_printer(tmp_path / "no such folder" / "out.pdf")
    with pytest.raises(PrintError, match="printer could not be started"):
        print_pdf(three_page_pdf(), printer)


def test_a_file_printer_always_takes_the_qprinter_route(tmp_path: Path) -> None:
    printer = file_printer(tmp_path / "out.pdf")
    # Even with `lp` at hand: a file is not a CUPS queue.
    assert choose_route(printer, "/usr/bin/lp") is Route.QPRINTER
    assert choose_route(printer, None) is Route.QPRINTER


def test_without_lp_a_real_printer_takes_the_qprinter_route() -> None:
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.NativeFormat)
    printer.setPrinterName("Front_Desk")
    assert choose_route(printer, None) is Route.QPRINTER


def test_a_printer_cups_does_not_know_takes_the_qprinter_route() -> None:
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.NativeFormat)
    printer.setPrinterName("no-such-queue")
    assert choose_route(printer, "/usr/bin/lp") is Route.QPRINTER


def test_send_to_a_file_printer_reports_pages_and_destination(tmp_path: Path) -> None:
    out = tmp_path / "out.pdf"
    result = send_to_printer(three_page_pdf(), file_printer(out), "CONSENT-0042")

    assert (result.pages, result.printer, result.route) == (3, "PDF file", Route.QPRINTER)
    metadata = PdfReader(out).metadata
    assert metadata is not None and metadata.title == "CONSENT-0042"


def test_no_printer_at_all_says_what_to_do() -> None:
    with pytest.raises(PrintError) as raised:
        print_to_default(three_page_pdf(), "CONSENT-0042", find_printer=lambda: None)
    assert str(raised.value) == NO_PRINTER_MESSAGE
    assert "Ask IT to add one, or use Print… to save a PDF" in NO_PRINTER_MESSAGE


def test_print_via_dialog_asks_with_the_page_count_and_prints_where_chosen(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out.pdf"
    asked: list[int] = []

    def ask(parent: object, pages: int) -> QPrinter:
        asked.append(pages)
        return file_printer(out)

    result = print_via_dialog(None, three_page_pdf(), "CONSENT-0042", ask=ask)

    assert asked == [3]
    assert result is not None and result.pages == 3
    assert len(PdfReader(out).pages) == 3


def test_the_real_print_dialog_offers_the_documents_pages_and_cancel_prints_nothing() -> None:
    seen: list[tuple[int, int]] = []

    def cancel_the_dialog() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, QPrintDialog)
        seen.append((dialog.minPage(), dialog.maxPage()))
        dialog.reject()

    QTimer.singleShot(0, cancel_the_dialog)  # runs inside the dialog's own event loop

    assert print_via_dialog(None, three_page_pdf(), "CONSENT-0042") is None
    assert seen == [(1, 3)]


def test_a_cancelled_dialog_prints_nothing() -> None:
    assert print_via_dialog(None, three_page_pdf(), "X", ask=lambda parent, pages: None) is None


def test_titles_are_one_short_line() -> None:
    assert clean_title("CONSENT-1\nsecond line\x00") == "CONSENT-1 second line"
    assert len(clean_title("D" * 500)) == 100
    assert clean_title(" \t") == "Document"


# --- the CUPS route, against a real scheduler -----------------------------------------------------

CAPTURE_BACKEND = """#!/bin/sh
# A CUPS backend that keeps each job in the folder named by its device URI (capture:/folder):
# the document as CUPS hands it to the printer, and the job's title, copies and options.
if [ $# -eq 0 ]; then echo 'direct capture "Unknown" "Capture to a folder"'; exit 0; fi
folder=${DEVICE_URI#capture:}
printf '%s\\n%s\\n%s\\n' "$3" "$4" "$5" > "$folder/job-$1.txt"
if [ $# -ge 6 ]; then cat "$6"; else cat; fi > "$folder/job-$1.pdf"
"""


@dataclass(frozen=True)
class Cups:
    folder: Path  # where the capture backend leaves each job
    server: str  # CUPS_SERVER for lp, lpadmin and Qt
    queue: str

    def job(self, request_id: str) -> tuple[bytes, list[str]]:
        """The bytes CUPS sent to the printer for ``request_id``, and title, copies, options."""
        number = request_id.rsplit("-", 1)[1]
        pdf, info = self.folder / f"job-{number}.pdf", self.folder / f"job-{number}.txt"
        for _ in range(200):  # the scheduler runs the backend after lp returns
            if info.exists() and pdf.exists() and pdf.stat().st_size:
                break
            time.sleep(0.05)
        else:
            log = (self.folder.parent / "log" / "error_log").read_text(errors="replace")
            pytest.fail(f"CUPS did not hand job {request_id} to the printer:\n{log}")
        return pdf.read_bytes(), info.read_text().splitlines()


@pytest.fixture
def cups(monkeypatch: pytest.MonkeyPatch) -> Iterator[Cups]:
    """A private CUPS scheduler with one raw queue, "consents", as the default destination."""
    tools = {name: shutil.which(name) for name in ("lp", "lpadmin", "lpstat")}
    cupsd = shutil.which("cupsd") or shutil.which("cupsd", path="/usr/sbin:/usr/local/sbin")
    if cupsd is None or None in tools.values():
        pytest.skip("CUPS is not installed (Debian: cups-client cups-daemon)")
    # Not below pytest's tmp_path: that is private to us, and cupsd runs backends as user lp.
    root = Path(tempfile.mkdtemp(prefix="kiosk-cups-"))
    try:
        os.chmod(root, 0o755)
        for name in ("spool", "cache", "state", "log", "bin/backend", "bin/filter"):
            (root / name).mkdir(parents=True)
        out = root / "out"
        out.mkdir(mode=0o777)
        os.chmod(out, 0o777)
        for helper in ("daemon", "notifier"):
            (root / "bin" / helper).symlink_to(f"/usr/lib/cups/{helper}")
        backend = root / "bin" / "backend" / "capture"
        backend.write_text(CAPTURE_BACKEND)
        os.chmod(backend, 0o755)
        socket = root / "cups.sock"
        (root / "cupsd.conf").write_text(
            f"Listen {socket}\nLogLevel warn\n"
            "<Location />\n  Order allow,deny\n  Allow all\n</Location>\n"
            "<Location /admin>\n  Order allow,deny\n  Allow all\n</Location>\n"
        )
        (root / "cups-files.conf").write_text(
            f"ServerRoot {root}\nServerBin {root}/bin\nRequestRoot {root}/spool\n"
            f"CacheDir {root}/cache\nStateDir {root}/state\nTempDir {root}/spool\n"
            f"ErrorLog {root}/log/error_log\nAccessLog {root}/log/access_log\n"
            f"PageLog {root}/log/page_log\nSystemGroup root\n"
        )
        daemon = subprocess.Popen(
            [cupsd, "-f", "-c", str(root / "cupsd.conf"), "-s", str(root / "cups-files.conf")]
        )
        try:
            monkeypatch.setenv("CUPS_SERVER", str(socket))
            for _ in range(200):
                running = subprocess.run(
                    [str(tools["lpstat"]), "-r"], capture_output=True, text=True, check=False
                )
                if "is running" in running.stdout:
                    break
                time.sleep(0.05)
            else:
                log = (root / "log" / "error_log").read_text(errors="replace")
                pytest.fail(f"the private cupsd did not start:\n{log}")
            for command in (
                # Raw: CUPS hands the PDF to the backend unfiltered, so we see exactly what we sent.
                ["-p", "consents", "-E", "-v", f"capture:{out}", "-m", "raw"],
                ["-d", "consents"],
            ):
                subprocess.run([str(tools["lpadmin"]), *command], capture_output=True, check=True)
            yield Cups(out, str(socket), "consents")
        finally:
            daemon.terminate()
            daemon.wait(timeout=10)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_cups_receives_the_pdf_itself_with_a_title_that_is_the_document_number(
    cups: Cups,
) -> None:
    pdf = three_page_pdf()

    request = print_with_cups(pdf, "consents", "CONSENT-0042")

    assert request.startswith("consents-")
    sent, (title, copies, _options) = cups.job(request)
    assert sent == pdf  # byte for byte: vector text, seal intact
    assert (title, copies) == ("CONSENT-0042", "1")


def test_cups_without_a_name_uses_the_default_destination(cups: Cups) -> None:
    request = print_with_cups(three_page_pdf(), None, "CONSENT-0042")
    assert request.startswith("consents-")


def test_cups_gets_copies_pages_and_sides(cups: Cups) -> None:
    request = print_with_cups(
        three_page_pdf(),
        "consents",
        "CONSENT-0042",
        copies=2,
        page_ranges="1-2",
        sides="two-sided-long-edge",
        collate=True,
    )
    _, (_, copies, options) = cups.job(request)
    assert copies == "2"
    assert "page-ranges=1-2" in options.split()
    assert "sides=two-sided-long-edge" in options.split()


def test_a_queue_cups_does_not_know_raises_lps_reason(cups: Cups) -> None:
    with pytest.raises(PrintError, match="did not take the document") as raised:
        print_with_cups(three_page_pdf(), "no-such-queue", "CONSENT-0042")
    assert "does not exist" in str(raised.value)


PRINT_TO_DEFAULT = """
import json, sys
from PySide6.QtWidgets import QApplication
from kiosk.ui.staff.printing import print_to_default
app = QApplication([])
result = print_to_default(sys.stdin.buffer.read(), "CONSENT-0042")
print(json.dumps([result.route.value, result.printer, result.pages, result.job]))
"""


def test_the_default_printer_goes_through_cups_unchanged(cups: Cups) -> None:
    """The whole way: Qt finds CUPS's default queue, the route picks CUPS, lp sends the file.

    In a child process because libcups remembers its server from the first call, and this
    process may have asked the system's CUPS already."""
    pdf = three_page_pdf()
    env = {**os.environ, "CUPS_SERVER": cups.server, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, "-c", PRINT_TO_DEFAULT],
        input=pdf,
        capture_output=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    route, printer, pages, job = json.loads(done.stdout)
    assert (route, printer, pages) == ("cups", "consents", 3)
    sent, (title, _, _) = cups.job(job)
    assert sent == pdf
    assert title == "CONSENT-0042"
