"""A RetailCRM connection's back-fill: Potok's orders of the other channels from before the
connection, with their customers, told to a simulated account (a real HTTP server checking
every request as RetailCRM's API v5 describes it) in batches, on SQLite and PostgreSQL -
each order and customer once in the CRM however often it runs, an outage resumed from the
last batch the CRM took, one runner at a time, and what the CRM changes afterwards taken
back into the orders it was told."""

from __future__ import annotations

from typing import Any

import pytest

from potok.bootstrap import Potok
from potok.connectors.marketplaces import MarketplaceClients
from potok.domain.errors import PotokError
from potok.domain.marketplaces import ConnectionDraft, Credentials, Marketplace
from potok.services import intake
from potok.services import orders as order_service
from potok.services.crm_ports import Backfill
from potok.services.marketplaces import (
    connect_marketplace,
    get_backfill,
    poll_marketplace,
    run_backfill,
    start_backfill,
)
from potok.settings import MarketplaceSettings
from tests.factories import TESTER, build_world, order_command
from tests.racing import race
from tests.simulators.retailcrm import RetailCrmSimulator

UPLOAD = "/api/v5/orders/upload"
CUSTOMERS = "/api/v5/customers/upload"


def clients() -> MarketplaceClients:
    waits: list[float] = []
    return MarketplaceClients(MarketplaceSettings(), sleep=waits.append)


def place(potok: Potok, **extra: Any) -> int:
    placed = intake.place_order(
        potok.uow(), order_command([("KET", 1)], **{"channel": "web", **extra}), TESTER
    )
    assert isinstance(placed, intake.Placement)
    assert placed.order.id is not None
    return placed.order.id


@pytest.fixture
def world(potok: Potok) -> Potok:
    build_world(potok, {("MSK", "KET"): 50})
    return potok


@pytest.fixture
def old_orders(world: Potok) -> list[int]:
    """Orders Potok had before the CRM was connected: three web orders of two customers,
    a phone order without one, and one of the CRM's own channel (never told back)."""
    made = [
        place(world, external_id="W-1", customer_name="Анна", customer_phone="+79161234567"),
        place(world, external_id="W-2", customer_name="Анна", customer_phone="+79161234567"),
        place(world, external_id="W-3", customer_name="Борис", customer_email="b@example.ru"),
        place(world, channel="phone", external_id="P-1"),
    ]
    place(world, channel="mp", external_id="crm-own-1")
    return made


def connect(potok: Potok, retailcrm: RetailCrmSimulator) -> None:
    connect_marketplace(
        potok.uow(),
        ConnectionDraft(
            code="crm",
            marketplace=Marketplace.RETAILCRM,
            channel="mp",
            credentials=Credentials(retailcrm.api_key, "shop"),
            base_url=retailcrm.url,
            warehouses={"main": "MSK"},
        ),
        TESTER,
    )


def run(potok: Potok, worker: str = "tests", **extra: Any) -> Backfill | None:
    return run_backfill(potok.uow(), clients(), "crm", worker, **extra)


def test_old_orders_and_their_customers_are_told_in_batches_with_progress(
    world: Potok, old_orders: list[int], retailcrm: RetailCrmSimulator
) -> None:
    connect(world, retailcrm)
    started = start_backfill(world.uow(), "crm").backfill
    seen: list[tuple[int, int]] = []

    done = run(world, batch=2, progress=lambda b: seen.append((b.sent, b.percent)))

    assert (started.state, started.total, started.sent) == ("running", 4, 0)
    assert seen == [(2, 50), (4, 100)]
    assert done is not None
    assert (done.state, done.sent, done.created, done.updated, done.refused) == (
        "done",
        4,
        4,
        0,
        0,
    )
    assert done.customers == 2  # Анна once for her two orders, Борис
    assert done.worker is None  # let go
    assert len(retailcrm.calls(UPLOAD)) == 2
    assert sorted(retailcrm.customers) == sorted(
        {str(_customer_of(world, i)) for i in old_orders[:3]}
    )
    anna = retailcrm.customers[str(_customer_of(world, old_orders[0]))]
    assert (anna["firstName"], anna["phones"]) == ("Анна", [{"number": "+79161234567"}])
    first = retailcrm.by_external(str(old_orders[0]))
    assert first is not None
    assert first["customer"]["externalId"] == str(_customer_of(world, old_orders[0]))
    assert retailcrm.by_external(str(old_orders[3]))["customer"] is None  # type: ignore[index]
    assert len(retailcrm.orders) == 4  # not the CRM channel's own order
    assert get_backfill(world.uow(), "crm").backfill.percent == 100


