"""Operators' work in the console: their tasks and the queues' (claimed, released, done,
the next one taken, from the page, through the API), the queues' figures, and the
automation rules in the order they run (read, changed and added as JSON)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from potok.api.schemas.rules import RuleOut
from potok.api.scope import Reach, reach
from potok.api.security import Caller, needs
from potok.domain.access import Permission
from potok.domain.automation import TRIGGERS
from potok.domain.tasks import UNFINISHED, TaskState
from potok.services import tasks
from potok.services.automation import rules
from potok.web.pages import PageRoute, console_uow, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

_EDITABLE = ("name", "trigger", "condition", "actions", "stop", "active", "position")


@router.get("/tasks", dependencies=[needs(Permission.ORDERS_READ), reach(Reach.UNLIMITED)])
def task_list(
    request: Request,
    caller: Caller,
    queue: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    uow = console_uow(request)
    queues = tasks.list_queues(uow)
    chosen = queue.strip() if queue.strip() in {q.code for q in queues} else ""
    mine = [t for t in tasks.list_tasks(uow, user=caller.name, limit=100) if t.state in UNFINISHED]
    listed = [
        t
        for state in (TaskState.OPEN, TaskState.CLAIMED)
        for t in tasks.list_tasks(uow, queue=chosen or None, state=state, limit=100)
    ]
    listed.sort(key=lambda t: (t.due_at, t.id))
    figures = tasks.work_figures(uow)
    operators = tasks.list_operators(uow)
    return render(
        request,
        "work/tasks.html",
        {
            "mine": mine,
            "listed": listed,
            "queues": queues,
            "chosen": chosen,
            "figures": {f.queue: f for f in figures.queues},
            "loads": {o.user: o for o in figures.operators},
            "operators": operators,
            "my_skills": next((o.skills for o in operators if o.user == caller.name), ()),
            "now": figures.at,
            "manage": caller.may(Permission.ORDERS_MANAGE),
            "me_name": caller.name,
        },
    )


@router.get("/rules", dependencies=[needs(Permission.ORDERS_READ), reach(Reach.UNLIMITED)])
def rule_list(request: Request, caller: Caller) -> Response:
    found = rules.list_rules(console_uow(request))
    bodies = {}
    for rule in found:
        shown = RuleOut.of(rule).model_dump(mode="json")
        body = {k: shown[k] for k in _EDITABLE}
        if rule.every_minutes is not None:
            body["every_minutes"] = rule.every_minutes
        bodies[rule.id] = json.dumps(body, ensure_ascii=False, indent=2)
    example = {
        "name": "Risky new orders",
        "trigger": "order.created",
        "condition": 'channel == "web" and total > 50000 and customer.new',
        "actions": [
            {"do": "hold", "hold_type": "fraud", "reason": "check the buyer"},
            {"do": "assign", "queue": "fraud"},
        ],
    }
    return render(
        request,
        "work/rules.html",
        {
            "rules": found,
            "bodies": bodies,
            "example": json.dumps(example, ensure_ascii=False, indent=2),
            "triggers": sorted(TRIGGERS),
            "manage": caller.may(Permission.ORDERS_MANAGE),
        },
    )
