"""Every view is a link (issue 9): each choice that shapes a page is in the URL, so a
pasted link shows the same view; a link asking for what the data does not have says so;
a filter that matches no pilot says that, not "no pilot has reported". AppTest on the
demo data (``demo_url`` in conftest)."""

from __future__ import annotations

import json

import pytest

from linkdash import catalogue, charts, figures
from linkdash.portfolio import Filter
from tests.test_app_pages import kpis, open_page, plotly_specs, stored, texts


def warnings(at) -> str:
    """The page's warnings (not the sidebar's "local mode" note), markdown escapes removed."""
    return "\n".join(str(w.value) for w in at.main.warning).replace("\\", "")


def chart_spec(at, key: str) -> dict:
    hit = [e for e in at.get("plotly_chart") if e.proto.id.endswith(f"-{key}")]
    assert hit, [e.proto.id for e in at.get("plotly_chart")]
    return json.loads(hit[0].proto.spec)


def title(spec: dict) -> str:
    return spec["layout"]["title"]["text"].replace("<br>", " ")


# --- a choice in the URL shows the same view ---------------------------------------------

def test_the_map_figure_is_in_the_link(demo_url):
    at = open_page("overview", {"map": "Sales (USD)"})
    assert at.selectbox(key="map").value == "sales_usd"
    assert "Sales" in title(chart_spec(at, "country_map"))
    assert not warnings(at)


def test_a_lesson_search_is_in_the_link(demo_url):
    at = open_page("lessons", {"lessons_q": "milk collection", "lessons_kind": "Challenge"})
    assert at.text_input(key="lessons_q").value == "milk collection"
    assert at.multiselect(key="lessons_kind").value == ["challenge"]
    lessons = stored(demo_url).lessons
    hits = lessons[lessons["lesson"].str.contains("milk collection", case=False)
                   & (lessons["kind"] == "challenge")]
    assert 0 < len(hits) < len(lessons)
    assert f"**{len(hits)}** of {len(lessons)} lessons" in texts(at)


def test_the_pilot_pages_indicator_is_in_the_link(demo_url):
    label = catalogue.indicators()["sales_usd"].label
    at = open_page("pilot", {"pilot": "KEN-DAIRY", "indicator": label})
    assert at.selectbox(key="indicator").value == "sales_usd"
    assert label in title(chart_spec(at, "pilot_trend"))


def test_outcomes_choices_are_in_the_link(demo_url):
    at = open_page("outcomes", {"tab": "Inclusiveness", "who": "Youth", "among": "Members"})
    assert at.radio(key="who").value == "youth" and at.radio(key="among").value == "members"
    assert title(chart_spec(at, "incl_bars")).startswith("Youth (15-35) share of members")
    label = catalogue.indicators()["volume_sold"].label
    at = open_page("outcomes", {"tab": "Business", "measure": label})
    assert at.selectbox(key="measure").value == "volume_sold"
    assert label in title(chart_spec(at, "business_total"))


def test_the_progress_grouping_is_in_the_link(demo_url):
    at = open_page("progress", {"group_by": "Value chain"})
    assert at.radio(key="group_by").value == "value_chain"
    outer = chart_spec(at, "gantt")["data"][0]["y"][0]
    chains = {catalogue.VALUE_CHAIN_LABELS[c] for c in catalogue.VALUE_CHAINS}
    assert all(o.split(" · ")[0] in chains for o in outer)


# --- a link with what the data does not have says so -------------------------------------

def test_a_link_to_an_unknown_pilot_says_so(demo_url):
    at = open_page("pilot", {"pilot": "NOPE"})
    assert "There is no pilot **NOPE** in the store" in warnings(at)


def test_a_link_with_an_unknown_region_says_so_and_shows_every_pilot(demo_url):
    at = open_page("overview", {"region": "Mars"})
    assert "region **Mars**" in warnings(at) and "not in the data" in warnings(at)
    assert kpis(at)["Pilots"] == "13"


def test_a_country_outside_the_chosen_region_is_named(demo_url):
    at = open_page("overview", {"region": "Africa", "country": "Nepal"})
    assert "country **Nepal** (not in Africa)" in warnings(at)


@pytest.mark.parametrize("page, query, said", [
    ("overview", {"quarter": "2031-Q1"}, "quarter **2031-Q1**"),
    ("overview", {"as_of": "yesterday"}, "**yesterday**, which is not a date"),
    ("overview", {"map": "Rainfall"}, "the map figure **Rainfall**"),
    ("outcomes", {"tab": "Weather"}, "the tab **Weather**"),
    ("outcomes", {"tab": "Business", "measure": "Milk price"}, "the indicator **Milk price**"),
    ("lessons", {"lessons_kind": "Gossip"}, "the kind of lesson **Gossip**"),
    ("progress", {"group_by": "Colour"}, "grouping **Colour**"),
    ("pilot", {"pilot": "KEN-DAIRY", "indicator": "Rainfall"}, "the indicator **Rainfall**"),
])
def test_a_link_asking_for_what_the_data_does_not_have_says_so(demo_url, page, query, said):
    at = open_page(page, query)
    assert said in warnings(at), warnings(at)


