"""Emptying a screen of everything a patient typed, chose or signed."""

from __future__ import annotations

from PySide6.QtGui import QClipboard, QGuiApplication
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

from kiosk.ui.widgets.signature_pad import SignaturePad


def wipe_widgets(root: QWidget) -> None:
    """Empty every field under ``root`` (with no undo history), every label, every choice, and
    the signature pad, so nothing of the patient survives even before the widgets are deleted."""
    for edit in root.findChildren(QLineEdit):
        edit.setText("")  # setText also clears QLineEdit's undo/redo history
        edit.setAccessibleName("")
    for rich in root.findChildren(QTextEdit):
        rich.clear()
        rich.document().clearUndoRedoStacks()
    for plain in root.findChildren(QPlainTextEdit):
        plain.clear()
        plain.document().clearUndoRedoStacks()
    for pad in root.findChildren(SignaturePad):
        pad.clear()
    for combo in root.findChildren(QComboBox):
        combo.setCurrentIndex(0)
    for button in root.findChildren(QAbstractButton):
        if button.isCheckable():
            button.setChecked(False)
        button.setAccessibleName("")
    for label in root.findChildren(QLabel):
        label.setText("")
        label.setAccessibleName("")
    root.setAccessibleName("")


def close_everything_else(keep: QWidget) -> None:
    """Close dialogs, menus and pop-ups, empty the clipboard and hide the on-screen keyboard."""
    for widget in QApplication.topLevelWidgets():
        if widget is not keep and widget.isVisible():
            wipe_widgets(widget)
            widget.close()
    clear_clipboards()
    QGuiApplication.inputMethod().hide()


def clear_clipboards() -> None:
    """Empty the clipboard and, where there is one (X11), the PRIMARY selection: selecting text
    in a field puts it there, and a middle click would paste it for the next patient."""
    clipboard = QApplication.clipboard()
    clipboard.clear(QClipboard.Mode.Clipboard)
    if clipboard.supportsSelection():
        clipboard.clear(QClipboard.Mode.Selection)
