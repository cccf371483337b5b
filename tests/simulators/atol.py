"""АТОЛ Онлайн (protocol v5) as a local server: every request checked against the
vendor's JSON Schemas (``specs/atol-v5/``, the 2025-2026 VAT rates added), tokens that
expire, registrations deduplicated by external id (error 33 with the first uuid), results
that wait and then are done with fiscal attributes or fail with the vendor's error codes,
callbacks posted to the receipt's ``callback_url``, and the error catalogue's answers (401
MissingToken / ExpiredToken, 400 IncomingValidationException, 500 ErrorServerConfiguration).

Besides the schemas it checks what the schemas cannot: each item's sum is its price times
its quantity, the receipt's total is the items' sum and the payments' sum, the VAT sums are
the items' (``mismatched``). A test fails when ``invalid`` or ``mismatched`` is not empty.
"""

from __future__ import annotations

import itertools
import json
import secrets
import time
import uuid as uuids
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import jsonschema

from tests.simulators.base import Answer, Received, SimulatedApi

SPECS = Path(__file__).parent / "specs" / "atol-v5"
LOGIN = "v5-online-atol-ru"
PASSWORD = "zUr0OxfI"
GROUP = "v5-online-atol-ru_5179"
NEW_VAT = ("vat5", "vat7", "vat22", "vat105", "vat107", "vat122")
OPERATIONS = {
    "sell": "sell",
    "sell_refund": "sell",
    "buy": "sell",
    "buy_refund": "sell",
    "sell_correction": "correction",
    "sell_refund_correction": "correction",
    "buy_correction": "correction",
    "buy_refund_correction": "correction",
}
MOSCOW = ZoneInfo("Europe/Moscow")
FN = "9999078902004312"
REGISTER = "0000000001002292"


def _with_new_vat(node: Any) -> Any:
    if isinstance(node, dict):
        found = {k: _with_new_vat(v) for k, v in node.items()}
        enum = found.get("enum")
        if isinstance(enum, list) and "vat20" in enum:
            found["enum"] = enum + [v for v in NEW_VAT if v not in enum]
        return found
    if isinstance(node, list):
        return [_with_new_vat(v) for v in node]
    return node


def schema(name: str) -> jsonschema.Draft6Validator:
    raw = (SPECS / f"{name}.schema.json").read_text(encoding="utf-8")
    loaded = _with_new_vat(json.loads(raw, parse_float=Decimal))
    jsonschema.Draft6Validator.check_schema(loaded)
    return jsonschema.Draft6Validator(loaded)


def stamp(moment: datetime) -> str:
    return moment.astimezone(MOSCOW).strftime("%d.%m.%Y %H:%M:%S")


def error(code: int, text: str, kind: str = "system") -> dict[str, Any]:
    return {"error_id": str(uuids.uuid4()), "code": code, "text": text, "type": kind}


@dataclass
class SimReceipt:
    uuid: str
    external_id: str
    operation: str
    body: dict[str, Any]
    callback_url: str | None
    reads_left: int
    refusal: dict[str, Any] | None = None  # scripted: the register's error when it fails
    status: str = "wait"
    payload: dict[str, Any] | None = None
    registered: int = 1  # times a registration named it (a repeat answers 33)


@dataclass
class Counters:
    tokens: int = 0
    registrations: int = 0  # POSTs that created a receipt
    repeats: int = 0  # POSTs answered 33
    reports: int = 0
    callbacks: int = 0
    callback_failures: int = 0


