"""Wildberries FBS (marketplace API v3): new assembly tasks in, their statuses followed.

WB's assembly task (сборочное задание) is one unit of one article; its ``id`` is what
every later call names, so it is the Potok order's external id, and ``orderUid`` (one
customer's basket) is kept beside it. Prices come in minor units (×100) in the seller's
currency (``convertedPrice``, ``convertedCurrencyCode``, ISO 4217 numeric).

The paths and versions of every call are in :data:`PATHS`, so that a newer version of a
method is a one-line change.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar

from potok.connectors.marketplaces.http import HttpConnector, MarketplaceHttp, RateLimit
from potok.connectors.marketplaces.interface import (
    IncomingAddress,
    IncomingLine,
    IncomingOrder,
    ListedItem,
    Malformed,
    MarketplaceRefused,
    MarketplaceState,
    MarketplaceUnavailable,
    Packed,
    PackOutcome,
    StatusSeen,
    Sticker,
    StockLevel,
    StockOutcome,
)
from potok.domain.marketplaces import Credentials, Marketplace
from potok.domain.validation import gtin_check_digit

DEFAULT_URL = "https://marketplace-api.wildberries.ru"
LIMIT = RateLimit(burst=20, interval_s=0.2, cost_of_conflict=10)
"""Orders, supplies and passes: 300 requests a minute, one per 200 ms, bursts of 20; a
409 answer counts as 10 requests."""

STOCK_LIMIT = RateLimit(burst=20, interval_s=0.2, cost_of_conflict=10)
"""Every method of the seller's warehouse stocks: a limit of its own, of the same size."""

STATUS_BATCH = 1000
STOCK_BATCH = 1000
"""Items one stock request carries at most (``maxItems`` of ``PUT /api/v3/stocks``)."""
MAX_AMOUNT = 100_000
"""The largest quantity WB takes for one item."""

PATHS = {
    "new_orders": "/api/v3/orders/new",
    "statuses": "/api/v3/orders/status",
    "create_supply": "/api/v3/supplies",
    "add_to_supply": "/api/marketplace/v3/supplies/{supply}/orders",  # the batch method
    "deliver_supply": "/api/v3/supplies/{supply}/deliver",
    "sgtin": "/api/v3/orders/{order}/meta/sgtin",
    "imei": "/api/v3/orders/{order}/meta/imei",
    "uin": "/api/v3/orders/{order}/meta/uin",
    "gtin": "/api/v3/orders/{order}/meta/gtin",
    "cancel": "/api/v3/orders/{order}/cancel",
    "stickers": "/api/v3/orders/stickers",
    "stocks": "/api/v3/stocks/{warehouse}",  # keyed by chrtId (``sku`` is switched off)
}
SUPPLY_BATCH = 100
STICKER_BATCH = 100
"""Stickers one request asks for at most (``maxItems`` of ``POST /api/v3/orders/stickers``)."""
STICKER_MEDIA = {
    "png": "image/png",
    "svg": "image/svg+xml",
    "zplv": "application/x-zpl",
    "zplh": "application/x-zpl",
}
CODES_BATCH = 100

CURRENCIES = {643: "RUB", 933: "BYN", 398: "KZT", 51: "AMD", 417: "KGS", 860: "UZS", 156: "CNY"}
"""ISO 4217 numeric codes WB uses, as letters."""

_CANCELLED = {"canceled", "declined_by_client"}
_RETURNED = {"canceled_by_client", "defect"}
_WITH_CUSTOMER = {"sold"}


def state_of(supplier_status: str, wb_status: str) -> MarketplaceState:
    """One state from WB's two: the seller's (``supplierStatus``) and WB's (``wbStatus``)."""
    if wb_status in _WITH_CUSTOMER:
        return MarketplaceState.DELIVERED
    if wb_status in _RETURNED:
        return MarketplaceState.RETURNED
    if supplier_status == "cancel" or wb_status in _CANCELLED:
        return (
            MarketplaceState.RETURNED
            if supplier_status == "complete"
            else MarketplaceState.CANCELLED
        )
    if supplier_status == "complete":
        return MarketplaceState.SHIPPED
    if supplier_status == "confirm":
        return MarketplaceState.IN_WORK
    return MarketplaceState.NEW


