"""Urgent findings reach a person (issue 16): the watcher, escalation exactly once per flag,
retries, the delivery channels, and ``kiosk alerts watch`` / ``kiosk alerts test`` as real
processes against a loopback receiver, on SQLite and PostgreSQL. No Qt is needed."""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from kiosk import cli
from kiosk.app import alert_delivery
from kiosk.app.alert_delivery import CommandChannel, Delivery, WebhookChannel, redact_url
from kiosk.app.alerts import AlertConfig, AlertWatcher
from kiosk.app.demo import write_flagged_visit
from kiosk.domain.model import Packet
from kiosk.storage import repository
from kiosk.storage.db import Database, open_database
from kiosk.storage.models import AlertEscalationRecord
from tests.app.alert_receiver import AlertReceiver, Received
from tests.app.conftest import acknowledge_item9
from tests.conftest import CLINIC_TIME
from tests.storage.conftest import fresh_postgres_database

ROOT = Path(__file__).resolve().parents[2]
NAME, BIRTH_DATE = "Zoë Alertcase-Példa", "1961-03-05"
# What the synthetic patient told the kiosk: none of it may leave in an alert or a log line.
PRIVATE = (NAME, "Zoë", "Alertcase", BIRTH_DATE, "1961", "somewhat", "phq9_difficulty", "phq9_9")
MESSAGE_KEYS = {
    "kind",
    "flag",
    "form",
    "tablet",
    "raised_at",
    "document",
    "retracted",
    "console_hint",
    "clinic",
    "text",
    "test",
}


def _assert_no_patient_data(text: str) -> None:
    for private in PRIVATE:
        assert private not in text


class FakeClock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


class FakeChannel:
    """A pager that refuses the first ``fail_first`` messages."""

    shown = "fake pager"

    def __init__(self, fail_first: int = 0) -> None:
        self.fail_first = fail_first
        self.bodies: list[dict[str, object]] = []

    def send(self, body: bytes) -> Delivery:
        self.bodies.append(json.loads(body))
        failed = len(self.bodies) <= self.fail_first
        return Delivery(self.shown, not failed, "HTTP 500" if failed else "HTTP 200")


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_database(f"sqlite:///{tmp_path / 'kiosk.sqlite3'}")
    yield database
    database.dispose()


def _raise_item9(db: Database, packet: Packet, now: dt.datetime = CLINIC_TIME) -> str:
    return write_flagged_visit(db, packet, NAME, BIRTH_DATE, now, kiosk_id="tablet-2")


def _alert_events(db: Database) -> list[tuple[str, str]]:
    with db.begin() as session:
        return [
            (e.action, e.subject)
            for e in repository.load_audit(session)
            if e.action.startswith("alert.")
        ]


def _watcher(
    db: Database, clock: FakeClock, channel: FakeChannel | None, device: str = "desk-1"
) -> AlertWatcher:
    config = AlertConfig(device=device, escalate_after_s=300, repeat_s=120, clinic="Test Clinic")
    channels = [] if channel is None else [channel]
    return AlertWatcher(db.sessions, config, clock, channels=channels, background=False)


# The watcher in one process, on a clock the test moves


def test_poll_reports_a_flag_as_new_once_then_repeats_after_it_was_announced(
    db: Database, packet: Packet
) -> None:
    clock = FakeClock(CLINIC_TIME)
    watcher = _watcher(db, clock, None)
    assert watcher.poll().open == ()
    visit_id = _raise_item9(db, packet)
    first = watcher.poll()
    assert [f.visit_id for f in first.new] == [visit_id] and first.open == first.new
    assert first.repeat_due == ()
    assert watcher.poll().new == ()
    watcher.mark_announced(f.flag_id for f in first.new)
    clock.advance(119)
    assert watcher.poll().repeat_due == ()
    clock.advance(1)
    assert watcher.poll().repeat_due == first.open
    watcher.mark_announced(f.flag_id for f in first.open)
    assert watcher.poll().repeat_due == ()
    acknowledge_item9(db, visit_id)
    assert watcher.poll().open == ()


