"""The start-up check: is the database whole, and is the audit trail unbroken?

SQLite: ``quick_check`` (pages and records), ``cipher_integrity_check`` (every page's HMAC) and
``foreign_key_check``. Both databases: the audit chain, against the last head this kiosk saw
(kept beside the database as ``<file>.audit-head``) so events removed from the end are found
too. Any problem and the kiosk starts in safe mode: no new intake, a message for staff.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from kiosk.storage import audit
from kiosk.storage.db import Database

log = logging.getLogger(__name__)


def anchor_file_for(database_file: Path) -> Path:
    return database_file.with_name(database_file.name + ".audit-head")


def anchor_file(db: Database, data_dir: Path) -> Path:
    """Where this kiosk keeps the newest audit head it saw, one file per database."""
    if db.path is not None:
        return anchor_file_for(db.path)
    where = db.engine.url.set(password=None).render_as_string(hide_password=True)
    return data_dir / f"audit-head-{hashlib.sha256(where.encode()).hexdigest()[:16]}"


@dataclass
class Health:
    problems: list[str] = field(default_factory=list)
    audit_events: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def _sqlite_checks(db: Database) -> list[str]:
    problems: list[str] = []
    with db.engine.connect() as connection:
        quick = [row[0] for row in connection.exec_driver_sql("PRAGMA quick_check").all()]
        if quick != ["ok"]:
            problems.append(f"the database file is damaged (quick_check: {len(quick)} problems)")
        pages = connection.exec_driver_sql("PRAGMA cipher_integrity_check").all()
        if pages:
            problems.append(f"{len(pages)} encrypted pages fail their integrity check")
        orphans = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
        if orphans:
            problems.append(f"{len(orphans)} records point to records that do not exist")
    return problems


def startup_check(db: Database, anchor: audit.Head | None = None) -> Health:
    """Run every check; never raises (a failure to check is itself a problem)."""
    health = Health()
    try:
        if db.dialect == "sqlite":
            health.problems += _sqlite_checks(db)
        with db.engine.connect() as connection:
            result = audit.verify(connection, db.audit_key, anchor)
            connection.execute(text("SELECT 1"))
        health.audit_events = result.events
        health.problems += [f"audit trail: {problem}" for problem in result.problems]
    except SQLAlchemyError as exc:
        health.problems.append(f"the records could not be checked ({type(exc).__name__})")
    for problem in health.problems:
        log.error("start-up check: %s", problem)
    return health


def load_anchor(path: Path) -> audit.Head | None:
    """The last audit head this kiosk saw, or None (first start, or never signed here)."""
    try:
        return audit.Head.parse(path.read_text(encoding="ascii"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        log.error("the saved audit head is unreadable (%s)", type(exc).__name__)
        return None


def save_anchor(path: Path, head: audit.Head) -> None:
    """Remember ``head`` (written atomically: a crash leaves the old head or the new one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("w", encoding="ascii") as handle:
        handle.write(f"{head}\n")
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(path)
