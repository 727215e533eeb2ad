"""The kiosk's clock: one place that reads the wall clock, injected everywhere else."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

Clock = Callable[[], dt.datetime]


def local_now() -> dt.datetime:
    """Now, with the kiosk's UTC offset (signatures are printed with it)."""
    return dt.datetime.now().astimezone()
