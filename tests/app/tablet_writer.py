"""A second process playing a tablet: a synthetic patient saves a PHQ-9 page that raises the
urgent item-9 flag, through the same storage calls and transaction as the kiosk's flow.

    python -m tests.app.tablet_writer URL NAME ISO_TIME

Prints the visit id once the page is committed.
"""

from __future__ import annotations

import datetime as dt
import sys

from kiosk import paths
from kiosk.domain.loader import load_packet
from kiosk.domain.model import AnswerValue
from kiosk.domain.scoring import score_raw_answers
from kiosk.storage import repository
from kiosk.storage.db import open_database
from tests.storage.conftest import add_draft

PHQ9_WITH_ITEM9: dict[str, AnswerValue] = {f"phq9_{n}": 1 for n in range(1, 10)}
PHQ9_WITH_ITEM9["phq9_difficulty"] = "somewhat"


def main(url: str, name: str, when: str) -> None:
    now = dt.datetime.fromisoformat(when)
    packet = load_packet(paths.FORMS_DIR)
    db = open_database(url)
    try:
        visit_id = add_draft(db, packet, name, now=now, kiosk="tablet-2")
        form = packet.form("phq9")
        report = score_raw_answers(form, PHQ9_WITH_ITEM9, now.date())
        with db.begin() as session:
            repository.save_answers(
                session, visit_id, form=form, answers=PHQ9_WITH_ITEM9, removed=(), now=now
            )
            repository.save_scores(session, visit_id, [report], now)
            repository.audit(
                session,
                actor="patient",
                device="tablet-2",
                action="visit.page_saved",
                subject=visit_id,
                now=now,
            )
    finally:
        db.dispose()
    print(visit_id, flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:4])
