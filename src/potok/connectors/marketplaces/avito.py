"""Avito (order-management and stock-management APIs): orders polled in (Avito has no order
webhook), confirmed, their Честный ЗНАК codes and labels, cancellation, stock per listing.

Avito signs requests with a short-lived ``Bearer`` token from ``POST /token``
(``client_credentials``: the connection's Client ID and, as its sealed token, the Client
Secret); the client asks for one at its first call and again when Avito answers 401.
An order's ``id`` is its external id; its items are Avito listings (``avitoId``), which the
item map and the stock push key by. Avito has no warehouses of its own: an account ships
from one place, which the connection maps under the name :data:`WAREHOUSE`. Every path is
in :data:`PATHS`; errors answer ``{code, message}`` (``{message}`` for stocks).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

import httpx

from potok.connectors.marketplaces.http import (
    BucketPool,
    HttpConnector,
    MarketplaceHttp,
    RateLimit,
)
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
from potok.domain.marketplaces import Credentials, Marketplace

DEFAULT_URL = "https://api.avito.ru"
NAME = "Avito"
WAREHOUSE = "avito"
"""The one "warehouse" of an Avito account, as its connection maps it to a Potok location."""
LIMIT = RateLimit(burst=5, interval_s=0.6)
"""Transitions, markings, tracking numbers: 100 requests a minute each."""
LIST_LIMIT = RateLimit(burst=10, interval_s=0.12)
"""The orders' list: 500 requests a minute."""
STOCK_LIMIT = RateLimit(burst=5, interval_s=0.6)
"""Stocks: 100 requests a minute, 200 listings a request."""
STOCK_BATCH = 200
PAGE = 20
"""Orders one page of the list holds at most."""
IDS_AT_ONCE = 20
LABELS_AT_ONCE = 50
MARKS_AT_ONCE = 50
"""Listings of an order one markings request carries at most."""

PATHS = {
    "token": "/token",
    "orders": "/order-management/1/orders",
    "transition": "/order-management/1/order/applyTransition",
    "markings": "/order-management/1/markings",
    "labels": "/order-management/1/orders/labels",
    "label": "/order-management/1/orders/labels/{task}/download",
    "tracking": "/order-management/1/order/setTrackingNumber",
    "courier_ranges": "/order-management/1/order/getCourierDeliveryRange",
    "courier_range": "/order-management/1/order/setCourierDeliveryRange",
    "cnc": "/order-management/1/order/cncSetDetails",
    "stocks": "/stock-management/1/stocks",
}

_NEW = {"on_confirmation"}
_IN_WORK = {"ready_to_ship"}
_SHIPPED = {"in_transit", "in_dispute"}
_DELIVERED = {"delivered", "closed"}


def state_of(status: str) -> MarketplaceState:
    """Potok's state of an Avito order status."""
    if status == "canceled":
        return MarketplaceState.CANCELLED
    if status == "on_return":
        return MarketplaceState.RETURNED
    if status in _DELIVERED:
        return MarketplaceState.DELIVERED
    if status in _SHIPPED:
        return MarketplaceState.SHIPPED
    if status in _IN_WORK:
        return MarketplaceState.IN_WORK
    return MarketplaceState.NEW


