"""Payment methods in a real browser: an administrator stops a channel taking payment on
delivery from Settings → Channels (ticking boxes), and an operator reads how an order is paid
on its card, in Russian too."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from potok.domain.access import Role
from potok.domain.orders import PaymentMethod
from potok.services import catalogue
from tests.browser.conftest import person, sign_in
from tests.browser.test_console_orders import place, world
from tests.conftest import LiveServer

Shot = Callable[[Page, str], Path]


def test_an_administrator_stops_a_channel_taking_cash_on_delivery_and_the_card_shows_it(
    site: LiveServer, page: Page, shot: Shot
) -> None:
    world(site)
    number = place(site, channel="web", payment_method=PaymentMethod.CASH_ON_DELIVERY)
    person(site, "boss", Role.ADMIN)
    sign_in(page, "boss", path="/settings/channels")
    cell = page.locator("[data-payment-methods-of='web']")
    expect(cell.locator("[data-payment-methods]")).to_contain_text("Cash on delivery")
    cell.locator("summary").click()
    form = cell.locator("form")
    form.get_by_label("Cash on delivery").uncheck()
    form.get_by_label("Card on delivery").uncheck()
    shot(page, "unticked")
    form.get_by_role("button", name="Save").click()
    expect(page.locator("[data-payment-methods='web']")).not_to_contain_text("Cash on delivery")
    assert catalogue.get_channel(site.potok.uow(), "web").payment_methods == (
        PaymentMethod.ONLINE,
        PaymentMethod.INVOICE,
        PaymentMethod.MARKETPLACE,
        PaymentMethod.IN_STORE,
    )
    shot(page, "saved")

    page.goto(f"/orders/{number}")
    expect(page.locator("[data-payment-method]")).to_have_text("Cash on delivery")
    page.context.add_cookies([{"name": "potok_lang", "value": "ru", "url": site.url}])
    page.reload()
    expect(page.locator("[data-payment-method]")).to_have_text("Наличными при получении")
    shot(page, "card-ru")
