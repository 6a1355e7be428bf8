"""The offline HTML report as a director opens it from disk on a laptop with no
connection: one file, plotly.js inside it once, no reference a browser would fetch,
every chart (and the map) drawn in headless Chromium with every network request
refused, the numbers of ``linkdash.figures`` in the text."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest

from linkdash import demo, figures, maps, quarters, report, story
from linkdash.portfolio import Filter, Portfolio
from tests import browser_support as bs

AS_OF = dt.date(2018, 12, 31)


@pytest.fixture(scope="module")
def portfolio():
    return demo.portfolio_from_tables(demo.demo_tables(today=dt.date(2019, 2, 1)))


@pytest.fixture(scope="module")
def page_html(portfolio):
    return report.report_html(portfolio, as_of=AS_OF)


def _without_plotly_js(text: str) -> str:
    """The document with plotly.js's own source cut out (the library's code mentions
    URLs it only fetches for styles this report does not use)."""
    return re.sub(r'<script id="plotly-js">.*?</script>', "", text, count=1, flags=re.S)


def test_plotly_js_is_inlined_exactly_once(page_html):
    from plotly.offline import get_plotlyjs

    marker = get_plotlyjs()[-2000:].replace("</script", "<\\/script")
    assert page_html.count(marker) == 1
    assert page_html.count('<script id="plotly-js">') == 1
    assert "cdn.plot.ly" not in _without_plotly_js(page_html)
    assert len(page_html) < 8_000_000


def test_nothing_outside_plotly_js_points_at_the_internet(page_html):
    rest = _without_plotly_js(page_html)
    for bad in ('src="http', "src='http", 'href="http', "href='http", "https://cdn", "@import",
                "url(http", "fonts.googleapis", "mathjax@", "mathjax.js", "tex-svg"):
        assert bad not in rest.lower(), bad
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", rest, flags=re.I)


def test_the_map_is_the_pages_map_drawn_without_maplibre_or_tiles(page_html, portfolio):
    # the same figure as the Overview's (plain SVG shapes): nothing to fetch, no worker
    fig = maps.country_map(portfolio, story.MAP_FIGURE, None)
    assert {t.type for t in fig.data} == {"scatter"}
    shown = {t.meta for t in fig.data if t.hoveron == "fills"}
    assert shown == set(portfolio.pilots["country"])
    rest = _without_plotly_js(page_html)
    compact = rest.replace(" ", "")
    assert '"hoveron":"fills"' in compact  # countries hover by their shape


def test_report_says_what_when_and_shows_the_figures_with_definitions(page_html, portfolio):
    figs = figures.portfolio_figures(portfolio, Filter(), None, AS_OF)
    text = html.unescape(page_html)
    assert quarters.label(figs["quarter"]) in text and "31 Dec 2018" in text and "all pilots" in text
    assert story.DEMO_NOTICE in text
    for name, f in figures.FIGURES.items():
        row = re.search(re.escape(f.label) + r"</th><td class=\"num\">([^<]*)</td>", text)
        assert row, f.label
        assert row.group(1) == figures.format_figure(name, figs[name])
        assert f.definition in text


def test_every_section_and_every_pilot_is_there(page_html, portfolio):
    for sid, _ in report.SECTIONS:
        assert f'<section id="{sid}">' in page_html
    for pid in portfolio.pilots["pilot_id"]:
        assert f'id="pilot-{pid}"' in page_html
    assert "Overdue milestones as of 31 Dec 2018 (2)" in page_html


def test_a_filter_keeps_only_its_pilots(portfolio):
    text = report.report_html(portfolio, flt=Filter(regions=("Africa",)), as_of=AS_OF)
    assert 'id="pilot-KEN-DAIRY"' in text and 'id="pilot-NPL-GOAT"' not in text
    assert "Africa (6 pilots)" in text


def test_user_text_is_escaped(portfolio):
    from dataclasses import replace

    les = portfolio.lessons.copy()
    les.loc[les.index[0], "lesson"] = '<script>alert("x")</script> & more'
    les.loc[les.index[0], "kind"] = "recommendation"
    les.loc[les.index[0], "quarter"] = "2018-Q4"
    text = report.report_html(replace(portfolio, lessons=les), as_of=AS_OF)
    assert '<script>alert("x")</script>' not in text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more" in text


def test_an_empty_store_gives_a_report_that_says_no_data(tmp_path):
    path = tmp_path / "r.html"
    report.write_report(Portfolio(), path)
    text = path.read_text(encoding="utf-8")
    assert "No pilots in this selection" in text and "no data" in text


# --- in a browser with no network ------------------------------------------------------------

DRAWN = """() => [...document.querySelectorAll('.plot')].map(d => {
    const p = d.querySelector('.js-plotly-plot');
    const svg = p && p.querySelector('.main-svg');
    const marks = p ? p.querySelectorAll(
        '.main-svg .trace path, .main-svg .point, .main-svg .bars path, .main-svg .scatterlayer path'
        ).length : 0;
    return {name: d.dataset.chart, plot: !!p, svg: !!svg, marks: marks,
            fills: p ? [...p.querySelectorAll('.scatterlayer .js-fill')]
                .filter(f => (f.getAttribute('d') || '').length > 20).length : 0};
})"""


def test_report_draws_every_chart_from_disk_with_the_network_blocked(portfolio, tmp_path):
    bs.require_browser()
    from playwright.sync_api import sync_playwright

    path = tmp_path / "report.html"
    report.write_report(portfolio, path, as_of=AS_OF)
    requested: list[str] = []
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=bs.CHROMIUM, args=bs.CHROMIUM_ARGS)
        try:
            page = bs.new_offline_page(browser, requested, local_servers=False, timeout=60_000)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(path.as_uri())
            page.wait_for_function(
                "() => { const p = [...document.querySelectorAll('.plot')];"
                " return p.length > 0 && p.every(d => d.querySelector('.js-plotly-plot .main-svg')); }")
            bs.charts_settled(page)
            drawn = page.evaluate(DRAWN)
            bs.ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(bs.ARTIFACTS / "report.png"), full_page=True)
            page.locator('[data-chart="map"]').screenshot(path=str(bs.ARTIFACTS / "report_map.png"))
        finally:
            browser.close()
    assert requested == [], f"the report asked the network for {requested}"
    assert errors == []
    names = [d["name"] for d in drawn]
    assert {"map", "progress", "income", "women_participants", "sales", "nbmp"} <= set(names)
    for d in drawn:
        assert d["plot"] and d["svg"] and d["marks"] > 0, d
    shapes = next(d for d in drawn if d["name"] == "map")  # each pilot country and the land
    assert shapes["fills"] >= len(set(portfolio.pilots["country"])) + 1, shapes


FITS = """() => [...document.querySelectorAll('.js-plotly-plot')].map(gd => {
  const svg = gd.querySelector('.main-svg').getBoundingClientRect();
  const bad = [];
  for (const el of gd.querySelectorAll('.g-gtitle text, .legend')) {
    const r = el.getBoundingClientRect();
    if (r.width && (r.left < svg.left - 1 || r.right > svg.right + 1 || r.top < svg.top - 1
                    || r.bottom > svg.bottom + 1))
      bad.push(el.getAttribute('class') + ' at ' + [r.left, r.right, r.top, r.bottom].map(Math.round)
               + ' outside ' + [svg.left, svg.right, svg.top, svg.bottom].map(Math.round));
  }
  return [gd.id, bad];
}).filter(x => x[1].length)"""


def test_every_title_and_legend_stays_whole_at_any_window_width(portfolio, tmp_path):
    """A phone, a window beside the notes, a laptop, a projector: every chart's title and
    legend lie inside the chart (titles wrap to the width, narrow charts put the legend
    underneath), and a pilot's card carries its income against its goals."""
    bs.require_browser()
    from playwright.sync_api import sync_playwright

    path = tmp_path / "report.html"
    report.write_report(portfolio, path, as_of=AS_OF)
    text = path.read_text(encoding="utf-8")
    assert 'data-chart="pilot_income_KEN-DAIRY"' in text and "Against targets" in text
    outside = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=bs.CHROMIUM, args=bs.CHROMIUM_ARGS)
        try:
            for width in (360, 800, 1280, 1920):
                page = bs.new_offline_page(browser, [], width, 900, local_servers=False, timeout=120_000)
                page.goto(path.as_uri())
                page.wait_for_function(
                    "() => { const p = [...document.querySelectorAll('.plot')];"
                    " return p.length > 0 && p.every(d => d.querySelector('.js-plotly-plot .main-svg')); }")
                page.wait_for_function("() => [...document.querySelectorAll('.js-plotly-plot')]"
                                       ".every(g => g._lpFitted === g.clientWidth)")
                bad = page.evaluate(FITS)
                if bad:
                    outside[width] = bad
                page.context.close()
        finally:
            browser.close()
    assert not outside, outside
