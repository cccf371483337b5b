"""An exchange started from the return card in a real browser: offered to an operator once
the return is approved, refused in the page's language with what was typed kept (a SKU that
does not exist), then a replacement of another SKU placed, linked on the card and taken off
the refund; not offered to warehouse staff, nor twice. SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from playwright.sync_api import Page, expect

from potok.domain.access import Role
from potok.services import orders as order_service
from potok.services.returns import requests
from tests.browser.conftest import person, run_axe, sign_in
from tests.browser.test_console_returns import shipped_order, sign_out
from tests.conftest import LiveServer
from tests.factories import TESTER, build_world

Shot = Callable[[Page, str], Path]


def test_an_operator_sends_a_replacement_from_the_return_card(
    site: LiveServer, page: Page, shot: Shot
) -> None:
    build_world(site.potok, {("MSK", "KET"): 10, ("MSK", "MUG"): 10})
    order_id = shipped_order(site, [("KET", 2)])
    line = requests.ReturnLineRequest
    asked = requests.RequestReturn(order_id, [line(1, 2, "wrong_size")])
    requests.request_return(site.potok.uow(), asked, TESTER)
    person(site, "ivanova", Role.OPERATOR)
    person(site, "petrov", Role.WAREHOUSE, ("MSK",))

    # not offered before the return is approved
    sign_in(page, "ivanova", path="/returns/RT-000001")
    expect(page.locator("[data-exchange]")).to_have_count(0)
    page.get_by_role("button", name="Approve the return").click()
    expect(page.locator(".page-head [data-status]")).to_have_text("Approved")
    expect(page.get_by_role("heading", name="Send a replacement (exchange)")).to_be_visible()

    # in Russian: a SKU that does not exist is refused in Russian, what was typed stays
    page.get_by_role("link", name="Русский").click()
    page.get_by_text("Выбрать, что покупатель получит взамен").click()
    form = page.locator("form[data-exchange-form]")
    expect(form.get_by_label("Артикул, строка 1")).to_have_value("KET")
    expect(form.get_by_label("Единиц, строка 1")).to_have_value("2")
    form.get_by_label("Артикул, строка 1").fill("KET-XL")
    form.get_by_role("button", name="Создать заказ на замену").click()
    errors = form.locator(".errors")
    expect(errors).to_be_visible()
    expect(errors).to_contain_text("Данные не прошли проверку")
    sku = form.get_by_label("Артикул, строка 1")
    expect(sku).to_have_attribute("aria-invalid", "true")  # the refusal is by the field
    expect(form.locator(".field-error")).to_have_text("такого артикула нет")
    expect(sku).to_have_value("KET-XL")
    assert run_axe(page) == []
    shot(page, "refused-ru")

    # two mugs instead of the kettles: one row left out, another SKU on the empty row
    form.get_by_label("Единиц, строка 1").fill("0")
    form.get_by_label("Другой артикул (необязательно)").fill("MUG")
    form.get_by_label("Единиц, строка 2").fill("2")
    form.get_by_role("button", name="Создать заказ на замену").click()
    expect(page.locator("#flash")).to_contain_text("Заказ на замену создан")
    replacement = page.locator("[data-replacement] a")
    expect(replacement).to_have_text(re.compile(r"Заказ №?\s*#?\d+"))
    expect(page.locator("[data-exchange]")).to_have_count(0)  # one replacement only
    step = page.locator(".timeline li").filter(has_text="Отправлена замена")
    expect(step).to_contain_text(re.compile(r"Заказ №?\s*#?\d+"))  # not "replaced by order"
    expect(step).not_to_contain_text("replaced")
    shot(page, "replaced-ru")

    href = replacement.get_attribute("href")
    assert href is not None
    new_id = int(href.rsplit("/", 1)[1])
    placed = order_service.get_order(site.potok.uow(), new_id).order
    assert [(line.sku, line.quantity) for line in placed.lines] == [("MUG", 2)]
    assert placed.external_id == "exchange-RT-000001"
    assert placed.allocation.value == "reserved"
    ret = requests.get_return(site.potok.uow(), "RT-000001")
    assert (ret.exchange_order_id, ret.exchange_value) == (new_id, Decimal("780.00"))
    page.get_by_role("link", name="English").click()
    sign_out(page)

    # warehouse staff may not place orders: nothing is offered to them
    sign_in(page, "petrov", path="/returns/RT-000001")
    expect(page.locator(".page-head [data-status]")).to_be_visible()
    expect(page.locator("[data-exchange]")).to_have_count(0)
    sign_out(page)
