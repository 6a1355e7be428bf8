"""The upload read by a person (issue 9), in real Chromium against `streamlit run`:
three errors shown at once above hundreds of grouped warnings, the preview saying what
the file covers, the commit said in words with a link that opens its quarter, and the
banner that says real and illustrative data are mixed. Screenshots of the Upload page
at 1440x900, 1280x720 and 390x844 land in tests/artifacts/."""

from __future__ import annotations

import re

import pytest

from tests import browser_support as bs
from tests.test_browser import quarter_workbook

pytestmark = pytest.mark.browser

SIZES = {"1440x900": (1440, 900), "1280x720": (1280, 720), "390x844": (390, 844)}


def bad_workbook(db_url: str) -> bytes:
    from linkdash.store import Store
    from tests.test_app_pages import outlier_workbook

    store = Store.open(db_url)
    try:
        return outlier_workbook(store.load())
    finally:
        store.close()


def choose_file(page, path) -> None:
    with page.expect_file_chooser() as fc:
        page.get_by_test_id("stFileUploaderDropzone").click()
    fc.value.set_files(str(path))


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("""() => [...document.querySelectorAll(
        "[data-testid='stMain'], [data-testid='stAppViewContainer'], body")]
        .every(e => e.scrollWidth <= e.clientWidth + 1)""")


@pytest.mark.parametrize("size", SIZES)
def test_three_errors_show_at_once_above_the_grouped_warnings(app, browser, tmp_path, size):
    b, blocked = browser
    w, h = SIZES[size]
    page = bs.new_offline_page(b, blocked, width=w, height=h)
    path = tmp_path / "q4-with-errors.xlsx"
    path.write_bytes(bad_workbook(app.db_url))
    page.goto(app.url + "/upload")
    bs.wait_for_app(page)
    choose_file(page, path)
    errors = page.locator(".st-key-report_errors")
    errors.get_by_text(re.compile(r"3 errors, \d+ warnings")).wait_for(timeout=120_000)
    bs.wait_for_app(page)
    assert not bs.exceptions_on_page(page), app.output()[-3000:]
    # the three errors are written out, each with its cell
    lines = errors.locator("li").all_inner_texts()
    assert len(lines) == 3, lines
    assert all(re.match(r"^Indicators [A-Z]+\d+\b", ln) for ln in lines), lines
    assert "NOPE-PILOT" in lines[0] and "lots" in lines[1] and "2031" in lines[2]
    # the warnings below them, grouped, closed: one line per kind
    warnings = page.locator(".st-key-report_warnings")
    summary = warnings.locator("[data-testid='stExpander'] summary").all_inner_texts()
    assert any(re.search(r"\d{3} outliers in \d+ pilots", s) for s in summary), summary
    assert warnings.locator("[data-testid='stExpander'] details[open]").count() == 0
    e_box = bs.stable_box(page, errors)
    w_box = bs.stable_box(page, warnings)
    assert e_box["y"] + e_box["height"] <= w_box["y"] + 1
    # opening the group lists its cells, with the pilots and their counts
    first = warnings.locator("[data-testid='stExpander']").first
    first.locator("summary").click()
    first.get_by_text(re.compile(r"^By pilot: .+ \([A-Z]{3}-[A-Z]+\): \d+")).wait_for()
    assert first.locator("li").count() == 10
    assert no_horizontal_scroll(page)
    bs.screenshot(page, f"upload_errors_{size}")
    page.context.close()


