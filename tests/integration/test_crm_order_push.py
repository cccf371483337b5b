"""Potok's orders of other channels told to RetailCRM after commit (a simulated account, a
real HTTP server checking every request against RetailCRM's API v5 description), on
SQLite and PostgreSQL: created by ``orders/upload``, brought up to date by
``orders/{externalId}/edit`` and ``orders/payments/{externalId}/edit``, each order once per
push however often it changed, never twice in the CRM, an outage waited out, a refusal
journalled and told again until the CRM takes it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from potok.bootstrap import Potok
from potok.connectors.marketplaces import MarketplaceClients
from potok.domain.marketplaces import ConnectionDraft, Credentials, Marketplace
from potok.domain.marketplaces.crm import CRM_ORDER_EVENTS
from potok.domain.orders import PaymentStatus
from potok.domain.orders.commands import CancelOrder, RecordPayment
from potok.services import intake
from potok.services import orders as order_service
from potok.services.marketplaces import (
    connect_marketplace,
    poll_marketplace,
    push_order_changes,
    push_orders,
    read_journal,
)
from potok.services.order_edits import EditOrder, LineChange, edit_order
from potok.services.unit_of_work import atomically, reading
from potok.settings import MarketplaceSettings
from potok.worker.dispatcher import Dispatcher, new_client
from tests.factories import TESTER, build_world, order_command
from tests.simulators.retailcrm import RetailCrmSimulator

UPLOAD = "/api/v5/orders/upload"


def clients(**settings: Any) -> MarketplaceClients:
    waits: list[float] = []
    return MarketplaceClients(MarketplaceSettings(**settings), sleep=waits.append)


@pytest.fixture
def world(potok: Potok, retailcrm: RetailCrmSimulator) -> Potok:
    build_world(potok, {("MSK", "KET"): 20, ("MSK", "MUG"): 10})
    connect_marketplace(
        potok.uow(),
        ConnectionDraft(
            code="crm",
            marketplace=Marketplace.RETAILCRM,
            channel="mp",  # the CRM's own orders come in as the 'mp' channel
            credentials=Credentials(retailcrm.api_key, "shop"),
            base_url=retailcrm.url,
            warehouses={"main": "MSK"},
        ),
        TESTER,
    )
    push(potok)  # the push's cursor starts after what was committed before it
    return potok


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def push(potok: Potok, crm_clients: MarketplaceClients | None = None, clock: Clock | None = None):  # type: ignore[no-untyped-def]
    atomically(potok.uow(), lambda uow: uow.event_log.sequence(10_000))
    return push_order_changes(
        potok.uow(),
        crm_clients or clients(),
        "crm",
        "tests",
        every_s=0,
        clock=clock or Clock(),
    )


def place(potok: Potok, lines: list[tuple[str, int]], **extra: Any) -> int:
    placed = intake.place_order(potok.uow(), order_command(lines, **extra), TESTER)
    assert isinstance(placed, intake.Placement)
    assert placed.order.id is not None
    return placed.order.id


def version(potok: Potok, order_id: int) -> int:
    return order_service.get_order(potok.uow(), order_id).order.version


def test_orders_of_other_channels_are_uploaded_whole_and_the_crms_own_stay_out(
    world: Potok, retailcrm: RetailCrmSimulator
) -> None:
    web = place(
        world,
        [("KET", 2), ("MUG", 1)],
        channel="web",
        external_id="W-1",
        customer_name="Анна Смирнова",
        customer_phone="+7 916 123-45-67",
    )
    phone = place(world, [("MUG", 1)], channel="phone", external_id="P-1")
    place(world, [("KET", 1)], channel="mp", external_id="12345")  # the CRM's own channel

    outcome = push(world)

    assert outcome is not None
    assert outcome.error is None
    assert sorted(outcome.created) == sorted([str(web), str(phone)])
    assert len(retailcrm.calls(UPLOAD)) == 1  # both in one upload
    told = retailcrm.by_external(str(web))
    assert told is not None
    assert told["status"] == "availability-confirmed"  # reserved
    assert told["number"] == "web-W-1"
    assert (told["firstName"], told["phone"]) == ("Анна Смирнова", "+79161234567")
    assert [
        (i["offer"]["externalId"], i["quantity"], i["initialPrice"], i["externalIds"])
        for i in told["items"]
    ] == [
        ("KET", 2, 2490.0, [{"code": "potok", "value": "1"}]),
        ("MUG", 1, 390.0, [{"code": "potok", "value": "2"}]),
    ]
    payment = retailcrm.payment_of(f"potok-{web}")
    assert payment is not None
    assert (payment["status"], payment["amount"], payment["type"]) == (
        "not-paid",
        5370.0,
        "bank-card",
    )
    assert retailcrm.by_external(str(phone))["status"] == "new"  # type: ignore[index]
    assert len(retailcrm.orders) == 2  # not the 'mp' order: it came from the CRM
    # what Potok's key made never comes back as the CRM's own new orders
    assert poll_marketplace(world.uow(), clients(), "crm").imported == []


def test_changes_are_told_once_per_order_however_many_there_were(
    world: Potok, retailcrm: RetailCrmSimulator
) -> None:
    web = place(world, [("KET", 2), ("MUG", 1)], channel="web", external_id="W-1")
    phone = place(world, [("MUG", 1)], channel="phone", external_id="P-1")
    push(world)
    order_service.record_payment(
        world.uow(), RecordPayment(web, PaymentStatus.PAID, expected_version=None), TESTER
    )
    edit_order(
        world.uow(),
        EditOrder(web, version(world, web), (LineChange(5, line_no=1),)),
        TESTER,
    )
    order_service.cancel_order(world.uow(), CancelOrder(phone, "the customer called"), TESTER)

    outcome = push(world)

    assert outcome is not None
    assert sorted(outcome.updated) == sorted([str(web), str(phone)])
    edits = [c.path for c in retailcrm.received if c.path.endswith("/edit")]
    assert sorted(p for p in edits if "/payments/" not in p) == sorted(
        [f"/api/v5/orders/{web}/edit", f"/api/v5/orders/{phone}/edit"]
    )
    told = retailcrm.by_external(str(web))
    assert told is not None
    assert [(i["offer"]["externalId"], i["quantity"]) for i in told["items"]] == [
        ("KET", 5),
        ("MUG", 1),
    ]
    assert retailcrm.payment_of(f"potok-{web}")["status"] == "paid"  # type: ignore[index]
    assert retailcrm.by_external(str(phone))["status"] == "cancel-other"  # type: ignore[index]
    assert len(retailcrm.orders) == 2
    assert push(world) is None  # nothing changed since


def test_an_order_told_twice_is_in_the_crm_once(
    world: Potok, retailcrm: RetailCrmSimulator
) -> None:
    web = place(world, [("KET", 1)], channel="web", external_id="W-1")
    push(world)
    # the answer of that upload was lost: the same events are told again
    events = reading(
        world.uow(), lambda uow: uow.event_log.after(0, 100, types=CRM_ORDER_EVENTS).events
    )

    outcome = push_orders(world.uow(), clients(), "crm", events)

    assert outcome is not None
    assert outcome.created == []
    assert outcome.updated == [str(web)]  # the upload said "exists": edited instead
    assert len([o for o in retailcrm.orders.values() if o.get("externalId") == str(web)]) == 1


def test_a_crm_that_cannot_be_reached_keeps_the_cursor_and_is_told_later(
    world: Potok, retailcrm: RetailCrmSimulator
) -> None:
    web = place(world, [("KET", 1)], channel="web", external_id="W-1")
    clock = Clock()
    retailcrm.fail(10, 500)

    failed = push(world, clock=clock)
    early = push(world, clock=clock)  # before its pause is over: not tried
    retailcrm.faults.clear()
    clock.now += timedelta(minutes=11)
    later = push(world, clock=clock)

    assert failed is not None
    assert failed.error is not None
    assert early is None
    assert later is not None
    assert later.created == [str(web)]
    assert retailcrm.by_external(str(web)) is not None


def test_an_order_the_crm_refuses_is_journalled_and_told_again_until_taken(
    world: Potok, retailcrm: RetailCrmSimulator
) -> None:
    web = place(world, [("KET", 1)], channel="web", external_id="W-1")
    wrong = clients(retailcrm_mirror_statuses={"reserved": "no-such-status"})

    refused = push(world, wrong)
    again = push(world, wrong)  # told again, refused again: one journal entry
    taken = push(world)  # the status fixed in the settings; no new event

    assert refused is not None
    assert "no-such-status" in refused.refused[str(web)]
    assert again is not None
    assert str(web) in again.refused
    assert taken is not None
    assert taken.created == [str(web)]
    entries = read_journal(world.uow(), "crm", open_only=False)
    mine = [e for e in entries if e.external_id == f"potok/{web}"]
    assert len(mine) == 1
    assert mine[0].kind.value == "push-failed"
    assert mine[0].resolved_at is not None
    assert retailcrm.by_external(str(web))["status"] == "availability-confirmed"  # type: ignore[index]


@pytest.fixture
def dispatcher(world: Potok) -> Iterator[Dispatcher]:
    with new_client() as client:
        yield Dispatcher(world, client, name="crm-tests")


def test_the_dispatcher_tells_the_crm_after_commit(
    world: Potok, retailcrm: RetailCrmSimulator, dispatcher: Dispatcher
) -> None:
    web = place(world, [("KET", 1)], channel="web", external_id="W-1")

    dispatcher.run_round()

    assert retailcrm.by_external(str(web)) is not None
