"""The themes' text contrast, computed from the stylesheets, and the text-size scaling."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from kiosk import paths
from kiosk.ui.theme import TEXT_SIZES, Appearance, stylesheet

MIN_CONTRAST = 7.0  # WCAG 2 AAA for body text
_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_HEX = re.compile(r"#[0-9A-Fa-f]{6}\b")


@dataclass(frozen=True)
class Rule:
    selectors: tuple[str, ...]
    colors: dict[str, str]  # property -> #RRGGBB


def parse(qss: str) -> list[Rule]:
    qss = re.sub(r"/\*.*?\*/", "", qss, flags=re.DOTALL)
    rules = []
    for selectors, body in _RULE.findall(qss):
        colors = {}
        for declaration in body.split(";"):
            name, _, value = declaration.partition(":")
            match = _HEX.search(value)
            if match and name.strip() in (
                "color",
                "background",
                "selection-color",
                "selection-background-color",
            ):
                colors[name.strip()] = match[0].upper()
        names = tuple(" ".join(s.split()) for s in selectors.split(","))
        rules.append(Rule(names, colors))
    return rules


def luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def effective(rules: list[Rule]) -> dict[str, dict[str, str]]:
    """Selector -> its colours, later rules winning (as in the cascade for equal selectors)."""
    table: dict[str, dict[str, str]] = {}
    for rule in rules:
        for selector in rule.selectors:
            table.setdefault(selector, {}).update(rule.colors)
    return table


def text_pairs(table: dict[str, dict[str, str]]) -> list[tuple[str, str, str]]:
    """(where, text colour, background colour) for every text a patient can read."""
    page = table["QWidget"]["background"]
    cards = {
        c["background"] for s, c in table.items() if s.endswith(" QLabel") and "background" in c
    }
    pairs = []
    for selector, colours in table.items():
        if "color" not in colours or ":disabled" in selector:
            continue  # WCAG exempts inactive controls
        if selector == "QLabel#tickBox":  # its mark shows only when ticked
            pairs.append(
                (selector, colours["color"], table['QLabel#tickBox[checked="true"]']["background"])
            )
            continue
        if "background" in colours:
            pairs.append((selector, colours["color"], colours["background"]))
        elif '[checked="true"]' in selector and "#agree" not in selector:
            checked = table["QPushButton#choice:checked"]["background"]
            pairs.append((selector, colours["color"], checked))
        else:
            pairs.extend((selector, colours["color"], bg) for bg in {page, *cards})
        if "selection-color" in colours:
            pairs.append(
                (selector, colours["selection-color"], colours["selection-background-color"])
            )
    return pairs


THEMES = {"default": Appearance(), "high contrast": Appearance(high_contrast=True)}


@pytest.mark.parametrize("theme", THEMES, ids=list(THEMES))
def test_every_text_colour_has_at_least_7_to_1_contrast(theme: str) -> None:
    pairs = text_pairs(effective(parse(stylesheet(THEMES[theme]))))
    assert len(pairs) > 20
    low = [
        f"{where}: {fg} on {bg} is {contrast(fg, bg):.1f}:1"
        for where, fg, bg in pairs
        if contrast(fg, bg) < MIN_CONTRAST
    ]
    assert low == []


def test_the_contrast_check_catches_a_pale_colour() -> None:
    assert contrast("#777777", "#FFFFFF") < MIN_CONTRAST  # a typical "light grey" hint
    assert contrast("#000000", "#FFFFFF") == pytest.approx(21.0)


@pytest.mark.parametrize("size", TEXT_SIZES)
def test_text_size_scales_every_font_and_nothing_else(size: float) -> None:
    base = (paths.STYLES_DIR / "kiosk.qss").read_text(encoding="utf-8")
    scaled = stylesheet(Appearance(text_size=size))
    before = [int(n) for n in re.findall(r"font-size:\s*(\d+)px", base)]
    after = [int(n) for n in re.findall(r"font-size:\s*(\d+)px", scaled)]
    assert after == [round(n * size) for n in before]
    assert re.findall(r"min-height:\s*\d+px", base) == re.findall(r"min-height:\s*\d+px", scaled)


def test_a_pale_hint_colour_in_the_stylesheet_would_be_caught() -> None:
    pale = stylesheet().replace("color: #2E3A46", "color: #8A96A3")
    low = [w for w, fg, bg in text_pairs(effective(parse(pale))) if contrast(fg, bg) < 7]
    assert "QLabel#helpText" in low
