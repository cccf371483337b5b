"""Settings → Overdue thresholds in a real browser: an administrator shortens how long a
shipment may wait for picking, and the dashboard names one more shipment; an operator
reads the thresholds but cannot change them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from potok.db.tables import shipments
from potok.domain.access import Role
from tests.browser.conftest import person, run_axe, sign_in
from tests.browser.test_console_live import api
from tests.browser.test_console_orders import place, world
from tests.conftest import LiveServer

Shot = Callable[[Page, str], Path]


def test_a_shorter_threshold_puts_a_shipment_on_the_dashboard(
    site: LiveServer, page: Page, shot: Shot
) -> None:
    world(site)
    recent, old = place(site, channel="web"), place(site, channel="web", phone="+79160000009")
    with api(site) as erp:
        for number in (recent, old):
            made = erp.post(f"/api/v1/orders/{number}/shipments", json={"warehouse": "MSK"})
            assert made.status_code == 201, made.text
    now = datetime.now(UTC)
    with site.potok.engine.begin() as connection:  # as if nobody had touched them since
        for number, age in ((recent, timedelta(hours=3)), (old, timedelta(days=2))):
            connection.execute(
                sa.update(shipments)
                .where(shipments.c.order_id == number)
                .values(updated_at=now - age)
            )
    person(site, "admin", Role.ADMIN)
    sign_in(page, "admin")
    expect(page.locator("[data-figure=overdue]")).to_have_text("1")  # a day, as always
    expect(page.locator("[data-overdue]")).to_contain_text(f"#{old}")

    page.goto(f"{site.url}/settings")
    page.get_by_role("link", name="Overdue thresholds").click()
    field = page.get_by_label("Waiting for picking, minutes")
    expect(field).to_have_value("1440")
    field.fill("120")
    page.locator("form[data-threshold=pending]").get_by_role("button", name="Save").click()
    state = page.locator("form[data-threshold=pending] [data-threshold-state]")
    expect(state).to_contain_text("changed by user:admin")
    expect(page.get_by_label("Waiting for picking, minutes")).to_have_value("120")
    expect(page.locator("tr[data-threshold-change=pending]")).to_have_count(1)
    assert run_axe(page) == []
    shot(page, "threshold-changed")

    page.goto(site.url + "/")
    expect(page.locator("[data-figure=overdue]")).to_have_text("2")
    overdue = page.locator("[data-overdue]")
    expect(overdue).to_have_count(2)
    expect(overdue.first).to_contain_text(f"#{old}")  # the oldest first
    expect(overdue.nth(1)).to_contain_text(f"#{recent}")
    shot(page, "dashboard-with-two-overdue")

    # an operator sees the thresholds but has no way to change them
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()  # signed out first
    person(site, "ivanova", Role.OPERATOR)
    sign_in(page, "ivanova", path="/settings/overdue")
    expect(page.get_by_label("Waiting for picking, minutes")).to_have_value("120")
    expect(page.get_by_label("Waiting for picking, minutes")).to_have_attribute("readonly", "")
    expect(page.get_by_role("button", name="Save")).to_have_count(0)


def test_a_parcel_stuck_with_the_carrier_is_named_until_its_stage_allows_longer(
    site: LiveServer, page: Page, shot: Shot
) -> None:
    """In Russian: a parcel untouched in transit for eight days is late (a week); the
    administrator allows ten days on the settings tab, and it is no longer named."""
    world(site)
    number = place(site, channel="web")
    with api(site) as erp:
        made = erp.post(f"/api/v1/orders/{number}/shipments", json={"warehouse": "MSK"})
        assert made.status_code == 201, made.text
    with site.potok.engine.begin() as connection:  # with the carrier, no news for eight days
        connection.execute(
            sa.update(shipments)
            .where(shipments.c.order_id == number)
            .values(status="in_transit", updated_at=datetime.now(UTC) - timedelta(days=8))
        )
    person(site, "admin", Role.ADMIN)
    sign_in(page, "admin")
    page.get_by_role("link", name="Русский").click()
    expect(page.locator("[data-figure=overdue]")).to_have_text("0")  # not at the warehouse
    expect(page.locator("[data-figure=late_with_carrier]")).to_have_text("1")
    late = page.locator("[data-late]")
    expect(late).to_contain_text(f"#{number}")
    expect(late).to_contain_text("В пути")
    expect(page.get_by_role("heading", name="Задерживаются у перевозчика")).to_be_visible()
    shot(page, "late-with-the-carrier-ru")

    page.goto(f"{site.url}/settings/overdue")
    field = page.get_by_label("В пути, минут")
    expect(field).to_have_value("10080")
    state = page.locator("form[data-threshold=in_transit] [data-threshold-state]")
    expect(state).to_have_text("по умолчанию: 10\xa0080 мин.")
    field.fill(str(10 * 24 * 60))
    page.locator("form[data-threshold=in_transit]").get_by_role("button", name="Сохранить").click()
    expect(state).to_contain_text("изменил user:admin")
    expect(page.locator("tr[data-threshold-change=in_transit]")).to_have_count(1)
    assert run_axe(page) == []
    shot(page, "carrier-thresholds-ru")

    page.goto(site.url + "/")
    expect(page.locator("[data-figure=late_with_carrier]")).to_have_text("0")
    expect(page.locator("[data-late]")).to_have_count(0)
