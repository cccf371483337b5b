"""Ozon's push notifications into Potok's endpoint, on a real HTTP server over SQLite and
PostgreSQL, sent the way Ozon sends them (the bodies of the Seller API document's
``push_types`` section), with the simulated Ozon Seller API behind: the notification makes
Potok read the posting back, import it once, follow its cancellation; answers in Ozon's
formats; callers outside Ozon's networks or without the URL's secret refused."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

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
from tests.simulators.ozon import OzonSimulator

OZON_WAREHOUSE = 22_254_230_484_000


def post(url: str, **kwargs: Any) -> httpx.Response:
    """Ozon's call (a generous timeout: the test machine is shared)."""
    return httpx.post(url, timeout=60, **kwargs)


@pytest.fixture
def stand(live: LiveServer, ozon: OzonSimulator, monkeypatch: pytest.MonkeyPatch) -> str:
    """Potok with an Ozon connection to the simulator; the test's own address counts as
    Ozon's network. Returns the URL Ozon is given."""
    monkeypatch.setattr(live.potok.settings.marketplaces, "ozon_push_networks", "127.0.0.0/8")
    build_world(live.potok, {("MSK", "KET"): 20, ("MSK", "MUG"): 10})
    connect_marketplace(
        live.potok.uow(),
        ConnectionDraft(
            code="ozon-main",
            marketplace=Marketplace.OZON,
            channel="mp",
            credentials=Credentials(ozon.api_key, ozon.client_id),
            base_url=ozon.url,
            warehouses={str(OZON_WAREHOUSE): "MSK"},
        ),
        TESTER,
    )
    return live.url + push_path(live.potok.protector, "ozon-main")


def mp_orders(live: LiveServer) -> list[OrderSummary]:
    return order_service.list_orders(
        live.potok.uow(), OrderFilter(channels=["mp"]), limit=100
    ).items


def new_posting(number: str) -> dict[str, Any]:
    """``TYPE_NEW_POSTING`` as the document shows it."""
    return {
        "message_type": "TYPE_NEW_POSTING",
        "posting_number": number,
        "products": [{"sku": 1_146_425_151, "offer_id": "KET", "quantity": 1}],
        "in_process_at": "2026-12-07T06:56:36.294Z",
        "warehouse_id": OZON_WAREHOUSE,
        "shipment_date": "2026-12-08T06:56:36.294Z",
        "tpl_integration_type": "ozon",
        "is_express": False,
        "tracking_number": "",
        "delivery_date_begin": "2026-12-09T06:56:36.294Z",
        "delivery_date_end": "2026-12-09T18:56:36.294Z",
        "seller_id": 123456,
    }


def cancelled(number: str) -> dict[str, Any]:
    """``TYPE_POSTING_CANCELLED`` as the document shows it."""
    return {
        "message_type": "TYPE_POSTING_CANCELLED",
        "posting_number": number,
        "products": [{"sku": 1_146_425_151, "quantity": 1}],
        "old_state": "posting_created",
        "new_state": "posting_canceled",
        "changed_state_date": "2026-12-07T07:56:36.294Z",
        "reason": {"id": 507, "message": "Покупатель отменил заказ"},
        "warehouse_id": OZON_WAREHOUSE,
        "seller_id": 123456,
    }


def kettle() -> list[dict[str, object]]:
    return [{"offer_id": "KET", "sku": 1_146_425_151, "quantity": 1, "price": "2490.00"}]


def test_a_ping_is_answered_with_version_name_and_time(stand: str) -> None:
    answer = post(stand, json={"message_type": "TYPE_PING", "time": "2026-12-07T03:00:00Z"})

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert sorted(body) == ["name", "time", "version"]
    assert body["name"] == "Potok"
    assert datetime.fromisoformat(body["time"].replace("Z", "+00:00")).tzinfo is not None


def test_a_new_posting_is_imported_once_however_often_it_is_told(
    stand: str, live: LiveServer, ozon: OzonSimulator
) -> None:
    number = ozon.add_posting(products=kettle())

    answers = [post(stand, json=new_posting(number)) for _ in range(3)]
    poll = poll_marketplace(live.potok.uow(), live.potok.marketplaces, "ozon-main")

    assert [(a.status_code, a.json()) for a in answers] == [(200, {"result": True})] * 3
    [summary] = mp_orders(live)
    assert summary.external_id == number
    assert (poll.imported, poll.repeated) == ([], 1)  # the poll, the safety net, finds it here
    order = order_service.get_order(live.potok.uow(), summary.id).order
    assert order.state is OrderState.CONFIRMED
    assert len(ozon.calls("/v3/posting/fbs/get")) == 3  # each notification read back


