"""Stock corrections and the administrators' settings in a real browser, and an
accessibility check (axe-core: labels, contrast, names, keyboard order) of the main pages."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from potok.domain.access import Role
from potok.services import access, inventory
from tests.browser.conftest import PHONE, person, run_axe, sign_in
from tests.browser.test_console_orders import place, world
from tests.conftest import LiveServer

Shot = Callable[[Page, str], Path]


def on_hand(site: LiveServer, warehouse: str, sku: str) -> int:
    page = inventory.list_levels(site.potok.uow(), warehouse=warehouse, sku=sku)
    return sum(r.on_hand for r in page.items)


def test_warehouse_staff_corrects_stock_and_a_wrong_count_is_refused(
    site: LiveServer, page: Page, shot: Shot
) -> None:
    world(site)
    person(site, "petrov", Role.WAREHOUSE, ("MSK",))
    sign_in(page, "petrov", path="/stock?sku=KET")
    cell = page.locator("[data-cell='KET@MSK']")
    expect(cell.locator("[data-on-hand]")).to_have_text("10")
    expect(page.locator("[data-cell='KET@SPB']")).to_have_count(0)  # not their warehouse

    receipt = page.locator("form[data-api='/api/v1/stock/receipts']")
    receipt.get_by_label("Warehouse").fill("MSK")
    receipt.get_by_label("Units received").fill("5")
    receipt.get_by_role("button", name="Book the receipt").click()
    expect(cell.locator("[data-on-hand]")).to_have_text("15")
    assert on_hand(site, "MSK", "KET") == 15

    # a count that expects the wrong figure is refused and the typed figures stay
    count = page.locator("form[data-api='/api/v1/stock/counts']")
    count.get_by_label("Warehouse").fill("MSK")
    count.get_by_label("On hand as the books say").fill("10")
    count.get_by_label("Counted on the shelf").fill("12")
    count.get_by_role("button", name="Book the count").click()
    expect(count.locator(".errors")).to_be_visible()
    expect(count.locator(".errors")).to_have_attribute("data-code", re.compile(r".+"))
    expect(count.get_by_label("Counted on the shelf")).to_have_value("12")
    shot(page, "count-refused")
    count.get_by_label("On hand as the books say").fill("15")
    count.get_by_role("button", name="Book the count").click()
    expect(cell.locator("[data-on-hand]")).to_have_text("12")
    assert on_hand(site, "MSK", "KET") == 12

    # another warehouse's stock is out of their reach: the API refuses, the page says so
    receipt = page.locator("form[data-api='/api/v1/stock/receipts']")
    receipt.get_by_label("Warehouse").fill("SPB")
    receipt.get_by_label("Units received").fill("1")
    receipt.get_by_role("button", name="Book the receipt").click()
    expect(receipt.locator(".errors")).to_be_visible()
    assert on_hand(site, "SPB", "KET") == 3


def test_an_administrator_creates_a_user_who_then_signs_in(
    site: LiveServer, page: Page, browser: object, shot: Shot
) -> None:
    world(site)
    person(site, "boss", Role.ADMIN)
    sign_in(page, "boss", path="/settings/users")
    page.get_by_label("User name", exact=True).fill("sidorova")
    page.get_by_label("Name", exact=True).fill("Ольга Сидорова")
    page.get_by_label("Role", exact=True).select_option("operator")
    page.get_by_role("button", name="Create the user").click()
    secret = page.locator("#secret [data-fill]")
    expect(secret).to_have_text(re.compile(r"^\S{12,}$"))
    shot(page, "user-created")
    once = secret.inner_text()
    user = access.get_user(site.potok.uow(), "sidorova")
    assert user.role.value == "operator"
    assert user.must_change_password

    # the new operator signs in with it and must choose a password first
    other = page.context.browser.new_context(base_url=site.url)  # type: ignore[union-attr]
    newcomer = other.new_page()
    newcomer.goto("/orders")
    newcomer.get_by_label("User name").fill("sidorova")
    newcomer.get_by_label("Password").fill(once)
    newcomer.get_by_role("button", name="Sign in").click()
    expect(newcomer.get_by_role("heading", name="Change your password")).to_be_visible()
    newcomer.get_by_label("Current password").fill(once)
    newcomer.get_by_label("New password").fill("a long password of my own")
    newcomer.get_by_role("button", name="Save the password").click()
    expect(newcomer.get_by_role("heading", name="Orders")).to_be_visible()
    other.close()


def test_the_main_pages_pass_an_accessibility_check(site: LiveServer, page: Page) -> None:
    world(site)
    number = place(site)
    person(site, "boss", Role.ADMIN)
    page.goto("/")
    assert run_axe(page) == [], "sign-in page"
    sign_in(page, "boss")
    pages = ("/", "/orders", f"/orders/{number}", "/stock", "/settings/users", "/settings/keys")
    for path in pages:
        page.goto(path)
        assert run_axe(page) == [], path
    # keyboard: from the top, Tab reaches the skip link, then the menu, and the search box
    page.goto("/orders")
    page.keyboard.press("Tab")
    expect(page.locator(".skip")).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.press("/")
    expect(page.get_by_label("Number, phone, e-mail or full name")).to_be_focused()
    # on a phone-sized screen nothing is wider than the screen
    page.set_viewport_size(PHONE)
    for path in ("/", "/orders", f"/orders/{number}"):
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} is {width} px wide"
