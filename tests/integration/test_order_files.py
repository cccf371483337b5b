"""Orders imported from CSV and XLSX files, on SQLite and PostgreSQL: taken through intake
once per channel and external id, every bad cell named by row and column before any order
is taken, a dry run, and an operator's round trip through Excel."""

from __future__ import annotations

import io
import threading
from decimal import Decimal

import openpyxl
import pytest
import sqlalchemy as sa

from potok.bootstrap import Potok
from potok.db.tables import orders as orders_table
from potok.services import file_exports, order_imports
from potok.services.file_imports import FileRejected
from potok.services.order_imports import OrderImport, Outcome
from potok.services.orders import get_order
from potok.services.read_models import OrderFilter
from potok.spreadsheets import FileFormat, read_table
from tests.factories import TESTER, build_world
from tests.invariants import assert_stock_invariants

HEADER = "channel,external_id,sku,quantity,unit_price,city,address,customer_name,customer_phone"


def csv(text: str) -> io.BytesIO:
    return io.BytesIO(text.encode("utf-8"))


def import_csv(potok: Potok, text: str, *, dry_run: bool = False) -> OrderImport:
    return order_imports.import_orders(
        potok.uow(), csv(text), FileFormat.CSV, TESTER, dry_run=dry_run
    )


def outcomes(done: OrderImport) -> list[tuple[int, str | None, str]]:
    return [(o.row, o.external_id, o.outcome.value) for o in done.outcomes]


def order_count(potok: Potok) -> int:
    with potok.engine.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(orders_table)).scalar_one()


def refused(potok: Potok, text: str) -> list[tuple[int, str | None]]:
    with pytest.raises(FileRejected) as caught:
        import_csv(potok, text)
    return [(p.row, p.column) for p in caught.value.problems]


TWO_ORDERS = (
    HEADER + "\n"
    'web,W-1,KET,1,2390.00,Тверь,"ул. Советская, 1",Анна Смирнова,+7 916 123-45-67\n'
    "web,W-1,MUG,2,,,,,\n"
    'phone,P-7,MUG,1,,Москва,"Тверская, 7",Олег,\n'
)


def test_a_file_of_new_orders_is_taken_through_intake_once(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 5, ("MSK", "MUG"): 5})

    first = import_csv(potok, TWO_ORDERS)
    again = import_csv(potok, TWO_ORDERS)

    assert outcomes(first) == [(2, "W-1", "taken"), (4, "P-7", "taken")]
    assert outcomes(again) == [(2, "W-1", "existing"), (4, "P-7", "existing")]
    assert [o.order_id for o in again.outcomes] == [o.order_id for o in first.outcomes]
    assert order_count(potok) == 2
    web = get_order(potok.uow(), first.outcomes[0].order_id or 0).order
    assert [(ln.sku, ln.quantity, ln.unit_price) for ln in web.lines] == [
        ("KET", 1, Decimal("2390.00")),  # the file's price
        ("MUG", 2, Decimal("390.00")),  # the catalogue's, the cell being empty
    ]
    assert web.contact.name == "Анна Смирнова"
    assert web.contact.phone == "+79161234567"
    assert web.delivery.address is not None
    assert (web.delivery.address.city, web.delivery.address.line1) == ("Тверь", "ул. Советская, 1")
    assert web.status.value == "reserved"  # the web channel confirms on arrival
    assert first.outcomes[0].status == "reserved"
    phone = get_order(potok.uow(), first.outcomes[1].order_id or 0).order
    assert phone.status.value == "new"  # the call centre confirms by hand
    assert_stock_invariants(potok)


def test_a_dry_run_takes_nothing_and_says_what_would_be_taken(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 5, ("MSK", "MUG"): 5})
    import_csv(potok, "".join(TWO_ORDERS.splitlines(keepends=True)[:3]))  # W-1 alone

    done = import_csv(potok, TWO_ORDERS, dry_run=True)

    assert outcomes(done) == [(2, "W-1", "existing"), (4, "P-7", "would_take")]
    assert order_count(potok) == 1


