"""Changes made in RetailCRM to orders Potok has, taken back by the poll from the CRM's
order history (``filter[sinceId]``) through the operators' paths - a simulated account
(a real HTTP server checking every request as RetailCRM's API v5 describes it), on SQLite
and PostgreSQL: the customer, the address and comments by the order-edit path and notes,
statuses by the state machine (refused and journalled when it does not allow them, never
forced), what Potok itself told the CRM never read back as a change, and two pollers
reading the same history applying each record once."""

from __future__ import annotations

from typing import Any

import pytest

from potok.bootstrap import Potok
from potok.connectors.marketplaces import MarketplaceClients
from potok.domain.marketplaces import ConnectionDraft, Credentials, Marketplace
from potok.domain.orders import HoldType, OrderStatus
from potok.domain.orders.commands import PlaceHold
from potok.services import intake
from potok.services import orders as order_service
from potok.services.marketplaces import (
    connect_marketplace,
    poll_marketplace,
    push_order_changes,
    read_journal,
)
from potok.services.marketplaces.outcome import PollOutcome
from potok.services.unit_of_work import atomically, reading
from potok.settings import MarketplaceSettings
from tests.factories import TESTER, build_world, order_command
from tests.racing import race
from tests.simulators.retailcrm import RetailCrmSimulator

CRM_ACTOR = "system:marketplace/crm"


def clients() -> MarketplaceClients:
    waits: list[float] = []
    return MarketplaceClients(MarketplaceSettings(), sleep=waits.append)


@pytest.fixture
def world(potok: Potok, retailcrm: RetailCrmSimulator) -> Potok:
    build_world(potok, {("MSK", "KET"): 20, ("MSK", "MUG"): 10})
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
    push(potok)  # the push's cursor starts after what was committed before it
    return potok


def push(potok: Potok) -> None:
    atomically(potok.uow(), lambda uow: uow.event_log.sequence(10_000))
    push_order_changes(potok.uow(), clients(), "crm", "tests", every_s=0)


def poll(potok: Potok) -> PollOutcome:
    return poll_marketplace(potok.uow(), clients(), "crm")


def told(potok: Potok, retailcrm: RetailCrmSimulator, **extra: Any) -> tuple[int, int]:
    """A web order placed in Potok and told to the CRM: (Potok's id, the CRM's id)."""
    placed = intake.place_order(
        potok.uow(),
        order_command([("KET", 2)], channel=extra.pop("channel", "web"), **extra),
        TESTER,
    )
    assert isinstance(placed, intake.Placement)
    order_id = placed.order.id
    assert order_id is not None
    push(potok)
    crm = retailcrm.by_external(str(order_id))
    assert crm is not None
    return order_id, int(crm["id"])


def history(potok: Potok, order_id: int) -> list[tuple[str, str, str | None]]:
    view = order_service.get_order(potok.uow(), order_id)
    return [(h.action, h.actor, h.reason) for h in view.history]


def events_of(potok: Potok, order_id: int) -> list[str]:
    atomically(potok.uow(), lambda uow: uow.event_log.sequence(10_000))  # committed: in order
    found = reading(potok.uow(), lambda uow: uow.event_log.after(0, 10_000).events)
    return [e.type for e in found if e.payload.get("order_id") == order_id]


def test_the_customer_address_and_a_comment_changed_in_the_crm_reach_the_order(
    world: Potok, retailcrm: RetailCrmSimulator
) -> None:
    order_id, crm_id = told(
        world, retailcrm, external_id="W-1", customer_name="Анна", customer_phone="+79161234567"
    )
    retailcrm.change(crm_id, "first_name", "Анна Петрова")
    retailcrm.change(crm_id, "phone", "+7 903 111-22-33")
    retailcrm.change(crm_id, "delivery_address.city", "Казань")
    retailcrm.change(crm_id, "delivery_address.text", "ул. Баумана, 5")
    retailcrm.change(crm_id, "manager_comment", "Позвонить за час до доставки")

    outcome = poll(world)

    assert outcome.error is None
    assert outcome.crm_changes == [
        f"{order_id}:contact",
        f"{order_id}:delivery",
        f"{order_id}:comment",
    ]
    order = order_service.get_order(world.uow(), order_id).order
    assert (order.contact.name, order.contact.phone) == ("Анна Петрова", "+79031112233")
    assert order.delivery.address is not None
    assert (order.delivery.address.city, order.delivery.address.line1) == (
        "Казань",
        "ул. Баумана, 5",
    )
    assert [h for h in history(world, order_id) if h[1] == CRM_ACTOR] == [
        ("edited", CRM_ACTOR, "changed in the CRM"),
        ("edited", CRM_ACTOR, "changed in the CRM"),
        ("note_added", CRM_ACTOR, "RetailCRM, manager's comment: Позвонить за час до доставки"),
    ]
    assert events_of(world, order_id)[-3:] == ["order.edited", "order.edited", "order.note_added"]
    # read again (the cursor moved, and each record is marked applied): nothing more
    assert poll(world).crm_changes == []
    assert len([h for h in history(world, order_id) if h[1] == CRM_ACTOR]) == 3


