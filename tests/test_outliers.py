"""Outlier warnings follow a series' trend: growth, seasons and new cohorts are not
outliers; slips of a unit, a currency, a digit or a quarter are, each one warning at
its cell."""

import datetime as dt

import numpy as np
import pytest

from linkdash import quarters as Q
from linkdash.importer import check_file
from tests.workbook_builder import reference_portfolio, xlsx_bytes

TODAY = dt.date(2019, 8, 1)
QS = Q.span("2016-Q3", "2019-Q2")  # 12 quarters
IND = ["pilot_id", "quarter"]
WOBBLE = [3, -5, 4, 0, -2, 6, -4, 1, 5, -3, 2, -1]  # small deterministic noise


def outliers(values, indicator="households_reached", current=None):
    """The outlier warnings (cell, value) of a file with one series of KEN-DAIRY (one
    row per quarter of ``QS``, from row 2), into a store holding no indicators."""
    rows = [["KEN-DAIRY", q, v] for q, v in zip(QS, values, strict=True)]
    c = check_file(xlsx_bytes({"Indicators": [IND + [indicator], *rows]}), "q.xlsx",
                   current or reference_portfolio(), today=TODAY)
    assert c.report.ok, c.report.errors[:3]
    return [(w.cell, w.value) for w in c.report.warnings if w.code == "outlier"], c.report


def steady(n=12):
    return [float(400 + 25 * i + w) for i, w in zip(range(n), WOBBLE)]


SEASON = [1.0, 0.6, 0.7, 2.4]  # Q3 peak (2016-Q3 is the first), as sheep sold for Tabaski


SERIES_WITHOUT_OUTLIERS = {
    "steady growth": ("households_reached", steady()),
    "growth 244 to 451": ("households_reached", [round(244 + 18.8 * i) for i in range(12)]),
    "accelerating 25% a quarter": ("sales_usd", [round(1000 * 1.25 ** i) for i in range(12)]),
    "accelerating 50% a quarter": ("sales_usd", [round(1000 * 1.5 ** i) for i in range(12)]),
    "faster and faster": ("members_total", [float(100 + 3 * i * i + w) for i, w in enumerate(WOBBLE)]),
    "new cohort, +45%": ("participants_total", [300, 305, 312, 318, 322, 330, 480, 486, 490, 497, 503, 510]),
    "seasonal sales": ("sales_usd", [round(20000 * 1.04 ** i * SEASON[i % 4]) for i in range(12)]),
    "harvest once a year": ("volume_sold", [400.0 if i % 4 == 1 else 100.0 for i in range(12)]),
    "declining": ("participants_total", [float(800 - 40 * i + w) for i, w in enumerate(WOBBLE)]),
    "small counts": ("prototypes_tested", [0, 0, 0, 1, 2, 1, 1, 0, 0, 0, 3, 0]),
    "a few households start": ("hh_above_living_income", [1, 1, 1, 1, 1, 6, 9, 13, 17, 18, 21, 22]),
    "flat": ("leaders_total", [14.0] * 12),
}


@pytest.mark.parametrize("name", SERIES_WITHOUT_OUTLIERS)
def test_growth_seasons_and_cohorts_are_not_outliers(name):
    indicator, values = SERIES_WITHOUT_OUTLIERS[name]
    found, _ = outliers(values, indicator)
    assert found == []


def _slip(values, i, to):
    out = list(values)
    out[i] = to(out[i])
    return out


# (series, quarter index of the slip, what the slip does)
SLIPS = {
    "x10": ("households_reached", steady(), 9, lambda v: v * 10),
    "x100 in the last quarter": ("households_reached", steady(), 11, lambda v: v * 100),
    "x1000 (a unit)": ("sales_usd", [round(5000 * 1.25 ** i) for i in range(12)], 8, lambda v: v * 1000),
    "/1000": ("sales_usd", [round(5000 * 1.25 ** i) for i in range(12)], 10, lambda v: v / 1000),
    "x100 (a currency) in seasonal sales": (
        "sales_usd", [round(20000 * 1.04 ** i * SEASON[i % 4]) for i in range(12)], 9, lambda v: v * 100),
    "an extra digit": ("members_total", steady(), 7, lambda v: float(f"{int(v)}{int(v) % 10}")),
    "a missing digit": ("members_total", steady(), 10, lambda v: float(str(int(v))[:-1])),
    "a drop to near 0": ("participants_total", steady(), 9, lambda v: 3.0),
}


