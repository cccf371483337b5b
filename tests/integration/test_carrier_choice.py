"""Carrier choice in routing rules, on SQLite and PostgreSQL, against the СДЭК and Почта
simulators: the channel's rules pick the cheapest (or a region's fixed) carrier by the
carriers' own prices, asked before the order is sourced; a carrier that is down leaves its
cached price, a slow one with nothing remembered leaves Potok's tariff table as the
fallback - and the sourcing record says which carrier and where its price came from."""

from __future__ import annotations

from decimal import Decimal

import pytest

from potok.bootstrap import Potok
from potok.connectors.carriers import CarrierRegistry, SandboxCarrier
from potok.domain.orders import Address, DeliveryMethod
from potok.domain.orders.commands import DeliveryRequest, LineRequest, PlaceOrder
from potok.domain.sourcing.carriers import Lane
from potok.services import sourcing
from potok.services.carrier_prices import CarrierPrices, PriceBook
from potok.services.intake import Placement, place_order
from tests.factories import TESTER, TVER, build_world
from tests.integration.test_cdek_connector import carrier_for as cdek_carrier
from tests.integration.test_pochta import carrier_for as pochta_carrier
from tests.simulators.cdek import CdekSimulator
from tests.simulators.pochta import PochtaSimulator

TVER_REGION = "Тверская область"


class Ticks:
    """The price book's clock, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def choosing(
    potok: Potok, cdek: CdekSimulator, pochta: PochtaSimulator
) -> tuple[Potok, CarrierPrices, Ticks]:
    ticks = Ticks()
    book = PriceBook(ttl_s=600, clock=ticks)
    potok.network.prices = book  # before the first copy of the network is read
    build_world(potok, {("MSK", "KET"): 5, ("SPB", "KET"): 5})
    registry = CarrierRegistry(
        [
            SandboxCarrier(secret="sandbox"),
            cdek_carrier(cdek, quote_ttl_s=0),
            pochta_carrier(pochta),
        ]
    )
    potok.carriers = registry
    prices = CarrierPrices(book, registry, deadline_s=5.0, wanted=potok.network.chooses_carriers)
    return potok, prices, ticks


def _to_tver(external_id: str) -> PlaceOrder:
    address = Address(
        "Тверь",
        "ул. Советская, 1",
        region=TVER_REGION,
        postal_code="170000",
        latitude=TVER[0],
        longitude=TVER[1],
    )
    return PlaceOrder(
        channel="web",
        lines=[LineRequest("KET", 1)],
        delivery=DeliveryRequest(DeliveryMethod.COURIER, address=address),
        external_id=external_id,
    )


def _set_rules(potok: Potok, rules: dict[str, object]) -> None:
    sourcing.set_rules(potok.uow(), "web", rules, TESTER)
    # read back: this process's copy of the rules is fresh again (other processes see the
    # change with their next order; until then they price by the table, as the fallback)
    assert sourcing.get_rules(potok.uow(), "web").rules["carriers"]["among"] == ["cdek", "pochta"]


def _placed(potok: Potok, prices: CarrierPrices, external_id: str) -> int:
    placed = place_order(potok.uow(), _to_tver(external_id), TESTER, prices=prices)
    assert isinstance(placed, Placement)
    return placed.order.id or 0


def _shipment(potok: Potok, order_id: int) -> tuple[str, str, str, Decimal, int]:
    (decision,) = sourcing.explain_order(potok.uow(), order_id).stored
    assert decision.record is not None
    (shipped,) = decision.record.shipments
    return shipped.code, shipped.carrier, shipped.price_source, shipped.cost, shipped.days


def test_the_cheapest_carrier_ships_by_its_live_price_then_cached_then_the_table(
    choosing: tuple[Potok, CarrierPrices, Ticks], cdek: CdekSimulator, pochta: PochtaSimulator
) -> None:
    potok, prices, ticks = choosing
    rules = {"carriers": {"among": ["cdek", "pochta"], "choose": "cheapest"}}
    _set_rules(potok, rules)

    # both carriers answer: СДЭК's door-to-door 340.27 ₽ beats Почта's 640.50 ₽
    first = _placed(potok, prices, "choice-1")
    assert _shipment(potok, first) == ("MSK", "cdek", "live", Decimal("340.27"), 2)
    (stored,) = sourcing.explain_order(potok.uow(), first).stored
    assert "MSK ships by cdek tariff 139 (Посылка дверь-дверь), live price" in stored.explanation
    asked = len(cdek.calls("/v2/calculator/tarifflist"))
    assert asked == 2  # MSK and SPB hold the kettle; the store and Kazan were not asked
    _placed(potok, prices, "choice-2")  # within the freshness window: nobody is asked again
    assert len(cdek.calls("/v2/calculator/tarifflist")) == asked

    # eleven minutes on, СДЭК is down: its remembered price is used, marked cached
    ticks.now += 660
    cdek.fail(60, 503)
    third = _placed(potok, prices, "choice-3")
    cdek.faults.clear()
    assert _shipment(potok, third) == ("MSK", "cdek", "cached", Decimal("340.27"), 2)
    (stored,) = sourcing.explain_order(potok.uow(), third).stored
    assert "cached price, the carrier did not answer in time" in stored.explanation

    # nothing remembered, СДЭК down and Почта slower than the deadline: Potok's table
    prices.book.forget()
    prices.deadline_s = 0.3
    cdek.fail(60, 503)
    pochta.slow(2, 1.5)
    fourth = _placed(potok, prices, "choice-4")
    cdek.faults.clear()
    code, carrier, source, cost, days = _shipment(potok, fourth)
    assert (code, carrier, source) == ("MSK", "cdek", "fallback")
    assert (cost, days) == (
        Decimal("457.66"),
        2,
    )  # the built-in 50-300 km band: 350 + 15 * 1.2 kg + 0.5 * 179.3 km
    (stored,) = sourcing.explain_order(potok.uow(), fourth).stored
    assert "Potok's tariff table, no price of the carrier known" in stored.explanation
    prices.settle()  # Почта's late answer is still remembered for the next order
    lane = Lane("pochta", "MSK", "postal:170000", 1500, (55.66, 37.86))
    late = prices.book.look(lane)
    assert late is not None
    assert (late.price, late.days, late.source.value) == (Decimal("640.50"), 4, "live")


def test_a_region_fixed_to_a_carrier_ships_by_it_even_when_dearer(
    choosing: tuple[Potok, CarrierPrices, Ticks],
) -> None:
    potok, prices, _ = choosing
    rules = {
        "carriers": {
            "among": ["cdek", "pochta"],
            "choose": "cheapest",
            "by_region": {TVER_REGION: "pochta"},
        }
    }
    _set_rules(potok, rules)
    order_id = _placed(potok, prices, "fixed-1")
    assert _shipment(potok, order_id) == ("MSK", "pochta", "live", Decimal("640.50"), 4)
    dry = sourcing.explain_order(potok.uow(), order_id)
    assert dry.record is not None
    assert [(s.carrier, s.price_source) for s in dry.record.shipments] == [("pochta", "live")]


def test_rules_without_carriers_ask_no_carrier(
    choosing: tuple[Potok, CarrierPrices, Ticks], cdek: CdekSimulator, pochta: PochtaSimulator
) -> None:
    potok, prices, _ = choosing
    order_id = _placed(potok, prices, "table-1")
    assert _shipment(potok, order_id)[1:3] == ("", "")
    assert cdek.calls("/v2/calculator/tarifflist") == []
    assert pochta.calls("/1.0/tariff") == []
