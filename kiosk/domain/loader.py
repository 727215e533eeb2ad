"""Load forms, consent documents and the packet from YAML, collecting every problem.

The loader never stops at the first mistake: an IT person editing a form gets one line per
problem, each with ``file:line``, what is wrong and, where it can guess, what they meant.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

from kiosk.domain.errors import FormError, Problem
from kiosk.domain.model import (
    LANGUAGES,
    PATIENT_NOTICES,
    AllOf,
    AnyOf,
    Band,
    Choice,
    Column,
    Compare,
    Comparison,
    Condition,
    ConsentDocument,
    FlagRule,
    Form,
    Item,
    ItemType,
    LocalizedText,
    Not,
    Notice,
    Packet,
    Page,
    Quiz,
    QuizQuestion,
    ScoreMethod,
    ScoreRule,
    Section,
    Severity,
    SummaryGroup,
)
from kiosk.domain.model import TEXT_VALUES as TEXT_VALUE_NAMES

PACKET_FILE = "packet.yaml"
DEFAULT_TEXT_VALUES: Mapping[str, str] = {
    "clinic_name": "Pain Relief Clinic",
    "clinic_phone": "555-0100",  # reserved for fiction; the kiosk passes the real one
    "fasting_food_hours": "6",
    "fasting_clear_liquid_hours": "2",
}
"""What ``{clinic_name}`` etc. become when the caller passes no clinic settings."""
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")
IDENTITY_ROLES = ("name", "birth_date")
NUMERIC_TYPES = (ItemType.SCALE, ItemType.SINGLE_CHOICE)

T = TypeVar("T")


# --- YAML with line numbers -------------------------------------------------------------------


class _LineMap(dict[str, Any]):
    """A YAML mapping that remembers the line of itself and of each key."""

    line: int = 0
    key_lines: dict[str, int]


class _LineList(list[Any]):
    """A YAML sequence that remembers the line of itself and of each element."""

    def __init__(self, values: Iterable[Any] = ()) -> None:
        super().__init__(values)
        self.line = 0
        self.item_lines: list[int] = []


# libyaml's parser when present (about 10x faster; the kiosk loads every form at start-up).
_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MERGE_TAG = "tag:yaml.org,2002:merge"

# A form file is data typed by a person: these limits are far above any real form (the largest
# shipped form has about 1,100 values, 25,000 characters and 9 levels), and far below what a
# hostile file could make the loader do. Aliases ('*name') count once per use, so a "billion
# laughs" file of a few hundred bytes is refused before anything is built from it.
MAX_VALUES = 50_000
MAX_CHARACTERS = 5_000_000
MAX_DEPTH = 50
MAX_DIGITS = 100


class _LineLoader(_BaseLoader):  # type: ignore[valid-type,misc]
    duplicate_keys: list[tuple[str, int]]


def _construct_error(node: yaml.Node, message: str) -> yaml.constructor.ConstructorError:
    return yaml.constructor.ConstructorError(None, None, message, node.start_mark)


def _construct_mapping(loader: _LineLoader, node: yaml.Node) -> _LineMap:
    if not isinstance(node, yaml.MappingNode):
        raise _construct_error(node, "a '!!map' tag must be on a mapping of 'key: value' lines")
    result = _LineMap()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        if key_node.tag == _MERGE_TAG:
            raise _construct_error(
                key_node, "merge keys ('<<') are not supported; write the keys out"
            )
        key = loader.construct_object(key_node, deep=True)
        key = str(key)
        if key in result:
            loader.duplicate_keys.append((key, key_node.start_mark.line + 1))
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _LineLoader, node: yaml.Node) -> _LineList:
    if not isinstance(node, yaml.SequenceNode):
        raise _construct_error(node, "a '!!seq' tag must be on a list")
    result = _LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


def _checked_scalar(
    construct: Callable[[yaml.constructor.SafeConstructor, yaml.Node], object], kind: str
) -> Callable[[_LineLoader, yaml.Node], object]:
    """PyYAML's constructor for ``kind``, raising a located error instead of a bare exception
    (``!!int x``, a date like ``2024-13-45``, ``!!bool maybe``…) and refusing huge numbers."""

    def construct_checked(loader: _LineLoader, node: yaml.Node) -> object:
        try:
            value = construct(loader, node)
        except yaml.YAMLError:
            raise
        except (ArithmeticError, LookupError, ValueError, TypeError, AttributeError) as exc:
            if isinstance(node.value, str) and len(node.value) > MAX_DIGITS:
                raise _construct_error(node, f"this value is too long to be a {kind}") from exc
            raise _construct_error(node, f"{_shown(node.value)} is not a valid {kind}") from exc
        if isinstance(value, int) and abs(value) >= 10**MAX_DIGITS:
            raise _construct_error(
                node, f"this number is too long (over {MAX_DIGITS} digits); quote it if it is text"
            )
        return value

    return construct_checked


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
for _tag, _kind in (("int", "whole number"), ("float", "number"), ("bool", "true/false")):
    _LineLoader.add_constructor(
        f"tag:yaml.org,2002:{_tag}",
        _checked_scalar(
            yaml.constructor.SafeConstructor.yaml_constructors[f"tag:yaml.org,2002:{_tag}"], _kind
        ),
    )
_LineLoader.add_constructor(
    "tag:yaml.org,2002:timestamp",
    _checked_scalar(
        yaml.constructor.SafeConstructor.yaml_constructors["tag:yaml.org,2002:timestamp"],
        "date (quote it if it is text)",
    ),
)


def _shown(value: object, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters, for messages about values from a file."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _TooBigError(Exception):
    def __init__(self, node: yaml.Node, message: str) -> None:
        super().__init__(message)
        self.line = node.start_mark.line + 1
        self.message = message


def _measure(
    node: yaml.Node, level: int, sizes: dict[int, tuple[int, int, int]], path: set[int]
) -> tuple[int, int, int]:
    """(values, characters, depth) of ``node`` with every alias copied out; raises _TooBigError.

    Each mapping or list is measured once however many aliases point to it, so a bomb costs
    no time; the recursion stops at ``MAX_DEPTH``.
    """
    if isinstance(node, yaml.ScalarNode):
        return 1, len(node.value), 1
    key = id(node)
    known = sizes.get(key)
    if known is None:
        if key in path:
            raise _TooBigError(node, "an alias ('*name') points to a value that contains the alias")
        if level > MAX_DEPTH:
            raise _TooBigError(node, f"values are nested more than {MAX_DEPTH} levels deep here")
        path.add(key)
        values, characters, depth = 1, 0, 0
        children = (
            [child for pair in node.value for child in pair]
            if isinstance(node, yaml.MappingNode)
            else node.value
        )
        for child in children:
            v, c, d = _measure(child, level + 1, sizes, path)
            values += v
            characters += c
            depth = max(depth, d)
        path.discard(key)
        known = sizes[key] = values, characters, depth + 1
        if values > MAX_VALUES or characters > MAX_CHARACTERS:
            raise _TooBigError(
                node,
                f"this is too big for a form once its aliases ('*name') are copied out "
                f"(over {MAX_VALUES:,} values or {MAX_CHARACTERS:,} characters); "
                "write the values out, without aliases of aliases",
            )
    if level + known[2] - 1 > MAX_DEPTH:  # an alias deep down to a value nested deep itself
        raise _TooBigError(node, f"values are nested more than {MAX_DEPTH} levels deep here")
    return known


def _too_big(root: yaml.Node) -> tuple[int, str] | None:
    """(line, message) when the document, with every alias copied out, is bigger or deeper
    than any form could be; None when it is fine."""
    try:
        _measure(root, 1, {}, set())
    except _TooBigError as exc:
        return exc.line, exc.message
    return None


def suggest(word: str, options: Iterable[str]) -> str:
    """Return ``"; did you mean 'x'?"`` for the closest option, or an empty string."""
    matches = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f"; did you mean '{matches[0]}'?" if matches else ""


# --- the checker ------------------------------------------------------------------------------


@dataclass
class _Reader:
    """Reads one file's parsed YAML into model objects, recording problems as it goes."""

    file: str
    values: Mapping[str, str] = field(default_factory=lambda: DEFAULT_TEXT_VALUES)
    problems: list[Problem] = field(default_factory=list)

    def fill(self, text: str, line: int, where: str) -> str:
        """Put the clinic's settings into ``{clinic_name}``-style placeholders."""

        def replace(match: re.Match[str]) -> str:
            if match[1] is None:
                return match[0][0]  # {{ or }} stands for one brace
            name = match[1].strip()
            if name in self.values:
                return self.values[name]
            self.problem(
                line,
                f"{where} uses '{{{name}}}', which is not a clinic setting; use one of "
                f"{', '.join('{' + n + '}' for n in TEXT_VALUE_NAMES)}"
                f"{suggest(name, TEXT_VALUE_NAMES)}",
            )
            return match[0]

        return _PLACEHOLDER.sub(replace, text)

    def problem(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.file, line, message))

    def keys(
        self, data: _LineMap, where: str, required: Iterable[str], optional: Iterable[str] = ()
    ) -> bool:
        """Check a mapping's keys; report unknown and missing ones. True when all required exist."""
        required = tuple(required)
        allowed = set(required) | set(optional)
        for key in data:
            if key not in allowed:
                self.problem(
                    data.key_lines[key], f"unknown key '{key}' in {where}{suggest(key, allowed)}"
                )
        missing = [key for key in required if key not in data]
        for key in missing:
            self.problem(data.line, f"{where} is missing '{key}'")
        return not missing

    def line_of(self, data: _LineMap, key: str) -> int:
        return data.key_lines.get(key, data.line)

    def mapping(self, value: Any, line: int, where: str) -> _LineMap | None:
        if isinstance(value, _LineMap):
            return value
        self.problem(line, f"{where} should be a mapping of 'key: value' lines")
        return None

    def sequence(self, value: Any, line: int, where: str) -> _LineList | None:
        if isinstance(value, _LineList):
            return value
        self.problem(line, f"{where} should be a list (lines starting with '- ')")
        return None

    # A missing key was already reported by keys(); the readers below then return a default
    # silently, so one mistake is reported once and reading goes on to find the others.

    def identifier(self, data: _LineMap, key: str, where: str) -> str:
        if key not in data:
            return ""
        value = data.get(key)
        if not isinstance(value, str) or not value.isidentifier() or value.lower() != value:
            self.problem(
                self.line_of(data, key),
                f"{where} '{key}' must be a snake_case name like 'pain_now', not {_shown(value)}",
            )
            return str(value)
        return value

    def integer(self, data: _LineMap, key: str, where: str, default: int | None = None) -> int:
        if key not in data:
            return default or 0
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(self.line_of(data, key), f"{where} '{key}' must be a whole number")
            return 0
        return value

    def number(self, data: _LineMap, key: str, where: str) -> float:
        if key not in data:
            return 0.0
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            self.problem(self.line_of(data, key), f"{where} '{key}' must be a number")
            return 0.0
        return float(value)

    def boolean(self, data: _LineMap, key: str, where: str, default: bool) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            self.problem(self.line_of(data, key), f"{where} '{key}' must be true or false")
            return default
        return value

    def string(self, data: _LineMap, key: str, where: str) -> str | None:
        if key not in data:
            return None
        value = data[key]
        if not isinstance(value, str | int) or isinstance(value, bool):
            self.problem(self.line_of(data, key), f"{where} '{key}' must be text")
            return None
        return str(value)

    def text(self, data: _LineMap, key: str, where: str) -> LocalizedText:
        """Read ``{en: …, es: …}``; every supported language is required."""
        if key not in data:
            return LocalizedText({lang: "" for lang in LANGUAGES})
        line = self.line_of(data, key)
        value = data[key]
        if isinstance(value, str):
            self.problem(
                line, f"{where} '{key}' needs every language: write it as {{en: …, es: …}}"
            )
            return LocalizedText({lang: value for lang in LANGUAGES})
        texts = self.mapping(value, line, f"{where} '{key}'")
        if texts is None:
            return LocalizedText({lang: "" for lang in LANGUAGES})
        for lang in texts:
            if lang not in LANGUAGES:
                self.problem(
                    texts.key_lines[lang],
                    f"unknown language '{lang}' in {where} '{key}'{suggest(lang, LANGUAGES)}",
                )
        values: dict[str, str] = {}
        for lang in LANGUAGES:
            text = texts.get(lang)
            if not isinstance(text, str) or not text.strip():
                self.problem(texts.line, f"{where} '{key}' has no '{lang}' text")
                text = ""
            values[lang] = self.fill(text.strip(), line, f"{where} '{key}'")
        return LocalizedText(values)

    def optional_text(self, data: _LineMap, key: str, where: str) -> LocalizedText | None:
        return self.text(data, key, where) if key in data else None

    def each(self, data: _LineMap, key: str, where: str) -> Iterator[tuple[_LineMap, int]]:
        """Yield every mapping element of the list ``data[key]`` with its line."""
        if key not in data:
            return
        seq = self.sequence(data.get(key), self.line_of(data, key), f"{where} '{key}'")
        if seq is None:
            return
        for value, line in zip(seq, seq.item_lines, strict=True):
            element = self.mapping(value, line, f"each entry of {where} '{key}'")
            if element is not None:
                yield element, line

    def enum(self, data: _LineMap, key: str, kind: type[T], where: str, default: T) -> T:
        if key not in data:
            return default
        value = data[key]
        options = [str(m.value) for m in kind]  # type: ignore[attr-defined]
        try:
            return kind(value)  # type: ignore[call-arg]
        except ValueError:
            self.problem(
                self.line_of(data, key),
                f"{where} '{key}' is {_shown(value)}; use one of {', '.join(options)}"
                f"{suggest(str(value), options)}",
            )
            return default

    # --- conditions ---

    def setting_number(self, data: _LineMap, where: str) -> float | None:
        """Read ``{setting: fasting_food_hours}``: a number taken from the clinic's settings."""
        if not self.keys(data, where, ("setting",)):
            return None
        name = str(data["setting"])
        if name not in self.values:
            self.problem(
                self.line_of(data, "setting"),
                f"{where} uses setting '{name}', which does not exist"
                f"{suggest(name, TEXT_VALUE_NAMES)}",
            )
            return None
        try:
            return float(self.values[name])
        except ValueError:
            self.problem(
                self.line_of(data, "setting"),
                f"{where} uses setting '{name}', whose value is not a number",
            )
            return None

    def condition(
        self, value: Any, line: int, where: str, refs: list[tuple[str, bool, int]]
    ) -> Condition | None:
        """Parse a condition; ``refs`` collects (name, is_score, line) to check later."""
        data = self.mapping(value, line, where)
        if data is None:
            return None
        groups = [key for key in ("all", "any") if key in data]
        if groups or "not" in data:
            self.keys(data, where, (), ("all", "any", "not"))
            if len(data) != 1:
                self.problem(data.line, f"{where} must use exactly one of 'all', 'any' or 'not'")
                return None
            if "not" in data:
                inner = self.condition(data["not"], self.line_of(data, "not"), where, refs)
                return Not(inner) if inner is not None else None
            key = groups[0]
            seq = self.sequence(data[key], self.line_of(data, key), f"{where} '{key}'")
            if seq is None:
                return None
            inner_conditions = [
                self.condition(v, ln, where, refs)
                for v, ln in zip(seq, seq.item_lines, strict=True)
            ]
            parsed = tuple(c for c in inner_conditions if c is not None)
            return AllOf(parsed) if key == "all" else AnyOf(parsed)
        comparisons = [c.value for c in Comparison]
        self.keys(data, where, (), ("item", "score", *comparisons))
        subjects = [key for key in ("item", "score") if key in data]
        used = [key for key in comparisons if key in data]
        if len(subjects) != 1 or len(used) != 1:
            self.problem(
                data.line,
                f"{where} needs one 'item:' (or 'score:') and one comparison "
                f"({', '.join(comparisons)}), or 'all'/'any'/'not'",
            )
            return None
        subject_key = subjects[0]
        subject = str(data[subject_key])
        refs.append((subject, subject_key == "score", self.line_of(data, subject_key)))
        comparison = Comparison(used[0])
        raw = data[used[0]]
        operand: str | int | float | bool | tuple[str | int, ...]
        if comparison is Comparison.IN:
            seq = self.sequence(raw, self.line_of(data, "in"), f"{where} 'in'")
            values = tuple(seq or ())
            if not all(isinstance(v, str | int) for v in values):
                self.problem(
                    self.line_of(data, "in"),
                    f"{where} 'in' must list answers: text or whole numbers, not lists or mappings",
                )
                return None
            operand = values
        elif comparison in (Comparison.GTE, Comparison.GT, Comparison.LTE, Comparison.LT):
            if isinstance(raw, _LineMap):
                raw = self.setting_number(raw, f"{where} '{used[0]}'")
                if raw is None:
                    return None
            if isinstance(raw, bool) or not isinstance(raw, int | float) or math.isnan(raw):
                self.problem(
                    self.line_of(data, used[0]),
                    f"{where} '{used[0]}' needs a number or {{setting: name}}",
                )
                return None
            operand = raw
        elif comparison is Comparison.ANSWERED:
            if not isinstance(raw, bool):
                self.problem(self.line_of(data, "answered"), f"{where} 'answered' is true/false")
                return None
            operand = raw
        elif isinstance(raw, str | int | float) and not (
            isinstance(raw, float) and math.isnan(raw)
        ):
            operand = raw
        else:
            self.problem(
                self.line_of(data, used[0]),
                f"{where} '{used[0]}' needs one answer (text, a number, true or false), "
                f"not {_shown(raw)}",
            )
            return None
        return Compare(subject, comparison, operand, is_score=subject_key == "score")


