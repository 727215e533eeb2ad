"""Review and certify: every answer, each page changeable."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QGridLayout

from kiosk.domain.answer_text import answer_text
from kiosk.domain.visit import StepKind, Visit
from kiosk.ui.screens.base import Screen, button, label
from kiosk.ui.texts import Texts


@dataclass(frozen=True)
class ReviewEntry:
    """One answer as shown for review."""

    page_id: str
    question: str
    answer: str
    missing: bool = False
    group: str = ""  # the form's title ("Your medicines"), shown once above its answers


def review_entries(visit: Visit, texts: Texts) -> list[ReviewEntry]:
    """Every question this patient was asked, with their answer in plain words."""
    entries = []
    for step in visit.steps:
        if step.kind is not StepKind.PAGE:
            continue
        page = visit.page(step)
        items = visit.items_on(page)
        for item in items:
            value = visit.answers.get(item.id)
            question = texts.local(item.text)
            if len(items) > 1 and page.title:  # "Their name" needs its page's context
                question = f"{texts.local(page.title)} — {question}"
            entries.append(
                ReviewEntry(
                    page.id,
                    question,
                    answer_text(item, value, texts.answer_words),
                    missing=item.required and value is None,
                    group=texts.local(visit.form(step.form_id).title),
                )
            )
    return entries


class ReviewScreen(Screen):
    """Lists the answers; "Change" reopens that page; the primary button confirms."""

    confirmed = Signal()
    change_requested = Signal(str)
    back_requested = Signal()

    def __init__(
        self, entries: Sequence[ReviewEntry], texts: Texts, *, progress: tuple[int, int]
    ) -> None:
        super().__init__(
            texts, title=texts("review.title"), progress=progress, primary=texts("review.confirm")
        )
        self.setObjectName("reviewScreen")
        self.body.addWidget(label(texts("review.body"), "pageIntro"))
        self.missing = label(texts("review.missing"), "errorText")
        self.missing.setVisible(any(e.missing for e in entries))
        self.body.addWidget(self.missing)
        self.change_buttons: dict[str, list[object]] = {}
        group = ""
        for entry in entries:
            if entry.group and entry.group != group:
                group = entry.group
                self.body.addSpacing(8)
                self.body.addWidget(label(group, "reviewGroup"))
            row = QFrame()
            row.setObjectName("reviewRow")
            grid = QGridLayout(row)
            grid.setContentsMargins(20, 14, 14, 14)
            grid.setHorizontalSpacing(16)
            grid.addWidget(label(entry.question, "reviewQuestion"), 0, 0)
            value = label(entry.answer, "errorText" if entry.missing else "reviewValue")
            grid.addWidget(value, 1, 0)
            change = button(
                texts("review.change"), "change", f"{texts('review.change')}: {entry.question}"
            )
            change.clicked.connect(
                lambda _=False, page_id=entry.page_id: self.change_requested.emit(page_id)
            )
            grid.addWidget(change, 0, 1, 2, 1)
            grid.setColumnStretch(0, 1)
            self.body.addWidget(row)
            self.change_buttons.setdefault(entry.page_id, []).append(change)
        self.finish_body()
        self.primary_button.setEnabled(not any(e.missing for e in entries))
        self.primary_button.clicked.connect(self.confirmed)
        self.back_button.clicked.connect(self.back_requested)
