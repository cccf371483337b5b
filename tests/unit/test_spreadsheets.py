"""Tables in CSV and XLSX files: read as Excel and other programs write them, written so
that Excel (here openpyxl, an independent reader) reads them back as they were."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pytest

from potok.spreadsheets import (
    BadFile,
    Column,
    FileFormat,
    UnknownFormat,
    format_of,
    map_header,
    read_table,
    write_table,
)
from potok.spreadsheets.reading import Record
from potok.spreadsheets.xlsx import FORMULA, column_index, column_letters


def workbook_bytes(rows: list[list[object]], *, merge: str | None = None) -> io.BytesIO:
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


def records(source: io.BytesIO, fmt: FileFormat) -> tuple[Record, list[Record]]:
    table = read_table(source, fmt)
    return table.header, list(table)


# ---------------------------------------------------------------------- formats


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("levels.csv", FileFormat.CSV),
        ("Остатки.XLSX", FileFormat.XLSX),
        ("text/csv; charset=utf-8", FileFormat.CSV),
        ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", FileFormat.XLSX),
    ],
)
def test_a_format_is_known_by_extension_or_media_type(name: str, fmt: FileFormat) -> None:
    assert format_of(name) is fmt


def test_an_old_excel_file_is_not_taken_for_a_table() -> None:
    with pytest.raises(UnknownFormat):
        format_of("levels.xls")


# ---------------------------------------------------------------------- header mapping


COLUMNS = (
    Column("warehouse", ("склад",), required=True),
    Column("sku", ("артикул",), required=True),
    Column("on_hand", ("остаток",), required=True),
    Column("lot", ("партия",)),
)


def test_russian_headers_in_any_case_map_to_the_columns() -> None:
    found = map_header(["Артикул", " СКЛАД ", "Остаток*", "Комментарий"], COLUMNS)
    assert found.problems == []
    assert found.index == {"sku": 0, "warehouse": 1, "on_hand": 2}


def test_underscores_and_spaces_are_alike_in_headers() -> None:
    found = map_header(["Warehouse", "SKU", "On hand"], COLUMNS)
    assert found.index == {"warehouse": 0, "sku": 1, "on_hand": 2}


def test_a_header_without_a_required_column_is_a_problem_naming_it() -> None:
    found = map_header(["warehouse", "sku"], COLUMNS)
    assert len(found.problems) == 1
    assert "on_hand" in found.problems[0]


def test_a_column_named_twice_in_two_languages_is_a_problem() -> None:
    found = map_header(["warehouse", "склад", "sku", "on_hand"], COLUMNS)
    assert len(found.problems) == 1
    assert "склад" in found.problems[0]


# ---------------------------------------------------------------------- CSV


def test_csv_in_utf8_with_commas_is_read_with_line_numbers() -> None:
    header, rows = records(io.BytesIO(b"a,b\n1,2\n\n3,4\n"), FileFormat.CSV)
    assert header.cells == ["a", "b"]
    assert [(r.number, r.cells) for r in rows] == [(2, ["1", "2"]), (3, []), (4, ["3", "4"])]


def test_csv_saved_by_russian_excel_in_windows_1251_with_semicolons_is_read() -> None:
    text = "Склад;Артикул;Остаток\r\nМСК;ЧАЙ-1;5\r\n".encode("cp1251")
    header, rows = records(io.BytesIO(text), FileFormat.CSV)
    assert header.cells == ["Склад", "Артикул", "Остаток"]
    assert rows[0].cells == ["МСК", "ЧАЙ-1", "5"]


def test_a_csv_row_short_of_cells_is_flawed() -> None:
    _, rows = records(io.BytesIO(b"a,b,c\n1,2\n"), FileFormat.CSV)
    assert rows[0].flaws == [(2, "the row has 2 cells, the header 3")]


def test_an_empty_csv_file_has_no_table() -> None:
    with pytest.raises(BadFile):
        read_table(io.BytesIO(b""), FileFormat.CSV)


def test_csv_is_written_with_a_bom_for_excel_and_read_back() -> None:
    out = io.BytesIO()
    count = write_table(
        out, FileFormat.CSV, ["sku", "name"], [["ЧАЙ-1", "Чай, зелёный"], ["KET", None]]
    )
    assert count == 2
    assert out.getvalue().startswith(b"\xef\xbb\xbfsku,name\r\n")
    out.seek(0)
    _, rows = records(out, FileFormat.CSV)
    assert [r.cells for r in rows] == [["ЧАЙ-1", "Чай, зелёный"], ["KET", ""]]


# ---------------------------------------------------------------------- XLSX read


def test_xlsx_written_by_openpyxl_is_read_cell_by_cell_as_text() -> None:
    source = workbook_bytes(
        [
            ["warehouse", "sku", "on_hand", "expires_on", "active"],
            ["MSK", 4601234567893, 5, datetime(2026, 12, 1), True],
            ["SPB", "KET", 2.0, None, False],
            [],
            ["KZN", "MUG", 1.5, date(2027, 1, 31), None],
        ]
    )
    header, rows = records(source, FileFormat.XLSX)
    assert header.cells == ["warehouse", "sku", "on_hand", "expires_on", "active"]
    assert [(r.number, r.cells) for r in rows] == [
        (2, ["MSK", "4601234567893", "5", "2026-12-01", "true"]),
        (3, ["SPB", "KET", "2", "", "false"]),
        (5, ["KZN", "MUG", "1.5", "2027-01-31"]),
    ]
    assert all(r.flaws == [] for r in rows)


def test_a_formula_in_a_cell_is_a_flaw_of_that_cell() -> None:
    source = workbook_bytes([["a", "b"], ["x", "=1+2"]])
    _, rows = records(source, FileFormat.XLSX)
    assert rows[0].flaws == [(1, FORMULA)]


def test_an_error_value_is_a_flaw_of_its_cell() -> None:
    source = workbook_bytes([["a", "b"], ["x", "#N/A"]])
    _, rows = records(source, FileFormat.XLSX)
    assert rows[0].flaws == [(1, "holds the error #N/A")]


def test_merged_cells_are_flaws_of_every_row_they_cover_after_the_rows() -> None:
    source = workbook_bytes([["a", "b"], ["x", "y"], ["z", "w"]], merge="A2:A3")
    _, rows = records(source, FileFormat.XLSX)
    late = [(r.number, r.flaws[0][0]) for r in rows if r.late]
    assert late == [(2, 0), (3, 0)]


def test_bytes_that_are_not_a_workbook_are_a_bad_file() -> None:
    with pytest.raises(BadFile):
        read_table(io.BytesIO(b"warehouse,sku\nMSK,KET\n"), FileFormat.XLSX)


def test_an_empty_sheet_is_a_bad_file() -> None:
    with pytest.raises(BadFile):
        read_table(workbook_bytes([]), FileFormat.XLSX)


def _with_sheet_xml(rewrite: object) -> io.BytesIO:
    """A workbook whose first sheet's XML is rewritten by ``rewrite(xml) -> xml``."""
    assert callable(rewrite)
    source = workbook_bytes([["warehouse", "sku"], ["MSK", "KET"]])
    out = io.BytesIO()
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(out, "w") as new:
        for item in old.infolist():
            data = old.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = rewrite(data)
            new.writestr(item, data)
    out.seek(0)
    return out


