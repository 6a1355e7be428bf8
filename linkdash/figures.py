"""The portfolio figures: every number a page, an export or the command line shows.

The spec (``Portfolio figures`` in ``shared/spec/workbook.md``) defines each figure for a
quarter Q, a filter and an as-of date. Each figure has one function here, and
``portfolio_figures`` puts them together, so pages, deck, report and ``python -m linkdash
summary`` always agree.

The rules that matter:

- a pilot that did not report for Q counts as not reporting: never as zero, and never with
  an older quarter's value carried forward;
- a figure with nothing to compute it from is None (shown as "no data"); a sum over no
  values is None, not 0; counts of pilots and milestones are counts (0 is a count);
- shares are fractions 0..1 (unrounded), over the pilots that gave both numbers for Q;
  the average income is weighted by households reached, over pilots that gave both.

Per-pilot building blocks the charts reuse: ``pilot_quarter_table``,
``figures_by_quarter``, ``milestone_status_as_of``, ``reporting_grid``; display:
``format_figure`` and the ``FIGURES`` catalogue.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from linkdash import catalogue, quarters
from linkdash.names import pilot_names
from linkdash.portfolio import Filter, Portfolio
from linkdash.values import as_date, same_number

# --- the catalogue ------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    name: str
    label: str
    unit: str
    kind: str  # count | share | money
    definition: str


def _fig(name: str, label: str, unit: str, kind: str, definition: str) -> tuple[str, Figure]:
    return name, Figure(name, label, unit, kind, definition)


_BOTH = "over the pilots that gave both numbers for the quarter"

FIGURES: dict[str, Figure] = dict([
    _fig("pilots_total", "Pilots", "pilots", "count",
         "Pilots in the filter, whatever their dates."),
    _fig("pilots_reporting", "Pilots reporting", "pilots", "count",
         "Pilots with at least one Indicators value for the quarter. A pilot that did not report "
         "counts as not reporting: never as zero, never with an older quarter's value."),
    _fig("households_reached", "Households reached", "households", "count",
         "Sum of households taking part, over the pilots that reported it for the quarter."),
    _fig("participants_total", "Participants", "people", "count",
         "Sum of people trained or engaged in the quarter, over the pilots that reported it."),
    _fig("women_share_participants", "Women among participants", "share of participants", "share",
         f"Sum of women participants / sum of all participants, {_BOTH}."),
    _fig("youth_share_participants", "Youth among participants", "share of participants", "share",
         f"Sum of youth (15 to 35) participants / sum of all participants, {_BOTH}."),
    _fig("women_share_members", "Women among members", "share of members", "share",
         f"Sum of women members / sum of all members of the producer organisations, {_BOTH}."),
    _fig("youth_share_members", "Youth among members", "share of members", "share",
         f"Sum of youth (15 to 35) members / sum of all members, {_BOTH}."),
    _fig("women_share_leaders", "Women in leadership", "share of board and committee seats", "share",
         f"Sum of seats held by women / sum of all board and committee seats, {_BOTH}."),
    _fig("income_avg_usd", "Average household income", "USD per household per year", "money",
         "Average annual net household income from the value chain, weighted by households "
         f"reached: sum of (income x households) / sum of households, {_BOTH}."),
    _fig("share_above_living_income", "Households above living income", "share of surveyed households",
         "share",
         "Surveyed households above the country's living-income benchmark / households surveyed, "
         f"{_BOTH}."),
    _fig("sales_usd", "Sales", "USD in the quarter", "money",
         "Sum of sales through the producer organisations in the quarter, over the pilots that reported it."),
    _fig("milestones_completed", "Milestones completed", "milestones", "count",
         "Milestones of the filter's pilots with an actual end on or before the as-of date."),
    _fig("milestones_overdue", "Milestones overdue", "milestones", "count",
         "Milestones of the filter's pilots whose planned end is before the as-of date and that "
         "were neither completed by then nor dropped."),
])
FIGURE_NAMES: tuple[str, ...] = tuple(FIGURES)

# share figure -> (part, total) indicator codes
SHARES: dict[str, tuple[str, str]] = {
    "women_share_participants": ("participants_women", "participants_total"),
    "youth_share_participants": ("participants_youth", "participants_total"),
    "women_share_members": ("members_women", "members_total"),
    "youth_share_members": ("members_youth", "members_total"),
    "women_share_leaders": ("leaders_women", "leaders_total"),
    "share_above_living_income": ("hh_above_living_income", "hh_surveyed"),
}
SUMS = ("households_reached", "participants_total", "sales_usd")


# --- small helpers ----------------------------------------------------------------------

def _native(v):
    """numpy scalars -> Python; NaN -> None."""
    if v is None:
        return None
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def latest_quarter(portfolio: Portfolio) -> str | None:
    """The latest quarter with any Indicators value in this portfolio (filter it first):
    ``Portfolio.latest_quarter``, the one definition."""
    return portfolio.latest_quarter()


# --- per-pilot tables -------------------------------------------------------------------

PILOT_COLUMNS = ("pilot_id", "pilot_name", "country", "country_name", "region", "value_chain")


def _benchmarks_by_country(benchmarks: pd.DataFrame | None) -> dict[str, list[tuple[int, float]]]:
    """country -> [(year, living income)] ascending, skipping blanks."""
    out: dict[str, list[tuple[int, float]]] = {}
    if benchmarks is None or benchmarks.empty:
        return out
    years = pd.to_numeric(benchmarks["year"], errors="coerce")
    vals = pd.to_numeric(benchmarks["living_income_usd"], errors="coerce")
    for c, y, v in zip(benchmarks["country"], years, vals):
        if not (math.isnan(y) or math.isnan(v)):
            out.setdefault(c, []).append((int(y), float(v)))
    for lst in out.values():
        lst.sort()
    return out


def _benchmark(by_country: dict[str, list[tuple[int, float]]], country, year: int) -> tuple[float, float]:
    """The living-income benchmark of a country for a year: that year's, else the latest
    earlier one; (nan, nan) when there is none."""
    for y, v in reversed(by_country.get(country, [])):
        if y <= year:
            return v, float(y)
    return math.nan, math.nan


def _quarter_rows(portfolio: Portfolio, wide: pd.DataFrame, counts: _QuarterCounts,
                  quarter: str | None, bench: dict | None = None) -> pd.DataFrame:
    pilots = portfolio.pilots
    ids = pilots["pilot_id"].tolist()
    n_rows = len(ids)
    data: dict[str, Any] = {
        c: pd.Series(pilots[c].tolist() if c in pilots.columns else [None] * n_rows, dtype=object)
        for c in PILOT_COLUMNS}
    codes = catalogue.numeric_indicators()
    if quarter is not None and not wide.empty:
        wq = wide.iloc[_wide_rows_of(portfolio, wide).get(quarter, [])].set_index("pilot_id")
        wq = wq[~wq.index.duplicated()].reindex(pd.Index(ids, dtype=object))
    else:
        wq = pd.DataFrame(index=pd.Index(ids, dtype=object), columns=[*codes, "volume_unit"])
    for c in codes:
        data[c] = pd.to_numeric(wq[c], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    data["volume_unit"] = pd.Series(wq["volume_unit"].tolist(), dtype=object)
    data["quarter"] = pd.Series([quarter] * n_rows, dtype=object)
    n = counts.get(quarter) if quarter is not None else None
    reported = (n.reindex(pd.Index(ids, dtype=object)).fillna(0).to_numpy(dtype=int) if n is not None
                else np.zeros(n_rows, dtype=int))
    data["values_reported"] = reported
    data["reporting"] = reported > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        for name, (part, total_) in SHARES.items():
            a, b = data[part], data[total_]
            data[name] = np.where(~np.isnan(a) & ~np.isnan(b) & (b > 0), a / b, np.nan)
        if bench is None:
            bench = _benchmarks_by_country(portfolio.benchmarks)
        year = quarters.split(quarter)[0] if quarter else None
        per_country = {c: _benchmark(bench, c, year) if year else (math.nan, math.nan)
                       for c in set(data["country"].tolist())}  # once per country, not per pilot
        li = [per_country[c] for c in data["country"].tolist()]
        data["living_income_usd"] = np.array([v for v, _ in li], dtype="float64")
        data["living_income_year"] = pd.array([None if math.isnan(y) else int(y) for _, y in li],
                                              dtype="Int64")
        data["income_to_living_income"] = data["income_avg_usd"] / data["living_income_usd"]
    return pd.DataFrame(data)


def _wide_rows_of(portfolio: Portfolio, wide: pd.DataFrame) -> dict[str, np.ndarray]:
    """quarter -> positions of its rows in ``wide`` (the portfolio's ``indicators_wide``,
    whose rows are always in the same order), found once per portfolio instead of by
    comparing every row once per quarter."""
    got = portfolio._memo.get("wide_rows_of")
    if got is None or got[0] != len(wide):
        codes, uniques = pd.factorize(wide["quarter"].to_numpy(dtype=object))
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
        got = portfolio._memo["wide_rows_of"] = (
            len(wide), {q: order[bounds[i]:bounds[i + 1]] for i, q in enumerate(uniques.tolist())})
    return got[1]


def _per_portfolio(portfolio: Portfolio, key: tuple, make) -> pd.DataFrame:
    """A table computed once per portfolio and key (the trend charts of one page and
    filter ask for the same quarters); each caller gets its own copy."""
    memo = portfolio._memo.setdefault("tables", {})
    if key not in memo:
        memo[key] = make()
    return memo[key].copy()


class _QuarterCounts:
    """Values reported per pilot for each quarter (``get(quarter)``: a Series of the
    pilots with any, by pilot id), each quarter's made when first asked for: a page asks
    for one or two of 40, and a new filter's part (or a story's view) made all 40."""

    def __init__(self, counts: pd.DataFrame):
        self._counts = counts
        self._column = {q: i for i, q in enumerate(counts.columns)}
        self._values = counts.to_numpy()
        self._made: dict[str, pd.Series] = {}

    def get(self, quarter: str, default: pd.Series | None = None) -> pd.Series | None:
        i = self._column.get(quarter)
        if i is None:
            return default
        got = self._made.get(quarter)
        if got is None:
            col = self._values[:, i]
            keep = col > 0
            got = self._made[quarter] = pd.Series(col[keep], index=self._counts.index[keep], name=quarter)
        return got


def _value_counts(portfolio: Portfolio) -> _QuarterCounts:
    """Values reported per quarter and pilot, once per portfolio (each quarter when asked)."""
    counts = portfolio._memo.get("value_counts")
    if counts is None:
        # pilot x quarter, memoised on the portfolio
        counts = portfolio._memo["value_counts"] = _QuarterCounts(portfolio.reported_counts())
    return counts


def pilot_quarter_table(portfolio: Portfolio, quarter: str | None) -> pd.DataFrame:
    """One row per pilot of ``portfolio`` (filter it first) for ``quarter``: the pilot's
    ``pilot_id, pilot_name, country, country_name, region, value_chain``, every numeric
    indicator as reported for that quarter (NaN when not reported: never carried
    forward), ``volume_unit``, ``values_reported`` (how many values), ``reporting``, the
    per-pilot shares (``women_share_participants`` ... ``share_above_living_income``, NaN
    unless both numbers were given), ``living_income_usd`` (the country's benchmark for the
    quarter's year, else the latest earlier year; ``living_income_year`` says which) and
    ``income_to_living_income``."""
    return _per_portfolio(portfolio, ("pilot_quarter_table", quarter), lambda: _quarter_rows(
        portfolio, portfolio.indicators_wide(copy=False), _value_counts(portfolio), quarter))


# --- one function per figure ---------------------------------------------------------------
# Each takes the per-pilot table of a quarter (``pilot_quarter_table``) or the milestones.

def total(rows: pd.DataFrame, code: str) -> float | None:
    """Σ code over the pilots that reported it; None when none did."""
    s = rows[code].to_numpy(dtype="float64", na_value=np.nan)
    s = s[~np.isnan(s)]
    return float(s.sum()) if len(s) else None


def share(rows: pd.DataFrame, part: str, of: str) -> float | None:
    """Σ part / Σ of, over the pilots that gave both; None when none did or Σ of is 0."""
    a = rows[part].to_numpy(dtype="float64", na_value=np.nan)
    b = rows[of].to_numpy(dtype="float64", na_value=np.nan)
    both = ~np.isnan(a) & ~np.isnan(b)
    den = float(b[both].sum())
    if not both.any() or den <= 0:
        return None
    return float(a[both].sum()) / den


def pilots_total(rows: pd.DataFrame) -> int:
    return int(len(rows))


def pilots_reporting(rows: pd.DataFrame) -> int:
    return int(rows["reporting"].sum()) if len(rows) else 0


def households_reached(rows: pd.DataFrame) -> float | None:
    return total(rows, "households_reached")


def participants_total(rows: pd.DataFrame) -> float | None:
    return total(rows, "participants_total")


def women_share_participants(rows: pd.DataFrame) -> float | None:
    return share(rows, *SHARES["women_share_participants"])


def youth_share_participants(rows: pd.DataFrame) -> float | None:
    return share(rows, *SHARES["youth_share_participants"])


def women_share_members(rows: pd.DataFrame) -> float | None:
    return share(rows, *SHARES["women_share_members"])


def youth_share_members(rows: pd.DataFrame) -> float | None:
    return share(rows, *SHARES["youth_share_members"])


def women_share_leaders(rows: pd.DataFrame) -> float | None:
    return share(rows, *SHARES["women_share_leaders"])


def income_avg_usd(rows: pd.DataFrame) -> float | None:
    """Σ (income × households) / Σ households over the pilots that gave both."""
    return _income_avg_usd(rows["income_avg_usd"].to_numpy(dtype="float64", na_value=np.nan),
                           rows["households_reached"].to_numpy(dtype="float64", na_value=np.nan))


def _income_avg_usd(inc: np.ndarray, hh: np.ndarray) -> float | None:
    """``income_avg_usd`` of the pilots' income and households reached as arrays (NaN where
    not given), in the pilots' order: the one definition."""
    both = ~np.isnan(inc) & ~np.isnan(hh)
    den = float(hh[both].sum())
    if not both.any() or den <= 0:
        return None
    return float((inc[both] * hh[both]).sum() / den)


