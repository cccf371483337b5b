"""Carrier choice in routing rules: which carrier takes an order's parcel from a warehouse,
priced by that carrier's own tariff (its answer remembered for a while), with Potok's
tariff table standing in when the carrier is down or slow.

A rule names the carriers to weigh (``among``), how to pick one (``cheapest`` or
``fastest``) and, per region, a carrier fixed for it (``by_region``). The engine asks a
:class:`PriceLookup` - memory only, never the network: carriers are asked outside the
transaction (``potok.services.carrier_prices``) - for the price of each lane, a parcel of
the order's weight from one warehouse to the order's destination by one carrier.

Where a price came from is kept with the decision and shown to the operator:

- ``live``: the carrier's own tariff, answered within its freshness window;
- ``cached``: the carrier's tariff remembered from an earlier answer, past that window,
  because the carrier did not answer in time now (down or slow);
- ``fallback``: Potok's tariff table, because no answer of the carrier is known.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol

from potok.domain.errors import FieldError

WEIGHT_STEP_G = 500
"""Lanes are priced per half kilogram, rounded up: one answer serves parcels of a band."""
MAX_CARRIERS = 10


class PriceSource(StrEnum):
    """Where a shipping price came from."""

    LIVE = "live"
    CACHED = "cached"
    FALLBACK = "fallback"


SOURCE_WORDS = {
    PriceSource.LIVE: "live price",
    PriceSource.CACHED: "cached price, the carrier did not answer in time",
    PriceSource.FALLBACK: "Potok's tariff table, no price of the carrier known",
}


class Choose(StrEnum):
    """How a carrier is picked among those a rule names."""

    CHEAPEST = "cheapest"
    FASTEST = "fastest"


@dataclass(frozen=True, slots=True)
class CarrierChoice:
    """The carriers a channel ships with and how one is picked for a parcel."""

    among: tuple[str, ...]
    choose: Choose = Choose.CHEAPEST
    by_region: Mapping[str, str] = field(default_factory=dict)

    def carriers_for(self, region: str | None) -> tuple[str, ...]:
        """The carriers to weigh for a destination region: the one fixed for it, else all."""
        fixed = self.by_region.get(region) if region else None
        return (fixed,) if fixed else self.among

    def best(self, prices: list[CarrierPrice]) -> CarrierPrice:
        """The price this choice prefers (ties: the order the rule names the carriers in)."""
        rank = {code: i for i, code in enumerate(self.among)}

        def key(p: CarrierPrice) -> tuple[Any, ...]:
            first, second = (
                (p.price, p.days) if self.choose is Choose.CHEAPEST else (p.days, p.price)
            )
            return (first, second, rank.get(p.carrier, len(rank)), p.carrier)

        return min(prices, key=key)


@dataclass(frozen=True, slots=True)
class CarrierPrice:
    """What one carrier asks for one lane, and how long it takes."""

    carrier: str
    tariff: str
    price: Decimal
    days: int
    source: PriceSource
    description: str = ""

    def words(self) -> str:
        """'cdek tariff 136 (Посылка склад-склад), live price'."""
        named = f" ({self.description})" if self.description else ""
        return f"{self.carrier} tariff {self.tariff}{named}, {SOURCE_WORDS[self.source]}"


@dataclass(frozen=True, slots=True)
class Lane:
    """A parcel of a weight band from one warehouse to one destination by one carrier.

    Lanes are equal when the carrier would price them alike: same carrier, warehouse,
    destination (its pickup point, else postal code, else city, else coordinates to about a
    kilometre) and weight band; the rest only goes into the question to the carrier."""

    carrier: str
    warehouse: str
    to: str
    weight_g: int
    origin: tuple[float, float] = field(compare=False)
    destination: tuple[float, float] | None = field(compare=False, default=None)
    city: str | None = field(compare=False, default=None)
    region: str | None = field(compare=False, default=None)
    postal_code: str | None = field(compare=False, default=None)
    pickup_point: str | None = field(compare=False, default=None)


def weight_band_g(weight_kg: float) -> int:
    """The weight a lane is priced at: the parcel's, rounded up to the band."""
    grams = max(1, math.ceil(weight_kg * 1000))
    return math.ceil(grams / WEIGHT_STEP_G) * WEIGHT_STEP_G


@dataclass(frozen=True, slots=True)
class Destination:
    """Where an order's parcel goes, as carriers price it."""

    point: tuple[float, float] | None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    pickup_point: str | None = None  # a carrier's point (not a location of Potok's)

    def key(self) -> str:
        if self.pickup_point:
            return f"point:{self.pickup_point}"
        if self.postal_code:
            return f"postal:{self.postal_code}"
        if self.city:
            return f"city:{self.city.strip().casefold()}"
        if self.point is not None:
            return f"at:{self.point[0]:.2f},{self.point[1]:.2f}"
        return "nowhere"


