"""Staff on the tablet: sign in with id and PIN, then leave the kiosk or resume a visit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLineEdit, QWidget

from kiosk.ui.screens.base import button, label, pin_field
from kiosk.ui.screens.overlay import Overlay
from kiosk.ui.texts import Texts


class StaffSignIn(Overlay):
    """Staff id and PIN. The PIN is masked and its field takes digits only."""

    submitted = Signal(str, str)  # staff id, PIN
    cancelled = Signal()

    def __init__(self, parent: QWidget, texts: Texts) -> None:
        super().__init__(parent, "staffPanel")
        self.setAccessibleName(texts("staff.sign_in_title"))
        layout = self.card_layout
        layout.setContentsMargins(32, 20, 32, 20)
        layout.setSpacing(12)
        layout.addWidget(label(texts("staff.sign_in_title"), "screenTitle"))
        fields = QGridLayout()  # side by side: the on-screen keyboard needs the room below
        fields.setHorizontalSpacing(20)
        fields.addWidget(label(texts("staff.id"), "hintText"), 0, 0)
        self.staff_id = QLineEdit()
        self.staff_id.setObjectName("staffId")
        self.staff_id.setAccessibleName(texts("staff.id"))
        self.staff_id.setInputMethodHints(
            Qt.InputMethodHint.ImhNoPredictiveText
            | Qt.InputMethodHint.ImhNoAutoUppercase
            | Qt.InputMethodHint.ImhSensitiveData
        )
        fields.addWidget(self.staff_id, 1, 0)
        fields.addWidget(label(texts("staff.pin"), "hintText"), 0, 1)
        self.pin = pin_field("staffPin", texts("staff.pin"))
        fields.addWidget(self.pin, 1, 1)
        layout.addLayout(fields)
        self.message = label("", "errorText")
        self.message.setVisible(False)
        layout.addWidget(self.message)
        row = QHBoxLayout()
        self.cancel_button = button(texts("staff.cancel"), "secondary")
        self.cancel_button.clicked.connect(self.cancelled)
        self.sign_in_button = button(texts("staff.sign_in"), "primary")
        self.sign_in_button.clicked.connect(self._submit)
        row.addWidget(self.cancel_button)
        row.addStretch(1)
        row.addWidget(self.sign_in_button)
        layout.addLayout(row)

    def _submit(self) -> None:
        self.submitted.emit(self.staff_id.text().strip(), self.pin.text())

    def refuse(self, message: str) -> None:
        """Say why, empty the PIN (never left on screen), keep the id."""
        self.pin.setText("")
        self.message.setText(message)
        self.message.setAccessibleName(message)
        self.message.setVisible(True)


@dataclass(frozen=True)
class DraftEntry:
    """An interrupted visit as staff see it in the resume list."""

    visit_id: str
    label: str  # name, date of birth and start time, for staff eyes only


class StaffMenu(Overlay):
    """What a signed-in member of staff can do on the tablet."""

    resume_requested = Signal(str)  # visit id
    exit_requested = Signal()
    console_requested = Signal()  # the staff console, on this tablet
    closed = Signal()

    def __init__(
        self, parent: QWidget, texts: Texts, staff_name: str, drafts: Sequence[DraftEntry]
    ) -> None:
        super().__init__(parent, "staffPanel")
        layout = self.card_layout
        layout.addWidget(label(texts("staff.menu_title", name=staff_name), "screenTitle"))
        layout.addWidget(label(texts("staff.resume_intro"), "questionText"))
        self.resume_buttons: dict[str, object] = {}
        if not drafts:
            layout.addWidget(label(texts("staff.no_drafts"), "hintText"))
        for draft in drafts:
            resume = button(draft.label, "option")
            resume.clicked.connect(
                lambda _=False, visit_id=draft.visit_id: self.resume_requested.emit(visit_id)
            )
            layout.addWidget(resume)
            self.resume_buttons[draft.visit_id] = resume
        row = QHBoxLayout()
        self.exit_button = button(texts("staff.exit"), "secondary")
        self.exit_button.clicked.connect(self.exit_requested)
        self.console_button = button(texts("staff.console"), "secondary")
        self.console_button.clicked.connect(self.console_requested)
        self.back_button = button(texts("staff.back_to_kiosk"), "primary")
        self.back_button.clicked.connect(self.closed)
        row.addWidget(self.exit_button)
        row.addWidget(self.console_button)
        row.addStretch(1)
        row.addWidget(self.back_button)
        layout.addLayout(row)
