
"""The learning-event deck as a presenter gets it: opened with python-pptx, charts are
native (editable) charts holding the numbers ``linkdash.figures`` computes, the notes
define every figure and say which quarter the data is for, one slide per pilot of the
filter; rendered by LibreOffice, it has as many pages as slides. Also the Presentation
page (AppTest): slides follow the filter and the slide number lives in the URL."""

from __future__ import annotations

import datetime as dt
import math
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from pptx import Presentation
from pptx.util import Emu

from linkdash import catalogue, deck, demo, figures, quarters, story, style
from linkdash.names import pilot_names
from linkdash.portfolio import Filter

AS_OF = dt.date(2018, 12, 31)
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


@pytest.fixture(scope="module")
def portfolio():
    return demo.portfolio_from_tables(demo.demo_tables(today=dt.date(2019, 2, 1)))


@pytest.fixture(scope="module")
def deck_path(portfolio, tmp_path_factory):
    path = tmp_path_factory.mktemp("deck") / "deck.pptx"
    deck.write_deck(portfolio, path, as_of=AS_OF)
    return path


@pytest.fixture(scope="module")
def prs(deck_path):
    return Presentation(str(deck_path))


def _title(slide) -> str:
    return slide.shapes.title.text if slide.shapes.title is not None else ""


def _slide(prs, starts: str):
    hits = [s for s in prs.slides if _title(s).startswith(starts)]
    assert hits, f"no slide titled {starts!r}: {[_title(s) for s in prs.slides]}"
    return hits[0]


def _chart(slide):
    charts = [sh.chart for sh in slide.shapes if sh.has_chart]
    assert len(charts) == 1, "expected one native chart on the slide"
    return charts[0]


def _series(chart) -> dict[str, list]:
    return {s.name: list(s.values) for s in chart.plots[0].series}


def _notes(slide) -> str:
    return slide.notes_slide.notes_text_frame.text