def money(minor: Any) -> Decimal:
    """Minor units (×100, an integer) as a Decimal amount."""
    if isinstance(minor, bool) or not isinstance(minor, int):
        raise ValueError(f"a price must be a whole number of minor units, not {minor!r}")
    return (Decimal(minor) / 100).quantize(Decimal("0.01"))


def read_order(data: Mapping[str, Any]) -> IncomingOrder:
    """A WB assembly task as an incoming order; ValueError/KeyError/TypeError when unreadable."""
    task_id = data["id"]
    if isinstance(task_id, bool) or not isinstance(task_id, int):
        raise ValueError("id is not an integer")
    code = data.get("convertedCurrencyCode") or data.get("currencyCode")
    currency = CURRENCIES.get(code) if isinstance(code, int) else None
    if currency is None:
        raise ValueError(f"unknown currency code {code!r}")
    price = data.get("convertedPrice", data.get("price"))
    address = data.get("address")
    where = None
    if isinstance(address, Mapping) and address.get("fullAddress"):
        full = str(address["fullAddress"])
        where = IncomingAddress(
            city=full.split(",")[0].strip()[:120] or "—",
            line=full[:255],
            latitude=_coordinate(address.get("latitude")),
            longitude=_coordinate(address.get("longitude")),
        )
    created = datetime.fromisoformat(str(data["createdAt"]).replace("Z", "+00:00"))
    return IncomingOrder(
        external_id=str(task_id),
        created_at=created.astimezone(UTC),
        warehouse=str(data["warehouseId"]),
        currency=currency,
        lines=[
            IncomingLine(
                article=str(data.get("article") or ""),
                barcodes=tuple(str(s) for s in data.get("skus") or ()),
                quantity=1,
                unit_price=money(price),
                marketplace_sku=str(data.get("chrtId") or ""),
            )
        ],
        status="new/waiting",  # what WB's new tasks are, as statuses() words it
        group=str(data["orderUid"]) if data.get("orderUid") else None,
        address=where,
        comment=str(data.get("comment") or "")[:300],
        required_meta=tuple(str(m) for m in data.get("requiredMeta") or ()),
        meta=_gtin(data),
        raw=dict(data),
    )


def _gtin(data: Mapping[str, Any]) -> dict[str, str]:
    """The task's GTIN when WB asks for one (``gtin`` in ``requiredMeta`` or
    ``optionalMeta``: goods marked in Belarus): the first of its barcodes (``skus``) that is
    a GTIN-13, the form ``/meta/gtin`` takes - 13 digits, a right check digit, and not a
    restricted-circulation number (GS1 prefixes 20-29: a shop's own codes, no GTIN)."""
    asked = {str(m) for m in (data.get("requiredMeta") or ())} | {
        str(m) for m in (data.get("optionalMeta") or ())
    }
    if "gtin" not in asked:
        return {}
    for barcode in data.get("skus") or ():
        text = str(barcode)
        if (
            len(text) == 13
            and text.isdigit()
            and not text.startswith("2")
            and gtin_check_digit(text[:12]) == int(text[12])
        ):
            return {"gtin": text}
    return {}


