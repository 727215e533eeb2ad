"""A frame that covers its parent window entirely and follows its size."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QFrame, QHBoxLayout, QVBoxLayout, QWidget


class Overlay(QFrame):
    """Covers ``parent``; content goes in ``card``, centred, with stretches (not an alignment:
    aligned widgets lose height-for-width, and wrapped text would be cut)."""

    def __init__(self, parent: QWidget, name: str) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setAutoFillBackground(True)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        self.card = QFrame()
        self.card.setObjectName("overlayCard")
        self.card.setMinimumWidth(760)
        self.card.setMaximumWidth(1100)
        self.card_layout = QVBoxLayout(self.card)
        self.card_layout.setContentsMargins(40, 32, 40, 32)
        self.card_layout.setSpacing(20)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.card, 10)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(1)
        self.setGeometry(parent.rect())
        parent.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        parent = self.parentWidget()
        if parent is not None and watched is parent and event.type() == QEvent.Type.Resize:
            self.setGeometry(parent.rect())
        return False
