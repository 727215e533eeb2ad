"""The frame every patient screen shares: progress on top, content that scrolls, actions below."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QScroller,
    QVBoxLayout,
    QWidget,
)

from kiosk.ui.texts import Texts

CONTENT_MAX_WIDTH = 1100


def label(text: str, name: str = "", *, wrap: bool = True) -> QLabel:
    """A label with an object name (for the stylesheet) that never cuts text off."""
    widget = QLabel(text)
    widget.setObjectName(name)
    widget.setWordWrap(wrap)
    widget.setTextFormat(Qt.TextFormat.PlainText)
    widget.setAccessibleName(text)
    return widget


def button(text: str, name: str, accessible: str | None = None) -> QPushButton:
    widget = QPushButton(text)
    widget.setObjectName(name)
    widget.setAccessibleName(accessible or text)
    widget.setCursor(Qt.CursorShape.PointingHandCursor)
    return widget


def pin_field(name: str, accessible: str) -> QLineEdit:
    """A staff PIN: masked, digits only, never predicted or remembered by an input method."""
    field = QLineEdit()
    field.setObjectName(name)
    field.setAccessibleName(accessible)
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setMaxLength(12)
    field.setInputMethodHints(
        Qt.InputMethodHint.ImhDigitsOnly
        | Qt.InputMethodHint.ImhSensitiveData
        | Qt.InputMethodHint.ImhNoPredictiveText
    )
    return field


class Screen(QWidget):
    """Progress and title on top, a scrolling body in the middle, Back/primary at the bottom."""

    def __init__(
        self,
        texts: Texts,
        *,
        title: str = "",
        heading: str = "",
        progress: tuple[int, int] | None = None,
        back: bool = True,
        primary: str = "",
    ) -> None:
        super().__init__()
        self.texts = texts
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)

        top = QFrame()
        top.setObjectName("topBar")
        top_layout = QHBoxLayout(top)
        top_layout.setContentsMargins(40, 10, 40, 10)
        self.heading_label = label(heading, "progress")
        top_layout.addWidget(self.heading_label, 1)
        self.progress_label = label(
            texts("nav.step", x=progress[0], y=progress[1]) if progress else "", "progress"
        )
        self.progress_label.setWordWrap(False)
        top_layout.addWidget(self.progress_label)
        # The other language, named in itself: "Español" on an English screen, "English" on a
        # Spanish one. Answers are kept when it is tapped (the flow rebuilds the screen).
        self.language_button = button(
            texts("nav.other_language"), "languageSwitch", texts("nav.other_language_name")
        )
        self.display_button = button(
            texts("display.button"), "displaySwitch", texts("display.button_name")
        )
        top_layout.addSpacing(24)
        top_layout.addWidget(self.display_button)
        top_layout.addSpacing(12)
        top_layout.addWidget(self.language_button)
        outer.addWidget(top)

        self.scroll_area = QScrollArea()
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # Finger-drag scrolling on touch screens. (The mouse-button variant swallows quick taps.)
        QScroller.grabGesture(
            self.scroll_area.viewport(), QScroller.ScrollerGestureType.TouchGesture
        )
        holder = QWidget()
        holder_layout = QHBoxLayout(holder)
        holder_layout.setContentsMargins(40, 28, 40, 28)
        self.content = QWidget()
        self.content.setMaximumWidth(CONTENT_MAX_WIDTH)
        self.body = QVBoxLayout(self.content)
        self.body.setContentsMargins(0, 0, 0, 0)
        self.body.setSpacing(20)
        holder_layout.addStretch(1)
        holder_layout.addWidget(self.content, 100)
        holder_layout.addStretch(1)
        self.scroll_area.setWidget(holder)
        outer.addWidget(self.scroll_area, 1)
        if title:
            self.title_label = label(title, "screenTitle")
            self.body.addWidget(self.title_label)
        self.notice = label("", "noticeText")
        self.notice.setVisible(False)
        self.body.addWidget(self.notice)
        self.message = label("", "errorText")
        self.message.setVisible(False)
        self.body.addWidget(self.message)

        bottom = QFrame()
        bottom.setObjectName("bottomBar")
        actions = QHBoxLayout(bottom)
        actions.setContentsMargins(40, 16, 40, 20)
        self.back_button = button(texts("nav.back"), "secondary")
        self.back_button.setVisible(back)
        actions.addWidget(self.back_button)
        actions.addStretch(1)
        self.action_bar = actions
        self.primary_button = button(primary or texts("nav.next"), "primary")
        self.primary_button.setDefault(True)
        actions.addWidget(self.primary_button)
        outer.addWidget(bottom)

    def show_message(self, text: str) -> None:
        """A screen-level message (e.g. saving failed), near the top where it is seen."""
        self.message.setText(text)
        self.message.setAccessibleName(text)
        self.message.setVisible(True)
        self.scroll_area.ensureWidgetVisible(self.message)

    def show_notice(self, text: str) -> None:
        """A calm note for the patient (not a problem), near the top where it is seen."""
        self.notice.setText(text)
        self.notice.setAccessibleName(text)
        self.notice.setVisible(True)

    def add_action(self, action: QPushButton) -> None:
        """Another button in the bottom bar, just left of the primary one."""
        self.action_bar.insertWidget(self.action_bar.count() - 1, action)
        self.action_bar.insertSpacing(self.action_bar.count() - 1, 24)

    def finish_body(self) -> None:
        """Push the content to the top."""
        self.body.addStretch(1)