# --- questionnaire ----------------------------------------------------------------------------

_FORM_KEYS = ("kind", "id", "version", "title", "pages")
_FORM_OPTIONAL = ("loinc", "copyright", "choice_sets", "scores", "flags", "published_wording")
_ITEM_OPTIONAL = (
    "required",
    "help",
    "choices",
    "min",
    "max",
    "min_label",
    "max_label",
    "max_length",
    "past_only",
    "loinc",
    "show_if",
    "identity",
    "columns",
    "add_label",
    "max_rows",
)
_LIST_KEYS = ("columns", "add_label", "max_rows")


def _read_choices(r: _Reader, value: Any, line: int, where: str) -> tuple[Choice, ...]:
    seq = r.sequence(value, line, where)
    if seq is None:
        return ()
    choices: list[Choice] = []
    for raw, ln in zip(seq, seq.item_lines, strict=True):
        data = r.mapping(raw, ln, f"each choice of {where}")
        if data is None or not r.keys(data, "choice", ("value", "label"), ("code", "exclusive")):
            continue
        choice_value = data["value"]
        if isinstance(choice_value, bool) or not isinstance(choice_value, str | int):
            r.problem(
                r.line_of(data, "value"),
                f"choice value {_shown(choice_value)} must be a number or quoted text "
                "(YAML reads yes/no/on/off as true/false)",
            )
            continue
        if any(c.value == choice_value for c in choices):
            r.problem(
                r.line_of(data, "value"), f"choice value {_shown(choice_value)} is used twice"
            )
        choices.append(
            Choice(
                choice_value,
                r.text(data, "label", "choice"),
                r.string(data, "code", "choice"),
                r.boolean(data, "exclusive", "choice", False),
            )
        )
    return tuple(choices)


