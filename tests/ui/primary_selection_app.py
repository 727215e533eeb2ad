"""A kiosk window on a real X server (``QT_QPA_PLATFORM=xcb``) whose field the patient selects
text in, then the idle wipe; ``xclip`` reads PRIMARY as another X client would (a middle click
in any window), before and after.

    python -m tests.ui.primary_selection_app

Prints ``before: <PRIMARY>`` and ``after: <PRIMARY>`` (each as a Python repr); exit 0.
"""

from __future__ import annotations

import subprocess
import sys
import time

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialog, QLineEdit, QVBoxLayout, QWidget

from kiosk.ui.privacy import close_everything_else, wipe_widgets

NAME = "Zoltan Privado Quixote"  # synthetic


def read_primary(app: QApplication) -> str:
    """PRIMARY as another X client sees it; the owner (this process) keeps serving it meanwhile."""
    reader = subprocess.Popen(
        ["xclip", "-o", "-selection", "primary"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while reader.poll() is None and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)
    if reader.poll() is None:
        reader.kill()
    out, _ = reader.communicate()
    return out.decode("utf-8", "replace")


def main() -> int:
    app = QApplication(sys.argv[:1])
    window = QWidget()
    field = QLineEdit(window)
    QVBoxLayout(window).addWidget(field)
    window.show()
    dialog = QDialog()  # a pop-up the patient left open, with the name selected in it
    other = QLineEdit(dialog)
    dialog.show()
    QTest.qWaitForWindowExposed(window)
    for edit in (other, field):
        edit.setText(NAME)
        edit.setFocus()
        QTest.keyClick(edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)  # select all
    app.processEvents()
    print(f"supports selection: {app.clipboard().supportsSelection()}")
    print(f"before: {read_primary(app)!r}")
    wipe_widgets(window)  # what the idle wipe does: the screen, then everything else
    close_everything_else(keep=window)
    app.processEvents()
    print(f"after: {read_primary(app)!r}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
