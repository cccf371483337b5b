"""Wildberries FBS orders imported through the connector from a simulated WB (a real HTTP
server speaking WB's published formats), on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from potok.bootstrap import Potok
from potok.connectors.marketplaces import MarketplaceClients
from potok.domain.marketplaces import ConnectionDraft, Credentials, Health, Marketplace
from potok.domain.orders import OrderState, PaymentStatus
from potok.services import orders as order_service
from potok.services.marketplaces import (
    connect_marketplace,
    get_connection,
    poll_marketplace,
    read_journal,
)
from potok.services.read_models import OrderFilter, OrderSummary
from potok.settings import MarketplaceSettings
from potok.worker.jobs import run_due_jobs
from tests.factories import TESTER, build_world
from tests.simulators.wildberries import WildberriesSimulator

KETTLE_BARCODE = "4601234567893"
WB_WAREHOUSE = 658434


def connect(potok: Potok, simulator: WildberriesSimulator, *, code: str = "wb-main") -> None:
    connect_marketplace(
        potok.uow(),
        ConnectionDraft(
            code=code,
            marketplace=Marketplace.WILDBERRIES,
            channel="mp",
            credentials=Credentials(simulator.token),
            base_url=simulator.url,
            warehouses={str(WB_WAREHOUSE): "MSK"},
        ),
        TESTER,
    )


def mp_orders(potok: Potok) -> list[OrderSummary]:
    return order_service.list_orders(potok.uow(), OrderFilter(channels=["mp"]), limit=100).items


def clients(**settings: object) -> MarketplaceClients:
    return MarketplaceClients(MarketplaceSettings(**settings))  # type: ignore[arg-type]


@pytest.fixture
def world(potok: Potok, wildberries: WildberriesSimulator) -> Potok:
    build_world(potok, {("MSK", "KET"): 20, ("MSK", "MUG"): 10})
    connect(potok, wildberries)
    return potok


def test_new_assembly_tasks_become_orders_with_prices_as_decimals(
    world: Potok, wildberries: WildberriesSimulator
) -> None:
    by_barcode = wildberries.add_order(
        article="seller-kettle", barcodes=[KETTLE_BARCODE], price=249_050, order_uid="basket-1"
    )
    by_article = wildberries.add_order(article="MUG", barcodes=["0000"], price=39_000)

    outcome = poll_marketplace(world.uow(), clients(), "wb-main")

    assert outcome.error is None
    assert len(outcome.imported) == 2
    assert outcome.kept_aside == []
    by_external = {o.external_id: o for o in mp_orders(world)}
    kettle = order_service.get_order(world.uow(), by_external[str(by_barcode)].id).order
    assert kettle.channel_code == "mp"
    assert [(line.sku, line.quantity, line.unit_price) for line in kettle.lines] == [
        ("KET", 1, Decimal("2490.50"))
    ]
    assert kettle.currency == "RUB"
    assert kettle.payment_status is PaymentStatus.NOT_REQUIRED
    assert kettle.state is OrderState.CONFIRMED
    assert "basket-1" in kettle.comment
    mug = order_service.get_order(world.uow(), by_external[str(by_article)].id).order
    assert [(line.sku, line.unit_price) for line in mug.lines] == [("MUG", Decimal("390.00"))]


def test_the_same_task_sent_again_and_twice_in_one_answer_makes_one_order(
    world: Potok, wildberries: WildberriesSimulator
) -> None:
    task = wildberries.add_order(article="KET", barcodes=[KETTLE_BARCODE], price=249_000)
    wildberries.repeat_in_answer = True

    first = poll_marketplace(world.uow(), clients(), "wb-main")
    second = poll_marketplace(world.uow(), clients(), "wb-main")

    assert (len(first.imported), first.repeated) == (1, 1)
    assert (len(second.imported), second.repeated) == (0, 2)
    listed = mp_orders(world)
    assert [o.external_id for o in listed] == [str(task)]


def test_unknown_barcode_and_unmapped_warehouse_wait_in_the_journal_until_fixed(
    world: Potok, wildberries: WildberriesSimulator
) -> None:
    stranger = wildberries.add_order(article="NOPE", barcodes=["2000000000008"], price=100_00)
    elsewhere = wildberries.add_order(
        article="KET", barcodes=[KETTLE_BARCODE], price=100_00, warehouse_id=999
    )

    first = poll_marketplace(world.uow(), clients(), "wb-main")
    again = poll_marketplace(world.uow(), clients(), "wb-main")

    assert sorted(first.kept_aside) == sorted([str(stranger), str(elsewhere)])
    assert first.imported == []
    assert again.imported == []
    journal = {e.external_id: e for e in read_journal(world.uow(), "wb-main")}
    assert journal[str(stranger)].kind.value == "unknown-sku"
    assert journal[str(elsewhere)].kind.value == "unknown-warehouse"
    assert journal[str(stranger)].times_seen == 2
    assert mp_orders(world) == []
    assert get_connection(world.uow(), "wb-main").open_journal == 2

    # the operator adds the barcode to a product: the next poll imports the order
    from potok.domain.catalogue import ProductDraft
    from potok.services import catalogue

    catalogue.create_product(
        world.uow(),
        ProductDraft("NEW", "New thing", Decimal("100.00"), Decimal("22"), "2000000000008"),
    )
    from potok.domain.inventory.commands import ReceiveStock
    from potok.services import inventory

    inventory.receive_stock(world.uow(), ReceiveStock("MSK", "NEW", 5), TESTER)
    fixed = poll_marketplace(world.uow(), clients(), "wb-main")
    assert len(fixed.imported) == 1
    assert [e.external_id for e in read_journal(world.uow(), "wb-main")] == [str(elsewhere)]


def test_a_client_cancellation_on_wb_cancels_the_order_and_gives_its_stock_back(
    world: Potok, wildberries: WildberriesSimulator
) -> None:
    task = wildberries.add_order(article="KET", barcodes=[KETTLE_BARCODE], price=249_000)
    poll_marketplace(world.uow(), clients(), "wb-main")
    wildberries.set_status(task, "new", "declined_by_client")

    outcome = poll_marketplace(world.uow(), clients(), "wb-main")

    assert len(outcome.cancelled) == 1
    order = order_service.get_order(world.uow(), outcome.cancelled[0]).order
    assert order.state is OrderState.CANCELLED
    assert order.reservations
    assert order.open_reservations == []
    # closed: not asked about again
    calls_before = len(wildberries.calls("/api/v3/orders/status"))
    poll_marketplace(world.uow(), clients(), "wb-main")
    assert len(wildberries.calls("/api/v3/orders/status")) == calls_before


def test_rate_limit_answers_are_waited_out_as_wb_asks_and_the_poll_catches_up(
    world: Potok, wildberries: WildberriesSimulator
) -> None:
    wildberries.add_order(article="KET", barcodes=[KETTLE_BARCODE], price=249_000)
    wildberries.limit(2, retry_s=0.2)
    wildberries.fail(1, status=503)

    outcome = poll_marketplace(world.uow(), clients(), "wb-main")

    assert outcome.error is None
    assert len(outcome.imported) == 1
    assert outcome.rate_limit_waits == 2
    assert len(wildberries.calls("/api/v3/orders/new")) == 4
    connection = get_connection(world.uow(), "wb-main")
    assert connection.health is Health.OK
    assert connection.rate_limit_waits == 2


def test_an_outage_turns_the_connection_failing_and_the_next_poll_imports_without_duplicates(
    world: Potok, wildberries: WildberriesSimulator
) -> None:
    wildberries.add_order(article="KET", barcodes=[KETTLE_BARCODE], price=249_000)
    wildberries.fail(2, status=500)

    failed = poll_marketplace(world.uow(), clients(attempts=2), "wb-main")
    recovered = poll_marketplace(world.uow(), clients(attempts=2), "wb-main")

    assert failed.error is not None
    assert "500" in failed.error
    assert failed.imported == []
    assert len(recovered.imported) == 1
    assert get_connection(world.uow(), "wb-main").health is Health.OK


def test_a_revoked_token_turns_the_connection_red_with_wbs_reason(
    world: Potok, wildberries: WildberriesSimulator
) -> None:
    wildberries.revoked = True

    outcome = poll_marketplace(world.uow(), clients(), "wb-main")

    assert outcome.refused
    connection = get_connection(world.uow(), "wb-main")
    assert connection.health is Health.REFUSED
    assert connection.last_error is not None
    assert "token problem" in connection.last_error


def test_the_token_is_sealed_at_rest_and_never_shown(world: Potok) -> None:
    import sqlalchemy as sa

    with world.engine.connect() as connection:
        stored = connection.execute(
            sa.text("SELECT credentials FROM marketplace_connections")
        ).scalar_one()
    assert stored.startswith("pd1:")
    assert "wb-test-token" not in stored
    connection_view = get_connection(world.uow(), "wb-main")
    assert "wb-test-token" not in repr(connection_view)
    assert "wb-test-token" not in repr(Credentials("wb-test-token"))


def test_a_burst_of_polls_stays_within_wbs_rate_limit(
    world: Potok, wildberries: WildberriesSimulator
) -> None:
    for _ in range(30):
        wildberries.add_order(article="KET", barcodes=[KETTLE_BARCODE], price=100_00)
    client = clients().build(get_connection(world.uow(), "wb-main"), Credentials(wildberries.token))
    try:
        for _ in range(30):
            client.new_orders()
    finally:
        client.close()

    assert wildberries.rejected == 0
    assert client.stats.requests == 30


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_two_pollers_racing_on_postgresql_import_each_order_once(
    world: Potok, wildberries: WildberriesSimulator
) -> None:
    tasks = [
        wildberries.add_order(article="KET", barcodes=[KETTLE_BARCODE], price=100_00)
        for _ in range(8)
    ]
    start = threading.Barrier(4)
    outcomes = []

    def poll() -> None:
        start.wait()
        outcomes.append(poll_marketplace(world.uow(), clients(), "wb-main"))

    threads = [threading.Thread(target=poll) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [o.error for o in outcomes] == [None] * 4
    assert [o.kept_aside for o in outcomes] == [[]] * 4
    assert sum(len(o.imported) for o in outcomes) == 8
    listed = mp_orders(world)
    assert sorted(o.external_id for o in listed) == sorted(str(t) for t in tasks)


def test_a_timeout_is_tried_again_and_the_order_still_arrives_once(
    world: Potok, wildberries: WildberriesSimulator
) -> None:
    wildberries.add_order(article="KET", barcodes=[KETTLE_BARCODE], price=249_000)
    wildberries.slow(1, delay_s=3)

    outcome = poll_marketplace(world.uow(), clients(timeout_s=1), "wb-main")

    assert outcome.error is None
    assert len(outcome.imported) == 1
    assert len(wildberries.calls("/api/v3/orders/new")) >= 2  # the slow one, then again
    assert len(mp_orders(world)) == 1


def test_the_worker_polls_a_connection_when_its_schedule_says_so(
    world: Potok, wildberries: WildberriesSimulator
) -> None:
    wildberries.add_order(article="KET", barcodes=[KETTLE_BARCODE], price=249_000)
    now = datetime.now(UTC)

    first = run_due_jobs(world, clock=lambda: now)
    soon = run_due_jobs(world, clock=lambda: now + timedelta(seconds=30))
    later = run_due_jobs(world, clock=lambda: now + timedelta(seconds=61))

    assert [(o.connection, len(o.imported)) for o in first.marketplaces] == [("wb-main", 1)]
    assert soon.marketplaces == []  # polled every 60 s
    assert [o.repeated for o in later.marketplaces] == [1]
