"""Stock levels from CSV files: header checks, and every bad row named by its line number."""

from __future__ import annotations

import io
from datetime import date

import pytest

from potok.domain.inventory.commands import LevelRow
from potok.domain.inventory.lots import LotInput
from potok.domain.inventory.model import MAX_QUANTITY
from potok.services.stock_files import BadHeader, BadRow, parse_levels

HEADER = "warehouse,sku,on_hand\n"


def parse(text: str) -> list[tuple[int, LevelRow | BadRow]]:
    """Parse the way the CLI reads a file: a text stream opened with ``newline=''``."""
    return list(parse_levels(io.StringIO(text, newline="")))


def bad_lines(text: str) -> list[int]:
    return [number for number, row in parse(text) if isinstance(row, BadRow)]


def good_rows(text: str) -> list[tuple[int, LevelRow]]:
    return [(number, row) for number, row in parse(text) if isinstance(row, LevelRow)]


# ----------------------------------------------------------------- header


def test_good_rows_become_level_rows_numbered_from_line_two() -> None:
    rows = parse(HEADER + "MSK,TEA-1,10\nSPB,TEA-1,0\n")
    assert rows == [
        (2, LevelRow("MSK", "TEA-1", 10)),
        (3, LevelRow("SPB", "TEA-1", 0)),
    ]


def test_a_header_alone_gives_no_rows() -> None:
    assert parse(HEADER) == []


def test_an_empty_file_has_a_bad_header() -> None:
    with pytest.raises(BadHeader):
        parse("")


@pytest.mark.parametrize(
    "header",
    ["warehouse,sku\n", "sku,on_hand\n", "warehouse,product,on_hand\n", "MSK,TEA-1,10\n"],
)
def test_a_header_without_a_required_column_is_refused(header: str) -> None:
    with pytest.raises(BadHeader):
        parse(header + "MSK,TEA-1,10\n")


def test_the_header_ignores_case_spaces_and_column_order() -> None:
    rows = parse(" On_Hand , SKU ,Warehouse\n7, TEA-1 , MSK \n")
    assert rows == [(2, LevelRow("MSK", "TEA-1", 7))]


def test_a_byte_order_mark_before_the_header_is_ignored() -> None:
    rows = parse("\ufeff" + HEADER + "MSK,TEA-1,10\n")
    assert rows == [(2, LevelRow("MSK", "TEA-1", 10))]


def test_unknown_extra_columns_are_ignored() -> None:
    rows = parse("warehouse,sku,on_hand,comment\nMSK,TEA-1,10,shelf 4\n")
    assert rows == [(2, LevelRow("MSK", "TEA-1", 10))]


def test_windows_line_endings_are_read() -> None:
    rows = parse("warehouse,sku,on_hand\r\nMSK,TEA-1,10\r\nSPB,TEA-1,3\r\n")
    assert [number for number, _ in rows] == [2, 3]
    assert all(isinstance(row, LevelRow) for _, row in rows)


def test_a_list_of_lines_is_accepted_too() -> None:
    rows = list(parse_levels(["warehouse,sku,on_hand", "MSK,TEA-1,10"]))
    assert rows == [(2, LevelRow("MSK", "TEA-1", 10))]


# ----------------------------------------------------------------- rows


def test_blank_lines_are_skipped_but_still_counted() -> None:
    text = HEADER + "\nMSK,TEA-1,10\n   \n,,\nSPB,TEA-1,x\n"
    rows = parse(text)
    assert [(number, type(row)) for number, row in rows] == [(3, LevelRow), (6, BadRow)]


def test_a_row_with_fewer_columns_than_the_header_is_bad() -> None:
    rows = parse(HEADER + "MSK,TEA-1\nMSK,TEA-2,4\n")
    number, row = rows[0]
    assert number == 2
    assert isinstance(row, BadRow)
    assert row.line == 2
    assert rows[1] == (3, LevelRow("MSK", "TEA-2", 4))


@pytest.mark.parametrize("quantity", ["x", "1.5", "-3", "", " ", "1e3", "+4", "10 000"])
def test_a_quantity_that_is_not_a_whole_number_is_bad(quantity: str) -> None:
    assert bad_lines(HEADER + f"MSK,TEA-1,{quantity}\n") == [2]


