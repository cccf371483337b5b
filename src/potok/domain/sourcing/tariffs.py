"""Shipping tariffs: what one shipment from a warehouse to a destination costs, and how long
it takes.

A tariff belongs to a warehouse (by code, or ``*`` for every warehouse) and to a destination
given either as a region (``region`` set) or as a distance band (``min_km <= km < max_km``).
A shipment costs ``fixed + per_kg * weight + per_km * km`` roubles and arrives ``days`` days
after it leaves. Lookup prefers the most specific tariff: the warehouse's own tariff for the
destination region, then its distance band, then the ``*`` region tariff, then the ``*`` band.

A location the table does not name at all (a new one, before its tariffs are imported, in
a table without ``*`` rows) is not left out: ``find_or_estimate`` prices it by the built-in
distance bands and marks the tariff as an estimate, so that sourcing still ships from it and
the record says the price is a guess. A location the table names, whose tariffs do not
reach the destination (a store that ships locally only), gets no estimate: it does not ship
there.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from math import inf

from potok.domain.errors import Rejected
from potok.domain.sourcing.carriers import weight_band_g
from potok.domain.sourcing.geo import distance_km

ANY_WAREHOUSE = "*"
KOPECK = Decimal("0.01")


class InvalidTariff(Rejected):
    code = "invalid-tariff"
    title = "A shipping tariff is not valid"

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True, slots=True)
class Tariff:
    """The price and transit time of shipments from one warehouse to one destination."""

    warehouse: str
    fixed: Decimal
    per_kg: Decimal
    per_km: Decimal
    days: int
    region: str | None = None
    min_km: float = 0.0
    max_km: float = inf
    label: str = ""  # a name for a tariff that is not a destination (handing over on the spot)
    estimate: bool = False  # a built-in band standing in for a location the table lacks
    carrier: str = ""  # the carrier whose tariff this is, when chosen by the routing rules
    source: str = ""  # where a carrier's price came from: live, cached or fallback
    # the carrier's own prices by weight band (grams the band ends at, price), lightest
    # first: a parcel costs its band's price (the next known band's, if its own is not
    # known); ``fixed`` stands for the heaviest parcel, the whole order's
    by_band: tuple[tuple[int, Decimal], ...] = ()
    _rates: tuple[float, float, float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.warehouse:
            raise InvalidTariff("warehouse is empty")
        for name in ("fixed", "per_kg", "per_km"):
            if getattr(self, name) < 0:
                raise InvalidTariff(f"{name} is negative")
        if self.days < 0:
            raise InvalidTariff("days is negative")
        if not 0 <= self.min_km < self.max_km:
            raise InvalidTariff("the distance band needs 0 <= min_km < max_km")
        rates = (float(self.fixed), float(self.per_kg), float(self.per_km))
        object.__setattr__(self, "_rates", rates)

    def cost(self, weight_kg: float, km: float) -> Decimal:
        """The price of one shipment, in roubles to the kopeck."""
        if self.by_band:
            return self._band_price(weight_kg)
        amount = (
            self.fixed
            + self.per_kg * Decimal(repr(float(weight_kg)))
            + self.per_km * Decimal(repr(float(km)))
        )
        return amount.quantize(KOPECK)

    def cost_estimate(self, weight_kg: float, km: float) -> float:
        """The same price as a float, for ranking many options quickly."""
        if self.by_band:
            return float(self._band_price(weight_kg))
        fixed, per_kg, per_km = self._rates
        return fixed + per_kg * weight_kg + per_km * km

    def _band_price(self, weight_kg: float) -> Decimal:
        """A carrier's price for a parcel of this weight: its band's, else the next
        heavier band known, else the whole order's (``fixed``)."""
        grams = weight_band_g(weight_kg)
        for band, price in self.by_band:
            if band >= grams:
                return price
        return self.fixed

    def describe(self) -> str:
        """The destination this tariff covers, as an operator reads it."""
        if self.label:
            return self.label
        if self.estimate:
            return f"estimate: no tariff for this location, built-in band {self._band()}"
        if self.region is not None:
            return f"region {self.region}"
        return self._band()

    def _band(self) -> str:
        if self.max_km == inf:
            return f"{self.min_km:g} km and beyond"
        return f"{self.min_km:g}-{self.max_km:g} km"


@dataclass(frozen=True, slots=True)
class Quote:
    """What one shipment would cost and how long it would take."""

    cost: Decimal
    days: int
    tariff: Tariff


