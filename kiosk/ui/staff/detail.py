"""One visit in detail: flags to acknowledge, scores with bands, the consent and its evidence,
the answers grouped by form, the stored documents to preview and print."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from kiosk.domain.answer_text import answer_text
from kiosk.domain.console import STATUS_LABELS, RaisedFlag, VisitDetail
from kiosk.domain.findings import comprehension_rows, reading_rows
from kiosk.domain.model import Packet
from kiosk.domain.records import DECISION_LABELS, FlagDecision, VisitStatus
from kiosk.ui.screens.base import label
from kiosk.ui.staff.login import push_button
from kiosk.ui.staff.style import SEVERITY_COLOURS, STATUS_COLOURS
from kiosk.ui.texts import Texts

DOCUMENT_TITLES = {"consent_pdf": "Signed consent", "clinician_summary": "Clinician summary"}
_LANGUAGES = {"en": "English", "es": "Spanish"}
_METHODS = {"drawn": "drawn signature", "typed_witnessed": "typed name, witnessed by staff"}


def _card(title: str) -> tuple[QFrame, QVBoxLayout]:
    card = QFrame()
    card.setProperty("card", True)  # styled by property: each card keeps its own object name
    layout = QVBoxLayout(card)
    layout.setContentsMargins(18, 14, 18, 16)
    layout.setSpacing(8)
    layout.addWidget(label(title, "sectionTitle"))
    return card, layout


def _grid(rows: Sequence[tuple[str, ...]], header: tuple[str, ...] = ()) -> QGridLayout:
    grid = QGridLayout()
    grid.setHorizontalSpacing(18)
    grid.setVerticalSpacing(6)
    start = 0
    if header:
        for column, text in enumerate(header):
            grid.addWidget(label(text, "muted"), 0, column)
        start = 1
    for row, cells in enumerate(rows, start):
        for column, text in enumerate(cells):
            cell = label(text)
            cell.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            grid.addWidget(cell, row, column)
    grid.setColumnStretch(0, 3)
    for column in range(1, max((len(r) for r in rows), default=1)):
        grid.setColumnStretch(column, 2)
    return grid


def _open_form(form: QFrame, ack: QPushButton) -> None:
    """Acknowledge opens the decision form under the flag (and is spent)."""
    form.setVisible(True)
    ack.setEnabled(False)


class VisitDetailView(QWidget):
    """Signals out; the console acknowledges, previews and prints."""

    back_requested = Signal()
    # flag rule id, FlagDecision, note (typed object: a note is typed text, see DESIGN §8)
    acknowledge_requested = Signal(str, object, object)
    preview_requested = Signal(str)  # document kind

    def __init__(
        self,
        detail: VisitDetail,
        packet: Packet,
        texts: Texts,
        tz: dt.tzinfo,
        *,
        may_acknowledge: bool,
    ) -> None:
        super().__init__()
        self.setObjectName("visitDetail")
        self.detail = detail
        self.tz = tz
        self.ack_buttons: dict[str, QPushButton] = {}
        self.decision_forms: dict[str, tuple[QComboBox, QLineEdit, QPushButton]] = {}
        self.preview_buttons: dict[str, QPushButton] = {}
        entry = detail.entry
        outer = QVBoxLayout(self)
        outer.setContentsMargins(20, 14, 20, 14)
        outer.setSpacing(10)

        top = QHBoxLayout()
        self.back_button = push_button("← Back to the queue", "backToQueue")
        self.back_button.clicked.connect(self.back_requested)
        top.addWidget(self.back_button)
        top.addStretch(1)
        for kind in ("consent_pdf", "clinician_summary"):
            if any(d.kind == kind for d in detail.documents):
                preview = push_button(
                    f"Preview and print: {DOCUMENT_TITLES[kind].lower()}",
                    f"preview_{kind}",
                    primary=kind == "consent_pdf",
                )
                preview.clicked.connect(lambda _=False, k=kind: self.preview_requested.emit(k))
                self.preview_buttons[kind] = preview
                top.addWidget(preview)
        outer.addLayout(top)

        title = label(
            f"{entry.patient_name or '(name not given yet)'} · born {entry.birth_date or '—'}",
            "panelTitle",
        )
        title.setObjectName("detailTitle")
        outer.addWidget(title)
        status = label(
            f"{STATUS_LABELS[entry.status]} · {entry.document_number} · started "
            f"{self._time(entry.started_at)} on {entry.kiosk_id} · "
            f"{_LANGUAGES.get(entry.language, entry.language)}",
        )
        status.setObjectName("detailStatus")
        status.setStyleSheet(f"color: {STATUS_COLOURS[entry.status]}; font-weight: bold;")
        outer.addWidget(status)
        if detail.consent_note:
            note = label(f"Consent history: {detail.consent_note}", "hint")
            note.setObjectName("consentNote")
            outer.addWidget(note)

        body = QWidget()
        body.setObjectName("detailBody")
        column = QVBoxLayout(body)
        column.setContentsMargins(0, 0, 8, 0)
        column.setSpacing(12)
        column.addWidget(self._flags_card(entry.flags, may_acknowledge))
        column.addWidget(self._scores_card())
        column.addWidget(self._consent_card(packet, texts))
        for card in self._answer_cards(packet, texts):
            column.addWidget(card)
        column.addWidget(self._history_card())
        column.addStretch(1)
        self.scroll_area = QScrollArea()
        self.scroll_area.setObjectName("detailScroll")
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setWidget(body)
        outer.addWidget(self.scroll_area, 1)

    def _time(self, moment: dt.datetime) -> str:
        return f"{moment.astimezone(self.tz):%Y-%m-%d %H:%M}"

    def _flags_card(self, flags: tuple[RaisedFlag, ...], may_acknowledge: bool) -> QFrame:
        card, layout = _card("Flags for the clinician")
        card.setObjectName("flagsCard")
        if not flags:
            layout.addWidget(label("No flags raised.", "muted"))
        for flag in flags:
            layout.addWidget(self._flag_row(flag, may_acknowledge))
        layout.addWidget(
            label("Every flag is for clinician review. None is an automatic refusal.", "hint")
        )
        return card

    def _flag_row(self, flag: RaisedFlag, may_acknowledge: bool) -> QFrame:
        """One flag: severity, message, when it was raised (and changed), and either who
        acknowledged it with what decision, or the Acknowledge button and its decision form."""
        ink, tint = SEVERITY_COLOURS[flag.severity]
        row = QFrame()
        row.setObjectName(f"flag_{flag.rule_id}")
        row.setStyleSheet(
            f"QFrame#flag_{flag.rule_id} {{ background: {tint}; border-left: 5px solid {ink};"
            " border-radius: 4px; }"
        )
        outer = QVBoxLayout(row)
        outer.setContentsMargins(12, 8, 12, 8)
        line = QHBoxLayout()
        outer.addLayout(line)
        chip = label(str(flag.severity).upper())
        chip.setStyleSheet(f"color: {ink}; font-weight: bold;")
        chip.setFixedWidth(80)
        line.addWidget(chip)
        words = QVBoxLayout()
        words.addWidget(label(flag.message))
        history = label(flag.history(self.tz), "muted")
        history.setObjectName(f"history_{flag.rule_id}")
        words.addWidget(history)
        line.addLayout(words, 1)
        if flag.acknowledged_at is not None:
            seen_text = f"Seen by {flag.acknowledged_by} at {self._time(flag.acknowledged_at)}"
            if flag.decision_label:
                seen_text += f": {flag.decision_label}"
            seen = label(seen_text, "muted")
            seen.setObjectName(f"seen_{flag.rule_id}")
            line.addWidget(seen)
            if flag.note:
                note = label(f"Note: {flag.note}", "muted")
                note.setObjectName(f"note_{flag.rule_id}")
                note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
                outer.addWidget(note)
            return row
        ack = push_button("Acknowledge", f"ack_{flag.rule_id}")
        ack.setEnabled(may_acknowledge)
        if not may_acknowledge:
            ack.setToolTip("Only a clinician or an administrator acknowledges flags.")
        self.ack_buttons[flag.rule_id] = ack
        line.addWidget(ack)
        form = self._decision_form(flag.rule_id)
        outer.addWidget(form)
        ack.clicked.connect(lambda _=False: _open_form(form, ack))
        return row

    def _decision_form(self, rule_id: str) -> QFrame:
        """Acknowledging is a decision: one of the four, and an optional note."""
        form = QFrame()
        form.setObjectName(f"decision_{rule_id}")
        form.setVisible(False)
        layout = QHBoxLayout(form)
        layout.setContentsMargins(0, 6, 0, 0)
        choice = QComboBox()
        choice.setObjectName(f"decision_choice_{rule_id}")
        choice.setAccessibleName("Decision")
        choice.addItem("Choose a decision…", None)
        for decision in FlagDecision:
            choice.addItem(DECISION_LABELS[decision], decision)
        note = QLineEdit()
        note.setObjectName(f"decision_note_{rule_id}")
        note.setAccessibleName("Note (optional)")
        note.setPlaceholderText("Note (optional)")
        save = push_button("Save decision", f"save_decision_{rule_id}", primary=True)
        save.setEnabled(False)
        choice.currentIndexChanged.connect(
            lambda _: save.setEnabled(choice.currentData() is not None)
        )
        save.clicked.connect(
            lambda _=False: self.acknowledge_requested.emit(
                rule_id, FlagDecision(choice.currentData()), note.text()
            )
        )
        layout.addWidget(choice)
        layout.addWidget(note, 1)
        layout.addWidget(save)
        self.decision_forms[rule_id] = (choice, note, save)
        return form

    def _scores_card(self) -> QFrame:
        card, layout = _card("Scores")
        card.setObjectName("scoresCard")
        rows = [(s.label, s.value, s.band, s.loinc) for s in self.detail.scores]
        layout.addLayout(_grid(rows, ("Score", "Value", "Band", "LOINC")))
        return card

    def _consent_card(self, packet: Packet, texts: Texts) -> QFrame:
        card, layout = _card("Consent")
        card.setObjectName("consentCard")
        consent = self.detail.consent
        if consent is None:
            unsigned: dict[str, str] = {
                VisitStatus.PAPER: (
                    "The patient chose to sign on paper. Give them the paper consent form."
                ),
                VisitStatus.CONSENT_ON_FILE: (
                    "Not asked again: the patient's earlier consent is current."
                ),
            }
            layout.addWidget(label(unsigned.get(self.detail.entry.visit_status, "Not signed yet.")))
            return card
        rows = [
            ("Document", f"{consent.document_id}, version {consent.version}"),
            ("Signed", f"{self._time(consent.signed_at)} by {consent.signer_name}"),
            ("How", _METHODS.get(consent.method, consent.method)),
            ("Language", _LANGUAGES.get(consent.language, consent.language)),
            ("Text SHA-256", consent.text_sha256),
        ]
        if consent.witness_staff_id:
            witness = f"{consent.witness_name} ({consent.witness_staff_id})"
            rows.append(("Witness", f"{witness}: {consent.witness_reason}"))
        layout.addLayout(_grid(rows))
        document = packet.consent
        if consent.document_id == document.id:
            comprehension = comprehension_rows(
                document, consent.comprehension, texts.language, texts.strings
            )
        else:  # another document's questions: by id, since today's wording may not be theirs
            comprehension = tuple(
                (r.question_id, "correct" if r.correct else "missed") for r in consent.comprehension
            )
        if comprehension:
            layout.addWidget(label("Comprehension check", "sectionTitle"))
            layout.addLayout(_grid(comprehension))
        reading = reading_rows(document, consent.reading, texts.language, texts.strings)
        if reading:
            layout.addWidget(label("Reading record", "sectionTitle"))
            layout.addLayout(_grid(reading))
        return card

    def _answer_cards(self, packet: Packet, texts: Texts) -> list[QFrame]:
        answers = self.detail.answers
        cards = []
        for form in packet.forms:
            rows = [
                (texts.local(item.text), answer_text(item, answers[item.id], texts.answer_words))
                for item in form.items
                if item.id in answers
            ]
            if rows:
                card, layout = _card(f"{texts.local(form.title)} (version {form.version})")
                card.setObjectName(f"answers_{form.id}")
                layout.addLayout(_grid(rows))
                cards.append(card)
        if not cards:
            card, layout = _card("Answers")
            layout.addWidget(label("No answers stored.", "muted"))
            cards.append(card)
        return cards

    def _history_card(self) -> QFrame:
        card, layout = _card("History")
        card.setObjectName("historyCard")
        rows = [(self._time(at), actor, action) for at, actor, action in self.detail.events]
        layout.addLayout(_grid(rows or [("—", "", "")], ("When", "Who", "What")))
        return card
