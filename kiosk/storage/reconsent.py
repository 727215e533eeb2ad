"""A returning patient's earlier consent, and whether today's visit asks for it again.

The patient is recognised by their folded name (the indexed ``name_search`` column, see
:mod:`kiosk.storage.search`) and date of birth, both exactly equal. Only consents of visits that
were signed at the kiosk count: a visit closed for paper, or with a consent on file, has no
signature of its own. A correction (a consent whose ``supersedes_id`` points to an earlier one)
replaces the record it corrects.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, aliased

from kiosk.domain.reconsent import ConsentNeed, ConsentVersion, PriorConsent, decide
from kiosk.domain.records import VisitStatus
from kiosk.storage.models import ConsentRecord, VisitRecord
from kiosk.storage.repository import close_draft, get_visit
from kiosk.storage.search import fold_name


def _signed_at(record: ConsentRecord) -> dt.datetime:
    """The signing time in the kiosk's own offset, as the patient saw it (``signed_at_local``);
    the stored UTC time if that text cannot be read."""
    try:
        local = dt.datetime.fromisoformat(record.signed_at_local)
    except ValueError:
        return record.signed_at
    return local if local.utcoffset() is not None else record.signed_at


def prior_consent(
    session: Session,
    name: str,
    birth_date: str,
    *,
    document_id: str | None = None,
    exclude_visit_id: str | None = None,
    signed_before: dt.datetime | None = None,
) -> PriorConsent | None:
    """The patient's newest signed consent, or None.

    Args:
        session: The caller's session.
        name: The patient's name as typed; compared folded (case, accents and spaces ignored).
        birth_date: Their date of birth as stored (``YYYY-MM-DD``), compared exactly.
        document_id: Only consents of this document (default: any).
        exclude_visit_id: Leave this visit out (the one in progress).
        signed_before: Only consents signed before this moment (timezone-aware).

    Returns:
        The newest by signing time; consents that a correction supersedes are left out. None
        when nothing matches, or when the name or date of birth is empty.
    """
    folded = fold_name(name)
    if not folded or not birth_date:
        return None
    correction = aliased(ConsentRecord)
    query = (
        select(ConsentRecord)
        .join(VisitRecord, VisitRecord.id == ConsentRecord.visit_id)
        .where(
            VisitRecord.name_search == folded,
            VisitRecord.birth_date == birth_date,
            VisitRecord.status == VisitStatus.SIGNED,
            ~exists().where(correction.supersedes_id == ConsentRecord.id),
        )
    )
    if document_id is not None:
        query = query.where(ConsentRecord.document_id == document_id)
    if exclude_visit_id is not None:
        query = query.where(ConsentRecord.visit_id != exclude_visit_id)
    if signed_before is not None:
        query = query.where(ConsentRecord.signed_at < signed_before)
    query = query.order_by(ConsentRecord.signed_at.desc(), ConsentRecord.id.desc()).limit(1)
    record = session.scalars(query).first()
    if record is None:
        return None
    return PriorConsent(
        document_id=record.document_id,
        version=record.document_version,
        signed_at=_signed_at(record),
        visit_id=record.visit_id,
    )


def consent_need_for_visit(
    session: Session,
    visit_id: str,
    consent: ConsentVersion,
    now: dt.datetime,
    validity_months: int,
) -> ConsentNeed:
    """Whether ``visit_id`` asks for ``consent`` again, and the words staff see for it
    (``need.staff_label()``).

    Uses the visit's own name and date of birth, and the consents of that document signed in
    other visits before this one started. A finished visit is judged at its finishing time (what
    the kiosk decided then); one still in progress at ``now``. A visit without a name or date of
    birth yet (or a purged one) has no earlier consent: ``FIRST``.

    Args:
        session: The caller's session.
        visit_id: Any visit.
        consent: The consent document in use (``packet.consent``).
        now: The present (timezone-aware).
        validity_months: ``Settings.consent_validity_months``.

    Raises:
        repository.NotFoundError: when no visit has that id.
    """
    visit = get_visit(session, visit_id)
    prior = prior_consent(
        session,
        visit.patient_name,
        visit.birth_date,
        document_id=consent.id,
        exclude_visit_id=visit_id,
        signed_before=visit.started_at,
    )
    moment = visit.finished_at.astimezone(now.tzinfo) if visit.finished_at else now
    return decide(prior, consent, moment, validity_months)


def record_consent_on_file(session: Session, visit_id: str, *, now: dt.datetime) -> None:
    """Close a draft visit after review: the patient's consent on file is still current, so
    nothing is signed today. The visit gets the status ``consent_on_file``.

    Raises:
        repository.NotFoundError: when no visit has that id.
        ValueError: when the visit is no longer a draft.
    """
    close_draft(session, visit_id, status=VisitStatus.CONSENT_ON_FILE, now=now)
