"""Every rule of the workbook spec, applied column by column.

``parse_sheet`` turns a located sheet (raw cells) into typed columns: numeric columns are
float arrays (NaN = blank) parsed with a fast path for cells that are already numbers,
the other columns lists (None = blank). Problems are created only for cells that are
wrong, so a clean 50,000-row sheet costs little more than reading it.

The sheet rules (``pilots_rules``, ``progress_rules``, ``indicators_rules``...) then
check what needs more than one cell: keys, duplicates, known pilots, scope, quarters,
parts not above their totals, dates in order, status, conversion of local money, and
outliers against the pilot's earlier quarters.

Problem codes (stable; severity in ``PROBLEM_CODES``) are listed below.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from linkdash import catalogue, countries, quarters, values
from linkdash.keys import DENSE_KEYS, KeyIndex, mixed_radix
from linkdash.portfolio import Portfolio
from linkdash.problems import ERROR, WARNING, Problem, Report, column_letter, many_problems
from linkdash.workbook import SheetTable

PROBLEM_CODES: dict[str, str] = {
    # the file (workbook.py)
    "file_empty": ERROR, "file_too_large": ERROR, "file_unreadable": ERROR,
    "not_a_spreadsheet": ERROR, "file_encrypted": ERROR, "zip_bomb": ERROR,
    "xml_entities": ERROR, "too_many_rows": ERROR, "no_known_sheet": ERROR,
    "no_header": ERROR, "duplicate_sheet": ERROR, "missing_column": ERROR,
    "duplicate_column": ERROR, "unknown_column": WARNING, "sheet_ignored": WARNING,
    "empty_sheet": WARNING, "file_unsafe": ERROR, "sheet_too_large": ERROR,
    "hidden_sheet": WARNING, "external_links": WARNING, "macros": WARNING,
    # who may send what (access.py)
    "not_allowed": ERROR, "admin_only": ERROR,
    # refused inside the commit's transaction (store.py, recheck.py)
    "conflict": ERROR, "nul_character": ERROR, "not_finite": ERROR, "out_of_range": ERROR,
    "bad_character": ERROR,
    # cells
    "not_a_number": ERROR, "not_whole": ERROR, "negative": ERROR, "negative_income": WARNING,
    "score_range": ERROR, "latitude_range": ERROR, "longitude_range": ERROR, "bad_year": ERROR,
    "bad_quarter": ERROR, "bad_date": ERROR, "bad_code": ERROR, "bad_pilot_id": ERROR,
    "bad_country": ERROR, "bad_currency": ERROR, "bad_indicator": ERROR,
    "required_value": ERROR, "text_too_long": ERROR, "formula_error": ERROR,
    "bad_text": ERROR,
    # rows and sheets
    "duplicate_key": ERROR, "unknown_pilot": ERROR, "out_of_scope": ERROR,
    "future_quarter": ERROR, "before_start": ERROR, "part_above_total": ERROR,
    "end_before_start": ERROR, "completed_without_end": ERROR,
    "pilot_id_prefix": WARNING, "outside_country": WARNING, "coordinates_incomplete": WARNING,
    "missing_rate": ERROR, "bad_rate": ERROR, "money_both_given": WARNING,
    "volume_unit_missing": WARNING, "outlier": WARNING, "outliers_not_listed": WARNING,
}

NUMERIC_TYPES = {"count", "nonneg", "money", "score", "number", "lat", "lon", "year"}
_CODE_WHAT = {"value_chain": "value chain", "milestone": "milestone", "status": "status",
              "kind": "lesson kind", "region": "region", "cycle": "cycle",
              "volume_unit": "volume unit"}
_LABELS = {"value_chain": catalogue.VALUE_CHAIN_LABELS, "milestone": catalogue.MILESTONE_LABELS}


def _show(v: Any) -> str:
    if isinstance(v, float):
        return f"{int(v):,}" if v.is_integer() else f"{v:,.2f}"
    return str(v)


@dataclass
class ParsedSheet:
    table: SheetTable
    values: dict[str, Any]  # code -> float ndarray (NaN blank) or list (None blank)
    rows: list[int]  # data rows (0-based below the header) that are not blank
    bad_key: set[int] = field(default_factory=set)  # rows whose key could not be read

    @property
    def name(self) -> str:
        return self.table.name

    def has(self, code: str) -> bool:
        return code in self.values

    def get(self, code: str, i: int) -> Any:
        col = self.values.get(code)
        if col is None:
            return None
        v = col[i]
        if isinstance(v, float) and v != v:
            return None
        return v.item() if isinstance(v, np.generic) else v

    def cell(self, code: str, i: int) -> str | None:
        return self.table.cell(code, i) if code in self.table.columns else None

    def row(self, i: int) -> int:
        return self.table.row_number(i)

    def ok_rows(self) -> list[int]:
        if not self.bad_key:
            return self.rows
        return [i for i in self.rows if i not in self.bad_key]


@dataclass
class Context:
    current: Portfolio
    today: dt.date
    scope: set[str] | None
    current_quarter: str = ""
    pilots: dict[str, dict] = field(default_factory=dict)  # stored merged with the file
    stored_pilots: set[str] = field(default_factory=set)
    rates: dict[tuple[str, str], float] = field(default_factory=dict)
    cache: dict[str, Any] = field(default_factory=dict)  # integer keys shared by the rules

    def __post_init__(self) -> None:
        self.current_quarter = quarters.current(self.today)


# --- integer keys: the file's rows and the stored values on one scale -----------------------

indicator_index = catalogue.indicator_index  # indicator code -> its place in the catalogue


@dataclass
class StoredKeys:
    """The file's pilots and quarters as integer codes (per data row; -1 for blank), and
    the stored ``Indicators`` values on the same codes, so rules can look stored values
    up with array operations instead of one dictionary lookup per cell.

    ``q_rank`` orders the file's and the stored quarters together (text order, which
    is time order for canonical quarters)."""

    pid: np.ndarray  # per data row: index into pid_uniq, -1 blank
    pid_uniq: np.ndarray
    q: np.ndarray  # per data row: index into q_uniq, -1 blank
    q_uniq: np.ndarray
    q_rank: np.ndarray  # rank of each file quarter among file + stored quarters
    s_pid: np.ndarray  # per stored value: file pilot code, -1 when the pilot is not in the file
    s_q: np.ndarray  # file quarter code, -1 when that quarter is not in the file
    s_q_rank: np.ndarray  # rank on the same scale as q_rank
    s_ind: np.ndarray  # catalogue index of the indicator, -1 when unknown
    s_value: np.ndarray  # float, NaN for none

    _index: KeyIndex | None = field(default=None, repr=False)

    @property
    def n_ind(self) -> int:
        return len(indicator_index()) + 1

    def stored_values(self, pid: np.ndarray, q: np.ndarray, ind: np.ndarray) -> np.ndarray:
        """The stored value (NaN for none) of each (file pilot code, file quarter code,
        catalogue index); a code -1 finds nothing."""
        if not len(self.s_value):
            return np.full(np.shape(pid), np.nan)
        sizes = [len(self.pid_uniq), len(self.q_uniq), self.n_ind]
        if self._index is None:
            skey, s_miss = mixed_radix([self.s_pid, self.s_q, self.s_ind], sizes)
            skey[s_miss] = -1
            self._index = KeyIndex(skey, math.prod(max(n, 1) for n in sizes))
        key, miss = mixed_radix([pid, q, np.broadcast_to(ind, np.shape(pid))], sizes)
        pos = self._index.positions(np.where(miss, 0, key))
        pos[miss] = -1
        return np.where(pos >= 0, self.s_value[np.maximum(pos, 0)], np.nan)


def stored_keys(p: ParsedSheet, ctx: Context) -> StoredKeys:
    """``StoredKeys`` of an Indicators sheet (computed once per check; the stored side
    is ``Portfolio.indicator_codes``, which the importer computes while the file is read)."""
    key = f"stored_keys:{id(p)}"
    if key in ctx.cache:
        return ctx.cache[key]
    pid, pid_uniq = pd.factorize(np.asarray(p.values["pilot_id"], dtype=object))
    q, q_uniq = pd.factorize(np.asarray(p.values["quarter"], dtype=object))
    sc = ctx.current.indicator_codes()
    n = len(sc.pid)
    # stored pilots -> file pilot codes, through the distinct stored pilots
    if n:
        to_file = pd.Index(pid_uniq, dtype=object).get_indexer(pd.Index(sc.pid_uniq, dtype=object))
        s_pid = np.append(to_file, -1)[sc.pid]
    else:
        s_pid = np.empty(0, dtype=np.int64)
    file_q = [str(x) for x in q_uniq.tolist()]
    stored_q = [str(x) for x in sc.q_uniq.tolist()]
    rank = {x: r for r, x in enumerate(sorted(set(file_q) | set(stored_q)))}
    q_rank = np.array([rank[x] for x in file_q], dtype=np.int64)
    sq_rank = np.array([rank[x] for x in stored_q] + [-1], dtype=np.int64)[sc.q] if n else sc.q
    file_pos = {x: i for i, x in enumerate(file_q)}
    s_q = np.array([file_pos.get(x, -1) for x in stored_q] + [-1], dtype=np.int64)[sc.q] if n else sc.q
    out = StoredKeys(pid, pid_uniq, q, q_uniq, q_rank, s_pid, s_q, sq_rank, sc.ind, sc.value)
    ctx.cache[key] = out
    return out


# --- columns ----------------------------------------------------------------------------

_TYPE = np.frompyfunc(type, 1, 1)
_BLANK_START = frozenset(" \t\r\n\u00a0\u2007\u2009\u202f\u200a\u2002\u2003\u2004\u2005\u2006\u2008")


def _numeric_cells(t: SheetTable, codes: list[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Which cells of the numeric columns are numbers (float or int), and their values
    (NaN elsewhere), found in one pass over the grid in row order: the cells' objects
    lie in memory row after row, so this is much faster than column by column.
    -> {code: (is number, values)} for the columns inside the grid."""
    grid = t.grid
    inside = [c for c in codes if grid is not None and t.columns[c] < grid.shape[1]]
    if not inside or not grid.shape[0]:
        return {}
    lo = min(t.columns[c] for c in inside)
    hi = max(t.columns[c] for c in inside) + 1
    block = grid[:, lo:hi]  # a view: no copy
    types = _TYPE(block)
    isnum = types == float
    if isnum.all():
        nums = block.astype(float)
    else:
        other = ~isnum  # few cells (blank, text): the int test only there
        isnum[other] = types[other] == int
        nums = np.full(block.shape, np.nan)
        nums[isnum] = block[isnum].astype(float)
    return {c: (isnum[:, t.columns[c] - lo], nums[:, t.columns[c] - lo]) for c in inside}


