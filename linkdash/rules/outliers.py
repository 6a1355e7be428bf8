"""Outliers: a value far from the pilot's own earlier quarters and their trend, as they
will be after the upload (see ``outlier_rules``)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np

from linkdash import catalogue, quarters
from linkdash.keys import DENSE_KEYS, mixed_radix
from linkdash.problems import WARNING, Report, column_letter, many_problems
from linkdash.rules import trend
from linkdash.rules.sheet import (
    Context,
    ParsedSheet,
    StoredKeys,
    _show,
    indicator_index,
    stored_keys,
)
from linkdash.rules.trend import _sorted_columns
from linkdash.values import same_numbers

RAISES = (  # the problem codes these rules report (problems.CODES says what each means)
    "outlier", "outliers_not_listed",
)

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
    def empty(cls) -> LongValues:
        o = np.empty(0, dtype=object)
        return cls(np.empty(0, dtype=np.int64), o, o, o, np.empty(0), np.empty(0, dtype=np.int64))


# A value is judged against at most the 8 quarters before it (two years): what is usual
# for a pilot now, not what it was when it started, and a fixed width that whole
# columns can be sorted at once for (``_sorted_columns``).
OUTLIER_WINDOW = trend.WINDOW
# values whose windows are sorted at once: 8 columns of 32,768 floats and the network's
# temporaries stay in a core's L2 cache (a chunk of 131,072 ran the network at a third of
# the speed), and the rule's memory stays small
OUTLIER_CHUNK = 32_768


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
    d4 = np.minimum(np.minimum(np.minimum(b[3], mx(a[0], b[2])), np.minimum(mx(a[1], b[1]), mx(a[2], b[0]))),
                    a[3])
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


def _steady(padded: np.ndarray, pos: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Whether each window (``padded[pos .. pos + 7]``, its last ``count`` values) rose,
    or fell, at every step but at most one (at every step, when shorter than 8)."""
    cols = [padded[pos + c] for c in range(OUTLIER_WINDOW)]
    valid = np.arange(OUTLIER_WINDOW - 1)[None, :] >= (OUTLIER_WINDOW - count)[:, None]
    with np.errstate(invalid="ignore"):  # (inf - inf before a short window)
        steps = np.diff(np.stack(cols, axis=1), axis=1)
    rises = ((steps > 0) & valid).sum(axis=1)
    falls = ((steps < 0) & valid).sum(axis=1)
    return (count - 1) - np.maximum(rises, falls) <= np.where(count < OUTLIER_WINDOW, 0, 1)


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


def _quarter_numbers(ranked: list[str]) -> np.ndarray:
    """Each ranked quarter as a count of quarters (year x 4 + quarter), so that steps
    between quarters are their distance in time (ranks, if one is not canonical)."""
    try:
        return np.array([y * 4 + n - 1 for y, n in map(quarters.split, ranked)], dtype=np.int64)
    except (ValueError, TypeError):
        return np.arange(len(ranked), dtype=np.int64)


def _about(v: float) -> str:
    """``v`` to 3 significant digits, in words for "expected about ..."."""
    if not math.isfinite(v) or v == 0:
        return "0"
    r = round(v, 2 - math.floor(math.log10(abs(v))))
    return f"{r:,.0f}" if abs(r) >= 100 or r == int(r) else f"{r:.3g}"


def _stored_unchanged(k: StoredKeys, pid: np.ndarray, q: np.ndarray, ind: np.ndarray,
                      value: np.ndarray) -> np.ndarray:
    """Per file value (its pilot and quarter codes, catalogue index, value): whether the
    store holds that very value (``values.same_numbers``, as the preview's "unchanged")
    for the same pilot, quarter and indicator."""
    return same_numbers(value, k.stored_values(pid, q, ind))  # (NaN: none stored)


def _in_keys(key: np.ndarray, among: np.ndarray, size: int) -> np.ndarray:
    """Whether each of ``key`` (0 <= key < size) is one of ``among``."""
    if not len(key) or not len(among):
        return np.zeros(len(key), dtype=bool)
    if size <= DENSE_KEYS:
        table = np.zeros(size, dtype=bool)
        table[among] = True
        return table[key]
    return np.isin(key, among)


@dataclass
class _FileCodes:
    """The file's values (parallel to ``LongValues``) on the integer scale of ``StoredKeys``."""

    ind: np.ndarray  # catalogue index of the indicator
    pid: np.ndarray  # file pilot code (-1: blank)
    q: np.ndarray  # file quarter code (-1: blank)


