"""The urgent-flag watcher (issue 16): one component in every kiosk and staff console process,
and on its own as ``kiosk alerts watch``. Plain Python, no Qt: the console's banner and chime
poll it from a timer; the service runs it in a loop.

An urgent flag nobody acknowledges within ``escalate_after_s`` is escalated exactly once per
flag, however many watchers run: the claim is a row only one watcher can insert (see
:mod:`kiosk.storage.alerts`). The escalation goes out through the configured channels
(:mod:`kiosk.app.alert_delivery`) on a background thread, and a failed delivery is retried with
back-off (5 s, 10 s, 20 s … at most every 5 minutes) until it is delivered or the flag is
acknowledged. Every escalation, delivery result and cancellation is an audit event.

A watcher with no channel configured never claims an escalation: the kiosks and consoles of a
clinic often have no channel while a ``kiosk alerts watch`` server has one, and a claim by a
watcher that cannot deliver would lose the page. It warns once instead; the escalation waits for
a watcher that can send it.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from kiosk import paths
from kiosk.app.alert_delivery import (
    NO_CHANNEL,
    Channel,
    Delivery,
    configured_channels,
    escalation_message,
    send,
)
from kiosk.app.clock import Clock, local_now
from kiosk.config import Settings
from kiosk.storage import alerts as records
from kiosk.storage.alerts import UrgentFlag, open_urgent_flags, reading
from kiosk.storage.heads import HeadWatch

log = logging.getLogger(__name__)  # flag ids, rule ids, statuses, exception types: no patient data

RETRY_FIRST_S = 5.0
RETRY_MAX_S = 300.0
# Longer than any one attempt can take (a webhook's 5 s socket timeouts, a command's 10 s): a
# watcher that dies mid-delivery leaves its attempt to the others after this long.
LEASE_S = 60.0
IDLE_ROUND_S = 10.0  # the delivery thread looks for due work at least this often
ESCALATE_MAX_AGE = dt.timedelta(hours=12)
"""Flags raised longer ago are not paged (a watcher started after a night off, or a database
restored from last week, would otherwise page for patients long gone); the consoles still show
them until a clinician acknowledges them."""
STOP_JOIN_S = 2.0


@dataclass(frozen=True)
class AlertConfig:
    """How this process watches and escalates."""

    device: str  # this process's device id (kiosk id / host)
    webhook_url: str = ""
    command: str = ""
    escalate_after_s: int = 300
    repeat_s: int = 120
    clinic: str = ""  # named in the escalation message
    retry_first_s: float = RETRY_FIRST_S  # a failed delivery is retried after this, then doubling
    retry_max_s: float = RETRY_MAX_S  # …up to this, for as long as the flag is unacknowledged

    @classmethod
    def from_settings(cls, settings: Settings, device: str) -> AlertConfig:
        return cls(
            device=device,
            webhook_url=settings.alert_webhook_url,
            command=settings.alert_command,
            escalate_after_s=settings.alert_escalate_after_s,
            repeat_s=settings.alert_repeat_s,
            clinic=settings.clinic_name,
        )

    def retry_delay(self, attempt: int) -> dt.timedelta:
        """How long after failed attempt ``attempt`` (1, 2, …) the next one is made."""
        seconds = self.retry_first_s * 2 ** min(max(attempt - 1, 0), 30)
        return dt.timedelta(seconds=min(seconds, self.retry_max_s))


@dataclass(frozen=True)
class AlertState:
    """What one poll saw."""

    open: tuple[UrgentFlag, ...]  # every unacknowledged urgent flag now
    new: tuple[UrgentFlag, ...]  # open flags this watcher had not seen before
    repeat_due: tuple[UrgentFlag, ...]  # open, last announced by this watcher >= repeat_s ago


EMPTY = AlertState(open=(), new=(), repeat_due=())


class AlertWatcher:
    """Polls the records for urgent flags; escalates the ones nobody acknowledged in time."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        config: AlertConfig,
        clock: Clock = local_now,
        *,
        channels: Sequence[Channel] | None = None,
        background: bool = True,
    ) -> None:
        """``channels`` default to the ones ``config`` names. With ``background`` False (tests),
        :meth:`poll` runs the escalation round itself, network included."""
        self._sessions = sessions
        self._config = config
        self._clock = clock
        self._channels = (
            list(channels)
            if channels is not None
            else configured_channels(config.webhook_url, config.command)
        )
        self._background = background
        # Who holds a claim: the device, and this process among several on it.
        self._claimant = f"{config.device} pid {os.getpid()} {uuid.uuid4().hex[:8]}"
        self._seen: set[int] = set()
        self._announced: dict[int, dt.datetime] = {}
        self._state = EMPTY
        self._warned_no_channel = False
        self._unreadable = False  # the last poll could not read the records
        # Every flag raised at or before this was looked at by a finished escalation round: a
        # poll wakes the delivery thread only for flags that came due after it.
        self._looked_until: dt.datetime | None = None
        self._round_lock = threading.Lock()  # one escalation round at a time
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        # The highest audit head seen, kept in this process's own data folder: a tail cut on the
        # tablet is then still provable from here (storage.heads, `kiosk audit verify --anchors`).
        self._heads = HeadWatch.for_sessions(sessions, paths.data_dir(), config.device)

    @property
    def config(self) -> AlertConfig:
        return self._config

    @property
    def can_escalate(self) -> bool:
        """Whether this watcher has a channel to escalate through."""
        return bool(self._channels)

    def poll(self) -> AlertState:
        """One look at the records (cheap: called every ~0.5 s by consoles). Also claims and
        starts escalations of open flags older than escalate_after_s. Never blocks on the
        network: deliveries run on a background thread. Never raises on a database error (logs
        the exception TYPE only and returns the previous state)."""
        try:
            with reading(self._sessions) as session:
                flags = tuple(open_urgent_flags(session))
                if self._heads is not None:
                    self._heads.look(session)
        except SQLAlchemyError as exc:
            if not self._unreadable:  # once per outage, not twice a second
                log.error("alert watcher: the records could not be read (%s)", type(exc).__name__)
            self._unreadable = True
            return self._state
        if self._unreadable:
            self._unreadable = False
            log.warning("alert watcher: the records can be read again")
        now = self._clock()
        open_ids = {f.flag_id for f in flags}
        new = tuple(f for f in flags if f.flag_id not in self._seen)
        self._seen = open_ids  # an acknowledged flag never opens again: forget it
        for gone in set(self._announced) - open_ids:
            del self._announced[gone]
        repeat_after = dt.timedelta(seconds=self._config.repeat_s)
        repeat_due = tuple(
            f
            for f in flags
            if f.flag_id in self._announced and now - self._announced[f.flag_id] >= repeat_after
        )
        self._state = AlertState(open=flags, new=new, repeat_due=repeat_due)
        self._escalate_when_due(flags, now)
        return self._state

    def mark_announced(self, flag_ids: Iterable[int]) -> None:
        """The caller showed these (starts their repeat timer)."""
        now = self._clock()
        for flag_id in flag_ids:
            self._announced[flag_id] = now

    def stop(self, timeout: float = STOP_JOIN_S) -> None:
        """Stop background delivery threads (join briefly). An attempt still running when the
        join gives up is resumed by another watcher once its lease runs out."""
        self._stopping.set()
        self._wake.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    # Escalation

    def _escalate_when_due(self, flags: Sequence[UrgentFlag], now: dt.datetime) -> None:
        if self._thread is None and self._background and self._channels:
            self._start()  # it also resumes other watchers' retries, flags due or not
        cutoff = now - dt.timedelta(seconds=self._config.escalate_after_s)
        looked = self._looked_until
        due = [
            f for f in flags if f.raised_at <= cutoff and (looked is None or f.raised_at > looked)
        ]
        if not due:
            return
        if not self._channels:
            if not self._warned_no_channel:
                self._warned_no_channel = True
                log.warning(
                    "an urgent flag was not acknowledged in time and this watcher (%s) "
                    "cannot escalate it: %s",
                    self._config.device,
                    NO_CHANNEL,
                )
            return
        if self._background:
            self._wake.set()
        else:
            self.run_round()

    def _start(self) -> None:
        self._thread = threading.Thread(
            target=self._deliver_in_background, name="alert-delivery", daemon=True
        )
        self._thread.start()

    def _deliver_in_background(self) -> None:
        while not self._stopping.is_set():
            wait = IDLE_ROUND_S
            try:
                next_due = self.run_round()
            except Exception as exc:  # the thread must outlive anything one round meets
                log.error("alert delivery round failed (%s)", type(exc).__name__)
            else:
                if next_due is not None:
                    left = (next_due - self._clock()).total_seconds()
                    wait = min(max(left, 0.05), IDLE_ROUND_S)
            self._wake.wait(wait)
            self._wake.clear()

    def run_round(self) -> dt.datetime | None:
        """Claim the escalations that are due, then make every delivery attempt that is due (on
        the network: the caller's thread waits). Returns when the next attempt will be due, if
        one is pending. Database errors are logged by type and end the round."""
        if not self._channels:
            return None
        with self._round_lock:
            now = self._clock()
            cutoff = now - dt.timedelta(seconds=self._config.escalate_after_s)
            try:
                with reading(self._sessions) as session:
                    candidates = records.flags_to_escalate(
                        session, raised_before=cutoff, raised_after=now - ESCALATE_MAX_AGE
                    )
                for flag in candidates:
                    self._claim(flag, cutoff)
                self._looked_until = cutoff
                with reading(self._sessions) as session:
                    due = records.due_attempts(session, now=self._clock())
                for attempt in due:
                    self._attempt(attempt)
                with reading(self._sessions) as session:
                    return records.next_attempt_due(session)
            except SQLAlchemyError as exc:
                log.error(
                    "alert escalation: the records could not be used (%s)", type(exc).__name__
                )
                return None

    def _claim(self, flag: UrgentFlag, cutoff: dt.datetime) -> None:
        now = self._clock()
        try:
            with self._sessions.begin() as session:
                claimed = records.claim_escalation(
                    session,
                    flag,
                    raised_before=cutoff,
                    claimed_by=self._claimant,
                    device=self._config.device,
                    now=now,
                    lease_until=now + dt.timedelta(seconds=LEASE_S),
                )
        except IntegrityError:
            log.info("flag %s (%s) is escalated by another watcher", flag.flag_id, flag.rule_id)
            return
        if not claimed:
            return  # acknowledged meanwhile: never escalated
        log.warning(
            "escalating flag %s (%s on %s, %s): not acknowledged within %s s",
            flag.flag_id,
            flag.rule_id,
            flag.kiosk_id,
            flag.document_number,
            self._config.escalate_after_s,
        )
        self._deliver(flag, attempt=1)

    def _attempt(self, due: records.DueAttempt) -> None:
        now = self._clock()
        if due.flag is None or due.acknowledged:
            why = "acknowledged" if due.acknowledged else "the flag is no longer on record"
            with self._sessions.begin() as session:
                cancelled = records.cancel_attempts(
                    session,
                    due.flag_id,
                    visit_id=due.visit_id,
                    seen_attempts=due.attempts,
                    outcome=f"cancelled: {why}",
                    device=self._config.device,
                    now=now,
                )
            if cancelled:
                log.info("no more delivery attempts for flag %s: %s", due.flag_id, why)
            return
        with self._sessions.begin() as session:
            claimed = records.claim_attempt(
                session,
                due.flag_id,
                seen_attempts=due.attempts,
                now=now,
                lease_until=now + dt.timedelta(seconds=LEASE_S),
            )
        if claimed:
            self._deliver(due.flag, attempt=due.attempts + 1)

    def _deliver(self, flag: UrgentFlag, *, attempt: int) -> None:
        """Attempt ``attempt`` (this watcher holds it): every channel; delivered when at least
        one of them took the message. A channel that failed while another delivered is logged
        and audited, not retried: retrying would page again through the one that worked."""
        results = send(self._channels, escalation_message(flag, clinic=self._config.clinic))
        delivered = any(result.delivered for result in results)
        now = self._clock()
        retry_in = self._config.retry_delay(attempt)
        with self._sessions.begin() as session:
            kept = records.record_attempt(
                session,
                flag.flag_id,
                visit_id=flag.visit_id,
                attempt=attempt,
                delivered=delivered,
                outcome=_outcome(results, delivered=delivered),
                retry_at=None if delivered else now + retry_in,
                device=self._config.device,
                now=now,
            )
        for result in results:
            if result.delivered:
                log.info("flag %s attempt %s: %s", flag.flag_id, attempt, result)
            else:
                log.warning("flag %s attempt %s: %s", flag.flag_id, attempt, result)
        if not kept:
            log.warning(
                "flag %s attempt %s outlasted its lease; another watcher carries on",
                flag.flag_id,
                attempt,
            )
        elif not delivered:
            log.warning(
                "flag %s not delivered; attempt %s in %g s",
                flag.flag_id,
                attempt + 1,
                retry_in.total_seconds(),
            )


def _outcome(results: Sequence[Delivery], *, delivered: bool) -> str:
    """What the escalation row keeps: the channel kinds and statuses, never a URL or command."""
    parts = [f"{result.channel.split()[0]} {result.detail}" for result in results]
    return f"{'delivered' if delivered else 'failed'}: {'; '.join(parts)}"


def watch(watcher: AlertWatcher, stopping: threading.Event, *, interval: float = 0.5) -> None:
    """``kiosk alerts watch``: poll until ``stopping`` is set, logging each urgent flag once when
    it first appears (identifiers only); escalations run as in every other watcher."""
    while True:
        for flag in watcher.poll().new:
            changed = ", answer changed since" if flag.retracted_at is not None else ""
            log.warning(
                "urgent finding %s on %s raised %s (%s%s): flag %s",
                flag.rule_id,
                flag.kiosk_id,
                flag.raised_at.astimezone().isoformat(timespec="seconds"),
                flag.document_number,
                changed,
                flag.flag_id,
            )
        if stopping.wait(interval):
            return
