"""The customer's tracking page in Chromium on a phone: a parcel waiting at the pickup point
with its opening hours and storage deadline, in Russian and in English; screenshots kept."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from potok.connectors.carriers import TrackingEvent, TrackingStatus
from potok.services import public_tracking
from potok.services.fulfilment import tracking
from tests.browser.conftest import PHONE
from tests.conftest import LiveServer
from tests.factories import build_world
from tests.integration.test_pickup_hours import HOURS, _directory
from tests.integration.test_returns import T0, Clock, _handed_over


def test_a_parcel_at_the_pickup_point_on_a_phone(
    browser: Browser, site: LiveServer, shot: Callable[[Page, str], Path]
) -> None:
    build_world(site.potok, {("MSK", "KET"): 3})
    _directory(site.potok, "MSK-P", HOURS)  # the carriers' directory knows its hours
    order_id, _, number = _handed_over(
        site.potok,
        [("KET", 1)],
        Clock(T0),
        pickup_point="MSK-P",
        customer_name="Анна Смирнова",
        customer_email="anna@example.ru",
    )
    event = TrackingEvent(
        number,
        TrackingStatus.READY_FOR_PICKUP,
        T0 + timedelta(days=1),
        "Прибыло в пункт выдачи",
        "p1",
        storage_until=T0 + timedelta(days=8),
    )
    assert tracking.apply_tracking(site.potok.uow(), "own", [event]).applied == 1
    token = public_tracking.tracking_token(site.potok.uow(), order_id)

    context = browser.new_context(base_url=site.url, viewport=PHONE, locale="ru-RU")
    try:
        page = context.new_page()
        page.goto(f"/track/{token}")
        expect(page.locator("h1")).to_have_text(f"Заказ № {order_id}")
        expect(page.locator(".status")).to_have_text("В пути")
        expect(page.locator("ol li").last).to_contain_text("Ждёт в пункте выдачи")
        parcel = page.locator(f'[data-parcel="{order_id}-1"]')
        expect(parcel).to_contain_text(number)
        expect(parcel).to_contain_text("Забрать до")
        expect(parcel).to_contain_text("2026-11-28 09:00 UTC")
        expect(page.locator("body")).to_contain_text("Moscow pickup point")
        expect(page.locator("[data-hours]")).to_have_text(f"Часы работы: {HOURS}")
        expect(page.locator("body")).not_to_contain_text("Смирнова")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]  # nothing runs off a phone's screen
        shot(page, "ru")
        page.get_by_role("link", name="EN").click()
        expect(page.locator(".status")).to_have_text("On its way")
        expect(parcel).to_contain_text("Collect by")
        expect(page.locator("[data-hours]")).to_have_text(f"Open: {HOURS}")
        shot(page, "en")
    finally:
        context.close()
