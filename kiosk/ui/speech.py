"""Read aloud: the consent sections spoken by the platform's text-to-speech, where a voice exists.

QtTextToSpeech is imported only when a reader is first needed, so start-up does not pay for it,
and a tablet without a voice for the patient's language simply shows no "Read aloud" button.
"""

from __future__ import annotations

import ctypes.util
import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QLocale, QObject

if TYPE_CHECKING:
    from PySide6.QtTextToSpeech import QTextToSpeech

log = logging.getLogger(__name__)
_LANGUAGES = {"en": QLocale.Language.English, "es": QLocale.Language.Spanish}


class Reader(QObject):
    """One text-to-speech engine for the kiosk; ``engine`` "" means the platform's default,
    "none" turns reading aloud off."""

    def __init__(self, engine: str = "") -> None:
        super().__init__()
        self.engine_name = engine
        self._tts: QTextToSpeech | None = None
        self._tried = False

    def _engine(self) -> QTextToSpeech | None:
        if self._tried:
            return self._tts
        self._tried = True
        if self.engine_name == "none":
            return None
        try:
            from PySide6.QtTextToSpeech import QTextToSpeech
        except ImportError as exc:  # e.g. libpulse0 missing: no reading aloud, nothing else lost
            log.info("text-to-speech is not available (%s)", type(exc).__name__)
            return None
        name = self.engine_name or _platform_engine(QTextToSpeech.availableEngines())
        if name is None:
            log.info("no text-to-speech engine on this computer")
            return None
        tts = QTextToSpeech(name, self)
        if tts.state() == QTextToSpeech.State.Error:
            log.info("text-to-speech engine could not start")
            return None
        self._tts = tts
        return tts

    def _locale(self, language: str) -> QLocale | None:
        tts = self._engine()
        wanted = _LANGUAGES.get(language)
        if tts is None or wanted is None:
            return None
        return next((loc for loc in tts.availableLocales() if loc.language() == wanted), None)

    def can_read(self, language: str) -> bool:
        """Whether a voice exists for ``language`` (the button is hidden otherwise)."""
        return self._locale(language) is not None

    def read(self, text: str, language: str) -> None:
        locale = self._locale(language)
        if locale is None or self._tts is None:
            return
        self._tts.stop()
        self._tts.setLocale(locale)
        self._tts.say(text)

    def stop(self) -> None:
        if self._tts is not None:
            self._tts.stop()

    def speaking(self) -> bool:
        from PySide6.QtTextToSpeech import QTextToSpeech

        return self._tts is not None and self._tts.state() == QTextToSpeech.State.Speaking


def _platform_engine(engines: list[str]) -> str | None:
    """A real engine that can load here: never Qt's test engine, and speech-dispatcher only
    when its library is installed (Qt reports a critical error otherwise)."""
    for engine in engines:
        if engine == "mock":
            continue
        if engine == "speechd" and ctypes.util.find_library("speechd") is None:
            continue
        return engine
    return None
