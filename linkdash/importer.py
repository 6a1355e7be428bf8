"""``check_file``: a director's workbook in, every problem at once or clean typed tables out.

    checked = check_file(data, "kenya-2017Q3.xlsx", store.load(), scope={"KEN-DAIRY"})
    checked.report.ok        # False when any error: nothing may be stored
    checked.tables["Indicators"]  # long: pilot_id, quarter, indicator, value, text
    checked.tables.indicator_keys # its keys as integer codes, for Store.preview

Tables (``catalogue.SHEET_ORDER`` names, only the sheets present) have canonical column
codes: the key columns and the columns present in the file, plus the derived ones
(Pilots ``region``, ``cycle``, ``currency``; Progress ``status``). Blank cells are None
(= not reported). Rows with errors are left out of the tables; with any error the caller
stores nothing anyway.

Decisions the spec leaves open:
- a money value given both in USD and in local currency keeps the USD value, with a
  warning (``money_both_given``);
- a csv file's problems name the canonical sheet (``Indicators``) as their sheet;
- rows whose pilot is outside ``scope`` are errors and are left out.
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from linkdash import catalogue, rules, sandbox
from linkdash.portfolio import Portfolio
from linkdash.problems import Report, column_index
from linkdash.workbook import gc_paused, locate_sheets, read_workbook


@dataclass(frozen=True)
class IndicatorKeys:
    """The key columns of a long Indicators table as integer codes, computed from the
    wide sheet (one factorisation per sheet row instead of per value), so that
    ``Store.preview`` need not factorise a million strings again.

    ``columns`` holds the table's own pilot_id, quarter and indicator Series: while
    they are held, copy-on-write makes any change to the table copy its columns, so
    ``matches`` (same buffers) proves the codes still describe the table."""

    columns: tuple[pd.Series, ...]  # pilot_id, quarter, indicator (and text), as in the table
    codes: tuple[np.ndarray, ...]  # per row: index into uniques (-1 for blank), int32
    uniques: tuple[np.ndarray, ...]  # object arrays of str
    # the rows whose text is given (str; None in every other row), when ``columns``
    # holds the text column too: the preview need not look for them in a million cells
    text_rows: np.ndarray | None = None

    def matches(self, df: pd.DataFrame) -> bool:
        for col in self.columns:
            if col.name not in df.columns:
                return False
            a, b = col.to_numpy(), df[col.name].to_numpy()
            if (len(a) != len(b) or a.strides != b.strides
                    or a.__array_interface__["data"][0] != b.__array_interface__["data"][0]):
                return False
        return True


class Tables(dict[str, pd.DataFrame]):
    """``CheckedWorkbook.tables``: a dict of DataFrames by sheet name that also carries
    ``indicator_keys`` (see ``IndicatorKeys``; None without an Indicators sheet), which
    callers pass to ``Store.preview``."""

    indicator_keys: IndicatorKeys | None = None


@dataclass
class CheckedWorkbook:
    report: Report
    tables: Tables = field(default_factory=Tables)
    sheet_names: dict[str, str] = field(default_factory=dict)  # canonical -> as written
    kind: str = ""  # xlsx | xls | ods | csv

    @property
    def ok(self) -> bool:
        return self.report.ok


def _obj(values: list) -> pd.Series:
    return pd.Series(values, dtype=object)


def _frame(p: rules.ParsedSheet, rows: list[int], extra: dict[str, list] | None = None) -> pd.DataFrame:
    spec = catalogue.sheets()[p.table.canonical]
    cols: dict[str, pd.Series] = {}
    order = [c.code for c in spec.all_columns if c.code in p.values or c.code in (extra or {})]
    for code in order:
        if extra and code in extra:
            src = extra[code]
            cols[code] = _obj([src[i] for i in rows])
            continue
        col = p.values[code]
        if isinstance(col, np.ndarray):
            sub = col[rows] if rows else np.empty(0)
            out = [None if v != v else (int(v) if spec.column(code).type == "year" else float(v))
                   for v in sub.tolist()]
            cols[code] = _obj(out)
        else:
            cols[code] = _obj([col[i] for i in rows])
    if extra:
        for code, src in extra.items():
            if code not in cols:
                cols[code] = _obj([src[i] for i in rows])
    return pd.DataFrame(cols)


def _wide_codes(wide: np.ndarray, rows: np.ndarray, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes of the long column ``wide[keep]``, factorised on the wide ``rows`` (one per
    sheet row) -> (codes, uniques)."""
    codes, uniques = pd.factorize(wide[rows])
    by_row = np.full(len(wide), -1, dtype=np.int32)
    by_row[rows] = codes
    return by_row[keep], uniques


