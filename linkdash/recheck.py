"""The rules that involve stored values, checked again on the data as a commit would
leave it (spec, "What an upload does", 6).

A file is checked (``importer.check_file``) against the store as it was then; another
upload or a rollback may be committed before this one. Two uploads that each pass
their check can together break a rule (write skew): one lowers
``participants_total`` while the other raises ``participants_women`` above it; one
moves a pilot's ``start_date`` after quarters that the other reports. ``Store.commit``
therefore calls ``conflicts`` inside its transaction, after taking the write lock, on
the stored rows as they are then, and refuses the whole file when it finds one.

These are the same rules as ``linkdash.rules`` (``parts_rules``, the start-date part of
``pilots_rules`` and ``quarter_rules``, ``_date_order``, ``completed_without_end``,
``unknown_pilot``), for the one case that the check could not see: a value given by the
file against a value stored by someone else. A pair of values that both come from the
file was checked already; a pair that is all stored is not this file's doing. Pure: the
store passes plain dictionaries (the Indicators values as columns: a million of them
as dictionaries would cost seconds and a gigabyte) and a ``who`` function, so this
module reads nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from linkdash import catalogue, quarters
from linkdash.keys import run_factorize
from linkdash.problems import ERROR, Problem

CONFLICT = "conflict"

Key = tuple
Rows = dict[Key, dict[str, Any]]


@dataclass
class IndicatorValues:
    """Indicator values as columns, one row per pilot, quarter and indicator: pilot_id,
    quarter, indicator (object arrays of str) and value (float64, NaN where there is no
    value: a text only)."""

    pilot_id: np.ndarray
    quarter: np.ndarray
    indicator: np.ndarray
    value: np.ndarray

    def __len__(self) -> int:
        return len(self.value)

    @classmethod
    def from_rows(cls, rows: Rows) -> IndicatorValues:
        """From key -> row (column -> value), as the row by row plan holds them."""
        keys = list(rows)

        def col(i: int) -> np.ndarray:
            return np.array([k[i] for k in keys] + [None], dtype=object)[:-1]

        value = [r.get("value") for r in rows.values()]
        return cls(col(0), col(1), col(2),
                   np.array([np.nan if v is None else float(v) for v in value], dtype=float))

    def where(self, rows: np.ndarray) -> IndicatorValues:
        """The rows where ``rows`` (a boolean array) is true; itself when all are."""
        if rows.all():
            return self
        return IndicatorValues(self.pilot_id[rows], self.quarter[rows], self.indicator[rows],
                               self.value[rows])


def _of_indicators(indicator: np.ndarray, codes: list[str]) -> np.ndarray:
    """Which rows hold one of these indicator codes (the few distinct ones looked up once)."""
    found, uniq = run_factorize(indicator)
    return np.append(pd.Index(uniq, dtype=object).isin(codes), False)[found]


def _sorted_codes(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize(x, sort=True)`` through runs of equal neighbours (``run_factorize``)."""
    codes, uniq = run_factorize(x)
    order = np.argsort(np.asarray(uniq, dtype=object), kind="stable")
    rank = np.empty(len(order) + 1, dtype=np.int64)
    rank[order] = np.arange(len(order))
    rank[-1] = -1
    return rank[codes], np.asarray(uniq, dtype=object)[order]


def _no_values() -> IndicatorValues:
    e = np.empty(0, dtype=object)
    return IndicatorValues(e, e, e, np.empty(0))


@dataclass
class After:
    """What a commit would leave, as far as the rules need it.

    ``given``: sheet -> key -> the file's non-blank values (the commit's input), for
    every sheet but Indicators; ``given_indicators``: the file's Indicators rows that
    hold a value or a text;
    ``stored``: sheet -> key -> the current stored row (column -> value), for the sheets
    the rules read (``Pilots``: every current pilot; ``Progress``: at least the file's
    milestones); ``stored_indicators``: at least the current values of the file's
    pilots and quarters;
    ``first_stored_quarter``: pilot -> the first quarter with a stored indicator value
    (for the pilots whose start date the file gives);
    ``who(sheet, key, column)``: the submission that stored that value (or, for a row
    no longer stored, the one that removed it)."""

    given: dict[str, Rows]
    stored: dict[str, Rows]
    first_stored_quarter: dict[str, str] = field(default_factory=dict)
    who: Callable[[str, Key, str | None], int | None] = lambda sheet, key, column: None
    given_indicators: IndicatorValues = field(default_factory=_no_values)
    stored_indicators: IndicatorValues = field(default_factory=_no_values)


def _show(v: Any) -> str:
    if isinstance(v, float):
        return f"{int(v):,}" if v.is_integer() else f"{v:,.2f}"
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v)


def _by(n: int | None) -> str:
    return f"submission {n}" if n is not None else "another submission"


_AFTER = ("after this file was checked: nothing of this file was stored. Check it again "
          "against the data as it is now")


def _problem(sheet: str, value: Any, message: str) -> Problem:
    return Problem(CONFLICT, ERROR, sheet, None, value, message)


