"""``kiosk export --format fhir|csv --out DIR [--since DAY] [--until DAY]`` on real records.

The records come from ``kiosk demo`` (the real kiosk driven offscreen: a signed visit with a
sealed consent PDF), run once for this module, plus a draft whose synthetic name is a spreadsheet
formula. Each test exports a fresh copy of that database.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class
from sqlalchemy import select

from kiosk.cli import main
from kiosk.config import Settings
from kiosk.documents.csv_export import safe_cell
from kiosk.documents.exports import EXPORT_FORMATS, ExportedFile, ExportError, ExportFormat
from kiosk.domain.export_model import ExportedVisit
from kiosk.domain.model import Packet
from kiosk.storage import audit, repository, staff
from kiosk.storage.db import Database, open_database
from kiosk.storage.export_data import collect_visits
from kiosk.storage.models import AuditEventRecord, DocumentRecord, VisitRecord
from tests.storage.conftest import add_draft

DEMO_PATIENT = "Rosa Demo Núñez"  # kiosk.app.demo's synthetic patient
HOSTILE = '=HYPERLINK("x")'  # a synthetic "name" a spreadsheet would run as a formula
HOSTILE_BIRTH_DATE = "1970-01-02"
DRAFT_DAYS_BEFORE = 10  # the draft started this many days before the demo visit


@dataclass(frozen=True)
class Demo:
    database: Path
    keys: Path
    pdf: Path
    document_number: str
    pdf_sha256: str


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, seal_certificates: Path) -> Demo:
    """``kiosk demo`` once, in its own process, with its own data and key folders."""
    root = tmp_path_factory.mktemp("export-demo")
    keys = root / "keys"
    shutil.copytree(seal_certificates, keys)
    os.chmod(keys, 0o700)
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("KIOSK_DATABASE_URL", "KIOSK_FORMS_DIR", "KIOSK_LANGUAGE")
    }
    env |= {
        "QT_QPA_PLATFORM": "offscreen",
        "KIOSK_DATA_DIR": str(root / "data"),
        "KIOSK_KEY_DIR": str(keys),
    }
    done = subprocess.run(
        [sys.executable, "-m", "kiosk", "demo", "--out", str(root / "out")],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = dict(line.split(": ", 1) for line in done.stdout.splitlines() if ": " in line)
    number, _, sha256 = lines["document"].partition(" sha256 ")
    return Demo(Path(lines["database"]), keys, Path(lines["consent pdf"]), number, sha256)


@dataclass(frozen=True)
class Records:
    url: str
    demo: Demo
    demo_started: dt.datetime
    draft_number: str

    def open(self) -> Database:
        return open_database(self.url, create=False)

    def audit_events(self) -> list[repository.AuditEvent]:
        db = self.open()
        try:
            with db.begin() as session:
                return repository.load_audit(session)
        finally:
            db.dispose()


@pytest.fixture
def records(
    demo: Demo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, packet: Packet
) -> Iterator[Records]:
    """A copy of the demo's records plus a draft started ten days earlier."""
    folder = tmp_path / "records"
    folder.mkdir()
    for file in demo.database.parent.glob(f"{demo.database.name}*"):  # with -wal, -shm if any
        shutil.copy2(file, folder / file.name)
    url = f"sqlite:///{folder / demo.database.name}"
    monkeypatch.setenv("KIOSK_KEY_DIR", str(demo.keys))  # the demo database's keys
    db = open_database(url, create=False)
    try:
        with db.begin() as session:
            started = session.scalars(select(VisitRecord.started_at)).one()
        draft_id = add_draft(
            db,
            packet,
            HOSTILE,
            now=started - dt.timedelta(days=DRAFT_DAYS_BEFORE),
            birth_date=HOSTILE_BIRTH_DATE,
        )
        with db.begin() as session:
            staff.add_staff(
                session,
                EXPORTER,
                name="Dr Export",
                role="clinician",
                pin=EXPORTER_PIN,
                now=started,
            )
    finally:
        db.dispose()
    yield Records(url, demo, started, repository.document_number(draft_id))


EXPORTER, EXPORTER_PIN = "dr.export", "815274"  # a clinician: exports name a person


