"""The conditions of automation rules: what reads, what is refused (with the place), and
what a condition says of an order's fields."""

from __future__ import annotations

from decimal import Decimal

import pytest

from potok.domain.automation import RuleDraft, check_rule
from potok.domain.automation.expressions import Mistake, compile_condition
from potok.domain.automation.model import Known
from potok.domain.errors import InvalidInput


def mistake(text: str) -> tuple[int, int, str]:
    with pytest.raises(Mistake) as caught:
        compile_condition(text)
    return caught.value.error.column, caught.value.error.end, caught.value.error.code


def test_a_condition_reads_the_fields_it_names() -> None:
    condition = compile_condition('channel == "web" and total > 5000 and customer.new')
    assert condition.fields == {"channel", "total", "customer.new"}
    base = {"channel": "web", "total": Decimal("7470.00"), "customer.new": True}
    assert condition.holds(base)
    assert not condition.holds(base | {"total": Decimal("5000")})
    assert not condition.holds(base | {"customer.new": False})
    assert not condition.holds(base | {"channel": "mp"})


def test_lists_tags_and_missing_figures() -> None:
    assert compile_condition('"vip" in tags').holds({"tags": frozenset({"vip"})})
    assert compile_condition('channel in ["web", "app"]').holds({"channel": "app"})
    assert compile_condition('"KET" not in skus').holds({"skus": frozenset({"MUG"})})
    late = compile_condition("promised_in_hours < 24")
    assert not late.holds({"promised_in_hours": None})  # nothing promised: not late
    assert late.holds({"promised_in_hours": Decimal("-2")})
    assert compile_condition("promised_in_hours == null").holds({"promised_in_hours": None})
    assert compile_condition("not (total > 10 or priority >= 3)").holds(
        {"total": Decimal(5), "priority": Decimal(0)}
    )


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("totl > 5", (1, 4, "unknown-field")),
        ('channel == "web" and totl > 5', (22, 25, "unknown-field")),
        ('total > "5"', (9, 11, "type")),
        ('payment.status == "paidd"', (19, 25, "never-true")),
        ("total > 10 and total < 5", (1, 24, "never-true")),
        ('channel == "web" and channel == "mp"', (1, 36, "never-true")),
        ("total >", (8, 8, "syntax")),
        ('__import__("os")', (1, 16, "unsupported")),
        ("total.__class__ == 1", (1, 15, "unknown-field")),
        ("1 < total < 3", (1, 13, "chain")),
        ("tags", (1, 4, "type")),
        ("channel < 3", (11, 11, "type")),
        ("total + 1 > 3", (1, 9, "unsupported")),
        ("channel == null", (1, 15, "never-true")),
    ],
)
def test_a_mistake_is_refused_with_its_place(text: str, place: tuple[int, int, str]) -> None:
    assert mistake(text) == place


def test_a_rule_is_checked_whole_and_every_mistake_is_named() -> None:
    draft = RuleDraft(
        name="Bad",
        trigger="order.cancelled",
        condition="totl > 5",
        actions=[
            {"do": "hold", "hold_type": "maybe"},
            {"do": "confirm"},
            {"do": "explode"},
            {"do": "add_tag", "tag": "x", "colour": "red"},
            {"do": "assign", "queue": "fraud"},
        ],
    )
    with pytest.raises(InvalidInput) as caught:
        check_rule(draft, Known(queues=frozenset()))
    found = {(e.field, e.code) for e in caught.value.errors}
    assert found == {
        ("condition", "unknown-field"),
        ("actions[0].do", "not-on-trigger"),
        ("actions[0].hold_type", "unknown-hold-type"),
        ("actions[0].reason", "required"),
        ("actions[1].do", "not-on-trigger"),
        ("actions[2].do", "unknown-action"),
        ("actions[3].colour", "unknown-field"),
        ("actions[4].do", "not-on-trigger"),
        ("actions[4].queue", "unknown-queue"),
    }
    condition = next(e for e in caught.value.errors if e.field == "condition")
    assert (condition.at, condition.end) == (1, 4)


def test_actions_that_undo_each_other_are_refused() -> None:
    draft = RuleDraft(
        "Both",
        "order.created",
        "true",
        [{"do": "add_tag", "tag": "a"}, {"do": "remove_tag", "tag": "a"}],
    )
    with pytest.raises(InvalidInput) as caught:
        check_rule(draft, Known(queues=frozenset()))
    assert [e.code for e in caught.value.errors] == ["contradictory"]


