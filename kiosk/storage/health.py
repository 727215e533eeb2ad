"""The start-up check: is the database whole, and is the audit trail unbroken?

SQLite: ``quick_check`` (pages and records), ``cipher_integrity_check`` (every page's HMAC) and
``foreign_key_check``. Both databases: the audit chain, and the head this device keeps
(:mod:`kiosk.storage.heads`; SQLite: ``<file>.audit-head``) so events removed from the end are
found too. Any problem and the kiosk starts in safe mode: no new intake, a message for staff.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from kiosk.storage import audit, heads, repository
from kiosk.storage.db import Database
from kiosk.storage.schema_check import schema_problems

log = logging.getLogger(__name__)


def anchor_file_for(database_file: Path) -> Path:
    return heads.kept_head_file_for(database_file)


def anchor_file(db: Database, data_dir: Path) -> Path:
    """Where this kiosk keeps the newest audit head it saw, one file per database."""
    return heads.kept_head_file(db.engine.url, db.path, data_dir)


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


STARTUP_RECORD_EVENTS = 2000
"""The start-up check recomputes the records of the visits written by this many newest events
(about a hundred visits); ``kiosk audit verify`` recomputes them all."""


def _record_checks(db: Database) -> list[str]:
    """The records against the trail's digests (storage.record_digest): every visit the trail
    wrote whose row is gone (one query over the whole trail), and the records of the visits
    written recently recomputed. Older visits are recomputed by ``kiosk audit verify``."""
    with db.engine.connect() as connection:
        found = repository.record_problems(connection, newest_events=STARTUP_RECORD_EVENTS)
    return [f"records: {problem}" for problem in found]


def startup_check(
    db: Database, anchor: audit.Head | None = None, *, kept_head: Path | None = None
) -> Health:
    """Run every check; never raises (a failure to check is itself a problem). ``kept_head``:
    the file where this device keeps the trail's head (the kiosk's start-up passes it)."""
    health = Health()
    try:
        if db.dialect == "sqlite":
            health.problems += _sqlite_checks(db)
        health.problems += schema_problems(db)  # the protective triggers, as migrated
        with db.engine.connect() as connection:
            result = audit.verify(connection, db.audit_key, anchor)
            connection.execute(text("SELECT 1"))
        health.audit_events = result.events
        health.problems += [f"audit trail: {problem}" for problem in result.problems]
        if kept_head is not None:  # the tail can't be cut quietly (storage.heads)
            with db.read() as session:
                health.problems += heads.kept_head_problems(
                    session, kept_head, db.audit_key, single_writer=db.dialect == "sqlite"
                )
        health.problems += _record_checks(db)
    except SQLAlchemyError as exc:
        health.problems.append(f"the records could not be checked ({type(exc).__name__})")
    for problem in health.problems:
        log.error("start-up check: %s", problem)
    return health