def test_poll_survives_the_records_going_away(
    db: Database, packet: Packet, caplog: pytest.LogCaptureFixture
) -> None:
    broken = threading.Event()

    def sessions() -> Session:
        if broken.is_set():
            raise OperationalError("SELECT secret FROM visits", {"name": NAME}, Exception(NAME))
        return db.sessions()

    watcher = AlertWatcher(
        sessions,  # type: ignore[arg-type]  # a sessionmaker stand-in that can fail
        AlertConfig(device="desk-1"),
        FakeClock(CLINIC_TIME),
        channels=[],
        background=False,
    )
    _raise_item9(db, packet)
    seen = watcher.poll()
    assert len(seen.open) == 1
    broken.set()
    with caplog.at_level(logging.WARNING, logger="kiosk.app.alerts"):
        for _ in range(3):
            assert watcher.poll() is seen
        broken.clear()
        assert watcher.poll().open == seen.open
    assert [r.getMessage() for r in caplog.records] == [
        "alert watcher: the records could not be read (OperationalError)",  # once an outage
        "alert watcher: the records can be read again",
    ]
    _assert_no_patient_data(caplog.text)
    assert "secret" not in caplog.text


def test_two_watchers_escalate_a_flag_once_after_the_delay_and_never_before(
    db: Database, packet: Packet
) -> None:
    clock = FakeClock(CLINIC_TIME)
    pagers = [FakeChannel(), FakeChannel()]
    watchers = [_watcher(db, clock, pager, f"desk-{n}") for n, pager in enumerate(pagers)]
    visit_id = _raise_item9(db, packet)
    clock.advance(299)
    for watcher in watchers:
        watcher.poll()
    assert pagers[0].bodies == pagers[1].bodies == []
    clock.advance(1)
    for _ in range(3):
        for watcher in watchers:
            watcher.poll()
    (message,) = pagers[0].bodies + pagers[1].bodies
    assert set(message) == MESSAGE_KEYS
    assert message["kind"] == "urgent_finding"
    assert message["flag"] == "phq9_item9" and message["form"] == "phq9"
    assert message["tablet"] == "tablet-2"
    assert message["document"] == repository.document_number(visit_id)
    assert dt.datetime.fromisoformat(str(message["raised_at"])) == CLINIC_TIME
    assert message["retracted"] is False and message["test"] is False
    assert message["clinic"] == "Test Clinic"
    assert str(message["document"]) in str(message["console_hint"])
    _assert_no_patient_data(json.dumps(message, ensure_ascii=False))
    assert _alert_events(db) == [("alert.escalated", visit_id), ("alert.delivered", visit_id)]


def test_the_retry_schedule_doubles_from_five_seconds_up_to_five_minutes() -> None:
    config = AlertConfig(device="desk-1")
    delays = [config.retry_delay(n).total_seconds() for n in range(1, 10)]
    assert delays == [5, 10, 20, 40, 80, 160, 300, 300, 300]


def test_a_failed_delivery_is_retried_with_back_off_until_it_is_delivered(
    db: Database, packet: Packet
) -> None:
    clock = FakeClock(CLINIC_TIME + dt.timedelta(seconds=300))
    pager = FakeChannel(fail_first=3)
    watcher = _watcher(db, clock, pager)
    visit_id = _raise_item9(db, packet)
    watcher.poll()
    assert len(pager.bodies) == 1
    for attempt, delay in enumerate((5, 10, 20), start=2):
        clock.advance(delay - 0.1)
        watcher.run_round()
        assert len(pager.bodies) == attempt - 1  # not yet
        clock.advance(0.1)
        watcher.run_round()
        assert len(pager.bodies) == attempt
    assert len(pager.bodies) == 4
    clock.advance(3600)
    watcher.run_round()
    assert len(pager.bodies) == 4  # delivered: no more
    assert _alert_events(db) == [
        ("alert.escalated", visit_id),
        ("alert.delivery_failed", visit_id),
        ("alert.delivery_failed", visit_id),
        ("alert.delivery_failed", visit_id),
        ("alert.delivered", visit_id),
    ]
    with db.begin() as session:
        row = session.get(AlertEscalationRecord, watcher.poll().open[0].flag_id)
        assert row is not None
        assert row.attempts == 4 and row.delivered_at == clock.now - dt.timedelta(seconds=3600)
        assert row.outcome == "delivered: fake HTTP 200"


