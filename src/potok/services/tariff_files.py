"""Shipping tariffs from CSV text: every bad cell named by its line and column.

The first line names the columns, in any order:

    warehouse,region,min_km,max_km,fixed_rub,per_kg_rub,per_km_rub,days

- ``warehouse``  the warehouse code, or ``*`` for every warehouse (required)
- ``region``     a destination region; leave empty for a distance band
- ``min_km``     where the band starts, km (empty: 0); ignored meaning for region rows
- ``max_km``     where the band ends, exclusive, km (empty: no end)
- ``fixed_rub``  roubles per shipment (required)
- ``per_kg_rub`` roubles per kilogram (empty: 0)
- ``per_km_rub`` roubles per kilometre (empty: 0)
- ``days``       days in transit, a whole number (required)

Money is read as Decimal with a dot or a comma as the decimal separator.
"""

from __future__ import annotations

import csv
import itertools
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from math import inf
from typing import ClassVar

from potok.domain.errors import Rejected
from potok.domain.sourcing.tariffs import InvalidTariff, Tariff, TariffTable

COLUMNS = (
    "warehouse",
    "region",
    "min_km",
    "max_km",
    "fixed_rub",
    "per_kg_rub",
    "per_km_rub",
    "days",
)
REQUIRED = ("warehouse", "fixed_rub", "days")
HEADER = ",".join(COLUMNS)
MAX_DAYS = 366
"""The longest transit a tariff may state."""
MAX_RUB = Decimal(1_000_000_000)
"""Every amount of a tariff stays below this (what the tariff tables can store)."""


@dataclass(frozen=True, slots=True)
class TariffProblem:
    """One thing wrong with the file, and where."""

    line: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


class TariffFileError(Rejected):
    code: ClassVar[str] = "invalid-tariff-file"
    title: ClassVar[str] = "The tariff file has errors"

    def __init__(self, problems: list[TariffProblem]) -> None:
        self.problems = problems
        shown = "; ".join(str(p) for p in problems[:20])
        more = f"; and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(shown + more, problems=[str(p) for p in problems])


def parse_tariffs(text: str, *, version: str = "") -> TariffTable:
    """The tariff table a CSV file describes, or every problem it has at once."""
    reader = csv.reader(text.splitlines())
    try:
        header = [h.strip().lower().lstrip("\ufeff") for h in next(reader)]
    except StopIteration:
        raise TariffFileError(
            [TariffProblem(1, None, f"the file is empty; the first line must be: {HEADER}")]
        ) from None
    problems: list[TariffProblem] = []
    unknown = [h for h in header if h not in COLUMNS]
    missing = [c for c in REQUIRED if c not in header]
    if unknown:
        problems.append(TariffProblem(1, None, f"unknown columns {', '.join(unknown)}"))
    if missing:
        problems.append(
            TariffProblem(1, None, f"the header lacks {', '.join(missing)}; expected {HEADER}")
        )
    if problems:
        raise TariffFileError(problems)
    index = {name: header.index(name) for name in COLUMNS if name in header}
    tariffs: list[tuple[int, Tariff]] = []
    for record in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        if len(record) != len(header):
            problems.append(
                TariffProblem(
                    line, None, f"has {len(record)} columns, the header has {len(header)}"
                )
            )
            continue

        def cell(name: str, record: list[str] = record) -> str:
            return record[index[name]].strip() if name in index else ""

        found: list[TariffProblem] = []
        warehouse = cell("warehouse")
        if not warehouse:
            found.append(TariffProblem(line, "warehouse", "is empty"))
        fixed = _money(cell("fixed_rub"), line, "fixed_rub", found, required=True)
        per_kg = _money(cell("per_kg_rub"), line, "per_kg_rub", found)
        per_km = _money(cell("per_km_rub"), line, "per_km_rub", found)
        min_km = _km(cell("min_km"), line, "min_km", found, 0.0)
        max_km = _km(cell("max_km"), line, "max_km", found, inf)
        days_text = cell("days")
        days = None
        if not (days_text.isascii() and days_text.isdigit()):
            found.append(
                TariffProblem(line, "days", f"'{days_text}' is not a whole number of days")
            )
        elif int(days_text) > MAX_DAYS:
            found.append(TariffProblem(line, "days", f"{days_text} is more than {MAX_DAYS} days"))
        else:
            days = int(days_text)
        if min_km is not None and max_km is not None and not min_km < max_km:
            found.append(TariffProblem(line, "max_km", f"{max_km:g} is not above min_km"))
        if found:
            problems.extend(found)
            continue
        assert fixed is not None
        assert per_kg is not None
        assert per_km is not None
        assert min_km is not None
        assert max_km is not None
        assert days is not None
        region = cell("region") or None
        tariff = Tariff(warehouse, fixed, per_kg, per_km, days, region, min_km, max_km)
        tariffs.append((line, tariff))
    problems.extend(_clashes(tariffs))
    if problems:
        raise TariffFileError(sorted(problems, key=lambda p: p.line))
    try:
        return TariffTable((t for _, t in tariffs), version=version)
    except InvalidTariff as exc:  # pragma: no cover - _clashes finds these first
        raise TariffFileError([TariffProblem(0, None, exc.reason)]) from None


def _clashes(tariffs: list[tuple[int, Tariff]]) -> list[TariffProblem]:
    """Two rows for one warehouse and region, or distance bands that overlap."""
    problems: list[TariffProblem] = []
    regions: dict[tuple[str, str], int] = {}
    bands: dict[str, list[tuple[float, float, int]]] = {}
    for line, t in tariffs:
        if t.region is not None:
            first = regions.setdefault((t.warehouse, t.region), line)
            if first != line:
                problems.append(
                    TariffProblem(
                        line, "region", f"repeats {t.warehouse} → {t.region} of line {first}"
                    )
                )
        else:
            bands.setdefault(t.warehouse, []).append((t.min_km, t.max_km, line))
    for warehouse, spans in bands.items():
        spans.sort()
        for (_, end, first), (start, _, line) in itertools.pairwise(spans):
            if start < end:
                problems.append(
                    TariffProblem(
                        line, "min_km", f"the band of {warehouse} overlaps the one on line {first}"
                    )
                )
    return sorted(problems, key=lambda p: p.line)


def _money(
    text: str, line: int, column: str, problems: list[TariffProblem], *, required: bool = False
) -> Decimal | None:
    if not text:
        if required:
            problems.append(TariffProblem(line, column, "is empty"))
            return None
        return Decimal(0)
    try:
        value = Decimal(text.replace(",", ".").replace(" ", ""))
    except InvalidOperation:
        problems.append(TariffProblem(line, column, f"'{text}' is not an amount of roubles"))
        return None
    if not value.is_finite() or value < 0:
        problems.append(TariffProblem(line, column, f"'{text}' must be 0 or more roubles"))
        return None
    if value >= MAX_RUB:
        problems.append(TariffProblem(line, column, f"'{text}' is more than {MAX_RUB} roubles"))
        return None
    return value


def _km(
    text: str, line: int, column: str, problems: list[TariffProblem], default: float
) -> float | None:
    if not text:
        return default
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        problems.append(TariffProblem(line, column, f"'{text}' is not a number of kilometres"))
        return None
    if not 0 <= value < inf:
        problems.append(TariffProblem(line, column, f"'{text}' must be 0 km or more"))
        return None
    return value
