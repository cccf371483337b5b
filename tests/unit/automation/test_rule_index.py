"""The rules index hands back every rule that can match an order - never fewer than
evaluating them all would find - and leaves out those whose guard fails."""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from potok.domain.automation.expressions import Condition, compile_condition
from potok.domain.automation.index import RuleIndex, guard_of

CONDITIONS = [
    'channel == "web" and total > 5000',
    '"KET" in skus and items >= 3',
    "total >= 1000 and total < 2000",
    "5000 < total",
    "total <= 300",
    "2000 >= total and priority > 3",
    'channel in ["mp", "app"] and priority > 3',
    "customer.returns > 2 or priority >= 9",
    'not ("vip" in tags)',
    "payment.method == null",
    'hour in [9, 10] and channel != "web"',
    "customer.new",
    "true",
    "priority == 5",
    '"vip" in tags and total > 0',
    'payment.method == "online" and total >= 2000',
    '"web" == channel',
]


@dataclass(frozen=True)
class Rule:
    condition: Condition


RULES = [Rule(compile_condition(text)) for text in CONDITIONS]
TOTALS = [
    Decimal(v) for v in ("0", "10", "300", "300.01", "999.99", "1000", "2000", "5000", "9000")
]


def some_values(rand: random.Random) -> dict[str, Any]:
    return {
        "channel": rand.choice(["web", "mp", "app", "phone"]),
        "total": rand.choice(TOTALS),
        "skus": frozenset(rand.sample(["KET", "MUG", "TOY"], rand.randint(0, 3))),
        "items": Decimal(rand.randint(1, 5)),
        "priority": Decimal(rand.randint(0, 10)),
        "customer.returns": Decimal(rand.randint(0, 4)),
        "customer.new": rand.random() < 0.5,
        "tags": frozenset(rand.sample(["vip", "risky"], rand.randint(0, 2))),
        "payment.method": rand.choice([None, "online", "invoice"]),
        "hour": Decimal(rand.randint(0, 23)),
    }


def test_the_index_finds_exactly_the_rules_that_evaluating_all_of_them_finds() -> None:
    index = RuleIndex.of(RULES)
    rand = random.Random(20)
    left_out = 0
    for _ in range(3000):
        values = some_values(rand)
        every = [i for i, r in enumerate(RULES) if r.condition.holds(values)]
        candidates = index.candidates(values)
        assert candidates == sorted(candidates)
        assert [i for i in candidates if RULES[i].condition.holds(values)] == every
        left_out += len(RULES) - len(candidates)
        after = rand.randint(-1, len(RULES))
        assert index.candidates(values, after=after) == [c for c in candidates if c > after]
    assert left_out > 3000 * 5  # most guards fail on most orders: they are not evaluated


def test_each_condition_is_kept_under_its_most_telling_comparison() -> None:
    guards = [guard_of(r.condition.tree) for r in RULES]
    assert guards[0] == ("channel", "==", "web")
    assert guards[1] == ("skus", "has", "KET")
    assert guards[3] == ("total", ">", Decimal("5000"))
    assert guards[5] == ("total", "<=", Decimal("2000"))
    assert guards[6] == ("channel", "one of", frozenset({"mp", "app"}))
    assert guards[7] is None  # an 'or'
    assert guards[8] is None  # a 'not'
    assert guards[9] == ("payment.method", "==", None)
    assert guards[11] is None  # a flag alone
    assert guards[16] == ("channel", "==", "web")


def test_an_order_of_another_channel_does_not_look_at_the_web_rules() -> None:
    index = RuleIndex.of(RULES)
    values = {
        "channel": "mp",
        "total": Decimal("10"),
        "skus": frozenset(),
        "items": Decimal(1),
        "priority": Decimal(0),
        "customer.returns": Decimal(0),
        "customer.new": False,
        "tags": frozenset(),
        "payment.method": None,
        "hour": Decimal(3),
    }
    assert index.candidates(values) == [4, 5, 6, 7, 8, 9, 11, 12]


def test_the_rules_found_stay_when_a_change_meets_no_guard() -> None:
    """After a rule acted, the rules after it are looked up again only when its change
    may meet a field a guard names (here: channel, skus, total, priority, payment.method,
    hour, tags) - not for a change of queues, nor for none."""
    index = RuleIndex.of(RULES)
    assert index.guarded == {
        "channel",
        "skus",
        "total",
        "priority",
        "payment.method",
        "hour",
        "tags",
    }
    assert index.same_after(frozenset({"queues"}))
    assert index.same_after(frozenset())
    assert not index.same_after(frozenset({"tags"}))
    assert not index.same_after(frozenset({"priority", "queues"}))
    assert not index.same_after(None)  # a hold, a confirmation...: anything may change
