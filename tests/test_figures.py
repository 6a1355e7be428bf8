"""The portfolio figures on hand-built portfolios: what a director sees in the cards,
the deck and ``python -m linkdash summary``."""

from __future__ import annotations

import datetime as dt
import json
import math

import pandas as pd
import pytest

from linkdash import figures as F
from linkdash.portfolio import FRAME_COLUMNS, Filter, Portfolio

D = dt.date

PILOTS = {
    "KEN-DAIRY": dict(country="KEN", country_name="Kenya", region="Africa", value_chain="dairy_cow"),
    "UGA-DAIRY": dict(country="UGA", country_name="Uganda", region="Africa", value_chain="dairy_cow"),
    "SEN-SHEEP": dict(country="SEN", country_name="Senegal", region="Africa", value_chain="sheep"),
    "PHL-DAIRYGOAT": dict(country="PHL", country_name="Philippines", region="Asia", value_chain="dairy_goat"),
    "NPL-GOAT": dict(country="NPL", country_name="Nepal", region="Asia", value_chain="goat_meat"),
}


def make_portfolio(pilot_ids=(), values=None, milestones=(), benchmarks=()) -> Portfolio:
    """pilots by id (from PILOTS); values: {(pilot, quarter): {indicator: value}};
    milestones: dicts with the Progress columns."""
    def frame(name, rows):
        cols = FRAME_COLUMNS[name]
        return pd.DataFrame([{c: r.get(c) for c in cols} for r in rows], columns=cols).astype(object)

    pilots = frame("pilots", [dict(pilot_id=p, pilot_name=p.title(), **PILOTS[p]) for p in pilot_ids])
    ind_rows = []
    for (pid, q), vals in (values or {}).items():
        for code, v in vals.items():
            if code == "volume_unit":
                ind_rows.append(dict(pilot_id=pid, quarter=q, indicator=code, value=math.nan, text=v))
            else:
                ind_rows.append(dict(pilot_id=pid, quarter=q, indicator=code, value=float(v), text=None))
    ind = pd.DataFrame(ind_rows, columns=FRAME_COLUMNS["indicators"])
    ind["value"] = ind["value"].astype("float64")
    ms = [dict(dict(planned_start=None, planned_end=None, actual_start=None, actual_end=None,
                    status=None, notes=None), **m) for m in milestones]
    for m in ms:
        if m["status"] is None:
            m["status"] = ("completed" if m["actual_end"] else
                           "in_progress" if m["actual_start"] else "not_started")
    return Portfolio(pilots=pilots, indicators=ind, milestones=frame("milestones", ms),
                     benchmarks=frame("benchmarks", list(benchmarks)))


# --- quarters and reporting -------------------------------------------------------------

def test_a_pilot_that_did_not_report_is_neither_zero_nor_carried_forward():
    p = make_portfolio(["KEN-DAIRY", "UGA-DAIRY"], {
        ("KEN-DAIRY", "2017-Q1"): dict(households_reached=100, income_avg_usd=1000, sales_usd=5000),
        ("UGA-DAIRY", "2017-Q1"): dict(households_reached=300, income_avg_usd=3000, sales_usd=7000),
        ("KEN-DAIRY", "2017-Q2"): dict(households_reached=120, income_avg_usd=1100, sales_usd=6000),
    })
    f = F.portfolio_figures(p)
    assert f["quarter"] == "2017-Q2"  # latest quarter with any value
    assert f["pilots_total"] == 2
    assert f["pilots_reporting"] == 1
    assert f["households_reached"] == 120  # not 120 + 300 (Uganda's Q1 carried forward)
    assert f["income_avg_usd"] == pytest.approx(1100)  # not pulled down by a zero for Uganda
    assert f["sales_usd"] == 6000
    earlier = F.portfolio_figures(p, quarter="2017-Q1")
    assert earlier["pilots_reporting"] == 2
    assert earlier["households_reached"] == 400


def test_sums_over_no_values_are_none_not_zero():
    p = make_portfolio(["KEN-DAIRY"], {("KEN-DAIRY", "2017-Q3"): dict(participants_total=40)})
    f = F.portfolio_figures(p)
    assert f["participants_total"] == 40
    assert f["pilots_reporting"] == 1
    for name in ("households_reached", "sales_usd", "income_avg_usd", "women_share_participants",
                 "share_above_living_income", "women_share_leaders"):
        assert f[name] is None, name
        assert F.format_figure(name, f[name]) == "no data"
    # a quarter nobody reported
    g = F.portfolio_figures(p, quarter="2018-Q1")
    assert g["pilots_reporting"] == 0 and g["participants_total"] is None


