"""Printing a stored PDF from the staff console: the file itself through CUPS when we can, else
every page drawn onto a QPrinter.

Two routes, because they print differently (DESIGN §8):

- CUPS (`lp`): the PDF bytes go to the queue unchanged, so text stays vector and the printed copy
  is the sealed document itself. Used for a real printer on Linux when `lp` is installed.
- QPrinter: each page is rendered to an image (QPdfDocument) and painted onto the printer. Used
  for "Print to File (PDF)", on Windows and macOS, and where `lp` is missing. Images print
  sharply enough at 300 dpi but are not the original file.

Nothing here logs a title or any page content: titles are document numbers by contract, and the
pages are a patient's record.
"""

from __future__ import annotations

import enum
import logging
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QObject, QRectF, QSize, QSizeF, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPrintSupport import QPrintDialog, QPrinter, QPrinterInfo
from PySide6.QtWidgets import QDialog, QWidget

log = logging.getLogger(__name__)

NO_PRINTER_MESSAGE = (
    "No printer is set up on this computer. Ask IT to add one, or use Print… to save a PDF."
)
RENDER_DPI_LIMIT = 300
"""Pages are rendered for the QPrinter route at no more than this. A Letter page at a file
printer's 1200 dpi would be a 540 MB image; 300 dpi (33 MB) prints text cleanly."""
LP_TIMEOUT_S = 60
"""`lp` only hands the file to the local spooler; a minute means CUPS itself is stuck."""
TITLE_MAX = 100
PDF_FILE = "PDF file"
"""PrintResult.printer when the QPrinter wrote a file (Print to File) instead of printing."""

_REQUEST_ID = re.compile(r"request id is (\S+)")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_LOAD_PROBLEMS = {
    QPdfDocument.Error.IncorrectPassword: "it is locked with a password",
    QPdfDocument.Error.UnsupportedSecurityScheme: "it is locked in a way this computer can't open",
    QPdfDocument.Error.FileNotFound: "the file is missing",
}


class PrintError(Exception):
    """Printing did not happen. ``str(error)`` is a kind sentence for staff, with what to do."""


class Route(enum.Enum):
    CUPS = "cups"
    QPRINTER = "qprinter"


@dataclass(frozen=True)
class PrintResult:
    """What was printed, for the notice on screen and the app's audit event."""

    pages: int  # PDF pages sent (per copy)
    printer: str  # the queue's name, or PDF_FILE for Print to File
    route: Route
    job: str = ""  # the CUPS request id ("Front_Desk-42"), when CUPS said it


class LoadedPdf:
    """A QPdfDocument read from bytes. QPdfDocument reads pages from its device on demand, so the
    QBuffer is the document's child: it lives exactly as long as the document."""

    def __init__(self, pdf: bytes, parent: QObject | None = None) -> None:
        self.document = QPdfDocument(parent) if parent is not None else QPdfDocument()
        self.buffer = QBuffer(self.document)
        self.buffer.setData(QByteArray(pdf))
        self.buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        # Synchronous for a QBuffer: the status is final when load() returns.
        self.document.load(self.buffer)

    @property
    def page_count(self) -> int:
        return self.document.pageCount() if self.problem is None else 0

    @property
    def problem(self) -> str | None:
        """Why the document can't be shown or printed, as a kind sentence; None when it can."""
        if self.document.status() == QPdfDocument.Status.Ready and self.document.pageCount():
            return None
        reason = _LOAD_PROBLEMS.get(self.document.error(), "the file looks damaged or incomplete")
        return (
            f"This document can't be opened: {reason}. Nothing has been changed. "
            "Please ask IT to check the stored copy."
        )

    def delete_later(self) -> None:
        self.document.deleteLater()  # and its buffer with it


def default_printer() -> QPrinter | None:
    """The system's default printer, or None when there is none.

    With printers but no default we still return None: guessing the first one could send a
    consent to a printer in another room.
    """
    info = QPrinterInfo.defaultPrinter()
    if info.isNull():
        return None
    return QPrinter(info, QPrinter.PrinterMode.HighResolution)


def choose_route(printer: QPrinter, lp: str | None) -> Route:
    """CUPS for a real printer on Linux with `lp` installed; the QPrinter route otherwise.

    Windows has no `lp`; on macOS the names Qt reports are not promised to be CUPS queue names.
    A QPrinter writing a file is never a CUPS queue, even when its format is native.
    """
    name = printer.printerName()
    if (
        lp is not None
        and sys.platform.startswith("linux")
        and printer.outputFormat() == QPrinter.OutputFormat.NativeFormat
        and not printer.outputFileName()
        and name
        and not QPrinterInfo.printerInfo(name).isNull()
    ):
        return Route.CUPS
    return Route.QPRINTER