def test_a_quantity_above_the_maximum_is_bad() -> None:
    text = HEADER + f"MSK,TEA-1,{MAX_QUANTITY}\nMSK,TEA-2,{MAX_QUANTITY + 1}\n"
    assert good_rows(text) == [(2, LevelRow("MSK", "TEA-1", MAX_QUANTITY))]
    assert bad_lines(text) == [3]


def test_spaces_around_a_quantity_are_allowed() -> None:
    assert good_rows(HEADER + "MSK,TEA-1, 12 \n") == [(2, LevelRow("MSK", "TEA-1", 12))]


def test_leading_zeros_are_read_as_a_number() -> None:
    assert good_rows(HEADER + "MSK,TEA-1,007\n") == [(2, LevelRow("MSK", "TEA-1", 7))]


@pytest.mark.parametrize("row", [",TEA-1,5", "MSK,,5", " , ,5"])
def test_an_empty_warehouse_or_sku_is_bad(row: str) -> None:
    assert bad_lines(HEADER + row + "\n") == [2]


def test_a_row_repeating_a_warehouse_and_sku_is_bad_and_the_first_stays() -> None:
    text = HEADER + "MSK,TEA-1,10\nMSK,TEA-2,3\nMSK,TEA-1,11\n"
    assert good_rows(text) == [
        (2, LevelRow("MSK", "TEA-1", 10)),
        (3, LevelRow("MSK", "TEA-2", 3)),
    ]
    assert bad_lines(text) == [4]


def test_a_repeat_is_recognised_despite_surrounding_spaces() -> None:
    assert bad_lines(HEADER + "MSK,TEA-1,10\n MSK , TEA-1 ,10\n") == [3]


def test_the_same_sku_in_two_warehouses_is_not_a_repeat() -> None:
    assert bad_lines(HEADER + "MSK,TEA-1,10\nSPB,TEA-1,10\n") == []


def test_a_bad_row_does_not_claim_its_key() -> None:
    text = HEADER + "MSK,TEA-1,x\nMSK,TEA-1,5\n"
    assert bad_lines(text) == [2]
    assert good_rows(text) == [(3, LevelRow("MSK", "TEA-1", 5))]


def test_every_bad_row_is_reported_not_only_the_first() -> None:
    text = HEADER + "MSK,TEA-1,x\nMSK,TEA-2,5\nMSK\nMSK,TEA-3,-1\nMSK,TEA-2,6\n"
    assert bad_lines(text) == [2, 4, 5, 6]


def test_a_bad_row_carries_its_own_line_number() -> None:
    rows = parse(HEADER + "MSK,TEA-1,5\nMSK,TEA-2,oops\n")
    number, row = rows[1]
    assert isinstance(row, BadRow)
    assert row.line == number == 3


# ----------------------------------------------------------------- expected_on_hand


def test_the_expected_quantity_is_read_when_given() -> None:
    text = "warehouse,sku,on_hand,expected_on_hand\nMSK,TEA-1,10,8\nMSK,TEA-2,4,\n"
    assert parse(text) == [
        (2, LevelRow("MSK", "TEA-1", 10, 8)),
        (3, LevelRow("MSK", "TEA-2", 4, None)),
    ]


def test_without_the_expected_column_nothing_is_expected() -> None:
    [(_, row)] = parse(HEADER + "MSK,TEA-1,10\n")
    assert isinstance(row, LevelRow)
    assert row.expected_on_hand is None


@pytest.mark.parametrize("expected", ["x", "-1", str(MAX_QUANTITY + 1)])
def test_a_bad_expected_quantity_makes_the_row_bad(expected: str) -> None:
    text = f"warehouse,sku,on_hand,expected_on_hand\nMSK,TEA-1,10,{expected}\n"
    assert bad_lines(text) == [2]


def test_a_row_short_of_the_optional_column_is_bad() -> None:
    text = "warehouse,sku,on_hand,expected_on_hand\nMSK,TEA-1,10\n"
    assert bad_lines(text) == [2]


# ----------------------------------------------------------------- found by these tests


def test_a_superscript_digit_is_a_bad_row_not_a_crash() -> None:
    assert bad_lines(HEADER + "MSK,TEA-1,²\n") == [2]


def test_line_numbers_stay_right_after_a_cell_that_spans_two_lines() -> None:
    text = HEADER + 'MSK,"TEA\n1",5\nMSK,TEA-2,oops\n'
    assert bad_lines(text) == [4]


# ----------------------------------------------------------------- lots and serials


