"""Consent education sections, the comprehension questions, the attestations and signing."""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import QElapsedTimer, Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QButtonGroup, QGridLayout, QLineEdit, QPushButton

from kiosk.domain.model import AnswerValue, ConsentDocument, Page, QuizQuestion, Section
from kiosk.domain.signature import DrawnSignature
from kiosk.ui.screens.base import Screen, button, label
from kiosk.ui.screens.question import QuestionScreen
from kiosk.ui.speech import Reader
from kiosk.ui.texts import Texts
from kiosk.ui.widgets.answers import PATIENT_INPUT_HINTS, ChoiceButton
from kiosk.ui.widgets.signature_pad import SignaturePad

END_TOLERANCE_PX = 24
"""Within this of the bottom (less than a line of text, the rest is margin) counts as the end."""


class SectionScreen(Screen):
    """One section of the consent, in plain words."""

    read = Signal()
    back_requested = Signal()

    def __init__(
        self,
        section: Section,
        texts: Texts,
        *,
        progress: tuple[int, int],
        part: tuple[int, int],
        heading: str = "",
        primary: str = "",
        reader: Reader | None = None,
    ) -> None:
        super().__init__(
            texts,
            title=texts.local(section.title),
            heading=heading,
            progress=progress,
            primary=primary or texts("section.read"),
        )
        self.setObjectName(f"section_{section.id}")
        self.body.insertWidget(0, label(texts("section.part", x=part[0], y=part[1]), "hintText"))
        self.reader = reader
        self.read_button: QPushButton | None = None
        if reader is not None and reader.can_read(texts.language):
            self.read_button = button(texts("section.read_aloud"), "option")
            self.read_button.setCheckable(True)
            words = f"{texts.local(section.title)}. {texts.local(section.body)}"
            self.read_button.toggled.connect(lambda on: self._read_aloud(on, words, texts.language))
            self.body.insertWidget(2, self.read_button, 0, Qt.AlignmentFlag.AlignLeft)
        for paragraph in texts.local(section.body).split("\n\n"):
            self.body.addWidget(label(" ".join(paragraph.split()), "sectionBody"))
        self.finish_body()
        self.primary_button.clicked.connect(self.read)
        self.back_button.clicked.connect(self.back_requested)
        self._shown = QElapsedTimer()  # monotonic: a clock change cannot fake reading time
        self._scrolled_to_end = False
        bar = self.scroll_area.verticalScrollBar()
        bar.valueChanged.connect(self._check_end)

    def _read_aloud(self, on: bool, words: str, language: str) -> None:
        if self.reader is None or self.read_button is None:
            return
        self.read_button.setText(self.texts("section.stop_reading" if on else "section.read_aloud"))
        if on:
            self.reader.read(words, language)
        else:
            self.reader.stop()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._shown.isValid():
            self._shown.start()

    def _check_end(self, value: int) -> None:
        if value >= self.scroll_area.verticalScrollBar().maximum() - END_TOLERANCE_PX:
            self._scrolled_to_end = True

    def seconds_shown(self) -> float:
        """Seconds since this section first appeared on screen."""
        return self._shown.elapsed() / 1000 if self._shown.isValid() else 0.0

    def reached_end(self) -> bool:
        """Scrolled to the bottom at some point, or it all fitted on the screen."""
        bar = self.scroll_area.verticalScrollBar()
        return self._scrolled_to_end or bar.maximum() <= END_TOLERANCE_PX


class SignatureScreen(Screen):
    """What signing means, the pad, Clear and Sign. A trivial signature is refused kindly."""

    signed = Signal(object)  # DrawnSignature
    back_requested = Signal()
    typed_requested = Signal()
    paper_requested = Signal()

    def __init__(
        self, statement: str, signer_name: str, texts: Texts, *, progress: tuple[int, int]
    ) -> None:
        super().__init__(
            texts, title=texts("sign.title"), progress=progress, primary=texts("sign.submit")
        )
        self.setObjectName("signatureScreen")
        self.body.addWidget(label(statement, "sectionBody"))
        self.body.addWidget(label(texts("sign.signing_as", name=signer_name), "questionText"))
        self.error = label(texts("sign.trivial"), "errorText")
        self.error.setVisible(False)
        self.body.addWidget(self.error)
        self.pad = SignaturePad(texts("sign.pad_hint"))
        self.pad.changed.connect(lambda: self.error.setVisible(False))
        self.body.addWidget(self.pad)
        self.clear_button = button(texts("sign.clear"), "secondary")
        self.clear_button.clicked.connect(self.pad.clear)
        self.add_action(self.clear_button)
        self.body.addWidget(label(texts("sign.other_ways"), "hintText"))
        # Full-width buttons whose words wrap: at 200% text they stay whole.
        self.typed_button = ChoiceButton(texts("sign.typed_button"))
        self.paper_button = ChoiceButton(texts("sign.paper_button"))
        for other, signal in (
            (self.typed_button, self.typed_requested),
            (self.paper_button, self.paper_requested),
        ):
            other.setObjectName("choice")
            other.setAccessibleName(other.text())
            other.clicked.connect(signal)
            self.body.addWidget(other)
        self.finish_body()
        self.primary_button.clicked.connect(self._sign)
        self.back_button.clicked.connect(self.back_requested)

    def _sign(self) -> None:
        signature: DrawnSignature = self.pad.signature()
        if signature.is_trivial():
            self.error.setVisible(True)
            self.scroll_area.ensureWidgetVisible(self.error)
            return
        self.signed.emit(signature)


