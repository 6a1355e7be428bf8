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


def is_illustrative(portfolio: "Portfolio") -> bool:
    """Whether the data is the illustrative demo data, not real pilot results: the one
    answer the app's badge, the Presentation page, the deck and the report give. The data
    carries the demo generator's mark (its benchmarks' source), so the answer travels with
    the data: a rolled-back demo has no benchmarks left, a demo file imported again keeps it."""
    b = portfolio.benchmarks
    return bool(len(b)) and bool((b["source"].astype(str) == ILLUSTRATIVE_SOURCE).any())


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

    def indicator_codes(self) -> "IndicatorCodes":
        """The indicator values as integer codes, computed once per portfolio: the
        importer's rules and the store's preview look stored values up with them.
        Safe to call from two threads (at worst computed twice)."""
        codes = self._memo.get("indicator_codes")
        if codes is None:
            codes = self._memo["indicator_codes"] = indicator_codes(self.indicators)
        return codes

    def filtered(self, flt: Filter) -> "Portfolio":
        """The pilots that match the filter and every row that belongs to them.
        Benchmarks are kept for the countries of those pilots; rates are kept whole.
        When every indicator row is kept, the part shares what was computed from them."""
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
        pilots = p[mask]
        ids = set(pilots["pilot_id"])
        keep = lambda df: df[df["pilot_id"].isin(ids)]  # noqa: E731
        indicators = keep(self.indicators)
        part = replace(
            self,
            pilots=pilots,
            milestones=keep(self.milestones),
            indicators=indicators,
            targets=keep(self.targets),
            lessons=keep(self.lessons),
            benchmarks=self.benchmarks[self.benchmarks["country"].isin(set(pilots["country"]))],
            data_version=None,
        )
        if len(indicators) == len(self.indicators):  # the same indicator rows: the same views
            object.__setattr__(part, "_memo", self._memo)
        return part

    def quarters(self) -> list[str]:
        """Quarters with at least one indicator value, ascending."""
        return sorted(self.indicators["quarter"].dropna().unique().tolist())

    def latest_quarter(self) -> str | None:
        qs = self.quarters()
        return qs[-1] if qs else None

    def indicators_wide(self) -> pd.DataFrame:
        """One row per pilot and quarter, one column per numeric indicator (NaN where not
        reported), plus ``volume_unit``. Columns for every catalogue indicator exist even
        when no value does. Computed once per portfolio (a copy is returned)."""
        wide = self._memo.get("indicators_wide")
        if wide is None:
            wide = self._memo["indicators_wide"] = self._indicators_wide()
        return wide.copy()

    def _indicators_wide(self) -> pd.DataFrame:
        ind = self.indicators
        codes = catalogue.numeric_indicators()
        if ind.empty:
            wide = pd.DataFrame(columns=["pilot_id", "quarter", *codes, "volume_unit"])
            return wide.astype({c: "float64" for c in codes})
        num = ind[ind["indicator"] != "volume_unit"]
        wide = num.pivot_table(index=["pilot_id", "quarter"], columns="indicator",
                               values="value", aggfunc="first")
        units = ind[ind["indicator"] == "volume_unit"].set_index(["pilot_id", "quarter"])["text"]
        wide = wide.reindex(columns=codes).astype("float64")
        wide["volume_unit"] = units.reindex(wide.index) if not units.empty else None
        wide = wide.reset_index()
        wide.columns.name = None
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
