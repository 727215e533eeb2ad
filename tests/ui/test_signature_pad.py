"""The signature pad and the signature screen: strokes in, a fair judgement and a PNG out."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from kiosk.domain.model import Packet
from kiosk.domain.signature import DrawnSignature
from kiosk.ui.screens.consent import SignatureScreen
from kiosk.ui.texts import Texts
from kiosk.ui.widgets.signature_pad import SignaturePad
from tests.ui.conftest import Show, draw, scribble, tap

NAME = "Rosa Prueba Núñez"


def _pad(show: Show, hint: str = "Sign here with your finger") -> SignaturePad:
    pad = SignaturePad(hint)
    show(pad)
    return pad


def _screen(show: Show, packet: Packet, texts: Texts) -> SignatureScreen:
    statement = packet.consent.statement.get(texts.language)
    screen = SignatureScreen(statement, NAME, texts, progress=(23, 24))
    show(screen)
    return screen


def _is_ink(color: QColor) -> bool:
    return color.lightness() < 128


# --- the pad ----------------------------------------------------------------------------------


def test_a_new_pad_is_empty_and_named(show: Show) -> None:
    pad = _pad(show)
    assert pad.is_empty()
    assert pad.objectName() == "signaturePad"
    assert pad.accessibleName() == "Sign here with your finger"
    signature = pad.signature()
    assert signature.strokes == ()
    assert signature.png == b""
    assert signature.is_trivial()


def test_drawing_makes_strokes(qtbot: QtBot, show: Show) -> None:
    pad = _pad(show)
    points = [(100, 100), (150, 120), (200, 140), (260, 130)]
    with qtbot.waitSignal(pad.changed, timeout=1000):
        draw(pad, points)
    draw(pad, [(120, 200), (300, 200)])
    assert not pad.is_empty()
    signature = pad.signature()
    assert len(signature.strokes) == 2
    first = signature.strokes[0]
    assert first[0] == (100.0, 100.0)
    assert first[-1] == (260.0, 130.0)
    assert {(150.0, 120.0), (200.0, 140.0)} <= set(first)
    assert (signature.width, signature.height) == (pad.width(), pad.height())


def test_a_single_tap_is_trivial(show: Show) -> None:
    pad = _pad(show)
    draw(pad, [(300, 120)])
    signature = pad.signature()
    assert len(signature.strokes) == 1
    assert signature.is_trivial()


def test_a_short_tick_is_trivial(show: Show) -> None:
    pad = _pad(show)
    draw(pad, [(300 + x, 120 + x // 2) for x in range(0, 40, 2)])
    assert pad.signature().point_count >= 12
    assert pad.signature().is_trivial()


def test_a_long_scribble_is_a_signature(show: Show) -> None:
    pad = _pad(show)
    draw(pad, scribble(pad.width(), pad.height()))
    signature = pad.signature()
    assert signature.point_count >= 12
    assert not signature.is_trivial()


def test_the_png_is_the_ink_at_twice_the_pad_size(show: Show) -> None:
    pad = _pad(show)
    draw(pad, scribble(pad.width(), pad.height()))
    draw(pad, [(100, 60), (400, 60)])  # a straight line whose pixels we know
    png = pad.render_png()
    assert png.startswith(b"\x89PNG")
    image = QImage.fromData(png)
    assert not image.isNull()
    assert image.size() == QSize(pad.width() * 2, pad.height() * 2)
    assert _is_ink(image.pixelColor(2 * 250, 2 * 60))  # on the line
    assert not _is_ink(image.pixelColor(2 * 250, 2 * 20))  # above it: white paper
    assert not _is_ink(image.pixelColor(1, 1))
    assert pad.signature().png == png


def test_the_png_has_no_baseline_or_hint(show: Show) -> None:
    """Only the patient's ink is stored: not the guide line nor the "sign here" words."""
    pad = _pad(show)
    draw(pad, [(40, 20), (80, 20)])
    image = QImage.fromData(pad.render_png())
    baseline = int(pad.height() * 0.72) * 2
    assert not any(
        _is_ink(image.pixelColor(x, baseline)) for x in range(100, image.width() - 100, 7)
    )


def test_clear_empties_the_pad_and_says_so(qtbot: QtBot, show: Show) -> None:
    pad = _pad(show)
    draw(pad, scribble(pad.width(), pad.height()))
    assert not pad.is_empty()
    with qtbot.waitSignal(pad.changed, timeout=1000):
        pad.clear()
    assert pad.is_empty()
    assert pad.signature() == DrawnSignature((), float(pad.width()), float(pad.height()), b"")
    image = QImage.fromData(pad.render_png())
    assert not any(
        _is_ink(image.pixelColor(x, y))
        for x in range(0, image.width(), 13)
        for y in range(0, image.height(), 13)
    )


