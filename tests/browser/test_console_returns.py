"""Returns in a real browser: asked back from the order card, approved by an operator,
received and inspected unit by unit by warehouse staff (a wrong split refused in plain words,
the figures typed kept), refunded and closed; the list filtered by state, warehouse and
reason; Russian; the pages pass the accessibility check. SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import Page, expect

from potok.domain.access import Role
from potok.services.returns import handling, requests
from tests.browser.conftest import person, run_axe, sign_in
from tests.conftest import LiveServer
from tests.factories import TESTER, build_world
from tests.integration.test_returns import Clock, _handed_over, _stock

Shot = Callable[[Page, str], Path]


def shipped_order(site: LiveServer, lines: list[tuple[str, int]]) -> int:
    """An order of ``lines``, paid and handed to the carrier from MSK; its number."""
    order_id, _, _ = _handed_over(site.potok, lines, Clock(datetime.now(UTC)))
    return order_id


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()


def test_a_return_from_the_order_card_to_the_refund(
    site: LiveServer, page: Page, shot: Shot
) -> None:
    build_world(site.potok, {("MSK", "KET"): 10, ("MSK", "MUG"): 10})
    order_id = shipped_order(site, [("KET", 2), ("MUG", 1)])
    assert _stock(site.potok, "MSK", "KET") == (8, 0)
    person(site, "ivanova", Role.OPERATOR)
    person(site, "petrov", Role.WAREHOUSE, ("MSK",))

    # the operator asks two kettles back from the order card
    sign_in(page, "ivanova", path=f"/orders/{order_id}")
    returns = page.locator("section[aria-labelledby=returns-h]")
    expect(returns).to_contain_text("Nothing was asked back.")
    returns.get_by_text("Ask units back (a return)").click()
    form = page.locator("form[data-new-return]")
    expect(form.get_by_label("Units back (of 2)")).to_be_visible()
    form.get_by_label("Units back (of 2)").fill("2")
    form.get_by_label("Reason, line 1").select_option("defective")
    form.get_by_label("What the customer said, line 1").fill("the lid does not close")
    shot(page, "asked-on-the-card")
    form.get_by_role("button", name="Create the return").click()

    expect(page).to_have_url(re.compile(r"/returns/RT-000001$"))
    expect(page.locator("#flash")).to_contain_text("Return created")
    expect(page.locator(".page-head [data-status]")).to_have_text("Requested")
    expect(page.locator("tr[data-line='1']")).to_contain_text("Defective")
    expect(page.locator("tr[data-line='1']")).to_contain_text("the lid does not close")
    expect(page.locator("tr[data-line]")).to_have_count(1)  # the mug stays with the customer
    expect(page.locator("[data-refund-status]")).to_have_text("Nothing owed yet")
    # the operator may not book stock: no receipt or inspection is offered to them
    expect(page.locator("form[data-receive-return]")).to_have_count(0)
    page.get_by_role("button", name="Approve the return").click()
    expect(page.locator(".page-head [data-status]")).to_have_text("Approved")
    expect(page.get_by_role("button", name="Approve the return")).to_have_count(0)
    sign_out(page)

    # warehouse staff receive it and inspect each unit
    sign_in(page, "petrov", path="/returns/RT-000001")
    receipt = page.locator("form[data-receive-return]")
    expect(receipt.get_by_label("Received at warehouse")).to_have_value("MSK")
    receipt.get_by_role("button", name="Receive the return").click()
    expect(page.locator(".page-head [data-status]")).to_have_text("Received")
    expect(page.locator("tr[data-line='1'] [data-received]")).to_have_text("2")
    assert _stock(site.potok, "MSK", "KET") == (10, 2)  # back, set aside until inspected

    inspection = page.locator("form[data-inspect]")
    expect(inspection.get_by_label("Back to stock")).to_have_value("2")
    inspection.get_by_label("Write off").fill("1")  # three verdicts for two units
    inspection.get_by_role("button", name="Record the inspection").click()
    expect(inspection.locator(".errors")).to_be_visible()
    expect(inspection.locator(".errors")).to_have_attribute("data-code", re.compile(r".+"))
    expect(inspection.get_by_label("Write off")).to_have_value("1")  # nothing typed is lost
    shot(page, "inspection-refused")
    inspection.get_by_label("Back to stock").fill("1")
    inspection.get_by_role("button", name="Record the inspection").click()
    expect(page.locator(".page-head [data-status]")).to_have_text("Inspected")
    expect(page.locator("tr[data-line='1'] [data-restocked]")).to_have_text("1")
    expect(page.locator("tr[data-line='1'] [data-written-off]")).to_have_text("1")
    assert _stock(site.potok, "MSK", "KET") == (9, 0)
    # closing and refunding are for those who manage orders
    expect(page.get_by_role("button", name="Close the return")).to_have_count(0)
    expect(page.get_by_role("button", name="The refund was paid")).to_have_count(0)
    sign_out(page)

    # the operator records the refund and closes the return, in Russian
    sign_in(page, "ivanova", path="/returns/RT-000001")
    expect(page.locator("[data-refund-status]")).to_have_text("Owed")
    expect(page.locator("[data-refund-amount]")).to_contain_text("4,980.00")
    page.get_by_role("button", name="The refund was paid").click()
    expect(page.locator("[data-refund-status]")).to_have_text("Paid")
    page.get_by_role("link", name="Русский").click()
    expect(page.get_by_role("heading", name=re.compile("Возврат RT-000001"))).to_be_visible()
    expect(page.locator("[data-refund-amount]")).to_contain_text("4 980,00")
    page.get_by_role("button", name="Закрыть возврат").click()
    expect(page.locator(".page-head [data-status]")).to_have_text("Закрыт")
    shot(page, "closed-ru")

    ret = requests.get_return(site.potok.uow(), "RT-000001")
    assert (ret.status.value, ret.refund_status.value) == ("closed", "paid")
    assert [s.actor for s in ret.steps][:2] == ["user:ivanova", "user:ivanova"]

    # the order card lists the return, and nothing more is left to ask back of the kettles
    page.goto(f"/orders/{order_id}")
    expect(page.locator("li[data-return='RT-000001']")).to_contain_text("Закрыт")
    expect(page.get_by_label("Единиц назад (из 1)")).to_have_count(1)  # only the mug is left


def test_the_returns_list_filters_by_state_warehouse_and_reason(
    site: LiveServer, page: Page, shot: Shot
) -> None:
    build_world(site.potok, {("MSK", "KET"): 10, ("MSK", "MUG"): 10})
    first = shipped_order(site, [("KET", 1)])
    second = shipped_order(site, [("MUG", 2)])
    uow = site.potok.uow
    line = requests.ReturnLineRequest
    requests.request_return(
        uow(), requests.RequestReturn(first, [line(1, 1, "defective")], approve=True), TESTER
    )
    handling.receive_return(uow(), "RT-000001", "SPB", TESTER)
    requests.request_return(
        uow(), requests.RequestReturn(second, [line(1, 1, "wrong_size")]), TESTER
    )
    person(site, "ivanova", Role.OPERATOR)

    sign_in(page, "ivanova", path="/returns")
    rows = page.locator("table[data-returns] tbody tr[data-return]")
    expect(rows).to_have_count(2)
    expect(rows.first).to_have_attribute("data-return", "RT-000002")  # newest first
    shot(page, "list")
    assert run_axe(page) == [], "/returns"

    page.get_by_label("State").select_option("received")
    page.get_by_role("button", name="Find").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-return", "RT-000001")
    expect(rows.first).to_contain_text("SPB")

    page.get_by_label("State").select_option("")
    page.get_by_label("Reason").select_option("wrong_size")
    page.get_by_role("button", name="Find").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-return", "RT-000002")

    page.get_by_label("Reason").select_option("")
    page.get_by_label("Received at warehouse").fill("SPB")
    page.get_by_role("button", name="Find").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-return", "RT-000001")
    page.get_by_label("Received at warehouse").fill("KZN")
    page.get_by_role("button", name="Find").click()
    expect(page.locator("table[data-returns]")).to_contain_text("No return matches.")

    page.goto("/returns/RT-000002")
    assert run_axe(page) == [], "/returns/RT-000002"
    page.goto("/returns/RT-000001")
    assert run_axe(page) == [], "/returns/RT-000001"
    page.goto(f"/orders/{second}")
    page.get_by_text("Ask units back (a return)").click()
    assert run_axe(page) == [], "the order card with the return form open"
