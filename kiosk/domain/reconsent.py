"""Whether a returning patient signs the consent again.

A patient is recognised by name and date of birth. Their newest signed consent still holds when it
is of the version shown today and no older than the clinic's validity (12 months by default);
then they are not asked again. An older version, or a consent past its validity, is signed again,
and staff see why ("re-consent: version 1 → 2"). Pure rules: no clock inside, callers pass
``now``.

Validity is counted in calendar months on calendar dates, in the clinic's local time: a consent
signed on 2025-11-22 with a validity of 12 months is current through 2026-11-22 and due again from
2026-11-23. A month added to the 31st lands on the last day of a shorter month (January 31 plus
one month is February 28, or 29 in a leap year).
"""

from __future__ import annotations

import calendar
import datetime as dt
import enum
from dataclasses import dataclass
from typing import Protocol

DEFAULT_VALIDITY_MONTHS = 12
"""How long a signed consent holds when the clinic has not set ``KIOSK_CONSENT_VALIDITY_MONTHS``."""


class ConsentVersion(Protocol):
    """What the rules need of the consent shown today (a ``model.ConsentDocument`` is one)."""

    @property
    def id(self) -> str:
        """The consent document's permanent id."""
        ...

    @property
    def version(self) -> int:
        """The version shown today."""
        ...


@dataclass(frozen=True)
class PriorConsent:
    """The patient's newest signed consent from an earlier visit.

    Attributes:
        document_id: The consent document's id, as stored with the signature.
        version: The version the patient signed.
        signed_at: When they signed, timezone-aware, in the kiosk's local offset at signing (so
            ``signed_at.date()`` is the date the patient saw).
        visit_id: The visit it was signed in ("" when not known).
    """

    document_id: str
    version: int
    signed_at: dt.datetime
    visit_id: str = ""

    @property
    def signed_on(self) -> dt.date:
        """The local calendar date of the signature."""
        return self.signed_at.date()


class NeedKind(enum.StrEnum):
    """Why the consent is, or is not, asked today."""

    FIRST = "first"  # never signed (this document), so it is asked as usual
    CURRENT = "current"  # signed, this version, within the validity: not asked again
    RENEW_VERSION = "renew_version"  # signed, but another version: asked again
    RENEW_EXPIRED = "renew_expired"  # signed, this version, but older than the validity


@dataclass(frozen=True)
class ConsentNeed:
    """The outcome of :func:`decide`.

    Attributes:
        kind: Which of the four cases applies.
        document_id: The consent shown today.
        version: Its version.
        validity_months: The validity the decision was made with.
        prior: The earlier signed consent (None for ``FIRST``).
        valid_through: The last local date on which ``prior`` counts as current (None for
            ``FIRST``); past it the consent is due again.
    """

    kind: NeedKind
    document_id: str
    version: int
    validity_months: int
    prior: PriorConsent | None = None
    valid_through: dt.date | None = None

    @property
    def asks_consent(self) -> bool:
        """Whether the patient reads and signs the consent today (every case but ``CURRENT``)."""
        return self.kind is not NeedKind.CURRENT

    @property
    def is_renewal(self) -> bool:
        """Whether a consent was signed before and must be signed again today."""
        return self.kind in (NeedKind.RENEW_VERSION, NeedKind.RENEW_EXPIRED)

    def staff_label(self) -> str:
        """Plain words for staff (English, like the rest of the staff console).

        Returns:
            ``"first consent"``, ``"consent on file: version 2 signed 2026-01-05"``,
            ``"re-consent: version 1 → 2"`` or
            ``"re-consent: signed 2025-10-22, older than 12 months"``.
        """
        prior = self.prior
        if prior is None or self.kind is NeedKind.FIRST:
            return "first consent"
        signed = prior.signed_on.isoformat()
        if self.kind is NeedKind.CURRENT:
            return f"consent on file: version {prior.version} signed {signed}"
        if self.kind is NeedKind.RENEW_VERSION:
            return f"re-consent: version {prior.version} → {self.version}"
        return f"re-consent: signed {signed}, older than {self.validity_months} months"


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by whole calendar months, clamped to the end of a shorter month.

    Args:
        day: The starting date.
        months: How many months to add (may be negative).

    Returns:
        The same day of the month ``months`` later, or that month's last day when it is shorter
        (2025-01-31 + 1 → 2025-02-28; 2024-02-29 + 12 → 2025-02-28).
    """
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def decide(
    prior: PriorConsent | None,
    current: ConsentVersion,
    now: dt.datetime,
    validity_months: int = DEFAULT_VALIDITY_MONTHS,
) -> ConsentNeed:
    """Whether the consent shown today must be signed, given the patient's newest earlier one.

    Args:
        prior: The newest earlier signed consent of this patient, or None.
        current: The consent document shown today (its id and version).
        now: The moment of the decision; its local date is compared with the signature's.
        validity_months: How many calendar months a signature holds (more than 0).

    Returns:
        ``FIRST`` when there is no prior consent of this document; ``RENEW_VERSION`` when it is
        of another version (older, or newer than this kiosk's forms: the patient signs the text
        shown today); ``RENEW_EXPIRED`` when the local date today is after its
        ``valid_through`` date; else ``CURRENT``. On the last valid day itself the consent is
        still current.

    Raises:
        ValueError: when ``validity_months`` is not more than 0.
    """
    if validity_months <= 0:
        raise ValueError("the consent validity must be at least one month")
    need = ConsentNeed(NeedKind.FIRST, current.id, current.version, validity_months)
    if prior is None or prior.document_id != current.id:
        return need
    valid_through = add_months(prior.signed_on, validity_months)
    if prior.version != current.version:
        kind = NeedKind.RENEW_VERSION
    elif now.date() > valid_through:
        kind = NeedKind.RENEW_EXPIRED
    else:
        kind = NeedKind.CURRENT
    return ConsentNeed(kind, current.id, current.version, validity_months, prior, valid_through)
