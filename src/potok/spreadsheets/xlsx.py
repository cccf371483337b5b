"""XLSX (Office Open XML workbooks) read and written as a stream of rows.

A workbook is a zip of XML parts. Reading walks the first sheet's XML with lxml's
``iterparse`` asking for ``row`` (and ``mergeCell``) elements only, each let go of once
read, and keeps only the shared strings and the cell styles in memory; writing emits the
sheet's XML row by row into the zip with inline strings. Both follow ECMA-376 Part 1
(SpreadsheetML) for what a table needs: text, numbers, booleans, dates, formulas (refused
on reading), merged cells. Uploaded parts are parsed with defusedxml (no DTD, no entity
expansion), except the sheet itself, whose prolog must first be seen to declare no DTD
(entities can only be declared there, so without one nothing can expand) and which lxml
then reads with no DTD loaded, no entity resolved and no network (a UTF-16 sheet, which
no spreadsheet program writes, goes through defusedxml). Handing over rows only, lxml
reads 100,000 rows in less than half the time of the standard library's pull parser,
which made a Python event of every start and end of every cell.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import IO, Any
from xml.etree.ElementTree import Element, XMLPullParser
from xml.sax.saxutils import escape

from defusedxml.ElementTree import iterparse

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_M = "{" + MAIN + "}"
DATE_FORMAT_IDS = frozenset({*range(14, 23), *range(27, 37), 45, 46, 47, *range(50, 59)})
_NOT_DATE_PARTS = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.|_.|\*.')
_LETTERS = re.compile(r"[A-Z]{1,3}")
_DIGITS = "0123456789"
_V, _F, _IS, _T = (_M + name for name in ("v", "f", "is", "t"))
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
FORMULA = "holds a formula; paste its value instead (Paste Special → Values)"
CHUNK = 1 << 16
"""Bytes of the sheet read at a time; its prolog must end within the first."""


class NotAWorkbook(ValueError):
    """The bytes are not an XLSX workbook Potok can read."""


# ---------------------------------------------------------------------- reading


def column_index(letters: str) -> int:
    """``A`` is 0, ``Z`` 25, ``AA`` 26."""
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index - 1


def column_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _parse(archive: zipfile.ZipFile, name: str) -> Element | None:
    try:
        with archive.open(name) as part:
            root = None
            for _, element in iterparse(part, events=("end",)):
                root = element
            return root
    except KeyError:
        return None


def _first_sheet(archive: zipfile.ZipFile) -> tuple[str, bool]:
    """The first sheet's part name, and whether dates count from 1904."""
    workbook = _parse(archive, "xl/workbook.xml")
    if workbook is None:
        raise NotAWorkbook("it has no xl/workbook.xml")
    properties = workbook.find(_M + "workbookPr")
    date1904 = properties is not None and properties.get("date1904") in ("1", "true")
    sheet = workbook.find(f"{_M}sheets/{_M}sheet")
    if sheet is None:
        raise NotAWorkbook("the workbook has no sheet")
    rel_id = sheet.get("{" + REL + "}id")
    rels = _parse(archive, "xl/_rels/workbook.xml.rels")
    for rel in rels if rels is not None else ():
        if rel.get("Id") == rel_id:
            target = rel.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else "xl/" + target
            return path, date1904
    return "xl/worksheets/sheet1.xml", date1904


def _shared_strings(archive: zipfile.ZipFile) -> list[str]:
    strings: list[str] = []
    try:
        part = archive.open("xl/sharedStrings.xml")
    except KeyError:
        return strings
    with part:
        for _, element in iterparse(part, events=("end",)):
            if element.tag == _M + "si":
                # plain <t>, or rich text runs <r><t>; phonetic runs <rPh> are not the text
                phonetic = _phonetic_texts(element)
                strings.append(
                    "".join(t.text or "" for t in element.iter(_M + "t") if t not in phonetic)
                )
                element.clear()
    return strings


def _phonetic_texts(si: Element) -> set[Element]:
    return {t for ph in si.iter(_M + "rPh") for t in ph.iter(_M + "t")}