def _close(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(float(a) - float(b)) < 1e-6 * max(1.0, abs(float(b)))


def test_deck_is_16_9_with_a_title_slide_that_says_what_and_when(prs, portfolio):
    assert prs.slide_width / prs.slide_height == pytest.approx(16 / 9, rel=0.01)
    first = prs.slides[0]
    text = " ".join(sh.text_frame.text for sh in first.shapes if sh.has_text_frame)
    q = figures.latest_quarter(portfolio)
    assert "LINK Pilot Monitor" in text
    assert quarters.label(q) in text and "all pilots" in text
    assert "31 Dec 2018" in text  # the as-of date of the milestones
    assert "demo data" in text.lower()


def test_the_title_slide_does_not_call_real_data_demo(portfolio):
    from dataclasses import replace

    real = replace(portfolio, benchmarks=portfolio.benchmarks.assign(source="Anker Research Institute"))
    prs = Presentation(__import__("io").BytesIO(deck.deck_bytes(real, as_of=AS_OF, with_map=False)))
    text = " ".join(sh.text_frame.text for sh in prs.slides[0].shapes if sh.has_text_frame)
    assert "demo" not in text.lower()


def test_figures_slide_shows_every_figure_formatted(prs, portfolio):
    figs = figures.portfolio_figures(portfolio, Filter(), None, AS_OF)
    slide = _slide(prs, "The portfolio in")
    cells = [c.text for sh in slide.shapes if sh.has_table for row in sh.table.rows for c in row.cells]
    for name, f in figures.FIGURES.items():
        assert f.label in cells
        assert cells[cells.index(f.label) + 1] == figures.format_figure(name, figs[name])
    notes = _notes(slide)
    for f in figures.FIGURES.values():
        assert f.definition in notes


def test_chart_slides_hold_native_charts_not_pictures(prs):
    titles = ["Progress through", "Income against", "Inclusiveness", "The New Business Model", "Business:"]
    for t in titles:
        slide = _slide(prs, t)
        assert any(sh.has_chart for sh in slide.shapes), t
        assert not any(sh.shape_type == 13 for sh in slide.shapes), f"{t}: a picture instead of a chart"


def test_progress_chart_counts_agree_with_the_figures(prs, portfolio):
    chart = _chart(_slide(prs, "Progress through"))
    s = _series(chart)
    figs = figures.portfolio_figures(portfolio, Filter(), None, AS_OF)
    assert sum(s["Completed"]) == figs["milestones_completed"]
    assert sum(s["Overdue"]) == figs["milestones_overdue"] > 0
    per_pilot = [sum(v) for v in zip(*s.values())]
    assert per_pilot == [len(catalogue.MILESTONES)] * len(portfolio.pilots)
    # the Malawi dairy prototype cycle is overdue in the demo data
    names = list(chart.plots[0].categories)
    assert s["Overdue"][names.index("Malawi dairy cows")] == 1


def test_income_chart_is_the_weighted_income_by_quarter(prs, portfolio):
    chart = _chart(_slide(prs, "Income against"))
    s = _series(chart)
    by_q = figures.figures_by_quarter(portfolio, Filter())
    cats = list(chart.plots[0].categories)
    assert cats == [quarters.label(q) for q in by_q["quarter"]]
    income = s["Average household income (weighted by households)"]
    for got, want in zip(income, by_q["income_avg_usd"]):
        assert _close(got, None if want is None or want != want else want)
    bench = s["Living-income benchmark"]
    assert all(b is not None and b > 0 for b in bench)
    assert chart.value_axis.tick_labels.number_format.startswith('"$"')


def test_inclusiveness_bars_are_each_pilots_own_share_in_percent(prs, portfolio):
    chart = _chart(_slide(prs, "Inclusiveness"))
    s = _series(chart)
    cats = list(chart.plots[0].categories)
    assert cats[-1] == "Portfolio"
    q = figures.latest_quarter(portfolio)
    names = pilot_names(portfolio.pilots)
    for pid in portfolio.pilots["pilot_id"]:
        one = figures.portfolio_figures(portfolio, Filter(pilots=(pid,)), q, AS_OF)
        i = cats.index(names[pid])
        assert _close(s["Women among participants"][i], one["women_share_participants"])
        assert _close(s["Youth among participants"][i], one["youth_share_participants"])
    whole = figures.portfolio_figures(portfolio, Filter(), q, AS_OF)
    assert _close(s["Women among participants"][-1], whole["women_share_participants"])
    assert chart.value_axis.tick_labels.number_format == "0%"
    assert chart.value_axis.maximum_scale == 1


def test_nbmp_is_a_radar_of_first_and_latest_medians(prs, portfolio):
    from pptx.enum.chart import XL_CHART_TYPE

    from linkdash import charts

    chart = _chart(_slide(prs, "The New Business Model"))
    assert chart.chart_type == XL_CHART_TYPE.RADAR
    s = _series(chart)
    a = charts.nbmp_assessments(portfolio)
    cols = list(catalogue.NBMP)
    assert list(chart.plots[0].categories) == [catalogue.NBMP_LABELS[c] for c in cols]
    for got, want in zip(s["Latest assessment (median)"], a[a["which"] == "latest"][cols].median()):
        assert _close(got, want)
    assert s["Latest assessment (median)"] != s["First assessment (median)"]


def test_sales_stacks_add_up_to_the_sales_figure(prs, portfolio):
    chart = _chart(_slide(prs, "Business:"))
    s = _series(chart)
    by_q = figures.figures_by_quarter(portfolio, Filter())
    totals = [sum(v for v in col if v is not None) for col in zip(*s.values())]
    for got, want in zip(totals, by_q["sales_usd"]):
        assert _close(got, want)
    assert set(s) <= {catalogue.VALUE_CHAIN_LABELS[v] for v in catalogue.VALUE_CHAINS}


def test_notes_of_every_chart_slide_define_the_figures_and_name_the_quarter(prs, portfolio):
    q = quarters.label(figures.latest_quarter(portfolio))
    expected = {
        "Progress through": ["milestones_completed", "milestones_overdue"],
        "Income against": ["income_avg_usd", "share_above_living_income"],
        "Inclusiveness": ["women_share_participants", "youth_share_participants"],
        "Business:": ["sales_usd"],
        "Where the pilots work": ["households_reached"],
    }
    for title, names in expected.items():
        notes = _notes(_slide(prs, title))
        assert q in notes and "31 Dec 2018" in notes, title
        for n in names:
            assert figures.FIGURES[n].definition in notes, (title, n)
    assert "1 (weak) to 5 (strong)" in _notes(_slide(prs, "The New Business Model"))
    assert "Living-income benchmark" in _notes(_slide(prs, "Income against"))


def test_one_slide_per_pilot_with_its_key_lesson(prs, portfolio):
    names = pilot_names(portfolio.pilots)
    for pid in portfolio.pilots["pilot_id"]:
        slide = _slide(prs, f"{names[pid]} ({pid})")
        text = " ".join(sh.text_frame.text for sh in slide.shapes if sh.has_text_frame)
        lesson = story.key_lesson(portfolio.lessons, pid)
        assert lesson is not None and lesson["kind"] in ("insight", "recommendation")
        assert " ".join(str(lesson["lesson"]).split())[:60] in " ".join(text.split())
        assert lesson["lesson"] in _notes(slide)


def test_key_lesson_is_the_latest_insight_or_recommendation(portfolio):
    les = portfolio.lessons
    for pid in portfolio.pilots["pilot_id"]:
        mine = les[(les["pilot_id"] == pid) & les["kind"].isin(["insight", "recommendation"])]
        got = story.key_lesson(les, pid, "2017-Q4")
        early = mine[mine["quarter"] <= "2017-Q4"]
        if early.empty:
            assert got is None
        else:
            assert got["quarter"] == early["quarter"].max()


def test_a_filter_gives_one_slide_per_pilot_of_the_filter():
    portfolio = demo.portfolio_from_tables(demo.demo_tables(today=dt.date(2019, 2, 1)))
    asia = Filter(regions=("Asia",))
    prs = Presentation(__import__("io").BytesIO(deck.deck_bytes(portfolio, flt=asia, as_of=AS_OF,
                                                                with_map=False)))
    ids = set(portfolio.filtered(asia).pilots["pilot_id"])
    assert len(ids) == 7
    pilot_slides = [s for s in prs.slides if any(f"({pid})" in _title(s) for pid in ids)]
    assert len(pilot_slides) == 7
    assert not any("(KEN-DAIRY)" in _title(s) for s in prs.slides)
    # the chart numbers follow the filter too
    figs = figures.portfolio_figures(portfolio, asia, None, AS_OF)
    s = _series(_chart(_slide(prs, "Progress through")))
    assert sum(s["Completed"]) == figs["milestones_completed"]
    assert "Asia" in " ".join(sh.text_frame.text for sh in prs.slides[0].shapes if sh.has_text_frame)


def test_an_earlier_quarter_tells_the_story_up_to_that_quarter(portfolio):
    prs = Presentation(__import__("io").BytesIO(deck.deck_bytes(portfolio, quarter="2017-Q2", as_of=AS_OF,
                                                                with_map=False)))
    chart = _chart(_slide(prs, "Income against"))
    assert list(chart.plots[0].categories)[-1] == "Q2 2017"
    assert _slide(prs, "The portfolio in Q2 2017")


def test_an_empty_portfolio_still_gives_a_deck_that_says_no_data():
    from linkdash.portfolio import Portfolio

    prs = Presentation(__import__("io").BytesIO(deck.deck_bytes(Portfolio(), with_map=False)))
    texts = " ".join(sh.text_frame.text for s in prs.slides for sh in s.shapes if sh.has_text_frame)
    assert "No income reported" in texts and "No milestones reported" in texts


def _map_group(slide):
    groups = [sh for sh in slide.shapes if sh.shape_type == 6 and sh.name == "Map"]
    assert len(groups) == 1, "the map slide holds no map"
    return groups[0]


def test_the_map_is_drawn_with_shapes_coloured_by_households_reached(prs, portfolio):
    from linkdash import maps

    slide = _slide(prs, "Where the pilots work")
    assert not [sh for sh in slide.shapes if sh.shape_type == 13]  # shapes, not a picture
    group = _map_group(slide)
    assert Emu(group.width).inches > 8
    q = figures.latest_quarter(portfolio)
    values = maps.country_values(portfolio, "households_reached", q).set_index("name")
    have = values["value"].dropna()
    zmin, zmax = maps.value_range(have)
    shapes = {sh.name: sh for sh in group.shapes}
    for name, row in values.iterrows():
        # each pilot country is a shape named with its value, filled by the map's scale
        sh = shapes[f"{name}: Households reached {row['text']}"]
        fill = "#" + str(sh.fill.fore_color.rgb)
        if row["value"] is None or row["value"] != row["value"]:
            assert fill == "#" + "BDBDBD"
        else:
            assert fill == maps.value_color(row["value"], zmin, zmax)
    dots = [sh for sh in group.shapes if sh.name.endswith(")") and "(" in sh.name]
    assert {sh.name.rsplit("(", 1)[1][:-1] for sh in dots} == set(portfolio.pilots["pilot_id"])
    assert "Other countries" in shapes  # land for context
    # the legend beside it: the scale's values, no data, the value chains of the sites
    text = " ".join(sh.text_frame.text for sh in slide.shapes if sh.has_text_frame)
    assert "Households reached" in text and "1,000" in text and "No data" in text
    for vc in portfolio.pilots["value_chain"].unique():
        assert style.value_chain_label(vc) in text
    # the notes give each country's value, for the presenter
    for name, row in values.iterrows():
        assert f"{name} {row['text']}" in _notes(slide)


def test_the_deck_map_thins_its_dots_when_there_are_hundreds_of_pilots(portfolio):
    """The deck's map gets the page map's rule: 13 pilots keep their 15 px dots, 1,000 get
    small ones that leave the countries' colours visible."""
    from test_charts import _generated

    from linkdash import maps

    def dots(pf):
        prs = Presentation()
        slide = prs.slides.add_slide(prs.slide_layouts[6])
        smap = maps.static_country_map(pf, "households_reached", figures.latest_quarter(pf),
                                       width=deck.MAP_BOX[2] / deck.PX, height=deck.MAP_BOX[3] / deck.PX)
        deck._map_group(slide, smap, deck.MAP_BOX)
        group = _map_group(slide)
        found = [sh for sh in group.shapes if sh.name.endswith(")") and "(" in sh.name]
        return smap, {round(Emu(sh.width).inches * 96, 1) for sh in found}, len(found)

    _, few, n = dots(portfolio)
    assert few == {deck.SITE_PX} and n == 13
    smap, many, n = dots(_generated(1000, 4))
    assert n >= 900 and len(many) == 1
    d = many.pop()
    assert maps.SITE_MIN_PX <= d < deck.SITE_PX
    cover = n * math.pi * d * d / 4 / (smap.width * smap.height)
    assert cover <= maps.SITE_COVER * 1.01 or d == maps.SITE_MIN_PX  # (5 px at the least)
    assert cover < 0.05


def _progress_chart_of(pf):
    from pptx.chart.chart import Chart

    prs = Presentation()
    deck._progress_slide(prs, story.resolve(pf, as_of=AS_OF), 2)
    charts_ = [sh.chart for sh in prs.slides[0].shapes if sh.has_chart]
    assert len(charts_) == 1
    chart: Chart = charts_[0]
    return prs.slides[0], chart


def test_the_progress_slide_has_a_bar_per_pilot_up_to_20_pilots(portfolio):
    slide, chart = _progress_chart_of(portfolio)
    cats = list(chart.plots[0].categories)
    assert len(cats) == 13 and "Kenya dairy cows" in cats
    assert chart.value_axis.maximum_scale == 9  # milestones of a pilot
    for i in range(13):  # each pilot's nine milestones, in one state each
        assert sum(s.values[i] for s in chart.plots[0].series) == 9


def test_with_hundreds_of_pilots_the_progress_slide_counts_pilots_per_milestone():
    """1,000 bars on one slide could not be read: beyond 20 pilots the slide has a bar per
    milestone, the pilots counted by state, the same counts as the Progress page's summary."""
    from tests.scale_fixture import big_portfolio

    big = big_portfolio(60)
    slide, chart = _progress_chart_of(big)
    cats = list(chart.plots[0].categories)
    assert cats[0] == "1 Training workshop" and len(cats) == 9
    assert chart.value_axis.maximum_scale == 60
    assert "Pilots (60)" in chart.value_axis.axis_title.text_frame.text
    counts = figures.pilots_per_milestone_state(figures.milestone_status_as_of(big.milestones, AS_OF))
    for i in range(9):
        assert sum(s.values[i] for s in chart.plots[0].series) == 60
        assert [s.values[i] for s in chart.plots[0].series] == counts.iloc[i].tolist()
    text = " ".join(sh.text_frame.text for sh in slide.shapes if sh.has_text_frame)
    assert "Pilots per milestone (60 pilots)" in text
    assert "the chart counts them" in _notes(slide)


def test_with_hundreds_of_pilots_the_inclusiveness_slide_has_a_bar_per_region(portfolio):
    """Up to 20 pilots a bar each (as at 13); beyond, the shares per group of pilots, the
    same numbers as the Presentation page's slide (``figures.figures_by``)."""
    from tests.scale_fixture import big_portfolio

    def categories(pf):
        prs = Presentation()
        deck._inclusiveness_slide(prs, story.resolve(pf, as_of=AS_OF), 4)
        chart = next(sh.chart for sh in prs.slides[0].shapes if sh.has_chart)
        text = " ".join(sh.text_frame.text for sh in prs.slides[0].shapes if sh.has_text_frame)
        return list(chart.plots[0].categories), chart, text

    cats, _, text = categories(portfolio)
    assert len(cats) == 14 and cats[-1] == "Portfolio" and "per pilot" in text
    big = big_portfolio(60)
    cats, chart, text = categories(big)
    assert cats == ["Africa (30 pilots)", "Asia (30 pilots)", "Portfolio"] and "per region" in text
    q = figures.latest_quarter(big)
    by_region = figures.figures_by(big, "region", quarter=q, names=story.INCLUSIVENESS)
    women = chart.plots[0].series[0].values
    assert women[0] == pytest.approx(by_region["Africa"]["women_share_participants"], abs=1e-9)
    assert women[2] == pytest.approx(figures.portfolio_figures(big, quarter=q)["women_share_participants"])
    # the presenter's notes say what a bar is
    assert "Each region's bar is the share over" in story.notes(story.resolve(big), "inclusiveness")
    assert "Each pilot's bar" in story.notes(story.resolve(portfolio), "inclusiveness")


def test_the_deck_draws_its_map_without_a_browser(portfolio, monkeypatch):
    import plotly.graph_objects as go

    def no_browser(*a, **k):
        raise RuntimeError("no browser here")

    monkeypatch.setattr(go.Figure, "to_image", no_browser)
    monkeypatch.setattr(go.Figure, "write_image", no_browser)
    prs = Presentation(__import__("io").BytesIO(deck.deck_bytes(portfolio, as_of=AS_OF)))
    assert len(_map_group(_slide(prs, "Where the pilots work")).shapes) > 13


def test_a_filter_draws_the_map_of_its_pilots(portfolio):
    prs = Presentation(__import__("io").BytesIO(
        deck.deck_bytes(portfolio, flt=Filter(regions=("Asia",)), as_of=AS_OF)))
    group = _map_group(_slide(prs, "Where the pilots work"))
    names = {sh.name.split(":")[0] for sh in group.shapes if ": Households reached" in sh.name}
    asia = portfolio.pilots[portfolio.pilots["region"] == "Asia"]
    assert names == set(asia["country_name"])
    dots = {sh.name.rsplit("(", 1)[1][:-1] for sh in group.shapes if sh.name.endswith(")")}
    assert dots == set(asia["pilot_id"])


def test_the_deck_says_how_far_it_is(portfolio, monkeypatch):
    seen = []
    deck.deck_bytes(portfolio, as_of=AS_OF, with_map=False, progress=lambda d, t: seen.append((d, t)))
    done = [d for d, _ in seen]
    assert done[0] == 0.0 and done[-1] == 1.0 and done == sorted(done)
    assert any(t.startswith("Pilot 13 of 13") for _, t in seen)


def test_a_failing_map_does_not_break_the_deck(portfolio, monkeypatch):
    from linkdash import maps

    def broken(*a, **k):
        raise RuntimeError("no boundaries here")

    monkeypatch.setattr(maps, "static_country_map", broken)
    prs = Presentation(__import__("io").BytesIO(deck.deck_bytes(portfolio, as_of=AS_OF)))
    slide = _slide(prs, "Where the pilots work")
    assert not [sh for sh in slide.shapes if sh.shape_type == 6]
    text = " ".join(sh.text_frame.text for sh in slide.shapes if sh.has_text_frame)
    assert "could not be drawn" in text and "HTML report" in text
    assert "no boundaries here" in _notes(slide)


# --- rendered by LibreOffice -------------------------------------------------------------------

def _require_office() -> str:
    soffice = shutil.which("soffice") or ("/usr/bin/soffice" if Path("/usr/bin/soffice").exists() else None)
    missing = (None if soffice and shutil.which("pdftoppm")
               else "LibreOffice (soffice) or pdftoppm is not installed")
    if missing:
        if os.environ.get("LINKDASH_REQUIRE_BROWSER") == "1":
            pytest.fail(f"rendering tests are required here but {missing}")
        pytest.skip(missing)
    return soffice


def test_libreoffice_renders_one_page_per_slide(deck_path, prs, portfolio, tmp_path):
    soffice = _require_office()
    env = {**os.environ, "HOME": str(tmp_path / "home")}
    subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--headless",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), str(deck_path)],
                   check=True, capture_output=True, timeout=240, env=env)
    pdf = tmp_path / "deck.pdf"
    assert pdf.exists()
    out = ARTIFACTS / "deck"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    subprocess.run(["pdftoppm", "-png", "-r", "50", str(pdf), str(out / "slide")], check=True, timeout=240)
    pages = sorted(out.glob("slide-*.png"))
    assert len(pages) == len(prs.slides)
    assert all(p.stat().st_size > 5_000 for p in pages)  # not blank pages
    # the map is on its page: the land, and the most households' country in its dark blue
    from PIL import Image

    from linkdash import maps

    map_page = [i for i, s in enumerate(prs.slides) if _title(s).startswith("Where the pilots work")][0]
    im = Image.open(pages[map_page]).convert("RGB")
    colours = dict((c, n) for n, c in im.getcolors(maxcolors=1_000_000))
    q = figures.latest_quarter(portfolio)
    have = maps.country_values(portfolio, "households_reached", q)["value"].dropna()
    darkest = maps.value_color(have.max(), *maps.value_range(have))

    def pixels(hex_colour: str, tolerance: int = 6) -> int:
        want = tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
        return sum(n for c, n in colours.items() if max(abs(a - b) for a, b in zip(c, want)) <= tolerance)

    assert pixels(darkest) > 40  # Kenya, a few hundred pixels at 50 dpi
    assert pixels(style.LAND_FILL, 2) > 0.1 * im.size[0] * im.size[1]  # the land around it


