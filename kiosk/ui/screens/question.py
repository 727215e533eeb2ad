"""A page of questions built from form data by the widget factory."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel

from kiosk.domain.answers import AnswerProblem
from kiosk.domain.model import AnswerValue, Item, ItemType, Page
from kiosk.ui.screens.base import Screen, label
from kiosk.ui.texts import Texts
from kiosk.ui.widgets.answers import AnswerWidget, create_answer_widget


class QuestionScreen(Screen):
    """Shows one page; emits the raw answers when the patient taps Next."""

    # object, not dict: a dict goes through a QVariantMap and back, and PySide6 reads a text
    # starting with U+FEFF/U+FFFE as a byte-order mark (dropped, or the rest byte-swapped).
    submitted = Signal(object)  # dict[str, object]: item id -> raw answer
    back_requested = Signal()

    def __init__(
        self,
        page: Page,
        items: Sequence[Item],
        answers: Mapping[str, AnswerValue],
        texts: Texts,
        *,
        progress: tuple[int, int],
        can_go_back: bool,
        heading: str = "",
        editing_from_review: bool = False,
        title: str | None = None,
        primary: str | None = None,
    ) -> None:
        if primary is None:
            primary = texts("nav.back_to_review") if editing_from_review else texts("nav.next")
        super().__init__(
            texts,
            title=texts.local(page.title) if title is None else title,
            heading=heading,
            progress=progress,
            back=can_go_back,
            primary=primary,
        )
        self.setObjectName(f"page_{page.id}")
        self.page = page
        if page.intro:
            self.body.addWidget(label(texts.local(page.intro), "pageIntro"))
        self.widgets: dict[str, AnswerWidget] = {}
        self.errors: dict[str, QLabel] = {}
        for item in items:
            self.body.addSpacing(8)
            question = texts.local(item.text)
            titled = question == texts.local(page.title)  # a one-question page titled by it
            if not titled and item.type is not ItemType.AGREE:  # a tick box carries its words
                self.body.addWidget(label(question, "questionText"))
            if item.help:
                self.body.addWidget(label(texts.local(item.help), "helpText"))
            if not item.required:
                self.body.addWidget(label(texts("answers.optional"), "hintText"))
            error = label("", "errorText")
            error.setVisible(False)
            self.body.addWidget(error)
            widget = create_answer_widget(item, texts)
            widget.set_value(answers.get(item.id))
            widget.changed.connect(lambda item_id=item.id: self._clear_problem(item_id))
            self.body.addWidget(widget)
            self.widgets[item.id] = widget
            self.errors[item.id] = error
        self.finish_body()
        self.primary_button.clicked.connect(self._submit)
        self.back_button.clicked.connect(self.back_requested)

    def values(self) -> dict[str, object]:
        """The raw answers on screen now."""
        return {item_id: widget.value() for item_id, widget in self.widgets.items()}

    def _submit(self) -> None:
        self.message.setVisible(False)
        self.submitted.emit(self.values())

    def show_problems(self, problems: Mapping[str, AnswerProblem]) -> None:
        """Show a kind message above each answer that needs attention; nothing is lost."""
        first: AnswerWidget | None = None
        for item_id, widget in self.widgets.items():
            problem = problems.get(item_id)
            error = self.errors[item_id]
            error.setText(self.texts.problem(problem) if problem else "")
            error.setAccessibleName(error.text())
            error.setVisible(problem is not None)
            widget.set_invalid(problem is not None)
            if problem is not None and first is None:
                first = widget
        if first is not None:
            self.scroll_area.ensureWidgetVisible(first)

    def _clear_problem(self, item_id: str) -> None:
        error = self.errors[item_id]
        if error.isVisible():
            error.setVisible(False)
            self.widgets[item_id].set_invalid(False)