def income_against_living_income(rows: pd.DataFrame) -> dict:
    """Average household income against the living-income benchmark, over the pilots of
    ``rows`` (a ``pilot_quarter_table``) that gave income and households reached and
    whose country has a benchmark: both weighted by households reached, so that one
    pilot's income meets its own country's benchmark. Returns ``income``, ``benchmark``
    (USD per household per year), ``ratio`` (income / benchmark), ``gap`` (benchmark
    minus income; negative above it) and ``pilots`` (how many); None where nothing to
    compute from."""
    return _income_against_living_income(
        rows["income_avg_usd"].to_numpy(dtype="float64", na_value=np.nan),
        rows["households_reached"].to_numpy(dtype="float64", na_value=np.nan),
        rows["living_income_usd"].to_numpy(dtype="float64", na_value=np.nan))


def _income_against_living_income(inc: np.ndarray, hh: np.ndarray, li: np.ndarray) -> dict:
    """``income_against_living_income`` of the pilots' income, households reached and
    benchmark as arrays (NaN where not given), in the pilots' order: the one definition."""
    ok = ~np.isnan(inc) & ~np.isnan(hh) & ~np.isnan(li) & (li > 0)
    den = float(hh[ok].sum())
    if not ok.any() or den <= 0:
        return {"income": None, "benchmark": None, "ratio": None, "gap": None, "pilots": 0}
    income = float((inc[ok] * hh[ok]).sum() / den)
    bench = float((li[ok] * hh[ok]).sum() / den)
    return {"income": income, "benchmark": bench, "ratio": income / bench, "gap": bench - income,
            "pilots": int(ok.sum())}


