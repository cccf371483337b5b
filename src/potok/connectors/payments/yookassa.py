"""ЮKassa (API v3) behind the payment gateway interface, as its documentation and the
request collection in ``../shared/specs/payments/yookassa/`` describe it.

- Basic authentication with the shop id and the secret key; the host is a setting
  (``payments.yookassa_url``), so a simulator can stand in.
- Every POST carries an ``Idempotence-Key``: the caller's, derived from what the call is
  for (an order's payment, its capture, a return's refund), so a call repeated after a
  timeout or a 5xx is the same call and ЮKassa answers it with the first answer.
- Amounts go out as ЮKassa's ``{"value": "10.00", "currency": "RUB"}``: the Decimal is
  turned into whole kopecks first (a fraction of a kopeck is refused here, never rounded
  away), and come back the same way.
- 5xx, 429 and network failures are tried again (same key) with growing pauses; a 202
  ("still processing") is asked again after the ``retry_after`` it names; a 4xx raises
  :class:`GatewayRefused` with ЮKassa's ``code``, ``description`` and ``parameter``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import httpx

from potok.connectors.payments.interface import (
    GatewayDown,
    GatewayRefused,
    PaymentSeen,
    RefundSeen,
)

CODE = "yookassa"
NAME = "ЮKassa"
MAX_KEY = 64  # ЮKassa's longest idempotence key
MAX_DESCRIPTION = 128  # ЮKassa's longest payment description
HUNDRED = Decimal(100)
MAX_PROCESSING = 5  # 202 answers waited out before giving up for now


def kopecks(amount: Decimal) -> int:
    """Whole kopecks of an amount in roubles; a fraction of a kopeck is a bug upstream."""
    scaled = amount * HUNDRED
    if scaled != scaled.to_integral_value() or scaled < 0:
        raise ValueError(f"{amount} is not a whole number of kopecks")
    return int(scaled)


def money(amount: Decimal, currency: str) -> dict[str, str]:
    """ЮKassa's amount object: the value with exactly two decimals."""
    whole = kopecks(amount)
    return {"value": f"{whole // 100}.{whole % 100:02d}", "currency": currency}


def amount_of(value: Any) -> Decimal:
    """Roubles from ЮKassa's amount object (through kopecks, so 10.5 is 10.50)."""
    return Decimal(kopecks(Decimal(str(value["value"])))) / HUNDRED