def test_lot_columns_give_each_row_its_lot_and_dates() -> None:
    text = (
        "warehouse,sku,on_hand,lot,produced_on,expires_on\n"
        "MSK,MLK,10,L1,2026-11-01,2026-12-20\n"
        "MSK,MLK,4,L2,,\n"
        "MSK,TEA,3,,,\n"
    )
    assert good_rows(text) == [
        (
            2,
            LevelRow("MSK", "MLK", 10, None, LotInput("L1", date(2026, 11, 1), date(2026, 12, 20))),
        ),
        (3, LevelRow("MSK", "MLK", 4, None, LotInput("L2"))),
        (4, LevelRow("MSK", "TEA", 3)),
    ]


def test_the_same_lot_twice_is_a_repeat_but_two_lots_are_not() -> None:
    text = "warehouse,sku,on_hand,lot\nMSK,MLK,1,L1\nMSK,MLK,2,L2\nMSK,MLK,3,L1\n"
    assert bad_lines(text) == [4]


def test_bad_dates_and_dates_without_a_lot_are_bad_rows() -> None:
    text = "warehouse,sku,on_hand,lot,expires_on\nMSK,MLK,1,L1,20/12/2026\nMSK,MLK,1,,2026-12-20\n"
    assert bad_lines(text) == [2, 3]


def test_a_russian_date_is_read_as_day_month_year() -> None:
    text = "warehouse,sku,on_hand,lot,expires_on\nMSK,MLK,1,L1,20.12.2026\n"
    assert good_rows(text) == [
        (2, LevelRow("MSK", "MLK", 1, None, LotInput("L1", None, date(2026, 12, 20))))
    ]


def test_serials_are_split_on_semicolons() -> None:
    text = "warehouse,sku,on_hand,serials\nMSK,PHN,2,A1; A2\nMSK,TEA,1,\n"
    assert good_rows(text) == [
        (2, LevelRow("MSK", "PHN", 2, None, None, ("A1", "A2"))),
        (3, LevelRow("MSK", "TEA", 1)),
    ]


# ----------------------------------------------------------------- plain rows read quickly


def test_rows_read_quickly_are_what_the_full_reading_makes_of_them() -> None:
    """A whole count's plain rows skip the per-cell problem collection
    (``plain_levels``); every row, plain or not, comes out as the full reading has it."""
    header = "Склад;артикул;остаток;ожидаемый остаток;партия;годен до;note\n"
    lines = [
        "MSK;TEA-1;10;;;;a",  # plain
        "MSK;TEA-2;4;4;;;",  # plain, with the expected level
        "MSK;TEA-1;3;;;;",  # repeats row 2
        "SPB;TEA-1;007;;;;",  # leading zeros
        "SPB;TEA-2;x;;;;",  # not a number
        f"SPB;TEA-3;{MAX_QUANTITY + 1};;;;",  # too many
        f"SPB;TEA-4;1;{MAX_QUANTITY + 1};;;",  # expected too many
        "SPB;TEA-5;1;y;;;",  # expected not a number
        ";TEA-6;1;;;;",  # no warehouse
        "KZN;;1;;;;",  # no SKU
        "KZN;TEA-7;2;;L-1;31.12.2027;",  # a lot: the full reading
        "KZN;TEA-8;2;;;2027-12-31;",  # a date without a lot
        "KZN;TEA-9;²;;;;",  # a superscript digit
        "KZN;TEA-10;5",  # short of cells
        "KZN;TEA-11;5;;;;;extra",
    ]
    text = header + "\n".join(lines) + "\n"

    def read(quick: bool) -> tuple[list[object], list[object]]:
        from potok.services.file_imports import read_rows
        from potok.services.stock_files import COLUMNS, _key, level_row, plain_levels
        from potok.spreadsheets import FileFormat, read_table

        table = read_table(io.BytesIO(text.encode()), FileFormat.CSV)
        rows = read_rows(table, COLUMNS, level_row, _key, quick=plain_levels if quick else None)
        return list(rows.good), list(rows.problems)

    quickly, fully = read(quick=True), read(quick=False)
    assert quickly == fully
    good_lines = [number for number, _ in quickly[0]]
    assert good_lines == [2, 3, 5, 12, 16]
    assert (2, LevelRow("MSK", "TEA-1", 10)) in quickly[0]
    assert (3, LevelRow("MSK", "TEA-2", 4, 4)) in quickly[0]