def _date_styles(archive: zipfile.ZipFile) -> frozenset[int]:
    """Indexes of the cell formats that show numbers as dates or times."""
    styles = _parse(archive, "xl/styles.xml")
    if styles is None:
        return frozenset()
    custom = {}
    for fmt in styles.iter(_M + "numFmt"):
        code = _NOT_DATE_PARTS.sub("", fmt.get("formatCode", "")).lower()
        custom[int(fmt.get("numFmtId", "0"))] = any(c in code for c in "dmyhs") and (
            "general" not in code
        )
    xfs = styles.find(_M + "cellXfs")
    found = set()
    for index, xf in enumerate(xfs if xfs is not None else ()):
        fmt_id = int(xf.get("numFmtId", "0"))
        if fmt_id in DATE_FORMAT_IDS or custom.get(fmt_id, False):
            found.add(index)
    return frozenset(found)


def _excel_date(serial: float, date1904: bool) -> date | datetime:
    epoch = datetime(1904, 1, 1) if date1904 else datetime(1899, 12, 30)
    moment = epoch + timedelta(days=serial)
    moment = (
        moment.replace(microsecond=0)
        if moment.microsecond < 500_000
        else (moment + timedelta(seconds=1)).replace(microsecond=0)
    )
    return moment.date() if moment.time() == datetime.min.time() else moment


def _sheet_events(part: IO[bytes]) -> Iterator[tuple[str, Element]]:
    """``start``/``end`` events of a sheet part from the C parser; a part whose prolog
    declares a DTD (or does not end within the first :data:`CHUNK`) is refused, and one
    in another encoding than UTF-8 goes through defusedxml."""
    head = part.read(CHUNK)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16: the slow, defused way
        yield from iterparse(_Prefixed(head, part), events=("start", "end"))
        return
    if _declares_dtd(head):
        raise NotAWorkbook("the sheet declares a DTD, which a workbook never needs")
    parser: XMLPullParser[Element] = XMLPullParser(events=("start", "end"))
    chunk = head
    while chunk:
        parser.feed(chunk)
        yield from parser.read_events()  # type: ignore[misc]
        chunk = part.read(CHUNK)
    parser.close()
    yield from parser.read_events()  # type: ignore[misc]


def _declares_dtd(head: bytes) -> bool:
    """Whether the XML prolog in ``head`` holds a DTD, or does not end within it."""
    at = 3 if head.startswith(b"\xef\xbb\xbf") else 0
    while True:
        at = len(head) - len(head[at:].lstrip()) if at < len(head) else at
        if head.startswith(b"<?", at):
            end = head.find(b"?>", at)
            if end < 0:
                return True
            at = end + 2
        elif head.startswith(b"<!--", at):
            end = head.find(b"-->", at)
            if end < 0:
                return True
            at = end + 3
        else:  # <!DOCTYPE, or a prolog longer than a chunk: True; the root element: False
            return head.startswith(b"<!", at) or at >= len(head)


