"""Order edits through the API, on SQLite and PostgreSQL: every edit needs the order's
`If-Match`; only the difference is reserved (where the order already is, the rest from
another warehouse) or given back; an edit the network cannot cover changes nothing; units
of a line are cancelled; once picking starts lines stay, and a shipment is cancelled
before it leaves."""

from __future__ import annotations

from typing import Any

import httpx

from tests.e2e.test_stock_api import get_order, levels, no_drift, place
from tests.factories import build_world_api
from tests.problems import field_codes, problem


def held(order: dict[str, Any]) -> list[tuple[int, str, int]]:
    """(line, warehouse, units) of the open reservations, summed and sorted."""
    found: dict[tuple[int, str], int] = {}
    for r in order["reservations"]:
        if r["ended_at"] is None:
            key = (r["line_no"], r["warehouse"])
            found[key] = found.get(key, 0) + r["quantity"]
    return sorted((line, where, units) for (line, where), units in found.items())


def etag(api: httpx.Client, order_id: int) -> str:
    return api.get(f"/api/v1/orders/{order_id}").headers["etag"]


def test_an_edit_under_if_match_moves_only_the_difference(api: httpx.Client) -> None:
    build_world_api(api, {("MSK", "KET"): 3, ("SPB", "KET"): 5, ("MSK", "MUG"): 4})
    order_id = place(api, [("KET", 2), ("MUG", 3)])["id"]
    url = f"/api/v1/orders/{order_id}"
    assert held(get_order(api, order_id)) == [(1, "MSK", 2), (2, "MSK", 3)]
    before = etag(api, order_id)
    change = {"lines": [{"line_no": 1, "quantity": 3}, {"line_no": 2, "quantity": 1}]}

    # no If-Match, a stale one, one that is no ETag: refused, nothing changes
    missing = problem(api.patch(url, json=change), 428, "version-required")
    assert "If-Match" in missing["detail"]
    problem(api.patch(url, json=change, headers={"If-Match": '"0"'}), 412, "stale-version")
    garbled = problem(api.patch(url, json=change, headers={"If-Match": "v1"}), 422, "invalid-input")
    assert field_codes(garbled) == {"If-Match": "bad-if-match"}
    assert etag(api, order_id) == before

    # a third kettle: MSK has one more, so it is kept there; two mugs go back
    edited = api.patch(url, json=change, headers={"If-Match": before})
    assert edited.status_code == 200, edited.text
    middle = edited.headers["etag"]
    assert middle != before
    order = edited.json()
    assert [(li["sku"], li["quantity"]) for li in order["lines"]] == [("KET", 3), ("MUG", 1)]
    assert held(order) == [(1, "MSK", 3), (2, "MSK", 1)]
    assert levels(api)[("MSK", "MUG")] == (4, 1)
    no_drift(api)

    # two more: MSK has none left, they come from SPB; the three at MSK stay where they are
    more = {"lines": [{"line_no": 1, "quantity": 5}]}
    edited = api.patch(url, json=more, headers={"If-Match": middle})
    assert edited.status_code == 200, edited.text
    after = edited.headers["etag"]
    order = edited.json()
    assert held(order) == [(1, "MSK", 3), (1, "SPB", 2), (2, "MSK", 1)]
    found = levels(api)
    assert found[("MSK", "KET")] == (3, 3)
    assert found[("SPB", "KET")] == (5, 2)
    edits = [h for h in order["history"] if h["action"] == "edited"]
    assert len(edits) == 2
    no_drift(api)

    # the same ETag again is stale now; more than the network has changes nothing
    problem(api.patch(url, json=more, headers={"If-Match": middle}), 412, "stale-version")
    too_many = {"lines": [{"line_no": 1, "quantity": 40}, {"line_no": 2, "quantity": 0}]}
    problem(api.patch(url, json=too_many, headers={"If-Match": after}), 422, "insufficient-stock")
    assert etag(api, order_id) == after
    assert held(get_order(api, order_id)) == [(1, "MSK", 3), (1, "SPB", 2), (2, "MSK", 1)]

    # a pickup point instead of the address: the reservations stay
    moved = api.patch(
        url,
        json={"delivery": {"method": "pickup", "pickup_point": "MSK-P"}},
        headers={"If-Match": after},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["delivery"]["method"] == "pickup"
    assert held(moved.json()) == [(1, "MSK", 3), (1, "SPB", 2), (2, "MSK", 1)]

    # the last mug cancelled: its line ends, its unit goes back on the shelf
    cancelled = api.post(
        f"{url}/line-cancellations",
        json={"lines": [{"line_no": 2, "quantity": 1}], "reason": "кружка не нужна"},
        headers={"If-Match": moved.headers["etag"]},
    )
    assert cancelled.status_code == 200, cancelled.text
    assert held(cancelled.json()) == [(1, "MSK", 3), (1, "SPB", 2)]
    assert levels(api)[("MSK", "MUG")] == (4, 0)
    no_drift(api)


def test_once_picking_starts_the_lines_stay_and_a_shipment_is_cancelled_before_it_leaves(
    api: httpx.Client,
) -> None:
    build_world_api(api, {("MSK", "KET"): 2, ("SPB", "MUG"): 3})
    order_id = place(api, [("KET", 2), ("MUG", 1)])["id"]  # KET at MSK, MUG at SPB
    url = f"/api/v1/orders/{order_id}"
    (msk,) = api.post(f"{url}/shipments", json={"warehouse": "MSK"}).json()
    picked = api.post(f"/api/v1/shipments/{msk['id']}/picks", json={"code": "KET"})
    assert picked.status_code == 201, picked.text
    version = etag(api, order_id)

    refused = api.patch(
        url, json={"lines": [{"line_no": 2, "quantity": 2}]}, headers={"If-Match": version}
    )
    problem(refused, 409, "order-not-editable")
    in_hand = api.post(
        f"{url}/line-cancellations",
        json={"lines": [{"line_no": 1, "quantity": 1}], "reason": "передумал"},
        headers={"If-Match": version},
    )
    problem(in_hand, 409, "line-in-fulfilment")
    assert etag(api, order_id) == version

    # the kettles' shipment is called off before it leaves: they go back, the mug goes on
    off = api.post(f"/api/v1/shipments/{msk['id']}/cancellation", json={"reason": "отказ"})
    assert off.status_code == 200, off.text
    order = off.json()
    assert [(li["sku"], li["quantity"]) for li in order["lines"]] == [("MUG", 1)]
    assert held(order) == [(2, "SPB", 1)]
    assert api.get(f"/api/v1/shipments/{msk['id']}").json()["status"] == "cancelled"
    found = levels(api)
    assert found[("MSK", "KET")] == (2, 0)
    assert found[("SPB", "MUG")] == (3, 1)
    no_drift(api)


def test_the_customers_contact_changes_under_if_match_and_the_history_names_only_which(
    api: httpx.Client,
) -> None:
    build_world_api(api, {("MSK", "KET"): 3})
    order_id = place(api, [("KET", 1)])["id"]
    url = f"/api/v1/orders/{order_id}"
    body = {"customer": {"name": "Анна", "phone": "8 (916) 000-11-22", "email": "A@Example.ru"}}

    edited = api.patch(url, json=body, headers={"If-Match": etag(api, order_id)})

    assert edited.status_code == 200, edited.text
    customer = edited.json()["customer"]
    assert (customer["name"], customer["phone"], customer["email"]) == (
        "Анна",
        "+79160001122",
        "a@example.ru",
    )
    (entry,) = [h for h in edited.json()["history"] if h["action"] == "edited"]
    assert sorted(entry["details"]["contact"]) == ["email", "name", "phone"]
    assert "9160001122" not in str(entry)
    bad = {"customer": {"name": "Анна", "phone": "12"}}
    refused = problem(
        api.patch(url, json=bad, headers={"If-Match": etag(api, order_id)}), 422, "invalid-input"
    )
    assert field_codes(refused) == {"customer.phone": "bad-phone"}
