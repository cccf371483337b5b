"""Yandex Market's returns and unredeemed orders as Potok returns, against the simulated
Partner API (every request checked against Market's document), on SQLite and PostgreSQL:
each Market return becomes one Potok return of the order it was imported as, with Market's
reason as the shop's; Market's later word approves or declines it while it is requested;
what cannot be taken waits in the journal and is taken once it can; a poll and a
notification (or two pollers) racing on one return make one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from potok.bootstrap import Potok
from potok.domain.returns import ReturnSource, ReturnStatus
from potok.services.marketplaces import poll_marketplace, read_journal
from potok.services.returns import requests as returns_service
from tests.integration.test_marketplace_fulfilment import clients, fulfil, marking
from tests.integration.test_marketplace_yandex_market_fulfilment import CAMPAIGN, market_shoes
from tests.racing import RACE_LIMIT, race
from tests.simulators.yandex_market import YandexMarketSimulator


def shipped_shoes(potok: Potok, market: YandexMarketSimulator) -> tuple[int, int]:
    """A Market order of two marked shoes, imported, packed and handed over; delivered."""
    number, order_id = market_shoes(potok, market)
    fulfil(potok, order_id, marking("ym-unit-1"), marking("ym-unit-2"), hand_over=True)
    poll_marketplace(potok.uow(), clients(), "ym")
    market.set_status(number, "DELIVERED", "DELIVERY_SERVICE_DELIVERED")
    return number, order_id


def returns_path() -> str:
    return f"/v2/campaigns/{CAMPAIGN}/returns"


def test_a_customers_return_becomes_one_potok_return_then_market_approves_it(
    potok: Potok, yandex_market: YandexMarketSimulator
) -> None:
    number, order_id = shipped_shoes(potok, yandex_market)
    back = yandex_market.add_return(number, items=[{"offerId": "SHOE", "count": 1}])

    first = poll_marketplace(potok.uow(), clients(), "ym")
    again = poll_marketplace(potok.uow(), clients(), "ym")

    assert first.error is None, first.error
    [made] = returns_service.returns_of_order(potok.uow(), order_id)
    assert first.returns_opened == [made.number]
    assert (again.returns_opened, again.returns_followed) == ([], 0)  # nothing new: one return
    assert (made.status, made.source) == (ReturnStatus.REQUESTED, ReturnSource.CUSTOMER)
    assert [(line.sku, line.quantity, line.reason) for line in made.lines] == [
        ("SHOE", 1, "defective")  # Market's BAD_QUALITY
    ]
    assert made.comment == f"Yandex Market return {back} (RETURN/STARTED_BY_USER/CREATED)"

    yandex_market.move_return(
        back, refund_status="REFUND_IN_PROGRESS", shipment_status="IN_TRANSIT"
    )
    moved = poll_marketplace(potok.uow(), clients(), "ym")

    assert moved.returns_followed == 1
    [approved] = returns_service.returns_of_order(potok.uow(), order_id)
    assert approved.number == made.number
    assert approved.status is ReturnStatus.APPROVED
    asked = yandex_market.calls(returns_path())[-1]
    today = datetime.now(UTC).date()
    since, until = today - timedelta(days=1), today + timedelta(days=1)
    assert asked.query == f"fromDate={since}&toDate={until}&limit=100"
    assert yandex_market.invalid == []


def test_a_return_market_cancels_is_declined_with_markets_words(
    potok: Potok, yandex_market: YandexMarketSimulator
) -> None:
    number, order_id = shipped_shoes(potok, yandex_market)
    back = yandex_market.add_return(number)
    poll_marketplace(potok.uow(), clients(), "ym")

    yandex_market.move_return(back, refund_status="CANCELLED", shipment_status="CANCELLED")
    poll_marketplace(potok.uow(), clients(), "ym")

    [declined] = returns_service.returns_of_order(potok.uow(), order_id)
    assert declined.status is ReturnStatus.DECLINED
    assert [line.quantity for line in declined.lines] == [2]  # every item of the order
    assert yandex_market.invalid == []


def test_an_unredeemed_order_is_an_unclaimed_return_expected_back(
    potok: Potok, yandex_market: YandexMarketSimulator
) -> None:
    number, order_id = shipped_shoes(potok, yandex_market)
    yandex_market.add_return(number, kind="UNREDEEMED", shipment_status="IN_TRANSIT")

    poll_marketplace(potok.uow(), clients(), "ym")

    [made] = returns_service.returns_of_order(potok.uow(), order_id)
    assert (made.status, made.source) == (ReturnStatus.APPROVED, ReturnSource.UNCLAIMED)
    assert [(line.quantity, line.reason) for line in made.lines] == [(2, "unclaimed")]


def test_a_return_of_an_order_never_shipped_waits_in_the_journal_until_it_can_be_taken(
    potok: Potok, yandex_market: YandexMarketSimulator
) -> None:
    number, order_id = market_shoes(potok, yandex_market)  # imported, not yet shipped
    back = yandex_market.add_return(number)

    early = poll_marketplace(potok.uow(), clients(), "ym")

    assert early.kept_aside == [f"return-{back}"]
    [entry] = read_journal(potok.uow(), "ym")
    assert (entry.external_id, entry.kind.value) == (f"return-{back}", "refused")
    assert f"Yandex Market return {back} of order {number}" in entry.detail
    assert returns_service.returns_of_order(potok.uow(), order_id) == []

    fulfil(potok, order_id, marking("ym-unit-1"), marking("ym-unit-2"), hand_over=True)
    later = poll_marketplace(potok.uow(), clients(), "ym")

    assert len(later.returns_opened) == 1
    assert read_journal(potok.uow(), "ym") == []  # resolved once taken


def test_an_offer_not_in_the_order_is_kept_aside_not_half_taken(
    potok: Potok, yandex_market: YandexMarketSimulator
) -> None:
    number, order_id = shipped_shoes(potok, yandex_market)
    yandex_market.add_return(
        number, items=[{"offerId": "SHOE", "count": 1}, {"offerId": "GHOST", "count": 1}]
    )

    outcome = poll_marketplace(potok.uow(), clients(), "ym")

    assert len(outcome.kept_aside) == 1
    [entry] = read_journal(potok.uow(), "ym")
    assert "offer GHOST is not in the order" in entry.detail
    assert returns_service.returns_of_order(potok.uow(), order_id) == []


@RACE_LIMIT
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_pollers_racing_on_one_return_make_one_potok_return(
    potok: Potok, yandex_market: YandexMarketSimulator
) -> None:
    """One of the two shoes comes back: a racer that finds the other's Potok return made
    could still claim the second shoe; the link's unique (connection, return id) refuses
    its link, and its retry finds the return made."""
    number, order_id = shipped_shoes(potok, yandex_market)
    yandex_market.add_return(number, items=[{"offerId": "SHOE", "count": 1}])

    outcomes = race([lambda: poll_marketplace(potok.uow(), clients(), "ym")] * 4)

    made = returns_service.returns_of_order(potok.uow(), order_id)
    assert len(made) == 1
    assert sum(len(o.returns_opened) for o in outcomes) == 1
    assert all(o.error is None for o in outcomes)
    assert all(o.kept_aside == [] for o in outcomes)
    assert read_journal(potok.uow(), "ym") == []
