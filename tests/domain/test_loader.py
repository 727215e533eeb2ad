"""The YAML loader: every problem at once with ``file:line``; the packet; the strings files."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.domain.errors import FormError, Problem
from kiosk.domain.loader import check_paths, load_document, load_packet
from kiosk.domain.model import (
    Compare,
    Comparison,
    ConsentDocument,
    Form,
    ItemType,
    Packet,
)
from kiosk.domain.strings import load_strings
from tests.domain.conftest import INTAKE_YAML, PACKET_YAML

BROKEN_YAML = """\
kind: questionnaire
id: broken
version: 1
title: {en: Broken form, es: Formulario roto}
pages:
  - id: first
    titel: {en: First, es: Primero}
    items:
      - id: mood
        type: single_choice
        text: {en: Your mood}
        choices:
          - {value: yes, label: {en: Good, es: Bien}}
          - {value: 'no', label: {en: Bad, es: Mal}}
      - id: mood
        type: scale
        text: {en: Mood again, es: Otra vez}
      - id: notes
        type: text
        text: {en: Notes, es: Notas}
        text: {en: Notes twice, es: Notas dos veces}
  - id: second
    show_if: {item: moood, equals: 'no'}
    items:
      - id: pain_level
        type: scale
        text: {en: Pain, es: Dolor}
      - id: pain_detail
        type: text
        show_if: {item: pain_level, gte: 5}
        text: {en: Tell us, es: Díganos}
scores:
  - id: with_text
    method: sum
    items: [pain_level, notes]
    label: {en: Total, es: Total}
  - id: overlapping
    method: sum
    items: [pain_level]
    label: {en: Overlapping, es: Superpuesto}
    bands:
      - {id: low, min: 0, max: 5, label: {en: Low, es: Bajo}}
      - {id: high, min: 5, max: 10, label: {en: High, es: Alto}}
  - id: gappy
    method: sum
    items: [pain_level]
    label: {en: Gappy, es: Con hueco}
    bands:
      - {id: low, min: 0, max: 3, label: {en: Low, es: Bajo}}
      - {id: high, min: 5, max: 10, label: {en: High, es: Alto}}
"""

INVALID_YAML = """\
kind: questionnaire
id: not_yaml
  version: 1
