"""The data every page, figure, chart and export works on: one ``Portfolio`` of
pandas DataFrames in canonical columns, and the ``Filter`` the sidebar sets.

The store builds a Portfolio from the current (not superseded) rows; the demo
generator and the tests build them in code. Nothing here touches a database.

Frames and their columns (dates are ``datetime.date`` or None, quarters ``2017-Q1``):

- ``pilots``: the Pilots sheet columns + ``currency`` + ``country_name``
- ``milestones``: the Progress sheet columns; ``status`` is always filled (derived)
- ``indicators``: long form ``pilot_id, quarter, indicator, value, text``: one row per
  stored value; ``value`` is a float (NaN for ``volume_unit``), ``text`` only for
  ``volume_unit``
- ``targets``, ``lessons``, ``benchmarks``, ``rates``: the sheet columns
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from linkdash import catalogue
from linkdash.keys import run_factorize

FRAME_COLUMNS: dict[str, list[str]] = {
    "pilots": [c.code for c in catalogue.sheets()["Pilots"].all_columns] + ["country_name"],
    "milestones": catalogue.sheets()["Progress"].codes,
    "indicators": ["pilot_id", "quarter", "indicator", "value", "text"],
    "targets": catalogue.sheets()["Targets"].codes,
    "lessons": catalogue.sheets()["Lessons"].codes,
    "benchmarks": catalogue.sheets()["Benchmarks"].codes,
    "rates": catalogue.sheets()["Rates"].codes,
}


def empty_frame(name: str) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in FRAME_COLUMNS[name]})


@dataclass(frozen=True)
class Filter:
    """What the sidebar selects. An empty tuple means "all"."""

    regions: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()  # alpha-3
    value_chains: tuple[str, ...] = ()
    pilots: tuple[str, ...] = ()

    def describe(self) -> str:
        """The selection in words: ``Asia; Nepal; Goat meat`` (names, not codes)."""
        from linkdash import countries

        shown = (self.regions, tuple(countries.name(c) or c for c in self.countries),
                 tuple(catalogue.VALUE_CHAIN_LABELS.get(v, v) for v in self.value_chains),
                 self.pilots)
        parts = [", ".join(v) for v in shown if v]
        return "; ".join(parts) if parts else "all pilots"


# The mark of the illustrative demo data (``linkdash.demo``): the source of its benchmarks.
ILLUSTRATIVE_SOURCE = "illustrative demo data"


def is_illustrative(portfolio: Portfolio) -> bool:
    """Whether the data is the illustrative demo data, not real pilot results: the one
    answer the app's badge, the Presentation page, the deck and the report give. The data
    carries the demo generator's mark (its benchmarks' source), so the answer travels with
    the data: a rolled-back demo has no benchmarks left, a demo file imported again keeps it."""
    b = portfolio.benchmarks
    return bool(len(b)) and bool((b["source"].astype(str) == ILLUSTRATIVE_SOURCE).any())


# What is memoised on a portfolio and depends on its indicator rows alone: a part that
# keeps every indicator row shares these (anything that also depends on the pilots, such
# as a table with one row per pilot, is not shared). figures.py keeps the last two.
INDICATOR_VIEWS = frozenset({"indicator_codes", "indicators_wide", "quarters", "reported_counts",
                             "pilot_codes:indicators", "value_counts", "wide_rows_of"})


@dataclass(frozen=True)
class Portfolio:
    pilots: pd.DataFrame = field(default_factory=lambda: empty_frame("pilots"))
    milestones: pd.DataFrame = field(default_factory=lambda: empty_frame("milestones"))
    indicators: pd.DataFrame = field(default_factory=lambda: empty_frame("indicators"))
    targets: pd.DataFrame = field(default_factory=lambda: empty_frame("targets"))
    lessons: pd.DataFrame = field(default_factory=lambda: empty_frame("lessons"))
    benchmarks: pd.DataFrame = field(default_factory=lambda: empty_frame("benchmarks"))
    rates: pd.DataFrame = field(default_factory=lambda: empty_frame("rates"))
    # the store's data version these frames were read at (``Store.load``); None for a
    # portfolio built in code. Filtering keeps it off: a part is not the store's state.
    data_version: int | None = field(default=None, compare=False)
    # views of the indicators computed once (the frames are never changed in place); not an
    # __init__ field, so every new portfolio (``dataclasses.replace`` too) starts empty, but
    # a filtered part that keeps every indicator row shares it (only views of the
    # indicators go here)
    _memo: dict = field(default_factory=dict, init=False, compare=False, repr=False)

    def indicator_codes(self) -> IndicatorCodes:
        """The indicator values as integer codes, computed once per portfolio: the
        importer's rules and the store's preview look stored values up with them.
        Safe to call from two threads (at worst computed twice)."""
        codes = self._memo.get("indicator_codes")
        if codes is None:
            codes = self._memo["indicator_codes"] = indicator_codes(self.indicators)
        return codes

    def _once(self, name: str, make):
        """``make()`` computed once per portfolio (the frames never change in place);
        two threads may at worst compute it twice."""
        got = self._memo.get(name)
        if got is None:
            got = self._memo[name] = make()
        return got

    def _pilot_codes(self, frame: str) -> tuple[np.ndarray, np.ndarray]:
        """(codes, uniques) of a frame's ``pilot_id`` column, computed once: filtering
        a million indicator rows by pilot is then a lookup per row, not a string hash."""
        def make():
            col = getattr(self, frame)["pilot_id"].to_numpy(dtype=object)
            codes, uniques = run_factorize(col)
            return np.asarray(codes, dtype=np.int64), np.asarray(uniques, dtype=object)
        return self._once(f"pilot_codes:{frame}", make)

    def _rows_of(self, frame: str, ids: set) -> pd.DataFrame:
        df = getattr(self, frame)
        if len(df) < 20_000:
            return df[df["pilot_id"].isin(ids)]
        codes, uniques = self._pilot_codes(frame)
        chosen = np.fromiter((u in ids for u in uniques.tolist()), dtype=bool, count=len(uniques))
        mask = np.append(chosen, False)[codes]  # code -1 (a blank id) is never chosen
        return df[mask]

    # the filtered parts kept per portfolio (most recent last): the pages and every chart
    # and figure of one filter share one part and what is memoised on it
    PARTS_KEPT = 4

    def filtered(self, flt: Filter) -> Portfolio:
        """The pilots that match the filter and every row that belongs to them.
        Benchmarks are kept for the countries of those pilots; rates are kept whole.
        A filter that keeps every pilot gives this portfolio itself; otherwise the part
        is made once per filter (the last few are kept) and has no ``data_version`` (a
        part is not the store). When every indicator row is kept, the part shares what
        was computed from them."""
        if flt == Filter():
            return self
        parts = self._memo.setdefault("parts", {})
        part = parts.get(flt)
        if part is not None:
            return part
        p = self.pilots
        mask = pd.Series(True, index=p.index)
        if flt.regions:
            mask &= p["region"].isin(flt.regions)
        if flt.countries:
            mask &= p["country"].isin(flt.countries)
        if flt.value_chains:
            mask &= p["value_chain"].isin(flt.value_chains)
        if flt.pilots:
            mask &= p["pilot_id"].isin(flt.pilots)
        if bool(mask.all()):
            return self
        pilots = p[mask]
        ids = set(pilots["pilot_id"])
        indicators = self._rows_of("indicators", ids)
        part = replace(
            self,
            pilots=pilots,
            milestones=self._rows_of("milestones", ids),
            indicators=indicators,
            targets=self._rows_of("targets", ids),
            lessons=self._rows_of("lessons", ids),
            benchmarks=self.benchmarks[self.benchmarks["country"].isin(set(pilots["country"]))],
            data_version=None,
        )
        self._derive_views(part, ids)
        if len(indicators) == len(self.indicators):  # the same indicator rows: the same views
            # a copy first (one step for another thread): iterating the memo itself while
            # another session's run memoises a view fails ("dictionary changed size")
            shared = self._memo.copy()
            object.__setattr__(part, "_memo", {k: v for k, v in shared.items() if k in INDICATOR_VIEWS})
        parts[flt] = part
        while len(parts) > self.PARTS_KEPT:
            try:
                del parts[next(iter(parts))]
            except (KeyError, StopIteration, RuntimeError):  # another thread got there first
                break
        return part

    def _derive_views(self, part: Portfolio, ids: set) -> None:
        """A part's per-pilot views are rows of this portfolio's (each pilot's rows
        depend on its own values only): taken from them when they exist."""
        wide = self._memo.get("indicators_wide")
        if wide is not None:
            part._memo["indicators_wide"] = wide[wide["pilot_id"].isin(ids)].reset_index(drop=True)
        counts = self._memo.get("reported_counts")
        if counts is not None:
            rows = counts[counts.index.isin(ids)]
            part._memo["reported_counts"] = rows.loc[:, rows.to_numpy().any(axis=0)]

    def quarters(self) -> list[str]:
        """Quarters with at least one indicator value, ascending (a new list each call)."""
        # (the few unique values checked, not a dropna of every row: a filter's view runs this)
        return list(self._once("quarters", lambda: sorted(
            q for q in self.indicators["quarter"].unique().tolist() if isinstance(q, str))))

    def latest_quarter(self) -> str | None:
        """The latest quarter with any indicator value (a number, or a volume unit)."""
        qs = self.quarters()
        return qs[-1] if qs else None

    def last_reported(self, upto: str | None = None) -> dict[str, str]:
        """Each pilot's latest quarter with any indicator value (a number, or a volume
        unit), up to quarter ``upto`` (every quarter when None): pilot id -> quarter,
        pilots without any left out. The one per-pilot "latest quarter" (from
        ``reported_counts``)."""
        counts = self.reported_counts()
        cols = np.asarray(counts.columns, dtype=object)
        has = counts.to_numpy() > 0
        if upto is not None:
            has, cols = has[:, cols <= upto], cols[cols <= upto]
        rows = has.any(axis=1) if has.size else np.zeros(len(has), dtype=bool)
        if not rows.any():
            return {}
        last = has.shape[1] - 1 - np.argmax(has[rows][:, ::-1], axis=1)
        return dict(zip(counts.index[rows].tolist(), cols[last].tolist()))

    def reported_counts(self) -> pd.DataFrame:
        """Pilot x quarter: how many indicator values (a number, or the text of
        ``volume_unit``) each pilot gave for each quarter. Index: the pilot ids with any
        (sorted), columns: the quarters with any (ascending); ints, 0 for none. Computed
        once per portfolio; shared, so never change it."""
        return self._once("reported_counts", self._reported_counts)

    def _reported_counts(self) -> pd.DataFrame:
        ind = self.indicators
        has = (ind["value"].notna() | ind["text"].notna()).to_numpy() if len(ind) else np.zeros(0, bool)
        if not has.any():
            return pd.DataFrame(np.zeros((0, 0), dtype=np.int64),
                                index=pd.Index([], dtype=object, name="pilot_id"),
                                columns=pd.Index([], dtype=object, name="quarter"))
        pid, pid_u = self._pilot_codes("indicators")
        q, q_u = pd.factorize(ind["quarter"].to_numpy(dtype=object))
        keep = has & (pid >= 0) & (q >= 0)
        n_q = len(q_u)
        counts = np.bincount(pid[keep] * n_q + q[keep], minlength=len(pid_u) * n_q).reshape(len(pid_u), n_q)
        rows, cols = counts.any(axis=1), counts.any(axis=0)
        p_order = np.argsort(pid_u[rows].astype(str), kind="stable")
        q_order = np.argsort(np.asarray(q_u, dtype=object)[cols].astype(str), kind="stable")
        out = counts[rows][:, cols][p_order][:, q_order]
        return pd.DataFrame(out, index=pd.Index(pid_u[rows][p_order], dtype=object, name="pilot_id"),
                            columns=pd.Index(np.asarray(q_u, dtype=object)[cols][q_order], dtype=object,
                                             name="quarter"))

    def indicators_wide(self, *, copy: bool = True) -> pd.DataFrame:
        """One row per pilot and quarter, one column per numeric indicator (NaN where not
        reported), plus ``volume_unit``. Columns for every catalogue indicator exist even
        when no value does. Computed once per portfolio; a copy is returned, or with
        ``copy=False`` the shared frame itself, for reading only (at 1,000 pilots it is
        40,000 rows, and the figures of a page read it many times)."""
        wide = self._once("indicators_wide", self._indicators_wide)
        return wide.copy() if copy else wide

    def _indicators_wide(self) -> pd.DataFrame:
        """Rows: every (pilot, quarter) with a numeric value, sorted by pilot and quarter;
        the first value of a repeated key counts. Built from integer codes (a scatter into
        one array), not a pivot of strings."""
        ind = self.indicators
        codes = catalogue.numeric_indicators()
        empty = pd.DataFrame(columns=["pilot_id", "quarter", *codes, "volume_unit"])
        empty = empty.astype({c: "float64" for c in codes})
        if ind.empty:
            return empty
        col_of = {c: i for i, c in enumerate(codes)}
        names = ind["indicator"].to_numpy(dtype=object)
        i_codes, i_u = pd.factorize(names)
        col = np.array([col_of.get(u, -1) if isinstance(u, str) else -1 for u in i_u.tolist()] + [-1],
                       dtype=np.int64)[i_codes]
        is_unit = np.append(np.asarray([u == "volume_unit" for u in i_u.tolist()], dtype=bool),
                            False)[i_codes]
        value = ind["value"].to_numpy(dtype="float64", na_value=np.nan)
        pid, pid_u = self._pilot_codes("indicators")
        q, q_u = pd.factorize(ind["quarter"].to_numpy(dtype=object))
        ok = (pid >= 0) & (q >= 0)
        num = ok & (col >= 0) & ~np.isnan(value)
        if not num.any():
            return empty
        n_q = len(q_u)
        pair = pid * n_q + q
        present = np.zeros(len(pid_u) * n_q, dtype=bool)
        present[pair[num]] = True
        # rows in (pilot id, quarter) order
        p_rank = np.empty(len(pid_u), dtype=np.int64)
        p_rank[np.argsort(pid_u.astype(str), kind="stable")] = np.arange(len(pid_u))
        q_rank = np.empty(n_q, dtype=np.int64)
        q_rank[np.argsort(np.asarray(q_u, dtype=object).astype(str), kind="stable")] = np.arange(n_q)
        pairs = np.flatnonzero(present)
        order = np.argsort(p_rank[pairs // n_q] * n_q + q_rank[pairs % n_q], kind="stable")
        pairs = pairs[order]
        row_of = np.full(len(present), -1, dtype=np.int64)
        row_of[pairs] = np.arange(len(pairs))
        mat = np.full((len(pairs), len(codes)), np.nan)
        take = np.flatnonzero(num)[::-1]  # reversed: the first of repeated keys is written last
        mat[row_of[pair[take]], col[take]] = value[take]
        unit = np.full(len(pairs), None, dtype=object)
        has_unit = ok & is_unit
        if has_unit.any():
            u_idx = np.flatnonzero(has_unit)[::-1]
            rows = row_of[pair[u_idx]]
            found = rows >= 0
            unit[rows[found]] = ind["text"].to_numpy(dtype=object)[u_idx[found]]
        wide = pd.DataFrame(mat, columns=codes)
        wide.insert(0, "quarter", pd.Series(np.asarray(q_u, dtype=object)[pairs % n_q], dtype=object))
        wide.insert(0, "pilot_id", pd.Series(pid_u[pairs // n_q], dtype=object))
        wide["volume_unit"] = pd.Series(unit, dtype=object)
        return wide


# --- the indicator values as codes ----------------------------------------------------

@dataclass
class IndicatorCodes:
    """An indicators frame as integer codes, row for row (independent of any file)."""

    pid: np.ndarray  # index into pid_uniq
    pid_uniq: np.ndarray  # distinct pilot ids (text)
    q: np.ndarray  # index into q_uniq
    q_uniq: np.ndarray  # distinct quarters (text)
    ind: np.ndarray  # place of the indicator in the catalogue, -1 when unknown
    value: np.ndarray  # float, NaN for none
    text: np.ndarray  # object: the text as stored (str), None for none


def text_array(arr: np.ndarray) -> np.ndarray:
    """Object array -> text as the store holds it: str values, None for blank (None, NaN,
    pd.NA); the array itself when it is all text already."""
    if pd.api.types.infer_dtype(arr, skipna=False) == "string":
        return arr
    out = np.full(len(arr), None, dtype=object)
    given = ~pd.isna(arr)
    vals = arr[given]
    if pd.api.types.infer_dtype(vals, skipna=False) != "string":
        vals = np.array([str(v) for v in vals.tolist()] + [None], dtype=object)[:-1]
    out[given] = vals
    return out


def indicator_codes(ind: pd.DataFrame | None) -> IndicatorCodes:
    """``IndicatorCodes`` of an indicators frame (``pilot_id, quarter, indicator,
    value, text``)."""
    if ind is None or not len(ind):
        e = np.empty(0, dtype=np.int64)
        o = np.empty(0, dtype=object)
        return IndicatorCodes(e, o, e, o, e, np.empty(0), o)
    pid, pid_uniq = run_factorize(ind["pilot_id"].to_numpy(dtype=object))
    q, q_uniq = run_factorize(ind["quarter"].to_numpy(dtype=object))
    # few distinct indicators: a dict lookup per value is cheaper than factorising
    names = ind["indicator"].to_numpy(dtype=object)
    get = catalogue.indicator_index().get
    try:
        i_idx = np.fromiter(map(get, names, itertools.repeat(-1)), dtype=np.int64, count=len(names))
    except TypeError:  # an unhashable value
        i_idx = np.array([get(c, -1) if isinstance(c, str) else -1 for c in names.tolist()],
                         dtype=np.int64)
    value = pd.to_numeric(ind["value"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    text = (text_array(ind["text"].to_numpy(dtype=object)) if "text" in ind.columns
            else np.full(len(ind), None, dtype=object))
    return IndicatorCodes(pid, text_array(np.asarray(pid_uniq, dtype=object)), q,
                          text_array(np.asarray(q_uniq, dtype=object)), i_idx, value, text)
