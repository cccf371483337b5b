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

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "pd1"
NONCE_BYTES = 12


class DataKeyError(ValueError):
    """The configured keys are missing or malformed, or a value was written with an
    unknown key."""


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

    def encrypt(self, value: str | None) -> str | None:
        if value is None:
            return None
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self.current_id].encrypt(nonce, value.encode(), None)
        return f"{PREFIX}:{self.current_id}:{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, stored: str | None) -> str | None:
        if stored is None:
            return None
        if not stored.startswith(PREFIX + ":"):
            return stored  # written before encryption was on; rotation encrypts it
        _, key_id, payload = stored.split(":", 2)
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise DataKeyError(f"personal data was encrypted with key '{key_id}', not configured")
        raw = base64.b64decode(payload)
        try:
            return cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], None).decode()
        except InvalidTag:
            raise DataKeyError(
                f"personal data was sealed with another key than the one configured as "
                f"'{key_id}': use the keys this database was written with "
                "(POTOK_SECURITY__DATA_KEYS, or the key file POTOK_SECURITY__KEY_FILE, by "
                "default potok-keys.json in the working directory)"
            ) from None

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
    data_keys: str | None, index_key: str | None, key_file: str
) -> tuple[DataProtector, bool]:
    """The protector for these settings; keys from the key file (created when missing) if the
    settings give none. Returns it and whether a new key file was written."""
    created = False
    if data_keys is None or index_key is None:
        data_keys, index_key, created = _from_file(key_file)
    try:
        index = base64.b64decode(index_key, validate=True)
    except ValueError as error:
        raise DataKeyError("the index key is not valid base64") from error
    if len(index) < 32:
        raise DataKeyError("the index key must be at least 32 bytes")
    return DataProtector(parse_keys(data_keys), index), created


def _from_file(path: str) -> tuple[str, str, bool]:
    file = Path(path)
    if file.exists():
        content = json.loads(file.read_text())
        return content["data_keys"], content["index_key"], False
    content = {
        "data_keys": new_key_text(),
        "index_key": base64.b64encode(os.urandom(32)).decode(),
    }
    file.touch(mode=0o600)
    file.write_text(json.dumps(content, indent=2))
    return content["data_keys"], content["index_key"], True
