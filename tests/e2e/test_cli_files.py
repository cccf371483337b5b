"""``potok files``: stock and products out to CSV and XLSX and back, bad files listed by
row and column and reported in a file of the same format."""

from __future__ import annotations

from pathlib import Path

import openpyxl

from potok.bootstrap import Potok
from potok.services import catalogue
from potok.spreadsheets import FileFormat, read_table
from tests.e2e.test_cli import levels, potok_cli, table_rows, write_csv
from tests.factories import build_world
from tests.invariants import assert_stock_invariants


def test_stock_exported_to_xlsx_edited_and_imported_back(
    potok: Potok, database_url: str, tmp_path: Path
) -> None:
    build_world(potok, {("MSK", "KET"): 3, ("SPB", "MUG"): 5})
    file = tmp_path / "остатки.xlsx"

    exported = potok_cli(database_url, "files", "export", "stock-levels", str(file))

    assert exported.exit_code == 0, exported.output
    assert "wrote 2 rows" in exported.stdout
    book = openpyxl.load_workbook(file)
    sheet = book.active
    assert sheet is not None
    column = [c.value for c in sheet[1]].index("on_hand") + 1
    for row in range(2, sheet.max_row + 1):
        sheet.cell(row, column).value = 1
    book.save(file)

    imported = potok_cli(database_url, "files", "import", "stock-levels", str(file))

    assert imported.exit_code == 0, imported.output
    assert "2 changed" in imported.stdout
    assert levels(potok) == {("MSK", "KET"): 1, ("SPB", "MUG"): 1}
    assert_stock_invariants(potok)


def test_a_bad_products_file_is_listed_and_reported_and_changes_nothing(
    potok: Potok, database_url: str, tmp_path: Path
) -> None:
    build_world(potok)
    file = write_csv(
        tmp_path,
        "sku,name,price,vat_rate\nNEW-1,New,100,22\nNEW-2,,100,22\nNEW-3,Three,free,22\n",
        "products.csv",
    )
    report = tmp_path / "problems.xlsx"

    result = potok_cli(
        database_url, "files", "import", "products", str(file), "--report", str(report)
    )

    assert result.exit_code == 3, result.output
    assert [(row[0], row[1]) for row in table_rows(result.stderr)] == [
        ("3", "name"),
        ("4", "price"),
    ]
    with report.open("rb") as handle:
        rows = [r.cells for r in read_table(handle, FileFormat.XLSX)]
    assert [row[:2] for row in rows] == [["3", "name"], ["4", "price"]]
    assert [p.sku for p in catalogue.list_products(potok.uow())] == ["BKS", "KET", "MUG", "TOY"]


def test_products_skip_bad_imports_the_good_rows(
    potok: Potok, database_url: str, tmp_path: Path
) -> None:
    build_world(potok)
    file = write_csv(
        tmp_path, "sku,name,price,vat_rate\nNEW-1,New,100,22\nNEW-2,,100,22\n", "products.csv"
    )

    result = potok_cli(database_url, "files", "import", "products", "--skip-bad", str(file))

    assert result.exit_code == 3, result.output
    assert "1 new" in result.stdout
    assert catalogue.get_product(potok.uow(), "NEW-1").name == "New"


def test_an_unknown_extension_is_a_plain_error(
    potok: Potok, database_url: str, tmp_path: Path
) -> None:
    build_world(potok)
    file = write_csv(tmp_path, "sku\nKET\n", "products.ods")

    result = potok_cli(database_url, "files", "import", "products", str(file))

    assert result.exit_code == 2
    assert "neither CSV nor XLSX" in result.stderr
    assert "Traceback" not in result.output


def test_the_catalogue_exports_to_csv_in_the_import_columns(
    potok: Potok, database_url: str, tmp_path: Path
) -> None:
    build_world(potok)
    file = tmp_path / "products.csv"

    result = potok_cli(database_url, "files", "export", "products", str(file))

    assert result.exit_code == 0, result.output
    with file.open("rb") as handle:
        table = read_table(handle, FileFormat.CSV)
        assert table.header.cells[:4] == ["sku", "name", "price", "vat_rate"]
        assert [r.cells[0] for r in table] == ["BKS", "KET", "MUG", "TOY"]