def _as_date(v: Any) -> dt.date | None:
    if isinstance(v, dt.datetime):
        return v.date()
    return v if isinstance(v, dt.date) else None


def conflicts(after: After) -> list[Problem]:
    """Every conflict between the file's values and values stored since its check."""
    out: list[Problem] = []
    out += _unknown_pilots(after)
    out += _parts(after)
    out += _start_dates(after)
    out += _date_orders(after)
    return out


# --- pilots that are gone ---------------------------------------------------------------

def _unknown_pilots(after: After) -> list[Problem]:
    known = set(k[0] for k in after.stored.get("Pilots", {})) | \
        set(k[0] for k in after.given.get("Pilots", {}))
    out, seen = [], set()
    for sheet in ("Progress", "Indicators", "Targets", "Lessons"):
        if sheet == "Indicators":
            pids = pd.unique(after.given_indicators.pilot_id).tolist()
        else:
            pids = [key[0] for key in after.given.get(sheet, {})]
        for pid in pids:
            if pid in known or (sheet, pid) in seen:
                continue
            seen.add((sheet, pid))
            by = after.who("Pilots", (pid,), None)
            out.append(_problem(sheet, pid,
                                f"{pid} is no longer a stored pilot: {_by(by)} removed it "
                                f"{_AFTER}, or add the pilot to the Pilots sheet."))
    return out


# --- parts and totals -------------------------------------------------------------------------

