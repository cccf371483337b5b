"""The reports page: the period's KPIs as tiles, orders and revenue as server-drawn SVG
charts, the stage funnel, the same figures in the table; in English and Russian, with no
WCAG A/AA violations."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from potok.domain.access import Role
from potok.services import reports
from tests.browser.conftest import person, run_axe, sign_in
from tests.browser.test_console_live import Shot
from tests.browser.test_console_orders import place, world
from tests.conftest import LiveServer


def test_the_reports_page_draws_the_kpis_in_both_languages(
    site: LiveServer, page: Page, shot: Shot
) -> None:
    world(site)
    place(site, channel="web")  # 3270.00
    place(site, channel="web", phone="+79160000009")
    reports.rebuild_order_facts(site.potok.uow())
    person(site, "director", Role.MANAGER)
    sign_in(page, "director", path="/reports")
    expect(page.get_by_role("heading", name="Reports", exact=True)).to_be_visible()
    expect(page.locator("[data-kpi=orders]")).to_have_text("2")
    expect(page.locator("[data-kpi=revenue]")).to_have_text(re.compile(r"^RUB\s*6,540\.00$"))
    expect(page.locator("[data-kpi=average_order]")).to_have_text(re.compile(r"^RUB\s*3,270\.00$"))
    orders_chart = page.get_by_role("img", name=re.compile("^Orders"))
    expect(orders_chart).to_be_visible()
    expect(page.locator("svg.orders-chart circle.dot")).to_have_count(30)  # a dot a day
    expect(page.locator("svg.revenue-chart rect.bar")).to_have_count(30)
    expect(page.locator("svg.funnel-chart")).to_contain_text("Picked")
    shot(page, "reports")
    assert run_axe(page) == []

    page.locator("select[name=grain]").select_option("week")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"grain=week"))
    expect(page.locator("[data-kpi=orders]")).to_have_text("2")

    page.get_by_role("link", name="Русский").click()
    expect(page.get_by_role("heading", name="Отчёты", exact=True)).to_be_visible()
    expect(page.locator("[data-kpi=revenue]")).to_have_text(re.compile(r"^6\s540,00\s₽$"))
    expect(page.locator("svg.funnel-chart")).to_contain_text("Собран")
    shot(page, "reports-ru")
    assert run_axe(page) == []

    page.get_by_role("link", name="Прогноз спроса").click()
    page.get_by_label("Артикул").fill("KET")
    page.get_by_role("button", name="Показать").click()
    chart = page.get_by_role("img", name="Спрос на KET на складе MSK")
    expect(chart).to_be_visible()
    expect(page.locator("svg.forecast-chart-0 .line.forecast")).to_have_count(1)
    expect(page.locator("svg.forecast-chart-0 polygon.band")).to_have_count(1)
    expect(page.get_by_text(re.compile("^Метод: seasonal_naive"))).to_be_visible()
    shot(page, "forecast-ru")
    assert run_axe(page) == []
