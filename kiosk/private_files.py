"""Secret files (database and audit keys, the seal's private keys): written once, never replaced,
readable by the owner only, and whole or absent after a power cut."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def private_folder(folder: Path) -> None:
    """Make ``folder`` (and its parents) with mode 0700."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(folder, 0o700)


def create_private_file(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file of mode 0600. The data is written and synced under a temporary
    name, then linked into place (which fails if ``path`` exists) and the folder synced.

    Raises:
        FileExistsError: ``path`` exists; it is left as it was.
    """
    if path.exists():
        raise FileExistsError(path)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    folder_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder_fd)
    finally:
        os.close(folder_fd)
