"""Hostile answers files for ``kiosk forms score`` (issue 8): exit 2 and one plain message.

Whatever the answers file holds (broken JSON, wrong types, unknown ids, huge numbers, NaN,
nested objects, binary garbage, a folder, nothing at all), the command answers with exit 0 and
the documented JSON (DESIGN §7), or exit 2 and a message, never a traceback. The examples pin
each case down; the Hypothesis test throws arbitrary JSON at four real forms (1,000 examples
under ``CI=true``, see ``tests/hypothesis_profiles.py``).
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk import cli, paths
from kiosk.cli import main
from kiosk.domain.loader import load_document
from kiosk.domain.model import Form, ItemType
from tests.hypothesis_profiles import fewer

SCORED_FORMS = ("phq9", "gad7", "peg", "intake")
FORMS: dict[str, Form] = {}
for _name in SCORED_FORMS:
    _form = load_document(paths.FORMS_DIR / f"{_name}.yaml")
    assert isinstance(_form, Form)
    FORMS[_name] = _form


def valid_answers(form: Form) -> dict[str, Any]:
    """A complete, valid answer for every item of ``form`` (the lowest choice or scale end)."""
    answers: dict[str, Any] = {}
    for item in form.items:
        match item.type:
            case ItemType.SINGLE_CHOICE:
                answers[item.id] = item.choices[0].value
            case ItemType.MULTI_CHOICE:
                answers[item.id] = [item.choices[0].value]
            case ItemType.SCALE:
                answers[item.id] = item.minimum
            case ItemType.YES_NO | ItemType.AGREE:
                answers[item.id] = True
            case ItemType.DATE:
                answers[item.id] = "1980-02-29"
            case ItemType.PHONE:
                answers[item.id] = "(415) 555-0134"
            case ItemType.LIST:
                answers[item.id] = [{c.id: "Ibuprofen" for c in item.columns}]
            case _:
                answers[item.id] = "Sam Example"
    return answers


@contextlib.contextmanager
def answers_on_stdin(data: bytes) -> Iterator[None]:
    """``--answers -``: the bytes arrive on standard input, read as UTF-8 text."""
    with mock.patch("sys.stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")):
        yield


def score(form: str, answers: str) -> tuple[int, str, str]:
    """Run ``kiosk forms score FORM --answers ANSWERS`` in-process: (exit code, out, err)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["forms", "score", form, "--answers", answers])
    return code, out.getvalue(), err.getvalue()


def assert_outcome(form: Form, code: int, out: str, err: str) -> None:
    """Exit 0 with the documented JSON and nothing on stderr, or exit 2 with a plain message."""
    assert "Traceback" not in err
    assert code in {0, 2}, (code, err)
    if code == 0:
        assert err == ""
        report = json.loads(out)
        assert set(report) == {"form", "version", "scores", "flags"}
        assert report["form"] == form.id
        assert report["version"] == form.version
        assert set(report["scores"]) <= {rule.id for rule in form.scores}
        for result in report["scores"].values():
            assert set(result) == {"value", "band"}
            assert isinstance(result["value"], int | float)
            assert math.isfinite(result["value"])
            assert result["band"] is None or isinstance(result["band"], str)
        assert isinstance(report["flags"], list)
        assert set(report["flags"]) <= {flag.id for flag in form.flags}
    else:
        assert out == ""
        lines = err.splitlines()
        assert lines, "exit 2 must say why"
        # Each line is one message: ids from the file cannot forge lines or send escapes.
        assert all(line.strip() and line.isprintable() for line in lines), err


# --- examples -----------------------------------------------------------------------------------


def write(tmp_path: Path, data: bytes) -> str:
    path = tmp_path / "answers.json"
    path.write_bytes(data)
    return str(path)


VALID = {name: valid_answers(form) for name, form in FORMS.items()}
PHQ9_VALID = VALID["phq9"]


def phq9_with(**changes: Any) -> bytes:
    return json.dumps(PHQ9_VALID | changes).encode("utf-8")


