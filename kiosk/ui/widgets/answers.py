"""Answer widgets, one per item type, made by :func:`create_answer_widget`.

Every widget is tap-only where it can be (no sliders, no drag), has big targets, an object name and
an accessible name, and reports its raw value through ``value()``; the domain validates it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import assert_never

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIntValidator
from PySide6.QtWidgets import (
    QAbstractButton,
    QButtonGroup,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kiosk.domain.answers import stored_date
from kiosk.domain.model import AnswerValue, Item, ItemType
from kiosk.ui.texts import Texts

PATIENT_INPUT_HINTS = (
    Qt.InputMethodHint.ImhSensitiveData
    | Qt.InputMethodHint.ImhNoPredictiveText
    | Qt.InputMethodHint.ImhNoAutoUppercase
)


class AnswerWidget(QWidget):
    """Base of every answer widget."""

    changed = Signal()

    def __init__(self, item: Item, texts: Texts) -> None:
        super().__init__()
        self.item = item
        self.texts = texts
        self.setObjectName(f"answer_{item.id}")
        self.setAccessibleName(texts.local(item.text))

    def value(self) -> object:
        """The raw answer as the patient gave it (None when unanswered)."""
        raise NotImplementedError

    def set_value(self, value: AnswerValue | None) -> None:
        """Show a stored answer (used when the patient comes back to a page)."""
        raise NotImplementedError

    def set_raw(self, raw: object) -> None:
        """Put back exactly what ``value()`` gave, even if not valid yet (language switch)."""
        if isinstance(raw, list):
            raw = tuple(raw)
        if raw is None or isinstance(raw, str | int | bool | tuple):
            self.set_value(raw)  # each widget ignores a value it cannot show

    def set_invalid(self, invalid: bool) -> None:
        """Mark the input as needing attention (a red border)."""
        for child in self.findChildren(QLineEdit) + self.findChildren(QComboBox):
            child.setProperty("invalid", invalid)
            child.style().unpolish(child)
            child.style().polish(child)


def _line_edit(name: str, accessible: str) -> QLineEdit:
    edit = QLineEdit()
    edit.setObjectName(name)
    edit.setAccessibleName(accessible)
    edit.setInputMethodHints(PATIENT_INPUT_HINTS)
    return edit


class TextAnswer(AnswerWidget):
    """A single line of text."""

    def __init__(self, item: Item, texts: Texts) -> None:
        super().__init__(item, texts)
        self.edit = _line_edit(f"text_{item.id}", texts.local(item.text))
        # No cap below Qt's own (32,767): QLineEdit counts UTF-16 units (an emoji is two) before
        # the domain drops controls and collapses spaces, so a cap would cut off answers the
        # domain accepts, or keep only the spaces typed in front of them. Too long is refused
        # with a kind message, and nothing typed is lost.
        self.edit.textChanged.connect(self.changed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit)

    def value(self) -> object:
        return self.edit.text()

    def set_value(self, value: AnswerValue | None) -> None:
        self.edit.setText(value if isinstance(value, str) else "")


class PhoneAnswer(TextAnswer):
    """A phone number; digits keypad where the platform offers one."""

    def __init__(self, item: Item, texts: Texts) -> None:
        super().__init__(item, texts)
        self.edit.setObjectName(f"phone_{item.id}")
        self.edit.setInputMethodHints(
            PATIENT_INPUT_HINTS | Qt.InputMethodHint.ImhDialableCharactersOnly
        )
        self.edit.setPlaceholderText(texts("phone.placeholder"))


class DateAnswer(AnswerWidget):
    """A date as month (named, so 03/04 can never be misread), day and 4-digit year."""

    def __init__(self, item: Item, texts: Texts) -> None:
        super().__init__(item, texts)
        self.month = QComboBox()
        self.month.setObjectName(f"month_{item.id}")
        self.month.setAccessibleName(texts("date.month"))
        self.month.addItem(texts("date.pick_month"), 0)
        for number in range(1, 13):
            self.month.addItem(texts(f"date.months.m{number:02d}"), number)
        self.month.setMinimumWidth(260)
        self.day = _line_edit(f"day_{item.id}", texts("date.day"))
        self.day.setValidator(QIntValidator(1, 31, self.day))
        self.day.setInputMethodHints(PATIENT_INPUT_HINTS | Qt.InputMethodHint.ImhDigitsOnly)
        self.day.setMaxLength(2)
        self.day.setFixedWidth(110)
        self.year = _line_edit(f"year_{item.id}", texts("date.year"))
        self.year.setValidator(QIntValidator(1, 9999, self.year))
        self.year.setInputMethodHints(PATIENT_INPUT_HINTS | Qt.InputMethodHint.ImhDigitsOnly)
        self.year.setMaxLength(4)
        self.year.setFixedWidth(150)
        fields: list[tuple[str, QWidget]] = [
            ("date.month", self.month),
            ("date.day", self.day),
            ("date.year", self.year),
        ]
        if texts.language == "es":  # day before month in Spanish
            fields[0], fields[1] = fields[1], fields[0]
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(16)
        for column, (key, widget) in enumerate(fields):
            label = QLabel(texts(key))
            label.setObjectName("hintText")
            label.setBuddy(widget)
            grid.addWidget(label, 0, column)
            grid.addWidget(widget, 1, column)
        grid.setColumnStretch(3, 1)
        self.month.currentIndexChanged.connect(self.changed)
        self.day.textChanged.connect(self.changed)
        self.year.textChanged.connect(self.changed)

    def value(self) -> object:
        month = int(self.month.currentData() or 0)
        day, year = self.day.text().strip(), self.year.text().strip()
        if not month and not day and not year:
            return None
        return f"{year or '0'}-{month}-{day or '0'}"

    def set_raw(self, raw: object) -> None:
        if not isinstance(raw, str) or raw.count("-") != 2:
            self.set_value(None)
            return
        year, month, day = raw.split("-")
        self.year.setText("" if year == "0" else year)
        self.month.setCurrentIndex(int(month) if month.isdigit() and int(month) <= 12 else 0)
        self.day.setText("" if day == "0" else day)

    def set_value(self, value: AnswerValue | None) -> None:
        day = stored_date(value)
        if day is None:
            self.month.setCurrentIndex(0)
            self.day.clear()
            self.year.clear()
            return
        self.year.setText(f"{day.year:04d}")
        self.month.setCurrentIndex(day.month)
        self.day.setText(str(day.day))


class ChoiceButton(QPushButton):
    """A full-width answer button whose label wraps, so a long (e.g. Spanish) answer is never cut.

    QPushButton cannot wrap its own text, so the words live in a word-wrapped QLabel inside it;
    the button's height follows the label's height for the width it is given.
    """

    PADDING_X, PADDING_Y, MIN_HEIGHT = 24, 14, 64

    def __init__(self, text: str) -> None:
        super().__init__()
        self.label = QLabel(text)
        self.label.setObjectName("choiceLabel")
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(self.PADDING_X, self.PADDING_Y, self.PADDING_X, self.PADDING_Y)
        layout.addWidget(self.label)
        policy = self.sizePolicy()
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.toggled.connect(self._show_checked)

    def text(self) -> str:  # the words are on the label, not on the button
        return self.label.text()

    def _show_checked(self, checked: bool) -> None:
        self.label.setProperty("checked", checked)
        self.label.style().unpolish(self.label)
        self.label.style().polish(self.label)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        text_height = self.label.heightForWidth(width - 2 * self.PADDING_X)
        return max(self.MIN_HEIGHT, text_height + 2 * self.PADDING_Y)

    def sizeHint(self) -> QSize:
        width = self.label.sizeHint().width() + 2 * self.PADDING_X
        return QSize(width, self.heightForWidth(width))

    def minimumSizeHint(self) -> QSize:
        return QSize(self.MIN_HEIGHT, self.MIN_HEIGHT)


class ButtonsAnswer(AnswerWidget):
    """Answers given by tapping buttons; each button carries its stored value."""

    def __init__(self, item: Item, texts: Texts, *, exclusive: bool) -> None:
        super().__init__(item, texts)
        self.group = QButtonGroup(self)
        self.group.setExclusive(exclusive)
        self.group.buttonToggled.connect(lambda *_: self.changed.emit())
        self._values: dict[QAbstractButton, object] = {}

    def _add(self, button: QPushButton, value: object, name: str) -> QPushButton:
        button.setCheckable(True)
        button.setObjectName(name)
        button.setAccessibleName(button.text() or str(value))
        button.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.group.addButton(button)
        self._values[button] = value
        return button

    def button_for(self, value: object) -> QAbstractButton | None:
        """The button that stands for ``value`` (tests and review use this)."""
        return next((b for b, v in self._values.items() if v == value), None)

    def _checked_values(self) -> list[object]:
        return [v for b, v in self._values.items() if b.isChecked()]

    def _check_only(self, values: list[object]) -> None:
        exclusive = self.group.exclusive()
        self.group.setExclusive(False)
        for button, value in self._values.items():
            button.setChecked(value in values)
        self.group.setExclusive(exclusive)


class SingleChoiceAnswer(ButtonsAnswer):
    """One answer from a list, as full-width buttons."""

    def __init__(self, item: Item, texts: Texts) -> None:
        super().__init__(item, texts, exclusive=True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(12)
        for choice in item.choices:
            button = ChoiceButton(texts.local(choice.label))
            layout.addWidget(self._add(button, choice.value, "choice"))

    def value(self) -> object:
        checked = self._checked_values()
        return checked[0] if checked else None

    def set_value(self, value: AnswerValue | None) -> None:
        self._check_only([value] if value is not None else [])


class MultiChoiceAnswer(ButtonsAnswer):
    """Any number of answers from a list; an exclusive one ("None of these") stands alone."""

    def __init__(self, item: Item, texts: Texts) -> None:
        super().__init__(item, texts, exclusive=False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(12)
        hint = QLabel(texts("answers.choose_all"))
        hint.setObjectName("hintText")
        hint.setWordWrap(True)
        layout.addWidget(hint)
        self._exclusive = {str(c.value) for c in item.choices if c.exclusive}
        for choice in item.choices:
            button = ChoiceButton(texts.local(choice.label))
            layout.addWidget(self._add(button, choice.value, "choice"))
        self.group.buttonToggled.connect(self._keep_exclusive_alone)

    def _keep_exclusive_alone(self, button: QAbstractButton, checked: bool) -> None:
        if not checked or not self._exclusive:
            return
        if str(self._values[button]) in self._exclusive:
            keep = [self._values[button]]
        else:
            keep = [v for v in self._checked_values() if str(v) not in self._exclusive]
        if len(keep) != len(self._checked_values()):
            self._check_only(keep)

    def value(self) -> object:
        return [str(v) for v in self._checked_values()]

    def set_value(self, value: AnswerValue | None) -> None:
        self._check_only(list(value) if isinstance(value, tuple) else [])


class YesNoAnswer(ButtonsAnswer):
    """Two big buttons."""

    def __init__(self, item: Item, texts: Texts) -> None:
        super().__init__(item, texts, exclusive=True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(24)
        layout.addWidget(self._add(QPushButton(texts("answers.yes")), True, "yesNo"))
        layout.addWidget(self._add(QPushButton(texts("answers.no")), False, "yesNo"))
        layout.addStretch(1)

    def value(self) -> object:
        checked = self._checked_values()
        return checked[0] if checked else None

    def set_value(self, value: AnswerValue | None) -> None:
        self._check_only([value] if isinstance(value, bool) else [])


class ScaleAnswer(ButtonsAnswer):
    """A 0–10 scale as eleven tap buttons, with the end labels under the ends."""

    def __init__(self, item: Item, texts: Texts) -> None:
        super().__init__(item, texts, exclusive=True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.setSpacing(6)  # eleven buttons fit an upright 800 px tablet
        for point in range(item.minimum, item.maximum + 1):
            button = self._add(QPushButton(str(point)), point, "scalePoint")
            button.setAccessibleName(f"{texts.local(item.text)}: {point}")
            row.addWidget(button)
        layout.addLayout(row)
        anchors = QHBoxLayout()
        low = QLabel(texts.local(item.min_label))
        high = QLabel(texts.local(item.max_label))
        high.setAlignment(Qt.AlignmentFlag.AlignRight)
        for label in (low, high):
            label.setObjectName("hintText")
            label.setWordWrap(True)
        anchors.addWidget(low, 1)
        anchors.addWidget(high, 1)
        layout.addLayout(anchors)

    def value(self) -> object:
        checked = self._checked_values()
        return checked[0] if checked else None

    def set_value(self, value: AnswerValue | None) -> None:
        self._check_only([value] if isinstance(value, int) else [])


class AgreeAnswer(AnswerWidget):
    """One large tick box that carries the statement itself, so tapping the words ticks it."""

    def __init__(self, item: Item, texts: Texts) -> None:
        super().__init__(item, texts)
        self.button = ChoiceButton(texts.local(item.text))
        self.button.setObjectName("agree")
        self.button.setCheckable(True)
        self.button.setAccessibleName(texts.local(item.text))
        self.button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.box = QLabel("")
        self.box.setObjectName("tickBox")
        self.box.setFixedSize(44, 44)
        self.box.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.box.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        inner = self.button.layout()
        assert isinstance(inner, QHBoxLayout)
        inner.insertWidget(0, self.box, 0, Qt.AlignmentFlag.AlignTop)
        inner.setSpacing(18)
        self.button.toggled.connect(self._show_tick)
        self.button.toggled.connect(lambda _checked: self.changed.emit())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.button)

    def _show_tick(self, checked: bool) -> None:
        self.box.setText("✓" if checked else "")
        self.box.setProperty("checked", checked)
        self.box.style().unpolish(self.box)
        self.box.style().polish(self.box)

    def value(self) -> object:
        return self.button.isChecked()

    def set_value(self, value: AnswerValue | None) -> None:
        self.button.setChecked(value is True)


class ListAnswer(AnswerWidget):
    """Rows the patient adds one at a time (a medicine, an allergy), each with a Remove button."""

    def __init__(self, item: Item, texts: Texts) -> None:
        super().__init__(item, texts)
        self.rows: list[tuple[QWidget, dict[str, QLineEdit]]] = []
        # Rows ever made: names each row's fields, never reused (a removed row's number is not
        # len(rows) + 1 later, or the next row would share a name with one still shown).
        self._rows_made = 0
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(16)
        self.rows_layout = QVBoxLayout()
        self.rows_layout.setSpacing(16)
        layout.addLayout(self.rows_layout)
        self.add_button = QPushButton("+  " + texts.local(item.add_label))
        self.add_button.setObjectName("addRow")
        self.add_button.setAccessibleName(texts.local(item.add_label))
        self.add_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.add_button.clicked.connect(self._add_and_focus)
        layout.addWidget(self.add_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.add_row()

    def add_row(self, values: dict[str, str] | None = None) -> dict[str, QLineEdit]:
        """Add one row of fields (filled from ``values``) and return its fields."""
        self._rows_made += 1
        serial = self._rows_made
        frame = QFrame()
        frame.setObjectName("listRow")
        grid = QGridLayout(frame)
        grid.setContentsMargins(16, 12, 16, 16)
        grid.setHorizontalSpacing(16)
        grid.setVerticalSpacing(6)
        edits: dict[str, QLineEdit] = {}
        for column_index, column in enumerate(self.item.columns):
            caption = self._caption(column.id)
            title = QLabel(caption)
            title.setObjectName("hintText")
            title.setWordWrap(True)
            edit = _line_edit(f"row{serial}_{column.id}_{self.item.id}", caption)
            edit.setText((values or {}).get(column.id, ""))  # no length cap: see TextAnswer
            edit.textChanged.connect(self.changed)
            title.setBuddy(edit)
            grid.addWidget(title, 0, column_index)
            grid.addWidget(edit, 1, column_index)
            grid.setColumnStretch(column_index, 3 if column_index == 0 else 2)
            edits[column.id] = edit
        remove = QPushButton(self.texts("answers.remove_row"))
        remove.setObjectName("removeRow")
        remove.setCursor(Qt.CursorShape.PointingHandCursor)
        remove.clicked.connect(lambda: self._remove(frame))
        grid.addWidget(remove, 1, len(self.item.columns))
        self.rows_layout.addWidget(frame)
        self.rows.append((frame, edits))
        self._number_rows()
        self.add_button.setEnabled(len(self.rows) < self.item.max_rows)
        return edits

    def _caption(self, column_id: str) -> str:
        column = next(c for c in self.item.columns if c.id == column_id)
        caption = self.texts.local(column.text)
        if not column.required:
            caption += " " + self.texts("answers.optional_short")
        return caption

    def _number_rows(self) -> None:
        """Accessible names say which row a field is in, as the rows stand now: "Medicine name
        (2)" is the second row shown, also after a row above it was removed."""
        remove_word = self.texts("answers.remove_row")
        for position, (frame, edits) in enumerate(self.rows, start=1):
            for column_id, edit in edits.items():
                edit.setAccessibleName(f"{self._caption(column_id)} ({position})")
            for remove in frame.findChildren(QPushButton, "removeRow"):
                remove.setAccessibleName(f"{remove_word} ({position})")

    def _add_and_focus(self) -> None:
        edits = self.add_row()
        next(iter(edits.values())).setFocus()
        self.changed.emit()

    def _remove(self, frame: QWidget) -> None:
        self.rows = [(f, e) for f, e in self.rows if f is not frame]
        frame.hide()
        frame.deleteLater()
        if not self.rows:
            self.add_row()
        self._number_rows()
        self.add_button.setEnabled(len(self.rows) < self.item.max_rows)
        self.changed.emit()

    def value(self) -> object:
        return [{cid: edit.text() for cid, edit in edits.items()} for _f, edits in self.rows]

    def set_value(self, value: AnswerValue | None) -> None:
        for frame, _edits in self.rows:
            frame.hide()
            frame.deleteLater()
        self.rows = []
        stored = (
            [dict(row) for row in value if isinstance(row, Mapping)]
            if isinstance(value, tuple)
            else []
        )
        for row in stored or [{}]:
            self.add_row(row)


def create_answer_widget(item: Item, texts: Texts) -> AnswerWidget:
    """Make the widget for ``item``'s type (mypy checks that every type has one)."""
    match item.type:
        case ItemType.TEXT:
            return TextAnswer(item, texts)
        case ItemType.PHONE:
            return PhoneAnswer(item, texts)
        case ItemType.DATE:
            return DateAnswer(item, texts)
        case ItemType.SINGLE_CHOICE:
            return SingleChoiceAnswer(item, texts)
        case ItemType.MULTI_CHOICE:
            return MultiChoiceAnswer(item, texts)
        case ItemType.YES_NO:
            return YesNoAnswer(item, texts)
        case ItemType.SCALE:
            return ScaleAnswer(item, texts)
        case ItemType.AGREE:
            return AgreeAnswer(item, texts)
        case ItemType.LIST:
            return ListAnswer(item, texts)
        case _ as unreachable:
            assert_never(unreachable)