def test_a_volume_unit_alone_counts_as_reporting():
    p = make_portfolio(["KEN-DAIRY"], {("KEN-DAIRY", "2017-Q3"): dict(volume_unit="litres")})
    f = F.portfolio_figures(p)
    assert f["quarter"] == "2017-Q3" and f["pilots_reporting"] == 1


def test_a_single_pilot_gives_its_own_numbers():
    vals = dict(households_reached=250, participants_total=80, participants_women=36, participants_youth=20,
                members_total=200, members_women=90, members_youth=30, leaders_total=9, leaders_women=4,
                income_avg_usd=1520, hh_surveyed=60, hh_above_living_income=15, sales_usd=12345)
    f = F.portfolio_figures(make_portfolio(["NPL-GOAT"], {("NPL-GOAT", "2018-Q2"): vals}))
    assert f["pilots_total"] == f["pilots_reporting"] == 1
    assert f["women_share_participants"] == pytest.approx(36 / 80)
    assert f["youth_share_participants"] == pytest.approx(20 / 80)
    assert f["women_share_members"] == pytest.approx(90 / 200)
    assert f["youth_share_members"] == pytest.approx(30 / 200)
    assert f["women_share_leaders"] == pytest.approx(4 / 9)  # unrounded
    assert f["share_above_living_income"] == pytest.approx(15 / 60)
    assert f["income_avg_usd"] == pytest.approx(1520)
    assert f["households_reached"] == 250 and f["sales_usd"] == 12345


def test_shares_only_over_pilots_that_gave_both_numbers():
    p = make_portfolio(["KEN-DAIRY", "UGA-DAIRY", "SEN-SHEEP"], {
        ("KEN-DAIRY", "2017-Q4"): dict(participants_total=100, participants_women=30),
        ("UGA-DAIRY", "2017-Q4"): dict(participants_women=50),  # women but not the total
        ("SEN-SHEEP", "2017-Q4"): dict(participants_total=300),  # total but not women
    })
    f = F.portfolio_figures(p)
    assert f["women_share_participants"] == pytest.approx(0.3)
    assert f["participants_total"] == 400  # the sum still takes every pilot that gave it
    assert f["youth_share_participants"] is None


def test_a_share_with_a_zero_total_is_no_data():
    zeros = dict(leaders_total=0, leaders_women=0, hh_surveyed=0, hh_above_living_income=0)
    p = make_portfolio(["KEN-DAIRY"], {("KEN-DAIRY", "2017-Q4"): zeros})
    f = F.portfolio_figures(p)
    assert f["women_share_leaders"] is None and f["share_above_living_income"] is None


def test_income_is_weighted_by_households_over_pilots_with_both():
    p = make_portfolio(["KEN-DAIRY", "UGA-DAIRY", "SEN-SHEEP"], {
        ("KEN-DAIRY", "2018-Q1"): dict(income_avg_usd=1000, households_reached=100),
        ("UGA-DAIRY", "2018-Q1"): dict(income_avg_usd=2000, households_reached=300),
        ("SEN-SHEEP", "2018-Q1"): dict(income_avg_usd=9000),  # no households: left out
    })
    f = F.portfolio_figures(p)
    assert f["income_avg_usd"] == pytest.approx((1000 * 100 + 2000 * 300) / 400)
    assert f["households_reached"] == 400


def test_shares_stay_between_zero_and_one_and_are_fractions():
    p = make_portfolio(["KEN-DAIRY", "NPL-GOAT"], {
        ("KEN-DAIRY", "2018-Q1"): dict(members_total=500, members_women=500, members_youth=0),
        ("NPL-GOAT", "2018-Q1"): dict(members_total=100, members_women=20, members_youth=10),
    })
    f = F.portfolio_figures(p)
    assert f["women_share_members"] == pytest.approx(520 / 600)
    assert f["youth_share_members"] == pytest.approx(10 / 600)


# --- filters --------------------------------------------------------------------------------

@pytest.fixture
def five():
    values = {}
    for i, pid in enumerate(PILOTS):
        values[(pid, "2017-Q4")] = dict(households_reached=100 * (i + 1), sales_usd=1000 * (i + 1))
    # the Asian pilots stop after 2017-Q4; the Africans report 2018-Q1 too
    for i, pid in enumerate(["KEN-DAIRY", "UGA-DAIRY", "SEN-SHEEP"]):
        values[(pid, "2018-Q1")] = dict(households_reached=150 * (i + 1))
    return make_portfolio(list(PILOTS), values)


