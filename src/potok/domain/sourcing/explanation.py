"""The record of one sourcing decision: every candidate, its score and cost, and why the
winner won - what the order's sourcing page and the history show an operator."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from potok.domain.quick_init import quick_init

PARTS = ("cost", "distance", "time", "last_units", "priority", "needed_later")
"""The criteria a score adds up, in the order ``CandidateNote.parts`` lists them
(``needed_later``: what the units taken are worth to the orders still to come; decisions
recorded before it existed list the first five only)."""


class CandidateNote(NamedTuple):
    """How one candidate fared: excluded (and why), or scored (and at what cost)."""

    code: str
    city: str
    kind: str
    distance_km: float | None
    excluded: str | None = None  # the reason it was not considered, in words
    covers: bool = False  # holds every line of the order
    cost_rub: float | None = None  # one shipment of the whole order, or of what it holds
    days: int | None = None
    score: float | None = None  # lower is better, in roubles counted by the rules
    parts: tuple[float, ...] = ()  # the score, criterion by criterion (see PARTS)
    chosen: bool = False
    estimate: bool = False  # priced by the built-in bands: no tariff for this location
    coverage: str = ""  # which of the order's lines it holds in full: "2 of 3 lines"
    why_not: str | None = None  # why it is not in the chosen plan (None: it is)

    @property
    def cost(self) -> Decimal | None:
        """The shipping cost in roubles, to the kopeck."""
        return None if self.cost_rub is None else Decimal(f"{self.cost_rub:.2f}")

    def breakdown(self) -> dict[str, float]:
        """The score's parts by criterion name, rounded to the kopeck (none when excluded)."""
        if not self.parts:
            return {}
        return {name: round(value, 2) for name, value in zip(PARTS, self.parts, strict=False)}


@quick_init
@dataclass(frozen=True, slots=True)
class ShipmentNote:
    """One shipment of the decision: where from, what it costs and when it arrives."""

    code: str
    cost: Decimal
    days: int
    weight_kg: float
    units: int
    tariff: str  # the destination the tariff covers, e.g. "100-700 km"
    estimate: bool = False  # priced by the built-in bands: no tariff for this location
    carrier: str = ""  # the carrier the routing rules chose ("" when they keep to the table)
    price_source: str = ""  # where the carrier's price came from: live, cached or fallback


@dataclass(frozen=True, slots=True)
class TransferNote:
    """One transfer a consolidated decision needs: units brought to the hub first."""

    from_code: str
    to_code: str
    cost: Decimal
    days: int
    weight_kg: float
    units: int
    tariff: str
    estimate: bool = False


@quick_init
@dataclass(frozen=True, slots=True)
class SourcingRecord:
    """Everything needed to show, later, why an order was sourced as it was."""

    rules_version: str
    tariffs_version: str
    decided_on: date
    order_type: str
    express: bool
    promised_on: date | None
    candidates: tuple[CandidateNote, ...]
    shipments: tuple[ShipmentNote, ...]
    total_cost: Decimal
    days: int | None
    on_time: bool | None
    summary: str
    transfers: tuple[TransferNote, ...] = ()  # a consolidation: what comes to the hub first
    alternative: str = ""  # the best plan of the other kind (split or consolidation), in words

    def excluded(self) -> tuple[CandidateNote, ...]:
        """The candidates the rules filtered out."""
        return tuple(c for c in self.candidates if c.excluded is not None)

    def estimated(self) -> bool:
        """Some shipment or transfer is priced by the built-in bands, not by a tariff."""
        return any(s.estimate for s in self.shipments) or any(t.estimate for t in self.transfers)

    def to_data(self) -> dict[str, Any]:
        """The record as JSON-ready data (money as strings, dates in ISO form)."""
        return {
            "rules_version": self.rules_version,
            "tariffs_version": self.tariffs_version,
            "decided_on": self.decided_on.isoformat(),
            "order_type": self.order_type,
            "express": self.express,
            "promised_on": self.promised_on.isoformat() if self.promised_on else None,
            "candidates": [
                [
                    c.code,
                    c.city,
                    c.kind,
                    None if c.distance_km is None else round(c.distance_km, 3),
                    c.excluded,
                    c.covers,
                    None if c.cost_rub is None else round(c.cost_rub, 2),
                    c.days,
                    None if c.score is None else round(c.score, 2),
                    [round(x, 2) for x in c.parts],
                    c.chosen,
                    c.estimate,
                    c.coverage,
                    c.why_not,
                ]
                for c in self.candidates
            ],
            "shipments": [
                [s.code, str(s.cost), s.days, s.weight_kg, s.units, s.tariff, s.estimate]
                + ([s.carrier, s.price_source] if s.carrier else [])
                for s in self.shipments
            ],
            "total_cost": str(self.total_cost),
            "days": self.days,
            "on_time": self.on_time,
            "summary": self.summary,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> SourcingRecord:
        """The record back from ``to_data``'s form."""
        promised = data.get("promised_on")
        return cls(
            data["rules_version"],
            data["tariffs_version"],
            date.fromisoformat(data["decided_on"]),
            data["order_type"],
            bool(data["express"]),
            date.fromisoformat(promised) if promised else None,
            tuple(_candidate(*row) for row in data["candidates"]),
            tuple(_shipment(*row) for row in data["shipments"]),
            Decimal(data["total_cost"]),
            data.get("days"),
            data.get("on_time"),
            data["summary"],
        )


def _candidate(*row: Any) -> CandidateNote:
    code, city, kind, km, excluded, covers, cost, days, score, parts, chosen = row[:11]
    # records kept before estimates and reasons have 11 fields; a missing reason reads as
    # the exclusion, as the record then said nothing else
    estimate = bool(row[11]) if len(row) > 11 else False
    coverage = str(row[12]) if len(row) > 12 else ""
    why_not = row[13] if len(row) > 13 else (None if chosen else excluded)
    return CandidateNote(
        code,
        city,
        kind,
        km,
        excluded,
        covers,
        cost,
        days,
        score,
        tuple(parts),
        chosen,
        estimate,
        coverage,
        why_not,
    )


def _shipment(*row: Any) -> ShipmentNote:
    code, cost, days, weight, units, tariff = row[:6]
    estimate = bool(row[6]) if len(row) > 6 else False
    carrier, source = (str(row[7]), str(row[8])) if len(row) > 8 else ("", "")
    return ShipmentNote(code, Decimal(cost), days, weight, units, tariff, estimate, carrier, source)
