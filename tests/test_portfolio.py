"""Portfolio at scale: a filter's part, the wide indicator table and the value counts
are the same as computed the plain way (pandas pivots and masks), whatever the
portfolio has computed before; a filter's part is made once and shared."""

from __future__ import annotations

import pandas as pd
import pytest

from linkdash import catalogue, demo, generate
from linkdash.portfolio import Filter, Portfolio


def plain_wide(p: Portfolio) -> pd.DataFrame:
    ind = p.indicators
    num = ind[ind["indicator"] != "volume_unit"]
    wide = num.pivot_table(index=["pilot_id", "quarter"], columns="indicator", values="value",
                           aggfunc="first")
    units = ind[ind["indicator"] == "volume_unit"].set_index(["pilot_id", "quarter"])["text"]
    wide = wide.reindex(columns=catalogue.numeric_indicators()).astype("float64")
    wide["volume_unit"] = units.reindex(wide.index)
    wide = wide.reset_index()
    wide.columns.name = None
    return wide


def plain_part(p: Portfolio, flt: Filter) -> dict[str, pd.DataFrame]:
    pil = p.pilots
    keep = pd.Series(True, index=pil.index)
    for col, chosen in (("region", flt.regions), ("country", flt.countries),
                        ("value_chain", flt.value_chains), ("pilot_id", flt.pilots)):
        if chosen:
            keep &= pil[col].isin(chosen)
    ids = set(pil[keep]["pilot_id"])
    return {name: getattr(p, name)[getattr(p, name)["pilot_id"].isin(ids)].reset_index(drop=True)
            for name in ("pilots", "milestones", "indicators", "targets", "lessons")}


@pytest.fixture(scope="module", params=["demo", "generated"])
def portfolio(request):
    if request.param == "demo":
        return demo.demo_portfolio()
    return generate.portfolio(400, 12)  # over 20,000 indicator rows: the coded paths


FILTERS = [Filter(regions=("Africa",)), Filter(value_chains=("dairy_cow", "swine")),
           Filter(regions=("Asia",), value_chains=("goat_meat",)), Filter(pilots=("NOPE",))]


@pytest.mark.parametrize("warm", [False, True])
@pytest.mark.parametrize("flt", FILTERS, ids=str)
def test_a_filters_part_is_the_plain_filter(portfolio, flt, warm):
    whole = Portfolio(**{n: getattr(portfolio, n) for n in
                         ("pilots", "milestones", "indicators", "targets", "lessons", "benchmarks", "rates")})
    if warm:  # views computed on the whole first: the part takes its rows of them
        whole.indicators_wide()
        whole.reported_counts()
    part = whole.filtered(flt)
    for name, frame in plain_part(whole, flt).items():
        pd.testing.assert_frame_equal(getattr(part, name).reset_index(drop=True), frame, obj=name)
    pd.testing.assert_frame_equal(part.indicators_wide(), plain_wide(part), check_dtype=False)
    rv = part.indicators
    expected = rv.groupby(["pilot_id", "quarter"]).size().unstack(fill_value=0) if len(rv) else None
    got = part.reported_counts()
    if expected is None:
        assert got.empty
    else:
        pd.testing.assert_frame_equal(got, expected, check_dtype=False, check_names=False,
                                      check_index_type=False, check_column_type=False)
    assert part.quarters() == sorted(set(rv["quarter"]))
    assert part.data_version is None


def test_the_wide_table_is_the_pivot(portfolio):
    pd.testing.assert_frame_equal(portfolio.indicators_wide(), plain_wide(portfolio), check_dtype=False)


def test_a_part_is_made_once_and_all_pilots_is_the_whole(portfolio):
    flt = Filter(regions=("Africa",))
    assert portfolio.filtered(flt) is portfolio.filtered(flt)
    assert portfolio.filtered(Filter()) is portfolio
    everyone = Filter(regions=tuple(sorted(set(portfolio.pilots["region"]))))
    assert portfolio.filtered(everyone) is portfolio
    # only the last few parts are kept
    for chain in catalogue.VALUE_CHAINS:
        portfolio.filtered(Filter(value_chains=(chain,)))
    assert len(portfolio._memo["parts"]) <= Portfolio.PARTS_KEPT


