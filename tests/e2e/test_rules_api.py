"""Automation rules over HTTP: written and checked (mistakes named with their place),
changed as new versions, tried on an order, and what they did read from the order."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import LiveServer
from tests.factories import build_world_api, order_body
from tests.integration.test_automation_rules import drain

RISKY: dict[str, Any] = {
    "name": "Risky new orders",
    "trigger": "order.created",
    "condition": 'channel == "web" and total > 5000 and customer.new',
    "actions": [
        {"do": "hold", "hold_type": "fraud", "reason": "check the buyer"},
        {"do": "add_tag", "tag": "risky"},
    ],
}


def test_a_rule_written_in_the_api_holds_a_risky_order(live: LiveServer, api: httpx.Client) -> None:
    build_world_api(api, {("MSK", "KET"): 10})
    made = api.post("/api/v1/rules", json=RISKY, headers={"Idempotency-Key": "rule-1"})
    assert made.status_code == 201, made.text
    rule = made.json()
    assert (rule["version"], rule["active"], rule["stop"]) == (1, True, False)
    again = api.post("/api/v1/rules", json=RISKY, headers={"Idempotency-Key": "rule-1"})
    assert again.status_code == 201
    assert again.json()["id"] == rule["id"]
    assert [r["id"] for r in api.get("/api/v1/rules").json()] == [rule["id"]]

    order = api.post("/api/v1/orders", json=order_body([("KET", 3)])).json()
    drain(live.potok)

    held = api.get(f"/api/v1/orders/{order['id']}").json()
    assert held["status"] == "on_hold"
    firings = api.get(f"/api/v1/orders/{order['id']}/rule-firings").json()
    assert [(f["rule_id"], f["rule_version"], f["outcome"]) for f in firings] == [
        (rule["id"], 1, "done")
    ]
    assert [a["do"] for a in firings[0]["actions"]] == ["hold", "add_tag"]

    changed = api.put(
        f"/api/v1/rules/{rule['id']}",
        json=RISKY | {"condition": "total > 10000"},
        headers={"If-Match": '"1"'},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == 2
    stale = api.put(f"/api/v1/rules/{rule['id']}", json=RISKY, headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    versions = api.get(f"/api/v1/rules/{rule['id']}/versions").json()
    assert [v["version"] for v in versions] == [2, 1]
    assert versions[1]["body"]["condition"] == RISKY["condition"]


def test_a_rule_with_mistakes_is_refused_naming_each_place(api: httpx.Client) -> None:
    bad = RISKY | {
        "trigger": "order.cancelled",
        "condition": 'channel == "web" and totl > 5000',
    }
    answer = api.post("/api/v1/rules", json=bad)
    assert answer.status_code == 422
    problem = answer.json()
    assert problem["code"] == "invalid-input"
    errors = {e["field"]: e for e in problem["errors"]}
    assert set(errors) == {"condition", "actions[0].do"}
    assert (errors["condition"]["at"], errors["condition"]["end"]) == (22, 25)
    assert errors["condition"]["code"] == "unknown-field"
    assert errors["actions[0].do"]["code"] == "not-on-trigger"
    assert api.get("/api/v1/rules").json() == []
    assert api.get("/api/v1/rules/99").status_code == 404


def test_trying_a_rule_on_an_order_changes_nothing(api: httpx.Client) -> None:
    build_world_api(api, {("MSK", "KET"): 10})
    order = api.post("/api/v1/orders", json=order_body([("KET", 3)])).json()
    trial = api.post("/api/v1/rule-trials", json={"rule": RISKY, "order_id": order["id"]})
    assert trial.status_code == 200, trial.text
    assert trial.json()["matches"] is True
    assert [(a["do"], a["outcome"]) for a in trial.json()["actions"]] == [
        ("hold", "done"),
        ("add_tag", "done"),
    ]
    assert api.get(f"/api/v1/orders/{order['id']}").json()["version"] == order["version"]
    missing = api.post("/api/v1/rule-trials", json={"rule": RISKY, "order_id": 999999})
    assert missing.status_code == 404


def test_a_dry_run_over_the_api_lists_the_orders_a_draft_would_have_matched(
    api: httpx.Client,
) -> None:
    build_world_api(api, {("MSK", "KET"): 10})
    big = api.post("/api/v1/orders", json=order_body([("KET", 3)])).json()
    api.post("/api/v1/orders", json=order_body([("KET", 1)]))
    draft = RISKY | {"condition": "total > 5000"}  # the two orders are one customer's
    answer = api.post("/api/v1/rule-dry-runs", json={"rule": draft, "last": 10})
    assert answer.status_code == 200, answer.text
    assert answer.json()["looked_at"] == 2
    assert [m["order_id"] for m in answer.json()["matched"]] == [big["id"]]
    (seen,) = answer.json()["matched"]
    assert (seen["channel"], seen["total"], seen["currency"], seen["status"]) == (
        "web",
        big["totals"]["total"],
        "RUB",
        big["status"],
    )
    neither = api.post("/api/v1/rule-dry-runs", json={"rule": RISKY})
    assert neither.status_code == 422
    mistaken = RISKY | {"condition": "totl > 5000"}
    wrong = api.post("/api/v1/rule-dry-runs", json={"rule": mistaken, "last": 5})
    assert wrong.status_code == 422
    assert [(e["field"], e.get("at")) for e in wrong.json()["errors"]] == [("rule.condition", 1)]
    assert api.get("/api/v1/rules").json() == []


def test_a_rule_on_the_items_categories_holds_orders_of_a_branch_and_names_unknown_ones(
    live: LiveServer, api: httpx.Client
) -> None:
    build_world_api(api, {("MSK", "KET"): 10, ("MSK", "MUG"): 10})
    for code, parent in (("home", None), ("kitchen", "home"), ("kettles", "kitchen")):
        api.post(
            "/api/v1/categories", json={"code": code, "name": code.title(), "parent": parent}
        ).raise_for_status()
    api.patch("/api/v1/products/KET", json={"category": "kettles"}).raise_for_status()
    rule = RISKY | {"condition": '"kitchen" in items.categories', "actions": RISKY["actions"][1:]}

    refused = api.post(
        "/api/v1/rules",
        json=rule | {"condition": '"kitchen" in items.categories or "kitchn" in items.categories'},
    )

    assert refused.status_code == 422, refused.text
    errors = [(e["field"], e["code"], e["at"], e["end"]) for e in refused.json()["errors"]]
    assert errors == [("condition", "unknown-category", 34, 41)]
    assert "there is no category 'kitchn'" in refused.json()["errors"][0]["message"]
    made = api.post("/api/v1/rules", json=rule)
    assert made.status_code == 201, made.text
    kettle = api.post("/api/v1/orders", json=order_body([("KET", 1), ("MUG", 1)])).json()
    mug = api.post("/api/v1/orders", json=order_body([("MUG", 1)])).json()
    drain(live.potok)

    fired = {
        o["id"]: [f["outcome"] for f in api.get(f"/api/v1/orders/{o['id']}/rule-firings").json()]
        for o in (kettle, mug)
    }
    assert fired == {kettle["id"]: ["done"], mug["id"]: []}
