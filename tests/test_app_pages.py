"""Every page of the app through Streamlit's AppTest: with the demo data and with an
empty store, the Overview's cards against the portfolio figures (and the command
line), filters from the URL, the Pilot page by link, the upload flow and rollback.

Each test gets its own SQLite store (a copy of one loaded with the demo data, or an
empty one) through ``LINKDASH_DATABASE_URL``; the app's caches are keyed on the URL
and the data version, so tests do not see each other's data.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from linkdash import figures
from linkdash.portfolio import Filter
from tests.workbook_builder import xlsx_bytes

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
PAGES = ["overview", "progress", "outcomes", "pilot", "lessons", "upload", "submissions"]
CHART_PAGES = {"overview", "progress", "outcomes", "pilot"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- stores -------------------------------------------------------------------------

@pytest.fixture
def empty_url(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    monkeypatch.setenv("LINKDASH_DATABASE_URL", url)
    monkeypatch.delenv("LINKDASH_ACCESS_FILE", raising=False)
    return url


def stored(url):
    from linkdash.store import Store

    return Store.open(url).load()


# --- driving the app ----------------------------------------------------------------

def open_page(name: str, query: dict | None = None, *, timeout: float = 60) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.query_params.update(query or {})
    at.run()
    if name != "overview":
        at.switch_page(f"pages/{name}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def go_to(at: AppTest, name: str) -> AppTest:
    at.switch_page(f"pages/{name}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest) -> str:
    parts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "success",
                 "warning", "error"):
        parts += [str(e.value) for e in getattr(at, kind)]
    parts += [f"{m.label}: {m.value}" for m in at.metric]
    return "\n".join(parts)


def plotly_specs(at: AppTest) -> list[dict]:
    return [json.loads(e.proto.spec) for e in at.get("plotly_chart")]


def is_no_data(spec: dict) -> bool:
    meta = spec.get("layout", {}).get("meta")
    return isinstance(meta, dict) and bool(meta.get("no_data"))


def kpis(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def expected_kpis(figs: dict) -> dict[str, str]:
    return {figures.FIGURES[n].label: figures.format_figure(n, v)
            for n, v in figs.items() if n in figures.FIGURES}


def quarter_workbook() -> bytes:
    """Two pilots report a new quarter (a title row above the headers, as people do)."""
    return xlsx_bytes({"Indicators": [
        ["Quarterly report, Heifer Africa"],
        ["Pilot ID", "Quarter", "Households reached", "Participants total", "Participants women"],
        ["KEN-DAIRY", "Q1 2019", 1234, 300, 150],
        ["uga-dairy", "2019-Q1", "1 000", 200, 80],
    ]})


# --- every page, demo data and empty store -----------------------------------------

@pytest.mark.parametrize("name", PAGES)
def test_every_page_renders_the_demo_data(demo_url, name):
    at = open_page(name, {"pilot": "KEN-DAIRY"} if name == "pilot" else None)
    assert at.title, f"{name} has no title"
    specs = plotly_specs(at)
    if name in CHART_PAGES:
        assert specs, f"{name} shows no chart"
        assert not all(is_no_data(s) for s in specs), f"{name}: every chart says no data"
    assert "Illustrative demo data" in " ".join(i.value for i in at.sidebar.info)


@pytest.mark.parametrize("name", PAGES)
def test_every_page_renders_no_data_states_on_an_empty_store(empty_url, name):
    at = open_page(name)
    assert at.title
    assert all(is_no_data(s) for s in plotly_specs(at)), f"{name} draws data from nowhere"
    if name not in ("upload",):
        assert "no data" in texts(at).lower(), f"{name} does not say there is no data"
    assert not at.sidebar.info, "an empty store is not demo data"


def test_empty_store_overview_cards_all_say_no_data_except_counts(empty_url):
    at = open_page("overview")
    shown = kpis(at)
    assert shown["Pilots"] == "0"
    assert shown["Households reached"] == "no data"
    assert shown["Average household income"] == "no data"


# --- the Overview agrees with the figures and the command line ---------------------

def test_overview_cards_are_the_portfolio_figures_of_the_latest_quarter(demo_url):
    at = open_page("overview")
    portfolio = stored(demo_url)
    figs = figures.portfolio_figures(portfolio, Filter())
    assert figs["quarter"] == portfolio.latest_quarter()
    assert kpis(at) == expected_kpis(figs)
    assert figs["quarter"] in texts(at)


def test_overview_for_a_quarter_in_the_url_matches_the_summary_command(demo_url):
    at = open_page("overview", {"quarter": "2017-Q4"})
    # the page counts milestones as of the quarter's last day (issue 9); the command
    # line's default is today (the spec), so it is given the page's date
    out = subprocess.run([sys.executable, "-m", "linkdash", "--db", demo_url, "summary",
                          "--quarter", "2017-Q4", "--as-of", "2017-12-31", "--json"], cwd=ROOT,
                         capture_output=True, text=True, check=True)
    summary = json.loads(out.stdout)
    assert summary["quarter"] == "2017-Q4"
    assert kpis(at) == expected_kpis(summary)
    latest = figures.portfolio_figures(stored(demo_url), Filter())
    assert kpis(at) != expected_kpis(latest), "the quarter in the URL was ignored"


def test_choosing_a_region_changes_the_cards(demo_url):
    at = open_page("overview")
    before = kpis(at)
    at.multiselect(key="region").set_value(["Africa"]).run()
    assert not at.exception
    portfolio = stored(demo_url)
    africa = figures.portfolio_figures(portfolio, Filter(regions=("Africa",)))
    assert kpis(at) == expected_kpis(africa)
    assert kpis(at) != before
    # (the browser writes a bound widget's value into the URL; tests/test_browser.py
    # checks that, and the next test that such a URL gives the same view)


def test_a_link_with_filters_shows_the_filtered_view(demo_url):
    at = open_page("overview", {"region": "Asia", "value_chain": "Goat meat"})
    portfolio = stored(demo_url)
    flt = Filter(regions=("Asia",), value_chains=("goat_meat",))
    assert kpis(at)["Pilots"] == "3"
    assert kpis(at) == expected_kpis(figures.portfolio_figures(portfolio, flt))


def test_the_map_shows_the_chosen_figure(demo_url):
    at = open_page("overview")
    at.selectbox(key="map").set_value("sales_usd").run()
    assert not at.exception
    titles = [s["layout"]["title"]["text"] for s in plotly_specs(at) if "title" in s["layout"]]
    assert any("Sales" in t for t in titles), titles


# --- the Pilot page -----------------------------------------------------------------

def test_pilot_page_is_reachable_by_its_link(demo_url):
    at = open_page("pilot", {"pilot": "ken-dairy"})
    portfolio = stored(demo_url)
    name = portfolio.pilots.set_index("pilot_id").loc["KEN-DAIRY", "pilot_name"]
    assert at.title[0].value == name
    body = texts(at)
    assert "Kenya" in body and "Kieni dairy farmers cooperative" in body
    assert len(plotly_specs(at)) >= 4  # site map, milestones, indicator trend, NBMP
    # its lessons, and the demo submission that wrote its data
    lessons = portfolio.lessons[portfolio.lessons["pilot_id"] == "KEN-DAIRY"]
    tables = [d.value for d in at.dataframe]
    assert any(len(t) == len(lessons) and "lesson" in t.columns for t in tables)
    assert any("kind" in t.columns and "illustrative demo data" in set(t["kind"]) for t in tables)


def test_pilot_page_follows_the_sidebar_filter(demo_url):
    """With Nepal chosen in the sidebar the Pilot page opens Nepal's pilot and lists only
    the pilots inside the filter; a link to a pilot outside it still opens, with a note."""
    at = open_page("pilot", {"region": "Asia", "country": "Nepal"})
    assert at.query_params.get("pilot") in ("NPL-GOAT", ["NPL-GOAT"])
    options = at.selectbox[0].options
    assert len(options) == 1 and "NPL-GOAT" in options[0], options
    outside = open_page("pilot", {"region": "Africa", "pilot": "NPL-GOAT"})
    assert outside.title[0].value.startswith("Nepal")
    assert "outside the sidebar's filter (Africa)" in " ".join(c.value for c in outside.caption)


def test_pilot_picker_moves_the_url_to_the_chosen_pilot(demo_url):
    at = open_page("pilot", {"pilot": "KEN-DAIRY"})
    at.selectbox(key="pilot_picker_KEN-DAIRY").set_value("SEN-SHEEP").run()
    at.run()
    assert not at.exception
    assert at.query_params.get("pilot") in ("SEN-SHEEP", ["SEN-SHEEP"])
    assert "Senegal" in texts(at)


def test_overdue_table_links_each_row_to_its_pilot_page(demo_url):
    at = open_page("progress")
    from datetime import date

    at.date_input(key="as_of").set_value(date(2018, 12, 31)).run()
    assert not at.exception
    table = next(d.value for d in at.dataframe if "Days late" in d.value.columns)
    assert len(table) >= 1
    assert all(str(u).startswith("./pilot?pilot=") for u in table["Pilot page"])
    assert (table["Days late"] > 0).all()


# --- milestones as of the chosen quarter ----------------------------------------------

def _overdue(at: AppTest):
    return next(d.value for d in at.dataframe if "Days late" in d.value.columns)


def test_progress_counts_milestones_as_of_the_end_of_the_latest_quarter(demo_url):
    """The demo data ends in Q4 2018: milestones are judged on 31 Dec 2018, not on
    today's date, so nothing is thousands of days late."""
    from datetime import date

    at = open_page("progress")
    assert at.date_input(key="as_of").value == date(2018, 12, 31)
    assert "Milestones as of **31 Dec 2018**, the end of Q4 2018" in texts(at)
    late = _overdue(at)["Days late"]
    assert 0 < late.max() < 400


