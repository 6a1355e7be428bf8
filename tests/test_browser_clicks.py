"""Clicking a pilot in a chart opens its page, as a person does it: `streamlit run`,
headless Chromium, a real mouse click on a bar, a grid cell and a site on the map.

Screenshots land in tests/artifacts/ (clicked_*.png).
"""

from __future__ import annotations

import re

import pytest

from tests import browser_support as bs

pytestmark = pytest.mark.browser



def pilot_names(app) -> dict[str, str]:
    from linkdash.store import Store

    pilots = Store.open(app.db_url).load().pilots
    return dict(zip(pilots["pilot_id"], pilots["pilot_name"]))


# the plotly chart under the mouse knows which point it hovers (plotly fires its click
# event from that hover state)
_HOVERING = ("() => [...document.querySelectorAll('.js-plotly-plot')]"
             ".some(gd => gd._hoverdata && gd._hoverdata.length)")


def point_at(page, x: float, y: float) -> None:
    """Move the mouse to (x, y), wait until plotly hovers a point there, and click."""
    page.mouse.move(x, y)
    page.wait_for_function(_HOVERING, timeout=30_000)
    page.mouse.click(x, y)


def click_centre(page, locator) -> None:
    locator.scroll_into_view_if_needed()
    box = bs.stable_box(page, locator)
    point_at(page, box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def open_chart(page, url: str, selector: str) -> None:
    """Open ``url`` in the app and wait until ``selector`` (a chart's marks) is drawn
    and every chart has settled."""
    page.goto(url)
    bs.wait_for_app(page)
    page.wait_for_selector(selector, timeout=30_000)
    bs.charts_settled(page)


def wait_for_pilot_page(page, pilot_id: str) -> None:
    page.wait_for_url(re.compile(rf"/pilot\?(.*&)?pilot={re.escape(pilot_id)}(&|$)"), timeout=120_000)
    bs.wait_for_app(page)


def title(page) -> str:
    return page.locator("h1").first.inner_text().strip()


def plot_data(page, index: int, trace: int) -> dict:
    """x, y and customdata of one trace of the index-th plotly chart on the page."""
    return page.evaluate("""([i, t]) => { const gd = document.querySelectorAll('.js-plotly-plot')[i];
        const d = gd.data[t]; return {x: d.x, y: d.y, customdata: d.customdata, name: d.name}; }""",
                         [index, trace])


def test_clicking_a_bar_on_outcomes_opens_that_pilots_page(app, page):
    names = pilot_names(app)
    open_chart(page, app.url + "/outcomes?tab=Inclusiveness", ".js-plotly-plot .bars .point path")
    chart = page.locator(".js-plotly-plot").first
    bars = chart.locator(".bars .point path")
    data = plot_data(page, 0, 0)
    assert bars.count() == len(data["customdata"]) >= 10
    i = 3
    pid = data["customdata"][i][0]
    assert data["y"][i] == names[pid]  # the bar says whose it is
    before = page.url
    click_centre(page, bars.nth(i))
    wait_for_pilot_page(page, pid)
    assert not bs.exceptions_on_page(page), app.output()[-3000:]
    assert title(page) == names[pid]
    assert page.url.split("?")[1] == f"pilot={pid}"
    bs.screenshot(page, "clicked_outcomes_bar")
    # coming back to the chart does not open the pilot again
    page.goto(before)
    bs.wait_for_app(page)  # the script has run to its end: a page switch would have happened
    assert title(page) == "Outcomes" and "/outcomes" in page.url


def test_clicking_a_reporting_grid_cell_opens_that_pilots_page(app, page):
    names = pilot_names(app)
    open_chart(page, app.url + "/", ".js-plotly-plot .scatterlayer .points path")
    grid = page.locator(".js-plotly-plot").first
    targets = plot_data(page, 0, 1)
    assert targets["name"] == "pilot cells"
    n_quarters = len(set(targets["x"]))
    k = 4 * n_quarters + 2  # fifth pilot, third quarter
    pid = targets["customdata"][k][0]
    assert targets["y"][k] == names[pid]
    cell = grid.locator(".scatterlayer .points path").nth(k)
    click_centre(page, cell)
    wait_for_pilot_page(page, pid)
    assert title(page) == names[pid]
    bs.screenshot(page, "clicked_reporting_grid")


def test_clicking_a_gantt_bar_opens_that_pilots_page(app, page):
    names = pilot_names(app)
    open_chart(page, app.url + "/progress", ".js-plotly-plot .bars .point path")
    gantt = 1  # under the chart that counts every pilot's milestones
    planned = plot_data(page, gantt, 0)
    assert planned["name"] == "Planned"
    k = 9 * 6 + 3  # a milestone of the seventh pilot
    pid = planned["customdata"][k][0]
    assert planned["y"][0][k].endswith(names[pid])  # the row says whose bar it is
    chart = page.locator(".js-plotly-plot").nth(gantt)
    bar = chart.locator(".trace.bars").first.locator(".point path").nth(k)
    click_centre(page, bar)
    wait_for_pilot_page(page, pid)
    assert title(page) == names[pid]


def test_clicking_a_site_on_the_map_opens_that_pilots_page(app, page):
    names = pilot_names(app)
    page.goto(app.url + "/")
    bs.wait_for_app(page)
    chart = page.locator("[data-testid='stPlotlyChart']").filter(
        has=page.locator(".js-fill")).first  # the map: the chart with filled shapes
    chart.scroll_into_view_if_needed()
    bs.stable_box(page, chart)
    bs.charts_settled(page)
    # where plotly drew the first pilot site (an SVG marker of a trace with pilot ids)
    site = page.evaluate("""() => { const gd = [...document.querySelectorAll('.js-plotly-plot')]
            .find(g => g.data && g.data.some(t => t.hoveron === 'fills'));
        const t = gd.data.find(d => d.mode === 'markers' && d.customdata);
        const L = gd._fullLayout, r = gd.getBoundingClientRect();
        return {id: t.customdata[0][0], x: r.left + L.xaxis._offset + L.xaxis.l2p(t.x[0]),
                y: r.top + L.yaxis._offset + L.yaxis.l2p(t.y[0])}; }""")
    point_at(page, site["x"], site["y"])
    wait_for_pilot_page(page, site["id"])
    assert title(page) == names[site["id"]]
    bs.screenshot(page, "clicked_map_site")


def test_dragging_a_chart_still_zooms_and_stays_on_the_page(app, page):
    open_chart(page, app.url + "/outcomes?tab=Income", ".js-plotly-plot .nsewdrag")
    before = page.evaluate("""() => document.querySelectorAll('.js-plotly-plot')[0]
        ._fullLayout.yaxis.range.slice()""")
    box = page.locator(".js-plotly-plot .nsewdrag").first.bounding_box()
    x0, y0 = box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x0 + box["width"] * 0.3, y0 + box["height"] * 0.3, steps=8)
    page.mouse.up()
    page.wait_for_function("""(before) => { const r = document.querySelectorAll('.js-plotly-plot')[0]
        ._fullLayout.yaxis.range; return r[0] !== before[0] || r[1] !== before[1]; }""", arg=before)
    bs.wait_for_app(page)
    after = page.evaluate("""() => document.querySelectorAll('.js-plotly-plot')[0]
        ._fullLayout.yaxis.range.slice()""")
    assert after != before, "dragging did not zoom"
    assert "/outcomes" in page.url and "pilot=" not in page.url
    assert title(page) == "Outcomes"