def test_a_sheet_declaring_entities_is_refused_before_any_expands() -> None:
    laughs = (
        b'<!DOCTYPE worksheet [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
        b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>'
    )

    def rewrite(xml: bytes) -> bytes:
        at = xml.index(b"<worksheet")
        body = xml[at:].replace(b"<sheetData>", b"<sheetData>&c;")
        return xml[:at] + b"\n<!-- a comment first -->" + laughs + body

    with pytest.raises(BadFile, match="DTD"):
        records(_with_sheet_xml(rewrite), FileFormat.XLSX)


def test_a_sheet_with_a_comment_before_its_root_is_read() -> None:
    def rewrite(xml: bytes) -> bytes:
        at = xml.index(b"<worksheet")
        return xml[:at] + b"\n<!-- written by hand -->\n" + xml[at:]

    header, rows = records(_with_sheet_xml(rewrite), FileFormat.XLSX)
    assert header.cells == ["warehouse", "sku"]
    assert [r.cells for r in rows] == [["MSK", "KET"]]


def test_cells_written_by_hand_are_read_by_their_references_or_in_turn() -> None:
    """A sheet another program wrote: cells without a reference follow the one before,
    a reference skipping columns leaves them empty, inline and rich text, a shared-formula
    cell is a flaw, and a number written as 1E3 is a number."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    sheet = (
        f'<worksheet xmlns="{main}"><sheetData>'
        '<row r="1"><c t="inlineStr"><is><t>warehouse</t></is></c>'
        '<c t="inlineStr"><is><r><t>s</t></r><r><t>ku</t></r></is></c>'
        '<c r="D1" t="inlineStr"><is><t>on_hand</t></is></c></row>'
        '<row><c t="inlineStr"><is><t>MSK</t></is></c><c r="B2" t="inlineStr"><is><t>KET'
        '</t></is></c><c r="D2"><f>1+1</f><v>2</v></c></row>'
        '<row r="5"><c r="A5" t="inlineStr"><is><t>SPB</t></is></c><c r="D5"><v>1E3</v></c>'
        "</row></sheetData></worksheet>"
    ).encode()

    header, rows = records(_with_sheet_xml(lambda _: sheet), FileFormat.XLSX)

    assert header.cells == ["warehouse", "sku", "", "on_hand"]
    assert [(r.number, r.cells, r.flaws) for r in rows] == [
        (2, ["MSK", "KET", "", "2"], [(3, FORMULA)]),
        (5, ["SPB", "", "", "1000"], []),
    ]


# ---------------------------------------------------------------------- XLSX write


def test_xlsx_written_by_potok_opens_in_openpyxl_with_its_types() -> None:
    out = io.BytesIO()
    rows: list[list[object]] = [
        ["KET", Decimal("2490.00"), 5, date(2026, 12, 1), True],
        ["=HYPERLINK(1)", Decimal("0.5"), None, datetime(2026, 1, 2, 3, 4, 5), False],
        [" spaced ", "<&>\"'", 0, None, None],
    ]
    count = write_table(
        out, FileFormat.XLSX, ["sku", "price", "on_hand", "when", "active"], rows, title="Stock"
    )
    assert count == 3
    out.seek(0)
    book = openpyxl.load_workbook(out)
    sheet = book.active
    assert sheet is not None
    assert sheet.title == "Stock"
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [
        ["sku", "price", "on_hand", "when", "active"],
        ["KET", 2490, 5, datetime(2026, 12, 1), True],
        ["=HYPERLINK(1)", 0.5, None, datetime(2026, 1, 2, 3, 4, 5), False],
        [" spaced ", "<&>\"'", 0, None, None],
    ]
    assert sheet["A3"].data_type == "s"  # text, never a formula
    assert sheet.freeze_panes == "A2"


def test_an_xlsx_export_reads_back_as_it_was_written() -> None:
    out = io.BytesIO()
    write_table(out, FileFormat.XLSX, ["a", "b"], [["x", 1], ["=y", date(2026, 5, 1)]])
    out.seek(0)
    header, rows = records(out, FileFormat.XLSX)
    assert header.cells == ["a", "b"]
    assert [(r.cells, r.flaws) for r in rows] == [(["x", "1"], []), (["=y", "2026-05-01"], [])]


@pytest.mark.parametrize(("index", "letters"), [(0, "A"), (25, "Z"), (26, "AA"), (701, "ZZ")])
def test_column_letters_and_indexes_are_inverse(index: int, letters: str) -> None:
    assert column_letters(index) == letters
    assert column_index(letters) == index


# ---------------------------------------------------------------------- formula injection

FORMULAS = ['=HYPERLINK("http://x","y")', "+7 916", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


def test_text_a_spreadsheet_would_run_as_a_formula_is_written_to_csv_behind_an_apostrophe() -> None:
    out = io.BytesIO()
    write_table(out, FileFormat.CSV, ["text", "number"], [[f, Decimal("-5")] for f in FORMULAS])

    lines = out.getvalue().decode("utf-8-sig").split("\r\n")
    assert lines[1] == '"\'=HYPERLINK(""http://x"",""y"")",-5'
    assert [line.split(",")[0] for line in lines[2:4]] == ["'+7 916", "'-2+3"]
    assert lines[4] == "'@SUM(A1),-5"
    assert lines[5].startswith("'\t=1,")
    # what openpyxl cannot show, the csv module reads: no cell starts like a formula
    cells = [row[0] for row in csv.reader(io.StringIO(out.getvalue().decode("utf-8-sig")))]
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells)


def test_a_neutralised_csv_reads_back_as_the_text_that_was_written() -> None:
    out = io.BytesIO()
    write_table(out, FileFormat.CSV, ["text"], [[f] for f in [*FORMULAS, "'quoted", "plain"]])
    out.seek(0)

    _, rows = records(out, FileFormat.CSV)

    assert [r.cells[0] for r in rows] == [
        *(f.strip() for f in FORMULAS),
        "'quoted",
        "plain",
    ]


def test_xlsx_keeps_formula_like_text_as_text_a_spreadsheet_never_evaluates() -> None:
    out = io.BytesIO()
    write_table(out, FileFormat.XLSX, ["text"], [[f] for f in FORMULAS])

    out.seek(0)
    book = openpyxl.load_workbook(out)
    sheet = book.active
    assert sheet is not None
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert [c.data_type for c in cells] == ["s"] * len(FORMULAS)
    assert [c.value for c in cells] == [f.replace("\r", "\n") for f in FORMULAS]  # XML's
    out.seek(0)
    with zipfile.ZipFile(out) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml
    assert "<f " not in xml