# --- the Presentation page (AppTest) ----------------------------------------------------------

def _app():
    """The app on a copy of the demo store (the ``demo_url`` fixture of conftest)."""
    from streamlit.testing.v1 import AppTest

    root = Path(__file__).resolve().parent.parent
    return AppTest.from_file(str(root / "app.py"), default_timeout=120)


def test_presentation_page_steps_through_slides_and_keeps_the_slide_in_the_url(demo_url):
    at = _app()
    at.run()
    at.switch_page("pages/presentation.py").run()
    assert not at.exception
    assert at.title[0].value.startswith("The LINK pilots on the map")
    at.button(key="slide_next").click().run()
    assert at.title[0].value == "Progress through the learning cycle"
    assert at.query_params["slide"] in ("2", ["2"])
    for _ in range(4):
        at.button(key="slide_next").click().run()
    assert at.title[0].value.endswith("(BGD-GOAT)")  # the first pilot by name
    assert not at.exception


def test_presentation_page_opens_on_the_slide_of_the_url_and_follows_the_filter(demo_url):
    at = _app()
    at.query_params["slide"] = "12"
    at.query_params["region"] = "Asia"
    at.run()
    at.switch_page("pages/presentation.py").run()
    assert not at.exception
    # Asia: 5 story slides + 7 pilots; slide 12 is the last Asian pilot by name
    body = " ".join(m.value for m in at.markdown)
    assert "Slide 12 of 12" in body
    assert at.title[0].value == "Vietnam dairy cows (VNM-DAIRY)"


