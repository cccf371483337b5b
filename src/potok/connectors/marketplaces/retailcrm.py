"""RetailCRM (API v5): orders made in the CRM come into Potok, Potok's progress and stock go
back.

RetailCRM is the CRM where a retailer's managers take phone and shop orders. Potok reads
them by the account's order history (``GET /api/v5/orders/history``, a cursor of history
record ids: ``filter[sinceId]``), so every poll asks only for what changed since the last
one; orders created since then are read whole (``GET /api/v5/orders?filter[ids][]``) and
imported once each (their CRM ``id`` is the external id). Their statuses are followed with
``GET /api/v5/orders/statuses`` by the CRM's fixed status groups; packing, hand-over and a
cancellation in Potok set the order's status in the CRM (``POST /api/v5/orders/{id}/edit``);
stock goes to the CRM's stores (``POST /api/v5/store/inventories/upload``).

RetailCRM signs requests with the ``X-API-KEY`` header; POST bodies are form-encoded with
the nested object as a JSON string (``order=<json>&site=<code>``); answers carry
``success``, and refusals ``{success: false, errorMsg, errors: {field: reason}}``. Times are
``Y-m-d H:i:s`` in the account's time zone. Every path is in :data:`PATHS`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from potok.connectors.marketplaces.http import MarketplaceHttp, RateLimit
from potok.connectors.marketplaces.interface import (
    CallStats,
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

NAME = "RetailCRM"
LIMIT = RateLimit(burst=10, interval_s=0.1)
"""RetailCRM takes 10 requests a second per API key."""

PATHS = {
    "history": "/api/v5/orders/history",
    "orders": "/api/v5/orders",
    "statuses": "/api/v5/orders/statuses",
    "edit": "/api/v5/orders/{order}/edit",
    "inventories": "/api/v5/store/inventories/upload",
}
HISTORY_PAGE = 100
"""History records one request reads (the most RetailCRM gives)."""
HISTORY_PAGES = 20
"""History pages one poll reads at most; the rest is read at the next poll."""
ORDERS_PAGE = 100
"""Orders one list request asks for by id (``limit`` may be 20, 50 or 100)."""
STATUS_BATCH = 500
"""Orders one statuses request names at most."""
STOCK_BATCH = 250
"""Offers one inventories upload carries at most."""

GROUP_STATES = {
    "new": MarketplaceState.NEW,
    "approval": MarketplaceState.IN_WORK,
    "assembling": MarketplaceState.IN_WORK,
    "delivery": MarketplaceState.SHIPPED,
    "complete": MarketplaceState.DELIVERED,
    "cancel": MarketplaceState.CANCELLED,
}
"""RetailCRM's fixed status groups as Potok's states (an account names its own statuses
inside them)."""

NOT_IMPORTED = frozenset({"cancel", "complete"})
"""Groups of orders that are not imported: nothing is left to fulfil."""


@dataclass(frozen=True, slots=True)
class CrmStatuses:
    """The CRM status codes Potok sets when it packs, hands over or cancels an order
    (statuses are the account's own; these are RetailCRM's defaults)."""

    packed: str = "assembling-complete"
    shipped: str = "send-to-delivery"
    cancelled: str = "cancel-other"


def state_of(group: str) -> MarketplaceState:
    """Potok's state of a RetailCRM status group."""
    return GROUP_STATES.get(group, MarketplaceState.IN_WORK)


def _money(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"a price must be a number, not {value!r}")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"a price must be a number, not {value!r}") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"a price must be a number of at least 0, not {value!r}")
    return amount.quantize(Decimal("0.01"))


def _quantity(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"a quantity must be a number, not {value!r}")
    if value != int(value) or value < 1:
        raise ValueError(f"Potok takes whole quantities of at least 1, not {value!r}")
    return int(value)


def crm_time(text: Any, zone: ZoneInfo) -> datetime:
    """A RetailCRM time (``Y-m-d H:i:s`` in the account's zone) in UTC."""
    moment = datetime.strptime(str(text), "%Y-%m-%d %H:%M:%S")
    return moment.replace(tzinfo=zone).astimezone(UTC)


def _line(item: Mapping[str, Any]) -> IncomingLine:
    offer = item.get("offer") if isinstance(item.get("offer"), Mapping) else {}
    assert isinstance(offer, Mapping)
    price = _money(item.get("initialPrice", 0))
    discount = _money(item.get("discountTotal", 0) or 0)  # per unit, manual and automatic
    barcode = str(offer.get("barcode") or "")
    return IncomingLine(
        article=str(offer.get("externalId") or offer.get("article") or ""),
        barcodes=(barcode,) if barcode else (),
        quantity=_quantity(item.get("quantity")),
        unit_price=max(price - discount, Decimal("0.00")),
        marketplace_sku=str(offer.get("id") or ""),
        name=str(item.get("productName") or offer.get("name") or "")[:255],
    )


