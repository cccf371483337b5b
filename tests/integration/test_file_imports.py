"""Stock levels and products imported from CSV and XLSX files and exported back, on SQLite
and PostgreSQL: all rows or none, each bad cell named by row and column, idempotent."""

from __future__ import annotations

import io
from datetime import datetime
from decimal import Decimal

import openpyxl
import pytest
import sqlalchemy as sa

from potok.bootstrap import Potok
from potok.db.tables import outbox_events as outbox
from potok.domain.catalogue import CategoryDraft
from potok.domain.kernel import Tracking
from potok.services import (
    catalogue,
    catalogue_files,
    categories,
    file_exports,
    inventory,
    stock_files,
)
from potok.services.file_imports import FileRejected, RowProblem
from potok.spreadsheets import FileFormat, read_table
from tests.factories import TESTER, build_world
from tests.invariants import assert_stock_invariants


def xlsx(rows: list[list[object]], *, merge: str | None = None) -> io.BytesIO:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    if merge:
        sheet.merge_cells(merge)
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    return out


def csv(text: str) -> io.BytesIO:
    return io.BytesIO(text.encode("utf-8"))


def on_hand(potok: Potok) -> dict[tuple[str, str], int]:
    page = inventory.list_levels(potok.uow(), limit=1000)
    return {(row.warehouse, row.sku): row.on_hand for row in page.items}


def import_levels(potok: Potok, source: io.BytesIO, fmt: FileFormat = FileFormat.CSV) -> int:
    summary, problems = stock_files.import_levels(
        potok.uow(), source, fmt, TESTER, reference="test"
    )
    assert problems == []
    return summary.changed


def rejected(call: object) -> list[tuple[int, str | None]]:
    assert callable(call)
    with pytest.raises(FileRejected) as caught:
        call()
    return [(p.row, p.column) for p in caught.value.problems]


def events(potok: Potok, kind: str) -> int:
    with potok.engine.connect() as connection:
        return connection.execute(
            sa.select(sa.func.count()).select_from(outbox).where(outbox.c.type == kind)
        ).scalar_one()


# ---------------------------------------------------------------------- stock levels


def test_an_excel_file_with_russian_headers_sets_levels(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 3})
    source = xlsx([["Склад", "Артикул", "Остаток"], ["MSK", "KET", 10], ["SPB", "MUG", 4]])

    assert import_levels(potok, source, FileFormat.XLSX) == 2

    assert on_hand(potok) == {("MSK", "KET"): 10, ("SPB", "MUG"): 4}
    assert_stock_invariants(potok)


def test_the_same_stock_file_twice_changes_nothing_the_second_time(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 3})
    text = "warehouse,sku,on_hand\nMSK,KET,7\nSPB,MUG,2\n"
    assert import_levels(potok, csv(text)) == 2
    moved = events(potok, "stock.changed")

    assert import_levels(potok, csv(text)) == 0

    assert events(potok, "stock.changed") == moved
    assert on_hand(potok) == {("MSK", "KET"): 7, ("SPB", "MUG"): 2}


def test_a_stock_file_with_any_bad_row_changes_nothing_and_names_every_cell(
    potok: Potok,
) -> None:
    build_world(potok, {("MSK", "KET"): 3})
    source = xlsx(
        [
            ["warehouse", "sku", "on_hand", "expires_on"],
            ["MSK", "KET", 10, None],  # good
            ["NOWHERE", "KET", 1, None],  # unknown warehouse
            ["MSK", "NOPE", 1, None],  # unknown product
            ["SPB", "MUG", "=2+2", None],  # a formula
            ["SPB", "TOY", 1, "31/12/2026"],  # a date in the wrong format
            ["MSK", "KET", 11, None],  # repeats row 2
            ["KZN", "BKS", 1, None],  # merged below
        ],
        merge="A8:B8",
    )

    problems = rejected(
        lambda: stock_files.import_levels(
            potok.uow(), source, FileFormat.XLSX, TESTER, reference="test"
        )
    )

    assert problems == [
        (3, "warehouse"),
        (4, "sku"),
        (5, "on_hand"),
        (6, "expires_on"),
        (7, None),
        (8, "sku"),  # the merge emptied it
        (8, "warehouse"),
    ]
    assert on_hand(potok) == {("MSK", "KET"): 3}


