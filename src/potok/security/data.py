"""Personal data at rest: authenticated encryption (AES-256-GCM) and blind indexes.

A protected value reads ``pd1:<key id>:<base64(nonce + ciphertext + tag)>``. Keys come
from settings as ``id:base64key`` pairs; the first is used to encrypt, all of them to
decrypt, so a key can be rotated in (``potok security rotate``) without downtime.
Phones and e-mails stay searchable through keyed hashes (HMAC-SHA256 with a separate
index key): equality only, never a fragment.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from potok.domain.errors import Unavailable

PREFIX = "pd1"
NONCE_BYTES = 12


class DataKeyError(ValueError):
    """The configured keys are missing or malformed, or cannot serve this database."""


class SealedUnderMissingKey(Unavailable):
    """A value was sealed under a key this process does not have (no key of that id, or
    another key under the same id): the record's personal data cannot be opened here."""

    code = "personal-data-key-missing"
    title = "Personal data sealed under a key this process lacks"
    retryable: ClassVar[bool] = False  # asking again does not bring the key
    template = (
        "Personal data was sealed with key '{key_id}', {why}; give this "
        "process the keys the database was written with (POTOK_SECURITY__DATA_KEYS, or the "
        "key file POTOK_SECURITY__KEY_FILE) - see 'Personal data' in the operators' guide."
    )

    def __init__(self, key_id: str, *, same_id: bool = False) -> None:
        why = (
            "but the key configured under that id is another one"
            if same_id
            else "which is not configured"
        )
        super().__init__(key_id=key_id, why=why)
        self.key_id = key_id


def parse_keys(text: str) -> list[tuple[str, bytes]]:
    """``id:base64key[,id:base64key...]`` into (id, 32-byte key) pairs, current first."""
    keys: list[tuple[str, bytes]] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        key_id, sep, encoded = item.partition(":")
        if not sep or not key_id.isalnum():
            raise DataKeyError("each data key must read <id>:<base64 of 32 bytes>, id alphanumeric")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except ValueError as error:
            raise DataKeyError(f"data key '{key_id}' is not valid base64") from error
        if len(raw) != 32:
            raise DataKeyError(f"data key '{key_id}' must be 32 bytes (AES-256), not {len(raw)}")
        keys.append((key_id, raw))
    if not keys:
        raise DataKeyError("no data key configured")
    return keys


def key_id_for(key: bytes) -> str:
    """An id that names this key alone (a fingerprint of it): two keys generated apart
    never share an id, so a value sealed under one is never tried with the other."""
    return "k" + hashlib.sha256(b"potok data key id\x00" + key).hexdigest()[:12]


def new_key_text(key_id: str | None = None) -> str:
    """A fresh key in the settings' format; without ``key_id`` it is named by its
    fingerprint."""
    key = os.urandom(32)
    return f"{key_id or key_id_for(key)}:{base64.b64encode(key).decode()}"


class DataProtector:
    """Encrypts and decrypts personal data; computes blind indexes for search."""

    def __init__(self, keys: Iterable[tuple[str, bytes]], index_key: bytes) -> None:
        ordered = list(keys)
        if not ordered:
            raise DataKeyError("no data key configured")
        self.current_id = ordered[0][0]
        self._ciphers = {key_id: AESGCM(key) for key_id, key in ordered}
        self._index_key = index_key
        self.unreadable: set[str] = set()
        """Key ids of values this process met and could not open (for readiness)."""

    @property
    def key_ids(self) -> frozenset[str]:
        """The ids of every configured data key."""
        return frozenset(self._ciphers)

    def encrypt(self, value: str | None) -> str | None:
        if value is None:
            return None
        return self.encrypt_bytes(value.encode())

    def encrypt_bytes(self, value: bytes) -> str:
        """:meth:`encrypt` of bytes (already encoded, or compressed): the same sealed form."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self.current_id].encrypt(nonce, value, None)
        return f"{PREFIX}:{self.current_id}:{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, stored: str | None) -> str | None:
        if stored is None:
            return None
        if not stored.startswith(PREFIX + ":"):
            return stored  # written before encryption was on; rotation encrypts it
        return self.decrypt_bytes(stored).decode()

    def decrypt_bytes(self, stored: str) -> bytes:
        """What :meth:`encrypt_bytes` (or :meth:`encrypt`) sealed, as bytes."""
        _, key_id, payload = stored.split(":", 2)
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            self.unreadable.add(key_id)
            raise SealedUnderMissingKey(key_id)
        raw = base64.b64decode(payload)
        try:
            return cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], None)
        except InvalidTag:
            self.unreadable.add(key_id)
            raise SealedUnderMissingKey(key_id, same_id=True) from None

    def opens(self, stored: str) -> bool:
        """Whether this process can open a sealed value (nothing is recorded either way)."""
        _, key_id, payload = stored.split(":", 2)
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            return False
        raw = base64.b64decode(payload)
        try:
            cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], None)
        except InvalidTag:
            return False
        return True

    def needs_rewrap(self, stored: str | None) -> bool:
        """Whether a stored value is plaintext or under an older key."""
        if stored is None:
            return False
        return not stored.startswith(f"{PREFIX}:{self.current_id}:")

    def index(self, value: str | None) -> str | None:
        """A keyed hash for equality search; None stays None."""
        if value is None:
            return None
        return hmac.new(self._index_key, value.encode(), hashlib.sha256).hexdigest()


def protector_from(
    data_keys: str | None, index_key: str | None, key_file: Path | None
) -> tuple[DataProtector, bool]:
    """The protector for these settings; keys from the key file (created when missing) if the
    settings give none, or fresh ones kept in memory when there is no file (an in-memory
    database). Returns it and whether new keys were made."""
    created = False
    if data_keys is None or index_key is None:
        if key_file is None:
            data_keys, index_key, created = new_key_text(), _new_index_key(), True
        else:
            data_keys, index_key, created = _from_file(key_file)
    try:
        index = base64.b64decode(index_key, validate=True)
    except ValueError as error:
        raise DataKeyError("the index key is not valid base64") from error
    if len(index) < 32:
        raise DataKeyError("the index key must be at least 32 bytes")
    return DataProtector(parse_keys(data_keys), index), created


def _new_index_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def _from_file(file: Path) -> tuple[str, str, bool]:
    if file.exists():
        content = json.loads(file.read_text())
        return content["data_keys"], content["index_key"], False
    content = {"data_keys": new_key_text(), "index_key": _new_index_key()}
    try:
        file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        file.touch(mode=0o600)
    except OSError as error:
        raise DataKeyError(
            f"no data keys are configured and the key file {file} cannot be created "
            f"({error.strerror}): set POTOK_SECURITY__KEY_FILE to a writable place, or give "
            "the keys (POTOK_SECURITY__DATA_KEYS and POTOK_SECURITY__INDEX_KEY)"
        ) from None
    file.write_text(json.dumps(content, indent=2))
    return content["data_keys"], content["index_key"], True
