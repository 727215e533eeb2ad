"""Consent education sections, the comprehension questions, the attestations and signing."""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import QElapsedTimer, Signal
from PySide6.QtGui import QShowEvent

from kiosk.domain.model import AnswerValue, ConsentDocument, Page, QuizQuestion, Section
from kiosk.domain.signature import DrawnSignature
from kiosk.ui.screens.base import Screen, button, label
from kiosk.ui.screens.question import QuestionScreen
from kiosk.ui.texts import Texts
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
        for paragraph in texts.local(section.body).split("\n\n"):
            self.body.addWidget(label(" ".join(paragraph.split()), "sectionBody"))
        self.finish_body()
        self.primary_button.clicked.connect(self.read)
        self.back_button.clicked.connect(self.back_requested)
        self._shown = QElapsedTimer()  # monotonic: a clock change cannot fake reading time
        self._scrolled_to_end = False
        bar = self.scroll_area.verticalScrollBar()
        bar.valueChanged.connect(self._check_end)

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