def test_the_as_of_date_follows_the_chosen_quarter_and_a_link(demo_url):
    from datetime import date

    at = open_page("progress", {"quarter": "2017-Q4"})
    assert at.date_input(key="as_of").value == date(2017, 12, 31)
    assert "Milestones as of **31 Dec 2017**" in texts(at)
    # a date chosen by hand holds on other pages
    at.date_input(key="as_of").set_value(date(2018, 3, 1)).run()
    assert "Milestones as of **1 Mar 2018**" in texts(at)
    go_to(at, "overview")
    assert "milestones as of **1 Mar 2018**" in texts(at)
    # another quarter brings its own date back
    at.selectbox(key="quarter").set_value("2018-Q2").run()
    assert at.date_input(key="as_of").value == date(2018, 6, 30)
    # a link with a date shows that date
    linked = open_page("progress", {"quarter": "2017-Q4", "as_of": "2018-02-01"})
    assert linked.date_input(key="as_of").value == date(2018, 2, 1)
    assert "Milestones as of **1 Feb 2018**" in texts(linked)


def test_overview_milestone_cards_count_as_of_the_quarter(demo_url):
    from datetime import date

    from linkdash.store import Store

    at = open_page("overview", {"quarter": "2017-Q4"})
    figs = figures.portfolio_figures(Store.open(demo_url).load(), quarter="2017-Q4",
                                     as_of=date(2017, 12, 31))
    cards = {m.label: m.value for m in at.metric}
    assert cards["Milestones overdue"] == figures.format_figure("milestones_overdue",
                                                                figs["milestones_overdue"])
    assert cards["Milestones completed"] == figures.format_figure("milestones_completed",
                                                                  figs["milestones_completed"])
    assert "milestones as of **31 Dec 2017**" in texts(at)


