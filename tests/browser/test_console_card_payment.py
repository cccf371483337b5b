"""The order page shows the order's card payment at ЮKassa: waiting for the customer with
the payment link, then authorised, and a refusal in the gateway's words."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from potok.connectors.payments.registry import Gateways
from potok.domain.access import Role
from potok.domain.payments.accounts import AccountDraft
from potok.services.payments.accounts import connect_channel
from potok.services.payments.polling import poll_payments
from potok.settings import PaymentSettings
from potok.worker.dispatcher import Dispatcher, new_client
from tests.browser.conftest import person, sign_in
from tests.browser.test_console_orders import Shot, place, world
from tests.conftest import LiveServer
from tests.factories import TESTER
from tests.simulators.yookassa import SECRET_KEY, SHOP_ID, YooKassaSimulator


@pytest.fixture
def shop(site: LiveServer, yookassa: YooKassaSimulator) -> Iterator[LiveServer]:
    before = site.potok.gateways
    site.potok.gateways = Gateways(PaymentSettings(yookassa_url=yookassa.url), sleep=lambda s: None)
    yield site
    site.potok.gateways.close()
    site.potok.gateways = before


def test_the_order_page_shows_the_card_payment(
    shop: LiveServer, page: Page, shot: Shot, yookassa: YooKassaSimulator
) -> None:
    from potok.services.outside import Outside

    world(shop)
    connect_channel(
        shop.potok.uow(),
        AccountDraft("web", SHOP_ID, SECRET_KEY, "https://shop.example.ru/thanks"),
        TESTER,
    )
    number = place(shop, channel="web")
    with new_client() as client:
        Dispatcher(shop.potok, client, name="console-payments").run_round()
    person(shop, "ivanova", Role.OPERATOR)
    sign_in(page, "ivanova", path=f"/orders/{number}")

    card = page.locator("section[data-gateway-payment]")
    expect(card.get_by_role("heading", name="Card payment (ЮKassa)")).to_be_visible()
    expect(card.locator("[data-gateway-status]")).to_contain_text("Waiting for the customer")
    expect(card.get_by_role("link", name=re.compile(r"yoomoney\.ru"))).to_be_visible()
    shot(page, "waiting")

    yookassa.pay(yookassa.only_payment().id)
    outside = Outside(shop.potok.uow, shop.potok.carriers, gateways=shop.potok.gateways)
    poll_payments(outside, every_s=0, limit=10)
    page.reload()
    expect(card.locator("[data-gateway-status]")).to_contain_text("Authorised: money held")
    expect(card.get_by_role("link", name=re.compile("yoomoney"))).to_have_count(0)
    shot(page, "authorised")
