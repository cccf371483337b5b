"""The pickup-point directory on SQLite and PostgreSQL: СДЭК's delivery points (its simulator)
synced in, synced again without duplicates, a vanished point closed; found by city, words of
the address, and distance; an order placed for a point only the directory knows, then booked
with СДЭК to it; the command line's sync and search."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from potok.bootstrap import Potok
from potok.cli.main import app
from potok.connectors.carriers import CarrierRegistry, SandboxCarrier
from potok.domain.errors import InvalidInput
from potok.domain.fulfilment import ParcelDraft, ParcelLine
from potok.domain.orders import DeliveryMethod
from potok.services import carrier_points
from potok.services.fulfilment import packing, picking, release, tracking
from potok.services.fulfilment.picking import ScanInput
from potok.services.intake import Placement, place_order
from potok.settings import get_settings
from tests.factories import TESTER, build_world, order_command
from tests.integration.test_cdek_connector import carrier_for
from tests.simulators.cdek import CLIENT_ID, CLIENT_SECRET, CdekSimulator

TVERSKAYA = (55.7575, 37.6135)


@pytest.fixture
def directory(potok: Potok, cdek: CdekSimulator) -> Potok:
    potok.carriers = CarrierRegistry([SandboxCarrier(secret="sandbox"), carrier_for(cdek)])
    return potok


def test_points_are_synced_again_without_duplicates_and_vanished_ones_close(
    directory: Potok, cdek: CdekSimulator
) -> None:
    first = carrier_points.sync_points(directory.uow(), directory.carriers, "cdek")
    assert (first.seen, first.added, first.updated, first.closed) == (5, 5, 0, 0)
    again = carrier_points.sync_points(directory.uow(), directory.carriers, "cdek")
    assert (again.seen, again.added, again.updated, again.closed) == (5, 0, 5, 0)
    cdek.offices = cdek.offices[1:]  # MSK123 closed
    third = carrier_points.sync_points(directory.uow(), directory.carriers, "cdek")
    assert (third.seen, third.added, third.updated, third.closed) == (4, 0, 4, 1)
    moscow = carrier_points.find_points(directory.uow(), city="москва")
    assert [f.point.code for f in moscow] == ["MSK456", "MSK789"]
    locker = moscow[1].point
    assert (locker.kind, locker.cash_on_delivery, locker.weight_max_g) == ("POSTAMAT", False, 15000)
    everyone = carrier_points.sync_all(directory.uow(), directory.carriers)
    assert [o.carrier for o in everyone if isinstance(o, carrier_points.SyncOutcome)] == [
        "cdek",
        "sandbox",
    ]


def test_points_are_found_near_coordinates_nearest_first_and_by_words(directory: Potok) -> None:
    carrier_points.sync_all(directory.uow(), directory.carriers)
    near = carrier_points.find_points(directory.uow(), near=TVERSKAYA, radius_km=3)
    assert [(f.point.carrier, f.point.code) for f in near] == [
        ("cdek", "MSK123"),
        ("sandbox", "SBX-MSK-1"),
        ("cdek", "MSK456"),
    ]
    assert (near[0].distance_km or 1.0) < 0.1
    cdek_only = carrier_points.find_points(
        directory.uow(), near=TVERSKAYA, radius_km=10, carrier="cdek"
    )
    assert [f.point.code for f in cdek_only] == ["MSK123", "MSK456", "MSK789"]
    worded = carrier_points.find_points(directory.uow(), text="невский")
    assert sorted(f.point.code for f in worded) == ["SBX-SPB-1", "SPB12"]
    with pytest.raises(InvalidInput):
        carrier_points.find_points(directory.uow())


def test_an_order_names_a_point_only_the_directory_knows_and_ships_there(
    directory: Potok, cdek: CdekSimulator
) -> None:
    build_world(directory, {("MSK", "KET"): 2})
    carrier_points.sync_points(directory.uow(), directory.carriers, "cdek")
    placed = place_order(
        directory.uow(), order_command([("KET", 1)], pickup_point="cdek:MSK456"), TESTER
    )
    assert isinstance(placed, Placement)
    delivery = placed.order.delivery
    assert (delivery.method, delivery.pickup_point_code) == (DeliveryMethod.PICKUP, "MSK456")
    assert (delivery.pickup_point_id, delivery.destination) == (None, (55.735, 37.612))
    with pytest.raises(InvalidInput) as unknown:
        place_order(directory.uow(), order_command([("KET", 1)], pickup_point="NOWHERE"), TESTER)
    assert [e.code for e in unknown.value.errors] == ["unknown-pickup-point"]

    order_id = placed.order.id or 0
    (shipment,) = release.release_order(directory.uow(), order_id, "MSK", TESTER)
    picking.pick(directory.uow(), shipment.id or 0, ScanInput("KET"), TESTER)
    packing.pack_parcel(
        directory.uow(),
        shipment.id or 0,
        ParcelDraft(900, 200, 200, 100, (ParcelLine(1, 1),)),
        TESTER,
    )
    left = tracking.hand_over_to(
        directory.uow(), directory.carriers, shipment.id or 0, TESTER, carrier="cdek"
    )
    assert cdek.by_number(left.tracking_number or "").body["delivery_point"] == "MSK456"


def test_a_point_that_cannot_take_the_orders_weight_is_refused_naming_its_limit(
    directory: Potok, cdek: CdekSimulator
) -> None:
    build_world(directory, {("MSK", "KET"): 20})
    carrier_points.sync_points(directory.uow(), directory.carriers, "cdek")
    heavy = order_command([("KET", 13)], pickup_point="cdek:MSK789")  # 13 x 1.2 kg
    with pytest.raises(InvalidInput) as refused:
        place_order(directory.uow(), heavy, TESTER)
    (error,) = refused.value.errors
    assert (error.field, error.code) == ("delivery.pickup_point", "over-weight-limit")
    assert "cdek point MSK789 takes parcels up to 15 kg; this order weighs 15.6 kg" in str(
        error.message
    )
    light = place_order(
        directory.uow(), order_command([("KET", 12)], pickup_point="cdek:MSK789"), TESTER
    )
    assert isinstance(light, Placement)
    assert light.order.delivery.pickup_point_code == "MSK789"


@pytest.fixture
def cdek_environment(cdek: CdekSimulator) -> Iterator[dict[str, str]]:
    yield {
        "POTOK_CARRIERS__CDEK_URL": cdek.url,
        "POTOK_CARRIERS__CDEK_CLIENT_ID": CLIENT_ID,
        "POTOK_CARRIERS__CDEK_CLIENT_SECRET": CLIENT_SECRET,
        "COLUMNS": "200",
    }
    os.environ.pop("POTOK_DB__URL", None)
    get_settings.cache_clear()


def test_the_command_line_syncs_and_finds_points(
    potok: Potok, database_url: str, cdek_environment: dict[str, str]
) -> None:
    runner = CliRunner()
    listed = runner.invoke(
        app, ["--db", database_url, "carriers", "list", "-o", "csv"], env=cdek_environment
    )
    assert listed.output.split() == ["carrier", "cdek", "sandbox"], listed.output
    synced = runner.invoke(
        app, ["--db", database_url, "carriers", "sync-points", "cdek"], env=cdek_environment
    )
    assert synced.exit_code == 0, synced.output
    assert "cdek: 5 points, 5 new" in synced.output
    found = runner.invoke(
        app,
        ["--db", database_url, "carriers", "points", "--near", "55.7575,37.6135", "-o", "json"],
        env=cdek_environment,
    )
    assert found.exit_code == 0, found.output
    assert [p["code"] for p in json.loads(found.output)] == ["MSK123", "MSK456"]
    bad = runner.invoke(
        app, ["--db", database_url, "carriers", "points", "--near", "north"], env=cdek_environment
    )
    assert bad.exit_code != 0
