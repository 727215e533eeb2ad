"""A kiosk-like writer for the concurrency tests, run as its own process.

``python -m tests.storage.visit_writer URL DEVICE COUNT GO_FILE`` opens the database, creates
``GO_FILE.DEVICE.ready``, waits for ``GO_FILE`` to appear (so several writers start together),
then saves ``COUNT`` synthetic visits as fast as it can, one transaction per patient action and
each with its audit event, as the kiosk does. It prints as JSON the visit ids it wrote and when
(wall clock) it started and finished writing.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path

from kiosk import paths
from kiosk.domain.loader import load_packet
from kiosk.domain.model import AnswerValue
from kiosk.storage.db import open_database
from tests.storage.conftest import add_draft

ACTIONS_PER_VISIT = 2  # start, then the name page: one audit event each
WAIT_FOR_GO_S = 60.0


def synthetic_name(device: str, number: int) -> str:
    return f"Testa Synthetica {device} {number}"


def expected_answers(device: str, number: int) -> dict[str, AnswerValue]:
    """What visit ``number`` of ``device`` holds once written."""
    return {
        "patient_name": synthetic_name(device, number),
        "birth_date": f"19{50 + number % 50:02d}-0{1 + number % 9}-1{number % 10}",
    }


def write_visits(url: str, device: str, count: int, go_file: Path) -> dict[str, object]:
    packet = load_packet(paths.FORMS_DIR)
    db = open_database(url, create=False)
    try:
        go_file.with_name(f"{go_file.name}.{device}.ready").touch()
        deadline = time.monotonic() + WAIT_FOR_GO_S
        while not go_file.exists():
            if time.monotonic() > deadline:
                raise SystemExit(f"{device}: no go signal")
            time.sleep(0.005)
        started = time.time()
        visit_ids: list[str] = []
        for number in range(count):
            answers = expected_answers(device, number)
            now = dt.datetime.now(dt.UTC)
            visit_id = add_draft(
                db,
                packet,
                str(answers["patient_name"]),
                now,
                kiosk=device,
                birth_date=str(answers["birth_date"]),
            )
            visit_ids.append(visit_id)
        return {"device": device, "visits": visit_ids, "started": started, "finished": time.time()}
    finally:
        db.dispose()


def main(argv: list[str]) -> int:
    url, device, count, go_file = argv
    print(json.dumps(write_visits(url, device, int(count), Path(go_file))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