title: {en: X, es: X}
"""


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """The 1-based number of the ``occurrence``-th line of ``text`` containing ``needle``."""
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(hits) >= occurrence, f"{needle!r} occurs {len(hits)} times"
    return hits[occurrence - 1]


# (what is wrong, line as (needle, occurrence), fragments the message must contain)
BROKEN_EXPECTED: list[tuple[str, tuple[str, int], tuple[str, ...]]] = [
    ("unknown key", ("titel:", 1), ("unknown key 'titel'", "did you mean 'title'")),
    ("missing es", ("text: {en: Your mood}", 1), ("item 'mood'", "no 'es' text")),
    ("yes unquoted", ("value: yes", 1), ("True", "quoted text")),
    ("duplicate item id", ("- id: mood", 2), ("item id 'mood' is used twice",)),
    ("duplicate key", ("text: {en: Notes twice", 1), ("key 'text' appears twice",)),
    (
        "show_if unknown item",
        ("item: moood", 1),
        ("refers to 'moood'", "did you mean 'mood'"),
    ),
    (
        "show_if same page",
        ("item: pain_level, gte", 1),
        ("refers to 'pain_level'", "it is on this page"),
    ),
    (
        "score adds a text item",
        ("items: [pain_level, notes]", 1),
        ("score 'with_text'", "'notes'", "no numeric answers"),
    ),
    (
        "overlapping bands",
        ("- {id: high, min: 5", 1),
        ("band 'high' overlaps band 'low'",),
    ),
    ("band gap", ("bands:", 2), ("score 'gappy'", "0–10", "no band covers 4")),
]


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _problems(path: Path) -> list[Problem]:
    with pytest.raises(FormError) as caught:
        load_document(path)
    return caught.value.problems


def _find(problems: list[Problem], line: int, fragments: tuple[str, ...]) -> Problem | None:
    return next(
        (p for p in problems if p.line == line and all(f in p.message for f in fragments)), None
    )


# --- one file with many mistakes ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("what", "where", "fragments"), BROKEN_EXPECTED, ids=[e[0] for e in BROKEN_EXPECTED]
)
def test_each_mistake_is_reported_at_its_line(
    tmp_path: Path, what: str, where: tuple[str, int], fragments: tuple[str, ...]
) -> None:
    path = _write(tmp_path, "broken.yaml", BROKEN_YAML)
    problems = _problems(path)
    line = line_of(BROKEN_YAML, *where)
    found = _find(problems, line, fragments)
    assert found is not None, f"{what}: no problem at line {line} with {fragments}: {problems}"
    assert found.file == str(path)
    assert str(found) == f"{path}:{line}: {found.message}"


def test_all_mistakes_come_in_one_form_error_and_nothing_else(tmp_path: Path) -> None:
    path = _write(tmp_path, "broken.yaml", BROKEN_YAML)
    with pytest.raises(FormError) as caught:
        load_document(path)
    problems = caught.value.problems
    assert len(problems) == len(BROKEN_EXPECTED), "\n".join(map(str, problems))
    for _what, where, fragments in BROKEN_EXPECTED:
        assert _find(problems, line_of(BROKEN_YAML, *where), fragments) is not None
    assert {p.file for p in problems} == {str(path)}
    # The exception's text is one "file:line: message" line per problem.
    assert str(caught.value).splitlines() == [str(p) for p in problems]


def test_problem_str_is_file_colon_line_colon_message() -> None:
    assert str(Problem("forms/x.yaml", 12, "bad thing")) == "forms/x.yaml:12: bad thing"


def test_invalid_yaml_is_reported_with_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "not_yaml.yaml", INVALID_YAML)
    problems = _problems(path)
    assert len(problems) == 1
    assert problems[0].line == line_of(INVALID_YAML, "  version: 1")
    assert "not valid YAML" in problems[0].message
    assert str(problems[0]).startswith(f"{path}:3: not valid YAML")


def test_unclosed_bracket_is_reported_as_invalid_yaml(tmp_path: Path) -> None:
    text = "kind: questionnaire\nid: x\ntitle: {en: X, es: X\nversion: 1\npages: []\n"
    problems = _problems(_write(tmp_path, "x.yaml", text))
    assert len(problems) == 1
    assert "not valid YAML" in problems[0].message
    assert problems[0].line >= 3


def test_duplicate_top_level_key_points_at_the_second_one(tmp_path: Path) -> None:
    text = INTAKE_YAML.replace("version: 3\n", "version: 3\nversion: 4\n", 1)
    problems = _problems(_write(tmp_path, "intake.yaml", text))
    assert [(p.line, p.message) for p in problems] == [
        (line_of(text, "version: 4"), "key 'version' appears twice in the same place")
    ]


def test_misspelt_top_level_key_does_not_hide_the_other_mistakes(tmp_path: Path) -> None:
    """DESIGN §3: all problems at once. A misspelt required key must not stop the reading."""
    text = BROKEN_YAML.replace("title: {en: Broken form", "titel: {en: Broken form")
    problems = _problems(_write(tmp_path, "broken.yaml", text))
    top = _find(problems, line_of(text, "titel: {en: Broken"), ("did you mean 'title'",))
    assert top is not None, problems
    # The mistakes further down are still reported in the same FormError.
    assert _find(problems, line_of(text, "- id: mood", 2), ("used twice",)) is not None, problems
    assert _find(problems, line_of(text, "item: moood"), ("did you mean 'mood'",)) is not None


def test_unknown_kind_suggests_the_nearest(tmp_path: Path) -> None:
    text = INTAKE_YAML.replace("kind: questionnaire", "kind: questionaire")
    problems = _problems(_write(tmp_path, "intake.yaml", text))
    assert len(problems) == 1
    assert problems[0].line == 1
    assert "did you mean 'questionnaire'" in problems[0].message


def test_text_in_one_language_only_is_refused(tmp_path: Path) -> None:
    text = INTAKE_YAML.replace(
        "text: {en: Your full name, es: Su nombre completo}", "text: Your full name"
    )
    problems = _problems(_write(tmp_path, "intake.yaml", text))
    assert len(problems) == 1
    assert problems[0].line == line_of(text, "text: Your full name")
    assert "needs every language" in problems[0].message


def test_choice_set_typo_suggests_the_defined_set(tmp_path: Path) -> None:
    text = (
        INTAKE_YAML.replace(
            "pages:\n",
            "choice_sets:\n  reasons:\n"
            "    - {value: pain, label: {en: Pain, es: Dolor}}\n"
            "    - {value: other, label: {en: Other, es: Otro}}\npages:\n",
            1,
        )
        .replace(
            "        choices:\n          - {value: pain, label: {en: Pain, es: Dolor}}\n",
            "        choices: reason\n",
        )
        .replace("          - {value: depression, label: {en: Depression, es: Depresión}}\n", "")
        .replace("          - {value: other, label: {en: Something else, es: Otra cosa}}\n", "")
    )
    problems = _problems(_write(tmp_path, "intake.yaml", text))
    assert len(problems) == 1, problems
    assert problems[0].line == line_of(text, "choices: reason")
    assert "did you mean 'reasons'" in problems[0].message


def test_a_packet_file_is_not_a_form(packet_dir: Path) -> None:
    problems = _problems(packet_dir / "packet.yaml")
    assert len(problems) == 1
    assert "packet, not a form" in problems[0].message


# --- a good file loads into the model -------------------------------------------------------------


def test_the_mini_packet_loads_into_the_model(packet: Packet, packet_dir: Path) -> None:
    assert (packet.id, packet.version) == ("test_packet", 1)
    intake = packet.form("intake")
    assert isinstance(intake, Form)
    assert intake.version == 3
    assert intake.source == str(packet_dir / "intake.yaml")
    assert [p.id for p in intake.pages] == ["who", "born", "reason", "reason_other", "pain"]
    assert intake.title.get("es") == "Admisión"
    reason = intake.item("visit_reason")
    assert reason.type is ItemType.SINGLE_CHOICE
    assert [c.value for c in reason.choices] == ["pain", "depression", "other"]
    assert intake.pages[3].show_if == Compare("visit_reason", Comparison.EQUALS, "other")
    pain = intake.item("pain_now")
    assert (pain.type, pain.minimum, pain.maximum) == (ItemType.SCALE, 0, 10)
    assert intake.item("pain_notes").required is False
    assert intake.item("full_name").max_length == 40
    assert intake.item("birth_date").past_only is True
    name_item = packet.identity_item("name")
    birth_item = packet.identity_item("birth_date")
    assert name_item is not None and name_item.id == "full_name"
    assert birth_item is not None and birth_item.id == "birth_date"
    consent = packet.consent
    assert isinstance(consent, ConsentDocument)
    assert (consent.id, consent.version) == ("ketamine_consent", 2)
    assert [s.id for s in consent.sections] == ["what_it_is", "risks"]


def test_a_single_consent_file_loads(packet_dir: Path) -> None:
    consent = load_document(packet_dir / "consent.yaml")
    assert isinstance(consent, ConsentDocument)
    assert consent.meaning.get("es") == "Consentimiento al tratamiento"


# --- packets and folders --------------------------------------------------------------------------


def test_packet_collects_problems_of_every_file_in_one_error(packet_dir: Path) -> None:
    _write(packet_dir, "broken.yaml", BROKEN_YAML)
    _write(packet_dir, "not_yaml.yaml", INVALID_YAML)
    with pytest.raises(FormError) as caught:
        load_packet(packet_dir)
    problems = caught.value.problems
    broken = [p for p in problems if p.file == str(packet_dir / "broken.yaml")]
    invalid = [p for p in problems if p.file == str(packet_dir / "not_yaml.yaml")]
    assert len(broken) == len(BROKEN_EXPECTED)
    assert [(p.line, "not valid YAML" in p.message) for p in invalid] == [(3, True)]
    assert len(problems) == len(broken) + len(invalid)


def test_packet_listing_a_missing_form_suggests_the_nearest(packet_dir: Path) -> None:
    text = PACKET_YAML.replace("forms: [intake]", "forms:\n  - intak")
    _write(packet_dir, "packet.yaml", text)
    with pytest.raises(FormError) as caught:
        load_packet(packet_dir)
    missing = [p for p in caught.value.problems if "intak'" in p.message]
    assert len(missing) == 1
    assert missing[0].file == str(packet_dir / "packet.yaml")
    assert missing[0].line == line_of(text, "- intak")
    assert "packet lists form 'intak'" in missing[0].message
    assert "did you mean 'intake'" in missing[0].message


def test_packet_naming_a_missing_consent_suggests_the_nearest(packet_dir: Path) -> None:
    text = PACKET_YAML.replace("consent: ketamine_consent", "consent: ketamine_consnt")
    _write(packet_dir, "packet.yaml", text)
    with pytest.raises(FormError) as caught:
        load_packet(packet_dir)
    assert [(p.line, p.message) for p in caught.value.problems] == [
        (
            line_of(text, "consent: ketamine_consnt"),
            f"packet consent 'ketamine_consnt' is not a consent in {packet_dir}"
            "; did you mean 'ketamine_consent'?",
        )
    ]


def test_packet_without_identity_items_is_refused(packet_dir: Path) -> None:
    text = INTAKE_YAML.replace("        identity: name\n", "").replace(
        "        identity: birth_date\n", ""
    )
    assert "identity" not in text
    _write(packet_dir, "intake.yaml", text)
    with pytest.raises(FormError) as caught:
        load_packet(packet_dir)
    forms_line = line_of(PACKET_YAML, "forms:")
    assert sorted((p.file, p.line, p.message) for p in caught.value.problems) == [
        (str(packet_dir / "packet.yaml"), forms_line, f"no item in the packet has 'identity: {r}'")
        for r in ("birth_date", "name")
    ]


def test_packet_listing_the_same_form_twice_is_refused(packet_dir: Path) -> None:
    """A form listed twice repeats its steps; the visit would loop on them for ever."""
    _write(
        packet_dir,
        "phq_short.yaml",
        "kind: questionnaire\nid: phq_short\nversion: 1\ntitle: {en: S, es: S}\npages:\n"
        "  - id: only\n    items:\n      - {id: interest, type: scale, text: {en: I, es: I}}\n",
    )
    _write(packet_dir, "packet.yaml", PACKET_YAML.replace("[intake]", "[intake, phq_short]"))
    assert [f.id for f in load_packet(packet_dir).forms] == ["intake", "phq_short"]
    text = PACKET_YAML.replace("forms: [intake]", "forms: [intake, phq_short, phq_short]")
    _write(packet_dir, "packet.yaml", text)
    with pytest.raises(FormError) as caught:
        load_packet(packet_dir)
    assert any("phq_short" in p.message for p in caught.value.problems)


def test_packet_must_be_present(tmp_path: Path) -> None:
    folder = tmp_path / "forms"
    _write(folder, "intake.yaml", INTAKE_YAML)
    with pytest.raises(FormError) as caught:
        load_packet(folder)
    assert [str(p) for p in caught.value.problems] == [
        f"{folder / 'packet.yaml'}:1: packet.yaml is missing or unreadable"
    ]


def test_check_paths_on_a_valid_packet_folder_finds_nothing(packet_dir: Path) -> None:
    assert check_paths([packet_dir]) == []


def test_check_paths_on_a_folder_with_a_packet_checks_it_whole(packet_dir: Path) -> None:
    _write(packet_dir, "broken.yaml", BROKEN_YAML)
    _write(packet_dir, "packet.yaml", PACKET_YAML.replace("[intake]", "[intake, phq10]"))
    problems = check_paths([packet_dir])
    assert len([p for p in problems if p.file.endswith("broken.yaml")]) == len(BROKEN_EXPECTED)
    assert any("packet lists form 'phq10'" in p.message for p in problems)


def test_check_paths_on_a_folder_without_packet_checks_every_file(tmp_path: Path) -> None:
    folder = tmp_path / "loose"
    _write(folder, "broken.yaml", BROKEN_YAML)
    _write(folder, "not_yaml.yaml", INVALID_YAML)
    _write(folder, "intake.yaml", INTAKE_YAML)
    _write(folder, "notes.txt", "not a form at all: [")
    problems = check_paths([folder])
    by_file: dict[str, int] = {}
    for p in problems:
        by_file[Path(p.file).name] = by_file.get(Path(p.file).name, 0) + 1
    assert by_file == {"broken.yaml": len(BROKEN_EXPECTED), "not_yaml.yaml": 1}


def test_check_paths_on_files_and_a_missing_path(tmp_path: Path) -> None:
    good = _write(tmp_path, "intake.yaml", INTAKE_YAML)
    bad = _write(tmp_path, "not_yaml.yaml", INVALID_YAML)
    ghost = tmp_path / "ghost.yaml"
    problems = check_paths([good, bad, ghost])
    assert [(p.file, p.line) for p in problems] == [(str(bad), 3), (str(ghost), 0)]
    assert problems[1].message == "no such file or folder"


# --- strings --------------------------------------------------------------------------------------


def test_load_strings_reads_every_file_and_looks_up_by_dotted_key(tmp_path: Path) -> None:
    folder = tmp_path / "strings"
    _write(
        folder,
        "nav.yaml",
        "nav:\n  next: {en: Next, es: Siguiente}\n  back: {en: Back, es: Atrás}\n",
    )
    _write(
        folder,
        "welcome.yaml",
        "welcome:\n  hello: {en: 'Hello, {name}!', es: '¡Hola, {name}!'}\n"
        "  empty_es: {en: Only English, es: ''}\n",
    )
    strings = load_strings(folder)
    assert strings.get("nav.next", "es") == "Siguiente"
    assert strings.get("nav.back", "en") == "Back"
    assert strings.get("welcome.hello", "es", name="Ana") == "¡Hola, Ana!"
    assert strings.get("welcome.hello", "en", name="Bo") == "Hello, Bo!"
    # A language without the text (or with it empty) falls back to English.
    assert strings.get("nav.next", "fr") == "Next"
    assert strings.get("welcome.empty_es", "es") == "Only English"
    assert "nav.back" in strings
    assert "nav" not in strings
    with pytest.raises(KeyError):
        strings.get("nav.forward", "en")


def test_load_strings_refuses_a_leaf_without_spanish(tmp_path: Path) -> None:
    folder = tmp_path / "strings"
    path = _write(folder, "nav.yaml", "nav:\n  next: {en: Next}\n  back: {en: Back, es: Atrás}\n")
    with pytest.raises(FormError) as caught:
        load_strings(folder)
    assert len(caught.value.problems) == 1
    problem = caught.value.problems[0]
    assert problem.file == str(path)
    assert "'nav.next'" in problem.message
    assert "es" in problem.message


def test_load_strings_refuses_a_key_defined_in_two_files(tmp_path: Path) -> None:
    folder = tmp_path / "strings"
    _write(folder, "a.yaml", "nav:\n  next: {en: Next, es: Siguiente}\n")
    _write(folder, "b.yaml", "nav:\n  next: {en: Onward, es: Adelante}\n")
    with pytest.raises(FormError) as caught:
        load_strings(folder)
    assert ["'nav.next' is defined twice" in p.message for p in caught.value.problems] == [True]


def test_load_strings_refuses_a_bare_string_leaf(tmp_path: Path) -> None:
    folder = tmp_path / "strings"
    _write(folder, "a.yaml", "nav:\n  next: Next\n")
    with pytest.raises(FormError) as caught:
        load_strings(folder)
    assert len(caught.value.problems) == 1
    assert "'nav.next'" in caught.value.problems[0].message


def test_a_condition_comparing_with_an_answer_the_item_cannot_have_is_reported(
    tmp_path: Path,
) -> None:
    form = tmp_path / "typo.yaml"
    form.write_text(
        "kind: questionnaire\n"
        "id: typo\n"
        "version: 1\n"
        "title: {en: T, es: T}\n"
        "pages:\n"
        "  - id: first\n"
        "    items:\n"
        "      - id: reason\n"
        "        type: single_choice\n"
        "        text: {en: Why, es: Por qué}\n"
        "        choices:\n"
        "          - {value: other, label: {en: Other, es: Otro}}\n"
        "          - {value: pain, label: {en: Pain, es: Dolor}}\n"
        "  - id: second\n"
        "    show_if: {item: reason, equals: othr}\n"
        "    items:\n"
        "      - {id: detail, type: text, text: {en: Tell us, es: Cuéntenos}}\n"
        "flags:\n"
        "  - id: pained\n"
        "    severity: review\n"
        "    when: {item: reason, in: [pain, true]}\n"
        "    message: {en: M, es: M}\n",
        encoding="utf-8",
    )
    with pytest.raises(FormError) as caught:
        load_document(form)
    messages = [str(p) for p in caught.value.problems]
    assert messages == [
        f"{form}:15: page 'second' compares 'reason' with 'othr', which is not one of its "
        "answers; did you mean 'other'?",
        f"{form}:21: flag 'pained' compares 'reason' with True, which is not one of its answers",
    ]


def test_consent_answers_name_questions_the_packet_asks(packet_dir: Path) -> None:
    text = PACKET_YAML + "consent_answers: [full_name, pain_nowe, pain_now, pain_now]\n"
    _write(packet_dir, "packet.yaml", text)
    with pytest.raises(FormError) as caught:
        load_packet(packet_dir)
    messages = [(p.line, p.message) for p in caught.value.problems]
    line = line_of(text, "consent_answers:")
    assert messages == [
        (
            line,
            "consent_answers lists 'pain_nowe', which no form in the packet asks; "
            "did you mean 'pain_now'?",
        ),
        (line, "consent_answers lists 'pain_now' twice"),
    ]
    _write(packet_dir, "packet.yaml", PACKET_YAML + "consent_answers: [full_name, pain_now]\n")
    assert load_packet(packet_dir).consent_answers == ("full_name", "pain_now")


def test_the_shipped_packet_prints_the_answers_that_matter_to_consent() -> None:
    from kiosk import paths

    shipped = load_packet(paths.FORMS_DIR)
    assert {"has_driver", "pregnancy", "last_food", "last_drink"} <= set(shipped.consent_answers)


SUMMARY_YAML = """\
summary_sections:
  - title: Why they came
    show:
      - visit_reason
      - pain_nwo
      - intake
  - title: Pain
    show: [pain_now]