def test_an_acknowledged_flag_is_never_escalated_and_acknowledging_stops_retries(
    db: Database, packet: Packet
) -> None:
    clock = FakeClock(CLINIC_TIME)
    pager = FakeChannel(fail_first=100)
    watcher = _watcher(db, clock, pager)
    seen_in_time = _raise_item9(db, packet)
    watcher.poll()
    clock.advance(299)
    watcher.poll()
    acknowledge_item9(db, seen_in_time)
    retried = _raise_item9(db, packet, CLINIC_TIME + dt.timedelta(seconds=1))
    clock.advance(301)
    watcher.poll()
    assert [m["document"] for m in pager.bodies] == [repository.document_number(retried)]
    acknowledge_item9(db, retried)
    clock.advance(5)
    watcher.run_round()
    clock.advance(3600)
    watcher.run_round()
    assert len(pager.bodies) == 1
    assert _alert_events(db) == [
        ("alert.escalated", retried),
        ("alert.delivery_failed", retried),
        ("alert.cancelled", retried),
    ]


def test_a_watcher_without_a_channel_claims_nothing_and_warns_once(
    db: Database, packet: Packet, caplog: pytest.LogCaptureFixture
) -> None:
    """It must leave the escalation to a watcher that can send it (a server beside tablets
    that have no channel): a claim it cannot deliver would lose the page."""
    clock = FakeClock(CLINIC_TIME + dt.timedelta(seconds=300))
    mute = _watcher(db, clock, None, "tablet-2")
    visit_id = _raise_item9(db, packet)
    with caplog.at_level(logging.WARNING, logger="kiosk.app.alerts"):
        for _ in range(3):
            mute.poll()
    assert [r.getMessage() for r in caplog.records].count(caplog.records[0].getMessage()) == 1
    assert len(caplog.records) == 1
    assert "KIOSK_ALERT_WEBHOOK_URL" in caplog.text
    assert _alert_events(db) == []
    pager = FakeChannel()
    _watcher(db, clock, pager, "server").poll()
    assert len(pager.bodies) == 1
    assert _alert_events(db)[0] == ("alert.escalated", visit_id)


def test_poll_never_waits_for_a_delivery(db: Database, packet: Packet) -> None:
    """The console polls on its only thread: a pager that hangs must not hang the console."""
    started, release = threading.Event(), threading.Event()
    released: list[bool] = []

    class HangingPager(FakeChannel):
        def send(self, body: bytes) -> Delivery:
            started.set()
            released.append(release.wait(20))
            return super().send(body)

    config = AlertConfig(device="desk-1", escalate_after_s=300)
    clock = FakeClock(CLINIC_TIME + dt.timedelta(seconds=300))
    watcher = AlertWatcher(db.sessions, config, clock, channels=[HangingPager()])
    _raise_item9(db, packet)
    try:
        watcher.poll()
        assert started.wait(20)
        assert len(watcher.poll().open) == 1  # returns while the pager still hangs
        release.set()
    finally:
        watcher.stop(timeout=20)
    assert released == [True]


# The channels


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://pager.example/hook", "https://pager.example/hook"),
        ("https://user:s3cret@pager.example:8443/hook", "https://***@pager.example:8443/hook"),
        ("https://pager.example/hook?token=s3cret&x=1", "https://pager.example/hook?***"),
        ("http://[::1]:9000/a?key=s3cret#frag", "http://[::1]:9000/a?***"),
        ("https://pager.example:notaport/x", "(a URL that cannot be read)"),
    ],
)
def test_urls_are_shown_without_their_secrets(url: str, shown: str) -> None:
    assert redact_url(url) == shown
    assert "s3cret" not in WebhookChannel(url).shown