def test_statuses_set_in_the_crm_go_through_the_state_machine(
    world: Potok, retailcrm: RetailCrmSimulator
) -> None:
    phone, phone_crm = told(world, retailcrm, channel="phone", external_id="P-1")
    web, web_crm = told(world, retailcrm, external_id="W-1")
    assert order_service.get_order(world.uow(), phone).order.status is OrderStatus.NEW
    retailcrm.set_status(phone_crm, "client-confirmed")  # approval: confirms a new order
    retailcrm.set_status(web_crm, "cancel-other")  # cancel: stock goes back

    outcome = poll(world)

    assert outcome.crm_changes == [f"{phone}:status", f"{web}:status"]
    assert order_service.get_order(world.uow(), phone).order.confirmed_at is not None
    cancelled = order_service.get_order(world.uow(), web).order
    assert cancelled.status is OrderStatus.CANCELLED
    assert cancelled.cancel_reason == "cancelled in the CRM (status 'cancel-other')"
    assert cancelled.open_reservations == []
    assert ("cancelled", CRM_ACTOR) in [(h[0], h[1]) for h in history(world, web)]


def test_a_status_the_order_cannot_take_is_refused_and_journalled_not_forced(
    world: Potok, retailcrm: RetailCrmSimulator
) -> None:
    order_id, crm_id = told(world, retailcrm, external_id="W-1")
    before = order_service.get_order(world.uow(), order_id).order.status
    retailcrm.set_status(crm_id, "complete")  # Potok's carriers deliver, not the CRM
    retailcrm.set_status(crm_id, "cancel-other")
    retailcrm.change(crm_id, "delivery_address.text", "ул. Ленина, 2")  # cancelled: no edits

    outcome = poll(world)

    assert before is OrderStatus.RESERVED
    assert outcome.crm_changes == [f"{order_id}:status"]  # the cancellation
    assert len(outcome.crm_refused) == 2
    entries = {e.external_id: e for e in read_journal(world.uow(), "crm")}
    assert sorted(entries) == sorted(outcome.crm_refused)
    first, second = (entries[name] for name in outcome.crm_refused)
    assert first.kind.value == second.kind.value == "change-refused"
    assert "status 'complete' (group complete)" in first.detail
    assert "reserved in Potok" in first.detail
    assert "delivery" in second.detail
    order = order_service.get_order(world.uow(), order_id).order
    assert order.status is OrderStatus.CANCELLED
    assert order.delivery.address is not None
    assert order.delivery.address.line1 == "ул. Советская, 1"
    # read again: refused once, not again
    assert poll(world).crm_refused == []


def test_what_potok_told_the_crm_is_not_read_back_as_a_change(
    world: Potok, retailcrm: RetailCrmSimulator
) -> None:
    order_id, _ = told(world, retailcrm, external_id="W-1")
    assert poll(world).imported == []  # its upload, Potok's own, read past
    version = order_service.get_order(world.uow(), order_id).order.version
    order_service.place_hold(
        world.uow(),
        PlaceHold(order_id, HoldType.MANUAL, "customer asked to wait", expected_version=version),
        TESTER,
    )
    push(world)  # the CRM is told 'new' (on hold): a history record of Potok's own key
    assert retailcrm.history[-1]["apiKey"] == {"current": True}
    assert retailcrm.history[-1]["newValue"] == {"code": "new"}
    entries = len(history(world, order_id))

    outcome = poll(world)

    assert (outcome.crm_changes, outcome.crm_refused) == ([], [])
    assert read_journal(world.uow(), "crm") == []
    assert len(history(world, order_id)) == entries


def test_a_change_names_potoks_order_only_when_potok_told_the_crm_that_order(
    world: Potok, retailcrm: RetailCrmSimulator
) -> None:
    placed = intake.place_order(
        world.uow(), order_command([("KET", 1)], external_id="W-9"), TESTER
    )  # not told to the CRM (no push)
    assert isinstance(placed, intake.Placement)
    untold = placed.order.id
    assert untold is not None
    # another shop's order in the CRM whose own external id happens to be Potok's number
    stranger = retailcrm.add_order(
        [{"offer": {"externalId": "KET"}, "quantity": 1, "initialPrice": 100}]
    )
    retailcrm.orders[stranger]["externalId"] = str(untold)
    first = poll(world)  # the CRM's order comes in as one of its own, by its CRM id
    retailcrm.change(stranger, "manager_comment", "Не для заказа Potok")

    outcome = poll(world)

    [imported] = first.imported
    assert outcome.crm_changes == [f"{imported}:comment"]
    assert [h[0] for h in history(world, untold)].count("note_added") == 0
    assert [h[0] for h in history(world, imported)].count("note_added") == 1


def test_two_pollers_reading_the_same_history_apply_each_change_once(
    world: Potok, retailcrm: RetailCrmSimulator
) -> None:
    orders = [told(world, retailcrm, external_id=f"W-{n}") for n in range(4)]
    for _, crm_id in orders:
        retailcrm.change(crm_id, "customer_comment", f"Домофон {crm_id}")
        retailcrm.change(crm_id, "manager_comment", "Хрупкое")

    outcomes = race([lambda: poll(world)] * 2)

    assert [o.error for o in outcomes] == [None, None]
    taken = sorted(c for o in outcomes for c in o.crm_changes)
    assert taken == sorted(f"{order_id}:comment" for order_id, _ in orders for _ in range(2))
    for order_id, crm_id in orders:
        notes = [h[2] for h in history(world, order_id) if h[0] == "note_added"]
        assert notes == [
            f"RetailCRM, the customer's comment: Домофон {crm_id}",
            "RetailCRM, manager's comment: Хрупкое",
        ]
