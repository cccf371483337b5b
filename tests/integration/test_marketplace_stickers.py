"""WB's assembly task stickers: fetched once after the task joined a supply (not at every
poll), kept for the shipment in the format and size of the settings; one WB refused is
asked for again at the next poll."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from potok.bootstrap import Potok
from potok.connectors.marketplaces import MarketplaceClients, Sticker
from potok.domain.marketplaces import Credentials, Marketplace, StickerNotKept
from potok.services.fulfilment import handover, reads
from potok.services.marketplaces import poll_marketplace, read_journal
from potok.services.marketplaces.stickers import sticker_of_shipment
from potok.services.unit_of_work import atomically, reading
from potok.settings import MarketplaceSettings
from tests.factories import TESTER
from tests.integration.test_marketplace_fulfilment import connect, fulfil, shoes_world
from tests.simulators.wildberries import WildberriesSimulator


def clients(**settings: object) -> MarketplaceClients:
    return MarketplaceClients(MarketplaceSettings.model_validate(settings))


def packed_task(potok: Potok, wildberries: WildberriesSimulator) -> tuple[int, int]:
    """A WB task imported, then packed in Potok (not handed over): its task and shipment."""
    shoes_world(potok)
    connect(
        potok,
        "wb",
        Marketplace.WILDBERRIES,
        wildberries.url,
        Credentials(wildberries.token),
        658434,
    )
    task = wildberries.add_order(article="KET", barcodes=["4601234567893"], price=249_000)
    [order_id] = poll_marketplace(potok.uow(), clients(), "wb").imported
    fulfil(potok, order_id, hand_over=False)
    (shipment,) = reads.order_shipments(potok.uow(), order_id)
    return task, shipment.id or 0


def test_the_sticker_is_fetched_once_after_the_task_joined_the_supply(
    potok: Potok, wildberries: WildberriesSimulator
) -> None:
    task, shipment_id = packed_task(potok, wildberries)
    with pytest.raises(StickerNotKept):
        sticker_of_shipment(potok.uow(), shipment_id)

    first = poll_marketplace(potok.uow(), clients(), "wb")

    assert (first.packed, first.stickers) == ([str(task)], [str(task)])
    assert wildberries.invalid == []
    [call] = wildberries.calls("/api/v3/orders/stickers")
    assert call.query == "type=png&width=58&height=40"
    assert call.body == {"orders": [task]}
    sticker = sticker_of_shipment(potok.uow(), shipment_id)
    assert sticker.media_type == "image/png"
    assert sticker.file == f"png:58x40:sticker of {task}".encode()
    assert (sticker.part_a, sticker.part_b, sticker.barcode) == (
        str(task // 10_000),
        str(task % 10_000),
        f"!{task:x}",
    )

    again = poll_marketplace(potok.uow(), clients(), "wb")
    handover.hand_over(potok.uow(), shipment_id, TESTER, carrier="Wildberries")
    left = poll_marketplace(potok.uow(), clients(), "wb")

    assert (again.stickers, left.handed_over, left.stickers) == ([], [str(task)], [])
    assert wildberries.stickers_given == [task]  # once, not at every poll
    assert len(wildberries.calls("/api/v3/orders/stickers")) == 1


def test_a_sticker_kept_twice_keeps_the_first(
    potok: Potok, wildberries: WildberriesSimulator
) -> None:
    """Two polls of one connection at once: the second keeping the same task's sticker is
    not an error, and the first one stays."""
    task, shipment_id = packed_task(potok, wildberries)
    poll_marketplace(potok.uow(), clients(), "wb")
    connection = reading(potok.uow(), lambda uow: uow.marketplaces.get_by_code("wb"))
    assert connection is not None
    late = Sticker(str(task), "image/png", b"kept by another poll")

    atomically(
        potok.uow(),
        lambda uow: uow.marketplaces.keep_stickers(connection.id, [late], datetime.now(UTC)),
    )

    assert sticker_of_shipment(potok.uow(), shipment_id).file == (
        f"png:58x40:sticker of {task}".encode()
    )


def test_the_format_and_size_come_from_the_settings(
    potok: Potok, wildberries: WildberriesSimulator
) -> None:
    task, shipment_id = packed_task(potok, wildberries)

    poll_marketplace(
        potok.uow(),
        clients(wildberries_sticker_type="zplh", wildberries_sticker_size="40x30"),
        "wb",
    )

    [call] = wildberries.calls("/api/v3/orders/stickers")
    assert call.query == "type=zplh&width=40&height=30"
    sticker = sticker_of_shipment(potok.uow(), shipment_id)
    assert (sticker.media_type, sticker.file) == (
        "application/x-zpl",
        f"zplh:40x30:sticker of {task}".encode(),
    )


def test_a_sticker_wb_refused_is_fetched_at_the_next_poll(
    potok: Potok, wildberries: WildberriesSimulator
) -> None:
    task, shipment_id = packed_task(potok, wildberries)
    wildberries.sticker_faults.append(409)

    refused = poll_marketplace(potok.uow(), clients(), "wb")

    assert (refused.packed, refused.stickers, refused.push_failed) == ([str(task)], [], [str(task)])
    [entry] = read_journal(potok.uow(), "wb")
    assert entry.external_id == str(task)
    assert "stickers" in entry.detail
    with pytest.raises(StickerNotKept):
        sticker_of_shipment(potok.uow(), shipment_id)

    later = poll_marketplace(potok.uow(), clients(), "wb")

    assert (later.packed, later.stickers) == ([], [str(task)])
    assert sticker_of_shipment(potok.uow(), shipment_id).file == (
        f"png:58x40:sticker of {task}".encode()
    )
    assert read_journal(potok.uow(), "wb") == []
    assert wildberries.stickers_given == [task]


def test_an_outage_of_the_stickers_method_leaves_it_for_the_next_poll(
    potok: Potok, wildberries: WildberriesSimulator
) -> None:
    task, shipment_id = packed_task(potok, wildberries)
    wildberries.sticker_faults.append(503)

    down = poll_marketplace(potok.uow(), clients(attempts=1), "wb")

    assert down.packed == [str(task)]
    assert down.error is not None
    later = poll_marketplace(potok.uow(), clients(), "wb")

    assert (later.packed, later.stickers, later.error) == ([], [str(task)], None)
    assert sticker_of_shipment(potok.uow(), shipment_id).file == (
        f"png:58x40:sticker of {task}".encode()
    )


def test_more_than_a_hundred_tasks_are_asked_for_a_hundred_at_a_time(
    wildberries: WildberriesSimulator,
) -> None:
    from potok.connectors.marketplaces.wildberries import Wildberries

    tasks = [
        wildberries.add_order(article="KET", barcodes=["4601234567893"], price=100)
        for _ in range(130)
    ]
    for task in tasks:
        wildberries.set_status(task, "confirm", "waiting")
    client = Wildberries.connect(wildberries.url, Credentials(wildberries.token))
    try:
        got = client.stickers([str(t) for t in tasks])
    finally:
        client.close()

    assert [s.external_id for s in got] == [str(t) for t in tasks]
    assert [len(c.body["orders"]) for c in wildberries.calls("/api/v3/orders/stickers")] == [
        100,
        30,
    ]
    assert wildberries.invalid == []
