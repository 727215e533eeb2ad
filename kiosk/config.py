"""Settings: command-line flags win over KIOSK_* environment variables, which win over defaults."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

from kiosk import paths
from kiosk.domain.loader import DEFAULT_TEXT_VALUES
from kiosk.domain.reconsent import DEFAULT_VALIDITY_MONTHS

DEFAULT_CLINIC_NAME = DEFAULT_TEXT_VALUES["clinic_name"]
DEFAULT_CLINIC_PHONE = DEFAULT_TEXT_VALUES["clinic_phone"]  # fictional: set KIOSK_CLINIC_PHONE
DEFAULT_FASTING_FOOD_HOURS = int(DEFAULT_TEXT_VALUES["fasting_food_hours"])
DEFAULT_FASTING_CLEAR_LIQUID_HOURS = int(DEFAULT_TEXT_VALUES["fasting_clear_liquid_hours"])
DEFAULT_IDLE_TIMEOUT_S = 120
DEFAULT_IDLE_WARNING_S = 30
DEFAULT_DONE_SECONDS = 12
DEFAULT_STAFF_IDLE_S = 300  # five minutes: a front desk is busy, but never left signed in
DEFAULT_DRAFT_RETENTION_H = 72  # an unfinished visit staff have not resumed is purged after this
DEFAULT_CONSENT_VALIDITY_MONTHS = DEFAULT_VALIDITY_MONTHS  # then a returning patient signs again
DEFAULT_CRISIS_LINE = "988"  # the US Suicide & Crisis Lifeline: call or text
DEFAULT_ALERT_ESCALATE_AFTER_S = 300  # an urgent flag nobody acknowledged goes to the pager
DEFAULT_ALERT_REPEAT_S = 120  # the consoles' banner and chime repeat until acknowledged


def _int_env(name: str, default: int, unit: str = "seconds") -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number of {unit}, not {raw!r}") from None
    if value <= 0:
        raise SystemExit(f"{name} must be more than 0")
    return value


def _choice_env(name: str, choices: tuple[str, ...], default: str) -> str:
    value = os.environ.get(name, "").strip() or default
    if value not in choices:
        raise SystemExit(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


@dataclass(frozen=True)
class Settings:
    """Everything the kiosk needs to know about where and how it runs."""

    database_url: str
    forms_dir: Path
    clinic_name: str
    clinic_phone: str
    fasting_food_hours: int
    fasting_clear_liquid_hours: int
    kiosk_id: str
    language: str
    idle_timeout_s: int
    idle_warning_s: int  # how long "Are you still there?" counts down before the wipe
    done_seconds: int
    output_dir: Path | None  # if set, consent PDFs are also written here as files for staff
    speech_engine: str = ""  # text-to-speech engine for "Read it to me"; "none" turns it off
    keyboard: str = "builtin"  # the on-screen keyboard: builtin, or none (a real keyboard)
    key_dir: Path = field(default_factory=paths.key_dir)  # the clinic's keys, not in the data dir
    draft_retention_h: int = DEFAULT_DRAFT_RETENTION_H
    certificates: str = "create"  # no seal certificates at start: create them, or require them
    consent_validity_months: int = DEFAULT_CONSENT_VALIDITY_MONTHS  # then the consent is due again
    staff_idle_s: int = DEFAULT_STAFF_IDLE_S  # the staff console signs out after this long idle
    crisis_line: str = DEFAULT_CRISIS_LINE  # shown to a patient who reports thoughts of self-harm
    alert_webhook_url: str = ""  # urgent flags not acknowledged in time are POSTed here as JSON
    alert_command: str = ""  # …and/or given as JSON on the standard input of this command
    alert_escalate_after_s: int = DEFAULT_ALERT_ESCALATE_AFTER_S
    alert_repeat_s: int = DEFAULT_ALERT_REPEAT_S

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
            clinic_phone=os.environ.get("KIOSK_CLINIC_PHONE") or DEFAULT_CLINIC_PHONE,
            fasting_food_hours=_int_env(
                "KIOSK_FASTING_FOOD_HOURS", DEFAULT_FASTING_FOOD_HOURS, "hours"
            ),
            fasting_clear_liquid_hours=_int_env(
                "KIOSK_FASTING_CLEAR_LIQUID_HOURS", DEFAULT_FASTING_CLEAR_LIQUID_HOURS, "hours"
            ),
            kiosk_id=os.environ.get("KIOSK_ID") or socket.gethostname(),
            language=language,
            idle_timeout_s=_int_env("KIOSK_IDLE_TIMEOUT_S", DEFAULT_IDLE_TIMEOUT_S),
            idle_warning_s=_int_env("KIOSK_IDLE_WARNING_S", DEFAULT_IDLE_WARNING_S),
            done_seconds=_int_env("KIOSK_DONE_SECONDS", DEFAULT_DONE_SECONDS),
            output_dir=Path(os.environ["KIOSK_OUTPUT_DIR"])
            if os.environ.get("KIOSK_OUTPUT_DIR")
            else None,
            speech_engine=os.environ.get("KIOSK_SPEECH_ENGINE", "").strip(),
            keyboard=_choice_env("KIOSK_KEYBOARD", ("builtin", "none"), "builtin"),
            key_dir=paths.key_dir(),
            draft_retention_h=_int_env(
                "KIOSK_DRAFT_RETENTION_H", DEFAULT_DRAFT_RETENTION_H, "hours"
            ),
            certificates=_choice_env("KIOSK_CERTIFICATES", ("create", "require"), "create"),
            consent_validity_months=_int_env(
                "KIOSK_CONSENT_VALIDITY_MONTHS", DEFAULT_CONSENT_VALIDITY_MONTHS, "months"
            ),
            staff_idle_s=_int_env("KIOSK_STAFF_IDLE_S", DEFAULT_STAFF_IDLE_S),
            crisis_line=os.environ.get("KIOSK_CRISIS_LINE", "").strip() or DEFAULT_CRISIS_LINE,
            alert_webhook_url=os.environ.get("KIOSK_ALERT_WEBHOOK_URL", "").strip(),
            alert_command=os.environ.get("KIOSK_ALERT_COMMAND", "").strip(),
            alert_escalate_after_s=_int_env(
                "KIOSK_ALERT_ESCALATE_AFTER_S", DEFAULT_ALERT_ESCALATE_AFTER_S
            ),
            alert_repeat_s=_int_env("KIOSK_ALERT_REPEAT_S", DEFAULT_ALERT_REPEAT_S),
        )

    def text_values(self) -> dict[str, str]:
        """The clinic's values for ``{clinic_name}``-style placeholders in form text."""
        return {
            "clinic_name": self.clinic_name,
            "clinic_phone": self.clinic_phone,
            "fasting_food_hours": str(self.fasting_food_hours),
            "fasting_clear_liquid_hours": str(self.fasting_clear_liquid_hours),
        }
