"""TEMPORARY: outlier_rules before it was broken into steps (issue 14), for compare_outliers.py;
the old copy, removed once the steps are proven to give the same problems."""

from __future__ import annotations

import math
from dataclasses import dataclass

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
    arrays (group = indicator x pilot code, quarter rank, value): the stored values the
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
    # (indicator first: the file's values come column by column, its rows usually in
    # pilot and quarter order, so that they are already in order and sort at once)
    n_pid = max(len(k.pid_uniq), 1)
    group = np.concatenate([k.s_ind[h].astype(np.int64) * n_pid + k.s_pid[h],
                            ind_idx[f].astype(np.int64) * n_pid + l_pid[f]])
    rank = np.concatenate([k.s_q_rank[h], k.q_rank[l_q[f]]]).astype(np.int64)
    value = np.concatenate([k.s_value[h], long.value[f].astype(float)])
    return group, rank, value


def outlier_rules(long: LongValues, p: ParsedSheet, ctx: Context, report: Report) -> None:
    """Warn when a value is far from the pilot's own earlier quarters and their trend,
    as they will be after the upload (the file's values over the stored ones for the same
    pilot, quarter and indicator; the file's other quarters count too). Two steps over
    the at least 4 of the (at most 8) quarters before it:

    1. level (a prefilter, on every value): modified z-score |0.6745 (x - median) / MAD|
       > 3.5, or, when those values barely vary (MAD 0), more than 3x or less than 1/3
       of their median; or, when they rose (fell) at every step but one, under half
       the least of them (a drop hidden by the spread of a fast growing series);
    2. trend (on those candidates only: few): far from each of what the earlier quarters
       predict, their line, their last value plus their usual change, and (seasons) the
       quarter a year before plus the usual change over a year (``trend.off_trend``).

    So steady or accelerating growth, a new cohort of tens of percent and seasonal sales
    are not warned about; a unit or currency slip, a missing or extra digit, a value
    from another quarter that breaks the series, a count dropping to near 0 are. A file
    that sends several quarters again with new values (corrected history, real data
    replacing the illustrative data) is judged against itself, not against the values
    it replaces.

    Vectorised: the history is sorted by (indicator, pilot, quarter); each value finds
    its earlier quarters as the 8 places before it (+inf before its group's start), in
    chunks of 32,768 values: a sorting network over the 8 columns, the median from the
    middle by count, the MAD of full windows picked from the two sorted runs of
    deviations (``_full_window_stats``), of shorter ones by sorting again. The
    candidates' windows are gathered again in time order for the trend. Each of the (at
    most ``OUTLIER_LISTED``) farthest outliers (from what was expected, relative to it)
    is one warning, saying what was expected from which quarters, their records made in
    one pass (``many_problems``); more are counted in one warning."""
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
    # (the rule's arrays are a million long for a large file: small types, freed early)
    hist_rank = hist_rank.astype(np.int32)[order]
    hist_group, hist_val = hist_group[order], hist_val[order]
    n_hist = len(order)
    # where the file's values sit in the sorted history (they came last, after the
    # stored ones), in the history's order (so that their windows are read from memory
    # in order), and where each one's group (indicator, pilot) starts: its earlier
    # quarters are the values between the two (one value per quarter and group)
    n_stored = n_hist - f.size
    pos = np.flatnonzero(order >= n_stored)
    sel = f[order[pos] - n_stored]
    del order
    heads = np.flatnonzero(np.concatenate(([True], hist_group[1:] != hist_group[:-1])))
    del hist_group
    g_start_of = np.repeat(heads.astype(np.int32), np.diff(np.append(heads, n_hist)))
    # a value already stored as it is (a file sent again, an export re-imported) was
    # checked when it came in: it is not warned about again
    if len(k.s_value):
        new = ~_stored_unchanged(k, l_pid[sel], l_q[sel], ind_idx[sel], long.value[sel])
        sel, pos = sel[new], pos[new]
    if not sel.size:
        return
    count = np.minimum(pos - g_start_of[pos], OUTLIER_WINDOW)
    del g_start_of
    x_all = hist_val[pos]  # (= long.value[sel], as floats)
    # the values with at least 4 earlier quarters (in the order of the values)
    js = np.flatnonzero(count >= OUTLIER_MIN_HISTORY)
    # the history with 8 +inf in front: value i's window is padded[pos_i .. pos_i + 7]
    # (the 8 values before it); slots before its group's start are set to +inf, which
    # the sorting network puts last
    padded = np.concatenate([np.full(OUTLIER_WINDOW, np.inf), hist_val])
    flagged = []
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
        # or, in a window that rose (fell) steadily, under half the least of them: a
        # drop that the spread of a fast growing series hides from its median
        low = np.flatnonzero(~far & (x < cols[0] * (1 - trend.DOWN)))
        if low.size:
            far[low[_steady(padded, pc[low], kc[low])]] = True
        if far.any():
            flagged.append(jc[far])
    if not flagged:
        return
    # the level test's candidates (few): judged again against their series' trend;
    # first, on whole columns, against their last value and usual change (the values
    # that explains are done; the others are judged on rows)
    js = np.concatenate(flagged)
    q_num = _quarter_numbers(k.ranked)
    xq = q_num[k.q_rank[l_q[sel[js]]]]
    is_count = np.zeros(ni, dtype=bool)
    is_count[[idx[c] for c, i in kinds.items() if i.kind == "count"]] = True
    counts, x = is_count[ind_idx[sel[js]]], x_all[js]
    at = pos[js] - OUTLIER_WINDOW  # the history index of each window's first slot
    cols = [padded[at + OUTLIER_WINDOW + c] for c in range(OUTLIER_WINDOW)]
    qs = [q_num[hist_rank[np.maximum(at + c, 0)]] for c in range(OUTLIER_WINDOW)]
    with np.errstate(invalid="ignore", divide="ignore"):  # (before a short window's start)
        off, best = trend.step_columns(cols, qs, count[js], xq, x, counts)
    del cols, qs
    keep = np.flatnonzero(off)  # (still far)
    js, xq, counts, x, best = js[keep], xq[keep], counts[keep], x[keep], best[keep]
    stepped = np.ones(len(js), dtype=bool)
    slot = pos[js][:, None] + np.arange(OUTLIER_WINDOW)  # in ``padded``: oldest first
    win = padded[slot]
    win[np.arange(OUTLIER_WINDOW)[None, :] < (OUTLIER_WINDOW - count[js])[:, None]] = np.nan
    wq = q_num[hist_rank[np.maximum(slot - OUTLIER_WINDOW, 0)]]
    far, expected = trend.off_trend(win, wq, x, xq, counts, stepped, best)
    first_q = np.where(np.isnan(win), np.iinfo(np.int64).max, wq).min(axis=1)
    js, expected, win_q = js[far], expected[far], np.stack([first_q, wq[:, -1]], axis=1)[far]
    n_far = len(js)
    if not n_far:
        return
    if n_far > OUTLIER_LISTED:
        # so many usually has one cause (a unit, a currency, shifted quarters): the
        # farthest values are listed, the rest counted in one warning
        x = x_all[js]
        farness = np.abs(x - expected) / np.where(expected != 0, np.abs(expected), 1.0)
        keep = np.sort(np.argsort(-farness, kind="stable")[:OUTLIER_LISTED])
        rest_pilots = np.unique(l_pid[sel[np.delete(js, keep)]]).size
        js, expected, win_q = js[keep], expected[keep], win_q[keep]
        n_rest = n_far - OUTLIER_LISTED
        report.warn("outliers_not_listed", p.name, None, n_rest,
                    f"{n_rest:,} more values (of {rest_pilots:,} pilots) are far from their earlier "
                    f"quarters and their trend; the {OUTLIER_LISTED:,} farthest are listed. So many "
                    f"usually has one cause: a column in another unit or currency than before, or "
                    f"values in the wrong quarter. Check the columns and quarters; if the values are "
                    f"right, leave them.")
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
    q_name = dict(zip(q_num.tolist(), k.ranked))
    report.problems.extend(many_problems("outlier", WARNING, p.name, cells, xs.tolist(), [
        f"{label[i]} for {pid} {q} is {xv}, far from its earlier quarters and their trend "
        f"(expected about {_about(ev)} from {q_name[q0]}\u2013{q_name[q1]}): check the value; "
        f"if it is right, leave it."
        for i, pid, q, xv, ev, (q0, q1) in zip(ind_list, long.pilot_id[j].tolist(), long.quarter[j].tolist(),
                                               _show_many(xs), expected.tolist(), win_q.tolist())]))
