"""Ozon FBS (Seller API): unfulfilled postings in, their statuses followed.

A posting (отправление) is what Potok imports as one order: ``posting_number`` is its
external id, its products its lines (the seller's ``offer_id`` names the SKU; ``sku`` is
Ozon's own id), prices are decimal strings in the seller's currency. All calls are POST
with JSON bodies, signed with ``Client-Id`` and ``Api-Key``; errors answer
``{code, message, details}``.

The paths and versions of every call are in :data:`PATHS`: Ozon retires method versions
(the v3 posting lists were switched off on 1 June 2026; Potok lists postings with
``/v4/posting/fbs/unfulfilled/list`` and ``/v4/posting/fbs/list``, paged by ``cursor``, 100
a page, prices as ``{amount, currency}``), and a newer version is a change here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
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

DEFAULT_URL = "https://api-seller.ozon.ru"
LIMIT = RateLimit(burst=50, interval_s=0.02)
"""50 requests a second per Client-Id."""

STOCK_LIMIT = RateLimit(burst=4, interval_s=0.75)
"""Stock updates: 80 requests a minute per seller account."""
STOCK_BATCH = 100
"""Product-warehouse pairs one stock request carries at most."""

PAGE = 1000
"""Products one catalogue request lists or describes."""
POSTINGS_PAGE = 100
"""Postings one page of the v4 posting lists holds at most."""
LOOK_BACK = timedelta(days=30)
"""How far back postings are listed (cutoff dates, status changes)."""
MARGIN = timedelta(minutes=10)
"""Status changes are asked for from a little before the last successful poll."""

PATHS = {
    "unfulfilled": "/v4/posting/fbs/unfulfilled/list",
    "list": "/v4/posting/fbs/list",
    "get": "/v3/posting/fbs/get",
    "ship": "/v4/posting/fbs/ship",
    "cancel": "/v2/posting/fbs/cancel",
    "cancel_reasons": "/v2/posting/fbs/cancel-reason/list",
    "stocks": "/v2/products/stocks",
    "products": "/v3/product/list",
    "product_info": "/v3/product/info/list",
    "exemplars": "/v6/fbs/posting/product/exemplar/create-or-get",
    "set_exemplars": "/v6/fbs/posting/product/exemplar/set",
    "exemplar_status": "/v5/fbs/posting/product/exemplar/status",
}
MARK_TYPES = (("marking_codes", "mandatory_mark"), ("imeis", "imei"), ("uins", "jw_uin"))
"""Potok's unit codes as Ozon names their kinds (``marks[].mark_type``)."""
CANCEL_REASON = 352
"""«Товар закончился на складе продавца»: the seller's reason Potok gives unless it is not
offered; then the first reason the seller may use."""

_NEW = {
    "awaiting_registration",
    "acceptance_in_progress",
    "awaiting_approve",
    "awaiting_packaging",
    "awaiting_verification",
}
_IN_WORK = {"awaiting_deliver", "not_accepted"}
_SHIPPED = {
    "delivering",
    "driver_pickup",
    "sent_by_seller",
    "arbitration",
    "client_arbitration",
}
_CANCELLED = {"cancelled", "cancelled_from_split_pending"}


def state_of(status: str, *, cancelled_after_ship: bool = False) -> MarketplaceState:
    """Potok's state of an Ozon posting status."""
    if status in _CANCELLED:
        return MarketplaceState.RETURNED if cancelled_after_ship else MarketplaceState.CANCELLED
    if status == "delivered":
        return MarketplaceState.DELIVERED
    if status in _SHIPPED:
        return MarketplaceState.SHIPPED
    if status in _IN_WORK:
        return MarketplaceState.IN_WORK
    return MarketplaceState.NEW