def test_the_presentation_says_milestones_as_of_the_quarter(demo_url):
    at = open_page("presentation", {"slide": "2"})
    assert not at.exception
    # the slide's kicker is an st.html block (presentation mode sizes it to the screen)
    shown = [str(m.value) for m in at.markdown] + [e.proto.body for e in at.get("html")]
    assert any("Milestones as of 31 Dec 2018" in t for t in shown), shown


# --- the living-income benchmark wherever income is shown ----------------------------

def test_outcomes_income_shows_the_living_income_for_every_pilot_region_and_the_portfolio(demo_url):
    at = open_page("outcomes", {"tab": "Income"})
    specs = plotly_specs(at)
    ranked = next(s for s in specs if "against the living income" in s["layout"]["title"]["text"])
    ys = [y for tr in ranked["data"] for y in tr["y"]]
    assert any("Portfolio" in y for y in ys) and any("Africa" in y for y in ys)
    assert "Kenya dairy cows" in ys
    assert any(sh.get("x0") == 1 for sh in ranked["layout"]["shapes"])  # the 100% line
    trend = next(s for s in specs if s["layout"]["title"]["text"].startswith("Average household income"))
    assert any("Living-income benchmark" in tr.get("name", "") for tr in trend["data"])


def test_pilot_page_income_shows_the_living_income(demo_url):
    at = open_page("pilot", {"pilot": "KEN-DAIRY"})
    specs = plotly_specs(at)
    income = next(s for s in specs if "average household income" in s["layout"]["title"]["text"])
    assert any(tr.get("name") == "Living-income benchmark" for tr in income["data"])


# --- the Outcomes tabs --------------------------------------------------------------

@pytest.mark.parametrize("tab", ["Income", "Inclusiveness", "Business",
                                 "New Business Model Principles"])
def test_each_outcomes_tab_draws_its_charts(demo_url, tab):
    at = open_page("outcomes", {"tab": tab})
    specs = plotly_specs(at)
    assert specs and not all(is_no_data(s) for s in specs), tab


# --- Lessons ------------------------------------------------------------------------

def test_lessons_search_finds_the_milk_collection_story(demo_url):
    at = open_page("lessons")
    everything = at.dataframe[0].value
    at.text_input(key="lessons_q").set_value("milk collection").run()
    assert not at.exception
    found = at.dataframe[0].value
    assert 0 < len(found) < len(everything)
    assert found["lesson"].str.lower().str.contains("milk collection").all()


def test_lessons_kind_filter_and_downloads(demo_url):
    at = open_page("lessons")
    at.multiselect(key="lessons_kind").set_value(["challenge"]).run()
    table = at.dataframe[0].value
    assert len(table) > 0 and set(table["kind"]) == {"Challenge"}
    labels = [b.label for b in at.get("download_button")]
    assert any("CSV" in b for b in labels) and any("Excel" in b for b in labels)


def test_lessons_are_readable_in_full_and_downloads_say_what_they_hold(demo_url, monkeypatch):
    """Each lesson is written out whole (a table cell cuts it after a line), and the
    downloads are named after the filter and the search."""
    from streamlit.runtime.media_file_manager import MediaFileManager

    files: list[str] = []
    for method in ("add", "add_deferred"):
        original = getattr(MediaFileManager, method)

        def keep(self, data, mimetype, coordinates, file_name=None, *a, _original=original, **kw):
            files.append(file_name)
            return _original(self, data, mimetype, coordinates, file_name, *a, **kw)

        monkeypatch.setattr(MediaFileManager, method, keep)
    at = open_page("lessons", {"region": "Asia"})
    at.text_input(key="lessons_q").set_value("milk collection").run()
    assert not at.exception
    found = at.dataframe[0].value
    shown = [m.value for m in at.markdown]
    for lesson in found["lesson"]:
        assert any(lesson.split()[0] in m and lesson.split()[-1].rstrip(".") in m for m in shown), lesson
    assert "link-lessons_Asia_milk-collection.csv" in files, files
    assert "link-lessons_Asia_milk-collection.xlsx" in files, files


def test_lessons_xlsx_names_the_selection():
    import io

    import pandas as pd
    from openpyxl import load_workbook

    from linkdash import exports

    les = pd.DataFrame([{"pilot_id": "NPL-GOAT", "quarter": "2017-Q3", "kind": "insight",
                         "lesson": "=Milk collection moved to market day", "milestone": None,
                         "author": "a@example.org"}])
    data = exports.lessons_xlsx_bytes(les, 'Asia, search "milk" (1 lesson)')
    wb = load_workbook(io.BytesIO(data))
    notes = " ".join(str(c.value) for c in wb["Instructions"]["A"][:5])
    assert 'Export of the stored data of Asia, search "milk" (1 lesson)' in notes
    assert wb["Lessons"]["D2"].value == "=Milk collection moved to market day"
    assert wb["Lessons"]["D2"].data_type == "s"  # text, never a formula


def test_lessons_csv_is_formula_safe():
    import pandas as pd

    from linkdash import ui

    data = ui.frame_csv_bytes(pd.DataFrame({"lesson": ["=HYPERLINK(\"x\")", "plain"]}))
    text = data.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "\nplain" in text.replace("\r", "")


# --- Upload, commit, and the new data everywhere ------------------------------------

def test_upload_preview_commit_then_the_overview_shows_the_new_quarter(demo_url):
    at = open_page("upload")
    assert at.get("download_button"), "no template download"
    at.file_uploader[0].set_value(("q1-2019.xlsx", quarter_workbook(), XLSX)).run()
    assert not at.exception, [e.value for e in at.exception]
    shown = kpis(at)
    assert shown["New values"] == "6" and shown["Changed values"] == "0"
    assert any(b.label.lower().startswith("commit") for b in at.button)

    at.button(key="upload_commit").click().run()
    assert not at.exception, [e.value for e in at.exception]
    body = texts(at)
    assert "submission #2" in body, body

    go_to(at, "overview")
    assert "2019-Q1" in texts(at)
    assert kpis(at)["Households reached"] == figures.format_figure("households_reached", 2234)
    assert kpis(at)["Pilots reporting"] == "2"