def _read_item(
    r: _Reader,
    data: _LineMap,
    choice_sets: Mapping[str, tuple[Choice, ...]],
    refs: list[tuple[str, bool, int]],
) -> Item | None:
    if not r.keys(data, "item", ("id", "type", "text"), _ITEM_OPTIONAL) and "id" not in data:
        return None
    item_id = r.identifier(data, "id", "item")
    where = f"item '{item_id}'"
    item_type = r.enum(data, "type", ItemType, where, ItemType.TEXT)
    choices: tuple[Choice, ...] = ()
    is_choice = item_type in (ItemType.SINGLE_CHOICE, ItemType.MULTI_CHOICE)
    if "choices" in data:
        raw = data["choices"]
        if not is_choice:
            r.problem(r.line_of(data, "choices"), f"{where} is {item_type}: it takes no choices")
        elif isinstance(raw, str):
            if raw not in choice_sets:
                r.problem(
                    r.line_of(data, "choices"),
                    f"{where} uses choice set '{raw}', which is not defined in 'choice_sets'"
                    f"{suggest(raw, choice_sets)}",
                )
            choices = choice_sets.get(raw, ())
        else:
            choices = _read_choices(r, raw, r.line_of(data, "choices"), f"{where} 'choices'")
    elif is_choice:
        r.problem(data.line, f"{where} is {item_type}: it needs 'choices'")
    if item_type is not ItemType.MULTI_CHOICE and any(c.exclusive for c in choices):
        r.problem(
            r.line_of(data, "choices"),
            f"{where}: 'exclusive' is only for multi_choice items (single choices already are)",
        )
    columns = _read_columns(r, data, where, item_type)
    scale_keys = ("min", "max", "min_label", "max_label")
    if item_type is not ItemType.SCALE:
        for key in scale_keys:
            if key in data:
                r.problem(r.line_of(data, key), f"'{key}' is only for scale items, not {where}")
    minimum = r.integer(data, "min", where, 0)
    maximum = r.integer(data, "max", where, 10)
    if minimum >= maximum:
        r.problem(r.line_of(data, "max"), f"{where} 'max' must be more than 'min'")
    identity = r.string(data, "identity", where)
    if identity is not None and identity not in IDENTITY_ROLES:
        r.problem(
            r.line_of(data, "identity"),
            f"{where} identity must be one of {', '.join(IDENTITY_ROLES)}"
            f"{suggest(identity, IDENTITY_ROLES)}",
        )
    show_if = None
    if "show_if" in data:
        show_if = r.condition(data["show_if"], r.line_of(data, "show_if"), f"{where} show_if", refs)
    return Item(
        id=item_id,
        type=item_type,
        text=r.text(data, "text", where),
        required=r.boolean(data, "required", where, True),
        help=r.optional_text(data, "help", where),
        choices=choices,
        minimum=minimum,
        maximum=maximum,
        min_label=r.optional_text(data, "min_label", where),
        max_label=r.optional_text(data, "max_label", where),
        max_length=r.integer(data, "max_length", where, 200),
        past_only=r.boolean(data, "past_only", where, False),
        loinc=r.string(data, "loinc", where),
        show_if=show_if,
        identity=identity,
        columns=columns,
        add_label=r.optional_text(data, "add_label", where),
        max_rows=r.integer(data, "max_rows", where, 30),
    )


