"""Patient screens at the kiosk's real size and theme: what they show, what they emit, and that
every target is named, big enough for a finger, and never cut off at the side."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)
from pytestqt.qtbot import QtBot

from kiosk import paths
from kiosk.domain.answers import AnswerProblem
from kiosk.domain.loader import load_packet
from kiosk.domain.model import AnswerValue, Item, ItemType, Packet, Page
from kiosk.domain.strings import Strings
from kiosk.domain.visit import Visit
from kiosk.ui.screens.consent import (
    PaperScreen,
    SectionScreen,
    SignatureScreen,
    TypedSignatureScreen,
    attestation_screen,
    quiz_screen,
)
from kiosk.ui.screens.display import DisplayPanel
from kiosk.ui.screens.done import DoneScreen
from kiosk.ui.screens.question import QuestionScreen
from kiosk.ui.screens.review import ReviewEntry, ReviewScreen, review_entries
from kiosk.ui.screens.start import LanguageScreen, WelcomeScreen
from kiosk.ui.screens.still_there import StillThereOverlay
from kiosk.ui.texts import Texts
from kiosk.ui.theme import Appearance, stylesheet
from kiosk.ui.widgets.answers import DateAnswer, ScaleAnswer, TextAnswer
from tests.ui.conftest import (
    MIN_TARGET,
    Show,
    describe,
    enclosing_scroll_area,
    interactive_widgets,
    tap,
)

NAME = "Rosa Prueba Núñez"  # synthetic; non-ASCII on purpose (set with setText, never keyClicks)
PROGRESS = (3, 24)

# Loaded at collection time only to name one test per shipped page and section.
_PACKET = load_packet(paths.FORMS_DIR)
PAGE_IDS = [(form.id, page.id) for form in _PACKET.forms for page in form.pages]
SECTION_IDS = [section.id for section in _PACKET.consent.sections]
QUIZ_IDS = [q.id for q in _PACKET.consent.quiz.questions] if _PACKET.consent.quiz else []
LANGUAGES = ("en", "es")


def _page(packet: Packet, form_id: str, page_id: str) -> Page:
    return next(p for p in packet.form(form_id).pages if p.id == page_id)


def _question(
    packet: Packet,
    texts: Texts,
    form_id: str,
    page_id: str,
    answers: dict[str, AnswerValue] | None = None,
    *,
    editing_from_review: bool = False,
) -> QuestionScreen:
    page = _page(packet, form_id, page_id)
    return QuestionScreen(
        page,
        page.items,
        answers or {},
        texts,
        progress=PROGRESS,
        can_go_back=True,
        heading=texts.local(packet.form(form_id).title),
        editing_from_review=editing_from_review,
    )


def _sample_answer(item: Item, language: str) -> AnswerValue:
    """A plausible answer; for choices the longest label, to test the layout at its worst."""
    match item.type:
        case ItemType.TEXT:
            return NAME if item.max_length <= 100 else "Dolor después de una quemadura " * 6
        case ItemType.DATE:
            return "1961-03-05"
        case ItemType.PHONE:
            return "(555) 010-0199"
        case ItemType.SINGLE_CHOICE:
            return max(item.choices, key=lambda c: len(c.label.get(language))).value
        case ItemType.MULTI_CHOICE:
            return tuple(str(c.value) for c in item.choices if not c.exclusive)
        case ItemType.YES_NO | ItemType.AGREE:
            return True
        case ItemType.SCALE:
            return 7
        case ItemType.LIST:
            return ({c.id: f"{c.id} {'x' * 30}" for c in item.columns},) * 3
    raise AssertionError(item.type)


def _review_entries(packet: Packet, texts: Texts, *, missing: str = "") -> list[ReviewEntry]:
    """Entries as the flow builds them, every question answered except ``missing``."""
    answers: dict[str, AnswerValue] = {
        item.id: _sample_answer(item, texts.language)
        for form in packet.forms
        for item in form.items
        if item.id != missing
    }
    return review_entries(Visit(packet, texts.language, answers=answers), texts)


def _signature_screen(packet: Packet, texts: Texts) -> SignatureScreen:
    statement = packet.consent.statement.get(texts.language)
    return SignatureScreen(statement, NAME, texts, progress=PROGRESS)


def _section_screen(packet: Packet, texts: Texts, section_id: str) -> SectionScreen:
    sections = packet.consent.sections
    index = next(i for i, s in enumerate(sections) if s.id == section_id)
    return SectionScreen(
        sections[index],
        texts,
        progress=PROGRESS,
        part=(index + 1, len(sections)),
        heading=texts.local(packet.consent.title),
    )


def _label_texts(root: QWidget) -> list[str]:
    return [lbl.text() for lbl in root.findChildren(QLabel) if lbl.isVisible()]


# --- accessibility and fit, screen by screen --------------------------------------------------

# (kind, language, key): one per screen the patient can see, in both languages.
ScreenSpec = tuple[str, str, str]
SCREENS: list[ScreenSpec] = [
    ("welcome", "", ""),
    ("language", "", ""),
    *[
        spec
        for lang in LANGUAGES
        for spec in [
            *[("question", lang, f"{form_id}/{page_id}") for form_id, page_id in PAGE_IDS],
            ("review", lang, ""),
            ("review", lang, "missing"),
            *[("section", lang, section_id) for section_id in SECTION_IDS],
            ("reteach", lang, SECTION_IDS[0]),
            *[("quiz", lang, question_id) for question_id in QUIZ_IDS],
            ("attest", lang, ""),
            ("signature", lang, ""),
            ("typed", lang, ""),
            ("paper", lang, ""),
            ("still_there", lang, ""),
            ("display", lang, ""),
            ("done", lang, ""),
        ]
    ],
]


def _build(spec: ScreenSpec, packet: Packet, strings: Strings) -> QWidget:
    kind, language, key = spec
    texts = Texts(strings, language or "en")
    match kind:
        case "welcome":
            return WelcomeScreen(strings, "Riverside Pain Clinic")
        case "language":
            return LanguageScreen(strings)
        case "question":
            form_id, page_id = key.split("/")
            return _question(packet, texts, form_id, page_id)
        case "review":
            entries = _review_entries(packet, texts, missing="phone" if key else "")
            return ReviewScreen(entries, texts, progress=PROGRESS)
        case "section":
            return _section_screen(packet, texts, key)
        case "reteach":
            screen = _section_screen(packet, texts, key)
            screen.show_notice(texts("quiz.reteach"))
            return screen
        case "quiz":
            assert packet.consent.quiz is not None
            question = packet.consent.quiz.question(key)
            return quiz_screen(question, (2, 8), texts, progress=PROGRESS)
        case "attest":
            return attestation_screen(packet.consent, {}, texts, progress=PROGRESS)
        case "typed":
            statement = packet.consent.statement.get(texts.language)
            return TypedSignatureScreen(statement, texts, progress=PROGRESS)
        case "paper":
            return PaperScreen(texts, progress=PROGRESS)
        case "still_there" | "display":
            holder = QWidget()  # the overlay covers this, as it covers the kiosk window
            if kind == "display":
                DisplayPanel(holder, texts, Appearance(text_size=2.0, high_contrast=True))
            else:
                StillThereOverlay(holder, texts, 30)
            return holder
        case "signature":
            return _signature_screen(packet, texts)
        case "done":
            return DoneScreen(texts, 30)
    raise AssertionError(kind)


def _assert_named_big_and_inside(window: QWidget) -> None:
    widgets = interactive_widgets(window)
    assert widgets, "a screen with nothing to tap"
    for widget in widgets:
        assert widget.objectName(), describe(widget)
        assert widget.accessibleName().strip(), describe(widget)
        if not widget.isVisibleTo(window):
            continue
        if isinstance(widget, QAbstractButton | QLineEdit | QComboBox):
            size = widget.size()
            assert size.width() >= MIN_TARGET and size.height() >= MIN_TARGET, (
                f"{describe(widget)} is {size.width()}x{size.height()}"
            )
        if isinstance(widget, QAbstractButton | QComboBox):  # their text never wraps
            needed = widget.sizeHint().width()
            assert widget.width() >= needed, (
                f"{describe(widget)} is {widget.width()} px wide; its text needs {needed} px"
            )
        left = widget.mapTo(window, QPoint(0, 0)).x()
        assert left >= 0 and left + widget.width() <= window.width(), (
            f"{describe(widget)} spans x={left}..{left + widget.width()} "
            f"in a {window.width()} px window"
        )
        area = enclosing_scroll_area(widget)
        if area is None:  # nothing scrolls: it must fit on the screen
            top = widget.mapTo(window, QPoint(0, 0)).y()
            assert top >= 0 and top + widget.height() <= window.height(), (
                f"{describe(widget)} spans y={top}..{top + widget.height()}"
            )
        else:  # it scrolls up and down only, so it must fit the viewport's width
            viewport = area.viewport()
            x = widget.mapTo(viewport, QPoint(0, 0)).x()
            assert x >= 0 and x + widget.width() <= viewport.width(), (
                f"{describe(widget)} spans x={x}..{x + widget.width()} "
                f"in a {viewport.width()} px wide viewport"
            )


def _assert_no_horizontal_scrolling(window: QWidget) -> None:
    for area in window.findChildren(QScrollArea):
        content = area.widget()
        assert content is not None
        assert not area.horizontalScrollBar().isVisible()
        assert content.width() <= area.viewport().width(), (
            f"content is {content.width()} px wide in a {area.viewport().width()} px viewport"
        )
        assert content.minimumSizeHint().width() <= area.viewport().width(), (
            f"content needs {content.minimumSizeHint().width()} px "
            f"in a {area.viewport().width()} px viewport"
        )


def _assert_labels_not_cut(window: QWidget) -> None:
    for lbl in window.findChildren(QLabel):
        if not lbl.isVisibleTo(window) or not lbl.text():
            continue
        if lbl.wordWrap():
            needed = lbl.heightForWidth(lbl.width())
            assert lbl.height() >= needed, (
                f"label {lbl.objectName()!r} {lbl.text()[:40]!r} is {lbl.height()} px high, "
                f"needs {needed}"
            )
        else:
            assert lbl.width() >= lbl.sizeHint().width(), (
                f"label {lbl.objectName()!r} {lbl.text()[:40]!r} is {lbl.width()} px wide, "
                f"needs {lbl.sizeHint().width()}"
            )


def _check_screen(window: QWidget, size: tuple[int, int] = (1280, 800)) -> None:
    assert (window.width(), window.height()) == size  # the window did not grow to fit
    layout = window.layout()
    item = layout.itemAt(0) if layout is not None else None
    screen = item.widget() if item is not None else None
    assert screen is not None
    needed = screen.minimumSizeHint().width()
    assert needed <= size[0], f"the screen needs {needed} px; a real window would grow"
    _assert_named_big_and_inside(window)
    _assert_no_horizontal_scrolling(window)
    _assert_labels_not_cut(window)


@pytest.mark.parametrize("spec", SCREENS, ids=["-".join(filter(None, s)) for s in SCREENS])
def test_every_screen_is_named_tappable_and_fits(
    show: Show, packet: Packet, strings: Strings, spec: ScreenSpec
) -> None:
    _check_screen(show(_build(spec, packet, strings)))


@pytest.fixture
def largest_text(themed_app: QApplication) -> Iterator[None]:
    """The whole kiosk at 200% text, as a patient with poor eyesight chooses it."""
    themed_app.setStyleSheet(stylesheet(Appearance(text_size=2.0)))
    yield
    themed_app.setStyleSheet(stylesheet())


@pytest.mark.parametrize("spec", SCREENS, ids=["-".join(filter(None, s)) for s in SCREENS])
def test_every_screen_fits_the_tablet_upright(
    show_portrait: Show, packet: Packet, strings: Strings, spec: ScreenSpec
) -> None:
    _check_screen(show_portrait(_build(spec, packet, strings)), (800, 1280))


# Welcome and the language choice come before a patient can choose a size (and the size goes
# back to normal on Welcome for the next patient), so they are only ever shown at 100%.
SIZED_SCREENS = [spec for spec in SCREENS if spec[0] not in ("welcome", "language")]


@pytest.mark.parametrize(
    "spec", SIZED_SCREENS, ids=["-".join(filter(None, s)) for s in SIZED_SCREENS]
)
def test_every_screen_still_fits_at_200_percent_text(
    show: Show, packet: Packet, strings: Strings, spec: ScreenSpec, largest_text: None
) -> None:
    screen = _build(spec, packet, strings)
    window = show(screen)
    title = screen.findChild(QLabel, "screenTitle")
    if title is not None:
        assert title.font().pixelSize() == 68  # 34 px doubled: the size really changed
    _check_screen(window)


QUESTION_SCREENS = [spec for spec in SCREENS if spec[0] == "question"]


@pytest.mark.parametrize("spec", QUESTION_SCREENS, ids=["-".join(s[1:]) for s in QUESTION_SCREENS])
def test_pages_with_messages_while_editing_from_review_still_fit(
    show: Show, packet: Packet, strings: Strings, spec: ScreenSpec
) -> None:
    """A message over every answer and the longer "Save and go back to review" button."""
    _, language, key = spec
    form_id, page_id = key.split("/")
    texts = Texts(strings, language)
    screen = _question(packet, texts, form_id, page_id, editing_from_review=True)
    screen.show_problems(dict.fromkeys(screen.widgets, AnswerProblem.DATE_INVALID))
    window = show(screen)
    assert all(error.isVisible() for error in screen.errors.values())
    _check_screen(window)


def test_the_check_itself_catches_a_small_unnamed_button(show: Show) -> None:
    """The accessibility check above can fail: a tiny, nameless button is caught."""
    holder = QWidget()
    layout = QVBoxLayout(holder)
    tiny = QPushButton("x")
    tiny.setStyleSheet("padding: 0; min-height: 0; min-width: 0; max-height: 20px; max-width: 20px")
    layout.addWidget(tiny)
    window = show(holder)
    with pytest.raises(AssertionError):
        _assert_named_big_and_inside(window)
    tiny.setObjectName("tiny")
    tiny.setAccessibleName("Tiny")
    with pytest.raises(AssertionError, match=r"is \d+x\d+"):
        _assert_named_big_and_inside(window)


# --- welcome and language ---------------------------------------------------------------------


def test_welcome_greets_in_both_languages_and_starts(
    qtbot: QtBot, show: Show, strings: Strings
) -> None:
    screen = WelcomeScreen(strings, "Riverside Pain Clinic")
    show(screen)
    shown = _label_texts(screen)
    assert {"Riverside Pain Clinic", "Welcome", "Bienvenido"} <= set(shown)
    assert screen.start_button.text() == "Tap to start\nToque para empezar"
    with qtbot.waitSignal(screen.started, timeout=1000):
        tap(qtbot, screen.start_button)


@pytest.mark.parametrize("language", LANGUAGES)
def test_language_buttons_say_which_language_was_chosen(
    qtbot: QtBot, show: Show, strings: Strings, language: str
) -> None:
    screen = LanguageScreen(strings)
    show(screen)
    assert [screen.buttons[lang].text() for lang in LANGUAGES] == ["English", "Español"]
    with qtbot.waitSignal(screen.language_chosen, timeout=1000) as blocker:
        tap(qtbot, screen.buttons[language])
    assert blocker.args == [language]


# --- question pages ---------------------------------------------------------------------------


def test_a_required_answer_shows_a_kind_message_that_goes_when_typing(
    qtbot: QtBot, show: Show, packet: Packet, texts_en: Texts
) -> None:
    screen = _question(packet, texts_en, "intake", "name_page")
    show(screen)
    error = screen.errors["patient_name"]
    name = screen.widgets["patient_name"]
    assert isinstance(name, TextAnswer)
    assert not error.isVisible()
    screen.show_problems({"patient_name": AnswerProblem.REQUIRED})
    assert error.isVisible()
    assert error.text() == "Please answer this question."
    assert error.accessibleName() == "Please answer this question."
    assert name.edit.property("invalid") is True
    name.edit.setFocus()
    QTest.keyClicks(name.edit, "R")
    assert not error.isVisible()
    assert name.edit.property("invalid") is False
    assert name.edit.text() == "R"


def test_messages_are_in_the_patients_language(show: Show, packet: Packet, texts_es: Texts) -> None:
    screen = _question(packet, texts_es, "intake", "birth_date_page")
    show(screen)
    screen.show_problems({"birth_date": AnswerProblem.REQUIRED})
    assert screen.errors["birth_date"].isVisible()
    assert screen.errors["birth_date"].text() == "Por favor conteste esta pregunta."


def test_only_the_answer_with_a_problem_is_marked(
    qtbot: QtBot, show: Show, packet: Packet, texts_en: Texts
) -> None:
    screen = _question(packet, texts_en, "intake", "emergency_contact_page")
    show(screen)
    screen.show_problems({"emergency_contact_phone": AnswerProblem.PHONE_INVALID})
    assert not screen.errors["emergency_contact_name"].isVisible()
    assert screen.errors["emergency_contact_phone"].isVisible()
    assert (
        screen.errors["emergency_contact_phone"]
        .text()
        .startswith("Please enter a 10-digit phone number")
    )
    screen.show_problems({})
    assert not screen.errors["emergency_contact_phone"].isVisible()


def test_choosing_an_answer_clears_its_message(
    qtbot: QtBot, show: Show, packet: Packet, texts_en: Texts
) -> None:
    screen = _question(packet, texts_en, "pain_history", "pain_now_page")
    show(screen)
    screen.show_problems({"pain_now": AnswerProblem.REQUIRED})
    assert screen.errors["pain_now"].isVisible()
    scale = screen.widgets["pain_now"]
    assert isinstance(scale, ScaleAnswer)
    five = scale.button_for(5)
    assert five is not None
    tap(qtbot, five)
    assert not screen.errors["pain_now"].isVisible()


def test_values_are_the_raw_answers_on_screen(show: Show, packet: Packet, texts_en: Texts) -> None:
    screen = _question(packet, texts_en, "intake", "birth_date_page")
    show(screen)
    date = screen.widgets["birth_date"]
    assert isinstance(date, DateAnswer)
    assert screen.values() == {"birth_date": None}
    date.month.setCurrentIndex(3)
    date.day.setText("5")
    date.year.setText("1961")
    assert screen.values() == {"birth_date": "1961-3-5"}  # raw; the domain normalises


def test_a_page_of_two_questions_gives_both_values(
    qtbot: QtBot, show: Show, packet: Packet, texts_en: Texts
) -> None:
    screen = _question(packet, texts_en, "intake", "emergency_contact_page")
    show(screen)
    shown = _label_texts(screen)
    assert "Their full name" in shown and "Their phone number" in shown
    for item_id, value in (
        ("emergency_contact_name", "Luis Prueba Ibáñez"),
        ("emergency_contact_phone", "555 010 0142"),
    ):
        widget = screen.widgets[item_id]
        assert isinstance(widget, TextAnswer)
        widget.edit.setText(value)
    expected = {
        "emergency_contact_name": "Luis Prueba Ibáñez",
        "emergency_contact_phone": "555 010 0142",
        "emergency_contact_relationship": "",  # optional, left empty
    }
    assert screen.values() == expected
    with qtbot.waitSignal(screen.submitted, timeout=1000) as blocker:
        tap(qtbot, screen.primary_button)
    assert blocker.args == [expected]


def test_stored_answers_are_shown_again(show: Show, packet: Packet, texts_en: Texts) -> None:
    screen = _question(packet, texts_en, "pain_history", "pain_now_page", {"pain_now": 7})
    show(screen)
    buttons = screen.widgets["pain_now"].findChildren(QAbstractButton)
    assert [b.text() for b in buttons if b.isChecked()] == ["7"]
    assert screen.values() == {"pain_now": 7}


def test_progress_title_and_buttons(show: Show, packet: Packet, texts_en: Texts) -> None:
    screen = _question(packet, texts_en, "intake", "phone_page")
    show(screen)
    assert screen.progress_label.text() == "Step 3 of 24"
    assert screen.heading_label.text() == "About you"
    assert "Your phone number" in _label_texts(screen)
    assert screen.primary_button.text() == "Next"
    assert screen.back_button.isVisible() and screen.back_button.text() == "Back"


def test_the_first_page_has_no_back_button(show: Show, packet: Packet, texts_en: Texts) -> None:
    page = _page(packet, "intake", "name_page")
    screen = QuestionScreen(page, page.items, {}, texts_en, progress=(1, 24), can_go_back=False)
    show(screen)
    assert not screen.back_button.isVisible()


@pytest.mark.parametrize(
    ("language", "normal", "editing"),
    [
        ("en", "Next", "Save and go back to review"),
        ("es", "Siguiente", "Guardar y volver a revisar"),
    ],
)
def test_editing_from_review_says_where_the_button_goes(
    show: Show, packet: Packet, strings: Strings, language: str, normal: str, editing: str
) -> None:
    texts = Texts(strings, language)
    plain = _question(packet, texts, "pain_history", "pain_now_page")
    editing_screen = _question(
        packet, texts, "pain_history", "pain_now_page", editing_from_review=True
    )
    show(plain)
    show(editing_screen)
    assert plain.primary_button.text() == normal
    assert editing_screen.primary_button.text() == editing
    assert editing_screen.primary_button.accessibleName() == editing


def test_back_is_emitted(qtbot: QtBot, show: Show, packet: Packet, texts_en: Texts) -> None:
    screen = _question(packet, texts_en, "intake", "phone_page")
    show(screen)
    with qtbot.waitSignal(screen.back_requested, timeout=1000):
        tap(qtbot, screen.back_button)


# --- review -----------------------------------------------------------------------------------


def test_review_lists_every_answer_and_confirms(
    qtbot: QtBot, show: Show, packet: Packet, texts_en: Texts
) -> None:
    entries = _review_entries(packet, texts_en)
    screen = ReviewScreen(entries, texts_en, progress=PROGRESS)
    show(screen)
    shown = _label_texts(screen)
    for expected in (NAME, "March 5, 1961", "(555) 010-0199", "7 / 10"):
        assert expected in shown
    assert "Your phone number" in shown
    groups = [
        lbl.text() for lbl in screen.findChildren(QLabel) if lbl.objectName() == "reviewGroup"
    ]
    assert groups == [form.title.get("en") for form in packet.forms]  # each form once, in order
    assert not screen.missing.isVisible()
    assert screen.primary_button.isEnabled()
    assert screen.primary_button.text() == "Everything is correct"
    with qtbot.waitSignal(screen.confirmed, timeout=1000):
        tap(qtbot, screen.primary_button)


def test_a_missing_answer_blocks_confirming_and_says_why(
    qtbot: QtBot, show: Show, packet: Packet, texts_en: Texts
) -> None:
    entries = _review_entries(packet, texts_en, missing="phone")
    screen = ReviewScreen(entries, texts_en, progress=PROGRESS)
    show(screen)
    assert not screen.primary_button.isEnabled()
    assert screen.missing.isVisible()
    assert screen.missing.text() == (
        "Some questions still need an answer. Tap “Change” to answer them."
    )
    assert "Not answered" in _label_texts(screen)
    with qtbot.assertNotEmitted(screen.confirmed):
        QTest.mouseClick(screen.primary_button, Qt.MouseButton.LeftButton)


def test_change_reopens_that_page(
    qtbot: QtBot, show: Show, packet: Packet, texts_en: Texts
) -> None:
    screen = ReviewScreen(_review_entries(packet, texts_en), texts_en, progress=PROGRESS)
    show(screen)
    change = screen.change_buttons["pain_now_page"][0]
    assert isinstance(change, QAbstractButton)
    assert change.text() == "Change"
    assert change.accessibleName() == "Change: How bad is your pain right now, from 0 to 10?"
    with qtbot.waitSignal(screen.change_requested, timeout=1000) as blocker:
        tap(qtbot, change)
    assert blocker.args == ["pain_now_page"]


def test_review_in_spanish(show: Show, packet: Packet, texts_es: Texts) -> None:
    screen = ReviewScreen(_review_entries(packet, texts_es), texts_es, progress=PROGRESS)
    show(screen)
    shown = _label_texts(screen)
    assert "5 de marzo de 1961" in shown
    assert screen.primary_button.text() == "Todo está correcto"
    change = screen.change_buttons["phone_page"][0]
    assert isinstance(change, QAbstractButton) and change.text() == "Cambiar"


# --- consent sections -------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_section_shows_its_words_and_is_read(
    qtbot: QtBot, show: Show, packet: Packet, strings: Strings, language: str
) -> None:
    texts = Texts(strings, language)
    section = packet.consent.sections[1]
    screen = _section_screen(packet, texts, section.id)
    show(screen)
    shown = _label_texts(screen)
    assert section.title.get(language) in shown
    total = len(packet.consent.sections)
    part = "About your treatment — part" if language == "en" else "Sobre su tratamiento — parte"
    assert f"{part} 2 {'of' if language == 'en' else 'de'} {total}" in shown
    first_paragraph = " ".join(section.body.get(language).split("\n\n")[0].split())
    assert first_paragraph in shown
    with qtbot.waitSignal(screen.read, timeout=1000):
        tap(qtbot, screen.primary_button)
    with qtbot.waitSignal(screen.back_requested, timeout=1000):
        tap(qtbot, screen.back_button)


def test_a_long_section_counts_as_read_only_once_scrolled_to_the_end(
    qtbot: QtBot, show: Show, packet: Packet, texts_en: Texts
) -> None:
    longest = max(packet.consent.sections, key=lambda s: len(s.body.get("en")))
    screen = _section_screen(packet, texts_en, longest.id)
    show(screen)
    bar = screen.scroll_area.verticalScrollBar()
    assert bar.maximum() > 0, "the longest section should need scrolling at 1280x800"
    assert not screen.reached_end()
    bar.setValue(bar.maximum() // 2)
    assert not screen.reached_end()
    bar.setValue(bar.maximum())
    bar.setValue(0)  # scrolling back up does not undo having read it
    assert screen.reached_end()
    qtbot.wait(30)
    assert 0.02 <= screen.seconds_shown() < 60


def test_a_short_section_that_fits_counts_as_read_to_the_end(
    show: Show, packet: Packet, texts_en: Texts
) -> None:
    shortest = min(packet.consent.sections, key=lambda s: len(s.body.get("en")))
    screen = _section_screen(packet, texts_en, shortest.id)
    assert screen.seconds_shown() == 0.0  # not on screen yet
    show(screen)
    if screen.scroll_area.verticalScrollBar().maximum() == 0:
        assert screen.reached_end()
    else:  # at 1280x800 even the shortest scrolls: then it must be scrolled
        assert not screen.reached_end()


# --- done -------------------------------------------------------------------------------------


def test_done_goes_back_by_itself(qtbot: QtBot, show: Show, texts_en: Texts) -> None:
    screen = DoneScreen(texts_en, seconds=1)
    show(screen)
    assert "Thank you!" in _label_texts(screen)
    with qtbot.waitSignal(screen.finished, timeout=3000):
        pass


def test_finish_is_emitted_once_not_twice(qtbot: QtBot, show: Show, texts_en: Texts) -> None:
    screen = DoneScreen(texts_en, seconds=1)
    show(screen)
    emitted: list[None] = []
    screen.finished.connect(lambda: emitted.append(None))
    tap(qtbot, screen.finish_button)
    assert len(emitted) == 1
    tap(qtbot, screen.finish_button)  # a second, impatient tap
    qtbot.wait(1500)  # past the moment the countdown would have ended
    assert len(emitted) == 1


def test_done_counts_down_in_spanish(qtbot: QtBot, show: Show, texts_es: Texts) -> None:
    screen = DoneScreen(texts_es, seconds=5)
    show(screen)
    assert screen.countdown.text() == "Esta pantalla volverá al inicio en 5 segundos."
    qtbot.waitUntil(
        lambda: screen.countdown.text() == "Esta pantalla volverá al inicio en 4 segundos.",
        timeout=3000,
    )
    assert screen.finish_button.text() == "Terminar"
