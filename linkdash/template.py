"""The workbook template, and the xlsx export in the same layout.

``write_template(out)`` writes the blank template: an Instructions sheet, then the
spec's sheets with one header row of human labels (they match the column codes by the
header rule), frozen, with drop-down lists, number formats and sensible widths.

``write_template(out, portfolio)`` writes the same layout filled with every stored value;
its header row holds the column codes, as the spec's export says. Re-importing it
changes nothing. Text that starts with ``= + - @`` is written as a text cell (never a
formula) with Excel's quote prefix, so it stays text when someone edits the cell.

Drop-down lists live on a hidden ``Lists`` sheet (an inline list is limited to 255
characters); the importer ignores ``Instructions`` and ``Lists`` with a warning.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from linkdash import catalogue, quarters, values
from linkdash.portfolio import Portfolio

FIRST_QUARTER = "2016-Q1"
BLANK_ROWS = 2000  # rows with validations and formats in the blank template

NUMBER_FORMATS = {
    "date": "yyyy-mm-dd", "count": "0", "score": "0", "year": "0", "money": "#,##0",
    "nonneg": "#,##0.##", "number": "#,##0.####", "lat": "0.0000", "lon": "0.0000",
}
TYPE_HELP = {
    "pilot_id": "pilot id such as KEN-DAIRY (letters and digits; any case)",
    "text": "text",
    "code": "one of the listed codes (any case; the label is accepted too)",
    "country": "English name (Vietnam, Viet Nam) or ISO code (VN, VNM)",
    "date": "date cell, or text 2017-03-31",
    "quarter": "2017-Q1 (also 2017Q1, Q1 2017, Q1-2017 or a date in the quarter)",
    "count": "whole number, 0 or more",
    "nonneg": "number, 0 or more",
    "money": "number in US dollars (negative = a loss)",
    "score": "whole number from 1 to 5",
    "number": "number",
    "year": "year such as 2017",
    "currency": "ISO 4217 code such as KES",
    "indicator": "a column code of the Indicators sheet",
    "lat": "decimal degrees, -90 to 90 (south negative)",
    "lon": "decimal degrees, -180 to 180 (west negative)",
}
_HEADER_FILL = PatternFill("solid", fgColor="DCE6F1")
_REQUIRED_FONT = Font(bold=True, color="9C0006")
_BOLD = Font(bold=True)


def quarter_choices(today: dt.date | None = None) -> list[str]:
    return quarters.span(FIRST_QUARTER, quarters.shift(quarters.current(today), 4))


def _pilot_ids(portfolio: Portfolio | None) -> list[str]:
    ids = [p["pilot_id"] for p in catalogue.reference_pilots()]
    if portfolio is not None and not portfolio.pilots.empty:
        ids += [str(x) for x in portfolio.pilots["pilot_id"].dropna()]
    return sorted(dict.fromkeys(ids))


def _lists(portfolio: Portfolio | None) -> dict[str, list[str]]:
    return {
        "pilot_id": _pilot_ids(portfolio),
        "quarter": quarter_choices(),
        "value_chain": list(catalogue.VALUE_CHAINS),
        "region": list(catalogue.REGIONS),
        "cycle": list(catalogue.CYCLES),
        "milestone": list(catalogue.MILESTONES),
        "status": list(catalogue.STATUSES),
        "kind": list(catalogue.LESSON_KINDS),
        "volume_unit": list(catalogue.VOLUME_UNITS),
        "indicator": catalogue.numeric_indicators(),
    }


def _list_key(column: catalogue.Column) -> str | None:
    if column.type in ("pilot_id", "quarter", "indicator"):
        return column.type
    if column.type == "code":
        return column.code
    return None


def set_cell(ws, row: int, col: int, value: Any):
    """Write a value; text starting with ``= + - @`` becomes a text cell, never a formula."""
    cell = ws.cell(row=row, column=col)
    if isinstance(value, str):
        cell.value = value
        if value.startswith(values.FORMULA_START):
            cell.data_type = "s"
            cell.quotePrefix = True
    else:
        cell.value = value
    return cell


def _clean(v: Any, ctype: str) -> Any:
    if v is None:
        return None
    try:
        import pandas as pd

        if v is pd.NA or v is pd.NaT:
            return None
        if isinstance(v, pd.Timestamp):
            v = v.to_pydatetime()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(v, float) and math.isnan(v):
        return None
    if ctype == "date":
        if isinstance(v, dt.datetime):
            return v.date()
        if isinstance(v, str):
            d, _ = values.parse_date(v)
            return d or v
    if ctype in ("count", "score", "year") and isinstance(v, (int, float)) and float(v).is_integer():
        return int(v)
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        try:
            v = v.item()
        except (AttributeError, ValueError):
            pass
    return v


def _sheet_rows(name: str, portfolio: Portfolio) -> list[dict]:
    frame = {
        "Pilots": portfolio.pilots, "Progress": portfolio.milestones,
        "Targets": portfolio.targets, "Lessons": portfolio.lessons,
        "Benchmarks": portfolio.benchmarks, "Rates": portfolio.rates,
    }.get(name)
    if name == "Indicators":
        frame = portfolio.indicators_wide()
        if not frame.empty:
            frame = frame.sort_values(["pilot_id", "quarter"])
    elif frame is not None and not frame.empty:
        key = [k for k in catalogue.sheets()[name].key if k in frame.columns]
        frame = frame.sort_values(key) if key else frame
    if frame is None or frame.empty:
        return []
    return frame.to_dict("records")


def _write_instructions(wb: Workbook, spec_sheets: list[catalogue.Sheet], export: bool) -> None:
    ws = wb.create_sheet("Instructions")
    lines = [
        ("LINK Pilot Monitor: quarterly workbook", _BOLD),
        ("Fill in the sheets you have news for; every sheet is optional. Blank cells mean "
         "'not reported' and never erase a stored value.", None),
        ("The header row must stay; you may add title rows above it. Columns may be in any "
         "order; extra columns are ignored. Dates: a date cell or 2017-03-31. Quarters: "
         "2017-Q1. Numbers: plain numbers (1234 or 1,234).", None),
        ("Codes (pilot ids, milestones, statuses...) are not case-sensitive. Required columns "
         "are shown in red.", None),
        ("This sheet and the Lists sheet are ignored when the workbook is uploaded.", None),
    ]
    if export:
        lines.insert(1, (f"Export of all stored data, {dt.date.today().isoformat()}. "
                         "Headers are column codes; re-importing this file changes nothing.", None))
    r = 1
    for text, font in lines:
        c = ws.cell(row=r, column=1, value=text)
        if font:
            c.font = font
        r += 1
    r += 1
    for i, h in enumerate(("Sheet", "Column", "Code", "Required", "Accepted values", "Meaning"), 1):
        c = ws.cell(row=r, column=i, value=h)
        c.font = _BOLD
        c.fill = _HEADER_FILL
    ws.freeze_panes = ws.cell(row=r + 1, column=1)
    for sheet in spec_sheets:
        r += 1
        ws.cell(row=r, column=1, value=sheet.name).font = _BOLD
        ws.cell(row=r, column=6, value=f"{sheet.description}. Each row is identified by "
                                       f"{' + '.join(sheet.key)}.")
        for col in sheet.all_columns:
            r += 1
            ws.cell(row=r, column=1, value=sheet.name)
            ws.cell(row=r, column=2, value=col.header)
            ws.cell(row=r, column=3, value=col.code)
            ws.cell(row=r, column=4, value="yes" if col.required else "")
            accepted = TYPE_HELP.get(col.type, col.type)
            if col.choices:
                accepted = ", ".join(col.choices)
            ws.cell(row=r, column=5, value=accepted)
            ws.cell(row=r, column=6, value=col.description or _describe(sheet.name, col))
    for letter, width in zip("ABCDEF", (12, 30, 30, 9, 45, 80)):
        ws.column_dimensions[letter].width = width
    for row in ws.iter_rows(min_row=1, max_row=r):
        for c in row:
            c.alignment = Alignment(wrap_text=c.column in (5, 6), vertical="top")


def _describe(sheet: str, col: catalogue.Column) -> str:
    special = {
        "pilot_id": "Stable id ISO3-CHAIN, e.g. KEN-DAIRY",
        "region": "Derived from the country when blank",
        "cycle": f"Learning cycle; default {catalogue.DEFAULT_CYCLE}",
        "status": "Derived from the dates when blank",
        "milestone": "Step of the learning cycle",
        "lesson": f"What was learned (at most {catalogue.LESSON_MAX_CHARS} characters)",
        "units_per_usd": "Units of the currency per US dollar",
        "latitude": "Site latitude; must fall in the country",
        "longitude": "Site longitude; must fall in the country",
    }
    return special.get(col.code, col.header)


def write_template(path_or_buffer: str | Any | IO[bytes], portfolio: Portfolio | None = None, *,
                   sheets: list[str] | tuple[str, ...] | None = None) -> None:
    """The blank template (``portfolio`` None) or the xlsx export of ``portfolio``."""
    export = portfolio is not None
    names = [n for n in catalogue.SHEET_ORDER if sheets is None or n in sheets]
    spec_sheets = [catalogue.sheets()[n] for n in names]
    wb = Workbook()
    wb.remove(wb.active)
    _write_instructions(wb, spec_sheets, export)
    lists = _lists(portfolio)
    lists_ws = None
    list_refs: dict[str, str] = {}

    def list_ref(key: str) -> str:
        nonlocal lists_ws
        if key not in list_refs:
            if lists_ws is None:
                lists_ws = wb.create_sheet("Lists")
                lists_ws.sheet_state = "hidden"
            col = len(list_refs) + 1
            lists_ws.cell(row=1, column=col, value=key)
            for i, v in enumerate(lists[key], start=2):
                lists_ws.cell(row=i, column=col, value=v)
            letter = get_column_letter(col)
            list_refs[key] = f"Lists!${letter}$2:${letter}${len(lists[key]) + 1}"
        return list_refs[key]

    for sheet in spec_sheets:
        ws = wb.create_sheet(sheet.name)
        columns = list(sheet.columns)
        if export:
            columns += [c for c in sheet.optional_columns if c.code == "currency"]
        elif sheet.name == "Pilots":
            columns += list(sheet.optional_columns)
        rows = _sheet_rows(sheet.name, portfolio) if portfolio is not None else []
        last_row = max(len(rows) + 1, BLANK_ROWS if not export else len(rows) + 200)
        for ci, col in enumerate(columns, start=1):
            head = ws.cell(row=1, column=ci, value=col.code if export else col.header)
            head.font = _REQUIRED_FONT if col.required else _BOLD
            head.fill = _HEADER_FILL
            letter = get_column_letter(ci)
            width = max(len(str(head.value)) + 2, 12)
            if col.type in ("text",) and col.code in ("lesson", "notes"):
                width = 60
            ws.column_dimensions[letter].width = min(width, 40) if width < 60 else width
            fmt = NUMBER_FORMATS.get(col.type)
            if fmt:
                ws.column_dimensions[letter].number_format = fmt
            key = _list_key(col)
            if key:
                dv = DataValidation(type="list", formula1=f"={list_ref(key)}", allow_blank=True,
                                    showErrorMessage=col.type != "pilot_id",
                                    errorStyle="warning",
                                    error=f"Use one of the listed {col.header.lower()} values",
                                    errorTitle=col.header)
                dv.add(f"{letter}2:{letter}{last_row}")
                ws.add_data_validation(dv)
            elif col.type in ("count", "score"):
                lo, hi = (0, 10**12) if col.type == "count" else (1, 5)
                dv = DataValidation(type="whole", operator="between", formula1=str(lo), formula2=str(hi),
                                    allow_blank=True, showErrorMessage=True, errorStyle="warning",
                                    error=TYPE_HELP[col.type], errorTitle=col.header)
                dv.add(f"{letter}2:{letter}{last_row}")
                ws.add_data_validation(dv)
        for ri, rec in enumerate(rows, start=2):
            for ci, col in enumerate(columns, start=1):
                v = _clean(rec.get(col.code), col.type)
                if v is None or v == "":
                    continue
                cell = set_cell(ws, ri, ci, v)
                fmt = NUMBER_FORMATS.get(col.type)
                if fmt and not isinstance(v, str):
                    cell.number_format = fmt
        ws.freeze_panes = "B2" if sheet.key[0] == "pilot_id" else "A2"
    if lists_ws is not None:  # keep Lists last
        wb.move_sheet(lists_ws, offset=len(wb.sheetnames) - 1 - wb.sheetnames.index("Lists"))
    wb.save(path_or_buffer)
