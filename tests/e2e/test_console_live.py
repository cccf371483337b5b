"""``/live``, the console's live updates, over real HTTP: which changes each viewer is told
of (its permissions and its reach), what a change says, and what it never says."""

from __future__ import annotations

import json

import httpx
import pytest

from potok.domain.access import Permission, Principal, Role
from potok.domain.kernel import ActorKind
from potok.domain.webhooks import StoredEvent
from potok.services import intake
from potok.web.live import EVERYTHING, Change, Listener, change_of
from tests.auth import make_user, sign_in
from tests.conftest import LiveServer, key_for
from tests.factories import TESTER, build_world, order_command


def place(live: LiveServer, sku: str, channel: str = "web") -> int:
    placed = intake.place_order(
        live.potok.uow(), order_command([(sku, 1)], channel=channel), TESTER
    )
    assert isinstance(placed, intake.Placement)
    assert placed.order.id is not None
    return placed.order.id


def told(answer: httpx.Response) -> list[dict[str, str]]:
    """The changes in an event-stream answer."""
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/event-stream")
    return [
        json.loads(line[len("data: ") :])
        for line in answer.text.splitlines()
        if line.startswith("data: ")
    ]


def about(changes: list[dict[str, str]], topic: str) -> set[str]:
    return {c["id"] for c in changes if c["topic"] == topic}


@pytest.fixture
def orders(live: LiveServer) -> dict[str, int]:
    """Web shop orders reserved at Moscow and at St Petersburg, and a marketplace one."""
    build_world(live.potok, {("MSK", "KET"): 10, ("SPB", "MUG"): 10, ("MSK", "TOY"): 10})
    return {
        "msk": place(live, "KET"),
        "spb": place(live, "MUG"),
        "mp": place(live, "TOY", channel="mp"),
    }


def test_every_change_reaches_an_operator_and_says_nothing_of_the_customer(
    live: LiveServer, orders: dict[str, int]
) -> None:
    make_user(live.potok, "ivanova", Role.OPERATOR)
    operator = sign_in(live.url, "ivanova")
    changes = told(operator.request("GET", "/live", params={"after": "0"}))
    assert about(changes, "order") == {str(n) for n in orders.values()}
    assert {"order.created", "stock.reserved"} <= {c["type"] for c in changes}
    assert about(changes, "stock") == {"MSK", "SPB"}
    assert "Смирнова" not in json.dumps(changes, ensure_ascii=False)  # a name never travels
    assert all(set(c) <= {"topic", "id", "type", "status"} for c in changes)
    # from now on (no cursor): nothing has happened yet
    assert told(operator.request("GET", "/live")) == []


def test_warehouse_staff_are_told_only_of_their_warehouses(
    live: LiveServer, orders: dict[str, int]
) -> None:
    make_user(live.potok, "picker", Role.WAREHOUSE, warehouses=("MSK",))
    picker = sign_in(live.url, "picker")
    changes = told(picker.request("GET", "/live", params={"after": "0"}))
    assert about(changes, "order") == {str(orders["msk"]), str(orders["mp"])}
    assert about(changes, "stock") == {"MSK"}


def test_a_channel_bound_key_is_told_only_of_its_channel(
    live: LiveServer, orders: dict[str, int]
) -> None:
    secret = key_for(live.potok, Permission.ORDERS_READ, channel="mp", name="mp")
    with live.client(headers={"Authorization": f"Bearer {secret}"}) as app:
        changes = told(app.get("/live", params={"after": "0"}))
    assert about(changes, "order") == {str(orders["mp"])}
    assert about(changes, "stock") == set()  # no stock:read, and warehouse work is not a channel's