class YooKassa:
    """One ЮKassa shop (thread-safe: httpx's client is)."""

    def __init__(
        self,
        *,
        base_url: str,
        shop_id: str,
        secret_key: str,
        timeout_s: float = 20.0,
        attempts: int = 3,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.shop_id = shop_id
        self.attempts = attempts
        self.requests = 0
        self._sleep = sleep
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            auth=(shop_id, secret_key),
            timeout=timeout_s,
            transport=transport,
        )

    @property
    def code(self) -> str:
        return CODE

    def close(self) -> None:
        self._client.close()

    # ------------------------------------------------------------------ payments

    def create_payment(
        self,
        amount: Decimal,
        currency: str,
        *,
        key: str,
        description: str,
        return_url: str,
        metadata: Mapping[str, str],
    ) -> PaymentSeen:
        """A two-stage payment (``capture: false``) the customer confirms on ЮKassa's page."""
        body = {
            "amount": money(amount, currency),
            "capture": False,
            "confirmation": {"type": "redirect", "return_url": return_url},
            "description": description[:MAX_DESCRIPTION],
            "metadata": dict(metadata),
        }
        return _payment(self._call("POST", "/payments", body, key=key))

    def get_payment(self, payment_id: str) -> PaymentSeen:
        return _payment(self._call("GET", f"/payments/{payment_id}"))

    def capture(self, payment_id: str, amount: Decimal, currency: str, *, key: str) -> PaymentSeen:
        """Take the held money: all of it, or less (a partial capture lets the rest go)."""
        body = {"amount": money(amount, currency)}
        return _payment(self._call("POST", f"/payments/{payment_id}/capture", body, key=key))

    def cancel(self, payment_id: str, *, key: str) -> PaymentSeen:
        return _payment(self._call("POST", f"/payments/{payment_id}/cancel", {}, key=key))

    # ------------------------------------------------------------------ refunds

    def create_refund(
        self, payment_id: str, amount: Decimal, currency: str, *, key: str, description: str
    ) -> RefundSeen:
        body = {
            "payment_id": payment_id,
            "amount": money(amount, currency),
            "description": description[:250],
        }
        return _refund(self._call("POST", "/refunds", body, key=key))

    def get_refund(self, refund_id: str) -> RefundSeen:
        return _refund(self._call("GET", f"/refunds/{refund_id}"))

    # ------------------------------------------------------------------ HTTP

    def _call(
        self, method: str, path: str, body: Any = None, *, key: str | None = None
    ) -> dict[str, Any]:
        headers = {}
        if method == "POST":
            if not key or len(key) > MAX_KEY:
                raise ValueError(f"an idempotence key of 1 to {MAX_KEY} characters: {key!r}")
            headers["Idempotence-Key"] = key
        last = ""
        attempt = processing = 0
        while attempt < self.attempts:
            attempt += 1
            try:
                self.requests += 1
                answer = self._client.request(method, path, json=body, headers=headers)
            except httpx.HTTPError as error:
                last = f"{type(error).__name__}: {error}"
                self._pause(attempt)
                continue
            if answer.status_code == 202 and processing < MAX_PROCESSING:
                # still processing: the same request again after the retry_after it names
                processing += 1
                attempt -= 1
                self._sleep(min(_retry_after(answer) / 1000, 30.0))
                continue
            if answer.status_code == 202:
                raise GatewayDown(NAME, "ЮKassa kept processing the request")
            if answer.status_code == 429 or answer.status_code >= 500:
                last = f"{answer.status_code} {_words(answer)}"
                self._pause(attempt)
                continue
            if answer.status_code >= 400:
                found = _json(answer)
                raise GatewayRefused(
                    NAME,
                    _words(answer),
                    code=str(found.get("code") or ""),
                    status=answer.status_code,
                )
            return _json(answer)
        raise GatewayDown(NAME, last or "no answer")

    def _pause(self, attempt: int) -> None:
        if attempt < self.attempts:
            self._sleep(min(0.5 * 2 ** (attempt - 1), 8.0))


def _json(answer: httpx.Response) -> dict[str, Any]:
    try:
        found = answer.json()
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _words(answer: httpx.Response) -> str:
    found = _json(answer)
    words = str(found.get("description") or answer.reason_phrase or "")
    if found.get("parameter"):
        words += f" (parameter {found['parameter']})"
    return words[:500]


def _retry_after(answer: httpx.Response) -> float:
    try:
        return float(_json(answer).get("retry_after") or 1000)
    except (TypeError, ValueError):
        return 1000.0


def _payment(body: Mapping[str, Any]) -> PaymentSeen:
    confirmation = body.get("confirmation") or {}
    cancellation = body.get("cancellation_details") or {}
    refunded = body.get("refunded_amount")
    return PaymentSeen(
        id=str(body["id"]),
        status=str(body["status"]),
        amount=amount_of(body["amount"]),
        currency=str(body["amount"]["currency"]),
        paid=bool(body.get("paid")),
        confirmation_url=confirmation.get("confirmation_url"),
        refunded=amount_of(refunded) if refunded else Decimal("0.00"),
        cancellation_reason=cancellation.get("reason"),
        metadata={str(k): str(v) for k, v in (body.get("metadata") or {}).items()},
    )


def _refund(body: Mapping[str, Any]) -> RefundSeen:
    cancellation = body.get("cancellation_details") or {}
    return RefundSeen(
        id=str(body["id"]),
        payment_id=str(body["payment_id"]),
        status=str(body["status"]),
        amount=amount_of(body["amount"]),
        currency=str(body["amount"]["currency"]),
        cancellation_reason=cancellation.get("reason"),
    )
