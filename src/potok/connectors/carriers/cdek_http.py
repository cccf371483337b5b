"""HTTP to СДЭК's API v2: the OAuth client-credentials token (kept until shortly before it
expires, renewed once when СДЭК refuses it), 429s and 5xx tried again with growing pauses,
and СДЭК's error bodies turned into carrier errors with its own words."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from potok.connectors.carriers.interface import CarrierRefused, CarrierUnavailable

CODE = "cdek"
EARLY_S = 60.0
"""A token is renewed this long before СДЭК says it expires (at most a tenth of its life)."""
Sleep = Callable[[float], None]


@dataclass(slots=True)
class CdekStats:
    """What the client did, for tests and benchmarks."""

    requests: int = 0
    tokens: int = 0  # tokens fetched
    retries: int = 0


class CdekHttp:
    """One СДЭК account: base URL, credentials, token cache, retries (thread-safe)."""

    def __init__(
        self,
        *,
        base_url: str,
        client_id: str,
        client_secret: str,
        timeout_s: float = 20.0,
        attempts: int = 3,
        sleep: Sleep = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.stats = CdekStats()
        self.attempts = attempts
        self._client_id = client_id
        self._client_secret = client_secret
        self._sleep = sleep
        self._clock = clock
        self._token: str | None = None
        self._renew_at = 0.0
        self._lock = threading.Lock()
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"), timeout=timeout_s, transport=transport
        )

    def close(self) -> None:
        self._client.close()

    # ------------------------------------------------------------------ token

    def token(self, *, stale: str | None = None) -> str:
        """The current token; a new one when it is about to expire or is ``stale`` (the one
        СДЭК just refused)."""
        with self._lock:
            fresh = self._token is not None and self._clock() < self._renew_at
            if fresh and (stale is None or stale != self._token):
                assert self._token is not None
                return self._token
            answer = self._send(
                "POST",
                "/v2/oauth/token",
                params={
                    "grant_type": "client_credentials",
                    "client_id": self._client_id,
                    "client_secret": self._client_secret,
                },
            )
            if answer.status_code >= 400:
                raise CarrierUnavailable(
                    carrier=CODE,
                    reason=f"СДЭК refused the account's credentials: {answer.status_code} "
                    f"{reason_of(answer)}",
                )
            body = answer.json()
            self.stats.tokens += 1
            life = float(body.get("expires_in") or 3600)
            self._token = str(body["access_token"])
            self._renew_at = self._clock() + life - min(EARLY_S, life / 10)
            return self._token

    # ------------------------------------------------------------------ calls

    def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        safe: bool = True,
    ) -> httpx.Response:
        """Send an authorised request and return the successful answer. A refused token is
        renewed once (never in a loop); 429, 5xx and network failures are tried again with
        growing pauses when ``safe``; a 4xx raises :class:`CarrierRefused` with СДЭК's words."""
        token = self.token()
        renewed = False
        last = ""
        attempt = 0
        while attempt < self.attempts:
            attempt += 1
            try:
                answer = self._send(
                    method,
                    path,
                    json=json,
                    params=params,
                    headers={"Authorization": f"Bearer {token}"},
                )
            except httpx.TransportError as error:
                last = f"{method} {path}: {type(error).__name__} {error}".strip()
                if not safe or isinstance(error, httpx.ConnectError):
                    break
                self._pause(attempt)
                continue
            if answer.status_code < 400:
                return answer
            if answer.status_code == 401 and not renewed:
                renewed = True
                attempt -= 1  # a renewed token is not a retry of a failure
                token = self.token(stale=token)
                continue
            if answer.status_code == 429 or answer.status_code >= 500:
                last = f"{method} {path}: {answer.status_code} {reason_of(answer)}"
                if not safe and answer.status_code != 429:
                    break
                self._pause(attempt, answer)
                continue
            if answer.status_code == 401:
                raise CarrierUnavailable(
                    carrier=CODE, reason=f"{method} {path}: СДЭК refused a fresh token"
                )
            raise CarrierRefused(
                carrier=CODE, reason=f"{method} {path}: {answer.status_code} {reason_of(answer)}"
            )
        raise CarrierUnavailable(carrier=CODE, reason=last or f"{method} {path}: no answer")

    def _send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        self.stats.requests += 1
        try:
            return self._client.request(method, path, json=json, params=params, headers=headers)
        except httpx.TransportError:
            raise
        except httpx.HTTPError as error:  # an invalid URL in the settings, and the like
            raise CarrierUnavailable(carrier=CODE, reason=str(error)) from None

    def _pause(self, attempt: int, answer: httpx.Response | None = None) -> None:
        if attempt >= self.attempts:
            return
        self.stats.retries += 1
        wait = min(0.5 * 2 ** (attempt - 1), 10.0)
        if answer is not None:
            with contextlib.suppress(ValueError):
                wait = min(float(answer.headers.get("Retry-After", "")), 30.0)
        self._sleep(wait)


def reason_of(answer: httpx.Response) -> str:
    """СДЭК's own words from an error body (``errors``/``requests[].errors`` or
    ``error_description``), at most 300 characters."""
    try:
        body = answer.json()
    except ValueError:
        return answer.text[:300] or answer.reason_phrase
    return errors_in(body)[:300] or answer.reason_phrase


def errors_in(body: Any) -> str:
    """The messages of a СДЭК body's errors, joined."""
    if not isinstance(body, dict):
        return ""
    found: list[str] = []
    lists = [body.get("errors")]
    for request in body.get("requests") or []:
        if isinstance(request, dict):
            lists.append(request.get("errors"))
    for errors in lists:
        for error in errors or []:
            if isinstance(error, dict):
                code, message = error.get("code"), error.get("message")
                found.append(f"{message} ({code})" if code else str(message))
    if not found and body.get("error_description"):
        found.append(str(body["error_description"]))
    return "; ".join(found)