def test_a_stale_expected_level_refuses_the_whole_file_by_its_row(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 3, ("SPB", "MUG"): 1})
    text = "warehouse,sku,on_hand,expected_on_hand\nSPB,MUG,6,1\nMSK,KET,9,2\n"

    problems = rejected(
        lambda: stock_files.import_levels(
            potok.uow(), csv(text), FileFormat.CSV, TESTER, reference="test"
        )
    )

    assert problems == [(3, "expected_on_hand")]
    assert on_hand(potok) == {("MSK", "KET"): 3, ("SPB", "MUG"): 1}


def test_skip_bad_applies_the_good_rows_and_returns_the_bad_ones(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 3})
    text = "warehouse,sku,on_hand\nMSK,KET,5\nMSK,NOPE,1\nSPB,MUG,x\n"

    summary, problems = stock_files.import_levels(
        potok.uow(), csv(text), FileFormat.CSV, TESTER, reference="t", skip_bad=True
    )

    assert (summary.rows, summary.changed, summary.skipped) == (3, 1, 2)
    assert [(p.row, p.column) for p in problems] == [(3, "sku"), (4, "on_hand")]
    assert on_hand(potok) == {("MSK", "KET"): 5}


def test_a_header_without_on_hand_refuses_the_file_at_row_one(potok: Potok) -> None:
    build_world(potok)
    problems = rejected(
        lambda: stock_files.import_levels(
            potok.uow(), csv("склад,артикул\nMSK,KET\n"), FileFormat.CSV, TESTER, reference="t"
        )
    )
    assert problems == [(1, None)]


def test_a_stock_export_edited_and_imported_back_sets_the_edited_levels(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 3, ("SPB", "MUG"): 5})
    exported = io.BytesIO()
    assert file_exports.export_stock(potok.uow(), exported, FileFormat.XLSX) == 2
    exported.seek(0)
    book = openpyxl.load_workbook(exported)
    sheet = book.active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    assert header[:2] == ["warehouse", "sku"]
    column = header.index("on_hand") + 1
    for row in range(2, sheet.max_row + 1):
        cell = sheet.cell(row, column)
        cell.value = int(str(cell.value)) + 10
    edited = io.BytesIO()
    book.save(edited)
    edited.seek(0)

    assert import_levels(potok, edited, FileFormat.XLSX) == 2

    assert on_hand(potok) == {("MSK", "KET"): 13, ("SPB", "MUG"): 15}
    assert_stock_invariants(potok)


def test_a_stock_export_lists_buckets_per_position(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 3})
    out = io.BytesIO()
    file_exports.export_stock(potok.uow(), out, FileFormat.CSV)
    out.seek(0)
    table = read_table(out, FileFormat.CSV)
    assert table.header.cells == list(file_exports.STOCK_HEADER)
    assert [r.cells for r in table] == [["MSK", "KET", "", "", "", "3", "0", "0", "3", "0"]]


# ---------------------------------------------------------------------- products


CATALOGUE = (
    "артикул;наименование;цена;ставка ндс;штрихкод;доп. штрихкоды;вес, г;учёт\n"
    "TEA-1;Чай зелёный;199,90;22;4600000000008;2000000000008;100;нет\n"
    "MILK;Молоко 1 л;89,50;10;;;1030;партия\n"
)


