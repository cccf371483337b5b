"""An operator's day with orders, in a real browser: sign in, find an order by phone, confirm
it, cancel one, refused actions explained, bulk actions, saved views, keyboard, languages."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from potok.domain.access import Role
from potok.domain.orders.commands import ConfirmOrder
from potok.services import intake
from potok.services import orders as order_service
from tests.browser.conftest import person, sign_in
from tests.conftest import LiveServer
from tests.factories import TESTER, build_world, order_command

Shot = Callable[[Page, str], Path]


def place(
    site: LiveServer, channel: str = "phone", phone: str = "+79161234567", **extra: object
) -> int:
    """An order through the intake use case, as a channel would send it; its number."""
    placed = intake.place_order(
        site.potok.uow(),
        order_command(
            [("KET", 1), ("MUG", 2)],
            channel=channel,
            customer_name="Анна Смирнова",
            customer_phone=phone,
            customer_email="anna@example.ru",
            **extra,  # type: ignore[arg-type]
        ),
        TESTER,
    )
    assert isinstance(placed, intake.Placement)
    assert placed.order.id is not None
    return placed.order.id


def state(site: LiveServer, number: int) -> str:
    return order_service.get_order(site.potok.uow(), number).order.state.value


def world(site: LiveServer) -> None:
    build_world(site.potok, {("MSK", "KET"): 10, ("MSK", "MUG"): 20, ("SPB", "KET"): 3})


def test_operator_signs_in_finds_an_order_by_phone_and_confirms_it(
    site: LiveServer, page: Page, shot: Shot
) -> None:
    world(site)
    wanted = place(site, phone="+7 916 123-45-67")
    place(site, phone="+79035550000")
    person(site, "ivanova", Role.OPERATOR)

    sign_in(page, "ivanova")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.locator("[data-figure=new]")).to_have_text("2")  # manual channel: both wait
    shot(page, "dashboard")

    page.get_by_role("link", name="Orders", exact=True).click()
    page.get_by_label("Number, phone, e-mail or full name").fill("8 (916) 123 45 67")
    page.get_by_role("button", name="Find").click()
    rows = page.locator("table.orders tbody tr[data-order-id]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-order-id", str(wanted))
    shot(page, "found-by-phone")

    rows.first.get_by_role("link", name=f"#{wanted}").click()
    expect(page.get_by_role("heading", name=re.compile(f"Order #{wanted}"))).to_be_visible()
    expect(page.locator(".page-head [data-status]")).to_have_text("New")
    page.get_by_role("button", name="Confirm", exact=True).click()
    expect(page.locator(".page-head [data-status]")).to_have_text("Reserved")
    expect(page.locator("#flash")).to_contain_text("Order confirmed")
    expect(page.get_by_role("button", name="Confirm", exact=True)).to_have_count(0)  # done once
    shot(page, "confirmed")

    view = order_service.get_order(site.potok.uow(), wanted)
    assert view.order.state.value == "confirmed"
    assert view.history[-1].actor == "user:ivanova"


def test_a_stale_card_is_refused_in_plain_words_and_keeps_what_was_typed(
    site: LiveServer, page: Page, shot: Shot
) -> None:
    world(site)
    number = place(site)
    person(site, "ivanova", Role.OPERATOR)
    sign_in(page, "ivanova", path=f"/orders/{number}")

    # another operator confirms the order while this card is open
    order_service.confirm_order(site.potok.uow(), ConfirmOrder(number, "by phone"), TESTER)

    page.get_by_text("Cancel the order", exact=True).first.click()
    page.get_by_label("Why cancel").fill("the customer called to cancel")
    page.get_by_role("button", name="Cancel the order").click()
    errors = page.locator("form[data-api$='/cancellation'] .errors")
    expect(errors).to_be_visible()
    expect(errors).to_have_attribute("data-code", "stale-version")
    expect(errors).to_contain_text("has changed since you read it")
    expect(page.get_by_label("Why cancel")).to_have_value("the customer called to cancel")
    shot(page, "stale")

    # read again: the card now offers cancelling the confirmed order, which goes through
    page.reload()
    expect(page.locator(".page-head [data-status]")).to_have_text("Reserved")
    page.get_by_text("Cancel the order", exact=True).first.click()
    page.get_by_label("Why cancel").fill("the customer called to cancel")
    page.get_by_role("button", name="Cancel the order").click()
    expect(page.locator(".page-head [data-status]")).to_have_text("Cancelled")
    expect(page.locator("section[aria-labelledby=actions-h]")).to_have_count(0)
    expect(page.locator("ol.timeline li").first).to_contain_text("the customer called to cancel")
    assert order_service.get_order(site.potok.uow(), number).order.state.value == "cancelled"


def test_a_role_without_the_permission_sees_no_actions_and_masked_customers(
    site: LiveServer, page: Page
) -> None:
    world(site)
    number = place(site)
    person(site, "reader", Role.ANALYST)
    sign_in(page, "reader", path=f"/orders/{number}")
    expect(page.get_by_role("heading", name=re.compile(f"Order #{number}"))).to_be_visible()
    expect(page.get_by_role("button", name="Confirm", exact=True)).to_have_count(0)
    phone = page.locator("[data-customer-phone]")
    expect(phone).not_to_contain_text("1234567")
    expect(phone).to_contain_text("*")
    expect(page.get_by_text("Personal data is masked for your role.")).to_be_visible()
    # the settings are not in the menu, and typing their address is refused
    expect(page.get_by_role("link", name="Settings")).to_have_count(0)
    answer = page.goto("/settings/users")
    assert answer is not None
    assert answer.status == 403
    expect(page.locator("[data-problem=forbidden]")).to_be_visible()


def test_a_wrong_password_is_named_and_the_user_name_stays(site: LiveServer, page: Page) -> None:
    person(site, "ivanova", Role.OPERATOR)
    page.goto("/orders")
    page.get_by_label("User name").fill("ivanova")
    page.get_by_label("Password").fill("not the password at all")
    page.get_by_role("button", name="Sign in").click()
    errors = page.locator(".errors")
    expect(errors).to_have_attribute("data-code", "bad-credentials")
    expect(page.get_by_label("User name")).to_have_value("ivanova")
    page.get_by_label("Password").fill("correct horse battery staple")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Orders")).to_be_visible()  # back where it started


def test_bulk_actions_and_keyboard_on_the_orders_list(
    site: LiveServer, page: Page, shot: Shot
) -> None:
    world(site)
    first, second, third = (place(site, phone=f"+7916000000{i}") for i in range(3))
    person(site, "ivanova", Role.OPERATOR)
    sign_in(page, "ivanova", path="/orders?status=new")

    # keyboard: j moves down the list, x selects, Enter would open
    page.keyboard.press("j")
    page.keyboard.press("x")
    page.keyboard.press("j")
    page.keyboard.press("x")
    expect(page.locator("[data-selected-count]")).to_have_text("Selected: 2")
    page.get_by_role("button", name="Confirm", exact=True).click()
    results = page.locator("[data-bulk-results] li")
    expect(results).to_have_count(2)
    expect(page.locator("[data-bulk-results] li.ok")).to_have_count(2)
    shot(page, "bulk-confirmed")
    # newest first: the two selected are the last two placed
    states = {
        n: order_service.get_order(site.potok.uow(), n).order.state.value
        for n in (first, second, third)
    }
    assert states == {first: "new", second: "confirmed", third: "confirmed"}

    # cancelling needs a reason; without one nothing is sent
    page.locator(f"tr[data-order-id='{first}'] [data-select]").check()
    page.get_by_role("button", name="Cancel orders").click()
    expect(page.locator("[data-needs-reason]")).to_be_visible()
    assert order_service.get_order(site.potok.uow(), first).order.state.value == "new"

    # a stale row (changed by someone else after the list was read) is refused by If-Match
    order_service.confirm_order(site.potok.uow(), ConfirmOrder(first), TESTER)
    page.get_by_label("Reason").fill("duplicate")
    page.get_by_role("button", name="Cancel orders").click()
    expect(page.locator("[data-bulk-results] li.refused")).to_have_count(1)
    assert order_service.get_order(site.potok.uow(), first).order.state.value == "confirmed"

    # Enter on a focused row opens the card
    page.goto("/orders")
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=re.compile(r"Order #\d+"))).to_be_visible()


def test_saved_views_come_back(site: LiveServer, page: Page) -> None:
    world(site)
    place(site)
    person(site, "ivanova", Role.OPERATOR)
    sign_in(page, "ivanova", path="/orders?status=new&sort=-total")
    page.get_by_label("Name of the view").fill("New, biggest first")
    page.get_by_role("button", name="Save this view").click()
    page.goto("/orders")
    page.get_by_role("link", name="New, biggest first").click()
    expect(page).to_have_url(re.compile(r"status=new&sort=-total"))
    expect(page.get_by_label("New", exact=True)).to_be_checked()


def test_the_language_switches_and_is_remembered(site: LiveServer, page: Page, shot: Shot) -> None:
    world(site)
    number = place(site)
    person(site, "ivanova", Role.OPERATOR)
    sign_in(page, "ivanova", path=f"/orders/{number}")
    page.get_by_role("link", name="Русский").click()
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.get_by_role("heading", name=f"Заказ №{number}")).to_be_visible()
    expect(page.locator(".page-head [data-status]")).to_have_text("Новый")
    # money the Russian way: a comma before kopecks and the rouble sign after the amount
    total = page.locator("tfoot tr").last.locator("td")
    expect(total).to_have_text(re.compile(r"^3\s270,00\s₽$"))
    shot(page, "russian")
    page.goto("/")
    expect(page.get_by_role("heading", name="Сводка")).to_be_visible()
    expect(page.locator("[data-figure=today]")).to_have_text("1 заказ")
    # and a refusal in Russian, from the same problem document
    page.goto(f"/orders/{number + 1000}")
    expect(page.locator("[data-problem=order-not-found] h1")).to_have_text("Заказ не найден")
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