def readable(pdf: bytes) -> LoadedPdf:
    """``pdf`` loaded, checked before anything is sent: a damaged file would print as garbage.

    Raises:
        PrintError: with :attr:`LoadedPdf.problem` as its message.
    """
    loaded = LoadedPdf(pdf)
    if loaded.problem is not None:
        raise PrintError(loaded.problem)
    return loaded


def selected_pages(printer: QPrinter, page_count: int) -> list[int]:
    """The 1-based pages to print: a page range chosen in the print dialog, else all of them.

    Raises:
        PrintError: the range chosen holds none of the document's pages.
    """
    pages = list(range(1, page_count + 1))
    ranges = printer.pageRanges()
    if printer.printRange() == QPrinter.PrintRange.PageRange and not ranges.isEmpty():
        pages = [page for page in pages if ranges.contains(page)]
    if not pages:
        raise PrintError(
            f"The pages chosen are not in this document (it has {page_count}). Choose other pages."
        )
    return pages


def print_pdf(pdf: bytes, printer: QPrinter) -> int:
    """Paint every (selected) PDF page onto ``printer``, one sheet each, centred and scaled to
    the printable area with its aspect ratio kept. Returns how many pages were printed.

    Raises:
        PrintError: the PDF can't be read, the printer can't start, or a page can't be made.
    """
    loaded = readable(pdf)
    pages = selected_pages(printer, loaded.page_count)
    painter = QPainter()
    if not painter.begin(printer):
        raise PrintError(
            "The printer could not be started. Check that it is on and connected, then try "
            "again, or use Print… to choose another printer."
        )
    try:
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        area = QSizeF(printer.pageLayout().paintRectPixels(printer.resolution()).size())
        # Printer pixels per rendered pixel, so the rendered image stays at or below the limit.
        thinning = min(1.0, RENDER_DPI_LIMIT / max(printer.resolution(), 1))
        for sheet, page in enumerate(pages):
            if sheet and not printer.newPage():
                raise PrintError("The printer stopped after part of the document. Try again.")
            target = _fitted(loaded.document.pagePointSize(page - 1), area)
            image = _page_image(loaded.document, page - 1, (target.size() * thinning).toSize())
            painter.drawImage(target, image)
    except PrintError:
        printer.abort()  # a half-printed consent is worse than none: cancel what was sent
        raise
    finally:
        painter.end()
    log.info("Printed %d page(s) by rendering on %s", len(pages), _describe(printer))
    return len(pages)