INCOME_AGAINST_COLUMNS = ["quarter", "income", "benchmark", "ratio", "gap", "pilots"]


def _income_grid(portfolio: Portfolio, qs: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(income, households reached, living-income benchmark): pilot x quarter arrays of
    float (NaN where not reported or no benchmark), rows in the order of
    ``portfolio.pilots``, columns those of ``qs``; a quarter's value of a pilot is its
    first row in ``indicators_wide`` (as ``pilot_quarter_table`` takes it), the
    benchmark its country's for the quarter's year (else the latest earlier year)."""
    wide = portfolio.indicators_wide(copy=False)
    pilots = portfolio.pilots
    n, n_q = len(pilots), len(qs)
    inc, hh = np.full((n, n_q), np.nan), np.full((n, n_q), np.nan)
    if len(wide) and n and n_q:
        place = pd.Index(pilots["pilot_id"].tolist(), dtype=object).get_indexer(
            wide["pilot_id"].to_numpy(dtype=object))
        column = pd.Index(list(qs), dtype=object).get_indexer(wide["quarter"].to_numpy(dtype=object))
        keep = np.flatnonzero((place >= 0) & (column >= 0))[::-1]  # reversed: the first row wins
        for out, code in ((inc, "income_avg_usd"), (hh, "households_reached")):
            col = pd.to_numeric(wide[code], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
            out[place[keep], column[keep]] = col[keep]
    countries = pilots["country"].tolist()
    per_country = benchmarks_by_quarter(portfolio, countries, qs)
    li = np.array([per_country[c] for c in countries], dtype="float64").reshape(n, n_q)
    return inc, hh, li


def benchmarks_by_quarter(portfolio: Portfolio, countries, qs: list[str]) -> dict[object, list[float]]:
    """Each of ``countries``' living-income benchmark for each quarter of ``qs`` (NaN where
    none): the quarter's year's, else the latest earlier year's (``_benchmark``, as every
    figure applies it); looked up once per country and year."""
    bench = _benchmarks_by_country(portfolio.benchmarks)
    years = [quarters.split(q)[0] for q in qs]
    out = {}
    for c in set(countries):
        of_year = {y: _benchmark(bench, c, y)[0] for y in set(years)}
        out[c] = [of_year[y] for y in years]
    return out


def income_against_living_income_by_quarter(portfolio: Portfolio, qs: list[str]) -> pd.DataFrame:
    """``income_against_living_income`` for each quarter of ``qs``: columns ``quarter,
    income, benchmark, ratio, gap, pilots``."""
    def make() -> pd.DataFrame:
        # the three numbers it needs per pilot and quarter, in the pilots' order: the same
        # numbers as each quarter's pilot_quarter_table gives, without building those tables
        inc, hh, li = _income_grid(portfolio, qs)
        records = [{"quarter": q, **_income_against_living_income(inc[:, j], hh[:, j], li[:, j])}
                   for j, q in enumerate(qs)]
        return pd.DataFrame(records, columns=INCOME_AGAINST_COLUMNS)

    return _per_portfolio(portfolio, ("income_against_living_income_by_quarter", tuple(qs)), make)


def income_avg_usd_by_quarter(portfolio: Portfolio, qs: list[str]) -> list[float | None]:
    """The figure ``income_avg_usd`` for each quarter of ``qs`` (as ``figures_by_quarter``
    gives it), from one pilot x quarter grid instead of a table of the pilots per quarter;
    once per portfolio and quarters."""
    def make() -> pd.DataFrame:
        inc, hh, _ = _income_grid(portfolio, qs)
        return pd.DataFrame({"value": [_income_avg_usd(inc[:, j], hh[:, j]) for j in range(len(qs))]},
                            dtype=object)

    return _per_portfolio(portfolio, ("income_avg_usd_by_quarter", tuple(qs)), make)["value"].tolist()


def income_against_living_income_by_group(portfolio: Portfolio, group_of: dict[str, object],
                                          qs: list[str]) -> pd.DataFrame:
    """``income_against_living_income_by_quarter`` of each group of pilots (``group_of``:
    pilot id -> its group; pilots not in it belong to none) in one pass over the
    portfolio's rows: the same numbers as that function gives on each group's part of the
    portfolio (``portfolio.filtered(Filter(pilots=...))``), without making the parts.
    Columns ``group, quarter, income, benchmark, ratio, gap, pilots``, a row for each
    group (in the order of first appearance in ``group_of``) and quarter of ``qs``."""
    inc, hh, li = _income_grid(portfolio, qs)
    of_pilot = [group_of.get(p) for p in portfolio.pilots["pilot_id"].tolist()]
    groups = list(dict.fromkeys(g for g in group_of.values() if g is not None))
    records = []
    for g in groups:
        rows = np.flatnonzero(np.fromiter((x == g for x in of_pilot), dtype=bool, count=len(of_pilot)))
        # each quarter's pilots as one column, in the pilots' order (as the group's part has them)
        g_inc, g_hh, g_li = inc[rows].T.copy(), hh[rows].T.copy(), li[rows].T.copy()
        records += [{"group": g, "quarter": q,
                     **_income_against_living_income(g_inc[j], g_hh[j], g_li[j])}
                    for j, q in enumerate(qs)]
    return pd.DataFrame(records, columns=["group", *INCOME_AGAINST_COLUMNS])


def living_income_ranking(portfolio: Portfolio, quarter: str) -> pd.DataFrame:
    """The pilots of ``portfolio`` that gave an average household income for ``quarter``
    and have a living-income benchmark, lowest income against the benchmark first (ties by
    name): ``pilot_id, name, region, income_avg_usd, living_income_usd,
    living_income_year, ratio`` (income ÷ benchmark). The ranking of the Outcomes page's
    chart and of the pilots that get a slide when there are many."""
    t = pilot_quarter_table(portfolio, quarter)
    if "pilot_id" not in t.columns and t.index.name == "pilot_id":
        t = t.reset_index()
    cols = ["pilot_id", "region", "income_avg_usd", "living_income_usd", "living_income_year"]
    if t.empty:
        return pd.DataFrame(columns=[*cols, "ratio", "name"])
    inc = pd.to_numeric(t["income_avg_usd"], errors="coerce")
    li = pd.to_numeric(t["living_income_usd"], errors="coerce")
    have = t[cols].assign(ratio=inc / li)[inc.notna() & li.notna() & (li > 0)]
    names = pilot_names(portfolio.pilots)
    have = have.assign(name=have["pilot_id"].map(lambda p: names.get(p, p)))
    return have.sort_values(["ratio", "name"], kind="stable")


def share_above_living_income(rows: pd.DataFrame) -> float | None:
    return share(rows, *SHARES["share_above_living_income"])


def sales_usd(rows: pd.DataFrame) -> float | None:
    return total(rows, "sales_usd")


MILESTONE_STATES = ("completed", "in_progress", "overdue", "not_started", "dropped")


# A slide's chart (the Presentation page's and the deck's) has a row per pilot up to this many
# pilots; beyond, a row per group of pilots, at most SLIDE_GROUPS_MAX rows: each row stays
# readable in the third of a 720 px projector that a slide's chart has.
SLIDE_ROWS_MAX = 20
SLIDE_GROUPS_MAX = 12


def slide_rows(portfolio: Portfolio) -> str:
    """What a slide's chart has a row for: ``pilot_id`` up to ``SLIDE_ROWS_MAX`` pilots;
    else the first of ``country``, ``region`` and ``value_chain`` that makes 2 to
    ``SLIDE_GROUPS_MAX`` rows (all pilots: the regions; one region: its countries or, with
    more, its value chains); else ``value_chain``."""
    p = portfolio.pilots
    if p["pilot_id"].nunique() <= SLIDE_ROWS_MAX:
        return "pilot_id"
    for by in ("country", "region", "value_chain"):
        if by in p.columns and 2 <= p[by].nunique() <= SLIDE_GROUPS_MAX:
            return by
    return "value_chain"


def group_label(portfolio: Portfolio, by: str, group: str) -> str:
    """A group's name with its number of pilots: "Kenya (12 pilots)", "Dairy cows (80
    pilots)"."""
    p = portfolio.pilots
    n = int((p[by] == group).sum())
    name = catalogue.VALUE_CHAIN_LABELS.get(group, group) if by == "value_chain" else group
    if by == "country" and "country_name" in p.columns:
        names = p.loc[p[by] == group, "country_name"].dropna()
        name = str(names.iloc[0]) if len(names) else group
    return f"{name} ({n:,} pilot{'s' if n != 1 else ''})"