def _file_codes(long: LongValues, k: StoredKeys) -> _FileCodes:
    """The indicator, pilot and quarter codes of each of the file's values."""
    ind = long.indicator_idx
    if ind is None:
        idx = indicator_index()
        ind = np.array([idx[c] for c in long.indicator.tolist()], dtype=np.int64)
    return _FileCodes(ind, k.pid[long.rows], k.q[long.rows])


@cache
def _of_kind(kind: str) -> np.ndarray:
    """Per catalogue index (and one more, for an unknown indicator, as ``StoredKeys.n_ind``):
    whether the indicator is of ``kind`` (``"score"``, ``"count"``). Read-only (cached)."""
    idx = indicator_index()
    out = np.zeros(len(idx) + 1, dtype=bool)
    out[[idx[c] for c, i in catalogue.indicators().items() if i.kind == kind]] = True
    out.flags.writeable = False
    return out


@dataclass
class _History:
    """Every series' values as they will be after the upload, sorted by (indicator, pilot,
    quarter): a value's earlier quarters are the places before it in its group."""

    padded: np.ndarray  # the values after 8 +inf: value i's window is padded[i .. i + 7]
    rank: np.ndarray  # the quarter rank of each value (int32; without the padding)


@dataclass
class _Judged:
    """File values that are judged, in the history's order, each where it sits in it."""

    sel: np.ndarray  # index into ``LongValues``
    pos: np.ndarray  # place in the history (its window: the 8 places before, in ``padded``)
    count: np.ndarray  # earlier quarters of its series in that window (at most 8)
    x: np.ndarray  # the value (float)

    def take(self, i: np.ndarray) -> _Judged:
        """These values at ``i`` (indexes or a mask)."""
        return _Judged(self.sel[i], self.pos[i], self.count[i], self.x[i])