def _read_columns(
    r: _Reader, data: _LineMap, where: str, item_type: ItemType
) -> tuple[Column, ...]:
    """A list item's row fields; other item types take none of the list keys."""
    if item_type is not ItemType.LIST:
        for key in _LIST_KEYS:
            if key in data:
                r.problem(r.line_of(data, key), f"'{key}' is only for list items, not {where}")
        return ()
    if "add_label" not in data:
        r.problem(data.line, f"{where} is a list: it needs 'add_label' (e.g. Add another medicine)")
    if "max_rows" in data and r.integer(data, "max_rows", where, 30) < 1:
        r.problem(r.line_of(data, "max_rows"), f"{where} 'max_rows' must be at least 1")
    columns: list[Column] = []
    for column_data, _ in r.each(data, "columns", where):
        if not r.keys(column_data, "column", ("id", "text"), ("required", "max_length")):
            continue
        column_id = r.identifier(column_data, "id", "column")
        if any(c.id == column_id for c in columns):
            r.problem(column_data.line, f"{where} has two columns called '{column_id}'")
        columns.append(
            Column(
                column_id,
                r.text(column_data, "text", f"column '{column_id}'"),
                r.boolean(column_data, "required", "column", True),
                r.integer(column_data, "max_length", "column", 200),
            )
        )
    if not columns:
        r.problem(r.line_of(data, "columns"), f"{where} is a list: it needs 'columns'")
    elif not columns[0].required:
        r.problem(r.line_of(data, "columns"), f"{where}: its first column must be required")
    return tuple(columns)


def _compares(condition: Condition) -> Iterator[Compare]:
    """Every comparison inside a condition."""
    match condition:
        case Compare():
            yield condition
        case AllOf(conditions) | AnyOf(conditions):
            for inner in conditions:
                yield from _compares(inner)
        case Not(inner):
            yield from _compares(inner)


def _check_answer_values(
    r: _Reader, line: int, where: str, condition: Condition | None, items: Mapping[str, Item]
) -> None:
    """A condition that compares a choice item with a value it can never have never holds:
    a typo like ``equals: othr`` would silently hide a page forever, so it is an error."""
    matching = (Comparison.EQUALS, Comparison.NOT_EQUALS, Comparison.IN, Comparison.CONTAINS)
    for cmp in _compares(condition) if condition is not None else ():
        item = None if cmp.is_score else items.get(cmp.subject)
        if item is not None and item.type is ItemType.LIST:
            if cmp.comparison is not Comparison.ANSWERED:
                r.problem(line, f"{where} can only ask whether list '{item.id}' is answered")
            continue
        if item is None or cmp.comparison not in matching:
            continue
        if item.type in (ItemType.YES_NO, ItemType.AGREE):
            allowed: list[object] = [True, False]
        elif item.choices:
            allowed = [c.value for c in item.choices]
        else:
            continue
        operands = cmp.operand if isinstance(cmp.operand, tuple) else (cmp.operand,)
        for operand in operands:
            same_kind = [a for a in allowed if isinstance(a, bool) == isinstance(operand, bool)]
            if operand not in same_kind:
                r.problem(
                    line,
                    f"{where} compares '{item.id}' with {_shown(operand)}, which is not one of its "
                    f"answers{suggest(str(operand), [str(a) for a in allowed])}",
                )


