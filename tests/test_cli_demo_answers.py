"""``kiosk demo --answers FILE``: a trainer rehearses an urgent case end to end through the real
GUI, and a file that cannot be used is one kind message, exit 2, with nothing run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from kiosk.cli import main
from kiosk.storage import repository
from kiosk.storage.db import open_database
from kiosk.storage.models import FlagRecord, VisitRecord
from tests.test_cli import _kiosk


def test_an_urgent_case_from_standard_input_goes_end_to_end_in_spanish(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    answers = {"phq9_9": 2, "pain_now": 9, "phq9_difficulty": None}  # may be skipped: skipped
    result = _kiosk(
        "demo", "--out", str(out), "--language", "es", "--answers", "-", stdin=json.dumps(answers)
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines() if ": " in line)
    assert lines["flags"].split(", ")[0] == "phq9_item9"
    assert lines["notices shown to the patient"] == "crisis"
    counts = next(line for line in result.stdout.splitlines() if line.startswith("screens: "))
    screens, taps = (int(part.split(": ")[1]) for part in counts.split(", "))
    assert 40 < screens < taps
    db = open_database(f"sqlite:///{lines['database']}")
    try:
        with db.begin() as session:
            visit = session.scalars(select(VisitRecord)).one()
            assert (visit.status, visit.language) == ("signed", "es")
            stored = repository.load_answers(session, visit.id)
            assert (stored["phq9_9"], stored["pain_now"]) == (2, 9)
            assert "phq9_difficulty" not in stored
            flag = session.scalars(
                select(FlagRecord).where(FlagRecord.rule_id == "phq9_item9")
            ).one()
            assert flag.severity == "urgent" and flag.retracted_at is None
    finally:
        db.dispose()


BAD = [
    (
        "unknown id",
        '{"phq9_99": 2}',
        "'phq9_99' is not a question of the visit; did you mean 'phq9_9'?",
    ),
    ("out of its answers", '{"phq9_9": 7}', "'phq9_9': 7 is not among its answers (0, 1, 2, 3)"),
    ("a date ahead", '{"birth_date": "2090-01-01"}', "'birth_date': \"2090-01-01\" is a date in"),
    (
        "a box that must be ticked",
        '{"attest_read": false}',
        "'attest_read': false leaves it unanswered, but the question must be answered",
    ),
    ("not JSON", '{"phq9_9": 2', "the answers are not valid JSON (line 1)"),
    ("not an object", "[2]", 'the answers must be a JSON object like {"phq9_1": 2}'),
    ("twice", '{"phq9_9": 1, "phq9_9": 3}', "more than once, so they are ambiguous: phq9_9"),
]


@pytest.mark.parametrize(("what", "text", "message"), BAD, ids=[b[0] for b in BAD])
def test_answers_that_cannot_be_used_are_refused_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], what: str, text: str, message: str
) -> None:
    out = tmp_path / "demo"
    out.mkdir()
    earlier = out / "kiosk-demo.sqlite3"
    earlier.write_bytes(b"the earlier demo")  # a bad file replaces nothing
    answers = tmp_path / "answers.json"
    answers.write_text(text, encoding="utf-8")
    assert main(["demo", "--out", str(out), "--answers", str(answers)]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "nothing was run" in err
    assert earlier.read_bytes() == b"the earlier demo"
    assert sorted(p.name for p in out.iterdir()) == ["kiosk-demo.sqlite3"]


def test_every_problem_of_a_file_is_listed_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = tmp_path / "answers.json"
    answers.write_text('{"phq9_9": 9, "pain_nw": 3, "has_driver": "yes"}', encoding="utf-8")
    assert main(["demo", "--out", str(tmp_path / "demo"), "--answers", str(answers)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"the answers file {answers} cannot be used; nothing was run:",
        "  'phq9_9': 9 is not among its answers (0, 1, 2, 3)",
        "  'pain_nw' is not a question of the visit; did you mean 'pain_now'?",
        "  'has_driver': \"yes\" is not among its answers (true or false)",
        'Give each answer under its question\'s id, as the question takes it, e.g. {"phq9_9": 2}.',
    ]
    assert not (tmp_path / "demo").exists()


@pytest.mark.parametrize("where", ["missing.json", "."])
def test_a_missing_file_or_a_folder_is_a_plain_message_from_the_real_command(
    tmp_path: Path, where: str
) -> None:
    result = _kiosk("demo", "--out", str(tmp_path / "demo"), "--answers", str(tmp_path / where))
    assert result.returncode == 2
    reason = "there is no such file" if where != "." else "it is a folder, not a file"
    assert result.stderr.splitlines()[-1].endswith(f"{reason}; nothing was run")
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "demo").exists()
