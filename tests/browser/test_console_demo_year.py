"""The demo's year, as an operations director and a buyer see it in a real browser: the
dashboard's last 12 months (totals, orders and revenue a point a week, every week with
orders), the year's reports by week and by day with every stage timed, and the reorder
suggestions a forecast of that year makes, each with its reason. SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Locator, Page, expect

from potok.domain.access import Role
from potok.domain.kernel import utc_now
from potok.sandbox.seed import seed
from potok.services import forecasting
from potok.web.charts import BOTTOM, HEIGHT
from tests.browser.conftest import person, run_axe, sign_in
from tests.browser.test_console_live import Shot
from tests.conftest import LiveServer

AXIS = HEIGHT - BOTTOM  # where a point of nought lies


def heights(marks: Locator, attribute: str) -> list[float]:
    return [
        float(v) for v in marks.evaluate_all(f"els => els.map(e => e.getAttribute('{attribute}'))")
    ]


def test_the_director_sees_the_demo_year_and_the_buyer_what_to_reorder(
    site: LiveServer, page: Page, shot: Shot
) -> None:
    report = seed(site.potok, orders=30, history_days=365)
    assert report.history is not None
    assert report.history.orders > 4000
    today = utc_now().date()
    since = today - timedelta(days=364)
    weeks = (today - since + timedelta(days=since.weekday() - today.weekday())).days // 7 + 1
    assert weeks in (53, 54)
    person(site, "director", Role.MANAGER)
    sign_in(page, "director")

    # the dashboard: the last 12 months a point a week, every week with orders and revenue
    card = page.locator("section.year")
    expect(card.get_by_role("heading", name="The last 12 months")).to_be_visible()
    orders = card.locator("[data-year-kpi=orders]").inner_text()
    assert int(re.sub(r"\D", "", orders)) >= report.history.orders
    dots = page.locator("svg.year-orders-chart circle.dot")
    bars = page.locator("svg.year-revenue-chart rect.bar")
    expect(dots).to_have_count(weeks)
    expect(bars).to_have_count(weeks)
    assert all(y < AXIS for y in heights(dots, "cy")), "a week without orders"
    assert all(h > 0 for h in heights(bars, "height")), "a week without revenue"
    expect(card.locator("[data-year-kpi=on_time_rate]")).to_have_text(re.compile(r"%"))
    expect(card.locator("[data-year-kpi=return_rate]")).to_have_text(re.compile(r"%"))
    shot(page, "dashboard")
    assert run_axe(page) == []

    # an order of the past reads as any other: its lines, shipment, steps, history
    page.goto("/orders/1")
    expect(page.locator(".page-head[data-order-id='1']")).to_be_visible()
    expect(page.locator("main")).to_contain_text("sandbox")  # the carrier it went with
    shot(page, "order-of-the-past")
    page.goto("/")

    # the year's reports: by week, then by day; every stage of the funnel timed
    card.get_by_role("link", name=re.compile("^The year's reports")).click()
    expect(page).to_have_url(re.compile(r"/reports\?since=.*grain=week"))
    expect(page.locator("svg.orders-chart circle.dot")).to_have_count(weeks)
    expect(page.locator("[data-kpi=orders]")).to_have_text(orders)  # the same 12 months
    funnel = page.locator("svg.funnel-chart")
    expect(funnel.locator("rect.bar")).to_have_count(5)  # confirmed ... delivered
    expect(funnel).not_to_contain_text("no orders passed it")
    shot(page, "reports-year-weeks")
    page.locator("select[name=grain]").select_option("day")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("svg.orders-chart circle.dot")).to_have_count(365)
    expect(page.locator("svg.revenue-chart rect.bar")).to_have_count(365)
    days_with_orders = sum(
        1 for y in heights(page.locator("svg.orders-chart circle.dot"), "cy") if y < AXIS
    )
    assert days_with_orders >= 360  # the seam before the placed fortnight may miss a day
    shot(page, "reports-year-days")

    # the buyer: the forecast of the year, and what to order because of it
    forecasting.run_forecast(site.potok.uow(), today)
    page.goto("/stock/reorder")
    expect(page.locator("[data-run]")).to_contain_text("history up to")
    suggestions = page.locator("tr[data-suggestion]")
    expect(suggestions.first).to_be_visible()
    expect(suggestions.first.locator("[data-why]")).to_contain_text("reorder point")
    shot(page, "reorder")
    assert run_axe(page) == []
