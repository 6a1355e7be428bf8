"""Reading a workbook: the bad-file guards, the cell grids, and finding sheets and headers.

``read_workbook(data, filename) -> RawWorkbook`` never raises for what a user uploads:
a file that cannot be read gives a ``RawWorkbook`` without sheets and a report with one
problem that a director understands (``file_empty``, ``file_too_large``,
``not_a_spreadsheet``, ``file_encrypted``, ``zip_bomb``, ``xml_entities``,
``file_unreadable``, ``too_many_rows``).

The guards run before calamine sees the bytes: the size limit, the file's magic bytes
(a renamed .docx or .pdf is named as such), password protection (an OLE2 container
holding ``EncryptedPackage``), the zip directory (declared sizes and compression
ratios, so a zip bomb is never expanded) and the prolog of every XML part (a DOCTYPE or
ENTITY declaration, as in "billion laughs", is refused before any XML parser runs).

A large xlsx sheet (8 to 128 MB of XML) is parsed by calamine in two halves at once when
the machine has a core to spare (``_read_halves``: the rows above a middle row and the
rest, each given to calamine as its own workbook; the grid is the one of the whole
sheet, or the sheet is read whole when its XML cannot be cut safely).

``locate_sheets(raw, report) -> dict[canonical name, SheetTable]`` finds the spec's
sheets by normalised name (a csv is matched to the sheet whose columns fit best),
the header row in the top 10 rows, and maps header cells to column codes.
"""

from __future__ import annotations

import contextlib
import csv
import gc
import io
import os
import re
import threading
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from linkdash import catalogue
from linkdash.formula_errors import error_cells, xlsx_sheet_parts
from linkdash.problems import Report, cell_ref, column_index, column_letter

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_DATA_ROWS = 200_000
HEADER_SEARCH_ROWS = 10
MAX_UNCOMPRESSED_BYTES = 400 * 1024 * 1024
MAX_PART_RATIO = 200  # uncompressed / compressed, for parts above 20 MB
MAX_ZIP_MEMBERS = 5_000
MAX_COLUMNS = 16_384  # Excel's own limit
MAX_CELLS = 30_000_000  # rows x columns of one sheet's grid (the 50,000-row workbook: 1.4 M)
# an xlsx sheet whose XML is this large is parsed by calamine in two halves at once when
# a second core is free, from its XML inflated once (``_read_halves``); a larger one whole
HALVES_MIN_BYTES = 8 * 2**20
HALVES_MAX_BYTES = 128 * 2**20

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
SPREADSHEET_EXTENSIONS = (".xlsx", ".xlsm", ".xls", ".ods", ".xlsb")
CSV_EXTENSIONS = (".csv", ".tsv", ".txt")
FORMATS = "an Excel workbook (.xlsx, .xlsm, .xls), an OpenDocument spreadsheet (.ods) or a .csv file"


@dataclass
class RawSheet:
    name: str | None  # as written in the file; None for a csv (one sheet, found by headers)
    rows: list[list]  # the cell grid from A1: rows[r][c] is the cell at 0-based row r, column c
    # cells whose formula ends in an error (read as "" by calamine): (row, column) -> "#N/A"
    errors: dict[tuple[int, int], str] = field(default_factory=dict)


@dataclass
class RawWorkbook:
    filename: str
    kind: str  # "xlsx" | "xls" | "ods" | "csv" | "" when unreadable
    sheets: list[RawSheet] = field(default_factory=list)
    report: Report = field(default_factory=Report)
    ignored_sheets: list[str] = field(default_factory=list)
    # xlsx: sheet name -> (rows, columns) its <dimension> declares, checked before calamine
    dimensions: dict[str, tuple[int, int]] = field(default_factory=dict)
    # xlsx: sheet name -> its XML part, for the sheets large enough to be read in halves
    halves: dict[str, str] = field(default_factory=dict)


