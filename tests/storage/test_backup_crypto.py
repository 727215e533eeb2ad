"""The encrypted backup stream: what goes in comes out, and any change to the file, a cut end or
another clinic's key is refused with a plain message."""

from __future__ import annotations

import io
import secrets

import pytest

from kiosk.storage import backup_crypto
from kiosk.storage.backup_crypto import BackupFileError, decrypt_stream, encrypt_stream

KEY = bytes(range(32))
DUMP = b"PGDMP" + secrets.token_bytes(1000)  # a few chunks at the test's chunk size


@pytest.fixture(autouse=True)
def _small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backup_crypto, "CHUNK_BYTES", 256)


def encrypted(data: bytes = DUMP, key: bytes = KEY) -> bytes:
    out = io.BytesIO()
    encrypt_stream(io.BytesIO(data), out, key)
    return out.getvalue()


def decrypted(data: bytes, key: bytes = KEY) -> bytes:
    out = io.BytesIO()
    decrypt_stream(io.BytesIO(data), out, key)
    return out.getvalue()


@pytest.mark.parametrize("size", [0, 1, 255, 256, 257, 512, 1005])
def test_what_goes_in_comes_out(size: int) -> None:
    data = DUMP[:size]
    sealed = encrypted(data)
    assert sealed.startswith(backup_crypto.MAGIC)
    assert decrypted(sealed) == data
    assert encrypted(data) != sealed  # a new salt, so a new key, for every file


def test_the_plaintext_is_nowhere_in_the_file() -> None:
    sealed = encrypted()
    assert b"PGDMP" not in sealed
    assert DUMP[100:132] not in sealed


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda b: b[:-1], "damaged|truncated"),
        (lambda b: b[: len(b) - (4 + 237 + 16)], "truncated"),  # the whole last chunk cut
        (lambda b: b[:60] + bytes([b[60] ^ 1]) + b[61:], "damaged"),
        (lambda b: b + b"x", "after its end"),
        (lambda b: b"PGDMP" + b[5:], "not an encrypted kiosk backup"),
        (lambda b: b"", "not an encrypted kiosk backup"),
    ],
)
def test_a_changed_or_cut_file_is_refused(change: object, message: str) -> None:
    with pytest.raises(BackupFileError, match=message):
        decrypted(change(encrypted()))  # type: ignore[operator]


def test_another_clinics_key_is_refused() -> None:
    with pytest.raises(BackupFileError, match="another clinic"):
        decrypted(encrypted(), key=bytes(32))


def test_chunks_cannot_be_reordered() -> None:
    sealed = encrypted()
    start = len(backup_crypto.MAGIC) + backup_crypto.SALT_BYTES
    record = 4 + 256 + 16
    first, second = sealed[start : start + record], sealed[start + record : start + 2 * record]
    swapped = sealed[:start] + second + first + sealed[start + 2 * record :]
    with pytest.raises(BackupFileError, match="damaged"):
        decrypted(swapped)