def test_titles_and_subtitles_fit_their_boxes(prs):
    """A title that would wrap at 32 pt is set smaller (LibreOffice showed two-line
    titles running into the subtitle), and a long subtitle stays on its line."""
    title_box_pt = deck.TITLE_H / 12700
    for slide in list(prs.slides)[1:]:  # (the title slide has its own layout)
        runs = [r for p in slide.shapes.title.text_frame.paragraphs for r in p.runs]
        if not runs:
            continue
        size = runs[0].font.size.pt
        text = slide.shapes.title.text_frame.text
        assert deck.title_lines(text, size) * size * deck.TITLE_LINE_EM <= title_box_pt, (text, size)
    assert deck.title_size("What the pilots learned") == 32
    assert deck.title_size("Where the pilots work: households reached, Q4 2017") < 32
    lessons = _slide(prs, "What the pilots learned")
    sub = next(sh for sh in lessons.shapes
               if sh.has_text_frame and sh.text_frame.text.startswith("Each pilot"))
    assert sub.text_frame.paragraphs[0].runs[0].font.size.pt < 16


def test_a_pilot_with_only_its_facts_gets_a_tidy_slide(portfolio):
    """A pilot added with a Pilots row only: no "no data" in its kicker, dates "from"."""
    from dataclasses import replace

    import pandas as pd

    extra = pd.DataFrame([{"pilot_id": "TZA-GOAT", "pilot_name": "Tanzania goats", "country": "TZA",
                           "country_name": "Tanzania", "value_chain": "dairy_goat", "region": "Africa",
                           "start_date": dt.date(2017, 8, 15)}])
    p = replace(portfolio, pilots=pd.concat([portfolio.pilots, extra], ignore_index=True))
    told = story.resolve(p, Filter(pilots=("TZA-GOAT",)), None, None, True)
    s = story.pilot_summary(told, "TZA-GOAT")
    assert s["facts"]["Dates"] == "from 2017-08-15"
    assert story.pilot_kicker(s["facts"], with_region=True) == "Tanzania · Africa · Dairy goats"
    # text of spaces, pandas' NA and NaT are "no data" too (values.is_blank)
    odd = extra.assign(site="   ", producer_org=pd.NA, end_date=pd.NaT, pilot_id="TZA-GOAT2")
    p = replace(portfolio, pilots=pd.concat([portfolio.pilots, odd], ignore_index=True))
    s = story.pilot_summary(story.resolve(p, Filter(pilots=("TZA-GOAT2",)), None, None, True), "TZA-GOAT2")
    assert s["facts"]["Site"] == s["facts"]["Producer organisation"] == "no data"
    assert s["facts"]["Dates"] == "from 2017-08-15"


