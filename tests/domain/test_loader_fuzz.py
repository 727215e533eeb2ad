"""Hostile form files (issue 8): the loader loads them or raises its own located FormError.

Whatever an IT person (or an attacker with write access to ``forms/``) puts in a form file,
``kiosk forms check`` and the kiosk's start-up must answer with ``file:line: message`` lines,
never a traceback, a hang or a memory blow-up. The fuzz tests below feed the loader

* the shipped forms, mutated: keys deleted or renamed, values swapped for other types, huge
  strings and numbers, NaN and infinities, unknown and duplicate ids, deep nesting, shared
  values (anchors and aliases, even recursive ones), then, as text, a BOM, tabs, stray bytes
  (not UTF-8), NUL characters, cut-off files, second documents;
* arbitrary text, arbitrary bytes, and random strings of YAML's own syntax.

The outcome must be a loaded document whose fields have the model's types, or a ``FormError``
whose every problem names the file and a line inside it. The example-based tests at the end
pin down each bug the fuzzing found (and YAML bombs, which random inputs rarely build).

Example counts come from ``tests/hypothesis_profiles.py``: 2,000 per test under ``CI=true``.
"""

from __future__ import annotations

import contextlib
import math
import pickle
import re
import shutil
import signal
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from kiosk import paths
from kiosk.domain.errors import FormError, Problem
from kiosk.domain.loader import check_paths, load_document, load_packet
from kiosk.domain.model import (
    AllOf,
    AnyOf,
    Compare,
    Comparison,
    Condition,
    ConsentDocument,
    Form,
    Not,
)
from tests.hypothesis_profiles import FUZZ, fewer

FORM_FILES = sorted(paths.FORMS_DIR.glob("*.yaml"))
SHIPPED_TEXT = {path.name: path.read_bytes() for path in FORM_FILES}
# Pickled, so every example starts from a fresh copy quickly.
SHIPPED_DATA = {name: pickle.dumps(yaml.safe_load(text)) for name, text in SHIPPED_TEXT.items()}
LOCATED = re.compile(r"^(?P<file>.+):(?P<line>[0-9]+): (?P<message>\S.*)$", re.DOTALL)
HANG_GUARD_S = 30
"""A hang becomes a failure instead of a stuck CI job. Not a speed goal (those live in bench/):
the refusals below work by counting the document's values, never by timing them."""


@contextlib.contextmanager
def no_hang(seconds: int = HANG_GUARD_S) -> Iterator[None]:
    def stuck(signum: int, frame: object) -> None:
        raise AssertionError(f"still running after {seconds} s: the loader hangs")

    previous = signal.signal(signal.SIGALRM, stuck)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# --- the property ------------------------------------------------------------------------------


YAML_LINE_BREAKS = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


def _lines_in(data: bytes) -> int:
    """How many lines the file has, counted as YAML counts them (CR, NEL, LS, PS end lines)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data.count(b"\n") + 1
    return len(YAML_LINE_BREAKS.findall(text)) + 1


def _assert_located(problems: list[Problem], files: dict[str, bytes]) -> None:
    """Every problem names one of ``files`` and a line inside it, and says something."""
    assert problems, "a FormError must carry at least one problem"
    for problem in problems:
        assert isinstance(problem, Problem)
        match = LOCATED.match(str(problem))
        assert match is not None, f"not 'file:line: message': {problem}"
        assert problem.file in files, f"problem in an unexpected file: {problem}"
        assert 1 <= problem.line <= _lines_in(files[problem.file]), f"line out of file: {problem}"
        assert problem.message.strip(), f"empty message: {problem!r}"


def _compares(condition: Condition) -> Iterator[Compare]:
    match condition:
        case Compare():
            yield condition
        case AllOf(inner) | AnyOf(inner):
            for c in inner:
                yield from _compares(c)
        case Not(inner_one):
            yield from _compares(inner_one)


def _assert_well_typed(document: Form | ConsentDocument) -> None:
    """A document that loads has the model's types, so nothing downstream meets a surprise."""
    assert isinstance(document.id, str)
    assert isinstance(document.version, int)
    conditions: list[Condition] = [flag.when for flag in document.flags]
    if isinstance(document, Form):
        for page in document.pages:
            conditions += [c for c in (page.show_if, *(i.show_if for i in page.items)) if c]
            for item in page.items:
                assert isinstance(item.id, str)
                assert all(isinstance(c.value, str | int) for c in item.choices)
        for score in document.scores:
            assert all(isinstance(i, str) for i in score.items)
            for band in score.bands:
                assert not math.isnan(band.minimum)
                assert not math.isnan(band.maximum)
    for condition in conditions:
        for cmp in _compares(condition):
            assert isinstance(cmp.subject, str)
            if cmp.comparison is Comparison.IN:
                assert isinstance(cmp.operand, tuple)
                assert all(isinstance(v, str | int) for v in cmp.operand), cmp
            else:
                assert isinstance(cmp.operand, str | int | float), cmp


