"""Yandex Market FBS (Partner API): orders of the seller's campaigns in, their statuses
followed, boxes with marking codes and statuses sent back, labels fetched, stock pushed.

An order's ``orderId`` is its external id; the campaign (магазин) it came to is the
"warehouse" a connection maps to a Potok location: each FBS campaign ships from one
warehouse, and Market's stock method takes quantities per campaign. Items are named by the
seller's own ``offerId`` (shop SKU), which is what the item map and the stock push key by.

Orders are listed with ``POST /v1/businesses/{businessId}/orders`` (``getBusinessOrders``,
50 a page, ``pageToken``): the per-campaign ``GET /v2/campaigns/{id}/orders`` and
``.../orders/{orderId}`` are deprecated in Market's document and not used. Every path is in
:data:`PATHS` (first-mile shipments' and returns' in their own modules). Calls are signed
with the ``Api-Key`` header; errors answer
``{"status": "ERROR", "errors": [{code, message}]}``; the rate limit is answered **420**
(not 429), with the hour's limit's end in ``X-RateLimit-Resource-Until``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from potok import __version__
from potok.connectors.marketplaces.http import HttpConnector, MarketplaceHttp, RateLimit
from potok.connectors.marketplaces.interface import (
    CredentialsRefused,
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
from potok.connectors.marketplaces.yandex_market_first_mile import FirstMile
from potok.connectors.marketplaces.yandex_market_returns import MarketReturns
from potok.domain.marketplaces import Credentials, Marketplace

DEFAULT_URL = "https://api.partner.market.yandex.ru"
NAME = "Yandex Market"
LIMIT = RateLimit(burst=4, interval_s=0.36)
"""Orders and statuses: 10,000 requests an hour per method, at most 4 at once."""
STOCK_LIMIT = RateLimit(burst=4, interval_s=1.2)
"""Stocks: 100,000 SKUs a minute per campaign, 2,000 a request: 50 requests a minute."""
STOCK_BATCH = 2000
"""SKUs one ``offers/stocks`` request carries at most."""
PAGE = 50
"""Orders one page of ``getBusinessOrders`` holds, and ``orderIds`` one request names."""
STATUSES_AT_ONCE = 30
"""Orders one ``orders/status-update`` request carries at most."""
LOOK_BACK = timedelta(days=30)
"""``getBusinessOrders`` looks 30 days back at most; older changes are asked by id."""
MARGIN = timedelta(minutes=10)
"""Status changes are asked for from a little before the last successful poll."""
MOSCOW = ZoneInfo("Europe/Moscow")
"""Market's dates without a time zone (shipment days) are Moscow's."""
PROGRAMS = ("FBS", "EXPRESS")
"""The models whose orders the seller assembles: Potok imports these."""

PATHS = {
    "orders": "/v1/businesses/{business}/orders",
    "status": "/v2/campaigns/{campaign}/orders/{order}/status",
    "statuses": "/v2/campaigns/{campaign}/orders/status-update",
    "boxes": "/v2/campaigns/{campaign}/orders/{order}/boxes",
    "cancellation": "/v2/campaigns/{campaign}/orders/{order}/cancellation/accept",
    "labels": "/v2/campaigns/{campaign}/orders/{order}/delivery/labels",
    "stocks": "/v2/campaigns/{campaign}/offers/stocks",
}

CURRENCIES = {"RUR": "RUB", "BYR": "BYN"}
"""Market's currency codes that are not ISO 4217 (``RUR`` is the rouble)."""

_NOT_YET = {"PLACING", "RESERVED", "UNPAID", "PENDING"}
"""Statuses of an order the seller does not handle yet (being placed, not paid)."""
_SHIPPED = {"DELIVERY", "PICKUP"}
_RETURNED = {"RETURNED", "PARTIALLY_RETURNED"}


