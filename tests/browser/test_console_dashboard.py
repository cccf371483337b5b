"""The dashboard names shipments stuck in a warehouse stage for a day, to whoever may see
them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from potok.db.tables import shipments
from potok.domain.access import Role
from tests.browser.conftest import person, sign_in
from tests.browser.test_console_live import api
from tests.browser.test_console_orders import place, world
from tests.conftest import LiveServer


def test_shipments_stuck_for_a_day_are_named_on_the_dashboard(site: LiveServer, page: Page) -> None:
    world(site)
    stuck, fresh = place(site, channel="web"), place(site, channel="web", phone="+79160000009")
    with api(site) as erp:
        for number in (stuck, fresh):
            made = erp.post(f"/api/v1/orders/{number}/shipments", json={"warehouse": "MSK"})
            assert made.status_code == 201, made.text
    two_days_ago = datetime.now(UTC) - timedelta(days=2)
    with site.potok.engine.begin() as connection:  # as if nobody had touched it since
        connection.execute(
            sa.update(shipments)
            .where(shipments.c.order_id == stuck)
            .values(updated_at=two_days_ago)
        )
    person(site, "ivanova", Role.OPERATOR)
    sign_in(page, "ivanova")
    expect(page.locator("[data-figure=overdue]")).to_have_text("1")
    overdue = page.locator("[data-overdue]")
    expect(overdue).to_have_count(1)
    expect(overdue).to_contain_text(f"#{stuck}")
    expect(overdue).to_contain_text("Waiting for picking")

    # warehouse staff elsewhere do not see Moscow's shipments
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()  # signed out first
    person(site, "spb", Role.WAREHOUSE, ("SPB",))
    sign_in(page, "spb")
    expect(page.locator("[data-figure=overdue]")).to_have_text("0")