# --- pilot slides: the chart that answers the pilot's question ----------------------------------

def test_a_pilot_slide_shows_income_against_its_goals_and_figures_against_targets(prs, portfolio):
    told = story.resolve(portfolio, as_of=AS_OF)
    slide = _slide(prs, "Kenya dairy cows (KEN-DAIRY)")
    chart = _chart(slide)
    series = _series(chart)
    income, tgt = story.pilot_income_series(told, "KEN-DAIRY")
    assert series["Average household income"] == [None if v is None or v != v else v
                                                  for v in income["income_avg_usd"]]
    assert any(n.startswith("Baseline $") for n in series) and any(n.startswith("Target $") for n in series)
    assert "Living-income benchmark" in series
    # quarter labels are short ("Q3 '16"): they never crowd the axis
    cats = list(chart.plots[0].categories)
    assert all(len(c) <= 6 for c in cats) and len(cats) == len(income)
    tables = [sh.table for sh in slide.shapes if sh.has_table]
    assert tables and tables[0].cell(0, 0).text == "Against targets"
    t = story.pilot_targets(told, "KEN-DAIRY")
    assert tables[0].cell(1, 1).text == t.iloc[0]["value_text"]
    assert _notes(slide) == story.pilot_notes(told, "KEN-DAIRY")