def _parse_numeric(raw: list, ctype: str, label: str, t: SheetTable, code: str,
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
        types = _TYPE(raw)
        isnum = (types == float) | (types == int)
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
                 lambda v, f: f"Latitude {_show(f)} is not between -90 and 90: write decimal degrees (e.g. -0.42).")
        elif ctype == "lon":
            flag((out < -180) | (out > 180), "longitude_range",
                 lambda v, f: f"Longitude {_show(f)} is not between -180 and 180: write decimal degrees (e.g. 36.95).")
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
    """Typed columns for a located sheet; every cell that cannot be read is reported."""
    spec = catalogue.sheets()[t.canonical]
    sheet = t.name
    vals: dict[str, Any] = {}
    n = t.n_rows
    nonblank = np.zeros(n, dtype=bool)
    bad_key: set[int] = set()
    pre = _numeric_cells(t, [c for c in t.columns_raw if spec.column(c).type in NUMERIC_TYPES])
    for code, raw in t.columns_raw.items():
        column = spec.column(code)
        label = column.header
        if column.type in NUMERIC_TYPES:
            col, nb = _parse_numeric(raw, column.type, label, t, code, sheet, report, pre.get(code))
            nonblank |= nb
            vals[code] = col
            continue
        parse, bad_code = _parser_for(column, t.canonical)
        is_text = column.type == "text"
        if isinstance(raw, np.ndarray) and pd.api.types.infer_dtype(raw, skipna=False) == "string":
            vals[code] = _parse_strings(raw, parse, is_text, bad_code, label, t, code, sheet,
                                        report, nonblank, bad_key if code in spec.key else None)
            continue
        cache: dict = {}
        out: list = [None] * n
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
                report.error(bad_code, sheet, t.cell(code, i), v, f"{label}: {res[1]}.")
                if code in spec.key:
                    bad_key.add(i)
        vals[code] = out
    # cells whose formula ends in an error: read as blank by calamine, shown as #N/A in Excel
    for (i, code), text in t.errors.items():
        nonblank[i] = True
        report.error("formula_error", sheet, t.cell(code, i), text,
                     f"{spec.column(code).header} shows the formula error {text}: correct the "
                     f"formula or type the value (leave the cell empty if there is nothing to "
                     f"report).")
        if code in spec.key:
            bad_key.add(i)
    for code in t.columns_raw:
        if spec.column(code).type == "text":
            _text_rules(vals[code], spec.column(code), t, code, sheet, report)
    rows = np.flatnonzero(nonblank).tolist()
    parsed = ParsedSheet(t, vals, rows, bad_key)
    # required values
    in_rows = np.zeros(n, dtype=bool)
    in_rows[rows] = True
    for column in spec.columns:
        if not column.required or column.code not in vals:
            continue
        col = vals[column.code]
        raw = t.columns_raw[column.code]
        if isinstance(col, np.ndarray):
            missing = np.isnan(col)
        else:
            missing = np.equal(np.asarray(col, dtype=object), None)
        for i in np.flatnonzero(missing & in_rows).tolist():
            if values.is_blank(raw[i]) and (i, column.code) not in t.errors:
                report.error("required_value", sheet, t.cell(column.code, i), None,
                             f"{column.header} is blank in row {t.row_number(i)}: fill it in "
                             f"(it is required in sheet {spec.name}).")
            if column.code in spec.key:
                bad_key.add(i)
    return parsed


