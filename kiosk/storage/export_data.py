"""Read visits for ``kiosk export``: the records turned into :mod:`kiosk.domain.export_model`.

Which visits: every visit started in ``[since, until)`` except purged ones. A purged visit
(status ``abandoned``) is an unfinished draft whose answers, name and birth date were deleted on
purpose after the retention time; all that is left is "a visit was started on this kiosk", which
describes no patient, so it is skipped rather than exported as an empty record. Its row and its
``visit.purged`` audit event stay in the kiosk's records. Drafts still being answered, signed
visits and visits handed to paper are exported with whatever they hold.

Visits are read in batches so that exporting years of visits (each with a sealed PDF of about
100 kB) does not hold every PDF in memory at once: :func:`iter_visits` yields them one by one.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from kiosk.domain.export_model import (
    ExportedAnswer,
    ExportedDocument,
    ExportedForm,
    ExportedScore,
    ExportedVisit,
)
from kiosk.domain.model import Form, Packet
from kiosk.domain.records import VisitStatus
from kiosk.storage.console import raised_flags
from kiosk.storage.models import (
    AnswerRecord,
    ConsentRecord,
    DocumentRecord,
    ScoreRecord,
    VisitRecord,
)
from kiosk.storage.repository import CONSENT_PDF, decode_value, document_number, signed_consent

BATCH = 100  # visits read per round trip; bounds the PDFs held in memory at once

_Row = TypeVar("_Row", AnswerRecord, ScoreRecord, ConsentRecord, DocumentRecord)


def collect_visits(
    session: Session,
    packet: Packet,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    *,
    include_pdf: bool = True,
) -> list[ExportedVisit]:
    """Every exportable visit started in ``[since, until)``, oldest first.

    Args:
        session: An open session (the caller owns the transaction).
        packet: The current packet: it names the forms, their LOINC codes and labels.
        since: Only visits started at or after this aware moment (None: from the first).
        until: Only visits started before this aware moment (None: up to now).
        include_pdf: False leaves the sealed PDFs out (the CSV export does not need them).

    Returns:
        The visits, purged ones left out (see the module docstring).
    """
    return list(iter_visits(session, packet, since, until, include_pdf=include_pdf))


def iter_visits(
    session: Session,
    packet: Packet,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    *,
    include_pdf: bool = True,
) -> Iterator[ExportedVisit]:
    """Like :func:`collect_visits`, one visit at a time, reading the records in batches."""
    query = select(VisitRecord).where(VisitRecord.status != VisitStatus.ABANDONED)
    if since is not None:
        query = query.where(VisitRecord.started_at >= since)
    if until is not None:
        query = query.where(VisitRecord.started_at < until)
    visits = list(session.scalars(query.order_by(VisitRecord.started_at, VisitRecord.id)))
    for start in range(0, len(visits), BATCH):
        batch = visits[start : start + BATCH]
        ids = [visit.id for visit in batch]
        answers = _by_visit(session, AnswerRecord, ids)
        scores = _by_visit(session, ScoreRecord, ids)
        flags = raised_flags(session, packet, ids)
        consents = _by_visit(session, ConsentRecord, ids)
        documents = _by_visit(session, DocumentRecord, ids, pdf_content=include_pdf)
        for visit in batch:
            consent = consents[visit.id][-1] if consents[visit.id] else None
            yield ExportedVisit(
                visit_id=visit.id,
                document_number=document_number(visit.id),
                patient_name=visit.patient_name,
                birth_date=visit.birth_date,
                language=visit.language,
                kiosk_id=visit.kiosk_id,
                status=visit.status,
                started_at=visit.started_at,
                finished_at=visit.finished_at,
                packet_id=visit.packet_id,
                packet_version=visit.packet_version,
                forms=(
                    *_forms(packet, answers[visit.id]),
                    *_attestations(packet, consent),
                ),
                scores=tuple(_score(packet, record) for record in scores[visit.id]),
                flags=tuple(flags.get(visit.id, ())),
                consent=signed_consent(consent) if consent is not None else None,
                consent_pdf=_newest_pdf(documents[visit.id], consent, include_pdf),
            )


def _by_visit(
    session: Session, table: type[_Row], visit_ids: Sequence[str], *, pdf_content: bool = True
) -> defaultdict[str, list[_Row]]:
    """The rows of one table for these visits, grouped by visit id, in the order written
    (documents: consent PDFs only, their bytes read only when ``pdf_content``)."""
    query = select(table).where(table.visit_id.in_(visit_ids))
    if table is DocumentRecord:
        query = query.where(DocumentRecord.kind == CONSENT_PDF)
        if not pdf_content:
            query = query.options(defer(DocumentRecord.content, raiseload=True))
    grouped: defaultdict[str, list[_Row]] = defaultdict(list)
    for row in session.scalars(query.order_by(table.id)):
        grouped[row.visit_id].append(row)
    return grouped


def _packet_form(packet: Packet, form_id: str, version: int) -> Form | None:
    """The packet's form, only when it is the version the patient answered: an older version's
    items, codes and labels may differ, and an export must not claim what was not asked."""
    form = next((f for f in packet.forms if f.id == form_id), None)
    return form if form is not None and form.version == version else None


def _forms(packet: Packet, records: Sequence[AnswerRecord]) -> list[ExportedForm]:
    grouped: dict[tuple[str, int], list[AnswerRecord]] = {}
    for record in records:
        grouped.setdefault((record.form_id, record.form_version), []).append(record)
    order = {form.id: index for index, form in enumerate(packet.forms)}
    forms = []
    for (form_id, version), saved in sorted(
        grouped.items(), key=lambda entry: (order.get(entry[0][0], len(order)), entry[0])
    ):
        form = _packet_form(packet, form_id, version)
        rows = saved
        if form is not None:  # the form's own order, not the order the answers were saved in
            position = {item.id: index for index, item in enumerate(form.items)}
            rows = sorted(saved, key=lambda row: position.get(row.item_id, len(position)))
        forms.append(
            ExportedForm(
                form_id=form_id,
                version=version,
                answers=tuple(
                    ExportedAnswer(
                        item_id=row.item_id,
                        value=decode_value(row.value_json),
                        answered_at=row.answered_at,
                        loinc=_item_loinc(form, row.item_id),
                    )
                    for row in rows
                ),
                title=form.title if form else None,
                loinc=form.loinc if form else None,
                items=form.items if form else (),
                copyright=form.copyright if form else None,
                scored_items=(
                    frozenset(i for rule in form.scores for i in rule.items)
                    if form
                    else frozenset()
                ),
            )
        )
    return forms


def _item_loinc(form: Form | None, item_id: str) -> str | None:
    if form is None:
        return None
    try:
        return form.item(item_id).loinc
    except KeyError:
        return None


def _attestations(packet: Packet, consent: ConsentRecord | None) -> list[ExportedForm]:
    """The statements ticked just before signing, as one more "form" (they are stored with the
    consent, not in the answers table)."""
    if consent is None:
        return []
    stored = json.loads(consent.attestations_json)
    if not stored:
        return []
    document = packet.consent
    known = document.id == consent.document_id and document.version == consent.document_version
    items = document.attestations if known else ()
    position = {item.id: index for index, item in enumerate(items)}
    answers = [
        ExportedAnswer(
            item_id=item_id,
            value=decode_value(json.dumps(value)),
            answered_at=consent.signed_at,
            loinc=next((item.loinc for item in items if item.id == item_id), None),
        )
        for item_id, value in stored.items()
    ]
    answers.sort(key=lambda answer: position.get(answer.item_id, len(position)))
    return [
        ExportedForm(
            form_id=consent.document_id,
            version=consent.document_version,
            answers=tuple(answers),
            is_consent=True,
            title=document.title if known else None,
            items=items,
        )
    ]


def _score(packet: Packet, record: ScoreRecord) -> ExportedScore:
    form = _packet_form(packet, record.form_id, record.form_version)
    rule = next((r for r in form.scores if r.id == record.rule_id), None) if form else None
    band = next((b for b in rule.bands if b.id == record.band), None) if rule else None
    return ExportedScore(
        rule_id=record.rule_id,
        form_id=record.form_id,
        form_version=record.form_version,
        value=record.value,
        band=record.band,
        computed_at=record.computed_at,
        label=rule.label.get("en") if rule else record.rule_id,
        band_label=band.label.get("en") if band else (record.band or ""),
        loinc=rule.loinc if rule else None,
    )


def _newest_pdf(
    documents: Sequence[DocumentRecord], consent: ConsentRecord | None, with_content: bool
) -> ExportedDocument | None:
    """The newest consent PDF; between two stored at the same moment, the one made for the
    newest consent record."""
    if not documents:
        return None
    newest_consent = consent.id if consent is not None else None
    record = max(
        documents, key=lambda d: (d.created_at, d.consent_id == newest_consent, d.consent_id or 0)
    )
    return ExportedDocument(
        content=record.content if with_content else None,
        sha256=record.sha256,
        created_at=record.created_at,
    )