def test_the_preview_says_what_the_file_covers_and_the_commit_links_to_its_quarter(browser, tmp_path):
    b, blocked = browser
    with bs.running_app(with_demo=True) as app:
        page = bs.new_offline_page(b, blocked, width=1440, height=900)
        path = tmp_path / "q1-2019.xlsx"
        path.write_bytes(quarter_workbook())
        page.goto(app.url + "/upload")
        bs.wait_for_app(page)
        choose_file(page, path)
        cover = page.locator(".st-key-upload_coverage")
        cover.wait_for(timeout=120_000)
        bs.wait_for_app(page)
        assert cover.inner_text().strip() == ("This file covers 2 pilots (Kenya dairy cows and "
                                              "Uganda dairy cows), 2019-Q1, in 1 sheet: "
                                              "Indicators (2 rows).")
        # the preview's rows say what they are in words: no column codes
        assert "households_reached" not in page.inner_text("body")
        page.locator("[data-testid='stDataFrame'] canvas").first.wait_for()
        bs.charts_settled(page)
        bs.screenshot(page, "upload_preview_1440x900")
        page.get_by_role("button", name=re.compile("commit", re.I)).click()
        done = page.locator(".st-key-upload_done")
        done.get_by_text("Stored 6 new values for 2 pilots in 2019-Q1").wait_for(timeout=120_000)
        bs.wait_for_app(page)
        assert "(submission #2)" in done.inner_text()
        # real data now sits beside the illustrative data: every page says so
        banner = page.locator(".st-key-illustrative_banner")
        assert "Real and illustrative data are mixed" in banner.inner_text()
        assert page.locator(".st-key-upload_illustrative_remove").count() == 1
        bs.screenshot(page, "upload_committed_1440x900")
        for size, (w, h) in SIZES.items():
            if size != "1440x900":
                page.set_viewport_size({"width": w, "height": h})
                bs.wait_for_app(page)
                assert no_horizontal_scroll(page), size
                bs.screenshot(page, f"upload_committed_{size}")
        page.set_viewport_size({"width": 1440, "height": 900})
        # the link opens the Overview on the quarter the file reported
        done.get_by_text("See 2019-Q1 on the Overview").click()
        page.wait_for_function("() => location.search.includes('quarter=2019-Q1')")
        bs.wait_for_app(page)
        page.locator("[data-testid='stMetric']").first.wait_for()
        bs.screenshot(page, "upload_link_to_overview")
        body = page.inner_text("body")
        quarter_box = page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").filter(
            has_text="Quarter")
        assert "quarter 2019-Q1" in body, body[:3000]
        assert quarter_box.locator("input").input_value() == "2019-Q1"
        assert "Real and illustrative data are mixed" in page.locator(
            ".st-key-illustrative_banner").inner_text()
        assert not bs.exceptions_on_page(page), app.output()[-3000:]
        page.context.close()


def test_the_illustrative_data_is_removed_from_the_submissions_page(browser):
    """A real upload beside the illustrative data: the banner says they are mixed; the
    Submissions page removes the illustrative part (a rollback, listed at once)."""
    from linkdash import access, submit
    from linkdash.store import Store
    from tests.workbook_builder import xlsx_bytes

    b, blocked = browser
    with bs.running_app(with_demo=True) as app:
        store = Store.open(app.db_url)
        real = xlsx_bytes({"Pilots": [["pilot_id", "pilot_name", "country", "value_chain", "site"],
                                      ["KEN-DAIRY", "Kenya dairy cows", "Kenya", "dairy_cow", "Real site"]],
                           "Indicators": [["Pilot ID", "Quarter", "Households reached"],
                                          ["KEN-DAIRY", "2019-Q1", 1500]]})
        assert submit.import_file(store, real, "real.xlsx", actor=access.local_admin("t")).ok
        store.close()
        page = bs.new_offline_page(b, blocked, width=1280, height=720)
        page.goto(app.url + "/submissions")
        bs.wait_for_app(page)
        banner = page.locator(".st-key-illustrative_banner").inner_text()
        assert "Real and illustrative data are mixed" in banner
        box = page.locator(".st-key-submissions_illustrative_remove")
        box.get_by_text("Yes, remove the illustrative data").click()
        bs.wait_for_app(page)
        box.get_by_role("button", name="Remove the illustrative data").click()
        page.get_by_text(re.compile(r"Removed the illustrative demo data \(submission #1\)")).wait_for(
            timeout=120_000)
        bs.wait_for_app(page)
        assert page.locator(".st-key-illustrative_banner").count() == 0
        assert page.locator(".st-key-submissions_illustrative_restore").count() == 1
        assert not bs.exceptions_on_page(page), app.output()[-3000:]
        bs.screenshot(page, "submissions_after_removal_1280x720")
        page.context.close()