def test_a_part_with_every_indicator_row_keeps_its_own_pilot_tables():
    """A pilot without any indicator value filtered out: the part has every indicator row
    (and shares those views) but fewer pilots, and its per-pilot figures say so."""
    from linkdash import figures

    tables = generate.generate_tables(6, 4)
    reporting = tuple(tables["Pilots"]["pilot_id"])
    silent = tables["Pilots"].iloc[[0]].assign(pilot_id="ZZZ-SILENT01")
    tables["Pilots"] = pd.concat([tables["Pilots"], silent], ignore_index=True)
    whole = demo.portfolio_from_tables(tables)
    before = figures.figures_by_quarter(whole)  # memoised on the whole
    part = whole.filtered(Filter(pilots=reporting))
    assert len(part.indicators) == len(whole.indicators) and len(part.pilots) == len(whole.pilots) - 1
    pd.testing.assert_frame_equal(part.indicators_wide(), whole.indicators_wide())
    after = figures.figures_by_quarter(part)
    assert int(before["pilots_total"].iloc[-1]) == len(whole.pilots)
    assert int(after["pilots_total"].iloc[-1]) == len(part.pilots)


def test_each_pilots_last_reported_quarter_is_the_latest_with_a_value_up_to_a_quarter():
    p = demo.demo_portfolio()
    ind = p.indicators.copy()
    ind.loc[ind["pilot_id"] == "KEN-DAIRY", ["value", "text"]] = None  # rows without a value don't count
    p = Portfolio(pilots=p.pilots, indicators=ind)
    reported = ind[ind["value"].notna() | ind["text"].notna()]
    for upto in (None, "2018-Q2", "2017-Q1", "2000-Q1"):
        rows = reported if upto is None else reported[reported["quarter"] <= upto]
        expected = rows.groupby("pilot_id")["quarter"].max().to_dict()
        assert p.last_reported(upto) == expected
        assert "KEN-DAIRY" not in expected
    assert p.last_reported("2000-Q1") == {} and Portfolio().last_reported() == {}
    part = p.filtered(Filter(regions=("Africa",)))
    ids = set(part.pilots["pilot_id"])
    assert part.last_reported() == {k: v for k, v in p.last_reported().items() if k in ids}


def test_sessions_making_parts_while_others_memoise_views_do_not_fail():
    """The portfolio is shared by every session of the app. A part that keeps every
    indicator row takes the whole's memoised views; taking them while another session's
    run memoised a view failed ("dictionary changed size during iteration"). Threads
    switched as often as Python allows; other runs' views stood in for by many keys."""
    import sys
    import threading

    from linkdash import figures

    tables = generate.generate_tables(6, 4)
    reporting = tuple(tables["Pilots"]["pilot_id"])
    silent = tables["Pilots"].iloc[[0]].assign(pilot_id="ZZZ-SILENT01")
    tables["Pilots"] = pd.concat([tables["Pilots"], silent], ignore_index=True)
    errors: list[str] = []
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for _ in range(25):
            whole = demo.portfolio_from_tables(tables)
            whole._memo.update({f"view{i}": i for i in range(2000)})
            start = threading.Barrier(8)

            def make_parts(whole, start):
                start.wait()
                try:
                    for _ in range(3):
                        whole._memo.get("parts", {}).clear()
                        part = whole.filtered(Filter(pilots=reporting))
                        assert len(part.pilots) == len(reporting)
                except Exception as exc:  # noqa: BLE001 - what a session would have shown
                    errors.append(repr(exc))

            def memoise(whole, start, n):
                start.wait()
                try:
                    for j in range(200):
                        whole._memo[f"run{n}-{j}"] = j
                    figures.figures_by_quarter(whole)
                except Exception as exc:  # noqa: BLE001
                    errors.append(repr(exc))

            threads = ([threading.Thread(target=make_parts, args=(whole, start)) for _ in range(4)]
                       + [threading.Thread(target=memoise, args=(whole, start, n)) for n in range(4)])
            for t in threads:
                t.start()
            for t in threads:
                t.join()
    finally:
        sys.setswitchinterval(interval)
    assert errors == []