def assert_loads_or_located(path: Path) -> None:
    """``load_document``: the document, with the model's types, or located problems only."""
    try:
        document = load_document(path)
    except FormError as exc:
        _assert_located(exc.problems, {str(path): path.read_bytes()})
    else:
        _assert_well_typed(document)


def assert_checks_or_located(path: Path) -> None:
    """``kiosk forms check FILE``: no problems, or located problems only."""
    problems = check_paths([path])
    if problems:
        _assert_located(problems, {str(path): path.read_bytes()})


def assert_packet_loads_or_located(folder: Path) -> None:
    """``kiosk forms check FOLDER`` (the whole packet): loaded, or located problems only."""
    files = {str(path): path.read_bytes() for path in folder.glob("*.yaml")}
    files[str(folder / "packet.yaml")] = files.get(str(folder / "packet.yaml"), b"")
    problems = check_paths([folder])
    if problems:
        _assert_located(problems, files)
        return
    packet = load_packet(folder)
    for form in packet.forms:
        _assert_well_typed(form)
    _assert_well_typed(packet.consent)


# --- strategies ---------------------------------------------------------------------------------


def _shipped_strings(key: str) -> list[str]:
    """Every string under ``key`` in the shipped forms (their ids, item references…)."""
    found: set[str] = set()
    stack: list[Any] = [pickle.loads(data) for data in SHIPPED_DATA.values()]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for k, v in node.items():
                if k == key and isinstance(v, str):
                    found.add(v)
                stack.append(v)
        elif isinstance(node, list):
            stack.extend(node)
    return sorted(found)


def _shipped_keys() -> list[str]:
    found: set[str] = set()
    stack: list[Any] = [pickle.loads(data) for data in SHIPPED_DATA.values()]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            found.update(k for k in node if isinstance(k, str))
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return sorted(found)


KNOWN_IDS = _shipped_strings("id") + _shipped_strings("item")
KNOWN_KEYS = _shipped_keys()
TRICKY_STRINGS = [
    "",
    " ",
    "\t",
    "\ufeff",
    "\x00",
    "\x1b[31m",
    "{clinic_name}",
    "{clinic_phone",
    "{nope}",
    "}}{{",
    "yes",
    "no",
    "on",
    "~",
    "null",
    "2024-13-45",
    "2024-02-30",
    "12:30:45",
    "0x1F",
    "0o17",
    ".nan",
    "-.inf",
    "1e400",
    "*alias",
    "&anchor",
    "!!python/object:os.system",
    "<<",
    "---",
    "...",
    "%YAML 1.1",
    "é" * 3,
    "🙂",
    "A" * 5000,
]
TRICKY_NUMBERS = [0, -1, 2**63, -(2**64), 10**40, 10**400, -(10**4000), 1e308, -0.0, 1e-320]
NUMBERS = st.one_of(
    st.sampled_from(TRICKY_NUMBERS),
    st.integers(-3, 12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from(TRICKY_NUMBERS),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(TRICKY_STRINGS),
    st.sampled_from(KNOWN_IDS),
)
KEYS = st.one_of(
    st.sampled_from(KNOWN_KEYS),
    st.text(max_size=12),
    st.sampled_from(["kind", "id", "items", "not", "all", "any", "in", "setting", "<<", ""]),
    st.integers(-3, 3),
    st.none(),
    st.booleans(),
    st.floats(allow_nan=True),
)
HOSTILE = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(KEYS, inner, max_size=4),
    ),
    max_leaves=10,
)
IDS = st.one_of(
    st.sampled_from(KNOWN_IDS),
    st.sampled_from(["no_such_item", "phq9_10", "Pain Now", "pain-now", "_", "id"]),
    st.from_regex(r"[a-z_][a-z0-9_]{0,12}", fullmatch=True),
)

