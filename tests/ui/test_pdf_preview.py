"""The staff console's PDF preview: pages on screen, zoom, a kind message for a damaged file, and
printing from its buttons (to a real QPrinter writing a PDF file)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader
from PySide6.QtCore import QPoint
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QAbstractButton, QWidget
from pytestqt.qtbot import QtBot

from kiosk.ui.staff.preview import AUTO_ZOOM_MAX, PdfPreview
from kiosk.ui.staff.printing import NO_PRINTER_MESSAGE
from tests.ui.conftest import Show, settle, tap
from tests.ui.test_printing import file_printer, three_page_pdf


def _preview(show: Show, **injected: object) -> PdfPreview:
    preview = PdfPreview(**injected)  # type: ignore[arg-type]
    show(preview)
    return preview


def test_every_page_is_shown_in_one_scroll_from_page_one(show: Show, qtbot: QtBot) -> None:
    preview = _preview(show)

    assert preview.load(three_page_pdf(), "CONSENT-0042")
    settle(qtbot)

    assert preview.page_count == 3
    assert preview.view.document().pageCount() == 3
    assert preview.view.pageMode() == QPdfView.PageMode.MultiPage
    assert preview.page_label.text() == "Page 1 of 3"
    assert preview.title_label.text() == "CONSENT-0042"
    assert not preview.message.isVisible()

    bar = preview.view.verticalScrollBar()
    bar.setValue(bar.maximum())
    settle(qtbot)
    assert preview.page_label.text() == "Page 3 of 3"


def test_zoom_starts_from_the_fitted_size_and_fit_width_returns(show: Show, qtbot: QtBot) -> None:
    preview = _preview(show)
    preview.load(three_page_pdf(), "CONSENT-0042")
    tap(qtbot, preview.fit_width_button)
    settle(qtbot)
    assert preview.view.zoomMode() == QPdfView.ZoomMode.FitToWidth
    sideways = preview.view.horizontalScrollBar()
    assert sideways.maximum() == 0  # fitted: the page is exactly as wide as the view
    fitted_width = preview.view.viewport().width() - 12  # the view's 6 px margins each side

    tap(qtbot, preview.zoom_in_button)
    settle(qtbot)
    assert preview.view.zoomMode() == QPdfView.ZoomMode.Custom
    # One step bigger than what was on screen, not than QPdfView's unfitted size: the page now
    # sticks out by a quarter of its fitted width.
    assert sideways.maximum() == pytest.approx(0.25 * fitted_width, abs=8)

    tap(qtbot, preview.zoom_out_button)
    tap(qtbot, preview.zoom_out_button)
    settle(qtbot)
    assert sideways.maximum() == 0

    tap(qtbot, preview.fit_width_button)
    settle(qtbot)
    assert preview.view.zoomMode() == QPdfView.ZoomMode.FitToWidth
    assert sideways.maximum() == 0


def test_a_wide_window_shows_the_page_at_a_reading_size_and_a_narrow_one_fits_it(
    show: Show, qtbot: QtBot
) -> None:
    preview = _preview(show)  # 1280 wide: fitting would make a Letter page ~1.5x its size
    preview.load(three_page_pdf(), "CONSENT-0042")
    settle(qtbot)
    assert preview.view.zoomMode() == QPdfView.ZoomMode.Custom
    assert preview.view.zoomFactor() == AUTO_ZOOM_MAX
    assert preview.view.horizontalScrollBar().maximum() == 0

    preview.window().setFixedSize(800, 700)  # narrower than a page at that size: fit it
    settle(qtbot)
    assert preview.view.zoomMode() == QPdfView.ZoomMode.FitToWidth

    preview.window().setFixedSize(1280, 800)  # and back, while nobody has zoomed by hand
    settle(qtbot)
    assert preview.view.zoomFactor() == AUTO_ZOOM_MAX
    assert preview.view.zoomMode() == QPdfView.ZoomMode.Custom

    tap(qtbot, preview.zoom_out_button)  # by hand: resizing no longer changes the zoom
    preview.window().setFixedSize(800, 700)
    settle(qtbot)
    assert preview.view.zoomFactor() == pytest.approx(AUTO_ZOOM_MAX / 1.25)
    assert preview.view.zoomMode() == QPdfView.ZoomMode.Custom


@pytest.mark.parametrize("damaged", [b"", b"not a PDF at all", three_page_pdf()[:400]])
def test_a_damaged_file_shows_a_kind_message_instead_of_pages(
    show: Show, qtbot: QtBot, damaged: bytes
) -> None:
    preview = _preview(show)

    assert not preview.load(damaged, "CONSENT-0042")
    settle(qtbot)

    assert preview.message.isVisible()
    assert preview.message.text() == (
        "This document can't be opened: the file looks damaged or incomplete. Nothing has "
        "been changed. Please ask IT to check the stored copy."
    )
    assert preview.message.accessibleName() == preview.message.text()
    assert not preview.view.isVisible()
    assert preview.page_count == 0
    assert preview.page_label.text() == ""
    for nothing_to_do in (
        preview.print_default_button,
        preview.print_dialog_button,
        preview.zoom_in_button,
        preview.zoom_out_button,
        preview.fit_width_button,
    ):
        assert not nothing_to_do.isVisible(), nothing_to_do.objectName()
    assert preview.close_button.isVisible()  # staff can always leave
    assert preview.close_button.isEnabled()
    # The bars stay at the top and bottom with nothing between them.
    assert preview.close_button.mapTo(preview, QPoint(0, 0)).y() > preview.height() - 100


def test_a_good_file_after_a_damaged_one_is_shown(show: Show, qtbot: QtBot) -> None:
    preview = _preview(show)
    preview.load(b"garbage", "CONSENT-0041")

    assert preview.load(three_page_pdf(), "CONSENT-0042")
    settle(qtbot)

    assert not preview.message.isVisible()
    assert preview.view.isVisible()
    assert preview.print_default_button.isVisible()
    assert preview.page_label.text() == "Page 1 of 3"


def test_every_interactive_widget_has_an_object_and_accessible_name(show: Show) -> None:
    preview = _preview(show)
    preview.load(three_page_pdf(), "CONSENT-0042")
    interactive: list[QWidget] = [*preview.findChildren(QAbstractButton), preview.view]
    assert len(interactive) >= 7
    for widget in interactive:
        assert widget.objectName(), widget
        assert widget.accessibleName(), widget.objectName()
    names = [w.objectName() for w in preview.findChildren(QAbstractButton)]
    assert len(names) == len(set(names))


def test_close_emits_closed(show: Show, qtbot: QtBot) -> None:
    preview = _preview(show)
    with qtbot.waitSignal(preview.closed, timeout=2000):
        tap(qtbot, preview.close_button)


def test_print_to_default_printer_prints_every_page_and_says_so(
    show: Show, qtbot: QtBot, tmp_path: Path
) -> None:
    out = tmp_path / "out.pdf"
    preview = _preview(show, find_default_printer=lambda: file_printer(out))
    preview.load(three_page_pdf(), "CONSENT-0042")

    with qtbot.waitSignal(preview.printed, timeout=30000) as printed:
        tap(qtbot, preview.print_default_button)

    assert printed.args == ["default", 3, "PDF file"]
    assert len(PdfReader(out).pages) == 3
    assert preview.notice.isVisible()
    assert preview.notice.text() == "Saved 3 pages as a PDF file."
    assert preview.print_default_button.isEnabled()  # ready for another copy


def test_print_dialog_prints_the_pages_chosen(show: Show, qtbot: QtBot, tmp_path: Path) -> None:
    out = tmp_path / "out.pdf"
    asked: list[int] = []

    def choose_page_two(parent: QWidget | None, pages: int) -> QPrinter:
        asked.append(pages)
        printer = file_printer(out)
        printer.setFromTo(2, 2)
        printer.setPrintRange(QPrinter.PrintRange.PageRange)
        return printer

    preview = _preview(show, ask_printer=choose_page_two)
    preview.load(three_page_pdf(), "CONSENT-0042")

    with qtbot.waitSignal(preview.printed, timeout=30000) as printed:
        tap(qtbot, preview.print_dialog_button)

    assert asked == [3]
    assert printed.args == ["dialog", 1, "PDF file"]
    assert len(PdfReader(out).pages) == 1
    assert preview.notice.text() == "Saved 1 page as a PDF file."


def test_a_cancelled_dialog_prints_nothing_and_says_nothing(show: Show, qtbot: QtBot) -> None:
    preview = _preview(show, ask_printer=lambda parent, pages: None)
    preview.load(three_page_pdf(), "CONSENT-0042")

    with (
        qtbot.assertNotEmitted(preview.printed),
        qtbot.assertNotEmitted(preview.print_failed),
    ):
        tap(qtbot, preview.print_dialog_button)

    assert not preview.notice.isVisible()
    assert not preview.message.isVisible()
    assert preview.print_dialog_button.isEnabled()


def test_no_printer_set_up_says_what_to_do(show: Show, qtbot: QtBot) -> None:
    preview = _preview(show, find_default_printer=lambda: None)
    preview.load(three_page_pdf(), "CONSENT-0042")

    with qtbot.waitSignal(preview.print_failed, timeout=2000) as failed:
        tap(qtbot, preview.print_default_button)

    assert failed.args == [NO_PRINTER_MESSAGE]
    assert preview.message.isVisible()
    assert preview.message.text() == NO_PRINTER_MESSAGE
    assert not preview.notice.isVisible()
    assert preview.print_default_button.isEnabled()
