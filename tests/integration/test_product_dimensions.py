"""Products' dimensions, on SQLite and PostgreSQL: kept in the catalogue (files in Russian
headers too, all three sides or none), they size the box carriers price before a shipment
is packed (СДЭК's tariff request, checked against its document, carries them), and an order
for a locker none of whose cells holds one of its products is refused at intake."""

from __future__ import annotations

import dataclasses
import io
from dataclasses import replace
from decimal import Decimal

import pytest

from potok.bootstrap import Potok
from potok.domain.catalogue.model import unpacked_box
from potok.domain.errors import InvalidInput
from potok.domain.orders import DeliveryMethod
from potok.domain.orders.commands import DeliveryRequest
from potok.services import catalogue, catalogue_files
from potok.services.fulfilment import picking, release, tracking
from potok.services.intake import Placement, place_order
from potok.spreadsheets import FileFormat
from tests.factories import TESTER, order_command
from tests.integration.test_cash_on_delivery import carriers as carriers
from tests.simulators.cdek import CdekSimulator

LOCKER = DeliveryRequest(DeliveryMethod.PICKUP, pickup_point="cdek:MSK789", price=Decimal("0"))


def _sized(potok: Potok, sku: str, sides: tuple[int, int, int]) -> None:
    current = catalogue.get_product(potok.uow(), sku)
    draft = catalogue_files.draft_of(current)
    length, width, height = sides
    catalogue.replace_product(
        potok.uow(),
        sku,
        dataclasses.replace(draft, length_mm=length, width_mm=width, height_mm=height),
    )


def test_a_box_of_units_is_as_long_and_wide_as_the_largest_and_stacks_them() -> None:
    assert unpacked_box([((300, 200, 200), 2), ((150, 150, 120), 1)]) == (300, 200, 520)
    assert unpacked_box([]) == (0, 0, 0)


def test_dimensions_come_from_files_all_three_or_none(carriers: Potok) -> None:
    table = 'артикул,"длина, мм","ширина, мм","высота, мм"\nKET,250,200,300\nMUG,,,\n'
    _, problems = catalogue_files.import_products(
        carriers.uow(), io.BytesIO(table.encode()), FileFormat.CSV
    )
    assert problems == []
    kettle = catalogue.get_product(carriers.uow(), "KET")
    assert (kettle.length_mm, kettle.width_mm, kettle.height_mm) == (250, 200, 300)
    assert kettle.sides_mm == (300, 250, 200)
    assert catalogue.get_product(carriers.uow(), "MUG").sides_mm is None
    draft = catalogue_files.draft_of(kettle)
    with pytest.raises(InvalidInput) as partial:
        catalogue.replace_product(carriers.uow(), "KET", replace(draft, height_mm=0))
    assert [(e.field, e.code) for e in partial.value.errors] == [
        ("length_mm", "partial-dimensions")
    ]
    with pytest.raises(InvalidInput) as huge:
        catalogue.replace_product(carriers.uow(), "KET", replace(draft, length_mm=3001))
    assert [(e.field, e.code) for e in huge.value.errors] == [("length_mm", "out-of-range")]


def test_carriers_price_the_products_own_box_before_packing(
    carriers: Potok, cdek: CdekSimulator
) -> None:
    _sized(carriers, "KET", (300, 200, 200))
    _sized(carriers, "MUG", (120, 150, 150))
    placed = place_order(carriers.uow(), replace(order_command([("KET", 2), ("MUG", 1)])), TESTER)
    assert isinstance(placed, Placement)
    (shipment,) = release.release_order(carriers.uow(), placed.order.id or 0, "MSK", TESTER)
    picking.start_picking(carriers.uow(), shipment.id or 0, TESTER)  # its units known, unpacked
    tracking.quotes(carriers.uow(), carriers.carriers, shipment.id or 0)
    (asked,) = [c.body for c in cdek.calls("/v2/calculator/tarifflist")]
    # 30 × 20 cm, the two kettles (20 cm) and the mug (12 cm) stacked: 52 cm
    assert [(p["length"], p["width"], p["height"]) for p in asked["packages"]] == [(30, 20, 52)]
    assert cdek.invalid == []


def test_a_locker_whose_cells_hold_none_of_a_product_is_refused_at_intake(
    carriers: Potok,
) -> None:
    _sized(carriers, "KET", (700, 300, 300))  # MSK789's largest cell: 60 × 40 × 40 cm
    with pytest.raises(InvalidInput) as refused:
        place_order(carriers.uow(), replace(order_command([("KET", 1)]), delivery=LOCKER), TESTER)
    (error,) = refused.value.errors
    assert (error.field, error.code) == ("delivery.pickup_point", "does-not-fit-cells")
    assert "KET (70×30×30 cm) fits no cell of cdek locker MSK789" in error.message
    _sized(carriers, "KET", (300, 200, 200))
    placed = place_order(
        carriers.uow(), replace(order_command([("KET", 1)]), delivery=LOCKER), TESTER
    )
    assert isinstance(placed, Placement)
