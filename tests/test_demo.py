"""The illustrative demo data: deterministic, within every rule of the workbook contract,
and telling the stories the pages are meant to show."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from linkdash import catalogue, figures, quarters
from linkdash.demo import (
    DEMO_FILENAME,
    demo_file_bytes,
    demo_portfolio,
    demo_tables,
    load_demo,
    portfolio_from_tables,
)
from linkdash.portfolio import Filter

END_2018 = dt.date(2018, 12, 31)
TODAY = dt.date(2025, 1, 15)


@pytest.fixture(scope="module")
def tables():
    return demo_tables(TODAY)


@pytest.fixture(scope="module")
def wide(tables):
    return portfolio_from_tables(tables).indicators_wide()


def test_two_calls_give_the_same_data(tables):
    again = demo_tables(TODAY)
    assert list(again) == list(tables)
    for name in tables:
        pd.testing.assert_frame_equal(again[name], tables[name], obj=name)
    assert demo_file_bytes(again) == demo_file_bytes(tables)


def test_every_sheet_is_there_in_canonical_columns(tables):
    assert list(tables) == list(catalogue.SHEET_ORDER)
    sheets = catalogue.sheets()
    for name, df in tables.items():
        if name == "Indicators":
            assert list(df.columns) == ["pilot_id", "quarter", "indicator", "value", "text"]
        else:
            assert set(sheets[name].codes) <= set(df.columns), name
    ids = [p["pilot_id"] for p in catalogue.reference_pilots()]
    assert tables["Pilots"]["pilot_id"].tolist() == ids
    assert all(isinstance(d, dt.date) for d in tables["Pilots"]["start_date"])


def test_keys_are_unique(tables):
    for name, df in tables.items():
        key = (["pilot_id", "quarter", "indicator"] if name == "Indicators"
               else list(catalogue.sheets()[name].key))
        assert not df.duplicated(key).any(), name


# --- the rules of the spec ---------------------------------------------------------------

def test_indicators_respect_every_rule(tables, wide):
    ind = tables["Indicators"]
    cat = catalogue.indicators()
    assert set(ind["indicator"]) <= set(cat)
    for code, ind_def in cat.items():
        if ind_def.kind == "unit":
            continue
        col = wide[code].dropna()
        if ind_def.kind == "count":
            assert (col >= 0).all() and (col == col.round()).all(), code
        if ind_def.kind == "nonneg":
            assert (col >= 0).all(), code
        if ind_def.kind == "score":
            assert col.isin([1, 2, 3, 4, 5]).all(), code
        if ind_def.total:
            both = wide[[code, ind_def.total]].dropna()
            assert (both[code] <= both[ind_def.total]).all(), code
    starts = {p["pilot_id"]: quarters.of_date(dt.date.fromisoformat(p["start_date"]))
              for p in catalogue.reference_pilots()}
    assert (ind["quarter"] <= quarters.current(TODAY)).all()
    assert all(q >= starts[p] for p, q in zip(ind["pilot_id"], ind["quarter"]))
    units = ind[ind["indicator"] == "volume_unit"]
    assert units["text"].isin(catalogue.VOLUME_UNITS).all() and units["value"].isna().all()
    assert ind.loc[ind["indicator"] != "volume_unit", "value"].notna().all()
    assert ind.loc[ind["indicator"] != "volume_unit", "text"].isna().all()


def test_volume_unit_follows_the_value_chain(tables):
    pilots = tables["Pilots"].set_index("pilot_id")["value_chain"]
    units = tables["Indicators"].query("indicator == 'volume_unit'")
    expected = {"dairy_cow": "litres", "dairy_goat": "litres", "goat_meat": "head", "sheep": "head",
                "chicken_meat": "kg", "chicken_eggs": "eggs"}
    for pid, unit in zip(units["pilot_id"], units["text"]):
        assert unit == expected[pilots[pid]], pid


def test_progress_respects_every_rule(tables):
    pr = tables["Progress"]
    assert set(pr["milestone"]) == set(catalogue.MILESTONES)
    assert len(pr) == 13 * len(catalogue.MILESTONES)
    for r in pr.itertuples():
        for start, end in ((r.planned_start, r.planned_end), (r.actual_start, r.actual_end)):
            if start is not None and end is not None:
                assert end >= start, (r.pilot_id, r.milestone)
        assert r.status in catalogue.STATUSES
        if r.status == "completed":
            assert r.actual_end is not None
        elif r.status != "dropped":
            derived = "in_progress" if r.actual_start is not None else "not_started"
            assert r.actual_end is None and r.status == derived, (r.pilot_id, r.milestone)
    ws = pr[pr["milestone"] == "training_workshop"]
    assert set(ws["actual_start"]) == {dt.date(2016, 6, 6)}
    assert set(ws["actual_end"]) == {dt.date(2016, 6, 10)}
    assert ws["notes"].str.contains("Siem Reap").all()


def test_lessons_benchmarks_rates_and_targets_respect_the_rules(tables):
    les = tables["Lessons"]
    assert les["kind"].isin(catalogue.LESSON_KINDS).all()
    assert les["milestone"].dropna().isin(catalogue.MILESTONES).all()
    assert (les["lesson"].str.len() <= catalogue.LESSON_MAX_CHARS).all()
    assert (les["quarter"] <= quarters.current(TODAY)).all()
    bm = tables["Benchmarks"]
    assert set(bm["country"]) == set(tables["Pilots"]["country"])
    assert set(bm["year"]) == {2016, 2017, 2018}
    assert (bm["source"] == "illustrative demo data").all()
    assert all(800 < v < 10_000 for v in bm["living_income_usd"])
    rates = tables["Rates"]
    for cur in tables["Pilots"]["currency"]:
        assert len(rates[rates["currency"] == cur]) == len(quarters.span("2016-Q3", "2018-Q4")), cur
    assert (rates["units_per_usd"] > 0).all()
    tg = tables["Targets"]
    assert tg["indicator"].isin(catalogue.numeric_indicators()).all()
    assert 0 < tg["pilot_id"].nunique() < 13  # some pilots have no targets
    assert {"households_reached", "income_avg_usd", "participants_women"} <= set(tg["indicator"])


def test_nothing_after_today_when_today_is_in_the_past():
    t = demo_tables(dt.date(2017, 8, 15))
    assert t["Indicators"]["quarter"].max() == "2017-Q3"
    assert t["Lessons"]["quarter"].max() <= "2017-Q3"
    pr = t["Progress"]
    for col in ("actual_start", "actual_end"):
        assert all(d is None or d <= dt.date(2017, 8, 15) for d in pr[col])
    assert (pr.loc[pr["actual_end"].isna() & (pr["status"] != "dropped"), "status"] != "completed").all()
    assert (pr["status"] == "in_progress").any()


def test_demo_round_trips_through_the_importer(tables, tmp_path):
    importer = pytest.importorskip("linkdash.importer")
    template = pytest.importorskip("linkdash.template")
    if not hasattr(template, "write_template"):
        pytest.skip("linkdash.template.write_template not written yet")
    from linkdash.portfolio import Portfolio

    out = tmp_path / "demo.xlsx"
    template.write_template(out, portfolio_from_tables(tables))
    checked = importer.check_file(out.read_bytes(), out.name, Portfolio(), today=TODAY)
    assert [p.message for p in checked.report.errors] == []
    again = portfolio_from_tables(checked.tables)
    original = portfolio_from_tables(tables)
    f1 = figures.portfolio_figures(original, quarter="2017-Q4", as_of=END_2018)
    f2 = figures.portfolio_figures(again, quarter="2017-Q4", as_of=END_2018)
    assert f1 == f2


# --- the stories ---------------------------------------------------------------------------------

def test_figures_for_2017_q4_are_plausible(tables):
    f = figures.portfolio_figures(portfolio_from_tables(tables), quarter="2017-Q4", as_of=END_2018)
    assert f["pilots_total"] == 13
    assert 0 < f["pilots_reporting"] < 13  # a reporting gap
    for name, fig in figures.FIGURES.items():
        if fig.kind == "share":
            assert 0 < f[name] < 1, name
    assert 0 < f["income_avg_usd"] < 10_000
    assert f["households_reached"] > f["participants_total"] > 0
    assert f["milestones_overdue"] >= 1 and f["milestones_completed"] > 13 * 7


def test_african_dairy_shows_the_pilot_whose_incomes_stalled(tables):
    p = portfolio_from_tables(tables).filtered(Filter(regions=("Africa",), value_chains=("dairy_cow",)))
    w = p.indicators_wide().dropna(subset=["income_avg_usd"]).sort_values("quarter")
    growth = w.groupby("pilot_id")["income_avg_usd"].agg(lambda s: s.iloc[-1] / s.iloc[0] - 1)
    assert len(growth) >= 4
    stalled = growth.idxmin()
    assert growth[stalled] < 0.25
    assert (growth.drop(stalled) > 0.5).all()
    lessons = tables["Lessons"]
    assert lessons[lessons["pilot_id"] == stalled]["lesson"].str.contains("milk collection").any()


def test_most_incomes_approach_the_living_income_benchmark(tables):
    p = portfolio_from_tables(tables)
    first = figures.pilot_quarter_table(p, "2016-Q4").set_index("pilot_id")["income_to_living_income"]
    last = figures.pilot_quarter_table(p, "2018-Q2").set_index("pilot_id")["income_to_living_income"]
    rising = (last - first).dropna()
    assert (rising > 0.15).sum() >= 9
    assert (last.dropna() < 1.05).all()  # towards, not far beyond


def test_women_and_youth_shares_with_a_laggard(tables):
    p = portfolio_from_tables(tables)
    t = figures.pilot_quarter_table(p, "2018-Q3").set_index("pilot_id")
    women = t["women_share_participants"].dropna()
    youth = t["youth_share_participants"].dropna()
    assert women.between(0.28, 0.7).sum() >= len(women) - 1
    assert women.min() < 0.28  # the laggard
    assert youth.between(0.12, 0.4).all()


def test_reporting_gaps_and_a_pilot_giving_women_leaders_without_total(tables, wide):
    grid = figures.reporting_grid(portfolio_from_tables(tables))
    assert (grid == 0).any(axis=1).sum() >= 5
    assert ((grid == 0).sum(axis=1) <= 2).all()
    partial = wide[wide["leaders_women"].notna() & wide["leaders_total"].isna()]
    assert len(partial) > 0


def test_nbmp_assessed_at_least_twice_and_improving(wide):
    for pid, g in wide.dropna(subset=["nbmp_governance"]).groupby("pilot_id"):
        scores = g.sort_values("quarter")[list(catalogue.NBMP)]
        assert len(scores) >= 2, pid
        assert scores.iloc[-1].sum() >= scores.iloc[0].sum(), pid
    improved = sum(
        g.sort_values("quarter")[list(catalogue.NBMP)].sum(axis=1).iloc[-1]
        > g.sort_values("quarter")[list(catalogue.NBMP)].sum(axis=1).iloc[0]
        for _, g in wide.dropna(subset=["nbmp_governance"]).groupby("pilot_id"))
    assert improved >= 10


def test_progress_has_something_to_show_at_the_end_of_2018(tables):
    s = figures.milestone_status_as_of(portfolio_from_tables(tables).milestones, END_2018)
    assert s["overdue"].sum() >= 1
    assert (s["status_as_of"] == "in_progress").sum() >= 1
    assert (s["status_as_of"] == "dropped").sum() >= 1
    late = s[s["completed"] & (s["days_late"] > 14)]
    assert late["pilot_id"].nunique() >= 3  # some pilots late
    assert (s["completed"]).mean() > 0.9


def test_lessons_per_pilot(tables):
    les = tables["Lessons"]
    per_pilot = les.groupby("pilot_id").size()
    assert len(per_pilot) == 13 and per_pilot.between(3, 6).all()
    assert set(les["kind"]) == set(catalogue.LESSON_KINDS)
    dairy = set(tables["Pilots"].query("value_chain == 'dairy_cow'")["pilot_id"])
    milk = les[les["lesson"].str.contains("milk collection", case=False)]
    assert milk["pilot_id"].isin(dairy).all() and milk["pilot_id"].nunique() >= 4


def test_demo_portfolio_has_country_names():
    p = demo_portfolio(TODAY)
    assert p.pilots["country_name"].notna().all()
    assert "Vietnam" in set(p.pilots["country_name"])


# --- the demo command -----------------------------------------------------------------------------

def test_demo_command_loads_once_and_is_labelled(store, store_url, capsys):
    from linkdash import cli

    def demo(*flags: str) -> int:
        return cli.main(["--db", store_url, "demo", "--as-admin", *flags])

    assert demo("--if-empty") == 0
    assert "13 pilots" in capsys.readouterr().out
    loaded = store.load()
    assert len(loaded.pilots) == 13
    subs = store.submissions()
    assert len(subs) == 1 and subs.iloc[0]["filename"] == DEMO_FILENAME
    # the store gives the same figures as the tables themselves
    direct = figures.portfolio_figures(portfolio_from_tables(demo_tables()), as_of=END_2018)
    assert figures.portfolio_figures(loaded, as_of=END_2018) == direct
    assert demo("--if-empty") == 0
    assert "already has 13 pilots" in capsys.readouterr().out
    assert demo() == 0
    assert "already stored" in capsys.readouterr().out
    assert len(store.submissions()) == 1  # the same data again stores nothing
    again = load_demo(store)
    assert again.ok and again.submission_id is None and again.duplicate_of == subs.iloc[0]["id"]
    assert load_demo(store, only_if_empty=True).pilots_in_store == 13
