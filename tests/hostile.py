"""Hostile and broken files, made in code: what an attacker or an unlucky director uploads.

``KINDS`` maps a name to ``(make() -> (filename, bytes), expected problem code)``. Each is
small to build (at most a few MB) and each must end in a clear error or warning, in
bounded time and memory, with the server still answering (tests/test_hostile.py).
"""

from __future__ import annotations

import io
import struct
import zipfile

from tests.workbook_builder import csv_bytes, replace_zip_part, xlsx_bytes

IND_HEAD = ["pilot_id", "quarter", "participants_total", "participants_women", "income_avg_usd"]
GOOD_ROW = ["KEN-DAIRY", "2017-Q3", 120, 50, 900]


def _good() -> bytes:
    return xlsx_bytes({"Indicators": [IND_HEAD, GOOD_ROW]})


def _zip(parts: dict[str, bytes], *, method=zipfile.ZIP_DEFLATED, level: int | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method, compresslevel=level) as z:
        for name, content in parts.items():
            z.writestr(name, content)
    return out.getvalue()


# --- minimal xlsx written by hand, so a test controls every byte of the sheet XML --------

_CT = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
       b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
       b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
       b'<Default Extension="xml" ContentType="application/xml"/>'
       b'<Override PartName="/xl/workbook.xml" '
       b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
       b'<Override PartName="/xl/worksheets/sheet1.xml" '
       b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
       b'</Types>')
_RELS = (b'<?xml version="1.0" encoding="UTF-8"?>'
         b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         b'<Relationship Id="rId1" '
         b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
         b'Target="xl/workbook.xml"/>'
         b'</Relationships>')
_WB_RELS = (b'<?xml version="1.0" encoding="UTF-8"?>'
            b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            b'<Relationship Id="rId1" '
            b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
            b'Target="worksheets/sheet1.xml"/>'
            b'</Relationships>')


def _workbook_xml(name: str = "Indicators", state: str = "") -> bytes:
    st = f' state="{state}"' if state else ""
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            f'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f'<sheets><sheet name="{name}" sheetId="1"{st} r:id="rId1"/></sheets></workbook>').encode()


def raw_xlsx(sheet_data: bytes, *, name: str = "Indicators", dimension: str | None = None,
             state: str = "", extra: dict[str, bytes] | None = None) -> bytes:
    """An xlsx whose only sheet's ``<sheetData>`` is ``sheet_data`` (inline strings)."""
    dim = f'<dimension ref="{dimension}"/>'.encode() if dimension else b""
    sheet = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             + dim + b"<sheetData>" + sheet_data + b"</sheetData></worksheet>")
    parts = {"[Content_Types].xml": _CT, "_rels/.rels": _RELS, "xl/workbook.xml": _workbook_xml(name, state),
             "xl/_rels/workbook.xml.rels": _WB_RELS, "xl/worksheets/sheet1.xml": sheet}
    parts.update(extra or {})
    return _zip(parts)


def _is(ref: str, text: str) -> bytes:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'.encode()


def _header_row() -> bytes:
    return b'<row r="1">' + b"".join(_is(f"{chr(65 + i)}1", h) for i, h in enumerate(IND_HEAD)) + b"</row>"


# --- the kinds -------------------------------------------------------------------------