def test_the_browser_cursor_wins_and_strangers_are_refused(
    live: LiveServer, orders: dict[str, int]
) -> None:
    make_user(live.potok, "ivanova", Role.OPERATOR)
    operator = sign_in(live.url, "ivanova")
    everything = told(operator.request("GET", "/live", params={"after": "0"}))
    assert everything
    # a reconnecting browser says where it got to; that is where it goes on from
    last = operator.request("GET", "/live", params={"after": "0"}).text.split("id: ")[-1]
    position = last.split("\n", 1)[0]
    again = operator.request(
        "GET", "/live", params={"after": "0"}, headers={"Last-Event-ID": position}
    )
    assert told(again) == []
    with live.client() as stranger:
        assert stranger.get("/live").status_code == 401
    bad = operator.request("GET", "/live", params={"after": "-1"})
    assert bad.status_code == 422


def stored(aggregate: str, type_: str, payload: dict[str, object]) -> StoredEvent:
    from datetime import UTC, datetime

    return StoredEvent(7, "e", type_, aggregate, "1", datetime(2026, 1, 1, tzinfo=UTC), payload)


def test_events_become_the_changes_pages_watch() -> None:
    shipped = stored("shipment", "shipment.packed", {"order_id": 5, "warehouse": "MSK"})
    assert change_of(shipped) == Change(7, "order", "5", "shipment.packed", 5, frozenset({"MSK"}))
    status = change_of(stored("order", "order.status_changed", {"order_id": 5, "to_status": "x"}))
    assert status is not None
    assert status.status == "x"
    moved = stored(
        "transfer",
        "transfer.shipped",
        {"number": "T-1", "from_warehouse": "MSK", "to_warehouse": "SPB"},
    )
    assert change_of(moved) == Change(
        7, "transfer", "T-1", "transfer.shipped", None, frozenset({"MSK", "SPB"})
    )
    assert change_of(stored("product", "product.updated", {"sku": "KET"})) is None


def test_a_burst_about_one_order_reaches_an_open_page_as_one_message(
    live: LiveServer, orders: dict[str, int]
) -> None:
    """Each order's creation, reservation and status change, waiting together, are told as
    one message about that order (its last position, every type that happened)."""
    secret = key_for(live.potok, Permission.ORDERS_READ, name="page")
    headers = {"Authorization": f"Bearer {secret}", "Accept": "text/event-stream"}
    messages: list[dict[str, object]] = []
    ids: list[int] = []
    wanted = {str(n) for n in orders.values()}
    with (
        live.client(headers=headers) as page,
        page.stream("GET", "/live", params={"after": "0"}) as stream,
    ):
        for line in stream.iter_lines():
            if line.startswith("id: "):
                ids.append(int(line[4:]))
            elif line.startswith("data: "):
                messages.append(json.loads(line[6:]))
            if {m["id"] for m in messages if m["topic"] == "order"} == wanted:
                break
    per_order = [m for m in messages if m["topic"] == "order"]
    assert len(per_order) == 3  # one message per order, not one per event
    for message in per_order:
        types = message["types"]
        assert isinstance(types, list)
        assert {"order.created", "stock.reserved"} <= set(types)
        assert message["type"] == types[-1]
    assert ids == sorted(ids)  # positions still only go forward: Last-Event-ID holds


def test_a_page_too_far_behind_is_told_to_read_itself_again() -> None:
    listener = Listener(Principal(ActorKind.USER, "t", frozenset()), after=0, size=2)
    for position, key in enumerate(["1", "1", "2", "1", "2"], start=1):
        listener.offer(Change(position, "order", key, f"t{position}", int(key)))
    told_now = listener.take()
    assert [(c.key, c.position, c.types) for c in told_now] == [
        ("1", 4, ("t1", "t2", "t4")),
        ("2", 5, ("t3", "t5")),
    ]
    for position, key in enumerate(["1", "2", "3"], start=6):  # a third thing: too many
        listener.offer(Change(position, "order", key, "t", int(key)))
    assert [(c.topic, c.position) for c in listener.take()] == [(EVERYTHING, 8)]
    listener.offer(Change(9, "order", "1", "t9", 1))  # told: change by change again
    assert [c.position for c in listener.take()] == [9]
