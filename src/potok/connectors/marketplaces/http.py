"""HTTP to a marketplace: its rate limit kept on our side, its 429 and 5xx answers waited
out and tried again, its error bodies turned into connector errors.

Every connector talks through :class:`MarketplaceHttp`; the marketplace's own limits (WB:
300 requests a minute, one per 200 ms, bursts of 20, a 409 costing 10) are the
:class:`RateLimit` it is built with.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar

import httpx

from potok.connectors.marketplaces.interface import (
    CallStats,
    CredentialsRefused,
    MarketplaceRefused,
    MarketplaceUnavailable,
)
from potok.domain.marketplaces import Marketplace

Sleep = Callable[[float], None]
RETRY_HEADERS = ("X-Ratelimit-Retry", "Retry-After", "X-RateLimit-Resource-Until")
"""Where a marketplace says how long to wait: seconds (WB, most), or an HTTP date (Yandex
Market: when the resource's hourly limit opens again)."""
MARGIN = 1.05
"""Requests are spaced 5 % wider than the limit: the network's jitter must not push two of
them closer together than the marketplace counts."""


@dataclass(frozen=True, slots=True)
class RateLimit:
    """A token bucket: ``burst`` requests at once, refilled one per ``interval_s``."""

    burst: int
    interval_s: float
    cost_of_conflict: int = 1  # WB: an answer 409 counts as 10 requests


class TokenBucket:
    """Requests wait here until the marketplace's limit lets them go (thread-safe)."""

    def __init__(
        self, limit: RateLimit, *, clock: Callable[[], float] = time.monotonic, sleep: Sleep
    ) -> None:
        self.limit = limit
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(limit.burst)
        self._interval = limit.interval_s * MARGIN
        self._at = clock()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(
            float(self.limit.burst), self._tokens + (now - self._at) / self._interval
        )
        self._at = now

    def take(self, cost: int = 1) -> float:
        """Wait for ``cost`` tokens; returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                self._refill()
                if self._tokens >= min(cost, self.limit.burst):
                    self._tokens -= cost
                    return waited
                pause = (min(cost, self.limit.burst) - self._tokens) * self._interval
            self._sleep(pause)
            waited += pause

    def charge(self, cost: int) -> None:
        """Take tokens after the fact (an answer that cost more than one request)."""
        with self._lock:
            self._refill()
            self._tokens -= cost


class BucketPool:
    """The rate-limit buckets of every marketplace account this process talks to: clients
    of one account (several polls, a poll and a stock push, threads of one worker) draw
    on the same bucket for each family of methods, so together they keep the account's
    limit rather than each its own."""

    def __init__(self) -> None:
        self._buckets: dict[tuple[str, str, str], TokenBucket] = {}
        self._lock = threading.Lock()
        self._tokens: dict[str, tuple[str, float]] = {}

    def token(self, account: str) -> str | None:
        """The access token an account signed in with, while it lives (Avito's bearer)."""
        with self._lock:
            found = self._tokens.get(account)
        return found[0] if found is not None and found[1] > time.monotonic() else None

    def keep_token(self, account: str, token: str | None, lives_s: float = 0.0) -> None:
        """Keep an account's access token for ``lives_s`` seconds (None forgets it)."""
        with self._lock:
            if token is None:
                self._tokens.pop(account, None)
            else:
                self._tokens[account] = (token, time.monotonic() + lives_s)

    def bucket(self, key: tuple[str, str, str], limit: RateLimit, *, sleep: Sleep) -> TokenBucket:
        with self._lock:
            found = self._buckets.get(key)
            if found is None or found.limit != limit:
                found = self._buckets[key] = TokenBucket(limit, sleep=sleep)
            return found


DEFAULT = "default"
"""The family of methods a call belongs to unless it names another (WB and Ozon keep
separate limits for their stock methods)."""


class MarketplaceHttp:
    """One marketplace account's HTTP client: base URL, auth headers, limits and retries."""

    def __init__(
        self,
        *,
        marketplace: str,
        base_url: str,
        headers: Mapping[str, str],
        limit: RateLimit,
        limits: Mapping[str, RateLimit] | None = None,
        pool: BucketPool | None = None,
        account: str = "",
        timeout_s: float = 30.0,
        attempts: int = 5,
        longest_wait_s: float = 120.0,
        sleep: Sleep = time.sleep,
        transport: httpx.BaseTransport | None = None,
        rate_limited: Collection[int] = (429,),
    ) -> None:
        self.marketplace = marketplace
        self.rate_limited = frozenset(rate_limited)  # Yandex Market says 420, not 429
        self.stats = CallStats()
        self.attempts = attempts
        self.longest_wait_s = longest_wait_s
        self._sleep = sleep
        families = {DEFAULT: limit, **(limits or {})}
        if pool is None:
            self._buckets = {k: TokenBucket(v, sleep=sleep) for k, v in families.items()}
        else:
            self._buckets = {
                k: pool.bucket((marketplace, account, k), v, sleep=sleep)
                for k, v in families.items()
            }
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers=dict(headers),
            timeout=timeout_s,
            transport=transport,
        )

    def close(self) -> None:
        self._client.close()

    def sign(self, header: str, value: str | None) -> None:
        """Send this header with every request from now on (Avito's bearer token, which
        the connector gets and renews itself); None stops sending it."""
        if value is None:
            self._client.headers.pop(header, None)
        else:
            self._client.headers[header] = value

    def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        params: Any = None,  # a mapping, or (name, value) pairs for repeated names
        safe: bool = True,
        family: str = DEFAULT,
        answered: Collection[int] = (),
    ) -> httpx.Response:
        """Send a request and return the successful answer. A 429 (Market: 420) is waited
        out for as long as the marketplace asks (``X-Ratelimit-Retry``/``Retry-After``),
        then tried again; a 5xx or a network failure is tried again with growing pauses
        when ``safe`` (sending it twice does no harm); what stays refused raises, except the
        statuses the caller reads itself (``answered``: WB's 409 naming the refused items).
        ``data`` goes as an ``application/x-www-form-urlencoded`` body (RetailCRM), ``json``
        as JSON."""
        last = ""
        bucket = self._buckets[family]
        for attempt in range(1, self.attempts + 1):
            self.stats.waited_s += bucket.take()
            self.stats.requests += 1
            try:
                answer = self._client.request(method, path, json=json, data=data, params=params)
            except httpx.TransportError as error:
                last = f"{method} {path}: {type(error).__name__} {error}".strip()
                if not safe or attempt == self.attempts or isinstance(error, httpx.ConnectError):
                    break  # a host that cannot be reached now is tried at the next poll
                self._pause(self._backoff(attempt))
                continue
            if answer.status_code == 409:
                bucket.charge(bucket.limit.cost_of_conflict - 1)
            if answer.status_code < 400 or answer.status_code in answered:
                return answer
            if answer.status_code in self.rate_limited:
                wait = self._retry_after(answer) or self._backoff(attempt)
                last = f"{method} {path}: {answer.status_code} {_reason(answer)}"
                if attempt == self.attempts or wait > self.longest_wait_s:
                    break
                self.stats.rate_limit_waits += 1
                self._pause(wait)
                continue
            if answer.status_code >= 500:
                last = f"{method} {path}: {answer.status_code} {_reason(answer)}"
                if not safe or attempt == self.attempts:
                    break
                self._pause(self._retry_after(answer) or self._backoff(attempt))
                continue
            reason = f"{method} {path}: {answer.status_code} {_reason(answer)}"
            if answer.status_code in (401, 403):
                raise CredentialsRefused(marketplace=self.marketplace, reason=reason)
            raise MarketplaceRefused(
                marketplace=self.marketplace, reason=reason, status=answer.status_code
            )
        raise MarketplaceUnavailable(marketplace=self.marketplace, reason=last)

    def _pause(self, seconds: float) -> None:
        self.stats.retries += 1
        self.stats.waited_s += seconds
        self._sleep(seconds)

    @staticmethod
    def _backoff(attempt: int) -> float:
        return float(min(0.5 * 2 ** (attempt - 1), 30.0))

    @staticmethod
    def _retry_after(answer: httpx.Response) -> float | None:
        for name in RETRY_HEADERS:
            value = answer.headers.get(name)
            if not value:
                continue
            try:
                return max(0.0, float(value))
            except ValueError:
                pass
            try:  # an HTTP date
                moment = parsedate_to_datetime(value)
            except (TypeError, ValueError):
                continue
            return max(0.0, moment.timestamp() - time.time())
        return None