def test_a_new_pilot_counts_as_one_value_and_its_cells_are_listed_as_such(demo_url):
    """The cards count values (a Pilots row is one); the list shows each cell, and says
    so, so that "New values 1" and a list of 5 cells do not look like a contradiction."""
    new_pilot = xlsx_bytes({"Pilots": [
        ["pilot_id", "pilot_name", "country", "value_chain", "start_date"],
        ["TZA-GOAT", "Tanzania goats", "Tanzania", "Dairy goat", "2017-08-15"]]})
    at = open_page("upload")
    at.file_uploader[0].set_value(("new-pilot.xlsx", new_pilot, XLSX)).run()
    assert not at.exception, [e.value for e in at.exception]
    assert kpis(at)["New values"] == "1"
    body = texts(at)
    assert "**New** (7 cells in 1 value)" in body, body
    assert "one whole row of the other sheets" in " ".join(c.value for c in at.caption)


def test_an_upload_with_errors_lists_them_with_sheet_and_cell_and_cannot_commit(demo_url):
    bad = xlsx_bytes({"Indicators": [
        ["Pilot ID", "Quarter", "Participants total", "Participants women"],
        ["KEN-DAIRY", "2018-Q4", 100, 150],          # more women than participants
        ["NOPE-PILOT", "2018-Q4", "lots", None],      # unknown pilot, not a number
    ]})
    at = open_page("upload")
    at.file_uploader[0].set_value(("bad.xlsx", bad, XLSX)).run()
    assert not at.exception
    errors = at.dataframe[0].value
    assert {"sheet", "cell", "message"} <= set(errors.columns)
    assert len(errors) >= 2 and set(errors["sheet"]) == {"Indicators"}
    assert errors["cell"].str.match(r"^[A-Z]+\d+$").all()
    assert not any(b.key == "upload_commit" for b in at.button)
    assert any("report" in b.label.lower() for b in at.get("download_button"))


def test_the_same_file_twice_changes_nothing_and_says_so(demo_url):
    at = open_page("upload")
    at.file_uploader[0].set_value(("q.xlsx", quarter_workbook(), XLSX)).run()
    at.button(key="upload_commit").click().run()
    at.file_uploader[0].set_value(("q-again.xlsx", quarter_workbook(), XLSX)).run()
    assert not at.exception
    assert kpis(at)["New values"] == "0"
    assert "changes nothing" in texts(at)


# --- Submissions and rollback -------------------------------------------------------

def test_rollback_needs_a_confirmation_and_restores_the_data(demo_url):
    from linkdash import access, submit
    from linkdash.store import Store

    outcome = submit.import_file(Store.open(demo_url), quarter_workbook(), "q1.xlsx",
                                 actor=access.local_admin("t"))
    assert outcome.submission_id == 2
    at = open_page("submissions")
    assert len(at.dataframe[0].value) == 2
    assert at.selectbox(key="submission_pick").value == 2
    assert at.button(key="rollback_go").disabled
    at.checkbox(key="rollback_sure_2").check().run()
    at.button(key="rollback_go").click().run()
    assert not at.exception
    assert "Rolled back submission #2" in texts(at)
    assert "2019-Q1" not in stored(demo_url).quarters()
    go_to(at, "overview")
    assert "2019-Q1" not in texts(at)


def test_submissions_page_offers_the_original_file(demo_url):
    at = open_page("submissions")
    labels = [b.label for b in at.get("download_button")]
    assert any(label.startswith("Download") for label in labels)


# --- data committed elsewhere ------------------------------------------------------------

def test_a_commit_from_another_process_shows_on_the_next_run(demo_url):
    from linkdash import access, submit
    from linkdash.store import Store

    at = open_page("overview")
    assert "2019-Q1" not in texts(at)
    submit.import_file(Store.open(demo_url), quarter_workbook(), "cli.xlsx",
                       actor=access.local_admin("cli"))
    at.run()
    assert "2019-Q1" in texts(at)
    assert kpis(at)["Pilots reporting"] == "2"


# Sign-in, roles and scope: tests/test_access_pages.py


def test_overview_links_every_pilot_in_the_filter_to_its_page(demo_url):
    at = open_page("overview", {"region": "Asia"})
    links = [e.proto for e in at.get("page_link")]
    portfolio = stored(demo_url)
    asia = portfolio.pilots[portfolio.pilots["region"] == "Asia"]
    assert sorted(link.label for link in links) == sorted(asia["pilot_name"])
    assert all("pilot=" in link.query_string for link in links)


# --- clicking a pilot in a chart opens its page -------------------------------------

def chart_element(at: AppTest, key: str):
    hits = [e for e in at.get("plotly_chart") if e.proto.id.endswith(f"-{key}")]
    assert hits, [e.proto.id for e in at.get("plotly_chart")]
    return hits[0]


def selectable(at: AppTest) -> dict[str, bool]:
    """Chart key -> whether a click selects a point (and nothing else: no box, no lasso)."""
    from streamlit.proto.PlotlyChart_pb2 import PlotlyChart

    out = {}
    for e in at.get("plotly_chart"):
        modes = list(e.proto.selection_mode)
        assert modes in ([], [PlotlyChart.SelectionMode.POINTS]), modes
        out[e.proto.id.rsplit("-", 1)[-1]] = bool(modes)
    return out


