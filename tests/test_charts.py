"""Charts: what a director sees on each figure, on small portfolios built in code with
the gaps real data has (a pilot without targets, a quarter nobody reported, one pilot,
nothing at all)."""

from __future__ import annotations

import datetime as dt
import functools
import math
from dataclasses import replace

import pandas as pd
import plotly.graph_objects as go
import pytest

from linkdash import catalogue, charts, figures, style
from linkdash.portfolio import FRAME_COLUMNS, Filter, Portfolio

D = dt.date
AS_OF = D(2017, 10, 1)


def frame(name: str, rows: list[dict]) -> pd.DataFrame:
    cols = FRAME_COLUMNS[name]
    return pd.DataFrame([{c: r.get(c) for c in cols} for r in rows], columns=cols, dtype=object)


def pilot(pid, country, chain, region, lat=None, lon=None, name=None):
    return dict(pilot_id=pid, pilot_name=name or pid.title(), country=country, value_chain=chain,
                region=region, latitude=lat, longitude=lon, country_name=country)


def values(pid, quarter, **vals):
    return [dict(pilot_id=pid, quarter=quarter, indicator=k, value=float(v), text=None)
            for k, v in vals.items()]


def milestone(pid, m, ps=None, pe=None, as_=None, ae=None, status=None):
    if status is None:
        status = "completed" if ae else "in_progress" if as_ else "not_started"
    return dict(pilot_id=pid, milestone=m, planned_start=ps, planned_end=pe,
                actual_start=as_, actual_end=ae, status=status)


NBMP_FIRST = dict(zip(catalogue.NBMP, (2, 1, 2, 3, 2, 1)))
NBMP_LATEST = dict(zip(catalogue.NBMP, (4, 3, 3, 4, 5, 2)))
NBMP_SEN = dict(zip(catalogue.NBMP, (3, 3, 2, 2, 3, 3)))


def make_portfolio() -> Portfolio:
    """KEN: reports 2017-Q1 and Q3, has targets, a benchmark and all nine milestones.
    SEN: reports only Q3, no targets. VNM: never reports, no coordinates.
    Nobody reports 2017-Q2."""
    pilots = [pilot("KEN-DAIRY", "KEN", "dairy_cow", "Africa", -0.42, 36.95, "Kenya dairy"),
              pilot("SEN-SHEEP", "SEN", "sheep", "Africa", 14.15, -16.07, "Senegal sheep"),
              pilot("VNM-DAIRY", "VNM", "dairy_cow", "Asia", None, None, "Vietnam dairy")]
    ind = []
    ind += values("KEN-DAIRY", "2017-Q1", households_reached=1000, income_avg_usd=1500,
                  participants_total=200, participants_women=80, participants_youth=40,
                  members_total=500, members_women=150, leaders_total=10, leaders_women=2,
                  hh_surveyed=100, hh_above_living_income=20, sales_usd=50000,
                  income_avg_usd_women_headed=1200, income_avg_usd_men_headed=1700, **NBMP_FIRST)
    ind += values("KEN-DAIRY", "2017-Q3", households_reached=1200, income_avg_usd=1900,
                  participants_total=250, participants_women=140, participants_youth=50,
                  members_total=520, members_women=180, leaders_total=10, leaders_women=4,
                  hh_surveyed=100, hh_above_living_income=35, sales_usd=80000,
                  income_avg_usd_women_headed=1600, income_avg_usd_men_headed=2100, **NBMP_LATEST)
    ind += values("SEN-SHEEP", "2017-Q3", households_reached=400, income_avg_usd=900,
                  participants_total=100, participants_women=20,
                  hh_surveyed=50, hh_above_living_income=5, sales_usd=10000,
                  income_avg_usd_women_headed=700, **NBMP_SEN)
    ms = [
        milestone("KEN-DAIRY", "training_workshop", D(2016, 6, 1), D(2016, 6, 5), D(2016, 6, 1),
                  D(2016, 6, 5)),
        milestone("KEN-DAIRY", "vc_map", D(2016, 7, 1), D(2016, 9, 30), D(2016, 7, 10), D(2016, 10, 20)),
        milestone("KEN-DAIRY", "business_model_canvas", D(2016, 10, 1), D(2017, 12, 31), D(2016, 10, 5)),
        milestone("KEN-DAIRY", "nbmp_assessment", D(2017, 1, 1), D(2017, 3, 31)),  # overdue on AS_OF
        milestone("KEN-DAIRY", "prototype_cycle", D(2017, 4, 1), D(2017, 12, 31)),
        milestone("KEN-DAIRY", "backstopping", D(2016, 7, 1), D(2018, 6, 30), D(2016, 7, 1)),
        milestone("KEN-DAIRY", "peer_review", D(2017, 6, 1), D(2017, 8, 31), status="dropped"),
        milestone("KEN-DAIRY", "documentation", D(2018, 1, 1), D(2018, 6, 30)),
        milestone("KEN-DAIRY", "learning_event", D(2018, 11, 1), D(2018, 11, 5)),
        milestone("SEN-SHEEP", "vc_map", D(2016, 7, 1), D(2016, 9, 30), D(2016, 7, 1), D(2016, 9, 1)),
        milestone("SEN-SHEEP", "prototype_cycle", D(2017, 1, 1), D(2017, 6, 30), D(2017, 2, 1)),  # overdue
    ]
    targets = [dict(pilot_id="KEN-DAIRY", indicator="income_avg_usd", baseline=1400.0,
                    baseline_quarter="2016-Q4", target=2500.0, target_quarter="2018-Q4"),
               dict(pilot_id="KEN-DAIRY", indicator="households_reached", baseline=800.0,
                    baseline_quarter="2017-Q1", target=1500.0, target_quarter="2018-Q2")]
    bench = [dict(country="KEN", year=2017, living_income_usd=3100.0, source="test")]
    return Portfolio(pilots=frame("pilots", pilots), milestones=frame("milestones", ms),
                     indicators=pd.DataFrame(ind, columns=FRAME_COLUMNS["indicators"]),
                     targets=frame("targets", targets), benchmarks=frame("benchmarks", bench))


@pytest.fixture(scope="module")
def pf() -> Portfolio:
    return make_portfolio()


def annotation_texts(fig: go.Figure) -> list[str]:
    return [a.text for a in fig.layout.annotations]


def trace(fig: go.Figure, name_part: str):
    hits = [t for t in fig.data if t.name and name_part in t.name]
    assert hits, f"no trace named like {name_part!r} in {[t.name for t in fig.data]}"
    return hits[0]