def state_of(status: str, substatus: str) -> MarketplaceState:
    """Potok's state of a Market order status and substatus."""
    if status == "CANCELLED":
        return MarketplaceState.CANCELLED
    if status in _RETURNED:
        return MarketplaceState.RETURNED
    if status == "DELIVERED":
        return MarketplaceState.DELIVERED
    if status in _SHIPPED or (status == "PROCESSING" and substatus == "SHIPPED"):
        return MarketplaceState.SHIPPED
    if status == "PROCESSING" and substatus == "READY_TO_SHIP":
        return MarketplaceState.IN_WORK
    return MarketplaceState.NEW


def words_of(order: Mapping[str, Any]) -> str:
    """Market's own words for where an order stands, as Potok keeps them:
    ``STATUS/SUBSTATUS``, with ``/cancel-requested`` while a customer's request to cancel
    waits for the seller."""
    words = f"{order.get('status') or ''}/{order.get('substatus') or ''}"
    if order.get("cancelRequested"):
        words += "/cancel-requested"
    return words[:100]


def _moment(value: Any) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=MOSCOW)
    return moment.astimezone(UTC)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ship_by(delivery: Mapping[str, Any]) -> datetime | None:
    """When Market's courier takes the order: the shipment's day and time, Moscow's."""
    shipment = delivery.get("shipment")
    if not isinstance(shipment, Mapping) or not shipment.get("shipmentDate"):
        return None
    day = date.fromisoformat(str(shipment["shipmentDate"]))
    at = time.fromisoformat(str(shipment["shipmentTime"])) if shipment.get("shipmentTime") else None
    return datetime.combine(day, at or time(0, 0), tzinfo=MOSCOW).astimezone(UTC)