def test_orders_export_to_csv_with_the_customer(
    potok: Potok, database_url: str, tmp_path: Path
) -> None:
    from tests.e2e.test_cli import place

    build_world(potok, {("MSK", "KET"): 5})
    order_id = place(potok, [("KET", 2)], customer_name="Анна Смирнова")
    file = tmp_path / "orders.csv"

    result = potok_cli(
        database_url, "files", "export", "orders", str(file), "--status", "reserved", "--customer"
    )

    assert result.exit_code == 0, result.output
    with file.open("rb") as handle:
        table = read_table(handle, FileFormat.CSV)
        header = table.header.cells
        rows = [r.cells for r in table]
    assert [(r[0], r[12], r[14], r[header.index("customer_name")]) for r in rows] == [
        (str(order_id), "KET", "2", "Анна Смирнова")
    ]


def test_orders_export_refuses_an_unknown_status(
    potok: Potok, database_url: str, tmp_path: Path
) -> None:
    build_world(potok)
    result = potok_cli(
        database_url, "files", "export", "orders", str(tmp_path / "o.csv"), "--status", "lost"
    )
    assert result.exit_code == 3, result.output
    assert not (tmp_path / "o.csv").exists()


def test_the_ledger_exports_to_csv_by_type(potok: Potok, database_url: str, tmp_path: Path) -> None:
    build_world(potok, {("MSK", "KET"): 3, ("SPB", "MUG"): 1})
    file = tmp_path / "ledger.csv"

    result = potok_cli(database_url, "files", "export", "movements", str(file), "--type", "receipt")

    assert result.exit_code == 0, result.output
    with file.open("rb") as handle:
        rows = [r.cells for r in read_table(handle, FileFormat.CSV)]
    assert sorted((r[2], r[3], r[6]) for r in rows) == [("MSK", "KET", "3"), ("SPB", "MUG", "1")]


def test_stock_rules_round_trip_through_excel(
    potok: Potok, database_url: str, tmp_path: Path
) -> None:
    from potok.services import replenishment

    build_world(potok, {("MSK", "KET"): 3})
    file = tmp_path / "rules.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Склад", "Артикул", "Минимум", "Максимум", "Страховой запас"])
    sheet.append(["MSK", "KET", 2, 10, 1])
    sheet.append(["SPB", "MUG", 5, 3, None])  # max below min
    book.save(file)

    refused = potok_cli(database_url, "files", "import", "stock-rules", str(file))

    assert refused.exit_code == 3, refused.output
    assert [(row[0], row[1]) for row in table_rows(refused.stderr)] == [("3", "max")]
    assert replenishment.list_rules(potok.uow()).items == []

    sheet.delete_rows(3)
    book.save(file)
    imported = potok_cli(database_url, "files", "import", "stock-rules", str(file))
    exported = potok_cli(database_url, "files", "export", "stock-rules", str(tmp_path / "r.csv"))

    assert imported.exit_code == 0, imported.output
    assert exported.exit_code == 0, exported.output
    with (tmp_path / "r.csv").open("rb") as handle:
        rows = [r.cells[:5] for r in read_table(handle, FileFormat.CSV)]
    assert rows == [["MSK", "KET", "2", "10", "1"]]


def test_a_store_day_of_receipts_imported_twice_moves_its_stock_once(
    potok: Potok, database_url: str, tmp_path: Path
) -> None:
    build_world(potok, {("MSK-S", "KET"): 4, ("MSK-S", "MUG"): 6})
    file = write_csv(
        tmp_path,
        "store,receipt,kind,sold_at,sku,quantity,price\n"
        "MSK-S,R-1,sale,2026-12-06 10:15,KET,2,2490.00\n"
        "MSK-S,R-1,sale,2026-12-06 10:15,MUG,1,390.00\n"
        "MSK-S,R-2,return,2026-12-06 11:00,MUG,1,390.00\n",
        "day.csv",
    )
    for _ in range(2):
        result = potok_cli(database_url, "files", "import", "store-receipts", str(file))
        assert result.exit_code == 0, result.output
    assert levels(potok) == {("MSK-S", "KET"): 2, ("MSK-S", "MUG"): 6}
    assert_stock_invariants(potok)


