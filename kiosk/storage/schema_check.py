"""Are the protective triggers still there, as the migrations made them?

Triggers protect the records only from someone without the database key: ``DROP TRIGGER`` (SQLite),
``DROP``/``ALTER TABLE … DISABLE TRIGGER`` or ``session_replication_role = replica`` (PostgreSQL)
turn them off. The start-up check and ``kiosk audit verify`` call :func:`schema_problems`, and any
difference puts the kiosk in safe mode.

The expected triggers are read from the migrations that create them (0002 and 0007): their
statements are the one definition, so the check cannot drift from what was installed.

- SQLite: every expected trigger is in ``sqlite_master`` with the same SQL text (whitespace
  normalised; SQLite keeps the text exactly as created).
- PostgreSQL: every expected trigger is in ``pg_trigger`` on its table, enabled (``tgenabled =
  'O'``), firing at the same time, level and events, with no WHEN clause or column list, calling
  the expected function with the expected arguments; that function's body (``pg_proc.prosrc``)
  is the migration's. ``session_replication_role`` must be ``origin``: under ``replica`` ordinary
  triggers do not fire at all.
"""

from __future__ import annotations

import functools
import importlib
import re
from dataclasses import dataclass

from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError

from kiosk.storage.db import Database

# The migrations whose statements create the protective triggers, oldest first.
TRIGGER_MIGRATIONS = ("0002_records", "0007_protect_every_record")
_MIGRATIONS_PACKAGE = "kiosk.storage.migrations.versions"

_SQLITE_TRIGGER = re.compile(r"CREATE TRIGGER (\w+) ")
_PG_TRIGGER = re.compile(
    r"CREATE TRIGGER (?P<name>\w+) BEFORE (?P<events>[A-Z ]+?) ON (?P<table>\w+) "
    r"FOR EACH (?P<level>ROW|STATEMENT) EXECUTE FUNCTION (?P<function>\w+)\((?P<args>.*)\)$",
    re.DOTALL,
)
_PG_FUNCTION = re.compile(
    r"CREATE FUNCTION (?P<name>\w+)\(\).*?AS \$\$(?P<body>.*)\$\$$", re.DOTALL
)

# pg_trigger.tgtype bits (PostgreSQL's include/catalog/pg_trigger.h).
_ROW, _BEFORE, _INSERT, _DELETE, _UPDATE, _TRUNCATE = 1, 2, 4, 8, 16, 32
_EVENT_BITS = {"INSERT": _INSERT, "DELETE": _DELETE, "UPDATE": _UPDATE, "TRUNCATE": _TRUNCATE}


@dataclass(frozen=True)
class PgTrigger:
    """A PostgreSQL trigger as the migration creates it."""

    name: str
    table: str
    tgtype: int
    function: str
    args: tuple[str, ...]


def _statements(dialect: str) -> list[str]:
    found: list[str] = []
    for name in TRIGGER_MIGRATIONS:
        module = importlib.import_module(f"{_MIGRATIONS_PACKAGE}.{name}")
        made = module._sqlite_triggers() if dialect == "sqlite" else module._postgresql_triggers()
        found += [str(statement) for statement in made]
    return found


def normalised(sql: str) -> str:
    """SQL with runs of whitespace made one space (a trigger's text is otherwise compared as is)."""
    return " ".join(sql.split())


@functools.cache
def expected_sqlite_triggers() -> dict[str, str]:
    """Trigger name -> normalised CREATE TRIGGER text, as the migrations make them."""
    expected: dict[str, str] = {}
    for statement in _statements("sqlite"):
        match = _SQLITE_TRIGGER.match(statement)
        assert match is not None, statement
        expected[match.group(1)] = normalised(statement)
    return expected


def _pg_args(raw: str) -> tuple[str, ...]:
    return tuple(re.findall(r"'((?:[^']|'')*)'", raw))


@functools.cache
def expected_postgresql() -> tuple[dict[str, PgTrigger], dict[str, str]]:
    """Trigger name -> what it must be, and function name -> its body, as the migrations make
    them."""
    triggers: dict[str, PgTrigger] = {}
    bodies: dict[str, str] = {}
    for statement in _statements("postgresql"):
        function = _PG_FUNCTION.match(statement)
        if function is not None:
            bodies[function.group("name")] = function.group("body")
            continue
        trigger = _PG_TRIGGER.match(statement)
        assert trigger is not None, statement
        tgtype = _BEFORE | (_ROW if trigger.group("level") == "ROW" else 0)
        for event in trigger.group("events").split(" OR "):
            tgtype |= _EVENT_BITS[event]
        triggers[trigger.group("name")] = PgTrigger(
            trigger.group("name"),
            trigger.group("table"),
            tgtype,
            trigger.group("function"),
            _pg_args(trigger.group("args")),
        )
    return triggers, bodies


def _missing(name: str) -> str:
    return f"the protective trigger {name} is missing"


def _changed(name: str) -> str:
    return f"the protective trigger {name} has been changed"


def _sqlite_problems(connection: Connection) -> list[str]:
    rows = connection.execute(
        text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
    ).all()
    found = {str(name): normalised(str(sql or "")) for name, sql in rows}
    problems: list[str] = []
    for name, sql in expected_sqlite_triggers().items():
        if name not in found:
            problems.append(_missing(name))
        elif found[name] != sql:
            problems.append(_changed(name))
    return problems


_PG_TRIGGERS = text(
    """
    SELECT t.tgname, c.relname, t.tgtype, t.tgenabled, t.tgargs, t.tgnargs,
           t.tgqual IS NOT NULL AS has_when, array_length(t.tgattr, 1) AS columns,
           p.proname, p.prosrc
    FROM pg_trigger t
    JOIN pg_class c ON c.oid = t.tgrelid
    JOIN pg_proc p ON p.oid = t.tgfoid
    WHERE NOT t.tgisinternal AND c.relnamespace = to_regnamespace(current_schema())
    """
)


def _decode_args(raw: object, count: int) -> tuple[str, ...]:
    data = bytes(raw) if isinstance(raw, bytes | bytearray | memoryview) else b""
    return tuple(part.decode("utf-8", "replace") for part in data.split(b"\0")[:count])


def _postgresql_problems(connection: Connection) -> list[str]:
    problems: list[str] = []
    role = connection.execute(text("SHOW session_replication_role")).scalar()
    if role != "origin":
        problems.append(f"session_replication_role is {role}: triggers are off")
    expected, bodies = expected_postgresql()
    found = {str(row.tgname): row for row in connection.execute(_PG_TRIGGERS).all()}
    for name, want in expected.items():
        row = found.get(name)
        if row is None:
            problems.append(_missing(name))
            continue
        same = (
            row.relname == want.table
            and int(row.tgtype) == want.tgtype
            and not row.has_when
            and not row.columns
            and row.proname == want.function
            and row.prosrc == bodies.get(want.function)
            and _decode_args(row.tgargs, int(row.tgnargs)) == want.args
        )
        if not same:
            problems.append(_changed(name))
        elif row.tgenabled != "O":
            problems.append(f"the protective trigger {name} is disabled")
    return problems


def schema_problems(db: Database) -> list[str]:
    """What differs from the protective triggers the migrations made, a plain line each (empty
    when everything is in place). Never raises: a failure to look is itself a problem."""
    try:
        with db.engine.connect() as connection:
            if db.dialect == "sqlite":
                return _sqlite_problems(connection)
            return _postgresql_problems(connection)
    except SQLAlchemyError as exc:
        return [f"the protective triggers could not be checked ({type(exc).__name__})"]