_VALUE_SETS = [
    {
        "channel": channel,
        "total": total,
        "customer.new": new,
        "tags": tags,
        "promised_in_hours": promised,
        "priority": Decimal(priority),
        "skus": frozenset({"MUG", "KET"}),
    }
    for channel in ("web", "mp")
    for total in (Decimal("0"), Decimal("5000"), Decimal("5000.01"))
    for new in (True, False)
    for tags in (frozenset(), frozenset({"vip"}))
    for promised in (None, Decimal("-2"), Decimal("24"))
    for priority in (0, 3)
]


@pytest.mark.parametrize(
    "text",
    [
        'channel == "web" and total > 5000 and customer.new',
        'channel != "web" or total <= 5000',
        "total >= 5000 and total < 5000.01",
        '"vip" in tags or not customer.new',
        '"vip" not in tags and channel in ["web", "app"]',
        'channel not in ["mp"] and "KET" in skus',
        "promised_in_hours < 24",
        "promised_in_hours >= 0 or promised_in_hours == null",
        "promised_in_hours != null and not (total > 10 or priority >= 3)",
        "customer.new == true and priority > 2",
        "customer.new",
        "not customer.new and (priority == 3 or total == 0)",
        "5000 < total",
    ],
)
def test_a_condition_run_as_functions_answers_as_its_tree_does(text: str) -> None:
    condition = compile_condition(text)
    answers = [condition.holds(values) for values in _VALUE_SETS]
    assert answers == [condition.holds_walked(values) for values in _VALUE_SETS]
    assert True in answers  # both answers occur: the comparison above can fail
    assert False in answers


def test_payment_method_and_age_read_as_conditions_see_them() -> None:
    cod = compile_condition('payment.method in ["cash_on_delivery", "card_on_delivery"]')
    assert cod.holds({"payment.method": "cash_on_delivery"})
    assert not cod.holds({"payment.method": None})  # the channel did not say
    assert compile_condition("payment.method == null").holds({"payment.method": None})
    assert mistake('payment.method == "cash"')[2] == "never-true"
    day = compile_condition("age_hours >= 24")
    assert day.holds({"age_hours": Decimal("24.5")})
    assert not day.holds({"age_hours": Decimal("23.99")})


def test_a_schedule_rule_needs_its_interval_and_an_event_rule_refuses_one() -> None:
    every = RuleDraft("s", "schedule", "true", [{"do": "add_tag", "tag": "x"}], every_minutes=30)
    assert check_rule(every).every_minutes == 30
    for draft, code in [
        (RuleDraft("s", "schedule", "true", [{"do": "add_tag", "tag": "x"}]), "required"),
        (
            RuleDraft("s", "schedule", "true", [{"do": "add_tag", "tag": "x"}], every_minutes=4),
            "out-of-range",
        ),
        (
            RuleDraft("e", "order.created", "true", [{"do": "confirm"}], every_minutes=30),
            "not-on-trigger",
        ),
        (
            RuleDraft("n", "order.created", "true", [{"do": "notify", "template": "hi"}]),
            "unknown-template",
        ),
        (
            RuleDraft("w", "order.created", "true", [{"do": "webhook", "subscription": 7}]),
            "unknown-subscription",
        ),
    ]:
        with pytest.raises(InvalidInput) as refused:
            check_rule(draft, Known(queues=frozenset(), subscriptions=frozenset({3})))
        assert [e.code for e in refused.value.errors] == [code], draft.name


def test_a_rule_may_set_only_a_priority_an_order_can_have() -> None:
    """An order's priority is 0-9: a rule setting 10 would pass its save and then fail every
    window of the rules' reaction at the database's CHECK, stopping all rules."""
    good = RuleDraft("p", "order.created", "true", [{"do": "set_priority", "priority": 9}])
    assert check_rule(good).actions[0].priority == 9
    for priority in (10, -1, 1000):
        draft = RuleDraft(
            "p", "order.created", "true", [{"do": "set_priority", "priority": priority}]
        )
        with pytest.raises(InvalidInput) as caught:
            check_rule(draft)
        assert [(e.field, e.code) for e in caught.value.errors] == [
            ("actions[0].priority", "out-of-range")
        ]