def test_a_bad_file_takes_no_order_and_names_every_row_and_column(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 5})
    text = (
        HEADER + ",payment_status,pickup_point\n"
        "web,W-1,KET,1,,Тверь,Советская 1,,,,\n"  # good
        "web,W-2,NOPE,1,,Тверь,Советская 1,,,,\n"  # unknown SKU
        "web,W-3,KET,lots,,Тверь,Советская 1,,,,\n"  # not a number
        "shop,W-4,KET,1,,Тверь,Советская 1,,,,\n"  # unknown channel
        "web,W-5,KET,1,,,,,,,\n"  # a courier order without an address
        "web,W-6,KET,1,,Тверь,Советская 1,,12,,\n"  # not a phone number
        "web,W-7,KET,1,,Тверь,Советская 1,,,someday,\n"  # unknown payment status
        "web,W-8,KET,1,,,,,,,NOWHERE\n"  # unknown pickup point
        "web,W-1,KET,1,abc,Москва,Советская 1,,,,\n"  # contradicts row 2's city; bad price
        ",W-9,KET,1,,Тверь,Советская 1,,,,\n"  # no channel
        "web,,KET,1,,Тверь,Советская 1,,,,\n"  # a new order without its number
    )

    assert refused(potok, text) == [
        (3, "sku"),
        (4, "quantity"),
        (5, "channel"),
        (6, "address"),
        (7, "customer_phone"),
        (8, "payment_status"),
        (9, "pickup_point"),
        (10, "city"),
        (10, "unit_price"),
        (11, "channel"),
        (12, "external_id"),
    ]
    assert order_count(potok) == 0


def test_a_line_numbered_twice_in_one_order_is_a_duplicate(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 5, ("MSK", "MUG"): 5})
    text = (
        "channel,external_id,line_no,sku,quantity,city,address\n"
        "web,W-1,1,KET,1,Тверь,Советская 1\n"
        "web,W-1,1,MUG,1,,\n"
    )

    assert refused(potok, text) == [(3, None)]


def test_an_order_the_channel_cannot_cover_is_refused_and_the_others_taken(
    potok: Potok,
) -> None:
    build_world(potok, {("MSK", "KET"): 1})
    text = (
        "channel,external_id,sku,quantity,city,address\n"
        "mp,M-1,KET,5,Тверь,Советская 1\n"  # the marketplace refuses backorders
        "web,W-1,KET,1,Тверь,Советская 1\n"
    )

    done = import_csv(potok, text)

    assert outcomes(done) == [(2, "M-1", "refused"), (3, "W-1", "taken")]
    assert "KET needs 5" in done.outcomes[0].problem
    assert order_count(potok) == 1


def test_rows_of_an_order_may_be_anywhere_and_keep_their_line_numbers(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 5, ("MSK", "MUG"): 5, ("MSK", "TOY"): 5})
    text = (
        "канал;внешний номер;номер строки;артикул;количество;город;адрес\n"
        "web;W-1;2;MUG;1;Тверь;Советская 1\n"
        "web;W-2;;TOY;1;Тверь;Советская 2\n"
        "web;W-1;1;KET;3;;\n"
    )

    done = import_csv(potok, text)

    assert outcomes(done) == [(2, "W-1", "taken"), (3, "W-2", "taken")]
    first = get_order(potok.uow(), done.outcomes[0].order_id or 0).order
    assert [(ln.line_no, ln.sku, ln.quantity) for ln in first.lines] == [
        (1, "KET", 3),
        (2, "MUG", 1),
    ]


