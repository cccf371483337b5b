"""Settings → Webhooks in a real browser: an administrator subscribes a receiver (a refused
address explained, the signing secret shown once), reads the delivery log as the
dispatcher fills it, pauses and resumes deliveries, and unsubscribes."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from potok.domain.access import Role
from potok.worker.dispatcher import Dispatcher, new_client
from tests.browser.conftest import person, run_axe, sign_in
from tests.browser.test_console_orders import place, world
from tests.conftest import LiveServer
from tests.receiver import Receiver

Shot = Callable[[Page, str], Path]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver().start()
    yield started
    started.stop()


def deliver(site: LiveServer, rounds: int = 20) -> None:
    """What the worker does: rounds of the dispatcher until one finds nothing to do."""
    with new_client() as client:
        dispatcher = Dispatcher(site.potok, client, name="console-tests")
        for _ in range(rounds):
            if not dispatcher.run_round().busy:
                return


def test_an_administrator_manages_a_webhook_from_the_console(
    site: LiveServer, page: Page, shot: Shot, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    world(site)
    person(site, "admin", Role.ADMIN)
    sign_in(page, "admin", path="/settings")
    page.get_by_role("link", name="Webhooks").click()
    expect(page.get_by_role("heading", name="Webhook subscriptions")).to_be_visible()
    expect(page.get_by_text("No receiver is subscribed yet.")).to_be_visible()

    # a receiver on this machine is refused unless the setting lets local receivers in
    form = page.locator("form[data-api='/api/v1/webhook-subscriptions']")
    form.get_by_label("Receiver's address (https)").fill(receiver.url)
    form.get_by_label(re.compile("^Event types")).fill("order.* stock.changed")
    form.get_by_label("Description (optional)").fill("the ERP")
    form.get_by_role("button", name="Subscribe").click()
    expect(form.locator(".field-error")).to_be_visible()  # next to the address, in words
    expect(form.get_by_label("Receiver's address (https)")).to_have_attribute(
        "aria-invalid", "true"
    )
    expect(form.get_by_label("Receiver's address (https)")).to_have_value(receiver.url)

    monkeypatch.setattr(site.potok.settings.events, "allow_private_addresses", True)
    monkeypatch.setattr(site.potok.settings.events, "backoff_s", 0.01)
    monkeypatch.setattr(site.potok.settings.events, "backoff_max_s", 0.02)
    form.get_by_role("button", name="Subscribe").click()
    secret = page.locator("#secret [data-fill]")
    expect(secret).to_have_text(re.compile(r"^whsec_"))
    shot(page, "secret-shown-once")
    page.get_by_role("link", name="Show the new subscription in the list").click()
    article = page.locator("article[data-subscription]")
    expect(article).to_have_count(1)
    expect(article).to_contain_text("order.*, stock.changed")
    expect(article.locator("[data-state]")).to_have_attribute("data-state", "active")

    # the receiver fails once, then takes it: both attempts are in the log
    receiver.fail_next = 1
    number = place(site)
    deliver(site)
    assert len(receiver.received) >= 1
    page.reload()
    rows = article.locator("tr[data-delivery]")
    expect(article.locator("tr[data-outcome=failed]").first).to_contain_text("503")
    delivered = article.locator("tr[data-outcome=delivered]")
    expect(delivered.filter(has_text="order.created").first).to_be_visible()
    assert rows.count() >= 2
    shot(page, "deliveries")
    assert run_axe(page) == []

    # paused: nothing goes out, nothing is lost; resumed: it all arrives
    article.get_by_role("button", name="Pause").click()
    expect(article.locator("[data-state]")).to_have_attribute("data-state", "paused")
    expect(article).to_contain_text("admin")
    before = len(receiver.received)
    place(site, phone="+79035550000")
    deliver(site)
    assert len(receiver.received) == before
    article.get_by_role("button", name="Resume").click()
    # no longer paused (it may still show the attempts that failed before, as the API does)
    expect(article.locator("[data-state]")).to_have_attribute(
        "data-state", re.compile("^(active|failing)$")
    )
    deliver(site)
    assert len(receiver.received) > before
    assert any(
        r.event["type"] == "order.created" and r.event["data"]["order_id"] != number
        for r in receiver.received[before:]
    )

    page.once("dialog", lambda dialog: dialog.accept())
    article.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_text("No receiver is subscribed yet.")).to_be_visible()


def test_webhooks_are_for_those_who_manage_them(site: LiveServer, page: Page) -> None:
    person(site, "ivanova", Role.OPERATOR)
    sign_in(page, "ivanova")
    answer = page.goto("/settings/webhooks")
    assert answer is not None
    assert answer.status == 403