def pilots_per_milestone_state(status: pd.DataFrame) -> pd.DataFrame:
    """How many pilots are in each state of each milestone: ``status`` is
    ``milestone_status_as_of``'s frame; rows: the nine milestones in the cycle's order,
    columns: ``MILESTONE_STATES`` (overdue counted apart from in progress and not started).
    The Progress page's summary chart and the slides' progress at many pilots count the same."""
    state = status["status_as_of"].where(~status["overdue"].fillna(False).astype(bool), "overdue")
    counts = pd.crosstab(status["milestone"], state) if len(status) else pd.DataFrame()
    return counts.reindex(index=list(catalogue.MILESTONES), columns=list(MILESTONE_STATES),
                          fill_value=0).astype(int)


def milestone_status_as_of(milestones: pd.DataFrame, as_of: dt.date | None = None) -> pd.DataFrame:
    """The milestones with, as of a date (default today):

    - ``status_as_of``: ``dropped`` when dropped; ``completed`` with an actual end on or
      before the date; ``in_progress`` with an actual start on or before it (or a stored
      ``in_progress`` without dates); else ``not_started``;
    - ``completed`` (bool), ``overdue`` (bool: planned end before the date, not completed by
      then, not dropped);
    - ``days_late``: for a completed milestone, days its actual end came after the planned
      end (0 when on time); otherwise days the planned end lies before the date (0 when not
      yet due); None without a planned end (or for dropped milestones)."""
    as_of = as_of or dt.date.today()
    out = milestones.copy()
    day = np.datetime64(as_of, "D")
    a_s, a_e, p_e = (_day_column(out[c]) for c in ("actual_start", "actual_end", "planned_end"))
    stored = out["status"].to_numpy(dtype=object)
    dropped = stored == "dropped"
    # (NaT compares False: a blank date is never on or before the date)
    done = a_e <= day
    started = (a_s <= day) | ((stored == "in_progress") & np.isnat(a_s))
    status = np.select([dropped, done, started], ["dropped", "completed", "in_progress"], "not_started")
    no_days = np.isnat(p_e) | dropped
    late = np.where(done, a_e - p_e, day - p_e)
    late = np.where(no_days, np.timedelta64(0, "D"), late).astype("timedelta64[D]").astype(np.int64)
    out["status_as_of"] = pd.Series(status.astype(object), index=out.index, dtype=object)
    out["completed"] = pd.Series(done, index=out.index, dtype=bool)
    out["overdue"] = pd.Series((p_e < day) & ~done & ~dropped, index=out.index, dtype=bool)
    out["days_late"] = pd.Series(pd.arrays.IntegerArray(np.maximum(late, 0), no_days), index=out.index)
    return out