@dataclass
class SheetTable:
    """One spec sheet found in the file."""

    canonical: str  # e.g. "Indicators"
    name: str  # as written in the file (the canonical name for a csv)
    header_row: int  # 0-based
    columns: dict[str, int]  # column code -> 0-based column index
    columns_raw: dict[str, np.ndarray]  # column code -> the raw cells below the header row (object)
    grid: np.ndarray | None = None  # every cell below the header row (object, rows x columns)
    # formula errors in the columns read: (data row, column code) -> the error ("#DIV/0!")
    errors: dict[tuple[int, str], str] = field(default_factory=dict)
    rows_below: int | None = None  # set by ``slim``, which drops the raw cells

    @property
    def first_row(self) -> int:
        return self.header_row + 1

    @property
    def n_rows(self) -> int:
        if self.rows_below is not None:
            return self.rows_below
        return len(next(iter(self.columns_raw.values()))) if self.columns_raw else 0

    def slim(self, *, keep_raw: bool = False) -> SheetTable:
        """The same sheet without its cell grid (and without the raw cells unless
        ``keep_raw``): what the rules need once the cells are typed, small enough to
        send from the isolated reader to the server."""
        raw = {c: np.asarray(v, dtype=object).copy() for c, v in self.columns_raw.items()} \
            if keep_raw else {}
        return SheetTable(self.canonical, self.name, self.header_row, dict(self.columns), raw,
                          None, dict(self.errors), self.n_rows)

    def cell(self, code: str, i: int) -> str:
        """Excel reference of column ``code`` in data row ``i`` (0-based below the header)."""
        return cell_ref(self.first_row + i, self.columns[code])

    def row_number(self, i: int) -> int:
        """The 1-based row number Excel shows for data row ``i``."""
        return self.first_row + i + 1


@contextlib.contextmanager
def gc_paused():
    """Pause Python's cyclic garbage collector while a large grid is read and checked.

    A 50,000-row sheet is 50,000 row lists and a million cells; every few hundred new
    container objects the collector would walk all of them again (about 10% of a
    check). Nothing built here holds reference cycles, so nothing waits for the
    collector; its previous state is restored afterwards."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


# --- the guards -------------------------------------------------------------------------

def _ext(filename: str) -> str:
    m = re.search(r"(\.[A-Za-z0-9]+)$", filename or "")
    return m.group(1).lower() if m else ""


_XML_DANGER = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.I)


def _xml_prolog_unsafe(head: bytes) -> bool:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            head = head.decode("utf-16").encode("utf-8", "replace")
        except UnicodeDecodeError:
            return True
    return bool(_XML_DANGER.search(head))


def _check_zip(data: bytes, report: Report, filename: str) -> str:
    """-> "xlsx" | "ods" | "" (with a problem in report)."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        report.error("file_unreadable", None, None, filename,
                     f"{filename} looks like an Excel file but is damaged and cannot be opened: "
                     f"open it in Excel, save it again and upload the new file.")
        return ""
    if len(infos) > MAX_ZIP_MEMBERS:
        report.error("zip_bomb", None, None, filename,
                     f"{filename} holds {len(infos)} parts, far more than a workbook has; it was not "
                     f"opened. Save your data in a new workbook and upload that.")
        return ""
    total = sum(i.file_size for i in infos)
    worst = max(((i.file_size / max(i.compress_size, 1), i) for i in infos),
                key=lambda t: t[0], default=(0, None))
    if total > MAX_UNCOMPRESSED_BYTES or (worst[1] is not None and worst[1].file_size > 20 * 2**20
                                          and worst[0] > MAX_PART_RATIO):
        code = "zip_bomb" if total / max(len(data), 1) > 50 else "file_too_large"
        report.error(code, None, None, filename,
                     f"{filename} would expand to {total / 2**20:,.0f} MB when opened (it is "
                     f"{len(data) / 2**20:,.1f} MB packed), more than a quarterly workbook can "
                     f"be; it was not opened. Upload a workbook with only the LINK sheets.")
        return ""
    names = {i.filename for i in infos}
    kind = ""
    if "xl/workbook.xml" in names or "xl/workbook.bin" in names:
        kind = "xlsx"
    elif "mimetype" in names:
        mt = zf.read("mimetype")[:100]
        if mt.startswith(b"application/vnd.oasis.opendocument.spreadsheet"):
            kind = "ods"
        else:
            what = "an OpenDocument text or presentation" if b"opendocument" in mt else "a zip archive"
            report.error("not_a_spreadsheet", None, None, filename,
                         f"{filename} is {what}, not a spreadsheet: upload {FORMATS}.")
            return ""
    else:
        what = ("a Word document" if "word/document.xml" in names else
                "a PowerPoint presentation" if "ppt/presentation.xml" in names else
                "a zip archive")
        report.error("not_a_spreadsheet", None, None, filename,
                     f"{filename} is {what}, not a spreadsheet: upload {FORMATS}.")
        return ""
    for info in infos:
        if info.filename.lower().endswith((".xml", ".rels")) and info.file_size:
            try:
                with zf.open(info) as fh:
                    head = fh.read(4096)
            except Exception:  # noqa: BLE001 - a damaged part
                report.error("file_unreadable", None, None, filename,
                             f"{filename} is damaged (part {info.filename} cannot be read): open it "
                             f"in Excel, save it again and upload the new file.")
                return ""
            if _xml_prolog_unsafe(head):
                report.error("xml_entities", None, None, filename,
                             f"{filename} contains XML entity declarations ({info.filename}), which "
                             f"spreadsheet programs never write and which can be used to attack a "
                             f"server; it was not opened. Save the data in a new workbook.")
                return ""
    return kind


