"""Signing in to the staff console, and creating its first administrator on a new install."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kiosk.ui.screens.base import button, label, pin_field


def push_button(text: str, name: str, primary: bool = False) -> QPushButton:
    """The kiosk's :func:`~kiosk.ui.screens.base.button`, styled as primary by a property (the
    object name stays the button's own)."""
    widget = button(text, name)
    widget.setProperty("primary", primary)
    return widget


class _CardPanel(QWidget):
    """A centred white card on the console's background."""

    def __init__(self, title: str, intro: str) -> None:
        super().__init__()
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        self.card = QFrame()
        self.card.setObjectName("signInCard")
        self.card.setProperty("card", True)
        self.card.setFixedWidth(520)
        row.addWidget(self.card)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)
        self.layout_ = QVBoxLayout(self.card)
        self.layout_.setContentsMargins(36, 30, 36, 30)
        self.layout_.setSpacing(14)
        self.layout_.addWidget(label(title, "panelTitle"))
        if intro:
            self.layout_.addWidget(label(intro, "hint"))
        self.form = QFormLayout()
        self.form.setVerticalSpacing(12)
        self.form.setHorizontalSpacing(16)
        self.layout_.addLayout(self.form)
        self.message = label("", "errorText")
        self.message.setVisible(False)
        self.layout_.addWidget(self.message)

    def show_message(self, message: str) -> None:
        self.message.setText(message)
        self.message.setAccessibleName(message)
        self.message.setVisible(bool(message))


class LoginPanel(_CardPanel):
    """Staff id and PIN. A refusal empties the PIN (it never stays on screen) and keeps the id."""

    submitted = Signal(str, str)  # staff id, PIN

    def __init__(self, clinic_name: str) -> None:
        super().__init__(
            "Staff sign-in", f"{clinic_name} · consent kiosk console. Sign in with your id and PIN."
        )
        self.setObjectName("loginPanel")
        self.staff_id = QLineEdit()
        self.staff_id.setObjectName("staffId")
        self.staff_id.setAccessibleName("Staff id")
        self.staff_id.setPlaceholderText("e.g. maria.lopez")
        self.pin = pin_field("staffPin", "PIN")
        self.form.addRow("Staff id", self.staff_id)
        self.form.addRow("PIN", self.pin)
        self.sign_in_button = push_button("Sign in", "signIn", primary=True)
        self.sign_in_button.clicked.connect(self._submit)
        self.pin.returnPressed.connect(self._submit)
        self.staff_id.returnPressed.connect(self.pin.setFocus)
        self.layout_.addWidget(self.sign_in_button)

    def _submit(self) -> None:
        staff_id, pin = self.staff_id.text().strip(), self.pin.text()
        if not staff_id or not pin:
            self.show_message("Enter your staff id and your PIN.")
            return
        self.submitted.emit(staff_id, pin)

    def refuse(self, message: str) -> None:
        self.pin.clear()
        self.show_message(message)
        self.pin.setFocus()

    def reset(self, message: str = "") -> None:
        """Back to an empty form (after signing out), with an optional note."""
        self.staff_id.clear()
        self.pin.clear()
        self.show_message(message)
        self.staff_id.setFocus()


class SetupPanel(_CardPanel):
    """The first run: no staff user exists yet, so the console asks for an administrator."""

    submitted = Signal(str, str, str)  # staff id, display name, PIN

    def __init__(self) -> None:
        super().__init__(
            "Create the administrator",
            "No staff user exists yet. The administrator can add other staff later with "
            "'kiosk staff-user add'. A PIN is 6 to 12 digits.",
        )
        self.setObjectName("setupPanel")
        self.staff_id = QLineEdit()
        self.staff_id.setObjectName("setupId")
        self.staff_id.setAccessibleName("Staff id")
        self.staff_id.setPlaceholderText("lower case, e.g. admin or maria.lopez")
        self.display_name = QLineEdit()
        self.display_name.setObjectName("setupName")
        self.display_name.setAccessibleName("Name")
        self.pin = pin_field("setupPin", "PIN")
        self.pin_again = pin_field("setupPinAgain", "The same PIN again")
        self.form.addRow("Staff id", self.staff_id)
        self.form.addRow("Name", self.display_name)
        self.form.addRow("PIN", self.pin)
        self.form.addRow("PIN again", self.pin_again)
        self.create_button = push_button("Create administrator", "create", primary=True)
        self.create_button.clicked.connect(self._submit)
        self.layout_.addWidget(self.create_button)

    def _submit(self) -> None:
        if self.pin.text() != self.pin_again.text():
            self.pin.clear()
            self.pin_again.clear()
            self.show_message("The two PINs are not the same. Please type them again.")
            return
        self.submitted.emit(
            self.staff_id.text().strip().lower(), self.display_name.text().strip(), self.pin.text()
        )

    def refuse(self, message: str) -> None:
        self.pin.clear()
        self.pin_again.clear()
        self.show_message(message)
