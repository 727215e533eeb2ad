"""'Read it to me' on the consent sections, where the platform has a voice for the language."""

from __future__ import annotations

from kiosk.domain.model import Packet
from kiosk.ui.screens.base import Screen
from kiosk.ui.screens.consent import SectionScreen
from kiosk.ui.screens.review import ReviewScreen
from tests.app.conftest import KioskFactory, KioskUnderTest
from tests.app.test_patient_walk import PATIENT, _start


def _first_section(k: KioskUnderTest, language: str = "en") -> SectionScreen:
    _start(k, language)
    k.fill_until(PATIENT, lambda s: isinstance(s, ReviewScreen))
    k.tap(k.screen.primary_button)  # type: ignore[attr-defined]
    screen = k.screen
    assert isinstance(screen, SectionScreen)
    return screen


def test_a_section_is_read_aloud_and_stops(kiosk_factory: KioskFactory, packet: Packet) -> None:
    k = kiosk_factory(speech_engine="mock")  # Qt's test engine: English voices only
    screen = _first_section(k)
    button = screen.read_button
    assert button is not None and button.isVisible()
    assert button.text() == "Read it to me"
    reader = k.kiosk.flow.reader
    assert reader is not None
    k.tap(button)
    k.qtbot.waitUntil(reader.speaking, timeout=3000)
    assert button.text() == "Stop reading"
    k.tap(button)
    k.qtbot.waitUntil(lambda: not reader.speaking(), timeout=3000)
    k.tap(button)
    k.qtbot.waitUntil(reader.speaking, timeout=3000)
    k.tap(screen.primary_button)  # the next screen: the reading stops with the old one
    k.qtbot.waitUntil(lambda: not reader.speaking(), timeout=3000)


def test_no_voice_for_the_language_means_no_button(kiosk_factory: KioskFactory) -> None:
    k = kiosk_factory(speech_engine="mock")
    screen = _first_section(k, "es")  # the test engine has no Spanish voice
    assert screen.read_button is None
    assert isinstance(screen, Screen)


def test_reading_aloud_can_be_turned_off(kiosk_factory: KioskFactory) -> None:
    k = kiosk_factory(speech_engine="none")
    assert _first_section(k).read_button is None
