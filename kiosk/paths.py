"""Where things are: bundled forms and resources, and the clinic's data directory."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "ketamine-consent-kiosk"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = Path(__file__).resolve().parent


def _bundled(name: str) -> Path:
    """``forms`` or ``resources``: beside the package in a checkout, inside it when installed
    from the wheel (pyproject maps the two top-level folders into the package)."""
    checkout = PROJECT_ROOT / name
    return checkout if checkout.is_dir() else PACKAGE_DIR / name


FORMS_DIR = _bundled("forms")
RESOURCES_DIR = _bundled("resources")
FONTS_DIR = RESOURCES_DIR / "fonts"
STRINGS_DIR = RESOURCES_DIR / "strings"
STYLES_DIR = RESOURCES_DIR / "styles"
SOUNDS_DIR = RESOURCES_DIR / "sounds"


def data_dir() -> Path:
    """The clinic's data directory: ``KIOSK_DATA_DIR`` or the platform's user data dir."""
    configured = os.environ.get("KIOSK_DATA_DIR")
    return Path(configured) if configured else Path(platformdirs.user_data_dir(APP_NAME))


def default_database_url() -> str:
    """The embedded SQLite file inside the data directory."""
    return f"sqlite:///{data_dir() / 'kiosk.sqlite3'}"


def key_dir() -> Path:
    """Where the clinic's keys live: ``KIOSK_KEY_DIR`` or the user's config folder.

    Never inside the data directory: the keys must not travel with the records they protect.
    """
    configured = os.environ.get("KIOSK_KEY_DIR")
    if configured:
        return Path(configured)
    return Path(platformdirs.user_config_dir(APP_NAME)) / "keys"