def _item_range(item: Item) -> tuple[float, float] | None:
    """The lowest and highest score an item can contribute, or None when it is not numeric."""
    if item.type is ItemType.SCALE:
        return float(item.minimum), float(item.maximum)
    if item.type is ItemType.SINGLE_CHOICE and item.choices:
        values = [c.value for c in item.choices if isinstance(c.value, int)]
        if len(values) == len(item.choices):
            return float(min(values)), float(max(values))
    return None


def _uncovered(low: int, high: int, bands: Iterable[Band], count: int = 5) -> list[int]:
    """The first ``count`` whole numbers from ``low`` to ``high`` that no band covers.

    Walks the bands in order instead of trying every number: a scale may go up to a huge
    number, and the check must still take no time.
    """
    gaps: list[int] = []
    value = low
    for band in sorted(bands, key=lambda b: b.minimum):
        while value < band.minimum and value <= high and len(gaps) < count:
            gaps.append(value)
            value += 1
        if value > high or len(gaps) == count:
            break
        if band.maximum >= high:
            value = high + 1
        elif band.maximum >= value:
            value = math.floor(band.maximum) + 1
    while value <= high and len(gaps) < count:
        gaps.append(value)
        value += 1
    return gaps


def _read_score(r: _Reader, data: _LineMap, items: Mapping[str, Item]) -> ScoreRule | None:
    keys_ok = r.keys(data, "score", ("id", "method", "items", "label"), ("bands", "loinc"))
    if not keys_ok and "id" not in data:
        return None
    score_id = r.identifier(data, "id", "score")
    where = f"score '{score_id}'"
    method = r.enum(data, "method", ScoreMethod, where, ScoreMethod.SUM)
    seq = _LineList()
    if "items" in data:
        seq = r.sequence(data["items"], r.line_of(data, "items"), f"{where} 'items'") or seq
    ranges: list[tuple[float, float]] = []
    for item_id, line in zip(seq, seq.item_lines, strict=True):
        if not isinstance(item_id, str) or item_id not in items:
            r.problem(
                line,
                f"{where} adds up '{item_id}', which is not an item{suggest(str(item_id), items)}",
            )
            continue
        item_range = _item_range(items[item_id])
        if item_range is None:
            r.problem(line, f"{where} uses '{item_id}', which has no numeric answers to add up")
        else:
            ranges.append(item_range)
    bands: list[Band] = []
    for band_data, _line in r.each(data, "bands", where) if "bands" in data else ():
        if not r.keys(band_data, "band", ("id", "min", "max", "label")):
            continue
        band = Band(
            id=r.identifier(band_data, "id", "band"),
            minimum=r.number(band_data, "min", "band"),
            maximum=r.number(band_data, "max", "band"),
            label=r.text(band_data, "label", "band"),
        )
        if band.minimum > band.maximum:
            r.problem(band_data.line, f"band '{band.id}' has min above max")
        for other in bands:
            if band.minimum <= other.maximum and other.minimum <= band.maximum:
                r.problem(band_data.line, f"band '{band.id}' overlaps band '{other.id}'")
        bands.append(band)
    if bands and method is ScoreMethod.SUM and len(ranges) == len(seq):
        low, high = int(sum(lo for lo, _ in ranges)), int(sum(hi for _, hi in ranges))
        gaps = _uncovered(low, high, bands)
        if gaps:
            r.problem(
                r.line_of(data, "bands"),
                f"{where} can be {low}–{high} but no band covers {', '.join(map(str, gaps[:5]))}",
            )
    return ScoreRule(
        id=score_id,
        method=method,
        items=tuple(str(i) for i in seq),
        label=r.text(data, "label", where),
        bands=tuple(bands),
        loinc=r.string(data, "loinc", where),
    )


def _read_questionnaire(r: _Reader, data: _LineMap) -> Form | None:
    r.keys(data, "questionnaire", _FORM_KEYS, _FORM_OPTIONAL)
    form_id = r.identifier(data, "id", "form")
    choice_sets: dict[str, tuple[Choice, ...]] = {}
    if "choice_sets" in data:
        sets = r.mapping(data["choice_sets"], r.line_of(data, "choice_sets"), "'choice_sets'")
        for name, raw in (sets or _LineMap()).items():
            line = sets.key_lines[name] if sets is not None else data.line
            choice_sets[name] = _read_choices(r, raw, line, f"choice set '{name}'")
    pages: list[Page] = []
    seen: dict[str, Item] = {}
    page_ids: set[str] = set()
    for page_data, _line in r.each(data, "pages", "form"):
        r.keys(page_data, "page", ("id", "items"), ("title", "intro", "show_if"))
        page_id = r.identifier(page_data, "id", "page")
        if page_id in page_ids:
            r.problem(page_data.line, f"page id '{page_id}' is used twice")
        page_ids.add(page_id)
        where = f"page '{page_id}'"
        earlier = dict(seen)  # conditions may only look at answers from earlier pages
        refs: list[tuple[str, bool, int]] = []
        show_if = None
        if "show_if" in page_data:
            show_if = r.condition(
                page_data["show_if"], r.line_of(page_data, "show_if"), f"{where} show_if", refs
            )
        items: list[Item] = []
        for item_data, _ in r.each(page_data, "items", where):
            item = _read_item(r, item_data, choice_sets, refs)
            if item is None:
                continue
            if item.id in seen:
                r.problem(item_data.line, f"item id '{item.id}' is used twice")
            seen[item.id] = item
            items.append(item)
        for name, is_score, line in refs:
            if is_score:
                r.problem(line, "show_if can only look at answers, not scores")
            elif name not in earlier:
                hint = (
                    " (it is on this page; conditions look at earlier pages)"
                    if name in seen
                    else suggest(name, earlier)
                )
                r.problem(
                    line, f"show_if refers to '{name}', which is not on an earlier page{hint}"
                )
        _check_answer_values(r, r.line_of(page_data, "show_if"), where, show_if, earlier)
        for item in items:
            _check_answer_values(r, page_data.line, f"item '{item.id}'", item.show_if, earlier)
        if not items:
            r.problem(page_data.line, f"{where} has no items")
        pages.append(
            Page(
                id=page_id,
                items=tuple(items),
                title=r.optional_text(page_data, "title", where),
                intro=r.optional_text(page_data, "intro", where),
                show_if=show_if,
            )
        )
    scores = [
        score
        for score_data, _ in (r.each(data, "scores", "form") if "scores" in data else ())
        if (score := _read_score(r, score_data, seen)) is not None
    ]
    score_ids = {s.id for s in scores}
    if len(score_ids) != len(scores):
        r.problem(r.line_of(data, "scores"), "two scores share an id")
    flags = _read_flags(r, data, seen, score_ids)
    return Form(
        id=form_id,
        version=r.integer(data, "version", "form"),
        title=r.text(data, "title", "form"),
        pages=tuple(pages),
        scores=tuple(scores),
        flags=tuple(flags),
        loinc=r.string(data, "loinc", "form"),
        copyright=r.string(data, "copyright", "form"),
        published_wording=r.boolean(data, "published_wording", "form", False),
        source=r.file,
    )