def _day_column(values: pd.Series) -> np.ndarray:
    """A column of dates (``as_date``'s types: date, datetime, Timestamp, ISO text, blanks)
    as ``datetime64[D]``, NaT for a blank or unreadable one: each distinct value read once."""
    codes, distinct = pd.factorize(values.to_numpy(dtype=object), use_na_sentinel=True)
    days = np.array([np.datetime64(d, "D") if (d := as_date(v)) is not None else np.datetime64("NaT", "D")
                     for v in distinct] + [np.datetime64("NaT", "D")], dtype="datetime64[D]")
    return days[codes]  # the sentinel -1 picks the NaT appended last


def milestones_completed(status: pd.DataFrame) -> int:
    """Count over ``milestone_status_as_of`` output."""
    return int(status["completed"].sum()) if len(status) else 0


def milestones_overdue(status: pd.DataFrame) -> int:
    return int(status["overdue"].sum()) if len(status) else 0


_MILESTONE_FIGURES = {"milestones_completed": milestones_completed,
                      "milestones_overdue": milestones_overdue}


def _milestone_figures(status: pd.DataFrame, names: Collection[str] | None = None) -> dict:
    """The milestone figures (those of ``names``; all by default) over ``milestone_status_as_of``."""
    return {n: fn(status) for n, fn in _MILESTONE_FIGURES.items() if names is None or n in names}


def _milestone_figures_as_of(portfolio: Portfolio, as_of: dt.date) -> dict:
    """Every milestone figure of ``portfolio`` as of a date, once per portfolio and date
    (the KPI cards and the figures of one page ask for the same)."""
    memo = portfolio._memo.setdefault("milestone_figures", {})
    if as_of not in memo:
        memo[as_of] = _milestone_figures(milestone_status_as_of(portfolio.milestones, as_of))
    return dict(memo[as_of])


_ROW_FIGURES = {
    "pilots_total": pilots_total, "pilots_reporting": pilots_reporting,
    "households_reached": households_reached, "participants_total": participants_total,
    "women_share_participants": women_share_participants,
    "youth_share_participants": youth_share_participants,
    "women_share_members": women_share_members, "youth_share_members": youth_share_members,
    "women_share_leaders": women_share_leaders, "income_avg_usd": income_avg_usd,
    "share_above_living_income": share_above_living_income, "sales_usd": sales_usd,
}