@pytest.mark.parametrize("flt, pilots, households_q4", [
    (Filter(), 5, 1500),
    (Filter(regions=("Africa",)), 3, 600),
    (Filter(regions=("Asia",)), 2, 900),
    (Filter(countries=("KEN",)), 1, 100),
    (Filter(value_chains=("dairy_cow",)), 2, 300),
    (Filter(regions=("Africa",), value_chains=("dairy_cow",)), 2, 300),
    (Filter(pilots=("NPL-GOAT", "SEN-SHEEP")), 2, 800),
    (Filter(regions=("Latin America",)), 0, None),
])
def test_filters_select_the_pilots(five, flt, pilots, households_q4):
    f = F.portfolio_figures(five, flt, quarter="2017-Q4")
    assert f["pilots_total"] == pilots
    assert f["households_reached"] == households_q4


def test_default_quarter_is_the_latest_in_the_filter(five):
    assert F.portfolio_figures(five)["quarter"] == "2018-Q1"
    assert F.portfolio_figures(five, Filter(regions=("Asia",)))["quarter"] == "2017-Q4"
    asia = F.portfolio_figures(five, Filter(regions=("Asia",)))
    assert asia["pilots_reporting"] == 2 and asia["households_reached"] == 900


# --- milestones --------------------------------------------------------------------------------

MILESTONES = [
    dict(pilot_id="KEN-DAIRY", milestone="vc_map", planned_start=D(2016, 7, 1), planned_end=D(2016, 9, 30),
         actual_start=D(2016, 7, 4), actual_end=D(2016, 11, 15)),  # completed 46 days late
    dict(pilot_id="KEN-DAIRY", milestone="prototype_cycle", planned_start=D(2017, 4, 1),
         planned_end=D(2017, 12, 15), actual_start=D(2017, 5, 1)),  # in progress, never finished
    dict(pilot_id="KEN-DAIRY", milestone="peer_review", planned_end=D(2017, 3, 31), status="dropped"),
    dict(pilot_id="NPL-GOAT", milestone="vc_map", planned_end=D(2016, 9, 30),
         actual_start=D(2016, 7, 1), actual_end=D(2016, 9, 20)),  # on time
    dict(pilot_id="NPL-GOAT", milestone="documentation", planned_end=D(2018, 9, 30)),  # not started
]


@pytest.mark.parametrize("as_of, completed, overdue", [
    (D(2016, 9, 1), 0, 0),
    (D(2016, 9, 30), 1, 0),   # Nepal's map done; Kenya's planned end == as-of: not yet overdue
    (D(2016, 10, 1), 1, 1),   # Kenya's map is late
    (D(2016, 11, 15), 2, 0),
    (D(2018, 1, 1), 2, 1),    # Kenya's prototype cycle
    (D(2018, 10, 1), 2, 2),   # and Nepal's documentation
])
def test_milestones_as_of_a_date(as_of, completed, overdue):
    p = make_portfolio(["KEN-DAIRY", "NPL-GOAT"], milestones=MILESTONES)
    f = F.portfolio_figures(p, as_of=as_of)
    assert (f["milestones_completed"], f["milestones_overdue"]) == (completed, overdue)
    assert f["as_of"] == as_of


def test_milestones_follow_the_filter():
    p = make_portfolio(["KEN-DAIRY", "NPL-GOAT"], milestones=MILESTONES)
    f = F.portfolio_figures(p, Filter(pilots=("NPL-GOAT",)), as_of=D(2018, 10, 1))
    assert (f["milestones_completed"], f["milestones_overdue"]) == (1, 1)


def test_milestone_status_as_of_gives_status_overdue_and_days_late():
    s = F.milestone_status_as_of(make_portfolio(["KEN-DAIRY", "NPL-GOAT"], milestones=MILESTONES).milestones,
                                 D(2018, 1, 14)).set_index(["pilot_id", "milestone"])
    assert s.loc[("KEN-DAIRY", "vc_map"), "status_as_of"] == "completed"
    assert s.loc[("KEN-DAIRY", "vc_map"), "days_late"] == 46
    assert s.loc[("KEN-DAIRY", "prototype_cycle"), "status_as_of"] == "in_progress"
    assert bool(s.loc[("KEN-DAIRY", "prototype_cycle"), "overdue"])
    assert s.loc[("KEN-DAIRY", "prototype_cycle"), "days_late"] == 30
    assert s.loc[("KEN-DAIRY", "peer_review"), "status_as_of"] == "dropped"
    assert not bool(s.loc[("KEN-DAIRY", "peer_review"), "overdue"])
    assert s.loc[("NPL-GOAT", "vc_map"), "days_late"] == 0
    assert s.loc[("NPL-GOAT", "documentation"), "status_as_of"] == "not_started"
    # earlier: the completed milestone was only in progress then
    early = F.milestone_status_as_of(make_portfolio(["KEN-DAIRY"], milestones=MILESTONES[:1]).milestones,
                                     D(2016, 8, 1))
    assert early["status_as_of"].tolist() == ["in_progress"] and not early["completed"].any()