def _read_flags(
    r: _Reader,
    data: _LineMap,
    items: Mapping[str, Item],
    score_ids: set[str],
    *,
    patient_notices: bool = True,
) -> tuple[FlagRule, ...]:
    """Read a document's ``flags``; each may look only at ``items`` and ``score_ids``.
    ``patient_notices``: whether a flag may name a screen for the patient (questionnaires)."""
    flags: list[FlagRule] = []
    for flag_data, _ in r.each(data, "flags", "form") if "flags" in data else ():
        keys_ok = r.keys(
            flag_data, "flag", ("id", "severity", "when", "message"), ("patient_notice",)
        )
        if not keys_ok and "when" not in flag_data:
            continue
        flag_id = r.identifier(flag_data, "id", "flag")
        if any(f.id == flag_id for f in flags):
            r.problem(flag_data.line, f"flag id '{flag_id}' is used twice")
        where = f"flag '{flag_id}'"
        refs: list[tuple[str, bool, int]] = []
        when = r.condition(flag_data["when"], r.line_of(flag_data, "when"), f"{where} 'when'", refs)
        for name, is_score, line in refs:
            known: Iterable[str] = score_ids if is_score else items
            if name not in known:
                kind = "score" if is_score else "item"
                r.problem(
                    line,
                    f"{where} looks at {kind} '{name}', which does not exist{suggest(name, known)}",
                )
        _check_answer_values(r, r.line_of(flag_data, "when"), where, when, items)
        if when is not None:
            flags.append(
                FlagRule(
                    id=flag_id,
                    severity=r.enum(flag_data, "severity", Severity, where, Severity.REVIEW),
                    when=when,
                    message=r.text(flag_data, "message", where),
                    patient_notice=_read_patient_notice(r, flag_data, where, patient_notices),
                )
            )
    return tuple(flags)


def _read_patient_notice(r: _Reader, flag_data: _LineMap, where: str, allowed: bool) -> str:
    """A flag's ``patient_notice``: the name of a known notice, or empty."""
    name = r.string(flag_data, "patient_notice", where)
    if name is None:
        return ""
    line = r.line_of(flag_data, "patient_notice")
    if not allowed:
        r.problem(
            line,
            f"{where} has a 'patient_notice', but only a questionnaire's flags can have one "
            "(the notice is shown when a page of questions is saved); remove it",
        )
        return ""
    if name not in PATIENT_NOTICES:
        r.problem(
            line,
            f"{where} 'patient_notice' is {_shown(name)}, which is not a notice the kiosk has; "
            f"use one of {', '.join(PATIENT_NOTICES)}{suggest(name, PATIENT_NOTICES)}",
        )
        return ""
    return name


# --- consent and packet -----------------------------------------------------------------------


_CONSENT_KEYS = ("kind", "id", "version", "title", "sections", "statement", "meaning")
_CONSENT_OPTIONAL = ("quiz", "attestations", "flags")
_ATTESTATION_TYPES = (ItemType.AGREE, ItemType.SINGLE_CHOICE, ItemType.YES_NO)


def _read_consent(r: _Reader, data: _LineMap) -> ConsentDocument | None:
    r.keys(data, "consent", _CONSENT_KEYS, _CONSENT_OPTIONAL)
    sections: list[Section] = []
    for section_data, _ in r.each(data, "sections", "consent"):
        r.keys(section_data, "section", ("id", "title", "body"))
        section_id = r.identifier(section_data, "id", "section")
        if any(s.id == section_id for s in sections):
            r.problem(section_data.line, f"section id '{section_id}' is used twice")
        where = f"section '{section_id}'"
        sections.append(
            Section(
                section_id,
                r.text(section_data, "title", where),
                r.text(section_data, "body", where),
            )
        )
    if not sections:
        r.problem(r.line_of(data, "sections"), "a consent needs at least one section")
    quiz = _read_quiz(r, data, [s.id for s in sections]) if "quiz" in data else None
    attestations: dict[str, Item] = {}
    for item_data, _ in r.each(data, "attestations", "consent") if "attestations" in data else ():
        item = _read_item(r, item_data, {}, [])
        if item is None:
            continue
        if item.id in attestations or (quiz and any(q.id == item.id for q in quiz.questions)):
            r.problem(item_data.line, f"id '{item.id}' is used twice in this consent")
        if item.type not in _ATTESTATION_TYPES or item.show_if is not None:
            r.problem(
                item_data.line,
                f"attestation '{item.id}' must be agree, yes_no or single_choice, with no show_if",
            )
        attestations[item.id] = item
    return ConsentDocument(
        id=r.identifier(data, "id", "consent"),
        version=r.integer(data, "version", "consent"),
        title=r.text(data, "title", "consent"),
        sections=tuple(sections),
        statement=r.text(data, "statement", "consent"),
        meaning=r.text(data, "meaning", "consent"),
        quiz=quiz,
        attestations=tuple(attestations.values()),
        flags=_read_flags(r, data, attestations, set(), patient_notices=False),
        source=r.file,
    )


