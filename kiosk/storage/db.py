"""Opening the database: encrypted SQLite (the embedded default) or PostgreSQL, same code.

SQLite files are encrypted with SQLCipher (``sqlcipher3``), keyed with a raw 256-bit key from the
key store outside the data directory. A missing or wrong key fails closed: :class:`OpenError`,
and never a fresh empty database in place of the clinic's records.

Every pooled SQLite connection, including ones opened after a reconnect, is keyed, runs WAL,
``synchronous=FULL`` and foreign keys, and is checked to really have them. We issue BEGIN
ourselves (the pysqlite driver's legacy transaction handling skips it for some statements);
sessions begin ``IMMEDIATE`` so two writers queue rather than race: a patient action is one
transaction, its audit event included.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from kiosk import paths
from kiosk.storage import heads, migrate
from kiosk.storage.audit import AUDIT_KEY_INFO
from kiosk.storage.keys import AUDIT_KEY, DATABASE_KEY, KeyStore, KeyStoreError
from kiosk.storage.models import AuditEventRecord

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=10000",
    "PRAGMA secure_delete=ON",  # deleted drafts are overwritten, not left in free pages
)
# What the pragmas must read back as; anything else and the connection is refused.
EXPECTED_PRAGMAS = {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1}


class OpenError(RuntimeError):
    """The records cannot be opened safely. The message is for staff; it holds no patient data."""


class UnusableUrlError(OpenError):
    """The database URL names something the kiosk cannot use (unknown scheme, another kind of
    database, no file): a mistake in how it was called, not a fault of the records."""


USABLE_BACKENDS = ("sqlite", "postgresql", "postgres")
_USABLE_URLS = "give sqlite:///PATH or postgresql+psycopg://USER@HOST/NAME"


class PragmaError(RuntimeError):
    """A connection did not take the durability pragmas."""


def check_pragmas(dbapi_connection: Any) -> dict[str, object]:
    """Read the durability pragmas back from a raw connection."""
    cursor = dbapi_connection.cursor()
    try:
        return {name: cursor.execute(f"PRAGMA {name}").fetchone()[0] for name in EXPECTED_PRAGMAS}
    finally:
        cursor.close()


def _prepare_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    """Every new DBAPI connection: the driver's transaction handling off (we BEGIN ourselves),
    the key proven by reading the schema, the pragmas set and read back."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        # SQLCipher would print its own errors (a wrong key's "hmac check failed") to stderr;
        # the caller turns them into one message for staff instead.
        cursor.execute("PRAGMA cipher_log_level = NONE").fetchall()
        cursor.execute("SELECT count(*) FROM sqlite_master").fetchone()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma).fetchall()
    finally:
        cursor.close()
    found = check_pragmas(dbapi_connection)
    if found != EXPECTED_PRAGMAS:
        raise PragmaError(f"the database connection did not take its settings: {found}")


BEGIN_OPTION = "kiosk_begin"


def _begin(connection: Connection) -> None:
    """Sessions (every write) begin IMMEDIATE: they queue for the one write lock up front instead
    of failing part-way with a stale snapshot. Plain connections (checks, reports) begin
    DEFERRED, so readers never wait for each other."""
    mode = connection.get_execution_options().get(BEGIN_OPTION, "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {mode}")