def test_orders_exported_edited_in_excel_and_imported_back(
    potok: Potok, database_url: str, tmp_path: Path
) -> None:
    """The operator's round trip: export, change a quantity and add an order in the sheet,
    dry run, import, and the same file again changes nothing."""
    build_world(potok, {("MSK", "KET"): 10, ("MSK", "MUG"): 10})
    seed = write_csv(
        tmp_path,
        "channel,external_id,sku,quantity,city,address\nweb,W-1,KET,1,Тверь,Советская 1\n",
        "seed.csv",
    )
    assert potok_cli(database_url, "files", "import", "orders", str(seed)).exit_code == 0
    file = tmp_path / "заказы.xlsx"
    assert potok_cli(database_url, "files", "export", "orders", str(file)).exit_code == 0
    book = openpyxl.load_workbook(file)
    sheet = book.active
    assert sheet is not None
    header = [c.value for c in sheet[1]] + ["address"]
    sheet.cell(1, len(header)).value = "address"
    sheet.cell(2, header.index("quantity") + 1).value = 4  # W-1's kettles: 1 -> 4
    row = sheet.max_row + 1
    new = {"channel": "web", "external_id": "W-2", "sku": "MUG", "quantity": 3}
    for name, value in {**new, "city": "Тверь", "address": "Советская 2"}.items():
        sheet.cell(row, header.index(name) + 1).value = value
    book.save(file)
    report = tmp_path / "итог.csv"

    tried = potok_cli(database_url, "files", "import", "orders", "--dry-run", str(file))
    done = potok_cli(database_url, "files", "import", "orders", str(file), "--report", str(report))
    again = potok_cli(database_url, "files", "import", "orders", str(file))

    assert tried.exit_code == 0, tried.output
    assert "1 orders would be taken, 1 changed, 0 are in Potok as the file says" in tried.stdout
    assert done.exit_code == 0, done.output
    assert "1 orders taken, 1 changed, 0 in Potok as the file says, 0 refused" in done.stdout
    assert again.exit_code == 0, again.output
    assert "0 orders taken, 0 changed, 2 in Potok as the file says" in again.stdout
    with report.open("rb") as handle:
        outcomes = [r.cells[:4] for r in read_table(handle, FileFormat.CSV)]
    assert outcomes == [["2", "web", "W-1", "changed"], ["3", "web", "W-2", "taken"]]
    with potok.uow().read() as uow:
        web = uow.channels.get_by_code("web")
        assert web is not None
        taken = uow.orders.ids_by_external(web.id, ["W-1", "W-2"])
        (kettles,) = uow.orders.get(taken["W-1"]).lines  # type: ignore[union-attr]
    assert sorted(taken) == ["W-1", "W-2"]
    assert kettles.quantity == 4


def test_a_bad_orders_file_is_listed_by_row_and_column_and_takes_nothing(
    potok: Potok, database_url: str, tmp_path: Path
) -> None:
    build_world(potok, {("MSK", "KET"): 10})
    file = write_csv(
        tmp_path,
        "channel,external_id,sku,quantity,city,address\n"
        "web,W-1,KET,1,Тверь,Советская 1\n"
        "web,W-2,KET,many,Тверь,Советская 1\n",
        "orders.csv",
    )

    result = potok_cli(database_url, "files", "import", "orders", str(file))

    assert result.exit_code == 3, result.output
    assert [(row[0], row[1]) for row in table_rows(result.stderr)] == [("3", "quantity")]
    assert "nothing taken" in result.stderr
    with potok.uow().read() as uow:
        web = uow.channels.get_by_code("web")
        assert web is not None
        assert uow.orders.ids_by_external(web.id, ["W-1"]) == {}
