"""Reading workbooks: formats, sheets and headers, and bad files refused fast and clearly."""

import io
import time
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linkdash import workbook
from linkdash.importer import check_file
from linkdash.problems import Report
from tests.workbook_builder import csv_bytes, reference_portfolio, replace_zip_part, xlsx_bytes

CURRENT = reference_portfolio()

GOOD = xlsx_bytes({"Indicators": [["pilot_id", "quarter", "participants_total"],
                                  ["KEN-DAIRY", "2017-Q1", 10]]})


def codes(data, name="upload.xlsx"):
    t = time.perf_counter()
    raw = workbook.read_workbook(data, name)
    assert time.perf_counter() - t < 5, "a bad file must be refused within seconds"
    assert raw.sheets == []
    return [p.code for p in raw.report.errors]


def test_a_good_workbook_reads_every_cell_at_its_excel_position():
    raw = workbook.read_workbook(GOOD, "good.xlsx")
    assert raw.report.problems == [] and raw.kind == "xlsx"
    (sheet,) = raw.sheets
    assert sheet.name == "Indicators"
    assert sheet.rows[1][0] == "KEN-DAIRY" and sheet.rows[1][2] == 10.0


def test_empty_and_oversized_files():
    assert codes(b"") == ["file_empty"]
    assert codes(b"   \n") == ["file_empty"]
    assert codes(b"PK\x03\x04" + b"\0" * (workbook.MAX_UPLOAD_BYTES + 1)) == ["file_too_large"]


def _docx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


def test_renamed_documents_are_named_for_what_they_are():
    raw = workbook.read_workbook(_docx(), "report.xlsx")
    assert [p.code for p in raw.report.errors] == ["not_a_spreadsheet"]
    assert "Word document" in raw.report.errors[0].message
    raw = workbook.read_workbook(b"%PDF-1.7\n...binary...", "q3.xlsx")
    assert [p.code for p in raw.report.errors] == ["not_a_spreadsheet"]
    assert "PDF" in raw.report.errors[0].message


def test_random_bytes_named_xlsx_are_unreadable():
    assert codes(bytes(range(256)) * 10, "q3.xlsx") == ["file_unreadable"]


def test_a_damaged_xlsx_is_unreadable_not_a_crash():
    assert codes(GOOD[: len(GOOD) // 2], "cut.xlsx") == ["file_unreadable"]


def test_password_protected_workbook():
    # What Excel writes for "Encrypt with password": an OLE2 container with these streams.
    ole = (workbook.OLE2_MAGIC + b"\0" * 504 + "EncryptionInfo".encode("utf-16-le") + b"\0" * 50
           + "EncryptedPackage".encode("utf-16-le") + b"\0" * 2000)
    raw = workbook.read_workbook(ole, "secret.xlsx")
    assert [p.code for p in raw.report.errors] == ["file_encrypted"]
    assert "password" in raw.report.errors[0].message


@pytest.fixture(scope="module")
def zip_bomb() -> bytes:
    """An xlsx whose one extra part expands to 420 MB of zeros (about 400 KB on disk)."""
    buf = io.BytesIO()
    src = zipfile.ZipFile(io.BytesIO(GOOD))
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for info in src.infolist():
            z.writestr(info, src.read(info.filename))
        with z.open("xl/media/padding.bin", "w", force_zip64=True) as fh:
            chunk = b"\0" * (4 * 2**20)
            for _ in range(105):
                fh.write(chunk)
    return buf.getvalue()


def test_zip_bomb_is_refused_without_expanding_it(zip_bomb):
    assert len(zip_bomb) < 2 * 2**20
    assert codes(zip_bomb) == ["zip_bomb"]


def test_billion_laughs_is_refused_before_any_xml_parser_runs():
    lol = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
           + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                      for i in range(1, 10))
           + b']>\n<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1">'
             b"<si><t>&lol9;</t></si></sst>")
    data = replace_zip_part(GOOD, "xl/sharedStrings.xml", lol)
    assert codes(data) == ["xml_entities"]


def test_too_many_rows_in_a_csv():
    rows = ([["pilot_id", "quarter", "participants_total"]]
            + [["KEN-DAIRY", "2017-Q1", "1"]] * (workbook.MAX_DATA_ROWS + 20))
    t = time.perf_counter()
    raw = workbook.read_workbook(csv_bytes(rows), "big.csv")
    assert time.perf_counter() - t < 10
    assert [p.code for p in raw.report.errors] == ["too_many_rows"]


