"""A process that saves synthetic visits the way the kiosk does, for crash tests to SIGKILL.

Run: ``python -m tests.storage.crash_writer DB_URL`` from the project root, with
``KIOSK_KEY_DIR`` naming the key folder. It saves visits until it is killed (or, so that an
orphan cannot run forever, until ``--seconds`` have passed) and prints one line per commit, only
after the commit has returned::

    ACK <visit_id> started 0 <seq>:<mac>
    ACK <visit_id> page <pages saved so far> <seq>:<mac>
    ACK <visit_id> signed 1 <seq>:<mac> <document sha256>

``<seq>:<mac>`` is the audit chain head the transaction produced (what a consent PDF prints), so
a checker can tell that no acknowledged event was cut from the end of the trail.

The transactions are the app's (``kiosk.app.flow``): start = ``start_visit`` + "visit.started";
page = ``save_answers`` + ``set_identity`` + ``save_scores`` + "visit.page_saved"; signing =
``record_consent`` + "consent.signed" + ``store_document``. Answers are for real items of the
packet, in packet order, three per transaction (the real pages mostly hold one question, and a
transaction of one row could not show a torn transaction). So a visit whose trail holds *k*
"visit.page_saved" events must hold exactly the answers of the first *k* planned pages: anything
else is a half-saved visit. :func:`check` tests that and the rest of the all-or-nothing rules.

Every patient here is synthetic ("Test Patient 0001"); nothing printed holds patient data.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import Connection, Row, select
from sqlalchemy.orm import Session

from kiosk import paths
from kiosk.domain.loader import load_packet
from kiosk.domain.model import AnswerValue, Form, Item, ItemType, Packet
from kiosk.domain.signature import DrawnSignature
from kiosk.domain.visit import Signing
from kiosk.storage import audit as audit_chain
from kiosk.storage import repository
from kiosk.storage.db import Database, open_database
from kiosk.storage.models import (
    AnswerRecord,
    AuditEventRecord,
    ConsentRecord,
    DocumentRecord,
    VisitRecord,
)

KIOSK_ID = "crash-writer"
ITEMS_PER_PAGE = 3
SIGN_EVERY = 3  # every third visit is signed, with a consent document
# Seconds from the writer's first acknowledgement to the kill. The writer commits a few hundred
# times a second, so even the shortest delay lands among many saves; the longest keeps a trial
# (about 0.6 s to start Python and open the database, plus the check) near a second.
KILL_DELAY = (0.05, 0.8)
NAME_PATTERN = re.compile(r"Test Patient \d{4}")
MODULE = "tests.storage.crash_writer"


# --- the plan both sides share ----------------------------------------------------------------


@dataclass(frozen=True)
class PlannedPage:
    """The answers one page transaction saves: consecutive items of one form."""

    form: Form
    items: tuple[Item, ...]


def page_plan(packet: Packet) -> tuple[PlannedPage, ...]:
    """Every item of the packet, in order, cut into pages of up to ``ITEMS_PER_PAGE`` per form."""
    pages = []
    for form in packet.forms:
        items = form.items
        for start in range(0, len(items), ITEMS_PER_PAGE):
            pages.append(PlannedPage(form, items[start : start + ITEMS_PER_PAGE]))
    return tuple(pages)


def pages_for(visit_number: int, plan: Sequence[PlannedPage]) -> int:
    """How many pages visit ``visit_number`` saves: varied, so visits end at different points."""
    return min(len(plan), 2 + visit_number % 7)


def patient_name(visit_number: int) -> str:
    return f"Test Patient {visit_number % 10_000:04d}"


def answer_for(item: Item, visit_number: int) -> AnswerValue:
    """A valid synthetic answer. Only the name depends on the visit (the checker compares it with
    the visit row, which ``set_identity`` writes in the same transaction)."""
    match item.type:
        case ItemType.TEXT:
            return patient_name(visit_number) if item.identity == "name" else "synthetic answer"
        case ItemType.DATE:
            return "1970-01-01"
        case ItemType.PHONE:
            return "555-0100"
        case ItemType.SINGLE_CHOICE:
            return item.choices[0].value
        case ItemType.MULTI_CHOICE:
            return (str(item.choices[0].value),)
        case ItemType.YES_NO:
            return False
        case ItemType.SCALE:
            return item.minimum
        case ItemType.LIST:
            return ({column.id: "synthetic" for column in item.columns},)
        case ItemType.AGREE:
            return True
    raise ValueError(f"no synthetic answer for {item.type}")


def stored_form(item: Item) -> object:
    """What ``value_json`` must decode to, for an item whose value does not depend on the visit."""
    return repository.encode_json(answer_for(item, 0))


# --- the writer -------------------------------------------------------------------------------


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _audit(session: Session, action: str, visit_id: str) -> audit_chain.Head:
    return repository.audit(
        session, actor="patient", device=KIOSK_ID, action=action, subject=visit_id, now=_now()
    )


def _ack(
    out: TextIO, visit_id: str, kind: str, count: int, head: audit_chain.Head, *extra: str
) -> None:
    """Tell the parent a commit returned. One write per line, so a kill leaves at most one
    unfinished line, which the parent ignores."""
    out.write(" ".join(("ACK", visit_id, kind, str(count), str(head), *extra)) + "\n")
    out.flush()


def save_page(
    db: Database,
    visit_id: str,
    form: Form,
    answers: Mapping[str, AnswerValue],
    answered: Mapping[str, AnswerValue],
) -> audit_chain.Head:
    """One answered page in the app's one transaction: the answers, the visit's name and date of
    birth so far (``answered``), its scores and the "visit.page_saved" event."""
    now = _now()
    with db.begin() as session:
        repository.save_answers(session, visit_id, form=form, answers=answers, removed=[], now=now)
        repository.set_identity(
            session,
            visit_id,
            name=str(answered.get("patient_name", "")),
            birth_date=str(answered.get("birth_date", "")),
        )
        repository.save_scores(session, visit_id, [], now)
        return _audit(session, "visit.page_saved", visit_id)


def save_visit(
    db: Database,
    packet: Packet,
    plan: Sequence[PlannedPage],
    visit_number: int,
    out: TextIO,
    rng: random.Random,
) -> None:
    """One synthetic visit, one transaction per step, as the app saves it."""
    with db.begin() as session:
        visit_id = repository.start_visit(
            session, packet=packet, language="en", kiosk_id=KIOSK_ID, now=_now()
        )
        head = _audit(session, "visit.started", visit_id)
    _ack(out, visit_id, "started", 0, head)

    answered: dict[str, AnswerValue] = {}
    for number, page in enumerate(plan[: pages_for(visit_number, plan)], start=1):
        answers = {item.id: answer_for(item, visit_number) for item in page.items}
        answered.update(answers)
        head = save_page(db, visit_id, page.form, answers, answered)
        _ack(out, visit_id, "page", number, head)

    if visit_number % SIGN_EVERY != SIGN_EVERY - 1:
        return
    now = _now()
    consent = packet.consent
    signing = Signing(
        signer_name=patient_name(visit_number),
        signed_at=now,
        signature=DrawnSignature(
            strokes=(((10.0, 150.0), (200.0, 40.0), (400.0, 160.0)),),
            width=600.0,
            height=200.0,
            png=rng.randbytes(1024),
        ),
        text_sha256=hashlib.sha256(b"synthetic consent text").hexdigest(),
        statement=consent.statement.get("en"),
        meaning=consent.meaning.get("en"),
    )
    pdf = rng.randbytes(rng.randint(2048, 8192))  # stands in for the rendered consent PDF
    with db.begin() as session:
        record = repository.record_consent(
            session, visit_id, consent=consent, language="en", signing=signing, now=now
        )
        head = _audit(session, "consent.signed", visit_id)
        document = repository.store_document(
            session, visit_id, content=pdf, now=now, consent_id=record.id
        )
        sha256 = document.sha256
    _ack(out, visit_id, "signed", 1, head, sha256)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("url", help="the database URL (sqlite:///...)")
    parser.add_argument("--seconds", type=float, default=120.0, help="stop after this long")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    db = open_database(args.url)
    packet = load_packet(paths.FORMS_DIR)
    plan = page_plan(packet)
    rng = random.Random(args.seed)
    deadline = time.monotonic() + args.seconds
    visit_number = 0
    try:
        while time.monotonic() < deadline:
            save_visit(db, packet, plan, visit_number, sys.stdout, rng)
            visit_number += 1
    except BrokenPipeError:  # the parent went away: nobody is counting acknowledgements
        return 1
    finally:
        db.dispose()
    return 0


# --- the parent: run one trial ------------------------------------------------------------------


@dataclass(frozen=True)
class Ack:
    """One acknowledged commit, as the writer printed it."""

    visit_id: str
    kind: str  # started | page | signed
    count: int
    head: audit_chain.Head
    sha256: str = ""


def parse_ack(line: str) -> Ack | None:
    """An ``ACK`` line, or None for anything else (an unfinished last line included)."""
    if not line.endswith("\n"):
        return None
    fields = line.split()
    if len(fields) < 5 or fields[0] != "ACK":
        return None
    sha256 = fields[5] if len(fields) > 5 else ""
    return Ack(fields[1], fields[2], int(fields[3]), audit_chain.Head.parse(fields[4]), sha256)


@dataclass
class Trial:
    """What one killed writer acknowledged."""

    acks: list[Ack]
    returncode: int
    stderr: str
    seconds_to_first_ack: float
    ran_after_first_ack: float


def _drain(stream: TextIO, lines: list[str], first: threading.Event) -> None:
    """Read the writer's lines as they come, so a full pipe never blocks it."""
    for line in stream:
        lines.append(line)
        first.set()
    first.set()


