"""The shortages list in a real browser: orders waiting for stock with what each lacks,
since when, where the rest is and the purchase order bringing it; filtered by SKU, channel
and warehouse; an order leaves the list live when the purchase order arrives; Russian; the
accessibility check; a warehouse user sees only what their warehouses hold or expect.
SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from potok.domain.access import Role
from potok.services import intake
from tests.browser.conftest import person, run_axe, sign_in
from tests.browser.test_console_live import api, remember_this_page
from tests.conftest import LiveServer
from tests.factories import TESTER, build_world, order_command

Shot = Callable[[Page, str], Path]


def short_order(site: LiveServer, lines: list[tuple[str, int]], channel: str) -> int:
    """An order the network cannot cover: it waits for stock; its number."""
    placed = intake.place_order(site.potok.uow(), order_command(lines, channel=channel), TESTER)
    assert isinstance(placed, intake.Placement)
    assert placed.order.id is not None
    assert placed.order.allocation.value == "backordered"
    return placed.order.id


def test_the_shortages_list_shows_what_is_missing_and_what_comes(
    site: LiveServer, page: Page, shot: Shot
) -> None:
    build_world(site.potok, {("MSK", "KET"): 1, ("MSK", "TOY"): 4})
    kettles = short_order(site, [("KET", 3), ("TOY", 1)], "web")  # 1 kettle in the network
    mugs = short_order(site, [("MUG", 2)], "phone")  # no mug anywhere
    erp = api(site)
    made = erp.post(
        "/api/v1/purchase-orders",
        json={
            "supplier": "ООО Чайники",
            "warehouse": "SPB",
            "lines": [{"sku": "KET", "quantity": 5}],
            "expected_on": "2031-05-20",
        },
    )
    assert made.status_code == 201, made.text
    po = made.json()["number"]
    person(site, "ivanova", Role.OPERATOR)
    person(site, "petrov", Role.WAREHOUSE, ("SPB",))

    sign_in(page, "ivanova")
    page.locator("[data-shortages-link]").click()
    expect(page.get_by_role("heading", name="Shortages", exact=True)).to_be_visible()
    rows = page.locator("tr[data-short-order]")
    expect(rows).to_have_count(2)
    expect(rows.first).to_have_attribute("data-short-order", str(kettles))  # waiting longest
    first = page.locator(f"tr[data-short-order='{kettles}']")
    expect(first.locator("[data-short-sku=KET]")).to_contain_text("KET Kettle: 2 missing of 3")
    expect(first.locator("[data-short-sku]")).to_have_count(1)  # the bear is there
    expect(first.locator("[data-where]")).to_have_text("nothing held yet")
    expect(first.locator("[data-expected-at=SPB]")).to_contain_text("KET: 5 to SPB")
    expect(first.locator("[data-expected-at=SPB]")).to_contain_text("May 20, 2031")
    expect(first.get_by_role("link", name=po)).to_have_attribute(
        "href", f"/stock/purchase-orders/{po}"
    )
    second = page.locator(f"tr[data-short-order='{mugs}']")
    expect(second.locator("[data-short-sku=MUG]")).to_contain_text("2 missing of 2")
    expect(second.locator("[data-expected]")).to_have_text("none known")
    assert run_axe(page) == []
    shot(page, "two-waiting")

    # filters: a SKU, a channel, the warehouse that expects the stock
    page.get_by_label("SKU").fill("MUG")
    page.get_by_role("button", name="Find").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-short-order", str(mugs))
    page.goto(f"{site.url}/shortages?channel=web")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-short-order", str(kettles))
    page.goto(f"{site.url}/shortages")
    page.get_by_label("Warehouse (holds units or expects them)").select_option("SPB")
    page.get_by_role("button", name="Find").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-short-order", str(kettles))

    # the keyboard opens the card of the order
    page.goto(f"{site.url}/shortages")
    expect(rows).to_have_count(2)
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{site.url}/orders/{kettles}")
    page.go_back()

    # the kettles arrive at St Petersburg: the order is reserved and leaves the list live
    expect(page.locator("body[data-live-on]")).to_have_count(1)
    remember_this_page(page)
    received = erp.post(
        f"/api/v1/purchase-orders/{po}/receive", json={"lines": [{"line_no": 1, "quantity": 5}]}
    )
    assert received.status_code == 200, received.text
    erp.close()
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-short-order", str(mugs))
    assert page.evaluate("window.potokSamePage") is True  # not reloaded: read in place

    # Russian
    page.get_by_role("link", name="Русский").click()
    expect(page.get_by_role("heading", name="Нехватка", exact=True)).to_be_visible()
    expect(page.locator(f"tr[data-short-order='{mugs}'] [data-short-sku=MUG]")).to_contain_text(
        "не хватает 2 из 2"
    )
    expect(page.locator(f"tr[data-short-order='{mugs}'] [data-expected]")).to_have_text(
        "неизвестны"
    )
    shot(page, "one-waiting-ru")
    page.get_by_role("button", name="Выйти").click()


def test_a_warehouse_user_sees_only_the_shortages_of_orders_they_may_open(
    site: LiveServer, page: Page
) -> None:
    """The same reach as the orders list and the card: an order that holds nothing at the
    user's warehouse is not theirs to see, even when a purchase order brings its SKU there."""
    build_world(site.potok)
    mugs = short_order(site, [("MUG", 1)], "web")
    with api(site) as erp:
        made = erp.post(
            "/api/v1/purchase-orders",
            json={"supplier": "Acme", "warehouse": "MSK", "lines": [{"sku": "MUG", "quantity": 3}]},
        )
        assert made.status_code == 201, made.text
        assert erp.get(f"/api/v1/orders/{mugs}").status_code == 200
    person(site, "petrov", Role.WAREHOUSE, ("MSK",))
    sign_in(page, "petrov", path="/shortages")
    expect(page.locator("tr[data-short-order]")).to_have_count(0)
    expect(page.locator("[data-shortages]")).to_contain_text("No order is waiting for stock.")
    options = page.get_by_label("Warehouse (holds units or expects them)").locator("option")
    expect(options).to_have_text(["Any", "MSK"])
    page.goto(f"/orders/{mugs}")
    expect(page.get_by_role("heading", name=f"Order #{mugs}")).to_have_count(0)  # not theirs