def export(records: Records, out: Path, fmt: str, *extra: str) -> int:
    """``kiosk export`` as the clinician, the PIN given on standard input."""
    stdin = sys.stdin
    sys.stdin = io.StringIO(f"{EXPORTER_PIN}\n")
    try:
        return main(
            [
                "export",
                "--format",
                fmt,
                "--out",
                str(out),
                "--database",
                records.url,
                "--staff",
                EXPORTER,
                "--pin-stdin",
                *extra,
            ]
        )
    finally:
        sys.stdin = stdin


def assert_no_patient_data(text: str) -> None:
    for word in (*DEMO_PATIENT.split(), "HYPERLINK", HOSTILE_BIRTH_DATE, "1961-03-05"):
        assert word not in text


def local_day(moment: dt.datetime, days: int = 0) -> str:
    """The day (in this computer's time zone, as the CLI reads --since) ``days`` later."""
    return (moment.astimezone() + dt.timedelta(days=days)).date().isoformat()


def test_fhir_export_writes_one_valid_bundle_per_visit(
    records: Records, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "exports" / "fhir"
    assert export(records, out, "fhir") == 0
    printed = capsys.readouterr()
    assert "exported 2 visit(s)" in printed.out
    assert f"2 file(s) in {out}" in printed.out
    assert_no_patient_data(printed.out + printed.err)

    names = sorted(path.name for path in out.iterdir())
    assert names == sorted([f"{records.demo.document_number}.json", f"{records.draft_number}.json"])
    for path in out.iterdir():
        assert_no_patient_data(path.name)  # named by document number, never by patient
        assert path.stat().st_mode & 0o777 == 0o600  # patient data: the owner only

    bundles = {path.stem: json.loads(path.read_text("utf-8")) for path in out.iterdir()}
    for bundle in bundles.values():
        get_fhir_model_class("Bundle").model_validate(bundle)
        for entry in bundle["entry"]:
            resource = entry["resource"]
            get_fhir_model_class(resource["resourceType"]).model_validate(resource)

    signed = bundles[records.demo.document_number]
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for entry in signed["entry"]:
        by_kind.setdefault(entry["resource"]["resourceType"], []).append(entry["resource"])
    (patient,) = by_kind["Patient"]
    assert patient["name"] == [{"text": DEMO_PATIENT}]
    observed = {c["code"] for o in by_kind["Observation"] for c in o["code"]["coding"]}
    assert {"44261-6", "55758-7", "70274-6", "91147-9"} <= observed  # PHQ-9, PHQ-2, GAD-7, PEG
    questionnaire_codes = {c["code"] for q in by_kind["Questionnaire"] for c in q.get("code", [])}
    assert {"44249-1", "69737-5", "91148-7"} <= questionnaire_codes
    text = json.dumps(signed)
    assert '"LA6569-3"' in text and '"44250-9"' in text  # answer and item codes

    (consent,) = by_kind["Consent"]
    pdf = base64.b64decode(consent["sourceAttachment"]["data"], validate=True)
    db = records.open()
    try:
        with db.begin() as session:
            stored = session.scalars(
                select(DocumentRecord).where(DocumentRecord.kind == repository.CONSENT_PDF)
            ).one()
    finally:
        db.dispose()
    assert hashlib.sha256(pdf).hexdigest() == stored.sha256 == records.demo.pdf_sha256
    assert pdf == records.demo.pdf.read_bytes()  # the very file the demo sealed
    sha1 = base64.b64encode(hashlib.sha1(pdf).digest()).decode()
    assert consent["sourceAttachment"]["hash"] == sha1

    draft = bundles[records.draft_number]
    draft_kinds = [e["resource"]["resourceType"] for e in draft["entry"]]
    assert "Consent" not in draft_kinds
    assert draft["entry"][0]["resource"]["name"] == [{"text": HOSTILE}]


def test_each_export_is_audited_once_and_the_chain_holds(records: Records, tmp_path: Path) -> None:
    before = records.audit_events()
    assert export(records, tmp_path / "fhir", "fhir") == 0
    assert export(records, tmp_path / "csv", "csv") == 0
    after = records.audit_events()
    added = after[len(before) :]
    person = f"staff:{EXPORTER}"
    assert [(e.actor, e.action, e.subject) for e in added] == [
        (person, "staff.export", EXPORTER),  # the PIN, checked through the lockout
        (person, "export.written", "fhir:2 visits"),
        (person, "staff.export", EXPORTER),
        (person, "export.written", "csv:2 visits"),
    ]
    assert {e.device for e in added} == {Settings.load().kiosk_id}
    db = records.open()
    try:
        with db.engine.connect() as connection:
            assert audit.verify(connection, db.audit_key).ok
    finally:
        db.dispose()


def test_csv_export_escapes_formulas_and_keeps_accents(
    records: Records, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "csv"
    assert export(records, out, "csv") == 0
    printed = capsys.readouterr()
    assert "exported 2 visit(s)" in printed.out and f"3 file(s) in {out}" in printed.out
    assert_no_patient_data(printed.out + printed.err)
    assert sorted(p.name for p in out.iterdir()) == ["answers.csv", "flags.csv", "visits.csv"]

    raw = (out / "visits.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # a BOM, so Excel reads UTF-8
    assert b"\r\n" in raw
    assert '"\'=HYPERLINK(""x"")"' in raw.decode("utf-8-sig")
    visits = {row["document_number"]: row for row in _read(out / "visits.csv")}
    draft = visits[records.draft_number]
    assert draft["patient_name"] == "'" + HOSTILE  # shown as text, never run
    assert (draft["status"], draft["consent_version"]) == ("draft", "")
    signed = visits[records.demo.document_number]
    assert signed["patient_name"] == DEMO_PATIENT
    assert signed["status"] == "signed"
    assert signed["consent_document"] == "ketamine_consent"
    assert signed["consent_pdf_sha256"] == records.demo.pdf_sha256
    assert signed["started_at_utc"].endswith("+00:00")
    assert (signed["phq9_total"], signed["phq9_total_band"]) == ("7", "mild")
    assert float(signed["peg_score"]) == pytest.approx(19 / 3)

    answers = _read(out / "answers.csv")
    phq9_1 = next(a for a in answers if a["item_id"] == "phq9_1")
    assert (phq9_1["form_id"], phq9_1["form_version"], phq9_1["loinc"]) == ("phq9", "1", "44250-9")
    assert json.loads(phq9_1["value_json"]) == 1
    medicines = next(a for a in answers if a["item_id"] == "current_medicines")
    assert json.loads(medicines["value_json"])[0]["name"] == "Gabapentin"
    name = next(
        a
        for a in answers
        if a["item_id"] == "patient_name" and a["document_number"] == records.draft_number
    )
    assert json.loads(name["value_json"]) == HOSTILE  # JSON text begins with a quote: inert
    attested = [a for a in answers if a["form_id"] == "ketamine_consent"]
    assert {a["item_id"] for a in attested} >= {"attest_read", "attest_esign"}

    for file in out.iterdir():
        for row in csv.reader(io.StringIO(file.read_text("utf-8-sig"))):
            for cell in row:
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (file.name, cell)


def _read(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text("utf-8-sig"), newline="")))


def test_since_and_until_choose_visits_by_the_day_they_started(
    records: Records, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    started = records.demo_started
    half_way = -DRAFT_DAYS_BEFORE // 2
    assert export(records, tmp_path / "a", "fhir", "--since", local_day(started, half_way)) == 0
    assert [p.stem for p in (tmp_path / "a").iterdir()] == [records.demo.document_number]
    assert export(records, tmp_path / "b", "fhir", "--until", local_day(started, half_way)) == 0
    assert [p.stem for p in (tmp_path / "b").iterdir()] == [records.draft_number]
    day = local_day(started)  # --until includes its whole day
    assert export(records, tmp_path / "c", "csv", "--since", day, "--until", day) == 0
    rows = _read(tmp_path / "c" / "visits.csv")
    assert [row["document_number"] for row in rows] == [records.demo.document_number]
    assert export(records, tmp_path / "d", "fhir", "--since", local_day(started, 1)) == 0
    assert list((tmp_path / "d").iterdir()) == []
    assert "exported 0 visit(s)" in capsys.readouterr().out
    subjects = [e.subject for e in records.audit_events() if e.action == "export.written"]
    assert subjects == ["fhir:1 visits", "fhir:1 visits", "csv:1 visits", "fhir:0 visits"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--since", "2026-02-30"], "--since needs a date like 2026-01-31, not '2026-02-30'"),
        (["--until", "yesterday"], "--until needs a date like 2026-01-31, not 'yesterday'"),
        (["--since", "20260101"], "--since needs a date like 2026-01-31"),
        (["--since", "2026-W05-6"], "--since needs a date like 2026-01-31"),
        (
            ["--since", "2026-03-02", "--until", "2026-03-01"],
            "--since must be the same day as --until or earlier",
        ),
    ],
)
def test_bad_dates_exit_2_and_export_nothing(
    records: Records,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    arguments: list[str],
    message: str,
) -> None:
    before = len(records.audit_events())
    out = tmp_path / "out"
    assert export(records, out, "csv", *arguments) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()
    assert len(records.audit_events()) == before


def test_an_out_path_that_is_a_file_exits_2(
    records: Records, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = len(records.audit_events())
    file = tmp_path / "visits.csv"
    file.write_text("keep me", encoding="utf-8")
    assert export(records, file, "csv") == 2
    assert f"{file} is a file: --out needs a folder" in capsys.readouterr().err
    assert file.read_text(encoding="utf-8") == "keep me"
    assert len(records.audit_events()) == before


def test_purged_visits_are_not_exported(records: Records, tmp_path: Path, packet: Packet) -> None:
    """A purged draft has nothing left to describe a patient: it is skipped."""
    db = records.open()
    try:
        with db.begin() as session:
            now = dt.datetime.now(dt.UTC)
            purged = repository.purge_abandoned_drafts(
                session, idle_since=now + dt.timedelta(days=1), device="test", now=now
            )
    finally:
        db.dispose()
    assert purged.purged == 1
    assert export(records, tmp_path / "out", "fhir") == 0
    assert [p.stem for p in (tmp_path / "out").iterdir()] == [records.demo.document_number]


def test_visits_whose_document_numbers_collide_are_both_written(
    records: Records, tmp_path: Path, packet: Packet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The document number is the visit id's first 8 characters. New visits never share one, but
    records from before they were made unique may: the second file takes the full visit id
    rather than overwrite the first."""
    ids = iter(["abcd1234" + "0" * 24, "abcd1234" + "f" * 24])
    monkeypatch.setattr(repository, "new_visit_id", lambda _session: next(ids))
    db = records.open()
    try:
        for name in ("Primera Sintética", "Segunda Sintética"):
            add_draft(db, packet, name, now=records.demo_started)
    finally:
        db.dispose()
    out = tmp_path / "out"
    assert export(records, out, "fhir") == 0
    names = {path.name for path in out.iterdir()}
    assert {"KC-ABCD1234.json", f"KC-ABCD1234-abcd1234{'f' * 24}.json"} <= names
    assert len(names) == 4


def _last_export_at(records: Records) -> dt.datetime:
    db = records.open()
    try:
        with db.begin() as session:
            at = session.scalars(
                select(AuditEventRecord.at)
                .where(AuditEventRecord.action == "export.written")
                .order_by(AuditEventRecord.seq.desc())
            ).first()
    finally:
        db.dispose()
    assert at is not None
    return at


@pytest.mark.parametrize("name", list(EXPORT_FORMATS))
def test_every_registered_format_writes_exactly_its_files(
    records: Records,
    tmp_path: Path,
    packet: Packet,
    capsys: pytest.CaptureFixture[str],
    name: str,
) -> None:
    """Walks the registry: each ``--format`` is exported on real records, and the folder holds
    exactly what its entry writes for those visits at the export's moment (the audit event's),
    owner-only, named without patient data, with one audit event naming the format."""
    export_format = EXPORT_FORMATS[name]
    assert export_format.name == name
    out = tmp_path / name
    assert export(records, out, name) == 0
    printed = capsys.readouterr()
    assert f"exported 2 visit(s) started any time to now as {export_format.files_are}: " in (
        printed.out
    )
    assert_no_patient_data(printed.out + printed.err)
    events = records.audit_events()
    assert (events[-1].action, events[-1].subject) == ("export.written", f"{name}:2 visits")

    db = records.open()
    try:
        with db.read() as session:
            visits = collect_visits(session, packet, include_pdf=export_format.include_pdf)
    finally:
        db.dispose()
    expected = dict(export_format.write(visits, _last_export_at(records)))
    assert expected, "a format writes at least one file"
    written = {path.name: path.read_bytes() for path in out.iterdir()}
    assert written == expected
    for path in out.iterdir():
        assert_no_patient_data(path.name)
        assert path.stat().st_mode & 0o777 == 0o600


def _document_numbers(visits: Iterable[ExportedVisit], now: dt.datetime) -> Iterator[ExportedFile]:
    yield "numbers.txt", "".join(f"{v.document_number}\n" for v in visits).encode()


def test_a_new_format_is_one_registry_entry(
    records: Records,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(SystemExit) as refused:  # not a format until it is registered
        export(records, tmp_path / "before", "txt")
    assert refused.value.code == 2
    assert "invalid choice: 'txt'" in capsys.readouterr().err

    txt = ExportFormat("txt", "plain text", include_pdf=False, write=_document_numbers)
    monkeypatch.setitem(EXPORT_FORMATS, "txt", txt)
    out = tmp_path / "txt"
    assert export(records, out, "txt") == 0
    assert "as plain text: 1 file(s)" in capsys.readouterr().out
    numbers = (out / "numbers.txt").read_text(encoding="utf-8").split()
    assert sorted(numbers) == sorted([records.demo.document_number, records.draft_number])
    assert records.audit_events()[-1].subject == "txt:2 visits"


def test_a_format_that_fails_midway_exports_nothing(
    records: Records,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def fails_on_the_second(
        visits: Iterable[ExportedVisit], now: dt.datetime
    ) -> Iterator[ExportedFile]:
        for number, visit in enumerate(visits):
            if number == 1:
                raise ExportError("the exported Patient is not valid FHIR R4: name: bad")
            yield f"{visit.document_number}.json", b"{}"

    monkeypatch.setitem(
        EXPORT_FORMATS, "fhir", replace(EXPORT_FORMATS["fhir"], write=fails_on_the_second)
    )
    before = len(records.audit_events())
    out = tmp_path / "out"
    assert export(records, out, "fhir") == 1
    assert capsys.readouterr().err == (
        "Nothing was exported: the exported Patient is not valid FHIR R4: name: bad. "
        "Please report this.\n"
    )
    assert list(out.iterdir()) == []  # not even the file written before the fault
    # only the exporter's PIN check is on the trail: no export.written for nothing exported
    assert [e.action for e in records.audit_events()[before:]] == ["staff.export"]


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+33 1 23", "'+33 1 23"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Núñez", "Núñez"),
        (" =x", " =x"),
        (7, "7"),
        (None, ""),
    ],
)
def test_safe_cell_neutralises_formula_starts(value: object, cell: str) -> None:
    assert safe_cell(value) == cell


def test_an_export_names_a_person_who_may_take_records(
    records: Records, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No --staff: exit 2 saying why; a front-desk account: refused (exit 1); nothing written
    and no export event in either."""
    out = tmp_path / "out"
    code = main(["export", "--format", "csv", "--out", str(out), "--database", records.url])
    assert code == 2
    assert capsys.readouterr().err.startswith(
        "An export names a person: give --staff ID (clinician, admin, service)"
    )
    db = records.open()
    try:
        with db.begin() as session:
            staff.add_staff(
                session,
                "desk.frank",
                name="Frank",
                role="staff",
                pin="531864",
                now=dt.datetime.now(dt.UTC),
            )
    finally:
        db.dispose()
    stdin = sys.stdin
    sys.stdin = io.StringIO("531864\n")
    try:
        as_desk = ["--staff", "desk.frank", "--pin-stdin"]
        code = main(
            ["export", "--format", "csv", "--out", str(out), "--database", records.url, *as_desk]
        )
    finally:
        sys.stdin = stdin
    assert code == 1
    assert "needs one of these accounts: clinician, admin, service" in capsys.readouterr().err
    assert not out.exists() or list(out.iterdir()) == []
    assert "export.written" not in [e.action for e in records.audit_events()]
