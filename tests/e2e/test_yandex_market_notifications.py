"""Yandex Market's API notifications into Potok's endpoint, on a real HTTP server over
SQLite and PostgreSQL, sent the way Market sends them (``POST <URL>/notification``, bodies
checked against Market's notification document before they leave, Potok's answers checked
against the same document when they come back), with the simulated Partner API behind:
a notification makes Potok read the order back, import it once, follow its cancellation;
callers outside Market's networks or without the URL's secret are refused."""

from __future__ import annotations

import httpx
import pytest

from potok.domain.marketplaces import ConnectionDraft, Credentials, Marketplace
from potok.domain.orders import OrderState
from potok.services import orders as order_service
from potok.services.marketplaces import connect_marketplace, poll_marketplace
from potok.services.marketplaces.notifications import push_path
from potok.services.read_models import OrderFilter, OrderSummary
from tests.conftest import LiveServer
from tests.factories import TESTER, build_world
from tests.simulators.yandex_market import YandexMarketSimulator

CAMPAIGN = 21_000_001


@pytest.fixture
def stand(
    live: LiveServer, yandex_market: YandexMarketSimulator, monkeypatch: pytest.MonkeyPatch
) -> str:
    """Potok with a Market connection to the simulator; the test's own address counts as
    Market's network. Returns the URL Market is given."""
    monkeypatch.setattr(
        live.potok.settings.marketplaces, "yandex_market_push_networks", "127.0.0.0/8"
    )
    build_world(live.potok, {("MSK", "KET"): 20, ("MSK", "MUG"): 10})
    connect_marketplace(
        live.potok.uow(),
        ConnectionDraft(
            code="ym-main",
            marketplace=Marketplace.YANDEX_MARKET,
            channel="mp",
            credentials=Credentials(yandex_market.api_key, yandex_market.business_id),
            base_url=yandex_market.url,
            warehouses={str(CAMPAIGN): "MSK"},
        ),
        TESTER,
    )
    return live.url + push_path(live.potok.protector, "ym-main", Marketplace.YANDEX_MARKET)


def ym_orders(live: LiveServer) -> list[OrderSummary]:
    return order_service.list_orders(
        live.potok.uow(), OrderFilter(channels=["mp"]), limit=100
    ).items


def kettle() -> list[dict[str, object]]:
    return [{"offerId": "KET", "count": 1, "price": 2490}]


def orders_path(market: YandexMarketSimulator) -> str:
    return f"/v1/businesses/{market.business_id}/orders"


def test_a_ping_is_answered_with_version_name_and_time(
    stand: str, yandex_market: YandexMarketSimulator
) -> None:
    answer = yandex_market.notify(stand, yandex_market.notification("PING"))

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert sorted(body) == ["name", "time", "version"]
    assert body["name"] == "Potok"
    assert yandex_market.calls(orders_path(yandex_market)) == []  # a ping asks Market nothing


def test_a_new_order_is_imported_once_however_often_it_is_told(
    stand: str, live: LiveServer, yandex_market: YandexMarketSimulator
) -> None:
    number = yandex_market.add_order(items=kettle())
    told = yandex_market.notification("ORDER_CREATED", number)

    answers = [yandex_market.notify(stand, told) for _ in range(3)]
    poll = poll_marketplace(live.potok.uow(), live.potok.marketplaces, "ym-main")

    assert [a.status_code for a in answers] == [200, 200, 200]
    [summary] = ym_orders(live)
    assert summary.external_id == str(number)
    assert (poll.imported, poll.repeated) == ([], 1)  # the poll, the safety net, finds it
    order = order_service.get_order(live.potok.uow(), summary.id).order
    assert order.state is OrderState.CONFIRMED
    reads = yandex_market.calls(orders_path(yandex_market))
    assert [call.body.get("orderIds") for call in reads[:3]] == [[number]] * 3


def test_a_status_change_told_before_the_order_was_imported_imports_it(
    stand: str, live: LiveServer, yandex_market: YandexMarketSimulator
) -> None:
    """ORDER_CREATED lost (or late): the status notification alone brings the order in."""
    number = yandex_market.add_order(items=kettle())

    answer = yandex_market.notify(stand, yandex_market.notification("ORDER_STATUS_UPDATED", number))

    assert answer.status_code == 200
    assert [s.external_id for s in ym_orders(live)] == [str(number)]


def test_a_cancellation_told_cancels_the_order_and_gives_its_stock_back(
    stand: str, live: LiveServer, yandex_market: YandexMarketSimulator
) -> None:
    number = yandex_market.add_order(items=kettle())
    yandex_market.notify(stand, yandex_market.notification("ORDER_CREATED", number))
    yandex_market.set_status(number, "CANCELLED", "USER_CHANGED_MIND")

    answer = yandex_market.notify(stand, yandex_market.notification("ORDER_CANCELLED", number))

    assert answer.status_code == 200
    [summary] = ym_orders(live)
    order = order_service.get_order(live.potok.uow(), summary.id).order
    assert order.state is OrderState.CANCELLED
    assert order.open_reservations == []


def test_a_cancellation_market_does_not_confirm_changes_nothing(
    stand: str, live: LiveServer, yandex_market: YandexMarketSimulator
) -> None:
    """A forged or stale notification: Market still says PROCESSING/STARTED."""
    number = yandex_market.add_order(items=kettle())
    yandex_market.notify(stand, yandex_market.notification("ORDER_CREATED", number))

    answer = yandex_market.notify(stand, yandex_market.notification("ORDER_CANCELLED", number))

    assert answer.status_code == 200
    [summary] = ym_orders(live)
    assert order_service.get_order(live.potok.uow(), summary.id).order.state is (
        OrderState.CONFIRMED
    )


