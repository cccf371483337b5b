"""Bulk actions from the orders list in a real browser: a summary of what was done and what
was refused and why, and the papers of many orders printed as one PDF."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from potok.domain.access import Role
from potok.domain.orders.commands import ConfirmOrder
from potok.services import orders as order_service
from tests.browser.conftest import person, run_axe, sign_in
from tests.browser.test_console_live import api
from tests.browser.test_console_orders import place, state, world
from tests.conftest import LiveServer
from tests.factories import TESTER

Shot = Callable[[Page, str], Path]


def test_bulk_confirm_says_what_was_done_and_what_was_refused(
    site: LiveServer, page: Page, shot: Shot
) -> None:
    world(site)
    numbers = [place(site, phone=f"+7916000000{i}") for i in range(3)]
    order_service.confirm_order(site.potok.uow(), ConfirmOrder(numbers[0]), TESTER)
    person(site, "ivanova", Role.OPERATOR)
    sign_in(page, "ivanova", path="/orders")
    # all three chosen, one of them confirmed already: it cannot be confirmed again
    page.get_by_label("Select all").check()
    expect(page.locator("[data-selected-count]")).to_have_text("Selected: 3")
    page.get_by_role("button", name="Confirm", exact=True).click()
    summary = page.locator("[data-bulk-summary]")
    expect(summary).to_be_visible()
    expect(summary).to_have_text(re.compile(r"^Done: 2 of 3\. Refused: 1: "))
    expect(page.locator("[data-bulk-results] li.refused")).to_have_count(1)
    shot(page, "bulk-summary")
    assert [state(site, n) for n in numbers] == ["confirmed"] * 3


def test_papers_of_the_chosen_orders_print_as_one_pdf(
    site: LiveServer, page: Page, shot: Shot
) -> None:
    world(site)
    numbers = [place(site, channel="web", phone=f"+7916000001{i}") for i in range(3)]
    with api(site) as erp:
        for number in numbers[:2]:
            made = erp.post(f"/api/v1/orders/{number}/shipments", json={"warehouse": "MSK"})
            assert made.status_code == 201, made.text
    person(site, "petrov", Role.WAREHOUSE, ("MSK",))
    sign_in(page, "petrov", path="/orders")
    for number in numbers:
        page.locator(f"tr[data-order-id='{number}'] [data-select]").check()
    page.get_by_label("Papers").select_option("pick_list")
    page.get_by_role("button", name="Print in one PDF").click()
    results = page.locator("[data-bulk-results]")
    expect(results.locator("li.ok")).to_contain_text("Shipments in the PDF: 2.")
    expect(results.locator("li.refused")).to_contain_text(f"#{numbers[2]}")
    expect(results.locator("li.refused")).to_contain_text("The order has no shipment yet")
    link = results.locator("a[data-bundle]")
    head = link.evaluate(
        "a => fetch(a.href).then(r => r.arrayBuffer())"
        ".then(b => String.fromCharCode(...new Uint8Array(b.slice(0, 5))))"
    )
    assert head == "%PDF-"
    shot(page, "bulk-print")
    assert run_axe(page) == []

    # nothing packed yet: no packing slip, each order says why, and nothing opens
    page.get_by_label("Papers").select_option("packing_slip")
    page.get_by_role("button", name="Print in one PDF").click()
    expect(results.locator("li.refused").first).to_contain_text(
        "None of the chosen orders has this paper to print"
    )
    expect(results.locator("a[data-bundle]")).to_have_count(0)
    expect(results.locator("li.refused")).to_have_count(4)