def test_too_many_rows_in_a_sheet(monkeypatch):
    monkeypatch.setattr(workbook, "MAX_DATA_ROWS", 30)
    data = xlsx_bytes({"Indicators": [["pilot_id", "quarter"]]
                       + [["KEN-DAIRY", f"2017-Q{i % 4 + 1}"] for i in range(60)]})
    raw = workbook.read_workbook(data, "big.xlsx")
    assert [(p.code, p.sheet) for p in raw.report.errors] == [("too_many_rows", "Indicators")]


def test_a_workbook_without_any_link_sheet():
    data = xlsx_bytes({"Sheet1": [["a", "b"]], "Notes": [["x"]]})
    c = check_file(data, "other.xlsx")
    assert sorted(c.report.flatten("code", "sheet")) == [
        ("no_known_sheet", None), ("sheet_ignored", "Notes"), ("sheet_ignored", "Sheet1")]
    assert "Sheet1, Notes" in c.report.errors[0].message


def test_sheets_are_found_by_normalised_name_and_others_named():
    data = xlsx_bytes({"Read me": [["hello"]],
                       " indicators ": [["Pilot ID", "QUARTER"], ["KEN-DAIRY", "2017-Q1"]],
                       "PILOTS": [["pilot-id", "Country", "value chain"]]})
    raw = workbook.read_workbook(data, "x.xlsx")
    r = Report()
    found = workbook.locate_sheets(raw, r)
    assert set(found) == {"Indicators", "Pilots"}
    assert found["Indicators"].name == " indicators "
    assert r.flatten("code", "value") == [("sheet_ignored", "Read me")]


def test_header_row_below_title_rows_and_header_problems():
    data = xlsx_bytes({"Indicators": [
        ["Kenya quarterly report"], ["prepared by the country team"], [],
        ["Pilot ID", "Quarter", "Participants total", "Comments", "participants-total"],
        ["KEN-DAIRY", "2017-Q1", 3, "ok", 3]]})
    c = check_file(data, "x.xlsx", CURRENT)
    assert c.report.flatten("sheet", "cell", "code") == [
        ("Indicators", "D4", "unknown_column"), ("Indicators", "E4", "duplicate_column")]
    assert "C4 and E4" in c.report.errors[0].message


def test_missing_required_column():
    data = xlsx_bytes({"Progress": [["pilot_id", "status", "notes"], ["KEN-DAIRY", "completed", "x"]]})
    c = check_file(data, "x.xlsx")
    assert c.report.flatten("sheet", "cell", "code") == [("Progress", None, "missing_column")]
    assert "Milestone" in c.report.errors[0].message


def test_no_header_in_the_first_ten_rows():
    data = xlsx_bytes({"Indicators": [["x"]] * 12 + [["pilot_id", "quarter"]]})
    c = check_file(data, "x.xlsx")
    assert c.report.flatten("sheet", "code") == [("Indicators", "no_header")]


def test_csv_is_recognised_by_its_headers_with_bom_and_semicolons():
    rows = [["Pilot ID", "Quarter", "Kind", "Lesson"],
            ["KEN-DAIRY", "2017-Q1", "insight", "Café owners pay more"]]
    for enc, delim in (("utf-8-sig", ";"), ("cp1252", ","), ("utf-8", "\t")):
        raw = workbook.read_workbook(csv_bytes(rows, delimiter=delim, encoding=enc), "lessons.csv")
        r = Report()
        found = workbook.locate_sheets(raw, r)
        assert list(found) == ["Lessons"], (enc, delim)
        assert found["Lessons"].columns_raw["lesson"].tolist() == ["Café owners pay more"]


def test_csv_with_no_known_headers():
    c = check_file(csv_bytes([["a", "b"], ["1", "2"]]), "x.csv")
    assert c.report.flatten("code") == [("no_known_sheet",)]


def test_whitespace_only_cells_and_blank_rows_are_skipped():
    data = xlsx_bytes({"Indicators": [["pilot_id", "quarter", "participants_total"],
                                      ["KEN-DAIRY", "2017-Q1", "   "], [None, "  ", None], [],
                                      ["KEN-DAIRY", "2017-Q2", 5]]})
    c = check_file(data, "x.xlsx", CURRENT)
    assert c.report.problems == []
    assert c.tables["Indicators"][["quarter", "value"]].values.tolist() == [["2017-Q2", 5.0]]


