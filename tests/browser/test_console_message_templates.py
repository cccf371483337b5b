"""Settings → Messages in a real browser: an administrator opens a customer message
template, previews a draft against the sample order, is told the line and column of a
mistake, saves a new version, sees it in the history, and goes back to the shipped one;
an operator reads the template but cannot change it."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from potok.domain.access import Role
from tests.browser.conftest import person, run_axe, sign_in
from tests.conftest import LiveServer

Shot = Callable[[Page, str], Path]

DRAFT = (
    '{% extends "en/_base.j2" %}\n'
    "{% block subject %}Parcel {{ order_id }} left us{% endblock %}\n"
    "{% block body %}Track it: {{ tracking_number }}.{% endblock %}\n"
    "{% block html_body %}<p>Track it: {{ tracking_number }}.</p>{% endblock %}\n"
)


def test_an_administrator_edits_previews_and_resets_a_message_template(
    site: LiveServer, page: Page, shot: Shot
) -> None:
    person(site, "admin", Role.ADMIN)
    sign_in(page, "admin", path="/settings")
    page.get_by_role("link", name="Messages").click()
    page.get_by_label("Step").select_option("order_shipped")
    page.get_by_label("Language").select_option("en")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("[data-template-state]")).to_have_text("The shipped template is in force")
    source = page.get_by_label(re.compile("^Template email/en/order_shipped"))
    expect(source).to_have_value(re.compile(r'^\{% extends "en/_base\.j2" %\}'))

    source.fill("Order {{ order_id }}\n{% if vip %}dear{% endif %}")
    page.get_by_role("button", name="Preview with a sample order").click()
    problem = page.locator("form[data-build=templateDraft] .errors")
    expect(problem).to_contain_text("line 2, column 7: unknown variable 'vip'")
    page.get_by_role("button", name="Save the template").click()
    expect(page.locator("#template-save .errors")).to_contain_text("line 2, column 7")
    expect(source).to_have_value(re.compile("vip"))  # nothing typed is lost

    source.fill(DRAFT)
    page.get_by_role("button", name="Preview with a sample order").click()
    expect(page.locator("#template-preview [data-fill]")).to_contain_text("Parcel 1042 left us")
    expect(page.locator("#template-preview [data-fill]")).to_contain_text("Track it: SBX000123.")
    shot(page, "draft-previewed")
    page.get_by_role("button", name="Save the template").click()
    expect(page.locator("[data-template-state]")).to_contain_text("Version 1, by user:admin")
    expect(page.get_by_role("link", name="email/en/order_shipped")).to_be_visible()
    assert run_axe(page) == []
    shot(page, "saved")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Back to the shipped template").click()
    expect(page.locator("[data-template-state]")).to_have_text("The shipped template is in force")
    expect(page.locator("table tbody tr")).to_have_count(2)
    expect(page.locator("table tbody tr").first).to_contain_text("back to the shipped template")


def test_an_operator_reads_templates_but_cannot_change_them(site: LiveServer, page: Page) -> None:
    person(site, "ivanova", Role.OPERATOR)
    sign_in(page, "ivanova")
    page.goto("/settings/notifications?topic=refund_paid&language=ru&medium=sms")
    source = page.locator("#template-source")
    expect(source).to_have_attribute("readonly", "")
    expect(source).to_have_value(re.compile("вернули"))
    expect(page.get_by_role("button", name="Save the template")).to_have_count(0)