def _status_row_by_row(milestones: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """``milestone_status_as_of`` as it was written before it worked on whole columns
    (one milestone at a time): the reference the column version must equal."""
    from linkdash.values import as_date

    out = milestones.copy()
    status, completed, overdue, late = [], [], [], []
    for r in out.itertuples(index=False):
        a_s, a_e, p_e = as_date(r.actual_start), as_date(r.actual_end), as_date(r.planned_end)
        stored = r.status if isinstance(r.status, str) else None
        done = a_e is not None and a_e <= as_of
        if stored == "dropped":
            st = "dropped"
        elif done:
            st = "completed"
        elif (a_s is not None and a_s <= as_of) or (stored == "in_progress" and a_s is None):
            st = "in_progress"
        else:
            st = "not_started"
        od = p_e is not None and p_e < as_of and not done and st != "dropped"
        if p_e is None or st == "dropped":
            d = None
        elif done and a_e is not None:
            d = max(0, (a_e - p_e).days)
        else:
            d = max(0, (as_of - p_e).days)
        status.append(st)
        completed.append(done)
        overdue.append(od)
        late.append(d)
    out["status_as_of"] = pd.Series(status, index=out.index, dtype=object)
    out["completed"] = pd.Series(completed, index=out.index, dtype=bool)
    out["overdue"] = pd.Series(overdue, index=out.index, dtype=bool)
    out["days_late"] = pd.Series(late, index=out.index, dtype="Int64")
    return out


@pytest.mark.parametrize("seed", range(6))
def test_milestone_status_on_whole_columns_equals_one_milestone_at_a_time(seed):
    """Every kind of date a store or a workbook gives (date, datetime, Timestamp, ISO text
    with or without a time, blanks as None, NaN, NaT and "", unreadable text) and every
    stored status, before, on and after the as-of date: the same status, flags and days."""
    import random

    rnd = random.Random(seed)

    def some_date():
        d = rnd.choice([D(2016, 1, 1) + dt.timedelta(days=rnd.randrange(0, 1500)), D(2017, 6, 30)])
        return rnd.choice([d, dt.datetime(d.year, d.month, d.day, 13, 5), pd.Timestamp(d), d.isoformat(),
                           d.isoformat() + " 00:00:00", None, float("nan"), pd.NaT, "", "soon", None])

    rows = [{"pilot_id": f"P{i % 7}", "milestone": f"m{i}", "planned_start": None,
             "planned_end": some_date(), "actual_start": some_date(), "actual_end": some_date(),
             "status": rnd.choice(["dropped", "in_progress", "completed", "not_started", None, float("nan")])}
            for i in range(400)]
    ms = pd.DataFrame(rows)
    for as_of in (D(2017, 6, 30), D(2019, 1, 1), D(2015, 1, 1)):
        got, want = F.milestone_status_as_of(ms, as_of), _status_row_by_row(ms, as_of)
        for col in ("status_as_of", "completed", "overdue", "days_late"):
            assert got[col].tolist() == want[col].tolist(), (col, as_of)
        assert got["days_late"].dtype == want["days_late"].dtype


# --- nothing at all ------------------------------------------------------------------------------

def test_no_data_at_all():
    f = F.portfolio_figures(Portfolio(), as_of=D(2018, 1, 1))
    assert f["quarter"] is None
    assert f["pilots_total"] == 0 and f["pilots_reporting"] == 0
    assert f["milestones_completed"] == 0 and f["milestones_overdue"] == 0
    counts = {"pilots_total", "pilots_reporting", "milestones_completed", "milestones_overdue"}
    for name in set(F.FIGURE_NAMES) - counts:
        assert f[name] is None, name
    assert set(F.FIGURE_NAMES) <= set(f)
    json.dumps({k: v for k, v in f.items() if k != "as_of"})  # plain Python values


def test_pilots_without_any_values():
    f = F.portfolio_figures(make_portfolio(["KEN-DAIRY", "NPL-GOAT"]))
    assert f["quarter"] is None and f["pilots_total"] == 2 and f["pilots_reporting"] == 0
    assert f["households_reached"] is None


# --- per-pilot tables -------------------------------------------------------------------------------

def test_pilot_quarter_table_has_one_row_per_pilot_with_gaps_as_nan():
    p = make_portfolio(["KEN-DAIRY", "UGA-DAIRY"], {
        ("KEN-DAIRY", "2017-Q1"): dict(participants_total=100, participants_women=40, income_avg_usd=1500),
        ("UGA-DAIRY", "2016-Q4"): dict(participants_total=50),
    }, benchmarks=[dict(country="KEN", year=2016, living_income_usd=3000.0),
                   dict(country="KEN", year=2018, living_income_usd=3500.0)])
    t = F.pilot_quarter_table(p, "2017-Q1").set_index("pilot_id")
    assert list(t.index) == ["KEN-DAIRY", "UGA-DAIRY"]
    assert bool(t.loc["KEN-DAIRY", "reporting"]) and not bool(t.loc["UGA-DAIRY", "reporting"])
    assert math.isnan(t.loc["UGA-DAIRY", "participants_total"])
    assert t.loc["KEN-DAIRY", "women_share_participants"] == pytest.approx(0.4)
    assert t.loc["KEN-DAIRY", "living_income_usd"] == 3000.0  # 2017 missing: the 2016 benchmark
    assert t.loc["KEN-DAIRY", "income_to_living_income"] == pytest.approx(0.5)
    assert t.loc["KEN-DAIRY", "country_name"] == "Kenya"


def test_reporting_grid_shows_gaps():
    p = make_portfolio(["KEN-DAIRY", "NPL-GOAT"], {
        ("KEN-DAIRY", "2017-Q1"): dict(households_reached=1, sales_usd=2),
        ("KEN-DAIRY", "2017-Q3"): dict(households_reached=1),
        ("NPL-GOAT", "2017-Q3"): dict(volume_unit="head"),
    })
    g = F.reporting_grid(p)
    assert list(g.columns) == ["2017-Q1", "2017-Q2", "2017-Q3"]
    assert g.loc["KEN-DAIRY"].tolist() == [2, 0, 1]
    assert g.loc["NPL-GOAT"].tolist() == [0, 0, 1]
    assert F.reporting_grid(Portfolio()).empty


def test_figures_by_quarter_agree_with_portfolio_figures(five):
    by_q = F.figures_by_quarter(five, Filter(regions=("Africa",)))
    assert by_q["quarter"].tolist() == ["2017-Q4", "2018-Q1"]
    for rec in by_q.to_dict("records"):
        f = F.portfolio_figures(five, Filter(regions=("Africa",)), quarter=rec["quarter"])
        for name in F.SUMS + ("pilots_reporting",):
            assert rec[name] == f[name] or (rec[name] is None and f[name] is None) \
                or (isinstance(rec[name], float) and math.isnan(rec[name]) and f[name] is None)


# --- display ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name, value, shown", [
    ("households_reached", 12400, "12.4k"),
    ("households_reached", 950, "950"),
    ("households_reached", 2_345_678, "2.3M"),
    ("women_share_participants", 0.482, "48%"),
    ("women_share_participants", 0.004, "<1%"),
    ("women_share_participants", 0.0, "0%"),
    ("income_avg_usd", 1234.4, "$1,234"),
    ("income_avg_usd", -250, "-$250"),
    ("sales_usd", 1_222_218, "$1.2M"),
    ("sales_usd", None, "no data"),
    ("pilots_reporting", 0, "0"),
    ("nbmp_governance", 3, "3.0"),
])
def test_format_figure(name, value, shown):
    assert F.format_figure(name, value) == shown


