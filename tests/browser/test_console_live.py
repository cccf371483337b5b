"""Live updates in a real browser: a change made through the API appears on pages already
open (the order card, the orders list, the dashboard) without the page being reloaded."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from potok.domain.access import Role
from tests.browser.conftest import person, sign_in
from tests.browser.test_console_orders import place, state, world
from tests.conftest import LiveServer, key_for
from tests.factories import order_body

Shot = Callable[[Page, str], Path]


def api(site: LiveServer) -> httpx.Client:
    """Another system, through the JSON API with its own key."""
    return site.client(headers={"Authorization": f"Bearer {key_for(site.potok, name='erp')}"})


def version(client: httpx.Client, number: int) -> str:
    return str(client.get(f"/api/v1/orders/{number}").json()["version"])


def remember_this_page(page: Page) -> None:
    """A mark that a reload would wipe: the test checks it is still there at the end."""
    page.evaluate("window.potokSamePage = true")


def still_the_same_page(page: Page) -> bool:
    return bool(page.evaluate("window.potokSamePage === true"))


def live_is_on(page: Page) -> None:
    expect(page.locator("body[data-live-on]")).to_have_count(1)


def test_a_change_through_the_api_appears_on_the_open_order_card(
    site: LiveServer, page: Page, shot: Shot
) -> None:
    world(site)
    number = place(site)
    person(site, "ivanova", Role.OPERATOR)
    sign_in(page, "ivanova", path=f"/orders/{number}")
    expect(page.locator(".page-head [data-status]")).to_have_text("New")
    live_is_on(page)
    remember_this_page(page)

    with api(site) as erp:
        answer = erp.post(
            f"/api/v1/orders/{number}/confirmation",
            json={"reason": "paid at the shop"},
            headers={"If-Match": f'"{version(erp, number)}"'},
        )
        assert answer.status_code == 200, answer.text

    expect(page.locator(".page-head [data-status]")).to_have_text("Reserved")
    expect(page.locator("ol.timeline li").first).to_contain_text("paid at the shop")
    # the card's actions now carry the new version: confirming again is not offered
    expect(page.get_by_role("button", name="Confirm", exact=True)).to_have_count(0)
    assert still_the_same_page(page)
    shot(page, "card-updated-live")


def test_an_open_form_is_never_swept_away_by_a_live_change(site: LiveServer, page: Page) -> None:
    world(site)
    number = place(site)
    person(site, "ivanova", Role.OPERATOR)
    sign_in(page, "ivanova", path=f"/orders/{number}")
    live_is_on(page)
    page.get_by_text("Put on hold", exact=True).first.click()
    page.get_by_label("Why on hold").fill("waiting for the customer's call")

    with api(site) as erp:
        erp.post(
            f"/api/v1/orders/{number}/payment",
            json={"status": "paid"},
            headers={"If-Match": f'"{version(erp, number)}"'},
        ).raise_for_status()

    expect(page.locator("[data-stale]")).to_be_visible()  # told, not overwritten
    expect(page.get_by_label("Why on hold")).to_have_value("waiting for the customer's call")


def test_the_orders_list_follows_changes_and_keeps_its_place(
    site: LiveServer, page: Page, shot: Shot
) -> None:
    world(site)
    first = place(site, phone="+79160000001")
    second = place(site, phone="+79160000002")
    person(site, "ivanova", Role.OPERATOR)
    sign_in(page, "ivanova", path="/orders?status=new")
    rows = page.locator("table.orders tbody tr[data-order-id]")
    expect(rows).to_have_count(2)
    live_is_on(page)
    remember_this_page(page)
    page.locator(f"tr[data-order-id='{first}'] [data-select]").check()
    expect(page.locator("[data-selected-count]")).to_have_text("Selected: 1")

    with api(site) as erp:
        # the second order is confirmed elsewhere: it leaves the "new" filter, marked so
        erp.post(
            f"/api/v1/orders/{second}/confirmation",
            json={},
            headers={"If-Match": f'"{version(erp, second)}"'},
        ).raise_for_status()
        gone = page.locator(f"tr[data-order-id='{second}']")
        expect(gone).to_have_class(re.compile(r"\bgone\b"))
        expect(gone).to_contain_text("no longer matches the filters")
        expect(gone.locator("[data-select]")).to_be_disabled()

        # a new order arrives: the list does not jump, a button offers it
        body = order_body([("KET", 1)], channel="phone", external_id="CALL-77")
        made = erp.post("/api/v1/orders", json=body, headers={"Idempotency-Key": "call-77"})
        assert made.status_code == 201, made.text
        third = made.json()["id"]

    news = page.locator("[data-live-new]")
    expect(news).to_be_visible()
    expect(news).to_contain_text("New orders that match: 1")
    expect(rows).to_have_count(2)
    shot(page, "list-new-order-waiting")
    news.get_by_role("button", name="Show them").click()
    expect(page.locator(f"tr[data-order-id='{third}']")).to_be_visible()
    expect(page.locator(f"tr[data-order-id='{first}'] [data-select]")).to_be_checked()
    expect(page.locator("[data-selected-count]")).to_have_text("Selected: 1")
    assert still_the_same_page(page)

    # the selected row kept its place and a fresh version: the bulk action goes through
    page.get_by_role("button", name="Confirm", exact=True).click()
    expect(page.locator("[data-bulk-results] li.ok")).to_have_count(1)
    assert state(site, first) == "confirmed"


def test_a_changed_row_is_redrawn_in_place_with_its_new_version(
    site: LiveServer, page: Page
) -> None:
    world(site)
    number = place(site)
    person(site, "ivanova", Role.OPERATOR)
    sign_in(page, "ivanova", path="/orders")
    row = page.locator(f"tr[data-order-id='{number}']")
    old = row.get_attribute("data-version")
    live_is_on(page)
    row.locator("[data-select]").check()

    with api(site) as erp:
        erp.post(
            f"/api/v1/orders/{number}/confirmation",
            json={},
            headers={"If-Match": f'"{version(erp, number)}"'},
        ).raise_for_status()
        fresh = version(erp, number)

    expect(row.locator("[data-status]")).to_have_text("Reserved")
    expect(row).to_have_attribute("data-version", fresh)
    assert fresh != old
    expect(row.locator("[data-select]")).to_be_checked()


def test_the_dashboard_counts_follow_new_orders(site: LiveServer, page: Page) -> None:
    world(site)
    place(site)
    person(site, "ivanova", Role.OPERATOR)
    sign_in(page, "ivanova")
    expect(page.locator("[data-figure=new]")).to_have_text("1")
    live_is_on(page)
    remember_this_page(page)
    place(site, phone="+79035550000")  # through intake, as a channel would
    expect(page.locator("[data-figure=new]")).to_have_text("2")
    expect(page.locator("[data-figure=today]")).to_have_text("2 orders")
    assert still_the_same_page(page)


def test_the_stock_matrix_follows_stock_booked_elsewhere(site: LiveServer, page: Page) -> None:
    world(site)
    person(site, "petrov", Role.WAREHOUSE, ("MSK",))
    sign_in(page, "petrov", path="/stock?sku=KET")
    cell = page.locator("[data-cell='KET@MSK'] [data-on-hand]")
    expect(cell).to_have_text("10")
    live_is_on(page)
    remember_this_page(page)
    with api(site) as erp:
        erp.post(
            "/api/v1/stock/receipts",
            json={"warehouse": "MSK", "sku": "KET", "quantity": 4, "reason": "delivery"},
            headers={"Idempotency-Key": "receipt-1"},
        ).raise_for_status()
    expect(cell).to_have_text("14")
    assert still_the_same_page(page)


def test_the_warehouse_screen_lists_a_shipment_sent_to_it_meanwhile(
    site: LiveServer, page: Page
) -> None:
    world(site)
    number = place(site, channel="web")
    person(site, "petrov", Role.WAREHOUSE, ("MSK",))
    page.set_viewport_size({"width": 360, "height": 740})
    sign_in(page, "petrov", path="/floor")
    live_is_on(page)
    remember_this_page(page)
    waiting = page.locator("a[data-shipment]")
    expect(waiting).to_have_count(0)
    with api(site) as erp:
        made = erp.post(f"/api/v1/orders/{number}/shipments", json={"warehouse": "MSK"})
        assert made.status_code == 201, made.text
    expect(waiting).to_have_count(1)
    expect(waiting).to_contain_text(f"{number}-1")
    assert still_the_same_page(page)
