"""The pages at 1,000 pilots (issue 13), through AppTest on a store of 1,000 pilots
(``tests/scale_fixture.py``: the demo copied with new ids): every chart sends a few
traces, a page sends at most 1 MB of figure data, rankings name the ends and any pilot
asked for, long lists come in parts, and a pilot is found by typing its name."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from linkdash import charts
from tests.scale_fixture import big_portfolio, big_store
from tests.test_app_pages import open_page, texts

N = 1000
MAX_TRACES = 20
MAX_PAGE_BYTES = 1_000_000


@pytest.fixture(scope="module")
def big_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("scale") / "big.sqlite"
    big_store(path, N)
    return path


@pytest.fixture
def big_url(big_file, monkeypatch):
    url = f"sqlite:///{big_file}"
    monkeypatch.setenv("LINKDASH_DATABASE_URL", url)
    monkeypatch.delenv("LINKDASH_ACCESS_FILE", raising=False)
    return url


def open_big(name: str, query: dict | None = None) -> AppTest:
    return open_page(name, query, timeout=300)  # (a 1,000-pilot store: slower runs)


def specs(at: AppTest) -> dict[str, str]:
    return {e.proto.id.rsplit("-", 1)[-1]: e.proto.spec for e in at.get("plotly_chart")}


def pilot_label(pid: str) -> str:
    name = big_portfolio(N).pilots.set_index("pilot_id").loc[pid, "pilot_name"]
    return f"{name} ({pid})"


PAGES = [("overview", None), ("progress", None), ("outcomes", {"tab": "Income"}),
         ("outcomes", {"tab": "Inclusiveness"}), ("outcomes", {"tab": "Business"}),
         ("outcomes", {"tab": "New Business Model Principles"}), ("pilot", {"pilot": "KEN-DAIRY-050"})]


@pytest.mark.parametrize("name, query", PAGES)
def test_a_page_of_a_thousand_pilots_sends_few_traces_and_little_data(big_url, name, query):
    at = open_big(name, query)
    shown = specs(at)
    assert shown, f"{name} draws no chart"
    countries = big_portfolio(N).pilots["country"].nunique()
    for key, spec in shown.items():
        data = json.loads(spec)["data"]
        # a map fills each pilot country with a trace of its own: as many as there are
        # countries (under 200 in the world), never one per pilot
        shapes = [t for t in data if t.get("hoveron") == "fills"]
        assert len(shapes) <= countries < N / 10, f"{name}: {key} has {len(shapes)} country traces"
        n = len(data) - len(shapes)
        assert n <= MAX_TRACES, f"{name}: {key} has {n} traces"
    total = sum(len(s) for s in shown.values())
    assert total <= MAX_PAGE_BYTES, f"{name} {query}: {total:,} bytes of figures"
    assert not at.main.warning, [w.value for w in at.main.warning]


def test_the_progress_slide_counts_pilots_per_milestone_instead_of_forty_rows(big_url):
    """On a 720 px projector the LINK tools matrix of 40 of 1,000 pilots was stripes with
    unreadable labels; the slide now counts every pilot per milestone."""
    at = open_big("presentation", {"slide": "2"})
    assert at.title[0].value == "Progress through the learning cycle"
    shown = specs(at)
    assert "slide_milestones" in shown and "slide_tools" not in shown
    bars = [t for t in json.loads(shown["slide_milestones"])["data"] if t.get("type") == "bar"]
    assert bars and len(bars[0]["y"]) == 9
    for i in range(9):  # every pilot counted once per milestone
        assert sum(b["x"][i] for b in bars) == N


AFRICA = ["Kenya", "Malawi", "Rwanda", "Senegal", "Uganda", "Zambia"]


@pytest.mark.parametrize("query, rows", [({}, ["Africa", "Asia"]), ({"region": "Africa"}, AFRICA)])
def test_the_inclusiveness_slide_has_a_bar_per_group_not_a_crowd_of_pilots(big_url, query, rows):
    """On a 720 px projector 21 rows of pilot names overlapped; beyond 20 pilots the slide
    shows the shares per region (one region: per country; at most 12 rows)."""
    at = open_big("presentation", {"slide": "4", **query})
    assert at.title[0].value.startswith("Inclusiveness")
    shown = specs(at)
    for key in ("slide_women", "slide_youth"):
        fig = json.loads(shown[key])
        bars = [t for t in fig["data"] if t.get("type") == "bar"]
        assert len(bars) == 1 and 1 < len(bars[0]["y"]) <= 12, bars[0]["y"]
        assert sorted(y.split(" (")[0] for y in bars[0]["y"]) == rows
        assert all(0 <= x <= 1 for x in bars[0]["x"])


def test_rankings_name_the_lowest_and_highest_and_the_pilot_found(big_url):
    found = "SEN-SHEEP-042"
    at = open_big("outcomes", {"tab": "Income", "find": pilot_label(found)})
    for key in ("income_vs_living_income", "living_income", "gender_gap"):
        data = json.loads(specs(at)[key])["data"]
        ids = {cd[0] for t in data for cd in (t.get("customdata") or []) if cd and cd[0]}
        assert found in ids, key
        assert len(ids) <= 2 * charts.RANK_ENDS + 1, (key, len(ids))
        rows = [y for t in data for y in (t.get("y") or []) if isinstance(y, str)]
        assert any(y.startswith(charts.GAP_PREFIX) for y in rows), key  # the pilots in between are said
    assert at.selectbox(key="find").value == found


def test_progress_shows_the_timeline_in_parts_most_overdue_first(big_url):
    at = open_big("progress")
    gantt = json.loads(specs(at)["gantt"])
    outer = {o.split(" · ")[-1] for t in gantt["data"] for o in t["y"][0]}
    assert len(outer) == charts.GANTT_PILOTS_MAX
    assert "Pilots 1 to 20 of 1,000" in texts(at)
    assert "in the order of the list" in gantt["layout"]["title"]["subtitle"]["text"].replace("<br>", " ")
    first = at.number_input(key="part")
    assert first.value == 1
    second = open_big("progress", {"part": "2"})
    outer2 = {o.split(" · ")[-1] for t in json.loads(specs(second)["gantt"])["data"] for o in t["y"][0]}
    assert outer2 and not outer2 & outer  # the next twenty
    assert "Pilots 21 to 40 of 1,000" in texts(second)
    # the most overdue pilots come first: Malawi and Senegal copies (demo's late pilots)
    assert all("Malawi" in o or "Senegal" in o for o in outer)


def test_the_overview_aggregates_the_grid_and_lists_who_did_not_report(big_url):
    at = open_big("overview")
    grid = json.loads(specs(at)["reporting_grid"])
    assert len(grid["data"][0]["y"]) <= charts.GRID_PILOTS_MAX  # countries, not pilots
    table = next(d.value for d in at.dataframe if "last_reported" in d.value.columns)
    reported = {m.label: m.value for m in at.metric}
    assert len(table) == N - int(reported["Pilots reporting"].replace(",", ""))
    assert len(at.get("page_link")) < 10  # no link per pilot: a picker to type a name in
    assert any("Open a pilot's page" in s.label for s in at.selectbox)