def test_files_saved_by_libreoffice_import():
    """tests/fixtures/make_fixtures.sh made these with soffice --convert-to."""
    from pathlib import Path

    here = Path(__file__).parent / "fixtures"
    for name in ("libreoffice_indicators.xlsx", "libreoffice_indicators.ods"):
        data = (here / name).read_bytes()
        c = check_file(data, name, CURRENT, today=__import__("datetime").date(2018, 1, 1))
        assert c.report.ok and c.report.problems == [], (name, c.report.problems)
        t = c.tables["Indicators"].set_index(["pilot_id", "quarter", "indicator"])
        assert t.loc[("KEN-DAIRY", "2017-Q3", "income_avg_usd"), "value"] == 812.5
        assert t.loc[("UGA-DAIRY", "2017-Q2", "participants_women"), "value"] == 41.0
        assert t.loc[("KEN-DAIRY", "2017-Q3", "volume_unit"), "text"] == "litres"
        assert len(t) == 6


@pytest.mark.parametrize("name", ["libreoffice_formula_errors.xlsx", "libreoffice_formula_errors.ods",
                                  "libreoffice_formula_errors.xls"])
def test_formula_errors_are_errors_at_their_cells_not_blanks(name):
    """calamine reads a cell whose formula ends in #DIV/0! as blank; the director sees
    #DIV/0! in it, and the file must not pass as "not reported" there."""
    from pathlib import Path

    data = (Path(__file__).parent / "fixtures" / name).read_bytes()
    c = check_file(data, name, CURRENT, today=__import__("datetime").date(2018, 1, 1))
    errors = {(p.cell, p.code): p for p in c.report.errors}
    assert set(errors) == {("E2", "formula_error"), ("F2", "formula_error"), ("A3", "formula_error")}
    assert errors[("E2", "formula_error")].value == "#DIV/0!"
    assert errors[("A3", "formula_error")].value == "#N/A"
    assert "Income avg (USD) shows the formula error #DIV/0!" in errors[("E2", "formula_error")].message
    # the row with a broken pilot id is not also "blank", and the good row is read
    assert not any(p.code == "required_value" for p in c.report.problems)
    t = c.tables["Indicators"]
    assert t[(t.pilot_id == "UGA-DAIRY") & (t.indicator == "income_avg_usd")].value.tolist() == [410.5]


def test_formula_error_scan_finds_cells_cut_between_chunks(monkeypatch):
    """The sheet is searched a chunk at a time: an error cell across two chunks is found."""
    import io
    import zipfile

    from linkdash import formula_errors

    cells = "".join(f'<c r="C{r}" s="1"><v>{r}</v></c>' for r in range(1, 400))
    xml = (f'<worksheet><sheetData><row r="1">{cells}<c r="E7" s="2" t="e"><f>D7/C7</f>'
           f'<v>#DIV/0!</v></c></row></sheetData></worksheet>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/workbook.xml", '<workbook xmlns:r="http://schemas.openxmlformats.org/'
                    'officeDocument/2006/relationships"><sheets><sheet name="Indicators" '
                    'sheetId="1" r:id="rId1"/></sheets></workbook>')
        zf.writestr("xl/_rels/workbook.xml.rels", '<Relationships><Relationship Id="rId1" '
                    'Target="worksheets/sheet1.xml"/></Relationships>')
        zf.writestr("xl/worksheets/sheet1.xml", xml)
    cut = xml.index('t="e"') + 2
    for chunk in (cut, cut - 20, 64):
        monkeypatch.setattr(formula_errors, "_CHUNK", chunk)
        monkeypatch.setattr(formula_errors, "_TAIL", 256)
        found = formula_errors.error_cells(buf.getvalue(), "xlsx", lambda n: True)
        assert found == {"Indicators": {(6, 4): "#DIV/0!"}}, chunk


# --- a large xlsx sheet read in two halves at once --------------------------------------

workbook_halves = workbook._Halves


def _forced_halves(monkeypatch):
    """Every xlsx sheet read in halves (as one of more than 8 MB is with a core to spare)."""
    monkeypatch.setattr(workbook, "HALVES_MIN_BYTES", 0)
    monkeypatch.setattr(workbook, "_spare_core", lambda: True)


