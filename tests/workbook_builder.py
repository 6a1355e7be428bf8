"""Build small workbooks in code for the tests: ``xlsx_bytes({"Indicators": rows})``."""

from __future__ import annotations

import csv
import io
import zipfile

import openpyxl


def xlsx_bytes(sheets: dict[str, list[list]], *, text_cells: bool = True) -> bytes:
    """Each sheet's rows as given (row 1 first); None leaves a cell empty. Strings that
    start with ``=`` are written as text, not formulas, unless ``text_cells`` is False."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r, row in enumerate(rows, start=1):
            for c, v in enumerate(row, start=1):
                if v is None:
                    continue
                cell = ws.cell(row=r, column=c, value=v)
                if text_cells and isinstance(v, str) and v.startswith("="):
                    cell.data_type = "s"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def csv_bytes(rows: list[list], *, delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    for row in rows:
        w.writerow(["" if v is None else v for v in row])
    return buf.getvalue().encode(encoding)


def replace_zip_part(data: bytes, name: str, content: bytes) -> bytes:
    """A copy of the zip ``data`` with part ``name`` replaced (or added)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename != name:
                dst.writestr(info, src.read(info.filename))
        dst.writestr(name, content)
    return out.getvalue()


def reference_portfolio(**frames):
    """A stored Portfolio holding the 13 reference pilots (plus any frames given)."""
    import datetime as dt

    import pandas as pd

    from linkdash import catalogue
    from linkdash.portfolio import Portfolio

    recs = []
    for p in catalogue.reference_pilots():
        r = dict(p)
        for c in ("start_date", "end_date"):
            r[c] = dt.date.fromisoformat(r[c]) if r[c] else None
        for c in ("latitude", "longitude", "target_households"):
            r[c] = float(r[c]) if r[c] else None
        recs.append(r)
    return Portfolio(pilots=pd.DataFrame(recs), **frames)