# (case, answers file bytes, message fragment)
REFUSED: list[tuple[str, bytes, str]] = [
    ("malformed JSON", b'{"phq9_1": 1', "not valid JSON (line 1)"),
    ("empty file", b"", "not valid JSON"),
    ("only spaces", b"  \n\t\n", "not valid JSON"),
    ("binary garbage", bytes(range(256)) * 4, "not UTF-8 text (see byte 129)"),
    ("not UTF-8 (Latin-1)", '{"phq9_1": "café"}'.encode("latin-1"), "not UTF-8 text"),
    ("an array", b"[1, 2, 3]", "must be a JSON object"),
    ("a string", b'"phq9_1"', "must be a JSON object"),
    ("a number", b"3", "must be a JSON object"),
    ("null", b"null", "must be a JSON object"),
    ("true", b"true", "must be a JSON object"),
    ("string of digits", phq9_with(phq9_1="1"), "answer not allowed: phq9_1 (not_a_choice)"),
    ("boolean for a number", phq9_with(phq9_1=True), "answer not allowed: phq9_1 (not_a_choice)"),
    ("huge number", phq9_with(phq9_1=10**400), "answer not allowed: phq9_1 (not_a_choice)"),
    ("1e999 (infinity)", phq9_with(phq9_1=math.inf), "answer not allowed: phq9_1 (not_a_choice)"),
    ("NaN", phq9_with(phq9_1=math.nan), "answer not allowed: phq9_1 (not_a_choice)"),
    ("nested object", phq9_with(phq9_1={"value": 1}), "answer not allowed: phq9_1"),
    ("array for one answer", phq9_with(phq9_1=[1]), "answer not allowed: phq9_1"),
    ("unknown id", phq9_with(phq9_10=1), "answer not allowed: phq9_10 (unknown_item)"),
    ("missing answers", b'{"phq9_1": 1}', "missing required answers: phq9_2"),
    # Bugs found and fixed (each was a traceback or a silent wrong answer before):
    # RecursionError: maximum recursion depth exceeded while decoding a JSON array
    ("deeply nested arrays", b"[" * 100_000, "nested too deeply"),
    ("deeply nested objects", b'{"a": ' * 100_000, "nested too deeply"),
    # ValueError: Exceeds the limit (4300 digits) for integer string conversion
    ("5,000-digit number", b'{"phq9_1": ' + b"9" * 5000 + b"}", "too many digits"),
    # Silently scored the last of two different answers
    ("same id twice", b'{"phq9_1": 0, "phq9_1": 3}', "more than once, so they are ambiguous"),
    # An id with a line break forged a line of the report; an escape sequence reached the terminal
    ("line break in an id", phq9_with(**{"x\nmissing required answers: none": 1}), "x\\n"),
    ("terminal escape in an id", phq9_with(**{"\x1b[2J": 1}), "\\x1b[2J (unknown_item)"),
    ("very long id", phq9_with(**{"a" * 10_000: 1}), "a" * 79 + "…"),
]


@pytest.mark.parametrize(
    ("data", "fragment"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED]
)
def test_a_hostile_answers_file_exits_2_with_a_plain_message(
    tmp_path: Path, data: bytes, fragment: str
) -> None:
    code, out, err = score("phq9", write(tmp_path, data))
    assert code == 2
    assert fragment in err
    assert_outcome(FORMS["phq9"], code, out, err)


@pytest.mark.parametrize(
    ("data", "fragment"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED]
)
def test_the_same_answers_on_standard_input_exit_2_too(data: bytes, fragment: str) -> None:
    with answers_on_stdin(data):
        code, out, err = score("phq9", "-")
    assert code == 2
    assert fragment in err
    assert_outcome(FORMS["phq9"], code, out, err)


def test_valid_answers_score_and_print_the_documented_json(tmp_path: Path) -> None:
    for name, form in FORMS.items():
        code, out, err = score(name, write(tmp_path, json.dumps(valid_answers(form)).encode()))
        assert code == 0, err
        assert_outcome(form, code, out, err)


def test_a_byte_order_mark_is_not_part_of_the_answers(tmp_path: Path) -> None:
    """Windows Notepad starts UTF-8 files with a BOM; it was refused as "not valid JSON:
    Unexpected UTF-8 BOM (decode using utf-8-sig)". The answers are read without it."""
    code, out, err = score("phq9", write(tmp_path, b"\xef\xbb\xbf" + phq9_with()))
    assert code == 0, err
    assert json.loads(out)["form"] == "phq9"
    code, _, err = score("phq9", write(tmp_path, b"\xef\xbb\xbf" + b'{"phq9_1": 1}'))
    assert code == 2
    assert "missing required answers" in err


