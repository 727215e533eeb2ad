"""Text size and colours, chosen by the patient from any screen."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QWidget

from kiosk.ui.screens.base import button, label
from kiosk.ui.screens.overlay import Overlay
from kiosk.ui.texts import Texts
from kiosk.ui.theme import TEXT_SIZES, Appearance


class DisplayPanel(Overlay):
    """Three text sizes and a high-contrast switch over the current screen; Done closes it."""

    chosen = Signal(object)  # Appearance
    done = Signal()

    def __init__(self, parent: QWidget, texts: Texts, current: Appearance) -> None:
        super().__init__(parent, "displayPanel")
        self.current = current
        layout = self.card_layout
        title = label(texts("display.title"), "screenTitle")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(title)
        layout.addWidget(label(texts("display.size"), "questionText"))
        sizes = QHBoxLayout()
        sizes.setSpacing(16)
        self.size_buttons: dict[float, QPushButton] = {}
        for size, key in zip(TEXT_SIZES, ("normal", "large", "largest"), strict=True):
            choice = button(texts(f"display.{key}"), "option")
            choice.setCheckable(True)
            choice.setChecked(size == current.text_size)
            choice.clicked.connect(lambda _=False, s=size: self._choose(text_size=s))
            sizes.addWidget(choice)
            self.size_buttons[size] = choice
        layout.addLayout(sizes)
        layout.addWidget(label(texts("display.colors"), "questionText"))
        colours = QHBoxLayout()
        colours.setSpacing(16)
        self.contrast_buttons: dict[bool, QPushButton] = {}
        for high, key in ((False, "standard"), (True, "high_contrast")):
            choice = button(texts(f"display.{key}"), "option")
            choice.setCheckable(True)
            choice.setChecked(high == current.high_contrast)
            choice.clicked.connect(lambda _=False, h=high: self._choose(high_contrast=h))
            colours.addWidget(choice)
            self.contrast_buttons[high] = choice
        layout.addLayout(colours)
        self.done_button = button(texts("display.done"), "primary")
        self.done_button.clicked.connect(self.done)
        layout.addWidget(self.done_button, 0, Qt.AlignmentFlag.AlignHCenter)

    def _choose(self, *, text_size: float | None = None, high_contrast: bool | None = None) -> None:
        self.current = Appearance(
            self.current.text_size if text_size is None else text_size,
            self.current.high_contrast if high_contrast is None else high_contrast,
        )
        for size, choice in self.size_buttons.items():
            choice.setChecked(size == self.current.text_size)
        for high, choice in self.contrast_buttons.items():
            choice.setChecked(high == self.current.high_contrast)
        self.chosen.emit(self.current)
