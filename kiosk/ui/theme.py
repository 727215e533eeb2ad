"""The kiosk's look: the bundled fonts, and the stylesheet at a text size, in the default or the
high-contrast theme. The patient kiosk, the staff console, the demo and the screenshots all dress
the application here (the staff console used to reach into the patient kiosk's module for it)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication

from kiosk import paths

TEXT_SIZES = (1.0, 1.5, 2.0)
"""100%, 150% and 200%: every font size in the stylesheet is multiplied by one of these."""

_FONT_SIZE = re.compile(r"font-size:\s*(\d+)px")


@dataclass(frozen=True)
class Appearance:
    """What a patient chose for themselves; the next patient starts from the default."""

    text_size: float = 1.0
    high_contrast: bool = False


DEFAULT_APPEARANCE = Appearance()


def stylesheet(appearance: Appearance = DEFAULT_APPEARANCE) -> str:
    """The kiosk stylesheet for ``appearance``, with its image paths made absolute."""
    text = (paths.STYLES_DIR / "kiosk.qss").read_text(encoding="utf-8")
    if appearance.high_contrast:
        text += "\n" + (paths.STYLES_DIR / "high-contrast.qss").read_text(encoding="utf-8")
    if appearance.text_size != 1.0:
        text = _FONT_SIZE.sub(
            lambda m: f"font-size: {round(int(m[1]) * appearance.text_size)}px", text
        )
    return text.replace("@STYLES@", paths.STYLES_DIR.as_posix())


def register_fonts(app: QApplication) -> None:
    """The bundled DejaVu fonts (accents and non-Latin scripts on every computer)."""
    for font_file in sorted(paths.FONTS_DIR.glob("*.ttf")):
        QFontDatabase.addApplicationFont(str(font_file))
    app.setFont(QFont("DejaVu Sans", 16))


def apply_theme(app: QApplication, appearance: Appearance = DEFAULT_APPEARANCE) -> None:
    """Bundled font and the kiosk stylesheet at the patient's text size and contrast."""
    register_fonts(app)
    app.setStyleSheet(stylesheet(appearance))