def figure_of_rows(rows: pd.DataFrame, name: str) -> float | int | None:
    """One figure of ``portfolio_figures`` that comes from the pilots' rows of a quarter
    (``rows``: a ``pilot_quarter_table``), as ``portfolio_figures`` gives it, without
    computing the others; None for a name that is not one of them."""
    fn = _ROW_FIGURES.get(name)
    if fn is None:
        return None
    v = _native(fn(rows))
    if isinstance(v, float) and FIGURES[name].kind == "count" and v.is_integer():
        v = int(v)
    return v


def _figures_of_rows(rows: pd.DataFrame) -> dict:
    return {name: figure_of_rows(rows, name) for name in _ROW_FIGURES}


def portfolio_figures(portfolio: Portfolio, flt: Filter = Filter(), quarter: str | None = None,
                      as_of: dt.date | None = None) -> dict:
    """Every figure of the spec for a quarter (default: the latest with any Indicators value
    in the filter), a filter and an as-of date for the milestones (default today):
    ``{"quarter", "as_of", <figure name>: value, ...}``. Values are Python ints/floats or
    None ("no data")."""
    p = portfolio.filtered(flt)
    as_of = as_of or dt.date.today()
    if quarter is None:
        quarter = latest_quarter(p)
    rows = pilot_quarter_table(p, quarter)
    out: dict = {"quarter": quarter, "as_of": as_of}
    out.update(_figures_of_rows(rows))
    out.update(_milestone_figures_as_of(p, as_of))
    return out


# --- comparisons: the previous quarter, the targets, the direction that is good ------------

# +1: more is better; -1: less is better (problems); 0: neither (how many pilots there are)
GOOD_DIRECTION: dict[str, int] = {
    "pilots_total": 0, "pilots_reporting": 1, "households_reached": 1, "participants_total": 1,
    "women_share_participants": 1, "youth_share_participants": 1, "women_share_members": 1,
    "youth_share_members": 1, "women_share_leaders": 1, "income_avg_usd": 1,
    "share_above_living_income": 1, "sales_usd": 1, "milestones_completed": 1,
    "milestones_overdue": -1,
}

# Figures measured against the Targets sheet: the indicator of the same name, the pilots'
# targets added up ("sum") or weighted by households reached as the figure is ("weighted").
TARGETED: dict[str, str] = {"households_reached": "sum", "participants_total": "sum",
                            "sales_usd": "sum", "income_avg_usd": "weighted"}

# Counts of problems: their cards lead to the list behind them.
PROBLEM_COUNTS: dict[str, str] = {
    "milestones_overdue": "the overdue milestones",
    "pilots_reporting": "the pilots that did not report",
}


@dataclass(frozen=True)
class Change:
    """A figure for a quarter against the quarter before and against its target.

    ``delta`` is ``value - previous`` (shares: in fractions, so 0.03 is 3 points); None
    when either is None. ``good`` is the direction that counts as good (+1 more, -1
    less, 0 neither) and ``verdict`` says whether the change went that way ("better",
    "worse", "same"; None without a change or a direction). ``pilots`` and
    ``previous_pilots`` count the pilots each value is over (who reported), so a change
    that comes from who reported can be said. Against targets (``TARGETED``), over the
    pilots that have a target and gave the figure for the quarter: ``target`` (their
    targets added up, or weighted as the figure is), ``achieved`` (the figure over the
    same pilots), ``target_share`` (achieved / target), ``target_pilots`` (how many),
    ``targets_set`` (pilots of the filter with a target for it) and ``target_quarter``
    (the latest "by" quarter among them)."""

    name: str
    value: float | int | None
    previous: float | int | None = None
    quarter: str | None = None
    previous_quarter: str | None = None
    delta: float | None = None
    good: int = 0
    verdict: str | None = None
    pilots: int | None = None
    previous_pilots: int | None = None
    target: float | None = None
    achieved: float | None = None
    target_share: float | None = None
    target_pilots: int = 0
    targets_set: int = 0
    target_quarter: str | None = None
    as_of: dt.date | None = None
    previous_as_of: dt.date | None = None


def previous_as_of(as_of: dt.date) -> dt.date:
    """The date a milestone count is compared with: the last day of the quarter before
    the one ``as_of`` falls in (31 Dec 2018 -> 30 Sep 2018)."""
    return quarters.start_date(quarters.of_date(as_of)) - dt.timedelta(days=1)


def figure_pilots(rows: pd.DataFrame) -> dict[str, int]:
    """For each quarter figure, how many pilots of ``rows`` (a ``pilot_quarter_table``)
    it is computed over: those that reported (counts), gave the indicator (sums) or
    both numbers (shares, the average income)."""
    def has(*codes: str) -> int:
        ok = np.ones(len(rows), dtype=bool)
        for c in codes:
            ok &= ~np.isnan(rows[c].to_numpy(dtype="float64", na_value=np.nan))
        return int(ok.sum())

    out: dict[str, int] = {}
    for name in SUMS:
        out[name] = has(name)
    for name, (part, of) in SHARES.items():
        out[name] = has(part, of)
    out["income_avg_usd"] = has("income_avg_usd", "households_reached")
    return out


def _targets_of(portfolio: Portfolio, code: str) -> pd.DataFrame:
    """The Targets rows for one indicator with a target, one per pilot (the first)."""
    t = portfolio.targets
    if t.empty:
        return t
    t = t[(t["indicator"] == code) & pd.to_numeric(t["target"], errors="coerce").notna()]
    return t.drop_duplicates("pilot_id")