def _customer_of(potok: Potok, order_id: int) -> int:
    customer = order_service.get_order(potok.uow(), order_id).order.customer_id
    assert customer is not None
    return int(customer)


def test_an_outage_is_resumed_from_the_last_batch_the_crm_took(
    world: Potok, old_orders: list[int], retailcrm: RetailCrmSimulator
) -> None:
    connect(world, retailcrm)
    start_backfill(world.uow(), "crm")
    run(world, batch=2, batches=1)
    retailcrm.fail(20, 500)

    cut = run(world, batch=2)
    retailcrm.faults.clear()
    resumed = run(world, batch=2)

    assert cut is not None
    assert (cut.state, cut.sent, cut.after_order_id) == ("running", 2, old_orders[1])
    assert cut.last_error is not None
    assert "500" in cut.last_error or "Internal" in cut.last_error
    assert resumed is not None
    assert (resumed.state, resumed.sent, resumed.created, resumed.last_error) == (
        "done",
        4,
        4,
        None,
    )
    uploaded = [o["externalId"] for c in retailcrm.calls(UPLOAD) for o in _orders_of(c)]
    assert uploaded.count(str(old_orders[0])) == 1  # the first batch was not told again
    assert len(retailcrm.orders) == 4


def _orders_of(call: Any) -> list[dict[str, Any]]:
    import json

    return list(json.loads(call.body["orders"]))


def test_told_again_the_crm_still_has_each_order_and_customer_once(
    world: Potok, old_orders: list[int], retailcrm: RetailCrmSimulator
) -> None:
    connect(world, retailcrm)
    start_backfill(world.uow(), "crm")
    run(world)

    again = start_backfill(world.uow(), "crm", restart=True).backfill
    second = run(world)

    assert (again.state, again.sent) == ("running", 0)
    assert second is not None
    assert (second.sent, second.created, second.updated, second.customers) == (4, 0, 4, 0)
    assert len(retailcrm.orders) == 4
    assert len(retailcrm.customers) == 2


def test_a_running_back_fill_is_not_started_twice_and_has_one_runner(
    world: Potok, old_orders: list[int], retailcrm: RetailCrmSimulator
) -> None:
    connect(world, retailcrm)
    first = start_backfill(world.uow(), "crm").backfill
    place(world, external_id="W-late")  # after the start: the order push tells it
    same = start_backfill(world.uow(), "crm").backfill

    outcomes = race([lambda: run(world, "one", batch=1), lambda: run(world, "two", batch=1)])

    assert same.started_at == first.started_at
    assert same.total == 4
    finished = [o for o in outcomes if o is not None]
    assert len(finished) == 1  # the other found it held, or done
    assert all(o.state == "done" and o.sent == 4 for o in finished)
    assert len(retailcrm.orders) == 4
    uploaded = [o["externalId"] for c in retailcrm.calls(UPLOAD) for o in _orders_of(c)]
    assert sorted(uploaded) == sorted(str(i) for i in old_orders)  # each once


def test_a_connection_that_is_no_crm_has_no_back_fill(
    world: Potok, retailcrm: RetailCrmSimulator
) -> None:
    connect_marketplace(
        world.uow(),
        ConnectionDraft(
            code="wb",
            marketplace=Marketplace.WILDBERRIES,
            channel="mp",
            credentials=Credentials("token"),
            base_url=retailcrm.url,
            warehouses={},
        ),
        TESTER,
    )
    with pytest.raises(PotokError) as refused:
        start_backfill(world.uow(), "wb")
    assert refused.value.code == "connection-not-a-crm"
    connect(world, retailcrm)
    with pytest.raises(PotokError) as missing:
        get_backfill(world.uow(), "crm")
    assert missing.value.code == "crm-backfill-not-found"


def test_changes_made_in_the_crm_to_back_filled_orders_come_back(
    world: Potok, old_orders: list[int], retailcrm: RetailCrmSimulator
) -> None:
    connect(world, retailcrm)
    start_backfill(world.uow(), "crm")
    run(world)
    crm_id = int(retailcrm.by_external(str(old_orders[0]))["id"])  # type: ignore[index]
    retailcrm.change(crm_id, "phone", "+7 903 555-00-11")

    outcome = poll_marketplace(world.uow(), clients(), "crm")

    assert outcome.crm_changes == [f"{old_orders[0]}:contact"]
    order = order_service.get_order(world.uow(), old_orders[0]).order
    assert order.contact.phone == "+79035550011"