def resent_quarters_workbook(db_url: str, *, slip: float | None = None) -> bytes:
    """Kenya's last four stored quarters sent again, every count and amount 20% higher
    (corrected history), and the next quarter in line with them; with ``slip``, that
    quarter's sales multiplied by it (a unit slip)."""
    from linkdash.store import Store
    from tests.workbook_builder import xlsx_bytes

    store = Store.open(db_url)
    try:
        ind = store.load().indicators
    finally:
        store.close()
    ken = ind[(ind["pilot_id"] == "KEN-DAIRY") & ind["value"].notna()]
    codes = ["households_reached", "participants_total", "sales_usd", "income_avg_usd"]
    last4 = sorted(ken["quarter"].unique())[-4:]
    wide = ken[ken["indicator"].isin(codes)].pivot_table(index="quarter", columns="indicator",
                                                          values="value", aggfunc="first")
    rows = [["pilot_id", "quarter", *codes]]
    for q in last4:
        rows.append(["KEN-DAIRY", q, *[round(1.2 * float(wide.loc[q, c])) for c in codes]])
    step = {c: float(wide.loc[last4[-1], c]) - float(wide.loc[last4[-2], c]) for c in codes}
    nxt = {c: round(1.2 * (float(wide.loc[last4[-1], c]) + step[c])) for c in codes}
    if slip:
        nxt["sales_usd"] = round(nxt["sales_usd"] * slip)
    rows.append(["KEN-DAIRY", "2019-Q1", *[nxt[c] for c in codes]])
    return xlsx_bytes({"Indicators": rows})


@pytest.mark.parametrize("slip", [None, 1000])
def test_resent_quarters_in_line_give_no_outlier_and_a_slip_gives_exactly_one(app, browser, tmp_path, slip):
    """Issue 9: history sent again with new values is judged on the data as it will be
    (the file over the store), following the series' trend: nothing to warn about; one
    sales value 1,000 times too large is the one outlier, at its cell."""
    b, blocked = browser
    page = bs.new_offline_page(b, blocked, width=1440, height=900)
    path = tmp_path / "resent.xlsx"
    path.write_bytes(resent_quarters_workbook(app.db_url, slip=slip))
    try:
        page.goto(app.url + "/upload")
        bs.wait_for_app(page)
        choose_file(page, path)
        page.locator(".st-key-upload_coverage").wait_for(timeout=120_000)
        bs.wait_for_app(page)
        assert not bs.exceptions_on_page(page), app.output()[-3000:]
        body = page.inner_text("body")
        assert "This file covers 1 pilot (Kenya dairy cows)" in body, body[:2000]
        summaries = page.locator(".st-key-report_warnings [data-testid='stExpander'] summary")
        titles = summaries.all_inner_texts() if page.locator(".st-key-report_warnings").count() else []
        outliers = [t for t in titles if "outlier" in t]
        if slip is None:
            assert outliers == [], titles
        else:
            assert len(outliers) == 1 and outliers[0].endswith("1 outlier in 1 pilot"), titles
            summaries.filter(has_text="outlier").first.click()
            listed = page.locator(".st-key-report_warnings li").filter(has_text="Sales")
            listed.first.wait_for()
            assert listed.count() == 1 and "Indicators E6" in listed.first.inner_text()
        bs.screenshot(page, f"upload_resent_{'slip' if slip else 'in_line'}")
    finally:
        page.context.close()