def _money(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{value!r} is not an amount")
    try:
        return Decimal(str(value))
    except InvalidOperation as error:
        raise ValueError(f"{value!r} is not an amount") from error


def _address(delivery: Mapping[str, Any]) -> IncomingAddress | None:
    courier = delivery.get("courier")
    place = courier.get("address") if isinstance(courier, Mapping) else None
    if not isinstance(place, Mapping) or not place.get("street"):
        return None
    line = ", ".join(
        str(place[k]) for k in ("street", "house", "block", "apartment") if place.get(k)
    )
    gps = place.get("gps")
    latitude = gps.get("latitude") if isinstance(gps, Mapping) else None
    longitude = gps.get("longitude") if isinstance(gps, Mapping) else None
    return IncomingAddress(
        city=str(place.get("city") or "—")[:120],
        line=line[:255],
        latitude=float(latitude) if isinstance(latitude, int | float) else None,
        longitude=float(longitude) if isinstance(longitude, int | float) else None,
    )


def read_order(data: Mapping[str, Any]) -> IncomingOrder:
    """A Market order (``BusinessOrderDTO``) as an incoming order; ValueError, KeyError or
    TypeError when it cannot be read."""
    number = data["orderId"]
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise ValueError("orderId is not a positive number")
    campaign = data["campaignId"]
    if isinstance(campaign, bool) or not isinstance(campaign, int):
        raise ValueError("campaignId is not a number")
    items = data.get("items")
    if not isinstance(items, list) or not items:
        raise ValueError("an order without items")
    lines = []
    currencies = set()
    for item in items:
        offer = item["offerId"]
        if not isinstance(offer, str) or not offer.strip():
            raise ValueError("an item without offerId")
        count = item["count"]
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError(f"count {count!r} is not a positive whole number")
        prices = item.get("prices") or {}
        payment = prices.get("payment")
        if not isinstance(payment, Mapping):
            raise ValueError(f"offer {offer}: no prices.payment")
        paid = _money(payment.get("value"))
        cashback = prices.get("cashback")
        if isinstance(cashback, Mapping) and cashback.get("value") is not None:
            paid += _money(cashback.get("value"))  # points the customer paid with
        currency = str(payment.get("currencyId") or "")
        currencies.add(CURRENCIES.get(currency, currency))
        lines.append(
            IncomingLine(
                article=offer.strip(),
                barcodes=(),
                quantity=count,
                unit_price=(paid / count).quantize(Decimal("0.01")),
                marketplace_sku=offer.strip(),
                name=str(item.get("offerName") or "")[:255],
            )
        )
    if len(currencies) != 1 or not all(len(c) == 3 for c in currencies):
        raise ValueError(f"items in currencies {sorted(currencies)}")
    delivery = data.get("delivery")
    if not isinstance(delivery, Mapping):
        raise ValueError("the order has no delivery")
    required = {
        str(kind)
        for item in items
        for kind in item.get("requiredInstanceTypes") or ()
        if kind in ("CIS", "UIN", "RNPT", "GTD")
    }
    comment = "test order" if data.get("fake") else ""
    if data.get("notes"):
        comment = f"{comment}: {data['notes']}" if comment else str(data["notes"])
    status, substatus = str(data.get("status") or ""), str(data.get("substatus") or "")
    return IncomingOrder(
        external_id=str(number),
        created_at=_moment(data.get("creationDate")) or datetime.now(UTC),
        warehouse=str(campaign),
        currency=currencies.pop(),
        lines=lines,
        state=state_of(status, substatus),
        status=words_of(data),
        address=_address(delivery),
        comment=comment[:500],
        ship_by=_ship_by(delivery),
        required_meta=tuple(sorted(k.lower() for k in required)),
        raw=dict(data),
    )


def _seen(order: Mapping[str, Any]) -> StatusSeen:
    status, substatus = str(order.get("status") or ""), str(order.get("substatus") or "")
    return StatusSeen(str(order["orderId"]), state_of(status, substatus), words_of(order))


class YandexMarket(HttpConnector):
    """A Yandex Market cabinet (business) and its FBS campaigns."""

    MARKETPLACE = Marketplace.YANDEX_MARKET
    NAME = NAME
    LIMIT = LIMIT
    LIMITS: ClassVar[Mapping[str, RateLimit]] = {"stocks": STOCK_LIMIT}
    RATE_LIMITED = (420, 429)  # Market answers its limit 420

    def __init__(self, http: MarketplaceHttp, business: str, *, now: Any = None) -> None:
        self.http = http
        self.business = business
        self._now = now or (lambda: datetime.now(UTC))
        self._campaign_of: dict[str, str] = {}  # order id -> campaign id, as Market said

    @classmethod
    def connect(cls, base_url: str, credentials: Credentials, **options: Any) -> YandexMarket:
        headers = {"Api-Key": credentials.reveal(), "X-Market-Integration": f"Potok/{__version__}"}
        return cls(cls._client(base_url, headers, **options), credentials.client_id or "")

    # ------------------------------------------------------------------ orders in

    def new_orders(self) -> list[IncomingOrder | Malformed]:
        """Orders waiting for the seller: FBS and Express orders ``PROCESSING/STARTED``."""
        found: list[IncomingOrder | Malformed] = []
        condition = {
            "programTypes": list(PROGRAMS),
            "statuses": ["PROCESSING"],
            "substatuses": ["STARTED"],
        }
        for orders in self._pages(condition):
            for data in orders:
                found.append(self._read(data))
        return found

    def one(self, number: str) -> tuple[IncomingOrder | Malformed | None, StatusSeen] | None:
        """One order as Market has it now: to import (None while the customer is still
        placing or paying for it, or when it is not the seller's to assemble) and the status
        to follow; None when Market does not know it."""
        if not number.isdigit() or len(number) > 19:
            return None
        found = self._by_ids([number]).get(number)
        if found is None:
            return None
        seen = _seen(found)
        program = found.get("programType")
        if str(found.get("status")) in _NOT_YET or (program and program not in PROGRAMS):
            return None, seen
        return self._read(found), seen

    def _read(self, data: Mapping[str, Any]) -> IncomingOrder | Malformed:
        try:
            order = read_order(data)
        except (KeyError, ValueError, TypeError) as error:
            number = str(data.get("orderId") or "?")[:128]
            return Malformed(number, f"unreadable order: {error}", data)
        self._campaign_of[order.external_id] = order.warehouse
        return order

    def statuses(
        self, external_ids: Sequence[str], *, changed_since: datetime | None = None
    ) -> list[StatusSeen]:
        """What Market says about these orders: those changed since a little before
        ``changed_since`` (``dates.updateDateFrom``), or each by id (50 a request) when
        there is no such moment or it is older than Market looks back."""
        wanted = {i for i in external_ids if i.isdigit()}
        if not wanted:
            return []
        now = self._now()
        seen: dict[str, StatusSeen] = {}
        if changed_since is not None and now - changed_since < LOOK_BACK - MARGIN:
            condition = {
                "programTypes": list(PROGRAMS),
                "dates": {
                    "updateDateFrom": _stamp(changed_since - MARGIN),
                    "updateDateTo": _stamp(now + MARGIN),
                },
            }
            for orders in self._pages(condition):
                for data in orders:
                    if str(data.get("orderId")) in wanted:
                        seen[str(data["orderId"])] = _seen(data)
                        self._note_campaign(data)
            return list(seen.values())
        for number, data in self._by_ids(sorted(wanted)).items():
            seen[number] = _seen(data)
        return list(seen.values())

    def _by_ids(self, numbers: Sequence[str]) -> dict[str, Mapping[str, Any]]:
        """Market's orders of these ids (50 a request), by id."""
        found: dict[str, Mapping[str, Any]] = {}
        for start in range(0, len(numbers), PAGE):
            chunk = [int(n) for n in numbers[start : start + PAGE]]
            for orders in self._pages({"orderIds": chunk}):
                for data in orders:
                    if data.get("orderId") is not None:
                        found[str(data["orderId"])] = data
                        self._note_campaign(data)
        return found

    def _note_campaign(self, data: Mapping[str, Any]) -> None:
        campaign = data.get("campaignId")
        if isinstance(campaign, int) and not isinstance(campaign, bool):
            self._campaign_of[str(data.get("orderId"))] = str(campaign)

    def _pages(self, condition: Mapping[str, Any]) -> Iterator[list[Mapping[str, Any]]]:
        """The orders of a listing, page by page (``paging.nextPageToken``); a token Market
        hands out twice ends the listing rather than going round in circles."""
        token = ""
        given: set[str] = set()
        path = PATHS["orders"].format(business=self.business)
        while True:
            params: dict[str, Any] = {"limit": PAGE}
            if token:
                params["pageToken"] = token
            body = self.send("POST", path, json=condition, params=params)
            orders = body.get("orders")
            if not isinstance(orders, list):
                raise MarketplaceUnavailable(
                    marketplace=NAME, reason="the orders' answer has no 'orders'"
                )
            yield [o for o in orders if isinstance(o, Mapping)]
            paging = body.get("paging")
            token = str(paging.get("nextPageToken") or "") if isinstance(paging, Mapping) else ""
            if not token or token in given:
                return
            given.add(token)

    # ------------------------------------------------------------------ progress out

    def _campaigns(self, numbers: Sequence[str]) -> dict[str, Mapping[str, Any]]:
        """The orders as Market has them now (their campaign, item ids and status)."""
        return self._by_ids([n for n in numbers if n.isdigit()])

    def pack(self, orders: Sequence[Packed], batch: str | None) -> PackOutcome:
        """Each order's box layout (``setOrderBoxLayout``: one box with every packed item,
        its marking codes as ``instances[].cis``), then the orders ``READY_TO_SHIP``
        (``orders/status-update``, 30 a request per campaign) and what Market answered
        for each read."""
        outcome = PackOutcome(batch)
        current = self._campaigns([o.external_id for o in orders])
        ready: dict[str, list[str]] = {}
        for order in orders:
            data = current.get(order.external_id)
            if data is None:
                outcome.failed[order.external_id] = "Yandex Market does not know the order"
                continue
            status, substatus = str(data.get("status")), str(data.get("substatus"))
            if status != "PROCESSING" or substatus not in ("STARTED", "READY_TO_SHIP"):
                outcome.failed[order.external_id] = (
                    f"the order is {status}/{substatus} on Yandex Market: it cannot be packed"
                )
                continue
            box = self._box(order, data)
            if isinstance(box, str):
                outcome.failed[order.external_id] = box
                continue
            campaign = str(data["campaignId"])
            try:
                self.send(
                    "PUT",
                    PATHS["boxes"].format(campaign=campaign, order=order.external_id),
                    json={"boxes": [box], "allowRemove": False},
                    safe=True,  # the same layout sent twice is the same layout
                )
            except MarketplaceRefused as refused:
                if isinstance(refused, CredentialsRefused):
                    raise
                outcome.failed[order.external_id] = refused.detail
                continue
            if substatus == "STARTED":
                ready.setdefault(campaign, []).append(order.external_id)
        for campaign, numbers in ready.items():
            for start in range(0, len(numbers), STATUSES_AT_ONCE):
                chunk = numbers[start : start + STATUSES_AT_ONCE]
                outcome.failed.update(self._set_statuses(campaign, chunk, "READY_TO_SHIP"))
        return outcome

    def _box(self, order: Packed, data: Mapping[str, Any]) -> dict[str, Any] | str:
        """One box with the order's packed items by Market's item ids (its offers' ids in
        the order) and each unit's marking code; a reason when it cannot be laid out."""
        ids: dict[str, int] = {}
        for item in data.get("items") or ():
            if isinstance(item, Mapping) and isinstance(item.get("id"), int):
                ids[str(item.get("offerId") or "").strip()] = item["id"]
        items = []
        for packed in order.items:
            item_id = ids.get(packed.item)
            if item_id is None:
                return f"offer {packed.item} is not in the order on Yandex Market"
            entry: dict[str, Any] = {"id": item_id, "fullCount": packed.quantity}
            instances = [{"cis": code} for code in packed.marking_codes]
            instances += [{"uin": code} for code in packed.uins]
            if instances:
                entry["instances"] = instances
            items.append(entry)
        if not items:
            return "no packed items"
        return {"items": items}

    def _set_statuses(
        self, campaign: str, numbers: Sequence[str], substatus: str
    ) -> dict[str, str]:
        """Orders of one campaign moved to ``PROCESSING/substatus``; those Market did not
        move, with its words."""
        body = self.send(
            "POST",
            PATHS["statuses"].format(campaign=campaign),
            json={
                "orders": [
                    {"id": int(n), "status": "PROCESSING", "substatus": substatus} for n in numbers
                ]
            },
            safe=True,  # moving an order to where it is changes nothing
        )
        result = body.get("result")
        listed = result.get("orders") if isinstance(result, Mapping) else None
        said = {
            str(o.get("id")): o
            for o in (listed if isinstance(listed, list) else ())
            if isinstance(o, Mapping) and o.get("id") is not None
        }
        failed: dict[str, str] = {}
        for number in numbers:
            answer = said.get(number)
            if answer is None:
                failed[number] = "Yandex Market's answer does not mention the order"
            elif answer.get("updateStatus") != "OK":
                failed[number] = (
                    f"Yandex Market did not move the order to {substatus}: "
                    f"{answer.get('errorDetails') or answer.get('updateStatus') or 'no reason'}"
                )[:500]
        return failed

    def hand_over(self, batch: str | None, external_ids: Sequence[str]) -> None:
        """Market's courier takes the orders ready to ship: nothing to send."""

    def cancel(self, external_id: str) -> None:
        """``CANCELLED/SHOP_FAILED``: the seller cannot fulfil the order."""
        campaign = self._campaign(external_id)
        self.send(
            "PUT",
            PATHS["status"].format(campaign=campaign, order=external_id),
            json={"order": {"status": "CANCELLED", "substatus": "SHOP_FAILED"}},
            safe=False,
        )

    def answer_cancellation(self, external_id: str, *, accepted: bool, reason: str = "") -> None:
        """Accept a customer's request to cancel, or refuse it (``ORDER_IN_DELIVERY``,
        ``ORDER_DELIVERED``)."""
        campaign = self._campaign(external_id)
        body: dict[str, Any] = {"accepted": accepted}
        if not accepted:
            body["reason"] = reason or "ORDER_IN_DELIVERY"
        self.send(
            "PUT",
            PATHS["cancellation"].format(campaign=campaign, order=external_id),
            json=body,
            safe=True,
        )

    def _campaign(self, external_id: str) -> str:
        if external_id not in self._campaign_of:
            self._campaigns([external_id])
        campaign = self._campaign_of.get(external_id)
        if campaign is None:
            raise MarketplaceRefused(
                marketplace=NAME, reason=f"Yandex Market does not know order {external_id}"
            )
        return campaign

    def stickers(self, external_ids: Sequence[str]) -> list[Sticker]:
        """Each packed order's labels, one PDF with a label per box
        (``generateOrderLabels``); an order Market refuses is left for the next poll."""
        found: list[Sticker] = []
        for number in external_ids:
            try:
                campaign = self._campaign(number)
                answer = self.http.call(
                    "GET", PATHS["labels"].format(campaign=campaign, order=number)
                )
            except MarketplaceRefused as refused:
                if isinstance(refused, CredentialsRefused):
                    raise
                continue
            if not answer.content.startswith(b"%PDF"):
                continue
            found.append(Sticker(number, "application/pdf", answer.content, part_a=number))
        return found

    def push_stock(self, warehouse: str, levels: Sequence[StockLevel]) -> StockOutcome:
        """``PUT /v2/campaigns/{campaign}/offers/stocks``, 2,000 offers a request, each
        named by its ``offerId`` with one count. Market takes a request whole or refuses it
        whole (400 naming the offers), so a refused request's offers are all refused."""
        outcome = StockOutcome()
        if not warehouse.isdigit():
            outcome.refused.update(
                {level.sku: f"campaign '{warehouse}' is not a number" for level in levels}
            )
            return outcome
        at = _stamp(self._now())
        usable = [level for level in levels if level.key.strip()]
        for level in levels:
            if not level.key.strip():
                outcome.refused[level.sku] = "no offerId"
        for start in range(0, len(usable), STOCK_BATCH):
            chunk = usable[start : start + STOCK_BATCH]
            body = {
                "skus": [
                    {"sku": level.key, "items": [{"count": level.quantity, "updatedAt": at}]}
                    for level in chunk
                ]
            }
            try:
                self.send(
                    "PUT",
                    PATHS["stocks"].format(campaign=warehouse),
                    json=body,
                    family="stocks",
                )
            except MarketplaceRefused as refused:
                if isinstance(refused, CredentialsRefused):
                    raise
                outcome.requests += 1
                outcome.refused.update({level.sku: refused.detail[:300] for level in chunk})
                continue
            outcome.requests += 1
            outcome.accepted += len(chunk)
        return outcome

    def catalogue(self) -> list[ListedItem]:
        raise MarketplaceRefused(
            marketplace=NAME,
            reason="Potok maps Market's offers by the seller's offerId: map them with "
            "potok marketplaces map, or name products by the same SKU",
        )

    @property
    def first_mile(self) -> FirstMile:
        """The campaigns' first-mile shipments (отгрузки): list, confirm, acts, transfers."""
        return FirstMile(self)

    @property
    def returns(self) -> MarketReturns:
        """The campaigns' returns and unredeemed orders."""
        return MarketReturns(self)

    def send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Any = None,
        safe: bool = True,
        family: str = "default",
    ) -> Mapping[str, Any]:
        """A call whose answer is a JSON object (Market's ``{status, result}``)."""
        answer = self.http.call(method, path, json=json, params=params, safe=safe, family=family)
        return self._object(answer)

    def document(self, path: str, kinds: Sequence[bytes]) -> bytes:
        """A document Market makes (a PDF act, an Excel waybill): its bytes, which must
        begin with one of ``kinds``' signatures."""
        answer = self.http.call("GET", path)
        if not any(answer.content.startswith(kind) for kind in kinds):
            raise MarketplaceUnavailable(
                marketplace=NAME, reason=f"GET {path}: the answer is not the document asked for"
            )
        return answer.content
