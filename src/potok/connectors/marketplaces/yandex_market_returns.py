"""Yandex Market's returns (возвраты: the customer sends items back) and unredeemed orders
(невыкупы: the customer never collected the parcel) of an FBS campaign, as Market reports
them: each names its order, its items by the seller's ``offerId`` (``shopSku``) with their
count, marking codes and Market's reason, where the money stands (``refundStatus``) and
where the parcel is (``shipmentStatus``: created, in transit, ready for the seller to pick
up, picked, cancelled...).

Listed by the day they last changed (``getReturns``: ``fromDate``/``toDate``, 100 a page,
``pageToken``; the deprecated ``from_date``/``to_date`` are not sent), read one by one with
``getReturn``. Every path is in :data:`PATHS`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from potok.connectors.marketplaces.interface import MarketplaceRefused, MarketplaceUnavailable

if TYPE_CHECKING:
    from potok.connectors.marketplaces.yandex_market import YandexMarket

PATHS = {
    "returns": "/v2/campaigns/{campaign}/returns",
    "return": "/v2/campaigns/{campaign}/orders/{order}/returns/{number}",
}
PAGE = 100
NAME = "Yandex Market"
RETURN, UNREDEEMED = "RETURN", "UNREDEEMED"

ON_ITS_WAY = frozenset(
    {"RECEIVED", "IN_TRANSIT", "READY_FOR_PICKUP", "PICKED", "FULFILMENT_RECEIVED"}
)
"""Where Market says the parcel has left the customer: the return is going ahead."""
CALLED_OFF = frozenset({"CANCELLED", "EXPIRED"})
"""Shipment statuses that end a return before anything comes back."""
REFUSED = frozenset({"CANCELLED", "REJECTED"})
"""Refund statuses that end a return: cancelled by the customer, rejected by moderation."""
REASONS = {
    "BAD_QUALITY": "defective",
    "DOES_NOT_FIT": "wrong_size",
    "WRONG_ITEM": "wrong_item",
    "DAMAGE_DELIVERY": "damaged_in_transit",
    "CONTENT_FAIL": "not_as_described",
}
"""Market's reasons (``decisions[].reasonType``) as Potok's default return reasons; any other
is the customer's change of mind."""


@dataclass(frozen=True, slots=True)
class MarketReturnLine:
    offer: str  # the seller's offerId (shopSku)
    count: int
    reason: str  # Market's reasonType, "" when it gave none
    codes: tuple[str, ...] = ()  # the units' marking codes (instances[].cis)


@dataclass(frozen=True, slots=True)
class MarketReturn:
    """One return or unredeemed order as Market has it now."""

    id: str
    order_id: str
    campaign: str
    kind: str  # RETURN or UNREDEEMED
    refund_status: str
    shipment_status: str
    updated_at: datetime | None
    amount: Decimal | None
    lines: tuple[MarketReturnLine, ...]

    @property
    def words(self) -> str:
        """Market's own words for where it stands, as Potok keeps them."""
        return f"{self.kind}/{self.refund_status or '-'}/{self.shipment_status or '-'}"[:100]

    @property
    def going_ahead(self) -> bool:
        return self.shipment_status in ON_ITS_WAY or self.kind == UNREDEEMED

    @property
    def called_off(self) -> bool:
        return self.shipment_status in CALLED_OFF or self.refund_status in REFUSED


def _positive(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} is not a positive number")
    return value


