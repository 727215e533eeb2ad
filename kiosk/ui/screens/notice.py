"""A calm note for the patient right after a page whose answer raised a flag with a
``patient_notice`` (after PHQ-9 item 9: thank you, staff know, the front desk, the crisis line).

One button goes on with the visit. No Back, no countdown and no PIN: the notice never stands
between the patient and the rest of the visit, and the kiosk's inactivity wipe works here as on
any screen. The words are ``notice.<name>.*`` in the strings table.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import Signal

from kiosk.ui.screens.base import Screen, label
from kiosk.ui.texts import Texts


class NoticeScreen(Screen):
    """The notice ``name``: a calm title, its paragraphs, its line in the blue box, Continue.

    ``values`` fill its placeholders (``{crisis_line}`` from the settings).
    """

    continued = Signal()

    def __init__(
        self,
        name: str,
        texts: Texts,
        values: Mapping[str, object],
        *,
        progress: tuple[int, int] | None = None,
    ) -> None:
        super().__init__(
            texts,
            title=texts(f"notice.{name}.title"),
            progress=progress,
            back=False,
            primary=texts("notice.continue"),
        )
        self.setObjectName(f"notice_{name}")
        self.name = name
        self.paragraphs = [
            label(part.strip(), "sectionBody")
            for part in texts(f"notice.{name}.body", **values).split("\n\n")
            if part.strip()
        ]
        for paragraph in self.paragraphs:
            self.body.addWidget(paragraph)
        self.help = label(texts(f"notice.{name}.help", **values), "noticeText")
        self.body.addSpacing(8)
        self.body.addWidget(self.help)
        self.finish_body()
        self.primary_button.clicked.connect(self.continued)