def _moment(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _state(posting: Mapping[str, Any]) -> MarketplaceState:
    cancellation = posting.get("cancellation") or {}
    after = (
        bool(cancellation.get("cancelled_after_ship"))
        if isinstance(cancellation, Mapping)
        else False
    )
    return state_of(str(posting.get("status") or ""), cancelled_after_ship=after)


def _price(product: Mapping[str, Any]) -> tuple[str, str]:
    """A product's unit price and currency: v4 lists give ``price: {amount, currency}``, the
    v3 methods a decimal text with ``currency_code`` beside it."""
    price = product["price"]
    if isinstance(price, Mapping):
        return str(price.get("amount")), str(price.get("currency") or "RUB")
    return str(price), str(product.get("currency_code") or "RUB")


def read_posting(data: Mapping[str, Any]) -> IncomingOrder:
    """An Ozon FBS posting as an incoming order; ValueError/KeyError/TypeError when unreadable."""
    number = data["posting_number"]
    if not isinstance(number, str) or not number:
        raise ValueError("posting_number is not a text")
    method = data.get("delivery_method") or {}
    warehouse = method.get("warehouse_id")
    if warehouse is None:
        raise ValueError("delivery_method.warehouse_id is missing")
    products = data.get("products")
    if not isinstance(products, list) or not products:
        raise ValueError("a posting without products")
    lines = []
    currencies = set()
    for product in products:
        amount, currency = _price(product)
        try:
            price = Decimal(amount).quantize(Decimal("0.01"))
        except InvalidOperation as error:
            raise ValueError(f"price {amount!r} is not a number") from error
        quantity = product["quantity"]
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise ValueError(f"quantity {quantity!r} is not a positive whole number")
        currencies.add(currency)
        lines.append(
            IncomingLine(
                article=str(product.get("offer_id") or ""),
                barcodes=(),
                quantity=quantity,
                unit_price=price,
                marketplace_sku=str(product.get("sku") or ""),
                name=str(product.get("name") or "")[:255],
            )
        )
    if len(currencies) != 1:
        raise ValueError(f"products in several currencies: {sorted(currencies)}")
    address = None
    customer = data.get("customer") or {}
    place = customer.get("address") if isinstance(customer, Mapping) else None
    if isinstance(place, Mapping) and place.get("address_tail"):
        address = IncomingAddress(
            city=str(place.get("city") or "—")[:120],
            line=str(place["address_tail"])[:255],
            latitude=place.get("latitude") if isinstance(place.get("latitude"), float) else None,
            longitude=place.get("longitude") if isinstance(place.get("longitude"), float) else None,
        )
    requirements = data.get("requirements") or {}
    meta = tuple(
        kind
        for kind, key in (
            ("mandatory_mark", "products_requiring_mandatory_mark"),
            ("imei", "products_requiring_imei"),
            ("jw_uin", "products_requiring_jw_uin"),
            ("gtd", "products_requiring_gtd"),
        )
        if requirements.get(key)
    )
    state = _state(data)
    return IncomingOrder(
        external_id=number,
        created_at=_moment(data.get("in_process_at")) or datetime.now(UTC),
        warehouse=str(warehouse),
        currency=currencies.pop(),
        lines=lines,
        state=state,
        status=str(data.get("status") or ""),
        group=str(data["order_number"]) if data.get("order_number") else None,
        address=address,
        ship_by=_moment(data.get("shipment_date")),
        required_meta=meta,
        raw=dict(data),
    )


class Ozon(HttpConnector):
    """An Ozon seller account (FBS)."""

    MARKETPLACE = Marketplace.OZON
    NAME = "Ozon"
    LIMIT = LIMIT
    LIMITS: ClassVar[Mapping[str, RateLimit]] = {"stocks": STOCK_LIMIT}

    def __init__(self, http: MarketplaceHttp, *, now: Any = None) -> None:
        self.http = http
        self._now = now or (lambda: datetime.now(UTC))

    @classmethod
    def connect(cls, base_url: str, credentials: Credentials, **options: Any) -> Ozon:
        headers = {"Client-Id": credentials.client_id or "", "Api-Key": credentials.reveal()}
        return cls(cls._client(base_url, headers, **options))

    def new_orders(self) -> list[IncomingOrder | Malformed]:
        now = self._now()
        found: list[IncomingOrder | Malformed] = []
        condition = {"cutoff_from": _stamp(now - LOOK_BACK), "cutoff_to": _stamp(now + LOOK_BACK)}
        for postings in self._pages(PATHS["unfulfilled"], condition):
            for posting in postings:
                try:
                    order = read_posting(posting)
                except (KeyError, ValueError, TypeError) as error:
                    number = str(posting.get("posting_number") or "?")[:128]
                    found.append(Malformed(number, f"unreadable posting: {error}", posting))
                    continue
                if order.state in (MarketplaceState.NEW, MarketplaceState.IN_WORK):
                    found.append(order)
        return found

    def statuses(
        self, external_ids: Sequence[str], *, changed_since: datetime | None = None
    ) -> list[StatusSeen]:
        wanted = set(external_ids)
        if not wanted:
            return []
        now = self._now()
        until = _stamp(now + MARGIN)  # whole seconds: a change this second is not cut off
        condition: dict[str, Any] = {"since": _stamp(now - LOOK_BACK), "to": until}
        if changed_since is not None:
            condition["last_changed_status_date"] = {
                "from": _stamp(changed_since - MARGIN),
                "to": until,
            }
        seen: dict[str, StatusSeen] = {}
        for postings in self._pages(PATHS["list"], condition):
            for posting in postings:
                if posting.get("posting_number") in wanted:
                    number = str(posting["posting_number"])
                    status = str(posting.get("status") or "")
                    substatus = str(posting.get("substatus") or "")
                    seen[number] = StatusSeen(
                        number, _state(posting), f"{status}/{substatus}" if substatus else status
                    )
        return list(seen.values())

    def posting(self, number: str) -> tuple[IncomingOrder | Malformed, StatusSeen] | None:
        """One posting as Ozon has it now (``/v3/posting/fbs/get``): as an order to import
        and as the status to follow; None when Ozon does not know it."""
        try:
            body = self._post(PATHS["get"], {"posting_number": number})
        except MarketplaceRefused as refused:
            if refused.context.get("status") == 404:
                return None
            raise
        posting = body.get("result")
        if not isinstance(posting, Mapping):
            raise MarketplaceUnavailable(
                marketplace="Ozon", reason="the posting's answer has no 'result'"
            )
        status = str(posting.get("status") or "")
        substatus = str(posting.get("substatus") or "")
        seen = StatusSeen(number, _state(posting), f"{status}/{substatus}" if substatus else status)
        try:
            return read_posting(posting), seen
        except (KeyError, ValueError, TypeError) as error:
            return Malformed(number, f"unreadable posting: {error}", posting), seen

    def _pages(self, path: str, condition: Mapping[str, Any]) -> Iterator[list[Mapping[str, Any]]]:
        """The postings of a v4 list, page by page: each answer names the ``cursor`` of the
        next page and whether there is one (``has_next``). A cursor Ozon hands out twice
        ends the listing rather than going round in circles."""
        cursor = ""
        given: set[str] = set()
        while True:
            body = self._post(
                path,
                {
                    "cursor": cursor,
                    "filter": condition,
                    "limit": POSTINGS_PAGE,
                    "sort_dir": "ASC",
                    "with": {"analytics_data": False, "financial_data": False},
                },
            )
            postings = body.get("postings")
            if not isinstance(postings, list):
                raise MarketplaceUnavailable(
                    marketplace="Ozon", reason=f"the answer of {path} has no 'postings'"
                )
            yield [p for p in postings if isinstance(p, Mapping)]
            cursor = str(body.get("cursor") or "")
            if not body.get("has_next") or not cursor or cursor in given:
                return
            given.add(cursor)

    def pack(self, orders: Sequence[Packed], batch: str | None) -> PackOutcome:
        """Each posting's unit codes first (marking codes, IMEI, UIN: set on Ozon's units of
        the posting, then their check read; a code Ozon refuses fails the posting, one it is
        still checking leaves it waiting), then the posting collected into one package
        (``/v4/posting/fbs/ship``) and read back: Ozon's 200 does not promise the posting
        moved on."""
        outcome = PackOutcome(batch)
        for order in orders:
            products = [
                {"product_id": int(item.item), "quantity": item.quantity}
                for item in order.items
                if item.item.isdigit()
            ]
            if not products:
                outcome.failed[order.external_id] = "no Ozon SKU for the packed items"
                continue
            try:
                if any(i.marking_codes or i.imeis or i.uins for i in order.items):
                    verdict = self._send_exemplars(order)
                    if verdict is not None:
                        refused, reason = verdict
                        (outcome.failed if refused else outcome.waiting)[order.external_id] = reason
                        continue
                self._post(
                    PATHS["ship"],
                    {"posting_number": order.external_id, "packages": [{"products": products}]},
                    safe=False,
                )
                after = self._post(PATHS["get"], {"posting_number": order.external_id})
            except MarketplaceRefused as refused:
                outcome.failed[order.external_id] = refused.detail
                continue
            result = after.get("result")
            status = result.get("status") if isinstance(result, Mapping) else None
            if status in _NEW:
                outcome.failed[order.external_id] = (
                    f"Ozon answered the shipping with 200 but the posting is still {status}"
                )
        return outcome

    def _send_exemplars(self, order: Packed) -> tuple[bool, str] | None:
        """Set the posting's unit codes on the units Ozon keeps for it and read Ozon's check:
        None when the posting may be collected, else (refused, reason)."""
        number = order.external_id
        slots = self._post(PATHS["exemplars"], {"posting_number": number})
        held: dict[int, Mapping[str, Any]] = {}
        for product in slots.get("products") or ():
            if isinstance(product, Mapping) and isinstance(product.get("product_id"), int):
                held[product["product_id"]] = product
        ours = {int(i.item): i for i in order.items if i.item.isdigit()}
        body = []
        for product_id, product in held.items():
            ids = [
                e["exemplar_id"]
                for e in product.get("exemplars") or ()
                if isinstance(e, Mapping) and isinstance(e.get("exemplar_id"), int)
            ]
            item = ours.get(product_id)
            if product.get("is_mandatory_mark_needed") and not (item and item.marking_codes):
                return True, (
                    f"Ozon needs a Честный ЗНАК code for every unit of SKU {product_id}; mark "
                    "the product as needing marking codes in Potok and pack the parcel again"
                )
            units = max((len(getattr(item, f)) for f, _ in MARK_TYPES), default=0) if item else 0
            if units > len(ids):
                return True, (
                    f"Ozon keeps {len(ids)} units of SKU {product_id} for the posting, Potok "
                    f"packed {units} with codes"
                )
            exemplars = []
            for n, exemplar_id in enumerate(ids):
                marks = [
                    {"mark": getattr(item, field)[n], "mark_type": kind}
                    for field, kind in MARK_TYPES
                    if item is not None and n < len(getattr(item, field))
                ]
                exemplar: dict[str, Any] = {"exemplar_id": exemplar_id, "marks": marks}
                if product.get("is_gtd_needed"):
                    exemplar["is_gtd_absent"] = True
                if product.get("is_rnpt_needed"):
                    exemplar["is_rnpt_absent"] = True
                exemplars.append(exemplar)
            body.append({"product_id": product_id, "exemplars": exemplars})
        missing = sorted(set(ours) - set(held))
        if missing:
            return True, f"Ozon keeps no units of SKU {missing[0]} for the posting"
        self._post(PATHS["set_exemplars"], {"posting_number": number, "products": body})
        return _exemplar_verdict(self._post(PATHS["exemplar_status"], {"posting_number": number}))

    def hand_over(self, batch: str | None, external_ids: Sequence[str]) -> None:
        """Ozon's courier takes collected postings: nothing to send."""

    def stickers(self, external_ids: Sequence[str]) -> list[Sticker]:
        return []  # Ozon has no per-order sticker Potok fetches

    def cancel(self, external_id: str) -> None:
        reasons = self._post(PATHS["cancel_reasons"], {}).get("result") or []
        usable = [
            r["id"]
            for r in reasons
            if isinstance(r, Mapping)
            and r.get("is_available_for_cancellation")
            and r.get("type_id") == "seller"
            and isinstance(r.get("id"), int)
        ]
        if not usable:
            raise MarketplaceRefused(marketplace="Ozon", reason="no cancel reason is offered")
        reason = CANCEL_REASON if CANCEL_REASON in usable else usable[0]
        self._post(
            PATHS["cancel"],
            {
                "posting_number": external_id,
                "cancel_reason_id": reason,
                "cancel_reason_message": "Cancelled in Potok",
            },
            safe=False,
        )

    def catalogue(self) -> list[ListedItem]:
        """The seller's products not in the archive: ``/v3/product/list`` pages (by
        ``last_id``) name each ``product_id`` with its ``offer_id``; ``/v3/product/info/list``
        (1,000 a request) adds the ``sku`` orders name and the barcodes."""
        ids: list[str] = []
        last = ""
        seen_pages: set[str] = set()
        while True:
            body = self._post(
                PATHS["products"],
                {"filter": {"visibility": "ALL"}, "last_id": last, "limit": PAGE},
            )
            result = body.get("result")
            items = result.get("items") if isinstance(result, Mapping) else None
            if not isinstance(result, Mapping) or not isinstance(items, list):
                raise MarketplaceUnavailable(
                    marketplace="Ozon", reason="the products' answer has no 'result.items'"
                )
            for item in items:
                if (
                    isinstance(item, Mapping)
                    and isinstance(item.get("product_id"), int)
                    and not item.get("archived")
                ):
                    ids.append(str(item["product_id"]))
            last = str(result.get("last_id") or "")
            if len(items) < PAGE or not last or last in seen_pages:
                break
            seen_pages.add(last)
        listed: dict[str, ListedItem] = {}
        for start in range(0, len(ids), PAGE):
            body = self._post(PATHS["product_info"], {"product_id": ids[start : start + PAGE]})
            for info in body.get("items") or ():
                if not isinstance(info, Mapping):
                    continue
                product, sku = info.get("id"), info.get("sku")
                if not isinstance(product, int) or not isinstance(sku, int) or not sku:
                    continue  # a card Ozon has not given a SKU yet: nothing orders it
                barcodes = info.get("barcodes")
                listed[str(product)] = ListedItem(
                    article=str(info.get("offer_id") or ""),
                    item=str(sku),
                    product=str(product),
                    barcodes=tuple(str(b) for b in barcodes if b)
                    if isinstance(barcodes, list)
                    else (),
                )
        return list(listed.values())

    def push_stock(self, warehouse: str, levels: Sequence[StockLevel]) -> StockOutcome:
        """``/v2/products/stocks``, 100 product-warehouse pairs a request, each named by
        ``product_id`` alone (with ``offer_id`` too, Ozon would go by the article). Ozon
        answers 200 with a result per item: ``updated`` or its ``errors``, read one by one
        (``TOO_MANY_REQUESTS`` means the same pair was set less than 30 seconds ago)."""
        outcome = StockOutcome()
        if not warehouse.isdigit():
            outcome.refused.update(
                {level.sku: f"Ozon warehouse '{warehouse}' is not a number" for level in levels}
            )
            return outcome
        usable = []
        for level in levels:
            if level.key.isdigit():
                usable.append(level)
            else:
                outcome.refused[level.sku] = f"product_id '{level.key}' is not a number"
        for start in range(0, len(usable), STOCK_BATCH):
            chunk = usable[start : start + STOCK_BATCH]
            body = {
                "stocks": [
                    {
                        "product_id": int(level.key),
                        "stock": level.quantity,
                        "warehouse_id": int(warehouse),
                    }
                    for level in chunk
                ]
            }
            answer = self._post(PATHS["stocks"], body, family="stocks")
            outcome.requests += 1
            results = answer.get("result")
            said: dict[str, Mapping[str, Any]] = {}
            for result in results if isinstance(results, list) else ():
                if isinstance(result, Mapping) and result.get("product_id") is not None:
                    said[str(result["product_id"])] = result
            for level in chunk:
                result = said.get(level.key)
                if result is None:
                    outcome.refused[level.sku] = "Ozon's answer does not mention the product"
                elif result.get("updated"):
                    outcome.accepted += 1
                elif _only_too_soon(result):
                    outcome.later[level.sku] = _item_errors(result)
                else:
                    outcome.refused[level.sku] = _item_errors(result)
        return outcome

    def _post(
        self, path: str, body: Mapping[str, Any], *, safe: bool = True, family: str = "default"
    ) -> Mapping[str, Any]:
        answer = self.http.call("POST", path, json=body, safe=safe, family=family)
        try:
            data = answer.json()
        except ValueError:
            data = None
        if not isinstance(data, Mapping):
            raise MarketplaceUnavailable(
                marketplace="Ozon", reason="the answer is not a JSON object"
            )
        return data


def _only_too_soon(result: Mapping[str, Any]) -> bool:
    """Whether Ozon refused an item only because it was set less than 30 seconds ago
    (``TOO_MANY_REQUESTS``): sent again later, not a refusal anyone must act on."""
    errors = result.get("errors")
    codes = {
        str(e.get("code") or "")
        for e in (errors if isinstance(errors, list) else ())
        if isinstance(e, Mapping)
    }
    return codes == {"TOO_MANY_REQUESTS"}


def _item_errors(result: Mapping[str, Any]) -> str:
    """Ozon's reasons for not updating one item (``errors: [{code, message}]``)."""
    errors = result.get("errors")
    words = [
        ": ".join(str(e[k]) for k in ("code", "message") if e.get(k))
        for e in (errors if isinstance(errors, list) else ())
        if isinstance(e, Mapping)
    ]
    return ("Ozon did not update the stock: " + ("; ".join(w for w in words if w) or "no reason"))[
        :300
    ]


def _short(mark: str) -> str:
    """A marking code as people compare it: GTIN and serial, without the crypto tail."""
    return mark.split("\x1d", 1)[0][:40]


def _exemplar_verdict(status: Mapping[str, Any]) -> tuple[bool, str] | None:
    """Ozon's check of a posting's unit codes (``/v5/.../exemplar/status``): None when
    every code passed and the posting may be collected; (True, what to fix) when Ozon
    named errors; (False, why) while it is still checking."""
    refused: list[str] = []
    checking = False
    for product in status.get("products") or ():
        if not isinstance(product, Mapping):
            continue
        for exemplar in product.get("exemplars") or ():
            if not isinstance(exemplar, Mapping):
                continue
            for mark in exemplar.get("marks") or ():
                if not isinstance(mark, Mapping):
                    continue
                errors = [str(e) for e in mark.get("error_codes") or ()]
                if errors:
                    refused.append(
                        f"{mark.get('mark_type') or 'code'} {_short(str(mark.get('mark') or ''))}"
                        f" of SKU {product.get('product_id')}: {', '.join(errors)}"
                    )
                elif mark.get("check_status") != "passed":
                    checking = True
            for what in ("gtd", "rnpt", "weight"):
                errors = [str(e) for e in exemplar.get(f"{what}_error_codes") or ()]
                if errors:
                    sku = product.get("product_id")
                    refused.append(f"{what} of SKU {sku}: {', '.join(errors)}")
    if refused:
        return True, (
            "Ozon refused the unit codes: "
            + "; ".join(refused)
            + ". Pack the parcel again with the right codes; they are sent at the next poll"
        )[:2000]
    overall = str(status.get("status") or "")
    if overall == "ship_not_available":
        return True, "Ozon does not let the posting be collected (ship_not_available)"
    if checking or overall == "validation_in_process":
        return False, "Ozon is still checking the unit codes; asked again at the next poll"
    return None