class TariffTable:
    """All tariffs in force, indexed for lookup by warehouse and destination."""

    def __init__(self, tariffs: Iterable[Tariff], *, version: str = "") -> None:
        self.version = version
        self.tariffs = tuple(tariffs)
        self._regions: dict[tuple[str, str], Tariff] = {}
        self._bands: dict[str, list[Tariff]] = {}
        self._owners = frozenset(t.warehouse for t in self.tariffs)
        for tariff in self.tariffs:
            if tariff.region is not None:
                key = (tariff.warehouse, tariff.region)
                if key in self._regions:
                    raise InvalidTariff(
                        f"two tariffs from {tariff.warehouse} to region {tariff.region}"
                    )
                self._regions[key] = tariff
            else:
                self._bands.setdefault(tariff.warehouse, []).append(tariff)
        for warehouse, bands in self._bands.items():
            bands.sort(key=lambda t: t.min_km)
            for before, after in itertools.pairwise(bands):
                if after.min_km < before.max_km:
                    raise InvalidTariff(
                        f"distance bands of {warehouse} overlap: "
                        f"{before.describe()} and {after.describe()}"
                    )

    def find(self, warehouse: str, *, km: float, region: str | None = None) -> Tariff | None:
        """The tariff that prices a shipment from a warehouse to a destination, if any."""
        for owner in (warehouse, ANY_WAREHOUSE):
            if region is not None:
                tariff = self._regions.get((owner, region))
                if tariff is not None:
                    return tariff
            for band in self._bands.get(owner, ()):
                if band.min_km <= km < band.max_km:
                    return band
        return None

    def find_or_estimate(
        self, warehouse: str, *, km: float, region: str | None = None
    ) -> Tariff | None:
        """The tariff in force, else, for a location the table does not price at all, the
        built-in distance band as an estimate; None when the location's own tariffs (or the
        ``*`` tariffs) do not reach the destination."""
        tariff = self.find(warehouse, km=km, region=region)
        if tariff is not None or not self.lacks(warehouse):
            return tariff
        return _ESTIMATES.find(ANY_WAREHOUSE, km=km)

    def lacks(self, warehouse: str) -> bool:
        """The table prices nothing from this location: no row of its own, no ``*`` row."""
        owners = self._owners
        return warehouse not in owners and ANY_WAREHOUSE not in owners

    def quote(
        self, warehouse: str, *, km: float, weight_kg: float, region: str | None = None
    ) -> Quote | None:
        """Cost and days of one shipment, or None when no tariff reaches the destination."""
        tariff = self.find(warehouse, km=km, region=region)
        if tariff is None:
            return None
        return Quote(tariff.cost(weight_kg, km), tariff.days, tariff)

    def quote_between(
        self,
        warehouse: str,
        origin: tuple[float, float],
        destination: tuple[float, float],
        *,
        weight_kg: float,
        region: str | None = None,
    ) -> Quote | None:
        """Cost and days of one shipment from a warehouse's point to a delivery point."""
        km = distance_km(origin, destination)
        return self.quote(warehouse, km=km, weight_kg=weight_kg, region=region)


BUILT_IN_BANDS = (
    # min_km, max_km, fixed ₽, ₽ per kg, ₽ per km, days
    (0, 50, "250", "10", "0", 1),
    (50, 300, "350", "15", "0.5", 2),
    (300, 1000, "450", "20", "0.8", 3),
    (1000, 3000, "600", "30", "1", 5),
    (3000, inf, "900", "45", "1.2", 8),
)
"""A rough parcel price list, dearer and slower with distance (see docs/operators.md)."""


def _bands(*, estimate: bool) -> tuple[Tariff, ...]:
    return tuple(
        Tariff(
            ANY_WAREHOUSE,
            Decimal(f),
            Decimal(kg),
            Decimal(km),
            days,
            None,
            lo,
            hi,
            estimate=estimate,
        )
        for lo, hi, f, kg, km, days in BUILT_IN_BANDS
    )


def built_in_tariffs() -> TariffTable:
    """Distance bands for every warehouse, in force until a tariff table is imported, so
    that sourcing prefers near warehouses and can still weigh splits and promised dates."""
    return TariffTable(_bands(estimate=False), version="built-in")


_ESTIMATES = TariffTable(_bands(estimate=True), version="built-in estimate")
"""What a location missing from an imported tariff table is priced by."""