def _indicators_long(p: rules.ParsedSheet, rows: list[int]
                     ) -> tuple[pd.DataFrame, rules.LongValues, IndicatorKeys | None]:
    """Wide Indicators rows -> long ``pilot_id, quarter, indicator, value, text``; also the
    numeric values as arrays (data row, pilot, quarter, indicator, value) for the outlier
    rule, and the table's integer keys."""
    rows_arr = np.asarray(rows, dtype=np.int64)
    ids = np.asarray(p.values["pilot_id"], dtype=object)
    qs = np.asarray(p.values["quarter"], dtype=object)
    keeps, codes, counts, vals, unit_keep = [], [], [], [], None
    for ind in catalogue.indicators().values():
        code = ind.code
        if code not in p.values:
            continue
        col = p.values[code]
        if ind.kind == "unit":
            arr = np.asarray(col, dtype=object)[rows_arr]
            unit_keep = rows_arr[arr != None]  # noqa: E711 - elementwise
            continue
        keep = rows_arr[~np.isnan(col[rows_arr])]
        keeps.append(keep)
        vals.append(col[keep])
        codes.append(code)
        counts.append(len(keep))
    if unit_keep is not None:
        keeps.append(unit_keep)
        vals.append(np.full(len(unit_keep), np.nan))
        codes.append("volume_unit")
        counts.append(len(unit_keep))
    if not keeps:
        empty = pd.DataFrame({c: _obj([]) for c in ("pilot_id", "quarter", "indicator", "text")})
        empty.insert(3, "value", pd.Series([], dtype="float64"))
        return empty, rules.LongValues.empty(), None
    keep = np.concatenate(keeps)
    val = np.concatenate(vals).astype(float)
    code_arr = np.repeat(np.array(codes, dtype=object), counts)
    index = rules.indicator_index()
    code_idx = np.repeat(np.array([index[c] for c in codes], dtype=np.int16), counts)
    text = np.empty(len(keep), dtype=object)
    if unit_keep is not None and len(unit_keep):
        text[-len(unit_keep):] = np.asarray(p.values["volume_unit"], dtype=object)[unit_keep]
    pid, q = ids[keep], qs[keep]
    df = pd.DataFrame({
        "pilot_id": pd.Series(pid, dtype=object, copy=False),
        "quarter": pd.Series(q, dtype=object, copy=False),
        "indicator": pd.Series(code_arr, dtype=object, copy=False),
        "value": pd.Series(val, dtype="float64", copy=False),
        "text": pd.Series(text, dtype=object, copy=False),
    }, copy=False)
    n_num = len(keep) - (len(unit_keep) if unit_keep is not None else 0)
    pid_codes, pid_uniq = _wide_codes(ids, rows_arr, keep)
    q_codes, q_uniq = _wide_codes(qs, rows_arr, keep)
    keys = IndicatorKeys((df["pilot_id"], df["quarter"], df["indicator"], df["text"]),
                         (pid_codes, q_codes, np.repeat(np.arange(len(codes), dtype=np.int32), counts)),
                         (pid_uniq, q_uniq, np.array(codes, dtype=object)),
                         np.arange(n_num, len(keep)))  # (the volume units: str, came last)
    return df, rules.LongValues(keep[:n_num], pid[:n_num], q[:n_num], code_arr[:n_num], val[:n_num],
                                code_idx[:n_num]), keys


