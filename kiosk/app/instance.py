"""One kiosk per computer: a lock file in the data folder, recovered after a crash."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QLockFile

LOCK_NAME = "kiosk.lock"


class DataFolderError(Exception):
    """The data folder cannot be made or written to; the message says which folder and why."""


def acquire_single_instance(data_dir: Path) -> QLockFile | None:
    """Take the kiosk's lock, or return None when another running kiosk holds it.

    A lock left by a kiosk that crashed (its process is gone) is stale: QLockFile sees the dead
    process id and takes it over; if that process id was reused meanwhile, the file-level lock
    is still free, so removing the stale file and trying again succeeds.

    Raises:
        DataFolderError: the folder cannot be made, or the lock file cannot be written in it (a
            read-only folder or disk is not "another kiosk is running").
    """
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataFolderError(
            f"the data folder {data_dir} cannot be made ({exc.strerror})"
        ) from None
    lock = QLockFile(str(data_dir / LOCK_NAME))
    lock.setStaleLockTime(0)  # a running kiosk holds it for days: age never makes it stale
    if lock.tryLock(100):
        return lock
    if lock.error() != QLockFile.LockError.LockFailedError:  # not held by anyone: unwritable
        raise DataFolderError(
            f"the data folder {data_dir} cannot be written to: it is read-only, full, or "
            "belongs to another user"
        )
    stale = lock.removeStaleLockFile()
    return lock if stale and lock.tryLock(100) else None
