"""The reactions registry is the one place that says "when X happens, do Y"."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from potok.domain.triggers import (
    OrdersDisplaced,
    OrdersLeftShort,
    ParcelCameBack,
    StockFiguresMoved,
    StockFreed,
    Trigger,
)
from potok.services.reactions import (
    AFTER_COMMIT,
    REACTIONS,
    EventReaction,
    Phase,
    Reaction,
    check_registry,
)

SRC = Path(__file__).resolve().parents[2] / "src" / "potok"

# what other areas may only reach through the registry, and where each is defined
REACTION_ENTRY_POINTS = {
    "retry_backorders": "services/allocation.py",
    "resource": "services/allocation.py",
    "raise_alerts": "services/alerts.py",
    "check_minimums": "services/replenishment.py",
    "open_unclaimed_return": "services/returns/unclaimed.py",
}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            names.update(alias.name for alias in node.names)
    return names


def test_no_module_but_the_registry_imports_a_reaction_entry_point() -> None:
    offenders = [
        f"{path.relative_to(SRC)} imports {name}"
        for path in sorted(SRC.rglob("*.py"))
        if path.relative_to(SRC).as_posix() != "services/reactions.py"
        for name in sorted(_imports(path) & REACTION_ENTRY_POINTS.keys())
    ]
    assert offenders == []


def test_the_entry_points_still_live_where_the_guard_looks_for_them() -> None:
    for name, home in REACTION_ENTRY_POINTS.items():
        tree = ast.parse((SRC / home).read_text(encoding="utf-8"))
        defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        assert name in defined, f"{name} moved out of {home}: update the guard"


def test_the_registry_says_what_follows_each_trigger_in_order() -> None:
    table = {kind: [r.name for r in reactions] for kind, reactions in REACTIONS.items()}
    assert table == {
        OrdersDisplaced: ["resource_displaced_orders"],
        OrdersLeftShort: ["alert_operators_of_shortage"],
        StockFreed: ["retry_backorders_on_stock_freed"],
        StockFiguresMoved: ["announce_minimum_crossings"],
        ParcelCameBack: ["open_return_for_unclaimed_parcel"],
    }
    assert {r.phase for rs in REACTIONS.values() for r in rs} == {Phase.IN_TRANSACTION}
    check_registry()


def test_a_trigger_without_a_reaction_is_refused_at_start_up() -> None:
    partial = {k: v for k, v in REACTIONS.items() if k is not StockFreed}
    with pytest.raises(LookupError, match="StockFreed"):
        check_registry(partial)


def test_a_live_trigger_cannot_wait_for_the_commit() -> None:
    (reaction,) = REACTIONS[StockFreed]
    late = Reaction(reaction.handler, Phase.AFTER_COMMIT, "it may wait")
    with pytest.raises(ValueError, match="retry_backorders_on_stock_freed"):
        check_registry({**REACTIONS, StockFreed: (late,)})


def test_a_reaction_must_say_why_it_runs_where_it_does() -> None:
    (reaction,) = REACTIONS[OrdersLeftShort]
    silent = Reaction(reaction.handler, Phase.IN_TRANSACTION, "")
    with pytest.raises(ValueError, match="alert_operators_of_shortage"):
        check_registry({**REACTIONS, OrdersLeftShort: (silent,)})


def test_every_trigger_is_a_registered_kind() -> None:
    assert set(Trigger.__subclasses__()) == set(REACTIONS)


def test_customer_messages_wait_for_the_commit_on_their_own_cursor() -> None:
    (notify,) = [r for r in AFTER_COMMIT if r.consumer == "notifications"]
    assert notify.consumer == "notifications"
    assert "order.created" in notify.types
    assert "return.refund_changed" in notify.types


def test_marketplace_stock_is_pushed_after_commit_on_a_cursor_per_connection() -> None:
    [push] = [r for r in AFTER_COMMIT if r.consumer.startswith("marketplace-stock/")]
    assert {"stock.changed", "stock.reserved", "stock.released"} <= set(push.types)


def test_a_cancelled_booking_is_called_off_with_the_carrier_after_the_commit() -> None:
    by_consumer = {r.consumer: r for r in AFTER_COMMIT}
    call_off = by_consumer["reaction:call_off_carrier_booking"]
    assert call_off.types == ("shipment.cancelled",)
    assert call_off.handler is not None
    assert call_off.handler.__name__ == "call_off_carrier_booking"


def test_an_after_commit_reaction_to_an_unknown_event_is_refused_at_start_up() -> None:
    (call_off,) = [r for r in AFTER_COMMIT if r.consumer == "reaction:call_off_carrier_booking"]
    wrong = EventReaction("reaction:x", ("shipment.teleported",), "x", "y", call_off.handler)
    with pytest.raises(LookupError, match="teleported"):
        check_registry(after_commit=(*AFTER_COMMIT, wrong))
    with pytest.raises(ValueError, match="share a cursor"):
        check_registry(after_commit=(*AFTER_COMMIT, call_off))


def test_orders_are_told_to_a_crm_after_commit_on_a_cursor_per_connection() -> None:
    [push] = [r for r in AFTER_COMMIT if r.consumer.startswith("crm-orders/")]
    assert {"order.created", "order.status_changed", "order.payment_changed"} <= set(push.types)
    assert push.handler is None  # the dispatcher pushes it (services/marketplaces/crm_orders.py)