def _rates_context(current: Portfolio, rates: rules.ParsedSheet | None) -> dict[tuple[str, str], float]:
    out: dict[tuple[str, str], float] = {}
    r = current.rates
    if r is not None and not r.empty:
        for cur, q, v in zip(r["currency"], r["quarter"], r["units_per_usd"]):
            try:
                f = float(v)
            except (TypeError, ValueError):
                continue
            if f == f and f > 0:
                out[(cur, q)] = f
    if rates is not None and rates.has("units_per_usd"):
        col = rates.values["units_per_usd"]
        for i in rates.ok_rows():
            v = col[i]
            if v == v and v > 0:
                out[(rates.values["currency"][i], rates.values["quarter"][i])] = float(v)
    return out


_SHEET_RANK = {name: i for i, name in enumerate(catalogue.SHEET_ORDER)}
_DIGITS = "0123456789"


def _problem_order(sheet_names: dict[str, str]):
    """Sort key of problems: sheet in the template's order, then row, then column (a
    file's problems first); a cell's letters are turned into a number once."""
    by_written = {v: k for k, v in sheet_names.items()}
    column_of: dict[str, int] = {}

    def key(p):
        cell = p.cell or ""
        letters = cell.rstrip(_DIGITS)
        digits = cell[len(letters):]
        if not letters or not digits or not letters.isalpha():
            row = col = 0
        else:
            row = int(digits)
            known = column_of.get(letters)
            if known is None:
                known = column_of[letters] = column_index(letters)
            col = known
        rank = _SHEET_RANK.get(by_written.get(p.sheet, p.sheet), -1) if p.sheet else -1
        return (rank, row, col)

    return key


@dataclass
class ReadSheets:
    """What reading the untrusted bytes gives: the located sheets' typed columns
    (``rules.ParsedSheet``, without the cell grids) and the problems found so far."""

    report: Report
    parsed: dict[str, rules.ParsedSheet]
    sheet_names: dict[str, str]  # canonical -> as written
    kind: str


def read_sheets(data: bytes, filename: str) -> ReadSheets:
    """Everything that touches the file's bytes: the guards, calamine (or csv), the
    formula-error scan, finding sheets and headers, and typing every cell. Runs in the
    isolated reader (``sandbox.run_isolated``); never raises for what is in the file."""
    with gc_paused():
        report = Report()
        raw = read_workbook(data, filename)
        report.extend(raw.report)
        if raw.report.errors:
            return ReadSheets(report, {}, {}, raw.kind)
        found = locate_sheets(raw, report)
        raw.sheets.clear()  # the located columns hold what is needed: free the grids
        parsed = {name: rules.parse_sheet(t, report) for name, t in found.items()}
        for p in parsed.values():
            p.table = p.table.slim(keep_raw=p.table.canonical == "Pilots")
        return ReadSheets(report, parsed, {k: t.name for k, t in found.items()}, raw.kind)


# the last check's isolated reader (for benchmarks): its peak memory, and the most the
# two processes held together while it ran (this process's peak until then + the reader's)
last_reader_peak_mb = 0.0
last_read_together_peak_mb = 0.0

_FAULT_TEXT = {
    "timeout": "reading it took longer than the limit",
    "memory": "reading it needed more memory than the limit",
    "crashed": "the spreadsheet reader stopped on it",
    "error": "the spreadsheet reader failed on it",
}


