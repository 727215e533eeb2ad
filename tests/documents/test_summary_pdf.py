"""The clinician summary PDF: flags first, every score with its band, the pre-infusion answers in
words, hostile patient text, embedded fonts and a short page count.

Built from the real shipped packet and the demo's synthetic patient, scored the way the app
scores a visit (``score_forms`` over the packet's forms, as ``Visit.scores`` does).
"""

from __future__ import annotations

import dataclasses
import io
import shutil
import subprocess
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import pytest
from pypdf import PdfReader

from kiosk.app.synthetic import SYNTHETIC_ANSWERS
from kiosk.documents.summary_pdf import (
    NO_FLAGS,
    SummaryFlag,
    SummaryPdfData,
    SummaryScore,
    format_time,
    render_summary_pdf,
    summary_data,
)
from kiosk.domain.findings import NOT_SCORED
from kiosk.domain.model import AnswerValue, Packet, SummaryGroup
from kiosk.domain.scoring import score_forms
from kiosk.domain.strings import Strings
from kiosk.storage.repository import PAPER_FLAG, StoredScore
from tests.conftest import CLINIC_TIME

DOCUMENT_ID = "KS-7C1D20AE"

# A few "yes" answers on the contraindication checklists so flags of every severity are raised.
FLAGGED_ANSWERS: dict[str, AnswerValue] = {
    "heart_conditions": ("high_blood_pressure_uncontrolled", "heart_disease"),  # urgent, review
    "brain_eye_conditions": ("glaucoma_eye_pressure",),  # review
    "cannabis": "daily",  # info
    "medicines_of_interest": ("benzodiazepines",),  # review
}

HOSTILE_MARKUP = "<b>bold</b> & <para>"
ARABIC = "مرحبا"
HEBREW = "שלום"
COMBINING = "Jose\u0301 Nun\u0303ez"
EMOJI = "😀🚑"
CONTROL = "".join(chr(code) for code in range(0x20))
LONG_END = "END-OF-LONG-ANSWER"


def _scored(
    packet: Packet, answers: Mapping[str, AnswerValue]
) -> tuple[list[StoredScore], list[str]]:
    """Scores and raised flag ids as the app stores them (``repository.save_scores``)."""
    reports = score_forms(packet.forms, answers)
    scores = [
        StoredScore(result.rule.id, result.value, result.band.id if result.band else None)
        for report in reports
        for result in report.scores
    ]
    flags = [flag.id for report in reports for flag in report.flags]
    return scores, flags


def _data(
    packet: Packet,
    changes: Mapping[str, AnswerValue] | None = None,
    *,
    extra_flags: tuple[str, ...] = (),
    **fields: Any,
) -> SummaryPdfData:
    answers = {**SYNTHETIC_ANSWERS, **FLAGGED_ANSWERS, **(changes or {})}
    scores, flags = _scored(packet, answers)
    settings: dict[str, Any] = {
        "clinic_name": "Riverbend Pain Clinic",
        "document_id": DOCUMENT_ID,
        "started_at": CLINIC_TIME,
        "language": "es",
        "kiosk_id": "lobby-2",
        "consent_status": "Signed 2026-11-22 09:14 -05:00",
        **fields,
    }
    return summary_data(packet, answers, scores, [*flags, *extra_flags], **settings)


def _pages(pdf: bytes) -> list[str]:
    assert pdf.startswith(b"%PDF-")
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def _flat(text: str) -> str:
    """Text with every run of white space as one space: table cells wrap where they please."""
    return " ".join(text.split())


@pytest.fixture(scope="module")
def normal_pdf(packet: Packet) -> bytes:
    return render_summary_pdf(_data(packet))


# --- flags ---------------------------------------------------------------------------------------


def test_flags_are_on_page_one_above_the_scores_urgent_first(normal_pdf: bytes) -> None:
    first = _flat(_pages(normal_pdf)[0])

    urgent = first.index("Reports high blood pressure that is not well controlled")
    review = first.index("Reports heart disease or a heart attack")
    info = first.index("Uses marijuana every day or almost")
    scores = first.index("PHQ-9 total score")
    assert urgent < review < info < scores
    assert first.index("URGENT") < first.index("REVIEW") < first.index("INFO") < scores
    assert "Not an automatic refusal" in first  # the forms' own wording
    assert "None is an automatic refusal" in first