def click_chart(at: AppTest, key: str, *points: dict) -> AppTest:
    """What the browser sends when a point of a chart is clicked: the chart's selection
    state (Streamlit's selection event), with the other widgets' states as they are."""
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    states = at._tree.get_widget_states()
    state = WidgetState(id=chart_element(at, key).proto.id)
    state.string_value = json.dumps({"selection": {
        "points": list(points), "point_indices": [p.get("point_index", 0) for p in points],
        "box": [], "lasso": []}})
    states.widgets.append(state)
    at._run(states)
    assert not at.exception, [e.value for e in at.exception]
    return at


def pilot_of_bar(at: AppTest, key: str, index: int) -> dict:
    """The selection point of bar ``index`` of a chart, as the browser reports it."""
    bars = json.loads(chart_element(at, key).proto.spec)["data"][0]
    return {"curve_number": 0, "point_number": index, "point_index": index,
            "x": bars["x"][index], "y": bars["y"][index], "customdata": bars["customdata"][index]}


@pytest.mark.parametrize("page,query,clickable,plain", [
    ("overview", None, {"reporting_grid", "country_map"}, set()),
    ("progress", None, {"gantt", "link_tools"}, {"milestone_summary"}),
    ("outcomes", {"tab": "Income"}, {"income_trend", "living_income", "gender_gap",
                                      "income_vs_living_income"}, set()),
    ("outcomes", {"tab": "Inclusiveness"}, {"incl_bars"}, {"incl_trend"}),
    ("outcomes", {"tab": "Business"}, {"business"}, {"business_total"}),
    ("outcomes", {"tab": "New Business Model Principles"}, set(), {"nbmp_radar"}),
    ("pilot", {"pilot": "KEN-DAIRY"}, set(), {"site_map", "pilot_gantt", "pilot_trend", "pilot_nbmp",
                                              "pilot_income"}),
])
def test_charts_that_name_pilots_select_a_clicked_point(demo_url, page, query, clickable, plain):
    at = open_page(page, query)
    shown = selectable(at)
    assert {k for k, v in shown.items() if v} == clickable
    assert {k for k, v in shown.items() if not v} == plain


def test_clicking_a_bar_opens_the_page_of_that_pilot(demo_url):
    at = open_page("outcomes", {"tab": "Inclusiveness", "region": "Africa"})
    point = pilot_of_bar(at, "incl_bars", 1)
    pid = point["customdata"][0]
    name = stored(demo_url).pilots.set_index("pilot_id").loc[pid, "pilot_name"]
    assert point["y"] == name
    click_chart(at, "incl_bars", point)
    assert at.title[0].value == name
    assert at.query_params.get("pilot") in (pid, [pid])
    assert at.query_params.get("region") in ("Africa", ["Africa"])  # the filter stays
    assert "tab" not in at.query_params  # the Outcomes tab does not follow
    # the Pilot page does not switch again, and its charts do not take clicks
    go_to(at, "pilot")
    assert at.title[0].value == name
    assert at.query_params.get("pilot") in (pid, [pid])
    assert not any(selectable(at).values())


def test_clicking_a_grid_cell_or_a_site_opens_that_pilots_page(demo_url):
    portfolio = stored(demo_url)
    names = portfolio.pilots.set_index("pilot_id")["pilot_name"]
    at = open_page("overview")
    grid = json.loads(chart_element(at, "reporting_grid").proto.spec)["data"]
    targets = next(t for t in grid if t.get("name") == "pilot cells")
    cell = {"curve_number": 1, "point_number": 20, "point_index": 20, "x": targets["x"][20],
            "y": targets["y"][20], "customdata": targets["customdata"][20]}
    click_chart(at, "reporting_grid", cell)
    pid = cell["customdata"][0]
    assert at.title[0].value == names[pid] == cell["y"]

    at = open_page("overview")
    data = json.loads(chart_element(at, "country_map").proto.spec)["data"]
    curve, site = next((i, t) for i, t in enumerate(data)
                       if t.get("mode") == "markers" and t.get("customdata"))
    click_chart(at, "country_map", {"curve_number": curve, "point_number": 0, "point_index": 0,
                                    "x": site["x"][0], "y": site["y"][0],
                                    "customdata": site["customdata"][0]})
    assert at.title[0].value == names[site["customdata"][0][0]]


def test_a_click_that_names_no_pilot_stays_on_the_page(demo_url):
    at = open_page("outcomes", {"tab": "Income"})
    spec = json.loads(chart_element(at, "income_trend").proto.spec)["data"]
    average = next(i for i, t in enumerate(spec) if t["name"].startswith("Portfolio average"))
    click_chart(at, "income_trend", {"curve_number": average, "point_number": 3, "point_index": 3,
                                     "x": spec[average]["x"][3], "y": spec[average]["y"][3]})
    assert at.title[0].value == "Outcomes"
    assert "pilot" not in at.query_params


def test_coming_back_after_a_click_does_not_open_the_pilot_again(demo_url):
    at = open_page("progress")
    bars = json.loads(chart_element(at, "gantt").proto.spec)["data"][0]
    point = {"curve_number": 0, "point_number": 0, "point_index": 0, "x": bars["x"][0],
             "y": [bars["y"][0][0], bars["y"][1][0]], "customdata": bars["customdata"][0]}
    click_chart(at, "gantt", point)
    pid = point["customdata"][0]
    assert at.query_params.get("pilot") in (pid, [pid])
    go_to(at, "progress")
    assert at.title[0].value == "Progress through the learning cycle"
    assert selectable(at)["gantt"]


def test_a_large_upload_shows_the_first_rows_and_offers_them_all_as_csv(demo_url, monkeypatch):
    """A 50,000-row quarter would freeze the browser as one table: the page shows the
    first rows of the preview and the whole list as a download."""
    from linkdash import ui

    monkeypatch.setattr(ui.upload, "DETAIL_ROWS_SHOWN", 4)  # read where it is used
    at = open_page("upload")
    at.file_uploader[0].set_value(("q1-2019.xlsx", quarter_workbook(), XLSX)).run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Showing the first 4 of 6" in " ".join(c.value for c in at.caption)
    assert len(at.dataframe[-1].value) == 4
    assert any("Download all 6 new cells" in b.label for b in at.get("download_button"))