MUTATIONS = [
    "delete",
    "rename",
    "replace",
    "retype",
    "unknown_id",
    "duplicate",
    "alias",
    "nest",
    "huge",
    "number",
    "whole",
]
NEST_MARK = "zzznestedzzz"
RETYPES = ["str", "int", "float", "bool", "none", "list", "dict", "nan", "inf", "-inf", "huge_int"]


def _slots(doc: Any) -> list[tuple[Any, Any]]:
    """Every (container, key) holding a value in ``doc`` (each shared container once)."""
    slots: list[tuple[Any, Any]] = []
    seen: set[int] = set()
    stack = [doc]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, dict):
            for key, value in node.items():
                slots.append((node, key))
                stack.append(value)
        elif isinstance(node, list):
            for index, value in enumerate(node):
                slots.append((node, index))
                stack.append(value)
    return slots


def _retype(value: Any, target: str) -> Any:
    text = value if isinstance(value, str) else repr(value)[:200]
    converted: dict[str, Callable[[], Any]] = {
        "str": lambda: text,
        "int": lambda: len(text),
        "float": lambda: len(text) + 0.5,
        "bool": lambda: bool(value),
        "none": lambda: None,
        "list": lambda: list(value.values()) if isinstance(value, dict) else [value],
        "dict": lambda: dict(enumerate(value)) if isinstance(value, list) else {text[:20]: value},
        "nan": lambda: math.nan,
        "inf": lambda: math.inf,
        "-inf": lambda: -math.inf,
        "huge_int": lambda: 10 ** len(text) * 10**300,
    }
    return converted[target]()


NESTING = {  # (opening, closing) of one level, in YAML's flow style
    "list": ("[", "]"),
    "map": ("{en: ", "}"),
    "not": ("{not: ", "}"),
    "all": ("{all: [", ", {item: phq9_1, answered: true}]}"),
}


def _nested_text(value: Any, depth: int, how: str) -> str:
    """``value`` inside ``depth`` levels of nesting, as flow-style YAML text.

    Deep nesting is built as text, not as Python lists and dicts: PyYAML's dumper would run
    out of stack on it before the loader under test ever saw it.
    """
    inner = yaml.dump(value, Dumper=yaml.CSafeDumper, default_flow_style=True, width=10**6)
    inner = inner.removesuffix("\n").removesuffix("\n...").strip()
    opening, closing = NESTING[how]
    return opening * depth + inner + closing * depth


