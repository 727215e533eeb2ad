"""The command-line contract (DESIGN §7), run as a user would: the real ``kiosk`` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import create_engine, select
from sqlalchemy.exc import DatabaseError

from kiosk.app.synthetic import SYNTHETIC_ANSWERS
from kiosk.cli import main
from kiosk.domain.model import Packet
from kiosk.storage import audit
from kiosk.storage.db import open_database
from kiosk.storage.models import AuditEventRecord, ConsentRecord, VisitRecord
from tests.pdf_readers import assert_second_readers_accept

PHQ9_MILD_WITH_ITEM9 = {
    "phq9_1": 1,
    "phq9_2": 1,
    "phq9_3": 0,
    "phq9_4": 2,
    "phq9_5": 0,
    "phq9_6": 0,
    "phq9_7": 1,
    "phq9_8": 0,
    "phq9_9": 1,
    "phq9_difficulty": "somewhat",
}


def _kiosk(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run(
        [sys.executable, "-m", "kiosk", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_forms_check_passes_on_the_shipped_forms(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["forms", "check"]) == 0
    assert "ok" in capsys.readouterr().out


def test_forms_check_lists_every_problem_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "kind: questionnaire\n"
        "id: broken\n"
        "version: 1\n"
        "titel: {en: Broken, es: Roto}\n"
        "pages:\n"
        "  - id: p1\n"
        "    items:\n"
        "      - {id: q1, type: scael, text: {en: Q, es: P}}\n",
        encoding="utf-8",
    )
    assert main(["forms", "check", str(broken)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert f"{broken}:4: unknown key 'titel' in questionnaire; did you mean 'title'?" in out
    assert any(line.startswith(f"{broken}:8: ") and "did you mean 'scale'" in line for line in out)


def test_forms_score_phq9_prints_total_band_and_flag(tmp_path: Path) -> None:
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps(PHQ9_MILD_WITH_ITEM9), encoding="utf-8")
    result = _kiosk("forms", "score", "phq9", "--answers", str(answers))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "form": "phq9",
        "version": 1,
        "scores": {
            "phq9_total": {"value": 6, "band": "mild"},
            "phq2_total": {"value": 2, "band": "negative"},
        },
        "flags": ["phq9_item9"],
    }


def test_forms_score_reads_stdin_and_severe_without_flag(
    capsys: pytest.CaptureFixture[str],
) -> None:
    severe = {f"phq9_{n}": 3 for n in range(1, 9)} | {"phq9_9": 0, "phq9_difficulty": "very"}
    result = _kiosk("forms", "score", "phq9", "--answers", "-", stdin=json.dumps(severe))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["scores"]["phq9_total"] == {"value": 24, "band": "severe"}
    assert report["flags"] == []


def test_forms_score_refuses_missing_and_out_of_range_answers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = dict(PHQ9_MILD_WITH_ITEM9)
    del answers["phq9_3"]
    del answers["phq9_7"]
    answers["phq9_2"] = 4
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(answers), encoding="utf-8")
    assert main(["forms", "score", "phq9", "--answers", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # never a silent 0
    assert "missing required answers: phq9_3 phq9_7" in captured.err
    assert "answer not allowed: phq9_2 (not_a_choice)" in captured.err


def test_forms_score_explains_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "answers.json"
    path.write_text("{not json", encoding="utf-8")
    assert main(["forms", "score", "phq9", "--answers", str(path)]) == 2
    assert "not valid JSON" in capsys.readouterr().err
    assert main(["forms", "score", "phq10", "--answers", str(path)]) == 2
    assert "no form called 'phq10'" in capsys.readouterr().err


def test_forms_score_accepts_a_form_file(tmp_path: Path, packet: Packet) -> None:
    intake = packet.form("intake")
    intake_answers = {i.id: SYNTHETIC_ANSWERS[i.id] for i in intake.items}
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(intake_answers), encoding="utf-8")
    form_file = intake.source
    assert main(["forms", "score", form_file, "--answers", str(path)]) == 0


def test_demo_writes_a_database_and_a_signed_pdf(tmp_path: Path, packet: Packet) -> None:
    out = tmp_path / "demo"
    result = _kiosk("demo", "--out", str(out))
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines() if ": " in line)
    pdf_path = Path(lines["consent pdf"])
    database = Path(lines["database"])
    assert pdf_path.parent == out and database.parent == out
    assert out.stat().st_mode & 0o777 == 0o700  # private, as the kiosk's own copies are
    assert {path.name: path.stat().st_mode & 0o777 for path in out.iterdir()} == {
        path.name: 0o600 for path in out.iterdir()
    }  # the consent copy and the database files alike
    name = str(SYNTHETIC_ANSWERS["patient_name"])
    assert name not in pdf_path.name  # no patient data in file names
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(pdf_path).pages)
    assert name in text
    assert f"version {packet.consent.version}" in text
    assert packet.consent.meaning.get("en") in text
    assert "Comprehension check" in text and "Statements before signing" in text
    assert "Audit trail at signing" in text
    db = open_database(f"sqlite:///{database}")  # encrypted: only with the key folder
    with db.begin() as session:
        visit = session.scalars(select(VisitRecord)).one()
        assert visit.status == "signed"
        consent = session.scalars(select(ConsentRecord)).one()
        assert consent.document_version == packet.consent.version
        signed = session.scalars(
            select(AuditEventRecord).where(AuditEventRecord.action == "consent.signed")
        ).one()
    db.dispose()
    assert str(audit.Head(signed.seq, signed.mac)) in text.replace(" ", "")
    verified = _kiosk("verify", str(pdf_path), "--database", f"sqlite:///{database}")
    assert verified.returncode == 0, verified.stdout + verified.stderr  # sealed, and on record
    assert verified.stdout.startswith(f"VALID: {pdf_path.name}")
    assert_second_readers_accept(pdf_path.read_bytes())
    with pytest.raises(DatabaseError, match="not a database"):
        create_engine(f"sqlite:///{database}").connect().exec_driver_sql("SELECT * FROM visits")


def test_the_kiosk_refuses_to_start_on_broken_forms_and_says_why(tmp_path: Path) -> None:
    forms = tmp_path / "forms"
    forms.mkdir()
    (forms / "packet.yaml").write_text(
        "kind: packet\nid: p\nversion: 1\nforms: [intake]\nconsent: ketamine_consent\n",
        encoding="utf-8",
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "KIOSK_FORMS_DIR": str(forms)}
    result = subprocess.run(
        [sys.executable, "-m", "kiosk", "demo", "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert "The kiosk cannot start: the form files have problems." in result.stderr
    assert f"{forms / 'packet.yaml'}:4: packet lists form 'intake'" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_unscored_difficulty_question_may_be_left_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = {k: v for k, v in PHQ9_MILD_WITH_ITEM9.items() if k != "phq9_difficulty"}
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(answers), encoding="utf-8")
    assert main(["forms", "score", "phq9", "--answers", str(path)]) == 0
    assert json.loads(capsys.readouterr().out)["scores"]["phq9_total"]["value"] == 6


def test_a_wrong_keyboard_setting_is_refused_plainly(monkeypatch: pytest.MonkeyPatch) -> None:
    from kiosk.config import Settings

    monkeypatch.setenv("KIOSK_KEYBOARD", "qwerty")
    with pytest.raises(SystemExit, match="KIOSK_KEYBOARD must be one of builtin, none"):
        Settings.load()
    monkeypatch.setenv("KIOSK_KEYBOARD", "none")
    assert Settings.load().keyboard == "none"
