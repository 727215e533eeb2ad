"""A stored PDF on screen for staff: every page in one scroll, zoom, and the two ways to print.

The widget prints by itself (through :mod:`kiosk.ui.staff.printing`) and reports what happened
with signals, so the app layer only has to audit:

- ``printed(how, pages, printer)``: ``how`` is "dialog" or "default", ``pages`` the PDF pages
  sent (per copy), ``printer`` the queue's name or "PDF file". A slot taking only
  ``(how, pages)`` works too.
- ``print_failed(message)``: the kind sentence that is also shown in the widget.
- ``closed()``: the Close button.

Cancelling the print dialog emits nothing: nothing was printed.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QEventLoop, QObject, QPointF, Qt, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QPushButton,
    QScroller,
    QVBoxLayout,
    QWidget,
)

from kiosk.ui.screens.base import label
from kiosk.ui.staff import printing
from kiosk.ui.staff.login import push_button
from kiosk.ui.staff.printing import PDF_FILE, AskPrinter, LoadedPdf, PrintError, PrintResult

ZOOM_STEP = 1.25
ZOOM_MIN, ZOOM_MAX = 0.25, 4.0
AUTO_ZOOM_MAX = 1.25
"""A document opens fitted to the width, but no larger than this (1.0 = the page's size at the
screen's dpi), centred: on a wide screen a full-width page is hard to read and shows only a third
of itself. The same rule as pdf.js's automatic zoom."""


class PdfPreview(QWidget):
    """Shows a PDF given as bytes; prints it through the dialog or on the default printer.

    Args:
        ask_printer: shows the print dialog (tests pass their own so nothing blocks).
        find_default_printer: the default printer, or None when none is set up.
    """

    printed = Signal(str, int, str)  # how ("dialog" | "default"), pages, printer
    print_failed = Signal(str)  # the message shown to staff
    closed = Signal()

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        ask_printer: AskPrinter = printing.ask_for_printer,
        find_default_printer: Callable[[], QPrinter | None] = printing.default_printer,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("pdfPreview")
        self.setAccessibleName("Document preview")
        self._ask_printer = ask_printer
        self._find_default_printer = find_default_printer
        self._pdf = b""
        self._title = ""
        self._loaded: LoadedPdf | None = None

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)

        top = QFrame()
        top.setObjectName("previewToolbar")
        tools = QHBoxLayout(top)
        tools.setContentsMargins(20, 10, 20, 10)
        tools.setSpacing(8)
        self.title_label = label("", "panelTitle")
        self.title_label.setWordWrap(False)
        tools.addWidget(self.title_label, 1)
        self.zoom_out_button = push_button("−", "zoomOut")
        self.zoom_out_button.setAccessibleName("Zoom out")
        self.zoom_out_button.setToolTip("Zoom out (Ctrl+−)")
        self.zoom_in_button = push_button("+", "zoomIn")
        self.zoom_in_button.setAccessibleName("Zoom in")
        self.zoom_in_button.setToolTip("Zoom in (Ctrl++)")
        self.fit_width_button = push_button("Fit width", "fitWidth")
        self.fit_width_button.setToolTip("Make the page as wide as the window")
        for tool in (self.zoom_out_button, self.zoom_in_button, self.fit_width_button):
            tools.addWidget(tool)
        tools.addSpacing(20)
        self.page_label = label("", "pageIndicator")
        self.page_label.setWordWrap(False)
        tools.addWidget(self.page_label)
        outer.addWidget(top)

        self.message = label("", "errorText")
        self.message.setVisible(False)
        self.notice = label("", "hint")
        self.notice.setVisible(False)
        for line in (self.message, self.notice):
            line.setContentsMargins(20, 8, 20, 8)
            outer.addWidget(line)

        self.view = QPdfView()
        self.view.setObjectName("pdfView")
        self.view.setAccessibleName("Document pages")
        self.view.setPageMode(QPdfView.PageMode.MultiPage)
        self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        self.view.setPageSpacing(12)
        # Finger-drag scrolling when the console runs on a touch screen (as the patient screens).
        QScroller.grabGesture(self.view.viewport(), QScroller.ScrollerGestureType.TouchGesture)
        self.view.pageNavigator().currentPageChanged.connect(self._show_page_number)
        self._auto_zoom = True
        self.view.viewport().installEventFilter(self)  # to keep the automatic zoom on resize
        outer.addWidget(self.view, 1)
        # Holds the bars at the top and bottom while there are no pages to show.
        self.no_pages = QWidget()
        self.no_pages.setObjectName("noPages")
        self.no_pages.setVisible(False)
        outer.addWidget(self.no_pages, 1)

        bottom = QFrame()
        bottom.setObjectName("previewActions")
        actions = QHBoxLayout(bottom)
        actions.setContentsMargins(20, 10, 20, 12)
        actions.setSpacing(12)
        self.close_button = push_button("Close", "closePreview")
        self.close_button.setAccessibleName("Close the preview")
        actions.addWidget(self.close_button)
        actions.addStretch(1)
        self.print_dialog_button = push_button("Print…", "printDialog")
        self.print_dialog_button.setAccessibleName("Print, choosing the printer")
        self.print_dialog_button.setToolTip("Choose a printer, copies and pages, or save a PDF")
        actions.addWidget(self.print_dialog_button)
        self.print_default_button = push_button(
            "Print to default printer", "printDefault", primary=True
        )
        actions.addWidget(self.print_default_button)
        outer.addWidget(bottom)

        self.zoom_out_button.clicked.connect(self.zoom_out)
        self.zoom_in_button.clicked.connect(self.zoom_in)
        self.fit_width_button.clicked.connect(self.fit_width)
        self.close_button.clicked.connect(self.closed)
        self.print_dialog_button.clicked.connect(self.print_with_dialog)
        self.print_default_button.clicked.connect(self.print_to_default)
        for keys, slot in (
            (QKeySequence.StandardKey.ZoomIn, self.zoom_in),
            (QKeySequence.StandardKey.ZoomOut, self.zoom_out),
            (QKeySequence.StandardKey.Print, self.print_with_dialog),
        ):
            QShortcut(QKeySequence(keys), self, slot)
        self._busy = False
        self._show_document_buttons(False)

    @property
    def page_count(self) -> int:
        """Pages in the document shown; 0 when none is, or it could not be opened."""
        return self._loaded.page_count if self._loaded is not None else 0

    @property
    def current_page(self) -> int:
        """The 1-based page at the top of the view (0 when nothing is shown)."""
        return self.view.pageNavigator().currentPage() + 1 if self.page_count else 0

    def load(self, pdf: bytes, title: str) -> bool:
        """Show ``pdf``. ``title`` heads the view and names the print job, so it must be a
        document number or kind, never a patient's name. False (and a message in the widget)
        when the PDF can't be opened."""
        previous = self._loaded
        self._loaded = LoadedPdf(pdf, self)
        self._pdf = pdf
        self._title = title
        self.title_label.setText(title)
        self.view.setAccessibleName(f"Pages of {title}")
        self.notice.setVisible(False)
        problem = self._loaded.problem
        self.view.setDocument(self._loaded.document)
        if previous is not None:
            previous.delete_later()
        # A damaged file shows the message in place of the (empty) pages.
        self.view.setVisible(problem is None)
        self.no_pages.setVisible(problem is not None)
        self._show_document_buttons(problem is None)
        if problem is not None:
            self._show_message(problem)
        else:
            self.message.setVisible(False)
            self._auto_zoom = True
            self._apply_auto_zoom()
            self.view.pageNavigator().jump(0, QPointF())
        self._show_page_number()
        return problem is None

    def zoom_in(self) -> None:
        self._zoom_to(self._effective_zoom() * ZOOM_STEP)

    def zoom_out(self) -> None:
        self._zoom_to(self._effective_zoom() / ZOOM_STEP)

    def fit_width(self) -> None:
        """Pages exactly as wide as the view, however wide that is."""
        self._auto_zoom = False
        self._fit_width()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.view.viewport()
            and event.type() == QEvent.Type.Resize
            and self._auto_zoom
        ):
            self._apply_auto_zoom()
        return super().eventFilter(watched, event)

    def print_with_dialog(self) -> None:
        """Ask where to print (printer, copies, pages, or a PDF file), then print."""
        if not self.page_count:
            return

        def ask(parent: QWidget | None, pages: int) -> QPrinter | None:
            printer = self._ask_printer(parent, pages)
            if printer is not None:
                self._begin_printing()  # only now: a cancelled dialog printed nothing
            return printer

        self._print(
            "dialog",
            lambda: printing.print_via_dialog(self, self._pdf, self._title, ask=ask),
        )

    def print_to_default(self) -> None:
        """Print on the default printer at once, without a dialog."""
        if not self.page_count:
            return
        self._begin_printing()
        self._print(
            "default",
            lambda: printing.print_to_default(
                self._pdf, self._title, find_printer=self._find_default_printer
            ),
        )

    def _print(self, how: str, run: Callable[[], PrintResult | None]) -> None:
        self.message.setVisible(False)
        try:
            result = run()
        except PrintError as error:
            self._end_printing()
            self._show_message(str(error))
            self.print_failed.emit(str(error))
            return
        self._end_printing()
        if result is not None:
            self._show_notice(_printed_notice(result))
            self.printed.emit(how, result.pages, result.printer)

    def _begin_printing(self) -> None:
        self._busy = True
        self._show_notice("Printing…")
        self._enable(self._all_buttons(), False)
        # Paint "Printing…" and the greyed buttons before the work blocks the event loop; clicks
        # stay queued.
        QApplication.processEvents(QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)

    def _end_printing(self) -> None:
        self.notice.setVisible(False)
        if not self._busy:
            return
        self._busy = False
        QGuiApplication.restoreOverrideCursor()
        # Clicks made while printing reach the still-disabled buttons here and are dropped,
        # instead of printing the consent a second time.
        QApplication.processEvents()
        self._enable(self._all_buttons(), True)

    def _zoom_to(self, factor: float) -> None:
        self._auto_zoom = False
        self._custom_zoom(min(max(factor, ZOOM_MIN), ZOOM_MAX))

    def _apply_auto_zoom(self) -> None:
        if self._fit_factor() <= AUTO_ZOOM_MAX:
            self._fit_width()
        else:
            self._custom_zoom(AUTO_ZOOM_MAX)

    def _fit_width(self) -> None:
        self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        self.view.setZoomFactor(1.0)

    def _custom_zoom(self, factor: float) -> None:
        self.view.setZoomMode(QPdfView.ZoomMode.Custom)
        self.view.setZoomFactor(factor)

    def _effective_zoom(self) -> float:
        """The zoom factor on screen. In fit-to-width mode QPdfView keeps zoomFactor at 1 and
        scales pages to the viewport itself, so zooming from there starts from that scale."""
        if self.view.zoomMode() == QPdfView.ZoomMode.FitToWidth:
            return self._fit_factor()
        return self.view.zoomFactor()

    def _fit_factor(self) -> float:
        """The zoom factor at which the widest page fills the view's width."""
        if not self.page_count:
            return 1.0
        document = self.view.document()
        widest = max(document.pagePointSize(i).width() for i in range(self.page_count))
        margins = self.view.documentMargins()
        room = self.view.viewport().width() - margins.left() - margins.right()
        return room / (widest * self.view.logicalDpiX() / 72) if widest else 1.0

    def _show_page_number(self) -> None:
        text = f"Page {self.current_page} of {self.page_count}" if self.page_count else ""
        self.page_label.setText(text)

    def _show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setAccessibleName(text)
        self.message.setVisible(True)

    def _show_notice(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.setAccessibleName(text)
        self.notice.setVisible(True)

    @staticmethod
    def _enable(buttons: tuple[QPushButton, ...], enabled: bool) -> None:
        for widget in buttons:
            widget.setEnabled(enabled)

    def _show_document_buttons(self, shown: bool) -> None:
        # Hidden, not greyed, when there is nothing to zoom or print: nothing to wonder about.
        for widget in self._document_buttons():
            widget.setVisible(shown)

    def _document_buttons(self) -> tuple[QPushButton, ...]:
        """What needs a readable document: zoom and print (Close always works)."""
        return (
            self.zoom_out_button,
            self.zoom_in_button,
            self.fit_width_button,
            self.print_dialog_button,
            self.print_default_button,
        )

    def _all_buttons(self) -> tuple[QPushButton, ...]:
        return (*self._document_buttons(), self.close_button)


def _printed_notice(result: PrintResult) -> str:
    pages = f"{result.pages} page" + ("" if result.pages == 1 else "s")
    if result.printer == PDF_FILE:
        return f"Saved {pages} as a PDF file."
    return f"Sent {pages} to {result.printer}."