def print_with_cups(
    pdf: bytes,
    printer_name: str | None,
    title: str,
    *,
    copies: int = 1,
    page_ranges: str = "",
    sides: str = "",
    collate: bool = False,
    lp: str | None = None,
) -> str:
    """Hand the PDF itself to CUPS: ``lp -d NAME -t TITLE … -`` with the bytes on stdin.

    Args:
        pdf: the document, unchanged (it stays vector and sealed on paper's way).
        printer_name: the CUPS queue; None sends to the CUPS default destination.
        title: the job's name, seen by anyone who opens the print queue: a document number,
            never a patient's name.
        copies, page_ranges, sides, collate: what staff chose in the print dialog
            (``page_ranges`` like "1-2,4"; ``sides`` an IPP value such as "two-sided-long-edge").
        lp: the `lp` program; found on PATH when not given.

    Returns:
        The CUPS request id (e.g. "Front_Desk-42"), or "" when `lp` printed none.

    Raises:
        PrintError: `lp` is missing, refused the job, or did not answer.
    """
    program = lp or shutil.which("lp")
    if program is None:
        raise PrintError("This computer has no `lp` command. Use Print… instead, or ask IT.")
    command = [program]
    if printer_name:
        command += ["-d", printer_name]
    command += ["-t", clean_title(title), "-n", str(max(copies, 1))]
    if page_ranges:
        command += ["-P", page_ranges]
    if sides:
        command += ["-o", f"sides={sides}"]
    if collate and copies > 1:
        command += ["-o", "collate=true"]
    command.append("-")  # the document comes on stdin: nothing of it is written to disk here
    try:
        done = subprocess.run(
            command, input=pdf, capture_output=True, timeout=LP_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired as error:
        raise PrintError(
            "The print queue did not answer. Check the printer, then try again, or ask IT."
        ) from error
    except OSError as error:
        raise PrintError(f"The print command could not run ({error.strerror}). Ask IT.") from error
    said = (done.stdout + done.stderr).decode("utf-8", "replace").strip()
    if done.returncode != 0:
        # lp's own words name the queue and the reason; no document content is in them.
        log.warning("lp refused a job for %s: %s", printer_name or "the default printer", said)
        raise PrintError(
            f"The printer did not take the document: {said or 'no reason given'}. "
            "Check that it is on, then try again, or use Print… to choose another printer."
        )
    found = _REQUEST_ID.search(said)
    return found[1] if found else ""


def clean_title(title: str) -> str:
    """A job title `lp` and every print-queue screen can show: one short line."""
    return _CONTROL.sub(" ", title).strip()[:TITLE_MAX] or "Document"


def send_to_printer(
    pdf: bytes, printer: QPrinter, title: str, *, lp: str | None = None
) -> PrintResult:
    """Print ``pdf`` on ``printer`` by the route :func:`choose_route` picks, honouring copies,
    page range and two-sided printing chosen in the dialog.

    Args:
        lp: the `lp` program, found on PATH when not given.

    Raises:
        PrintError: with a kind message for staff.
    """
    program = lp or shutil.which("lp")
    route = choose_route(printer, program)
    if route is Route.QPRINTER:
        printer.setDocName(clean_title(title))  # the job's name in the OS queue, or PDF title
        return PrintResult(print_pdf(pdf, printer), _describe(printer), route)
    loaded = readable(pdf)
    pages = selected_pages(printer, loaded.page_count)
    ranges = printer.pageRanges()
    page_ranges = ranges.toString() if len(pages) < loaded.page_count else ""
    job = print_with_cups(
        pdf,
        printer.printerName(),
        title,
        copies=printer.copyCount(),
        page_ranges=page_ranges,
        sides=_SIDES.get(printer.duplex(), ""),
        collate=printer.collateCopies(),
        lp=program,
    )
    log.info("Sent %d page(s) to CUPS queue %s as job %s", len(pages), printer.printerName(), job)
    return PrintResult(len(pages), printer.printerName(), route, job)


AskPrinter = Callable[[QWidget | None, int], QPrinter | None]
"""Shows the print dialog for a document of N pages; the printer chosen, or None if cancelled."""


def ask_for_printer(parent: QWidget | None, page_count: int) -> QPrinter | None:
    """The platform print dialog: printer, copies, pages, two-sided, or Print to File (PDF)."""
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    dialog = QPrintDialog(printer, parent)
    dialog.setWindowTitle("Print")
    dialog.setMinMax(1, max(page_count, 1))
    dialog.setOption(QPrintDialog.PrintDialogOption.PrintPageRange, True)
    dialog.setOption(QPrintDialog.PrintDialogOption.PrintToFile, True)
    dialog.setOption(QPrintDialog.PrintDialogOption.PrintCollateCopies, True)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return printer


def print_via_dialog(
    parent: QWidget | None,
    pdf: bytes,
    title: str,
    *,
    ask: AskPrinter = ask_for_printer,
    lp: str | None = None,
) -> PrintResult | None:
    """Ask where to print (``ask``: the dialog, or a test's own), then print. None if cancelled.

    Raises:
        PrintError: the document can't be read or printing failed.
    """
    printer = ask(parent, readable(pdf).page_count)
    if printer is None:
        return None
    return send_to_printer(pdf, printer, title, lp=lp)


def print_to_default(
    pdf: bytes,
    title: str,
    *,
    find_printer: Callable[[], QPrinter | None] = default_printer,
    lp: str | None = None,
) -> PrintResult:
    """Print on the default printer without a dialog.

    Raises:
        PrintError: no printer is set up (:data:`NO_PRINTER_MESSAGE`), or printing failed.
    """
    printer = find_printer()
    if printer is None:
        raise PrintError(NO_PRINTER_MESSAGE)
    return send_to_printer(pdf, printer, title, lp=lp)


_SIDES = {
    QPrinter.DuplexMode.DuplexNone: "one-sided",
    QPrinter.DuplexMode.DuplexLongSide: "two-sided-long-edge",
    QPrinter.DuplexMode.DuplexShortSide: "two-sided-short-edge",
    # DuplexAuto: the queue's own default, so no option at all.
}


def _describe(printer: QPrinter) -> str:
    if printer.outputFormat() == QPrinter.OutputFormat.PdfFormat:
        return PDF_FILE
    return printer.printerName() or "printer"


def _fitted(page: QSizeF, area: QSizeF) -> QRectF:
    """``page`` scaled to fit ``area`` with its aspect ratio kept, centred in it."""
    size = page.scaled(area, Qt.AspectRatioMode.KeepAspectRatio)
    left = (area.width() - size.width()) / 2
    top = (area.height() - size.height()) / 2
    return QRectF(left, top, size.width(), size.height())


def _page_image(document: QPdfDocument, index: int, size: QSize) -> QImage:
    """Page ``index`` at ``size`` on white paper. QPdfDocument leaves the page's background
    transparent: any conversion that drops the alpha channel turns it black, and an image with
    alpha costs every printed page a soft mask."""
    rendered = document.render(index, size)
    if rendered.isNull():
        raise PrintError(
            "A page could not be prepared for printing (the computer may be short of memory). "
            "Close other programs and try again."
        )
    image = QImage(rendered.size(), QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.drawImage(0, 0, rendered)
    painter.end()
    return image
