"""Settings → Webhooks in a real browser, the operations after subscribing: a subscription
with a channel filter (shown beside its events), past events delivered again - one event
from the log, from a position, a time range - with a refusal in Russian, the signing secret
rotated with the old one still signing for a while (both verified with standardwebhooks),
and the filters changed afterwards, from the next event on. SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from standardwebhooks.webhooks import Webhook

from potok.domain.access import Role
from tests.browser.conftest import person, run_axe, sign_in
from tests.browser.test_console_orders import place, world
from tests.browser.test_console_webhooks import deliver
from tests.conftest import LiveServer
from tests.receiver import Receiver

Shot = Callable[[Page, str], Path]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver().start()
    yield started
    started.stop()


def ids(receiver: Receiver) -> list[str]:
    return [r.headers["webhook-id"] for r in receiver.received]


def test_an_administrator_replays_events_and_rotates_the_secret(
    site: LiveServer, page: Page, shot: Shot, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    world(site)
    monkeypatch.setattr(site.potok.settings.events, "allow_private_addresses", True)
    person(site, "admin", Role.ADMIN)
    sign_in(page, "admin", path="/settings/webhooks")

    # subscribe with a channel filter: only the site's orders reach the receiver
    form = page.locator("form[data-api='/api/v1/webhook-subscriptions']")
    form.get_by_label("Receiver's address (https)").fill(receiver.url)
    form.get_by_label(re.compile("^Event types")).fill("order.created")
    form.get_by_label("Only these sales channels, separated by spaces (optional)").fill("web")
    form.get_by_role("button", name="Subscribe").click()
    expect(page.locator("#secret [data-fill]")).to_have_text(re.compile(r"^whsec_"))
    old_secret = page.locator("#secret [data-fill]").inner_text()
    page.get_by_role("link", name="Show the new subscription in the list").click()
    article = page.locator("article[data-subscription]")
    expect(article.locator("[data-filter=types]")).to_have_text("order.created")
    expect(article.locator("[data-filter=channels]")).to_have_text("web")
    expect(article.locator("[data-filter=warehouses]")).to_have_text("every location")

    first = place(site, channel="web")
    place(site, channel="phone", phone="+79035550001")  # filtered out
    deliver(site)
    assert [r.event["data"]["order_id"] for r in receiver.received] == [first]
    assert Webhook(old_secret).verify(receiver.received[0].body, receiver.received[0].headers)
    event_id = receiver.received[0].headers["webhook-id"]
    page.reload()
    expect(article.get_by_text("No replay asked for.")).to_be_visible()

    # one event again, from its row in the delivery log
    article.locator(f"form[data-replay-event='{event_id}']").get_by_role(
        "button", name=re.compile("^Deliver event")
    ).click()
    expect(page.locator("#flash")).to_contain_text("The event will be delivered again")
    expect(article.locator("tr[data-replay]")).to_have_count(1)
    expect(article.locator("[data-replay-state]")).to_have_text("waiting for the worker")
    deliver(site)
    assert ids(receiver) == [event_id, event_id]  # the same webhook-id: deduplicated there
    page.reload()
    expect(article.locator("[data-replay-state]")).to_contain_text("done")

    # from a position: the log's event number
    second = place(site, channel="web", phone="+79035550002")
    deliver(site)
    assert len(receiver.received) == 3
    page.reload()
    article.get_by_text("Deliver past events again").click()
    by_position = article.locator("form[data-replay=from]")
    by_position.get_by_label("From event No.").fill("1")
    by_position.get_by_role("button", name="Replay from this position").click()
    expect(article.locator("tr[data-replay]")).to_have_count(2)
    deliver(site)
    again = [r.event["data"]["order_id"] for r in receiver.received[3:]]
    assert again == [first, second]  # both, in commit order, nothing of the phone order

    # a time range: the last hour
    page.reload()
    article.get_by_text("Deliver past events again").click()
    by_time = article.locator("form[data-replay=range]")
    an_hour_ago = datetime.now() - timedelta(hours=1)  # the browser's own clock and zone
    by_time.get_by_label("Happened from").fill(an_hour_ago.strftime("%Y-%m-%dT%H:%M"))
    by_time.get_by_role("button", name="Replay this time range").click()
    expect(article.locator("tr[data-replay]")).to_have_count(3)
    deliver(site)
    assert [r.event["data"]["order_id"] for r in receiver.received[5:]] == [first, second]
    assert run_axe(page) == []
    shot(page, "replays")

    # in Russian: a range the subscription has not reached is refused in words
    page.get_by_role("link", name="Русский").click()
    article.get_by_text("Отправить прошлые события снова").click()
    by_position = article.locator("form[data-replay=from]")
    by_position.get_by_label("С события №").fill("999999")
    by_position.get_by_role("button", name="Повторить с этого места").click()
    expect(by_position.locator(".errors")).to_contain_text("Повторять нечего")
    expect(by_position.get_by_label("С события №")).to_have_value("999999")  # kept
    expect(article.locator("tr[data-replay]")).to_have_count(3)
    shot(page, "refused-ru")

    # a new secret; for a day both sign every delivery
    article.get_by_text("Сменить секрет подписи").click()
    rotation = article.locator("details[data-rotation] form")
    expect(rotation.get_by_label("Старый секрет подписывает ещё")).to_have_value("86400")
    rotation.get_by_role("button", name="Создать новый секрет").click()
    new_secret = article.locator("[data-rotated] [data-fill]")
    expect(new_secret).to_have_text(re.compile(r"^whsec_"))
    fresh = new_secret.inner_text()
    assert fresh != old_secret
    shot(page, "rotated-ru")
    page.get_by_role("link", name="Показать подписку с новым секретом").click()
    expect(article.locator("[data-old-secret-until]")).to_be_visible()
    place(site, channel="web", phone="+79035550003")
    deliver(site)
    got = receiver.received[-1]
    assert Webhook(fresh).verify(got.body, got.headers)["type"] == "order.created"
    assert Webhook(old_secret).verify(got.body, got.headers)["type"] == "order.created"
    page.get_by_role("link", name="English").click()

    # the filters changed: every channel from now on; a type that does not exist is refused
    article.get_by_text("Change what it receives").click()
    change = article.locator("details[data-filters-edit] form")
    expect(change.get_by_label(re.compile("^Event types"))).to_have_value("order.created")
    expect(change.get_by_label(re.compile("^Only these sales channels"))).to_have_value("web")
    change.get_by_label(re.compile("^Event types")).fill("order.nonsense")
    change.get_by_role("button", name="Save the filters").click()
    expect(change.locator(".errors")).to_be_visible()
    expect(article.locator("[data-filter=types]")).to_have_text("order.created")  # unchanged
    change.get_by_label(re.compile("^Event types")).fill("order.created")
    change.get_by_label(re.compile("^Only these sales channels")).fill("")
    change.get_by_role("button", name="Save the filters").click()
    expect(page.locator("#flash")).to_contain_text("Filters changed")
    expect(article.locator("[data-filter=channels]")).to_have_text("every channel")
    phone_order = place(site, channel="phone", phone="+79035550004")
    deliver(site)
    assert receiver.received[-1].event["data"]["order_id"] == phone_order
