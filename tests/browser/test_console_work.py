"""Operators' work in a real browser: the tasks page shows an operator their own tasks and
each queue's with its figures; they take the next one, put it back, take it again and
finish it with a note; the rules page lists the rules in their order and changes one as
JSON (a mistake shown next to the form, the place named); Russian; the accessibility
check. SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from potok.domain.access import Role
from potok.domain.automation import RuleDraft
from potok.domain.tasks import Policy, QueueDraft
from potok.services import tasks
from potok.services.automation import rules
from tests.browser.conftest import person, run_axe, sign_in
from tests.conftest import LiveServer
from tests.factories import TESTER, build_world

Shot = Callable[[Page, str], Path]


def test_an_operator_takes_puts_back_and_finishes_tasks_from_the_page(
    site: LiveServer, page: Page, shot: Shot
) -> None:
    build_world(site.potok)
    person(site, "ivanova", Role.OPERATOR)
    person(site, "orlov", Role.OPERATOR)
    uow = site.potok.uow
    tasks.put_queue(uow(), QueueDraft("fraud", "Fraud review", Policy.CLAIM, ("ivanova",), 30))
    tasks.put_queue(
        uow(), QueueDraft("confirm", "Manual confirmation", Policy.ROUND_ROBIN, ("orlov",), 60)
    )
    first = tasks.create_task(uow(), "fraud", None, "check the buyer of a big order", TESTER)
    tasks.create_task(uow(), "fraud", None, "a second look", TESTER)
    tasks.create_task(uow(), "confirm", None, "call the customer", TESTER)  # orlov's

    sign_in(page, "ivanova")
    page.get_by_role("link", name="Tasks", exact=True).click()
    expect(page.get_by_role("heading", name="Tasks", exact=True)).to_be_visible()
    mine = page.locator("[data-tasks=mine] tr[data-task]")
    expect(mine).to_have_count(0)
    queue_rows = page.locator("[data-tasks=queue] tr[data-task]")
    expect(queue_rows).to_have_count(3)
    fraud = page.locator("tr[data-queue=fraud]")
    expect(fraud).to_contain_text("Operators take them")
    expect(fraud.locator("td").nth(3)).to_have_text("2")  # open
    assert run_axe(page) == []
    shot(page, "queues")

    fraud.get_by_role("button", name="Take the next").click()
    expect(mine).to_have_count(1)
    expect(mine.first).to_have_attribute("data-task", str(first.id))  # soonest due first
    expect(mine.first.locator("[data-state]")).to_contain_text("Taken · ivanova")
    mine.first.get_by_role("button", name="Put back").click()
    expect(mine).to_have_count(0)
    row = page.locator(f"[data-tasks=queue] tr[data-task='{first.id}']")
    row.get_by_role("button", name="Take").click()
    expect(mine).to_have_count(1)
    mine.first.get_by_placeholder("Note (optional)").fill("a real buyer")
    mine.first.get_by_role("button", name="Done").click()
    expect(mine).to_have_count(0)
    expect(page.locator("[data-tasks=queue] tr[data-task]")).to_have_count(2)
    expect(page.locator("tr[data-queue=fraud] td").nth(6)).to_have_text("1 / 1")
    done = tasks.list_tasks(uow(), queue="fraud")
    assert [(t.id, t.state.value, t.note) for t in done if t.id == first.id] == [
        (first.id, "done", "a real buyer")
    ]
    # orlov's task is shown in the queue, not offered to take
    other = page.locator("[data-tasks=queue] tr[data-task]", has_text="call the customer")
    expect(other.get_by_role("button")).to_have_count(0)

    page.get_by_role("link", name="Русский").click()
    expect(page.get_by_role("heading", name="Задачи", exact=True)).to_be_visible()
    expect(page.locator("tr[data-queue=fraud]")).to_contain_text("Берут сами")
    shot(page, "queues-ru")


def test_the_rules_page_lists_the_rules_and_changes_one_as_json(
    site: LiveServer, page: Page, shot: Shot
) -> None:
    build_world(site.potok)
    person(site, "ivanova", Role.OPERATOR)
    risky = rules.add_rule(
        site.potok.uow(),
        RuleDraft(
            "Risky new orders",
            "order.created",
            'channel == "web" and total > 50000',
            [{"do": "hold", "hold_type": "fraud", "reason": "check the buyer"}],
        ),
        TESTER,
    )
    rules.add_rule(
        site.potok.uow(),
        RuleDraft(
            "Unconfirmed for a day",
            "schedule",
            "age_hours >= 24",
            [{"do": "add_tag", "tag": "late"}],
            every_minutes=30,
        ),
        TESTER,
    )

    sign_in(page, "ivanova")
    page.get_by_role("link", name="Rules", exact=True).click()
    expect(page.get_by_role("heading", name="Automation rules")).to_be_visible()
    rows = page.locator("tr[data-rule]")
    expect(rows).to_have_count(2)
    expect(rows.nth(1).locator("[data-trigger]")).to_have_text("every 30 min, over open orders")
    expect(rows.first.locator("[data-actions]")).to_contain_text("hold_type=fraud")
    assert run_axe(page) == []

    editor = page.locator("tr.editor").first
    editor.get_by_text(f"Change rule {risky.id}").click()
    text = editor.get_by_label("The rule as JSON")
    text.fill(text.input_value().replace("total > 50000", "totl > 50000"))
    editor.get_by_role("button", name="Save as a new version").click()
    expect(editor.locator(".errors")).to_contain_text("'totl' is not a field")
    text.fill(text.input_value().replace("totl > 50000", "total > 70000"))
    editor.get_by_role("button", name="Save as a new version").click()
    expect(rows.first).to_contain_text("version 2")
    expect(rows.first).to_contain_text("total > 70000")
    assert rules.get_rule(site.potok.uow(), risky.id).version == 2
    shot(page, "rules")

    page.get_by_role("link", name="Русский").click()
    expect(page.get_by_role("heading", name="Правила автоматизации")).to_be_visible()
    expect(rows.nth(1).locator("[data-trigger]")).to_have_text("каждые 30 мин, по открытым заказам")