def test_the_page_notes_are_the_deck_notes(prs, portfolio):
    from linkdash import presenting

    told = story.resolve(portfolio, as_of=AS_OF)
    deck_titles = {"map": "Where the pilots work", "progress": "Progress through", "income": "Income against",
                   "inclusiveness": "Inclusiveness", "nbmp": "The New Business"}
    for slide in presenting.slides(told):
        deck_slide = _slide(prs, deck_titles.get(slide.kind) or f"{slide.title}")
        assert presenting.notes(told, slide) == _notes(deck_slide), slide.title
    assert "Q4 2018" in presenting.notes(told, presenting.slides(told)[0])


def test_the_page_the_deck_and_the_report_tell_the_story_in_one_order(prs, portfolio):
    from linkdash import presenting, report

    told = story.resolve(portfolio, as_of=AS_OF)
    kinds = {"LINK Pilot Monitor": "title", "The portfolio in": "figures", "Where the pilots work": "map",
             "Progress through": "progress", "Income against": "income", "Inclusiveness": "inclusiveness",
             "The New Business": "nbmp", "Business:": "business", "What the pilots learned": "lessons"}
    names = pilot_names(portfolio.pilots)
    pilot_titles = {f"{names[p]} ({p})": p for p in portfolio.pilots["pilot_id"]}

    def kind(slide) -> str:
        title = (_title(slide)
                 or " ".join(sh.text_frame.text for sh in slide.shapes if sh.has_text_frame).strip())
        if title in pilot_titles:
            return "pilots"
        return next(k for start, k in kinds.items() if title.startswith(start))

    def parts(seq) -> list[str]:  # consecutive pilots are one part
        return [k for i, k in enumerate(seq) if i == 0 or k != seq[i - 1]]

    in_deck = parts([kind(s) for s in prs.slides])
    assert in_deck == list(story.PARTS)
    pilots_in_deck = [pilot_titles[_title(s)] for s in prs.slides if _title(s) in pilot_titles]
    assert pilots_in_deck == story.pilot_order(told)
    page = presenting.slides(told)
    on_page = parts(["pilots" if s.kind == "pilot" else s.kind for s in page])
    assert on_page == [p for p in story.PARTS if p in on_page]
    assert [s.pilot_id for s in page if s.kind == "pilot"] == pilots_in_deck
    assert [sid for sid, _ in report.SECTIONS] == [p for p in story.PARTS if p != "title"]
    html_text = report.report_html(portfolio, as_of=AS_OF)
    at = [html_text.index(f'<section id="{sid}">') for sid, _ in report.SECTIONS]
    assert at == sorted(at)