def test_a_catalogue_file_creates_products_with_barcodes_and_tracking(potok: Potok) -> None:
    build_world(potok)

    summary, _ = catalogue_files.import_products(potok.uow(), csv(CATALOGUE), FileFormat.CSV)

    assert (summary.rows, summary.changed, summary.created) == (2, 2, 2)
    tea = catalogue.get_product(potok.uow(), "TEA-1")
    assert (tea.name, tea.price, tea.vat_rate, tea.weight_g) == (
        "Чай зелёный",
        Decimal("199.90"),
        Decimal("22"),
        100,
    )
    assert tea.all_barcodes == ("4600000000008", "2000000000008")
    assert catalogue.get_product(potok.uow(), "MILK").tracking is Tracking.LOT
    with potok.uow().read() as uow:
        assert uow.products.owners_of(["2000000000008"]) == {"2000000000008": "TEA-1"}
    assert events(potok, "product.created") == 4 + 2  # the world's four, then these two


def test_the_same_catalogue_twice_changes_nothing_the_second_time(potok: Potok) -> None:
    build_world(potok)
    catalogue_files.import_products(potok.uow(), csv(CATALOGUE), FileFormat.CSV)
    before = events(potok, "product.updated")

    summary, _ = catalogue_files.import_products(potok.uow(), csv(CATALOGUE), FileFormat.CSV)

    assert (summary.changed, summary.created) == (0, 0)
    assert events(potok, "product.updated") == before


def test_columns_left_out_keep_each_products_values(potok: Potok) -> None:
    build_world(potok)
    before = catalogue.get_product(potok.uow(), "KET")

    summary, _ = catalogue_files.import_products(
        potok.uow(), csv("sku,price\nKET,2590.00\n"), FileFormat.CSV
    )

    after = catalogue.get_product(potok.uow(), "KET")
    assert (summary.changed, summary.created) == (1, 0)
    assert after.price == Decimal("2590.00")
    assert (after.name, after.barcode, after.weight_g) == (
        before.name,
        before.barcode,
        before.weight_g,
    )
    assert events(potok, "product.updated") == 1


def test_a_catalogue_with_bad_rows_creates_nothing_and_names_each_cell(potok: Potok) -> None:
    build_world(potok)
    text = (
        "sku,name,price,vat_rate,barcode,tracking\n"
        "NEW-1,Good one,100,22,,none\n"
        "NEW-2,,100,22,,none\n"  # a new product without a name
        "NEW-3,Bad price,сто,22,,none\n"
        "NEW-4,Bad digit,100,22,4601234567890,none\n"  # wrong GTIN check digit
        "NEW-5,Taken,100,22,4601234567893,none\n"  # KET's barcode
        "NEW-6,Odd tracking,100,22,,weekly\n"
        "NEW-1,Again,100,22,,none\n"  # repeats row 2
    )

    problems = rejected(
        lambda: catalogue_files.import_products(potok.uow(), csv(text), FileFormat.CSV)
    )

    assert problems == [
        (3, "name"),
        (4, "price"),
        (5, "barcode"),
        (6, "barcode"),
        (7, "tracking"),
        (8, None),
    ]
    with potok.uow().read() as uow:
        assert uow.products.ids_for(["NEW-1"]) == {}


def test_tracking_cannot_change_by_file_while_there_is_stock(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 2})
    with pytest.raises(FileRejected) as caught:
        catalogue_files.import_products(
            potok.uow(), csv("sku,tracking\nKET,serial\n"), FileFormat.CSV
        )
    assert caught.value.problems == [
        RowProblem(
            2,
            "tracking",
            "KET has stock kept as 'none'; write it off or move it out before tracking it as "
            "'serial'",
            "serial",
        )
    ]


def test_two_rows_giving_one_barcode_to_two_products_are_refused(potok: Potok) -> None:
    build_world(potok)
    text = "sku,name,price,vat_rate,barcode\nA-1,A,1,22,2000000000015\nB-1,B,1,22,2000000000015\n"
    assert rejected(
        lambda: catalogue_files.import_products(potok.uow(), csv(text), FileFormat.CSV)
    ) == [(3, "barcode")]


