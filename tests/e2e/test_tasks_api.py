"""Operators' work over HTTP: a queue set up, a task put in it and taken, the caller's own
tasks, the figures; a task taken twice is refused."""

from __future__ import annotations

import httpx

from potok.domain.access import Role
from tests.auth import make_user
from tests.conftest import LiveServer


def test_a_task_is_put_in_a_queue_taken_and_finished(api: httpx.Client) -> None:
    made = api.put(
        "/api/v1/task-queues/address",
        json={"name": "Address check", "policy": "claim", "sla_minutes": 45},
    )
    assert made.status_code == 200, made.text
    assert made.json()["policy"] == "claim"
    assert [q["code"] for q in api.get("/api/v1/task-queues").json()] == ["address"]

    task = api.post(
        "/api/v1/tasks",
        json={"queue": "address", "title": "call the buyer"},
        headers={"Idempotency-Key": "task-1"},
    )
    assert task.status_code == 201, task.text
    task_id = task.json()["id"]
    assert task.json()["assignee"] is None
    again = api.post(
        "/api/v1/tasks",
        json={"queue": "address", "title": "call the buyer"},
        headers={"Idempotency-Key": "task-1"},
    )
    assert again.json()["id"] == task_id

    taken = api.post("/api/v1/task-queues/address/next-task")
    assert taken.status_code == 200, taken.text
    assert (taken.json()["id"], taken.json()["state"], taken.json()["assignee"]) == (
        task_id,
        "claimed",
        "tests",
    )
    twice = api.post(f"/api/v1/tasks/{task_id}/claim")
    assert twice.status_code == 409
    assert twice.json()["code"] == "task-taken"
    empty = api.post("/api/v1/task-queues/address/next-task")
    assert empty.status_code == 404
    assert empty.json()["code"] == "no-task-waiting"

    mine = api.get("/api/v1/tasks", params={"mine": "true"}).json()
    assert [t["id"] for t in mine] == [task_id]
    done = api.post(f"/api/v1/tasks/{task_id}/completion", json={"note": "address fixed"})
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "done"
    figures = api.get("/api/v1/task-figures").json()
    assert [(o["user"], o["done"], o["done_late"]) for o in figures["operators"]] == [
        ("tests", 1, 0)
    ]
    assert [(q["queue"], q["done"], q["in_time_pct"]) for q in figures["queues"]] == [
        ("address", 1, 100.0)
    ]


def test_a_task_for_a_queue_that_does_not_exist_is_refused(api: httpx.Client) -> None:
    answer = api.post("/api/v1/tasks", json={"queue": "nope", "title": "x"})
    assert answer.status_code == 404
    assert answer.json()["code"] == "queue-not-found"
    bad = api.put(
        "/api/v1/task-queues/fraud",
        json={"name": "Fraud", "policy": "round_robin", "members": ["ghost"], "sla_minutes": 30},
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"members[0]"}


def test_operators_skills_decide_who_gets_a_task_and_who_may_take_it(
    live: LiveServer, api: httpx.Client
) -> None:
    make_user(live.potok, "anna", Role.OPERATOR)
    make_user(live.potok, "boris", Role.OPERATOR)
    skilled = api.put("/api/v1/operators/anna/skills", json={"skills": ["fraud", "en"]})
    assert skilled.status_code == 200, skilled.text
    assert skilled.json() == {
        "user": "anna",
        "skills": ["en", "fraud"],
        "queues": [],
        "unfinished": 0,
    }
    api.put("/api/v1/operators/boris/skills", json={"skills": ["fraud"]})
    made = api.put(
        "/api/v1/task-queues/fraud",
        json={
            "name": "Fraud review",
            "policy": "least_loaded",
            "members": ["boris", "anna"],
            "sla_minutes": 30,
            "skills": ["fraud"],
        },
    )
    assert (made.json()["skills"], made.json()["by_channel"]) == (["fraud"], False)

    english = api.post("/api/v1/tasks", json={"queue": "fraud", "title": "en", "skills": ["en"]})
    assert english.status_code == 201, english.text
    assert (english.json()["assignee"], english.json()["skills"]) == ("anna", ["en", "fraud"])
    chinese = api.post("/api/v1/tasks", json={"queue": "fraud", "title": "zh", "skills": ["zh"]})
    assert (chinese.json()["assignee"], chinese.json()["skills"]) == (None, ["fraud", "zh"])
    refused = api.post(f"/api/v1/tasks/{chinese.json()['id']}/claim")
    assert refused.status_code == 422
    assert refused.json()["code"] == "task-needs-skill"

    people = {o["user"]: o for o in api.get("/api/v1/operators").json()}
    assert (people["anna"]["queues"], people["anna"]["unfinished"]) == (["fraud"], 1)
    assert people["boris"]["skills"] == ["fraud"]

    ghost = api.put("/api/v1/operators/ghost/skills", json={"skills": ["en"]})
    assert ghost.status_code == 404
    assert ghost.json()["code"] == "user-not-found"
    bad = api.put("/api/v1/operators/anna/skills", json={"skills": ["en", "two words"]})
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["skills[1]"]
