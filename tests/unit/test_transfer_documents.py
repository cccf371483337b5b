"""The transfer and purchase order aggregates: their state tables and the rules of their lines."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from potok.domain.errors import InvalidInput
from potok.domain.inventory.purchasing import (
    PURCHASE_ORDER,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderReceived,
    PurchaseOrderStatus,
)
from potok.domain.inventory.transfers import (
    TRANSFER,
    Receipt,
    Transfer,
    TransferLine,
    TransferReceived,
    TransferStatus,
)
from potok.domain.kernel import ProductId, WarehouseId
from potok.domain.machine import IllegalTransition

AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def transfer(*quantities: int) -> Transfer:
    return Transfer(
        number="TR-000001",
        from_warehouse_id=WarehouseId(1),
        from_warehouse="MSK",
        to_warehouse_id=WarehouseId(2),
        to_warehouse="SPB",
        status=TransferStatus.REQUESTED,
        lines=[
            TransferLine(n, ProductId(n), f"SKU{n}", q) for n, q in enumerate(quantities, start=1)
        ],
        created_by="user:tester",
        created_at=AT,
        updated_at=AT,
    )


def codes(error: pytest.ExceptionInfo[InvalidInput]) -> dict[str, str]:
    return {e.field: e.code for e in error.value.errors}


def test_the_transfer_table_allows_only_the_documented_moves() -> None:
    allowed = {
        (a.value, b.value) for a in TransferStatus for b in TransferStatus if TRANSFER.allows(a, b)
    }
    assert allowed == {
        ("requested", "shipped"),
        ("requested", "cancelled"),
        ("shipped", "received"),
    }


def test_a_shipment_defaults_to_the_requested_quantities_and_never_exceeds_them() -> None:
    moving = transfer(5, 2)

    assert moving.plan_shipment({1: 3}) == {1: 3, 2: 2}
    with pytest.raises(InvalidInput) as too_many:
        moving.plan_shipment({2: 3, 9: 1})
    with pytest.raises(InvalidInput) as nothing:
        moving.plan_shipment({1: 0, 2: 0})

    assert codes(too_many) == {
        "lines[0].quantity": "more-than-requested",
        "lines[1].line_no": "unknown-line",
    }
    assert codes(nothing) == {"lines": "nothing"}


def test_a_receipt_that_differs_needs_a_reason_and_is_reported_as_a_discrepancy() -> None:
    moving = transfer(5, 2)
    with pytest.raises(IllegalTransition):
        moving.plan_receipt({})
    moving.ship(moving.plan_shipment({}), AT)
    with pytest.raises(InvalidInput) as unexplained:
        moving.plan_receipt({1: Receipt(4)})

    differing = moving.receive(moving.plan_receipt({1: Receipt(4, "broken")}), AT)

    assert codes(unexplained) == {"lines[0].reason": "reason-required"}
    assert [(line.line_no, line.discrepancy, line.discrepancy_reason) for line in differing] == [
        (1, -1, "broken")
    ]
    assert moving.status is TransferStatus.RECEIVED
    received = moving.events[-1]
    assert isinstance(received, TransferReceived)
    assert received.event_type() == "transfer.received"
    assert received.discrepancies[0]["difference"] == -1
    with pytest.raises(IllegalTransition):
        moving.cancel(AT, "too late")


def test_a_purchase_order_is_received_in_parts_and_refuses_more_than_ordered() -> None:
    order = PurchaseOrder(
        number="PO-000001",
        supplier="Acme",
        warehouse_id=WarehouseId(1),
        warehouse="MSK",
        status=PurchaseOrderStatus.OPEN,
        lines=[PurchaseOrderLine(1, ProductId(1), "KET", 10)],
        created_by="user:tester",
        created_at=AT,
        updated_at=AT,
    )
    order.check_receipt({1: 4}, allow_over=False)
    order.receive({1: 4}, AT)
    assert order.status is PurchaseOrderStatus.PARTIALLY_RECEIVED
    with pytest.raises(InvalidInput) as over:
        order.check_receipt({1: 7}, allow_over=False)
    order.check_receipt({1: 7}, allow_over=True)
    order.receive({1: 7}, AT)

    assert codes(over) == {"lines[0].quantity": "over-receipt"}
    assert order.status is PurchaseOrderStatus.RECEIVED
    assert order.lines[0].outstanding == 0
    assert PurchaseOrderReceived.event_type() == "purchase_order.received"
    assert not PURCHASE_ORDER.allows(PurchaseOrderStatus.RECEIVED, PurchaseOrderStatus.CANCELLED)
    with pytest.raises(IllegalTransition):
        order.check_receipt({1: 1}, allow_over=True)