def lanes(
    choice: CarrierChoice,
    origins: Mapping[str, tuple[float, float]],
    to: Destination,
    weight_kg: float,
) -> list[Lane]:
    """Every lane a decision by this choice may price: each warehouse by each carrier."""
    grams = weight_band_g(weight_kg)
    key = to.key()
    return [
        Lane(
            carrier,
            code,
            key,
            grams,
            origin,
            to.point,
            to.city,
            to.region,
            to.postal_code,
            to.pickup_point,
        )
        for code, origin in origins.items()
        for carrier in choice.carriers_for(to.region)
    ]


def part_weights(
    demand: Mapping[Any, int],
    held: Mapping[str, Mapping[Any, int]],
    unit_kg: Mapping[Any, float],
) -> dict[str, set[float]]:
    """The weights a warehouse's parcel may have when the order is split: all it holds of
    the order, and what is left for it once another warehouse took all it holds; the whole
    order's weight is left out (it is priced anyway)."""
    whole = sum(q * unit_kg.get(p, 0.0) for p, q in demand.items())

    def kg(load: Mapping[Any, int]) -> float:
        return sum(q * unit_kg.get(p, 0.0) for p, q in load.items())

    found: dict[str, set[float]] = {}
    for code, have in held.items():
        own = {p: min(q, have.get(p, 0)) for p, q in demand.items()}
        weights = {kg(own)}
        for other, theirs in held.items():
            if other == code:
                continue
            rest = {p: q - min(q, theirs.get(p, 0)) for p, q in demand.items()}
            weights.add(kg({p: min(q, have.get(p, 0)) for p, q in rest.items()}))
        parts = {w for w in weights if 0 < w < whole}
        if parts:
            found[code] = parts
    return found


class PriceLookup(Protocol):
    """Carriers' prices this process remembers (memory only: nothing is asked here)."""

    def look(self, lane: Lane) -> CarrierPrice | None:
        """The price remembered for the lane, live or cached; None when none is known."""
        ...


def choice_from_data(data: object, errors: list[FieldError]) -> CarrierChoice | None:
    """A carrier choice from its JSON form (``{"among": [...], "choose": ..., "by_region":
    {...}}``), adding what is wrong to ``errors``."""
    if data is None:
        return None
    if not isinstance(data, Mapping):
        errors.append(FieldError("carriers", "must be an object with among, choose, by_region"))
        return None
    found = len(errors)
    for name in data:
        if name not in ("among", "choose", "by_region"):
            errors.append(FieldError(f"carriers.{name}", "is not a carrier setting", "unknown"))
    among = data.get("among")
    if (
        not isinstance(among, list)
        or not 1 <= len(among) <= MAX_CARRIERS
        or not all(_is_code(a) for a in among)
        or len(set(among)) != len(among)
    ):
        errors.append(
            FieldError(
                "carriers.among",
                f"must list 1 to {MAX_CARRIERS} different carrier codes (cdek, pochta, ...)",
            )
        )
        among = []
    choose = Choose.CHEAPEST
    if "choose" in data:
        try:
            choose = Choose(data["choose"])
        except ValueError:
            ways = ", ".join(c.value for c in Choose)
            errors.append(FieldError("carriers.choose", f"must be one of {ways}"))
    by_region: dict[str, str] = {}
    regions = data.get("by_region", {})
    if not isinstance(regions, Mapping):
        errors.append(FieldError("carriers.by_region", "must map regions to carrier codes"))
    else:
        for region, code in regions.items():
            if not (isinstance(region, str) and 0 < len(region) <= 120 and "\x00" not in region):
                errors.append(FieldError("carriers.by_region", "regions are names of 1-120 chars"))
            elif not _is_code(code):
                errors.append(FieldError(f"carriers.by_region.{region}", "must be a carrier code"))
            else:
                by_region[region] = code
    if len(errors) > found:
        return None
    return CarrierChoice(tuple(among), choose, by_region)


def choice_to_data(choice: CarrierChoice) -> dict[str, Any]:
    return {
        "among": list(choice.among),
        "choose": choice.choose.value,
        "by_region": dict(sorted(choice.by_region.items())),
    }


def _is_code(value: object) -> bool:
    return (
        isinstance(value, str)
        and 0 < len(value) <= 40
        and value.replace("_", "").replace("-", "").isalnum()
        and value.isascii()
    )