# --- rules shared by the sheets ---------------------------------------------------------------

def _key_text(key: tuple) -> str:
    """A row's key as the user wrote it: ``TZA 2018`` (a year is no amount: no
    thousands separator)."""
    return " ".join(k if isinstance(k, str) else _plain(k) for k in key)


def _plain(v: Any) -> str:
    """A number without thousands separators: 2018, 2018.5."""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def duplicate_keys(p: ParsedSheet, report: Report) -> set[int]:
    """Rows whose key repeats an earlier row: an error naming both rows."""
    spec = catalogue.sheets()[p.table.canonical]
    seen: dict[tuple, int] = {}
    dups: set[int] = set()
    rows = p.ok_rows()
    keys = list(zip(*[[p.values[c][i] for i in rows] for c in spec.key]))
    if len(set(keys)) == len(keys):
        return dups
    for i, key in zip(rows, keys):
        if key in seen:
            j = seen[key]
            shown = _key_text(key) if spec.key[-1] != "lesson" else _key_text(key[:2]) + " (same lesson text)"
            report.error("duplicate_key", p.name, p.cell(spec.key[0], i), _key_text(key)[:200],
                         f"Rows {p.row(j)} and {p.row(i)} both have {shown}: keep only one of them.")
            dups.add(i)
        else:
            seen[key] = i
    return dups


def pilot_rows_rules(p: ParsedSheet, ctx: Context, report: Report, *, known_required: bool = True) -> set[int]:
    """Unknown pilots and pilots outside the user's scope. -> rows to drop."""
    drop: set[int] = set()
    ids = p.values["pilot_id"]
    for i in p.ok_rows():
        pid = ids[i]
        if ctx.scope is not None and pid not in ctx.scope:
            report.error("out_of_scope", p.name, p.cell("pilot_id", i), pid,
                         f"You may only change the pilots in your scope "
                         f"({', '.join(sorted(ctx.scope)) or 'none'}); {pid} is not one of them: "
                         f"remove row {p.row(i)} or ask an administrator.")
            drop.add(i)
        elif known_required and pid not in ctx.pilots:
            report.error("unknown_pilot", p.name, p.cell("pilot_id", i), pid,
                         f"{pid} is not a known pilot: correct the id, or add the pilot to the "
                         f"Pilots sheet.")
            drop.add(i)
    return drop