def _read_quiz(r: _Reader, data: _LineMap, section_ids: list[str]) -> Quiz | None:
    quiz_data = r.mapping(data["quiz"], r.line_of(data, "quiz"), "'quiz'")
    if quiz_data is None or not r.keys(quiz_data, "quiz", ("flag", "questions")):
        return None
    flag_data = r.mapping(quiz_data["flag"], r.line_of(quiz_data, "flag"), "quiz 'flag'")
    flag = Notice("", Severity.REVIEW, LocalizedText({}))
    if flag_data is not None and r.keys(flag_data, "quiz flag", ("id", "severity", "message")):
        flag = Notice(
            r.identifier(flag_data, "id", "quiz flag"),
            r.enum(flag_data, "severity", Severity, "quiz flag", Severity.REVIEW),
            r.text(flag_data, "message", "quiz flag"),
        )
    questions: list[QuizQuestion] = []
    for q_data, _ in r.each(quiz_data, "questions", "quiz"):
        if not r.keys(q_data, "question", ("id", "section", "text", "choices", "correct")):
            continue
        question_id = r.identifier(q_data, "id", "question")
        where = f"question '{question_id}'"
        if any(q.id == question_id for q in questions):
            r.problem(q_data.line, f"{where} is used twice")
        section = str(q_data["section"])
        if section not in section_ids:
            r.problem(
                r.line_of(q_data, "section"),
                f"{where} refers to section '{section}', which does not exist"
                f"{suggest(section, section_ids)}",
            )
        choices = _read_choices(r, q_data["choices"], r.line_of(q_data, "choices"), where)
        correct = q_data["correct"]
        if not any(c.value == correct and not isinstance(correct, bool) for c in choices):
            r.problem(
                r.line_of(q_data, "correct"),
                f"{where} 'correct' is {_shown(correct)}, which is not one of its choices"
                f"{suggest(str(correct), [str(c.value) for c in choices])}",
            )
        if len(choices) < 2:
            r.problem(r.line_of(q_data, "choices"), f"{where} needs at least two choices")
        questions.append(
            QuizQuestion(
                question_id,
                section,
                r.text(q_data, "text", where),
                choices,
                correct if isinstance(correct, str | int) else str(correct),
            )
        )
    if not questions:
        r.problem(r.line_of(quiz_data, "questions"), "a quiz needs at least one question")
    return Quiz(tuple(questions), flag)


Document = Form | ConsentDocument
_READERS: dict[str, Callable[[_Reader, _LineMap], Document | None]] = {
    "questionnaire": _read_questionnaire,
    "consent": _read_consent,
}


_LINE_BREAKS = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
"""What YAML counts as the end of a line; problem lines are counted the same way."""


def _line_at(text: str, index: int) -> int:
    if any(c in text for c in "\r\x85\u2028\u2029"):
        return len(_LINE_BREAKS.findall(text, 0, index)) + 1
    return text.count("\n", 0, index) + 1


def _parse(path: Path, r: _Reader) -> _LineMap | None:
    try:
        data = path.read_bytes()
    except (OSError, ValueError) as exc:
        r.problem(1, f"cannot read the file ({exc.__class__.__name__})")
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        r.problem(
            data.count(b"\n", 0, exc.start) + 1,
            f"the file is not UTF-8 text (byte {exc.start + 1} cannot be read); save it as UTF-8",
        )
        return None
    loader: _LineLoader | None = None
    try:
        loader = _LineLoader(text)  # PyYAML's own reader checks the characters here
        loader.duplicate_keys = []
        node = loader.get_single_node()
        too_big = _too_big(node) if node is not None else None
        if too_big is not None:
            r.problem(*too_big)
            return None
        raw = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        # Lines from the marks' character index: libyaml puts the end of a file that does not
        # end with a line break on a line of its own, one past the last.
        mark = exc.problem_mark or exc.context_mark
        line = _line_at(text, mark.index) if mark else 1
        message = f"not valid YAML: {exc.problem or exc.context or 'cannot be read'}"
        if exc.problem and exc.context and exc.context_mark:
            start = _line_at(text, exc.context_mark.index)
            if exc.problem.startswith("but "):  # "expected a single document…, but found…"
                message = f"not valid YAML: {exc.context} (from line {start}), {exc.problem}"
            elif start != line:
                message += f" ({exc.context}, which starts on line {start})"
        r.problem(line, message)
        return None
    except yaml.reader.ReaderError as exc:
        # libyaml counts bytes of UTF-8, PyYAML's own reader characters.
        at = (
            exc.position
            if _BaseLoader is yaml.SafeLoader
            else len(data[: exc.position].decode("utf-8", "ignore"))
        )
        character = chr(exc.character) if isinstance(exc.character, int) else exc.character
        r.problem(
            _line_at(text, at),
            f"YAML does not allow the character {_shown(character)} ({exc.reason}); remove it",
        )
        return None
    except RecursionError:  # only without libyaml, whose parser stops at 1,000 levels
        r.problem(1, f"values are nested more than {MAX_DEPTH} levels deep")
        return None
    finally:
        if loader is not None:
            loader.dispose()
    for key, line in loader.duplicate_keys:
        r.problem(line, f"key '{key}' appears twice in the same place")
    return r.mapping(raw, 1, "the file")


def _read_file(
    path: Path, problems: list[Problem], values: Mapping[str, str] | None = None
) -> tuple[str | None, Document | _LineMap | None]:
    r = _Reader(str(path), dict(DEFAULT_TEXT_VALUES) | dict(values or {}))
    data = _parse(path, r)
    result: tuple[str | None, Document | _LineMap | None] = (None, None)
    if data is not None:
        kind = data.get("kind")
        if kind == "packet":
            result = ("packet", data)
        elif isinstance(kind, str) and kind in _READERS:
            result = (kind, _READERS[kind](r, data))
        else:
            kinds = [*_READERS, "packet"]
            r.problem(
                r.line_of(data, "kind"),
                f"'kind' is {_shown(kind)}; use one of {', '.join(kinds)}"
                f"{suggest(str(kind), kinds)}",
            )
    problems.extend(r.problems)
    return result


def load_document(path: Path, values: Mapping[str, str] | None = None) -> Document:
    """Load one questionnaire or consent file. Raises FormError listing every problem.

    ``values`` are the clinic's settings for ``{clinic_name}``-style placeholders.
    """
    problems: list[Problem] = []
    _kind, document = _read_file(path, problems, values)
    if problems:
        raise FormError(problems)
    if not isinstance(document, Form | ConsentDocument):
        raise FormError([Problem(str(path), 1, "this file is a packet, not a form")])
    return document


def _form_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.yaml") if p.is_file())