def test_the_webhook_sends_basic_auth_from_the_url_and_reports_statuses() -> None:
    with AlertReceiver(fail_first=1) as receiver:
        url = receiver.url.replace("http://", "http://pager:pa%24s@") + "?token=s3cret"
        channel = WebhookChannel(url)
        failed, delivered = channel.send(b"{}"), channel.send(b'{"a": 1}')
        got = receiver.snapshot()
    assert (failed.delivered, failed.detail) == (False, "HTTP 500")
    assert (delivered.delivered, delivered.detail) == (True, "HTTP 200")
    assert str(delivered) == f"webhook {redact_url(url)}: delivered (HTTP 200)"
    assert "s3cret" not in str(delivered) and "pa$s" not in str(delivered)
    expected = "Basic " + base64.b64encode(b"pager:pa$s").decode()
    assert [r.headers["Authorization"] for r in got] == [expected, expected]
    assert got[1].body == b'{"a": 1}'
    assert got[1].headers["Content-Type"].startswith("application/json")


def test_a_webhook_nobody_answers_or_that_is_not_http_fails_plainly() -> None:
    with AlertReceiver() as receiver:
        url = receiver.url
    refused = WebhookChannel(url).send(b"{}")  # the receiver is closed now
    assert (refused.delivered, refused.detail) == (False, "ConnectionRefusedError")
    assert WebhookChannel("file:///etc/passwd").send(b"{}") == Delivery(
        "webhook file:///etc/passwd", False, "not an http:// or https:// URL"
    )


def test_the_command_gets_the_json_on_standard_input(tmp_path: Path) -> None:
    out = tmp_path / "message.json"
    write = "import sys, pathlib; pathlib.Path(sys.argv[1]).write_bytes(sys.stdin.buffer.read())"
    channel = CommandChannel(f"{sys.executable} -c '{write}' {out}")
    assert channel.shown == f"command {sys.executable} …"  # the arguments may hold a token
    result = channel.send(b'{"kind": "urgent_finding"}')
    assert (result.delivered, result.detail) == (True, "exit 0")
    assert out.read_bytes() == b'{"kind": "urgent_finding"}'
    assert CommandChannel(f"{sys.executable} -c 'raise SystemExit(3)'").send(b"{}").detail == (
        "exit 3"
    )
    assert CommandChannel("/no/such/pager-tool").send(b"{}").detail == "no such program"
    slow = CommandChannel(f"{sys.executable} -c 'import time; time.sleep(30)'", timeout=0.5)
    assert slow.send(b"{}") == Delivery(slow.shown, False, "timed out after 0.5 s")
    assert not CommandChannel("unbalanced 'quote").send(b"{}").delivered


