"""Operators' work in a real browser: the tasks page shows an operator their own tasks and
each queue's with its figures; they take the next one, put it back, take it again and
finish it with a note; the rules page lists the rules in their order and changes one as
JSON (a mistake shown next to the form, the place named); Russian; the accessibility
check. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from potok.domain.access import Role
from potok.domain.automation import RuleDraft
from potok.domain.tasks import Policy, QueueDraft
from potok.services import orders, tasks
from potok.services.automation import rules
from potok.services.intake import Placement, place_order
from tests.browser.conftest import person, run_axe, sign_in
from tests.conftest import LiveServer
from tests.factories import TESTER, build_world, order_command

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
    expect(editor.locator("form[data-method=PUT] .errors")).to_contain_text("'totl' is not a field")
    text.fill(text.input_value().replace("totl > 50000", "total > 70000"))
    editor.get_by_role("button", name="Save as a new version").click()
    expect(rows.first).to_contain_text("version 2")
    expect(rows.first).to_contain_text("total > 70000")
    assert rules.get_rule(site.potok.uow(), risky.id).version == 2
    shot(page, "rules")

    page.get_by_role("link", name="Русский").click()
    expect(page.get_by_role("heading", name="Правила автоматизации")).to_be_visible()
    expect(rows.nth(1).locator("[data-trigger]")).to_have_text("каждые 30 мин, по открытым заказам")


def test_a_draft_rule_is_dry_run_from_the_rules_page_before_it_is_switched_on(
    site: LiveServer, page: Page, shot: Shot
) -> None:
    build_world(site.potok, {("MSK", "KET"): 20, ("MSK", "MUG"): 20})
    person(site, "ivanova", Role.OPERATOR)
    placed = [
        place_order(site.potok.uow(), order_command(lines), TESTER)
        for lines in ([("KET", 3)], [("MUG", 1)], [("KET", 4)])
    ]
    big = [p.order.id for p in placed if isinstance(p, Placement) and p.order.lines[0].sku == "KET"]
    risky = rules.add_rule(
        site.potok.uow(),
        RuleDraft("Risky", "order.created", "total > 100000", [{"do": "add_tag", "tag": "big"}]),
        TESTER,
    )

    sign_in(page, "ivanova")
    page.get_by_role("link", name="Rules", exact=True).click()
    new = page.locator("section[aria-labelledby=new-rule-h]")
    draft = {
        "name": "Big kettles",
        "trigger": "order.created",
        "condition": "total > 5000",
        "actions": [
            {"do": "hold", "hold_type": "fraud", "reason": "check the buyer"},
            {"do": "add_tag", "tag": "big"},
        ],
        "active": False,
    }
    new.get_by_label("The rule as JSON").fill(json.dumps(draft))
    new.get_by_label("Over the last orders").fill("10")
    new.get_by_role("button", name="Dry run").click()
    result = new.locator("[data-dry-run-result]")
    expect(result.locator("[data-dry-run-summary]")).to_have_text(
        "Looked at 3 orders; the rule would have matched 2."
    )
    matched = result.locator("tr[data-order]")
    expect(matched).to_have_count(2)
    assert sorted(int(matched.nth(i).get_attribute("data-order") or 0) for i in range(2)) == sorted(
        big
    )
    expect(matched.first.locator("[data-actions]")).to_contain_text("hold hold_type=fraud")
    expect(matched.first.locator("[data-outcome=done]")).to_have_count(2)
    expect(matched.first.locator("[data-actions]")).to_contain_text("would do")
    expect(matched.first.get_by_role("link")).to_have_attribute(
        "href", re.compile(r"^/orders/\d+$")
    )
    assert run_axe(page) == []
    shot(page, "dry-run")

    # a mistake in the draft is named with its place, next to the dry run
    new.get_by_label("The rule as JSON").fill(json.dumps(draft | {"condition": "totl > 5000"}))
    new.get_by_role("button", name="Dry run").click()
    refusal = new.locator("form.dry-run .errors")
    expect(refusal).to_contain_text("rule.condition: column 1: 'totl' is not a field")
    expect(result).to_be_hidden()

    # a period: nothing was taken after it started
    new.get_by_label("The rule as JSON").fill(json.dumps(draft))
    new.get_by_label("or those taken from").fill("2099-01-01T00:00")
    new.get_by_role("button", name="Dry run").click()
    expect(result.locator("[data-dry-run-summary]")).to_have_text(
        "Looked at 0 orders; the rule would have matched 0."
    )
    expect(result).to_contain_text("It would have matched none of them.")

    # a saved rule's edited text is tried as written, not as saved; nothing is stored
    editor = page.locator("tr.editor").first
    editor.get_by_text(f"Change rule {risky.id}").click()
    text = editor.get_by_label("The rule as JSON")
    text.fill(text.input_value().replace("total > 100000", "total > 5000"))
    editor.get_by_role("button", name="Dry run").click()
    expect(editor.locator("[data-dry-run-summary]")).to_have_text(
        "Looked at 3 orders; the rule would have matched 2."
    )
    expect(editor.locator("tr[data-order]").first.locator("[data-outcome=done]")).to_have_count(1)
    assert [(r.id, r.version) for r in rules.list_rules(site.potok.uow())] == [(risky.id, 1)]
    assert all(
        not orders.get_order(site.potok.uow(), order_id).order.active_holds for order_id in big
    )

    page.get_by_role("link", name="Русский").click()
    new = page.locator("section[aria-labelledby=new-rule-h]")
    new.get_by_label("Правило в JSON").fill(json.dumps(draft))
    new.get_by_role("button", name="Пробный прогон").click()
    expect(new.locator("[data-dry-run-summary]")).to_have_text(
        "Просмотрено заказов: 3; правило сработало бы на 2."
    )
    expect(new.locator("tr[data-order]").first).to_contain_text("сделало бы")
    shot(page, "dry-run-ru")


def test_operators_skills_are_set_on_the_tasks_page_and_route_the_queues_tasks(
    site: LiveServer, page: Page, shot: Shot
) -> None:
    build_world(site.potok)
    person(site, "ivanova", Role.OPERATOR)
    person(site, "orlov", Role.OPERATOR)
    uow = site.potok.uow
    tasks.put_queue(
        uow(),
        QueueDraft(
            "fraud",
            "Fraud review",
            Policy.LEAST_LOADED,
            ("ivanova", "orlov"),
            30,
            skills=("fraud",),
        ),
    )
    tasks.set_operator_skills(uow(), "ivanova", ["fraud"])
    waiting = tasks.create_task(uow(), "fraud", None, "call in English", TESTER, skills=["en"])
    assert waiting.assignee is None  # nobody speaks English yet

    sign_in(page, "ivanova")
    page.get_by_role("link", name="Tasks", exact=True).click()
    expect(page.locator("tr[data-queue=fraud] [data-needs]")).to_contain_text("needs fraud")
    row = page.locator(f"[data-tasks=queue] tr[data-task='{waiting.id}']")
    expect(row.locator("[data-needs]")).to_contain_text("waits for someone with these skills")
    expect(row.get_by_role("button", name="Take")).to_have_count(0)  # ivanova lacks en

    orlov = page.locator("tr[data-operator=orlov]")
    orlov.get_by_text("Change skills of orlov").click()
    orlov.get_by_label("Skills, separated by commas").fill("fraud, en")
    orlov.get_by_role("button", name="Save skills").click()
    expect(page.locator("tr[data-operator=orlov] [data-skills] code")).to_have_text(["en", "fraud"])
    assert run_axe(page) == []
    shot(page, "skills")

    given = tasks.create_task(uow(), "fraud", None, "another in English", TESTER, skills=["en"])
    assert given.assignee == "orlov"
    page.reload()
    expect(page.locator(f"tr[data-task='{given.id}'] [data-state]")).to_contain_text("orlov")

    # a queue set up from the page, asking a skill and the order's channel
    page.get_by_text("Set up a queue").click()
    form = page.locator("[data-new-queue] form")
    form.get_by_label("Code").fill("address")
    form.get_by_label("Name").fill("Address check")
    form.get_by_label("Policy").select_option("least_loaded")
    form.get_by_label("Members, separated by commas").fill("orlov, ivanova")
    form.get_by_label("Minutes per task").fill("45")
    form.get_by_label("Skills every task needs, separated by commas").fill("ru")
    form.get_by_label("A task about an order also needs its channel").check()
    form.get_by_role("button", name="Save the queue").click()
    expect(page.locator("tr[data-queue=address] [data-needs]")).to_contain_text("needs ru")
    (address,) = [q for q in tasks.list_queues(uow()) if q.code == "address"]
    assert (address.policy, address.members, address.sla_minutes) == (
        Policy.LEAST_LOADED,
        ("orlov", "ivanova"),
        45,
    )
    assert (address.skills, address.by_channel) == (("ru",), True)
