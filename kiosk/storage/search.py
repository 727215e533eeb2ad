"""Finding a patient's visits by name and date of birth.

``LIKE`` cannot use a plain index and does not ignore accents (DESIGN §8), so each visit keeps
its name folded into ``name_search``: case-folded, accents removed, spaces collapsed. The same
fold is applied to what staff type, and the (name_search, birth_date) index answers the query.
"""

from __future__ import annotations

import datetime as dt
import sys
import unicodedata
from dataclasses import dataclass

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from kiosk.storage.models import VisitRecord

FOLDED_MAX_CHARS = 200
"""The width of ``visits.name_search`` (String(200)): NFKD can make one character many ("ﷺ" is
18), so a 100-character name may fold longer, which PostgreSQL would refuse to store."""


def fold_name(name: str) -> str:
    """``"  José  ÁLVAREZ "`` → ``"jose alvarez"``; ``"Strauß"`` → ``"strauss"``. At most
    ``FOLDED_MAX_CHARS`` long (what staff type is folded the same way, so prefixes still match)."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.split())[:FOLDED_MAX_CHARS]


@dataclass(frozen=True)
class FoundVisit:
    visit_id: str
    patient_name: str
    birth_date: str
    status: str
    started_at: dt.datetime


def name_starts_with(folded: str) -> list[ColumnElement[bool]]:
    """Conditions on the indexed ``name_search`` column: [folded, next) holds every name starting
    with ``folded`` (already folded, not empty). ``LIKE`` would use no index on either database."""
    high = _next_prefix(folded)
    at_least = VisitRecord.name_search >= folded
    return [at_least] if high is None else [at_least, VisitRecord.name_search < high]


def _next_prefix(folded: str) -> str | None:
    """The smallest text after every text that starts with ``folded``: its last character
    counted one up. U+10FFFF has no next character, so it is dropped and the one before it
    counted up instead (None when nothing is left: no upper bound); the surrogates, which no
    database can store, are stepped over."""
    stem = folded.rstrip(chr(sys.maxunicode))
    if not stem:
        return None
    following = ord(stem[-1]) + 1
    if 0xD800 <= following <= 0xDFFF:
        following = 0xE000
    return stem[:-1] + chr(following)


def matching_visits(
    session: Session,
    name: str = "",
    birth_date: str = "",
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    *,
    named_only: bool = False,
    limit: int = 200,
) -> list[VisitRecord]:
    """Visits whose folded name starts with the folded ``name`` and, when given, with that birth
    date and started in ``[since, until)``; newest first. ``named_only`` leaves out visits whose
    patient has not given a name yet. A range on the indexed column (``LIKE`` would not use it on
    either database); the prefix is confirmed in Python because PostgreSQL's collation may order
    punctuation differently from plain text."""
    query = select(VisitRecord)
    folded = fold_name(name)
    if folded:
        query = query.where(*name_starts_with(folded))
    elif named_only:
        query = query.where(VisitRecord.name_search != "")
    if birth_date:
        query = query.where(VisitRecord.birth_date == birth_date)
    if since is not None:
        query = query.where(VisitRecord.started_at >= since)
    if until is not None:
        query = query.where(VisitRecord.started_at < until)
    query = query.order_by(VisitRecord.started_at.desc()).limit(limit)
    return [r for r in session.scalars(query) if r.name_search.startswith(folded)]


def search_visits(
    session: Session, name: str, *, birth_date: str = "", limit: int = 200
) -> list[FoundVisit]:
    """Named visits matching ``name`` (and that birth date): see :func:`matching_visits`."""
    return [
        FoundVisit(r.id, r.patient_name, r.birth_date, r.status, r.started_at)
        for r in matching_visits(session, name, birth_date, named_only=True, limit=limit)
    ]