def _address(delivery: Any) -> IncomingAddress | None:
    if not isinstance(delivery, Mapping) or not isinstance(delivery.get("address"), Mapping):
        return None
    address = delivery["address"]
    parts = [address.get(k) for k in ("street", "building", "flat")]
    line = str(address.get("text") or ", ".join(str(p) for p in parts if p) or "")
    notes = str(address.get("notes") or "")
    if not line and not notes:
        return None
    return IncomingAddress(city=str(address.get("city") or "—")[:120], line=(line or notes)[:255])


def read_order(data: Mapping[str, Any], zone: ZoneInfo) -> IncomingOrder:
    """A RetailCRM order as an incoming order; ValueError/KeyError/TypeError when unreadable."""
    order_id = data["id"]
    if isinstance(order_id, bool) or not isinstance(order_id, int):
        raise ValueError("id is not an integer")
    items = data.get("items") or []
    if not isinstance(items, list) or not items:
        raise ValueError("the order has no items")
    comment = " ".join(str(data[k]) for k in ("customerComment", "managerComment") if data.get(k))
    return IncomingOrder(
        external_id=str(order_id),
        created_at=crm_time(data["createdAt"], zone),
        warehouse=str(data.get("shipmentStore") or ""),
        currency=str(data.get("currency") or "RUB"),
        lines=[_line(item) for item in items if isinstance(item, Mapping)],
        state=MarketplaceState.NEW,
        status=str(data.get("status") or "new"),
        address=_address(data.get("delivery")),
        comment=(f"№{data['number']} " if data.get("number") else "") + comment[:300],
        raw=dict(data),
    )


