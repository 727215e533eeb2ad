"""Crash safety: a kiosk process killed at any moment while saving keeps every save it
acknowledged, leaves no half-saved visit, and leaves a database that passes its integrity checks.

Real processes and files only: :mod:`tests.storage.crash_writer` saves synthetic visits the way
the app does and prints a line after each commit returns; this harness SIGKILLs it at a random
moment (a seeded random, so a failure can be replayed) and then holds the database to what was
acknowledged. ``bench/bench_records.py`` runs more trials and reports the figures.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import uuid
from pathlib import Path

import pytest

from kiosk.domain.model import Packet
from kiosk.storage import audit, repository
from kiosk.storage.db import open_database
from tests.storage.crash_writer import (
    KILL_DELAY,
    Ack,
    Report,
    check,
    page_plan,
    run_trial,
)

TRIALS = 30
SEED = 20261122


def _key_dir() -> Path:
    return Path(os.environ["KIOSK_KEY_DIR"])  # the autouse fixture's private key folder


@pytest.mark.slow
def test_a_killed_writer_loses_no_acknowledged_save_and_leaves_no_half_saved_visit(
    sqlite_url: str, packet: Packet
) -> None:
    # One database for every trial, as a kiosk is killed many times over its life: each writer
    # (and each check) must first recover the WAL the previous kill left behind, the file grows
    # past the WAL's automatic checkpoints, and saves acknowledged in trial 1 must survive the
    # 29 crashes and recoveries after it. The database is made here so the trials kill saves,
    # not the very first open.
    open_database(sqlite_url, key_dir=_key_dir()).dispose()
    rng = random.Random(SEED)
    acks: list[Ack] = []
    report = Report()
    for number in range(1, TRIALS + 1):
        trial = run_trial(sqlite_url, _key_dir(), rng.uniform(*KILL_DELAY), seed=number)
        assert trial.returncode == -signal.SIGKILL, (
            f"trial {number}: the writer ended by itself ({trial.returncode}) before the kill:\n"
            f"{trial.stderr[-3000:]}"
        )
        assert trial.acks, f"trial {number}: the writer acknowledged nothing:\n{trial.stderr}"
        acks += trial.acks
        report = check(sqlite_url, _key_dir(), acks, packet)
        assert report.ok, f"after trial {number} of {TRIALS}:\n{report.summary()}"
    # The trials really crossed every kind of save.
    kinds = {ack.kind for ack in acks}
    assert kinds == {"started", "page", "signed"}, report.summary()
    assert report.documents > 0, report.summary()
    assert report.visits > TRIALS, report.summary()
    # A kill can fall between a commit and its line, at most once per trial; more would mean
    # the writer commits what it never reports, or the check miscounts.
    assert report.unacknowledged_commits <= TRIALS, report.summary()


def test_the_check_sees_a_half_saved_visit_a_lost_save_and_a_torn_signing(
    sqlite_url: str, packet: Packet
) -> None:
    """The crash test is only worth its green if the check can go red: break each rule once."""
    open_database(sqlite_url, key_dir=_key_dir()).dispose()
    trial = run_trial(sqlite_url, _key_dir(), 0.3, seed=1)
    assert trial.acks
    assert check(sqlite_url, _key_dir(), trial.acks, packet).ok

    plan = page_plan(packet)
    started = [ack.visit_id for ack in trial.acks if ack.kind == "started"]
    half_saved, unsigned = started[0], started[1]
    db = open_database(sqlite_url, key_dir=_key_dir())
    try:
        with db.begin() as session:
            # The answers of a page committed without their "visit.page_saved" event.
            saved = sum(1 for a in trial.acks if a.visit_id == half_saved and a.kind == "page")
            assert saved < len(plan)  # there is a next page to half-save
            page = plan[saved]
            repository.save_answers(
                session,
                half_saved,
                form=page.form,
                answers={item.id: "synthetic answer" for item in page.items},
                removed=[],
                now=dt.datetime.now(dt.UTC),
            )
            # A consent document without its consent and its "consent.signed" event.
            repository.store_document(
                session, unsigned, content=b"synthetic", now=dt.datetime.now(dt.UTC)
            )
    finally:
        db.dispose()
    lost = Ack(uuid.uuid4().hex, "page", 1, audit.Head(1, "0" * 64))
    report = check(sqlite_url, _key_dir(), [*trial.acks, lost], packet)

    assert not report.ok
    assert set(report.partial) == {half_saved, unsigned}, report.summary()
    assert report.lost == [f"page 1 of visit {lost.visit_id[:8]}"], report.summary()