def test_one_answer_to_is_this_illustrative_data(portfolio):
    from dataclasses import replace

    from linkdash.portfolio import Portfolio, is_illustrative

    assert is_illustrative(portfolio) and story.resolve(portfolio).demo
    real = replace(portfolio, benchmarks=portfolio.benchmarks.assign(source="Anker Research Institute"))
    assert not is_illustrative(real) and not story.resolve(real).demo
    assert not is_illustrative(Portfolio())
    # the mark travels with the data: a filtered part of the demo is still the demo
    assert is_illustrative(portfolio.filtered(Filter(regions=("Asia",))))


def test_long_lessons_are_shortened_at_a_word():
    text = "word " * 100
    short, cut = story.shorten(text, 50)
    assert cut and len(short) <= 50 and short.endswith("…") and "wor…" not in short
    assert story.shorten("short text") == ("short text", False)


def test_the_lessons_slide_says_how_many_lessons_it_left_to_the_notes(prs, portfolio):
    told = story.resolve(portfolio, as_of=AS_OF)
    n = len(story.lesson_groups(told))
    slide = _slide(prs, "What the pilots learned")
    text = " ".join(sh.text_frame.text for sh in slide.shapes if sh.has_text_frame)
    import re

    m = re.search(r"(\d+) more lessons? in the speaker notes \((\d+) of (\d+) shown here\)", text)
    assert m and int(m.group(1)) + int(m.group(2)) == int(m.group(3)) == n


