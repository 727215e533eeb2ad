"""A second process playing a tablet: a synthetic patient saves a PHQ-9 page that raises the
urgent item-9 flag, through the same storage calls and transactions as the kiosk's flow.

    python -m tests.app.tablet_writer URL NAME ISO_TIME

Prints the visit id once the page is committed.
"""

from __future__ import annotations

import datetime as dt
import sys

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
    finally:
        db.dispose()
    print(visit_id, flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:4])