@pytest.mark.parametrize("name", SLIPS)
def test_each_slip_is_exactly_one_warning_at_its_cell(name):
    indicator, values, i, slip = SLIPS[name]
    assert outliers(values, indicator)[0] == []  # (the series alone is fine)
    bad = _slip(values, i, slip)
    found, report = outliers(bad, indicator)
    assert found == [(f"C{i + 2}", bad[i])]
    msg = report.warnings[0].message
    assert "far from its earlier quarters and their trend (expected about " in msg
    assert msg.endswith("check the value; if it is right, leave it.")


def test_a_value_put_in_the_wrong_quarter_is_one_warning_saying_what_was_expected():
    """2016-Q3's value typed in 2019-Q1's row of a series that grew tenfold."""
    values = [float(100 + 80 * i + w) for i, w in enumerate(WOBBLE)]  # 103 .. 979
    bad = list(values)
    bad[10] = values[0]
    found, report = outliers(bad, "members_total")
    assert found == [("C12", 103.0)]
    msg = report.warnings[0].message
    expected = values[9] + 80
    about = float(msg.split("expected about ")[1].split()[0].replace(",", ""))
    assert abs(about - expected) < 0.1 * expected
    assert "from 2017-Q1\u20132018-Q4)" in msg  # the 8 quarters before 2019-Q1


# --- the demo data, as a user meets it --------------------------------------------------

def _outlier_warnings(report):
    return [w for w in report.warnings if w.code in ("outlier", "outliers_not_listed")]


def test_the_demo_export_validated_into_an_empty_store_has_no_outlier_warning(demo_file, tmp_path):
    """Export the demo data, validate the file into a new store: every quarter of the
    13 pilots arrives at once (the old rule warned about 198 of their values)."""
    from linkdash import exports
    from linkdash.store import Store

    demo = Store.open(f"sqlite:///{demo_file}")
    data = exports.export_xlsx_bytes(demo.load())
    demo.close()
    empty = Store.open(f"sqlite:///{tmp_path / 'empty.sqlite'}")
    c = check_file(data, "demo.xlsx", empty.load(), today=TODAY)
    empty.close()
    assert c.report.ok, c.report.errors[:3]
    assert len(c.tables["Indicators"]) > 2000
    assert _outlier_warnings(c.report) == []


def _next_quarter(portfolio, quarter="2019-Q1"):
    """Every pilot's next quarter as a template row would hold it: each indicator its
    last value plus its last change (scores and units as they were)."""
    from linkdash import catalogue

    kinds = catalogue.indicators()
    ind = portfolio.indicators.sort_values("quarter")
    rows = {}
    for (pid, code), g in ind.groupby(["pilot_id", "indicator"]):
        if kinds[code].kind == "unit":
            rows.setdefault(pid, {})[code] = g["text"].iloc[-1]
            continue
        v = g["value"].dropna()
        if v.empty:
            continue
        nxt = v.iloc[-1] if kinds[code].kind == "score" or len(v) < 2 else 2 * v.iloc[-1] - v.iloc[-2]
        rows.setdefault(pid, {})[code] = max(float(round(nxt)), 0.0)
    codes = sorted({c for r in rows.values() for c in r}, key=list(kinds).index)
    return codes, [[pid, quarter, *[r.get(c) for c in codes]] for pid, r in sorted(rows.items())]


