"""Patient- and staff-facing words that are not part of a form, in every language.

They live in ``resources/strings/*.yaml`` as nested mappings whose leaves are ``{en: …, es: …}``;
a key is the dotted path, e.g. ``nav.next`` or ``errors.required``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from kiosk.domain.errors import FormError, Problem
from kiosk.domain.model import LANGUAGES


@dataclass(frozen=True)
class Strings:
    """Looks up a text by key and language; ``{name}`` placeholders are filled from kwargs."""

    table: Mapping[str, Mapping[str, str]]

    def get(self, key: str, language: str, **values: object) -> str:
        """Return the text for ``key`` in ``language`` (English if that language lacks it).

        Raises:
            KeyError: for a key no strings file defines (a programming error, caught by tests).
        """
        texts = self.table[key]
        text = texts.get(language) or texts["en"]
        return text.format(**values) if values else text

    def __contains__(self, key: object) -> bool:
        return key in self.table


def _flatten(
    node: object, prefix: str, file: str, out: dict[str, dict[str, str]], problems: list[Problem]
) -> None:
    if isinstance(node, dict) and node and set(node) <= set(LANGUAGES):
        missing = [lang for lang in LANGUAGES if not isinstance(node.get(lang), str)]
        if missing:
            problems.append(Problem(file, 0, f"'{prefix}' has no {', '.join(missing)} text"))
        out[prefix] = {lang: str(node.get(lang, "")) for lang in LANGUAGES}
    elif isinstance(node, dict):
        for key, child in node.items():
            _flatten(child, f"{prefix}.{key}" if prefix else str(key), file, out, problems)
    else:
        problems.append(Problem(file, 0, f"'{prefix}' should be {{en: …, es: …}}"))


# libyaml's parser when the wheel has it (about ten times faster: the kiosk loads these at start)
_SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_strings(directory: Path) -> Strings:
    """Load every ``*.yaml`` in ``directory``. Raises FormError when a text lacks a language."""
    table: dict[str, dict[str, str]] = {}
    problems: list[Problem] = []
    for path in sorted(directory.glob("*.yaml")):
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER) or {}  # noqa: S506
        before = set(table)
        fresh: dict[str, dict[str, str]] = {}
        _flatten(data, "", str(path), fresh, problems)
        problems.extend(
            Problem(str(path), 0, f"'{key}' is defined twice") for key in before & set(fresh)
        )
        table.update(fresh)
    if problems:
        raise FormError(problems)
    return Strings(table)