def run_trial(
    url: str,
    key_dir: Path,
    delay: float,
    *,
    seed: int = 0,
    first_ack_timeout: float = 60.0,
) -> Trial:
    """Start a writer, SIGKILL it ``delay`` seconds after its first acknowledgement, and return
    everything it acknowledged."""
    env = dict(os.environ, KIOSK_KEY_DIR=str(key_dir), PYTHONUNBUFFERED="1")
    with tempfile.TemporaryFile("w+", encoding="utf-8") as errors:
        started = time.monotonic()
        process = subprocess.Popen(
            [sys.executable, "-m", MODULE, url, "--seed", str(seed)],
            cwd=paths.PROJECT_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            encoding="utf-8",
        )
        assert process.stdout is not None
        lines: list[str] = []
        first = threading.Event()
        reader = threading.Thread(target=_drain, args=(process.stdout, lines, first), daemon=True)
        reader.start()
        try:
            first.wait(first_ack_timeout)
            first_at = time.monotonic()
            if process.poll() is None:
                time.sleep(delay)
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
            process.wait()
            reader.join(10)
            process.stdout.close()
        errors.seek(0)
        stderr = errors.read()
    acks = [ack for ack in map(parse_ack, lines) if ack is not None]
    return Trial(acks, process.returncode, stderr, first_at - started, time.monotonic() - first_at)