def test_the_country_list_follows_the_chosen_region(demo_url):
    at = open_page("overview", {"region": "Asia"})
    countries = at.multiselect(key="country").options
    assert "Nepal" in countries and "Kenya" not in countries, countries
    everywhere = open_page("overview").multiselect(key="country").options
    assert "Kenya" in everywhere and "Nepal" in everywhere


# --- the upload read by a person, plain words everywhere (issue 9) ------------------------

def outlier_workbook(portfolio, *, errors: bool = True) -> bytes:
    """Every pilot reports 2018-Q4 at 40 times its 2018-Q3 counts (hundreds of outliers);
    with ``errors``, three rows that are wrong (an unknown pilot, a word for a number, a
    quarter in the future)."""
    from tests.test_reporting import outlier_rows

    rows = outlier_rows(portfolio)
    blank = [None] * (len(rows[0]) - 3)
    if errors:
        rows += [["NOPE-PILOT", "2018-Q4", 5, *blank], ["KEN-DAIRY", "2017-Q2", "lots", *blank],
                 ["UGA-DAIRY", "2031-Q2", 5, *blank]]
    return xlsx_bytes({"Indicators": rows})


def test_three_errors_come_first_and_the_warnings_are_grouped_by_kind_and_pilot(demo_url):
    from tests.test_reporting import outlier_rows

    n_pilots = len(outlier_rows(stored(demo_url))) - 1  # rows 2 .. n_pilots + 1
    at = open_page("upload")
    at.file_uploader[0].set_value(("bad.xlsx", outlier_workbook(stored(demo_url)), XLSX)).run()
    assert not at.exception, [e.value for e in at.exception]
    errors = at.dataframe[0].value  # the first table on the page
    assert list(errors["cell"]) == [f"A{n_pilots + 2}", f"C{n_pilots + 3}", f"B{n_pilots + 4}"], errors
    titles = [e.label for e in at.expander]
    outliers = [t for t in titles if re.fullmatch(rf"\d+ outliers in {n_pilots} pilots", t)]
    assert outliers, titles
    n = int(outliers[0].split()[0])
    assert n > 100
    assert f"**3 errors**, {n} warnings" in texts(at)
    assert not any(b.key == "upload_commit" for b in at.button)


def test_the_preview_says_what_the_file_covers_and_flags_unusual_changes(demo_url):
    portfolio = stored(demo_url)
    at = open_page("upload")
    at.file_uploader[0].set_value(("q1-2019.xlsx", quarter_workbook(), XLSX)).run()
    cover = " ".join(m.value for m in at.markdown)
    assert ("This file covers 2 pilots (Kenya dairy cows and Uganda dairy cows), 2019-Q1, "
            "in 1 sheet: Indicators (2 rows).") in cover, cover
    assert not at.warning or not any("Unusual" in w.value for w in at.warning)
    assert not at.button(key="upload_commit").disabled
    # a pilot renamed and moved, and an old quarter rewritten: said before Commit, which
    # waits for a confirmation
    ken = portfolio.pilots.set_index("pilot_id").loc["KEN-DAIRY"]
    odd = xlsx_bytes({"Pilots": [["pilot_id", "pilot_name", "country", "value_chain", "latitude",
                                  "longitude"],
                                 ["KEN-DAIRY", "Kenya milk", "Kenya", "dairy_cow", ken["latitude"] + 1,
                                  ken["longitude"]]],
                      "Indicators": [["Pilot ID", "Quarter", "Households reached"],
                                     ["UGA-DAIRY", "2016-Q4", 7]]})
    at.file_uploader[0].set_value(("odd.xlsx", odd, XLSX)).run()
    assert not at.exception, [e.value for e in at.exception]
    unusual = next(w.value for w in at.warning if "Unusual for a quarterly upload" in w.value)
    assert "1 pilot renamed" in unusual and "Kenya milk" in unusual
    assert "moved 111 km" in unusual
    assert "a year or more before 2018\\-Q4" in unusual or "a year or more before 2018-Q4" in unusual
    assert at.button(key="upload_commit").disabled
    at.checkbox(key="upload_meant").check().run()
    assert not at.button(key="upload_commit").disabled


def test_after_a_commit_the_page_says_what_changed_and_links_to_the_quarter(demo_url):
    at = open_page("upload")
    at.file_uploader[0].set_value(("q1-2019.xlsx", quarter_workbook(), XLSX)).run()
    at.button(key="upload_commit").click().run()
    assert not at.exception, [e.value for e in at.exception]
    done = " ".join(s.value for s in at.success)
    assert "Stored 6 new values for 2 pilots in 2019-Q1 (submission #2)." in done, done
    links = [e.proto.body for e in at.get("html") if "See 2019-Q1 on the Overview" in e.proto.body]
    assert len(links) == 1 and 'href="./?quarter=2019-Q1"' in links[0], links
    # the first real upload beside the illustrative data: every page says they are mixed,
    # and the upload offers to remove the illustrative data
    assert any("Real and illustrative data are mixed" in w.value for w in at.warning)
    assert at.button(key="upload_illustrative_go").disabled
    go_to(at, "outcomes")
    assert any("Real and illustrative data are mixed" in w.value for w in at.warning)


