"""`kiosk screenshots`: one picture of every kind of screen, as a synthetic patient meets them.

English and Spanish, landscape 1280x800 and portrait 800x1280, plus 200% text, high contrast,
the on-screen keyboard open, the re-teach screen, the crisis notice after PHQ-9 item 9, the
other ways to sign, "Are you still there?", text size and staff sign-in. Run under a real X
server (Xvfb) for real fonts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLineEdit, QWidget

from kiosk.app.demo import DemoPatient, settle
from kiosk.app.kiosk_app import Kiosk, open_kiosk
from kiosk.app.synthetic import SYNTHETIC_ANSWERS, consent_answers
from kiosk.config import Settings
from kiosk.storage import staff
from kiosk.ui.screens.consent import SignatureScreen
from kiosk.ui.screens.notice import NoticeScreen
from kiosk.ui.screens.question import QuestionScreen
from kiosk.ui.theme import Appearance, apply_theme

SIZES = {"landscape": (1280, 800), "portrait": (800, 1280)}
# One page of each kind of question, named by what it shows.
PAGES = {
    "name_page": "text",
    "birth_date_page": "date",
    "phone_page": "phone",
    "driver": "yes-no",
    "pain_areas_page": "tap-list",
    "pain_duration_page": "choice",
    "pain_now_page": "scale",
    "current_medicines_page": "rows",
    "heart_and_blood": "none-of-these",
    "phq9_9_page": "phq9",
}


def take_all(settings: Settings, out: Path) -> list[Path]:
    """Write the pictures into ``out``; return their paths."""
    written: list[Path] = []
    for language in ("en", "es"):
        for orientation, size in SIZES.items():
            written += _walk(settings, out, language, orientation, size, Appearance())
        written += _walk(
            settings, out, language, "text-200", SIZES["landscape"], Appearance(text_size=2.0)
        )
        written += _walk(
            settings,
            out,
            language,
            "high-contrast",
            SIZES["landscape"],
            Appearance(text_size=1.5, high_contrast=True),
        )
    return written


def _walk(  # noqa: PLR0917 - one call per variant, all arguments named at the call
    settings: Settings,
    out: Path,
    language: str,
    variant: str,
    size: tuple[int, int],
    appearance: Appearance,
) -> list[Path]:
    folder = out / f"{language}-{variant}"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    scratch = Path(tempfile.mkdtemp(prefix="kiosk-screens-"))  # database and PDF: not kept
    kiosk = open_kiosk(
        dataclasses.replace(
            settings,
            database_url=f"sqlite:///{scratch / 'screens.sqlite3'}",
            output_dir=scratch / "pdf",
            key_dir=scratch / "keys",
        )
    )
    if not isinstance(kiosk, Kiosk):
        raise RuntimeError("; ".join(kiosk.problems))
    with kiosk.flow.sessions.begin() as session:
        staff.add_staff(
            session,
            "demo.staff",
            name="Demo Staff",
            role="staff",
            pin="246810",
            now=dt.datetime.now(dt.UTC),
        )
    kiosk.appearance.apply(Appearance())  # not the text size an earlier walk left behind
    kiosk.window.resize(*size)
    kiosk.window.show()
    written: list[Path] = []
    seen: set[str] = set()

    def shoot(name: str) -> None:
        settle(120)
        path = folder / f"{len(written):02d}-{name}.png"
        kiosk.window.grab().save(str(path))
        written.append(path)

    def on_screen(screen: QWidget) -> None:
        if kiosk.appearance.appearance != appearance and kiosk.flow.visit is not None:
            kiosk.appearance.apply(appearance)
        kind = _kind(screen)
        if kind is None or kind in seen:
            return
        seen.add(kind)
        shoot(kind)
        _extras(kiosk, screen, kind, shoot)

    quiz = kiosk.flow.packet.consent.quiz
    answers = {**SYNTHETIC_ANSWERS, "phq9_9": 1}  # to show the crisis notice after item 9
    if quiz is not None:  # one wrong answer, to show the re-teach screen
        first = quiz.questions[0]
        wrong = next(c.value for c in first.choices if c.value != first.correct)
        answers = {**consent_answers(kiosk.flow.packet), **answers, first.id: wrong}
    DemoPatient(kiosk, language=language, answers=answers, on_screen=on_screen).run()
    kiosk.shutdown()
    shutil.rmtree(scratch, ignore_errors=True)
    return written


def _kind(screen: QWidget) -> str | None:
    name = screen.objectName()
    if isinstance(screen, NoticeScreen):
        return f"notice-{screen.name}"
    if isinstance(screen, QuestionScreen):
        page = screen.page.id
        if page.startswith("quiz_"):
            return "quiz"
        if page == "attestations":
            return "attestations"
        return PAGES.get(page)
    if name.startswith("section_"):
        return "reteach" if screen.findChild(QWidget, "noticeText").isVisible() else "section"  # type: ignore[union-attr]
    return {
        "welcomeScreen": "welcome",
        "languageScreen": "language",
        "reviewScreen": "review",
        "signatureScreen": "signature",
        "doneScreen": "done",
    }.get(name)


def _extras(kiosk: Kiosk, screen: QWidget, kind: str, shoot: Callable[[str], None]) -> None:
    """States a straight walk never shows: keyboard, overlays, the other ways to sign."""
    if kind == "text" and isinstance(screen, QuestionScreen):
        _with_keyboard(kiosk, screen, "keyboard-letters", shoot)
        kiosk.appearance.open()
        shoot("text-size-and-colours")
        kiosk.appearance.close()
        kiosk.guard.ask()
        shoot("are-you-still-there")
        kiosk.guard.stay()
        for _ in range(5):
            QTest.mouseClick(screen, Qt.MouseButton.LeftButton, pos=QPoint(20, 20))
        shoot("staff-sign-in")
        kiosk.staff.close()
    if kind == "phone" and isinstance(screen, QuestionScreen):
        _with_keyboard(kiosk, screen, "keyboard-digits", shoot)
    if kind == "signature" and isinstance(screen, SignatureScreen):
        kiosk.flow.show_typed_signature()
        shoot("typed-signature-with-witness")
        kiosk.flow.show_paper()
        shoot("sign-on-paper")
        kiosk.flow.show_step()
        settle(120)


def _with_keyboard(kiosk: Kiosk, screen: QWidget, name: str, shoot: Callable[[str], None]) -> None:
    """Tap the screen's first field, picture the keyboard it brings, put the keyboard away."""
    edit = screen.findChild(QLineEdit)
    if edit is None:
        return
    QTest.mouseClick(edit, Qt.MouseButton.LeftButton)
    shoot(name)
    if kiosk.window.keyboard is not None:
        kiosk.window.keyboard.dismiss()


def main(out: Path) -> int:
    from kiosk.app.demo import ensure_app

    app = ensure_app()
    apply_theme(app)
    from kiosk.app.staff_screenshots import take_staff

    written = take_all(Settings.load(), out)
    written += take_staff(Settings.load(), out.parent)  # docs/screens/staff-*.png
    print(f"{len(written)} screenshots in {out}")
    return 0