def corner_cells():
    """One cell at A1 and one at XFD1048576: calamine would allocate the whole rectangle."""
    data = (b'<row r="1"><c r="A1" t="inlineStr"><is><t>pilot_id</t></is></c></row>'
            b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')
    return "corner.xlsx", raw_xlsx(data)


def corner_cells_with_dimension():
    data = (b'<row r="1"><c r="A1" t="inlineStr"><is><t>pilot_id</t></is></c></row>'
            b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')
    return "corner-dim.xlsx", raw_xlsx(data, dimension="A1:XFD1048576")


def wide_row():
    """A header row and one cell far to the right on a 100,000-row sheet."""
    data = _header_row() + b'<row r="100000"><c r="XFA100000"><v>1</v></c></row>'
    return "wide.xlsx", raw_xlsx(data)


def formula_errors_many():
    """Thousands of cells whose formula ends in #DIV/0! (the scan must stay linear)."""
    rows = [_header_row()]
    for r in range(2, 4002):
        rows.append(f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>KEN-DAIRY</t></is></c>'
                    f'<c r="B{r}" t="inlineStr"><is><t>2017-Q3</t></is></c>'
                    f'<c r="C{r}" t="e"><f>1/0</f><v>#DIV/0!</v></c>'
                    f'<c r="D{r}" t="e"><f>1/0</f><v>#DIV/0!</v></c></row>'.encode())
    return "div0.xlsx", raw_xlsx(b"".join(rows))


def formula_errors_unclosed():
    """Error cells written as empty elements (``<c t="e"/>``, no ``</c>``) by the thousand."""
    rows = [_header_row()]
    for r in range(2, 6002):
        rows.append(f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>KEN-DAIRY</t></is></c>'
                    f'<c r="B{r}" t="inlineStr"><is><t>2017-Q3</t></is></c>'
                    f'<c r="C{r}" t="e"/></row>'.encode())
    return "div0-empty.xlsx", raw_xlsx(b"".join(rows))


def long_digits():
    """Numeric text of 16,000 digits followed by a letter (a quadratic number parser)."""
    rows = [IND_HEAD] + [["KEN-DAIRY", f"2017-Q{q}", "1" * 16000 + "x", 1, 1] for q in (1, 2, 3)]
    return "digits.xlsx", xlsx_bytes({"Indicators": rows})


def ods_repeated_columns():
    """An .ods whose cell is repeated 10^9 times across (number-columns-repeated)."""
    return "repeat-cols.ods", _ods('<table:table-row><table:table-cell office:value-type="string" '
                                   'calcext:value-type="error" table:number-columns-repeated="1000000000">'
                                   '<text:p>#DIV/0!</text:p></table:table-cell></table:table-row>')


def ods_repeated_rows():
    """An .ods with a row repeated 10^9 times (number-rows-repeated)."""
    return "repeat-rows.ods", _ods('<table:table-row table:number-rows-repeated="1000000000">'
                                   '<table:table-cell office:value-type="float" office:value="1">'
                                   '<text:p>1</text:p></table:table-cell></table:table-row>')


def _ods(rows_xml: str) -> bytes:
    head = ('<table:table-row>' + "".join(
        f'<table:table-cell office:value-type="string"><text:p>{h}</text:p></table:table-cell>'
        for h in IND_HEAD) + '</table:table-row>')
    content = ('<?xml version="1.0" encoding="UTF-8"?>'
               '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
               'xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0" '
               'office:version="1.2"><office:body><office:spreadsheet>'
               f'<table:table table:name="Indicators">{head}{rows_xml}</table:table>'
               '</office:spreadsheet></office:body></office:document-content>').encode()
    manifest = (b'<?xml version="1.0" encoding="UTF-8"?>'
                b'<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
                b'manifest:version="1.2">'
                b'<manifest:file-entry manifest:full-path="/" '
                b'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
                b'<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                b'</manifest:manifest>')
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), b"application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        z.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def ragged_csv():
    """A csv whose one line has a million empty fields: padding every row to it would
    take gigabytes."""
    lines = [",".join(IND_HEAD)] + [",".join(map(str, GOOD_ROW))] * 5000 + ["," * 1_000_000]
    return "ragged.csv", "\r\n".join(lines).encode()


def date_serial_huge():
    """A date cell holding the serial -1e20 (calamine panics converting it)."""
    styles = (b'<?xml version="1.0" encoding="UTF-8"?>'
              b'<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
              b'<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts>'
              b'<fonts count="1"><font/></fonts><fills count="1"><fill/></fills>'
              b'<borders count="1"><border/></borders>'
              b'<cellStyleXfs count="1"><xf/></cellStyleXfs>'
              b'<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="164" applyNumberFormat="1"/></cellXfs>'
              b'</styleSheet>')
    rels = _WB_RELS.replace(
        b"</Relationships>",
        b'<Relationship Id="rId2" '
        b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
        b'Target="styles.xml"/></Relationships>')
    data = (b'<row r="1">' + _is("A1", "pilot_id") + _is("B1", "start_date") + b"</row>"
            b'<row r="2">' + _is("A2", "KEN-DAIRY") + b'<c r="B2" s="1"><v>-1e20</v></c></row>')
    return "date.xlsx", raw_xlsx(data, name="Pilots", extra={"xl/styles.xml": styles,
                                                              "xl/_rels/workbook.xml.rels": rels})


def nul_text():
    rows = [["pilot_id", "milestone", "status", "notes"],
            ["KEN-DAIRY", "training_workshop", "completed", "fine\x00then"]]
    return "nul.csv", csv_bytes(rows)


def control_text():
    return "esc.csv", csv_bytes([["pilot_id", "milestone", "notes"],
                                 ["KEN-DAIRY", "training_workshop", "colour \x1b[31mred"]])


def inf_text():
    return "inf.csv", csv_bytes([IND_HEAD, ["KEN-DAIRY", "2017-Q3", "INF", 1, 1]])


def huge_exponent():
    return "e309.csv", csv_bytes([IND_HEAD, ["KEN-DAIRY", "2017-Q3", 1, 1, "1e309"]])


def huge_exponent_cell():
    """A numeric xlsx cell of 1e309: calamine reads it as infinity."""
    data = _header_row() + (b'<row r="2">' + _is("A2", "KEN-DAIRY") + _is("B2", "2017-Q3")
                            + b'<c r="C2"><v>1</v></c><c r="D2"><v>1</v></c><c r="E2"><v>1e309</v></c></row>')
    return "e309.xlsx", raw_xlsx(data)


def nan_text():
    return "nan.csv", csv_bytes([IND_HEAD, ["KEN-DAIRY", "2017-Q3", "NaN", 1, 1]])


def long_note():
    """A 3 MB note in the Progress sheet (random enough not to look like a zip bomb)."""
    import random

    rnd = random.Random(7)
    text = "".join(rnd.choice("abcdefghij klmnopqrstuvwxyz") for _ in range(3_000_000))
    return "note.xlsx", xlsx_bytes({"Progress": [["pilot_id", "milestone", "notes"],
                                                 ["KEN-DAIRY", "training_workshop", text]]})


def long_pilot_name():
    return "name.csv", csv_bytes([["pilot_id", "country", "value_chain", "pilot_name"],
                                  ["KEN-DAIRY", "Kenya", "dairy_cow", "N" * 5000]])


def hidden_sheet():
    data = _header_row() + b'<row r="2">' + b"".join(
        _is(f"{chr(65 + i)}2", str(v)) for i, v in enumerate(GOOD_ROW)) + b"</row>"
    return "hidden.xlsx", raw_xlsx(data, state="hidden")


def external_link():
    data = replace_zip_part(_good(), "xl/externalLinks/externalLink1.xml",
                            b'<?xml version="1.0"?><externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>')
    return "linked.xlsx", data


def macro_enabled():
    data = replace_zip_part(_good(), "xl/vbaProject.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    return "macro.xlsm", data


def billion_laughs():
    bomb = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
            b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            b'<row r="1"><c r="A1" t="inlineStr"><is><t>&lol2;</t></is></c></row></sheetData></worksheet>')
    return "lol.xlsx", replace_zip_part(_good(), "xl/worksheets/sheet1.xml", bomb)


def zip_bomb():
    """A part of 300 MB of zeros, declared honestly (the guard reads the directory)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        src = zipfile.ZipFile(io.BytesIO(_good()))
        for info in src.infolist():
            z.writestr(info, src.read(info.filename))
        with z.open("xl/media/image1.bin", "w", force_zip64=True) as fh:
            chunk = b"\0" * (1 << 20)
            for _ in range(300):
                fh.write(chunk)
    return "bomb.xlsx", out.getvalue()


def many_members():
    return "members.xlsx", _zip({**{f"xl/p{i}.xml": b"<a/>" for i in range(6000)},
                                 "xl/workbook.xml": b"<workbook/>"}, method=zipfile.ZIP_STORED)


def truncated_xlsx():
    data = _good()
    return "cut.xlsx", data[: len(data) // 2]


def damaged_part():
    data = bytearray(_good())
    i = data.find(b"xl/worksheets/sheet1.xml")
    # flip bytes inside the compressed stream that follows the local header
    for k in range(i + 60, min(i + 200, len(data))):
        data[k] ^= 0x5A
    return "damaged.xlsx", bytes(data)


def malformed_xml():
    return "bad-xml.xlsx", replace_zip_part(_good(), "xl/worksheets/sheet1.xml",
                                            b"<worksheet><sheetData><row><c r='A1'>")


def no_workbook_part():
    return "noworkbook.xlsx", _zip({"[Content_Types].xml": _CT, "xl/workbook.xml": b"<nope/>"})


def empty_file():
    return "empty.xlsx", b""


def blank_file():
    return "blank.csv", b"   \r\n  \n"


def random_bytes():
    import random

    rnd = random.Random(3)
    return "noise.xlsx", bytes(rnd.getrandbits(8) for _ in range(4096))


def pdf_renamed():
    return "report.xlsx", b"%PDF-1.7\n1 0 obj<<>>endobj\n%%EOF"


def png_renamed():
    return "photo.xlsx", b"\x89PNG\r\n\x1a\n" + b"\0" * 200


def html_page():
    return "export.csv", b"<!DOCTYPE html><html><body><table><tr><td>1</td></tr></table></body></html>"


def docx_renamed():
    return "minutes.xlsx", _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})


def pptx_renamed():
    return "slides.xlsx", _zip({"[Content_Types].xml": b"<Types/>", "ppt/presentation.xml": b"<p/>"})


def odt_renamed():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("mimetype", b"application/vnd.oasis.opendocument.text")
        z.writestr("content.xml", b"<office:document-content/>")
    return "notes.ods", out.getvalue()


def plain_zip():
    return "data.xlsx", _zip({"readme.txt": b"hello", "data/x.csv": b"a,b"})


def ole2_encrypted():
    body = "EncryptedPackage".encode("utf-16-le") + "EncryptionInfo".encode("utf-16-le")
    return "secret.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 500 + body + b"\0" * 500


def ole2_garbage():
    return "old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + struct.pack("<H", 0x3E) + b"\xff" * 3000


def word_ole2():
    return "old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 500 + "WordDocument".encode("utf-16-le")


def too_large():
    return "huge.csv", b"a" * (21 * 1024 * 1024)


def too_many_rows_csv():
    lines = [",".join(IND_HEAD)] + ["KEN-DAIRY,2017-Q3,1,1,1"] * 200_100
    return "rows.csv", "\n".join(lines).encode()


def too_many_rows_xlsx():
    data = _header_row() + b'<row r="300000"><c r="A300000"><v>1</v></c></row>'
    return "rows.xlsx", raw_xlsx(data)


def csv_huge_field():
    return "field.csv", csv_bytes([IND_HEAD, ["KEN-DAIRY", "2017-Q3", "9" * 300_000, 1, 1]])


def csv_binary_nul():
    return "bin.csv", b"pilot_id,quarter\x00\x00\x00" + bytes(range(256)) * 20


def no_known_sheet():
    return "other.xlsx", xlsx_bytes({"Sheet1": [["a", "b"], [1, 2]]})


def no_header():
    return "nohead.xlsx", xlsx_bytes({"Indicators": [[1, 2, 3], [4, 5, 6]]})


def duplicate_sheets():
    return "dups.xlsx", xlsx_bytes({"Indicators": [IND_HEAD, GOOD_ROW],
                                    "indicators ": [IND_HEAD, GOOD_ROW]})


def many_sheets():
    return "sheets.xlsx", xlsx_bytes({f"S{i}": [["x"]] for i in range(300)} | {"Indicators": [IND_HEAD]})


def deep_xml():
    """An xlsx whose sheet nests 100,000 elements (a recursion bomb for some parsers)."""
    nest = b"<x>" * 100_000 + b"</x>" * 100_000
    return "deep.xlsx", replace_zip_part(_good(), "xl/worksheets/sheet1.xml",
                                         b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
                                         + nest + b"</sheetData></worksheet>")


def utf16_nul_csv():
    text = "pilot_id,milestone,notes\r\nKEN-DAIRY,training_workshop,a\x00b\r\n"
    return "u16.csv", b"\xff\xfe" + text.encode("utf-16-le")


def quote_bomb_csv():
    """An unterminated quote: the rest of a large file becomes one field."""
    return "quote.csv", (",".join(IND_HEAD) + '\r\nKEN-DAIRY,2017-Q3,"' + "1," * 400_000).encode()


def shared_strings_huge_index():
    """A cell pointing at shared string 2^31 that does not exist."""
    data = _header_row() + b'<row r="2"><c r="A2" t="s"><v>2147483647</v></c></row>'
    return "sst.xlsx", raw_xlsx(data)


def negative_row_ref():
    data = _header_row() + b'<row r="2"><c r="A0"><v>1</v></c><c r="ZZZZZ2"><v>1</v></c></row>'
    return "badref.xlsx", raw_xlsx(data)


KINDS = {
    # the ones that used to take the server down or stall it
    "corner_cells": (corner_cells, {"sheet_too_large", "file_unsafe", "too_many_rows"}),
    "corner_cells_with_dimension": (corner_cells_with_dimension, {"sheet_too_large", "too_many_rows"}),
    "wide_row": (wide_row, {"sheet_too_large", "file_unsafe"}),
    "formula_errors_many": (formula_errors_many, {"formula_error"}),
    "formula_errors_unclosed": (formula_errors_unclosed, {"formula_error"}),
    "long_digits": (long_digits, {"not_a_number"}),
    "ods_repeated_columns": (ods_repeated_columns, {"file_unsafe", "sheet_too_large", "formula_error"}),
    "ods_repeated_rows": (ods_repeated_rows, {"file_unsafe", "sheet_too_large", "too_many_rows"}),
    "ragged_csv": (ragged_csv, {"sheet_too_large"}),
    "date_serial_huge": (date_serial_huge, {"file_unreadable", "bad_date", "file_unsafe"}),
    "nul_text": (nul_text, {"bad_text"}),
    "control_text": (control_text, {"bad_text"}),
    "inf_text": (inf_text, {"not_a_number"}),
    "huge_exponent": (huge_exponent, {"not_a_number"}),
    "huge_exponent_cell": (huge_exponent_cell, {"not_a_number"}),
    "nan_text": (nan_text, {"not_a_number"}),
    "long_note": (long_note, {"text_too_long"}),
    "long_pilot_name": (long_pilot_name, {"text_too_long"}),
    "hidden_sheet": (hidden_sheet, {"hidden_sheet"}),
    "external_link": (external_link, {"external_links"}),
    "macro_enabled": (macro_enabled, {"macros"}),
    # the classics
    "billion_laughs": (billion_laughs, {"xml_entities"}),
    "zip_bomb": (zip_bomb, {"zip_bomb"}),
    "many_members": (many_members, {"zip_bomb"}),
    "truncated_xlsx": (truncated_xlsx, {"file_unreadable"}),
    "damaged_part": (damaged_part, {"file_unreadable"}),
    "malformed_xml": (malformed_xml, {"file_unreadable", "no_known_sheet", "empty_sheet", "no_header"}),
    "no_workbook_part": (no_workbook_part, {"file_unreadable"}),
    "empty_file": (empty_file, {"file_empty"}),
    "blank_file": (blank_file, {"file_empty"}),
    "random_bytes": (random_bytes, {"file_unreadable"}),
    "pdf_renamed": (pdf_renamed, {"not_a_spreadsheet"}),
    "png_renamed": (png_renamed, {"file_unreadable"}),
    "html_page": (html_page, {"not_a_spreadsheet"}),
    "docx_renamed": (docx_renamed, {"not_a_spreadsheet"}),
    "pptx_renamed": (pptx_renamed, {"not_a_spreadsheet"}),
    "odt_renamed": (odt_renamed, {"not_a_spreadsheet"}),
    "plain_zip": (plain_zip, {"not_a_spreadsheet"}),
    "ole2_encrypted": (ole2_encrypted, {"file_encrypted"}),
    "ole2_garbage": (ole2_garbage, {"file_unreadable"}),
    "word_ole2": (word_ole2, {"not_a_spreadsheet"}),
    "too_large": (too_large, {"file_too_large"}),
    "too_many_rows_csv": (too_many_rows_csv, {"too_many_rows"}),
    "too_many_rows_xlsx": (too_many_rows_xlsx, {"too_many_rows", "sheet_too_large"}),
    "csv_huge_field": (csv_huge_field, {"file_unreadable", "not_a_number"}),
    "csv_binary_nul": (csv_binary_nul, {"file_unreadable", "not_a_spreadsheet", "no_known_sheet"}),
    "no_known_sheet": (no_known_sheet, {"no_known_sheet"}),
    "no_header": (no_header, {"no_header"}),
    "duplicate_sheets": (duplicate_sheets, {"duplicate_sheet"}),
    "many_sheets": (many_sheets, {"sheet_ignored"}),
    "deep_xml": (deep_xml, {"file_unreadable", "no_header", "empty_sheet", "file_unsafe"}),
    "utf16_nul_csv": (utf16_nul_csv, {"bad_text"}),
    "quote_bomb_csv": (quote_bomb_csv, {"file_unreadable", "not_a_number", "sheet_too_large"}),
    "shared_strings_huge_index": (shared_strings_huge_index, {"file_unreadable", "file_unsafe"}),
    "negative_row_ref": (negative_row_ref, {"file_unreadable", "file_unsafe", "sheet_too_large"}),
}


def reference_pilots_workbook() -> bytes:
    """The pilots the hostile files name, as a director's Pilots sheet."""
    return xlsx_bytes({"Pilots": [["pilot_id", "country", "value_chain", "start_date"],
                                  ["KEN-DAIRY", "Kenya", "dairy_cow", "2017-01-15"],
                                  ["VNM-DAIRY", "Vietnam", "dairy_cow", "2017-01-15"]]})


def good_indicators() -> bytes:
    """A small clean quarterly workbook, to show the store still takes files."""
    return _good()
