"""Cash on delivery on SQLite and PostgreSQL: a packed shipment of an order paid on delivery
is booked with СДЭК and Почта carrying the money to collect - every product packed, its
price, and the delivery charge once - in each carrier's format, to the kopeck; a prepaid
order carries none; an order whose channel stopped taking payment on delivery is refused
before the carrier is asked, the shipment left packed with the reason and an alert."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from potok.bootstrap import Potok
from potok.connectors.carriers import CarrierRegistry, SandboxCarrier
from potok.connectors.carriers.interface import CashOnDeliveryRefused
from potok.domain.alerts import AlertKind
from potok.domain.fulfilment import ParcelDraft, ParcelLine, ShipmentStatus
from potok.domain.orders import Address, DeliveryMethod, PaymentMethod, PaymentStatus
from potok.domain.orders.commands import DeliveryRequest, RecordPayment
from potok.services import alerts, carrier_points, catalogue, orders
from potok.services.fulfilment import packing, picking, reads, release, tracking
from potok.services.fulfilment.picking import ScanInput
from potok.services.intake import Placement, place_order
from tests.factories import CHANNELS, TESTER, build_world, order_command
from tests.integration.test_cdek_connector import carrier_for
from tests.integration.test_pochta import carrier_for as pochta_carrier
from tests.simulators.cdek import CdekSimulator
from tests.simulators.pochta import PochtaSimulator

WEB = next(c for c in CHANNELS if c.code == "web")


@pytest.fixture
def carriers(potok: Potok, cdek: CdekSimulator, pochta: PochtaSimulator) -> Potok:
    potok.carriers = CarrierRegistry(
        [SandboxCarrier(secret="sandbox"), carrier_for(cdek), pochta_carrier(pochta)]
    )
    build_world(potok, {("MSK", "KET"): 10, ("MSK", "MUG"): 10})
    carrier_points.sync_points(potok.uow(), potok.carriers, "cdek")
    return potok


def _packed(
    potok: Potok, method: PaymentMethod | None, *, to: DeliveryRequest, one_box: bool = False
) -> int:
    """An order of two kettles and a mug (5,370.00) with 300.00 for delivery, picked and
    packed in two boxes (or one) at MSK: the shipment's id."""
    command = replace(
        order_command([("KET", 2), ("MUG", 1)]),
        delivery=to,
        payment_method=method,
        customer_name="Анна Петрова",
        customer_phone="+79161234567",
    )
    placed = place_order(potok.uow(), command, TESTER)
    assert isinstance(placed, Placement)
    (shipment,) = release.release_order(potok.uow(), placed.order.id or 0, "MSK", TESTER)
    shipment_id = shipment.id or 0
    for sku in ("KET", "KET", "MUG"):
        picking.pick(potok.uow(), shipment_id, ScanInput(sku), TESTER)
    picked = reads.get_shipment(potok.uow(), shipment_id).shipment
    items = {i.sku: i.item_no for i in picked.items}
    boxes = [
        ParcelDraft(2500, 300, 200, 200, (ParcelLine(items["KET"], 2),)),
        ParcelDraft(400, 150, 150, 120, (ParcelLine(items["MUG"], 1),)),
    ]
    if one_box:
        lines = (ParcelLine(items["KET"], 2), ParcelLine(items["MUG"], 1))
        boxes = [ParcelDraft(2900, 300, 300, 200, lines)]
    for box in boxes:
        packing.pack_parcel(potok.uow(), shipment_id, box, TESTER)
    return shipment_id


TO_POINT = DeliveryRequest(
    DeliveryMethod.PICKUP, pickup_point="cdek:MSK456", price=Decimal("300.00"), vat_rate=Decimal(22)
)
TO_DOOR = DeliveryRequest(
    DeliveryMethod.COURIER,
    address=Address(
        "Тверь", "ул. Советская, 5", postal_code="170100", latitude=56.86, longitude=35.9
    ),
    price=Decimal("300.00"),
    vat_rate=Decimal(22),
)


def _collected(body: dict[str, object]) -> tuple[Decimal, Decimal]:
    """What a СДЭК order asks to collect: for the goods, and for the delivery."""
    goods = sum(
        (
            Decimal(str(item["payment"]["value"])) * item["amount"]  # type: ignore[index]
            for package in body["packages"]  # type: ignore[attr-defined]
            for item in package["items"]
        ),
        Decimal("0.00"),
    )
    delivery = body.get("delivery_recipient_cost") or {"value": 0}
    return goods, Decimal(str(delivery["value"]))  # type: ignore[index]