def test_removing_the_illustrative_data_is_a_rollback_that_can_be_loaded_again(demo_url):
    from linkdash import access, illustrative, submit
    from linkdash.store import Store

    store = Store.open(demo_url)
    real = xlsx_bytes({"Pilots": [["pilot_id", "pilot_name", "country", "value_chain", "site"],
                                  ["KEN-DAIRY", "Kenya dairy cows", "Kenya", "dairy_cow", "Real site"]],
                       "Indicators": [["Pilot ID", "Quarter", "Households reached"],
                                      ["KEN-DAIRY", "2019-Q1", 1500]]})
    assert submit.import_file(store, real, "real.xlsx", actor=access.local_admin("t")).ok
    at = open_page("submissions")
    at.checkbox(key="submissions_illustrative_sure").check().run()
    at.button(key="submissions_illustrative_go").click().run()
    assert not at.exception, [e.value for e in at.exception]
    said = " ".join(s.value for s in at.success)
    assert "Removed the illustrative demo data (submission #1)" in said, said
    assert not illustrative.state(store.submissions(), store.load()).any
    assert not any("illustrative data are mixed" in w.value for w in at.warning)
    table = submissions_table(at).set_index("id")
    assert table.loc[1, "status"] == "rolled back by #3"
    assert at.selectbox(key="submission_pick").options[-1].endswith("rolled back by #3")
    assert stored(demo_url).indicators.set_index(["pilot_id", "quarter", "indicator"]).loc[
        ("KEN-DAIRY", "2019-Q1", "households_reached"), "value"] == 1500
    # and back: only where no real value is
    at.button(key="submissions_illustrative_again").click().run()
    assert "Loaded the illustrative demo data again as submission #4" in " ".join(s.value for s in at.success)
    back = stored(demo_url)
    assert len(back.pilots) == 13
    assert back.pilots.set_index("pilot_id").loc["KEN-DAIRY", "site"] == "Real site"
    assert illustrative.state(store.submissions(), store.load()).mixed


def submissions_table(at: AppTest) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if "status" in d.value.columns)


def test_a_rollback_shows_at_once_in_the_list_and_the_picker(demo_url):
    from linkdash import access, submit
    from linkdash.store import Store

    submit.import_file(Store.open(demo_url), quarter_workbook(), "q1.xlsx", actor=access.local_admin("t"))
    at = open_page("submissions")
    assert submissions_table(at).set_index("id").loc[2, "status"] == "stored"
    at.checkbox(key="rollback_sure_2").check().run()
    at.button(key="rollback_go").click().run()
    table = submissions_table(at).set_index("id")
    assert table.loc[2, "status"] == "rolled back by #3"
    assert table.loc[3, "kind"] == "rollback" and table.loc[3, "what"].startswith("undid #2")
    picks = {o.split(" · ")[0]: o for o in at.selectbox(key="submission_pick").options}
    assert picks["#2"].endswith("rolled back by #3")
    assert "Already rolled back by submission 3" in " ".join(
        c.value for c in at.caption) or at.selectbox(key="submission_pick").value != 2


_RAW = re.compile(r"\bNone\b|\bnan\b|\bNaN\b|\bNaT\b|\bundefined\b|\b[a-z]+_[a-z0-9]+(?:_[a-z0-9]+)*\b")


def _shown_texts(at: AppTest) -> list[str]:
    """What a person reads on the page: texts, labels, options, table cells and chart
    hover texts (markdown escapes undone)."""
    out = [texts(at)]
    for kind in ("expander", "tabs", "button", "checkbox", "radio", "toggle"):
        out += [str(getattr(e, "label", "")) for e in getattr(at, kind, [])]
    for sel in [*at.selectbox, *at.multiselect, *at.radio]:
        out.append(f"{sel.label}: " + " | ".join(map(str, sel.options)))
    for df in at.dataframe:
        frame = df.value
        for c in frame.columns:
            col = frame[c]
            if pd.api.types.is_datetime64_any_dtype(col) or pd.api.types.is_numeric_dtype(col):
                continue
            out += [str(v) for v in col.dropna().unique() if not str(v).startswith("./")]
    for spec in plotly_specs(at):
        for t in spec.get("data", []):
            for k in ("hovertext", "text", "name"):
                v = t.get(k)
                out += [str(x) for x in v] if isinstance(v, list) else ([str(v)] if v else [])
    return [t.replace("\\", "") for t in out]


def _blank_cells_without_placeholder(at: AppTest) -> list[str]:
    """Tables holding empty cells that Streamlit would show as "None"."""
    return [", ".join(map(str, df.value.columns)) for df in at.dataframe
            if df.value.isna().any().any() and not df.proto.placeholder]


def test_no_page_shows_none_nan_or_raw_codes(demo_url):
    """Demo data, a real upload beside it, a rolled-back upload and a role change: every
    page in words, with no "None", "nan" or snake_case code in what a person reads."""
    from linkdash import access, submit
    from linkdash.store import Store

    store = Store.open(demo_url)
    admin = access.local_admin("t")
    assert submit.import_file(store, quarter_workbook(), "q1.xlsx", actor=admin).ok
    other = xlsx_bytes({"Indicators": [["Pilot ID", "Quarter", "Households reached"],
                                       ["NPL-GOAT", "2019-Q1", 99]]})
    sid = submit.import_file(store, other, "nepal.xlsx", actor=admin).submission_id
    assert submit.rollback(store, sid, actor=admin).ok
    access.set_user(store, admin, "asia.director@example.org", "director", "Asia")
    found = {}
    pages = [("overview", None), ("progress", None), ("outcomes", None), ("pilot", {"pilot": "KEN-DAIRY"}),
             ("lessons", None), ("presentation", None), ("upload", None), ("submissions", None),
             ("audit", None), ("admin", None)]
    for name, query in pages:
        at = open_page(name, query)
        bad = sorted({m.group(0) for t in _shown_texts(at) for m in _RAW.finditer(t)})
        blank = _blank_cells_without_placeholder(at)
        if bad or blank:
            found[name] = (bad, blank)
    # the Upload page with a preview and with problems
    at = open_page("upload")
    at.file_uploader[0].set_value(("odd.xlsx", xlsx_bytes({
        "Progress": [["pilot_id", "milestone", "status", "actual_end"],
                     ["KEN-DAIRY", "vc_map", "completed", "2016-09-30"]],
        "Indicators": [["Pilot ID", "Quarter", "Households reached", "Colour"],
                       ["KEN-DAIRY", "2019-Q2", 1300, "red"]]}),
        XLSX)).run()
    for label, a in (("upload preview", at),):
        bad = sorted({m.group(0) for t in _shown_texts(a) for m in _RAW.finditer(t)})
        if bad or _blank_cells_without_placeholder(a):
            found[label] = (bad, _blank_cells_without_placeholder(a))
    assert not found, found