def test_two_imports_of_one_file_racing_take_each_order_once(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 100})
    text = "channel,external_id,sku,quantity,city,address\n" + "".join(
        f"web,R-{n},KET,1,Тверь,Советская {n}\n" for n in range(20)
    )
    results: list[OrderImport] = []
    errors: list[BaseException] = []
    start = threading.Barrier(3)

    def run() -> None:
        try:
            start.wait()
            results.append(import_csv(potok, text))
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert order_count(potok) == 20
    taken = sum(done.count(Outcome.TAKEN) for done in results)
    assert taken == 20
    assert sum(done.count(Outcome.EXISTING) for done in results) == 40
    assert_stock_invariants(potok)


# ---------------------------------------------------------------------- round trip


def exported_sheet(potok: Potok) -> tuple[openpyxl.Workbook, dict[str, int]]:
    """The order export as a workbook, with its columns by name (and ``address`` and
    ``customer_name`` added at the end, which an export leaves out)."""
    exported = io.BytesIO()
    file_exports.export_orders(potok.uow(), exported, FileFormat.XLSX, OrderFilter())
    exported.seek(0)
    book = openpyxl.load_workbook(exported)
    sheet = book.active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    for extra in ("address", "customer_name"):
        header.append(extra)
        sheet.cell(1, len(header)).value = extra
    return book, {str(name): header.index(name) + 1 for name in header}


def saved(book: openpyxl.Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def import_xlsx(potok: Potok, content: bytes) -> OrderImport:
    return order_imports.import_orders(potok.uow(), io.BytesIO(content), FileFormat.XLSX, TESTER)


def test_orders_round_trip_through_excel(potok: Potok) -> None:
    """Export, change a quantity, take a line off, add an order in Excel, import: the
    edits are made through the order-edit use case, the new order is taken, nothing is
    duplicated; the same file again changes nothing."""
    build_world(potok, {("MSK", "KET"): 10, ("MSK", "MUG"): 10})
    first = import_csv(potok, TWO_ORDERS)
    web_id = first.outcomes[0].order_id or 0
    book, at = exported_sheet(potok)
    sheet = book.active
    assert sheet is not None
    rows = [[c.value for c in r] for r in sheet.iter_rows(min_row=2)]
    assert [(r[at["external_id"] - 1], r[at["sku"] - 1]) for r in rows] == [
        ("W-1", "KET"),
        ("W-1", "MUG"),
        ("P-7", "MUG"),
    ]
    sheet.cell(2, at["quantity"]).value = 3  # W-1's kettles: 1 -> 3
    sheet.cell(3, at["quantity"]).value = 0  # W-1's mugs: off
    for line_no, (sku, quantity) in enumerate([("MUG", 4), ("KET", 1)], start=1):
        row = sheet.max_row + 1
        values = {
            "channel": "web",
            "external_id": "W-NEW",
            "line_no": line_no,
            "sku": sku,
            "quantity": quantity,
            "city": "Тверь",
            "address": "Советская, 9",
            "customer_name": "Вера",
        }
        for name, value in values.items():
            sheet.cell(row, at[name]).value = value
    edited = saved(book)

    done = import_xlsx(potok, edited)
    again = import_xlsx(potok, edited)

    assert outcomes(done) == [(2, "W-1", "changed"), (4, "P-7", "existing"), (5, "W-NEW", "taken")]
    assert outcomes(again) == [
        (2, "W-1", "existing"),
        (4, "P-7", "existing"),
        (5, "W-NEW", "existing"),
    ]
    assert order_count(potok) == 3
    web = get_order(potok.uow(), web_id)
    assert [(ln.line_no, ln.sku, ln.quantity) for ln in web.order.lines] == [(1, "KET", 3)]
    assert web.history[-1].reason == "changed by file"
    new = get_order(potok.uow(), done.outcomes[2].order_id or 0).order
    assert [(ln.sku, ln.quantity) for ln in new.lines] == [("MUG", 4), ("KET", 1)]
    assert new.contact.name == "Вера"
    assert_stock_invariants(potok)
    report = io.BytesIO()
    order_imports.write_outcomes(report, FileFormat.XLSX, done)
    report.seek(0)
    table = read_table(report, FileFormat.XLSX)
    assert table.header.cells == list(order_imports.REPORT_HEADER)
    assert [r.cells[:5] for r in table] == [
        ["2", "web", "W-1", "changed", str(web_id)],
        ["4", "phone", "P-7", "existing", str(first.outcomes[1].order_id)],
        ["5", "web", "W-NEW", "taken", str(done.outcomes[2].order_id)],
    ]


def test_an_export_of_an_order_changed_since_is_refused_by_its_version(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 10, ("MSK", "MUG"): 10})
    import_csv(potok, TWO_ORDERS)
    book, at = exported_sheet(potok)
    sheet = book.active
    assert sheet is not None
    sheet.cell(2, at["quantity"]).value = 2
    import_csv(potok, "channel,external_id,sku,quantity\nweb,W-1,KET,4\n")  # meanwhile

    with pytest.raises(FileRejected) as caught:
        import_xlsx(potok, saved(book))

    assert [(p.row, p.column) for p in caught.value.problems] == [(2, "version")]
    with potok.uow().read() as uow:
        web = uow.channels.get_by_code("web")
        assert web is not None
        (order_id,) = uow.orders.ids_by_external(web.id, ["W-1"]).values()
    assert [ln.quantity for ln in get_order(potok.uow(), order_id).order.lines] == [4, 2]