class _Prefixed:
    """A stream whose first bytes were read already."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self.head, self.rest = head, rest

    def read(self, size: int = -1) -> bytes:
        if self.head:
            taken, self.head = (
                (self.head, b"") if size < 0 else (self.head[:size], self.head[size:])
            )
            return taken
        return self.rest.read(size)


def _number_text(text: str) -> str:
    try:
        number = float(text)
    except ValueError:
        return text
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return repr(number)


class Sheet:
    """The first sheet of a workbook: rows as ``(number, cells, flaws)``."""

    def __init__(self, source: IO[bytes]) -> None:
        try:
            self.archive = zipfile.ZipFile(source)
            self.path, self.date1904 = _first_sheet(self.archive)
            self.strings = _shared_strings(self.archive)
            self.dates = _date_styles(self.archive)
            self.total = self._dimension_rows()
        except (zipfile.BadZipFile, KeyError, ValueError, SyntaxError) as error:
            raise NotAWorkbook(str(error) or type(error).__name__) from None
        self.merged: list[str] = []
        self._columns: dict[str, int] = {}  # a cell reference's letters -> column position

    def _dimension_rows(self) -> int | None:
        """The row count the sheet's ``<dimension>`` claims (read from the part's start)."""
        with self.archive.open(self.path) as part:
            head = part.read(4096).decode("utf-8", "replace")
        found = re.search(r'<(?:\w+:)?dimension ref="[A-Z]+(\d+)(?::[A-Z]+(\d+))?"', head)
        if not found:
            return None
        return int(found.group(2) or found.group(1))

    def rows(self) -> Iterator[tuple[int, list[str], list[tuple[int, str]]]]:
        """Each row that has a cell, in order; merged ranges are collected in ``merged``."""
        try:
            part = self.archive.open(self.path)
        except KeyError:
            raise NotAWorkbook(f"it has no {self.path}") from None
        with part:
            head = part.read(CHUNK)
            if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16: the slow, defused way
                yield from self._rows_from(_sheet_events(_Prefixed(head, part)))  # type: ignore[arg-type]
                return
            if _declares_dtd(head):
                raise NotAWorkbook("the sheet declares a DTD, which a workbook never needs")
            yield from self._rows_of(_Prefixed(head, part))

    def _rows_of(self, part: _Prefixed) -> Iterator[tuple[int, list[str], list[tuple[int, str]]]]:
        """Rows by lxml's parser, which hands over only the elements asked for (rows and
        merged ranges), each let go of once read: a third of the C pull parser's time,
        whose every start and end of every cell was a Python event. No DTD is loaded, no
        entity resolved, nothing fetched."""
        from lxml import etree

        number = 0
        try:
            for _, element in etree.iterparse(
                part,
                events=("end",),
                tag=(_M + "row", _M + "mergeCell"),
                resolve_entities=False,
                load_dtd=False,
                no_network=True,
            ):
                if element.tag == _M + "row":
                    number = int(element.get("r") or number + 1)
                    yield (number, *self._cells(element))
                    element.clear()
                    parent = element.getparent()
                    while parent is not None and element.getprevious() is not None:
                        del parent[0]  # read rows are let go of, not kept empty
                else:
                    self.merged.append(element.get("ref", ""))
        except etree.XMLSyntaxError as error:
            raise NotAWorkbook(f"the sheet is not well-formed XML ({error})") from None

    def _rows_from(
        self, events: Iterator[tuple[str, Element]]
    ) -> Iterator[tuple[int, list[str], list[tuple[int, str]]]]:
        number = 0
        rows_parent: Element | None = None
        try:
            for event, element in events:
                tag = element.tag
                if event == "start":
                    if tag == _M + "sheetData":
                        rows_parent = element
                elif tag == _M + "row":
                    number = int(element.get("r") or number + 1)
                    yield (number, *self._cells(element))
                    if rows_parent is not None:  # read rows are let go of, not kept empty
                        rows_parent.remove(element)
                elif tag == _M + "mergeCell":
                    self.merged.append(element.get("ref", ""))
        except SyntaxError as error:
            raise NotAWorkbook(f"the sheet is not well-formed XML ({error})") from None

    def _cells(self, row: Element) -> tuple[list[str], list[tuple[int, str]]]:
        cells: list[str] = []
        flaws: list[tuple[int, str]] = []
        columns = self._columns
        for cell in row:
            ref = cell.get("r")
            if ref:
                letters = ref.rstrip(_DIGITS)
                position = columns.get(letters)
                if position is None:
                    if _LETTERS.fullmatch(letters) and len(letters) < len(ref):
                        position = columns[letters] = column_index(letters)
                    else:  # not a reference Potok can read: the next column
                        position = len(cells)
            else:
                position = len(cells)
            while len(cells) < position:
                cells.append("")
            kind = cell.get("t", "n")
            raw, formula, inline = "", False, None
            for part in cell:  # <v>, <f>, <is>: one pass instead of a search for each
                tag = part.tag
                if tag == _V:
                    raw = part.text or ""
                elif tag == _F:
                    formula = True
                elif tag == _IS:
                    inline = part
            if kind == "s":
                text = self.strings[int(raw)] if raw else ""
            elif kind == "inlineStr":
                text = "".join(t.text or "" for t in inline.iter(_T)) if inline is not None else ""
            elif kind == "b":
                text = "true" if raw == "1" else "false" if raw else ""
            elif kind == "e":
                text = raw
                flaws.append((position, f"holds the error {raw}"))
            elif (
                kind in ("n", "d") and raw and self.dates and int(cell.get("s", "0")) in self.dates
            ):
                text = _excel_date(float(raw), self.date1904).isoformat() if kind == "n" else raw
            elif kind == "n":
                text = raw if raw.isdigit() else _number_text(raw)  # a count, as most are
            else:  # str (a formula's text), d (an ISO date)
                text = raw
            if formula:
                flaws.append((position, FORMULA))
            cells.append(text.strip())
        return cells, flaws

    def close(self) -> None:
        self.archive.close()


# ---------------------------------------------------------------------- writing

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
    'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.styles+xml"/></Types>'
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<Relationships xmlns="{PKG_REL}"><Relationship Id="rId1" Type="http://schemas.'
    'openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<Relationships xmlns="{PKG_REL}">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/styles" Target="styles.xml"/></Relationships>'
)
# cell formats: 0 plain, 1 a date (numFmt 14), 2 a date and time, 3 bold (the header)
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<styleSheet xmlns="{MAIN}">'
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy\\-mm\\-dd\\ hh:mm:ss"/>'
    "</numFmts>"
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    "</cellStyleXfs>"
    '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
_EXCEL_EPOCH = datetime(1899, 12, 30)


def _workbook(title: str) -> str:
    name = escape(re.sub(r"[\[\]:*?/\\]", " ", title)[:31] or "Sheet1", {'"': "&quot;"})
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>'
        f'<sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )


def _text_cell(ref: str, text: str, style: str = "") -> str:
    text = _ILLEGAL_XML.sub("", text)
    space = ' xml:space="preserve"' if text != text.strip() or "\n" in text else ""
    return f'<c r="{ref}" t="inlineStr"{style}><is><t{space}>{escape(text)}</t></is></c>'


def _cell(ref: str, value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | Decimal | float):
        return f'<c r="{ref}"><v>{value}</v></c>'
    if isinstance(value, datetime):
        moment = value.replace(tzinfo=None)
        serial = (moment - _EXCEL_EPOCH) / timedelta(days=1)
        return f'<c r="{ref}" s="2"><v>{serial:.10f}</v></c>'
    if isinstance(value, date):
        serial = (datetime.combine(value, datetime.min.time()) - _EXCEL_EPOCH).days
        return f'<c r="{ref}" s="1"><v>{serial}</v></c>'
    return _text_cell(ref, str(value))


def write_xlsx(
    out: IO[bytes], header: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str
) -> int:
    """A one-sheet workbook: a bold, frozen header row, then the rows; returns their count."""
    letters = [column_letters(i) for i in range(max(len(header), 1))]
    count = 0
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _workbook(title))
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        archive.writestr("xl/styles.xml", _STYLES)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as raw:
            buffer: list[str] = [
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                f'<worksheet xmlns="{MAIN}" xmlns:r="{REL}">'
                '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
                'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews><sheetData>'
                '<row r="1">',
                *(_text_cell(f"{letters[i]}1", h, ' s="3"') for i, h in enumerate(header)),
                "</row>",
            ]
            for row in rows:
                count += 1
                number = count + 1
                while len(letters) < len(row):
                    letters.append(column_letters(len(letters)))
                buffer.append(f'<row r="{number}">')
                buffer.extend(_cell(f"{letters[i]}{number}", value) for i, value in enumerate(row))
                buffer.append("</row>")
                if len(buffer) > 5000:
                    raw.write("".join(buffer).encode("utf-8"))
                    buffer.clear()
            buffer.append("</sheetData></worksheet>")
            raw.write("".join(buffer).encode("utf-8"))
    return count
