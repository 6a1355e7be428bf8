"""What a series' earlier quarters predict for its next value, and whether a value is
far from it (``off_trend``): the second step of the outlier rule (``outliers``), for the
few values its level test finds."""

from __future__ import annotations

import numpy as np

WINDOW = 8  # a value's earlier quarters: at most the 8 before it (``outliers.OUTLIER_WINDOW``)
Z = 3.5  # robust spreads, as the level test's modified z-score (``outliers.OUTLIER_Z``)
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


# The level test (``outliers``) is a prefilter: a series that grows steadily leaves its
# median behind, so its candidates are judged again against what the series predicts.
# Far from a prediction: off by more than 3.5 robust spreads (of what the prediction is
# made of, as the modified z-score) and beyond the relative floor: over double or under
# half of what is expected (so a smooth series does not make every small wobble "far",
# and a new cohort of tens of percent is not; a unit or currency slip, a missing or extra
# digit, a drop to near 0 are).
UP = 1.0  # above expected + this x its size (more than double)
DOWN = 0.5  # below expected - this x its size (under half)
# a count of about n is not judged closer than 3 (1 + sqrt n): three times its counting
# noise (Poisson), so that 1 -> 0 or 1 -> 6 prototypes or households is not "far"
COUNT_NOISE = 3.0


def _far_from(x: np.ndarray, expected: np.ndarray, base: np.ndarray, mad: np.ndarray,
              counts: np.ndarray) -> np.ndarray:
    """Whether ``x`` is far from ``expected`` (predicted from ``base``, the value it
    steps from, with ``mad`` the median absolute deviation of such steps); ``counts``:
    which values are counts (not judged closer than their counting noise)."""
    size = np.maximum(np.abs(expected), np.abs(base))
    spread = Z * mad / 0.6745
    spread = np.where(counts, np.maximum(spread, COUNT_NOISE * (1 + np.sqrt(size))), spread)
    return ((x - expected > np.maximum(spread, UP * size))
            | (expected - x > np.maximum(spread, DOWN * size)))


