"""One visit as it leaves the kiosk: everything ``kiosk export`` writes, as plain frozen data.

:func:`kiosk.storage.export_data.collect_visits` fills these from the records;
:mod:`kiosk.documents.fhir` and :mod:`kiosk.documents.csv_export` turn them into files. Keeping
the shape here (pure Python) lets both writers be tested without a database.

Texts that describe the forms (score labels, band labels, flag messages) are resolved from the
packet in English, the language the clinical team works in; the patient's own answers are kept
exactly as stored.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from kiosk.domain.console import RaisedFlag
from kiosk.domain.model import AnswerValue, Item, LocalizedText
from kiosk.domain.records import SignedConsent


@dataclass(frozen=True)
class ExportedAnswer:
    """The current answer to one item.

    Attributes:
        item_id: The item's permanent id (``phq9_1``).
        value: The normalised answer, as :func:`kiosk.storage.repository.decode_value` gives it.
        answered_at: When it was last saved (UTC).
        loinc: The item's LOINC code, when the form version it was asked in declares one.
    """

    item_id: str
    value: AnswerValue
    answered_at: dt.datetime
    loinc: str | None = None


@dataclass(frozen=True)
class ExportedForm:
    """The answers a visit gave to one form (or to the consent's attestations).

    Attributes:
        form_id: The form's (or consent document's) id.
        version: The version the answers were given in.
        answers: In the form's item order when the definition is known, else as stored.
        is_consent: True for the attestations ticked just before signing the consent.
        title: The form's title, when the packet still has this version.
        loinc: The form's LOINC panel code, when declared.
        items: The form's items when the packet still has this version; empty when it does not
            (answers given in an older version are exported as stored, without a definition).
        copyright: The instrument's copyright notice, when it has one.
        scored_items: Ids of the items a score of this form adds up: their choice values are
            points (PHQ-9 "Several days" = 1), not just labels.
    """

    form_id: str
    version: int
    answers: tuple[ExportedAnswer, ...]
    is_consent: bool = False
    title: LocalizedText | None = None
    loinc: str | None = None
    items: tuple[Item, ...] = ()
    copyright: str | None = None
    scored_items: frozenset[str] = frozenset()

    @property
    def definition_known(self) -> bool:
        """True when :attr:`items` describes the exact version the patient answered."""
        return bool(self.items)


@dataclass(frozen=True)
class ExportedScore:
    """A computed score.

    Attributes:
        rule_id: The score rule's id (``phq9_total``).
        form_id: The form that declares it.
        form_version: The form version it was computed in.
        value: The score (a mean may have decimals).
        band: The band's id, or None for scores without bands.
        computed_at: When it was computed (UTC).
        label: The score's English label (the rule id when the packet no longer has it).
        band_label: The band's English label ("" without a band).
        loinc: The score's LOINC code, when the form declares one.
    """

    rule_id: str
    form_id: str
    form_version: int
    value: float
    band: str | None
    computed_at: dt.datetime
    label: str
    band_label: str = ""
    loinc: str | None = None


@dataclass(frozen=True)
class ExportedDocument:
    """A stored document (the sealed consent PDF) with its SHA-256 as stored.

    Attributes:
        content: The exact bytes stored; None when the export left them out (CSV).
        sha256: The SHA-256 the records hold for them (hex).
        created_at: When it was stored (UTC).
        content_type: Its media type.
    """

    content: bytes | None
    sha256: str
    created_at: dt.datetime
    content_type: str = "application/pdf"


@dataclass(frozen=True)
class ExportedVisit:
    """Everything exported about one visit.

    Attributes:
        visit_id: The visit's id.
        document_number: The printed document id (``KC-1A2B3C4D``), never patient data: the
            exported files are named by it.
        patient_name: The name as the patient gave it ("" before the name page).
        birth_date: ``YYYY-MM-DD`` as given ("" before the name page).
        language: The language of the visit.
        kiosk_id: The kiosk it was taken on.
        status: ``draft`` (still open), or how it closed: ``signed``, ``paper``…
        started_at: When it started (UTC).
        finished_at: When it was signed or handed to paper (UTC), if it was.
        packet_id: The packet it followed.
        packet_version: The packet's version.
        forms: The answers, one entry per form in the packet's order.
        scores: Computed scores, in the order computed.
        flags: Raised flags, in the order raised.
        consent: The signed consent, if any.
        consent_pdf: The newest sealed consent PDF, if any.
    """

    visit_id: str
    document_number: str
    patient_name: str
    birth_date: str
    language: str
    kiosk_id: str
    status: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    packet_id: str
    packet_version: int
    forms: tuple[ExportedForm, ...] = ()
    scores: tuple[ExportedScore, ...] = ()
    flags: tuple[RaisedFlag, ...] = ()
    consent: SignedConsent | None = None
    consent_pdf: ExportedDocument | None = None
