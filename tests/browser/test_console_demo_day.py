"""A day of the demo store run from the console alone, in a real browser: the sandbox's
orders (`potok demo`'s own seed, smaller), and an operator who works through what the
dashboard says needs action - confirms an order waiting for a person, releases a hold,
settles a shortage from the shortages list, approves a return and sends a replacement -
switching to Russian half-way; nothing but the console's pages and buttons. The picker's
half of the day (a wave picked, packed and handed over on a phone) is
``tests/browser/test_console_floor.py``. SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from potok.domain.access import Role
from potok.sandbox.seed import seed
from tests.browser.conftest import person, run_axe, sign_in
from tests.conftest import LiveServer

Shot = Callable[[Page, str], Path]


def figure(page: Page, name: str) -> int:
    return int(re.sub(r"\D", "", page.locator(f"[data-figure={name}]").inner_text()))


def open_first(page: Page, rows: str) -> int:
    """Open the first row of a list; the order's number on its card."""
    page.locator(rows).first.locator("a").first.click()
    head = page.locator(".page-head[data-order-id]")
    expect(head).to_be_visible()
    return int(head.get_attribute("data-order-id") or "0")


def test_an_operator_runs_a_day_of_the_demo_store_from_the_console(
    site: LiveServer, page: Page, shot: Shot
) -> None:
    report = seed(site.potok, orders=60)
    assert report.orders > 40
    person(site, "ivanova", Role.OPERATOR)
    sign_in(page, "ivanova")

    # the dashboard: what needs action now
    waiting, on_hold = figure(page, "new"), figure(page, "on_hold")
    assert waiting > 0
    assert on_hold > 0
    shot(page, "dashboard")

    # an order of the shops' tills waits for a person: confirmed from its card
    page.get_by_role("link", name=re.compile("^Waiting for confirmation")).click()
    expect(page).to_have_url(re.compile(r"/orders\?status=new"))
    number = open_first(page, "table.orders tbody tr[data-order-id]")
    page.get_by_role("button", name="Confirm", exact=True).click()
    expect(page.locator("#flash")).to_contain_text("Order confirmed")
    expect(page.get_by_role("button", name="Confirm", exact=True)).to_have_count(0)
    page.get_by_role("link", name="Dashboard").click()
    expect(page.locator("[data-figure=new]")).to_have_text(str(waiting - 1))

    # a hold the customer asked for is over
    page.get_by_role("link", name=re.compile("^On hold")).click()
    held = open_first(page, "table.orders tbody tr[data-order-id]")
    page.locator("[data-action=release]").first.click()
    expect(page.locator("#flash")).to_contain_text("Hold released")
    page.get_by_role("link", name="Dashboard").click()
    expect(page.locator("[data-figure=on_hold]")).to_have_text(str(on_hold - 1))
    assert held != number

    # from here on in Russian
    page.get_by_role("link", name="Русский").click()

    # the shortages list: the customer of the longest-waiting order will not wait
    page.get_by_role("link", name="Нехватка", exact=True).click()
    short = page.locator("tr[data-short-order]")
    before = short.count()
    assert before > 0
    expect(short.first.locator("[data-short-sku]").first).to_contain_text("не хватает")
    assert run_axe(page) == []
    shot(page, "shortages-ru")
    oldest = open_first(page, "tr[data-short-order]")
    page.get_by_text("Отменить заказ").first.click()
    page.get_by_label("Причина отмены", exact=True).fill("покупатель не хочет ждать")
    page.locator("[data-action=cancel]").click()
    expect(page.locator("#flash")).to_contain_text("Заказ отменён")
    page.get_by_role("link", name="Нехватка", exact=True).click()
    expect(short).to_have_count(before - 1)
    expect(page.locator(f"tr[data-short-order='{oldest}']")).to_have_count(0)

    # a return asked for by support: approved, and a replacement sent at once
    page.get_by_role("link", name="Возвраты").click()
    page.get_by_label("Состояние").select_option("requested")
    page.get_by_role("button", name="Найти").click()
    page.locator("tr[data-return] a").first.click()
    page.get_by_role("button", name="Одобрить возврат").click()
    expect(page.locator(".page-head [data-status]")).to_have_text("Одобрен")
    page.get_by_text("Выбрать, что покупатель получит взамен").click()
    page.get_by_role("button", name="Создать заказ на замену").click()
    expect(page.locator("#flash")).to_contain_text("Заказ на замену создан")
    expect(page.locator("[data-replacement] a")).to_have_text(re.compile(r"^Заказ №\d+$"))
    shot(page, "return-exchanged-ru")
    page.get_by_role("link", name="English").click()