def test_format_figure_nan_is_no_data():
    assert F.format_figure("income_avg_usd", float("nan")) == "no data"


def test_catalogue_covers_every_figure_with_text():
    p = make_portfolio(["KEN-DAIRY"], {("KEN-DAIRY", "2017-Q1"): dict(households_reached=1)})
    names = set(F.portfolio_figures(p)) - {"quarter", "as_of"}
    assert names == set(F.FIGURES)
    assert all(f.label and f.unit and f.definition for f in F.FIGURES.values())


# --- the summary command ----------------------------------------------------------------------------

class _FakeStore:
    def __init__(self, portfolio):
        self.portfolio = portfolio

    def load(self):
        return self.portfolio


def _summary(monkeypatch, portfolio, as_json=True, **options) -> int:
    """``python -m linkdash summary`` with ``--option value`` for each keyword, over ``portfolio``."""
    from linkdash import cli

    monkeypatch.setattr(cli, "_store", lambda args: _FakeStore(portfolio))
    argv = ["summary", *(["--json"] if as_json else [])]
    for name, value in options.items():
        argv += [f"--{name.replace('_', '-')}", value]
    return cli.main(argv)


@pytest.mark.parametrize("kw, pilots", [
    (dict(country="The Philippines"), 1),
    (dict(country="ph"), 1),
    (dict(country="KEN"), 1),
    (dict(region="africa"), 3),
    (dict(value_chain="DAIRY_COW"), 2),
    (dict(value_chain="Dairy cows"), 2),
    (dict(pilot="npl-goat"), 1),
    (dict(region="Africa", value_chain="dairy-cow"), 2),
])
def test_summary_json_filters(five, capsys, monkeypatch, kw, pilots):
    assert _summary(monkeypatch, five, **kw) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["pilots_total"] == pilots
    assert set(F.FIGURE_NAMES) <= set(out) and "quarter" in out


