"""The app as a person uses it: `streamlit run`, headless Chromium, no internet.

Every request that is not to localhost is aborted, so a map or chart that needs a
CDN does not draw and these tests fail. Screenshots land in tests/artifacts/.
"""

from __future__ import annotations

import io
import re

import numpy as np
import pytest

from tests import browser_support as bs

pytestmark = pytest.mark.browser

PAGES = {
    "overview": "/",
    "progress": "/progress",
    "outcomes": "/outcomes",
    "pilot": "/pilot?pilot=KEN-DAIRY",
    "lessons": "/lessons",
    "upload": "/upload",
    "submissions": "/submissions",
    "presentation": "/presentation",
}



def drawn_plots(page) -> dict[str, int]:
    """How many plotly charts the page holds, and how many of them drew marks."""
    return page.evaluate("""() => {
        const plots = [...document.querySelectorAll('.js-plotly-plot')];
        const drew = plots.filter(p =>
            p.querySelector('.maplibregl-canvas, canvas') ||
            p.querySelectorAll('.main-svg path, .main-svg rect.point, .main-svg .trace').length > 0);
        return {plots: plots.length, drew: drew.length};
    }""")


def kpi_values(page) -> dict[str, str]:
    out = {}
    for m in page.locator("[data-testid='stMetric']").all():
        label = m.locator("[data-testid='stMetricLabel']").inner_text().strip()
        out[label] = m.locator("[data-testid='stMetricValue']").inner_text().strip()
    return out


def settled_kpis(page, tries: int = 20) -> dict[str, str]:
    """The KPI cards once two reads 300 ms apart agree (cards are drawn in groups)."""
    last = kpi_values(page)
    for _ in range(tries):
        page.wait_for_timeout(300)
        now = kpi_values(page)
        if now == last and now:
            return now
        last = now
    return last


def test_overview_shows_kpis_and_draws_the_map_offline(app, page):
    page.goto(app.url + "/")
    bs.wait_for_app(page)
    page.wait_for_selector(".js-plotly-plot .maplibregl-canvas, .js-plotly-plot canvas", timeout=30_000)
    assert not bs.exceptions_on_page(page), app.output()
    kpis = kpi_values(page)
    assert len(kpis) >= 4, kpis
    assert any("13" in v for v in kpis.values()) or "13" in page.inner_text("body")
    # The map is a MapLibre (WebGL) canvas. Its pixels can't be read back from script, so
    # photograph the canvas element and count what is not white: country fills and land.
    import io as _io

    from PIL import Image

    canvas = page.locator(".js-plotly-plot .maplibregl-canvas").first
    bs.ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = Image.open(_io.BytesIO(canvas.screenshot(path=str(bs.ARTIFACTS / "overview_map.png")))).convert("RGB")
    px = np.asarray(shot, dtype=int).reshape(-1, 3)
    painted = float((px.min(axis=1) < 235).mean())
    blue = float((px[:, 2] > px[:, 0] + 40).mean())  # countries coloured by their value
    bs.screenshot(page, "overview")
    assert painted > 0.03, f"the map canvas is almost blank ({painted:.1%} painted)"
    assert blue > 0.005, f"no country is coloured by its value ({blue:.2%})"
    assert drawn_plots(page)["drew"] >= 2


@pytest.mark.parametrize("name", [n for n in PAGES if n != "overview"])
def test_every_page_draws_without_internet(app, page, name):
    page.goto(app.url + PAGES[name])
    bs.wait_for_app(page)
    page.wait_for_timeout(1500)
    assert not bs.exceptions_on_page(page), f"{name}: {bs.exceptions_on_page(page)}\n{app.output()[-3000:]}"
    bs.screenshot(page, name)
    counts = drawn_plots(page)
    if name in {"progress", "outcomes", "pilot", "presentation"}:
        assert counts["plots"] >= 1, f"{name} shows no chart"
        assert counts["drew"] == counts["plots"], f"{name}: {counts}"


def test_filters_live_in_the_url_and_a_copied_link_shows_the_same_view(app, browser):
    b, blocked = browser
    page = bs.new_offline_page(b, blocked)
    page.goto(app.url + "/")
    bs.wait_for_app(page)
    before = settled_kpis(page)
    region = page.locator("[data-testid='stSidebar'] [data-testid='stMultiSelect']").filter(has_text="Region")
    region.locator("input").click()
    page.get_by_role("option", name="Africa", exact=True).click()
    page.keyboard.press("Escape")
    bs.wait_for_app(page)
    page.wait_for_timeout(500)
    after = settled_kpis(page)
    assert after != before, "choosing a region changed none of the cards"
    url = page.url
    assert "Africa" in url, url
    other = bs.new_offline_page(b, blocked)
    other.goto(url)
    bs.wait_for_app(other)
    # the cards come in groups: wait until the new tab has drawn as many as the first
    other.wait_for_function(
        f"document.querySelectorAll(\"[data-testid='stMetric']\").length >= {len(after)}")
    other.wait_for_timeout(500)
    assert settled_kpis(other) == after
    bs.screenshot(other, "overview_africa_from_link")
    page.context.close()
    other.context.close()


def quarter_workbook() -> bytes:
    """What a director fills in: two pilots report a new quarter."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Indicators"
    ws.append(["Quarterly report, Heifer Africa"])
    ws.append(["Pilot ID", "Quarter", "Households reached", "Participants total", "Participants women"])
    ws.append(["KEN-DAIRY", "Q1 2019", 1234, 300, 150])
    ws.append(["uga-dairy", "2019-Q1", "1 000", 200, 80])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_upload_through_the_file_chooser_then_the_overview_changes(browser, tmp_path):
    b, blocked = browser
    with bs.running_app(with_demo=True) as app:
        page = bs.new_offline_page(b, blocked)
        path = tmp_path / "q1-2019.xlsx"
        path.write_bytes(quarter_workbook())
        page.goto(app.url + "/upload")
        bs.wait_for_app(page)
        with page.expect_file_chooser() as fc:
            page.get_by_test_id("stFileUploaderDropzone").click()
        fc.value.set_files(str(path))
        page.get_by_role("button", name=re.compile("commit", re.I)).wait_for(timeout=60_000)
        bs.wait_for_app(page)
        body = page.inner_text("body")
        assert "error" not in body.lower() or "0 error" in body.lower() or "no error" in body.lower()
        bs.screenshot(page, "upload_preview")
        page.get_by_role("button", name=re.compile("commit", re.I)).click()
        bs.wait_for_app(page)
        page.wait_for_timeout(500)
        assert re.search(r"[Ss]ubmission\s*#?\s*\d+", page.inner_text("body"))
        bs.screenshot(page, "upload_committed")
        page.goto(app.url + "/")
        bs.wait_for_app(page)
        page.wait_for_timeout(500)
        page.wait_for_selector("[data-testid='stMetric']")
        kpis = settled_kpis(page)
        text = page.inner_text("body")
        assert "Q1 2019" in text or "2019-Q1" in text
        assert any(v.replace(",", "").startswith("2,234".replace(",", "")) or "2.2k" in v or "2,234" in v
                   for v in kpis.values()), kpis
        bs.screenshot(page, "overview_after_upload")
        page.context.close()