def quarter_rules(p: ParsedSheet, ctx: Context, report: Report, code: str = "quarter",
                  *, check_start: bool = True) -> set[int]:
    """Quarters after the current one, and (with ``check_start``) before the pilot's
    start quarter. Each distinct quarter and pilot is looked at once; problems are
    reported per row, in row order. -> rows to drop."""
    drop: set[int] = set()
    qs = p.values[code]
    ids = p.values.get("pilot_id")
    cur = ctx.current_quarter
    rows = np.asarray(p.ok_rows(), dtype=np.int64)
    if not rows.size:
        return drop
    q_codes, q_uniq = pd.factorize(np.asarray(qs, dtype=object)[rows])  # None -> -1
    q_list = q_uniq.tolist()
    future = np.array([q > cur for q in q_list] + [False], dtype=bool)
    bad = future[q_codes]
    early = np.zeros(len(rows), dtype=bool)
    starts: list = []
    p_codes = None
    if check_start and ids is not None:
        p_codes, p_uniq = pd.factorize(np.asarray(ids, dtype=object)[rows])
        for pid in p_uniq.tolist():
            info = ctx.pilots.get(pid)
            start = info.get("start_date") if info else None
            starts.append(start if isinstance(start, dt.date) else None)
        start_q = [quarters.of_date(d) if d is not None else None for d in starts]
        # is quarter u before the start quarter of pilot v? over the distinct pairs only
        base = len(starts) + 1  # codes shifted by one: -1 (blank) becomes 0
        pairs, inv = np.unique((q_codes.astype(np.int64) + 1) * base + (p_codes + 1),
                               return_inverse=True)
        before = np.array([
            (qc >= 0 and pc >= 0 and start_q[pc] is not None and q_list[qc] < start_q[pc])
            for qc, pc in ((x // base - 1, x % base - 1) for x in pairs.tolist())], dtype=bool)
        early = before[inv.reshape(-1)] & ~bad
    for j in np.flatnonzero(bad | early).tolist():
        i = int(rows[j])
        q = q_list[q_codes[j]]
        if bad[j]:
            report.error("future_quarter", p.name, p.cell(code, i), q,
                         f"Quarter {q} is after the current quarter ({cur}): results can only be "
                         f"reported for quarters that have begun; correct the quarter.")
        else:
            start = starts[p_codes[j]]
            report.error("before_start", p.name, p.cell(code, i), q,
                         f"Quarter {q} is before {ids[i]} started ({start.isoformat()}, "
                         f"{quarters.of_date(start)}): correct the quarter or the pilot's "
                         f"start_date.")
        drop.add(i)
    return drop


# --- Pilots -------------------------------------------------------------------------------

def _stored_rows(frame, key_cols: list[str]) -> dict[tuple, dict]:
    if frame is None or frame.empty:
        return {}
    names = list(frame.columns)
    cols = [[None if (isinstance(v, float) and v != v) or v is _NA else v for v in frame[c].tolist()]
            for c in names]
    key_idx = [names.index(k) for k in key_cols]
    out = {}
    for rec in zip(*cols):
        out[tuple(rec[k] for k in key_idx)] = dict(zip(names, rec))
    return out


try:
    import pandas as _pd

    _NA = _pd.NA
except Exception:  # pragma: no cover
    _NA = object()


def _as_date(v: Any) -> dt.date | None:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    if hasattr(v, "date") and callable(v.date) and v is not None:
        try:
            return v.date()
        except Exception:  # noqa: BLE001
            return None
    if isinstance(v, str):
        d, _ = values.parse_date(v)
        return d
    return None


def pilot_context(current: Portfolio, pilots: ParsedSheet | None) -> dict[str, dict]:
    """Every pilot's stored values merged with the file's Pilots rows (file wins)."""
    out = {k[0]: dict(v) for k, v in _stored_rows(current.pilots, ["pilot_id"]).items()}
    for info in out.values():
        for c in ("start_date", "end_date"):
            info[c] = _as_date(info.get(c))
    if pilots is not None:
        for i in pilots.ok_rows():
            pid = pilots.values["pilot_id"][i]
            info = out.setdefault(pid, {"pilot_id": pid})
            for code in pilots.values:
                v = pilots.get(code, i)
                if v is not None:
                    info[code] = v
    return out


def _date_order(p: ParsedSheet, i: int, report: Report, a: str, b: str, start: dt.date | None,
                end: dt.date | None, a_label: str, b_label: str, what: str) -> None:
    """``end_before_start`` when ``end`` < ``start`` as they will be after the upload (a
    blank keeps the stored date), pointing at a date the file gives and saying which
    one is stored."""
    if not (start and end and end < start):
        return
    a_file, b_file = p.get(a, i) is not None, p.get(b, i) is not None
    if not (a_file or b_file):
        return  # both stored: not this file's doing
    s_note = "" if a_file else " (stored earlier)"
    e_note = "" if b_file else " (stored earlier)"
    if a_file and b_file:
        fix = "correct one of them"
    elif b_file:
        fix = f"correct it, or give the right {a_label.lower()} too"
    else:
        fix = f"correct it, or give the right {b_label.lower()} too"
    report.error("end_before_start", p.name, p.cell(b if b_file else a, i),
                 (end if b_file else start).isoformat(),
                 f"{b_label} {end.isoformat()}{e_note} is before {a_label.lower()} "
                 f"{start.isoformat()}{s_note} for {what}: {fix}.")


def _first_stored_quarters(p: ParsedSheet, ctx: Context) -> dict[str, str]:
    """The first quarter with a stored indicator value, for the pilots whose start date
    the Pilots sheet gives."""
    if "start_date" not in p.values or ctx.current.indicators.empty:
        return {}
    pids = {p.values["pilot_id"][i] for i in p.ok_rows() if p.get("start_date", i) is not None}
    ind = ctx.current.indicators
    sub = ind[ind["pilot_id"].isin(pids)]
    return sub.groupby("pilot_id")["quarter"].min().to_dict() if len(sub) else {}


def pilots_rules(p: ParsedSheet, ctx: Context, report: Report) -> dict[str, list]:
    """Checks of the Pilots sheet. -> derived columns (region, cycle, currency)."""
    n = p.table.n_rows
    derived = {"region": [None] * n, "cycle": [None] * n, "currency": [None] * n}
    stored = _stored_rows(ctx.current.pilots, ["pilot_id"])
    first_stored = _first_stored_quarters(p, ctx)
    for i in p.ok_rows():
        pid = p.values["pilot_id"][i]
        old = stored.get((pid,), {})
        country = p.get("country", i) or old.get("country")
        if country and pid.split("-")[0] != country:
            report.warn("pilot_id_prefix", p.name, p.cell("pilot_id", i), pid,
                        f"Pilot id {pid} does not start with the country code {country} "
                        f"({countries.name(country) or country}): ids are ISO3-CHAIN such as "
                        f"{country}-DAIRY; check the id and the country.")
        # derived values
        region = p.get("region", i) or (countries.region(country) if country else None) or old.get("region")
        derived["region"][i] = region
        derived["cycle"][i] = p.get("cycle", i) or old.get("cycle") or catalogue.DEFAULT_CYCLE
        derived["currency"][i] = (p.get("currency", i) or old.get("currency")
                                  or (countries.currency(country) if country else None))
        # dates
        start = p.get("start_date", i) or _as_date(old.get("start_date"))
        end = p.get("end_date", i) or _as_date(old.get("end_date"))
        _date_order(p, i, report, "start_date", "end_date", start, end, "Start date", "End date",
                    f"{pid}")
        first = first_stored.get(pid)
        if p.get("start_date", i) is not None and first and quarters.of_date(start) > first:
            report.error("before_start", p.name, p.cell("start_date", i), start.isoformat(),
                         f"Start date {start.isoformat()} ({quarters.of_date(start)}) is after "
                         f"{first}, the first quarter with indicator values stored for {pid}: "
                         f"correct the start date (a pilot starts in or before the first quarter "
                         f"it reports).")
        # coordinates
        lat = p.get("latitude", i)
        lon = p.get("longitude", i)
        if lat is None and lon is not None:
            lat = _num(old.get("latitude"))
        if lon is None and lat is not None:
            lon = _num(old.get("longitude"))
        unreadable = any(p.has(c) and p.get(c, i) is None and not values.is_blank(p.table.columns_raw[c][i])
                         for c in ("latitude", "longitude"))
        if unreadable:
            pass  # already reported as an error
        elif (lat is None) != (lon is None):
            have = "latitude" if lat is not None else "longitude"
            missing = "longitude" if lat is not None else "latitude"
            report.warn("coordinates_incomplete", p.name, p.cell(have, i), lat if lat is not None else lon,
                        f"{pid} has a {have} but no {missing}: add the {missing} so the site "
                        f"shows on the map.")
        elif lat is not None and country and (p.has("latitude") or p.has("longitude")):
            inside = countries.point_in_country(country, lat, lon)
            if inside is False:
                report.warn("outside_country", p.name, p.cell("latitude", i) or p.cell("longitude", i),
                            f"{lat}, {lon}",
                            f"The site of {pid} ({lat}, {lon}) is outside "
                            f"{countries.name(country) or country}: check the latitude and "
                            f"longitude (decimal degrees, south and west negative) and the country.")
    return derived


def _num(v: Any) -> float | None:
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if f != f else f


# --- Progress -------------------------------------------------------------------------------

def progress_rules(p: ParsedSheet, ctx: Context, report: Report) -> list:
    """Dates in order, completed needs an actual end, status derived when blank.
    -> the status column (file value or derived)."""
    n = p.table.n_rows
    status_out: list = [None] * n
    stored = _stored_rows(ctx.current.milestones, ["pilot_id", "milestone"])
    for i in p.ok_rows():
        pid, ms = p.values["pilot_id"][i], p.values["milestone"][i]
        old = stored.get((pid, ms), {})
        merged = {c: (p.get(c, i) if p.get(c, i) is not None else _as_date(old.get(c)))
                  for c in ("planned_start", "planned_end", "actual_start", "actual_end")}
        for a, b, what in (("planned_start", "planned_end", "Planned"), ("actual_start", "actual_end", "Actual")):
            _date_order(p, i, report, a, b, merged[a], merged[b], f"{what} start", f"{what} end",
                        f"{pid} {ms}")
        status = p.get("status", i)
        if status == "completed" and merged["actual_end"] is None:
            report.error("completed_without_end", p.name, p.cell("status", i), status,
                         f"{pid} {ms} is marked completed but has no actual end date: fill in "
                         f"actual_end, or change the status.")
        if status is None:
            if old.get("status") == "dropped":
                status = "dropped"
            elif merged["actual_end"] is not None:
                status = "completed"
            elif merged["actual_start"] is not None:
                status = "in_progress"
            else:
                status = "not_started"
        status_out[i] = status
    return status_out


# --- Indicators ---------------------------------------------------------------------------------

def parts_rules(p: ParsedSheet, ctx: Context, report: Report) -> None:
    """Every part (``*_women``, ``*_youth``, ``hh_above_living_income``) <= its total,
    as they will be after the upload: a part or a total the file leaves blank keeps its
    stored value (a blank never erases), so one given alone is compared with the other
    as stored."""
    inds = catalogue.indicators()
    parts = [(c, i.total) for c, i in inds.items() if i.total and (c in p.values or i.total in p.values)]
    if not parts:
        return
    ids, qs = p.values["pilot_id"], p.values["quarter"]
    n = p.table.n_rows
    ok = np.zeros(n, dtype=bool)
    ok[p.ok_rows()] = True
    blank = np.full(n, np.nan)
    k = None
    for part, total in parts:
        pv, tv = p.values.get(part, blank), p.values.get(total, blank)
        p_file, t_file = ~np.isnan(pv), ~np.isnan(tv)
        pv_all, tv_all = pv, tv
        for code, given, other, side in ((part, p_file, t_file, "p"), (total, t_file, p_file, "t")):
            need = ok & ~given & other
            if not need.any() or ctx.current.indicators.empty:
                continue
            if k is None:
                k = stored_keys(p, ctx)
            rows = np.flatnonzero(need)
            found = k.stored_values(k.pid[rows], k.q[rows], indicator_index()[code])
            if side == "p":
                pv_all = pv_all.copy()
                pv_all[rows] = found
            else:
                tv_all = tv_all.copy()
                tv_all[rows] = found
        with np.errstate(invalid="ignore"):
            over = ok & (p_file | t_file) & (pv_all > tv_all)
        pl, tl = inds[part].label, inds[total].label
        for i in np.flatnonzero(over).tolist():
            pn, tn = float(pv_all[i]), float(tv_all[i])
            if p_file[i] and t_file[i]:
                report.error("part_above_total", p.name, p.cell(part, i), pn,
                             f"{pl} ({_show(pn)}) is more than {tl} ({_show(tn)}) for {ids[i]} "
                             f"{qs[i]}: correct one of them.")
            elif p_file[i]:
                report.error("part_above_total", p.name, p.cell(part, i), pn,
                             f"{pl} ({_show(pn)}) is more than {tl} ({_show(tn)}, stored earlier) "
                             f"for {ids[i]} {qs[i]}: correct it, or give the right {tl} too.")
            else:
                report.error("part_above_total", p.name, p.cell(total, i), tn,
                             f"{tl} ({_show(tn)}) is less than {pl} ({_show(pn)}, stored earlier) "
                             f"for {ids[i]} {qs[i]}: correct it, or give the right {pl} too.")


def rate_for(ctx: Context, currency: str, quarter: str) -> float | None:
    return ctx.rates.get((currency, quarter))


def convert_local_money(p: ParsedSheet, ctx: Context, report: Report) -> None:
    """``*_local`` columns -> their ``*_usd`` column with the pilot's currency and the
    quarter's rate. When both are given the USD value is kept (with a warning)."""
    ids, qs = p.values["pilot_id"], p.values["quarter"]
    ok_rows = set(p.ok_rows())
    for ind in catalogue.indicators().values():
        local = catalogue.money_local_code(ind.code)
        if local == ind.code or local not in p.values:
            continue
        lv = p.values[local]
        uv = p.values.get(ind.code)
        if uv is None:
            uv = np.full(len(lv), np.nan)
        else:
            uv = uv.copy()
        for i in np.flatnonzero(~np.isnan(lv)).tolist():
            if i not in ok_rows:
                continue
            pid, q = ids[i], qs[i]
            if not np.isnan(uv[i]):
                report.warn("money_both_given", p.name, p.cell(local, i), float(lv[i]),
                            f"{pid} {q} gives both {ind.label} and its local-currency column: "
                            f"the USD value {_show(float(uv[i]))} is kept; clear one of them.")
                continue
            info = ctx.pilots.get(pid, {})
            cur = info.get("currency") or (countries.currency(info["country"]) if info.get("country") else None)
            if not cur:
                report.error("missing_rate", p.name, p.cell(local, i), float(lv[i]),
                             f"The currency of {pid} is not known, so its local amount cannot be "
                             f"converted: add a currency (ISO 4217) for {pid} in the Pilots sheet, "
                             f"or give the amount in USD.")
                continue
            rate = rate_for(ctx, cur, q)
            if rate is None:
                report.error("missing_rate", p.name, p.cell(local, i), float(lv[i]),
                             f"No exchange rate for {cur} in {q}, needed to convert {pid}'s local "
                             f"amount: add a row to the Rates sheet with currency {cur}, quarter {q} "
                             f"and units_per_usd (or give the amount in USD).")
                continue
            usd = float(lv[i]) / rate
            if not math.isfinite(usd):
                report.error("not_a_number", p.name, p.cell(local, i), float(lv[i]),
                             f"{ind.label}: {_show(float(lv[i]))} {cur} at {rate:g} {cur} per USD "
                             f"is too large to store: check the amount and the rate for {cur} "
                             f"in {q}.")
                continue
            uv[i] = usd
        p.values[ind.code] = uv
        if ind.code not in p.table.columns:  # cells of the converted values point at the local column
            p.table.columns[ind.code] = p.table.columns[local]


def volume_unit_rules(p: ParsedSheet, ctx: Context, report: Report) -> None:
    if "volume_sold" not in p.values:
        return
    vs = p.values["volume_sold"]
    units = p.values.get("volume_unit")
    need = np.zeros(p.table.n_rows, dtype=bool)
    need[p.ok_rows()] = True
    need &= ~np.isnan(vs)
    if units is not None:
        need &= np.equal(np.asarray(units, dtype=object), None)
    rows = np.flatnonzero(need).tolist()
    if not rows:
        return
    ind = ctx.current.indicators
    stored = set()
    if not ind.empty:
        sub = ind[ind["indicator"] == "volume_unit"]
        stored = set(zip(sub["pilot_id"], sub["quarter"]))
    for i in rows:
        pid, q = p.values["pilot_id"][i], p.values["quarter"][i]
        if (pid, q) not in stored:
            report.warn("volume_unit_missing", p.name, p.cell("volume_sold", i), float(vs[i]),
                        f"Volume sold for {pid} {q} has no unit: fill in volume_unit "
                        f"({', '.join(catalogue.VOLUME_UNITS)}).")


OUTLIER_MIN_HISTORY = 4
OUTLIER_Z = 3.5  # modified z-score (Iglewicz and Hoaglin), as DHIS2's outlier detection
OUTLIER_RATIO = 3.0
# at most this many outliers are listed one by one (the farthest); the rest are counted
# in one ``outliers_not_listed`` warning: a director reads a list, not 48,000 lines
OUTLIER_LISTED = 500


@dataclass
class LongValues:
    """The numeric values of an Indicators sheet in long form, as parallel arrays."""

    rows: np.ndarray  # data row (0-based below the header)
    pilot_id: np.ndarray
    quarter: np.ndarray
    indicator: np.ndarray
    value: np.ndarray
    indicator_idx: np.ndarray | None = None  # catalogue index of ``indicator`` (int)

    @classmethod
    def empty(cls) -> "LongValues":
        o = np.empty(0, dtype=object)
        return cls(np.empty(0, dtype=np.int64), o, o, o, np.empty(0), np.empty(0, dtype=np.int64))


# A value is judged against at most the 8 quarters before it (two years): what is usual
# for a pilot now, not what it was when it started, and a fixed width that whole
# columns can be sorted at once for (``_sorted_columns``).
OUTLIER_WINDOW = 8
# values whose windows are sorted at once: 8 columns of 32,768 floats and the network's
# temporaries stay in a core's L2 cache (a chunk of 131,072 ran the network at a third of
# the speed), and the rule's memory stays small
OUTLIER_CHUNK = 32_768
# An optimal sorting network for 8 values (19 compare-exchanges; Knuth, TAOCP 5.3.4).
_NETWORK_8 = ((0, 2), (1, 3), (4, 6), (5, 7), (0, 4), (1, 5), (2, 6), (3, 7), (0, 1), (2, 3),
              (4, 5), (6, 7), (2, 4), (3, 5), (1, 4), (3, 6), (1, 2), (3, 4), (5, 6))


def _sorted_columns(cols: list[np.ndarray]) -> list[np.ndarray]:
    """The 8 columns put in order row by row (row i of the result: row i of the input,
    sorted): the sorting network applied to whole columns, in place (the columns must
    be the caller's own arrays, of one length)."""
    cols = list(cols)
    tmp = np.empty_like(cols[0])
    for a, b in _NETWORK_8:
        np.minimum(cols[a], cols[b], out=tmp)
        np.maximum(cols[a], cols[b], out=cols[b])
        cols[a], tmp = tmp, cols[a]
    return cols


def _full_window_stats(s: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Median and MAD (as ``np.median``: the mean of the two middle values) of rows of 8
    sorted values ``s[0] <= ... <= s[7]``. The deviations from the median m are two
    sorted runs, m - s3 <= m - s2 <= m - s1 <= m - s0 and s4 - m <= ... <= s7 - m (exactly
    the floats ``abs(s - m)``: rounding is monotone and symmetric), so their 4th and 5th
    smallest are picked from the two runs (the k-th smallest of two sorted runs A and B
    is the least of max(A[i-1], B[k-i-1]) over i) instead of sorting them again."""
    med = (s[3] + s[4]) / 2
    a = [med - s[3], med - s[2], med - s[1], med - s[0]]
    b = [s[4] - med, s[5] - med, s[6] - med, s[7] - med]
    mx = np.maximum
    d4 = np.minimum(np.minimum(np.minimum(b[3], mx(a[0], b[2])), np.minimum(mx(a[1], b[1]), mx(a[2], b[0]))), a[3])
    d5 = np.minimum(np.minimum(mx(a[0], b[3]), mx(a[1], b[2])), np.minimum(mx(a[2], b[1]), mx(a[3], b[0])))
    return med, (d4 + d5) / 2


def _short_window_stats(s: list[np.ndarray], count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Median and MAD of rows of ``count`` (4 to 7) sorted values, padded with +inf to 8
    (``s`` sorted by ``_sorted_columns``: the values first, the padding last)."""
    def middle(cols: list[np.ndarray]) -> np.ndarray:  # mean of the ((c-1)//2)-th and (c//2)-th
        lo = np.where(count >= 7, cols[3], np.where(count >= 5, cols[2], cols[1]))
        hi = np.where(count >= 6, cols[3], cols[2])
        return (lo + hi) / 2

    med = middle(s)
    with np.errstate(invalid="ignore"):
        dev = _sorted_columns([np.abs(c - med) for c in s])  # padding: inf, sorted last
    return med, middle(dev)


def _show_many(v: np.ndarray) -> list[str]:
    """``_show`` of each float of ``v``, formatted in two list passes (whole numbers as
    integers with thousands separators, others with two decimals)."""
    out = np.empty(len(v), dtype=object)
    whole = (v == np.floor(v)) & (np.abs(v) < 2.0 ** 62)
    out[whole] = [f"{i:,}" for i in v[whole].astype(np.int64).tolist()]
    rest = np.flatnonzero(~whole)
    if rest.size:
        out[rest] = [_show(x) for x in v[rest].tolist()]  # (fractions; whole numbers >= 2**62)
    return out.tolist()


def _stored_unchanged(k: StoredKeys, pid: np.ndarray, q: np.ndarray, ind: np.ndarray,
                      value: np.ndarray) -> np.ndarray:
    """Per file value (its pilot and quarter codes, catalogue index, value): whether the
    store holds that very value for the same pilot, quarter and indicator."""
    old = k.stored_values(pid, q, ind)
    with np.errstate(invalid="ignore"):
        return ~np.isnan(old) & (np.abs(value - old) <= np.maximum(1e-12 * np.abs(old), 1e-12))


def _in_keys(key: np.ndarray, among: np.ndarray, size: int) -> np.ndarray:
    """Whether each of ``key`` (0 <= key < size) is one of ``among``."""
    if not len(key) or not len(among):
        return np.zeros(len(key), dtype=bool)
    if size <= DENSE_KEYS:
        table = np.zeros(size, dtype=bool)
        table[among] = True
        return table[key]
    return np.isin(key, among)


def _history_after_upload(long: LongValues, k: StoredKeys, l_pid: np.ndarray, l_q: np.ndarray,
                          ind_idx: np.ndarray, f: np.ndarray, scored: np.ndarray
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The values of the file's pilots as they will be after the upload, as parallel
    arrays (group = pilot code x indicator, quarter rank, value): the stored values the
    file does not replace (same pilot, quarter and indicator), and the file's values
    ``f`` (indexes into ``long``). Scores are left out (never judged)."""
    ni = k.n_ind
    h = np.flatnonzero((k.s_pid >= 0) & (k.s_ind >= 0) & ~np.isnan(k.s_value))
    if h.size:
        h = h[~scored[k.s_ind[h]]]
    if h.size and f.size:
        # a stored value the file gives again (in a quarter the file has) is replaced
        sizes = [len(k.pid_uniq), len(k.q_uniq), ni]
        fkey, _ = mixed_radix([l_pid[f], l_q[f], ind_idx[f].astype(np.int64)], sizes)
        maybe = np.flatnonzero(k.s_q[h] >= 0)
        skey, _ = mixed_radix([k.s_pid[h[maybe]], k.s_q[h[maybe]], k.s_ind[h[maybe]].astype(np.int64)],
                              sizes)
        replaced = np.zeros(h.size, dtype=bool)
        replaced[maybe] = _in_keys(skey, fkey, math.prod(max(n, 1) for n in sizes))
        h = h[~replaced]
    group = np.concatenate([k.s_pid[h].astype(np.int64) * ni + k.s_ind[h],
                            l_pid[f].astype(np.int64) * ni + ind_idx[f]])
    rank = np.concatenate([k.s_q_rank[h], k.q_rank[l_q[f]]]).astype(np.int64)
    value = np.concatenate([k.s_value[h], long.value[f].astype(float)])
    return group, rank, value


def outlier_rules(long: LongValues, p: ParsedSheet, ctx: Context, report: Report) -> None:
    """Warn when a value is far from the pilot's own earlier quarters as they will be
    after the upload (the file's values over the stored ones for the same pilot, quarter
    and indicator; the file's other quarters count too): modified z-score
    |0.6745 (x - median) / MAD| > 3.5 over at least 4 of the (at most 8) quarters before
    it, or, when those values barely vary (MAD 0), more than 3x or less than 1/3 of their
    median. A file
    that sends several quarters again with new values (corrected history, real data
    replacing the illustrative data) is judged against itself, not against the values
    it replaces.

    Vectorised: the history is sorted by (pilot, indicator, quarter); each value finds
    its earlier quarters as the 8 places before it (+inf before its group's start), in
    chunks of 32,768 values: a sorting network over the 8 columns, the median from the
    middle by count, the MAD of full windows picked from the two sorted runs of
    deviations (``_full_window_stats``), of shorter ones by sorting again. Each of
    the (at most ``OUTLIER_LISTED``) farthest outliers is one warning, their records
    made in one pass (``many_problems``); more are counted in one warning."""
    if not len(long.rows):
        return
    kinds = catalogue.indicators()
    idx = indicator_index()
    k = stored_keys(p, ctx)
    ni = k.n_ind
    ind_idx = long.indicator_idx
    if ind_idx is None:
        ind_idx = np.array([idx[c] for c in long.indicator.tolist()], dtype=np.int64)
    scored = np.zeros(ni, dtype=bool)
    scored[[idx[c] for c, i in kinds.items() if i.kind == "score"]] = True
    l_pid = k.pid[long.rows]
    l_q = k.q[long.rows]
    # the file's values that are judged and count as history: known pilot and quarter
    f = np.flatnonzero((l_pid >= 0) & (l_q >= 0) & ~scored[ind_idx])
    if not f.size:
        return
    hist_group, hist_rank, hist_val = _history_after_upload(long, k, l_pid, l_q, ind_idx, f, scored)
    n_rank = int(max(k.q_rank.max(initial=0), k.s_q_rank.max(initial=0))) + 2
    order = np.argsort(hist_group * n_rank + hist_rank, kind="stable")
    del hist_rank  # (the rule's arrays are a million long for a large file: freed early)
    hist_group, hist_val = hist_group[order], hist_val[order]
    n_hist = len(order)
    # where each of the file's values sits in the sorted history (they come last, after
    # the stored ones), and where its group (pilot, indicator) starts: its earlier
    # quarters are the values between the two (one value per quarter and group)
    where = np.empty(n_hist, dtype=np.int64)
    where[order] = np.arange(n_hist)
    pos_f = where[n_hist - f.size:].copy()
    del where, order
    heads = np.flatnonzero(np.concatenate(([True], hist_group[1:] != hist_group[:-1])))
    del hist_group
    # a value already stored as it is (a file sent again, an export re-imported) was
    # checked when it came in: it is not warned about again
    again = _stored_unchanged(k, l_pid[f], l_q[f], ind_idx[f], long.value[f])
    sel, pos = f[~again], pos_f[~again]
    if not sel.size:
        return
    count = np.minimum(pos - heads[np.searchsorted(heads, pos, side="right") - 1], OUTLIER_WINDOW)
    x_all = long.value[sel].astype(float)
    # the values with at least 4 earlier quarters (in the order of the values)
    js = np.flatnonzero(count >= OUTLIER_MIN_HISTORY)
    # the history with 8 +inf in front: value i's window is padded[pos_i .. pos_i + 7]
    # (the 8 values before it); slots before its group's start are set to +inf, which
    # the sorting network puts last
    padded = np.concatenate([np.full(OUTLIER_WINDOW, np.inf), hist_val])
    flagged, meds = [], []
    for c0 in range(0, len(js), OUTLIER_CHUNK):
        jc = js[c0:c0 + OUTLIER_CHUNK]
        pc, kc = pos[jc], count[jc]
        cols = [padded[pc + c] for c in range(OUTLIER_WINDOW)]
        short = kc < OUTLIER_WINDOW
        # (count >= 4: only the 4 oldest slots can lie before the group's start)
        for c in range(OUTLIER_WINDOW - OUTLIER_MIN_HISTORY):
            np.putmask(cols[c], kc < OUTLIER_WINDOW - c, np.inf)
        cols = _sorted_columns(cols)
        with np.errstate(invalid="ignore"):  # (inf - inf in the short windows' rows)
            med, mad = _full_window_stats(cols)
        if short.any():  # the windows with fewer than 8 quarters, again
            sw = np.flatnonzero(short)
            med[sw], mad[sw] = _short_window_stats([c[sw] for c in cols], kc[sw])
        x = x_all[jc]
        with np.errstate(divide="ignore", invalid="ignore"):
            far = np.where(mad > 0, np.abs(0.6745 * (x - med) / mad) > OUTLIER_Z,
                           (med > 0) & ((x > OUTLIER_RATIO * med) | (x < med / OUTLIER_RATIO)))
        if far.any():
            flagged.append(jc[far])
            meds.append(med[far])
    if not flagged:
        return
    js, med = np.concatenate(flagged), np.concatenate(meds)
    n_far = len(js)
    if n_far > OUTLIER_LISTED:
        # so many usually has one cause (a unit, a currency, shifted quarters): the
        # farthest values are listed, the rest counted in one warning
        x = x_all[js]
        farness = np.abs(x - med) / np.where(med != 0, np.abs(med), 1.0)
        keep = np.sort(np.argsort(-farness, kind="stable")[:OUTLIER_LISTED])
        rest_pilots = np.unique(long.pilot_id[sel[np.delete(js, keep)]].astype(str)).size
        js, med = js[keep], med[keep]
        n_rest = n_far - OUTLIER_LISTED
        report.warn("outliers_not_listed", p.name, None, n_rest,
                    f"{n_rest:,} more values (of {rest_pilots:,} pilots) are far from their earlier "
                    f"quarters; the {OUTLIER_LISTED:,} farthest are listed. So many usually has one "
                    f"cause: a column in another unit or currency than before, or values in the "
                    f"wrong quarter. Check the columns and quarters; if the values are right, leave them.")
    j = sel[js]
    ind_j = ind_idx[j]
    # (a large file can flag tens of thousands of values: the cell letters and labels are
    # looked up once per indicator, the numbers formatted in one pass each, the records
    # made at once)
    code_of = {i: c for c, i in idx.items()}
    letter = {i: column_letter(p.table.columns[code_of[i]]) for i in np.unique(ind_j).tolist()}
    label = {i: kinds[code_of[i]].label for i in letter}
    first = p.table.first_row + 1
    ind_list = ind_j.tolist()
    cells = [f"{letter[i]}{r}" for i, r in zip(ind_list, (long.rows[j] + first).tolist())]
    xs = x_all[js]
    report.problems.extend(many_problems("outlier", WARNING, p.name, cells, xs.tolist(), [
        f"{label[i]} for {pid} {q} is {xv}, far from its earlier quarters (median {mv} over "
        f"{kq} quarters): check the value; if it is right, leave it."
        for i, pid, q, xv, mv, kq in zip(ind_list, long.pilot_id[j].tolist(), long.quarter[j].tolist(),
                                         _show_many(xs), _show_many(med), count[js].tolist())]))


# --- Lessons, Rates ------------------------------------------------------------------------------

def lessons_rules(p: ParsedSheet, ctx: Context, report: Report) -> set[int]:
    drop: set[int] = set()
    if "lesson" not in p.values:
        return drop
    for i in p.ok_rows():
        text = p.values["lesson"][i]
        if text is not None and len(text) > catalogue.LESSON_MAX_CHARS:
            report.error("text_too_long", p.name, p.cell("lesson", i), text[:60] + "...",
                         f"The lesson in row {p.row(i)} has {len(text):,} characters; the limit is "
                         f"{catalogue.LESSON_MAX_CHARS:,}: shorten it or split it into two lessons.")
            drop.add(i)
    return drop


def rates_rules(p: ParsedSheet, report: Report) -> set[int]:
    drop: set[int] = set()
    if "units_per_usd" not in p.values:
        return drop
    col = p.values["units_per_usd"]
    for i in p.ok_rows():
        v = col[i]
        if not np.isnan(v) and v <= 0:
            report.error("bad_rate", p.name, p.cell("units_per_usd", i), float(v),
                         f"Units per USD must be more than 0, found {_show(float(v))}: write how "
                         f"many units of {p.values['currency'][i]} one US dollar buys.")
            drop.add(i)
    return drop
