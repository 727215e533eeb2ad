"""Visits as CSV for spreadsheets: ``visits.csv``, ``answers.csv`` and ``flags.csv``.

- ``visits.csv``: one row per visit (identity, status, times, consent, flag ids, and a value and a
  band column for every score any exported visit has);
- ``answers.csv``: one row per answer (visit, form id and version, item id, LOINC, the value as
  JSON text so lists and list rows survive a round trip);
- ``flags.csv``: one row per raised flag (retracted ones too), with its severity, when a changed
  answer retracted it, and its acknowledgement: who, when, the decision and the note.

Decisions:

- Encoding UTF-8 *with* a byte-order mark (``utf-8-sig``): Excel, which most clinics open CSV
  files with, reads a file without it as the local code page and mangles "Núñez"; every other
  CSV reader skips the mark. Rows end in CRLF as RFC 4180 says.
- Times are UTC, ISO 8601 with the offset written out (``2026-11-22T14:14:03+00:00``).
- Formula injection: a cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
  return is run as a formula by Excel, LibreOffice and Google Sheets (``=HYPERLINK(…)`` typed as
  a name would become a live link that can leak data). Such cells get a leading apostrophe,
  which spreadsheets show as plain text (OWASP "CSV Injection"). Every cell is treated the same,
  patient text or not, so nothing can slip through a column we thought was safe.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable, Sequence

from kiosk.domain.export_model import ExportedVisit

ENCODING = "utf-8-sig"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

VISIT_COLUMNS = (
    "document_number",
    "visit_id",
    "status",
    "started_at_utc",
    "finished_at_utc",
    "language",
    "kiosk_id",
    "patient_name",
    "birth_date",
    "consent_document",
    "consent_version",
    "consent_signed_at_utc",
    "consent_method",
    "consent_witness_staff_id",
    "consent_text_sha256",
    "consent_pdf_sha256",
    "flags",
)
ANSWER_COLUMNS = (
    "document_number",
    "visit_id",
    "form_id",
    "form_version",
    "item_id",
    "loinc",
    "value_json",
    "answered_at_utc",
)
FLAG_COLUMNS = (
    "document_number",
    "visit_id",
    "flag_id",
    "form_id",
    "severity",
    "raised_at_utc",
    "retracted_at_utc",
    "acknowledged_by",
    "acknowledged_at_utc",
    "decision",
    "note",
    "message",
)


def safe_cell(value: object) -> str:
    """``value`` as CSV cell text that no spreadsheet will run as a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def visits_csv(visits: Sequence[ExportedVisit]) -> bytes:
    """``visits.csv``: one row per visit; score columns ``<rule>`` and ``<rule>_band`` for every
    score rule any of these visits has, in the order first met."""
    rules = list(dict.fromkeys(score.rule_id for visit in visits for score in visit.scores))
    header = [*VISIT_COLUMNS, *(c for rule in rules for c in (rule, f"{rule}_band"))]
    rows = []
    for visit in visits:
        consent = visit.consent
        scores = {score.rule_id: score for score in visit.scores}
        row: list[object] = [
            visit.document_number,
            visit.visit_id,
            visit.status,
            _utc(visit.started_at),
            _utc(visit.finished_at),
            visit.language,
            visit.kiosk_id,
            visit.patient_name,
            visit.birth_date,
            consent.document_id if consent else "",
            consent.version if consent else "",
            _utc(consent.signed_at) if consent else "",
            consent.method if consent else "",
            (consent.witness_staff_id or "") if consent else "",
            consent.text_sha256 if consent else "",
            visit.consent_pdf.sha256 if visit.consent_pdf else "",
            " ".join(flag.rule_id for flag in visit.flags),
        ]
        for rule in rules:
            score = scores.get(rule)
            row += [_number(score.value), score.band or ""] if score else ["", ""]
        rows.append(row)
    return _csv(header, rows)


def answers_csv(visits: Sequence[ExportedVisit]) -> bytes:
    """``answers.csv``: one row per stored answer, consent attestations included (their form id
    is the consent document's)."""
    rows = (
        [
            visit.document_number,
            visit.visit_id,
            form.form_id,
            form.version,
            answer.item_id,
            answer.loinc or "",
            json.dumps(_plain(answer.value), ensure_ascii=False),
            _utc(answer.answered_at),
        ]
        for visit in visits
        for form in visit.forms
        for answer in form.answers
    )
    return _csv(ANSWER_COLUMNS, rows)


def flags_csv(visits: Sequence[ExportedVisit]) -> bytes:
    """``flags.csv``: one row per raised flag, worded as in the form files."""
    rows = (
        [
            visit.document_number,
            visit.visit_id,
            flag.rule_id,
            flag.form_id,
            flag.severity,
            _utc(flag.raised_at),
            _utc(flag.retracted_at),
            flag.acknowledged_by or "",
            _utc(flag.acknowledged_at),
            str(flag.decision or ""),
            flag.note,
            flag.message,
        ]
        for visit in visits
        for flag in visit.flags
    )
    return _csv(FLAG_COLUMNS, rows)


def _csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_cell(name) for name in header])
    writer.writerows([safe_cell(cell) for cell in row] for row in rows)
    return buffer.getvalue().encode(ENCODING)


def _utc(moment: dt.datetime | None) -> str:
    if moment is None:
        return ""
    if moment.utcoffset() is None:
        raise ValueError("naive datetimes are not exported; give a UTC offset")
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


def _number(value: float) -> str:
    """7.0 as "7"; a mean keeps every digit stored (no rounding in an export)."""
    return str(int(value)) if value.is_integer() else repr(value)


def _plain(value: object) -> object:
    """Tuples (multi-choice, list rows) as JSON lists, rows as JSON objects."""
    if isinstance(value, tuple):
        return [dict(v) if not isinstance(v, str | int | bool) else v for v in value]
    return value
