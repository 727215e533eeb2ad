"""Private files (keys, the seal's private keys, consent copies, backups): readable by the owner
only, in a folder only the owner can enter, and whole or absent after a power cut or a full disk.

Every such file is written the same way: under a temporary name in the same folder (mode 0600
from the start, so no other user ever sees it, even for a moment), synced, then renamed (or, for a
file that must never be replaced, linked) into place, and the folder synced so the new name
survives a power cut. A failure anywhere removes the temporary file: a full disk never leaves a
truncated file under the real name, and a file that was there before is left as it was.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def private_folder(folder: Path) -> None:
    """Make ``folder`` (and its parents) with mode 0700, and bring an existing one to 0700."""
    folder.mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE)
    os.chmod(folder, FOLDER_MODE)


def sync_folder(folder: Path) -> None:
    """Make a new name in ``folder`` durable. Windows cannot open a folder to sync it (and its
    renames are durable once the file's own data is), so there it does nothing."""
    if os.name == "nt":
        return
    folder_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(folder_fd)
    finally:
        os.close(folder_fd)


@contextmanager
def private_writer(path: Path, *, replace: bool = True) -> Iterator[BinaryIO]:
    """A handle to write ``path``'s new content into; it appears under ``path`` only when the
    ``with`` block ends without an exception and the data is on disk (see the module docstring).

    Args:
        path: the file to write; its folder must exist (see :func:`private_folder`).
        replace: replace a file already at ``path``; when False, refuse one.

    Raises:
        FileExistsError: ``replace`` is False and ``path`` exists; it is left as it was.
        OSError: the file could not be written; nothing new is left under ``path``.
    """
    if not replace and path.exists():
        raise FileExistsError(path)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            os.replace(temporary, path)
        else:
            os.link(temporary, path)  # fails if path appeared meanwhile: never replaced
    finally:
        temporary.unlink(missing_ok=True)
    sync_folder(path.parent)


def write_private_file(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` (mode 0600), replacing a file there only once the new one is
    whole; see :func:`private_writer`."""
    with private_writer(path) as handle:
        handle.write(data)


def create_private_file(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file of mode 0600; see :func:`private_writer`.

    Raises:
        FileExistsError: ``path`` exists; it is left as it was.
    """
    with private_writer(path, replace=False) as handle:
        handle.write(data)