def figure_target(portfolio: Portfolio, rows: pd.DataFrame, name: str) -> dict:
    """A figure against the targets of its pilots (``TARGETED``), over the pilots of
    ``rows`` (a ``pilot_quarter_table``) that have a target and gave the figure for the
    quarter: ``target``, ``achieved``, ``target_share``, ``target_pilots``,
    ``targets_set`` and ``target_quarter`` (see ``Change``). Empty for a figure without
    targets."""
    how = TARGETED.get(name)
    if how is None:
        return {}
    t = _targets_of(portfolio, name)
    t = t[t["pilot_id"].isin(set(rows["pilot_id"]))]
    out: dict[str, Any] = {"targets_set": int(len(t))}
    if t.empty:
        return out
    goal = dict(zip(t["pilot_id"], pd.to_numeric(t["target"], errors="coerce")))
    by = dict(zip(t["pilot_id"], t["target_quarter"]))
    r = rows[rows["pilot_id"].isin(goal)]
    val = r[name].to_numpy(dtype="float64", na_value=np.nan)
    tgt = np.array([goal[p] for p in r["pilot_id"]], dtype="float64")
    if how == "weighted":
        hh = r["households_reached"].to_numpy(dtype="float64", na_value=np.nan)
        ok = ~np.isnan(val) & ~np.isnan(hh) & (hh > 0)
        if not ok.any():
            return out
        achieved = float((val[ok] * hh[ok]).sum() / hh[ok].sum())
        target = float((tgt[ok] * hh[ok]).sum() / hh[ok].sum())
    else:
        ok = ~np.isnan(val)
        if not ok.any():
            return out
        achieved, target = float(val[ok].sum()), float(tgt[ok].sum())
    ids = r["pilot_id"].to_numpy()[ok]
    qs = sorted(str(by[p]) for p in ids if isinstance(by.get(p), str))
    out.update(target=target, achieved=achieved,
               target_share=achieved / target if target > 0 else None,
               target_pilots=int(ok.sum()), target_quarter=qs[-1] if qs else None)
    return out


def _verdict(delta: float | None, good: int) -> str | None:
    if delta is None or not good:
        return None
    if same_number(delta, 0.0):
        return "same"
    return "better" if delta * good > 0 else "worse"


def figure_changes(portfolio: Portfolio, flt: Filter = Filter(), quarter: str | None = None,
                   as_of: dt.date | None = None) -> dict[str, Change]:
    """Every figure of ``portfolio_figures`` for the quarter (default: the latest with
    data in the filter) against the quarter before it and, where the Targets sheet
    sets one, against its target: ``{name: Change}``. Milestone counts compare the
    as-of date with the last day of the quarter before it (``previous_as_of``). The
    KPI cards of every page show these; the deck and the report may too."""
    p = portfolio.filtered(flt)
    as_of = as_of or dt.date.today()
    if quarter is None:
        quarter = latest_quarter(p)
    rows = pilot_quarter_table(p, quarter)
    now = _figures_of_rows(rows)
    prev_q = quarters.shift(quarter, -1) if quarter else None
    reported = p.reported_counts().columns  # the quarters with any value, ascending
    first = str(reported[0]) if len(reported) else None
    if prev_q is not None and first is not None and prev_q >= first:
        prev_rows = pilot_quarter_table(p, prev_q)
        before, before_n = _figures_of_rows(prev_rows), figure_pilots(prev_rows)
    else:
        prev_q, before, before_n = None, {}, {}
    now_n = figure_pilots(rows)
    before_as_of = previous_as_of(as_of)
    now.update(_milestone_figures_as_of(p, as_of))
    before.update(_milestone_figures_as_of(p, before_as_of))
    out: dict[str, Change] = {}
    for name in FIGURE_NAMES:
        v, b = now.get(name), before.get(name)
        delta = float(v) - float(b) if v is not None and b is not None else None
        good = GOOD_DIRECTION.get(name, 0)
        milestone = name.startswith("milestones_")
        out[name] = Change(
            name=name, value=v, previous=b, quarter=quarter,
            previous_quarter=None if milestone else prev_q, delta=delta, good=good,
            verdict=_verdict(delta, good), pilots=now_n.get(name), previous_pilots=before_n.get(name),
            as_of=as_of if milestone else None, previous_as_of=before_as_of if milestone else None,
            **figure_target(p, rows, name))
    return out


def pilots_not_reporting(portfolio: Portfolio, quarter: str | None) -> pd.DataFrame:
    """The list behind "Pilots reporting": the pilots of ``portfolio`` (filter it first)
    that gave no Indicators value for ``quarter``, with the last quarter each did report
    (None: never): columns ``pilot_id, pilot_name, country_name, last_reported``, the
    longest silent first."""
    cols = ["pilot_id", "pilot_name", "country_name", "last_reported"]
    p = portfolio.pilots
    if p.empty or quarter is None:
        return pd.DataFrame(columns=cols)
    counts = _value_counts(portfolio).get(quarter)
    reported = set(counts.index) if counts is not None else set()
    out = p[~p["pilot_id"].isin(reported)][["pilot_id", "pilot_name", "country_name"]].copy()
    out["last_reported"] = out["pilot_id"].map(portfolio.last_reported(upto=quarter)).astype(object)
    out["last_reported"] = out["last_reported"].where(out["last_reported"].notna(), None)
    out = out.sort_values(["last_reported", "pilot_name"], na_position="first", kind="stable")
    return out[cols].reset_index(drop=True)


def format_change(name: str, delta: float | None) -> str | None:
    """A change for a card: ``"+812"``, ``"-1.2k"``, ``"+3 pts"`` (shares, in percentage
    points), ``"+$120"``; None without one."""
    delta = _native(delta)
    if delta is None:
        return None
    sign = "+" if delta > 0 else "-" if delta < 0 else "±"
    if _kind(name) == "share":
        pts = abs(delta) * 100
        if 0 < pts < 0.5:
            return f"{sign}<1 pt"
        return f"{sign}{pts:.0f} {'pt' if round(pts) == 1 else 'pts'}"
    return sign + format_figure(name, abs(delta))


def describe_target(change: Change) -> str | None:
    """The target line of a card: "72% of the target of 8.4k by Q4 2018 (11 pilots)";
    "no target set" for a targeted figure without any; None for other figures."""
    if change.name not in TARGETED:
        return None
    if not change.targets_set:
        return "No target set"
    if change.target is None:
        return (f"Target set for {change.targets_set} pilot{'s' if change.targets_set != 1 else ''}, "
                "none reported")
    share_txt = f"{change.target_share * 100:.0f}%" if change.target_share is not None else "no share"
    text = f"{share_txt} of the target of {format_figure(change.name, change.target)}"
    if change.target_quarter:
        text += f" by {quarters.label(change.target_quarter)}"
    n = change.target_pilots
    if change.targets_set > 1 or (change.pilots or 0) > 1:  # a portfolio, not one pilot
        text += f" ({n} pilot{'s' if n != 1 else ''} with a target)"
    return text