def test_the_command_never_sees_the_database_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pager command gets the message on standard input and a bare environment: no
    KIOSK_DATABASE_URL (with its password) nor any other KIOSK_* setting."""
    monkeypatch.setenv("KIOSK_DATABASE_URL", "postgresql+psycopg://kiosk:s3cret@db/kiosk")
    out = tmp_path / "environment.json"
    script = tmp_path / "pager.py"
    script.write_text(
        "import json, os, pathlib, sys\n"
        "pathlib.Path(sys.argv[1]).write_text(json.dumps(dict(os.environ)))\n"
    )
    assert CommandChannel(f"{sys.executable} {script} {out}").send(b"{}").delivered
    seen = json.loads(out.read_text())
    assert not [name for name in seen if name.startswith("KIOSK_")]
    assert "s3cret" not in out.read_text()


# Real processes: two `kiosk alerts watch` on one database, a loopback receiver


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'kiosk.sqlite3'}"
    else:
        yield from fresh_postgres_database(tmp_path)


WATCH = (sys.executable, "-m", "kiosk", "alerts", "watch")


def _start_watcher(
    url: str, receiver: AlertReceiver, device: str, log: Path
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "KIOSK_ID": device,
        "KIOSK_ALERT_WEBHOOK_URL": receiver.url,
        "KIOSK_ALERT_ESCALATE_AFTER_S": "2",
        "PYTHONPATH": str(ROOT),
    }
    with log.open("wb") as stderr:
        return subprocess.Popen(
            [*WATCH, "--database", url, "--retry-after", "0.3"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )


def _for(document: str) -> Callable[[list[Received]], list[Received]]:
    return lambda got: [r for r in got if r.json()["document"] == document]


def test_two_watcher_processes_escalate_each_flag_exactly_once_and_retry_a_failing_receiver(
    database_url: str, packet: Packet, tmp_path: Path
) -> None:
    db = open_database(database_url)
    logs = [tmp_path / "watcher-a.log", tmp_path / "watcher-b.log"]
    with AlertReceiver(fail_first=2) as receiver:
        watchers = [
            _start_watcher(database_url, receiver, device, log)
            for device, log in zip(("watch-a", "watch-b"), logs, strict=True)
        ]
        try:
            # Acknowledged at once: never escalated.
            seen = _raise_item9(db, packet, dt.datetime.now().astimezone())
            acknowledge_item9(db, seen)
            first_raised = dt.datetime.now().astimezone()
            first = _for(repository.document_number(_raise_item9(db, packet, first_raised)))
            receiver.wait_until(lambda got: any(r.status == 200 for r in first(got)))
            time.sleep(1.5)  # time for a second watcher's duplicate, if there were one
            assert [r.status for r in first(receiver.snapshot())] == [500, 500, 200]

            second_raised = dt.datetime.now().astimezone()
            second_visit = _raise_item9(db, packet, second_raised)
            second = _for(repository.document_number(second_visit))
            receiver.wait_until(lambda got: len(second(got)) >= 1)
            time.sleep(1.5)
            assert [r.status for r in second(receiver.snapshot())] == [200]
        finally:
            watchers[0].send_signal(signal.SIGTERM)
            watchers[1].send_signal(signal.SIGINT)
            codes = [watcher.wait(timeout=30) for watcher in watchers]
        got = receiver.snapshot()
    assert codes == [0, 0]
    # Exactly the POSTs above: none for the acknowledged flag, none twice.
    assert len(got) == 4
    for received, raised in zip(got, (first_raised,) * 3 + (second_raised,), strict=True):
        assert received.at >= raised.timestamp() + 2  # not before the delay
        message = received.json()
        assert set(message) == MESSAGE_KEYS and message["test"] is False
        assert message["flag"] == "phq9_item9" and message["tablet"] == "tablet-2"
        _assert_no_patient_data(received.body.decode())
    first_visit = next(v for v in _visits(db) if v not in (seen, second_visit))
    assert _alert_events(db) == [
        ("alert.escalated", first_visit),
        ("alert.delivery_failed", first_visit),
        ("alert.delivery_failed", first_visit),
        ("alert.delivered", first_visit),
        ("alert.escalated", second_visit),
        ("alert.delivered", second_visit),
    ]
    with db.begin() as session:
        rows = session.scalars(select(AlertEscalationRecord)).all()
    assert sorted((r.visit_id, r.attempts, r.delivered_at is not None) for r in rows) == sorted(
        [(first_visit, 3, True), (second_visit, 1, True)]
    )
    db.dispose()
    text = "".join(log.read_text() for log in logs)
    assert "escalating flag" in text and "HTTP 500" in text
    _assert_no_patient_data(text)


def _visits(db: Database) -> list[str]:
    with db.begin() as session:
        return [e.subject for e in repository.load_audit(session) if e.action == "visit.started"]


# kiosk alerts test


def _alerts_test(url: str, **settings: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_ALERT_")}
    return subprocess.run(
        [sys.executable, "-m", "kiosk", "alerts", "test", "--database", url],
        cwd=ROOT,
        env=env | settings | {"KIOSK_ID": "desk-1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _tests_recorded(url: str) -> list[str]:
    db = open_database(url)
    try:
        with db.begin() as session:
            events = repository.load_audit(session)
    finally:
        db.dispose()
    return [e.subject for e in events if e.action == "alert.test"]


def test_alerts_test_reaches_every_channel_and_says_so(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kiosk.sqlite3'}"
    open_database(url).dispose()
    out = tmp_path / "paged.json"
    write = "import sys, pathlib; pathlib.Path(sys.argv[1]).write_bytes(sys.stdin.buffer.read())"
    with AlertReceiver() as receiver:
        secret_url = receiver.url.replace("http://", "http://pager:s3cret@") + "?token=s3cret"
        done = _alerts_test(
            url,
            KIOSK_ALERT_WEBHOOK_URL=secret_url,
            KIOSK_ALERT_COMMAND=f"{sys.executable} -c '{write}' {out}",
        )
        (received,) = receiver.snapshot()
    assert done.returncode == 0, done.stderr
    shown = redact_url(secret_url)
    assert done.stdout.splitlines() == [
        f"webhook {shown}: delivered (HTTP 200)",
        f"command {sys.executable} …: delivered (exit 0)",
    ]
    assert "s3cret" not in done.stdout + done.stderr
    for message in (received.json(), json.loads(out.read_bytes())):
        assert set(message) == MESSAGE_KEYS
        assert message["test"] is True and message["kind"] == "urgent_finding"
        assert message["tablet"] == "desk-1"
    assert _tests_recorded(url) == ["2 of 2 channels delivered"]


def test_alerts_test_fails_when_a_channel_fails_or_none_is_configured(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kiosk.sqlite3'}"
    open_database(url).dispose()
    with AlertReceiver(fail_first=1) as receiver:
        failed = _alerts_test(
            url,
            KIOSK_ALERT_WEBHOOK_URL=receiver.url,
            KIOSK_ALERT_COMMAND=f"{sys.executable} -c 'raise SystemExit(3)'",
        )
    assert failed.returncode == 1
    assert failed.stdout.splitlines() == [
        f"webhook {receiver.url}: failed (HTTP 500)",
        f"command {sys.executable} …: failed (exit 3)",
    ]
    nothing = _alerts_test(url)
    assert nothing.returncode == 1
    assert nothing.stdout.splitlines() == [
        "no alert channel is configured: set KIOSK_ALERT_WEBHOOK_URL or KIOSK_ALERT_COMMAND"
    ]
    assert _tests_recorded(url) == ["0 of 2 channels delivered", "0 of 0 channels delivered"]


def test_the_message_shape_is_shared_by_tests_and_escalations(db: Database, packet: Packet) -> None:
    """A gateway configured from a test message must read an escalation the same way."""
    pager = FakeChannel()
    clock = FakeClock(CLINIC_TIME + dt.timedelta(seconds=300))
    _raise_item9(db, packet)
    _watcher(db, clock, pager).poll()
    sample = alert_delivery.test_message(clinic="Test Clinic", device="desk-1", now=CLINIC_TIME)
    assert set(sample) == set(pager.bodies[0]) == MESSAGE_KEYS
    assert {k: type(v) for k, v in sample.items()} == {
        k: type(v) for k, v in pager.bodies[0].items()
    }


def test_alerts_watch_refuses_missing_records_and_a_bad_retry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Under systemd a wrong database must end the process (and be restarted), not watch nothing."""
    missing = f"sqlite:///{tmp_path / 'nowhere.sqlite3'}"
    assert cli.main(["alerts", "watch", "--database", missing]) == 1
    assert "The records cannot be opened: there is no database at" in capsys.readouterr().err
    assert cli.main(["alerts", "watch", "--database", missing, "--retry-after", "0"]) == 2
    assert "--retry-after must be more than 0 seconds" in capsys.readouterr().err
