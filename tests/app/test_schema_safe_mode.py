"""A kiosk opened on a database whose protective triggers are not as migrated starts in safe
mode, and says which trigger (issue 17)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from kiosk.storage import repository
from kiosk.storage.db import open_database
from tests.app.test_records_safety import _close, _labels, _make_records, _safe_mode, _settings


def test_a_dropped_protective_trigger_starts_safe_mode(tmp_path: Path, qtbot: object) -> None:
    settings = _settings(tmp_path)
    _make_records(settings)
    db = open_database(settings.database_url, key_dir=settings.key_dir)
    with db.begin() as session:  # what someone with the key does before editing a record
        session.execute(text("DROP TRIGGER scores_closed_no_delete"))
    db.dispose()
    result = _safe_mode(settings)
    assert result.problems == ["the protective trigger scores_closed_no_delete is missing"]
    assert "scores_closed_no_delete is missing" in _labels(result.window.screen_widget)
    _close(result)
    db = open_database(settings.database_url, key_dir=settings.key_dir)
    with db.begin() as session:
        assert repository.load_audit(session)[-1].action == "kiosk.safe_mode"
    db.dispose()
