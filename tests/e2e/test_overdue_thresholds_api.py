"""Administrators change how long a shipment may sit in each warehouse stage before the
dashboard names it: bounded minutes, every change kept with who made it, and the
dashboard lists by the threshold in force."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import sqlalchemy as sa

from potok.db.tables import shipments
from potok.domain.access import Role
from potok.services import intake
from potok.services.dashboard import dashboard
from potok.services.read_models import OrderFilter
from tests.auth import make_user, sign_in
from tests.conftest import LiveServer
from tests.factories import TESTER, build_world, order_command
from tests.problems import field_codes, problem

PATH = "/api/v1/overdue-thresholds"


def stuck_for(live: LiveServer, api: httpx.Client, age: timedelta) -> int:
    """A shipment waiting for picking, untouched for ``age``; its order's number."""
    placed = intake.place_order(
        live.potok.uow(), order_command([("KET", 1)], channel="web"), TESTER
    )
    assert isinstance(placed, intake.Placement)
    assert placed.order.id is not None
    made = api.post(f"/api/v1/orders/{placed.order.id}/shipments", json={"warehouse": "MSK"})
    assert made.status_code == 201, made.text
    with live.potok.engine.begin() as connection:  # as if nobody had touched it since
        connection.execute(
            sa.update(shipments)
            .where(shipments.c.order_id == placed.order.id)
            .values(updated_at=datetime.now(UTC) - age)
        )
    return placed.order.id


def overdue_orders(live: LiveServer) -> list[int]:
    found = dashboard(live.potok.uow(), OrderFilter(), since=datetime.now(UTC) - timedelta(days=1))
    return [s.order_id for s in found.overdue]


def test_an_admin_changes_a_stage_threshold_and_the_dashboard_follows(
    live: LiveServer, api: httpx.Client
) -> None:
    build_world(live.potok, {("MSK", "KET"): 10})
    make_user(live.potok, "ada", Role.ADMIN)
    make_user(live.potok, "olga", Role.OPERATOR)
    admin = sign_in(live.url, "ada")
    operator = sign_in(live.url, "olga")

    listed = operator.request("GET", PATH)
    assert listed.status_code == 200, listed.text
    assert [
        (t["stage"], t["minutes"], t["default"], t["changed"], t["history"]) for t in listed.json()
    ] == [
        ("pending", 1440, 1440, False, []),
        ("picking", 1440, 1440, False, []),
        ("packed", 1440, 1440, False, []),
        ("handed_over", 2880, 2880, False, []),
        ("in_transit", 10080, 10080, False, []),
        ("ready_for_pickup", 10080, 10080, False, []),
        ("failed_delivery", 2880, 2880, False, []),
        ("returning", 20160, 20160, False, []),
    ]
    three_hours = stuck_for(live, api, timedelta(hours=3))
    two_days = stuck_for(live, api, timedelta(days=2))
    assert overdue_orders(live) == [two_days]  # the default: a day

    for wrong in (4, 43_201, -1, "soon", 1.5, None):
        refused = problem(
            admin.request("PUT", f"{PATH}/pending", json={"minutes": wrong}), 422, "invalid-input"
        )
        assert set(field_codes(refused)) == {"minutes"}, refused
    refused = problem(
        admin.request("PUT", f"{PATH}/delivered", json={"minutes": 60}), 422, "invalid-input"
    )
    assert "stage" in str(refused["errors"]), refused
    # operators and API keys read the thresholds but may not change them
    problem(operator.request("PUT", f"{PATH}/pending", json={"minutes": 60}), 403, "forbidden")
    problem(api.put(f"{PATH}/pending", json={"minutes": 60}), 403, "forbidden")

    saved = admin.request("PUT", f"{PATH}/pending", json={"minutes": 120})
    assert saved.status_code == 200, saved.text
    assert (saved.json()["minutes"], saved.json()["changed"]) == (120, True)
    assert overdue_orders(live) == [two_days, three_hours]
    again = admin.request("PUT", f"{PATH}/pending", json={"minutes": 4 * 24 * 60})
    assert again.status_code == 200, again.text
    assert overdue_orders(live) == []

    pending = next(t for t in api.get(PATH).json() if t["stage"] == "pending")
    assert pending["minutes"] == 5760
    assert [(c["version"], c["minutes"], c["created_by"]) for c in pending["history"]] == [
        (2, 5760, "user:ada"),
        (1, 120, "user:ada"),
    ]
    others = [t for t in api.get(PATH).json() if t["stage"] != "pending"]
    assert [(t["minutes"], t["changed"]) for t in others] == [
        (1440, False),
        (1440, False),
        (2880, False),
        (10080, False),
        (10080, False),
        (2880, False),
        (20160, False),
    ]


def late_orders(live: LiveServer) -> list[int]:
    found = dashboard(live.potok.uow(), OrderFilter(), since=datetime.now(UTC) - timedelta(days=1))
    return [s.order_id for s in found.late_with_carrier]


def test_the_later_stages_have_thresholds_of_their_own(live: LiveServer, api: httpx.Client) -> None:
    """A parcel with the carrier for three days is not late in transit (a week), but is late
    with no news since hand-over (two days) - until an administrator allows four days."""
    build_world(live.potok, {("MSK", "KET"): 10})
    make_user(live.potok, "ada", Role.ADMIN)
    admin = sign_in(live.url, "ada")
    in_transit, handed_over = (
        stuck_for(live, api, timedelta(days=3)),
        stuck_for(live, api, timedelta(days=3)),
    )
    with live.potok.engine.begin() as connection:  # moved on, and untouched for three days
        for number, status in ((in_transit, "in_transit"), (handed_over, "handed_over")):
            connection.execute(
                sa.update(shipments).where(shipments.c.order_id == number).values(status=status)
            )
    assert overdue_orders(live) == []  # no longer at the warehouse
    assert late_orders(live) == [handed_over]

    saved = admin.request("PUT", f"{PATH}/handed_over", json={"minutes": 4 * 24 * 60})
    assert saved.status_code == 200, saved.text
    assert (saved.json()["minutes"], saved.json()["default"]) == (5760, 2880)
    assert late_orders(live) == []
    saved = admin.request("PUT", f"{PATH}/in_transit", json={"minutes": 2 * 24 * 60})
    assert saved.status_code == 200, saved.text
    assert late_orders(live) == [in_transit]