def test_a_filter_that_matches_no_pilot_says_so(demo_url):
    at = open_page("overview", {"region": "Asia", "value_chain": "Sheep"})
    body = texts(at)
    assert "No pilot matches these filters (Asia; Sheep)" in body
    assert "No pilot has reported" not in body
    assert kpis(at)["Pilots"] == "0"
    for page in ("progress", "outcomes", "lessons"):
        at = open_page(page, {"region": "Asia", "value_chain": "Sheep"})
        assert "No pilot matches these filters" in texts(at), page


def test_a_good_link_says_nothing_extra(demo_url):
    at = open_page("outcomes", {"tab": "Income", "region": "Africa", "quarter": "2018-Q2"})
    assert not warnings(at)
    assert kpis(open_page("overview", {"region": "Africa"}))["Pilots"] == str(
        figures.portfolio_figures(stored(demo_url), Filter(regions=("Africa",)))["pilots_total"])


# --- the cards: their change, their target, the list behind a count of problems ------------

def test_overview_cards_say_their_change_and_target(demo_url):
    from datetime import date

    at = open_page("overview")
    portfolio = stored(demo_url)
    ch = figures.figure_changes(portfolio, quarter=portfolio.latest_quarter(), as_of=date(2018, 12, 31))
    metrics = {m.label: m for m in at.metric}
    hh = metrics["Households reached"]
    assert hh.proto.delta == figures.format_change("households_reached", ch["households_reached"].delta)
    assert "since Q3 2018" in hh.proto.delta_description
    over = metrics["Milestones overdue"]
    assert over.proto.delta == figures.format_change("milestones_overdue", ch["milestones_overdue"].delta)
    assert "since 30 Sep 2018" in over.proto.delta_description
    # fewer overdue milestones is good: the colour is inverted for that card only
    from streamlit.proto.Metric_pb2 import Metric

    assert over.proto.color == Metric.MetricColor.GREEN  # 11 -> 2
    assert metrics["Households reached"].proto.color == Metric.MetricColor.RED  # fewer households
    body = texts(at)
    assert figures.describe_target(ch["households_reached"]) in body.replace("\\", "")


def test_a_count_of_problems_leads_to_its_list(demo_url):
    at = open_page("overview")
    links = [e.proto for e in at.get("page_link")]
    overdue = next(link for link in links if "overdue milestone" in link.label)
    assert "progress" in overdue.page
    assert overdue.label == "The 2 overdue milestones"
    assert "[The 1 pilot that did not report ↓](#reporting)" in [c.value for c in at.caption]
    assert "**Did not report for Q4 2018:** [Bangladesh goat meat]" in texts(at)
    # the Progress page opens on the list
    at = open_page("progress")
    assert [s.value for s in at.subheader][0] == "Overdue milestones"


def test_the_pilot_page_has_cards_against_its_targets(demo_url):
    at = open_page("pilot", {"pilot": "KEN-DAIRY"})
    metrics = {m.label: m for m in at.metric}
    assert set(metrics) >= {"Households reached", "Average household income", "Milestones overdue"}
    assert metrics["Households reached"].value == "1,470"
    assert "98% of the target of 1,500 by Q4 2018" in texts(at).replace("\\", "")
    assert metrics["Households reached"].proto.delta == "+80"


def test_a_pilot_that_did_not_report_the_quarter_says_so(demo_url):
    at = open_page("pilot", {"pilot": "BGD-GOAT"})
    assert "no report for Q4 2018; last report Q3 2018" in texts(at)
    assert {m.label: m.value for m in at.metric}["Households reached"] == "no data"


def test_no_chart_on_the_pages_relies_on_a_legend_of_pilots(demo_url):
    """Thirteen pilots read without hovering: no chart lists pilots in its legend."""
    names = set(stored(demo_url).pilots["pilot_name"])
    for page, query in (("overview", None), ("progress", None), ("outcomes", {"tab": "Income"}),
                        ("outcomes", {"tab": "Inclusiveness"}), ("outcomes", {"tab": "Business"})):
        for spec in plotly_specs(open_page(page, query)):
            shown = {t.get("name") for t in spec["data"] if t.get("showlegend", True) and t.get("name")}
            assert not shown & names, (page, title(spec), shown & names)
            assert len(spec["data"]) <= 60
    assert charts.SMALL_MULTIPLES_MAX >= 13
