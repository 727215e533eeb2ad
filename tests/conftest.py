"""Shared fixtures. Qt runs offscreen; nothing is written outside pytest's temporary folders."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from kiosk import paths
from kiosk.domain.loader import load_packet
from kiosk.domain.model import Packet
from kiosk.domain.strings import Strings, load_strings

# A fixed signing moment with a non-UTC offset, so offsets are really tested.
CLINIC_TIME = dt.datetime(2026, 11, 22, 9, 14, 3, tzinfo=dt.timezone(dt.timedelta(hours=-5)))


@pytest.fixture(autouse=True)
def _private_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test gets its own data and key folders; the real ones are never touched."""
    monkeypatch.setenv("KIOSK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("KIOSK_KEY_DIR", str(tmp_path / "keys"))
    for name in ("KIOSK_DATABASE_URL", "KIOSK_LANGUAGE", "KIOSK_CLINIC_NAME", "KIOSK_FORMS_DIR"):
        monkeypatch.delenv(name, raising=False)
    yield


@pytest.fixture(scope="session")
def packet() -> Packet:
    return load_packet(paths.FORMS_DIR)


@pytest.fixture(scope="session")
def strings() -> Strings:
    return load_strings(paths.STRINGS_DIR)