def test_a_cancellation_told_cancels_the_order_and_gives_its_stock_back(
    stand: str, live: LiveServer, ozon: OzonSimulator
) -> None:
    number = ozon.add_posting(products=kettle())
    post(stand, json=new_posting(number))
    ozon.set_status(number, "cancelled", cancellation_type="client", cancel_reason_id=507)

    answer = post(stand, json=cancelled(number))

    assert (answer.status_code, answer.json()) == (200, {"result": True})
    [summary] = mp_orders(live)
    order = order_service.get_order(live.potok.uow(), summary.id).order
    assert order.state is OrderState.CANCELLED
    assert order.open_reservations == []


def test_a_cancellation_ozon_does_not_confirm_changes_nothing(
    stand: str, live: LiveServer, ozon: OzonSimulator
) -> None:
    """A forged or stale notification: Ozon still says awaiting_packaging."""
    number = ozon.add_posting(products=kettle())
    post(stand, json=new_posting(number))

    answer = post(stand, json=cancelled(number))

    assert answer.status_code == 200
    [summary] = mp_orders(live)
    assert order_service.get_order(live.potok.uow(), summary.id).order.state is (
        OrderState.CONFIRMED
    )


def test_a_cancelled_posting_never_seen_is_not_imported(
    stand: str, live: LiveServer, ozon: OzonSimulator
) -> None:
    number = ozon.add_posting(products=kettle())
    ozon.set_status(number, "cancelled", cancellation_type="client")

    answer = post(stand, json=cancelled(number))

    assert answer.status_code == 200
    assert mp_orders(live) == []


def test_other_kinds_are_taken_and_change_nothing(
    stand: str, live: LiveServer, ozon: OzonSimulator
) -> None:
    body = {
        "message_type": "TYPE_STOCKS_CHANGED",
        "seller_id": 123456,
        "items": [{"product_id": 1, "sku": 1, "updated_at": "2026-12-07T03:00:00Z"}],
    }

    answer = post(stand, json=body)

    assert (answer.status_code, answer.json()) == (200, {"result": True})
    assert ozon.received == []


@pytest.mark.parametrize(
    ("change", "status"),
    [
        (lambda url: url.replace("secret=", "secret=x"), 404),
        (lambda url: url.split("?")[0], 404),
        (lambda url: url.replace("/ozon-main/", "/ozon-other/"), 404),  # secret is per connection
    ],
)
def test_a_caller_without_the_urls_secret_is_refused_in_ozons_format(
    stand: str, live: LiveServer, ozon: OzonSimulator, change: Any, status: int
) -> None:
    number = ozon.add_posting(products=kettle())

    answer = post(change(stand), json=new_posting(number))

    assert answer.status_code == status
    assert answer.json()["error"]["code"] == "ERROR_UNKNOWN"
    assert mp_orders(live) == []
    assert ozon.received == []


def test_a_caller_outside_ozons_networks_is_refused(
    stand: str, live: LiveServer, ozon: OzonSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        live.potok.settings.marketplaces,
        "ozon_push_networks",
        "195.34.21.0/24,185.73.192.0/22,91.223.93.0/24",  # Ozon's own: not this test
    )
    number = ozon.add_posting(products=kettle())

    answer = post(stand, json=new_posting(number))

    assert answer.status_code == 404  # the address exists for Ozon alone
    assert "Ozon's networks" in answer.json()["error"]["message"]
    assert mp_orders(live) == []


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b'{"posting_number": "1-1-1"}', b'{"message_type": "TYPE_NEW_POSTING"}'],
)
def test_what_is_not_a_notification_is_answered_400_parameter_missed(
    stand: str, body: bytes
) -> None:
    answer = post(stand, content=body, headers={"Content-Type": "application/json"})

    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "ERROR_PARAMETER_VALUE_MISSED"
    assert error["details"] is None


def test_ozon_refusing_the_read_back_answers_503_and_the_poll_catches_up(
    stand: str, live: LiveServer, ozon: OzonSimulator
) -> None:
    number = ozon.add_posting(products=kettle())
    ozon.revoked = True

    answer = post(stand, json=new_posting(number))
    ozon.revoked = False
    poll = poll_marketplace(live.potok.uow(), live.potok.marketplaces, "ozon-main")

    assert answer.status_code == 503  # Ozon sends the notification again
    assert answer.json()["error"]["code"] == "ERROR_UNKNOWN"
    assert len(poll.imported) == 1
    assert [s.external_id for s in mp_orders(live)] == [number]


def test_the_time_of_a_ping_answer_is_now(stand: str) -> None:
    before = datetime.now(UTC).replace(microsecond=0)

    body = post(stand, json={"message_type": "TYPE_PING", "time": "2019-08-24T14:15:22Z"})

    moment = datetime.fromisoformat(body.json()["time"].replace("Z", "+00:00"))
    assert before <= moment <= datetime.now(UTC)