def test_add_stroke_replays_a_stored_stroke(qtbot: QtBot, show: Show) -> None:
    pad = _pad(show)
    with qtbot.waitSignal(pad.changed, timeout=1000):
        pad.add_stroke([(10.0, 10.0), (20.5, 30.25)])
    assert pad.signature().strokes == (((10.0, 10.0), (20.5, 30.25)),)


# --- the signature screen ---------------------------------------------------------------------


def test_the_screen_says_who_is_signing(show: Show, packet: Packet, texts_en: Texts) -> None:
    screen = _screen(show, packet, texts_en)
    shown = [lbl.text() for lbl in screen.findChildren(QLabel) if lbl.isVisible()]
    assert "Signing as: Rosa Prueba Núñez" in shown
    assert packet.consent.statement.get("en") in shown
    assert "Your signature" in shown
    assert screen.pad.isVisible()
    assert screen.pad.accessibleName() == "Sign here with your finger"
    assert screen.primary_button.text() == "Sign"
    assert screen.clear_button.text() == "Clear"
    assert screen.clear_button.isVisible()
    assert screen.pad.width() >= 600 and screen.pad.height() >= 260  # room for a finger


def test_a_trivial_signature_is_refused_kindly(
    qtbot: QtBot, show: Show, packet: Packet, texts_en: Texts
) -> None:
    screen = _screen(show, packet, texts_en)
    assert not screen.error.isVisible()
    draw(screen.pad, [(100, 100), (102, 101)])
    with qtbot.assertNotEmitted(screen.signed, wait=100):
        tap(qtbot, screen.primary_button)
    assert screen.error.isVisible()
    assert screen.error.text() == (
        "Please sign inside the box with your finger. A dot or a short line is not enough."
    )


def test_an_empty_pad_is_refused(qtbot: QtBot, show: Show, packet: Packet, texts_es: Texts) -> None:
    screen = _screen(show, packet, texts_es)
    with qtbot.assertNotEmitted(screen.signed, wait=100):
        tap(qtbot, screen.primary_button)
    assert screen.error.isVisible()
    assert screen.error.text().startswith("Por favor firme dentro del cuadro")


def test_drawing_again_hides_the_message(
    qtbot: QtBot, show: Show, packet: Packet, texts_en: Texts
) -> None:
    screen = _screen(show, packet, texts_en)
    tap(qtbot, screen.primary_button)
    assert screen.error.isVisible()
    pad = screen.pad
    draw(pad, scribble(pad.width(), pad.height()))
    assert not screen.error.isVisible()


def test_a_real_signature_is_signed(
    qtbot: QtBot, show: Show, packet: Packet, texts_en: Texts
) -> None:
    screen = _screen(show, packet, texts_en)
    pad = screen.pad
    draw(pad, scribble(pad.width(), pad.height()))
    with qtbot.waitSignal(screen.signed, timeout=1000) as blocker:
        tap(qtbot, screen.primary_button)
    assert not screen.error.isVisible()
    [signature] = blocker.args
    assert isinstance(signature, DrawnSignature)
    assert not signature.is_trivial()
    assert signature.strokes == pad.signature().strokes
    assert signature.png.startswith(b"\x89PNG")
    assert QImage.fromData(signature.png).size() == QSize(pad.width() * 2, pad.height() * 2)


def test_clear_button_wipes_the_pad(
    qtbot: QtBot, show: Show, packet: Packet, texts_en: Texts
) -> None:
    screen = _screen(show, packet, texts_en)
    pad = screen.pad
    draw(pad, scribble(pad.width(), pad.height()))
    with qtbot.waitSignal(pad.changed, timeout=1000):
        tap(qtbot, screen.clear_button)
    assert pad.is_empty()
    with qtbot.assertNotEmitted(screen.signed, wait=100):
        tap(qtbot, screen.primary_button)  # nothing left to sign with
    assert screen.error.isVisible()


def test_back_is_emitted(qtbot: QtBot, show: Show, packet: Packet, texts_en: Texts) -> None:
    screen = _screen(show, packet, texts_en)
    with qtbot.waitSignal(screen.back_requested, timeout=1000):
        tap(qtbot, screen.back_button)
