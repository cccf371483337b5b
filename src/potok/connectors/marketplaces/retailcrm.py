"""RetailCRM (API v5): orders made in the CRM come into Potok, Potok's progress and stock go
back.

RetailCRM is the CRM where a retailer's managers take phone and shop orders. Potok reads
them by the account's order history (``GET /api/v5/orders/history``, a cursor of history
record ids: ``filter[sinceId]``), so every poll asks only for what changed since the last
one; orders created since then are read whole (``GET /api/v5/orders?filter[ids][]``) and
imported once each (their CRM ``id`` is the external id). Their statuses are followed with
``GET /api/v5/orders/statuses`` by the CRM's fixed status groups; packing, hand-over and a
cancellation in Potok set the order's status in the CRM (``POST /api/v5/orders/{id}/edit``);
stock goes to the CRM's stores (``POST /api/v5/store/inventories/upload``). Potok's orders
of other channels are told to the CRM whole (:meth:`RetailCrm.mirror_orders`: ``orders/
upload``, ``orders/{externalId}/edit``, ``orders/payments/{externalId}/edit``), and with
their customers (:meth:`RetailCrm.mirror_customers`: ``customers/upload``) by a back-fill;
history records Potok's own key made (``apiKey.current``) are not read as the CRM's new
orders nor as changes. The same history read gives the changes the CRM's managers made to
orders Potok has (:attr:`RetailCrm.changes`: status, customer, address, comments), which
``services/marketplaces/crm_changes.py`` takes back with the orders as they are now
(:meth:`RetailCrm.orders_by_id`) and the account's status groups
(:meth:`RetailCrm.status_groups`: ``GET /api/v5/reference/statuses``).

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
from urllib.parse import quote
from zoneinfo import ZoneInfo

from potok.connectors.marketplaces.http import HttpConnector, MarketplaceHttp, RateLimit
from potok.connectors.marketplaces.interface import (
    CustomersOutcome,
    HistoryChange,
    IncomingAddress,
    IncomingLine,
    IncomingOrder,
    ListedItem,
    Malformed,
    MarketplaceRefused,
    MarketplaceState,
    MarketplaceUnavailable,
    MirroredCustomer,
    MirroredOrder,
    MirrorOutcome,
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
    "upload": "/api/v5/orders/upload",
    "payment_create": "/api/v5/orders/payments/create",
    "payment_edit": "/api/v5/orders/payments/{payment}/edit",
    "customers_upload": "/api/v5/customers/upload",
    "reference_statuses": "/api/v5/reference/statuses",
}
UPLOAD_BATCH = 50
"""Orders (and customers) one ``orders/upload`` (``customers/upload``) carries at most
(RetailCRM's limit)."""
CHANGED_FIELDS = frozenset(
    {
        "status",
        "first_name",
        "last_name",
        "patronymic",
        "phone",
        "email",
        "customer_comment",
        "manager_comment",
    }
)
"""History fields whose changes made in the CRM Potok takes (with ``delivery_address.*``)."""
ADDRESS_FIELD = "delivery_address."
PARTLY_UPLOADED = 460
"""RetailCRM's answer to an upload some of whose orders it did not take."""
MIRROR_STATUSES = {
    "new": "new",
    "confirmed": "availability-confirmed",
    "on_hold": "new",
    "backordered": "new",
    "reserved": "availability-confirmed",
    "in_fulfilment": "assembling",
    "partially_shipped": "send-to-delivery",
    "shipped": "send-to-delivery",
    "delivered": "complete",
    "returned_to_sender": "cancel-other",
    "partially_returned": "complete",
    "returned": "complete",
    "cancelled": "cancel-other",
}
"""The CRM status of a Potok order of another channel, by Potok's status (RetailCRM's
default status codes; an account with its own overrides them in the settings)."""
PAYMENT_STATUSES = {
    "paid": "paid",
    "partially_refunded": "paid",
    "refunded": "returned",
}
"""The CRM payment status by Potok's; any other is ``not-paid``."""
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


def mirror_payload(
    order: MirroredOrder, zone: ZoneInfo, statuses: Mapping[str, str], *, payment: bool
) -> dict[str, Any]:
    """A Potok order as RetailCRM's ``order`` object (``orders/upload``, ``orders/{externalId}
    /edit``): whole, so sending it again sets the same. Lines carry Potok's key among their
    ``externalIds``, by which an edit matches them; money goes as JSON numbers (RetailCRM
    has no other), two decimals exact in a float. ``payment``: with the order's payment
    (an upload; an edit leaves payments to their own method)."""
    data: dict[str, Any] = {
        "externalId": order.external_id,
        "number": order.number,
        "createdAt": order.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
        "status": statuses.get(order.status, MIRROR_STATUSES.get(order.status, "new")),
        "firstName": order.customer_name[:255],
        "customFields": {"potok_channel": order.channel},
        "items": [
            {
                "externalIds": [{"code": "potok", "value": line.key}],
                "offer": {"externalId": line.sku},
                "productName": line.name[:255],
                "quantity": line.quantity,
                "initialPrice": float(line.unit_price),
                "vatRate": str(line.vat_rate.normalize()) if line.vat_rate else "none",
            }
            for line in order.lines
        ],
        "delivery": {"cost": float(order.delivery_price)},
    }
    if order.phone:
        data["phone"] = order.phone
    if order.email:
        data["email"] = order.email
    if order.city or order.address:
        data["delivery"]["address"] = {"city": order.city or "", "text": order.address or ""}
    if order.customer:
        data["customer"] = {"externalId": order.customer}
    if payment:
        data["payments"] = [payment_payload(order)]
    return data


def customer_payload(customer: MirroredCustomer, zone: ZoneInfo) -> dict[str, Any]:
    """A Potok customer as RetailCRM's ``customer`` object (``customers/upload``)."""
    data: dict[str, Any] = {
        "externalId": customer.external_id,
        "firstName": customer.name[:255],
        "createdAt": customer.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
    }
    if customer.phone:
        data["phones"] = [{"number": customer.phone}]
    if customer.email:
        data["email"] = customer.email
    return data


def payment_payload(order: MirroredOrder, payment_type: str = "bank-card") -> dict[str, Any]:
    """The order's one payment as RetailCRM keeps it, named by Potok's external id."""
    return {
        "externalId": f"potok-{order.external_id}",
        "type": payment_type,
        "status": PAYMENT_STATUSES.get(order.payment_status, "not-paid"),
        "amount": float(order.total),
    }


class RetailCrm(HttpConnector):
    """A RetailCRM account (one shop of it when ``site`` is given)."""

    MARKETPLACE = Marketplace.RETAILCRM
    NAME = NAME
    LIMIT = LIMIT

    def __init__(
        self,
        http: MarketplaceHttp,
        *,
        site: str | None = None,
        statuses: CrmStatuses = CrmStatuses(),
        zone: ZoneInfo | None = None,
        mirror_statuses: Mapping[str, str] | None = None,
        payment_type: str = "bank-card",
    ) -> None:
        self.http = http
        self.site = site
        self.crm_statuses = statuses
        self.mirror_statuses = {**MIRROR_STATUSES, **(mirror_statuses or {})}
        self.payment_type = payment_type
        self.zone = zone or ZoneInfo("Europe/Moscow")
        self._since: str | None = None
        self._pending: list[str] = []
        self._next: str | None = None
        self._changes: list[HistoryChange] = []
        self._created: set[int] = set()
        self._groups: dict[str, str] | None = None

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
            cls._client(base_url, {"X-API-KEY": credentials.reveal()}, **options),
            site=credentials.client_id or None,
            statuses=statuses,
            zone=ZoneInfo(time_zone),
        )

    @property
    def cursor(self) -> str | None:
        """The last history record read; the next poll starts after it."""
        return self._next

    def resume(self, cursor: str | None, pending: Sequence[str]) -> None:
        self._since = cursor
        self._next = cursor
        self._pending = [p for p in pending if p.isdigit()]

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
                key = record.get("apiKey")
                if isinstance(key, Mapping) and key.get("current") is True:
                    continue  # made by Potok's own key: what Potok told the CRM
                if not isinstance(order, Mapping) or not isinstance(order.get("id"), int):
                    continue
                if record.get("created"):
                    created[order["id"]] = None
                    self._created.add(order["id"])
                    continue
                field = str(record.get("field") or "")
                if field in CHANGED_FIELDS or field.startswith(ADDRESS_FIELD):
                    new = record.get("newValue")
                    if isinstance(new, Mapping) and field == "status":
                        new = new.get("code")
                    external = order.get("externalId")
                    self._changes.append(
                        HistoryChange(
                            record=record["id"],
                            order=order["id"],
                            external_id=str(external) if external is not None else None,
                            field=field,
                            new=new,
                        )
                    )
            if len(records) < HISTORY_PAGE:
                break
        self._next = since
        return self._read_orders(list(created))

    @property
    def changes(self) -> list[HistoryChange]:
        """Changes made in the CRM to orders it did not create in the history just read
        (read by :meth:`new_orders`), oldest first; those of Potok's own key are not here."""
        return [c for c in self._changes if c.order not in self._created]

    def orders_by_id(self, ids: Sequence[int]) -> dict[int, Mapping[str, Any]]:
        """The CRM's orders as they are now, by their CRM ids (``GET /api/v5/orders``)."""
        found: dict[int, Mapping[str, Any]] = {}
        unique = sorted(set(ids))
        for start in range(0, len(unique), ORDERS_PAGE):
            params: list[tuple[str, Any]] = [("limit", ORDERS_PAGE)]
            params += [("filter[ids][]", i) for i in unique[start : start + ORDERS_PAGE]]
            body = self._json(self.http.call("GET", PATHS["orders"], params=params))
            for data in body.get("orders") or ():
                if isinstance(data, Mapping) and isinstance(data.get("id"), int):
                    found[data["id"]] = data
        return found

    def status_groups(self) -> dict[str, str]:
        """The account's status codes and the fixed group of each
        (``GET /api/v5/reference/statuses``), read once per client."""
        if self._groups is None:
            body = self._json(self.http.call("GET", PATHS["reference_statuses"]))
            listed = body.get("statuses")
            values = listed.values() if isinstance(listed, Mapping) else listed or ()
            self._groups = {
                str(s["code"]): str(s.get("group") or "")
                for s in values
                if isinstance(s, Mapping) and s.get("code") is not None
            }
        return self._groups

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

    # ------------------------------------------------------------------ Potok's orders out

    def mirror_orders(
        self, new: Sequence[MirroredOrder], changed: Sequence[MirroredOrder]
    ) -> MirrorOutcome:
        """``new`` orders go by ``POST /api/v5/orders/upload`` (50 a request), with their
        payment; one the CRM has already (an upload told twice) is edited instead.
        ``changed`` ones go by ``POST /api/v5/orders/{externalId}/edit?by=externalId``, their
        payment by ``orders/payments/{externalId}/edit``; one the CRM does not have (told
        before the connection, or refused then) is uploaded instead."""
        outcome = MirrorOutcome()
        uploads = list(new)
        for order in changed:
            try:
                self._edit_mirrored(order, outcome)
            except MarketplaceRefused as refused:
                if refused.context.get("status") == 404:
                    uploads.append(order)
                else:
                    outcome.refused[order.external_id] = refused.detail
            else:
                outcome.updated.append(order.external_id)
        for start in range(0, len(uploads), UPLOAD_BATCH):
            chunk = uploads[start : start + UPLOAD_BATCH]
            failed = self._upload(chunk, outcome)
            for order in chunk:
                if order.external_id not in failed:
                    outcome.created.append(order.external_id)
                    continue
                try:  # most often: the CRM has it already (told before, answer lost)
                    self._edit_mirrored(order, outcome)
                except MarketplaceRefused as refused:
                    reason = failed[order.external_id] or refused.detail
                    outcome.refused[order.external_id] = reason
                else:
                    outcome.updated.append(order.external_id)
        return outcome

    def _upload(self, orders: Sequence[MirroredOrder], outcome: MirrorOutcome) -> dict[str, str]:
        """Upload orders; the external ids the CRM did not take, with its words for each."""
        payloads = [
            mirror_payload(o, self.zone, self.mirror_statuses, payment=True) for o in orders
        ]
        for payload in payloads:
            payload["payments"][0]["type"] = self.payment_type
        form = {"orders": json.dumps(payloads, ensure_ascii=False)}
        if self.site:
            form["site"] = self.site
        answer = self.http.call("POST", PATHS["upload"], data=form, answered=(PARTLY_UPLOADED,))
        outcome.requests += 1
        try:
            body = answer.json()
        except ValueError:
            body = None
        if not isinstance(body, Mapping):
            raise MarketplaceUnavailable(marketplace=NAME, reason="the answer is not a JSON object")
        words = [str(e) for e in body.get("errors") or () if isinstance(e, str)]
        failed: dict[str, str] = {}
        for item in body.get("failedOrders") or ():
            if isinstance(item, Mapping) and item.get("externalId") is not None:
                external_id = str(item["externalId"])
                failed[external_id] = next((w for w in words if external_id in w), "")[:300]
        if answer.status_code != PARTLY_UPLOADED and body.get("success") is False:
            reason = str(body.get("errorMsg") or "success: false")[:300]
            raise MarketplaceRefused(marketplace=NAME, reason=reason, status=answer.status_code)
        return failed

    def _edit_mirrored(self, order: MirroredOrder, outcome: MirrorOutcome) -> None:
        params = {"by": "externalId"}
        if self.site:
            params["site"] = self.site
        path = PATHS["edit"].format(order=quote(order.external_id, safe=""))
        payload = mirror_payload(order, self.zone, self.mirror_statuses, payment=False)
        form = {"order": json.dumps(payload, ensure_ascii=False)}
        outcome.requests += 1
        self._json(self.http.call("POST", path, params=params, data=form))
        payment = payment_payload(order, self.payment_type)
        external = str(payment.pop("externalId"))
        path = PATHS["payment_edit"].format(payment=quote(external, safe=""))
        outcome.requests += 1
        try:
            self._json(
                self.http.call(
                    "POST",
                    path,
                    params=params,
                    data={"payment": json.dumps(payment, ensure_ascii=False)},
                )
            )
        except MarketplaceRefused as refused:
            if refused.context.get("status") != 404:
                raise
            payment = {
                **payment,
                "externalId": external,
                "order": {"externalId": order.external_id},
            }
            form = {"payment": json.dumps(payment, ensure_ascii=False)}
            if self.site:
                form["site"] = self.site
            outcome.requests += 1
            self._json(self.http.call("POST", PATHS["payment_create"], data=form))

    def mirror_customers(self, customers: Sequence[MirroredCustomer]) -> CustomersOutcome:
        """``POST /api/v5/customers/upload``, 50 a request; a customer the CRM has already
        (told before) is ``known``, not refused."""
        outcome = CustomersOutcome()
        for start in range(0, len(customers), UPLOAD_BATCH):
            chunk = customers[start : start + UPLOAD_BATCH]
            payloads = [customer_payload(c, self.zone) for c in chunk]
            form = {"customers": json.dumps(payloads, ensure_ascii=False)}
            if self.site:
                form["site"] = self.site
            answer = self.http.call(
                "POST", PATHS["customers_upload"], data=form, answered=(PARTLY_UPLOADED,)
            )
            outcome.requests += 1
            body = self._object(answer)
            words = [str(e) for e in body.get("errors") or () if isinstance(e, str)]
            failed = {
                str(item["externalId"])
                for item in body.get("failedCustomers") or ()
                if isinstance(item, Mapping) and item.get("externalId") is not None
            }
            if answer.status_code != PARTLY_UPLOADED and body.get("success") is False:
                reason = str(body.get("errorMsg") or "success: false")[:300]
                raise MarketplaceRefused(marketplace=NAME, reason=reason, status=answer.status_code)
            for customer in chunk:
                name = customer.external_id
                if name not in failed:
                    outcome.created.append(name)
                    continue
                said = next((w for w in words if name in w), "")[:300]
                if "already exists" in said:
                    outcome.known.append(name)
                else:
                    outcome.refused[name] = said or "refused"
        return outcome

    def catalogue(self) -> list[ListedItem]:
        raise MarketplaceRefused(
            marketplace=NAME,
            reason="reading RetailCRM's offers is not built yet; map SKUs to offer ids with "
            "'potok marketplaces map' or 'import-items'",
        )

    @classmethod
    def _json(cls, answer: Any) -> Mapping[str, Any]:
        body = cls._object(answer)
        if body.get("success") is False:  # a refusal inside a 200 (RetailCRM's envelope)
            reason = str(body.get("errorMsg") or "success: false")
            raise MarketplaceRefused(marketplace=NAME, reason=reason[:300], status=200)
        return body
