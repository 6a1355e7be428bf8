"""Fuzzing the whole check with hypothesis: random sheets, headers, cell types and values,
rows and cells deleted, written as xlsx or csv. Whatever the file, ``check_file`` never
lets an exception escape, every problem is a well-formed record with a known code and
its severity, and a file without errors gives only finite numbers and bounded text.

A bounded run is part of ``make test``; ``make fuzz`` runs many more examples
(``LINKDASH_FUZZ_EXAMPLES``)."""

from __future__ import annotations

import datetime as dt
import io
import math
import os
import random
import re

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linkdash import catalogue
from linkdash.importer import check_file
from linkdash.problems import CODES
from tests.workbook_builder import csv_bytes, reference_portfolio

EXAMPLES = int(os.environ.get("LINKDASH_FUZZ_EXAMPLES", "60"))
REFERENCE = reference_portfolio()
_ILLEGAL_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

cells = st.one_of(
    st.none(),
    st.integers(-10**12, 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(dt.date(1900, 3, 1), dt.date(2100, 1, 1)),
    st.text(max_size=40),
    st.sampled_from(["KEN-DAIRY", "ken-dairy", "VNM-DAIRY", "2017-Q3", "Q1 2018", "2017-03-31",
                     "1,234", "1 234", "12.5", "-3", "INF", "NaN", "1e309", "#DIV/0!", "=1+1",
                     "completed", "Dairy_Cow", "Kenya", "KES", "1" * 70 + "x", "a\x00b",
                     "x" * 2100, "'=SUM(A1)", "\u2212 5", "", "   "]),
)


def _headers(sheet: str) -> st.SearchStrategy:
    spec = catalogue.sheets()[sheet]
    names = [c.code for c in spec.all_columns] + [c.header for c in spec.all_columns]
    return st.lists(st.one_of(st.sampled_from(names), st.text(max_size=12)), min_size=0, max_size=12)


@st.composite
def workbooks(draw):
    sheets = {}
    for _ in range(draw(st.integers(1, 3))):
        canonical = draw(st.sampled_from(catalogue.SHEET_ORDER))
        name = draw(st.sampled_from([canonical, canonical.lower() + " ", "Sheet1", canonical.upper()]))
        header = draw(_headers(canonical))
        width = max(len(header), 1)
        rows = draw(st.lists(st.lists(cells, min_size=0, max_size=width + 2), max_size=12))
        blank_top = draw(st.integers(0, 2))
        sheets[name] = [[None]] * blank_top + [header] + rows
    as_csv = draw(st.booleans())
    return sheets, as_csv


def _xlsx(sheets: dict[str, list[list]]) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        if name in wb.sheetnames:
            continue
        ws = wb.create_sheet(name)
        for r, row in enumerate(rows, start=1):
            for c, v in enumerate(row, start=1):
                if v is None:
                    continue
                if isinstance(v, str):
                    v = _ILLEGAL_XLSX.sub("?", v)
                if isinstance(v, float) and not math.isfinite(v):
                    v = str(v)  # openpyxl cannot write inf/nan cells: the text instead
                cell = ws.cell(row=r, column=c, value=v)
                if isinstance(v, str) and v.startswith("="):
                    cell.data_type = "s"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _assert_sound(checked) -> None:
    for p in checked.report.problems:
        assert p.code in CODES, p
        assert p.severity == CODES[p.code].severity, p
        assert isinstance(p.message, str) and p.message.strip(), p
        assert p.value is None or len(str(p.value)) <= 200, p
    if checked.report.ok:
        for name, df in checked.tables.items():
            for col in df.columns:
                values = df[col].to_numpy()
                if values.dtype.kind == "f":
                    assert np.isfinite(values[~np.isnan(values)]).all(), (name, col)
                else:
                    for v in values:
                        if isinstance(v, float):
                            assert math.isfinite(v), (name, col, v)
                        if isinstance(v, str):
                            assert len(v) <= catalogue.TEXT_MAX_CHARS and "\x00" not in v, (name, col)


@settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES <= 100,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(workbooks(), st.randoms(use_true_random=False))
def test_check_never_raises_and_reports_well_formed_problems(wb, rnd: random.Random):
    sheets, as_csv = wb
    if as_csv:
        rows = next(iter(sheets.values()))
        data, name = csv_bytes([[("" if v is None else v) for v in row] for row in rows]), "fuzz.csv"
    else:
        data, name = _xlsx(sheets), "fuzz.xlsx"
    if rnd.random() < 0.1:  # a damaged copy: bytes cut or flipped
        cut = bytearray(data[: rnd.randrange(1, len(data) + 1)])
        for _ in range(rnd.randrange(0, 4)):
            if cut:
                cut[rnd.randrange(len(cut))] ^= 0xFF
        data = bytes(cut)
    checked = check_file(data, name, REFERENCE, today=dt.date(2019, 1, 1), isolated=False)
    _assert_sound(checked)