def _whole(monkeypatch):
    monkeypatch.setattr(workbook, "HALVES_MIN_BYTES", 10**12)


def _both_ways(monkeypatch, data: bytes) -> tuple[workbook.RawWorkbook, workbook.RawWorkbook]:
    _forced_halves(monkeypatch)
    halves = workbook.read_workbook(data, "big.xlsx")
    _whole(monkeypatch)
    whole = workbook.read_workbook(data, "big.xlsx")
    return halves, whole


def _same(a: workbook.RawWorkbook, b: workbook.RawWorkbook) -> None:
    assert [(p.code, p.cell, p.value, p.message) for p in a.report.problems] == \
           [(p.code, p.cell, p.value, p.message) for p in b.report.problems]
    assert [s.name for s in a.sheets] == [s.name for s in b.sheets]
    for x, y in zip(a.sheets, b.sheets):
        assert x.rows == y.rows
        assert x.errors == y.errors


def _sheet_xml_workbook(rows_xml: str, *, dimension: str = "") -> bytes:
    head = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    xml = (f'{head}{dim}<sheetViews><sheetView workbookViewId="0"/></sheetViews>'
           f'<sheetData>{rows_xml}</sheetData><pageMargins left="0.7" right="0.7" top="0.75" '
           f'bottom="0.75" header="0.3" footer="0.3"/></worksheet>')
    base = xlsx_bytes({"Indicators": [["pilot_id"]], "Notes": [["anything"]]})
    return replace_zip_part(base, "xl/worksheets/sheet1.xml", xml.encode())


_CELL = {
    "n": lambda ref, i: f'<c r="{ref}"><v>{i * 1.5}</v></c>',
    "s": lambda ref, i: f'<c r="{ref}" t="inlineStr"><is><t>text {i} &lt;row r="9"&gt;</t></is></c>',
    "b": lambda ref, i: f'<c r="{ref}" t="b"><v>{i % 2}</v></c>',
    "e": lambda ref, i: f'<c r="{ref}" t="e"><f>1/0</f><v>{"#DIV/0!" if i % 2 else "#N/A"}</v></c>',
    "styled": lambda ref, i: f'<c r="{ref}" s="0"/>',
    "date": lambda ref, i: f'<c r="{ref}" s="1"><v>{43000 + i}</v></c>',
}


def _rows_xml(rows: list[tuple[int, list[tuple[int, str]]]]) -> str:
    out = []
    for r, cells in rows:
        body = "".join(_CELL[kind](f"{workbook.column_letter(c)}{r + 1}", r + c) for c, kind in cells)
        out.append(f'<row r="{r + 1}">{body}</row>')
    return "".join(out)


def test_a_sheet_read_in_halves_is_the_sheet_read_whole(monkeypatch):
    """Same cells at the same places, the same formula errors, found in both halves."""
    rows = [(r, [(c, "nsbe"[(r * 7 + c) % 4]) for c in range(6) if (r + c) % 5]) for r in range(400)]
    data = _sheet_xml_workbook(_rows_xml(rows), dimension="A1:F400")
    made = []
    monkeypatch.setattr(workbook, "_Halves", lambda *a: made.append(a) or workbook_halves(*a))
    halves, whole = _both_ways(monkeypatch, data)
    assert len(made) == 1  # read in halves (once: the whole read makes none)
    _same(halves, whole)
    errors = halves.sheets[0].errors
    assert min(errors)[0] < 200 < max(errors)[0]  # errors above and below the cut
    assert halves.halves and not whole.halves


@pytest.mark.parametrize("shape", ["gap_at_cut", "bottom_wider", "top_wider", "bottom_starts_right",
                                   "bottom_empty", "top_empty", "one_row"])
def test_halves_of_every_shape_give_the_whole_grid(monkeypatch, shape):
    def row(r, cols, kind="n"):
        return (r, [(c, kind) for c in cols])
    rows = {
        "gap_at_cut": [row(r, range(3)) for r in range(50)]
        + [row(r, range(3)) for r in range(90, 140)],
        "bottom_wider": [row(r, range(2)) for r in range(50)]
        + [row(r, range(8)) for r in range(50, 100)],
        "top_wider": [row(r, range(8)) for r in range(50)]
        + [row(r, range(2)) for r in range(50, 100)],
        "bottom_starts_right": [row(r, range(4)) for r in range(50)]
        + [row(r, range(3, 6)) for r in range(50, 100)],
        "bottom_empty": [row(r, range(4)) for r in range(50)]
        + [row(r, range(4), "styled") for r in range(50, 100)],
        "top_empty": [row(r, range(4), "styled") for r in range(50)]
        + [row(r, range(2, 4)) for r in range(60, 100)],
        "one_row": [row(0, range(3))],
    }[shape]
    halves, whole = _both_ways(monkeypatch, _sheet_xml_workbook(_rows_xml(rows)))
    _same(halves, whole)