def _parts(after: After) -> list[Problem]:
    """A part above its total where one of the two comes from the file and the other is
    stored (per pilot and quarter of the file, pairs in the catalogue's order)."""
    given = after.given_indicators
    inds = catalogue.indicators()
    pairs = [(code, ind.total) for code, ind in inds.items() if ind.total]
    if not len(given) or not pairs:
        return []
    # only the rows of indicators in a pair matter; the file's cells (pilot, quarter)
    # numbered in sorted order, and per indicator of a pair one array of values by cell,
    # from the file and from the store (NaN: none)
    wanted = sorted({c for pair in pairs for c in pair})
    given = given.where(_of_indicators(given.indicator, wanted))
    if not len(given):
        return []
    pid_codes, pid_uniq = _sorted_codes(given.pilot_id)
    q_codes, q_uniq = _sorted_codes(given.quarter)
    whole = (pid_codes >= 0) & (q_codes >= 0)
    nq = max(len(q_uniq), 1)
    cell_keys = np.unique(pid_codes[whole].astype(np.int64) * nq + q_codes[whole])
    n_cells = len(cell_keys)

    def by_cell(values: IndicatorValues, own: bool) -> dict[str, np.ndarray]:
        if own:
            pc, qc = pid_codes, q_codes
        else:
            values = values.where(_of_indicators(values.indicator, wanted))
            pc = pd.Index(pid_uniq, dtype=object).get_indexer(pd.Index(values.pilot_id, dtype=object))
            qc = pd.Index(q_uniq, dtype=object).get_indexer(pd.Index(values.quarter, dtype=object))
        ok = (pc >= 0) & (qc >= 0) & ~np.isnan(values.value)
        key = pc.astype(np.int64) * nq + qc
        at = np.searchsorted(cell_keys, key)
        ok &= at < n_cells
        ok[ok] &= cell_keys[at[ok]] == key[ok]
        out = {}
        for code in wanted:
            rows = ok & (values.indicator == code)
            arr = np.full(n_cells, np.nan)
            arr[at[rows]] = values.value[rows]
            out[code] = arr
        return out

    gw, sw = by_cell(given, True), by_cell(after.stored_indicators, False)
    hits: list[tuple[int, int, bool, float, float]] = []  # cell, pair, part from the file, pv, tv
    for k, (part, total) in enumerate(pairs):
        pf, tf = gw[part], gw[total]
        p_file, t_file = ~np.isnan(pf), ~np.isnan(tf)
        pv = np.where(p_file, pf, sw[part])
        tv = np.where(t_file, tf, sw[total])
        with np.errstate(invalid="ignore"):
            bad = (p_file != t_file) & (pv > tv)  # (NaN: no value, never more)
        hits += [(i, k, bool(p_file[i]), float(pv[i]), float(tv[i])) for i in np.flatnonzero(bad).tolist()]
    out = []
    for i, k, from_file, pv_i, tv_i in sorted(hits):
        pid, q = pid_uniq[cell_keys[i] // nq], q_uniq[cell_keys[i] % nq]
        part, total = pairs[k]
        pl, tl = inds[part].label, inds[total].label
        if from_file:
            by = after.who("Indicators", (pid, q, total), "value")
            msg = (f"{pl} ({_show(pv_i)}) in this file is more than {tl} ({_show(tv_i)}), "
                   f"stored for {pid} {q} by {_by(by)} {_AFTER}, and correct {pl} or give "
                   f"the right {tl} too.")
            out.append(_problem("Indicators", pv_i, msg))
        else:
            by = after.who("Indicators", (pid, q, part), "value")
            msg = (f"{tl} ({_show(tv_i)}) in this file is less than {pl} ({_show(pv_i)}), "
                   f"stored for {pid} {q} by {_by(by)} {_AFTER}, and correct {tl} or give "
                   f"the right {pl} too.")
            out.append(_problem("Indicators", tv_i, msg))
    return out


# --- a pilot's start date and its quarters ----------------------------------------------------

def _start_dates(after: After) -> list[Problem]:
    out = []
    pilots_given = after.given.get("Pilots", {})
    pilots_stored = after.stored.get("Pilots", {})
    # the file's start date against quarters stored since
    for (pid,), row in pilots_given.items():
        start = _as_date(row.get("start_date"))
        first = after.first_stored_quarter.get(pid)
        if start is None or first is None or not quarters.of_date(start) > first:
            continue
        if _reports(after.given_indicators, pid, first):
            continue  # the file reports that quarter itself: checked already
        by = after.who("Indicators", (pid, first, None), None)
        out.append(_problem("Pilots", start.isoformat(),
                            f"Start date {start.isoformat()} ({quarters.of_date(start)}) of {pid} "
                            f"in this file is after {first}, a quarter with indicator values "
                            f"stored by {_by(by)} {_AFTER}, and correct the start date."))
    # the file's quarters against a start date stored since
    firsts = _first_quarters(after.given_indicators)
    for pid, first in sorted(firsts.items()):
        if (pid,) in pilots_given and pilots_given[(pid,)].get("start_date") is not None:
            continue  # the file's own start date: checked already
        start = _as_date((pilots_stored.get((pid,)) or {}).get("start_date"))
        if start is None or not first < quarters.of_date(start):
            continue
        by = after.who("Pilots", (pid,), "start_date")
        out.append(_problem("Indicators", first,
                            f"Quarter {first} of {pid} in this file is before its start date "
                            f"{start.isoformat()} ({quarters.of_date(start)}), stored by "
                            f"{_by(by)} {_AFTER}, and correct the quarter or the start date."))
    return out


def _first_quarters(given: IndicatorValues) -> dict[str, str]:
    """Pilot -> the first quarter the file gives a value or text of."""
    pid, pid_uniq = run_factorize(given.pilot_id)
    q, q_uniq = _sorted_codes(given.quarter)  # codes in the quarters' order
    whole = (pid >= 0) & (q >= 0)
    if not whole.any():
        return {}
    first = pd.Series(q[whole], copy=False).groupby(pid[whole]).min()
    return {pid_uniq[p]: q_uniq[c] for p, c in zip(first.index.tolist(), first.tolist())}


def _reports(given: IndicatorValues, pilot: str, quarter: str) -> bool:
    """Whether the file gives a value or text of this pilot in this quarter."""
    return bool(((given.pilot_id == pilot) & (given.quarter == quarter)).any())


# --- dates in order, and completed milestones ---------------------------------------------------

_ORDERS = {
    "Pilots": [("start_date", "end_date", "Start date", "End date")],
    "Progress": [("planned_start", "planned_end", "Planned start", "Planned end"),
                 ("actual_start", "actual_end", "Actual start", "Actual end")],
}


def _date_orders(after: After) -> list[Problem]:
    out = []
    for sheet, orders in _ORDERS.items():
        stored = after.stored.get(sheet, {})
        for key, row in after.given.get(sheet, {}).items():
            old = stored.get(key) or {}
            what = " ".join(str(k) for k in key)
            for a, b, a_label, b_label in orders:
                a_file, b_file = row.get(a) is not None, row.get(b) is not None
                if a_file == b_file:
                    continue
                start = _as_date(row.get(a) if a_file else old.get(a))
                end = _as_date(row.get(b) if b_file else old.get(b))
                if start is None or end is None or not end < start:
                    continue
                if b_file:
                    by = after.who(sheet, key, a)
                    msg = (f"{b_label} {end.isoformat()} of {what} in this file is before "
                           f"{a_label.lower()} {start.isoformat()}, stored by {_by(by)} {_AFTER}, "
                           f"and correct it or give the right {a_label.lower()} too.")
                    out.append(_problem(sheet, end.isoformat(), msg))
                else:
                    by = after.who(sheet, key, b)
                    msg = (f"{a_label} {start.isoformat()} of {what} in this file is after "
                           f"{b_label.lower()} {end.isoformat()}, stored by {_by(by)} {_AFTER}, "
                           f"and correct it or give the right {b_label.lower()} too.")
                    out.append(_problem(sheet, start.isoformat(), msg))
            if sheet == "Progress" and row.get("status") == "completed" \
                    and row.get("actual_end") is None and old.get("actual_end") is None:
                # the file relies on a stored actual end that is not there (any more);
                # a milestone the store never had is the check's business
                by = after.who(sheet, key, None)
                if old or by is not None:
                    out.append(_problem(sheet, "completed",
                                        f"{what} is marked completed in this file, but no actual "
                                        f"end date is stored for it (the row as {_by(by)} left "
                                        f"it) {_AFTER}, and fill in actual_end."))
    return out
