"""Avito's DBS orders (the seller's own partner carries the parcel): the tracking number of
the Potok shipment goes to Avito when it is handed over, once, and only where Avito asks for
one (``availableActions`` ``setTrackNumber``); a number Avito refuses waits in the journal
and is tried again, the order not told handed over meanwhile. The simulator checks every
request against Avito's document; SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from potok.bootstrap import Potok
from potok.domain.marketplaces import ItemMapping, JournalKind
from potok.services.fulfilment import handover, reads
from potok.services.marketplaces import map_items, poll_marketplace, read_journal
from tests.factories import TESTER
from tests.integration.test_marketplace_avito import KET_LISTING, connect
from tests.integration.test_marketplace_fulfilment import clients, fulfil, shoes_world
from tests.simulators.avito import AvitoSimulator

TRACKING = "/order-management/1/order/setTrackingNumber"


@pytest.fixture
def world(potok: Potok, avito: AvitoSimulator) -> Potok:
    shoes_world(potok)
    connect(potok, avito)
    map_items(potok.uow(), "av", [ItemMapping("KET", str(KET_LISTING))], TESTER)
    return potok


def handed_over(potok: Potok, avito: AvitoSimulator, service: str, tracking: str) -> str:
    """An Avito order imported, confirmed, packed and handed over with ``tracking``."""
    number = avito.add_order(items=[{"avitoId": KET_LISTING, "price": 1990}], service=service)
    [order_id] = poll_marketplace(potok.uow(), clients(), "av").imported
    poll_marketplace(potok.uow(), clients(), "av")  # confirmed there: ready_to_ship
    fulfil(potok, order_id, hand_over=False)
    (shipment,) = reads.order_shipments(potok.uow(), order_id)
    handover.hand_over(
        potok.uow(), shipment.id or 0, TESTER, carrier="СДЭК", tracking_number=tracking
    )
    return number


def test_a_dbs_parcels_tracking_number_goes_to_avito_once_with_the_hand_over(
    world: Potok,
    avito: AvitoSimulator,
) -> None:
    number = handed_over(world, avito, "dbs", "1510000000042")

    first = poll_marketplace(world.uow(), clients(), "av")
    again = poll_marketplace(world.uow(), clients(), "av")

    assert first.error is None, first.error
    assert first.handed_over == [number]
    assert avito.tracking == {number: "1510000000042"}
    assert [c.body for c in avito.calls(TRACKING)] == [
        {"orderId": number, "trackingNumber": "1510000000042"}
    ]
    assert again.handed_over == []
    assert len(avito.calls(TRACKING)) == 1
    assert avito.invalid == []


def test_avitos_own_delivery_is_told_no_tracking_number(
    world: Potok,
    avito: AvitoSimulator,
) -> None:
    number = handed_over(world, avito, "pvz", "1510000000042")

    outcome = poll_marketplace(world.uow(), clients(), "av")

    assert outcome.handed_over == [number]
    assert avito.calls(TRACKING) == []
    assert avito.invalid == []


def test_a_refused_number_waits_in_the_journal_and_is_tried_again(
    world: Potok,
    avito: AvitoSimulator,
) -> None:
    number = handed_over(world, avito, "dbs", "not a number")

    first = poll_marketplace(world.uow(), clients(), "av")
    again = poll_marketplace(world.uow(), clients(), "av")

    assert (first.handed_over, first.push_failed) == ([], [number])
    [entry] = read_journal(world.uow(), "av")
    assert entry.kind is JournalKind.PUSH_FAILED
    assert "incorrect_number" in entry.detail
    assert again.push_failed == [number]
    assert len(avito.calls(TRACKING)) == 2
    assert avito.tracking == {}
    assert avito.invalid == []
