"""What a clinician reviews, described from the packet: raised flags and computed scores.

The clinician summary PDF and the staff console both show flags (urgent first, worded as in the
form files) and every score with its band and LOINC code; this module is the one place that turns
stored ids and numbers into those words. Pure Python: no database, no Qt, no PDF.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from kiosk.domain.model import ConsentDocument, Packet, ScoreRule, Severity
from kiosk.domain.scoring import ScoreResult
from kiosk.domain.strings import Strings
from kiosk.domain.visit import QuizResult, Reading

NOT_SCORED = "Not scored"  # a question it needs was not answered: never a silent 0
SEVERITY_ORDER: dict[Severity, int] = {Severity.URGENT: 0, Severity.REVIEW: 1, Severity.INFO: 2}

# Flags raised by an event that no form describes: worded here, still only for review.
EVENT_FLAGS: dict[str, tuple[Severity, str]] = {
    "paper_consent_requested": (
        Severity.REVIEW,
        "Patient chose to sign the consent on paper. Give them the paper consent form and "
        "review it with them before the infusion.",
    ),
}


@dataclass(frozen=True)
class FlagInfo:
    """A flag as the clinical team worded it in the form files (English, for staff)."""

    id: str
    severity: Severity
    message: str


def flag_catalogue(packet: Packet) -> dict[str, FlagInfo]:
    """Every flag the packet can raise, in the forms' order, then the consent's and events'."""
    known: dict[str, FlagInfo] = {}
    rules = [*(r for form in packet.forms for r in form.flags), *packet.consent.flags]
    for rule in rules:
        known.setdefault(rule.id, FlagInfo(rule.id, rule.severity, rule.message.get("en")))
    if packet.consent.quiz is not None:
        notice = packet.consent.quiz.flag
        known.setdefault(notice.id, FlagInfo(notice.id, notice.severity, notice.message.get("en")))
    for flag_id, (severity, message) in EVENT_FLAGS.items():
        known.setdefault(flag_id, FlagInfo(flag_id, severity, message))
    return known


def describe_flags(packet: Packet, flag_ids: Iterable[str]) -> list[FlagInfo]:
    """The raised flags, each once: urgent, then review, then info; the forms' order within each.

    An id no form describes (a form changed since it was raised) is still shown, for review.
    """
    known = flag_catalogue(packet)
    order = {flag_id: index for index, flag_id in enumerate(known)}
    raised = list(dict.fromkeys(flag_ids))
    raised.sort(key=lambda flag_id: order.get(flag_id, len(order)))
    flags = [known.get(flag_id) or unknown_flag(flag_id) for flag_id in raised]
    return sorted(flags, key=lambda flag: SEVERITY_ORDER[flag.severity])


def unknown_flag(flag_id: str) -> FlagInfo:
    return FlagInfo(
        flag_id,
        Severity.REVIEW,
        f"Flag '{flag_id}' was raised; the current forms do not describe it. Clinician to review.",
    )


class StoredScoreLike(Protocol):
    """A score as stored (``kiosk.storage.repository.StoredScore`` has these attributes)."""

    @property
    def rule_id(self) -> str: ...

    @property
    def value(self) -> float: ...

    @property
    def band(self) -> str | None: ...


@dataclass(frozen=True)
class ScoreLine:
    """One score as a clinician reads it: "PHQ-9 total · 12 · Moderate · 44261-6"."""

    rule_id: str
    label: str
    value: str  # "12", "6.3", or "—" when not scored
    band: str  # the band's label, "Not scored", or "" for scores without bands
    loinc: str = ""


def score_rules(packet: Packet) -> list[ScoreRule]:
    return [rule for form in packet.forms for rule in form.scores]


def score_lines(packet: Packet, stored: Sequence[StoredScoreLike]) -> tuple[ScoreLine, ...]:
    """A line for every score rule of the packet (an unscored rule says so) and, after them,
    scores of rules the current forms no longer have (shown by id rather than dropped)."""
    by_id = {score.rule_id: score for score in stored}
    lines: list[ScoreLine] = []
    for rule in score_rules(packet):
        score = by_id.pop(rule.id, None)
        loinc = rule.loinc or ""
        if score is None:
            lines.append(ScoreLine(rule.id, rule.label.get("en"), "—", NOT_SCORED, loinc))
            continue
        band = next((b for b in rule.bands if b.id == score.band), None)
        band_label = band.label.get("en") if band else (score.band or "")
        display = ScoreResult(rule, float(score.value), band).display
        lines.append(ScoreLine(rule.id, rule.label.get("en"), display, band_label, loinc))
    lines.extend(
        ScoreLine(score.rule_id, score.rule_id, f"{score.value:g}", score.band or "")
        for score in by_id.values()
    )
    return tuple(lines)


def comprehension_rows(
    consent: ConsentDocument, results: Sequence[QuizResult], language: str, strings: Strings
) -> tuple[tuple[str, str], ...]:
    """Each comprehension question with its outcome, in plain words, for the PDF."""
    rows = []
    for result in results:
        question = consent.quiz.question(result.question_id) if consent.quiz else None
        if question is None:
            continue
        if result.needs_discussion:
            key = "quiz_discuss"
        elif len(result.attempts) == 1:
            key = "quiz_first_try"
        else:
            key = "quiz_after_reteach"
        rows.append((question.text.get(language), strings.get(f"pdf.{key}", language)))
    return tuple(rows)


def reading_rows(
    consent: ConsentDocument, reading: Sequence[Reading], language: str, strings: Strings
) -> tuple[tuple[str, str], ...]:
    """Each section with the time it was on screen and whether it was read to the end."""
    titles = {s.id: s.title.get(language) for s in consent.sections}
    rows = []
    for record in reading:
        minutes, seconds = divmod(round(record.seconds), 60)
        shown = strings.get("pdf.reading_time", language, minutes=minutes, seconds=seconds)
        end = "pdf.reading_end" if record.reached_end else "pdf.reading_not_end"
        rows.append(
            (
                titles.get(record.section_id, record.section_id),
                f"{shown} · " + strings.get(end, language),
            )
        )
    return tuple(rows)