def test_summary_quarter_and_as_of_text(five, capsys, monkeypatch):
    p = make_portfolio(["KEN-DAIRY", "NPL-GOAT"], {("KEN-DAIRY", "2017-Q1"): dict(households_reached=10)},
                       milestones=MILESTONES)
    assert _summary(monkeypatch, p, quarter="Q1 2017", as_of="2018-10-01") == 0
    out = json.loads(capsys.readouterr().out)
    assert out["quarter"] == "2017-Q1" and out["as_of"] == "2018-10-01"
    assert out["households_reached"] == 10 and out["milestones_overdue"] == 2


@pytest.mark.parametrize("kw", [dict(country="Narnia"), dict(region="Europe"), dict(value_chain="camels"),
                                dict(quarter="2017-Q5"), dict(as_of="31/12/2018")])
def test_summary_rejects_what_it_cannot_read(five, capsys, monkeypatch, kw):
    assert _summary(monkeypatch, five, **kw) == 2
    assert "summary:" in capsys.readouterr().err


def test_summary_human_output_is_a_readable_table(five, capsys, monkeypatch):
    assert _summary(monkeypatch, five, as_json=False, quarter="2017-Q4", region="Asia") == 0
    out = capsys.readouterr().out
    assert "Q4 2017" in out
    assert "Households reached" in out and "900" in out
    assert "no data" in out  # no incomes in this portfolio


@pytest.mark.parametrize("by, field", [("country", "countries"), ("region", "regions"),
                                       ("value_chain", "value_chains")])
def test_figures_by_group_equal_the_figures_of_a_one_group_filter(by, field):
    """The map colours each country with figures_by; a KPI card filtered to that country
    must show the same numbers."""
    from linkdash.demo import demo_portfolio

    p = demo_portfolio(dt.date(2018, 12, 31))
    as_of = dt.date(2018, 6, 30)
    grouped = F.figures_by(p, by, quarter="2017-Q4", as_of=as_of)
    assert set(grouped) == set(p.pilots[by])
    for group, figs in grouped.items():
        alone = F.portfolio_figures(p, Filter(**{field: (group,)}), "2017-Q4", as_of)
        assert figs == alone, group
    # the map asks for the one figure it shows: the same numbers, nothing else computed
    for names in (("households_reached",), ("income_avg_usd", "milestones_overdue")):
        some = F.figures_by(p, by, quarter="2017-Q4", as_of=as_of, names=names)
        assert some == {g: {k: v for k, v in figs.items() if k in {"quarter", "as_of", *names}}
                        for g, figs in grouped.items()}


def test_income_against_living_income_weights_both_by_households():
    p = make_portfolio(["KEN-DAIRY", "UGA-DAIRY", "SEN-SHEEP"], {
        ("KEN-DAIRY", "2018-Q1"): dict(income_avg_usd=1000, households_reached=100),
        ("UGA-DAIRY", "2018-Q1"): dict(income_avg_usd=2000, households_reached=300),
        ("SEN-SHEEP", "2018-Q1"): dict(income_avg_usd=9000, households_reached=50),  # no benchmark
    }, benchmarks=[dict(country="KEN", year=2017, living_income_usd=2000.0, source="t"),
                   dict(country="UGA", year=2018, living_income_usd=2500.0, source="t")])
    got = F.income_against_living_income(F.pilot_quarter_table(p, "2018-Q1"))
    income, bench = (1000 * 100 + 2000 * 300) / 400, (2000 * 100 + 2500 * 300) / 400
    assert got["income"] == pytest.approx(income) and got["benchmark"] == pytest.approx(bench)
    assert got["ratio"] == pytest.approx(income / bench) and got["gap"] == pytest.approx(bench - income)
    assert got["pilots"] == 2
    by_q = F.income_against_living_income_by_quarter(p, ["2017-Q4", "2018-Q1"])
    assert by_q["ratio"].iloc[0] is None or math.isnan(by_q["ratio"].iloc[0])
    assert by_q["ratio"].iloc[1] == pytest.approx(income / bench)


