"""Keyboard shortcuts in a real browser: orders handled from the keyboard alone (list, card,
next card, confirm, hold, back to the list), the ? window listing the page's keys (and
passing the accessibility check), keys on another keyboard layout, none while typing."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from potok.domain.access import Role
from potok.services import orders as order_service
from tests.browser.conftest import person, run_axe, sign_in
from tests.browser.test_console_orders import place, state, world
from tests.conftest import LiveServer

Shot = Callable[[Page, str], Path]

RUSSIAN_C = """() => document.activeElement.dispatchEvent(new KeyboardEvent("keydown",
    {key: "с", code: "KeyC", bubbles: true, cancelable: true}))"""


def card_of(page: Page, number: int) -> None:
    expect(page).to_have_url(re.compile(f"/orders/{number}$"))
    expect(page.locator(".page-head")).to_have_attribute("data-order-id", str(number))


def test_orders_are_handled_from_the_keyboard_alone(
    site: LiveServer, page: Page, shot: Shot
) -> None:
    world(site)
    oldest = place(site, phone="+79160000001")
    middle = place(site, phone="+79160000002")
    newest = place(site, phone="+79160000003")
    person(site, "ivanova", Role.OPERATOR)
    sign_in(page, "ivanova", path="/orders")

    # from the list: the first row, then open it
    page.keyboard.press("j")
    expect(page.locator(f"tr[data-order-id='{newest}']")).to_be_focused()
    page.keyboard.press("Enter")
    card_of(page, newest)

    # ? lists what this card offers by key
    page.keyboard.press("?")
    help_window = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_window).to_be_visible()
    this_page = help_window.locator("[data-keys-page]")
    expect(this_page).to_contain_text("Confirm")
    expect(this_page).to_contain_text("Put on hold")
    expect(this_page).to_contain_text("Cancel the order")
    expect(this_page.locator("dt", has_text="Shift")).to_have_count(1)  # Shift + c: cancel
    shot(page, "help")
    assert run_axe(page) == [], "the order card with the ? window open"
    page.keyboard.press("Escape")
    expect(help_window).to_be_hidden()
    assert state(site, newest) == "new"  # opening and closing the window did nothing

    page.keyboard.press("c")
    expect(page.locator(".page-head [data-status]")).to_have_text("Reserved")
    expect(page.locator("#flash")).to_contain_text("Order confirmed")
    assert state(site, newest) == "confirmed"

    # the next order of the list, confirmed on a Russian keyboard ("с" sits on c)
    page.keyboard.press("j")
    card_of(page, middle)
    page.evaluate(RUSSIAN_C)
    expect(page.locator(".page-head [data-status]")).to_have_text("Reserved")
    assert state(site, middle) == "confirmed"

    # h opens the hold form with the cursor in it; typing there presses no shortcut
    page.keyboard.press("j")
    card_of(page, oldest)
    page.keyboard.press("h")
    expect(page.locator("#hold-type")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator("#hold-reason")).to_be_focused()
    page.keyboard.type("call back the customer")  # c, h ... typed, not pressed
    expect(page.locator("#hold-reason")).to_have_value("call back the customer")
    assert state(site, oldest) == "new"
    page.keyboard.press("Enter")
    expect(page.locator(".page-head [data-status]")).to_have_text("On hold")
    assert order_service.get_order(site.potok.uow(), oldest).order.active_holds

    # k goes back through the list, u back to the list itself, g r to the returns
    page.keyboard.press("k")
    card_of(page, middle)
    page.keyboard.press("u")
    expect(page).to_have_url(re.compile(r"/orders$"))
    page.keyboard.press("g")
    page.keyboard.press("r")
    expect(page.get_by_role("heading", name="Returns", exact=True)).to_be_visible()
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_contain_text(
        "No keys of its own."
    )
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_hidden()
    # opened from its button in the header, closed with its own: the focus comes back
    page.get_by_role("button", name="Keys ?").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    expect(page.get_by_role("button", name="Close")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_hidden()
    expect(page.get_by_role("button", name="Keys ?")).to_be_focused()


def test_the_keys_window_is_reached_without_a_keyboard_shortcut_and_speaks_russian(
    site: LiveServer, page: Page
) -> None:
    world(site)
    number = place(site)
    person(site, "ivanova", Role.OPERATOR)
    sign_in(page, "ivanova", path=f"/orders/{number}")
    page.get_by_role("link", name="Русский").click()
    page.get_by_role("button", name=re.compile("^Клавиши")).click()
    help_window = page.get_by_role("dialog", name="Клавиши")
    expect(help_window).to_be_visible()
    expect(help_window.locator("[data-keys-page]")).to_contain_text("Подтвердить")
    page.keyboard.press("Escape")
    expect(help_window).to_be_hidden()
    assert state(site, number) == "new"