def _mutate(data: st.DataObject, doc: Any, nested: list[str]) -> Any:
    """Apply one drawn mutation to ``doc`` (in place when it can) and return the document.

    Deeply nested values go to ``nested``; ``doc`` holds a placeholder for each."""
    slots = _slots(doc)
    mutation = data.draw(st.sampled_from(MUTATIONS), label="mutation")
    if not slots or mutation == "whole":
        return data.draw(HOSTILE, label="whole document")
    kinds = {"unknown_id": str, "number": int | float}  # these aim at ids and numbers
    aimed = [(c, k) for c, k in slots if isinstance(c[k], kinds.get(mutation, object))]
    container, key = (aimed or slots)[
        data.draw(st.integers(0, len(aimed or slots) - 1), label="slot")
    ]
    value = container[key]
    if mutation == "delete":
        del container[key]
    elif mutation == "rename" and isinstance(container, dict):
        new_key = data.draw(KEYS, label="new key")
        items = [(new_key if k == key else k, v) for k, v in container.items()]
        container.clear()
        container.update(items)
    elif mutation == "retype":
        container[key] = _retype(value, data.draw(st.sampled_from(RETYPES), label="type"))
    elif mutation == "unknown_id":
        container[key] = data.draw(IDS, label="id")
    elif mutation == "number":
        container[key] = data.draw(NUMBERS, label="number")
    elif mutation == "duplicate" and isinstance(container, list):
        container.insert(key, pickle.loads(pickle.dumps(value)))
    elif mutation == "alias":  # the same object twice: the YAML gets an anchor and an alias
        other, other_key = slots[data.draw(st.integers(0, len(slots) - 1), label="aliased")]
        container[key] = other[other_key]
    elif mutation == "nest":  # a placeholder, replaced by the nested text once dumped
        depth = data.draw(st.integers(1, 300), label="depth")
        how = data.draw(st.sampled_from(sorted(NESTING)), label="nesting")
        container[key] = f"{NEST_MARK}{len(nested)}"
        nested.append(_nested_text(value, depth, how))
    elif mutation == "huge":
        unit = data.draw(st.sampled_from(["x", "é", "{", " ", "\t", "ab\n"]), label="unit")
        container[key] = unit * data.draw(st.integers(1_000, 30_000), label="length")
    else:  # "replace", and renames and duplicates where the container does not allow them
        container[key] = data.draw(HOSTILE, label="value")
    return doc


TEXT_MUTATIONS = [
    "bom",
    "bytes",
    "tab",
    "truncate",
    "garbage_line",
    "nul",
    "duplicate_line",
    "crlf",
    "second_document",
    "indent",
]


def _mutate_text(data: st.DataObject, text: bytes) -> bytes:
    mutation = data.draw(st.sampled_from(TEXT_MUTATIONS), label="text mutation")
    at = data.draw(st.integers(0, len(text)), label="at")
    lines = text.split(b"\n")
    line = data.draw(st.integers(0, len(lines) - 1), label="line")
    if mutation == "bom":
        return b"\xef\xbb\xbf" + text
    if mutation == "bytes":
        return text[:at] + data.draw(st.binary(min_size=1, max_size=6), label="bytes") + text[at:]
    if mutation == "tab":
        return text[:at] + b"\t" + text[at:]
    if mutation == "truncate":
        return text[:at]
    if mutation == "garbage_line":
        lines[line] = data.draw(st.text(max_size=40), label="garbage").encode("utf-8")
    elif mutation == "nul":
        return text[:at] + b"\x00" + text[at:]
    elif mutation == "duplicate_line":
        lines.insert(line, lines[line])
    elif mutation == "crlf":
        return text.replace(b"\n", b"\r\n")
    elif mutation == "second_document":
        return text + b"\n---\nkind: questionnaire\n"
    else:  # "indent"
        lines[line] = b" " * data.draw(st.integers(1, 9), label="spaces") + lines[line]
    return b"\n".join(lines)


def _dump(data: st.DataObject, doc: Any) -> bytes:
    text = yaml.dump(
        doc,
        Dumper=yaml.CSafeDumper,
        allow_unicode=data.draw(st.booleans(), label="unicode"),
        default_flow_style=data.draw(st.sampled_from([False, None, True]), label="flow"),
        sort_keys=False,
    )
    return text.encode("utf-8", "surrogatepass")


def _mutated_form(data: st.DataObject, names: list[str]) -> tuple[str, bytes]:
    name = data.draw(st.sampled_from(names), label="form")
    doc = pickle.loads(SHIPPED_DATA[name])
    nested: list[str] = []
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        doc = _mutate(data, doc, nested)
    text = _dump(data, doc)
    for n in reversed(range(len(nested))):  # later placeholders may sit inside earlier ones
        text = text.replace(f"{NEST_MARK}{n}".encode(), nested[n].encode("utf-8", "surrogatepass"))
    for _ in range(data.draw(st.integers(0, 2), label="text mutations")):
        text = _mutate_text(data, text)
    return name, text


