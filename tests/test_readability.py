"""Every patient-facing screen we wrote reads at US grade 8 or below, in English and Spanish.

Validated instruments (PHQ-9, GAD-7, PEG) keep their published wording whatever it measures;
they are reported by ``python -m tests.readability`` but not held to the limit.
"""

from __future__ import annotations

import pytest

from kiosk import paths
from kiosk.domain.loader import load_packet
from kiosk.domain.strings import load_strings
from tests.readability import (
    GRADE_LIMIT,
    NOTICE_GRADE_LIMIT,
    Screen,
    all_screens,
    reading_grade,
)

_SCREENS = all_screens(load_packet(paths.FORMS_DIR), load_strings(paths.STRINGS_DIR))
OURS = [s for s in _SCREENS if not s.fixed_wording]
NOTICES = [s for s in _SCREENS if s.name.startswith("notice/")]

LEGALESE = {
    "en": (
        "Notwithstanding the foregoing, the undersigned acknowledges that pharmacological "
        "interventions administered intravenously necessitate comprehensive physiological "
        "monitoring, and that idiosyncratic hypersensitivity reactions, notwithstanding their "
        "comparative infrequency, constitute a material consideration."
    ),
    "es": (
        "No obstante lo anteriormente expuesto, el abajo firmante reconoce que las intervenciones "
        "farmacológicas administradas por vía intravenosa requieren una monitorización "
        "fisiológica exhaustiva, y que las reacciones de hipersensibilidad idiosincrásicas, "
        "independientemente de su infrecuencia comparativa, constituyen una consideración "
        "sustancial."
    ),
}


@pytest.mark.parametrize("screen", OURS, ids=[f"{s.language}-{s.name}" for s in OURS])
def test_screen_reads_at_grade_8_or_below(screen: Screen) -> None:
    assert screen.text.strip()
    assert screen.grade <= GRADE_LIMIT, f"{screen.name} ({screen.language}): {screen.text}"


@pytest.mark.parametrize("screen", NOTICES, ids=[f"{s.language}-{s.name}" for s in NOTICES])
def test_notices_after_an_answer_read_at_grade_6_or_below(screen: Screen) -> None:
    assert screen.grade <= NOTICE_GRADE_LIMIT, f"{screen.name} ({screen.language}): {screen.text}"


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_measure_catches_hard_text(language: str) -> None:
    assert reading_grade(LEGALESE[language], language) > GRADE_LIMIT + 4


def test_every_kind_of_screen_is_measured_in_both_languages() -> None:
    names = {(s.language, s.name.split("/")[0]) for s in _SCREENS}
    for language in ("en", "es"):
        kinds = ("intake", "medicines", "consent", "quiz", "ui", "notice", "phq9", "gad7", "peg")
        for kind in kinds:
            assert (language, kind) in names
    assert {s.name.split("/")[0] for s in _SCREENS if s.fixed_wording} == {"phq9", "gad7", "peg"}
