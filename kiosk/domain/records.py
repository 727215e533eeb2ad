"""What the records hold, read back as plain data: shared by the staff console and the exports."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from kiosk.domain.visit import QuizResult, Reading


class VisitStatus(enum.StrEnum):
    """Where a stored visit stands: the ``status`` column of the visits table.

    The database keeps the plain values (a StrEnum member equals its string), so no migration
    goes with this type; a value this kiosk does not know (a newer kiosk's, on a shared database)
    is still read as text, never refused (see :func:`kiosk.domain.console.queue_status`).
    """

    DRAFT = "draft"  # being answered, or interrupted: the only status whose answers may change
    SIGNED = "signed"  # signed at the kiosk: never updated again (the database refuses it)
    PAPER = "paper"  # closed without an electronic signature: staff bring the paper form
    CONSENT_ON_FILE = "consent_on_file"  # closed after review: an earlier consent is current
    ABANDONED = "abandoned"  # a draft purged after the retention time: no answers, no name


class FlagDecision(enum.StrEnum):
    """What a clinician decided when acknowledging a flag (stored in ``flags.decision``)."""

    DISCUSSED_PROCEED = "discussed_proceed"  # discussed with the patient; the infusion goes ahead
    HOLD = "hold_infusion"  # today's infusion is held
    REFER = "refer"  # referred on (crisis team, psychiatry, the patient's doctor…)
    PATIENT_LEFT = "patient_left"  # the patient left before a clinician could review


DECISION_LABELS: dict[FlagDecision, str] = {
    FlagDecision.DISCUSSED_PROCEED: "Discussed, proceed",
    FlagDecision.HOLD: "Hold today's infusion",
    FlagDecision.REFER: "Refer",
    FlagDecision.PATIENT_LEFT: "Patient left before review",
}
"""How staff read each decision (the console, the exports' display text)."""


@dataclass(frozen=True)
class SignedConsent:
    """A stored signed consent (the newest record, when a correction superseded one).

    Attributes:
        document_id: The consent document's id.
        version: The version signed.
        language: The language it was read and signed in.
        signed_at: When (UTC).
        signed_at_local: The same moment with the kiosk's UTC offset, as printed on the PDF.
        method: ``drawn`` or ``typed_witnessed``.
        signer_name: The name signed.
        text_sha256: SHA-256 of the exact consent text shown.
        witness_staff_id: For a typed name: the witnessing staff member's id.
        witness_name: Their name.
        witness_reason: Why the patient could not sign by hand.
        comprehension: How each comprehension question went.
        reading: Time on screen and reading to the end, per section.
    """

    document_id: str
    version: int
    language: str
    signed_at: dt.datetime
    signed_at_local: str
    method: str
    signer_name: str
    text_sha256: str
    witness_staff_id: str | None = None
    witness_name: str | None = None
    witness_reason: str | None = None
    comprehension: tuple[QuizResult, ...] = ()
    reading: tuple[Reading, ...] = ()
