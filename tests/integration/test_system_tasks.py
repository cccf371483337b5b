"""Tasks Potok opens by itself, through the reactions registry after the commit: a
backordered order, a failed delivery, a return received, a connector's refusal each become
a task in the queue of a fixed code when the shop has set that queue up - once, however
often the reaction runs - and none when it has not."""

from __future__ import annotations

from datetime import timedelta

from potok.bootstrap import Potok
from potok.connectors.carriers import TrackingStatus
from potok.domain.access import Role
from potok.domain.alerts import AlertKind
from potok.domain.alerts.events import AlertRaised
from potok.domain.tasks import Policy, QueueDraft
from potok.services import tasks
from potok.services.returns import handling, requests
from potok.services.returns.requests import RequestReturn, ReturnLineRequest
from potok.services.unit_of_work import UnitOfWork, atomically
from tests.auth import make_user
from tests.factories import TESTER, build_world
from tests.integration.test_automation_rules import drain, place
from tests.integration.test_returns import T0, Clock, _handed_over, _track


def queues(potok: Potok, *codes: str) -> None:
    make_user(potok, "anna", Role.OPERATOR)
    for code in codes:
        tasks.put_queue(potok.uow(), QueueDraft(code, code, Policy.ROUND_ROBIN, ("anna",), 60))


def titles(potok: Potok, queue: str) -> list[tuple[int | None, str, str | None]]:
    return [
        (t.order_id, t.title, t.assignee)
        for t in tasks.list_tasks(potok.uow(), queue=queue, limit=50)
    ]


def test_a_backordered_order_becomes_a_task_once_and_none_without_the_queue(
    potok: Potok,
) -> None:
    build_world(potok, {("MSK", "KET"): 1, ("MSK", "MUG"): 5})
    before = place(potok, [("KET", 3)])  # no queue yet: no task
    drain(potok)
    queues(potok, "backorders")
    short = place(potok, [("KET", 2), ("MUG", 1)])
    place(potok, [("MUG", 1)])  # reserved whole: nothing to decide
    drain(potok)
    drain(potok)

    assert titles(potok, "backorders") == [
        (short, "Taken without the stock for it: wait, split or cancel", "anna")
    ]
    assert before != short


def test_a_failed_delivery_a_return_and_a_connector_refusal_open_tasks(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 5})
    queues(potok, "failed-delivery", "return-inspection", "connector-errors")
    clock = Clock(T0)
    order_id, shipment_id, number = _handed_over(potok, [("KET", 1)], clock)
    _track(potok, number, TrackingStatus.FAILED_DELIVERY, T0 + timedelta(days=1), "f1")
    ret = requests.request_return(
        potok.uow(),
        RequestReturn(order_id, [ReturnLineRequest(1, 1, "defective")], approve=True),
        TESTER,
    )
    handling.receive_return(potok.uow(), ret.number, "MSK", TESTER)

    def refused(uow: UnitOfWork) -> None:
        alert = uow.alerts.add(AlertKind.CARRIER_REFUSED_BOOKING, order_id, "СДЭК: no", T0)
        uow.record(
            AlertRaised(
                occurred_at=T0,
                alert_id=alert.id,
                kind=alert.kind.value,
                order_id=order_id,
                message="СДЭК refused the booking: no such point",
            )
        )
        other = uow.alerts.add(AlertKind.TASK_OVERDUE, order_id, "late", T0)
        uow.record(
            AlertRaised(
                occurred_at=T0, alert_id=other.id, kind=other.kind.value, order_id=None, message="x"
            )
        )

    atomically(potok.uow(), refused)
    drain(potok)
    drain(potok)

    (failed,) = titles(potok, "failed-delivery")
    assert failed[0] == order_id
    assert failed[1].startswith(f"Failed delivery of shipment {shipment_id} (own:")
    assert titles(potok, "return-inspection") == [
        (order_id, f"Inspect return {ret.number}", "anna")
    ]
    assert titles(potok, "connector-errors") == [
        (order_id, "СДЭК refused the booking: no such point", "anna")
    ]
    created = {
        t.created_by
        for q in ("failed-delivery", "return-inspection")
        for t in tasks.list_tasks(potok.uow(), queue=q)
    }
    assert created == {"system:potok"}