def _check_ole2(data: bytes, report: Report, filename: str) -> str:
    if "EncryptedPackage".encode("utf-16-le") in data or "EncryptionInfo".encode("utf-16-le") in data:
        report.error("file_encrypted", None, None, filename,
                     f"{filename} is protected with a password, so it cannot be read: open it in "
                     f"Excel, remove the password (File > Info > Protect Workbook > Encrypt with "
                     f"Password, clear it), save and upload again.")
        return ""
    if "WordDocument".encode("utf-16-le") in data:
        report.error("not_a_spreadsheet", None, None, filename,
                     f"{filename} is a Word document, not a spreadsheet: upload {FORMATS}.")
        return ""
    if "PowerPoint Document".encode("utf-16-le") in data:
        report.error("not_a_spreadsheet", None, None, filename,
                     f"{filename} is a PowerPoint presentation, not a spreadsheet: upload {FORMATS}.")
        return ""
    return "xls"


def sniff_kind(data: bytes, filename: str, report: Report) -> str:
    """Which reader to use, or "" with a problem in ``report``."""
    if len(data) > MAX_UPLOAD_BYTES:
        report.error("file_too_large", None, None, filename,
                     f"{filename} is {len(data) / 2**20:,.1f} MB; the limit is "
                     f"{MAX_UPLOAD_BYTES // 2**20} MB. Remove sheets the monitor does not use "
                     f"(pictures, pivots, raw survey data) and upload again.")
        return ""
    if not data.strip():
        report.error("file_empty", None, None, filename,
                     f"{filename} is empty: upload the filled-in workbook.")
        return ""
    if data.startswith(ZIP_MAGIC):
        return _check_zip(data, report, filename)
    if data.startswith(OLE2_MAGIC):
        return _check_ole2(data, report, filename)
    if data.startswith(b"%PDF"):
        report.error("not_a_spreadsheet", None, None, filename,
                     f"{filename} is a PDF document, not a spreadsheet: upload {FORMATS}.")
        return ""
    head = data[:8192]
    ext = _ext(filename)
    # a csv may hold a stray NUL byte in a cell (an error at that cell, not a binary file)
    looks_text = (b"\x00" not in head or head.startswith((b"\xff\xfe", b"\xfe\xff"))
                  or (ext in CSV_EXTENSIONS and head.count(b"\x00") <= max(1, len(head) // 100)))
    if looks_text and ext not in SPREADSHEET_EXTENSIONS:
        if head.lstrip().lower().startswith((b"<!doctype html", b"<html")):
            report.error("not_a_spreadsheet", None, None, filename,
                         f"{filename} is a web page, not a spreadsheet: upload {FORMATS}.")
            return ""
        return "csv"
    named = f"named {ext} but " if ext in SPREADSHEET_EXTENSIONS else ""
    report.error("file_unreadable", None, None, filename,
                 f"{filename} is {named}not a spreadsheet we can read: upload {FORMATS}.")
    return ""


# --- readers ------------------------------------------------------------------------------

def _decode_text(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", "replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", "replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


def _sniff_delimiter(text: str) -> str:
    sample = text[:65536]
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        first = sample.splitlines()[:10]
        counts = {d: sum(line.count(d) for line in first) for d in (",", ";", "\t")}
        return max(counts, key=lambda d: counts[d])


def _read_csv(data: bytes, raw: RawWorkbook) -> None:
    text = _decode_text(data)
    delim = _sniff_delimiter(text)
    rows: list[list] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    try:
        for row in reader:
            rows.append(row)
            if len(rows) > MAX_DATA_ROWS + HEADER_SEARCH_ROWS + 1:
                raw.report.error("too_many_rows", None, None, raw.filename,
                                 f"{raw.filename} has more than {MAX_DATA_ROWS:,} rows, more than "
                                 f"the monitor takes in one file: split it into smaller files.")
                return
    except csv.Error as exc:
        raw.report.error("file_unreadable", None, None, raw.filename,
                         f"{raw.filename} is not a well-formed csv file ({exc}): save it again "
                         f"from your spreadsheet as CSV and upload the new file.")
        return
    width = max((len(r) for r in rows), default=0)
    if width > MAX_COLUMNS:
        line = next(i for i, r in enumerate(rows) if len(r) == width) + 1
        raw.report.error("sheet_too_large", None, f"A{line}", width,
                         f"Line {line} of {raw.filename} has {width:,} fields; a LINK sheet has at "
                         f"most {MAX_COLUMNS:,} columns. Delete the stray separators at the end "
                         f"of that line (or save the sheet again as CSV) and upload the new file.")
        return
    for r in rows:
        if len(r) < width:
            r.extend([""] * (width - len(r)))
    raw.sheets.append(RawSheet(None, rows))


def _known_sheet(name: str) -> str | None:
    key = catalogue.normalize_sheet_name(name)
    for canonical in catalogue.SHEET_ORDER:
        if catalogue.normalize_sheet_name(canonical) == key:
            return canonical
    return None


_FAULTS = BaseException  # what calamine may raise: anything, a ``PanicException`` too


def _reraise_interrupt(exc: BaseException) -> None:
    if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit, MemoryError)):
        raise exc


def _too_large(raw: RawWorkbook, name: str, n_rows: int, n_cols: int) -> bool:
    """A sheet whose grid would be too large to build is an error before it is built."""
    if n_rows > MAX_DATA_ROWS + HEADER_SEARCH_ROWS + 1:
        raw.report.error("too_many_rows", name, None, n_rows,
                         f"Sheet {name} has {n_rows:,} rows; the monitor takes at most "
                         f"{MAX_DATA_ROWS:,} data rows per sheet: split it into smaller files "
                         f"(or delete the rows below your data, which may hold stray formatting).")
        return True
    if n_cols > MAX_COLUMNS or n_rows * n_cols > MAX_CELLS:
        raw.report.error("sheet_too_large", name, None, f"{n_rows:,} rows x {n_cols:,} columns",
                         f"Sheet {name} reaches column {column_letter(n_cols - 1)} on "
                         f"{n_rows:,} rows, far more than a LINK sheet has: delete the columns to "
                         f"the right of your data and the rows below it (a stray cell far away "
                         f"is enough), save and upload again.")
        return True
    return False


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _spare_core() -> bool:
    """Is a second core free for the other half? (On a machine already busy, two halves
    only cost more: the last minute's load average, which counts this reader's own work
    too, must be below the number of cores.)"""
    cpus = _cpus()
    try:
        load = os.getloadavg()[0]
    except OSError:  # pragma: no cover - not available
        return False
    return cpus > 1 and load < cpus


# the parts of an xlsx package calamine needs besides the sheet (not the other sheets,
# pictures or the calculation chain)
_HALF_MEMBER = re.compile(r"\[Content_Types\]\.xml|_rels/\.rels|xl/_rels/workbook\.xml\.rels"
                          r"|xl/(?!calcChain)[^/]+\.xml")
_ROW_WITH_NUMBER = re.compile(rb'<row\b[^>]{0,400}?\br="[0-9]{1,7}"')
_DIMENSION_TAG = re.compile(rb"<dimension\b[^>]{0,200}>")


def _cut(xml: bytes) -> tuple[int, int, int] | None:
    """Where to cut a sheet's XML in two: (start of the rows, the middle row's ``<row``,
    end of the rows), or None when it cannot be cut safely (no plain ``<sheetData>``, a
    middle row without its number, a comment, CDATA or processing instruction before
    the cut)."""
    open_ = xml.find(b"<sheetData>")
    if open_ < 0:
        return None
    start = open_ + len(b"<sheetData>")
    end = xml.rfind(b"</sheetData>")
    if end < start:
        return None
    # (the top half starts to be parsed last, after building its workbook: it gets fewer rows)
    mid = xml.find(b"<row", start + (end - start) * 46 // 100, end)
    if mid < 0 or _ROW_WITH_NUMBER.match(xml, mid) is None:
        return None
    for mark in (b"!", b"?"):  # (a search for a rare byte is fast; for "<!" it is not)
        i = xml.find(mark, start, mid)
        while i >= 0:
            if xml[i - 1] == 0x3C:  # "<!" or "<?"
                return None
            i = xml.find(mark, i + 1, mid)
    return start, mid, end


class _Halves:
    """A sheet read as two calamine sheets (rows above the cut, rows from it), with what
    ``_read_calamine`` uses of one: ``end`` and ``to_python(skip_empty_area=False)``."""

    def __init__(self, top, bottom) -> None:
        self.top, self.bottom = top, bottom
        ends = [e for e in (top.end, bottom.end) if e is not None]
        self.end = (max(e[0] for e in ends), max(e[1] for e in ends)) if ends else None

    def to_python(self, skip_empty_area: bool = False) -> list[list]:
        assert not skip_empty_area
        if self.end is None:
            return []
        width = self.end[1] + 1
        rows: list[list] = []
        if self.top.end is not None:
            rows = self.top.to_python(skip_empty_area=False)
            if self.top.end[1] + 1 < width:
                pad = [""] * (width - self.top.end[1] - 1)
                for r in rows:
                    r.extend(pad)
        if self.bottom.start is None:
            return rows
        (first, left), right = self.bottom.start, self.bottom.end[1]
        rows.extend([""] * width for _ in range(first - len(rows)))
        below = self.bottom.to_python(skip_empty_area=True)
        if left or right + 1 < width:
            before, after = [""] * left, [""] * (width - right - 1)
            below = [before + r + after for r in below]
        rows.extend(below)
        return rows


def _trim_heap() -> None:
    """Give the heap's free memory back to the system (glibc's ``malloc_trim``): the
    halves' copies of the XML, freed now, would otherwise stay in the reader's heap (and
    in its peak) while the cells are typed."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        pass


def _read_halves(data: bytes, part: str, name: str) -> _Halves | None:
    """Sheet ``name`` of an xlsx read by calamine in two halves at once: the sheet's XML
    is inflated here, and each half (the rows above a middle row, and the rest, each
    with the XML around the rows) goes to calamine as its own stored, uncompressed
    workbook; calamine parses them in two threads (it lets go of the GIL). -> None when
    the XML cannot be cut safely, a half cannot be read or the halves' rows overlap: the
    caller reads the sheet whole, as calamine alone would. (Its formula errors are found
    by ``read_workbook``'s scan, beside this, on the other core while this inflates.)"""
    from python_calamine import CalamineWorkbook

    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        xml = zf.read(part)
        members = [(n, zf.read(n)) for n in zf.namelist() if n != part and _HALF_MEMBER.fullmatch(n)]
    except Exception:  # noqa: BLE001 - a damaged part: calamine says so itself
        return None
    cut = _cut(xml)
    if cut is None:
        return None
    start, mid, end = cut
    view = memoryview(xml)
    head = _DIMENSION_TAG.sub(b"", xml[:start], count=1)  # (calamine reserves cells by it)
    tail = xml[end:]

    def package(rows: memoryview) -> io.BytesIO:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as out:
            for n, content in members:
                out.writestr(n, content)
            with out.open(part, "w") as fh:
                fh.write(head)
                fh.write(rows)
                fh.write(tail)
        buf.seek(0)
        return buf

    got: list = [None, None]

    def read(i: int, wb) -> None:
        try:
            try:
                got[i] = wb.get_sheet_by_name(name)
            finally:
                wb.close()  # (frees its copy of the XML; the sheet keeps its cells)
        except _FAULTS as exc:  # a Rust panic is a BaseException
            got[i] = exc

    bottom = None
    try:  # the bottom half is parsed while the top half's workbook is built
        bottom = threading.Thread(target=read, args=(1, CalamineWorkbook.from_filelike(
            package(view[mid:end]))), daemon=True)
        bottom.start()
        top_package = package(view[start:mid])
        del xml, view  # (before calamine copies the top half: one copy of the XML at a time)
        top = CalamineWorkbook.from_filelike(top_package)
        del top_package
    except _FAULTS as exc:
        if bottom is not None:
            bottom.join()
        _reraise_interrupt(exc)
        return None
    read(0, top)
    bottom.join()
    _trim_heap()
    for g in got:
        if isinstance(g, BaseException):
            _reraise_interrupt(g)
            return None
    top_sheet, bottom_sheet = got
    if (top_sheet.end is not None and bottom_sheet.start is not None
            and top_sheet.end[0] >= bottom_sheet.start[0]):
        return None  # rows out of order: read whole
    return _Halves(top_sheet, bottom_sheet)


def _read_calamine(data: bytes, raw: RawWorkbook) -> None:
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except _FAULTS as exc:  # calamine raises many kinds for bad files, and may panic
        _reraise_interrupt(exc)
        if "password" in str(exc).lower() or type(exc).__name__ == "PasswordError":
            raw.report.error("file_encrypted", None, None, raw.filename,
                             f"{raw.filename} is protected with a password: remove the password "
                             f"in Excel, save and upload again.")
        else:
            raw.report.error("file_unreadable", None, None, raw.filename,
                             f"{raw.filename} cannot be read as a spreadsheet ({type(exc).__name__}): "
                             f"open it in Excel, save it as .xlsx and upload the new file.")
        return
    try:
        hidden = {m.name for m in wb.sheets_metadata if str(m.visible).rsplit(".", 1)[-1] != "Visible"}
    except _FAULTS as exc:
        _reraise_interrupt(exc)
        hidden = set()
    try:
        for name in wb.sheet_names:
            if _known_sheet(name) is None:
                raw.ignored_sheets.append(name)
                continue
            if name in hidden:
                raw.report.warn("hidden_sheet", name, None, name,
                                f"Sheet {name} is hidden in the workbook; it was read like the "
                                f"others. Unhide it (right-click a sheet tab > Unhide) to see what "
                                f"it sends, or delete it if it should not be sent.")
            declared = raw.dimensions.get(name)
            if declared is not None and _too_large(raw, name, *declared):
                continue
            try:
                halves = _read_halves(data, raw.halves[name], name) if name in raw.halves else None
                sheet = halves if halves is not None else wb.get_sheet_by_name(name)
                end = sheet.end
                if end is not None and end[0] + 1 > MAX_DATA_ROWS + HEADER_SEARCH_ROWS + 1:
                    raw.report.error(
                        "too_many_rows", name, None, end[0] + 1,
                        f"Sheet {name} has {end[0] + 1:,} rows; the monitor takes at most "
                        f"{MAX_DATA_ROWS:,} data rows per sheet: split it into smaller files.")
                    continue
                if end is not None and _too_large(raw, name, end[0] + 1, end[1] + 1):
                    continue
                rows = sheet.to_python(skip_empty_area=False) if end is not None else []
                del sheet
                if halves is not None:  # (the halves' cells were freed in two heaps)
                    del halves
                    _trim_heap()
            except _FAULTS as exc:  # a Rust panic is a BaseException
                _reraise_interrupt(exc)
                raw.report.error("file_unreadable", name, None, None,
                                 f"Sheet {name} cannot be read ({type(exc).__name__}): open the file "
                                 f"in Excel, save it again and upload the new file.")
                continue
            raw.sheets.append(RawSheet(name, rows))
    finally:
        wb.close()


_DIMENSION = re.compile(rb'<dimension\s+ref="([A-Z]{1,4})?([0-9]{1,8})?(?::([A-Z]{1,4})([0-9]{1,8}))?"')


def _package_warnings(data: bytes, kind: str, raw: RawWorkbook) -> None:
    """What the package itself says, before any sheet is read: declared sheet sizes
    (xlsx), links to other workbooks (their values are cached copies) and macros."""
    vba = "_VBA_PROJECT".encode("utf-16-le")
    macros = kind == "xls" and vba in data
    if kind == "xlsx":
        try:
            zf = zipfile.ZipFile(io.BytesIO(data))
            names = set(zf.namelist())
            macros = any(n.lower().endswith("vbaproject.bin") for n in names)
            links = sorted(n for n in names if n.startswith("xl/externalLinks/") and n.endswith(".xml"))
            if links:
                raw.report.warn("external_links", None, None, len(links),
                                f"{raw.filename} links to {len(links)} other workbook"
                                f"{'s' if len(links) > 1 else ''}: cells that take their values "
                                f"from there hold copies saved the last time the links were "
                                f"updated. Check them, or paste them as values (Paste Special > "
                                f"Values) before sending.")
            for name, part in xlsx_sheet_parts(zf).items():
                if _known_sheet(name) is None:
                    continue
                with zf.open(part) as fh:
                    head = fh.read(4096)
                m = _DIMENSION.search(head)
                if m and m.group(3):
                    raw.dimensions[name] = (int(m.group(4)), column_index(m.group(3).decode()) + 1)
                if HALVES_MIN_BYTES <= zf.getinfo(part).file_size <= HALVES_MAX_BYTES and _spare_core():
                    raw.halves[name] = part
        except Exception:  # noqa: BLE001 - calamine reports a damaged file itself
            pass
    if macros:
        raw.report.warn("macros", None, None, raw.filename,
                        f"{raw.filename} contains macros. The monitor reads only the cells and "
                        f"never runs them, and the original is offered for download only "
                        f"without its macros. Save the workbook as .xlsx to send it without them.")


def read_workbook(data: bytes, filename: str) -> RawWorkbook:
    """Read every spec sheet's cell grid (other sheets are only named). Never raises."""
    report = Report()
    kind = sniff_kind(data, filename, report)
    raw = RawWorkbook(filename, kind, report=report)
    if not kind:
        return raw
    try:
        if kind == "csv":
            _read_csv(data, raw)
        else:
            _package_warnings(data, kind, raw)
            # formula errors (which calamine reads as blank) are looked for beside it
            with ThreadPoolExecutor(max_workers=1) as pool:
                errors = pool.submit(error_cells, data, kind, lambda n: _known_sheet(n) is not None)
                _read_calamine(data, raw)
                found = errors.result()
            for sheet in raw.sheets:
                sheet.errors = found.get(sheet.name, {}) if sheet.name is not None else {}
    except MemoryError:
        raw.sheets.clear()
        report.error("file_too_large", None, None, filename,
                     f"{filename} is too large to read: split it into smaller files.")
    return raw


# --- sheets and headers -------------------------------------------------------------------------

def header_lookup(sheet: catalogue.Sheet) -> dict[str, str]:
    """Normalised header text -> column code (codes and the template's labels)."""
    out: dict[str, str] = {}
    for c in sheet.all_columns:
        out.setdefault(catalogue.normalize_header(c.header), c.code)
    for c in sheet.all_columns:
        out[catalogue.normalize_header(c.code)] = c.code
    return out


def _find_header(rows: list[list], lookup: dict[str, str]) -> tuple[int, int]:
    """-> (0-based header row, number of known columns), or (-1, best count)."""
    best = 0
    for r, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        found = (catalogue.normalize_header(v) for v in row if isinstance(v, str))
        n = len({lookup[h] for h in found if h in lookup})
        if n >= 2:
            return r, n
        best = max(best, n)
    return -1, best


def _table(canonical: str, name: str, rows: list[list], header_row: int, report: Report,
           cell_errors: dict[tuple[int, int], str] | None = None) -> SheetTable | None:
    spec = catalogue.sheets()[canonical]
    lookup = header_lookup(spec)
    columns: dict[str, int] = {}
    header = rows[header_row]
    for c, v in enumerate(header):
        text = v if isinstance(v, str) else ("" if v is None else str(v))
        if not text.strip():
            continue
        code = lookup.get(catalogue.normalize_header(text))
        ref = cell_ref(header_row, c)
        if code is None:
            report.warn("unknown_column", name, ref, text,
                        f"Column {text!r} is not a column of sheet {canonical}; it is ignored. "
                        f"Rename it if it should be one of: {', '.join(c.header for c in spec.columns)}.")
        elif code in columns:
            first = cell_ref(header_row, columns[code])
            report.error("duplicate_column", name, ref, text,
                         f"Column {text!r} appears twice (cells {first} and {ref}) in sheet {name}: "
                         f"delete or rename one of them.")
        else:
            columns[code] = c
    missing = [c.code for c in spec.columns if c.required and c.code not in columns]
    for code in missing:
        col = spec.column(code)
        report.error("missing_column", name, None, None,
                     f"Sheet {name} has no {col.header!r} column ({code}), which is required: add "
                     f"it to the header row (row {header_row + 1}).")
    if missing:
        return None
    body = rows[header_row + 1:]
    if len(body) > MAX_DATA_ROWS:
        report.error("too_many_rows", name, None, len(body),
                     f"Sheet {name} has {len(body):,} rows below its header; the monitor takes at "
                     f"most {MAX_DATA_ROWS:,}: split it into smaller files.")
        return None
    cols_raw: dict[str, np.ndarray] = {}
    n = len(body)
    lengths = set(map(len, body))  # (one pass; a generator per row costs 50,000 frames)
    width = max(lengths, default=0)
    grid = np.empty((n, width), dtype=object)
    if n and width:
        if lengths == {width}:
            grid[:] = body
        else:  # ragged rows (csv): pad
            grid[:] = [r + [""] * (width - len(r)) for r in body]
    for code, c in columns.items():
        cols_raw[code] = grid[:, c] if c < width else np.full(n, "", dtype=object)
    code_at = {c: code for code, c in columns.items()}
    errors = {(r - header_row - 1, code_at[c]): text for (r, c), text in (cell_errors or {}).items()
              if header_row < r <= header_row + n and c in code_at}
    return SheetTable(canonical, name, header_row, columns, cols_raw, grid, errors)


def locate_sheets(raw: RawWorkbook, report: Report) -> dict[str, SheetTable]:
    """The spec sheets of the workbook, by canonical name. Problems go to ``report``."""
    found: dict[str, SheetTable] = {}
    for name in raw.ignored_sheets:
        report.warn("sheet_ignored", name, None, name,
                    f"Sheet '{name}' is not one of the LINK sheets and was ignored. The LINK "
                    f"sheets are named {', '.join(catalogue.SHEET_ORDER)}: rename it if it "
                    f"holds one of them.")
    for sheet in raw.sheets:
        if sheet.name is None:  # csv: the sheet whose columns fit best
            best: tuple[int, str | None, int] = (0, None, -1)
            for candidate in catalogue.SHEET_ORDER:
                r, n = _find_header(sheet.rows, header_lookup(catalogue.sheets()[candidate]))
                if r >= 0 and n > best[0]:
                    best = (n, candidate, r)
            n, fit, r = best
            if fit is None:
                report.error("no_known_sheet", None, None, raw.filename,
                             f"{raw.filename} has no header row with the monitor's columns in its "
                             f"first {HEADER_SEARCH_ROWS} rows: use the template's headers, e.g. "
                             f"pilot_id and quarter for Indicators.")
                continue
            t = _table(fit, fit, sheet.rows, r, report)
            if t is not None:
                found[fit] = t
            continue
        canonical = _known_sheet(sheet.name)
        assert canonical is not None  # read_workbook keeps only the known sheets
        if canonical in found:
            report.error("duplicate_sheet", sheet.name, None, sheet.name,
                         f"Sheets {found[canonical].name!r} and {sheet.name!r} are both the "
                         f"{canonical} sheet: merge them into one.")
            continue
        spec = catalogue.sheets()[canonical]
        r, _ = _find_header(sheet.rows, header_lookup(spec))
        if r < 0:
            if not any(any(str(v).strip() for v in row) for row in sheet.rows[:HEADER_SEARCH_ROWS]):
                report.warn("empty_sheet", sheet.name, None, None,
                            f"Sheet {sheet.name} is empty; nothing was read from it.")
                continue
            report.error("no_header", sheet.name, None, None,
                         f"Sheet {sheet.name} has no header row: put the column names (such as "
                         f"{', '.join(spec.codes[:3])}) in one row among the first "
                         f"{HEADER_SEARCH_ROWS}.")
            continue
        t = _table(canonical, sheet.name, sheet.rows, r, report, sheet.errors)
        if t is not None:
            found[canonical] = t
    if not found and raw.kind and raw.kind != "csv" and not report.errors:
        its = f" (its sheets: {', '.join(raw.ignored_sheets)})" if raw.ignored_sheets else ""
        report.error("no_known_sheet", None, None, raw.filename,
                     f"{raw.filename}{its} has none of the LINK sheets "
                     f"({', '.join(catalogue.SHEET_ORDER)}): rename your sheet, or copy your data "
                     f"into the template.")
    return found


__all__ = ["RawSheet", "RawWorkbook", "SheetTable", "read_workbook", "locate_sheets", "gc_paused",
           "header_lookup", "column_letter", "MAX_UPLOAD_BYTES", "MAX_DATA_ROWS"]
