"""What the records' digests cost at start-up and in ``kiosk audit verify``, at 10,000 visits.

Run: ``.venv/bin/python bench/bench_record_digests.py [--visits N] [--events-per-visit E]``.
Nothing here is asserted.

One encrypted SQLite database (``open_database``: SQLCipher, WAL, the real schema) filled with
synthetic signed visits by Core inserts: per visit 30 answers, 4 scores, 2 flags, 6 quiz attempts,
one consent (a 6 KB signature image) and two 4 KB documents, and E audit events (default 20, about
what a real visit writes) whose last one carries the visit's digest, in a valid HMAC chain.

Printed: the whole start-up check (``health.startup_check``: quick_check, cipher_integrity_check,
foreign keys, the chain, the records), its records part alone (missing visits over the whole
trail, plus the visits of the newest ``STARTUP_RECORD_EVENTS`` events recomputed), and the full
recomputation ``kiosk audit verify`` does.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import insert, update

from kiosk.storage import audit, record_digest, repository
from kiosk.storage.db import open_database
from kiosk.storage.health import STARTUP_RECORD_EVENTS, _record_checks, startup_check
from kiosk.storage.models import (
    AnswerRecord,
    AuditEventRecord,
    ConsentRecord,
    DocumentRecord,
    FlagRecord,
    QuizAttemptRecord,
    ScoreRecord,
    VisitRecord,
)

T0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


def _visit_rows(visit_id: str, at: dt.datetime) -> dict[type, list[dict[str, object]]]:
    consent_id = int(uuid.UUID(visit_id).int % 2**53)
    return {
        VisitRecord: [
            {
                "id": visit_id,
                "kiosk_id": "kiosk-1",
                "language": "en",
                "packet_id": "ketamine_infusion",
                "packet_version": 1,
                "status": "draft",  # signed below: a signed visit takes no new rows
                "patient_name": f"Patient {visit_id[:6]}",
                "name_search": f"patient {visit_id[:6]}",
                "birth_date": "1961-03-05",
                "started_at": at,
                "updated_at": at,
                "finished_at": at,
            }
        ],
        AnswerRecord: [
            {
                "visit_id": visit_id,
                "form_id": "intake",
                "form_version": 2,
                "item_id": f"item_{n}",
                "value_json": json.dumps(n),
                "answered_at": at,
            }
            for n in range(30)
        ],
        ScoreRecord: [
            {
                "visit_id": visit_id,
                "form_id": "phq9",
                "form_version": 1,
                "rule_id": f"score_{n}",
                "value": n * 1.5,
                "band": "mild",
                "computed_at": at,
            }
            for n in range(4)
        ],
        FlagRecord: [
            {
                "visit_id": visit_id,
                "form_id": "intake",
                "rule_id": f"flag_{n}",
                "severity": "review",
                "raised_at": at,
                "raised_answers_json": "{}",
            }
            for n in range(2)
        ],
        QuizAttemptRecord: [
            {
                "visit_id": visit_id,
                "document_id": "ketamine_consent",
                "document_version": 3,
                "question_id": f"q{n}",
                "attempt": 1,
                "answer_json": '"a"',
                "correct": True,
                "answered_at": at,
            }
            for n in range(6)
        ],
        ConsentRecord: [
            {
                "id": consent_id,
                "visit_id": visit_id,
                "document_id": "ketamine_consent",
                "document_version": 3,
                "language": "en",
                "text_sha256": "0" * 64,
                "signer_name": f"Patient {visit_id[:6]}",
                "statement": "I have read…",
                "meaning": "consent",
                "signed_at": at,
                "signed_at_local": at.isoformat(),
                "method": "drawn",
                "signature_png": bytes(6000),
                "signature_strokes_json": "[]",
                "comprehension_json": "[]",
                "attestations_json": "{}",
                "reading_json": "[]",
            }
        ],
        DocumentRecord: [
            {
                "id": uuid.uuid4().hex,
                "visit_id": visit_id,
                "consent_id": consent_id if kind == "consent_pdf" else None,
                "kind": kind,
                "content": bytes(4000),
                "sha256": hashlib.sha256(kind.encode()).hexdigest(),
                "created_at": at,
            }
            for kind in ("consent_pdf", "clinician_summary")
        ],
    }


def fill(url: str, key_dir: Path, visits: int, events_per_visit: int) -> None:
    db = open_database(url, key_dir=key_dir)
    seq, prev = 0, audit.GENESIS
    try:
        for first in range(0, visits, 500):
            with db.begin() as session:
                events: list[dict[str, object]] = []
                for n in range(first, min(visits, first + 500)):
                    visit_id = uuid.uuid4().hex
                    at = T0 + dt.timedelta(minutes=n)
                    for table, rows in _visit_rows(visit_id, at).items():
                        session.execute(insert(table), rows)
                    signed = update(VisitRecord).where(VisitRecord.id == visit_id)
                    session.execute(signed.values(status="signed"))
                    digest = record_digest.visit_digest(session, visit_id)
                    for e in range(events_per_visit):
                        seq += 1
                        last = e == events_per_visit - 1
                        action = "document.stored" if last else "visit.page_saved"
                        fields = (seq, at, "patient", "kiosk-1", action, visit_id, prev)
                        mac = audit.mac_of(db.audit_key, audit.canonical(*fields, digest))
                        events.append(
                            dict(
                                zip(
                                    ("seq", "at", "actor", "device", "action", "subject"),
                                    fields,
                                    strict=False,
                                ),
                                prev_mac=prev,
                                mac=mac,
                                digest=digest,
                            )
                        )
                        prev = mac
                session.execute(insert(AuditEventRecord), events)
            print(f"  {min(visits, first + 500)} visits", end="\r", file=sys.stderr)
    finally:
        db.dispose()
    print(file=sys.stderr)


def timed(action: object) -> float:
    start = time.perf_counter()
    action()  # type: ignore[operator]
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=10_000)
    parser.add_argument("--events-per-visit", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'kiosk.sqlite3'}"
        keys = Path(folder) / "keys"
        fill(url, keys, args.visits, args.events_per_visit)
        db = open_database(url, key_dir=keys)
        try:
            health = startup_check(db)
            assert health.ok, health.problems
            whole = [timed(lambda: startup_check(db)) for _ in range(args.runs)]
            records = [timed(lambda: _record_checks(db)) for _ in range(args.runs)]

            def full() -> None:
                with db.engine.connect() as connection:
                    assert repository.record_problems(connection) == []

            verify = timed(full)
        finally:
            db.dispose()
    events = args.visits * args.events_per_visit
    print(f"{args.visits} visits, {events} audit events (SQLite, SQLCipher)")
    print(f"start-up check, whole:        {min(whole):8.0f} ms (best of {args.runs})")
    print(
        f"  of which records:           {min(records):8.0f} ms "
        f"(missing visits over the trail + the newest {STARTUP_RECORD_EVENTS} events' visits)"
    )
    print(f"kiosk audit verify, records:  {verify:8.0f} ms (every visit recomputed)")


if __name__ == "__main__":
    main()
