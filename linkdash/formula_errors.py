"""Cells whose formula ends in an error (``#DIV/0!``, ``#N/A``, ``#VALUE!``...).

python-calamine reads such a cell as an empty string, the same as a blank cell
(python-calamine issue #105), so a director's broken formula would pass as "not
reported". This module finds them in the file itself, for the formats that record them:

- xlsx / xlsm: a cell ``<c r="E2" t="e">...<v>#DIV/0!</v></c>`` in the sheet's XML part;
- ods: a cell with ``calcext:value-type="error"`` (LibreOffice), whose text is the error;
- xls: a BIFF FORMULA record whose cached result is an error; the raw bytes are searched
  for that record's pattern first, and only a file that has one is read again with xlrd
  (the standard reader of the format) to place the cells.

The sheet XML is inflated in 1 MB chunks and only searched for the error marker, so
the cost is one decompression of the sheet (zlib lets go of the GIL: ``read_workbook``
runs this beside calamine's own read). Only when a marker is found are the cells parsed.

``error_cells(data, kind, wanted) -> {sheet name: {(row0, col0): "#DIV/0!"}}`` for the
sheets whose name ``wanted(name)`` accepts; {} when there are none or the file cannot be
scanned (calamine reports an unreadable file itself).
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Callable

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from linkdash.problems import column_index

_CHUNK = 1 << 20
_TAIL = 1 << 14  # bytes kept between chunks, so that a cell cut in two is seen whole
_XLSX_MARK = b't="e"'
# bounded repeats: a cell is short, so every match attempt stays short too (an unbounded
# ``.*?`` scanned to the end of the buffer for each ``<c t="e"/>``: quadratic)
_XLSX_CELL = re.compile(rb'<c\b([^>]{0,400}?\bt="e"[^>]{0,400}?)(?:/>|>(.{0,4000}?)</c>)', re.S)
_XLSX_REF = re.compile(rb'\br="([A-Z]{1,3})([0-9]{1,7})"')
_XLSX_VALUE = re.compile(rb"<v>([^<]*)</v>")
_ODS_MARK = b'calcext:value-type="error"'
# BIFF8 FORMULA record (type 6, length >= 20): row, column, format, then a cached result
# of 2, 0, error code, 0, 0, 0, FF FF (the codes of #NULL! #DIV/0! #VALUE! #REF! #NAME?
# #NUM! #N/A #GETTING_DATA)
_XLS_MARK = re.compile(rb"\x06\x00[\x14-\xff][\x00-\x01][\s\S]{6}\x02\x00"
                       rb"[\x00\x07\x0f\x17\x1d\x24\x2a\x2b]\x00\x00\x00\xff\xff")
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_FAULTS = (zipfile.BadZipFile, KeyError, OSError, EOFError, ValueError, zlib.error,
           SafeET.ParseError, DefusedXmlException)


def error_cells(data: bytes, kind: str, wanted: Callable[[str], bool]
                ) -> dict[str, dict[tuple[int, int], str]]:
    if kind not in ("xlsx", "ods", "xls"):
        return {}
    if kind == "xls":
        return _xls(data, wanted)
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        if kind == "xlsx":
            return _xlsx(zf, wanted)
        return _ods(zf, wanted)
    except _FAULTS:
        return {}


def xlsx_sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> its XML part, from xl/workbook.xml and its relationships."""
    names = set(zf.namelist())
    if "xl/workbook.xml" not in names or "xl/_rels/workbook.xml.rels" not in names:
        return {}
    rels = SafeET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    target = {r.get("Id"): r.get("Target", "") for r in rels
              if r.tag.rsplit("}", 1)[-1] == "Relationship"}
    book = SafeET.fromstring(zf.read("xl/workbook.xml"))
    parts = {}
    for el in book.iter():
        if el.tag.rsplit("}", 1)[-1] == "sheet" and el.get("name") is not None:
            t = target.get(el.get(_REL_NS), "")
            path = t.lstrip("/") if t.startswith("/") else f"xl/{t}"
            if path in names:
                parts[el.get("name")] = path
    return parts


