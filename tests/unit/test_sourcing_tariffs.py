"""Shipping tariffs: lookup by region and distance band, and CSV files with bad rows."""

from __future__ import annotations

from decimal import Decimal

import pytest

from potok.domain.sourcing.tariffs import InvalidTariff, Tariff, TariffTable
from potok.services.tariff_files import TariffFileError, parse_tariffs

GOOD = """warehouse,region,min_km,max_km,fixed_rub,per_kg_rub,per_km_rub,days
MSK,,0,100,200,8,1,1
MSK,,100,,300,12,"0,35",3
MSK,Москва,,,150,5,0,1
*,,0,,999,0,0,9
"""


def test_lookup_prefers_the_region_then_the_band_then_any_warehouse() -> None:
    table = parse_tariffs(GOOD, version="2026-03")
    assert table.version == "2026-03"
    region = table.quote("MSK", km=30, weight_kg=2, region="Москва")
    assert region is not None
    assert region.cost == Decimal("160.00")
    assert region.days == 1
    near = table.quote("MSK", km=30, weight_kg=2, region="Тверская область")
    assert near is not None
    assert near.cost == Decimal("246.00")  # 200 + 8*2 + 1*30
    far = table.quote("MSK", km=100, weight_kg=1.5, region=None)
    assert far is not None
    assert far.cost == Decimal("353.00")  # the band starts at 100 km inclusive: 300 + 18 + 35
    assert far.days == 3
    other = table.quote("SPB", km=10, weight_kg=1)
    assert other is not None
    assert other.cost == Decimal("999.00")


def test_no_tariff_means_no_quote() -> None:
    table = TariffTable([Tariff("MSK", Decimal(1), Decimal(0), Decimal(0), 1, max_km=50)])
    assert table.quote("MSK", km=50, weight_kg=1) is None
    assert table.quote("KZN", km=1, weight_kg=1) is None


def test_a_tariff_refuses_negative_prices_and_empty_bands() -> None:
    with pytest.raises(InvalidTariff):
        Tariff("MSK", Decimal(-1), Decimal(0), Decimal(0), 1)
    with pytest.raises(InvalidTariff):
        Tariff("MSK", Decimal(1), Decimal(0), Decimal(0), 1, min_km=10, max_km=10)
    with pytest.raises(InvalidTariff):
        TariffTable(
            [
                Tariff("MSK", Decimal(1), Decimal(0), Decimal(0), 1, max_km=100),
                Tariff("MSK", Decimal(1), Decimal(0), Decimal(0), 1, min_km=50),
            ]
        )


def problems(text: str) -> list[str]:
    with pytest.raises(TariffFileError) as caught:
        parse_tariffs(text)
    assert caught.value.code == "invalid-tariff-file"
    return [str(p) for p in caught.value.problems]


def test_bad_cells_are_named_by_line_and_column() -> None:
    text = """warehouse,fixed_rub,per_kg_rub,days
MSK,200,8,1
,abc,-1,two
KZN,100,,1
"""
    assert problems(text) == [
        "line 3, column warehouse: is empty",
        "line 3, column fixed_rub: 'abc' is not an amount of roubles",
        "line 3, column per_kg_rub: '-1' must be 0 or more roubles",
        "line 3, column days: 'two' is not a whole number of days",
    ]


def test_a_header_without_required_columns_or_with_unknown_ones_is_refused() -> None:
    assert problems("warehouse,price\nMSK,1\n") == [
        "line 1: unknown columns price",
        "line 1: the header lacks fixed_rub, days; "
        "expected warehouse,region,min_km,max_km,fixed_rub,per_kg_rub,per_km_rub,days",
    ]
    assert problems("") == [
        "line 1: the file is empty; the first line must be: "
        "warehouse,region,min_km,max_km,fixed_rub,per_kg_rub,per_km_rub,days"
    ]


def test_overlapping_bands_and_repeated_regions_name_both_lines() -> None:
    text = """warehouse,region,min_km,max_km,fixed_rub,days
MSK,,0,100,1,1
MSK,,50,200,1,1
MSK,Москва,,,1,1
MSK,Москва,,,2,1
MSK,,300,200,1,1
MSK,,1
"""
    assert problems(text) == [
        "line 3, column min_km: the band of MSK overlaps the one on line 2",
        "line 5, column region: repeats MSK → Москва of line 4",
        "line 6, column max_km: 200 is not above min_km",
        "line 7: has 3 columns, the header has 6",
    ]


def test_a_quote_between_two_points_prices_the_great_circle_distance() -> None:
    table = TariffTable([Tariff("MSK", Decimal(100), Decimal(10), Decimal(1), 2)])
    moscow, kazan = (55.7558, 37.6173), (55.7963, 49.1088)
    quote = table.quote_between("MSK", moscow, kazan, weight_kg=2)
    assert quote is not None
    assert quote.cost == Decimal("837.86")  # 100 + 10 * 2 + 1 * 717.86 km
    assert quote.days == 2