"""


def test_summary_sections_name_forms_and_questions_the_packet_asks(packet_dir: Path) -> None:
    """A misspelt id is a problem at its line with the nearest name, never an empty section."""
    text = PACKET_YAML + SUMMARY_YAML
    _write(packet_dir, "packet.yaml", text)
    with pytest.raises(FormError) as caught:
        load_packet(packet_dir)
    assert [(p.file, p.line, p.message) for p in caught.value.problems] == [
        (
            str(packet_dir / "packet.yaml"),
            line_of(text, "- pain_nwo"),
            "summary section 'Why they came' shows 'pain_nwo', which is neither a form of the "
            "packet nor a question in one; did you mean 'pain_now'?",
        ),
        (
            str(packet_dir / "packet.yaml"),
            line_of(text, "- intake"),
            "summary section 'Why they came' shows 'visit_reason' twice",
        ),
    ]

    fixed = text.replace("      - pain_nwo\n", "").replace("      - intake\n", "")
    _write(packet_dir, "packet.yaml", fixed.replace("[pain_now]", "[intake]"))
    packet = load_packet(packet_dir)
    why, everything = packet.summary_sections
    assert (why.title, why.items) == ("Why they came", ("visit_reason",))
    # a form stands for every question it asks, in its order
    assert everything.title == "Pain"
    assert everything.items == tuple(item.id for item in packet.form("intake").items)
    assert "pain_now" in everything.items


def test_summary_sections_need_a_title_and_something_to_show(packet_dir: Path) -> None:
    text = PACKET_YAML + (
        "summary_sections:\n"
        "  - show: [pain_now]\n"
        "  - title: ' '\n"
        "    show: []\n"
        "  - title: Pain\n"
        "    shows: [pain_now]\n"
        "  - {title: Odd, show: [{item: pain_now}]}\n"
    )
    _write(packet_dir, "packet.yaml", text)
    with pytest.raises(FormError) as caught:
        load_packet(packet_dir)
    assert [(p.line, p.message) for p in caught.value.problems] == [
        (line_of(text, "- show:"), "summary section 1 is missing 'title'"),
        (line_of(text, "title: ' '"), "summary section 2 has an empty 'title'"),
        (line_of(text, "show: []"), "summary section 2 shows nothing; list a form or a question"),
        (
            line_of(text, "shows:"),
            "unknown key 'shows' in summary section 'Pain'; did you mean 'show'?",
        ),
        (line_of(text, "title: Pain"), "summary section 'Pain' is missing 'show'"),
        (
            line_of(text, "title: Odd"),
            "summary section 'Odd' shows {'item': 'pain_now'}; list form or question ids",
        ),
    ]