def test_rows_of_an_order_potok_has_may_only_change_quantities_and_add_lines(
    potok: Potok,
) -> None:
    build_world(potok, {("MSK", "KET"): 10, ("MSK", "MUG"): 10, ("MSK", "TOY"): 10})
    first = import_csv(potok, TWO_ORDERS)
    web_id = first.outcomes[0].order_id
    text = (
        "order_id,channel,line_no,sku,quantity,unit_price\n"
        f"{web_id},web,1,MUG,1,\n"  # line 1 is the kettle
        f"{web_id},web,2,MUG,2,1.00\n"  # its price stays
        f"{web_id},web,7,MUG,1,\n"  # no such line
        f"{web_id},phone,,TOY,1,\n"  # says another channel than its first row
        "999999,web,,TOY,1,\n"  # no such order
    )

    assert refused(potok, text) == [
        (2, "sku"),
        (3, "unit_price"),
        (4, "line_no"),
        (5, "channel"),
        (6, "order_id"),
    ]


def test_a_line_added_by_file_to_an_order_potok_has_is_reserved(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 10, ("MSK", "MUG"): 10, ("MSK", "TOY"): 10})
    import_csv(potok, TWO_ORDERS)

    done = import_csv(
        potok,
        "channel,external_id,sku,quantity\nweb,W-1,KET,1\nweb,W-1,MUG,2\nweb,W-1,TOY,3\n",
    )

    assert outcomes(done) == [(2, "W-1", "changed")]
    order = get_order(potok.uow(), done.outcomes[0].order_id or 0).order
    assert [(ln.line_no, ln.sku, ln.quantity) for ln in order.lines] == [
        (1, "KET", 1),
        (2, "MUG", 2),
        (3, "TOY", 3),
    ]
    assert order.status.value == "reserved"
    assert_stock_invariants(potok)


def test_an_edit_of_a_cancelled_order_is_refused_and_the_rest_applied(potok: Potok) -> None:
    from potok.domain.orders.commands import CancelOrder
    from potok.services.orders import cancel_order

    build_world(potok, {("MSK", "KET"): 10, ("MSK", "MUG"): 10})
    first = import_csv(potok, TWO_ORDERS)
    cancel_order(potok.uow(), CancelOrder(first.outcomes[0].order_id or 0, "test"), TESTER)

    done = import_csv(
        potok,
        "channel,external_id,sku,quantity\nweb,W-1,KET,2\nphone,P-7,MUG,3\n",
    )

    assert outcomes(done) == [(2, "W-1", "refused"), (3, "P-7", "changed")]
    assert "cancelled" in done.outcomes[0].problem


