"""The pickup-point directory: each carrier's points synced into Potok (on a schedule and on
demand), found by city, words of the address, or distance from a point for a checkout, and
checked when an order names one."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from potok.connectors.carriers.interface import PickupPoint
from potok.connectors.carriers.registry import CarrierRegistry
from potok.domain.errors import FieldError, InvalidInput
from potok.domain.kernel import Clock, utc_now
from potok.domain.sourcing.geo import distance_km
from potok.services.carrier_point_ports import Box, DirectoryPoint
from potok.services.unit_of_work import UnitOfWork, atomically, reading

ALL = 200_000  # more points than any carrier has
KM_PER_DEGREE = 111.2


@dataclass(frozen=True, slots=True)
class SyncOutcome:
    """What one carrier's sync changed."""

    carrier: str
    seen: int
    added: int
    updated: int
    closed: int


@dataclass(frozen=True, slots=True)
class FoundPoint:
    """A point of a search, with its distance from the search's centre when one was given."""

    point: DirectoryPoint
    distance_km: float | None


def sync_points(
    uow: UnitOfWork, carriers: CarrierRegistry, carrier: str, *, clock: Clock = utc_now
) -> SyncOutcome:
    """Fetch the carrier's points (outside any transaction) and keep them: new ones added,
    known ones updated, the ones the carrier no longer lists closed."""
    adapter = carriers.get(carrier)
    fetched = adapter.pickup_points(limit=ALL)
    at = clock()
    points = [_directory(carrier, p, at) for p in _unique(fetched)]

    def work(uow: UnitOfWork) -> SyncOutcome:
        added, updated = uow.carrier_points.upsert(points)
        closed = uow.carrier_points.close_missing(carrier, at)
        return SyncOutcome(carrier, len(points), added, updated, closed)

    return atomically(uow, work)


def sync_all(
    uow: UnitOfWork, carriers: CarrierRegistry, *, clock: Clock = utc_now
) -> list[SyncOutcome | tuple[str, str]]:
    """Every carrier's points; a carrier that fails is reported (code, reason), the others
    are synced all the same."""
    done: list[SyncOutcome | tuple[str, str]] = []
    for code in carriers.codes:
        try:
            done.append(sync_points(uow, carriers, code, clock=clock))
        except Exception as error:  # one carrier down leaves the others' points fresh
            done.append((code, f"{type(error).__name__}: {error}"))
    return done


def find_points(
    uow: UnitOfWork,
    *,
    carrier: str | None = None,
    city: str | None = None,
    near: tuple[float, float] | None = None,
    radius_km: float = 5.0,
    text: str | None = None,
    limit: int = 20,
) -> list[FoundPoint]:
    """Active points by carrier, city and words of their address or name; around ``near``
    within ``radius_km``, nearest first."""
    if near is None and city is None and not text:
        raise InvalidInput(
            [FieldError("city", "name a city, words of the address, or coordinates", "required")]
        )
    box = _box(near, radius_km) if near is not None else None

    def read(uow: UnitOfWork) -> list[DirectoryPoint]:
        return uow.carrier_points.search(
            carrier=carrier,
            city=city,
            box=box,
            text=text,
            limit=limit if near is None else ALL,
        )

    found = reading(uow, read)
    if near is None:
        return [FoundPoint(p, None) for p in found]
    measured = [FoundPoint(p, distance_km(near, (p.latitude, p.longitude))) for p in found]
    close = sorted(
        (f for f in measured if f.distance_km is not None and f.distance_km <= radius_km),
        key=lambda f: (f.distance_km, f.point.carrier, f.point.code),
    )
    return close[:limit]


def point_for_delivery(uow: UnitOfWork, code: str) -> DirectoryPoint | None:
    """The active directory point an order names as ``carrier:code`` or by a code only one
    carrier uses; None when there is none."""
    carrier, _, own = code.partition(":")
    if own:
        point = uow.carrier_points.get(carrier, own)
        return point if point is not None and point.active else None
    matches = [
        p
        for c in uow.carrier_points.carriers_of(code)
        if (p := uow.carrier_points.get(c, code)) is not None and p.active
    ]
    return matches[0] if len(matches) == 1 else None


def _box(centre: tuple[float, float], radius_km: float) -> Box:
    lat, lon = centre
    d_lat = radius_km / KM_PER_DEGREE
    d_lon = radius_km / (KM_PER_DEGREE * max(math.cos(math.radians(lat)), 0.01))
    return Box(lat - d_lat, lat + d_lat, lon - d_lon, lon + d_lon)


def _unique(points: list[PickupPoint]) -> list[PickupPoint]:
    seen: dict[str, PickupPoint] = {}
    for point in points:
        seen.setdefault(point.code, point)
    return list(seen.values())


def _directory(carrier: str, point: PickupPoint, at: datetime) -> DirectoryPoint:
    extra = point.extra
    weight = extra.get("weight_max_kg")
    return DirectoryPoint(
        carrier=carrier,
        code=point.code[:64],
        name=point.name[:200],
        kind=extra.get("type", "PVZ")[:20] or "PVZ",
        city=point.city[:120],
        address=point.address[:500],
        latitude=point.latitude,
        longitude=point.longitude,
        hours=point.hours[:200],
        storage_days=max(point.storage_days, 1),
        cash_on_delivery=extra.get("allowed_cod") == "true",
        cards=extra.get("have_cashless") == "true",
        weight_max_g=int(float(weight) * 1000) if weight else None,
        cells=extra.get("cells_mm", "")[:500],
        active=True,
        synced_at=at,
    )