def test_cdek_collects_each_products_price_and_the_delivery_charge_to_the_kopeck(
    carriers: Potok, cdek: CdekSimulator
) -> None:
    shipment_id = _packed(carriers, PaymentMethod.CASH_ON_DELIVERY, to=TO_POINT)
    booked = tracking.book_shipment(carriers.uow(), carriers.carriers, shipment_id, "cdek", TESTER)
    body = cdek.by_number(booked.tracking_number or "").body
    assert _collected(body) == (Decimal("5370.00"), Decimal("300.00"))
    kettles, mug = (package["items"] for package in body["packages"])
    assert kettles == [
        {
            "name": "Kettle",
            "ware_key": "KET",
            "payment": {"value": 2490.0, "vat_rate": 22, "vat_sum": 449.02},
            "cost": 2490.0,
            "weight": 1250,
            "amount": 2,
        }
    ]
    assert [(i["ware_key"], i["payment"]["value"], i["amount"]) for i in mug] == [("MUG", 390.0, 1)]
    assert body["delivery_recipient_cost"] == {"value": 300.0, "vat_rate": 22, "vat_sum": 54.1}
    assert body["delivery_point"] == "MSK456"


def test_a_prepaid_order_asks_cdek_to_collect_nothing(carriers: Potok, cdek: CdekSimulator) -> None:
    shipment_id = _packed(carriers, PaymentMethod.ONLINE, to=TO_POINT)
    booked = tracking.book_shipment(carriers.uow(), carriers.carriers, shipment_id, "cdek", TESTER)
    body = cdek.by_number(booked.tracking_number or "").body
    assert _collected(body) == (Decimal("0.00"), Decimal("0"))
    assert "delivery_recipient_cost" not in body
    assert [i["cost"] for p in body["packages"] for i in p["items"]] == [2490.0, 390.0]


def test_pochta_collects_the_orders_amount_in_kopecks_within_its_declared_value(
    carriers: Potok, pochta: PochtaSimulator
) -> None:
    shipment_id = _packed(carriers, PaymentMethod.CARD_ON_DELIVERY, to=TO_DOOR, one_box=True)
    booked = tracking.book_shipment(
        carriers.uow(), carriers.carriers, shipment_id, "pochta", TESTER
    )
    (sent,) = (o for o in pochta.orders.values() if o["barcode"] == booked.tracking_number)
    assert sent["mail-category"] == "WITH_DECLARED_VALUE_AND_CASH_ON_DELIVERY"
    assert (sent["payment"], sent["insr-value"]) == (567_000, 567_000)


def test_an_order_its_channel_no_longer_lets_pay_on_delivery_is_refused_before_the_carrier(
    carriers: Potok, cdek: CdekSimulator
) -> None:
    shipment_id = _packed(carriers, PaymentMethod.CASH_ON_DELIVERY, to=TO_POINT)
    prepaid_only = replace(WEB, payment_methods=(PaymentMethod.ONLINE,))
    catalogue.replace_channel(carriers.uow(), "web", prepaid_only)
    asked_before = len(cdek.orders)
    with pytest.raises(CashOnDeliveryRefused) as refused:
        tracking.book_shipment(carriers.uow(), carriers.carriers, shipment_id, "cdek", TESTER)
    assert refused.value.code == "cash-on-delivery-refused"
    assert len(cdek.orders) == asked_before  # СДЭК was never asked
    seen = reads.get_shipment(carriers.uow(), shipment_id)
    assert (seen.shipment.status, seen.shipment.tracking_number) == (ShipmentStatus.PACKED, None)
    assert seen.steps[-1].action == "booking_refused"
    assert "no longer takes cash_on_delivery" in (seen.steps[-1].reason or "")
    (alert,) = alerts.list_alerts(carriers.uow()).items
    assert (alert.kind, alert.order_id) == (
        AlertKind.CARRIER_REFUSED_BOOKING,
        seen.shipment.order_id,
    )
    assert "not booked with cdek" in alert.message
    # the customer pays online after all: nothing left to collect, and it ships
    record_paid(carriers, seen.shipment.order_id)
    booked = tracking.book_shipment(carriers.uow(), carriers.carriers, shipment_id, "cdek", TESTER)
    assert _collected(cdek.by_number(booked.tracking_number or "").body) == (
        Decimal("0.00"),
        Decimal("0"),
    )


def record_paid(potok: Potok, order_id: int) -> None:
    orders.record_payment(
        potok.uow(), RecordPayment(order_id, PaymentStatus.PAID, "paid by card online"), TESTER
    )