def test_a_file_changes_the_delivery_customer_and_payment_of_an_order_potok_has(
    potok: Potok,
) -> None:
    build_world(potok, {("MSK", "KET"): 10, ("MSK", "MUG"): 10})
    first = import_csv(potok, TWO_ORDERS)
    web_id = first.outcomes[0].order_id or 0
    version = get_order(potok.uow(), web_id).order.version
    text = (
        "order_id,channel,sku,quantity,city,address,customer_phone,payment_status,version\n"
        f'{web_id},web,KET,1,Москва,"Тверская, 1",+7 999 000-00-01,paid,{version}\n'
    )

    done = import_csv(potok, text)

    assert outcomes(done) == [(2, None, "changed")]  # named by its id alone
    view = get_order(potok.uow(), web_id)
    order = view.order
    assert order.delivery.address is not None
    assert (order.delivery.address.city, order.delivery.address.line1) == ("Москва", "Тверская, 1")
    assert (order.contact.name, order.contact.phone) == ("Анна Смирнова", "+79990000001")
    assert order.payment_status.value == "paid"
    assert [ln.quantity for ln in order.lines] == [1, 2]  # lines not named stay
    assert order.version == version + 1  # one edit, one version
    edited = [h for h in view.history if h.action in ("edited", "payment_changed")]
    assert [(h.action, h.reason) for h in edited] == [
        ("edited", "changed by file"),
        ("payment_changed", "changed by file"),
    ]
    assert edited[0].details["contact"] == ["phone"]  # which, never the number
    assert "9990000001" not in str(edited[0].details)
    assert outcomes(import_csv(potok, text.replace(f",{version}\n", ",\n"))) == [
        (2, "W-1", "existing")
    ]  # the same cells again: nothing to do


def test_order_cells_that_cannot_change_are_refused_by_row_and_column(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 10, ("MSK", "MUG"): 10})
    first = import_csv(potok, TWO_ORDERS)
    web_id, phone_id = (o.order_id or 0 for o in first.outcomes)
    before = get_order(potok.uow(), web_id).order
    text = (
        "order_id,channel,sku,quantity,currency,comment,customer_phone,pickup_point,"
        "payment_status\n"
        f"{web_id},web,KET,1,USD,call me,12,MSK-PVZ,refunded\n"
        f"{phone_id},phone,MUG,1,,,,,paid\n"
    )

    problems = refused(potok, text)

    assert problems == [
        (2, "comment"),
        (2, "currency"),
        (2, "customer_phone"),
        (2, "payment_status"),  # pending cannot become refunded
        (2, "pickup_point"),  # a courier order has no pickup point
    ]
    after = get_order(potok.uow(), web_id).order
    assert (after.version, after.payment_status) == (before.version, before.payment_status)
    assert get_order(potok.uow(), phone_id).order.payment_status.value == "pending"


def test_the_delivery_of_a_cancelled_order_is_refused_at_its_cell(potok: Potok) -> None:
    from potok.domain.orders.commands import CancelOrder
    from potok.services.orders import cancel_order

    build_world(potok, {("MSK", "KET"): 10, ("MSK", "MUG"): 10})
    first = import_csv(potok, TWO_ORDERS)
    web_id = first.outcomes[0].order_id or 0
    cancel_order(potok.uow(), CancelOrder(web_id, "test"), TESTER)

    with pytest.raises(FileRejected) as caught:
        import_csv(potok, f"order_id,channel,sku,quantity,city\n{web_id},web,KET,1,Москва\n")

    (problem,) = caught.value.problems
    assert (problem.row, problem.column, problem.value) == (2, "city", "Москва")
    assert "cancelled: its delivery can no longer change" in problem.message
