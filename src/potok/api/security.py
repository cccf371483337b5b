"""Who is calling: API keys and browser sessions, permissions, CSRF, and per-key rate limits.

Every route declares what it needs with ``needs(Permission...)`` or ``public()``; the
authorisation test reads these declarations from the route table, so a route without
one fails the build.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.engine import Engine

from potok.bootstrap import Potok
from potok.domain.access import ApiKey, Permission, Principal
from potok.domain.access.model import (
    BadCredentials,
    CsrfFailed,
    NotAuthenticated,
    NotPermitted,
    PasswordChangeRequired,
    RateLimited,
)
from potok.services import access
from potok.services.ports import ANONYMOUS, AuditContext

SESSION_COOKIE = "potok_session"
CSRF_COOKIE = "potok_csrf"
CSRF_HEADER = "x-csrf-token"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
KEY_TOUCH_INTERVAL_S = 60.0


class RateLimiter:
    """A token bucket per API key, in this process: a key may burst to its minute's limit."""

    def __init__(self) -> None:
        self._buckets: dict[int, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: ApiKey, now: float | None = None) -> float:
        """0 when the request may go, else the seconds to wait."""
        now = time.monotonic() if now is None else now
        capacity = float(key.rate_limit_per_minute)
        rate = capacity / 60.0
        with self._lock:
            tokens, last = self._buckets.get(key.id, (capacity, now))
            tokens = min(capacity, tokens + (now - last) * rate)
            if tokens >= 1:
                self._buckets[key.id] = (tokens - 1, now)
                return 0.0
            self._buckets[key.id] = (tokens, now)
            return (1 - tokens) / rate


class SharedRateLimiter:
    """Per-key limits held across every API process (PostgreSQL): the buckets live in the
    database (``db/rate_limits.py``); this process takes tokens from them about a second's
    worth at a time and spends them here, so a busy key costs a statement per batch."""

    HOLD_S = 1.0  # tokens taken and not spent within this long go back with the next take

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # (key id, its prefix) -> (tokens, taken at); the prefix tells apart two keys that
        # had the same id in two databases (a test's, a restored backup's)
        self._held: dict[tuple[int, str], tuple[float, float]] = {}
        self._lock = threading.Lock()
        self._refilling = _stripes()

    def take(self, key: ApiKey, now: float | None = None) -> float:
        """0 when the request may go, else the seconds to wait. One thread of the process
        at a time takes a key's next batch; the others wait for it and spend from it (when
        a batch ran out, every thread in flight went to the database for a batch of its
        own: a statement per thread, and the read-back of tokens they did not need)."""
        now = time.monotonic() if now is None else now
        mine = (key.id, key.prefix)
        with self._lock:
            if self._spend(mine, now):
                return 0.0
        with _stripe(self._refilling, mine):
            with self._lock:
                if self._spend(mine, now):  # another thread took a batch meanwhile
                    return 0.0
                tokens, _ = self._held.pop(mine, (0.0, now))
            capacity = float(key.rate_limit_per_minute)
            per_second = capacity / 60.0
            granted, left = self._take(key.id, capacity, per_second, tokens)
            if granted < 1:
                return max(0.0, 1 - left) / per_second
            with self._lock:
                self._held[mine] = (granted - 1, now)
            return 0.0

    def _spend(self, mine: tuple[int, str], now: float) -> bool:
        """Spend a token of the batch held for the key, if one is left and fresh."""
        tokens, taken_at = self._held.get(mine, (0.0, now))
        if tokens >= 1 and now - taken_at < self.HOLD_S:
            self._held[mine] = (tokens - 1, taken_at)
            return True
        return False

    def _take(
        self, key_id: int, capacity: float, per_second: float, returned: float
    ) -> tuple[int, float]:
        """Tokens from the key's bucket in the database, by one statement outside any
        transaction. A pooled connection found dead (the database restarted; the pool forgets
        the others with it) is replaced once; a database that cannot be reached is
        :class:`Unavailable` (503), as in a use case."""
        import psycopg
        import sqlalchemy as sa

        from potok.db import rate_limits
        from potok.db.unit_of_work import translate_error

        for attempt in (1, 2):
            try:
                with self.engine.connect() as connection:
                    try:
                        return rate_limits.take(
                            connection,
                            key_id,
                            capacity=capacity,
                            per_second=per_second,
                            wanted=int(min(100.0, max(1.0, per_second))),
                            returned=returned,  # what is left of an older batch goes back first
                        )
                    except psycopg.OperationalError:
                        connection.invalidate()  # sent on the raw connection: the pool is told
                        raise
            except psycopg.OperationalError as error:
                if attempt == 1:
                    continue
                raise translate_error(error) from error
            except sa.exc.DBAPIError as error:
                if attempt == 1 and error.connection_invalidated:
                    continue
                raise translate_error(error) from error
        raise AssertionError("unreachable")