@pytest.mark.parametrize("quarter, today, as_of", [
    ("2018-Q4", D(2026, 12, 2), D(2018, 12, 31)),   # old data: the end of its quarter
    ("2017-Q1", D(2026, 12, 2), D(2017, 3, 31)),
    ("2026-Q4", D(2026, 12, 2), D(2026, 12, 2)),    # the current quarter: today
    (None, D(2026, 12, 2), D(2026, 12, 2)),
])
def test_as_of_follows_the_quarter(quarter, today, as_of):
    from linkdash import quarters

    assert quarters.as_of(quarter, today) == as_of


def test_deck_story_counts_milestones_as_of_its_quarter():
    from linkdash import story as story_parts

    p = make_portfolio(["KEN-DAIRY"], {("KEN-DAIRY", "2017-Q3"): dict(households_reached=10)})
    story = story_parts.resolve(p)
    assert story.quarter == "2017-Q3" and story.as_of == D(2017, 9, 30)
    assert "milestones as of 30 Sep 2017" in story.data_line()


# --- comparisons: the quarter before, the targets, the good direction (issue 9) ---------

def _with_targets(p: Portfolio, rows: list[dict]) -> Portfolio:
    from dataclasses import replace

    cols = FRAME_COLUMNS["targets"]
    return replace(p, targets=pd.DataFrame([{c: r.get(c) for c in cols} for r in rows], columns=cols))


def test_changes_compare_each_figure_with_the_quarter_before(five):
    ch = F.figure_changes(five, quarter="2018-Q1", as_of=D(2018, 3, 31))
    hh = ch["households_reached"]
    assert hh.value == 150 + 300 + 450 and hh.previous == 1500 and hh.previous_quarter == "2017-Q4"
    assert hh.delta == pytest.approx(900 - 1500)
    assert hh.good == 1 and hh.verdict == "worse"
    # the fall comes from who reported: 3 pilots now, 5 before, and the card can say so
    assert (hh.pilots, hh.previous_pilots) == (3, 5)
    assert ch["pilots_reporting"].value == 3 and ch["pilots_reporting"].previous == 5
    assert ch["pilots_total"].good == 0 and ch["pilots_total"].verdict is None
    # every figure of the cards, the same values as portfolio_figures
    figs = F.portfolio_figures(five, quarter="2018-Q1", as_of=D(2018, 3, 31))
    assert {n: c.value for n, c in ch.items()} == {n: figs[n] for n in F.FIGURE_NAMES}


def test_the_first_quarter_has_nothing_to_compare_with(five):
    ch = F.figure_changes(five, quarter="2017-Q4", as_of=D(2017, 12, 31))
    assert ch["households_reached"].previous is None and ch["households_reached"].delta is None
    assert ch["households_reached"].verdict is None and ch["households_reached"].previous_quarter is None


def test_fewer_overdue_milestones_is_better_and_compares_with_the_end_of_the_quarter_before():
    p = make_portfolio(["KEN-DAIRY", "NPL-GOAT"], {("KEN-DAIRY", "2016-Q4"): dict(households_reached=1)},
                       milestones=MILESTONES)
    ch = F.figure_changes(p, quarter="2016-Q4", as_of=D(2016, 11, 15))
    over = ch["milestones_overdue"]
    assert over.previous_as_of == D(2016, 9, 30)
    assert (over.value, over.previous) == (0, 0)
    ch = F.figure_changes(p, quarter="2016-Q4", as_of=D(2018, 10, 1))
    over = ch["milestones_overdue"]
    assert over.previous_as_of == D(2018, 9, 30)  # the last day of the quarter before 1 Oct
    assert (over.value, over.previous, over.delta) == (2, 1, 1.0)
    assert over.good == -1 and over.verdict == "worse"
    done = ch["milestones_completed"]
    assert done.good == 1 and done.verdict == "same"


