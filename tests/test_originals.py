"""Original files offered for download never carry macros."""

from __future__ import annotations

import io
import zipfile

import openpyxl

from linkdash import originals
from tests import hostile


def test_a_plain_workbook_is_offered_as_sent():
    data = hostile.good_indicators()
    d = originals.for_download("q3.xlsx", data)
    assert d.data == data and d.filename == "q3.xlsx" and not d.note


def test_a_macro_workbook_is_offered_as_xlsx_without_its_macros():
    name, data = hostile.macro_enabled()
    assert originals.has_macros(name, data)
    d = originals.for_download(name, data)
    assert d.filename == "macro.xlsx" and "macros" in d.note
    names = zipfile.ZipFile(io.BytesIO(d.data)).namelist()
    assert not any("vba" in n.lower() for n in names)
    assert not originals.has_macros(d.filename, d.data)
    wb = openpyxl.load_workbook(io.BytesIO(d.data))  # still a workbook with its cells
    assert wb["Indicators"]["A2"].value == "KEN-DAIRY"


def test_a_legacy_xls_with_macros_is_not_offered():
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100 + "_VBA_PROJECT".encode("utf-16-le")
    d = originals.for_download("old.xls", data)
    assert d.data is None and "not offered" in d.note


def test_a_file_name_without_extension_gets_one_a_spreadsheet_program_opens():
    assert originals.download_name("q1 report", b"PK\x03\x04...") == "q1-report.xlsx"
    assert originals.download_name("q1 report", b"pilot_id,quarter\r\n") == "q1-report.csv"
    assert originals.download_name("q1 report.xls", b"\xd0\xcf") == "q1 report.xls"
    assert originals.download_name("dir.v2/q1", b"PK") == "dir.v2/q1.xlsx"
