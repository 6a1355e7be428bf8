"""Pages at a hundred pilots in real Chromium (issue 13: pages that read well at scale):
on a phone the rankings' bar labels stay inside their chart (no rank or long amount
running off the edge), and on a 1280x720 projector the inclusiveness slide's rows do
not overlap (a bar per region, not 21 crowded pilots). Screenshots land in
tests/artifacts/ (look at them)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from tests import browser_support as bs
from tests.test_browser_glance import open_app

pytestmark = pytest.mark.browser

N = 100

# bar labels (and their chart) whose right end lies beyond the chart's own svg
_TEXT_OUTSIDE = """() => [...document.querySelectorAll("[data-testid='stMain'] .js-plotly-plot")]
  .flatMap(gd => {
    const svg = gd.querySelector('.main-svg').getBoundingClientRect();
    const title = (gd.layout && gd.layout.title && gd.layout.title.text || '').slice(0, 40);
    return [...gd.querySelectorAll('.bartext')].map(el => {
      const r = el.getBoundingClientRect();
      const out = r.width && r.right > svg.right + 1;
      return out ? [title, el.textContent, Math.round(r.right), Math.round(svg.right)] : null;
    }).filter(Boolean);
  })"""

# y tick labels of a chart that overlap the next one: [label, next label]
_Y_OVERLAPS = """(title) => {
  const gd = [...document.querySelectorAll("[data-testid='stMain'] .js-plotly-plot")]
    .find(g => ((g.layout.title || {}).text || '').includes(title));
  if (!gd) return null;
  const boxes = [...gd.querySelectorAll('.yaxislayer-above .ytick text')]
    .map(el => [el.textContent, el.getBoundingClientRect()]).filter(([, r]) => r.height)
    .sort((a, b) => a[1].top - b[1].top);
  const out = [];
  for (let i = 1; i < boxes.length; i++) {
    if (boxes[i][1].top < boxes[i - 1][1].bottom - 1) out.push([boxes[i - 1][0], boxes[i][0]]);
  }
  return {labels: boxes.map(b => b[0]), overlaps: out};
}"""


# the slide's two share charts, each title on two lines
_BOTH_WRAPPED = """() => [...document.querySelectorAll("[data-testid='stMain'] .js-plotly-plot")]
  .filter(g => /share of/.test((g.layout.title || {}).text || '')
               && ((g.layout.title || {}).text || '').includes('<br>')).length === 2"""


@pytest.fixture(scope="module")
def big_app():
    bs.require_browser()
    from tests.scale_fixture import big_store

    with tempfile.TemporaryDirectory() as tmp:
        url = big_store(Path(tmp) / "big.sqlite", N)
        server = bs.AppServer(url, bs.free_port(), Path(tmp) / "streamlit.log")
        server.start()
        try:
            yield server
        finally:
            server.stop()


@pytest.mark.parametrize("tab", ["Inclusiveness", "Business"])
def test_on_a_phone_the_rankings_keep_their_labels_inside_the_chart(big_app, browser, tab):
    b, blocked = browser
    page = bs.new_offline_page(b, blocked, 390, 844)
    try:
        open_app(page, f"{big_app.url}/outcomes?tab={tab}")
        labels = page.locator("[data-testid='stMain'] .js-plotly-plot .bartext")
        assert labels.count() >= 20  # the ranking's two ends
        outside = page.evaluate(_TEXT_OUTSIDE)
        # the rank ("· #12") is the hover's on a phone; the value stays
        texts = page.evaluate("() => [...document.querySelectorAll('.bartext')].map(e => e.textContent)")
        bs.screenshot(page, f"scale_{N}_outcomes_{tab.lower()}_390x844")
        assert outside == []
        assert not [t for t in texts if "#" in t], texts[:5]
    finally:
        page.context.close()


def test_on_a_projector_the_inclusiveness_slide_has_rows_that_do_not_overlap(big_app, browser):
    b, blocked = browser
    page = bs.new_offline_page(b, blocked, 1280, 720)
    try:
        page.goto(f"{big_app.url}/presentation?present=1&slide=4")
        bs.wait_for_app(page)
        page.wait_for_selector("[data-testid='stMain'] .js-plotly-plot .main-svg", timeout=120_000)
        bs.charts_settled(page)
        for title in ("Women's share of participants", "Youth (15-35) share of participants"):
            found = page.evaluate(_Y_OVERLAPS, title)
            assert found is not None, f"no chart titled {title}"
            assert found["overlaps"] == [] and 2 <= len(found["labels"]) <= 12, found
            assert all("pilots)" in label for label in found["labels"])  # "Asia (50 pilots)"
        bs.screenshot(page, f"scale_{N}_presentation_slide4_1280x720")
    finally:
        page.context.close()


def test_on_a_phone_the_slides_charts_keep_their_titles_inside(big_app, browser):
    """The Presentation page's two inclusiveness charts sit side by side on a laptop and one
    under the other on a phone: they are wrapped for the phone's width, not half a laptop's
    (the title ran off the edge: "Women's share of participants, Q4 2")."""
    from tests.test_browser_glance import _OUTSIDE

    b, blocked = browser
    page = bs.new_offline_page(b, blocked, 390, 844)
    try:
        page.goto(f"{big_app.url}/presentation?slide=4")
        bs.wait_for_app(page)
        # the page has learnt it is on a phone (one rerun), and its charts are drawn for it
        page.wait_for_function(_BOTH_WRAPPED, timeout=120_000)
        bs.charts_settled(page)
        assert page.evaluate(_OUTSIDE) == []
        bs.screenshot(page, f"scale_{N}_presentation_slide4_390x844")
    finally:
        page.context.close()


_TOOLS = """() => {
  const gd = [...document.querySelectorAll("[data-testid='stMain'] .js-plotly-plot")]
    .find(g => /LINK tools used/.test((g.layout.title || {}).text || ''));
  if (!gd || !gd.querySelector('.xtick text')) return null;
  return {ticks: [...gd.querySelectorAll('.xaxislayer-above .xtick text')].map(e => e.textContent),
          cells: gd.data[0].text.flat()};
}"""


def test_on_a_phone_the_link_tools_matrix_numbers_its_columns_and_signs_its_cells(big_app, browser):
    """Four columns of "Done" beside the pilots' names, under four long tool names, ran into
    each other on a phone: there the columns are numbered (the caption names them) and each
    cell is a sign that the caption explains."""
    b, blocked = browser
    page = bs.new_offline_page(b, blocked, 390, 844)
    try:
        open_app(page, f"{big_app.url}/progress")
        page.wait_for_function(f"() => {{ const t = ({_TOOLS})(); return t && t.ticks[0] === '1'; }}",
                               timeout=120_000)
        tools = page.evaluate(_TOOLS)
        assert tools["ticks"] == ["1", "2", "3", "4"]
        assert tools["cells"] and all(len(c) <= 3 for c in tools["cells"]), tools["cells"][:8]
        assert "✓" in tools["cells"]
        assert page.get_by_text("✓ done · … in progress").count() == 1
        bs.screenshot(page, f"scale_{N}_progress_390x844")
    finally:
        page.context.close()


def test_the_presentation_gives_slides_to_the_ranking_ends_and_finds_any_other_pilot(big_app, browser):
    """At 1,000 pilots the page had 1,005 slides and no way to a given pilot but paging.
    Beyond 20 pilots the lowest and highest 5 by income against the living income have
    slides; a pilot picked by name in the sidebar gets its slide, and the page goes to it."""
    from linkdash import figures
    from linkdash import story as story_parts
    from tests.scale_fixture import big_portfolio

    told = story_parts.resolve(big_portfolio(N))
    ranked = figures.living_income_ranking(told.view, told.quarter)
    middle = ranked.iloc[len(ranked) // 2]
    b, blocked = browser
    page = bs.new_offline_page(b, blocked, 1440, 900)
    try:
        page.goto(f"{big_app.url}/presentation?slide=6")
        bs.wait_for_app(page)
        main = page.locator("[data-testid='stMain']")
        main.get_by_text("#1 of ").wait_for()
        assert "Slide 6 of 15" in main.inner_text()  # 5 slides of the portfolio, 10 pilots
        picker = page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").filter(
            has_text="Find a pilot in the slides")
        picker.locator("input").click()
        page.keyboard.type(f"{middle['name']} ({middle['pilot_id']})")
        page.keyboard.press("Enter")
        rank = story_parts.pilot_rank(told, middle["pilot_id"])
        main.get_by_text(rank).wait_for()
        text = main.inner_text()
        assert f"{middle['name']} ({middle['pilot_id']})" in text and "of 16" in text
        assert f"#{len(ranked) // 2 + 1} of {len(ranked)} pilots" in rank
        page.wait_for_function("() => ['find=', 'slide=11'].every(p => location.search.includes(p))")
        bs.screenshot(page, f"scale_{N}_presentation_found_1440x900")
        # the link, pasted into a new window, opens the same slide with the pilot picked
        link = page.url
        other = bs.new_offline_page(b, blocked, 1440, 900)
        try:
            other.goto(link)
            bs.wait_for_app(other)
            other.locator("[data-testid='stMain']").get_by_text(rank).wait_for()
            assert "Slide 11 of 16" in other.locator("[data-testid='stMain']").inner_text()
        finally:
            other.context.close()
    finally:
        page.context.close()


_SITES = """() => {
  const gd = [...document.querySelectorAll("[data-testid='stMain'] .js-plotly-plot")]
    .find(g => g.layout.meta && g.layout.meta.narrow && g.layout.meta.narrow.sites);
  if (!gd) return null;
  const st = gd.layout.meta.narrow.sites;
  return {hint: st, sizes: st.dots.map(i => gd.data[i].marker.size),
          visible: st.dots.map(i => gd.data[i].visible === undefined ? true : gd.data[i].visible),
          circles: gd.querySelectorAll('.scatterlayer .point').length,
          subtitle: ((gd.layout.title || {}).subtitle || {}).text || ''};
}"""


def _map_sites(page, wanted: str) -> dict:
    page.wait_for_function(f"() => {{ const s = ({_SITES})(); return s && ({wanted}); }}", timeout=120_000)
    return page.evaluate(_SITES)


def test_on_a_phone_the_maps_dots_are_sized_for_it(big_app, browser):
    """100 sites of 14 px covered the phone's small map: there they are drawn at the size
    a phone's map allows, and at full size again on a laptop's width."""
    b, blocked = browser
    page = bs.new_offline_page(b, blocked, 390, 844)
    try:
        open_app(page, big_app.url)
        sites = _map_sites(page, "s.sizes.every(x => x === s.hint.size)")
        assert sites["hint"]["size"] < 14 and not sites["hint"]["hide"]
        assert all(v is True for v in sites["visible"])
        bs.screenshot(page, f"scale_{N}_overview_map_390x844")
        page.set_viewport_size({"width": 1440, "height": 900})
        assert _map_sites(page, "s.sizes.every(x => x === 14)")["sizes"]
    finally:
        page.context.close()


def test_on_a_phone_hundreds_of_sites_wait_for_a_tap_on_the_legend(browser):
    """At 250 pilots even 5 px dots cover a phone's map: they are hidden there (the
    subtitle says how to show them), and a tap on a value chain shows its sites."""
    bs.require_browser()
    from tests.scale_fixture import big_store

    b, blocked = browser
    with tempfile.TemporaryDirectory() as tmp:
        server = bs.AppServer(big_store(Path(tmp) / "big.sqlite", 250), bs.free_port(),
                              Path(tmp) / "streamlit.log")
        server.start()
        page = bs.new_offline_page(b, blocked, 390, 844)
        try:
            open_app(page, server.url)
            sites = _map_sites(page, "s.visible.every(v => v === 'legendonly')")
            assert sites["hint"]["hide"] and "250 pilot sites: tap a value chain below" in sites["subtitle"]
            bs.screenshot(page, "scale_250_overview_map_390x844")
            legend = page.locator("[data-testid='stMain'] .js-plotly-plot .legend .traces").first
            legend.click()
            shown = _map_sites(page, "s.visible.some(v => v === true)")
            assert shown["visible"].count(True) == 1
            page.set_viewport_size({"width": 1440, "height": 900})  # a laptop: every site again
            wide = _map_sites(page, "s.visible.every(v => v === true)")
            assert "tap a value chain" not in wide["subtitle"]
        finally:
            page.context.close()
            server.stop()