# YAML's own syntax, so random strings reach the parser's and constructor's corners.
YAML_TOKENS = [
    "kind: ",
    "questionnaire",
    "consent",
    "packet",
    "id: ",
    "version: ",
    "pages:",
    "items:",
    "scores:",
    "show_if: ",
    "- ",
    "\n",
    "\n  ",
    "\n    ",
    "\t",
    ": ",
    ", ",
    "{",
    "}",
    "[",
    "]",
    "? ",
    "&a ",
    "&b ",
    "*a",
    "*b",
    "<<: ",
    "!!set ",
    "!!omap ",
    "!!binary ",
    "!!timestamp ",
    "!!int ",
    "!!float ",
    "!!str ",
    "!!map ",
    "!!seq ",
    "!!bool ",
    "!!null ",
    "!local ",
    "!!python/object:os.system ",
    "|",
    ">",
    '"',
    "'",
    "\\x",
    "#",
    "%YAML 1.1\n",
    "---\n",
    "...\n",
    "~",
    "yes",
    "0x1F",
    "1:2:3",
    "2024-13-45",
    "2001-12-14t21:59:43.10-99:00",
    "9" * 400,
    "9" * 4400,
    ".nan",
    "-.inf",
    "{en: a, es: b}",
    "\x00",
    "\ufeff",
    "\x85",
    "\u2028",
    "é",
]
YAML_TEXT = st.lists(st.sampled_from(YAML_TOKENS), max_size=40).map("".join)


# --- fuzz tests ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder for one file at a time."""
    return tmp_path_factory.mktemp("fuzz-file")


@pytest.fixture(scope="module")
def forms_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the shipped forms folder; each example changes one file, then puts it back."""
    folder = tmp_path_factory.mktemp("fuzz-packet") / "forms"
    shutil.copytree(paths.FORMS_DIR, folder, ignore=shutil.ignore_patterns("*.md"))
    return folder


@FUZZ
@given(data=st.data())
def test_mutated_shipped_forms_load_or_report_located_problems(
    scratch: Path, data: st.DataObject
) -> None:
    name, text = _mutated_form(data, sorted(SHIPPED_DATA))
    path = scratch / name
    path.write_bytes(text)
    assert_loads_or_located(path)


@fewer(ci_examples=100, dev_examples=30)  # each example loads the whole packet: ~50 ms
@given(data=st.data())
def test_mutated_packet_folder_loads_or_reports_located_problems(
    forms_copy: Path, data: st.DataObject
) -> None:
    """The whole folder, as ``kiosk forms check`` and the kiosk's start-up load it."""
    name, text = _mutated_form(data, ["packet.yaml", "packet.yaml", *sorted(SHIPPED_DATA)])
    path = forms_copy / name
    path.write_bytes(text)
    try:
        assert_packet_loads_or_located(forms_copy)
    finally:
        path.write_bytes(SHIPPED_TEXT[name])


@FUZZ
@given(text=st.text())
def test_arbitrary_text_loads_or_reports_located_problems(scratch: Path, text: str) -> None:
    path = scratch / "text.yaml"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    assert_checks_or_located(path)


@FUZZ
@given(data=st.binary())
def test_arbitrary_bytes_load_or_report_located_problems(scratch: Path, data: bytes) -> None:
    path = scratch / "bytes.yaml"
    path.write_bytes(data)
    assert_checks_or_located(path)


@FUZZ
@given(text=YAML_TEXT)
def test_random_yaml_syntax_loads_or_reports_located_problems(scratch: Path, text: str) -> None:
    path = scratch / "syntax.yaml"
    path.write_bytes(text.encode("utf-8"))
    assert_loads_or_located(path)


# --- YAML bombs ---------------------------------------------------------------------------------


def _laughs(levels: int = 9, width: int = 9) -> str:
    """The billion laughs: ``width ** levels`` copies of one string, in a few hundred bytes."""
    lines = ['lol0: &lol0 "lol"']
    for n in range(1, levels + 1):
        refs = ", ".join([f"*lol{n - 1}"] * width)
        lines.append(f"lol{n}: &lol{n} [{refs}]")
    return "\n".join(lines) + "\n"