@dataclass
class Database:
    """An open, migrated database and the sessions that write to it."""

    engine: Engine
    sessions: sessionmaker[Session]
    keys: KeyStore
    path: Path | None  # the SQLite file; None on PostgreSQL
    head_file: Path | None = None  # where the trail's head is kept after each commit (heads)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def audit_key(self) -> bytes:
        key = self.sessions.kw["info"][AUDIT_KEY_INFO]
        assert isinstance(key, bytes)
        return key

    @contextlib.contextmanager
    def begin(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        with self.sessions.begin() as session:
            yield session

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only look (the staff console's queue, several times a second): a plain
        connection, so on SQLite it begins DEFERRED and never queues behind a tablet's write.
        Nothing is committed."""
        with self.engine.connect() as connection, Session(bind=connection) as session:
            try:
                yield session
            finally:
                session.rollback()

    def dispose(self) -> None:
        self.engine.dispose()


def sqlite_path(url: str | URL) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise UnusableUrlError(
            "records need a database file; an in-memory database would lose them"
        )
    return Path(parsed.database)


def _sqlite_engine(path: Path, key: bytes) -> Engine:
    url = URL.create("sqlite+pysqlcipher", password=f"x'{key.hex()}'", database=str(path))
    engine = create_engine(url, poolclass=QueuePool, hide_parameters=True)
    event.listen(engine, "connect", _prepare_sqlite_connection)
    event.listen(engine, "begin", _begin)
    return engine


def _read_key(keys: KeyStore, name: str, *, may_create: bool) -> bytes:
    try:
        return keys.read_or_create(name, may_create=may_create)
    except KeyStoreError as exc:
        raise OpenError(
            f"{exc}. The records stay closed: restore the key folder from the clinic's key "
            "backup (KIOSK_KEY_DIR), then start again."
        ) from None


def _server_url(url: str) -> URL:
    """A database server's URL as the kiosk connects to it (psycopg 3 for PostgreSQL)."""
    parsed = make_url(url)
    if parsed.get_backend_name() not in USABLE_BACKENDS:  # mysql://… and the like
        raise UnusableUrlError(
            "the database URL is not one this kiosk can use (it keeps its records in "
            f"SQLite or PostgreSQL only): {_USABLE_URLS}"
        )
    if parsed.drivername in ("postgresql", "postgres"):  # the driver we ship: psycopg 3
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _unusable(exc: Exception) -> UnusableUrlError:
    # The URL itself is never repeated: it may hold a password.
    return UnusableUrlError(
        f"the database URL is not one this kiosk can use ({type(exc).__name__}): " + _USABLE_URLS
    )


def check_url(url: str) -> None:
    """Raise :class:`UnusableUrlError` when ``url`` is one the kiosk cannot use at all (checked
    without connecting: a command can refuse it before it starts anything)."""
    try:
        if sqlite_path(url) is None:
            _server_url(url).get_dialect().import_dbapi()
    except (ArgumentError, ImportError) as exc:  # NoSuchModuleError is an ArgumentError
        raise _unusable(exc) from None


def engine_for(url: str, keys: KeyStore, *, create: bool) -> tuple[Engine, Path | None, bool]:
    """An engine for ``url`` and whether the database is brand new (so keys may be made)."""
    try:
        path = sqlite_path(url)
        if path is None:
            parsed = _server_url(url)
            return create_engine(parsed, pool_pre_ping=True, hide_parameters=True), None, False
    except (ArgumentError, ImportError) as exc:  # NoSuchModuleError is an ArgumentError
        raise _unusable(exc) from None
    exists = path.exists() and path.stat().st_size > 0
    if not exists and not create:
        raise OpenError(f"there is no database at {path}")
    key = _read_key(keys, DATABASE_KEY, may_create=not exists)
    if not exists:
        path.parent.mkdir(parents=True, exist_ok=True)
    return _sqlite_engine(path, key), path, not exists


def _audit_trail_is_empty(engine: Engine) -> bool:
    with engine.connect() as connection:
        if not inspect(connection).has_table(AuditEventRecord.__tablename__):
            return True
        return connection.execute(text("SELECT 1 FROM audit_events LIMIT 1")).first() is None


def open_database(
    url: str, *, key_dir: Path | None = None, create: bool = True, upgrade: bool = True
) -> Database:
    """Open (and, with ``create``, make) the database at ``url``, migrated to the newest schema.

    Raises :class:`OpenError` when a key is missing or wrong, the file is not a kiosk database,
    or the server cannot be reached: the caller shows staff the message and stays closed.
    """
    keys = KeyStore(key_dir or paths.key_dir())
    engine, path, brand_new = engine_for(url, keys, create=create)
    try:
        empty_trail = brand_new or _audit_trail_is_empty(engine)
        audit_key = _read_key(keys, AUDIT_KEY, may_create=empty_trail and create)
        if upgrade:
            migrate.upgrade(engine, audit_key)
    except DBAPIError as exc:
        engine.dispose()
        if path is not None and "not a database" in str(exc.orig):
            raise OpenError(
                f"the database at {path} cannot be opened with the key in {keys.folder}: "
                "it is the wrong key, or the file is damaged. Nothing was changed."
            ) from None
        raise OpenError(f"the database cannot be opened ({type(exc.orig).__name__})") from None
    except (SQLAlchemyError, PragmaError) as exc:
        engine.dispose()
        raise OpenError(f"the database cannot be opened ({type(exc).__name__})") from None
    except OpenError:
        engine.dispose()
        raise
    sessions = sessionmaker(
        engine.execution_options(**{BEGIN_OPTION: "IMMEDIATE"}),
        expire_on_commit=False,
        info={AUDIT_KEY_INFO: audit_key},
    )
    head_file = heads.kept_head_file(engine.url, path, paths.data_dir())
    # Every writer moves it, no caller has to remember; SQLite has one trail on one machine.
    heads.keep_heads(sessions, head_file, single_writer=path is not None)
    return Database(engine, sessions, keys, path, head_file)