@pytest.mark.parametrize("rows_xml", [
    # the middle row without its number, rows out of order, CDATA and a comment before the cut
    "".join(f'<row><c><v>{r}</v></c></row>' for r in range(40)),
    "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in [*range(21, 41), *range(1, 21)]),
    '<row r="1"><c r="A1" t="inlineStr"><is><t><![CDATA[' + "".join(f'<row r="{r}">' for r in range(2, 40))
    + ']]></t></is></c></row>'
    + "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(40, 45)),
    '<!-- ' + "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(1, 40)) + ' -->'
    + '<row r="50"><c r="A50"><v>50</v></c></row>',
])
def test_a_sheet_that_cannot_be_cut_safely_is_read_whole(monkeypatch, rows_xml):
    halves, whole = _both_ways(monkeypatch, _sheet_xml_workbook(rows_xml))
    _same(halves, whole)


def _read_forced(data: bytes, filename: str) -> list[tuple[str, str | None]]:
    """(In the isolated reader) the problems of reading ``data`` with every sheet in halves."""
    workbook.HALVES_MIN_BYTES = 0
    workbook._spare_core = lambda: True
    from linkdash.importer import read_sheets

    return sorted((p.code, p.cell) for p in read_sheets(data, filename).report.problems)


def _read_plain(data: bytes, filename: str) -> list[tuple[str, str | None]]:
    from linkdash.importer import read_sheets

    return sorted((p.code, p.cell) for p in read_sheets(data, filename).report.problems)


def test_hostile_files_read_in_halves_get_the_same_problems():
    """Every hostile file of tests/hostile.py, each sheet read in halves, in the isolated
    reader (some abort a process): the same problems (or the same fault) as read whole, or
    (where the whole sheet's rectangle aborts calamine but each half's does not) the
    file's expected problem without the fault."""
    from linkdash import sandbox
    from tests import hostile

    limits = sandbox.Limits(seconds=30, memory_mb=1500)
    for kind, (make, expected) in sorted(hostile.KINDS.items()):
        filename, data = make()
        if not data.startswith(b"PK") or b"xl/workbook.xml" not in data:
            continue  # (only an xlsx sheet is read in halves)
        halves = sandbox.run_isolated(_read_forced, data, filename, limits=limits)
        whole = sandbox.run_isolated(_read_plain, data, filename, limits=limits)
        if halves.ok and not whole.ok:
            assert {code for code, _ in halves.value} & expected, (kind, halves.value)
            continue
        assert (halves.ok, halves.fault, halves.value) == (whole.ok, whole.fault, whole.value), kind


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(1, 4), st.lists(st.tuples(st.integers(1, 3),
                                                                 st.sampled_from(sorted(_CELL))),
                                                       max_size=8)),
                max_size=30))
def test_random_sheets_read_in_halves_are_read_as_whole(monkeypatch, spec):
    """Random rows (gaps between rows and cells; numbers, text, booleans, dates, errors,
    styled blanks) give the same grid and errors in halves as whole."""
    rows, r = [], -1
    for step, cells in spec:
        r += step
        c, placed = -1, []
        for cstep, kind in cells:
            c += cstep
            placed.append((c, kind))
        rows.append((r, placed))
    halves, whole = _both_ways(monkeypatch, _sheet_xml_workbook(_rows_xml(rows)))
    _same(halves, whole)


@pytest.mark.parametrize("cpus, load, spare", [(2, 0.9, True), (2, 1.9, True), (2, 2.0, False),
                                               (2, 4.0, False), (1, 0.0, False), (8, 6.0, True)])
def test_halves_only_with_a_core_to_spare(monkeypatch, cpus, load, spare):
    monkeypatch.setattr(workbook, "_cpus", lambda: cpus)
    monkeypatch.setattr(workbook.os, "getloadavg", lambda: (load, load, load))
    assert workbook._spare_core() is spare
