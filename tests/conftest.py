"""Shared fixtures. Qt runs offscreen; nothing is written outside pytest's temporary folders."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from kiosk import paths
from kiosk.documents.seal import Certificates, init_certificates
from kiosk.domain.loader import load_packet
from kiosk.domain.model import Packet
from kiosk.domain.strings import Strings, load_strings

# A fixed signing moment with a non-UTC offset, so offsets are really tested.
CLINIC_TIME = dt.datetime(2026, 11, 22, 9, 14, 3, tzinfo=dt.timezone(dt.timedelta(hours=-5)))


@pytest.fixture(scope="session")
def seal_certificates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One synthetic clinic PKI for the whole run (making RSA keys takes most of a second)."""
    folder = tmp_path_factory.mktemp("seal-certificates")
    init_certificates(Certificates(folder), clinic_name="Test Clinic", kiosk_id="test-kiosk")
    return folder


@pytest.fixture(autouse=True)
def _private_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seal_certificates: Path
) -> Iterator[None]:
    """Every test gets its own data and key folders (the key folder holding a copy of the test
    clinic's seal certificates); the real ones are never touched."""
    monkeypatch.setenv("KIOSK_DATA_DIR", str(tmp_path / "data"))
    keys = tmp_path / "keys"
    shutil.copytree(seal_certificates, keys)
    os.chmod(keys, 0o700)
    monkeypatch.setenv("KIOSK_KEY_DIR", str(keys))
    for name in ("KIOSK_DATABASE_URL", "KIOSK_LANGUAGE", "KIOSK_CLINIC_NAME", "KIOSK_FORMS_DIR"):
        monkeypatch.delenv(name, raising=False)
    yield


@pytest.fixture(scope="session")
def packet() -> Packet:
    return load_packet(paths.FORMS_DIR)


@pytest.fixture(scope="session")
def strings() -> Strings:
    return load_strings(paths.STRINGS_DIR)