# --- the checker ----------------------------------------------------------------------------------


@dataclass
class Report:
    """What the database held after the kills, against everything ever acknowledged."""

    integrity: list[str] = field(default_factory=list)
    cipher_problems: list[str] = field(default_factory=list)
    audit_problems: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)  # acknowledged saves not found
    partial: dict[str, str] = field(default_factory=dict)  # visit id -> what is half-saved
    other: list[str] = field(default_factory=list)
    visits: int = 0
    pages: int = 0
    documents: int = 0
    events: int = 0
    acknowledged: int = 0
    unacknowledged_commits: int = 0  # committed, the kill came before the line was printed

    @property
    def ok(self) -> bool:
        return (
            self.integrity == ["ok"]
            and not self.cipher_problems
            and not self.audit_problems
            and not self.lost
            and not self.partial
            and not self.other
        )

    def summary(self) -> str:
        lines = [
            f"visits {self.visits}, pages {self.pages}, documents {self.documents}, "
            f"audit events {self.events}; acknowledged saves {self.acknowledged}, lost "
            f"{len(self.lost)}, partial visits {len(self.partial)}, committed but not yet "
            f"acknowledged {self.unacknowledged_commits}",
            f"integrity_check: {self.integrity[:5]}",
        ]
        if self.cipher_problems:
            lines.append(f"cipher_integrity_check: {self.cipher_problems[:5]}")
        lines += [f"audit: {p}" for p in self.audit_problems[:5]]
        lines += [f"lost: {p}" for p in self.lost[:10]]
        lines += [f"partial {v}: {p}" for v, p in list(self.partial.items())[:10]]
        lines += [f"other: {p}" for p in self.other[:10]]
        return "\n".join(lines)


