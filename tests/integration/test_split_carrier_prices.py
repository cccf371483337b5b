"""A split order priced by carriers, on SQLite and PostgreSQL against the СДЭК and Почта
simulators: each shipment is priced by its carrier's own quote for the weight it carries
(asked before the order is sourced), not by the price of the whole order's parcel."""

from __future__ import annotations

from potok.bootstrap import Potok
from potok.connectors.carriers.interface import QuoteRequest
from potok.domain.orders import Address, DeliveryMethod
from potok.domain.orders.commands import DeliveryRequest, LineRequest, PlaceOrder
from potok.services import catalogue, sourcing
from potok.services.intake import Placement, place_order
from tests.factories import TESTER, TVER
from tests.integration.test_carrier_choice import (  # noqa: F401 - the fixture
    TVER_REGION,
    Ticks,
    _set_rules,
    choosing,
)
from tests.simulators.cdek import CdekSimulator


def test_each_shipment_of_a_split_order_is_priced_by_the_weight_it_carries(
    choosing: tuple[Potok, object, Ticks],  # noqa: F811
    cdek: CdekSimulator,
) -> None:
    potok, prices, _ = choosing
    _set_rules(potok, {"carriers": {"among": ["cdek", "pochta"], "choose": "cheapest"}})
    address = Address(
        "Тверь",
        "ул. Советская, 1",
        region=TVER_REGION,
        postal_code="170000",
        latitude=TVER[0],
        longitude=TVER[1],
    )
    six = PlaceOrder(  # MSK and SPB hold five kettles each: six need both
        channel="web",
        lines=[LineRequest("KET", 6)],
        delivery=DeliveryRequest(DeliveryMethod.COURIER, address=address),
        external_id="split-1",
    )
    placed = place_order(potok.uow(), six, TESTER, prices=prices)  # type: ignore[arg-type]
    assert isinstance(placed, Placement)
    (decision,) = sourcing.explain_order(potok.uow(), placed.order.id or 0).stored
    assert decision.record is not None
    legs = {s.code: s for s in decision.record.shipments}
    assert sorted((code, leg.units, leg.carrier) for code, leg in legs.items()) == [
        ("MSK", 5, "cdek"),
        ("SPB", 1, "cdek"),
    ]
    # what СДЭК itself asks for each part's weight band, door to door (tariff 139)
    cdek_adapter = potok.carriers.get("cdek")
    sites = {w.code: (w.latitude, w.longitude) for w in catalogue.list_warehouses(potok.uow())}
    for code, grams in (("MSK", 6000), ("SPB", 1500)):  # 5 and 1 kettles of 1.2 kg
        asked = cdek_adapter.quote(
            QuoteRequest(sites[code], TVER, grams, city="Тверь", postal_code="170000")
        )
        assert legs[code].cost == min(q.price for q in asked), code
    assert legs["SPB"].cost < legs["MSK"].cost
    assert decision.total_cost == legs["MSK"].cost + legs["SPB"].cost