def test_flag_messages_and_severities_come_from_the_forms(packet: Packet) -> None:
    data = _data(packet)
    rules = {rule.id: rule for form in packet.forms for rule in form.flags}

    assert data.flags[0] == SummaryFlag(rules["ci_high_blood_pressure"].message.get("en"), "urgent")
    assert [flag.severity for flag in data.flags] == sorted(
        (flag.severity for flag in data.flags), key=["urgent", "review", "info"].index
    )
    messages = [flag.message for flag in data.flags]
    for rule_id in ("ci_heart_disease", "ci_eye_pressure", "med_benzodiazepine", "cannabis_daily"):
        assert rules[rule_id].message.get("en") in messages


def test_render_puts_urgent_first_even_when_given_out_of_order(packet: Packet) -> None:
    data = dataclasses.replace(
        _data(packet),
        flags=(SummaryFlag("Info flag text.", "info"), SummaryFlag("Urgent flag text.", "urgent")),
    )
    first = _pages(render_summary_pdf(data))[0]

    assert first.index("Urgent flag text.") < first.index("Info flag text.")


def test_no_flags_says_so(packet: Packet) -> None:
    quiet = {key: SYNTHETIC_ANSWERS[key] for key in FLAGGED_ANSWERS}
    data = _data(packet, quiet)
    first = _pages(render_summary_pdf(data))[0]

    assert data.flags == ()
    assert NO_FLAGS in first
    assert "URGENT" not in first


def test_consent_and_event_flags_are_shown_and_unknown_ids_are_not_dropped(
    packet: Packet,
) -> None:
    quiz = packet.consent.quiz
    assert quiz is not None
    data = _data(
        packet,
        extra_flags=(quiz.flag.id, PAPER_FLAG, "retired_rule", "retired_rule"),
        consent_status="Paper consent requested",
    )
    text = _flat(" ".join(_pages(render_summary_pdf(data))))

    assert _flat(quiz.flag.message.get("en")) in text
    assert "Patient chose to sign the consent on paper" in text
    assert [flag.message for flag in data.flags].count(
        "Flag 'retired_rule' was raised; the current forms do not describe it. Clinician to review."
    ) == 1
    assert "Paper consent requested" in text


# --- scores --------------------------------------------------------------------------------------


def test_every_score_has_its_value_band_and_loinc(packet: Packet, normal_pdf: bytes) -> None:
    data = _data(packet)
    text = _flat(_pages(normal_pdf)[0])
    phq9 = packet.form("phq9").scores[0]
    answers = {**SYNTHETIC_ANSWERS, **FLAGGED_ANSWERS}
    total = sum(int(str(answers[item])) for item in phq9.items)
    band = phq9.band_for(total)
    assert band is not None

    assert SummaryScore("PHQ-9 total score", str(total), band.label.get("en"), "44261-6") in (
        data.scores
    )
    assert SummaryScore("PEG score (average of the 3 questions)", "6.3", "", "91147-9") in (
        data.scores
    )
    for score in data.scores:
        assert score.label in text
        assert score.value in text
        if score.band:
            assert score.band in text
        if score.loinc:
            assert score.loinc in text
    assert "Mild" in text and "Minimal" in text and "Negative" in text


def _without(packet: Packet, item_id: str) -> SummaryPdfData:
    """The summary of a visit that left ``item_id`` unanswered."""
    answers = {**SYNTHETIC_ANSWERS, **FLAGGED_ANSWERS}
    del answers[item_id]
    scores, flags = _scored(packet, answers)
    return summary_data(
        packet,
        answers,
        scores,
        flags,
        clinic_name="Riverbend Pain Clinic",
        document_id=DOCUMENT_ID,
        started_at=CLINIC_TIME,
        language="en",
        kiosk_id="lobby-2",
        consent_status="Not signed yet",
    )


def test_a_score_that_could_not_be_computed_says_so(packet: Packet) -> None:
    data = _without(packet, "peg_pain")

    peg = next(score for score in data.scores if score.label.startswith("PEG"))
    assert (peg.value, peg.band) == ("—", NOT_SCORED)
    assert NOT_SCORED in _pages(render_summary_pdf(data))[0]


