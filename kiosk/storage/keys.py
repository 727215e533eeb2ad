"""The clinic's secret keys, kept outside the data directory and never in the database.

Two keys, each 32 random bytes in its own file (mode 0600, folder 0700):

- ``database.key`` encrypts the embedded SQLite file (SQLCipher, raw key: no passphrase KDF).
- ``audit.key`` keys the HMAC chain over the audit trail, so someone who can write to the
  database still cannot rewrite the chain. Every tablet and the front desk that share one
  PostgreSQL server need the same ``audit.key``.

HHS breach guidance asks that "decryption tools should be stored on a device or at a location
separate from the data they are used to encrypt": point ``KIOSK_KEY_DIR`` at the key store the
clinic's IT person chose (a separate volume, a TPM-unlocked mount); the default is the user's
config folder, not the data folder.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from kiosk.private_files import create_private_file, private_folder

DATABASE_KEY = "database.key"
AUDIT_KEY = "audit.key"
KEY_BYTES = 32


class KeyStoreError(Exception):
    """A key is missing, unreadable or malformed. The message names the file, never the key."""


@dataclass(frozen=True)
class KeyStore:
    """A folder of key files."""

    folder: Path

    def path(self, name: str) -> Path:
        return self.folder / name

    def has(self, name: str) -> bool:
        return self.path(name).is_file()

    def read(self, name: str) -> bytes:
        """The key in ``name``; raises :class:`KeyStoreError` if it is missing or malformed."""
        path = self.path(name)
        try:
            text = path.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            raise KeyStoreError(f"the key file {path} is missing") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise KeyStoreError(
                f"the key file {path} cannot be read ({type(exc).__name__})"
            ) from None
        try:
            key = bytes.fromhex(text)
        except ValueError:
            raise KeyStoreError(f"the key file {path} is not a key written by kiosk") from None
        if len(key) != KEY_BYTES:
            raise KeyStoreError(f"the key file {path} is not a key written by kiosk")
        return key

    def create(self, name: str) -> bytes:
        """Write a new random key to ``name``; refuses to overwrite one that exists.

        Crash-safe (see :func:`kiosk.private_files.create_private_file`): a power cut leaves no
        key file or a whole one, never an empty file that locks the records."""
        private_folder(self.folder)
        key = secrets.token_bytes(KEY_BYTES)
        try:
            create_private_file(self.path(name), (key.hex() + "\n").encode("ascii"))
        except FileExistsError:
            raise KeyStoreError(
                f"the key file {self.path(name)} already exists; it was not replaced"
            ) from None
        return key

    def read_or_create(self, name: str, *, may_create: bool) -> bytes:
        """The key in ``name``, made now only when ``may_create`` (a brand-new database)."""
        if not self.has(name) and may_create:
            return self.create(name)
        return self.read(name)