def _pragma_rows(connection: Connection, pragma: str) -> list[str]:
    return [" ".join(str(v) for v in row) for row in connection.exec_driver_sql(pragma)]


def check(url: str, key_dir: Path, acks: Sequence[Ack], packet: Packet) -> Report:
    """Open the database after a kill and hold it to the crash-safety promises:

    - ``PRAGMA integrity_check`` is ok and ``PRAGMA cipher_integrity_check`` finds no bad page;
    - the audit chain verifies, and holds every head that was acknowledged;
    - every acknowledged save is there (lost otherwise);
    - every visit is whole: its answers are exactly the first *k* planned pages where *k* is its
      "visit.page_saved" count, its name row matches its answers, one "visit.started" event, and a
      signing is all of consent + document + "consent.signed" + status, or none of them
      (partial otherwise).
    """
    plan = page_plan(packet)
    report = Report(acknowledged=len(acks))
    db = open_database(url, key_dir=key_dir, create=False, upgrade=False)
    try:
        with db.engine.connect() as connection:
            report.integrity = _pragma_rows(connection, "PRAGMA integrity_check")
            report.cipher_problems = _pragma_rows(connection, "PRAGMA cipher_integrity_check")
            verification = audit_chain.verify(connection, db.audit_key, _latest_head(acks))
            report.audit_problems = list(verification.problems)
            _check_records(connection, plan, acks, report)
    finally:
        db.dispose()
    return report


def _latest_head(acks: Sequence[Ack]) -> audit_chain.Head | None:
    return max((ack.head for ack in acks), key=lambda head: head.seq, default=None)