def read_return(campaign: str, data: Mapping[str, Any]) -> MarketReturn:
    """A Market return (``ReturnDTO``); ValueError, KeyError or TypeError when it cannot be
    read."""
    number = _positive(data["id"], "id")
    order = _positive(data["orderId"], "orderId")
    kind = str(data["returnType"])
    if kind not in (RETURN, UNREDEEMED):
        raise ValueError(f"returnType {kind!r}")
    items = data["items"]
    if not isinstance(items, list) or not items:
        raise ValueError("a return without items")
    lines = []
    for item in items:
        offer = item["shopSku"]
        if not isinstance(offer, str) or not offer.strip():
            raise ValueError("an item without shopSku")
        count = _positive(item["count"], "count")
        decisions = item.get("decisions") or ()
        reasons = [str(d.get("reasonType")) for d in decisions if isinstance(d, Mapping)]
        codes = tuple(
            str(i["cis"])
            for i in item.get("instances") or ()
            if isinstance(i, Mapping) and i.get("cis")
        )
        lines.append(MarketReturnLine(offer.strip(), count, reasons[0] if reasons else "", codes))
    amount = data.get("amount")
    value = None
    if isinstance(amount, Mapping) and amount.get("value") is not None:
        try:
            value = Decimal(str(amount["value"])).quantize(Decimal("0.01"))
        except InvalidOperation as error:
            raise ValueError("amount.value is not a number") from error
    updated = data.get("updateDate")
    return MarketReturn(
        id=str(number),
        order_id=str(order),
        campaign=campaign,
        kind=kind,
        refund_status=str(data.get("refundStatus") or ""),
        shipment_status=str(data.get("shipmentStatus") or ""),
        updated_at=(
            datetime.fromisoformat(str(updated).replace("Z", "+00:00")).astimezone(UTC)
            if updated
            else None
        ),
        amount=value,
        lines=tuple(lines),
    )


def _digits(value: str, what: str) -> str:
    if not value.isdigit() or len(value) > 19:
        raise MarketplaceRefused(marketplace=NAME, reason=f"{what} '{value}' is not a number")
    return value


class MarketReturns:
    """A Market account's returns and unredeemed orders, campaign by campaign."""

    def __init__(self, market: YandexMarket) -> None:
        self.market = market

    def changed(self, campaign: str, since: date, until: date) -> list[MarketReturn | str]:
        """The campaign's returns changed from ``since`` to ``until`` (both included); one
        Potok cannot read is its id with the reason instead."""
        found: list[MarketReturn | str] = []
        for page in self._pages(_digits(campaign, "campaign"), since, until):
            for data in page:
                try:
                    found.append(read_return(campaign, data))
                except (KeyError, ValueError, TypeError) as error:
                    found.append(f"return {data.get('id', '?')}: {error}"[:300])
        return found

    def _pages(self, campaign: str, since: date, until: date) -> Iterator[list[Mapping[str, Any]]]:
        token, given = "", set()
        path = PATHS["returns"].format(campaign=campaign)
        while True:
            params: dict[str, Any] = {
                "fromDate": since.isoformat(),
                "toDate": until.isoformat(),
                "limit": PAGE,
            }
            if token:
                params["pageToken"] = token
            answer = self.market.send("GET", path, params=params)
            result = answer.get("result")
            returns = result.get("returns") if isinstance(result, Mapping) else None
            if not isinstance(returns, list):
                raise MarketplaceUnavailable(marketplace=NAME, reason="no 'returns' in the answer")
            yield [r for r in returns if isinstance(r, Mapping)]
            paging = result.get("paging") if isinstance(result, Mapping) else None
            token = str(paging.get("nextPageToken") or "") if isinstance(paging, Mapping) else ""
            if not token or token in given:
                return
            given.add(token)

    def one(self, campaign: str, order: str, number: str) -> MarketReturn:
        """One return as Market has it now."""
        path = PATHS["return"].format(
            campaign=_digits(campaign, "campaign"),
            order=_digits(order, "order"),
            number=_digits(number, "return"),
        )
        result = self.market.send("GET", path).get("result")
        if not isinstance(result, Mapping):
            raise MarketplaceUnavailable(marketplace=NAME, reason="no 'result' in the answer")
        try:
            return read_return(campaign, result)
        except (KeyError, ValueError, TypeError) as error:
            raise MarketplaceUnavailable(
                marketplace=NAME, reason=f"a return Potok cannot read: {error}"
            ) from error
