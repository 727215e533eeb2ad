"""Kept audit heads: where the end of the trail is remembered, so a cut tail is noticed.

A head file holds one line, ``kiosk-audit-head/2 SEQ MAC SAVED KEEPER TAG``: the newest event's
sequence number and mac, when it was saved, who kept it (a host or device name) and
``TAG = HMAC-SHA256(audit key, the rest)``. Without the audit key nobody can write a head file
for a trail they cut (the database key is not enough), but an older copy of a genuine file stays
genuine: that is why heads are also kept away from the tablet (consoles, alert watchers) and
printed on consent PDFs.

Two kinds of file:

- The **kept head** beside the database (SQLite: ``<file>.audit-head``; PostgreSQL: one file per
  database URL in the data folder). Every session made by :func:`kiosk.storage.db.open_database`
  moves it after each commit that appended events (:func:`keep_heads`): service, console, CLI
  and watcher writes alike, no caller has to remember.
- **Seen heads** (``audit-head-seen-…`` in a console's or watcher's own data folder): the highest
  head that process read from the trail (:class:`HeadWatch`). ``kiosk audit verify --anchors DIR``
  checks the trail against them.

Files are private (0600) and written crash-safe (temp file, fsync, rename, and the folder
fsynced where the platform allows), and never moved backwards.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import os
import re
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from kiosk.storage.audit import AUDIT_KEY_INFO, Head
from kiosk.storage.models import AuditEventRecord

log = logging.getLogger(__name__)

FORMAT = "kiosk-audit-head/2"
SEEN_PREFIX = "audit-head-seen-"
_APPENDED_INFO = "kiosk_appended_heads"  # session.info: (first event, newest) this transaction
_LOCK_INFO = "kiosk_head_lock"  # session.info: the head file's lock, from before commit to after
_KEEPER_UNSAFE = re.compile(r"[^A-Za-z0-9._@-]+")


class HeadFileError(ValueError):
    """A head file that exists but cannot be trusted (unreadable, garbled, or not sealed with
    this clinic's audit key). The message names the file, never its content."""


@dataclass(frozen=True)
class KeptHead:
    head: Head
    saved_at: str
    keeper: str
    path: Path


def keeper_name(name: str | None = None) -> str:
    """A printable token for the keeper (a host or device name), never empty."""
    return _KEEPER_UNSAFE.sub("-", name or socket.gethostname())[:64] or "unknown"


def _tag(key: bytes, seq: int, mac: str, saved_at: str, keeper: str) -> str:
    payload = f"{FORMAT}|{seq}|{mac}|{saved_at}|{keeper}".encode("ascii")
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


def _database_identity(url: URL, path: Path | None) -> str:
    if path is not None:
        return str(path.resolve())
    return url.set(password=None).render_as_string(hide_password=True)


def kept_head_file_for(database_file: Path) -> Path:
    return database_file.with_name(database_file.name + ".audit-head")


def kept_head_file(url: URL, path: Path | None, data_dir: Path) -> Path:
    """Where the tablet keeps the newest head of the database at ``url`` (``path``: SQLite)."""
    if path is not None:
        return kept_head_file_for(path)
    where = url.set(password=None).render_as_string(hide_password=True)
    return data_dir / f"audit-head-{hashlib.sha256(where.encode()).hexdigest()[:16]}"


def seen_head_file(url: URL, path: Path | None, data_dir: Path) -> Path:
    """Where a console or watcher keeps the highest head it saw, one file per database."""
    digest = hashlib.sha256(_database_identity(url, path).encode()).hexdigest()[:16]
    return data_dir / f"{SEEN_PREFIX}{digest}"


def read_head_file(path: Path, key: bytes) -> KeptHead | None:
    """The head in ``path``; None when there is no file; :class:`HeadFileError` when it cannot
    be trusted (including the unsealed ``SEQ:MAC`` files kiosks wrote before heads were sealed)."""
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise HeadFileError(
            f"the audit head kept in {path} is unreadable ({type(exc).__name__})"
        ) from None
    fields = text.split()
    if len(fields) == 6 and fields[0] == FORMAT and fields[1].isdigit():
        _, seq, mac, saved_at, keeper, tag = fields
        if hmac.compare_digest(tag, _tag(key, int(seq), mac, saved_at, keeper)):
            return KeptHead(Head(int(seq), mac), saved_at, keeper, path)
        raise HeadFileError(
            f"the audit head kept in {path} is not sealed with this clinic's audit key "
            "(forged, or from other records)"
        )
    raise HeadFileError(f"the audit head kept in {path} is garbled or in an old, unsealed form")


def _fsync_folder(folder: Path) -> None:
    if sys.platform == "win32":  # Windows refuses to open a folder for fsync
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write_head_file(path: Path, head: Head, key: bytes, keeper: str | None = None) -> None:
    """Write ``head`` into ``path`` crash-safe: a crash leaves the old file or the new one."""
    keeper = keeper_name(keeper)
    saved_at = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    line = f"{FORMAT} {head.seq} {head.mac} {saved_at} {keeper} "
    line += _tag(key, head.seq, head.mac, saved_at, keeper)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.unlink(missing_ok=True)  # made anew, private: no patient data, but no one's business
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(line + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(path)
    _fsync_folder(path.parent)


def _lock(path: Path) -> int | None:
    """Take the lock of ``path`` among this machine's processes (POSIX ``flock``; None on
    Windows, where the rename alone guards the file: two commits finishing together there may
    leave the older head, which the next start-up reports)."""
    if sys.platform == "win32":
        return None
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path.with_name(f".{path.name}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
    except OSError:
        os.close(descriptor)
        raise
    return descriptor


def _unlock(descriptor: int | None) -> None:
    if descriptor is None or sys.platform == "win32":
        return
    import fcntl

    try:
        fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)


def _advance(
    path: Path,
    head: Head,
    key: bytes,
    *,
    before: Head | None,
    strict: bool,
    create: bool,
    keeper: str | None = None,
) -> bool:
    """Move the head in ``path`` to ``head`` (the caller holds the lock); True when written.

    Never backwards, and never over a file that cannot be trusted: it is evidence, the next
    start-up reports it. ``before``: the trail's head just before the events that led to
    ``head`` (None: unknown, or the trail was empty). A kept head beyond it, or at it with
    another mac, means the trail was cut below the kept head since it was saved. ``strict`` (one
    writer, SQLite): the kept head must BE ``before``, or the file is left as it is (a rolled
    back file must not be carried forward by the next commit, such as the safe-mode event).
    ``create``: whether a missing file may be made (a new trail, a watcher's first look; a
    kiosk's missing head is made only by ``kiosk audit adopt-head``).
    """
    try:
        kept = read_head_file(path, key)
    except HeadFileError as exc:
        log.error("%s; it is left as it is for the start-up check", exc)
        return False
    if kept is None:
        if not create:
            log.error(
                "no audit head is kept in %s: it is not made here (kiosk audit adopt-head)", path
            )
        else:
            write_head_file(path, head, key, keeper)
        return create
    if kept.head.seq > head.seq or (kept.head.seq == head.seq and kept.head.mac != head.mac):
        log.error(
            "the audit trail's head (event %d) is behind the head kept in %s (event %d): events "
            "were removed from the end; the kept head is left as it is",
            head.seq,
            path,
            kept.head.seq,
        )
        return False
    if kept.head == head:
        return False
    cut = before is not None and (
        kept.head.seq > before.seq or (kept.head.seq == before.seq and kept.head.mac != before.mac)
    )
    if cut or (strict and kept.head != before):
        log.error(
            "the head kept in %s (event %d) is not the trail's head before this commit (event "
            "%s): the file is left as it is for the start-up check",
            path,
            kept.head.seq,
            before.seq if before else 0,
        )
        return False
    write_head_file(path, head, key, keeper)
    return True


def keep_if_newer(path: Path, head: Head, key: bytes, *, keeper: str | None = None) -> bool:
    """Move the head in ``path`` forward to ``head`` (made when missing); True when written."""
    handle = _lock(path)
    try:
        return _advance(path, head, key, before=None, strict=False, create=True, keeper=keeper)
    finally:
        _unlock(handle)


# --- the kept head moves after every commit that appended events ---


def _note_appended(session: Session, _context: Any) -> None:
    """after_flush: new audit events in this flush (``session.new`` still lists them)."""
    for item in session.new:
        if isinstance(item, AuditEventRecord):
            first, newest = session.info.get(_APPENDED_INFO, (None, None))
            if first is None or item.seq < first.seq:
                first = Head(item.seq, item.prev_mac)  # prev_mac is the head before it
            if newest is None or item.seq > newest.seq:
                newest = Head(item.seq, item.mac)
            session.info[_APPENDED_INFO] = (first, newest)


def keep_heads(sessions: sessionmaker[Session], path: Path, *, single_writer: bool) -> None:
    """After every commit of a session from ``sessions`` that appended audit events, move the
    head kept in ``path`` to the newest of them.

    The file's lock is taken before the commit, while the transaction still holds the
    database's write lock (SQLite IMMEDIATE, PostgreSQL's advisory lock), and released after
    the file is written: two processes on this machine move the file in commit order. A failure
    to save is logged (type only); with ``single_writer`` the next start-up then finds the kept
    head older than the trail (safe mode until staff verify and adopt)."""

    def lock(session: Session) -> None:
        if _APPENDED_INFO in session.info and _LOCK_INFO not in session.info:
            try:
                session.info[_LOCK_INFO] = _lock(path)
            except OSError as exc:
                log.error("could not lock the audit head: %s", type(exc).__name__)

    def release(session: Session) -> None:
        if _LOCK_INFO in session.info:
            _unlock(session.info.pop(_LOCK_INFO))

    def saved(session: Session) -> None:
        appended = session.info.pop(_APPENDED_INFO, None)
        key = session.info.get(AUDIT_KEY_INFO)
        try:
            if appended is not None and isinstance(key, bytes):
                first, newest = appended
                before = Head(first.seq - 1, first.mac) if first.seq > 1 else None
                _advance(
                    path, newest, key, before=before, strict=single_writer, create=before is None
                )
        except OSError as exc:
            log.error("could not keep the audit head: %s", type(exc).__name__)
        finally:
            release(session)

    def ended(session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is None:  # a failed commit, a rollback: keep nothing
            session.info.pop(_APPENDED_INFO, None)
            release(session)

    event.listen(sessions, "after_flush", _note_appended)
    event.listen(sessions, "before_commit", lock)
    event.listen(sessions, "after_commit", saved)
    event.listen(sessions, "after_transaction_end", ended)


# --- the rules ---


def mac_at(session: Session, seq: int) -> str | None:
    return session.execute(
        select(AuditEventRecord.mac).where(AuditEventRecord.seq == seq)
    ).scalar_one_or_none()


def anchor_problems(session: Session, kept: KeptHead, trail: Head | None) -> list[str]:
    """A head kept elsewhere must be an event of the trail, with the same mac, never beyond its
    end (the rule for every head: consoles', watchers', a PostgreSQL tablet's)."""
    last = trail.seq if trail else 0
    who = f"the head kept by {kept.keeper} ({kept.path.name})"
    if kept.head.seq > last:
        return [
            f"the trail ends at event {last} but {who} shows event {kept.head.seq}: "
            "events were removed from the end"
        ]
    if not hmac.compare_digest(mac_at(session, kept.head.seq) or "", kept.head.mac):
        return [f"event {kept.head.seq} of the trail does not match {who}: events were replaced"]
    return []


ADOPT_HINT = (
    "if this kiosk was just upgraded, or joins existing records, run `kiosk audit verify "
    "--anchors DIR` with the consoles' head files, then `kiosk audit adopt-head`"
)


def kept_head_problems(
    session: Session, path: Path, key: bytes, *, single_writer: bool
) -> list[str]:
    """The start-up rule for the head this device keeps in ``path``.

    Any database: an empty trail with no kept head is a new database (fine); a non-empty trail
    with no kept head, or one that cannot be trusted, is a problem; a kept head beyond the
    trail's end, or whose event has another mac, means events were removed or replaced.

    ``single_writer`` (SQLite: every writer runs on this machine and moves this one file after
    each commit): the kept head must BE the trail's head; an older one means the file was
    rolled back (or a save failed after a crash: staff check and adopt). PostgreSQL: other
    devices append to the same trail, so this device's head lagging behind is normal; only the
    heads kept elsewhere (consoles, watchers) catch a rolled-back file there.
    """
    trail = session.execute(
        select(AuditEventRecord.seq, AuditEventRecord.mac)
        .order_by(AuditEventRecord.seq.desc())
        .limit(1)
    ).first()
    trail_head = Head(trail.seq, trail.mac) if trail else None
    try:
        kept = read_head_file(path, key)
    except HeadFileError as exc:
        return [f"{exc}; {ADOPT_HINT}"]
    if kept is None:
        if trail_head is None:
            return []
        return [
            f"no audit head is kept for these {trail_head.seq} audit events ({path} is "
            f"missing): events may have been removed from the end; {ADOPT_HINT}"
        ]
    problems = anchor_problems(session, kept, trail_head)
    if not problems and single_writer and trail_head is not None and kept.head != trail_head:
        problems.append(
            f"the audit head kept in {path.name} is event {kept.head.seq} but the trail ends at "
            f"event {trail_head.seq}: the kept head was rolled back, or not saved after a "
            f"crash; {ADOPT_HINT}"
        )
    return problems


def anchors_in(folder: Path) -> list[Path]:
    """The head files in ``folder`` (consoles' and watchers' seen heads, kept heads)."""
    return sorted(
        path
        for path in folder.iterdir()
        if path.is_file()
        and not path.name.startswith(".")
        and (path.name.startswith("audit-head") or path.name.endswith(".audit-head"))
    )


def folder_problems(session: Session, folder: Path, key: bytes) -> tuple[int, list[str]]:
    """Check the trail against every head file in ``folder`` (or against ``folder`` itself when
    it is one head file, as this computer's seen head is): (files checked, problems)."""
    trail = session.execute(
        select(AuditEventRecord.seq, AuditEventRecord.mac)
        .order_by(AuditEventRecord.seq.desc())
        .limit(1)
    ).first()
    trail_head = Head(trail.seq, trail.mac) if trail else None
    problems: list[str] = []
    files = [folder] if folder.is_file() else anchors_in(folder)
    for path in files:
        try:
            kept = read_head_file(path, key)
        except HeadFileError as exc:
            problems.append(str(exc))
            continue
        if kept is not None:
            problems += anchor_problems(session, kept, trail_head)
    return len(files), problems


# --- consoles and watchers keep the highest head they saw ---


class HeadWatch:
    """Remembers the highest head of the trail seen by this process in its own data folder.

    :meth:`look` costs one indexed query (the newest event); the file is written only when the
    head grew, after checking that the head it holds is still an event of the trail (a cut
    tail re-grown past it must not overwrite the evidence)."""

    def __init__(self, path: Path, key: bytes, keeper: str) -> None:
        self.path = path
        self._key = key
        self._keeper = keeper
        self._seen: Head | None = None
        self._stuck = False  # the trail no longer holds the head we kept: stop moving it
        try:
            kept = read_head_file(path, key)
        except HeadFileError as exc:
            log.error("%s; this watcher keeps no head until it is replaced", exc)
            self._stuck = True
        else:
            self._seen = kept.head if kept else None

    @classmethod
    def for_sessions(
        cls, sessions: sessionmaker[Session], data_dir: Path, keeper: str
    ) -> HeadWatch | None:
        """The watch for the database ``sessions`` write to; None when they are not a kiosk
        sessionmaker (no audit key or no engine: nothing to keep)."""
        settings = getattr(sessions, "kw", None)
        if not isinstance(settings, dict):
            return None
        key = settings.get("info", {}).get(AUDIT_KEY_INFO)
        bind = settings.get("bind")
        if not isinstance(key, bytes) or bind is None:
            return None
        url: URL = bind.url
        path = Path(url.database) if url.get_backend_name() == "sqlite" and url.database else None
        return cls(seen_head_file(url, path, data_dir), key, keeper)

    def look(self, session: Session) -> None:
        if self._stuck:
            return
        row = session.execute(
            select(AuditEventRecord.seq, AuditEventRecord.mac)
            .order_by(AuditEventRecord.seq.desc())
            .limit(1)
        ).first()
        if row is None:
            return
        seen = self._seen
        if seen is not None and row.seq <= seen.seq:
            if row.seq < seen.seq or row.mac != seen.mac:
                self._cut(seen, row.seq)
            return
        if seen is not None and mac_at(session, seen.seq) != seen.mac:
            self._cut(seen, row.seq)
            return
        head = Head(row.seq, row.mac)
        try:
            keep_if_newer(self.path, head, self._key, keeper=self._keeper)
        except OSError as exc:
            log.error("could not keep the audit head seen: %s", type(exc).__name__)
            return
        self._seen = head

    def _cut(self, seen: Head, last: int) -> None:
        self._stuck = True
        log.error(
            "the audit trail (ends at event %d) no longer holds event %d as this watcher saw it: "
            "events were removed from the end; the head it kept stays in %s",
            last,
            seen.seq,
            self.path,
        )