def test_a_catalogue_export_imports_back_unchanged(potok: Potok) -> None:
    build_world(potok)
    catalogue_files.import_products(potok.uow(), csv(CATALOGUE), FileFormat.CSV)
    for fmt in FileFormat:
        out = io.BytesIO()
        assert file_exports.export_products(potok.uow(), out, fmt) == 6
        out.seek(0)

        summary, problems = catalogue_files.import_products(potok.uow(), out, fmt)

        assert problems == []
        assert (summary.rows, summary.changed) == (6, 0)


def test_a_catalogue_file_puts_products_in_categories_and_names_unknown_ones(
    potok: Potok,
) -> None:
    build_world(potok)
    for code, parent in (("appliances", None), ("kettles", "appliances")):
        categories.create_category(potok.uow(), CategoryDraft(code, code.title(), parent))
    text = "артикул;категория\nKET;kettles\nMUG;appliances\n"

    summary, _ = catalogue_files.import_products(potok.uow(), csv(text), FileFormat.CSV)

    assert (summary.changed, summary.created) == (2, 0)
    assert catalogue.get_product(potok.uow(), "KET").category == "kettles"
    assert [p.sku for p in catalogue.list_products(potok.uow(), category="appliances")] == [
        "KET",
        "MUG",
    ]
    bad = "sku,category\nKET,\nMUG,kitchen\nTOY,kettles\n"
    with pytest.raises(FileRejected) as caught:
        catalogue_files.import_products(potok.uow(), csv(bad), FileFormat.CSV)
    assert caught.value.problems == [
        RowProblem(3, "category", "there is no category 'kitchen'", "kitchen")
    ]
    assert catalogue.get_product(potok.uow(), "KET").category == "kettles"  # nothing applied
    for fmt in FileFormat:
        out = io.BytesIO()
        file_exports.export_products(potok.uow(), out, fmt)
        exported = out.getvalue()
        table = read_table(io.BytesIO(exported), fmt)
        column = table.header.cells.index("category")
        rows = {r.cells[0]: (r.cells + [""] * 20)[column] for r in table}
        assert (rows["KET"], rows["MUG"], rows["TOY"]) == ("kettles", "appliances", "")
        again = catalogue_files.import_products(potok.uow(), io.BytesIO(exported), fmt)
        assert again[0].changed == 0
    emptied, _ = catalogue_files.import_products(
        potok.uow(), csv("sku,category\nKET,\n"), FileFormat.CSV
    )
    assert emptied.changed == 1
    assert catalogue.get_product(potok.uow(), "KET").category is None


def test_many_products_are_created_in_one_go(potok: Potok) -> None:
    build_world(potok)
    count = 1500
    text = "sku,name,price,vat_rate,barcode\n" + "".join(
        f"BULK-{n:05d},Item {n},{n}.50,22,BC{n:06d}\n" for n in range(count)
    )
    started = datetime.now()

    summary, _ = catalogue_files.import_products(potok.uow(), csv(text), FileFormat.CSV)

    assert (summary.created, summary.changed) == (count, count)
    assert catalogue.get_product(potok.uow(), "BULK-01499").barcode == "BC001499"
    with potok.uow().read() as uow:
        assert len(uow.products.owners_of([f"BC{n:06d}" for n in range(count)])) == count
    assert started <= datetime.now()


# ---------------------------------------------------------------------- orders


def place(potok: Potok, lines: list[tuple[str, int]], **extra: object) -> int:
    from potok.services.intake import Placement, place_order
    from tests.factories import order_command

    placed = place_order(potok.uow(), order_command(lines, **extra), TESTER)
    assert isinstance(placed, Placement)
    assert placed.order.id is not None
    return placed.order.id


def exported_orders(potok: Potok, flt: object = None, *, customer: bool = False) -> list[list[str]]:
    from potok.services.read_models import OrderFilter

    out = io.BytesIO()
    file_exports.export_orders(
        potok.uow(),
        out,
        FileFormat.CSV,
        flt if isinstance(flt, OrderFilter) else OrderFilter(),
        customer=customer,
    )
    out.seek(0)
    table = read_table(out, FileFormat.CSV)
    header = table.header.cells
    return [header, *[r.cells for r in table]]