def test_presentation_page_makes_the_deck_with_progress_and_enters_presentation_mode(demo_url, monkeypatch,
                                                                                     tmp_path):
    seen = []
    original = deck.build_deck

    def watched(*a, progress=None, **k):
        def say(done, text):
            seen.append(text)
            if progress:
                progress(done, text)
        return original(*a, progress=say, **k)

    monkeypatch.setattr(deck, "build_deck", watched)
    at = _app()
    at.run()
    at.switch_page("pages/presentation.py").run()
    at.button(key="lp_deck_make").click().run()
    assert not at.exception
    assert "Drawing the map" in seen and "Done" in seen
    assert [b for b in at.get("download_button") if b.proto.label == "Slides (.pptx)"]
    # the same data again: the deck is offered at once, not made again
    seen.clear()
    at.run()
    assert seen == [] and not at.exception
    # Present: the slide becomes the screen, with a talk code for the presenter view
    at.button(key="lp_present").click().run()
    assert not at.exception
    assert at.query_params["present"] in ("1", ["1"]) and at.query_params["talk"]
    assert at.button(key="lp_exit")
    at.button(key="lp_exit").click().run()
    assert "present" not in at.query_params and not at.exception


def test_no_slide_or_note_shows_none_nan_or_a_column_code():
    """Every text of the demo deck, on the slides, in their tables and in the speaker
    notes, is in words: no None, nan or NaT and no column code like ``sales_usd``."""
    import io
    import re

    from pptx import Presentation

    from linkdash import demo, exports

    prs = Presentation(io.BytesIO(exports.export_bytes(".pptx", demo.demo_portfolio())))
    pat = re.compile(r"\b(None|nan|NaN|NaT)\b|\b[a-z]+_[a-z_]+\b")
    found = []
    for i, slide in enumerate(prs.slides, 1):
        texts = [sh.text_frame.text for sh in slide.shapes if sh.has_text_frame]
        texts += [c.text for sh in slide.shapes if getattr(sh, "has_table", False) and sh.has_table
                  for row in sh.table.rows for c in row.cells]
        if slide.has_notes_slide:
            texts.append(slide.notes_slide.notes_text_frame.text)
        found += [(i, m.group(0)) for t in texts for m in pat.finditer(t)]
    assert len(prs.slides) > 10 and not found


def test_the_decks_kept_for_the_app_are_those_of_the_current_data_only():
    from linkdash.portfolio import Filter
    from linkdash.ui.present import _forget_older

    kept = {(1, Filter(), "2019-Q4", None, None): b"old deck", ("warm", 1, Filter(), "2019-Q4"): "old map",
            (2, Filter(), "2020-Q1", None, None): b"deck", ("warm", 2, Filter(), "2020-Q1"): "map"}
    _forget_older(kept, 2)
    assert set(kept.values()) == {b"deck", "map"}