def _coordinate(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


class Wildberries(HttpConnector):
    """A WB seller account (FBS)."""

    MARKETPLACE = Marketplace.WILDBERRIES
    NAME = "Wildberries"
    LIMIT = LIMIT
    LIMITS: ClassVar[Mapping[str, RateLimit]] = {"stocks": STOCK_LIMIT}

    def __init__(
        self, http: MarketplaceHttp, *, sticker_type: str = "png", sticker_size: str = "58x40"
    ) -> None:
        self.http = http
        self.sticker_type = sticker_type
        self.sticker_size = sticker_size

    @classmethod
    def connect(
        cls,
        base_url: str,
        credentials: Credentials,
        *,
        sticker_type: str = "png",
        sticker_size: str = "58x40",
        **options: Any,
    ) -> Wildberries:
        return cls(
            cls._client(base_url, {"Authorization": credentials.reveal()}, **options),
            sticker_type=sticker_type,
            sticker_size=sticker_size,
        )

    def new_orders(self) -> list[IncomingOrder | Malformed]:
        body = self._object(self.http.call("GET", PATHS["new_orders"]))
        tasks = body.get("orders")
        if not isinstance(tasks, list):
            raise MarketplaceUnavailable(
                marketplace="Wildberries", reason="the new orders' answer has no 'orders' list"
            )
        found: list[IncomingOrder | Malformed] = []
        for task in tasks:
            if not isinstance(task, Mapping):
                continue
            try:
                found.append(read_order(task))
            except (KeyError, ValueError, TypeError) as error:
                found.append(
                    Malformed(str(task.get("id", "?"))[:64], f"unreadable order: {error}", task)
                )
        return found

    def statuses(
        self, external_ids: Sequence[str], *, changed_since: datetime | None = None
    ) -> list[StatusSeen]:
        ids = [int(i) for i in external_ids if i.isdigit()]
        seen: list[StatusSeen] = []
        for start in range(0, len(ids), STATUS_BATCH):
            chunk = ids[start : start + STATUS_BATCH]
            body = self._object(self.http.call("POST", PATHS["statuses"], json={"orders": chunk}))
            for item in body.get("orders") or ():
                if not isinstance(item, Mapping) or "id" not in item:
                    continue
                supplier = str(item.get("supplierStatus") or "")
                wb = str(item.get("wbStatus") or "")
                seen.append(StatusSeen(str(item["id"]), state_of(supplier, wb), f"{supplier}/{wb}"))
        return seen

    def pack(self, orders: Sequence[Packed], batch: str | None) -> PackOutcome:
        """The tasks join the open supply (a new one when there is none) by the batch
        method, which puts them on assembly (``confirm``); then each task's meta is sent -
        marking codes (``sgtin``), IMEI, UIN, GTIN - since WB takes meta only from tasks in
        ``confirm``. A task WB refuses to add or whose meta it refuses is reported failed and
        sent again at the next poll (adding a task to the supply it is in is allowed: the
        batch method moves tasks between active supplies)."""
        outcome = PackOutcome(batch)
        ready = [int(order.external_id) for order in orders if order.external_id.isdigit()]
        if not ready:
            return outcome
        if outcome.batch is None:
            name = f"Potok {datetime.now(UTC):%Y-%m-%d %H:%M}"
            created = self._object(
                self.http.call("POST", PATHS["create_supply"], json={"name": name}, safe=False)
            )
            outcome.batch = str(created.get("id") or "")
            if not outcome.batch:
                raise MarketplaceUnavailable(
                    marketplace="Wildberries", reason="a new supply came without its id"
                )
        path = PATHS["add_to_supply"].format(supply=outcome.batch)
        for start in range(0, len(ready), SUPPLY_BATCH):
            chunk = ready[start : start + SUPPLY_BATCH]
            try:
                self.http.call("PATCH", path, json={"orders": chunk})
            except MarketplaceRefused as refused:
                for task in chunk:
                    outcome.failed[str(task)] = refused.detail
        for order in orders:  # WB takes meta only from tasks on assembly (confirm)
            if order.external_id in outcome.failed:
                continue
            try:
                self._send_codes(order)
            except MarketplaceRefused as refused:
                outcome.failed[order.external_id] = refused.detail
        return outcome

    def _send_codes(self, order: Packed) -> None:
        task = int(order.external_id)
        for kind, codes in (
            ("sgtin", order.marking_codes),
            ("imei", order.imeis),
            ("uin", order.uins),
        ):
            if not codes:
                continue
            path = PATHS[kind].format(order=task)
            if kind == "sgtin":
                for start in range(0, len(codes), CODES_BATCH):
                    self.http.call(
                        "PUT", path, json={"sgtins": list(codes[start : start + CODES_BATCH])}
                    )
            else:  # one IMEI / UIN per assembly task (one unit)
                self.http.call("PUT", path, json={kind: codes[0]})
        gtin = order.meta.get("gtin")
        if gtin:  # one GTIN per task
            self.http.call("PUT", PATHS["gtin"].format(order=task), json={"gtin": gtin})

    def hand_over(self, batch: str | None, external_ids: Sequence[str]) -> None:
        if batch is None:
            raise MarketplaceRefused(
                marketplace="Wildberries", reason="orders leave in a supply; this one has none"
            )
        self.http.call("PATCH", PATHS["deliver_supply"].format(supply=batch))

    def stickers(self, external_ids: Sequence[str]) -> list[Sticker]:
        """The stickers of tasks on assembly or in delivery (WB gives none before), at most
        100 a request, in the format and size of the settings; a sticker WB leaves out of
        its answer is simply not returned (asked again at the next poll)."""
        ids = [int(i) for i in external_ids if i.isdigit()]
        width, height = self.sticker_size.split("x")
        query = {"type": self.sticker_type, "width": width, "height": height}
        media = STICKER_MEDIA[self.sticker_type]
        found: list[Sticker] = []
        for start in range(0, len(ids), STICKER_BATCH):
            chunk = ids[start : start + STICKER_BATCH]
            body = self._object(
                self.http.call("POST", PATHS["stickers"], params=query, json={"orders": chunk})
            )
            for item in body.get("stickers") or ():
                if not isinstance(item, Mapping) or "orderId" not in item:
                    continue
                try:
                    data = base64.b64decode(str(item.get("file") or ""), validate=True)
                except (binascii.Error, ValueError):
                    continue
                if not data:
                    continue
                found.append(
                    Sticker(
                        str(item["orderId"]),
                        media,
                        data,
                        part_a=str(item.get("partA") or "")[:32],
                        part_b=str(item.get("partB") or "")[:32],
                        barcode=str(item.get("barcode") or "")[:64],
                    )
                )
        return found

    def cancel(self, external_id: str) -> None:
        self.http.call("PATCH", PATHS["cancel"].format(order=int(external_id)))

    def catalogue(self) -> list[ListedItem]:
        """WB's product cards live on another host (the content API) Potok does not call
        yet: WB items are mapped by hand or by file."""
        raise MarketplaceRefused(
            marketplace="Wildberries",
            reason="reading WB's product cards is not built yet; map items with "
            "'potok marketplaces map' or 'import-items'",
        )

    def push_stock(self, warehouse: str, levels: Sequence[StockLevel]) -> StockOutcome:
        """``PUT /api/v3/stocks/{warehouseId}``, 1,000 items a request. WB answers 204 when
        it took them all; a 409 lists what it refused (``data``), and the rest of that
        request is sent once more without them."""
        outcome = StockOutcome()
        if not warehouse.isdigit():
            outcome.refused.update(
                {level.sku: f"WB warehouse '{warehouse}' is not a number" for level in levels}
            )
            return outcome
        path = PATHS["stocks"].format(warehouse=int(warehouse))
        for start in range(0, len(levels), STOCK_BATCH):
            chunk = [level for level in levels[start : start + STOCK_BATCH] if level.key.isdigit()]
            for level in levels[start : start + STOCK_BATCH]:
                if not level.key.isdigit():
                    outcome.refused[level.sku] = f"chrtId '{level.key}' is not a number"
            for _ in range(2):  # the request, and once more without what WB refused
                if not chunk:
                    break
                body = {
                    "stocks": [
                        {"chrtId": int(level.key), "amount": min(level.quantity, MAX_AMOUNT)}
                        for level in chunk
                    ]
                }
                answer = self.http.call("PUT", path, json=body, family="stocks", answered=(409,))
                outcome.requests += 1
                if answer.status_code != 409:
                    outcome.accepted += len(chunk)
                    break
                named, reason = _refused_items(answer)
                refused = [level for level in chunk if level.key in named]
                if not refused:  # WB named none of them: the whole request is refused
                    refused = chunk
                for level in refused:
                    outcome.refused[level.sku] = reason
                chunk = [level for level in chunk if level not in refused]
            else:
                for level in chunk:
                    outcome.refused[level.sku] = "WB refused the stock update twice"
        return outcome


def _refused_items(answer: Any) -> tuple[set[str], str]:
    """The items a stock 409 names (by chrtId, or by the old barcode ``sku``) and WB's
    reason: ``[{code, message, data: [{chrtId|sku, amount}]}]``."""
    try:
        body = answer.json()
    except ValueError:
        body = None
    errors = body if isinstance(body, list) else [body] if isinstance(body, Mapping) else []
    named: set[str] = set()
    reasons: list[str] = []
    for error in errors:
        if not isinstance(error, Mapping):
            continue
        reasons.append(
            "; ".join(str(error[k]) for k in ("code", "message") if error.get(k)) or "refused"
        )
        for item in error.get("data") or ():
            if isinstance(item, Mapping):
                for key in ("chrtId", "sku"):
                    if item.get(key) is not None:
                        named.add(str(item[key]))
    reason = "WB refused the stock: " + (", ".join(dict.fromkeys(reasons)) or "409")
    return named, reason[:300]