FORM_HEAD = "kind: questionnaire\nid: bomb\nversion: 1\ntitle: {en: Bomb, es: Bomba}\n"
BOMBS = {
    "as the form id": _laughs() + FORM_HEAD.replace("id: bomb", "id: *lol9"),
    "as the kind": _laughs() + "kind: *lol9\n",
    "as a key": _laughs() + "? *lol9\n: 1\nkind: questionnaire\n",
    "as a title": _laughs() + FORM_HEAD.replace("title: {en: Bomb, es: Bomba}", "title: *lol9"),
    "as score items": _laughs() + FORM_HEAD + "pages: []\nscores:\n  - id: s\n    items: *lol9\n",
    "as a condition": (
        "c0: &c0 {item: pain_now, answered: true}\n"
        + "".join(f"c{n}: &c{n} {{all: [{', '.join([f'*c{n - 1}'] * 9)}]}}\n" for n in range(1, 10))
        + FORM_HEAD
        + "pages:\n  - id: p\n    show_if: *c9\n    items: [{id: a, type: text, "
        "text: {en: A, es: A}}]\n"
    ),
    "quadratic: a long string, many times": (
        f'big: &big "{"x" * 100_000}"\n'
        + f"copies: &copies [{', '.join(['*big'] * 1000)}]\n"
        + FORM_HEAD.replace("title: {en: Bomb, es: Bomba}", "title: {en: *big, es: *big}")
        + "pages: *copies\n"
    ),
}


