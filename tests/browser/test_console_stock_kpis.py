"""Stock KPIs and reorder suggestions in the console, as a buyer reads them: turnover, days
of cover, dead stock and value per position; then what to order from the stored forecast
run and why, in English and Russian, with no WCAG A/AA violations.

The history (tests.integration.test_forecasting): KET 40 on hand, two sold a day for 14
days (12 available); TOY 10 arrived on day 5, one sold a day (1 available); MUG 5 that
nobody asked for."""

from __future__ import annotations

import re
from datetime import date

from playwright.sync_api import Page, expect

from potok.domain.access import Role
from potok.domain.inventory.commands import ReceiveStock
from potok.services import forecasting, inventory
from tests.browser.conftest import person, run_axe, sign_in
from tests.browser.test_console_live import Shot
from tests.conftest import LiveServer
from tests.factories import TESTER
from tests.integration.test_forecasting import _history


def test_a_buyer_reads_the_stock_kpis_and_what_to_reorder(
    site: LiveServer, page: Page, shot: Shot
) -> None:
    _history(site.potok)
    inventory.receive_stock(site.potok.uow(), ReceiveStock("MSK", "MUG", 5), TESTER)
    person(site, "buyer", Role.MANAGER)
    sign_in(page, "buyer", path="/reports/stock?days=365")
    expect(page.get_by_role("heading", name="Stock KPIs")).to_be_visible()
    ket = page.locator("tr[data-position='MSK/KET']")
    # 28 sold over 365 days: 12 available last 12 / (28 / 365) = 156.4 days
    expect(ket.locator("[data-cover]")).to_have_text("156.4")
    expect(page.locator("tr[data-position='MSK/MUG'] [data-dead]")).to_have_text("dead")
    expect(page.locator("[data-kpi=dead]")).to_contain_text("1")
    shot(page, "stock-kpis")
    assert run_axe(page) == []
    page.get_by_label("Dead stock only").check()
    page.get_by_role("button", name="Show").click()
    expect(page.locator("tbody tr[data-position]")).to_have_count(1)
    expect(page.locator("tr[data-position='MSK/MUG']")).to_be_visible()

    page.goto("/stock/reorder")
    expect(page.get_by_role("heading", name="No demand forecast is stored yet")).to_be_visible()
    forecasting.run_forecast(site.potok.uow(), date(2026, 11, 14), days=14)
    page.reload()
    expect(page.locator("[data-run]")).to_contain_text("history up to")
    ket = page.locator("tr[data-suggestion='MSK/KET']")
    expect(ket.locator("[data-quantity]")).to_have_text("16")  # up to 28, position 12
    expect(ket.locator("[data-why]")).to_contain_text("reorder point 14")
    expect(page.locator("tr[data-suggestion='MSK/TOY'] [data-quantity]")).to_have_text("13")
    expect(page.locator("tr[data-suggestion='MSK/MUG']")).to_have_count(0)  # never sold
    shot(page, "reorder")
    assert run_axe(page) == []
    page.goto("/reports/forecast?sku=TOY")  # the stored run's forecast, not a new one
    expect(page.get_by_text(re.compile("^The forecast of run 1, stored"))).to_be_visible()
    expect(page.locator("svg.forecast-chart-0 .line.forecast")).to_have_count(1)
    page.goto("/stock/reorder")

    page.get_by_role("link", name="Русский").click()
    expect(page.get_by_role("heading", name="Предложения по дозаказу")).to_be_visible()
    expect(ket.locator("[data-why]")).to_contain_text("точка заказа 14")
    shot(page, "reorder-ru")
    assert run_axe(page) == []
    page.goto("/reports/stock?days=365")
    expect(page.get_by_role("heading", name="Показатели запасов")).to_be_visible()
    expect(page.locator("tr[data-position='MSK/KET'] [data-cover]")).to_have_text(
        re.compile(r"^156,4$")
    )
    shot(page, "stock-kpis-ru")
    assert run_axe(page) == []

    # one step: the ticked positions become a purchase order; TOY left unticked
    page.goto("/stock/reorder")
    page.locator("tr[data-suggestion='MSK/TOY'] [data-pick]").uncheck()
    page.locator("[data-reorder-po] input[name=supplier]").fill("ООО Чайники")
    page.locator("[data-reorder-po] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/stock/purchase-orders/PO-\d+$"))
    expect(page.get_by_text("ООО Чайники").first).to_be_visible()
    shot(page, "purchase-order-from-suggestions")
    page.goto("/stock/reorder")
    expect(page.locator("tr[data-suggestion='MSK/KET']")).to_have_count(0)  # ordered: 12 + 16
    expect(page.locator("tr[data-suggestion='MSK/TOY'] [data-quantity]")).to_have_text("13")
    assert run_axe(page) == []