def _moment(value: Any) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _amount(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{value!r} is not an amount")
    try:
        return Decimal(str(value))
    except InvalidOperation as error:
        raise ValueError(f"{value!r} is not an amount") from error


def read_order(data: Mapping[str, Any]) -> IncomingOrder:
    """An Avito order as an incoming order; ValueError, KeyError or TypeError when it
    cannot be read."""
    number = data["id"]
    if not isinstance(number, str) or not number.strip() or len(number) > 128:
        raise ValueError("id is not a text")
    items = data.get("items")
    if not isinstance(items, list) or not items:
        raise ValueError("an order without items")
    lines = []
    for item in items:
        listing = item["avitoId"]
        if not isinstance(listing, str) or not listing.isdigit():
            raise ValueError(f"avitoId {listing!r} is not a listing id")
        count = item["count"]
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError(f"count {count!r} is not a positive whole number")
        prices = item.get("prices") or {}
        price = _amount(prices.get("price"))
        lines.append(
            IncomingLine(
                article=str(item.get("id") or ""),
                barcodes=(),
                quantity=count,
                unit_price=price.quantize(Decimal("0.01")),
                marketplace_sku=listing,
                name=str(item.get("title") or "")[:255],
            )
        )
    delivery = data.get("delivery") or {}
    terminal = delivery.get("terminalInfo") if isinstance(delivery, Mapping) else None
    address = None
    if isinstance(terminal, Mapping) and terminal.get("address"):
        address = IncomingAddress(city="—", line=str(terminal["address"])[:255])
    schedules = data.get("schedules") or {}
    ship_by = _moment(schedules.get("shipTill")) if isinstance(schedules, Mapping) else None
    status = str(data.get("status") or "")
    service = delivery.get("serviceType") if isinstance(delivery, Mapping) else None
    return IncomingOrder(
        external_id=number,
        created_at=_moment(data.get("createdAt")) or datetime.now(UTC),
        warehouse=WAREHOUSE,
        currency="RUB",
        lines=lines,
        state=state_of(status),
        status=status,
        address=address,
        comment=f"delivery {service}" if service else "",
        ship_by=ship_by,
        raw=dict(data),
    )


class Avito(HttpConnector):
    """An Avito seller account."""

    MARKETPLACE = Marketplace.AVITO
    NAME = NAME
    LIMIT = LIMIT
    LIMITS: ClassVar[Mapping[str, RateLimit]] = {"list": LIST_LIMIT, "stocks": STOCK_LIMIT}

    def __init__(
        self,
        http: MarketplaceHttp,
        client_id: str,
        secret: str,
        *,
        pool: BucketPool | None = None,
        account: str = "",
    ) -> None:
        self.http = http
        self._client_id = client_id
        self._secret = secret
        self._pool = pool  # keeps the account's token between polls of this process
        self._account = account
        self._token: str | None = pool.token(account) if pool is not None else None

    @classmethod
    def connect(cls, base_url: str, credentials: Credentials, **options: Any) -> Avito:
        return cls(
            cls._client(base_url, {}, **options),
            credentials.client_id or "",
            credentials.reveal(),
            pool=options.get("pool"),
            account=str(options.get("account") or ""),
        )

    # ------------------------------------------------------------------ signing in

    def _sign_in(self) -> str:
        self.http.sign("Authorization", None)  # the token request carries no old token
        answer = self.http.call(
            "POST",
            PATHS["token"],
            data={
                "grant_type": "client_credentials",
                "client_id": self._client_id,
                "client_secret": self._secret,
            },
        )
        try:
            body = answer.json()
        except ValueError:
            body = None
        token = body.get("access_token") if isinstance(body, Mapping) else None
        if not isinstance(token, str) or not token:
            raise CredentialsRefused(marketplace=NAME, reason="Avito gave no access_token")
        lives = body.get("expires_in") if isinstance(body, Mapping) else None
        self._token = token
        if self._pool is not None:  # renewed an hour before Avito says it ends
            life = float(lives) if isinstance(lives, int | float) else 3600.0
            self._pool.keep_token(self._account, token, max(0.0, life - 3600.0))
        return token

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A call with the account's bearer token; a 401 signs in once more and tries
        again (the token lives a day)."""
        for attempt in (1, 2):
            token = self._token or self._sign_in()
            self.http.sign("Authorization", f"Bearer {token}")
            try:
                return self.http.call(method, path, **kwargs)
            except CredentialsRefused:
                if attempt == 2:
                    raise
                self._token = None
                if self._pool is not None:
                    self._pool.keep_token(self._account, None)
        raise AssertionError("unreachable")

    def _json(self, method: str, path: str, **kwargs: Any) -> Mapping[str, Any]:
        return self._object(self._call(method, path, **kwargs))

    # ------------------------------------------------------------------ orders in

    def new_orders(self) -> list[IncomingOrder | Malformed]:
        """Orders waiting for the seller: to confirm, or confirmed and waiting to ship."""
        found: list[IncomingOrder | Malformed] = []
        statuses = [("statuses", s) for s in sorted(_NEW | _IN_WORK)]
        for orders in self._pages(statuses):
            for data in orders:
                try:
                    found.append(read_order(data))
                except (KeyError, ValueError, TypeError) as error:
                    number = str(data.get("id") or "?")[:128]
                    found.append(Malformed(number, f"unreadable order: {error}", data))
        return found

    def statuses(
        self, external_ids: Sequence[str], *, changed_since: datetime | None = None
    ) -> list[StatusSeen]:
        """What Avito says about these orders, asked by id (20 a request)."""
        seen: dict[str, StatusSeen] = {}
        ids = sorted(set(external_ids))
        for start in range(0, len(ids), IDS_AT_ONCE):
            chosen = [("ids", i) for i in ids[start : start + IDS_AT_ONCE]]
            for orders in self._pages(chosen):
                for data in orders:
                    number, status = str(data.get("id") or ""), str(data.get("status") or "")
                    if number in external_ids:
                        seen[number] = StatusSeen(number, state_of(status), status)
        return list(seen.values())

    def _pages(self, condition: list[tuple[str, str]]) -> Iterator[list[Mapping[str, Any]]]:
        """The orders of a listing, page by page while Avito says ``hasMore`` (a page that
        brings nothing new ends it rather than going round in circles)."""
        page = 1
        given: set[str] = set()
        while True:
            params = [*condition, ("page", str(page)), ("limit", str(PAGE))]
            body = self._json("GET", PATHS["orders"], params=params, family="list")
            orders = body.get("orders")
            if not isinstance(orders, list):
                raise MarketplaceUnavailable(marketplace=NAME, reason="no 'orders' in the answer")
            fresh = [o for o in orders if isinstance(o, Mapping) and str(o.get("id")) not in given]
            yield fresh
            given.update(str(o.get("id")) for o in fresh)
            if not body.get("hasMore") or not fresh:
                return
            page += 1

    # ------------------------------------------------------------------ progress out

    def confirm(self, external_id: str) -> None:
        """The seller takes the order (``confirm``)."""
        self._transition(external_id, "confirm")

    def _transition(self, external_id: str, transition: str) -> None:
        body = self._json(
            "POST",
            PATHS["transition"],
            json={"orderId": external_id, "transition": transition},
            safe=False,
        )
        if body.get("success") is False:
            raise MarketplaceRefused(
                marketplace=NAME, reason=f"Avito did not apply '{transition}' to {external_id}"
            )

    def pack(self, orders: Sequence[Packed], batch: str | None) -> PackOutcome:
        """Each order's Честный ЗНАК codes, per listing (``/markings``, read back item by
        item); the order is then ready for its label. Orders without codes need nothing."""
        outcome = PackOutcome(batch)
        for order in orders:
            marks = [
                {"orderId": order.external_id, "itemId": item.item, "markings": list(chunk)}
                for item in order.items
                for chunk in _tens(item.marking_codes)
            ]
            if not marks:
                continue
            try:
                answer = self._json("POST", PATHS["markings"], json={"markings": marks})
            except MarketplaceRefused as refused:
                if isinstance(refused, CredentialsRefused):
                    raise
                outcome.failed[order.external_id] = refused.detail
                continue
            errors = [
                f"listing {r.get('itemId')}: {r.get('error') or 'refused'}"
                for r in answer.get("results") or ()
                if isinstance(r, Mapping) and not r.get("success")
            ]
            if errors:
                outcome.failed[order.external_id] = (
                    "Avito refused the marking codes: " + "; ".join(errors)
                )[:2000]
        return outcome

    def hand_over(self, batch: str | None, external_ids: Sequence[str]) -> None:
        """The parcel goes to Avito's delivery at its dispatch number: nothing to send."""

    def cancel(self, external_id: str) -> None:
        self._transition(external_id, "reject")

    def set_tracking_number(self, external_id: str, number: str) -> None:
        """The tracking number of a parcel the seller's own partner carries (DBS)."""
        body = self._json(
            "POST",
            PATHS["tracking"],
            json={"orderId": external_id, "trackingNumber": number},
        )
        if body.get("success") is False:
            error = body.get("error")
            said = error.get("message") if isinstance(error, Mapping) else None
            code = error.get("code") if isinstance(error, Mapping) else None
            reason = f"{code}: {said}" if code and said else str(said or code or "refused")
            raise MarketplaceRefused(marketplace=NAME, reason=f"tracking number {reason}")

    def tell_tracking(self, numbers: Mapping[str, str]) -> dict[str, str]:
        """Each order's tracking number, where Avito asks for one (``availableActions``
        ``setTrackNumber`` or ``fixTrackNumber``: the seller's own partner carries it, DBS);
        orders Avito's own delivery carries are left alone. Returns the orders Avito refused
        the number of, with its words (``incorrect_number``, ``already_set``)."""
        wanted = {k: v for k, v in numbers.items() if v}
        refused: dict[str, str] = {}
        for number, actions in self._actions(sorted(wanted)).items():
            if not actions & {"setTrackNumber", "fixTrackNumber"}:
                continue
            try:
                self.set_tracking_number(number, wanted[number])
            except CredentialsRefused:
                raise
            except MarketplaceRefused as error:
                refused[number] = error.detail
        return refused

    def _actions(self, external_ids: Sequence[str]) -> dict[str, set[str]]:
        """What Avito allows the seller to do with each order now (``availableActions``)."""
        found: dict[str, set[str]] = {}
        for start in range(0, len(external_ids), IDS_AT_ONCE):
            chosen = [("ids", i) for i in external_ids[start : start + IDS_AT_ONCE]]
            for orders in self._pages(chosen):
                for data in orders:
                    listed = data.get("availableActions") or ()
                    found[str(data.get("id"))] = {
                        str(a.get("name")) for a in listed if isinstance(a, Mapping)
                    }
        return found

    def order(self, external_id: str) -> Mapping[str, Any] | None:
        """One order as Avito has it now; None when Avito does not know it."""
        for orders in self._pages([("ids", external_id)]):
            for data in orders:
                if str(data.get("id")) == external_id:
                    return data
        return None

    def courier_ranges(self, external_id: str, address: str = "") -> Mapping[str, Any]:
        """When Avito's courier can come for the parcel (``getCourierDeliveryRange``):
        ``result`` with the seller's address, name, phone and ``dateOptions``."""
        params = [("orderId", external_id)]
        if address:
            params.append(("address", address))
        body = self._json("GET", PATHS["courier_ranges"], params=params)
        result = body.get("result")
        if not isinstance(result, Mapping):
            raise MarketplaceUnavailable(marketplace=NAME, reason="no 'result' in the answer")
        return result

    def choose_courier_range(
        self,
        external_id: str,
        *,
        start: datetime,
        end: datetime,
        interval: str,
        address: str,
        address_details: str,
        name: str,
        phone: str,
    ) -> None:
        """The courier's visit (``setCourierDeliveryRange``): an offered interval
        (``fixed``) or as soon as possible (``asap``); again to change it before pick-up."""
        body: dict[str, Any] = {
            "orderId": external_id,
            "address": address,
            "startDate": _avito_time(start),
            "endDate": _avito_time(end),
            "intervalType": interval,
            "name": name,
            "phone": phone,
        }
        if address_details:
            body["addressDetails"] = address_details
        answer = self._json("POST", PATHS["courier_range"], json=body, safe=True)
        if answer.get("success") is False:
            raise MarketplaceRefused(marketplace=NAME, reason="Avito did not take the interval")

    def set_pickup_details(
        self, external_id: str, *, booking_days: int, address: str, details: str
    ) -> None:
        """A click-and-collect order prepared (``cncSetDetails``): where the customer
        collects it, how many days it is kept, a message for the customer."""
        found = self.order(external_id)
        if found is None:
            raise MarketplaceRefused(marketplace=NAME, reason=f"Avito has no order {external_id}")
        body: dict[str, Any] = {
            "id": external_id,
            "marketplaceId": str(found.get("marketplaceId") or external_id),
            "bookingPeriod": booking_days,
        }
        if address:
            body["address"] = address
        if details:
            body["details"] = details
        answer = self._json("POST", PATHS["cnc"], json=body, safe=True)
        result = answer.get("result")
        if isinstance(result, Mapping) and result.get("success") is False:
            raise MarketplaceRefused(marketplace=NAME, reason="Avito did not take the details")

    def stickers(self, external_ids: Sequence[str]) -> list[Sticker]:
        """The label of each order: a generation task per order (``/orders/labels``), its
        PDF downloaded; a task Avito has not finished is asked for again next poll."""
        found: list[Sticker] = []
        for number in external_ids:
            try:
                task = self._json("POST", PATHS["labels"], json={"orderIDs": [number]})
                answer = self._call(
                    "GET", PATHS["label"].format(task=str(task.get("taskID") or "-"))
                )
            except CredentialsRefused:
                raise
            except MarketplaceRefused:
                continue  # not generated yet, or not a pickup-point order
            if answer.content.startswith(b"%PDF"):
                found.append(Sticker(number, "application/pdf", answer.content, part_a=number[:32]))
        return found

    def push_stock(self, warehouse: str, levels: Sequence[StockLevel]) -> StockOutcome:
        """``PUT /stock-management/1/stocks``, 200 listings a request by ``item_id``; Avito
        answers per listing (``success``, ``errors``)."""
        outcome = StockOutcome()
        usable = []
        for level in levels:
            if level.key.isdigit():
                usable.append(level)
            else:
                outcome.refused[level.sku] = f"listing '{level.key}' is not a number"
        for start in range(0, len(usable), STOCK_BATCH):
            chunk = usable[start : start + STOCK_BATCH]
            body = {
                "stocks": [
                    {"item_id": int(level.key), "quantity": min(level.quantity, 999_999)}
                    for level in chunk
                ]
            }
            answer = self._json("PUT", PATHS["stocks"], json=body, family="stocks")
            outcome.requests += 1
            said = {
                str(s.get("item_id")): s
                for s in answer.get("stocks") or ()
                if isinstance(s, Mapping)
            }
            for level in chunk:
                result = said.get(level.key)
                if result is None:
                    outcome.refused[level.sku] = "Avito's answer does not mention the listing"
                elif result.get("success"):
                    outcome.accepted += 1
                else:
                    errors = "; ".join(str(e) for e in result.get("errors") or ()) or "no reason"
                    outcome.refused[level.sku] = f"Avito did not take the stock: {errors}"[:300]
        return outcome

    def catalogue(self) -> list[ListedItem]:
        raise MarketplaceRefused(
            marketplace=NAME,
            reason="map Avito's listings to SKUs with potok marketplaces map",
        )


def _avito_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _tens(codes: Sequence[str]) -> Iterator[Sequence[str]]:
    """Codes in tens: Avito takes at most ten for a listing in one entry."""
    for start in range(0, len(codes), 10):
        yield codes[start : start + 10]
