"""Evaluate declarative show_if / flag conditions. Data only; nothing is ever eval()'d."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from kiosk.domain.model import (
    AllOf,
    AnswerValue,
    AnyOf,
    Compare,
    Comparison,
    Condition,
    Form,
    Item,
    Not,
    Page,
)


def evaluate(
    condition: Condition,
    answers: Mapping[str, AnswerValue],
    scores: Mapping[str, float] | None = None,
) -> bool:
    """Return whether ``condition`` holds for these answers (and computed scores).

    A comparison with an unanswered item is false; only ``answered: false`` is true for it.
    """
    match condition:
        case AllOf(conditions):
            return all(evaluate(c, answers, scores) for c in conditions)
        case AnyOf(conditions):
            return any(evaluate(c, answers, scores) for c in conditions)
        case Not(inner):
            return not evaluate(inner, answers, scores)
        case Compare():
            return _compare(condition, answers, scores or {})
    raise TypeError(f"not a condition: {type(condition).__name__}")


def compares(condition: Condition) -> Iterator[Compare]:
    """Every comparison inside ``condition``: which answers (and scores) it reads."""
    match condition:
        case AllOf(conditions) | AnyOf(conditions):
            for inner in conditions:
                yield from compares(inner)
        case Not(inner):
            yield from compares(inner)
        case Compare():
            yield condition


def _compare(cmp: Compare, answers: Mapping[str, AnswerValue], scores: Mapping[str, float]) -> bool:
    source: Mapping[str, object] = scores if cmp.is_score else answers
    present = cmp.subject in source
    if cmp.comparison is Comparison.ANSWERED:
        return present is cmp.operand
    if not present:
        return False
    value = source[cmp.subject]
    operand = cmp.operand
    match cmp.comparison:
        case Comparison.EQUALS:
            return value == operand
        case Comparison.NOT_EQUALS:
            return value != operand
        case Comparison.IN:
            return isinstance(operand, tuple) and value in operand
        case Comparison.CONTAINS:
            return isinstance(value, tuple) and operand in value
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if isinstance(operand, bool) or not isinstance(operand, int | float):
        return False
    match cmp.comparison:
        case Comparison.GTE:
            return value >= operand
        case Comparison.GT:
            return value > operand
        case Comparison.LTE:
            return value <= operand
        case _:
            return value < operand


def page_visible(page: Page, answers: Mapping[str, AnswerValue]) -> bool:
    """A page shows when it has no condition or its condition holds."""
    return page.show_if is None or evaluate(page.show_if, answers)


def item_visible(item: Item, answers: Mapping[str, AnswerValue]) -> bool:
    """An item shows when it has no condition or its condition holds."""
    return item.show_if is None or evaluate(item.show_if, answers)


def visible_items(forms: Iterable[Form], answers: Mapping[str, AnswerValue]) -> list[Item]:
    """Every item a patient with these answers is asked, in order."""
    return [
        item
        for form in forms
        for page in form.pages
        if page_visible(page, answers)
        for item in page.items
        if item_visible(item, answers)
    ]
