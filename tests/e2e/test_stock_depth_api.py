"""Stock over HTTP, in depth: the unavailable bucket, storage locations and pick lists,
and stock counts from sheet to approval."""

from __future__ import annotations

from typing import Any

import httpx

from potok.domain.access import Role
from tests.auth import make_user, sign_in
from tests.conftest import LiveServer
from tests.e2e.test_lots_api import add_product, receive_lot
from tests.e2e.test_stock_api import get_order, movements, no_drift, open_reservations, place
from tests.factories import build_world_api
from tests.invariants import assert_stock_invariants
from tests.problems import field_codes, problem


def move(api: httpx.Client, sku: str, quantity: int, to: str, **extra: Any) -> httpx.Response:
    body = {"warehouse": "MSK", "sku": sku, "quantity": quantity, "to": to, "reason": "damaged"}
    return api.post("/api/v1/stock/moves", json={**body, **extra})


def bin_(api: httpx.Client, code: str, sequence: int, zone: str = "A") -> None:
    response = api.post(
        "/api/v1/warehouses/MSK/locations",
        json={"code": code, "zone": zone, "pick_sequence": sequence},
    )
    assert response.status_code == 201, response.text


def place_in(api: httpx.Client, sku: str, location: str | None) -> dict[str, Any]:
    response = api.post(
        "/api/v1/stock/placements", json={"warehouse": "MSK", "sku": sku, "location": location}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def buckets(api: httpx.Client, warehouse: str, sku: str) -> tuple[int, int, int, int]:
    """(on_hand, reserved, unavailable, available) read from a count-free source: a move."""
    page = api.get("/api/v1/stock/levels", params={"warehouse": warehouse, "sku": sku}).json()
    row = page["items"][0]
    return row["on_hand"], row["reserved"], row.get("unavailable", 0), row["available"]


def new_count(api: httpx.Client, **body: Any) -> dict[str, Any]:
    response = api.post("/api/v1/warehouses/MSK/counts", json=body)
    assert response.status_code == 201, response.text
    count: dict[str, Any] = response.json()
    return count


def enter(api: httpx.Client, number: str, *entries: tuple[str, int]) -> httpx.Response:
    return api.post(
        f"/api/v1/stock/counts/{number}/entries",
        json={"entries": [{"sku": sku, "counted": n} for sku, n in entries]},
    )


# ---------------------------------------------------------------------- unavailable bucket


def test_damaged_units_leave_available_stock_and_come_back_when_released(
    api: httpx.Client, live: LiveServer
) -> None:
    build_world_api(api, {("MSK", "KET"): 10})

    aside = move(api, "KET", 3, "unavailable", note="box crushed")
    assert aside.status_code == 201, aside.text
    change = aside.json()
    assert (change["on_hand"], change["unavailable"], change["available"]) == (10, 3, 7)
    assert change["movement"]["type"] == "set_aside"
    assert (change["movement"]["quantity"], change["movement"]["unavailable_change"]) == (0, 3)
    assert change["movement"]["reason"] == "damaged: box crushed"

    back = move(api, "KET", 2, "available", reason="quality_check").json()
    assert (back["on_hand"], back["unavailable"], back["available"]) == (10, 1, 9)
    assert back["movement"]["type"] == "release"

    gone = move(api, "KET", 1, "written_off").json()
    assert (gone["on_hand"], gone["unavailable"], gone["available"]) == (9, 0, 9)
    assert (gone["movement"]["quantity"], gone["movement"]["unavailable_change"]) == (-1, -1)

    too_many = move(api, "KET", 1, "available")
    problem(too_many, 422, "unavailable-exceeded")
    problem(move(api, "KET", 10, "unavailable"), 422, "set-aside-exceeds-stock")
    assert [m["type"] for m in movements(api, sku="KET")][:3] == [
        "write_off",
        "release",
        "set_aside",
    ]
    no_drift(api)
    assert_stock_invariants(live.potok)


def test_an_order_cannot_take_units_that_are_set_aside(api: httpx.Client) -> None:
    build_world_api(api, {("MSK", "KET"): 2})
    assert move(api, "KET", 2, "unavailable").status_code == 201

    order = place(api, [("KET", 1)])

    assert order["status"] == "backordered"
    released = move(api, "KET", 1, "available").json()
    assert released["backorders_reserved"] == [order["id"]]


def test_setting_aside_reserved_units_re_sources_the_order(
    api: httpx.Client, live: LiveServer
) -> None:
    build_world_api(api, {("MSK", "KET"): 2, ("SPB", "KET"): 2})
    order = place(api, [("KET", 2)])
    assert open_reservations(order) == [("MSK", "KET", 2)]

    response = move(api, "KET", 1, "unavailable", reason="quality_check")

    assert response.status_code == 201, response.text
    assert response.json()["orders_resourced"] == [order["id"]]
    assert open_reservations(get_order(api, order["id"])) == [("SPB", "KET", 2)]
    assert_stock_invariants(live.potok)


def test_a_plain_write_off_beyond_sellable_stock_shrinks_the_unavailable_bucket(
    api: httpx.Client, live: LiveServer
) -> None:
    build_world_api(api, {("MSK", "KET"): 10})
    move(api, "KET", 5, "unavailable").raise_for_status()

    response = api.post(
        "/api/v1/stock/write-offs",
        json={"warehouse": "MSK", "sku": "KET", "quantity": 8, "reason": "flood"},
    )

    assert response.status_code == 201, response.text
    assert buckets(api, "MSK", "KET") == (2, 0, 2, 0)
    no_drift(api)
    assert_stock_invariants(live.potok)


def test_a_bulk_level_below_the_unavailable_units_shrinks_the_bucket(
    api: httpx.Client, live: LiveServer
) -> None:
    build_world_api(api, {("MSK", "KET"): 10, ("SPB", "KET"): 5})
    order = place(api, [("KET", 3)])
    assert open_reservations(order) == [("MSK", "KET", 3)]
    move(api, "KET", 5, "unavailable").raise_for_status()

    response = api.put(
        "/api/v1/stock/levels", json={"rows": [{"warehouse": "MSK", "sku": "KET", "on_hand": 4}]}
    )

    assert response.status_code == 200, response.text
    assert buckets(api, "MSK", "KET") == (4, 3, 1, 0)  # reservations kept, bucket shrank
    no_drift(api)
    assert_stock_invariants(live.potok)


def test_a_move_with_bad_input_is_a_problem_naming_the_fields(api: httpx.Client) -> None:
    build_world_api(api, {("MSK", "KET"): 2})

    zero = move(api, "KET", 0, "unavailable")
    bogus = move(api, "KET", 1, "elsewhere", reason="lost")
    nowhere = move(api, "MUG", 1, "unavailable")

    assert field_codes(problem(zero, 422, "invalid-input")) == {"quantity": "greater_than_equal"}
    assert set(field_codes(problem(bogus, 422, "invalid-input"))) == {"to", "reason"}
    problem(nowhere, 404, "stock-not-found")


# ---------------------------------------------------------------------- locations, pick lists


def test_a_pick_list_walks_the_bins_in_pick_sequence(api: httpx.Client) -> None:
    build_world_api(api, {("MSK", "KET"): 5, ("MSK", "MUG"): 5, ("MSK", "TOY"): 5})
    bin_(api, "C-01", 30, zone="C")
    bin_(api, "A-01", 10)
    bin_(api, "B-07", 20, zone="B")
    place_in(api, "KET", "C-01")
    placed = place_in(api, "MUG", "A-01")
    assert (placed["location"], placed["on_hand"]) == ("A-01", 5)
    order = place(api, [("KET", 1), ("TOY", 2), ("MUG", 3)])

    response = api.get(f"/api/v1/orders/{order['id']}/pick-list")

    assert response.status_code == 200, response.text
    walk = [(i["location"], i["sku"], i["quantity"]) for i in response.json()["items"]]
    assert walk == [("A-01", "MUG", 3), ("C-01", "KET", 1), (None, "TOY", 2)]
    listed = api.get("/api/v1/warehouses/MSK/locations").json()
    assert [x["code"] for x in listed] == ["A-01", "B-07", "C-01"]
    shown = api.get("/api/v1/stock/levels", params={"warehouse": "MSK"}).json()["items"]
    assert {x["sku"]: x["location"] for x in shown} == {"KET": "C-01", "MUG": "A-01", "TOY": None}
    problem(api.get("/api/v1/orders/999999/pick-list"), 404, "order-not-found")


def test_locations_are_kept_per_warehouse_and_refuse_bad_or_repeated_codes(
    api: httpx.Client,
) -> None:
    build_world_api(api, {("MSK", "KET"): 1})
    bin_(api, "A-01", 1)
    url = "/api/v1/warehouses/MSK/locations"

    repeated = api.post(url, json={"code": "A-01"})
    bad = api.post(url, json={"code": "A 01/2", "pick_sequence": 1})
    negative = api.post(url, json={"code": "A-03", "pick_sequence": -1})
    renamed = api.patch(f"{url}/A-01", json={"code": "A-02", "pick_sequence": 5})
    place_in(api, "KET", "A-02")
    in_use = api.delete(f"{url}/A-02")
    unknown = api.post(
        "/api/v1/stock/placements", json={"warehouse": "MSK", "sku": "KET", "location": "ZZ"}
    )

    problem(repeated, 409, "location-code-taken")
    assert field_codes(problem(bad, 422, "invalid-input")) == {
        "code": "bad-code",
    }
    assert field_codes(problem(negative, 422, "invalid-input")) == {
        "pick_sequence": "greater_than_equal"
    }
    assert (renamed.status_code, renamed.json()["pick_sequence"]) == (200, 5)
    problem(in_use, 409, "location-in-use")
    problem(unknown, 404, "location-not-found")
    place_in(api, "KET", None)
    assert api.delete(f"{url}/A-02").status_code == 204
    problem(api.get(f"{url}/A-02"), 404, "location-not-found")


# ---------------------------------------------------------------------- counts


def test_a_count_with_differences_posts_count_movements_once_approved(
    api: httpx.Client, live: LiveServer
) -> None:
    build_world_api(api, {("MSK", "KET"): 10, ("MSK", "MUG"): 5, ("MSK", "TOY"): 4})
    bin_(api, "A-01", 1)
    place_in(api, "MUG", "A-01")

    sheet = new_count(api)
    number = sheet["number"]
    assert (number, sheet["status"], sheet["blind"]) == ("CNT-000001", "open", True)
    assert [(x["sku"], x["location"], x["expected"]) for x in sheet["lines"]] == [
        ("MUG", "A-01", None),
        ("KET", None, None),
        ("TOY", None, None),
    ]
    assert enter(api, number, ("KET", 8)).status_code == 200
    assert enter(api, number, ("MUG", 6), ("KET", 7)).status_code == 200  # KET again: 7 wins
    shown = api.get(f"/api/v1/stock/counts/{number}", params={"blind": "false"}).json()
    assert {x["sku"]: (x["expected"], x["counted"], x["difference"]) for x in shown["lines"]} == {
        "KET": (10, 7, -3),
        "MUG": (5, 6, 1),
        "TOY": (4, None, None),
    }
    assert api.post(f"/api/v1/stock/counts/{number}/submission").json()["status"] == "submitted"

    approved = api.post(f"/api/v1/stock/counts/{number}/approval")

    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert body["count"]["status"] == "approved"
    assert {p["sku"]: (p["difference"], p["on_hand_after"]) for p in body["postings"]} == {
        "KET": (-3, 7),
        "MUG": (1, 6),
    }
    posted = movements(api, type="count")
    assert sorted((m["sku"], m["quantity"], m["reason"]) for m in posted) == [
        ("KET", -3, "count CNT-000001"),
        ("MUG", 1, "count CNT-000001"),
    ]
    assert buckets(api, "MSK", "KET")[0] == 7
    assert buckets(api, "MSK", "TOY")[0] == 4  # not counted: left alone
    problem(api.post(f"/api/v1/stock/counts/{number}/approval"), 409, "illegal-transition")
    problem(enter(api, number, ("KET", 1)), 409, "stock-count-closed")
    listed = api.get("/api/v1/stock/counts", params={"status": "approved"}).json()["items"]
    assert [(c["number"], c["lines"], c["counted"]) for c in listed] == [(number, 3, 2)]
    no_drift(api)
    assert_stock_invariants(live.potok)


def test_stock_that_moved_since_the_sheet_gets_the_difference_as_a_delta(
    api: httpx.Client,
) -> None:
    build_world_api(api, {("MSK", "KET"): 10})
    number = new_count(api, skus=["KET"])["number"]
    api.post(
        "/api/v1/stock/receipts", json={"warehouse": "MSK", "sku": "KET", "quantity": 5}
    ).raise_for_status()
    enter(api, number, ("KET", 8)).raise_for_status()

    body = api.post(f"/api/v1/stock/counts/{number}/approval").json()

    (posting,) = body["postings"]
    assert (posting["on_hand_before"], posting["difference"], posting["on_hand_after"]) == (
        15,
        -2,
        13,
    )
    assert posting["moved_since_snapshot"] is True


def test_a_count_below_what_is_reserved_re_sources_the_order(
    api: httpx.Client, live: LiveServer
) -> None:
    build_world_api(api, {("MSK", "KET"): 3, ("SPB", "KET"): 5})
    order = place(api, [("KET", 3)])
    assert open_reservations(order) == [("MSK", "KET", 3)]
    number = new_count(api)["number"]
    enter(api, number, ("KET", 1)).raise_for_status()

    body = api.post(f"/api/v1/stock/counts/{number}/approval").json()

    assert body["orders_resourced"] == [order["id"]]
    assert open_reservations(get_order(api, order["id"])) == [("SPB", "KET", 3)]
    no_drift(api)
    assert_stock_invariants(live.potok)


def test_count_sheets_refuse_bad_input(api: httpx.Client) -> None:
    build_world_api(api, {("MSK", "KET"): 1})

    nowhere = api.post("/api/v1/warehouses/NOPE/counts", json={})
    empty_zone = api.post("/api/v1/warehouses/MSK/counts", json={"zone": "Z"})
    unknown_sku = api.post("/api/v1/warehouses/MSK/counts", json={"skus": ["NOPE"]})
    number = new_count(api)["number"]
    overlapping = api.post("/api/v1/warehouses/MSK/counts", json={})
    off_sheet = enter(api, number, ("MUG", 1), ("KET", 1))
    negative = enter(api, number, ("KET", -1))

    problem(nowhere, 404, "warehouse-not-found")
    problem(empty_zone, 422, "nothing-to-count")
    assert field_codes(problem(unknown_sku, 422, "invalid-input")) == {"skus[0]": "unknown-sku"}
    problem(overlapping, 409, "stock-count-overlaps")
    assert field_codes(problem(off_sheet, 422, "invalid-input")) == {
        "entries[0].sku": "not-on-sheet",
    }
    assert field_codes(problem(negative, 422, "invalid-input")) == {
        "entries[0].counted": "greater_than_equal"
    }
    problem(api.get("/api/v1/stock/counts/CNT-999999"), 404, "stock-count-not-found")
    cancelled = api.post(f"/api/v1/stock/counts/{number}/cancellation").json()
    assert cancelled["status"] == "cancelled"
    assert new_count(api)["number"] == "CNT-000002"


# ---------------------------------------------------------------------- scope and approval


def test_warehouse_staff_work_in_their_own_warehouse_only_and_cannot_approve(
    api: httpx.Client, live: LiveServer
) -> None:
    build_world_api(api, {("MSK", "KET"): 5, ("SPB", "KET"): 5})
    make_user(live.potok, "picker", Role.WAREHOUSE, warehouses=("MSK",))
    staff = sign_in(live.url, "picker")
    spb = api.post("/api/v1/warehouses/SPB/counts", json={}).json()["number"]

    elsewhere = staff.request(
        "POST",
        "/api/v1/stock/moves",
        json={
            "warehouse": "SPB",
            "sku": "KET",
            "quantity": 1,
            "to": "unavailable",
            "reason": "damaged",
        },
    )
    other_sheet = staff.request("POST", "/api/v1/warehouses/SPB/counts", json={})
    other_bins = staff.request("GET", "/api/v1/warehouses/SPB/locations")
    other_count = staff.request("GET", f"/api/v1/stock/counts/{spb}")
    own = staff.request("POST", "/api/v1/warehouses/MSK/counts", json={})
    assert own.status_code == 201, own.text
    number = own.json()["number"]
    entered = staff.request(
        "POST",
        f"/api/v1/stock/counts/{number}/entries",
        json={"entries": [{"sku": "KET", "counted": 4}]},
    )
    approval = staff.request("POST", f"/api/v1/stock/counts/{number}/approval")

    problem(elsewhere, 403, "out-of-scope")
    problem(other_sheet, 404, "warehouse-not-found")  # another's warehouse is not there for her
    problem(other_bins, 404, "warehouse-not-found")
    problem(other_count, 404, "stock-count-not-found")
    assert entered.status_code == 200, entered.text
    assert approval.status_code == 403
    seen = staff.request("GET", "/api/v1/stock/counts").json()["items"]
    assert [c["number"] for c in seen] == [number]


# ---------------------------------------------------------------------- lots


def test_lots_are_set_aside_counted_and_picked_one_by_one(
    api: httpx.Client, live: LiveServer
) -> None:
    build_world_api(api)
    add_product(api, "MLK", "lot")
    receive_lot(api, "MSK", "MLK", 4, "LATE", 60).raise_for_status()
    receive_lot(api, "MSK", "MLK", 4, "SOON", 20).raise_for_status()
    bin_(api, "A-01", 1)
    placed = api.post(
        "/api/v1/stock/placements",
        json={"warehouse": "MSK", "sku": "MLK", "lot": "LATE", "location": "A-01"},
    )
    assert (placed.status_code, placed.json()["lot"]) == (200, "LATE")

    aside = move(api, "MLK", 1, "unavailable", lot="SOON")
    order = place(api, [("MLK", 5)])
    picked = api.get(f"/api/v1/orders/{order['id']}/pick-list").json()["items"]
    number = new_count(api, skus=["MLK"])["number"]
    entered = api.post(
        f"/api/v1/stock/counts/{number}/entries",
        json={"entries": [{"sku": "MLK", "lot": "LATE", "counted": 3}]},
    )
    approved = api.post(f"/api/v1/stock/counts/{number}/approval").json()

    assert (aside.status_code, aside.json()["lot"], aside.json()["unavailable"]) == (
        201,
        "SOON",
        1,
    )
    assert [(i["location"], i["lot"], i["quantity"]) for i in picked] == [
        ("A-01", "LATE", 2),
        (None, "SOON", 3),
    ]
    assert entered.status_code == 200, entered.text
    assert [(p["lot"], p["difference"], p["on_hand_after"]) for p in approved["postings"]] == [
        ("LATE", -1, 3)
    ]
    assert sorted(open_reservations(get_order(api, order["id"]))) == [
        ("MSK", "MLK", 2),
        ("MSK", "MLK", 3),
    ]
    no_drift(api)
    assert_stock_invariants(live.potok)


def test_warehouse_staff_see_the_pick_list_lines_of_their_own_warehouse(
    api: httpx.Client, live: LiveServer
) -> None:
    build_world_api(api, {("MSK", "KET"): 1, ("SPB", "KET"): 1})
    order = place(api, [("KET", 2)])
    assert sorted(open_reservations(order)) == [("MSK", "KET", 1), ("SPB", "KET", 1)]
    make_user(live.potok, "picker", Role.WAREHOUSE, warehouses=("SPB",))
    staff = sign_in(live.url, "picker")

    mine = staff.request("GET", f"/api/v1/orders/{order['id']}/pick-list")
    everything = api.get(f"/api/v1/orders/{order['id']}/pick-list")

    assert [i["warehouse"] for i in mine.json()["items"]] == ["SPB"]
    assert [i["warehouse"] for i in everything.json()["items"]] == ["MSK", "SPB"]