@pytest.mark.parametrize("text", BOMBS.values(), ids=BOMBS.keys())
def test_yaml_bombs_are_refused_in_little_memory(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(text, encoding="utf-8")
    tracemalloc.start()
    try:
        with no_hang(), pytest.raises(FormError) as caught:
            load_document(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50_000_000  # the aliases were never copied out
    _assert_located(caught.value.problems, {str(path): path.read_bytes()})
    assert any("alias" in p.message for p in caught.value.problems), caught.value.problems


def test_a_bomb_in_the_packet_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "forms"
    shutil.copytree(paths.FORMS_DIR, folder)
    packet = folder / "packet.yaml"
    packet.write_text(
        _laughs() + packet.read_text("utf-8").replace("forms:", "ignored:", 1) + "forms: *lol9\n",
        encoding="utf-8",
    )
    with no_hang():
        problems = check_paths([folder])
    assert any(p.file == str(packet) and "alias" in p.message for p in problems), problems


# --- regressions: each bug the fuzzing found, as a plain example -------------------------------

QUESTIONNAIRE = """\
kind: questionnaire
id: fuzz
version: 1
title: {en: Fuzz, es: Fuzz}
pages:
  - id: first
    items:
      - {id: pain, type: scale, max: SCALE_TOP, text: {en: Pain, es: Dolor}}
  - id: second
    show_if: SHOW_IF
    items:
      - {id: note, type: text, text: {en: Note, es: Nota}}
scores:
  - id: total
    method: sum
    items: ITEMS
    label: {en: Total, es: Total}
    bands:
      - {id: low, min: 0, max: BAND_TOP, label: {en: Low, es: Bajo}}
"""


def questionnaire(
    max_: str = "10",
    show_if: str = "{item: pain, gte: 5}",
    items: str = "[pain]",
    band_max: str = "10",
) -> str:
    return (
        QUESTIONNAIRE.replace("SCALE_TOP", max_)
        .replace("SHOW_IF", show_if)
        .replace("ITEMS", items)
        .replace("BAND_TOP", band_max)
    )


def test_the_regression_template_itself_loads(tmp_path: Path) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_text(questionnaire(), encoding="utf-8")
    assert isinstance(load_document(path), Form)


# (what was wrong before the fix, file text, line of the problem, fragment of its message)
REGRESSIONS: list[tuple[str, str, int, str]] = [
    # TypeError: unhashable type: '_LineList' (the kind was looked up in a dict)
    ("kind is a list", "kind: [questionnaire]\n", 1, "'kind' is ['questionnaire']"),
    ("kind is a mapping", "kind: {questionnaire: 1}\n", 1, "'kind' is {'questionnaire': 1}"),
    ("kind is a set", "kind: !!set {questionnaire}\n", 1, "'kind' is {'questionnaire'}"),
    # TypeError: unhashable type (a score's item looked up in a dict)
    ("score item is a list", questionnaire(items="[[pain]]"), 16, "adds up '['pain']'"),
    ("score item is a mapping", questionnaire(items="[{pain: 1}]"), 16, "which is not an item"),
    # yaml.reader.ReaderError escaped: a character YAML does not allow
    ("NUL character", "kind: questionnaire\nid: a\x00b\n", 2, "does not allow the character"),
    ("escape character", "kind: consent\n\x1b[31m: red\n", 2, "does not allow the character"),
    # ValueError: month must be in 1..12 (YAML reads 2024-13-45 as a date)
    ("impossible date", "kind: questionnaire\nversion: 2024-13-45\n", 2, "not a valid date"),
    # ValueError / KeyError / AttributeError / IndexError from PyYAML's scalar constructors
    ("!!int tag on text", "kind: questionnaire\nversion: !!int one\n", 2, "not a valid whole"),
    ("!!float tag on text", "kind: questionnaire\nversion: !!float x\n", 2, "not a valid number"),
    ("empty !!float", "kind: questionnaire\nversion: !!float ''\n", 2, "not a valid number"),
    ("!!bool tag on text", "kind: questionnaire\nid: !!bool maybe\n", 2, "not a valid true/false"),
    ("!!timestamp on text", "kind: consent\nid: !!timestamp soon\n", 2, "not a valid date"),
    # TypeError / AttributeError / ValueError: !!map and !!seq tags on the wrong kind of node
    ("!!map on a list", "kind: consent\nid: !!map [a]\n", 2, "'!!map' tag"),
    ("!!map on text", "kind: consent\nid: !!map abc\n", 2, "'!!map' tag"),
    ("!!seq on a mapping", "kind: consent\nid: !!seq {a: 1}\n", 2, "'!!seq' tag"),
    # ValueError: Exceeds the limit (4300 digits) for integer string conversion
    (
        "5,000-digit number",
        "kind: questionnaire\nversion: " + "9" * 5000 + "\n",
        2,
        "too long to be",
    ),
    # OverflowError: int too large to convert to float (band limits, scale ends)
    ("400-digit band max", questionnaire(band_max="9" * 400), 19, "too long"),
    ("400-digit scale max", questionnaire(max_="9" * 400), 8, "too long"),
    # RecursionError: libyaml accepts 1,000 levels, building them took more stack than Python has
    ("500 nested lists", "kind: " + "[" * 500 + "]" * 500 + "\n", 1, "nested more than 50"),
    (
        "300 nested 'not'",
        questionnaire(show_if="{not: " * 300 + "{item: pain, gte: 5}" + "}" * 300),
        10,
        "nested more than 50",
    ),
    # Loaded silently, typed wrongly: conditions that can never hold, a band that matches nothing
    ("'in' lists a list", questionnaire(show_if="{item: pain, in: [[5]]}"), 10, "'in' must list"),
    ("'equals' a list", questionnaire(show_if="{item: pain, equals: [5, 6]}"), 10, "one answer"),
    ("'gte' NaN", questionnaire(show_if="{item: pain, gte: .nan}"), 10, "needs a number"),
    ("band max NaN", questionnaire(band_max=".nan"), 19, "'max' must be a number"),
    # Reported one line past the end: libyaml puts the end of the file on a line of its own
    ("unclosed bracket, no last line break", "kind: [questionnaire", 1, "did not find expected"),
    # Merge keys were refused as "could not determine a constructor for the tag …merge"
    ("merge key", "base: &base {id: a}\nkind: consent\n<<: *base\n", 3, "merge keys ('<<')"),
    # Not UTF-8: said "cannot read the file (UnicodeDecodeError)" on line 1
    ("Latin-1 file", "kind: consent\nid: caf\xe9\n", 2, "not UTF-8"),
]


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [case[1:] for case in REGRESSIONS],
    ids=[case[0] for case in REGRESSIONS],
)
def test_hostile_form_files_get_a_located_kind_message(
    tmp_path: Path, text: str, line: int, fragment: str
) -> None:
    path = tmp_path / "form.yaml"
    path.write_bytes(text.encode("latin-1") if "caf\xe9" in text else text.encode("utf-8"))
    with pytest.raises(FormError) as caught:
        load_document(path)
    problems = caught.value.problems
    _assert_located(problems, {str(path): path.read_bytes()})
    assert any(p.line == line and fragment in p.message for p in problems), problems


def test_a_huge_scale_does_not_hang_the_band_check(tmp_path: Path) -> None:
    """Every number from the lowest to the highest total was tried: a scale up to 10**12
    hung ``kiosk forms check`` (and ate memory) instead of reporting the uncovered totals."""
    path = tmp_path / "huge.yaml"
    path.write_text(questionnaire(max_="1000000000000"), encoding="utf-8")
    with no_hang(), pytest.raises(FormError) as caught:
        load_document(path)
    assert any("no band covers 11, 12, 13, 14, 15" in p.message for p in caught.value.problems)


@pytest.mark.parametrize(
    ("bands", "expected"),
    [
        ("[{id: a, min: 0, max: 4}, {id: b, min: 5, max: 10}]", None),
        ("[{id: a, min: 0, max: 3}, {id: b, min: 5, max: 10}]", "no band covers 4"),
        ("[{id: a, min: 1, max: 10}]", "no band covers 0"),
        ("[{id: a, min: 0.5, max: 2.5}, {id: b, min: 4, max: .inf}]", "no band covers 0, 3"),
        ("[{id: b, min: 6, max: 10}, {id: a, min: -.inf, max: 4}]", "no band covers 5"),
    ],
)
def test_the_band_gap_check_still_finds_every_gap(
    tmp_path: Path, bands: str, expected: str | None
) -> None:
    text = questionnaire().replace(
        "      - {id: low, min: 0, max: 10, label: {en: Low, es: Bajo}}\n", ""
    )
    text = text.replace(
        "    bands:\n", f"    bands: {bands}\n".replace("}", ", label: {en: X, es: X}}")
    )
    path = tmp_path / "bands.yaml"
    path.write_text(text, encoding="utf-8")
    problems = check_paths([path])
    gaps = [p.message for p in problems if "no band covers" in p.message]
    if expected is None:
        assert not gaps, problems
    else:
        assert len(gaps) == 1 and gaps[0].endswith(expected), problems


def test_shared_text_through_aliases_still_loads(tmp_path: Path) -> None:
    """The shipped forms use anchors for repeated help texts; the bomb guard allows them."""
    text = questionnaire().replace(
        "{id: note, type: text, text: {en: Note, es: Nota}}",
        "{id: note, type: text, text: &same {en: Note, es: Nota}, help: *same}",
    )
    path = tmp_path / "aliases.yaml"
    path.write_text(text, encoding="utf-8")
    assert isinstance(load_document(path), Form)


def test_a_recursive_alias_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "recursive.yaml"
    path.write_text("kind: consent\nid: &a [x, *a]\n", encoding="utf-8")
    with pytest.raises(FormError) as caught:
        load_document(path)
    _assert_located(caught.value.problems, {str(path): path.read_bytes()})
    assert "contains the alias" in str(caught.value)


def test_a_packet_listing_a_list_as_a_form_is_a_located_problem(tmp_path: Path) -> None:
    """TypeError: unhashable type: '_LineList' (the form id was looked up in a dict)."""
    folder = tmp_path / "forms"
    shutil.copytree(paths.FORMS_DIR, folder)
    packet = folder / "packet.yaml"
    lines = packet.read_text("utf-8").splitlines()
    at = next(n for n, line in enumerate(lines) if line.strip().startswith("- "))
    lines[at] = lines[at].replace("- ", "- [", 1) + "]"
    packet.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = check_paths([folder])
    assert any(p.file == str(packet) and p.line == at + 1 for p in problems), problems
