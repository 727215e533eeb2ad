"""Finding a patient's visits by name and date of birth.

``LIKE`` cannot use a plain index and does not ignore accents (DESIGN §8), so each visit keeps
its name folded into ``name_search``: case-folded, accents removed, spaces collapsed. The same
fold is applied to what staff type, and the (name_search, birth_date) index answers the query.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.storage.models import VisitRecord


def fold_name(name: str) -> str:
    """``"  José  ÁLVAREZ "`` → ``"jose alvarez"``; ``"Strauß"`` → ``"strauss"``."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.split())


@dataclass(frozen=True)
class FoundVisit:
    visit_id: str
    patient_name: str
    birth_date: str
    status: str
    started_at: dt.datetime


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_visits(
    session: Session, name: str, *, birth_date: str = "", limit: int = 200
) -> list[FoundVisit]:
    """Visits whose folded name starts with the folded ``name`` (and, if given, that birth date),
    newest first. A prefix match on the indexed column, never a scan of every name."""
    folded = fold_name(name)
    query = select(VisitRecord).where(
        VisitRecord.name_search.like(_escape_like(folded) + "%", escape="\\")
        if folded
        else VisitRecord.name_search != ""
    )
    if birth_date:
        query = query.where(VisitRecord.birth_date == birth_date)
    query = query.order_by(VisitRecord.started_at.desc()).limit(limit)
    return [
        FoundVisit(r.id, r.patient_name, r.birth_date, r.status, r.started_at)
        for r in session.scalars(query)
    ]