def is_none(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


# --- style --------------------------------------------------------------------------

def test_number_formats_for_cards_and_labels():
    assert style.fmt_number(12_400) == "12.4k"
    assert style.fmt_number(999_950) == "1M"
    assert style.fmt_number(950) == "950"
    assert style.fmt_share(0.484) == "48%"
    assert style.fmt_usd(1234.4) == "$1,234"
    assert style.fmt_usd(-50) == "-$50"
    for f in (style.fmt_number, style.fmt_share, style.fmt_usd):
        assert f(None) == "no data"
        assert f(float("nan")) == "no data"


def test_every_value_chain_and_region_has_its_own_colour():
    chains = [style.value_chain_color(v) for v in catalogue.VALUE_CHAINS]
    regions = [style.region_color(r) for r in catalogue.REGIONS]
    assert len(set(chains)) == len(chains)
    assert len(set(regions)) == len(regions)
    assert not set(chains) & set(regions)


def test_layout_has_title_subtitle_and_white_background():
    fig = style.apply_layout(go.Figure(), "Sales, Q3 2017", "USD")
    assert fig.layout.title.text == "Sales, Q3 2017"
    assert fig.layout.title.subtitle.text == "USD"
    assert fig.layout.paper_bgcolor == "white" and fig.layout.plot_bgcolor == "white"
    assert fig.layout.font.size >= 14


def _laid_out_figure() -> go.Figure:
    fig = go.Figure([go.Bar(x=["a", "b"], y=[1, 2])])
    fig.update_layout(barmode="stack", xaxis=dict(title=dict(text="Quarter", font=dict(size=11)),
                                                  tickvals=[0, 1]),
                      meta={"no_data": True}, legend=dict(orientation="h"))
    return fig


@pytest.mark.parametrize("changes", [
    # the shared look over a layout already set: nested dicts merge, the rest stays
    dict(style.base_layout(), title=dict(text="Sales", subtitle=dict(text="USD"))),
    # a list is replaced, not merged; None unsets; a title text keeps the title's font
    dict(xaxis=dict(tickvals=[5], title=dict(text="Year")), legend=None, height=300),
    # meta is any value to plotly: replaced whole, never merged
    dict(meta={"narrow": {"grid": 2}}),
    # a template of the chart's own
    dict(template=dict(layout=dict(font=dict(family="serif")))),
])
def test_update_layout_gives_the_layout_plotly_would(changes):
    """style.update_layout is plotly's update_layout made faster: the same figure, by
    either of its ways (plotly's own update for a few properties, a merge for many)."""
    plotly = _laid_out_figure()
    plotly.update_layout(**changes)
    for ours in (style.update_layout(_laid_out_figure(), **changes),
                 style.set_merged_layout(_laid_out_figure(), changes)):
        assert _drawn(ours.to_plotly_json()) == _drawn(plotly.to_plotly_json())


def _drawn(value):
    """A figure's JSON without empty objects: plotly keeps a property set to None as
    ``{}``, which plotly.js draws as if it were not there."""
    if isinstance(value, dict):
        return {k: _drawn(v) for k, v in value.items() if v != {}}
    if isinstance(value, list):
        return [_drawn(v) for v in value]
    return value


def test_update_layout_keeps_a_template_set_before():
    fig = _laid_out_figure()
    fig.update_layout(template="simple_white")
    style.set_merged_layout(fig, dict(height=400))
    simple_white = go.Figure(layout=dict(template="simple_white")).layout.template
    assert fig.layout.template.to_plotly_json() == simple_white.to_plotly_json()
    assert fig.layout.height == 400 and fig.layout.barmode == "stack"


def test_update_layout_refuses_what_plotly_refuses():
    with pytest.raises(ValueError):
        style.update_layout(_laid_out_figure(), xaxis=dict(no_such_property=1))
    with pytest.raises(ValueError):
        style.set_merged_layout(_laid_out_figure(), dict(xaxis=dict(no_such_property=1)))


def test_long_titles_wrap_at_words_to_the_expected_width():
    title = "Income of women- and men-headed households, Q3 2017"
    per_line = style.chars_per_line(style.HALF_WIDTH_PX, style.TITLE_FONT_SIZE)
    half = style.apply_layout(go.Figure(), title, "Average annual net income", width_px=style.HALF_WIDTH_PX)
    lines = half.layout.title.text.split("<br>")
    assert len(lines) >= 2 and all(len(x) <= per_line for x in lines)
    assert " ".join(lines) == title  # whole words, nothing dropped
    full = style.apply_layout(go.Figure(), title, "Average annual net income")
    assert full.layout.title.text == title  # fits a full-width chart on one line
    # the top margin makes room for the extra line, so the subtitle stays off the plot
    assert half.layout.margin.t > full.layout.margin.t
    assert half.layout.margin.t >= style.title_height(half)


def test_wrap_text_keeps_a_long_word_whole_and_existing_breaks():
    assert style.wrap_text("a verylongwordindeed b", 8) == "a<br>verylongwordindeed<br>b"
    assert style.wrap_text("one two<br>three", 40) == "one two<br>three"


def test_wrap_text_breaks_between_what_and_when_and_keeps_quarters_whole():
    title = "Average household income from the value chain (USD/year), Q3 2016 to Q4 2018"
    assert style.wrap_text(title, 60) == ("Average household income from the value chain (USD/year),"
                                          "<br>Q3 2016 to Q4 2018")
    narrow = style.wrap_text(title, 30).split("<br>")
    assert all(not x.endswith(" Q3") and not x.endswith(" Q4") and not x.startswith("2018") for x in narrow)
    assert style.wrap_text("Learning-cycle progress as of 29 Nov 2026", 33).endswith("<br>29 Nov 2026")


def test_half_width_charts_have_titles_that_fit_half_the_page(pf):
    for fig in (charts.living_income_share_chart(pf, "2017-Q3"),
                charts.income_gender_gap_chart(pf, "2017-Q3")):
        text = fig.layout.title.text
        assert "Q3 2017" in text.replace("<br>", " ")  # still says when
        widest = max(len(x) for x in text.split("<br>")) * style.TITLE_FONT_SIZE * style.CHAR_WIDTH_EM
        assert widest <= style.HALF_WIDTH_PX
        assert fig.layout.margin.t >= style.title_height(fig)

# --- no data --------------------------------------------------------------------------

def test_no_data_figure_says_so_and_hides_axes():
    fig = charts.no_data_figure("Sales, Q3 2017", "Nothing reported")
    assert annotation_texts(fig) == ["Nothing reported"]
    assert fig.layout.xaxis.visible is False and fig.layout.yaxis.visible is False
    assert not fig.data
    assert charts.is_no_data(fig)


EVERY_CHART = {
    "reporting_grid": lambda p: charts.reporting_grid_chart(p),
    "gantt": lambda p: charts.progress_gantt(p, AS_OF),
    "tools": lambda p: charts.link_tools_matrix(p, AS_OF),
    "income": lambda p: charts.income_trend(p),
    "living_income": lambda p: charts.living_income_share_chart(p, "2017-Q3"),
    "gender_gap": lambda p: charts.income_gender_gap_chart(p, "2017-Q3"),
    "incl_bars": lambda p: charts.inclusiveness_bars(p, "2017-Q3"),
    "incl_trend": lambda p: charts.inclusiveness_trend(p),
    "business": lambda p: charts.business_chart(p),
    "business_ranking": lambda p: charts.business_ranking_chart(p, "sales_usd", "2017-Q3"),
    "milestone_summary": lambda p: charts.milestone_summary_chart(p, AS_OF),
    "radar": lambda p: charts.nbmp_radar(p),
    "indicator": lambda p: charts.indicator_trend(p, "KEN-DAIRY", "income_avg_usd"),
    "income_to_living_income": lambda p: charts.income_to_living_income_chart(p, "2017-Q3"),
}


@pytest.mark.parametrize("name", EVERY_CHART)
def test_empty_portfolio_gives_the_no_data_state(name):
    fig = EVERY_CHART[name](Portfolio())
    assert charts.is_no_data(fig), name
    texts = annotation_texts(fig)
    assert len(texts) == 1 and texts[0].lower().startswith("no ")
    assert not fig.data


@pytest.mark.parametrize("name", EVERY_CHART)
def test_every_chart_draws_real_data(pf, name):
    fig = EVERY_CHART[name](pf)
    assert not charts.is_no_data(fig), name
    assert fig.data
    assert fig.layout.title.text


@pytest.mark.parametrize("name", EVERY_CHART)
def test_a_single_pilot_portfolio_works(pf, name):
    one = pf.filtered(Filter(pilots=("KEN-DAIRY",)))
    fig = EVERY_CHART[name](one)
    assert not charts.is_no_data(fig), name


def test_quarter_nobody_reported_is_no_data_not_zero(pf):
    for fig in (charts.living_income_share_chart(pf, "2017-Q2"),
                charts.income_gender_gap_chart(pf, "2017-Q2"),
                charts.inclusiveness_bars(pf, "2017-Q2")):
        assert charts.is_no_data(fig)
        assert "2017" in fig.layout.title.text  # still says which quarter


# --- reporting grid ---------------------------------------------------------------------

def test_reporting_grid_marks_who_reported_each_quarter(pf):
    fig = charts.reporting_grid_chart(pf)
    hm = fig.data[0]
    assert list(hm.x) == ["2017-Q1", "2017-Q2", "2017-Q3"]  # the silent quarter is a column
    rows = dict(zip(hm.y, [list(r) for r in hm.z]))
    assert rows["Kenya dairy"] == [1, 0, 1]
    assert rows["Senegal sheep"] == [0, 0, 1]
    assert rows["Vietnam dairy"] == [0, 0, 0]  # a pilot that never reported still has a row


# --- progress ------------------------------------------------------------------------------

def _bars_for(fig, trace_name, pilot_label):
    t = trace(fig, trace_name)
    outer, inner = t.y
    return {i: (b, x) for o, i, b, x in zip(outer, inner, t.base, t.x) if pilot_label in o}


def test_gantt_has_a_planned_bar_for_every_milestone_with_dates(pf):
    fig = charts.progress_gantt(pf, AS_OF, group_by="region")
    planned = _bars_for(fig, "Planned", "Kenya dairy")
    assert len(planned) == 9
    # learning-cycle order on the axis
    t = trace(fig, "Planned")
    ken_inner = [i for o, i in zip(*t.y) if "Kenya dairy" in o]
    assert ken_inner == [charts.MILESTONE_SHORT[m] for m in catalogue.MILESTONES]
    base, width = planned[charts.MILESTONE_SHORT["vc_map"]]
    assert base == "2016-07-01"
    assert width == (D(2016, 9, 30) - D(2016, 7, 1)).days * 24 * 3600 * 1000


def test_on_a_phone_the_gantt_has_short_one_level_rows_and_each_pilots_name_above_its_bars(pf):
    wide = charts.progress_gantt(pf, AS_OF)
    fig = charts.progress_gantt(pf, AS_OF, narrow=True)
    y = fig.layout.yaxis
    assert y.type == "category" and wide.layout.yaxis.type == "multicategory"
    # one word per milestone: the labels take a fifth of a phone's chart, not two thirds
    assert max(len(t) for t in y.ticktext) <= 11
    n = len(pf.pilots)
    assert len(y.tickvals) == n * (len(catalogue.MILESTONES) + 1)
    # a row of its own above each pilot's nine rows names it (with its region)
    names = {a.y: a.text for a in fig.layout.annotations}
    heads = [v for v in y.tickvals if v.endswith("|")]
    assert len(heads) == n and all(names[h].startswith("<b>") for h in heads)
    assert any("Kenya dairy" in names[h] and "Africa" in names[h] for h in heads)
    # the same marks for the same pilots, and the date is said by the title, not over a name
    for t, w in zip(fig.data, wide.data):
        assert t.name == w.name and len(t.x) == len(w.x) and list(t.customdata) == list(w.customdata)
    assert not [a for a in fig.layout.annotations if "as of" in (a.text or "")]
    assert "as of" in fig.layout.title.text and [s for s in fig.layout.shapes if s.type == "line"]
    one = charts.progress_gantt(pf.filtered(Filter(pilots=("KEN-DAIRY",))), AS_OF, narrow=True)
    assert not one.layout.annotations and len(one.layout.yaxis.tickvals) == len(catalogue.MILESTONES)


def test_gantt_actual_bars_coloured_by_status_and_open_bars_run_to_as_of(pf):
    fig = charts.progress_gantt(pf, AS_OF)
    done = trace(fig, "completed")
    assert done.marker.color == style.STATUS_COLORS["completed"]
    ongoing = _bars_for(fig, "in progress", "Kenya dairy")
    base, width = ongoing[charts.MILESTONE_SHORT["business_model_canvas"]]
    assert base == "2016-10-05"
    assert width == (AS_OF - D(2016, 10, 5)).days * 24 * 3600 * 1000
    # a milestone not started has no actual bar
    assert charts.MILESTONE_SHORT["prototype_cycle"] not in ongoing


def test_gantt_marks_overdue_milestones_and_the_as_of_date(pf):
    fig = charts.progress_gantt(pf, AS_OF)
    warn = trace(fig, "Overdue")
    marked = set(zip(warn.y[0], warn.y[1]))
    expected = {(o, i) for o, i in marked}
    assert any("Kenya dairy" in o and i == charts.MILESTONE_SHORT["nbmp_assessment"] for o, i in expected)
    assert any("Senegal sheep" in o and i == charts.MILESTONE_SHORT["prototype_cycle"] for o, i in expected)
    status = figures.milestone_status_as_of(pf.milestones, AS_OF)
    assert len(warn.x) == int(status["overdue"].sum())
    # planned bar of an overdue milestone has the overdue outline
    planned = trace(fig, "Planned")
    outlined = [i for o, i, c in zip(*planned.y, planned.marker.line.color)
                if c == style.STATUS_COLORS["overdue"]]
    assert len(outlined) == len(warn.x)
    line = [s for s in fig.layout.shapes if s.type == "line"]
    assert line and line[0].x0 == AS_OF.isoformat()
    assert any("as of" in t for t in annotation_texts(fig))
    assert "Dropped" in [t.name for t in fig.data]


def _x_range(fig) -> tuple[dt.date, dt.date]:
    lo, hi = fig.layout.xaxis.range
    return pd.Timestamp(lo).date(), pd.Timestamp(hi).date()


def test_gantt_axis_keeps_to_the_milestones_when_as_of_is_years_later(pf):
    today = D(2026, 11, 29)
    fig = charts.progress_gantt(pf, today)
    lo, hi = _x_range(fig)
    last = D(2018, 11, 5)  # the Kenya learning event, the latest milestone date
    assert last < hi <= last + dt.timedelta(days=120)
    assert D(2016, 6, 1) - dt.timedelta(days=120) <= lo < D(2016, 6, 1)
    # no far-away line; the edge says which date the statuses are for
    assert not [s for s in fig.layout.shapes if s.type == "line"]
    assert any("as of 29 Nov 2026" in t and "→" in t for t in annotation_texts(fig))
    # open bars stop at the right edge and carry an arrow there
    ongoing = _bars_for(fig, "in progress", "Kenya dairy")
    base, width = ongoing[charts.MILESTONE_SHORT["business_model_canvas"]]
    end = pd.Timestamp(base) + pd.Timedelta(milliseconds=width)
    assert end.date() <= hi
    arrows = trace(fig, "Still in progress")
    ken = next(o for o in arrows.y[0] if "Kenya dairy" in o)
    assert (ken, charts.MILESTONE_SHORT["business_model_canvas"]) in set(zip(*arrows.y))
    assert len(arrows.x) == sum(len(_bars_for(fig, "in progress", p))
                                for p in ("Kenya dairy", "Senegal sheep"))


def test_gantt_overdue_counts_days_to_the_real_as_of_when_the_axis_is_clipped(pf):
    today = D(2026, 11, 29)
    fig = charts.progress_gantt(pf, today)
    warn = trace(fig, "Overdue")
    status = figures.milestone_status_as_of(pf.milestones, today)
    assert len(warn.x) == int(status["overdue"].sum())
    assert f"{(today - D(2017, 3, 31)).days} days late" in " ".join(warn.hovertext)
    assert f"{int(status['overdue'].sum())} milestones overdue" in fig.layout.title.subtitle.text


def test_gantt_axis_reaches_an_as_of_date_near_the_milestones(pf):
    as_of = D(2019, 3, 1)  # a few months after the last milestone: the line stays
    fig = charts.progress_gantt(pf, as_of)
    lo, hi = _x_range(fig)
    assert as_of < hi <= as_of + dt.timedelta(days=120)
    line = [s for s in fig.layout.shapes if s.type == "line"]
    assert line and line[0].x0 == as_of.isoformat()



def test_gantt_as_of_years_before_the_milestones_is_noted_at_the_left_edge(pf):
    fig = charts.progress_gantt(pf, D(2010, 1, 1))
    lo, hi = _x_range(fig)
    assert lo > D(2016, 1, 1) and hi > D(2018, 11, 5)
    assert not [s for s in fig.layout.shapes if s.type == "line"]
    assert any(t.startswith("← as of 1 Jan 2010") for t in annotation_texts(fig))
    assert not [t for t in fig.data if t.name and t.name.startswith("Actual")]  # nothing started yet

def test_gantt_of_one_pilot_does_not_speak_of_groups(pf):
    one = pf.filtered(Filter(pilots=("KEN-DAIRY",)))
    sub = charts.progress_gantt(one, AS_OF).layout.title.subtitle.text
    assert "grouped" not in sub.lower() and "planned" in sub
    assert "grouped by region" in charts.progress_gantt(pf, AS_OF).layout.title.subtitle.text


def test_gantt_groups_pilots_by_value_chain(pf):
    fig = charts.progress_gantt(pf, AS_OF, group_by="value_chain")
    outer = list(trace(fig, "Planned").y[0])
    assert outer[0].startswith("Dairy cows · ")
    assert any(o.startswith("Sheep · ") for o in outer)


# --- the Gantt's plan, without drawing -------------------------------------------------

def _plan_marks(plan, pid, milestone):
    return {k.layer: k for k in plan.marks if k.pilot_id == pid and k.milestone == milestone}


def test_gantt_plan_has_nine_rows_per_pilot_and_marks_in_row_order(pf):
    plan = charts.gantt_plan(pf, AS_OF)
    assert plan.n_all == plan.n_drawn == 3 and not plan.one and plan.empty is None
    assert len(plan.rows) == len(plan.groups) == 9 * 3
    assert plan.rows[:9] == [charts.MILESTONE_SHORT[m] for m in catalogue.MILESTONES]
    order = [(g, r) for g, r in zip(plan.groups, plan.rows)]
    at = [order.index((k.group, k.row)) for k in plan.marks]
    assert at == sorted(at)


def test_gantt_plan_planned_and_actual_periods_of_a_milestone(pf):
    plan = charts.gantt_plan(pf, AS_OF)
    vc = _plan_marks(plan, "KEN-DAIRY", "vc_map")
    assert (vc["planned"].start, vc["planned"].end) == (D(2016, 7, 1), D(2016, 9, 30))
    assert (vc["completed"].start, vc["completed"].end) == (D(2016, 7, 10), D(2016, 10, 20))
    assert not vc["planned"].outlined and "overdue" not in vc
    bmc = _plan_marks(plan, "KEN-DAIRY", "business_model_canvas")  # open: runs to as_of
    assert (bmc["in_progress"].start, bmc["in_progress"].end) == (D(2016, 10, 5), AS_OF)
    assert "beyond" not in bmc


def test_gantt_plan_marks_overdue_at_the_planned_end_with_days_late(pf):
    plan = charts.gantt_plan(pf, AS_OF)
    nbmp = _plan_marks(plan, "KEN-DAIRY", "nbmp_assessment")
    assert nbmp["planned"].outlined and nbmp["overdue"].end == D(2017, 3, 31)
    assert f"{(AS_OF - D(2017, 3, 31)).days} days late" in nbmp["overdue"].hover
    status = figures.milestone_status_as_of(pf.milestones, AS_OF)
    assert len(plan.layer("overdue")) == int(status["overdue"].sum())
    dropped = _plan_marks(plan, "KEN-DAIRY", "peer_review")  # never started: an x mid-plan
    assert dropped["dropped_mark"].end == D(2017, 6, 1) + (D(2017, 8, 31) - D(2017, 6, 1)) / 2


def test_gantt_plan_cuts_open_periods_at_the_edge_when_as_of_is_far_later(pf):
    today = D(2026, 11, 29)
    plan = charts.gantt_plan(pf, today)
    assert plan.where == "after" and plan.hi < today
    bmc = _plan_marks(plan, "KEN-DAIRY", "business_model_canvas")
    assert bmc["in_progress"].end == bmc["beyond"].end == plan.hi
    assert len(plan.layer("beyond")) == len(plan.layer("in_progress"))
    assert charts.gantt_plan(pf, D(2010, 1, 1)).where == "before"


def test_gantt_plan_of_one_pilot_a_page_and_nothing(pf):
    one = charts.gantt_plan(pf.filtered(Filter(pilots=("KEN-DAIRY",))), AS_OF)
    assert one.one and set(one.groups) == {"Africa · Kenya dairy"}
    page = charts.gantt_plan(pf, AS_OF, order=["SEN-SHEEP", "KEN-DAIRY"])
    assert page.n_drawn == 2 and page.groups[0] == "Africa · Senegal sheep"
    empty = pf.filtered(Filter(pilots=("VNM-DAIRY",)))  # no milestones
    assert charts.gantt_plan(empty, AS_OF).empty


def test_link_tools_matrix_shows_status_of_each_tool(pf):
    fig = charts.link_tools_matrix(pf, AS_OF)
    hm = fig.data[0]
    assert len(hm.x) == 4
    rows = dict(zip(hm.y, zip(hm.z, hm.text)))
    z, text = rows["Kenya dairy"]
    assert list(z) == [charts.TOOL_STATE["completed"], charts.TOOL_STATE["in_progress"],
                       charts.TOOL_STATE["not_started"], charts.TOOL_STATE["not_started"]]
    assert text[0] == "Done" and text[1] == "In progress"
    assert "⚠" in text[2]  # the NBMP assessment is overdue on AS_OF
    z, text = rows["Vietnam dairy"]
    assert all(v is None for v in z) and all(t == "no data" for t in text)


def test_overdue_table_lists_late_milestones_most_late_first(pf):
    t = charts.overdue_table(pf, AS_OF)
    assert list(t.columns) == ["Pilot", "Milestone", "Planned end", "Days late"]
    assert list(t["Milestone"]) == ["New Business Model Principles", "Prototype cycle"]
    assert list(t["Days late"]) == [(AS_OF - D(2017, 3, 31)).days, (AS_OF - D(2017, 6, 30)).days]
    assert list(t["Pilot"]) == ["Kenya dairy", "Senegal sheep"]
    # before anything was due, nothing is overdue; empty portfolio too
    assert charts.overdue_table(pf, D(2016, 1, 1)).empty
    empty = charts.overdue_table(Portfolio(), AS_OF)
    assert empty.empty and list(empty.columns) == charts.OVERDUE_COLUMNS


# --- income ----------------------------------------------------------------------------------

def test_income_trend_has_a_gap_where_a_pilot_did_not_report(pf):
    fig = charts.income_trend(pf)
    ken = trace(fig, "Kenya dairy")
    assert list(ken.x) == ["2017-Q1", "2017-Q2", "2017-Q3"]
    assert ken.y[0] == 1500 and is_none(ken.y[1]) and ken.y[2] == 1900
    assert "Vietnam dairy" not in [t.name for t in fig.data]


def test_income_trend_portfolio_line_is_the_weighted_average_figure(pf):
    fig = charts.income_trend(pf)
    avg = trace(fig, "Portfolio average")
    for q, y in zip(avg.x, avg.y):
        expected = figures.portfolio_figures(pf, Filter(), q)["income_avg_usd"]
        assert (is_none(y) and expected is None) or y == pytest.approx(expected)
    assert avg.y[2] == pytest.approx((1900 * 1200 + 900 * 400) / 1600)


def test_income_trend_single_pilot_shows_baseline_target_and_benchmark(pf):
    fig = charts.income_trend(pf, ["KEN-DAIRY"])
    base, tgt = trace(fig, "Baseline"), trace(fig, "Target")
    assert set(base.y) == {1400.0} and set(tgt.y) == {2500.0}
    assert "2018-Q4" in tgt.name
    assert "2018-Q4" in list(fig.layout.xaxis.categoryarray)  # axis reaches the target quarter
    bench = trace(fig, "Living-income")
    by_q = dict(zip(bench.x, bench.y))
    assert by_q["2017-Q3"] == 3100.0 and is_none(by_q["2016-Q4"])
    assert "Kenya dairy" in fig.layout.title.text


def test_income_trend_of_many_pilots_reads_each_pilot_against_its_own_benchmark(pf):
    """A panel per pilot, named above it: each pilot's income against its country's
    living-income benchmark (only KEN has one here: 3,100 in 2017), no pilot legend."""
    fig = charts.income_trend(pf)
    titles = [a.text for a in fig.layout.annotations]
    assert titles == ["Kenya dairy", "Senegal sheep"]  # Vietnam never reported income
    bench = [t for t in fig.data if t.name and t.name.startswith("Living-income benchmark")]
    assert len(bench) == 1  # Senegal has no benchmark: its panel has none
    by_q = dict(zip(bench[0].x, bench[0].y))
    assert by_q["2017-Q3"] == pytest.approx(3100.0) and by_q["2017-Q1"] == pytest.approx(3100.0)
    assert bench[0].xaxis == trace(fig, "Kenya dairy").xaxis  # in Kenya's panel
    legend = [t.name for t in fig.data if t.showlegend is not False]
    assert not {"Kenya dairy", "Senegal sheep"} & set(legend)  # pilots are named on their panels
    assert len(legend) <= 4  # the pilot's line, its benchmark, the portfolio average
    assert "Vietnam dairy" in fig.layout.title.subtitle.text  # named as not reporting


def test_income_trend_writes_each_pilots_last_value_at_its_line_end(pf):
    ken = trace(charts.income_trend(pf), "Kenya dairy")
    assert [t for t in ken.text if t] == ["$1,900"]
    assert ken.text[list(ken.x).index("2017-Q3")] == "$1,900"


def test_income_trend_of_hundreds_of_pilots_draws_groups_not_pilots():
    from tests.scale_fixture import big_portfolio

    fig = charts.income_trend(big_portfolio(200))
    assert len(fig.data) <= 20
    assert {a.text.split(" (")[0] for a in fig.layout.annotations} == {"Asia", "Africa"}
    assert charts.pilot_ids_in(fig) == set()
    assert any(t.name == "Middle half of the pilots" for t in fig.data)
    assert any((t.name or "").startswith("Living-income benchmark") for t in fig.data)


@functools.cache
def _generated(pilots: int, n_quarters: int) -> Portfolio:
    from linkdash import generate

    return generate.portfolio(pilots, n_quarters)


def _ys(trace) -> list:
    """A trace's y with NaN as None (what is drawn as a gap)."""
    return [None if is_none(v) else float(v) for v in trace.y]


def _panels(fig: go.Figure) -> dict[str, list]:
    """The income panels' traces by their x axis, in the order drawn."""
    out: dict[str, list] = {}
    for t in fig.data:
        if t.xaxis is not None:
            out.setdefault(t.xaxis, []).append(t)
    return out


def _income_by_pilot_panels_as_each_pilot_gives_them(p: Portfolio, qs: list[str]) -> dict:
    """What each pilot's panel drew before the panels were computed at once: the pilot's
    income and its country's benchmark in the table of each quarter."""
    tables = [figures.pilot_quarter_table(p, q).set_index("pilot_id") for q in qs]

    def of(pid: str, column: str) -> list:
        return [None if is_none(t.at[pid, column]) else float(t.at[pid, column]) for t in tables]

    return {pid: (of(pid, "income_avg_usd"), of(pid, "living_income_usd")) for pid in p.pilots["pilot_id"]}


def test_income_panels_by_pilot_equal_each_pilots_own_income_and_benchmark():
    """The panels of up to 16 pilots, computed in one pass, draw what each pilot's own
    rows give (the demo data, and a country of generated data)."""
    from linkdash import demo

    for p in (demo.demo_portfolio(), _generated(100, 40).filtered(Filter(countries=("BEN",)))):
        fig = charts.income_trend(p)
        qs = charts._all_quarters(p)
        own = _income_by_pilot_panels_as_each_pilot_gives_them(p, qs)
        by_q = figures.figures_by_quarter(p, Filter(), qs)["income_avg_usd"]
        avg = [None if is_none(v) else float(v) for v in by_q]  # the figure, as each quarter's table gives it
        panels = _panels(fig)
        assert len(panels) == len([pid for pid, (inc, _) in own.items() if any(v is not None for v in inc)])
        for traces in panels.values():
            line = traces[-1]
            pid = line.customdata[0][0]
            income, bench = own[pid]
            assert list(line.x) == qs and _ys(line) == income, pid
            by_name = {t.name: t for t in traces}
            assert _ys(by_name["Portfolio average"]) == avg
            if any(v is not None for v in bench):
                assert _ys(by_name["Living-income benchmark"]) == bench, pid
            else:
                assert "Living-income benchmark" not in by_name


def _income_group_panels_as_each_groups_part_gives_them(p: Portfolio, by: str, qs: list[str]) -> dict:
    """What each group's panel drew before the panels were computed in one grouped pass:
    the group's part of the portfolio, its figure of each quarter (income and benchmark
    weighted by households), and the quartiles of its pilots' incomes."""
    wide = p.indicators_wide()
    wide = wide[wide["income_avg_usd"].notna()]
    out = {}
    for g, ids in p.pilots.groupby(by)["pilot_id"]:
        part = p.filtered(Filter(pilots=tuple(ids)))
        each = [figures.income_against_living_income(figures.pilot_quarter_table(part, q)) for q in qs]
        mine = wide[wide["pilot_id"].isin(set(ids))]
        band = mine.groupby("quarter")["income_avg_usd"].quantile([0.25, 0.75]).unstack().reindex(qs)
        out[g] = {"income": [e["income"] for e in each], "benchmark": [e["benchmark"] for e in each],
                  "low": [None if is_none(v) else float(v) for v in band[0.25]],
                  "high": [None if is_none(v) else float(v) for v in band[0.75]]}
    return out


@pytest.mark.parametrize("which", ["demo", "generated", "generated, one region"])
def test_income_panels_by_group_equal_each_groups_own_figures(which, monkeypatch):
    """The panels by region (or by value chain in one region), computed in one grouped
    pass, draw exactly what each group's own part of the portfolio gives: the demo data
    (drawn by region when fewer pilots get panels of their own) and generated data of 100
    pilots, all of it and one region."""
    from linkdash import demo

    if which == "demo":
        p = demo.demo_portfolio()
        monkeypatch.setattr(charts, "SMALL_MULTIPLES_MAX", 5)
    else:
        p = _generated(100, 40)
        if which == "generated, one region":
            p = p.filtered(Filter(regions=("Africa",)))
    by = "region" if p.pilots["region"].nunique() > 1 else "value_chain"
    label = (lambda g: g) if by == "region" else style.value_chain_label
    qs = charts._all_quarters(p)
    own = _income_group_panels_as_each_groups_part_gives_them(p, by, qs)
    fig = charts.income_trend(p)
    titles = [a.text.split(" (")[0] for a in fig.layout.annotations]
    panels = list(_panels(fig).values())
    assert len(titles) == len(own) >= 2 and len(panels) == len(titles)
    for title, traces in zip(titles, panels):
        g = next(g for g in own if label(g) == title)
        by_name = {t.name: t for t in traces}
        assert all(list(t.x) == qs for t in traces)
        assert _ys(by_name["Average income"]) == own[g]["income"], g
        assert _ys(by_name["Living-income benchmark"]) == own[g]["benchmark"], g
        assert _ys(traces[0]) == own[g]["low"] and _ys(by_name["Middle half of the pilots"]) == own[g]["high"]


def test_income_by_group_figures_equal_each_groups_part():
    p = _generated(100, 40)
    qs = charts._all_quarters(p)
    group_of = dict(zip(p.pilots["pilot_id"], p.pilots["value_chain"]))
    got = figures.income_against_living_income_by_group(p, group_of, qs)
    assert list(got.columns) == ["group", "quarter", "income", "benchmark", "ratio", "gap", "pilots"]
    for g, rows in got.groupby("group", sort=False):
        ids = tuple(pid for pid, gg in group_of.items() if gg == g)
        alone = figures.income_against_living_income_by_quarter(p.filtered(Filter(pilots=ids)), qs)
        pd.testing.assert_frame_equal(rows.drop(columns="group").reset_index(drop=True), alone)


@pytest.mark.parametrize("rows,cols,n,hs,vs", [(1, 1, 1, 0.05, 0.12), (1, 3, 3, 0.05, 0.12),
                                               (3, 5, 13, 0.03, 0.12), (2, 2, 3, 0.06, 0.12),
                                               (7, 2, 13, 0.06, 0.0628), (13, 1, 13, 0.06, 0.043)])
def test_income_panels_grid_is_the_one_make_subplots_makes(rows, cols, n, hs, vs):
    """The panels' axes and names are laid out as plotly's make_subplots lays them out
    (the grid is written as dicts so the figure is built once)."""
    from plotly.subplots import make_subplots

    titles = [f"Panel {i}" for i in range(n)]
    ref = make_subplots(rows=rows, cols=cols, shared_xaxes="all", shared_yaxes="all", subplot_titles=titles,
                        horizontal_spacing=hs, vertical_spacing=vs)
    ref.update_annotations(font=dict(size=13))
    grid, refs = charts._subplot_grid(rows, cols, titles, hs=hs, vs=vs, title_size=13)
    def drawn(layout: go.Layout) -> dict:
        return {k: v for k, v in layout.to_plotly_json().items() if k != "template"}

    assert drawn(go.Figure(layout=grid).layout) == drawn(ref.layout)
    made = [(r, c) for r in range(1, rows + 1) for c in range(1, cols + 1)]
    for (r, c), (x, y) in zip(made, refs):
        t = go.Scatter(x=[1], y=[1])
        ref.add_trace(t, row=r, col=c)
        assert (ref.data[-1].xaxis, ref.data[-1].yaxis) == (x, y)


def test_income_to_living_income_ranks_pilots_and_shows_regions_and_portfolio():
    p = make_portfolio()
    bench = pd.DataFrame([dict(country="KEN", year=2017, living_income_usd=3100.0, source="t"),
                          dict(country="SEN", year=2017, living_income_usd=1800.0, source="t"),
                          dict(country="VNM", year=2017, living_income_usd=2000.0, source="t")])
    extra = pd.DataFrame([dict(pilot_id="VNM-DAIRY", quarter="2017-Q3", indicator=c, value=v, text=None)
                          for c, v in (("income_avg_usd", 2400.0), ("households_reached", 600.0))])
    p = replace(p, benchmarks=bench, indicators=pd.concat([p.indicators, extra], ignore_index=True))
    fig = charts.income_to_living_income_chart(p, "2017-Q3")
    order = list(fig.layout.yaxis.categoryarray)
    # regions and the portfolio first, then the pilots from the lowest share
    assert [o.split("</b>")[0].replace("<b>", "") for o in order[:3]] == ["Asia", "Africa", "Portfolio"]
    assert order[3:] == ["Senegal sheep", "Kenya dairy", "Vietnam dairy"]
    below, above = trace(fig, "below the living income"), trace(fig, "at or above")
    assert dict(zip(below.y, below.x)) == {"Senegal sheep": pytest.approx(900 / 1800),
                                           "Kenya dairy": pytest.approx(1900 / 3100)}
    assert dict(zip(above.y, above.x)) == {"Vietnam dairy": pytest.approx(2400 / 2000)}
    assert "50% · $900 short" in below.text and "120% · $400 above" in above.text
    # the portfolio: income and benchmark both weighted by households
    agg = trace(fig, "Region or portfolio")
    port = dict(zip(agg.y, agg.x))[order[2]]
    hh = {"KEN": 1200, "SEN": 400, "VNM": 600}
    inc = (1900 * 1200 + 900 * 400 + 2400 * 600) / 2200
    li = (3100 * 1200 + 1800 * 400 + 2000 * 600) / sum(hh.values())
    assert port == pytest.approx(inc / li)
    assert [s.x0 for s in fig.layout.shapes] == [1]  # the 100% line, named in the legend
    assert trace(fig, "Living income = 100%").line.dash == "dash"
    assert charts.pilot_ids_in(fig) == {"KEN-DAIRY", "SEN-SHEEP", "VNM-DAIRY"}


def test_income_to_living_income_names_pilots_without_a_benchmark(pf):
    fig = charts.income_to_living_income_chart(pf, "2017-Q3")  # only KEN has a benchmark
    sub = fig.layout.title.subtitle.text.replace("<br>", " ")
    assert "no income or benchmark: Senegal sheep, Vietnam dairy" in sub
    assert charts.is_no_data(charts.income_to_living_income_chart(pf, "2017-Q2"))


def test_indicator_trend_of_income_shows_the_living_income(pf):
    fig = charts.indicator_trend(pf, "KEN-DAIRY", "income_avg_usd")
    bench = trace(fig, "Living-income benchmark")
    assert dict(zip(bench.x, bench.y))["2017-Q3"] == 3100.0
    assert "61% of the living income in Q3 2017 ($1,200 short)" in fig.layout.title.subtitle.text
    other = charts.indicator_trend(pf, "KEN-DAIRY", "households_reached")
    assert not any("Living" in (t.name or "") for t in other.data)


def test_income_trend_single_pilot_without_targets_says_so(pf):
    fig = charts.income_trend(pf, ["SEN-SHEEP"])
    names = [t.name for t in fig.data]
    assert not any("Baseline" in n or "Target" in n for n in names)
    assert "no baseline or target" in fig.layout.title.subtitle.text.lower()


def test_bars_coloured_by_value_chain_say_which_colour_is_which(pf):
    for fig in (charts.living_income_share_chart(pf, "2017-Q3"), charts.inclusiveness_bars(pf, "2017-Q3")):
        bars = fig.data[0]
        swatches = {t.name: t.marker.color for t in fig.data[1:] if t.showlegend}
        assert fig.layout.legend.title.text == charts.VALUE_CHAIN_LEGEND
        for cd, color in zip(bars.customdata, bars.marker.color):
            chain = pf.pilots.set_index("pilot_id").loc[_id(cd), "value_chain"]
            assert swatches[style.value_chain_label(chain)] == color


def test_living_income_share_sorted_and_matches_pilot_shares(pf):
    fig = charts.living_income_share_chart(pf, "2017-Q3")
    bars = fig.data[0]
    assert list(bars.x) == sorted(bars.x)
    assert dict(zip(bars.y, bars.x)) == {"Senegal sheep": pytest.approx(5 / 50),
                                         "Kenya dairy": pytest.approx(35 / 100)}
    ref = [s for s in fig.layout.shapes if s.type == "line"]
    whole = figures.portfolio_figures(pf, Filter(), "2017-Q3")["share_above_living_income"]
    assert ref[0].x0 == pytest.approx(whole)
    assert "Vietnam dairy" in fig.layout.title.subtitle.text  # named as no data



def test_portfolio_reference_label_sits_inside_the_plot_below_the_bars(pf):
    fig = charts.living_income_share_chart(pf, "2017-Q3")
    n = len(fig.data[0].y)
    share = figures.portfolio_figures(pf, Filter(), "2017-Q3")["share_above_living_income"]
    label = next(a for a in fig.layout.annotations if a.text.startswith("Portfolio"))
    assert label.text == f"Portfolio {style.fmt_share(share)}"
    # in data coordinates, under the last bar (not above the plot, where the subtitle is)
    assert label.xref == "x" and label.yref == "y"
    assert label.x == pytest.approx(share) and label.y > n - 1 + 0.4
    assert max(fig.layout.yaxis.autorangeoptions.include) > label.y  # the axis makes room for it
    assert list(fig.layout.yaxis.tickvals) == list(fig.data[0].y)  # no tick for the empty band
    assert "white" in fig.data[0].textfont.shadow  # value labels stay readable where the line crosses them

def test_gender_gap_dumbbell_shows_both_incomes(pf):
    fig = charts.income_gender_gap_chart(pf, "2017-Q3")
    women, men = trace(fig, "Women-headed"), trace(fig, "Men-headed")
    w = dict(zip(women.y, women.x))
    m = dict(zip(men.y, men.x))
    assert w["Kenya dairy"] == 1600 and m["Kenya dairy"] == 2100
    assert w["Senegal sheep"] == 700 and is_none(m["Senegal sheep"])  # one side only: no bar


# --- inclusiveness ---------------------------------------------------------------------------

@pytest.mark.parametrize("group,who", [("participants", "women"), ("participants", "youth"),
                                       ("members", "women"), ("leaders", "women")])
def test_inclusiveness_bars_sorted_ascending_and_match_figures(pf, group, who):
    fig = charts.inclusiveness_bars(pf, "2017-Q3", group, who)
    bars = fig.data[0]
    assert list(bars.x) == sorted(bars.x)
    table = figures.pilot_quarter_table(pf, "2017-Q3").set_index("pilot_id")
    name = f"{who}_share_{group}"
    ids = [cd[charts.PILOT_CUSTOMDATA_INDEX] for cd in bars.customdata]
    for pid, x in zip(ids, bars.x):
        assert x == pytest.approx(table.loc[pid, name])
    shown = set(ids)
    assert shown == set(table.index[table[name].notna()])
    ref = [s for s in fig.layout.shapes if s.type == "line"][0]
    assert ref.x0 == pytest.approx(figures.portfolio_figures(pf, Filter(), "2017-Q3")[name])
    whose = "Women's" if who == "women" else "Youth (15-35)"
    assert fig.layout.title.text.startswith(f"{whose} share of ")
    assert "share share" not in fig.layout.title.text


def test_inclusiveness_bars_lowest_first_on_screen(pf):
    fig = charts.inclusiveness_bars(pf, "2017-Q3", "participants", "women")
    assert fig.layout.yaxis.autorange == "reversed"
    assert list(fig.data[0].y) == ["Senegal sheep", "Kenya dairy"]  # 20% then 56%


def test_youth_among_leaders_is_not_collected(pf):
    fig = charts.inclusiveness_bars(pf, "2017-Q3", "leaders", "youth")
    assert charts.is_no_data(fig)
    assert "not collect" in annotation_texts(fig)[0]


def test_inclusiveness_trend_uses_portfolio_shares_per_quarter(pf):
    fig = charts.inclusiveness_trend(pf, "women")
    assert {t.name for t in fig.data} == {"Participants", "Members", "Leaders"}
    part = trace(fig, "Participants")
    for q, y in zip(part.x, part.y):
        expected = figures.portfolio_figures(pf, Filter(), q)["women_share_participants"]
        assert (is_none(y) and expected is None) or y == pytest.approx(expected)
    assert is_none(part.y[1])  # 2017-Q2: nobody reported


# --- business ---------------------------------------------------------------------------------

def test_business_chart_stacks_value_chains_and_says_which_colour_is_which(pf):
    fig = charts.business_chart(pf, "sales_usd")
    assert fig.layout.barmode == "stack"
    dairy, sheep = trace(fig, "Dairy cows"), trace(fig, "Sheep")
    assert list(dairy.x) == ["2017-Q1", "2017-Q2", "2017-Q3"]
    assert dairy.y[0] == 50000 and is_none(dairy.y[1]) and dairy.y[2] == 80000
    assert sheep.y[2] == 10000
    assert dairy.marker.color == style.value_chain_color("dairy_cow")
    assert "value chain" in fig.layout.legend.title.text.lower()
    assert charts.is_no_data(charts.business_chart(pf, "buyers_with_agreements"))


def test_business_chart_of_a_thousand_pilots_has_a_trace_per_value_chain():
    from tests.scale_fixture import big_portfolio

    p = big_portfolio(1000)
    fig = charts.business_chart(p, "sales_usd")
    assert len(fig.data) == p.pilots["value_chain"].nunique()
    q = p.latest_quarter()
    expected = figures.portfolio_figures(p, Filter(), q)["sales_usd"]
    assert sum(t.y[-1] or 0 for t in fig.data) == pytest.approx(expected)


def test_volumes_are_never_added_across_units():
    """Litres of milk and heads of goats do not add up: one panel per value chain."""
    from linkdash import demo

    fig = charts.business_chart(demo.demo_portfolio(), "volume_sold")
    titles = [a.text for a in fig.layout.annotations]
    assert any("litres" in t for t in titles) and any("head" in t for t in titles)
    assert len({t.xaxis for t in fig.data}) == len(fig.data)  # each chain in its own panel


def test_business_ranking_names_the_pilots_and_their_chain_colour(pf):
    fig = charts.business_ranking_chart(pf, "sales_usd", "2017-Q3")
    bars = fig.data[0]
    assert list(bars.y) == ["Kenya dairy", "Senegal sheep"]  # highest first
    assert [_id(cd) for cd in bars.customdata] == ["KEN-DAIRY", "SEN-SHEEP"]
    assert list(bars.marker.color) == [style.value_chain_color("dairy_cow"), style.value_chain_color("sheep")]
    assert {"Dairy cows", "Sheep"} <= {t.name for t in fig.data[1:]}
    assert fig.layout.legend.title.text == charts.VALUE_CHAIN_LEGEND


# --- NBMP ------------------------------------------------------------------------------------

def _polar(t) -> dict:
    return dict(zip(list(t.theta)[:-1], list(t.r)[:-1]))


def test_nbmp_radar_for_a_pilot_first_latest_and_median(pf):
    fig = charts.nbmp_radar(pf, "KEN-DAIRY")
    labels = [catalogue.NBMP_LABELS[c] for c in catalogue.NBMP]
    first, latest, med = trace(fig, "First"), trace(fig, "Latest"), trace(fig, "median")
    for t in (first, latest, med):
        assert list(t.theta)[:-1] == labels and len(set(t.theta)) == 6
        assert t.r[0] == t.r[-1]  # closed loop
    assert _polar(first) == {catalogue.NBMP_LABELS[c]: v for c, v in NBMP_FIRST.items()}
    assert _polar(latest) == {catalogue.NBMP_LABELS[c]: v for c, v in NBMP_LATEST.items()}
    assert _polar(med) == {catalogue.NBMP_LABELS[c]: pytest.approx((NBMP_LATEST[c] + NBMP_SEN[c]) / 2)
                           for c in catalogue.NBMP}
    assert "2017-Q1" in first.name and "2017-Q3" in latest.name
    assert list(fig.layout.polar.radialaxis.range) == [0, 5]



def test_nbmp_radar_scale_is_read_from_rings_not_numbers_on_the_lines(pf):
    for fig in (charts.nbmp_radar(pf), charts.nbmp_radar(pf, "KEN-DAIRY")):
        radial = fig.layout.polar.radialaxis
        assert radial.showticklabels is False  # numbers there sat on the polygons' lines
        assert list(radial.tickvals) == [1, 2, 3, 4, 5]  # one ring per score
        sub = fig.layout.title.subtitle.text.replace("<br>", " ")
        assert "1 (weak) to 5 (strong)" in sub and "outer ring = 5" in sub

def test_nbmp_radar_without_pilot_compares_portfolio_medians(pf):
    fig = charts.nbmp_radar(pf)
    first, latest = trace(fig, "first"), trace(fig, "latest")
    c0 = catalogue.NBMP[0]
    assert _polar(first)[catalogue.NBMP_LABELS[c0]] == pytest.approx((NBMP_FIRST[c0] + NBMP_SEN[c0]) / 2)
    assert _polar(latest)[catalogue.NBMP_LABELS[c0]] == pytest.approx((NBMP_LATEST[c0] + NBMP_SEN[c0]) / 2)


def test_nbmp_radar_pilot_without_assessment(pf):
    assert charts.is_no_data(charts.nbmp_radar(pf, "VNM-DAIRY"))


# --- one indicator ------------------------------------------------------------------------

def test_indicator_trend_with_baseline_and_target(pf):
    fig = charts.indicator_trend(pf, "KEN-DAIRY", "households_reached")
    line = fig.data[0]
    by_q = dict(zip(line.x, line.y))
    assert by_q["2017-Q1"] == 1000 and is_none(by_q["2017-Q2"]) and by_q["2017-Q3"] == 1200
    assert set(trace(fig, "Target").y) == {1500.0}
    assert set(trace(fig, "Baseline").y) == {800.0}
    assert list(fig.layout.xaxis.categoryarray)[-1] == "2018-Q2"


def test_indicator_trend_pilot_without_targets(pf):
    fig = charts.indicator_trend(pf, "SEN-SHEEP", "sales_usd")
    assert [t.name for t in fig.data] == ["Sales (USD)"]
    assert "No baseline or target" in fig.layout.title.subtitle.text
    assert charts.is_no_data(charts.indicator_trend(pf, "VNM-DAIRY", "sales_usd"))


def test_charts_serialise_for_the_browser(pf):
    for name, make in EVERY_CHART.items():
        assert make(pf).to_json(), name


# --- clicking a pilot opens its page: the marks carry the pilot ids -------------------------

NAMES = {"KEN-DAIRY": "Kenya dairy", "SEN-SHEEP": "Senegal sheep", "VNM-DAIRY": "Vietnam dairy"}


def _marks(tr) -> list:
    """A trace's per-mark customdata (a heatmap's rows flattened)."""
    cd = list(tr.customdata)
    if tr.type == "heatmap":
        cd = [cell for row in cd for cell in row]
    return cd


def _id(cd) -> str:
    return cd[charts.PILOT_CUSTOMDATA_INDEX]


def test_pilot_customdata_puts_the_id_first_and_extras_after():
    assert charts.pilot_customdata(["KEN-DAIRY", "SEN-SHEEP"], ["$500", "$20"]) == [
        ["KEN-DAIRY", "$500"], ["SEN-SHEEP", "$20"]]
    assert charts.pilot_customdata(["KEN-DAIRY"]) == [["KEN-DAIRY"]]


@pytest.mark.parametrize("name", ["living_income", "incl_bars"])
def test_share_bars_carry_the_id_of_the_pilot_each_bar_names(pf, name):
    bars = EVERY_CHART[name](pf).data[0]
    assert [NAMES[_id(cd)] for cd in bars.customdata] == list(bars.y)


def test_income_lines_carry_their_pilot_on_every_point_and_the_average_none(pf):
    fig = charts.income_trend(pf)
    pilot_lines = [t for t in fig.data if t.name in NAMES.values()]
    assert {t.name for t in pilot_lines} == {"Kenya dairy", "Senegal sheep"}
    for t in pilot_lines:
        assert {NAMES[_id(cd)] for cd in t.customdata} == {t.name}
        assert len(t.customdata) == len(t.x)
    assert trace(fig, "Portfolio average").customdata is None
    assert charts.pilot_ids_in(fig) == {"KEN-DAIRY", "SEN-SHEEP"}


def test_dumbbell_ends_carry_the_pilot_and_the_hover_still_shows_the_gap(pf):
    fig = charts.income_gender_gap_chart(pf, "2017-Q3")
    women, men = trace(fig, "Women-headed"), trace(fig, "Men-headed")
    for t in (women, men):
        assert [NAMES[_id(cd)] for cd in t.customdata] == list(t.y)
        assert "%{customdata[1]}" in t.hovertemplate
    gap = {NAMES[_id(cd)]: cd[1] for cd in men.customdata}
    assert gap["Kenya dairy"] == "$500"  # 2100 - 1600, as the hover said before
    assert gap["Senegal sheep"] == "no data"


def test_every_gantt_mark_carries_the_pilot_of_its_row(pf):
    fig = charts.progress_gantt(pf, AS_OF)
    for t in fig.data:
        assert t.customdata is not None, t.name
        for outer, cd in zip(t.y[0], t.customdata):
            assert outer.endswith(NAMES[_id(cd)]), (t.name, outer, cd)
    assert charts.pilot_ids_in(fig) == {"KEN-DAIRY", "SEN-SHEEP"}  # VNM has no milestones


@pytest.mark.parametrize("name", ["reporting_grid", "tools"])
def test_grid_cells_have_click_targets_with_the_cells_pilot_and_hover(pf, name):
    fig = EVERY_CHART[name](pf)
    hm = next(t for t in fig.data if t.type == "heatmap")
    targets = trace(fig, charts.PILOT_TARGETS_NAME)
    assert targets.type == "scatter" and targets.marker.opacity == 0 and targets.showlegend is False
    cells = [(y, x) for y in hm.y for x in hm.x]
    assert list(zip(targets.y, targets.x)) == cells  # one target at the centre of every cell
    hover = [cd[1] for cd in _marks(hm)]
    assert [cd[1] for cd in targets.customdata] == hover  # the same hover text as the cell
    assert all(h.startswith(NAMES[_id(cd)]) for h, cd in zip(hover, targets.customdata))
    assert [NAMES[_id(cd)] for cd in targets.customdata] == [y for y, _ in cells]
    # the axes span the cells exactly (markers would pad an autorange), first row on top
    assert tuple(fig.layout.yaxis.range) == (len(hm.y) - 0.5, -0.5)
    assert tuple(fig.layout.xaxis.range) == (-0.5, len(hm.x) - 0.5)


def test_charts_of_the_portfolio_as_a_whole_carry_no_pilot(pf):
    assert charts.pilot_ids_in(charts.inclusiveness_trend(pf)) == set()
    assert charts.pilot_ids_in(charts.nbmp_radar(pf)) == set()
    assert charts.pilot_ids_in(charts.no_data_figure("x")) == set()
    own = charts.nbmp_radar(pf, "KEN-DAIRY")
    assert charts.pilot_ids_in(own) == {"KEN-DAIRY"}
    assert trace(own, "Portfolio median").customdata is None


def test_pilot_charts_zoom_when_dragged(pf):
    for name in ("reporting_grid", "gantt", "tools", "income", "living_income", "gender_gap",
                 "incl_bars", "business_ranking"):
        assert EVERY_CHART[name](pf).layout.dragmode == "zoom", name


# --- the clicked pilot from Streamlit's selection ---------------------------------------------

def test_pilot_from_selection_reads_the_id_in_customdata():
    point = {"curve_number": 0, "point_number": 2, "x": 0.56, "y": "Kenya dairy",
             "customdata": ["KEN-DAIRY"]}
    assert charts.pilot_from_selection([point], NAMES) == "KEN-DAIRY"
    assert charts.pilot_from_selection([point]) == "KEN-DAIRY"  # no list of pilots needed
    dumbbell = {"x": 2100, "y": "Senegal sheep", "customdata": ["SEN-SHEEP", "$500"]}
    assert charts.pilot_from_selection([dumbbell], NAMES) == "SEN-SHEEP"
    bare = {"lat": -0.4, "lon": 36.9, "customdata": "VNM-DAIRY"}  # a bare id works too
    assert charts.pilot_from_selection([bare], NAMES) == "VNM-DAIRY"


def test_pilot_from_selection_falls_back_to_a_name_or_id_on_an_axis():
    assert charts.pilot_from_selection([{"x": 0.2, "y": "senegal SHEEP"}], NAMES) == "SEN-SHEEP"
    assert charts.pilot_from_selection([{"x": "ken-dairy", "y": 3}], NAMES) == "KEN-DAIRY"
    gantt = {"x": "2017-01-01", "y": ["Africa · Kenya dairy", "4 NBMP assessment"]}
    assert charts.pilot_from_selection([gantt], NAMES) == "KEN-DAIRY"
    # without the list of pilots an axis value is not taken for a pilot (quarters look like ids)
    assert charts.pilot_from_selection([{"x": "2017-Q3", "y": "Kenya dairy"}]) is None


def test_pilot_from_selection_without_a_pilot_is_none():
    assert charts.pilot_from_selection([], NAMES) is None
    assert charts.pilot_from_selection(None, NAMES) is None
    average = {"curve_number": 3, "x": "2017-Q3", "y": 1500.0}
    assert charts.pilot_from_selection([average], NAMES) is None
    country = {"location": "KEN", "z": 1200.0}
    assert charts.pilot_from_selection([country], NAMES) is None
    # an id that is not among the chart's pilots is not followed
    assert charts.pilot_from_selection([{"customdata": ["XYZ-GONE"]}], NAMES) is None
    # the first point naming a pilot wins
    pts = [average, {"customdata": ["SEN-SHEEP"]}, {"customdata": ["KEN-DAIRY"]}]
    assert charts.pilot_from_selection(pts, NAMES) == "SEN-SHEEP"


def test_quarters_before_a_pilot_started_are_not_missing_reports(pf):
    """A pilot that started in 2017-Q3 had nothing to report before: those cells are
    drawn apart and the caption counts only the quarters that were due."""
    from dataclasses import replace

    pil = pf.pilots.copy()
    pil.loc[pil.pilot_id == "SEN-SHEEP", "start_date"] = dt.date(2017, 8, 15)
    later = replace(pf, pilots=pil)
    fig = charts.reporting_grid_chart(later)
    hm = fig.data[0]
    rows = dict(zip(hm.y, [list(r) for r in hm.z]))
    assert rows["Senegal sheep"] == [-1, -1, 1]
    assert rows["Kenya dairy"] == [1, 0, 1]
    n_cells = len(hm.y) * len(hm.x)
    subtitle = fig.layout.title.subtitle.text
    assert f"3 of {n_cells - 2} pilot-quarters reported" in subtitle
    assert "before the pilot started" in subtitle


def test_a_narrow_income_chart_keeps_its_plot_wide_enough(pf):
    """On a pilot slide the chart gets 3/5 of the page: its legend goes underneath
    (beside the plot it left the plot ~50 px) and its title wraps to that width."""
    wide = charts.income_trend(pf, ["KEN-DAIRY"])
    narrow = charts.income_trend(pf, ["KEN-DAIRY"], width_px=520)
    assert wide.layout.legend.orientation != "h"
    assert narrow.layout.legend.orientation == "h" and narrow.layout.legend.y < 0
    longest = max(len(line) for line in narrow.layout.title.text.split("<br>"))
    assert longest <= style.chars_per_line(520, style.TITLE_FONT_SIZE)


# --- a thousand pilots (issue 13) ------------------------------------------------------------

@pytest.mark.parametrize("name", EVERY_CHART)
def test_every_chart_of_a_thousand_pilots_has_few_traces_and_little_data(name):
    from tests.scale_fixture import big_portfolio

    fig = EVERY_CHART[name](big_portfolio(1000))
    assert len(fig.data) <= 20, (name, len(fig.data))
    assert len(fig.to_json()) <= 300_000, name


def test_a_ranking_keeps_its_ends_and_the_pilot_found_and_says_what_it_left_out():
    df = pd.DataFrame({"pilot_id": [f"P{i:03d}" for i in range(100)], "name": [f"n{i}" for i in range(100)]})
    shown, left = charts.rank_window(df, find=("P050",))
    real = shown[~shown["is_gap"].astype(bool)]
    assert list(real["rank"]) == [*range(1, 11), 51, *range(91, 101)]
    assert left == 100 - 21
    gaps = list(shown.loc[shown["is_gap"].astype(bool), "name"])
    assert gaps == ["⋯ #11 to #50 ⋯", "⋯ #52 to #90 ⋯"]
    small, left = charts.rank_window(df.head(13))
    assert len(small) == 13 and left == 0 and not small["is_gap"].any()


def test_a_thousand_pilot_ranking_names_the_found_pilot_and_marks_it():
    from tests.scale_fixture import big_portfolio

    p = big_portfolio(1000)
    fig = charts.living_income_share_chart(p, "2018-Q4", find=("KEN-DAIRY-033",))
    bars = fig.data[0]
    ids = [cd[0] for cd in bars.customdata]
    assert "KEN-DAIRY-033" in ids
    i = ids.index("KEN-DAIRY-033")
    assert bars.marker.line.color[i] != bars.marker.line.color[0]  # outlined
    assert "#" in bars.text[i]  # its rank among the thousand
    assert "lowest and highest 10 of" in fig.layout.title.subtitle.text.replace("<br>", " ")


def test_inclusiveness_by_group_gives_each_region_its_share_and_the_portfolio_line():
    """The slide's chart at many pilots: a region's bar is the share over its pilots, the
    same number the deck's slide and the figures give."""
    from tests.scale_fixture import big_portfolio

    big = big_portfolio(60)
    q = figures.latest_quarter(big)
    fig = charts.inclusiveness_by_group(big, q, "participants", "youth")
    bar = next(t for t in fig.data if t.type == "bar")
    by_region = figures.figures_by(big, "region", quarter=q, names=["youth_share_participants"])
    want = {f"{r} (30 pilots)": by_region[r]["youth_share_participants"] for r in ("Africa", "Asia")}
    assert dict(zip(bar.y, bar.x)) == pytest.approx(want)
    assert list(bar.x) == sorted(bar.x)  # lowest first
    line = [s for s in fig.layout.shapes if s.type == "line"]
    assert len(line) == 1
    assert line[0].x0 == pytest.approx(figures.portfolio_figures(big, quarter=q)["youth_share_participants"])
    assert "60 pilots by region" in fig.layout.title.subtitle.text


@pytest.mark.parametrize("pilots, n_quarters", [(100, 40), (12, 40)])
def test_small_panels_label_the_years_without_running_them_into_each_other(pilots, n_quarters):
    """Ten years of quarters on a panel a fifth or a third of the chart wide: every year's
    label ran into the next ("2016201720182019..."); now every second or third year."""
    fig = charts.income_trend(_generated(pilots, n_quarters))
    axes = [k for k in fig.layout.to_plotly_json() if k.startswith("xaxis")]
    cols = len({round(fig.layout[k].domain[0], 3) for k in axes})  # panels side by side
    assert 3 <= cols <= 5
    panel_px = (style.CHART_WIDTH_PX - 80) / cols * 0.85
    for name in axes:
        labels = fig.layout[name].ticktext
        assert 2 <= len(labels) <= 5, labels
        assert len(labels) * 30 <= panel_px  # about 30 px for "2016" at the axis' font
        assert labels[0] == "2016" and int(labels[1]) - int(labels[0]) >= 2


def test_small_panels_label_every_year_of_the_demo():
    from linkdash import demo

    pf = demo.demo_portfolio()
    years = sorted({q[:4] for q in pf.quarters() if q.endswith("Q1")})
    fig = charts.income_trend(pf)
    assert len(years) >= 2 and list(fig.layout.xaxis.ticktext) == years


@pytest.mark.parametrize("chart", [lambda p: charts.inclusiveness_trend(p, "women"),
                                   lambda p: charts.business_chart(p, "sales_usd")])
def test_forty_quarters_are_labelled_by_year_and_the_demo_by_quarter(chart):
    """Forty rotated quarter labels piled up under the plot and ran into the legend; with
    more than three years of quarters the axis names every second year, level."""
    from linkdash import demo

    axis = chart(_generated(100, 40)).layout.xaxis
    assert list(axis.ticktext) == [str(y) for y in range(2016, 2026, 2)] and axis.tickangle == 0
    assert all(v.endswith("-Q1") for v in axis.tickvals) and len(axis.categoryarray) == 40
    few = chart(demo.demo_portfolio()).layout.xaxis
    assert few.tickvals is None and len(few.categoryarray) <= charts.QUARTERS_LABELLED_MAX