# --- sections ------------------------------------------------------------------------------------


def test_pre_infusion_answers_are_in_words(normal_pdf: bytes) -> None:
    text = _flat(" ".join(_pages(normal_pdf)))

    for expected in (
        # contraindication checklists (choice labels, never the stored values)
        "Contraindications and health history",
        "High blood pressure that is not well controlled",
        "Heart disease or a heart attack",
        "Glaucoma or high pressure in the eye",
        "Every day or almost every day",
        "Once a month or less",
        "Depression",
        # medicines, one row each
        "Medicines",
        "Gabapentin",
        "300 mg, 3 times a day",
        "Lisinopril",
        "10 mg every morning",
        "Benzodiazepines, for nerves or to help you sleep",
        # allergies
        "Allergies",
        "Penicillin",
        "Rash",
        # the ride home
        "Ride home",
        "Will an adult drive you home today?",
        "Luis Demo Núñez",
        "(555) 010-0142",
        # last food and drink
        "Last food and drink",
        "When did you last eat any food (or drink milk)?",
        "More than 8 hours ago",
        "More than 4 hours ago",
    ):
        assert expected in text, expected
    for raw in ("high_blood_pressure_uncontrolled", "glaucoma_eye_pressure", "monthly_or_less"):
        assert raw not in text


def test_questions_hidden_by_skip_logic_are_left_out(packet: Packet) -> None:
    data = _data(packet, {"sex_at_birth": "male", "has_driver": False})
    rows = {question for section in data.sections for question, _ in section.rows}

    assert "Are you pregnant or breastfeeding?" not in rows
    assert "Will an adult drive you home today?" in rows
    assert not any("Their full name" in question for question in rows)


def test_answers_that_raised_a_flag_are_marked(packet: Packet) -> None:
    data = _data(packet)
    health = data.sections[0]
    flagged = {health.rows[index][1] for index in health.flagged_rows}

    assert any("High blood pressure" in answer for answer in flagged)
    assert "Every day or almost every day" in flagged
    assert "Female" not in flagged


def test_the_sections_are_the_packets_summary_sections(packet: Packet) -> None:
    shipped = [section.title for section in _data(packet).sections]
    assert shipped == [
        "Contraindications and health history",
        "Medicines",
        "Allergies",
        "Ride home",
        "Last food and drink",
    ]
    assert shipped == [group.title for group in packet.summary_sections]

    # a clinic's own packet: its sections, its order, nothing else
    own = dataclasses.replace(
        packet,
        summary_sections=(
            SummaryGroup("Pain today", ("pain_now",)),
            SummaryGroup("Driver", ("driver_name", "has_driver")),
        ),
    )
    pain = packet.form("pain_history").item("pain_now")
    data = _data(own)
    assert [(section.title, len(section.rows)) for section in data.sections] == [
        ("Pain today", 1),
        ("Driver", 2),
    ]
    assert data.sections[0].rows == (
        (pain.text.get("en"), f"{SYNTHETIC_ANSWERS['pain_now']} / 10"),
    )


def test_answers_are_spelled_like_the_review_in_english(packet: Packet, strings: Strings) -> None:
    """Choice labels, never stored values; one line per chosen choice; a value no choice has
    (from an older form version) shown as stored, never dropped; the same words whether the
    caller passes its strings table or the summary loads the bundled one."""
    changes: dict[str, AnswerValue] = {
        "alcohol": "most_days",
        "last_drink": 0,
        "heart_conditions": ("stroke", "mystery"),
    }
    given = _data(packet, changes, strings=strings)
    bundled = _data(packet, changes)
    rows = {question: answer for section in given.sections for question, answer in section.rows}
    health = packet.form("medical_history")
    day = packet.form("infusion_day")

    assert given.sections == bundled.sections
    assert rows[health.item("alcohol").text.get("en")] == "Most days of the week"
    assert rows[day.item("last_drink").text.get("en")] == "Less than 1 hour ago"
    assert "A stroke or a mini-stroke\nmystery" in rows.values()  # asked on a titled page
    assert "most_days" not in rows.values()


def test_a_question_asked_but_not_answered_says_so(packet: Packet) -> None:
    data = _without(packet, "alcohol")
    rows = {question: answer for section in data.sections for question, answer in section.rows}

    assert rows[packet.form("medical_history").item("alcohol").text.get("en")] == "Not answered"