def figures_by(portfolio: Portfolio, by: str, flt: Filter = Filter(), quarter: str | None = None,
               as_of: dt.date | None = None, *, names: Collection[str] | None = None
               ) -> dict[str, dict]:
    """``portfolio_figures`` for each value of a pilot column (``country``, ``region``,
    ``value_chain``, ``pilot_id``) at once: ``{group: {figure: value}}``. The same
    per-figure functions over the same per-pilot table, built once instead of once per
    group (the map needs every country). ``quarter`` defaults to the latest quarter with
    data in the filter as a whole, so every group is shown for the same quarter.
    ``names``: only these figures (the map shows one; the others cost 12 times its time)."""
    p = portfolio.filtered(flt)
    as_of = as_of or dt.date.today()
    if quarter is None:
        quarter = latest_quarter(p)
    wanted = [n for n in _ROW_FIGURES if names is None or n in names]
    rows = pilot_quarter_table(p, quarter)
    status = (milestone_status_as_of(p.milestones, as_of)
              if names is None or any(n in names for n in _MILESTONE_FIGURES) else None)
    group_of = dict(zip(p.pilots["pilot_id"], p.pilots[by]))
    # each group's rows in one pass (not a selection per group: a map has ~60 countries)
    rows_of = {g: part for g, part in rows.groupby(rows["pilot_id"].map(group_of), sort=False)}
    status_of = ({g: part for g, part in status.groupby(status["pilot_id"].map(group_of), sort=False)}
                 if status is not None and not status.empty else {})
    out: dict[str, dict] = {}
    for group in sorted({g for g in group_of.values() if isinstance(g, str)}):
        figs: dict = {"quarter": quarter, "as_of": as_of}
        part = rows_of.get(group, rows.iloc[:0])
        figs.update({name: figure_of_rows(part, name) for name in wanted})
        if status is not None:
            figs.update(_milestone_figures(status_of.get(group, status.iloc[:0]), names))
        out[group] = figs
    return out


def figures_by_quarter(portfolio: Portfolio, flt: Filter = Filter(),
                       quarter_list: list[str] | None = None) -> pd.DataFrame:
    """The quarter figures (everything but the milestones) for each quarter: one row per
    quarter, ascending; by default every quarter from the first to the last with data in the
    filter (gaps included, so a quarter nobody reported shows as 0 pilots reporting and
    None elsewhere). For trend charts; same definitions as ``portfolio_figures``."""
    p = portfolio.filtered(flt)
    if quarter_list is None:
        qs = p.reported_counts().columns
        quarter_list = quarters.span(str(qs[0]), str(qs[-1])) if len(qs) else []

    def make() -> pd.DataFrame:
        wide, counts = p.indicators_wide(copy=False), _value_counts(p)
        bench = _benchmarks_by_country(p.benchmarks)
        records = []
        for q in quarter_list:
            rec = {"quarter": q}
            rec.update(_figures_of_rows(_quarter_rows(p, wide, counts, q, bench)))
            records.append(rec)
        return pd.DataFrame(records, columns=["quarter", *_ROW_FIGURES])

    return _per_portfolio(p, ("figures_by_quarter", tuple(quarter_list)), make)


def reporting_grid(portfolio: Portfolio, quarter_list: list[str] | None = None) -> pd.DataFrame:
    """Pilot × quarter: how many Indicators values each pilot gave for each quarter (0 when
    none; ``grid > 0`` is "reported"). Rows: every pilot of the portfolio in its order;
    columns: ``quarter_list``, by default every quarter from the first to the last with data."""
    reported = portfolio.reported_counts()  # memoised on the portfolio
    if quarter_list is None:
        qs = reported.columns
        quarter_list = quarters.span(str(qs[0]), str(qs[-1])) if len(qs) else []
    ids = portfolio.pilots["pilot_id"].tolist()
    if reported.empty:
        counts = pd.DataFrame(0, index=ids, columns=quarter_list)
    else:
        counts = reported.reindex(index=ids, columns=quarter_list).fillna(0)
    counts = counts.astype(int)
    counts.index.name = "pilot_id"
    counts.columns.name = "quarter"
    return counts


# --- display ---------------------------------------------------------------------------------

def _kind(name: str) -> str:
    if name in FIGURES:
        return FIGURES[name].kind
    if name in SHARES or name.endswith("_share") or "share" in name:
        return "share"
    ind = catalogue.indicators().get(name)
    if ind is not None:
        return {"money": "money", "count": "count", "score": "score"}.get(ind.kind, "number")
    return "number"


def _compact(v: float) -> str:
    a = abs(v)
    if a < 10_000:
        return f"{v:,.0f}"
    if a < 100_000:
        return f"{v / 1000:.1f}k"
    if a < 1_000_000:
        return f"{v / 1000:.0f}k"
    return f"{v / 1_000_000:.1f}M"


def format_figure(name: str, value) -> str:
    """A figure (or indicator) for display: ``"12.4k"`` (counts), ``"48%"`` (shares),
    ``"$1,234"`` (money), ``"no data"`` for None/NaN."""
    value = _native(value)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "no data"
    kind = _kind(name)
    v = float(value)
    if kind == "share":
        pct = v * 100
        if 0 < pct < 1:
            return "<1%"
        return f"{pct:.0f}%"
    if kind == "money":
        sign = "-" if v < 0 else ""
        a = abs(v)
        if a < 100_000:
            return f"{sign}${a:,.0f}"
        return f"{sign}${_compact(a)}"
    if kind == "score":
        return f"{v:.1f}"
    if kind == "count":
        return _compact(v)
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"