def _nanmedian(a: np.ndarray) -> np.ndarray:
    """Median of each row of ``a`` ignoring NaN (NaN for a row of NaN only), as
    ``np.nanmedian(a, axis=1)`` but by one sort of the rows (NaN sort last): many times
    faster for short rows."""
    s = np.sort(a, axis=1)
    w = a.shape[1]
    med = (s[:, (w - 1) // 2] + s[:, w // 2]) / 2  # (rows without NaN)
    part = np.flatnonzero(np.isnan(s[:, -1]))
    if part.size:
        n = w - np.isnan(s[part]).sum(axis=1)
        with np.errstate(invalid="ignore"):
            med[part] = (s[part, np.maximum(n - 1, 0) // 2] + s[part, n // 2 - (n == 0)]) / 2
        med[part[n == 0]] = np.nan
    return med


# a prediction of each value: (expected, the value it steps from, MAD of such steps,
# which values it is made for: None for all)
Prediction = tuple[np.ndarray, np.ndarray, np.ndarray, "np.ndarray | None"]
_PAIRS = np.triu_indices(WINDOW, 1)  # every two slots of a window (earlier, later)


def _by_line(win: np.ndarray, wq: np.ndarray, xq: np.ndarray) -> Prediction:
    """The window's line at ``xq`` (Theil-Sen: the median of the slopes between every two
    quarters, through the median of the values carried along it), the last value, the
    MAD of the values from the line."""
    a, b = _PAIRS
    slope = _nanmedian((win[:, b] - win[:, a]) / (wq[:, b] - wq[:, a]))
    on_line = win + slope[:, None] * (xq[:, None] - wq)  # each value carried along the line to x
    line = _nanmedian(on_line)
    return line, win[:, -1], _nanmedian(np.abs(on_line - line[:, None])), None


def _by_step(win: np.ndarray, wq: np.ndarray, xq: np.ndarray) -> Prediction:
    """The last value plus the median change per quarter for each quarter since, the
    last value, the MAD of the changes (times the quarters since)."""
    step = np.diff(win, axis=1) / np.diff(wq, axis=1)
    med = _nanmedian(step)
    gap = xq - wq[:, -1]
    return win[:, -1] + med * gap, win[:, -1], _nanmedian(np.abs(step - med[:, None])) * gap, None


def _by_season(win: np.ndarray, wq: np.ndarray, xq: np.ndarray) -> Prediction:
    """The quarter a year before plus the median change between the window's quarters a
    year apart, that quarter, the MAD of those changes; and which rows have that
    quarter and at least 2 such pairs (the others: NaN)."""
    a, b = _PAIRS
    yoy = win[:, b] - win[:, a]
    yoy[(wq[:, b] - wq[:, a]) != 4] = np.nan
    hit = (wq == (xq - 4)[:, None]) & ~np.isnan(win)
    which = hit.any(axis=1) & ((~np.isnan(yoy)).sum(axis=1) >= 2)
    med = _nanmedian(yoy)
    base = win[np.arange(len(win)), np.argmax(hit, axis=1)]
    return base + med, base, _nanmedian(np.abs(yoy - med[:, None])), which


def step_columns(cols: list[np.ndarray], qs: list[np.ndarray], n: np.ndarray, xq: np.ndarray,
                  x: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``_by_step`` and ``_far_from`` for windows given as 8 columns of values and of
    their quarters (oldest first; the last ``n`` (4 to 8) of each row are its values):
    whether each ``x`` (in quarter ``xq``) is far from it, and its prediction. The same
    floats as ``_by_step``, by the sorting network on whole columns instead of a sort of
    each row: the n - 1 changes of a row are padded to 8 with -inf and +inf, half and
    half (one more +inf), so that their median is the 4th (n - 1 odd) or the mean of
    the 3rd and 4th (n - 1 even) of the 8 sorted."""
    missing = WINDOW - n  # (changes missing from the 7, and 1 for the 8th column)
    low = missing // 2  # the first ``low`` missing are -inf, the rest +inf
    even = (n - 1) % 2 == 0

    def median_of(changes: list[np.ndarray]) -> np.ndarray:
        padded = []
        for c, v in enumerate(changes):
            padded.append(np.where(c < missing, np.where(c < low, -np.inf, np.inf), v))
        s = _sorted_columns(padded + [np.full(len(n), np.inf)])
        return np.where(even, (s[2] + s[3]) / 2, s[3])

    steps = [(cols[c + 1] - cols[c]) / (qs[c + 1] - qs[c]) for c in range(WINDOW - 1)]
    med = median_of(steps)
    mad = median_of([np.abs(c - med) for c in steps])
    last = cols[-1]
    gap = xq - qs[-1]
    expected = last + med * gap
    nonneg = np.minimum.reduce([np.where(c >= WINDOW - n, v, np.inf)
                                for c, v in enumerate(cols)]) >= 0
    expected = np.where(nonneg, np.maximum(expected, 0.0), expected)
    return _far_from(x, expected, last, mad * gap, counts), expected


def off_trend(win: np.ndarray, wq: np.ndarray, x: np.ndarray, xq: np.ndarray, counts: np.ndarray,
               stepped: np.ndarray | None = None, best: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """For values ``x`` (in quarters ``xq``, as quarter numbers) and their earlier
    quarters ``win`` (rows of 8 values, oldest first, NaN before the series' start; at
    least 4 values) in quarters ``wq``; ``counts``: which are counts: whether each is
    far from what its series predicts, and the prediction closest to it.

    Three predictions, each with the spread of what it is made of; a value is far when
    it is far from each of them (``_far_from``), so a series that one of them explains
    is never warned about (each is made only for the values still far from the ones
    before):
    - the last value plus the median quarter-to-quarter change for each quarter since
      (a new level, a cohort that joined, is followed), spread the MAD of the changes;
    - the line through the window (Theil-Sen), spread the MAD of the values from it;
    - when the window holds the quarter a year before and at least 2 pairs of quarters a
      year apart: that quarter plus the median of those pairs' changes (a season),
      spread their MAD.
    Changes are per quarter, so a missing quarter is bridged; a series of values >= 0 is
    not expected below 0. ``stepped``: rows already found far from the second
    (``step_columns``), ``best`` holding that prediction."""
    far = np.ones(len(win), dtype=bool)
    best = np.full(len(win), np.nan) if best is None else best.copy()
    live = np.arange(len(win))
    nonneg = np.logical_not((win < 0).any(axis=1))  # (NaN < 0 is False)
    with np.errstate(invalid="ignore", divide="ignore"):
        for predict in (_by_step, _by_line, _by_season):
            todo = live[~stepped[live]] if predict is _by_step and stepped is not None else live
            if not todo.size:
                continue
            lx = x[todo]
            expected, base, mad, which = predict(win[todo], wq[todo], xq[todo])
            expected = np.where(nonneg[todo], np.maximum(expected, 0.0), expected)
            off = _far_from(lx, expected, base, mad, counts[todo])
            closer = np.logical_not(np.abs(lx - expected) >= np.abs(lx - best[todo]))  # (NaN: the first)
            if which is not None:
                off |= ~which
                closer &= which
            best[todo[closer]] = expected[closer]
            far[todo[~off]] = False
            live = live[far[live]]
    return far, best