def _check_records(
    connection: Connection, plan: Sequence[PlannedPage], acks: Sequence[Ack], report: Report
) -> None:
    visits = {row.id: row for row in connection.execute(select(VisitRecord.__table__))}
    answers: dict[str, dict[str, str]] = defaultdict(dict)
    for visit_id, item_id, value_json in connection.execute(
        select(AnswerRecord.visit_id, AnswerRecord.item_id, AnswerRecord.value_json)
    ):
        answers[visit_id][item_id] = value_json
    consents = Counter(connection.execute(select(ConsentRecord.visit_id)).scalars())
    documents: dict[str, list[tuple[str, bytes, int | None]]] = defaultdict(list)
    for visit_id, sha256, content, consent_id in connection.execute(
        select(
            DocumentRecord.visit_id,
            DocumentRecord.sha256,
            DocumentRecord.content,
            DocumentRecord.consent_id,
        )
    ):
        documents[visit_id].append((sha256, content, consent_id))
    events: dict[str, Counter[str]] = defaultdict(Counter)
    macs: dict[int, str] = {}
    for seq, mac, action, subject in connection.execute(
        select(
            AuditEventRecord.seq,
            AuditEventRecord.mac,
            AuditEventRecord.action,
            AuditEventRecord.subject,
        )
    ):
        macs[seq] = mac
        events[subject][action] += 1
    report.visits = len(visits)
    report.events = len(macs)
    report.documents = sum(len(d) for d in documents.values())
    report.pages = sum(c["visit.page_saved"] for c in events.values())

    for subject in events:
        if subject not in visits:
            report.other.append(f"audit events for a visit that does not exist ({subject[:8]})")
    for visit_id, row in visits.items():
        problem = _visit_problem(
            row,
            answers[visit_id],
            consents[visit_id],
            documents[visit_id],
            events[visit_id],
            plan,
        )
        if problem:
            report.partial[visit_id] = problem

    acked_pages: dict[str, int] = Counter()
    acked_signed: set[str] = set()
    for ack in acks:
        found = macs.get(ack.head.seq) == ack.head.mac
        visit = visits.get(ack.visit_id)  # None when the visit was lost
        counts = events[ack.visit_id]
        if ack.kind == "started":
            found = found and visit is not None and counts["visit.started"] == 1
        elif ack.kind == "page":
            acked_pages[ack.visit_id] = max(acked_pages[ack.visit_id], ack.count)
            found = found and visit is not None and counts["visit.page_saved"] >= ack.count
        elif ack.kind == "signed":
            acked_signed.add(ack.visit_id)
            found = (
                found
                and visit is not None
                and visit.status == "signed"
                and any(sha == ack.sha256 for sha, _, _ in documents[ack.visit_id])
            )
        else:
            report.other.append(f"an acknowledgement of an unknown kind {ack.kind!r}")
        if not found:
            report.lost.append(f"{ack.kind} {ack.count} of visit {ack.visit_id[:8]}")

    acked_visits = {ack.visit_id for ack in acks}
    unacked = len(set(visits) - acked_visits)
    for visit_id in visits:
        unacked += max(0, events[visit_id]["visit.page_saved"] - acked_pages[visit_id])
        unacked += int(consents[visit_id] > 0 and visit_id not in acked_signed)
    report.unacknowledged_commits = unacked


def _visit_problem(
    visit: Row[Any],
    answers: dict[str, str],
    consents: int,
    documents: list[tuple[str, bytes, int | None]],
    events: Counter[str],
    plan: Sequence[PlannedPage],
) -> str:
    """Why this visit is half-saved, or "" when it is whole."""
    status: str = visit.status
    name: str = visit.patient_name
    if events["visit.started"] != 1:
        return f"{events['visit.started']} visit.started events"
    pages = events["visit.page_saved"]
    if pages > len(plan):
        return f"{pages} page events, more than any visit saves"
    expected = {item.id: item for page in plan[:pages] for item in page.items}
    if set(answers) != set(expected):
        return (
            f"{pages} page events but answers for {len(answers)} items ({len(expected)} expected)"
        )
    for item_id, value_json in answers.items():
        item = expected[item_id]
        value = json.loads(value_json)
        if item.identity == "name":
            if not (isinstance(value, str) and NAME_PATTERN.fullmatch(value)) or value != name:
                return "the name row does not match the name answer"
        elif value != stored_form(item):
            return f"answer to {item_id} is not what was saved"
    if "patient_name" not in answers and name:
        return "a name on the visit row without its answer"
    signed = events["consent.signed"]
    docs_ok = all(
        hashlib.sha256(content).hexdigest() == sha and consent_id is not None
        for sha, content, consent_id in documents
    )
    if not docs_ok:
        return "a document whose content does not match its hash or has no consent"
    if not (signed == consents == len(documents) and signed in {0, 1}):
        return f"{signed} consent.signed events, {consents} consents, {len(documents)} documents"
    if (status == "signed") != (signed == 1) or status not in {"draft", "signed"}:
        return f"status {status} with {signed} signings"
    return ""


if __name__ == "__main__":
    sys.exit(main())
