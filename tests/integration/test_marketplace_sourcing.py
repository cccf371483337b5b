"""A marketplace's FBS order ships from the warehouse the marketplace sent it to: it is
sourced only from the Potok location mapped to that warehouse, and re-sourcing never moves
it elsewhere - on SQLite and PostgreSQL."""

from __future__ import annotations

from potok.bootstrap import Potok
from potok.connectors.marketplaces import MarketplaceClients
from potok.domain.inventory.commands import CountStock
from potok.domain.marketplaces import ConnectionDraft, Credentials, Marketplace
from potok.domain.orders import AllocationState
from potok.services import inventory
from potok.services import orders as order_service
from potok.services.marketplaces import connect_marketplace, poll_marketplace, read_journal
from potok.services.marketplaces.outcome import PollOutcome
from potok.settings import MarketplaceSettings
from tests.factories import TESTER, build_world
from tests.simulators.wildberries import WildberriesSimulator

KETTLE = "4601234567893"


def connect(potok: Potok, simulator: WildberriesSimulator) -> None:
    connect_marketplace(
        potok.uow(),
        ConnectionDraft(
            code="wb",
            marketplace=Marketplace.WILDBERRIES,
            channel="mp",
            credentials=Credentials(simulator.token),
            base_url=simulator.url,
            warehouses={"658434": "MSK", "700001": "KZN"},
        ),
        TESTER,
    )


def poll(potok: Potok) -> PollOutcome:
    return poll_marketplace(potok.uow(), MarketplaceClients(MarketplaceSettings()), "wb")


def test_an_fbs_order_is_reserved_at_the_mapped_location_even_where_another_has_more(
    potok: Potok, wildberries: WildberriesSimulator
) -> None:
    # MSK (the network's first choice) has plenty; the WB order came to the warehouse at KZN
    build_world(potok, {("MSK", "KET"): 30, ("KZN", "KET"): 1})
    connect(potok, wildberries)
    to_moscow = wildberries.add_order(article="KET", barcodes=[KETTLE], price=249_000)
    to_kazan = wildberries.add_order(
        article="KET", barcodes=[KETTLE], price=249_000, warehouse_id=700001
    )

    polled = poll(potok)

    placed = [order_service.get_order(potok.uow(), i).order for i in polled.imported]
    warehouses = {o.external_id: {r.warehouse_code for r in o.reservations} for o in placed}
    assert warehouses == {str(to_moscow): {"MSK"}, str(to_kazan): {"KZN"}}


def test_re_sourcing_leaves_an_fbs_order_backordered_rather_than_moving_it(
    potok: Potok, wildberries: WildberriesSimulator
) -> None:
    build_world(potok, {("MSK", "KET"): 1, ("SPB", "KET"): 30})
    connect(potok, wildberries)
    task = wildberries.add_order(article="KET", barcodes=[KETTLE], price=249_000)
    [order_id] = poll(potok).imported

    inventory.count_stock(
        potok.uow(), CountStock("MSK", "KET", expected_on_hand=1, counted=0), TESTER
    )

    order = order_service.get_order(potok.uow(), order_id).order
    assert order.external_id == str(task)
    assert order.allocation is AllocationState.BACKORDERED
    assert order.open_reservations == []


def test_an_fbs_order_its_location_cannot_cover_waits_in_the_journal(
    potok: Potok, wildberries: WildberriesSimulator
) -> None:
    build_world(potok, {("SPB", "KET"): 30})  # none at MSK, where the WB order came
    connect(potok, wildberries)
    task = wildberries.add_order(article="KET", barcodes=[KETTLE], price=249_000)

    polled = poll(potok)

    assert polled.kept_aside == [str(task)]
    [entry] = read_journal(potok.uow(), "wb")
    assert entry.kind.value == "refused"
