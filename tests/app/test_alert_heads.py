"""Alert watchers (in consoles, the kiosk and `kiosk alerts watch`) keep the highest audit head
they saw in their own data folder, where an attacker on the tablet is not (issue 17)."""

from __future__ import annotations

from kiosk import paths
from kiosk.app.alerts import AlertConfig, AlertWatcher
from kiosk.domain.model import Packet
from kiosk.storage import audit, heads, repository
from kiosk.storage.db import open_database
from tests.conftest import CLINIC_TIME


def test_an_alert_watcher_keeps_the_highest_head_in_its_own_folder(
    any_database_url: str, packet: Packet
) -> None:
    db = open_database(any_database_url)
    try:
        watcher = AlertWatcher(
            db.sessions, AlertConfig(device="front-desk"), channels=[], background=False
        )
        seen = heads.seen_head_file(db.engine.url, db.path, paths.data_dir())
        watcher.poll()
        assert not seen.exists()  # an empty trail: nothing to keep
        for action in ("visit.viewed", "visit.printed"):
            assert repository.record_event(
                db.sessions, actor="staff:maria", device="desk", action=action, now=CLINIC_TIME
            )
            watcher.poll()
            with db.begin() as session:
                newest = audit.current_head(session)
            kept = heads.read_head_file(seen, db.audit_key)
            assert kept is not None
            assert (kept.head, kept.keeper) == (newest, "front-desk")
    finally:
        db.dispose()