STRIPES = 64
"""Locks a per-key wait is spread over (a lock per key would grow with every key sent)."""


def _stripes() -> list[threading.Lock]:
    return [threading.Lock() for _ in range(STRIPES)]


def _stripe(locks: list[threading.Lock], name: object) -> threading.Lock:
    return locks[hash(name) % len(locks)]


class KeyCache:
    """API keys this process verified in the last ``ttl`` seconds, so that a busy
    integration does not cost a database transaction per request. A key revoked through
    this process is forgotten at once. On PostgreSQL one revoked through any other process
    is too (``db/key_changes.py``), and while this process cannot hear of such changes it
    trusts no key it remembers (``trusted``); elsewhere (SQLite: one process) it is."""

    def __init__(self, ttl: float, size: int = 4096, *, trusted: bool = True) -> None:
        self.ttl = ttl
        self.size = size
        self.trusted = trusted
        self._entries: dict[bytes, tuple[float, Principal, ApiKey]] = {}
        self._lock = threading.Lock()
        self._forgets = 0  # how often keys were forgotten: a lookup begun before is stale
        self._looking = _stripes()

    def fetch(
        self, presented: str, look_up: Callable[[], tuple[Principal, ApiKey] | None]
    ) -> tuple[Principal, ApiKey] | None:
        """The key remembered, else looked up (``look_up``: the database) and remembered.
        One thread at a time looks a key up; the others wait and find it remembered (when
        a busy key's entry expired, every request in flight looked it up at once)."""
        found = self.get(presented)
        if found is not None:
            return found
        with _stripe(self._looking, self._id(presented)):
            found = self.get(presented)
            if found is None:
                stamp = self.stamp()
                found = look_up()
                if found is not None:
                    self.put(presented, *found, stamp)
        return found

    def get(self, presented: str, now: float | None = None) -> tuple[Principal, ApiKey] | None:
        if self.ttl <= 0 or not self.trusted:
            return None
        entry = self._entries.get(self._id(presented))
        if entry is None:
            return None
        expires, principal, key = entry
        if (time.monotonic() if now is None else now) >= expires:
            return None
        return principal, key

    def stamp(self) -> int:
        """Taken before a key is looked up in the database, handed to :meth:`put`."""
        return self._forgets

    def put(self, presented: str, principal: Principal, key: ApiKey, stamp: int) -> None:
        """Remember a key looked up since ``stamp`` - unless keys were forgotten meanwhile
        (the lookup may have read the key just before it was revoked)."""
        if self.ttl <= 0 or not self.trusted:
            return
        with self._lock:
            if stamp != self._forgets:
                return
            if len(self._entries) >= self.size:
                self._entries.clear()  # a flood of distinct keys only costs lookups again
            self._entries[self._id(presented)] = (time.monotonic() + self.ttl, principal, key)

    def forget(self, key_id: int | None = None) -> None:
        """Forget one key (changed somewhere), or every key (None)."""
        with self._lock:
            self._forgets += 1
            if key_id is None:
                self._entries.clear()
            else:
                for name, (_, _, key) in list(self._entries.items()):
                    if key.id == key_id:
                        del self._entries[name]

    def clear(self) -> None:
        self.forget(None)

    def hearing(self, listening: bool) -> None:
        """Whether this process now hears of every key changed elsewhere: until it does
        again, it remembers nothing."""
        with self._lock:
            self._forgets += 1
            self._entries.clear()
            self.trusted = listening

    @staticmethod
    def _id(presented: str) -> bytes:
        return hashlib.sha256(presented.encode()).digest()  # no secrets kept in memory


@dataclass
class Security:
    """Per-application state: the rate limiter, recently verified keys, and when each key
    was last noted as used."""

    potok: Potok
    limiter: RateLimiter | SharedRateLimiter
    keys: KeyCache
    touched: dict[int, float]


