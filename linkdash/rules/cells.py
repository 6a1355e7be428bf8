"""Parsing cells: ``parse_sheet`` turns a located sheet (raw cells) into typed columns:
numeric columns are float arrays (NaN = blank) parsed with a fast path for cells that
are already numbers, the other columns lists (None = blank). Problems are created only
for cells that are wrong, so a clean 50,000-row sheet costs little more than reading it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from linkdash import catalogue, values
from linkdash.problems import ERROR, WARNING, Report
from linkdash.rules.common import _plain
from linkdash.rules.sheet import _CODE_WHAT, _LABELS, NUMERIC_TYPES, ParsedSheet, _show
from linkdash.workbook import SheetTable

RAISES = (  # the problem codes these rules report (problems.CODES says what each means)
    "bad_code", "bad_country", "bad_currency", "bad_date", "bad_indicator", "bad_pilot_id",
    "bad_quarter", "bad_text", "bad_year", "formula_error", "latitude_range", "longitude_range",
    "negative", "negative_income", "not_a_number", "not_whole", "required_value", "score_range",
    "text_too_long",
)


# --- columns ----------------------------------------------------------------------------

_TYPE = np.frompyfunc(type, 1, 1)
_BLANK_START = frozenset(" \t\r\n\u00a0\u2007\u2009\u202f\u200a\u2002\u2003\u2004\u2005\u2006\u2008")


def _numeric_cells(t: SheetTable, codes: list[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Which cells of the numeric columns are numbers (float or int), and their values
    (NaN elsewhere), found in one pass over the grid in row order: the cells' objects
    lie in memory row after row, so this is much faster than column by column.
    -> {code: (is number, values)} for the columns inside the grid."""
    grid = t.grid
    if grid is None:
        return {}
    inside = [c for c in codes if t.columns[c] < grid.shape[1]]
    if not inside or not grid.shape[0]:
        return {}
    lo = min(t.columns[c] for c in inside)
    hi = max(t.columns[c] for c in inside) + 1
    block = grid[:, lo:hi]  # a view: no copy
    types = _TYPE(block)
    isnum = types == float  # noqa: E721 (elementwise on an array of types)
    if isnum.all():
        nums = block.astype(float)
    else:
        other = ~isnum  # few cells (blank, text): the int test only there
        isnum[other] = types[other] == int  # noqa: E721 (elementwise)
        nums = np.full(block.shape, np.nan)
        nums[isnum] = block[isnum].astype(float)
    return {c: (isnum[:, t.columns[c] - lo], nums[:, t.columns[c] - lo]) for c in inside}