# --- each chart drawn once in the browser (issue 13; tests/test_browser_draw.py) ----

def test_streamlits_plotly_module_is_named_in_the_early_load_script():
    # a Streamlit release that renamed or split its plotly module would lose the early
    # load without a word
    import streamlit

    from linkdash.ui import page as ui_page

    name = ui_page._plotly_module()
    assert name and (Path(streamlit.__file__).parent / "static" / "static" / "js" / name).is_file()
    assert json.dumps(name) in ui_page.early_js()


def test_a_figures_data_revision_follows_its_traces_only():
    import plotly.graph_objects as go

    from linkdash.ui.page import with_data_revision

    def fig(y, title="Households"):
        return go.Figure(go.Bar(x=["KEN", "UGA"], y=y), layout=dict(title=title))

    a = with_data_revision(fig([1, 2])).layout.datarevision
    assert a and a == with_data_revision(fig([1, 2])).layout.datarevision
    assert with_data_revision(fig([1, 2], title="Other")).layout.datarevision == a  # layout apart
    assert with_data_revision(fig([1, 3])).layout.datarevision != a  # a new value: drawn afresh
    assert with_data_revision(fig([1, 2])).data[0].y == (1, 2)


# Every chart page, and each kind of slide in and out of presentation mode (slides 1 to
# 5: the map, progress, income, inclusiveness, the principles).
SHARED_FIGURE_RUNS = [(name, None) for name in sorted(CHART_PAGES)] + [
    ("presentation", {"slide": str(n), **({"present": "1"} if present else {})})
    for present in (False, True) for n in range(1, 6)]


@pytest.mark.parametrize("name, query", SHARED_FIGURE_RUNS,
                         ids=[f"{n}-{'-'.join(f'{k}{v}' for k, v in (q or {}).items())}"
                              for n, q in SHARED_FIGURE_RUNS])
def test_no_page_changes_a_chart_that_every_session_shares(demo_url, monkeypatch, name, query):
    """The charts are cached once for every session. One session's run that changed one
    while another's was sending it broke that other page ("dictionary changed size during
    iteration", seen with twenty directors opening the app at once): each chart is
    finished before it is shared and no page changes it afterwards."""
    import streamlit as st

    from linkdash.ui import session, widgets

    made = []  # (figure, its JSON when it was shared)
    finished = session._finished

    def recording(got, clicks):
        got = finished(got, clicks)
        if hasattr(got, "to_json"):
            made.append((got, got.to_json()))
        return got

    copies = []
    copy = widgets.figure_copy
    monkeypatch.setattr(session, "_finished", recording)
    monkeypatch.setattr(widgets, "figure_copy", lambda fig: copies.append(fig) or copy(fig))
    st.cache_resource.clear()
    at = open_page(name, {"pilot": "KEN-DAIRY"} if name == "pilot" else query)
    at.run()  # and once more, as a second run (another session) takes them from the cache
    assert not at.exception, [e.value for e in at.exception]
    assert made and plotly_specs(at)
    assert [json.loads(fig.to_json()) == json.loads(when) for fig, when in made] == [True] * len(made)
    assert not copies  # every chart arrived finished: nothing had to be copied to finish it
    specs = plotly_specs(at)
    assert all(s["layout"].get("datarevision") for s in specs)
    if query and query.get("present"):  # a click on a slide must not leave the talk
        assert not any(s["layout"].get("clickmode") for s in specs)


def _show_a_figure_held_elsewhere():
    import json

    import plotly.graph_objects as go
    import streamlit as st

    from linkdash import ui

    fig = st.session_state.get("held")
    if fig is None:  # stands for a figure another session holds
        fig = st.session_state["held"] = go.Figure(go.Bar(x=["KEN", "UGA"], y=[3, 4],
                                                          customdata=[["KEN-DAIRY"], ["UGA-DAIRY"]]))
        st.session_state["before"] = fig.to_json()
    ui.show_chart(fig, key="with_clicks")
    ui.show_chart(fig, key="without", pilot_clicks=False)
    st.session_state["unchanged"] = json.loads(fig.to_json()) == json.loads(st.session_state["before"])


def test_a_figure_not_finished_for_the_page_is_drawn_from_a_copy(demo_url):
    at = AppTest.from_function(_show_a_figure_held_elsewhere, default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    clicks, plain = plotly_specs(at)
    assert at.session_state["unchanged"]
    assert clicks["layout"]["datarevision"] == plain["layout"]["datarevision"]
    assert clicks["layout"]["clickmode"] == "event+select" and "clickmode" not in plain["layout"]


@pytest.mark.parametrize("name", sorted(CHART_PAGES))
def test_every_chart_is_sent_with_its_data_revision(demo_url, name):
    at = open_page(name, {"pilot": "KEN-DAIRY"} if name == "pilot" else None)
    specs = plotly_specs(at)
    assert specs and all(s["layout"].get("datarevision") for s in specs)
    for s in specs:  # a chart whose marks open a pilot arrives with what Streamlit would set
        if s["layout"].get("clickmode"):
            assert s["layout"]["clickmode"] == "event+select" and s["layout"].get("hovermode")