def test_an_order_market_does_not_know_and_an_unpaid_one_import_nothing(
    stand: str, live: LiveServer, yandex_market: YandexMarketSimulator
) -> None:
    unpaid = yandex_market.add_order(
        items=kettle(), status="UNPAID", substatus="WAITING_USER_INPUT"
    )

    unknown = yandex_market.notify(stand, yandex_market.notification("ORDER_CREATED", 99_999_999))
    early = yandex_market.notify(stand, yandex_market.notification("ORDER_CREATED", unpaid))

    assert (unknown.status_code, early.status_code) == (200, 200)
    assert ym_orders(live) == []


def test_returns_chats_and_cancellation_requests_are_taken(
    stand: str, live: LiveServer, yandex_market: YandexMarketSimulator
) -> None:
    number = yandex_market.add_order(items=kettle())
    yandex_market.notify(stand, yandex_market.notification("ORDER_CREATED", number))
    yandex_market.request_cancellation(number)

    request = yandex_market.notify(
        stand, yandex_market.notification("ORDER_CANCELLATION_REQUEST", number)
    )
    chat = yandex_market.notify(
        stand,
        {
            "notificationType": "CHAT_CREATED",
            "chatId": 1,
            "businessId": 8_880_001,
            "createdAt": "2026-12-07T08:00:00Z",
        },
    )
    returned = yandex_market.notify(
        stand, yandex_market.notification("ORDER_RETURN_CREATED", number)
    )

    assert [a.status_code for a in (request, chat, returned)] == [200, 200, 200]
    assert len(ym_orders(live)) == 1


def test_malformed_notifications_are_answered_400_in_markets_format(
    stand: str, live: LiveServer, yandex_market: YandexMarketSimulator
) -> None:
    not_json = yandex_market.notify(stand, None, raw=b"{not json")
    no_order = yandex_market.notify(
        stand, None, raw=b'{"notificationType": "ORDER_CREATED", "campaignId": 21000001}'
    )
    unknown_kind = yandex_market.notify(stand, None, raw=b'{"notificationType": "NOPE"}')

    for answer in (not_json, no_order, unknown_kind):
        assert answer.status_code == 400
        assert answer.json()["error"]["type"] == "WRONG_EVENT_FORMAT"
    assert ym_orders(live) == []


def test_market_unreachable_is_answered_500_so_market_sends_again(
    stand: str, live: LiveServer, yandex_market: YandexMarketSimulator
) -> None:
    number = yandex_market.add_order(items=kettle())
    yandex_market.fail(10, status=503)

    failed = yandex_market.notify(stand, yandex_market.notification("ORDER_CREATED", number))
    yandex_market.faults.clear()
    again = yandex_market.notify(stand, yandex_market.notification("ORDER_CREATED", number))

    assert failed.status_code == 500
    assert failed.json()["error"]["type"] == "UNKNOWN"
    assert again.status_code == 200
    assert len(ym_orders(live)) == 1


def test_callers_outside_markets_networks_or_without_the_secret_are_refused(
    stand: str,
    live: LiveServer,
    yandex_market: YandexMarketSimulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    number = yandex_market.add_order(items=kettle())
    body = yandex_market.notification("ORDER_CREATED", number)
    wrong_secret = stand.rsplit("/", 1)[0] + "/" + "0" * 32

    forged = httpx.post(wrong_secret + "/notification", json=body, timeout=60)
    monkeypatch.setattr(
        live.potok.settings.marketplaces, "yandex_market_push_networks", "5.45.207.0/25"
    )
    outside = httpx.post(stand + "/notification", json=body, timeout=60)

    assert forged.status_code == 404
    assert outside.status_code == 404  # the address exists for Market alone
    assert "networks" in outside.json()["error"]["message"]
    assert ym_orders(live) == []
    assert yandex_market.calls(orders_path(yandex_market)) == []


def test_a_return_told_becomes_one_potok_return_however_often_and_the_poll_agrees(
    stand: str, live: LiveServer, yandex_market: YandexMarketSimulator
) -> None:
    from potok.services.returns import requests as returns_service
    from tests.integration.test_marketplace_fulfilment import fulfil

    number = yandex_market.add_order(items=kettle())
    yandex_market.notify(stand, yandex_market.notification("ORDER_CREATED", number))
    [summary] = ym_orders(live)
    fulfil(live.potok, summary.id, hand_over=True)
    back = yandex_market.add_return(number, reason="WRONG_ITEM")
    told = yandex_market.notification("ORDER_RETURN_CREATED", number, returnId=back)

    answers = [yandex_market.notify(stand, told) for _ in range(2)]
    poll = poll_marketplace(live.potok.uow(), live.potok.marketplaces, "ym-main")
    yandex_market.move_return(back, shipment_status="READY_FOR_PICKUP")
    moved = yandex_market.notify(
        stand, yandex_market.notification("ORDER_RETURN_STATUS_UPDATED", number, returnId=back)
    )

    assert [a.status_code for a in (*answers, moved)] == [200, 200, 200]
    assert poll.returns_opened == []  # the notification made it; the poll found it made
    [made] = returns_service.returns_of_order(live.potok.uow(), summary.id)
    assert [(line.sku, line.quantity, line.reason) for line in made.lines] == [
        ("KET", 1, "wrong_item")
    ]
    assert made.status.value == "approved"  # Market has the parcel: it is on its way back
    reads = yandex_market.calls(f"/v2/campaigns/{CAMPAIGN}/orders/{number}/returns/{back}")
    assert len(reads) == 3  # each notification read the return back
    assert yandex_market.unfaithful == []
    assert yandex_market.invalid == []
