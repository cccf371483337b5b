"""A simulated ЮKassa (API v3): a real HTTP server answering as ЮKassa's documentation and
its request collection (``../shared/specs/payments/yookassa/``) describe, and checking every
request it receives the way ЮKassa does.

ЮKassa publishes no machine-readable description, so the checks are written here from the
documentation: Basic authentication with the shop id and secret key; an ``Idempotence-Key``
(1 to 64 characters) on every POST, the same key with another body refused ("Duplicate
idempotence key") and with the same body answered with the first answer; amounts as
``{"value": "10.00", "currency": "RUB"}`` (a string with exactly two decimals); a payment's
``confirmation`` of type ``redirect`` with a ``return_url``; ``description`` at most 128
characters; ``metadata`` at most 16 keys (names up to 32, values up to 512 characters); no
fields ЮKassa does not know. Errors come in ЮKassa's shape (``type``, ``id``, ``code``,
``description``, ``parameter``) with the words of its error catalogue (``описание
ошибок.md``). A request ЮKassa would refuse is also recorded in :attr:`invalid`; the fixture
fails the test when it is not empty - except the ones a test sends on purpose, which it
clears.

What the customer and ЮKassa do on their side is scripted by the test: :meth:`pay` (the
customer confirms: ``waiting_for_capture``), :meth:`expire` (the hold runs out:
``canceled``), refunds left ``pending`` and :meth:`finish_refund`; and :meth:`notify`
posts ЮKassa's notification (``{"type": "notification", "event", "object"}``) to Potok,
retrying a delivery that was not answered 200 up to 7 times as ЮKassa does (the pauses
between tries are the test's to play, not timed).
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from tests.simulators.base import Answer, SimulatedApi

SHOP_ID = "506751"
SECRET_KEY = "test_secret_key_for_the_simulator"
VALUE = re.compile(r"^\d{1,10}\.\d{2}$")
MAX_KEY = 64
DELIVERIES = 7  # ЮKassa's tries of one notification


@dataclass
class Payment:
    id: str
    amount: Decimal
    currency: str
    description: str
    metadata: dict[str, str]
    return_url: str
    capture: bool
    status: str = "pending"
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    captured_at: datetime | None = None
    refunded: Decimal = Decimal("0.00")
    cancellation: dict[str, str] | None = None


@dataclass
class Refund:
    id: str
    payment_id: str
    amount: Decimal
    currency: str
    description: str
    status: str
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    cancellation: dict[str, str] | None = None


def _money(amount: Decimal, currency: str) -> dict[str, str]:
    return {"value": f"{amount:.2f}", "currency": currency}


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )


class YooKassaSimulator(SimulatedApi):
    """One ЮKassa test shop."""

    def __init__(self, *, shop_id: str = SHOP_ID, secret_key: str = SECRET_KEY) -> None:
        self.shop_id, self.secret_key = shop_id, secret_key
        self.payments: dict[str, Payment] = {}
        self.refunds: dict[str, Refund] = {}
        self.keys: dict[
            str, tuple[str, str, Any, Answer]
        ] = {}  # key -> (method, path, body, answer)
        self.refunds_pending = False  # new refunds wait for finish_refund
        self.processing = 0  # the next POSTs are answered 202 ("still processing")
        self.notification_url: str | None = None
        self.delivered: list[tuple[str, int]] = []  # (event, Potok's status) per delivery try
        self._ids = itertools.count(1)
        super().__init__(burst=1000, interval_s=0.001)

    # ------------------------------------------------------------------ ЮKassa's rules

    def authorised(self, headers: dict[str, str]) -> bool:
        found = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        if not found.startswith("Basic "):
            return False
        try:
            shop, _, secret = base64.b64decode(found[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return shop == self.shop_id and secret == self.secret_key

    def error_body(self, status: int) -> Any:
        words = {
            400: ("invalid_request", "Invalid request parameter"),
            401: ("invalid_credentials", "Basic authentication failed"),
            404: ("not_found", "Payment not found or forbidden"),
            429: ("too_many_requests", "Too many requests"),
        }.get(status, ("internal_server_error", "Internal server error"))
        return self._error(*words)

    def _error(self, code: str, description: str, parameter: str | None = None) -> Any:
        body = {"type": "error", "id": str(uuid.uuid4()), "code": code, "description": description}
        if parameter:
            body["parameter"] = parameter
        return body

    def _validate(
        self, method: str, path: str, query: str, headers: dict[str, str], raw: bytes
    ) -> str | None:
        """What ЮKassa refuses before it looks at its data (the request's form)."""
        known = re.fullmatch(
            r"/payments|/payments/[\w-]+(/capture|/cancel)?|/refunds|/refunds/[\w-]+", path
        )
        if known is None:
            return f"{method} {path}: no such method"
        if method == "GET":
            return None if raw == b"" else f"GET {path} with a body"
        if method != "POST":
            return f"{method} {path}: ЮKassa takes GET and POST only"
        key = next((v for k, v in headers.items() if k.lower() == "idempotence-key"), "")
        if not key:
            return f"POST {path}: Idempotence key is empty"
        if len(key) > MAX_KEY:
            return f"POST {path}: Idempotence key is too long. Max. length is {MAX_KEY}"
        kind = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        if not kind.startswith("application/json"):
            return f"POST {path}: the body must be JSON"
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            return f"POST {path}: Failed to parse request body"
        if not isinstance(body, dict):
            return f"POST {path}: the body must be a JSON object"
        return self._check_body(path, body)

    def _check_body(self, path: str, body: dict[str, Any]) -> str | None:
        if path == "/payments":
            allowed = {"amount", "capture", "confirmation", "description", "metadata"}
            problem = _only(body, allowed) or _amount(body.get("amount"), "amount")
            if problem:
                return f"POST /payments: {problem}"
            if not isinstance(body.get("capture", False), bool):
                return "POST /payments: capture must be a boolean"
            confirmation = body.get("confirmation")
            if not isinstance(confirmation, dict) or confirmation.get("type") != "redirect":
                return (
                    "POST /payments: Missing confirmation type for payment method type: bank_card"
                )
            if not str(confirmation.get("return_url") or "").startswith(("http://", "https://")):
                return "POST /payments: Return url is missing"
            if len(str(body.get("description", ""))) > 128:
                return "POST /payments: Description is too long. Max. length is 128"
            return _metadata(body.get("metadata"))
        if path.endswith("/capture"):
            problem = _only(body, {"amount"})
            if problem or "amount" not in body:
                return problem
            return _amount(body["amount"], "amount")
        if path.endswith("/cancel"):
            return _only(body, set())
        if path == "/refunds":
            problem = _only(body, {"payment_id", "amount", "description"})
            problem = problem or _amount(body.get("amount"), "amount")
            if problem:
                return f"POST /refunds: {problem}"
            if not isinstance(body.get("payment_id"), str):
                return "POST /refunds: payment_id is missing"
            if len(str(body.get("description", ""))) > 250:
                return "POST /refunds: Description is too long. Max. length is 250"
            return None
        return f"POST {path}: ЮKassa takes no POST here"

    # ------------------------------------------------------------------ answering

    def answer(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> Answer:
        key = next((v for k, v in headers.items() if k.lower() == "idempotence-key"), "")
        if method == "POST" and key and self.authorised(headers):
            with self.lock:
                if self.processing:
                    self.processing -= 1
                    return Answer(202, {"type": "processing", "retry_after": 10})
                earlier = self.keys.get(key)
            body = _loads(raw)
            if earlier is not None:
                if (earlier[0], earlier[1], earlier[2]) == (method, target, body):
                    return earlier[3]  # the same request again: the first answer
                with self.lock:
                    self.invalid.append(f"POST {target}: Duplicate idempotence key {key}")
                return Answer(400, self._error("invalid_request", "Duplicate idempotence key"))
            found = super().answer(method, target, headers, raw)
            if found.status < 500 and found.status != 429:
                with self.lock:
                    self.keys[key] = (method, target, body, found)
            return found
        return super().answer(method, target, headers, raw)

    def route(self, method: str, path: str, query: str, body: Any) -> Answer:
        parts = path.strip("/").split("/")
        if parts[0] == "payments":
            if method == "POST" and len(parts) == 1:
                return self._create(body)
            payment = self.payments.get(parts[1])
            if payment is None:
                return Answer(404, self._error("not_found", "Payment not found or forbidden"))
            if len(parts) == 2:
                return Answer(200, self.payment_body(payment))
            if parts[2] == "capture":
                return self._capture(payment, body)
            return self._cancel(payment)
        if method == "POST":
            return self._refund(body)
        refund = self.refunds.get(parts[1])
        if refund is None:
            return Answer(404, self._error("not_found", "Refund not found or forbidden"))
        return Answer(200, self.refund_body(refund))

    def _new_id(self) -> str:
        return f"{next(self._ids):08x}-000f-5000-8000-{uuid.uuid4().hex[:12]}"

    def _create(self, body: dict[str, Any]) -> Answer:
        payment = Payment(
            id=self._new_id(),
            amount=Decimal(body["amount"]["value"]),
            currency=body["amount"]["currency"],
            description=str(body.get("description", "")),
            metadata=dict(body.get("metadata") or {}),
            return_url=body["confirmation"]["return_url"],
            capture=bool(body.get("capture", False)),
        )
        self.payments[payment.id] = payment
        return Answer(200, self.payment_body(payment))

    def _capture(self, payment: Payment, body: dict[str, Any]) -> Answer:
        if payment.capture:
            return Answer(
                400,
                self._error("invalid_request", "You can not capture payment with autocapture"),
            )
        if payment.status != "waiting_for_capture":
            if payment.status == "succeeded":  # captured already: ЮKassa answers the payment
                return Answer(200, self.payment_body(payment))
            return Answer(
                400,
                self._error("invalid_request", "Payment can not be captured in current status."),
            )
        amount = Decimal(body["amount"]["value"]) if "amount" in body else payment.amount
        if "amount" in body and body["amount"]["currency"] != payment.currency:
            return Answer(400, self._error("invalid_request", "Currencies do not match", "amount"))
        if amount > payment.amount or amount <= 0:
            return Answer(
                400, self._error("invalid_request", "Illegal amount for capture", "amount")
            )
        payment.amount = amount  # a partial capture: the rest goes back to the customer
        payment.status = "succeeded"
        payment.captured_at = datetime.now(UTC)
        return Answer(200, self.payment_body(payment))

    def _cancel(self, payment: Payment) -> Answer:
        if payment.capture and payment.status == "succeeded":
            return Answer(
                400, self._error("invalid_request", "You can not cancel payment with autocapture")
            )
        if payment.status == "canceled":
            return Answer(200, self.payment_body(payment))
        if payment.status != "waiting_for_capture":
            return Answer(
                400,
                self._error("invalid_request", "Payment can not be canceled in current status"),
            )
        payment.status = "canceled"
        payment.cancellation = {"party": "merchant", "reason": "canceled_by_merchant"}
        return Answer(200, self.payment_body(payment))

    def _refund(self, body: dict[str, Any]) -> Answer:
        payment = self.payments.get(body["payment_id"])
        if payment is None:
            return Answer(404, self._error("not_found", "Payment not found or forbidden"))
        if payment.status != "succeeded":
            return Answer(
                400,
                self._error("invalid_request", "Payment can not be refunded in current status."),
            )
        amount = Decimal(body["amount"]["value"])
        if body["amount"]["currency"] != payment.currency:
            return Answer(400, self._error("invalid_request", "Currencies do not match", "amount"))
        asked = sum(
            (
                r.amount
                for r in self.refunds.values()
                if r.payment_id == payment.id and r.status != "canceled"
            ),
            Decimal("0.00"),
        )
        if payment.amount - asked <= 0:
            return Answer(
                400, self._error("invalid_request", "Payment is already completely refunded")
            )
        if amount > payment.amount - asked:
            return Answer(400, self._error("invalid_request", "Refund sum exceeded", "amount"))
        refund = Refund(
            id=self._new_id(),
            payment_id=payment.id,
            amount=amount,
            currency=payment.currency,
            description=str(body.get("description", "")),
            status="pending" if self.refunds_pending else "succeeded",
        )
        self.refunds[refund.id] = refund
        if refund.status == "succeeded":
            payment.refunded += amount
        return Answer(200, self.refund_body(refund))

    # ------------------------------------------------------------------ the objects

    def payment_body(self, payment: Payment) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": payment.id,
            "status": payment.status,
            "amount": _money(payment.amount, payment.currency),
            "description": payment.description,
            "recipient": {"account_id": self.shop_id, "gateway_id": "1500105"},
            "created_at": _stamp(payment.created_at),
            "test": True,
            "paid": payment.status in ("waiting_for_capture", "succeeded"),
            "refundable": payment.status == "succeeded",
            "metadata": payment.metadata,
        }
        if payment.status == "pending":
            body["confirmation"] = {
                "type": "redirect",
                "return_url": payment.return_url,
                "confirmation_url": "https://yoomoney.ru/checkout/payments/v2/contract"
                f"?orderId={payment.id}",
            }
        if payment.status in ("waiting_for_capture", "succeeded"):
            body["payment_method"] = {
                "type": "bank_card",
                "id": payment.id,
                "saved": False,
                "title": "Bank card *4444",
                "card": {
                    "last4": "4444",
                    "expiry_month": "12",
                    "expiry_year": "2030",
                    "card_type": "MasterCard",
                },
            }
        if payment.status == "waiting_for_capture":
            body["expires_at"] = _stamp(payment.created_at + timedelta(days=7))
        if payment.status == "succeeded":
            assert payment.captured_at is not None
            body["captured_at"] = _stamp(payment.captured_at)
            body["income_amount"] = _money(
                (payment.amount * Decimal("0.965")).quantize(Decimal("0.01")), payment.currency
            )
            body["refunded_amount"] = _money(payment.refunded, payment.currency)
        if payment.cancellation is not None:
            body["cancellation_details"] = payment.cancellation
        return body

    def refund_body(self, refund: Refund) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": refund.id,
            "payment_id": refund.payment_id,
            "status": refund.status,
            "created_at": _stamp(refund.created_at),
            "amount": _money(refund.amount, refund.currency),
            "description": refund.description,
        }
        if refund.cancellation is not None:
            body["cancellation_details"] = refund.cancellation
        return body

    # ------------------------------------------------------------------ the customer's side

    def only_payment(self) -> Payment:
        (payment,) = self.payments.values()
        return payment

    def payment_of_order(self, order_id: int) -> Payment:
        (payment,) = [
            p for p in self.payments.values() if p.metadata.get("potok_order_id") == str(order_id)
        ]
        return payment

    def pay(self, payment_id: str) -> None:
        """The customer confirmed on ЮKassa's page: held (two-stage) or taken at once."""
        with self.lock:
            payment = self.payments[payment_id]
            assert payment.status == "pending"
            payment.status = "succeeded" if payment.capture else "waiting_for_capture"
            if payment.capture:
                payment.captured_at = datetime.now(UTC)

    def expire(self, payment_id: str, reason: str = "expired_on_confirmation") -> None:
        with self.lock:
            payment = self.payments[payment_id]
            payment.status = "canceled"
            payment.cancellation = {"party": "yoo_money", "reason": reason}

    def finish_refund(self, refund_id: str, *, succeeded: bool = True) -> None:
        with self.lock:
            refund = self.refunds[refund_id]
            refund.status = "succeeded" if succeeded else "canceled"
            if succeeded:
                self.payments[refund.payment_id].refunded += refund.amount
            else:
                refund.cancellation = {"party": "refund_network", "reason": "rejected_by_payee"}

    def notification(self, event: str, object_id: str) -> dict[str, Any]:
        """The body ЮKassa posts for ``event`` about the object as it is now."""
        found = (
            self.refund_body(self.refunds[object_id])
            if event.startswith("refund.")
            else self.payment_body(self.payments[object_id])
        )
        return {"type": "notification", "event": event, "object": found}

    def notify(
        self,
        event: str,
        object_id: str,
        *,
        body: dict[str, Any] | None = None,
        between: Callable[[int], None] | None = None,
    ) -> list[int]:
        """Post the notification to Potok as ЮKassa does: again after any answer but 200,
        up to 7 tries; ``between(n)`` runs before the n-th retry (the test's pause).
        Returns Potok's status of each try."""
        assert self.notification_url is not None, "set notification_url first"
        payload = body if body is not None else self.notification(event, object_id)
        statuses: list[int] = []
        with httpx.Client(timeout=30) as client:
            for attempt in range(1, DELIVERIES + 1):
                if attempt > 1 and between is not None:
                    between(attempt)
                status = client.post(self.notification_url, json=payload).status_code
                statuses.append(status)
                self.delivered.append((event, status))
                if status == 200:
                    break
        return statuses


def _loads(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def _only(body: dict[str, Any], allowed: set[str]) -> str | None:
    unknown = sorted(set(body) - allowed)
    return f"Invalid request parameter: {', '.join(unknown)}" if unknown else None


def _amount(value: Any, name: str) -> str | None:
    if not isinstance(value, dict) or set(value) != {"value", "currency"}:
        return f"Invalid request parameter ({name}: value and currency)"
    if not isinstance(value["value"], str) or not VALUE.match(value["value"]):
        return f"Payment amount is illegal ({name}.value {value['value']!r})"
    if Decimal(value["value"]) <= 0:
        return f"Payment amount is illegal ({name}.value must be positive)"
    if value["currency"] != "RUB":
        return f"Currency code is illegal ({value['currency']!r})"
    return None


def _metadata(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, dict) or len(value) > 16:
        return "POST /payments: Metadata object is limited to 16 keys"
    for key, item in value.items():
        if len(key) > 32:
            return "POST /payments: The key names length in metadata object is limited to 32"
        if not isinstance(item, str) or len(item) > 512:
            return "POST /payments: The key values length in metadata object is limited to 512"
    return None