class RetailCrm:
    """A RetailCRM account (one shop of it when ``site`` is given)."""

    def __init__(
        self,
        http: MarketplaceHttp,
        *,
        site: str | None = None,
        statuses: CrmStatuses = CrmStatuses(),
        zone: ZoneInfo | None = None,
    ) -> None:
        self.http = http
        self.site = site
        self.crm_statuses = statuses
        self.zone = zone or ZoneInfo("Europe/Moscow")
        self._since: str | None = None
        self._pending: list[str] = []
        self._next: str | None = None

    @classmethod
    def connect(
        cls,
        base_url: str,
        credentials: Credentials,
        *,
        statuses: CrmStatuses = CrmStatuses(),
        time_zone: str = "Europe/Moscow",
        **options: Any,
    ) -> RetailCrm:
        """The account at ``base_url`` (``https://<account>.retailcrm.ru``); the
        connection's ``client_id`` names the shop (``site``) when the key reaches several."""
        return cls(
            MarketplaceHttp(
                marketplace=NAME,
                base_url=base_url,
                headers={"X-API-KEY": credentials.reveal()},
                limit=LIMIT,
                **options,
            ),
            site=credentials.client_id or None,
            statuses=statuses,
            zone=ZoneInfo(time_zone),
        )

    @property
    def marketplace(self) -> Marketplace:
        return Marketplace.RETAILCRM

    @property
    def stats(self) -> CallStats:
        return self.http.stats

    @property
    def cursor(self) -> str | None:
        """The last history record read; the next poll starts after it."""
        return self._next

    def resume(self, cursor: str | None, pending: Sequence[str]) -> None:
        self._since = cursor
        self._next = cursor
        self._pending = [p for p in pending if p.isdigit()]

    def close(self) -> None:
        self.http.close()

    # ------------------------------------------------------------------ orders in

    def new_orders(self) -> list[IncomingOrder | Malformed]:
        """Orders created in the CRM since the cursor, and those kept aside before (read
        again whole, as they are now)."""
        created: dict[int, None] = {int(p): None for p in self._pending}
        since = self._since
        for _ in range(HISTORY_PAGES):
            params: dict[str, Any] = {"limit": HISTORY_PAGE}
            if since is not None:
                params["filter[sinceId]"] = since
            body = self._json(self.http.call("GET", PATHS["history"], params=params))
            records = body.get("history")
            if not isinstance(records, list):
                raise MarketplaceUnavailable(
                    marketplace=NAME, reason="the history answer has no 'history' list"
                )
            for record in records:
                if not isinstance(record, Mapping) or not isinstance(record.get("id"), int):
                    continue
                since = str(record["id"])
                order = record.get("order")
                created_here = record.get("created") and isinstance(order, Mapping)
                if created_here and isinstance(order.get("id"), int):  # type: ignore[union-attr]
                    created[order["id"]] = None  # type: ignore[index]
            if len(records) < HISTORY_PAGE:
                break
        self._next = since
        return self._read_orders(list(created))

    def _read_orders(self, ids: list[int]) -> list[IncomingOrder | Malformed]:
        found: list[IncomingOrder | Malformed] = []
        for start in range(0, len(ids), ORDERS_PAGE):
            chunk = ids[start : start + ORDERS_PAGE]
            params: list[tuple[str, Any]] = [("limit", ORDERS_PAGE)]
            params += [("filter[ids][]", i) for i in chunk]
            if self.site:
                params.append(("filter[sites][]", self.site))
            body = self._json(self.http.call("GET", PATHS["orders"], params=params))
            listed = [d for d in body.get("orders") or () if isinstance(d, Mapping)]
            # the list names no status group: ask for them, and leave finished orders out
            groups = {
                s.external_id: s.status.split("/")[0]
                for s in self.statuses([str(d.get("id")) for d in listed])
            }
            for data in listed:
                if groups.get(str(data.get("id"))) in NOT_IMPORTED:
                    continue
                try:
                    found.append(read_order(data, self.zone))
                except (KeyError, ValueError, TypeError) as error:
                    found.append(
                        Malformed(str(data.get("id", "?"))[:64], f"unreadable order: {error}", data)
                    )
        return found

    def statuses(
        self, external_ids: Sequence[str], *, changed_since: datetime | None = None
    ) -> list[StatusSeen]:
        ids = [i for i in external_ids if i.isdigit()]
        seen: list[StatusSeen] = []
        for start in range(0, len(ids), STATUS_BATCH):
            params = [("ids[]", i) for i in ids[start : start + STATUS_BATCH]]
            body = self._json(self.http.call("GET", PATHS["statuses"], params=params))
            for item in body.get("orders") or ():
                if not isinstance(item, Mapping) or "id" not in item:
                    continue
                group = str(item.get("group") or "")
                status = str(item.get("status") or "")
                seen.append(StatusSeen(str(item["id"]), state_of(group), f"{group}/{status}"))
        return seen

    # ------------------------------------------------------------------ progress out

    def _set_status(self, external_id: str, status: str) -> None:
        params = {"by": "id"}
        if self.site:
            params["site"] = self.site
        path = PATHS["edit"].format(order=int(external_id))
        form = {"order": json.dumps({"status": status})}
        self._json(self.http.call("POST", path, params=params, data=form))

    def pack(self, orders: Sequence[Packed], batch: str | None) -> PackOutcome:
        outcome = PackOutcome(batch)
        for order in orders:
            try:
                self._set_status(order.external_id, self.crm_statuses.packed)
            except MarketplaceRefused as refused:
                outcome.failed[order.external_id] = refused.detail
        return outcome

    def hand_over(self, batch: str | None, external_ids: Sequence[str]) -> None:
        for external_id in external_ids:
            self._set_status(external_id, self.crm_statuses.shipped)

    def stickers(self, external_ids: Sequence[str]) -> list[Sticker]:
        return []  # RetailCRM has no per-order sticker Potok fetches

    def cancel(self, external_id: str) -> None:
        self._set_status(external_id, self.crm_statuses.cancelled)

    def push_stock(self, warehouse: str, levels: Sequence[StockLevel]) -> StockOutcome:
        """``POST /api/v5/store/inventories/upload``, 250 offers a request, each offer by
        its CRM id with the quantity available at the CRM store ``warehouse``; offers the
        CRM does not know come back in ``notFoundOffers``."""
        outcome = StockOutcome()
        usable = [level for level in levels if level.key.isdigit()]
        for level in levels:
            if not level.key.isdigit():
                outcome.refused[level.sku] = f"offer id '{level.key}' is not a number"
        for start in range(0, len(usable), STOCK_BATCH):
            chunk = usable[start : start + STOCK_BATCH]
            offers = [
                {"id": int(level.key), "stores": [{"code": warehouse, "available": level.quantity}]}
                for level in chunk
            ]
            form = {"offers": json.dumps(offers)}
            if self.site:
                form["site"] = self.site
            body = self._json(self.http.call("POST", PATHS["inventories"], data=form))
            outcome.requests += 1
            missing = {
                str(o.get("id"))
                for o in body.get("notFoundOffers") or ()
                if isinstance(o, Mapping) and o.get("id") is not None
            }
            for level in chunk:
                if level.key in missing:
                    outcome.refused[level.sku] = f"RetailCRM has no offer {level.key}"
                else:
                    outcome.accepted += 1
        return outcome

    def catalogue(self) -> list[ListedItem]:
        raise MarketplaceRefused(
            marketplace=NAME,
            reason="reading RetailCRM's offers is not built yet; map SKUs to offer ids with "
            "'potok marketplaces map' or 'import-items'",
        )

    @staticmethod
    def _json(answer: Any) -> Mapping[str, Any]:
        try:
            body = answer.json()
        except ValueError:
            body = None
        if not isinstance(body, Mapping):
            raise MarketplaceUnavailable(marketplace=NAME, reason="the answer is not a JSON object")
        if body.get("success") is False:  # a refusal inside a 200 (RetailCRM's envelope)
            reason = str(body.get("errorMsg") or "success: false")
            raise MarketplaceRefused(marketplace=NAME, reason=reason[:300], status=200)
        return body
