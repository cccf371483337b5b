"""АТОЛ Онлайн (protocol v5, ФФД 1.2) behind the cash-register interface, in the formats of
its published JSON Schemas (``../shared/specs/fiscal/atol-online-v5/``).

- token: ``POST /getToken`` (login and password of the integration settings); kept for its
  24 hours less a margin, fetched again when АТОЛ answers 401 with MissingToken (10) or
  ExpiredToken (11) - once per call;
- register: ``POST /{group_code}/{operation}`` (``sell``, ``sell_refund``, the corrections)
  with Potok's external id; a second registration of that id is answered with error 33
  (IncomingExternalIdAlreadyExists) and the first one's uuid, never a second receipt;
- result: ``GET /{group_code}/report/{uuid}`` - ``wait``, ``done`` with the fiscal
  attributes, or ``fail`` with АТОЛ's reason; a callback to ``callback_url`` says the same
  and is only a prompt to read the report (``services/fiscal/sending.py``).

Amounts are roubles as JSON numbers with at most two decimals (АТОЛ's «number_two_format»);
the customer's e-mail or phone goes in ``client``: АТОЛ sends the customer the receipt.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from potok.connectors.fiscal.interface import (
    Customer,
    FiscalRefused,
    FiscalUnavailable,
    Outcome,
    Progress,
    Refusal,
)
from potok.domain.fiscal import FiscalAttributes, PaymentType, Receipt, ReceiptLine, Vat
from potok.domain.fiscal.model import ZERO
from potok.domain.fiscal.states import PAYMENT_OBJECT_CODES, PAYMENT_TYPE_CODES

PROVIDER = "АТОЛ Онлайн"
TOKEN_LIFE = timedelta(hours=24)
TOKEN_MARGIN = timedelta(hours=1)
MOSCOW = ZoneInfo("Europe/Moscow")  # АТОЛ's timestamps are Moscow time
PIECE = 0  # «measure»: штуки
SOURCE = "Potok"

TOKEN_REFUSED = frozenset({10, 11})  # MissingToken, ExpiredToken: a new token, then again
ALREADY_REGISTERED = 33  # IncomingExternalIdAlreadyExists: the first one's uuid
NOT_YET = 34  # StateCheckNotFound: not processed yet, ask again later
REFUSING = frozenset({1, 13, 31, 32, 40, 41})
"""Errors that say the receipt as sent will never be registered (validation, format):
an operator corrects it. Anything else - the account, the token, a server error, a
timeout - is АТОЛ not taking receipts now: the receipt stays queued."""

VAT_TYPES = {
    Vat.VAT22: "vat22",
    Vat.VAT20: "vat20",
    Vat.VAT10: "vat10",
    Vat.VAT0: "vat0",
    Vat.NONE: "none",
}


def stamp(moment: datetime) -> str:
    """«dd.mm.yyyy HH:MM:SS», Moscow time."""
    return moment.astimezone(MOSCOW).strftime("%d.%m.%Y %H:%M:%S")


def parse_stamp(text: str) -> datetime:
    """АТОЛ's «dd.mm.yyyy HH:MM:SS» (Moscow time) as UTC."""
    local = datetime.strptime(text.strip(), "%d.%m.%Y %H:%M:%S").replace(tzinfo=MOSCOW)
    return local.astimezone(UTC)


def _number(amount: Decimal) -> float:
    """A Decimal of at most two places as the JSON number АТОЛ reads (shortest form)."""
    return float(amount)