class AtolSimulator(SimulatedApi):
    """The vendor's service on 127.0.0.1; ``url`` + ``/possystem/v5`` is the base."""

    def __init__(self, *, token_life_s: float = 24 * 3600, reads_before_done: int = 1) -> None:
        super().__init__(burst=100_000, interval_s=0.00001)
        self.base = self.url + "/possystem/v5"
        self.validators = {
            name: schema(name)
            for name in (
                "getToken.request",
                "getToken.response",
                "sell.request",
                "correction.request",
                "register.response",
                "report.result",
                "error.response",
            )
        }
        self.token_life_s = token_life_s
        self.reads_before_done = reads_before_done
        self.tokens: dict[str, float] = {}  # token -> expires at (monotonic)
        self.receipts: dict[str, SimReceipt] = {}  # by uuid
        self.by_external: dict[str, str] = {}
        self.refusals: list[dict[str, Any]] = []  # scripted: the next receipts fail so
        self.mismatched: list[str] = []
        self.counters = Counters()
        self.documents = itertools.count(1001)
        self.callback_client = httpx.Client(timeout=10)
        self.down = False  # every request answered 500 (ErrorServerConfiguration)

    def stop(self) -> None:
        super().stop()
        self.callback_client.close()

    # ------------------------------------------------------------------ scripting

    def refuse_next(self, code: int, text: str, kind: str = "agent") -> None:
        """The next registered receipt fails at the register with this error."""
        self.refusals.append(error(code, text, kind))

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens = dict.fromkeys(self.tokens, 0.0)

    def process(self) -> int:
        """Every receipt still waiting is decided now (done, or its scripted failure), and
        its callback posted; answers how many."""
        with self.lock:
            waiting = [r for r in self.receipts.values() if r.status == "wait"]
            for receipt in waiting:
                self._decide(receipt)
        for receipt in waiting:
            self._post_callback(receipt)
        return len(waiting)

    def by_external_id(self) -> dict[str, int]:
        """How many times each external id was registered (a repeat included)."""
        with self.lock:
            return {r.external_id: r.registered for r in self.receipts.values()}

    # ------------------------------------------------------------------ serving

    def authorised(self, headers: dict[str, str]) -> bool:
        return True  # tokens are checked per path in :meth:`route`

    def error_body(self, status: int) -> Any:
        if status == 429:
            return {"error": error(50, "Too many requests"), "timestamp": stamp(datetime.now(UTC))}
        return {
            "error": error(50, "Ошибка сервера. Обратитесь к Администратору"),
            "timestamp": stamp(datetime.now(UTC)),
        }

    def answer(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> Answer:
        path = target.split("?", 1)[0]
        try:
            body = json.loads(raw, parse_float=Decimal) if raw else None
        except ValueError:
            body = None
        with self.lock:
            self.received.append(Received(method, path, "", headers, body, time.monotonic()))
            fault = self.faults.popleft() if self.faults else None
        if fault is not None and fault.status:
            return fault
        if self.down:
            return Answer(500, self.error_body(500))
        with self.lock:
            answer = self.route_with(method, path, headers, raw, body)
        self._self_check(answer)
        if fault is not None:
            answer.delay_s = fault.delay_s
        return answer

    def route(self, method: str, path: str, query: str, body: Any) -> Answer:
        raise NotImplementedError  # :meth:`route_with` has the headers it needs

    def route_with(
        self, method: str, path: str, headers: dict[str, str], raw: bytes, body: Any
    ) -> Answer:
        prefix = "/possystem/v5/"
        if not path.startswith(prefix):
            return Answer(
                404, {"error": error(40, "Некорректный запрос"), "timestamp": self._now()}
            )
        rest = path[len(prefix) :]
        if rest == "getToken" and method == "POST":
            return self._token(body)
        kind = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        if method == "POST" and not kind.startswith("application/json"):
            return self._error(415, 41, f"Некорректный Content-Type: {kind}")
        token = next((v for k, v in headers.items() if k.lower() == "token"), None)
        if token is None or token not in self.tokens:
            return self._error(401, 10, "Не распознан токен запроса")
        if self.tokens[token] < time.monotonic():
            return self._error(401, 11, "Переданный токен не активен")
        group, _, operation = rest.partition("/")
        if group != GROUP:
            return self._error(401, 20, "Код группы, указанный в запросе, не соответствует токену")
        if method == "GET" and operation.startswith("report/"):
            return self._report(operation[len("report/") :])
        if method == "POST":
            return self._register(operation, body)
        return self._error(400, 40, "Некорректный запрос")

    # ------------------------------------------------------------------ the methods

    def _token(self, body: Any) -> Answer:
        problems = self._invalid("getToken.request", body, "POST getToken")
        if problems:
            return self._error(400, 13, f"Ошибка валидации входящего запроса. {problems}")
        if body.get("login") != LOGIN or body.get("pass") != PASSWORD:
            return Answer(
                401, {"error": error(12, "Неверный логин или пароль"), "timestamp": self._now()}
            )
        token = secrets.token_hex(16)
        self.tokens[token] = time.monotonic() + self.token_life_s
        self.counters.tokens += 1
        return Answer(200, {"error": None, "token": token, "timestamp": self._now()})

    def _register(self, operation: str, body: Any) -> Answer:
        family = OPERATIONS.get(operation)
        if family is None:
            return self._error(400, 31, f'Операция "{operation}" не поддерживается')
        problems = self._invalid(f"{family}.request", body, f"POST {operation}")
        if problems:
            return self._error(
                400, 32, f"Ошибка валидации входного чека. Ошибочные поля : {problems}"
            )
        document = body["receipt" if family == "sell" else "correction"]
        self._check_sums(body["external_id"], document)
        known = self.by_external.get(body["external_id"])
        if known is not None:
            receipt = self.receipts[known]
            receipt.registered += 1
            self.counters.repeats += 1
            answer = self._error(
                400,
                33,
                f"В системе существует чек с external_id : {body['external_id']} и "
                f"group_code: {GROUP}",
            )
            answer.body["uuid"] = receipt.uuid
            answer.body["status"] = "wait"
            return answer
        uuid = str(uuids.uuid4())
        refusal = self.refusals.pop(0) if self.refusals else None
        receipt = SimReceipt(
            uuid=uuid,
            external_id=body["external_id"],
            operation=operation,
            body=body,
            callback_url=(body.get("service") or {}).get("callback_url"),
            reads_left=self.reads_before_done,
            refusal=refusal,
        )
        self.receipts[uuid] = receipt
        self.by_external[receipt.external_id] = uuid
        self.counters.registrations += 1
        return Answer(
            200, {"uuid": uuid, "status": "wait", "error": None, "timestamp": self._now()}
        )

    def _report(self, uuid: str) -> Answer:
        self.counters.reports += 1
        receipt = self.receipts.get(uuid)
        if receipt is None:
            return self._error(400, 30, f'Передан некорректный UUID : "{uuid}"')
        if receipt.status == "wait":
            if receipt.reads_left > 0:
                receipt.reads_left -= 1
            else:
                self._decide(receipt)
        return Answer(200, self._result(receipt))

    def _decide(self, receipt: SimReceipt) -> None:
        if receipt.refusal is not None:
            receipt.status = "fail"
            return
        document = receipt.body.get("receipt") or receipt.body.get("correction") or {}
        number = next(self.documents)
        receipt.status = "done"
        receipt.payload = {
            "fiscal_receipt_number": number - 1000,
            "shift_number": 23,
            "receipt_datetime": self._now(),
            "total": float(Decimal(document.get("total", 0))),
            "fn_number": FN,
            "ecr_registration_number": REGISTER,
            "fiscal_document_number": number,
            "fiscal_document_attribute": 3_000_000_000 + number * 7919 % 1_000_000_000,
            "fns_site": "www.nalog.gov.ru",
            "ofd_inn": "7704211201",
            "ofd_receipt_url": f"https://check.ofd.ru/rec/{receipt.uuid}",
        }

    def _result(self, receipt: SimReceipt) -> dict[str, Any]:
        result: dict[str, Any] = {
            "uuid": receipt.uuid,
            "error": receipt.refusal if receipt.status == "fail" else None,
            "status": receipt.status,
            "payload": receipt.payload,
            "timestamp": self._now(),
            "group_code": GROUP,
            "daemon_code": "prod-agent-1",
            "device_code": "KSR13.11-3-1",
            "external_id": receipt.external_id,
        }
        if receipt.callback_url:
            result["callback_url"] = receipt.callback_url
        return result

    def _post_callback(self, receipt: SimReceipt) -> None:
        if not receipt.callback_url:
            return
        with self.lock:
            body = self._result(receipt)
        try:
            answer = self.callback_client.post(
                receipt.callback_url,
                content=_dumps(body),
                headers={"Content-Type": "application/json"},
            )
            ok = answer.status_code < 300
        except httpx.HTTPError:
            ok = False
        with self.lock:
            self.counters.callbacks += 1
            if not ok:
                self.counters.callback_failures += 1

    # ------------------------------------------------------------------ checks

    def _invalid(self, name: str, body: Any, what: str) -> str:
        errors = sorted(self.validators[name].iter_errors(body), key=lambda e: list(e.path))
        if not errors:
            return ""
        words = "; ".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors[:5])
        self.invalid.append(f"{what}: {words}")
        return words

    def _check_sums(self, external_id: str, document: dict[str, Any]) -> None:
        cent = Decimal("0.01")
        items = document.get("items") or []
        for index, item in enumerate(items):
            price, quantity, total = (
                Decimal(item["price"]),
                Decimal(item["quantity"]),
                Decimal(item["sum"]),
            )
            if (price * quantity).quantize(cent) != total:
                self.mismatched.append(
                    f"{external_id} item {index}: {price} x {quantity} != {total}"
                )
        items_sum = sum((Decimal(i["sum"]) for i in items), Decimal(0))
        payments = sum((Decimal(p["sum"]) for p in document.get("payments") or []), Decimal(0))
        total = Decimal(document.get("total", 0))
        if not items_sum == payments == total:
            self.mismatched.append(
                f"{external_id}: items {items_sum}, payments {payments}, total {total}"
            )
        vats: dict[str, Decimal] = {}
        for item in items:
            vat = item["vat"]
            vats[vat["type"]] = vats.get(vat["type"], Decimal(0)) + Decimal(vat.get("sum", 0))
        told = {v["type"]: Decimal(v["sum"]) for v in document.get("vats") or []}
        if told and told != vats:
            self.mismatched.append(f"{external_id}: vats {told} != items' {vats}")

    def _self_check(self, answer: Answer) -> None:
        """The simulator's own answers must keep the vendor's response schemas."""
        body = answer.body
        if not isinstance(body, dict):
            return
        if "token" in body:
            name = "getToken.response"
        elif "payload" in body and body.get("group_code"):
            name = "report.result"
        elif body.get("error"):
            name = "error.response"
        else:
            name = "register.response"
        problems = self._invalid(
            name, json.loads(_dumps(body), parse_float=Decimal), f"answer {name}"
        )
        if problems:
            self.mismatched.append(f"the simulator's own {name} answer: {problems}")

    def _error(self, status: int, code: int, text: str) -> Answer:
        return Answer(status, {"error": error(code, text), "timestamp": self._now()})

    @staticmethod
    def _now() -> str:
        return stamp(datetime.now(UTC))


def _dumps(body: Any) -> str:
    return json.dumps(body, ensure_ascii=False, default=_number)


def _number(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(type(value).__name__)