def _parse_numeric(raw: list | np.ndarray, ctype: str, label: str, t: SheetTable, code: str,
                   sheet: str, report: Report,
                   pre: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """-> (values with NaN where blank or wrong, mask of non-blank cells). ``pre``: the
    column's (is number, values) from ``_numeric_cells``."""
    n = len(raw)
    out = np.full(n, np.nan)
    if n == 0:
        return out, np.zeros(0, dtype=bool)
    raw = np.asarray(raw, dtype=object)
    if pre is not None:
        isnum, nums = pre
        out[:] = nums
    else:
        types: np.ndarray = _TYPE(raw)
        isnum = (types == float) | (types == int)  # noqa: E721 (elementwise)
        if isnum.all():
            out[:] = raw.astype(float)
        elif isnum.any():
            out[isnum] = raw[isnum].astype(float)
    nonblank = isnum.copy()
    if not isnum.all():
        idx = np.flatnonzero(~isnum)
        idx = idx[raw[idx] != ""]  # "" is what calamine and csv give for an empty cell
        for i in idx.tolist():
            v = raw[i]
            if v is None or values.is_blank(v):
                continue
            nonblank[i] = True
            f, err = values.parse_number(v)
            if err:
                report.error("not_a_number", sheet, t.cell(code, i), v, f"{label}: {err}.")
            else:
                out[i] = f
    infinite = np.isinf(out)
    if infinite.any():  # 1e309 or INF cells: every stored number is finite
        for i in np.flatnonzero(infinite).tolist():
            report.error("not_a_number", sheet, t.cell(code, i), raw[i],
                         f"{label}: {values.show_value(raw[i])} is not a finite number: write a "
                         f"number.")
        out[infinite] = np.nan
    present = ~np.isnan(out)
    if not present.any():
        return out, nonblank

    def flag(mask: np.ndarray, code_: str, msg, severity: str = ERROR, clear: bool = True) -> None:
        for i in np.flatnonzero(mask & present).tolist():
            v = raw[i]
            (report.error if severity == ERROR else report.warn)(
                code_, sheet, t.cell(code, i), v, msg(v, out[i]))
            if clear:
                out[i] = np.nan

    if ctype in ("count", "score", "year"):
        with np.errstate(invalid="ignore"):
            notwhole = np.abs(out - np.round(out)) > values.WHOLE_TOLERANCE
        show = _plain if ctype == "year" else _show
        flag(notwhole, "not_whole" if ctype != "year" else "bad_year",
             lambda v, f: f"{label} must be a whole number, found {show(f)}: write e.g. {round(f)}.")
        present = ~np.isnan(out)
        out[present] = np.round(out[present])
    with np.errstate(invalid="ignore"):
        if ctype in ("count", "nonneg"):
            flag(out < 0, "negative",
                 lambda v, f: f"{label} cannot be negative, found {_show(f)}: write 0 or more.")
        elif ctype == "money":
            flag(out < 0, "negative_income",
                 lambda v, f: f"{label} is negative ({_show(f)}): a loss is allowed, but check the sign.",
                 WARNING, clear=False)
        elif ctype == "score":
            flag((out < 1) | (out > 5), "score_range",
                 lambda v, f: f"{label} is a score from 1 to 5, found {_show(f)}: write 1, 2, 3, 4 or 5.")
        elif ctype == "lat":
            flag((out < -90) | (out > 90), "latitude_range",
                 lambda v, f: f"Latitude {_show(f)} is not between -90 and 90: "
                              "write decimal degrees (e.g. -0.42).")
        elif ctype == "lon":
            flag((out < -180) | (out > 180), "longitude_range",
                 lambda v, f: f"Longitude {_show(f)} is not between -180 and 180: "
                              "write decimal degrees (e.g. 36.95).")
        elif ctype == "year":
            flag((out < 1900) | (out > 2100), "bad_year",
                 lambda v, f: f"{_plain(f)} is not a year: write a year like 2017.")
    return out, nonblank


def _parser_for(column: catalogue.Column, sheet_name: str):
    """-> (parse function, problem code)."""
    t = column.type
    if t == "pilot_id":
        return values.parse_pilot_id, "bad_pilot_id"
    if t == "quarter":
        return values.parse_quarter, "bad_quarter"
    if t == "date":
        return values.parse_date, "bad_date"
    if t == "country":
        return values.parse_country, "bad_country"
    if t == "currency":
        return values.parse_currency, "bad_currency"
    if t == "indicator":
        lookup = values.code_lookup(catalogue.numeric_indicators(),
                                    {c: i.label for c, i in catalogue.indicators().items()})
        return (lambda v: values.parse_code(v, lookup, "indicator of the Indicators sheet")), "bad_indicator"
    if t == "code":
        lookup = values.code_lookup(column.choices, _LABELS.get(column.code))
        what = _CODE_WHAT.get(column.code, column.header.lower())
        return (lambda v: values.parse_code(v, lookup, what)), "bad_code"
    return values.parse_text, "bad_text"


def _parse_strings(raw: np.ndarray, parse, is_text: bool, bad_code: str, label: str,
                   t: SheetTable, code: str, sheet: str, report: Report,
                   nonblank: np.ndarray, bad_key: set[int] | None) -> list:
    """A column whose cells are all text (blank cells are ""): each distinct text is
    parsed once; problems are reported per cell, in row order. -> the column (None blank)."""
    codes, uniq = pd.factorize(raw)
    parsed: list = []
    blank = np.zeros(len(uniq) + 1, dtype=bool)
    bad = np.zeros(len(uniq) + 1, dtype=bool)
    messages: list = []
    for u_i, v in enumerate(uniq.tolist()):
        if v == "" or (v[0] in _BLANK_START and values.is_blank(v)):
            blank[u_i] = True
            parsed.append(None)
            messages.append(None)
            continue
        res = values.parse_text(v) if is_text else parse(v)
        if res[1] is None:
            parsed.append(res[0])
            messages.append(None)
        else:
            bad[u_i] = True
            parsed.append(None)
            messages.append(res[1])
    lut = np.empty(len(parsed) + 1, dtype=object)
    lut[:len(parsed)] = parsed
    nonblank |= ~blank[codes]
    for i in np.flatnonzero(bad[codes]).tolist():
        report.error(bad_code, sheet, t.cell(code, i), raw[i], f"{label}: {messages[codes[i]]}.")
        if bad_key is not None:
            bad_key.add(i)
    return lut[codes].tolist()


def _text_rules(col: list, column: catalogue.Column, t: SheetTable, code: str, sheet: str,
                report: Report) -> None:
    """Text cells are at most ``catalogue.TEXT_MAX_CHARS`` long and hold no control
    characters but tab and line breaks (PostgreSQL refuses a NUL byte, SQLite keeps
    it: both stores must agree). A wrong cell is an error and its value is dropped."""
    limit = catalogue.TEXT_MAX_CHARS
    for i, v in enumerate(col):
        if v is None:
            continue
        if len(v) > limit and code != "lesson":  # lessons: ``lessons_rules``
            report.error("text_too_long", sheet, t.cell(code, i), v[:60] + "...",
                         f"{column.header} in row {t.row_number(i)} has {len(v):,} characters; "
                         f"the limit is {limit:,}: shorten it (or split a lesson into two).")
            col[i] = None
        elif values.has_control_chars(v):
            report.error("bad_text", sheet, t.cell(code, i), values.visible_controls(v),
                         f"{column.header} in row {t.row_number(i)} holds an invisible control "
                         f"character (shown as {values.visible_controls(v)[:80]!r}): retype the "
                         f"text or paste it as plain text.")
            col[i] = None


def parse_sheet(t: SheetTable, report: Report) -> ParsedSheet:
    """Typed columns for a located sheet; every cell that cannot be read is reported, in
    this order: each column's cells (``_parse_column``), cells whose formula ends in an
    error (``_formula_errors``), text too long or with control characters
    (``_text_rules``), then required values left blank (``_required_values``)."""
    spec = catalogue.sheets()[t.canonical]
    nonblank = np.zeros(t.n_rows, dtype=bool)  # rows with any cell filled in
    bad_key: set[int] = set()  # rows whose key could not be read
    pre = _numeric_cells(t, [c for c in t.columns_raw if spec.column(c).type in NUMERIC_TYPES])
    vals: dict[str, Any] = {}
    for code, raw in t.columns_raw.items():
        vals[code] = _parse_column(t, code, spec.column(code), raw, report, nonblank,
                                   bad_key if code in spec.key else None, pre.get(code))
    _formula_errors(t, spec, report, nonblank, bad_key)
    for code in t.columns_raw:
        if spec.column(code).type == "text":
            _text_rules(vals[code], spec.column(code), t, code, t.name, report)
    rows = np.flatnonzero(nonblank).tolist()
    _required_values(t, spec, vals, rows, report, bad_key)
    return ParsedSheet(t, vals, rows, bad_key)


def _parse_column(t: SheetTable, code: str, column: catalogue.Column, raw: list | np.ndarray,
                  report: Report, nonblank: np.ndarray, bad_key: set[int] | None,
                  pre: tuple[np.ndarray, np.ndarray] | None) -> Any:
    """One column's cells: a float array (NaN blank) for a numeric column, else a list
    (None blank). Marks the rows with a cell in ``nonblank``; a key column (``bad_key``
    not None) adds the rows whose key cannot be read."""
    sheet, label = t.name, column.header
    if column.type in NUMERIC_TYPES:
        col, nb = _parse_numeric(raw, column.type, label, t, code, sheet, report, pre)
        nonblank |= nb
        return col
    parse, bad_code = _parser_for(column, t.canonical)
    is_text = column.type == "text"
    if isinstance(raw, np.ndarray) and pd.api.types.infer_dtype(raw, skipna=False) == "string":
        return _parse_strings(raw, parse, is_text, bad_code, label, t, code, sheet, report, nonblank,
                              bad_key)
    return _parse_cells(raw, parse, is_text, bad_code, label, t, code, report, nonblank, bad_key)


def _parse_cells(raw: list | np.ndarray, parse, is_text: bool, bad_code: str, label: str,
                 t: SheetTable, code: str, report: Report, nonblank: np.ndarray,
                 bad_key: set[int] | None) -> list:
    """A column of mixed cells (text, numbers, dates), one cell at a time; each distinct
    value is parsed once. -> the column (None blank)."""
    cache: dict = {}
    out: list = [None] * t.n_rows
    for i, v in enumerate(raw.tolist() if isinstance(raw, np.ndarray) else raw):
        if v is None or v == "" or (v.__class__ is str and v[0] in _BLANK_START and values.is_blank(v)):
            continue
        nonblank[i] = True
        if is_text:
            out[i] = values.parse_text(v)[0]
            continue
        try:
            res = cache[v]
        except KeyError:
            res = cache[v] = parse(v)
        except TypeError:  # unhashable: never from calamine or csv
            res = parse(v)
        if res[1] is None:
            out[i] = res[0]
        else:
            report.error(bad_code, t.name, t.cell(code, i), v, f"{label}: {res[1]}.")
            if bad_key is not None:
                bad_key.add(i)
    return out


def _formula_errors(t: SheetTable, spec: catalogue.Sheet, report: Report, nonblank: np.ndarray,
                    bad_key: set[int]) -> None:
    """Cells whose formula ends in an error: read as blank by calamine, shown as #N/A in
    Excel. Each is an error; its row counts as filled in (and as a bad key in a key column)."""
    for (i, code), text in t.errors.items():
        nonblank[i] = True
        report.error("formula_error", t.name, t.cell(code, i), text,
                     f"{spec.column(code).header} shows the formula error {text}: correct the "
                     f"formula or type the value (leave the cell empty if there is nothing to "
                     f"report).")
        if code in spec.key:
            bad_key.add(i)


def _required_values(t: SheetTable, spec: catalogue.Sheet, vals: dict[str, Any], rows: list[int],
                     report: Report, bad_key: set[int]) -> None:
    """A required column left blank in a row with other cells is an error (a cell already
    reported as unreadable or as a formula error is not reported again); a key left
    blank or unreadable makes its row a bad key."""
    in_rows = np.zeros(t.n_rows, dtype=bool)
    in_rows[rows] = True
    for column in spec.columns:
        if not column.required or column.code not in vals:
            continue
        col = vals[column.code]
        raw = t.columns_raw[column.code]
        if isinstance(col, np.ndarray):
            missing = np.isnan(col)
        else:
            missing = np.equal(np.asarray(col, dtype=object), None)  # type: ignore[call-overload]
        for i in np.flatnonzero(missing & in_rows).tolist():
            if values.is_blank(raw[i]) and (i, column.code) not in t.errors:
                report.error("required_value", t.name, t.cell(column.code, i), None,
                             f"{column.header} is blank in row {t.row_number(i)}: fill it in "
                             f"(it is required in sheet {spec.name}).")
            if column.code in spec.key:
                bad_key.add(i)
