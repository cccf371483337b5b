"""Random secrets and their digests: session tokens, CSRF tokens, API keys, passwords."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string

API_KEY_PREFIX = "pk"


def new_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def digest(secret: str) -> str:
    """SHA-256 of a high-entropy secret (tokens and keys, not passwords)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def new_api_key() -> tuple[str, str, str]:
    """(the whole key, its public prefix, the digest of its secret part).

    The key reads ``pk_<prefix>_<secret>``; the prefix finds the row, the secret proves it.
    """
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return f"{API_KEY_PREFIX}_{prefix}_{secret}", prefix, digest(secret)


def split_api_key(key: str) -> tuple[str, str] | None:
    parts = key.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != API_KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def one_time_password(length: int = 20) -> str:
    """A password for a person to type once: letters and digits, no look-alikes."""
    alphabet = "".join(c for c in string.ascii_letters + string.digits if c not in "0O1lI")
    return "".join(secrets.choice(alphabet) for _ in range(length))