def test_a_folder_a_missing_file_and_an_impossible_name_exit_2(tmp_path: Path) -> None:
    code, out, err = score("phq9", str(tmp_path))
    assert (code, out) == (2, "")
    assert "it is a folder, not a file" in err
    code, out, err = score("phq9", str(tmp_path / "nowhere.json"))
    assert (code, out) == (2, "")
    assert "there is no such file" in err
    # ValueError: embedded null byte
    code, out, err = score("phq9", "answers\x00.json")
    assert (code, out) == (2, "")
    assert "cannot read the answers file" in err


def test_a_folder_or_a_consent_as_the_form_exits_2(tmp_path: Path) -> None:
    answers = write(tmp_path, phq9_with())
    code, _, err = score(str(paths.FORMS_DIR), answers)
    assert code == 2
    assert "is a folder: give a form id" in err
    code, _, err = score(str(paths.FORMS_DIR / "ketamine_consent.yaml"), answers)
    assert code == 2
    assert "is a consent, not a questionnaire" in err


def test_a_hostile_form_file_exits_2_with_its_located_problems(tmp_path: Path) -> None:
    form = tmp_path / "bomb.yaml"
    form.write_text(
        'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
        + "".join(
            f"{chr(98 + n)}: &{chr(98 + n)} [{', '.join([f'*{chr(97 + n)}'] * 9)}]\n"
            for n in range(8)
        )
        + "kind: *i\n",
        encoding="utf-8",
    )
    code, out, err = score(str(form), write(tmp_path, phq9_with()))
    assert (code, out) == (2, "")
    # Line 5, where nine copies of nine copies… first pass 50,000 values.
    assert err.startswith(f"{form}:5: this is too big for a form once its aliases")


# --- fuzz ---------------------------------------------------------------------------------------

JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([2**63, -(10**40), 10**400]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["0", "1", "3", " 2 ", "yes", "1980-02-30", "(415) 555-0134", "\x00", ""]),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=10), inner, max_size=4),
    ),
    max_leaves=12,
)


@st.composite
def answers_files(draw: st.DrawFn, form: Form) -> bytes:
    """Arbitrary JSON, mostly objects aimed at the form's own ids and (often) near-valid."""
    ids = st.one_of(st.sampled_from([i.id for i in form.items]), st.text(max_size=12))
    answers: Any
    if draw(st.integers(0, 9)) == 0:
        answers = draw(JSON_VALUES)  # not even an object, often
    else:
        answers = dict(VALID[form.id]) if draw(st.booleans()) else {}
        values = st.one_of(
            JSON_VALUES,
            st.sampled_from([c.value for i in form.items for c in i.choices] or [0]),
        )
        answers.update(draw(st.dictionaries(ids, values, max_size=6)))
        for item_id in draw(st.lists(st.sampled_from(list(answers) or ["x"]), max_size=3)):
            answers.pop(item_id, None)
    text = json.dumps(answers, ensure_ascii=draw(st.booleans()))
    prefix = b"\xef\xbb\xbf" if draw(st.integers(0, 9)) == 0 else b""
    return prefix + text.encode("utf-8", "surrogatepass")


@pytest.fixture(scope="module")
def answers_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile-answers") / "answers.json"


@pytest.fixture(scope="module")
def one_parser() -> Iterator[None]:
    """Build the command line's parser once: building it takes most of a ``main()`` call (and
    the same time whatever the answers), so 1,000 examples would spend ~13 s on it alone."""
    with mock.patch.object(cli, "_parser", functools.cache(cli._parser)):
        yield


@fewer(ci_examples=1000, dev_examples=100)  # each example loads a form file: ~9 ms
@given(data=st.data())
def test_arbitrary_json_answers_exit_0_with_the_report_or_2_with_a_message(
    one_parser: None, answers_path: Path, data: st.DataObject
) -> None:
    name = data.draw(st.sampled_from(SCORED_FORMS), label="form")
    form = FORMS[name]
    answers = data.draw(answers_files(form), label="answers file")
    form_file = str(paths.FORMS_DIR / f"{name}.yaml")  # one file: the packet takes 10x longer
    if data.draw(st.booleans(), label="on stdin"):
        with answers_on_stdin(answers):
            code, out, err = score(form_file, "-")
    else:
        answers_path.write_bytes(answers)
        code, out, err = score(form_file, str(answers_path))
    assert_outcome(form, code, out, err)
