"""A small world for tests: three warehouses, a store, a pickup point, channels, products.

``build_world`` works through the services (integration tests); ``build_world_api`` through
the HTTP API (e2e tests). Both make the same world.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from potok.bootstrap import Potok
from potok.domain.catalogue import ProductDraft
from potok.domain.channels import BackorderPolicy, ChannelDraft, ChannelType, ConfirmationPolicy
from potok.domain.inventory.commands import ReceiveStock
from potok.domain.kernel import Actor, ActorKind
from potok.domain.network import WarehouseDraft, WarehouseType
from potok.domain.orders import Address, DeliveryMethod
from potok.domain.orders.commands import DeliveryRequest, LineRequest, PlaceOrder
from potok.services import catalogue, inventory

TESTER = Actor(ActorKind.USER, "tester")

MOSCOW = (55.7558, 37.6173)
TVER = (56.8587, 35.9176)  # nearer Moscow than St Petersburg
VYBORG = (60.7139, 28.7572)  # nearer St Petersburg

CHANNELS = [
    ChannelDraft("web", "Site", ChannelType.WEB),
    ChannelDraft(
        "mp",
        "Marketplace",
        ChannelType.MARKETPLACE,
        backorders=BackorderPolicy.REJECT,
        safety_buffer=2,
    ),
    ChannelDraft("phone", "Call centre", ChannelType.PHONE, confirmation=ConfirmationPolicy.MANUAL),
    ChannelDraft(
        "app",
        "App",
        ChannelType.APP,
        confirmation=ConfirmationPolicy.WHEN_PAID,
        payment_deadline_minutes=30,
    ),
]

ALL = ("web", "mp", "phone", "app")
WAREHOUSES = [
    WarehouseDraft(
        "MSK",
        "Moscow DC",
        WarehouseType.WAREHOUSE,
        "Москва",
        55.66,
        37.86,
        priority=5,
        channels=ALL,
    ),
    WarehouseDraft(
        "SPB",
        "St Petersburg DC",
        WarehouseType.WAREHOUSE,
        "Санкт-Петербург",
        59.80,
        30.38,
        priority=3,
        channels=ALL,
    ),
    WarehouseDraft(
        "KZN", "Kazan DC", WarehouseType.WAREHOUSE, "Казань", 55.75, 49.21, channels=ALL
    ),
    WarehouseDraft(
        "MSK-S",
        "Moscow store",
        WarehouseType.STORE,
        "Москва",
        55.7648,
        37.6055,
        channels=("web", "phone"),
    ),
    WarehouseDraft(
        "MSK-P", "Moscow pickup point", WarehouseType.PICKUP_POINT, "Москва", 55.7494, 37.5912
    ),
]

PRODUCTS = [
    ProductDraft("KET", "Kettle", Decimal("2490.00"), Decimal("22"), "4601234567893", 1200),
    ProductDraft("MUG", "Mug", Decimal("390.00"), Decimal("22"), None, 330),
    ProductDraft("TOY", "Toy bear", Decimal("990.00"), Decimal("10"), None, 300),
    ProductDraft("BKS", "ABC book", Decimal("450.00"), Decimal("10"), None, 400),
]


def build_world(potok: Potok, stock: dict[tuple[str, str], int] | None = None) -> None:
    for channel in CHANNELS:
        catalogue.create_channel(potok.uow(), channel)
    for warehouse in WAREHOUSES:
        catalogue.create_warehouse(potok.uow(), warehouse)
    for product in PRODUCTS:
        catalogue.create_product(potok.uow(), product)
    for (warehouse, sku), quantity in (stock or {}).items():
        inventory.receive_stock(potok.uow(), ReceiveStock(warehouse, sku, quantity), TESTER)


def order_command(
    lines: list[tuple[str, int]],
    *,
    channel: str = "web",
    to: tuple[float, float] | None = TVER,
    external_id: str | None = None,
    pickup_point: str | None = None,
    region: str = "",
    **extra: Any,
) -> PlaceOrder:
    if pickup_point is not None:
        delivery = DeliveryRequest(DeliveryMethod.PICKUP, pickup_point=pickup_point)
    else:
        address = Address(
            "Тверь",
            "ул. Советская, 1",
            region=region,
            latitude=to[0] if to else None,
            longitude=to[1] if to else None,
        )
        delivery = DeliveryRequest(DeliveryMethod.COURIER, address=address)
    return PlaceOrder(
        channel=channel,
        lines=[LineRequest(sku, quantity) for sku, quantity in lines],
        delivery=delivery,
        external_id=external_id,
        **extra,
    )


# ---------------------------------------------------------------------- through the API


def build_world_api(client: httpx.Client, stock: dict[tuple[str, str], int] | None = None) -> None:
    for channel in CHANNELS:
        body = {
            "code": channel.code,
            "name": channel.name,
            "type": channel.type.value,
            "confirmation": channel.confirmation.value,
            "backorders": channel.backorders.value,
            "safety_buffer": channel.safety_buffer,
            "payment_deadline_minutes": channel.payment_deadline_minutes,
        }
        client.post("/api/v1/channels", json=body).raise_for_status()
    for w in WAREHOUSES:
        body = {
            "code": w.code,
            "name": w.name,
            "type": w.type.value,
            "city": w.city,
            "latitude": w.latitude,
            "longitude": w.longitude,
            "priority": w.priority,
            "channels": list(w.channels),
        }
        client.post("/api/v1/warehouses", json=body).raise_for_status()
    for p in PRODUCTS:
        body = {
            "sku": p.sku,
            "name": p.name,
            "price": str(p.price),
            "vat_rate": str(p.vat_rate),
            "barcode": p.barcode,
            "weight_g": p.weight_g,
        }
        client.post("/api/v1/products", json=body).raise_for_status()
    for (warehouse, sku), quantity in (stock or {}).items():
        client.post(
            "/api/v1/stock/receipts",
            json={"warehouse": warehouse, "sku": sku, "quantity": quantity},
        ).raise_for_status()


def order_body(
    lines: list[tuple[str, int]],
    *,
    channel: str = "web",
    to: tuple[float, float] = TVER,
    external_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": channel,
        "delivery": {
            "method": "courier",
            "address": {
                "city": "Тверь",
                "line1": "ул. Советская, 1",
                "latitude": to[0],
                "longitude": to[1],
            },
        },
        "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines],
        "customer": {
            "name": "Анна Смирнова",
            "phone": "+7 916 123-45-67",
            "email": "anna@example.ru",
        },
    }
    if external_id is not None:
        body["external_id"] = external_id
    body.update(extra)
    return body