def test_a_normal_next_quarter_over_the_demo_data_gives_no_warning_and_a_slip_one(demo_file):
    from linkdash.store import Store

    store = Store.open(f"sqlite:///{demo_file}")
    current = store.load()
    store.close()
    codes, rows = _next_quarter(current)
    fine = check_file(xlsx_bytes({"Indicators": [IND + codes, *rows]}), "2019-Q1.xlsx", current,
                      today=TODAY)
    assert fine.report.ok, fine.report.errors[:3]
    assert _outlier_warnings(fine.report) == []
    col = codes.index("sales_usd")
    rows[4][2 + col] *= 1000  # sales in another unit
    slip = check_file(xlsx_bytes({"Indicators": [IND + codes, *rows]}), "2019-Q1.xlsx", current,
                      today=TODAY)
    from linkdash.problems import column_letter

    assert [(w.cell, w.value) for w in _outlier_warnings(slip.report)] == [
        (f"{column_letter(2 + col)}6", rows[4][2 + col])]


def test_the_demo_export_with_one_value_a_thousand_times_too_high_gives_that_one_warning(demo_file):
    from linkdash import catalogue
    from linkdash.portfolio import Portfolio
    from linkdash.store import Store
    from tests.conftest import workbook_bytes

    store = Store.open(f"sqlite:///{demo_file}")
    current = store.load()
    store.close()
    ind, bare = current.indicators.copy(), Portfolio(pilots=current.pilots)  # no indicators stored
    rng = np.random.default_rng(5)
    kinds = catalogue.indicators()  # (not a part: ×1000 would be more than its total, an error)
    counted = ind[ind["indicator"].map(lambda c: kinds[c].kind != "score" and not kinds[c].total)
                  & ind["value"].notna() & (ind["value"] > 0) & (ind["quarter"] > "2017-Q4")]
    for target in rng.choice(counted.index.to_numpy(), 5, replace=False):
        planted = ind.copy()
        planted.loc[target, "value"] *= 1000
        c = check_file(workbook_bytes({"Indicators": planted}), "demo.xlsx", bare, today=TODAY)
        assert c.report.ok, c.report.errors[:3]
        r = planted.loc[target]
        label = catalogue.indicators()[r["indicator"]].label
        assert [w.message.split(" is ")[0] for w in _outlier_warnings(c.report)] == [
            f"{label} for {r['pilot_id']} {r['quarter']}"]


def test_the_trend_on_whole_columns_equals_the_trend_row_by_row():
    """The last value plus the usual change, made on columns with the sorting network
    (as the rule does) and row by row (np.sort): the same predictions and the same
    verdicts, for windows of 4 to 8 values with missing quarters; the row medians equal
    numpy's."""
    from linkdash.rules import trend as rules

    rng = np.random.default_rng(7)
    n = 6000
    count = rng.integers(4, 9, n)
    gaps = rng.choice([1, 1, 1, 2, 3], (n, 8))
    wq = 8000 + np.cumsum(gaps, axis=1)
    xq = wq[:, -1] + rng.choice([1, 2], n)
    win = np.where(rng.random((n, 8)) < 0.5, rng.normal(1000, 300, (n, 8)),
                   rng.integers(0, 5, (n, 8)).astype(float))
    win[np.arange(8)[None, :] < (8 - count)[:, None]] = np.nan
    x = np.where(rng.random(n) < 0.5, win[:, -1] * rng.choice([0.001, 0.4, 1.1, 3, 10], n), 1000.0)
    counts = rng.random(n) < 0.5
    cols = [np.where(np.isnan(win[:, c]), 12345.0, win[:, c]) for c in range(8)]  # (garbage before the start)
    with np.errstate(invalid="ignore", divide="ignore"):
        qs = [wq[:, c] for c in range(8)]
        far_cols, expected_cols = rules.step_columns(cols, qs, count, xq, x, counts)
        expected, base, mad, _ = rules._by_step(win, wq, xq)
        expected = np.where((np.nan_to_num(win, nan=0) >= 0).all(axis=1), np.maximum(expected, 0), expected)
        far_rows = rules._far_from(x, expected, base, mad, counts)
    assert np.array_equal(expected_cols, expected)
    assert np.array_equal(far_cols, far_rows) and 0 < far_rows.sum() < n
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert np.array_equal(rules._nanmedian(win), np.nanmedian(win, axis=1))