def test_orders_export_one_row_per_line_in_the_order_they_came(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 10, ("MSK", "MUG"): 10})
    first = place(potok, [("KET", 1), ("MUG", 2)], external_id="WEB-1")
    second = place(potok, [("MUG", 1)], external_id="WEB-2")

    header, *rows = exported_orders(potok)

    assert header == list(file_exports.ORDER_HEADER)
    picked = [(r[0], r[1], r[2], r[11], r[12], r[14], r[15], r[17]) for r in rows]
    assert picked == [
        (str(first), "WEB-1", "web", "1", "KET", "1", "2490.00", "2490.00"),
        (str(first), "WEB-1", "web", "2", "MUG", "2", "390.00", "780.00"),
        (str(second), "WEB-2", "web", "1", "MUG", "1", "390.00", "390.00"),
    ]


def test_orders_export_takes_the_order_lists_filters(potok: Potok) -> None:
    from potok.services.read_models import OrderFilter

    build_world(potok, {("MSK", "KET"): 10})
    place(potok, [("KET", 1)], external_id="WEB-1")
    kept = place(potok, [("KET", 1)], external_id="WEB-2")

    _, *rows = exported_orders(potok, OrderFilter(text="WEB-2"))

    assert [r[0] for r in rows] == [str(kept)]


def test_orders_export_adds_the_customer_only_when_asked(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 10})
    place(potok, [("KET", 1)], customer_name="Анна Смирнова", customer_phone="+79161234567")

    plain_header, *_ = exported_orders(potok)
    header, row = exported_orders(potok, customer=True)

    assert "customer_name" not in plain_header
    assert header[-3:] == ["customer_name", "customer_phone", "customer_email"]
    assert row[-3:] == ["Анна Смирнова", "+79161234567", ""]


# ---------------------------------------------------------------------- movements


def test_the_ledger_exports_newest_first_with_reason_and_reference(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 3})
    import_levels(potok, csv("warehouse,sku,on_hand\nMSK,KET,5\n"))
    out = io.BytesIO()

    count = file_exports.export_movements(potok.uow(), out, FileFormat.XLSX, warehouses=("MSK",))

    out.seek(0)
    table = read_table(out, FileFormat.XLSX)
    assert table.header.cells == list(file_exports.MOVEMENT_HEADER)
    rows = [r.cells for r in table]
    assert count == 2
    assert [(r[2], r[3], r[5], r[6], r[7], r[10]) for r in rows] == [
        ("MSK", "KET", "import", "2", "5", "test"),
        ("MSK", "KET", "receipt", "3", "3", ""),
    ]


def test_a_stock_file_of_several_event_batches_applies_every_row_once(potok: Potok) -> None:
    build_world(potok)
    count = 2100
    products = "sku,name,price,vat_rate\n" + "".join(
        f"BULK-{n:05d},Item {n},10,22\n" for n in range(count)
    )
    catalogue_files.import_products(potok.uow(), csv(products), FileFormat.CSV)
    rows = [(w, f"BULK-{n:05d}", 1 + n % 7) for w in ("MSK", "SPB", "KZN") for n in range(count)]
    text = "warehouse,sku,on_hand\n" + "".join(f"{w},{s},{q}\n" for w, s, q in rows)

    assert import_levels(potok, csv(text)) == 3 * count

    page = inventory.list_levels(potok.uow(), sku="BULK-02099", limit=10)
    assert {(r.warehouse, r.on_hand) for r in page.items} == {("MSK", 7), ("SPB", 7), ("KZN", 7)}
    assert events(potok, "stock.changed") == 3 * count
    assert import_levels(potok, csv(text)) == 0
    assert_stock_invariants(potok)