def _history_after_upload(long: LongValues, k: StoredKeys, codes: _FileCodes, f: np.ndarray,
                          scored: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The values of the file's pilots as they will be after the upload, as parallel
    arrays (group = indicator x pilot code, quarter rank, value): the stored values the
    file does not replace (same pilot, quarter and indicator), then the file's values
    ``f`` (indexes into ``long``). Scores are left out (never judged)."""
    ni = k.n_ind
    h = np.flatnonzero((k.s_pid >= 0) & (k.s_ind >= 0) & ~np.isnan(k.s_value))
    if h.size:
        h = h[~scored[k.s_ind[h]]]
    if h.size and f.size:
        # a stored value the file gives again (in a quarter the file has) is replaced
        sizes = [len(k.pid_uniq), len(k.q_uniq), ni]
        fkey, _ = mixed_radix([codes.pid[f], codes.q[f], codes.ind[f].astype(np.int64)], sizes)
        maybe = np.flatnonzero(k.s_q[h] >= 0)
        skey, _ = mixed_radix([k.s_pid[h[maybe]], k.s_q[h[maybe]], k.s_ind[h[maybe]].astype(np.int64)],
                              sizes)
        replaced = np.zeros(h.size, dtype=bool)
        replaced[maybe] = _in_keys(skey, fkey, math.prod(max(n, 1) for n in sizes))
        h = h[~replaced]
    # (indicator first: the file's values come column by column, its rows usually in
    # pilot and quarter order, so that they are already in order and sort at once)
    n_pid = max(len(k.pid_uniq), 1)
    group = np.concatenate([k.s_ind[h].astype(np.int64) * n_pid + k.s_pid[h],
                            codes.ind[f].astype(np.int64) * n_pid + codes.pid[f]])
    rank = np.concatenate([k.s_q_rank[h], k.q_rank[codes.q[f]]]).astype(np.int64)
    value = np.concatenate([k.s_value[h], long.value[f].astype(float)])
    return group, rank, value


def _sorted_history(group: np.ndarray, rank: np.ndarray, value: np.ndarray, f: np.ndarray,
                    n_rank: int) -> tuple[_History, _Judged]:
    """The history (``_history_after_upload``'s arrays, the file's values ``f`` last)
    sorted by group and quarter rank (< ``n_rank``), and the file's values in it: in the
    history's order (so that their windows are read from memory in order), each with the
    number of its group's values before it (one value per quarter and group), at most 8."""
    order = np.argsort(group * n_rank + rank, kind="stable")
    # (the rule's arrays are a million long for a large file: small types, freed early)
    hist_rank = rank.astype(np.int32)[order]
    group, value = group[order], value[order]
    n_hist = len(order)
    n_stored = n_hist - f.size
    pos = np.flatnonzero(order >= n_stored)
    sel = f[order[pos] - n_stored]
    del order
    heads = np.flatnonzero(np.concatenate(([True], group[1:] != group[:-1])))
    del group
    g_start_of = np.repeat(heads.astype(np.int32), np.diff(np.append(heads, n_hist)))
    count = np.minimum(pos - g_start_of[pos], OUTLIER_WINDOW)
    padded = np.concatenate([np.full(OUTLIER_WINDOW, np.inf), value])
    return _History(padded, hist_rank), _Judged(sel, pos, count, value[pos])


def _without_unchanged(j: _Judged, long: LongValues, k: StoredKeys, codes: _FileCodes) -> _Judged:
    """``j`` without the values already stored as they are (a file sent again, an export
    re-imported): they were checked when they came in and are not warned about again."""
    if not len(k.s_value):
        return j
    s = j.sel
    return j.take(~_stored_unchanged(k, codes.pid[s], codes.q[s], codes.ind[s], long.value[s]))


# --- step 1: the level test, a prefilter on every value ----------------------------------

def _sorted_windows(padded: np.ndarray, pos: np.ndarray, count: np.ndarray) -> list[np.ndarray]:
    """The 8 earlier places of each value at ``pos`` as columns, sorted row by row, the
    slots before its group's start (beyond its ``count`` >= 4) +inf: sorted last."""
    cols = [padded[pos + c] for c in range(OUTLIER_WINDOW)]
    # (count >= 4: only the 4 oldest slots can lie before the group's start)
    for c in range(OUTLIER_WINDOW - OUTLIER_MIN_HISTORY):
        np.putmask(cols[c], count < OUTLIER_WINDOW - c, np.inf)
    return _sorted_columns(cols)


def _window_stats(cols: list[np.ndarray], count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Median and MAD of each row of sorted windows ``cols`` of ``count`` values: of all
    rows as full windows first, then of the shorter ones again."""
    with np.errstate(invalid="ignore"):  # (inf - inf in the short windows' rows)
        med, mad = _full_window_stats(cols)
    short = np.flatnonzero(count < OUTLIER_WINDOW)
    if short.size:
        med[short], mad[short] = _short_window_stats([c[short] for c in cols], count[short])
    return med, mad


def _far_from_level(x: np.ndarray, med: np.ndarray, mad: np.ndarray) -> np.ndarray:
    """Modified z-score |0.6745 (x - median) / MAD| over 3.5; when the window barely varies
    (MAD 0), more than 3x or less than 1/3 of a positive median."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(mad > 0, np.abs(0.6745 * (x - med) / mad) > OUTLIER_Z,
                        (med > 0) & ((x > OUTLIER_RATIO * med) | (x < med / OUTLIER_RATIO)))


def _level_far(padded: np.ndarray, pos: np.ndarray, count: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Whether each value ``x`` is far from the level of its window (at ``pos``, ``count``
    values, 4 to 8): ``_far_from_level``, or, in a window that rose (fell) steadily, under
    half the least of it: a drop that the spread of a fast growing series hides from its
    median."""
    cols = _sorted_windows(padded, pos, count)
    med, mad = _window_stats(cols, count)
    far = _far_from_level(x, med, mad)
    low = np.flatnonzero(~far & (x < cols[0] * (1 - trend.DOWN)))
    if low.size:
        far[low[_steady(padded, pos[low], count[low])]] = True
    return far


def _level_candidates(hist: _History, j: _Judged) -> np.ndarray:
    """Indexes into ``j`` (in order) of the values with at least 4 earlier quarters that
    ``_level_far`` finds far, judged ``OUTLIER_CHUNK`` values at a time."""
    js = np.flatnonzero(j.count >= OUTLIER_MIN_HISTORY)
    flagged = []
    for c0 in range(0, len(js), OUTLIER_CHUNK):
        jc = js[c0:c0 + OUTLIER_CHUNK]
        far = _level_far(hist.padded, j.pos[jc], j.count[jc], j.x[jc])
        if far.any():
            flagged.append(jc[far])
    return np.concatenate(flagged) if flagged else np.empty(0, dtype=np.int64)


# --- step 2: the trend, on the level test's candidates (few) -----------------------------

def _quarters_at(hist: _History, q_num: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The quarter number of the history's values at ``at`` (places in ``padded`` less 8;
    any number for a place before the history's start)."""
    return q_num[hist.rank[np.maximum(at, 0)]]


def _off_step(hist: _History, c: _Judged, q_num: np.ndarray, xq: np.ndarray, counts: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
    """Whether each value of ``c`` (in quarter ``xq``) is far from its last value plus
    its usual change, and that prediction: ``trend.step_columns`` on whole columns."""
    cols = [hist.padded[c.pos + s] for s in range(OUTLIER_WINDOW)]
    qs = [_quarters_at(hist, q_num, c.pos - OUTLIER_WINDOW + s) for s in range(OUTLIER_WINDOW)]
    with np.errstate(invalid="ignore", divide="ignore"):  # (before a short window's start)
        return trend.step_columns(cols, qs, c.count, xq, c.x, counts)


def _window_rows(hist: _History, c: _Judged, q_num: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each value's window as a row of 8 values (oldest first, NaN before its series'
    start) and a row of their quarter numbers."""
    slot = c.pos[:, None] + np.arange(OUTLIER_WINDOW)  # in ``padded``: oldest first
    win = hist.padded[slot]
    win[np.arange(OUTLIER_WINDOW)[None, :] < (OUTLIER_WINDOW - c.count)[:, None]] = np.nan
    return win, _quarters_at(hist, q_num, slot - OUTLIER_WINDOW)


def _trend_outliers(hist: _History, c: _Judged, q_num: np.ndarray, k: StoredKeys,
                    codes: _FileCodes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which of the level test's candidates ``c`` are far from their series' trend too
    (``trend.off_trend``): their indexes into ``c``, what was expected of each, and the
    first and last quarter number of its window. First on whole columns against the last
    value and usual change (the values that explains are done), the others on rows."""
    xq = q_num[k.q_rank[codes.q[c.sel]]]
    counts = _of_kind("count")[codes.ind[c.sel]]
    off, best = _off_step(hist, c, q_num, xq, counts)
    keep = np.flatnonzero(off)  # (still far)
    win, wq = _window_rows(hist, c.take(keep), q_num)
    far, expected = trend.off_trend(win, wq, c.x[keep], xq[keep], counts[keep],
                                    np.ones(len(keep), dtype=bool), best[keep])
    first_q = np.where(np.isnan(win), np.iinfo(np.int64).max, wq).min(axis=1)
    return keep[far], expected[far], np.stack([first_q, wq[:, -1]], axis=1)[far]


# --- the warnings --------------------------------------------------------------------------

def _listed(out: _Judged, expected: np.ndarray, win_q: np.ndarray, codes: _FileCodes, sheet: str,
            report: Report) -> tuple[_Judged, np.ndarray, np.ndarray]:
    """The outliers listed one by one: all, or when more than ``OUTLIER_LISTED``, the
    farthest (from what was expected, relative to it), the rest counted in one warning
    (so many usually has one cause: a unit, a currency, shifted quarters)."""
    n_far = len(out.sel)
    if n_far <= OUTLIER_LISTED:
        return out, expected, win_q
    farness = np.abs(out.x - expected) / np.where(expected != 0, np.abs(expected), 1.0)
    keep = np.sort(np.argsort(-farness, kind="stable")[:OUTLIER_LISTED])
    rest_pilots = np.unique(codes.pid[np.delete(out.sel, keep)]).size
    n_rest = n_far - OUTLIER_LISTED
    report.warn("outliers_not_listed", sheet, None, n_rest,
                f"{n_rest:,} more values (of {rest_pilots:,} pilots) are far from their earlier "
                f"quarters and their trend; the {OUTLIER_LISTED:,} farthest are listed. So many "
                f"usually has one cause: a column in another unit or currency than before, or "
                f"values in the wrong quarter. Check the columns and quarters; if the values are "
                f"right, leave them.")
    return out.take(keep), expected[keep], win_q[keep]


def _outlier_problems(long: LongValues, p: ParsedSheet, codes: _FileCodes, out: _Judged,
                      expected: np.ndarray, win_q: np.ndarray, q_name: dict[int, str]) -> list:
    """One ``outlier`` warning at the cell of each value of ``out``, saying what was
    expected (``expected``) from which quarters (``win_q``: first and last, as numbers
    named by ``q_name``). A large file can flag tens of thousands of values: the cell
    letters and labels are looked up once per indicator, the numbers formatted in one pass
    each, the records made at once (``many_problems``)."""
    kinds = catalogue.indicators()
    code_of = {i: c for c, i in indicator_index().items()}
    j = out.sel
    ind_list = codes.ind[j].tolist()
    letter = {i: column_letter(p.table.columns[code_of[i]]) for i in set(ind_list)}
    label = {i: kinds[code_of[i]].label for i in letter}
    first = p.table.first_row + 1
    cells = [f"{letter[i]}{r}" for i, r in zip(ind_list, (long.rows[j] + first).tolist())]
    return many_problems("outlier", WARNING, p.name, cells, out.x.tolist(), [
        f"{label[i]} for {pid} {q} is {xv}, far from its earlier quarters and their trend "
        f"(expected about {_about(ev)} from {q_name[q0]}\u2013{q_name[q1]}): check the value; "
        f"if it is right, leave it."
        for i, pid, q, xv, ev, (q0, q1) in zip(ind_list, long.pilot_id[j].tolist(), long.quarter[j].tolist(),
                                               _show_many(out.x), expected.tolist(), win_q.tolist())])


def outlier_rules(long: LongValues, p: ParsedSheet, ctx: Context, report: Report) -> None:
    """Warn when a value is far from the pilot's own earlier quarters and their trend,
    as they will be after the upload (the file's values over the stored ones for the same
    pilot, quarter and indicator; the file's other quarters count too). Two steps over
    the at least 4 of the (at most 8) quarters before it:

    1. level (a prefilter, on every value, ``_level_far``): modified z-score
       |0.6745 (x - median) / MAD| > 3.5, or, when those values barely vary (MAD 0), more
       than 3x or less than 1/3 of their median; or, when they rose (fell) at every step
       but one, under half the least of them (a drop hidden by the spread of a fast
       growing series);
    2. trend (on those candidates only: few, ``_trend_outliers``): far from each of what
       the earlier quarters predict, their line, their last value plus their usual
       change, and (seasons) the quarter a year before plus the usual change over a year
       (``trend.off_trend``).

    So steady or accelerating growth, a new cohort of tens of percent and seasonal sales
    are not warned about; a unit or currency slip, a missing or extra digit, a value
    from another quarter that breaks the series, a count dropping to near 0 are. A file
    that sends several quarters again with new values (corrected history, real data
    replacing the illustrative data) is judged against itself, not against the values
    it replaces. A value stored as it is already is not judged again.

    Vectorised: the history is sorted by (indicator, pilot, quarter); each value finds
    its earlier quarters as the 8 places before it (+inf before its group's start), in
    chunks of 32,768 values: a sorting network over the 8 columns, the median from the
    middle by count, the MAD of full windows picked from the two sorted runs of
    deviations (``_full_window_stats``), of shorter ones by sorting again. The
    candidates' windows are gathered again in time order for the trend. Each of the (at
    most ``OUTLIER_LISTED``) farthest outliers is one warning (``_outlier_problems``);
    more are counted in one warning (``_listed``)."""
    if not len(long.rows):
        return
    k = stored_keys(p, ctx)
    codes = _file_codes(long, k)
    scored = _of_kind("score")
    # the file's values that are judged and count as history: known pilot and quarter
    f = np.flatnonzero((codes.pid >= 0) & (codes.q >= 0) & ~scored[codes.ind])
    if not f.size:
        return
    n_rank = int(max(k.q_rank.max(initial=0), k.s_q_rank.max(initial=0))) + 2
    hist, judged = _sorted_history(*_history_after_upload(long, k, codes, f, scored), f, n_rank)
    judged = _without_unchanged(judged, long, k, codes)
    candidates = judged.take(_level_candidates(hist, judged))
    if not len(candidates.sel):
        return
    q_num = _quarter_numbers(k.ranked)
    far, expected, win_q = _trend_outliers(hist, candidates, q_num, k, codes)
    if not len(far):
        return
    out, expected, win_q = _listed(candidates.take(far), expected, win_q, codes, p.name, report)
    report.problems.extend(_outlier_problems(long, p, codes, out, expected, win_q,
                                             dict(zip(q_num.tolist(), k.ranked))))