# --- hostile text --------------------------------------------------------------------------------


def test_hostile_patient_text_renders_and_stays_readable(packet: Packet) -> None:
    hostile = f"{HOSTILE_MARKUP} {ARABIC} {HEBREW} {COMBINING} {EMOJI} {CONTROL}tail"
    long_text = " ".join(["Mañana tomo la medicina"] * 210)[:4990] + " " + LONG_END
    assert len(long_text) >= 5000
    data = _data(
        packet,
        {
            "patient_name": hostile,
            "current_medicines": ({"name": hostile, "dose": long_text}, {"name": "Plain"}),
            "allergies": ({"substance": HOSTILE_MARKUP, "reaction": hostile},),
            "driver_name": hostile,
        },
        clinic_name=f"Clinic {HOSTILE_MARKUP}",
        kiosk_id=hostile,
    )
    pages = _pages(render_summary_pdf(data))
    text = "\n".join(pages)

    assert text.count(HOSTILE_MARKUP) >= 6  # clinic, panel, footers, medicine, allergy, driver
    assert "&amp;" not in text and "&lt;" not in text
    assert LONG_END in text  # patient answers are never cut short
    assert set(ARABIC) <= set(text)
    assert set(HEBREW) <= set(text)
    assert "\u0301" in text and "\u0303" in text
    assert "\ufffd" in text  # emoji are shown as a replacement mark, not a broken text map
    assert not any(chr(code) in text for code in (*range(0x09), *range(0x0B, 0x20)))
    assert f"Clinic {HOSTILE_MARKUP}" in pages[0]


def test_a_huge_name_does_not_push_the_flags_off_page_one(packet: Packet) -> None:
    data = _data(packet, {"patient_name": "Núñez " * 900})
    first = _pages(render_summary_pdf(data))[0]

    assert "Reports high blood pressure that is not well controlled" in first
    assert "PHQ-9 total score" in first


# --- document ------------------------------------------------------------------------------------


def test_every_page_has_the_footer_and_the_normal_case_is_short(normal_pdf: bytes) -> None:
    pages = _pages(normal_pdf)

    assert len(pages) <= 3
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in text
        assert "Rosa Demo Núñez" in text
        assert "1961-03-05" in text
        assert DOCUMENT_ID in text
    first = pages[0]
    for expected in (
        "Riverbend Pain Clinic",
        "Clinician summary",
        "2026-11-22 09:14 -05:00",
        "Spanish",
        "lobby-2",
        "Signed 2026-11-22 09:14 -05:00",
    ):
        assert expected in first


def test_pdffonts_lists_only_embedded_fonts(normal_pdf: bytes, tmp_path: Any) -> None:
    pdffonts = shutil.which("pdffonts")
    if pdffonts is None:
        pytest.skip("poppler-utils (pdffonts) is not installed")
    path = tmp_path / "summary.pdf"
    path.write_bytes(normal_pdf)
    output = subprocess.run(
        [pdffonts, str(path)], capture_output=True, text=True, check=True
    ).stdout
    rows = output.splitlines()[2:]

    assert rows
    names = set()
    for row in rows:
        columns = row.split()
        names.add(columns[0].split("+", 1)[-1])
        assert columns[-5] == "yes", row  # the "emb" column
    assert names == {"DejaVuSans", "DejaVuSans-Bold"}


def test_metadata_names_the_clinic_but_not_the_patient(normal_pdf: bytes) -> None:
    metadata = PdfReader(io.BytesIO(normal_pdf)).metadata

    assert metadata is not None
    assert metadata.title == "Riverbend Pain Clinic"
    for value in metadata.values():
        assert "Núñez" not in str(value)
        assert "1961-03-05" not in str(value)


def test_naive_visit_time_raises_value_error(packet: Packet) -> None:
    data = dataclasses.replace(_data(packet), started_at=datetime(2026, 11, 22, 9, 14))
    with pytest.raises(ValueError, match="time zone"):
        render_summary_pdf(data)


def test_visit_time_is_printed_with_its_offset() -> None:
    assert format_time(CLINIC_TIME) == "2026-11-22 09:14 -05:00"
