"""One kiosk per computer: a lock file in the data folder, recovered after a crash."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QLockFile

LOCK_NAME = "kiosk.lock"


def acquire_single_instance(data_dir: Path) -> QLockFile | None:
    """Take the kiosk's lock, or return None when another running kiosk holds it.

    A lock left by a kiosk that crashed (its process is gone) is stale: QLockFile sees the dead
    process id and takes it over; if that process id was reused meanwhile, the file-level lock
    is still free, so removing the stale file and trying again succeeds.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    lock = QLockFile(str(data_dir / LOCK_NAME))
    lock.setStaleLockTime(0)  # a running kiosk holds it for days: age never makes it stale
    if lock.tryLock(100):
        return lock
    stale = lock.error() == QLockFile.LockError.LockFailedError and lock.removeStaleLockFile()
    return lock if stale and lock.tryLock(100) else None
