"""What a rule's changes leave in the audit trail: one row per firing, ``rule.fired``,
naming the rule, its version and every action with its outcome; the tags and notes it
made go to the outbox as events, as any order change does, without audit rows of their
own (two rows a firing said the same thing)."""

from __future__ import annotations

from collections import Counter

import sqlalchemy as sa

from potok.bootstrap import Potok
from potok.db.tables import audit_log, outbox_events
from potok.domain.automation import RuleDraft
from potok.services.automation import rules
from tests.factories import TESTER, build_world
from tests.integration.test_automation_rules import _rules_round, place


def _by_action(potok: Potok, table: sa.Table, column: str, entity: str) -> Counter[str]:
    key = table.c.entity_id if table is audit_log else table.c.aggregate_id
    with potok.engine.connect() as look:
        return Counter(look.execute(sa.select(table.c[column]).where(key == entity)).scalars())


def test_a_rules_tags_and_notes_are_in_the_audit_trail_by_its_firing(potok: Potok) -> None:
    build_world(potok, {("MSK", "MUG"): 10})
    rule = rules.add_rule(
        potok.uow(),
        RuleDraft(
            "Look",
            "order.created",
            "true",
            [
                {"do": "add_tag", "tag": "seen"},
                {"do": "comment", "text": "looked at"},
                {"do": "set_priority", "priority": 4},
            ],
        ),
        TESTER,
    )
    order_id = place(potok, [("MUG", 1)])
    _rules_round(potok)

    events = _by_action(potok, outbox_events, "type", str(order_id))
    assert events["order.tagged"] == 1
    assert events["order.note_added"] == 1
    audited = _by_action(potok, audit_log, "action", str(order_id))
    assert audited["rule.fired"] == 1
    assert audited["order.tagged"] == 0
    assert audited["order.note_added"] == 0
    assert audited["order.priority_changed"] == 1  # what changes the order's handling keeps its own
    with potok.engine.connect() as look:
        fired = look.execute(
            sa.select(audit_log.c.after).where(
                audit_log.c.action == "rule.fired", audit_log.c.entity_id == str(order_id)
            )
        ).scalar_one()
    assert (fired["rule_id"], fired["rule_version"]) == (rule.id, 1)
    assert [(a["do"], a["outcome"]) for a in fired["actions"]] == [
        ("add_tag", "done"),
        ("comment", "done"),
        ("set_priority", "done"),
    ]
    assert fired["actions"][0]["tag"] == "seen"
    assert fired["actions"][1]["text"] == "looked at"