def quiz_screen(
    question: QuizQuestion,
    number: tuple[int, int],
    texts: Texts,
    *,
    progress: tuple[int, int],
) -> QuestionScreen:
    """One comprehension question ("Question 2 of 8"), answered with "Check my answer"."""
    item = question.as_item()
    return QuestionScreen(
        Page(f"quiz_{question.id}", (item,)),
        (item,),
        {},
        texts,
        progress=progress,
        can_go_back=True,
        heading=texts("quiz.count", x=number[0], y=number[1]),
        title=texts("quiz.title"),
        primary=texts("quiz.check"),
    )


def attestation_screen(
    consent: ConsentDocument,
    answers: Mapping[str, AnswerValue],
    texts: Texts,
    *,
    progress: tuple[int, int],
) -> QuestionScreen:
    """The statements the patient ticks just before signing."""
    screen = QuestionScreen(
        Page("attestations", consent.attestations),
        consent.attestations,
        answers,
        texts,
        progress=progress,
        can_go_back=True,
        heading=texts.local(consent.title),
        title=texts("attest.title"),
    )
    screen.show_notice(texts("attest.intro"))
    return screen


class TypedSignatureScreen(Screen):
    """For a patient who cannot draw: type the full name, say why, and a staff member witnesses
    with their id and PIN."""

    # object, not str: PySide6 reads a text starting with U+FEFF/U+FFFE as a byte-order mark when
    # it converts it to a QString (dropped, or the rest byte-swapped).
    submitted = Signal(object, object, object, object)  # typed name, reason, staff id, PIN
    back_requested = Signal()

    def __init__(self, statement: str, texts: Texts, *, progress: tuple[int, int]) -> None:
        super().__init__(
            texts, title=texts("typed.title"), progress=progress, primary=texts("typed.submit")
        )
        self.setObjectName("typedSignatureScreen")
        self.body.addWidget(label(statement, "sectionBody"))
        self.body.addWidget(label(texts("typed.name"), "questionText"))
        self.name = QLineEdit()
        self.name.setObjectName("typedName")
        self.name.setAccessibleName(texts("typed.name"))
        self.name.setInputMethodHints(PATIENT_INPUT_HINTS)
        self.body.addWidget(self.name)
        self.body.addWidget(label(texts("typed.reason"), "questionText"))
        self.reasons = QButtonGroup(self)
        for key in ("reason_hands", "reason_sight", "reason_other"):
            reason = ChoiceButton(texts(f"typed.{key}"))
            reason.setObjectName("choice")
            reason.setCheckable(True)
            reason.setAccessibleName(reason.text())
            self.reasons.addButton(reason)
            self.body.addWidget(reason)
        self.body.addWidget(label(texts("typed.witness"), "questionText"))
        witness = QGridLayout()
        witness.setHorizontalSpacing(20)
        self.staff_id = QLineEdit()
        self.staff_id.setObjectName("witnessId")
        self.staff_id.setAccessibleName(texts("staff.id"))
        self.pin = QLineEdit()
        self.pin.setObjectName("witnessPin")
        self.pin.setAccessibleName(texts("staff.pin"))
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setInputMethodHints(
            Qt.InputMethodHint.ImhDigitsOnly | Qt.InputMethodHint.ImhSensitiveData
        )
        witness.addWidget(label(texts("staff.id"), "hintText"), 0, 0)
        witness.addWidget(self.staff_id, 1, 0)
        witness.addWidget(label(texts("staff.pin"), "hintText"), 0, 1)
        witness.addWidget(self.pin, 1, 1)
        self.body.addLayout(witness)
        self.finish_body()
        self.primary_button.clicked.connect(self._submit)
        self.back_button.clicked.connect(self.back_requested)

    def _submit(self) -> None:
        chosen = self.reasons.checkedButton()
        reason = chosen.text() if isinstance(chosen, ChoiceButton) else ""
        self.submitted.emit(self.name.text(), reason, self.staff_id.text().strip(), self.pin.text())

    def refuse(self, message: str) -> None:
        """Say what to fix; the PIN is always emptied, the rest kept."""
        self.pin.setText("")
        self.show_message(message)


class PaperScreen(Screen):
    """The patient may sign on paper instead; nothing is signed electronically."""

    confirmed = Signal()
    back_requested = Signal()

    def __init__(self, texts: Texts, *, progress: tuple[int, int]) -> None:
        super().__init__(
            texts, title=texts("paper.title"), progress=progress, primary=texts("paper.confirm")
        )
        self.setObjectName("paperScreen")
        self.body.addWidget(label(texts("paper.body"), "sectionBody"))
        self.finish_body()
        self.primary_button.clicked.connect(self.confirmed)
        self.back_button.clicked.connect(self.back_requested)