def load_packet(directory: Path, values: Mapping[str, str] | None = None) -> Packet:
    """Load ``packet.yaml`` and every form it names from ``directory``.

    ``values`` are the clinic's settings for ``{clinic_name}``-style placeholders.

    Raises:
        FormError: with every problem in every file, each with its location.
    """
    problems: list[Problem] = []
    documents: dict[str, tuple[Document, Path]] = {}
    packet_data: _LineMap | None = None
    packet_path = directory / PACKET_FILE
    for path in _form_files(directory):
        kind, value = _read_file(path, problems, values)
        if kind == "packet" and isinstance(value, _LineMap):
            if path.name != PACKET_FILE:
                problems.append(Problem(str(path), 1, f"a packet must be named {PACKET_FILE}"))
            packet_data = value
        elif isinstance(value, Form | ConsentDocument):
            if value.id in documents:
                problems.append(
                    Problem(
                        str(path),
                        1,
                        f"form id '{value.id}' is also used by {documents[value.id][1]}",
                    )
                )
            documents[value.id] = (value, path)
    if packet_data is None:
        problems.append(Problem(str(packet_path), 1, f"{PACKET_FILE} is missing or unreadable"))
        raise FormError(problems)
    r = _Reader(str(packet_path))
    packet = None
    if r.keys(
        packet_data,
        "packet",
        ("kind", "id", "version", "forms", "consent"),
        ("consent_answers", "summary_sections"),
    ):
        forms: list[Form] = []
        seq = r.sequence(packet_data["forms"], r.line_of(packet_data, "forms"), "packet 'forms'")
        questionnaires = {k: v for k, (v, _) in documents.items() if isinstance(v, Form)}
        consents = {k: v for k, (v, _) in documents.items() if isinstance(v, ConsentDocument)}
        for form_id, line in zip(seq or (), (seq.item_lines if seq else ()), strict=True):
            if any(form.id == form_id for form in forms):
                r.problem(line, f"packet lists form '{form_id}' twice; list each form once")
            elif isinstance(form_id, str) and form_id in questionnaires:
                forms.append(questionnaires[form_id])
            else:
                r.problem(
                    line,
                    f"packet lists form '{form_id}', which is not in {directory}"
                    f"{suggest(str(form_id), questionnaires)}",
                )
        consent_id = str(packet_data["consent"])
        consent = consents.get(consent_id)
        if consent is None:
            r.problem(
                r.line_of(packet_data, "consent"),
                f"packet consent '{consent_id}' is not a consent in {directory}"
                f"{suggest(consent_id, consents)}",
            )
        _check_packet_items(r, packet_data, forms)
        consent_answers = _consent_answers(r, packet_data, forms)
        summary_sections = _summary_sections(r, packet_data, forms)
        if consent is not None:
            packet = Packet(
                id=r.identifier(packet_data, "id", "packet"),
                version=r.integer(packet_data, "version", "packet"),
                forms=tuple(forms),
                consent=consent,
                consent_answers=consent_answers,
                summary_sections=summary_sections,
            )
    problems.extend(r.problems)
    if problems or packet is None:
        raise FormError(problems)
    return packet


def _consent_answers(r: _Reader, data: _LineMap, forms: list[Form]) -> tuple[str, ...]:
    """The answers that matter to consent (printed on the consent PDF): ids of packet items."""
    if "consent_answers" not in data:
        return ()
    line = r.line_of(data, "consent_answers")
    seq = r.sequence(data["consent_answers"], line, "packet 'consent_answers'")
    known = {item.id for form in forms for item in form.items}
    ids: list[str] = []
    for item_id, item_line in zip(seq or (), (seq.item_lines if seq else ()), strict=True):
        if str(item_id) not in known:
            r.problem(
                item_line,
                f"consent_answers lists '{item_id}', which no form in the packet asks"
                f"{suggest(str(item_id), known)}",
            )
        elif str(item_id) in ids:
            r.problem(item_line, f"consent_answers lists '{item_id}' twice")
        else:
            ids.append(str(item_id))
    return tuple(ids)


def _summary_sections(r: _Reader, data: _LineMap, forms: list[Form]) -> tuple[SummaryGroup, ...]:
    """The clinician summary's sections: a title and the forms or questions each shows.

    A form id stands for every question of that form, in order; the ids are checked like every
    other reference, so a misspelt one is a problem here instead of an empty section on paper.
    """
    by_form = {form.id: [item.id for item in form.items] for form in forms}
    questions = {item_id for ids in by_form.values() for item_id in ids}
    groups: list[SummaryGroup] = []
    for number, (section, _) in enumerate(r.each(data, "summary_sections", "packet"), 1):
        written = r.string(section, "title", "summary section")
        title = (written or "").strip()
        where = f"summary section {_shown(title)}" if title else f"summary section {number}"
        if not r.keys(section, where, ("title", "show")):
            continue
        if written is not None and not title:
            r.problem(r.line_of(section, "title"), f"{where} has an empty 'title'")
        show_line = r.line_of(section, "show")
        seq = r.sequence(section["show"], show_line, f"{where} 'show'")
        if seq is not None and not seq:
            r.problem(show_line, f"{where} shows nothing; list a form or a question")
        items: list[str] = []
        for name, name_line in zip(seq or (), (seq.item_lines if seq else ()), strict=True):
            if not isinstance(name, str):
                r.problem(name_line, f"{where} shows {_shown(name)}; list form or question ids")
                continue
            shown = by_form.get(name, [name] if name in questions else None)
            if shown is None:
                r.problem(
                    name_line,
                    f"{where} shows '{name}', which is neither a form of the packet nor a "
                    f"question in one{suggest(name, [*by_form, *questions])}",
                )
                continue
            again = [item_id for item_id in shown if item_id in items]
            if again:
                r.problem(name_line, f"{where} shows '{again[0]}' twice")
            items.extend(item_id for item_id in shown if item_id not in items)
        groups.append(SummaryGroup(title, tuple(items)))
    return tuple(groups)


def _check_packet_items(r: _Reader, data: _LineMap, forms: list[Form]) -> None:
    """Item ids are stored per visit, so they must be unique across the whole packet."""
    owner: dict[str, str] = {}
    roles: dict[str, str] = {}
    for form in forms:
        for item in form.items:
            if item.id in owner and owner[item.id] != form.id:
                r.problem(
                    r.line_of(data, "forms"),
                    f"item id '{item.id}' is used by both '{owner[item.id]}' and '{form.id}'",
                )
            owner[item.id] = form.id
            if item.identity:
                if item.identity in roles:
                    r.problem(
                        r.line_of(data, "forms"), f"two items ask for the patient's {item.identity}"
                    )
                roles[item.identity] = item.id
    for role in IDENTITY_ROLES:
        if role not in roles:
            r.problem(r.line_of(data, "forms"), f"no item in the packet has 'identity: {role}'")


def check_paths(paths: Iterable[Path], values: Mapping[str, str] | None = None) -> list[Problem]:
    """Check form files and folders; a folder with a packet is checked as a whole packet."""
    problems: list[Problem] = []
    for path in paths:
        if path.is_dir():
            if (path / PACKET_FILE).exists():
                try:
                    load_packet(path, values)
                except FormError as exc:
                    problems.extend(exc.problems)
            else:
                for file in _form_files(path):
                    _read_file(file, problems, values)
        elif path.exists():
            _read_file(path, problems, values)
        else:
            problems.append(Problem(str(path), 0, "no such file or folder"))
    return problems