class AtolRegister:
    """One АТОЛ Онлайн account (a group of registers): thread-safe, token kept."""

    def __init__(
        self,
        *,
        name: str,
        base_url: str,
        login: str,
        password: str,
        group_code: str,
        timeout_s: float = 20.0,
        callback_url: str = "",
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.name = name
        self.group_code = group_code
        self.callback_url = callback_url
        self._login = login
        self._password = password
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._renew_at = datetime.min.replace(tzinfo=UTC)
        self.tokens = 0  # tokens fetched, for tests and stats
        self._client = httpx.Client(
            base_url=base_url.rstrip("/") + "/", timeout=timeout_s, transport=transport
        )

    def close(self) -> None:
        self._client.close()

    # ------------------------------------------------------------------ token

    def token(self, *, stale: str | None = None) -> str:
        """The token in force; a new one when it is near its end or was refused."""
        with self._lock:
            fresh = self._token is not None and self._clock() < self._renew_at
            if fresh and stale != self._token:
                assert self._token is not None
                return self._token
            answer = self._send(
                "POST",
                "getToken",
                {"login": self._login, "pass": self._password, "source": SOURCE},
                token=None,
            )
            body = _json(answer)
            error = body.get("error") if isinstance(body, dict) else None
            token = body.get("token") if isinstance(body, dict) else None
            if error or not token:
                raise FiscalUnavailable(
                    provider=PROVIDER, reason=f"no token for {self.name}: {_words(error)}"
                )
            self.tokens += 1
            self._token = str(token)
            self._renew_at = self._clock() + TOKEN_LIFE - TOKEN_MARGIN
            return self._token

    # ------------------------------------------------------------------ calls

    def register(self, receipt: Receipt, customer: Customer, at: datetime) -> Outcome:
        body = request_body(receipt, customer, at, callback_url=self.callback_url)
        path = f"{self.group_code}/{receipt.operation.value}"
        answer = self._call("POST", path, body)
        data = _json(answer)
        error = data.get("error") if isinstance(data, dict) else None
        if answer.status_code == 200 and not error and data.get("uuid"):
            return Outcome(str(data["uuid"]), Progress.WAIT, receipt.external_id)
        code = _code(error)
        if code == ALREADY_REGISTERED and data.get("uuid"):
            return Outcome(str(data["uuid"]), Progress.WAIT, receipt.external_id)
        if code in REFUSING:
            raise FiscalRefused(Refusal(code, _text(error)))
        raise FiscalUnavailable(
            provider=PROVIDER, reason=f"HTTP {answer.status_code}: {_words(error)}"
        )

    def report(self, uuid: str) -> Outcome:
        answer = self._call("GET", f"{self.group_code}/report/{uuid}", None)
        data = _json(answer)
        if not isinstance(data, dict):
            raise FiscalUnavailable(provider=PROVIDER, reason=f"HTTP {answer.status_code}")
        error = data.get("error")
        status = data.get("status")
        if status == "done" and isinstance(data.get("payload"), dict):
            return Outcome(
                uuid, Progress.DONE, data.get("external_id"), attributes=_attributes(data)
            )
        if status == "fail":
            return Outcome(
                uuid,
                Progress.FAIL,
                data.get("external_id"),
                refusal=Refusal(_code(error), _text(error)),
            )
        if status == "wait" or _code(error) == NOT_YET:
            return Outcome(uuid, Progress.WAIT, data.get("external_id"))
        raise FiscalUnavailable(
            provider=PROVIDER, reason=f"HTTP {answer.status_code}: {_words(error)}"
        )

    def _call(self, method: str, path: str, body: dict[str, Any] | None) -> httpx.Response:
        token = self.token()
        answer = self._send(method, path, body, token=token)
        if answer.status_code == 401 and _code(_json(answer).get("error")) in TOKEN_REFUSED:
            token = self.token(stale=token)
            answer = self._send(method, path, body, token=token)
        if answer.status_code >= 500 or answer.status_code == 429:
            raise FiscalUnavailable(
                provider=PROVIDER, reason=f"HTTP {answer.status_code} from {path}"
            )
        return answer

    def _send(
        self, method: str, path: str, body: dict[str, Any] | None, *, token: str | None
    ) -> httpx.Response:
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if token is not None:
            headers["Token"] = token
        content = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        started = time.monotonic()
        try:
            return self._client.request(method, path, content=content, headers=headers)
        except httpx.TransportError as error:
            waited = time.monotonic() - started
            raise FiscalUnavailable(
                provider=PROVIDER, reason=f"{type(error).__name__} after {waited:.1f} s"
            ) from None
        except httpx.HTTPError as error:  # an invalid URL in the settings, and the like
            raise FiscalUnavailable(provider=PROVIDER, reason=str(error)) from None


# ---------------------------------------------------------------------- the formats


def request_body(
    receipt: Receipt, customer: Customer, at: datetime, *, callback_url: str = ""
) -> dict[str, Any]:
    """The registration request: ``receipt`` for sales and refunds, ``correction`` for
    the corrections."""
    company = receipt.company
    if company is None:
        raise ValueError("a receipt without its seller's settings cannot be sent")
    total = receipt.total
    document: dict[str, Any] = {
        "company": {
            "email": company.email,
            "sno": company.taxation.value,
            "inn": company.inn,
            "payment_address": company.payment_address,
        },
        "items": [_item(line) for line in receipt.lines],
        "payments": [{"type": PAYMENT_TYPE_CODES[receipt.payment_type], "sum": _number(total)}],
        "vats": _vats(receipt.lines),
        "total": _number(total),
    }
    client = _client(customer)
    body: dict[str, Any] = {"timestamp": stamp(at), "external_id": receipt.external_id}
    if callback_url:
        body["service"] = {"callback_url": callback_url}
    if receipt.operation.corrects:
        if client:
            document["client"] = client
        info: dict[str, Any] = {
            "type": receipt.correction_type or "self",
            "base_date": receipt.correction_basis_on or at.astimezone(MOSCOW).strftime("%d.%m.%Y"),
        }
        if receipt.correction_basis_number:
            info["base_number"] = receipt.correction_basis_number
        document["correction_info"] = info
        body["correction"] = document
    else:
        document["client"] = client or {"phone": "none"}
        body["receipt"] = document
    return body


def _client(customer: Customer) -> dict[str, str]:
    client: dict[str, str] = {}
    if customer.email:
        client["email"] = customer.email[:64]
    if customer.phone:
        digits = "".join(ch for ch in customer.phone if ch.isdigit())
        if digits:
            client["phone"] = "+" + digits[:18]
    return client


def _item(line: ReceiptLine) -> dict[str, Any]:
    item: dict[str, Any] = {
        "name": line.name[:128],
        "price": _number(line.price),
        "quantity": line.quantity,
        "measure": PIECE,
        "sum": _number(line.amount),
        "payment_method": line.payment_method.value,
        "payment_object": PAYMENT_OBJECT_CODES[line.payment_object],
        "vat": {"type": VAT_TYPES[line.vat], "sum": _number(line.vat_amount)},
    }
    if line.mark_code is not None:
        encoded = base64.b64encode(line.mark_code.encode()).decode()
        item["mark_code"] = {"gs1m": encoded}
        item["mark_processing_mode"] = "0"
    if line.agent is not None:
        item["agent_info"] = {"type": line.agent.type}
        supplier: dict[str, Any] = {"inn": line.agent.supplier_inn}
        if line.agent.supplier_name:
            supplier["name"] = line.agent.supplier_name[:256]
        if line.agent.supplier_phones:
            supplier["phones"] = list(line.agent.supplier_phones)
        item["supplier_info"] = supplier
    return item


def _vats(lines: tuple[ReceiptLine, ...]) -> list[dict[str, Any]]:
    sums: dict[Vat, Decimal] = {}
    for line in lines:
        sums[line.vat] = sums.get(line.vat, ZERO) + line.vat_amount
    return [{"type": VAT_TYPES[vat], "sum": _number(amount)} for vat, amount in sums.items()]


def _attributes(data: dict[str, Any]) -> FiscalAttributes:
    p = data["payload"]
    return FiscalAttributes(
        fn_number=str(p["fn_number"]),
        fiscal_document_number=int(p["fiscal_document_number"]),
        fiscal_document_attribute=int(p["fiscal_document_attribute"]),
        fiscal_receipt_number=int(p["fiscal_receipt_number"]),
        shift_number=int(p["shift_number"]),
        registered_at=parse_stamp(str(p["receipt_datetime"])),
        register_number=str(p["ecr_registration_number"]),
        total=Decimal(str(p["total"])),
        ofd_receipt_url=p.get("ofd_receipt_url"),
    )


def _json(answer: httpx.Response) -> dict[str, Any]:
    try:
        data = answer.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _code(error: object) -> int | None:
    if isinstance(error, dict) and isinstance(error.get("code"), int):
        return int(error["code"])
    return None


def _text(error: object) -> str:
    if isinstance(error, dict):
        return str(error.get("text") or "").strip() or "no reason given"
    return "no reason given"


def _words(error: object) -> str:
    code = _code(error)
    return _text(error) if code is None else f"{code}: {_text(error)}"


__all__ = ["AtolRegister", "PaymentType", "parse_stamp", "request_body", "stamp"]