def security_of(request: Request) -> Security:
    found: Security = request.app.state.security
    return found


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def resolve(request: Request) -> Principal | None:
    """The caller of this request, from an API key or a session cookie (blocking: DB)."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    security = security_of(request)
    principal: Principal | None = None
    presented = _presented_key(request)
    if presented is not None:
        found = security.keys.fetch(
            presented, lambda: access.key_principal(security.potok.uow(), presented)
        )
        if found is not None:
            principal, key = found
            _limit(security, key)
            _note_use(security, key)
    else:
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            found_session = access.session_principal(
                security.potok.uow(), token, request.headers.get(CSRF_HEADER)
            )
            if found_session is not None:
                principal, csrf_ok = found_session
                if request.method in UNSAFE and not csrf_ok:
                    raise CsrfFailed()
    request.state.principal = principal
    return principal


def basic_credentials(request: Request) -> tuple[str, str] | None:
    """The name and secret of HTTP Basic credentials, if the request carries them."""
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise BadCredentials() from None
    name, colon, secret = decoded.partition(":")
    if not colon:
        raise BadCredentials()
    return name, secret


def resolve_basic(request: Request) -> Principal | None:
    """The API key behind HTTP Basic credentials (the key's name as the user, the key itself
    as the password), for the clients that can send nothing else, such as 1C; None when
    the request carries none. Only routes that ask for it accept Basic (blocking: DB)."""
    credentials = basic_credentials(request)
    if credentials is None:
        return None
    name, presented = credentials
    security = security_of(request)
    found = security.keys.fetch(
        presented, lambda: access.key_principal(security.potok.uow(), presented)
    )
    if found is None or found[1].name != name:
        raise BadCredentials()
    principal, key = found
    _limit(security, key)
    _note_use(security, key)
    request.state.principal = principal
    return principal


def _presented_key(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    return request.headers.get("x-api-key")


def _limit(security: Security, key: ApiKey) -> None:
    wait = security.limiter.take(key)
    if wait > 0:
        raise RateLimited(
            key=key.name, limit=key.rate_limit_per_minute, retry_after=max(1, int(wait + 0.999))
        )


def _note_use(security: Security, key: ApiKey) -> None:
    now = time.monotonic()
    if now - security.touched.get(key.id, -KEY_TOUCH_INTERVAL_S) >= KEY_TOUCH_INTERVAL_S:
        security.touched[key.id] = now
        access.note_key_use(security.potok.uow(), key.id)


def authorise(
    request: Request,
    permissions: tuple[Permission, ...],
    *,
    allow_pending_password: bool = False,
) -> Principal:
    """The caller, if it holds every one of ``permissions`` (blocking: DB)."""
    principal = resolve(request)
    if principal is None:
        # a key that was sent but is unknown, wrong or revoked is named as such
        raise BadCredentials() if _presented_key(request) is not None else NotAuthenticated()
    if principal.must_change_password and not allow_pending_password:
        raise PasswordChangeRequired()
    for permission in permissions:
        if not principal.may(permission):
            raise NotPermitted(
                who=f"{principal.kind.value} '{principal.name}'", permission=permission.value
            )
    return principal


class Requirement:
    """A route's declared need: permissions, or none for a public route."""

    def __init__(
        self,
        permissions: tuple[Permission, ...],
        *,
        public: bool = False,
        allow_pending_password: bool = False,
        inline: bool = False,
    ) -> None:
        self.permissions = permissions
        self.public = public
        self.allow_pending_password = allow_pending_password
        self.inline = inline  # the route authorises inside its own worker thread

    async def __call__(self, request: Request) -> None:
        if self.public or self.inline:
            return
        await run_in_threadpool(
            authorise,
            request,
            self.permissions,
            allow_pending_password=self.allow_pending_password,
        )


def needs(*permissions: Permission, allow_pending_password: bool = False) -> Any:
    """For ``dependencies=[...]``: the caller must hold every one of ``permissions``."""
    return Depends(Requirement(permissions, allow_pending_password=allow_pending_password))


def needs_inline(*permissions: Permission) -> Any:
    """Declares ``permissions`` for a route that calls :func:`authorise` itself (hot paths)."""
    return Depends(Requirement(permissions, inline=True))


def public() -> Any:
    return Depends(Requirement((), public=True))


def requirement_of(dependencies: list[Any]) -> Requirement | None:
    for dependency in dependencies:
        call = getattr(dependency, "dependency", None)
        if isinstance(call, Requirement):
            return call
    return None


def current(request: Request) -> Principal:
    """The principal a route's requirement already established."""
    principal = getattr(request.state, "principal", None)
    if principal is None:
        raise NotAuthenticated()
    return principal  # type: ignore[no-any-return]


def audit_context(request: Request, principal: Principal | None) -> AuditContext:
    actor = str(principal.actor) if principal else ANONYMOUS
    return AuditContext(
        actor=actor,
        via="api",
        ip=client_ip(request),
        request_id=request.headers.get("x-request-id"),
    )


async def _caller(request: Request) -> Principal:
    return current(request)


Caller = Annotated[Principal, Depends(_caller)]


def uow_for(request: Request, principal: Principal | None) -> Any:
    """A unit of work whose audit trail names the caller and where it called from."""
    return security_of(request).potok.uow(audit_context(request, principal))
