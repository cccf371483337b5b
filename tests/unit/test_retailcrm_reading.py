"""RetailCRM's own answers (the real ones in ``tests/simulators/specs/retailcrm``) read by
the connector: an order as Potok imports it, history records, status groups."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from potok.connectors.marketplaces import MarketplaceState
from potok.connectors.marketplaces.retailcrm import crm_time, read_order, state_of
from tests.simulators.retailcrm import fixture, status_groups

MOSCOW = ZoneInfo("Europe/Moscow")


def test_the_real_order_answer_reads_as_an_incoming_order() -> None:
    order = read_order(fixture("v5_orders_get.response.json")["order"], MOSCOW)

    assert order.external_id == "6722"
    assert order.created_at == datetime(2020, 12, 29, 14, 35, 8, tzinfo=UTC)
    assert order.warehouse == "main12"
    assert order.currency == "RUB"
    [line] = order.lines
    assert (line.marketplace_sku, line.article, line.quantity) == ("1867352", "1005001690749727", 1)
    assert line.unit_price == Decimal("1.00")
    assert order.address is not None
    assert order.address.city == "Rostov-Na-Donu"
    assert order.status == "delivering"


def test_every_order_created_in_the_real_history_page_is_readable() -> None:
    records = fixture("v5_orders_history.response.json")["history"]
    created = [r["order"] for r in records if r.get("created")]

    read = [read_order(o, MOSCOW) for o in created]

    assert len(read) == 23
    assert all(line.quantity >= 1 for order in read for line in order.lines)


def test_a_fractional_quantity_is_refused_by_name() -> None:
    data = dict(fixture("v5_orders_get.response.json")["order"])
    data["items"] = [{**data["items"][0], "quantity": 1.5}]

    with pytest.raises(ValueError, match="whole quantities"):
        read_order(data, MOSCOW)


def test_crm_times_are_in_the_accounts_zone() -> None:
    assert crm_time("2026-12-07 10:00:00", MOSCOW) == datetime(2026, 12, 7, 7, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("new", MarketplaceState.NEW),
        ("client-confirmed", MarketplaceState.IN_WORK),
        ("assembling-complete", MarketplaceState.IN_WORK),
        ("delivering", MarketplaceState.SHIPPED),
        ("complete", MarketplaceState.DELIVERED),
        ("no-product", MarketplaceState.CANCELLED),
    ],
)
def test_the_accounts_status_groups_give_potoks_state(status: str, state: MarketplaceState) -> None:
    assert state_of(status_groups()[status]) is state