class HttpConnector:
    """What every connector over :class:`MarketplaceHttp` shares: its client built from the
    class's own name, limits and rate-limit statuses, the calls' statistics, no cursor of its
    own (what waits is listed whole at every poll), and answers read as JSON objects.

    A connector names :attr:`MARKETPLACE`, :attr:`NAME` (its words in errors) and
    :attr:`LIMIT`, and :attr:`LIMITS` for families of methods with limits of their own."""

    MARKETPLACE: ClassVar[Marketplace]
    NAME: ClassVar[str]
    LIMIT: ClassVar[RateLimit]
    LIMITS: ClassVar[Mapping[str, RateLimit]] = {}
    RATE_LIMITED: ClassVar[tuple[int, ...]] = (429,)

    http: MarketplaceHttp

    @classmethod
    def _client(cls, base_url: str, headers: Mapping[str, str], **options: Any) -> MarketplaceHttp:
        """The account's HTTP client (``options``: timeouts, attempts, the bucket pool and
        the account's name in it, a sleep for tests)."""
        return MarketplaceHttp(
            marketplace=cls.NAME,
            base_url=base_url,
            headers=headers,
            limit=cls.LIMIT,
            limits=cls.LIMITS,
            rate_limited=cls.RATE_LIMITED,
            **options,
        )

    @property
    def marketplace(self) -> Marketplace:
        return self.MARKETPLACE

    @property
    def stats(self) -> CallStats:
        return self.http.stats

    @property
    def cursor(self) -> str | None:
        return None  # the orders waiting for the seller are listed whole at every poll

    def resume(self, cursor: str | None, pending: Sequence[str]) -> None:
        pass  # orders kept aside come again in the list of what waits

    def close(self) -> None:
        self.http.close()

    @classmethod
    def _object(cls, answer: httpx.Response) -> Mapping[str, Any]:
        """The answer's JSON object; :class:`MarketplaceUnavailable` when it is not one."""
        try:
            data = answer.json()
        except ValueError:
            data = None
        if not isinstance(data, Mapping):
            raise MarketplaceUnavailable(
                marketplace=cls.NAME, reason="the answer is not a JSON object"
            )
        return data


def _reason(answer: httpx.Response) -> str:
    """The marketplace's own words from its error body (WB: title/detail or code/message;
    Ozon: code/message; RetailCRM: errorMsg and its errors by field), at most 300 characters."""
    try:
        body = answer.json()
    except ValueError:
        return answer.text[:300] or answer.reason_phrase
    if not isinstance(body, dict):
        return str(body)[:300]
    parts = [
        str(body[key])
        for key in ("code", "title", "message", "detail", "errorText", "errorMsg")
        if body.get(key) not in (None, "")
    ]
    errors = body.get("errors") if "errorMsg" in body else None
    if isinstance(errors, dict):  # RetailCRM: {"field": "what is wrong"}
        parts += [f"{k}: {v}" for k, v in errors.items()]
    elif isinstance(errors, list):
        parts += [str(e) for e in errors if isinstance(e, str | int)]
    listed = body.get("errors") if body.get("status") == "ERROR" else None
    if isinstance(listed, list):  # Yandex Market: {"status": "ERROR", "errors": [{code, message}]}
        parts += [
            ": ".join(str(e[k]) for k in ("code", "message") if e.get(k))
            for e in listed
            if isinstance(e, dict)
        ]
    return ("; ".join(parts) or answer.reason_phrase)[:300]