def test_targets_add_up_over_the_pilots_that_have_one_and_reported(five):
    p = _with_targets(five, [
        dict(pilot_id="KEN-DAIRY", indicator="households_reached", target=200.0, target_quarter="2018-Q4"),
        dict(pilot_id="UGA-DAIRY", indicator="households_reached", target=400.0, target_quarter="2019-Q4"),
        dict(pilot_id="NPL-GOAT", indicator="households_reached", target=900.0, target_quarter="2018-Q4"),
        dict(pilot_id="KEN-DAIRY", indicator="participants_women", target=50.0),
    ])
    hh = F.figure_changes(p, quarter="2018-Q1")["households_reached"]
    # Nepal has a target but did not report 2018-Q1: left out of both sides
    assert hh.targets_set == 3 and hh.target_pilots == 2
    assert hh.target == 600.0 and hh.achieved == 150 + 300
    assert hh.target_share == pytest.approx(450 / 600)
    assert hh.target_quarter == "2019-Q4"
    assert F.describe_target(hh) == "75% of the target of 600 by Q4 2019 (2 pilots with a target)"
    assert F.describe_target(F.figure_changes(p, quarter="2018-Q1")["sales_usd"]) == "No target set"
    assert F.describe_target(F.figure_changes(p, quarter="2018-Q1")["women_share_participants"]) is None


def test_the_income_target_is_weighted_by_households_like_the_average():
    p = make_portfolio(["KEN-DAIRY", "UGA-DAIRY"], {
        ("KEN-DAIRY", "2018-Q1"): dict(income_avg_usd=1000, households_reached=100),
        ("UGA-DAIRY", "2018-Q1"): dict(income_avg_usd=2000, households_reached=300)})
    p = _with_targets(p, [dict(pilot_id="KEN-DAIRY", indicator="income_avg_usd", target=2000.0),
                          dict(pilot_id="UGA-DAIRY", indicator="income_avg_usd", target=2400.0)])
    inc = F.figure_changes(p, quarter="2018-Q1")["income_avg_usd"]
    assert inc.value == pytest.approx((1000 * 100 + 2000 * 300) / 400)
    assert inc.target == pytest.approx((2000 * 100 + 2400 * 300) / 400)
    assert inc.target_share == pytest.approx(inc.value / inc.target)


def test_one_pilot_against_its_own_target_says_no_pilot_count(five):
    p = _with_targets(five, [dict(pilot_id="KEN-DAIRY", indicator="households_reached", target=300.0,
                                  target_quarter="2018-Q4")])
    hh = F.figure_changes(p, Filter(pilots=("KEN-DAIRY",)), "2018-Q1")["households_reached"]
    assert F.describe_target(hh) == "50% of the target of 300 by Q4 2018"


@pytest.mark.parametrize("name, delta, shown", [
    ("households_reached", 812.0, "+812"), ("households_reached", -1250.0, "-1,250"),
    ("households_reached", 12400.0, "+12.4k"), ("women_share_participants", 0.031, "+3 pts"),
    ("women_share_participants", -0.01, "-1 pt"), ("women_share_participants", 0.002, "+<1 pt"),
    ("income_avg_usd", 120.4, "+$120"), ("sales_usd", -250000.0, "-$250k"),
    ("milestones_overdue", 0.0, "±0"), ("households_reached", None, None),
])
def test_format_change(name, delta, shown):
    assert F.format_change(name, delta) == shown


def test_pilots_not_reporting_lists_the_silent_with_their_last_report(five):
    silent = F.pilots_not_reporting(five, "2018-Q1")
    assert list(silent["pilot_id"]) == ["NPL-GOAT", "PHL-DAIRYGOAT"]
    assert list(silent["last_reported"]) == ["2017-Q4", "2017-Q4"]
    assert F.pilots_not_reporting(five, "2017-Q4").empty
    never = F.pilots_not_reporting(five, "2017-Q3")  # before anyone reported
    assert len(never) == 5 and never["last_reported"].isna().all()
    # the list behind the card: as many as the card says did not report
    figs = F.portfolio_figures(five, quarter="2018-Q1")
    assert len(silent) == figs["pilots_total"] - figs["pilots_reporting"]


def test_a_slide_has_a_row_per_pilot_up_to_20_then_per_group():
    from linkdash import demo
    from tests.scale_fixture import big_portfolio

    assert F.slide_rows(demo.demo_portfolio()) == "pilot_id"
    big = big_portfolio(60)  # the demo's 13 countries copied, in two regions
    assert F.slide_rows(big) == "region"  # 13 countries: more than a slide's 12 rows
    africa = big.filtered(Filter(regions=("Africa",)))
    assert F.slide_rows(africa) == "country"  # its 6 countries
    dairy_kenya = big.filtered(Filter(countries=("KEN",)))
    assert len(dairy_kenya.pilots) <= F.SLIDE_ROWS_MAX and F.slide_rows(dairy_kenya) == "pilot_id"
    assert F.group_label(big, "region", "Asia") == "Asia (30 pilots)"
    assert F.group_label(big, "country", "KEN") == "Kenya (5 pilots)"
    assert F.group_label(big, "value_chain", "dairy_cow").startswith("Dairy cows (")
