"""A second process playing a tablet: a synthetic patient saves a PHQ-9 page that raises the
urgent item-9 flag, through the same storage calls and transactions as the kiosk's flow.

    python -m tests.app.tablet_writer URL NAME ISO_TIME

Prints the visit id once the page is committed, then ``committed SECONDS``: the moment of that
commit on the system-wide monotonic clock (``time.monotonic()`` of any process on this machine
reads the same clock), so a test or the bench can time how soon a console shows the flag.
"""

from __future__ import annotations

import datetime as dt
import sys
import time

from kiosk import paths
from kiosk.app.demo import write_flagged_visit
from kiosk.domain.loader import load_packet
from kiosk.storage.db import open_database


def main(url: str, name: str, when: str) -> None:
    packet = load_packet(paths.FORMS_DIR)
    db = open_database(url)
    try:
        visit_id = write_flagged_visit(
            db, packet, name, "1961-03-05", dt.datetime.fromisoformat(when)
        )
        committed = time.monotonic()  # the PHQ-9 page, and its flag, are committed by now
    finally:
        db.dispose()
    print(visit_id, flush=True)
    print(f"committed {committed!r}", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:4])
