"""Encrypted backup files: a PostgreSQL dump never lies on a disk in plaintext.

The dump streams from ``pg_dump`` through AES-256-GCM in 1 MiB chunks straight into the backup
file, so memory stays flat for any size of clinic (Fernet would need the whole dump in memory,
and a base64 copy of it) and no plaintext touches the disk, even for a moment.

Format: ``MAGIC``, a random 16-byte salt, then records of a 4-byte big-endian length and one
sealed chunk. The file's key is HKDF-SHA256 of the clinic's ``audit.key`` with that salt (every
station sharing the PostgreSQL server holds the same ``audit.key``, and it is in the clinic's key
backup; HKDF with its own label keeps this key apart from the audit chain's). Each chunk's nonce
is its number and a flag marking the last chunk (the STREAM construction), and the header is
authenticated with every chunk: a reordered, truncated, extended or altered file is refused, never
half-decrypted without notice.
"""

from __future__ import annotations

import secrets
from typing import IO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"KIOSK-ENCRYPTED-BACKUP-1\n"
SALT_BYTES = 16
CHUNK_BYTES = 1 << 20
TAG_BYTES = 16
LENGTH_BYTES = 4
KEY_LABEL = b"kiosk backup file encryption v1"


class BackupFileError(Exception):
    """The file is not an encrypted kiosk backup, is damaged or truncated, or the key differs."""


def _cipher(audit_key: bytes, salt: bytes) -> AESGCM:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=KEY_LABEL)
    return AESGCM(hkdf.derive(audit_key))


def _nonce(number: int, *, last: bool) -> bytes:
    return number.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def _read_up_to(source: IO[bytes], size: int) -> bytes:
    """``size`` bytes, or fewer only at the end (a pipe returns short reads)."""
    parts: list[bytes] = []
    wanted = size
    while wanted:
        part = source.read(wanted)
        if not part:
            break
        parts.append(part)
        wanted -= len(part)
    return b"".join(parts)


def is_encrypted_backup(head: bytes) -> bool:
    """Whether ``head`` (the first bytes of a file) starts an encrypted kiosk backup."""
    return head.startswith(MAGIC)


def encrypt_stream(source: IO[bytes], target: IO[bytes], audit_key: bytes) -> None:
    """Encrypt everything read from ``source`` until its end into ``target``."""
    header = MAGIC + secrets.token_bytes(SALT_BYTES)
    cipher = _cipher(audit_key, header[len(MAGIC) :])
    target.write(header)
    number = 0
    chunk = _read_up_to(source, CHUNK_BYTES)
    while True:
        following = _read_up_to(source, CHUNK_BYTES) if len(chunk) == CHUNK_BYTES else b""
        last = not following
        sealed = cipher.encrypt(_nonce(number, last=last), chunk, header)
        target.write(len(sealed).to_bytes(LENGTH_BYTES, "big") + sealed)
        if last:
            return
        chunk, number = following, number + 1


def decrypt_stream(source: IO[bytes], target: IO[bytes], audit_key: bytes) -> None:
    """Decrypt an encrypted backup from ``source`` into ``target``.

    Raises:
        BackupFileError: not such a file, a damaged or truncated one, or another clinic's key.
            What was written to ``target`` before is authentic but incomplete: discard it.
    """
    header = _read_up_to(source, len(MAGIC) + SALT_BYTES)
    if not is_encrypted_backup(header) or len(header) < len(MAGIC) + SALT_BYTES:
        raise BackupFileError("this is not an encrypted kiosk backup")
    cipher = _cipher(audit_key, header[len(MAGIC) :])
    number = 0
    while True:
        length = _read_up_to(source, LENGTH_BYTES)
        if len(length) < LENGTH_BYTES:
            raise BackupFileError("the backup is truncated: its end is missing")
        size = int.from_bytes(length, "big")
        sealed = _read_up_to(source, size) if size <= CHUNK_BYTES + TAG_BYTES else b""
        if len(sealed) != size or size < TAG_BYTES:
            raise BackupFileError("the backup is damaged or truncated")
        plain, last = _open(cipher, number, sealed, header)
        target.write(plain)
        if last:
            if source.read(1):
                raise BackupFileError("the backup has data after its end: it was altered")
            return
        number += 1


def _open(cipher: AESGCM, number: int, sealed: bytes, header: bytes) -> tuple[bytes, bool]:
    """Chunk ``number``'s plaintext, and whether it is the last chunk."""
    for last in (False, True):
        try:
            return cipher.decrypt(_nonce(number, last=last), sealed, header), last
        except InvalidTag:
            continue
    raise BackupFileError("the backup is damaged, or was made with another clinic's audit.key")