def read_isolated(data: bytes, filename: str) -> ReadSheets:
    """``read_sheets`` in a child process with time and memory limits; a child that
    dies, hangs or runs out of memory gives one ``file_unsafe`` error."""
    result = sandbox.run_isolated(read_sheets, data, filename)
    global last_reader_peak_mb, last_read_together_peak_mb
    last_reader_peak_mb = result.peak_mb
    last_read_together_peak_mb = result.peak_mb + result.parent_peak_mb
    if result.ok:
        return result.value
    report = Report()
    why = _FAULT_TEXT.get(result.fault, "the spreadsheet reader failed on it")
    report.error("file_unsafe", None, None, filename,
                 f"{filename} could not be read safely ({why}), so nothing was read from it. "
                 f"Open it in Excel or LibreOffice, copy the LINK sheets into a new copy of "
                 f"the template, save it as .xlsx and upload that file.")
    return ReadSheets(report, {}, {}, "")


def check_file(data: bytes, filename: str, current: Portfolio | None = None, *,
               scope: set[str] | None = None, today: dt.date | None = None,
               isolated: bool = True) -> CheckedWorkbook:
    """Read and check a workbook against the stored portfolio ``current``.

    Never raises for what is in the file: every problem is in ``report``. The file's
    bytes are read in an isolated child process (``isolated=False`` reads them in this
    process: for tests and fuzzing only, never for an upload)."""
    with gc_paused():
        return _check_file(data, filename, current, scope=scope, today=today, isolated=isolated)


def _check_file(data: bytes, filename: str, current: Portfolio | None, *,
                scope: set[str] | None, today: dt.date | None, isolated: bool) -> CheckedWorkbook:
    current = current if current is not None else Portfolio()
    today = today or dt.date.today()
    scope = {s.strip().upper() for s in scope} if scope is not None else None
    report = Report()
    # the stored values as codes (for the rules and the preview) depend on the store
    # alone: computed while the child process reads the file
    with ThreadPoolExecutor(max_workers=1) as pool:
        stored = pool.submit(current.indicator_codes)
        read = read_isolated(data, filename) if isolated else read_sheets(data, filename)
        stored.result()  # (re-raises what went wrong there)
    report.extend(read.report)
    if read.report.errors and not read.parsed:
        return CheckedWorkbook(report, Tables(), {}, read.kind)
    sheet_names = read.sheet_names
    parsed = read.parsed

    ctx = rules.Context(current, today, scope)
    ctx.pilots = rules.pilot_context(current, parsed.get("Pilots"))
    ctx.rates = _rates_context(current, parsed.get("Rates"))

    tables = Tables()
    for name in catalogue.SHEET_ORDER:
        p = parsed.get(name)
        if p is None:
            continue
        drop = set(p.bad_key)
        drop |= rules.duplicate_keys(p, report)
        extra: dict[str, list] | None = None
        if name == "Pilots":
            drop |= rules.pilot_rows_rules(p, ctx, report, known_required=False)
            extra = rules.pilots_rules(p, ctx, report)
        elif name == "Progress":
            drop |= rules.pilot_rows_rules(p, ctx, report)
            extra = {"status": rules.progress_rules(p, ctx, report)}
        elif name == "Indicators":
            drop |= rules.pilot_rows_rules(p, ctx, report)
            drop |= rules.quarter_rules(p, ctx, report)
            rules.convert_local_money(p, ctx, report)
            rules.parts_rules(p, ctx, report)
            rules.volume_unit_rules(p, ctx, report)
        elif name == "Targets":
            drop |= rules.pilot_rows_rules(p, ctx, report)
        elif name == "Lessons":
            drop |= rules.pilot_rows_rules(p, ctx, report)
            drop |= rules.quarter_rules(p, ctx, report, check_start=False)
            drop |= rules.lessons_rules(p, ctx, report)
        elif name == "Rates":
            drop |= rules.rates_rules(p, report)
        rows = [i for i in p.rows if i not in drop] if drop else p.rows
        if name == "Indicators":
            df, long_rows, tables.indicator_keys = _indicators_long(p, rows)
            rules.outlier_rules(long_rows, p, ctx, report)
            tables[name] = df
        else:
            tables[name] = _frame(p, rows, extra)
    report.problems.sort(key=_problem_order(sheet_names))
    return CheckedWorkbook(report, tables, sheet_names, read.kind)
