"""Settings: command-line flags win over KIOSK_* environment variables, which win over defaults."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

from kiosk import paths

DEFAULT_CLINIC_NAME = "Pain Relief Clinic"
DEFAULT_IDLE_TIMEOUT_S = 120
DEFAULT_DONE_SECONDS = 12


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number of seconds, not {raw!r}") from None
    if value <= 0:
        raise SystemExit(f"{name} must be more than 0")
    return value


@dataclass(frozen=True)
class Settings:
    """Everything the kiosk needs to know about where and how it runs."""

    database_url: str
    forms_dir: Path
    clinic_name: str
    kiosk_id: str
    language: str
    idle_timeout_s: int
    done_seconds: int
    output_dir: Path  # where consent PDFs are written as files for staff

    @classmethod
    def load(cls, database_url: str | None = None, forms_dir: Path | None = None) -> Settings:
        """Read the environment; explicit arguments (from flags) take precedence."""
        language = os.environ.get("KIOSK_LANGUAGE", "en").strip() or "en"
        if language not in ("en", "es"):
            raise SystemExit(f"KIOSK_LANGUAGE must be 'en' or 'es', not {language!r}")
        return cls(
            database_url=database_url
            or os.environ.get("KIOSK_DATABASE_URL")
            or paths.default_database_url(),
            forms_dir=forms_dir or Path(os.environ.get("KIOSK_FORMS_DIR") or paths.FORMS_DIR),
            clinic_name=os.environ.get("KIOSK_CLINIC_NAME") or DEFAULT_CLINIC_NAME,
            kiosk_id=os.environ.get("KIOSK_ID") or socket.gethostname(),
            language=language,
            idle_timeout_s=_int_env("KIOSK_IDLE_TIMEOUT_S", DEFAULT_IDLE_TIMEOUT_S),
            done_seconds=_int_env("KIOSK_DONE_SECONDS", DEFAULT_DONE_SECONDS),
            output_dir=Path(os.environ.get("KIOSK_OUTPUT_DIR") or paths.data_dir() / "consents"),
        )