def _xlsx(zf: zipfile.ZipFile, wanted: Callable[[str], bool]) -> dict[str, dict[tuple[int, int], str]]:
    out: dict[str, dict[tuple[int, int], str]] = {}
    for name, part in xlsx_sheet_parts(zf).items():
        if not wanted(name):
            continue
        found: dict[tuple[int, int], str] = {}
        tail = b""
        with zf.open(part) as fh:
            while chunk := fh.read(_CHUNK):
                buf = tail + chunk
                if _XLSX_MARK in buf:
                    for m in _XLSX_CELL.finditer(buf):
                        ref = _XLSX_REF.search(m.group(1))
                        val = _XLSX_VALUE.search(m.group(2) or b"")
                        if ref:  # an error cell without its value still shows an error
                            pos = (int(ref.group(2)) - 1, column_index(ref.group(1).decode()))
                            found[pos] = val.group(1).decode("utf-8", "replace")[:40] if val else "#ERROR"
                tail = buf[-_TAIL:]
        if found:
            out[name] = found
    return out


def _ods(zf: zipfile.ZipFile, wanted: Callable[[str], bool]) -> dict[str, dict[tuple[int, int], str]]:
    with zf.open("content.xml") as fh:
        tail, marked = b"", False
        while chunk := fh.read(_CHUNK):
            if _ODS_MARK in tail + chunk:
                marked = True
                break
            tail = chunk[-len(_ODS_MARK):]
    if not marked:
        return {}
    # rare: walk the tables (rows and cells may be repeated) to place each error cell
    table_ns = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
    calc_ns = "urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0"
    t_table, t_row, t_cell, t_cov = (f"{{{table_ns}}}{x}" for x in
                                     ("table", "table-row", "table-cell", "covered-table-cell"))
    out: dict[str, dict[tuple[int, int], str]] = {}
    sheet, row, col = None, -1, 0
    with zf.open("content.xml") as fh:
        for event, el in SafeET.iterparse(fh, events=("start", "end")):
            if event == "start":
                if el.tag == t_table:
                    sheet, row = el.get(f"{{{table_ns}}}name"), -1
                elif el.tag == t_row:
                    row, col = row + 1, 0
                continue
            if el.tag in (t_cell, t_cov):
                span = _repeat(el.get(f"{{{table_ns}}}number-columns-repeated"), MAX_COLUMNS - col)
                if sheet is not None and wanted(sheet) and el.get(f"{{{calc_ns}}}value-type") == "error":
                    text = "".join(el.itertext()).strip() or "#ERROR"
                    for c in range(col, col + span):
                        out.setdefault(sheet, {})[(row, c)] = text
                col += span
                el.clear()
            elif el.tag == t_row:
                row += _repeat(el.get(f"{{{table_ns}}}number-rows-repeated"), MAX_ROWS - row) - 1
                el.clear()
    return out


MAX_COLUMNS = 16_384  # Excel's limits: a repeat beyond them is cut (an ods may say 10^9)
MAX_ROWS = 1_048_576


def _repeat(text: str | None, room: int) -> int:
    try:
        n = int(text) if text else 1
    except ValueError:
        n = 1
    return max(1, min(n, max(room, 1)))


def _xls(data: bytes, wanted: Callable[[str], bool]) -> dict[str, dict[tuple[int, int], str]]:
    if _XLS_MARK.search(data) is None:
        return {}
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=data, on_demand=True)
    except Exception:  # noqa: BLE001 - xlrd raises many kinds for files calamine reads;
        return {}      # this scan only adds to calamine's reading, so it gives up quietly
    out: dict[str, dict[tuple[int, int], str]] = {}
    try:
        for name in book.sheet_names():
            if not wanted(name):
                continue
            sheet = book.sheet_by_name(name)
            for r in range(sheet.nrows):
                types = sheet.row_types(r)
                if xlrd.XL_CELL_ERROR not in types:
                    continue
                for c, t in enumerate(types):
                    if t == xlrd.XL_CELL_ERROR:
                        code = sheet.cell_value(r, c)
                        out.setdefault(name, {})[(r, c)] = xlrd.error_text_from_code.get(code, "#ERROR")
    except Exception:  # noqa: BLE001 - as above
        return out
    finally:
        book.release_resources()
    return out
