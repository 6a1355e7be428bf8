"""Presenting at the learning event, in real Chromium: in presentation mode
(``/presentation?present=1``) every slide fits a 1280x720, 1366x768 and 1920x1080
screen with no scrolling and no text running out of its box; a presenter's remote
(Page Down / Page Up, arrows, space, Home, End) moves the slide and the URL; the
presenter view in a second window follows the main window. Screenshots of every size
go to tests/artifacts/present-*.png."""

from __future__ import annotations

import re

import pytest

from tests import browser_support as bs

SIZES = [(1280, 720), (1366, 768), (1920, 1080)]
N_SLIDES = 18  # 5 story slides + 13 pilots of the demo data
# the slides looked at at every size: the map, progress, income, inclusiveness, NBMP and
# two pilots (the first, and one with a long name)
SLIDES = [1, 2, 3, 4, 5, 6, 11]

FIT = """() => {
  const vw = window.innerWidth, vh = window.innerHeight;
  const slide = document.querySelector('.st-key-lp-slide');
  const main = document.querySelector("[data-testid='stMain']");
  const box = slide.getBoundingClientRect();
  const overflowing = [];
  const texts = slide.querySelectorAll('.lp-title, .lp-kicker, .lp-lesson, .lp-text, .lp-card, '
    + '.lp-targets td, .lp-targets th, button, [data-testid="stMarkdownContainer"] p');
  for (const el of texts) {
    const r = el.getBoundingClientRect();
    if (r.width === 0) continue;
    if (el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1
        || r.right > vw + 0.5 || r.bottom > vh + 0.5 || r.left < -0.5)
      overflowing.push(el.className + ': ' + el.textContent.slice(0, 60) + ' ' + JSON.stringify(
        [el.scrollWidth, el.clientWidth, el.scrollHeight, el.clientHeight, r.right, r.bottom]));
  }
  for (const svg of slide.querySelectorAll('.js-plotly-plot .main-svg')) {
    const r = svg.getBoundingClientRect();
    if (r.bottom > vh + 0.5 || r.right > vw + 0.5) overflowing.push('chart at ' + r.bottom);
  }
  const page = document.scrollingElement;
  return {top: box.top, bottom: box.bottom, left: box.left, right: box.right, vw, vh,
          scrolls: main.scrollHeight > main.clientHeight + 1 || page.scrollHeight > page.clientHeight + 1,
          sidebar: !!document.querySelector("[data-testid='stSidebar']")
                   && document.querySelector("[data-testid='stSidebar']").getBoundingClientRect().width > 0,
          overflowing};
}"""




def _settled(page) -> None:
    """The script has run, the slide and its charts are drawn."""
    bs.wait_for_app(page, 120_000)
    page.wait_for_selector(".st-key-lp-slide", timeout=120_000)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.st-key-lp-slide .js-plotly-plot')]"
        ".every(p => p.querySelector('.main-svg'))", timeout=120_000)
    bs.wait_for_app(page, 120_000)


def _slide_no(page) -> int:
    return int(re.search(r"[?&]slide=(\d+)", page.url).group(1))


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_every_slide_fits_the_screen(app, browser, size):
    b, blocked = browser
    w, h = size
    page = bs.new_offline_page(b, blocked, w, h, timeout=120_000)
    try:
        problems = []
        for n in SLIDES:
            page.goto(f"{app.url}/presentation?present=1&talk=fit&slide={n}")
            _settled(page)
            # the clicker has told the server the window's size: the slide is sized for it
            page.wait_for_selector(f".lp-title[data-sized='{w}x{h}']", timeout=120_000)
            _settled(page)
            r = page.evaluate(FIT)
            assert not bs.exceptions_on_page(page), bs.exceptions_on_page(page)
            if r["top"] < 0 or r["bottom"] > h or r["left"] < 0 or r["right"] > w:
                problems.append(f"slide {n}: box {r['top']:.0f}-{r['bottom']:.0f} x "
                                f"{r['left']:.0f}-{r['right']:.0f} outside {w}x{h}")
            if r["scrolls"]:
                problems.append(f"slide {n}: the page scrolls")
            if r["sidebar"]:
                problems.append(f"slide {n}: the sidebar shows")
            problems += [f"slide {n}: {o}" for o in r["overflowing"]]
            if n in (1, 6):
                page.screenshot(path=str(bs.ARTIFACTS / f"present-{w}x{h}-slide{n}.png"))
            # a way back is always visible
            exit_button = page.get_by_role("button", name="✕ Exit")
            assert exit_button.is_visible()
        assert not problems, "\n".join(problems)
        assert not blocked, blocked
    finally:
        page.context.close()


def test_a_clicker_moves_the_slide_and_the_url(app, browser):
    b, blocked = browser
    page = bs.new_offline_page(b, blocked, 1280, 720, timeout=120_000)
    try:
        page.goto(f"{app.url}/presentation?present=1&talk=keys&slide=1")
        _settled(page)

        def press(key: str, expected: int) -> None:
            press_key(page, key)
            page.wait_for_function(f"() => /[?&]slide={expected}(&|$)/.test(location.search)",
                                   timeout=120_000)
            page.wait_for_function(
                "() => [...document.querySelectorAll('p')]"
                f".some(p => p.textContent.includes('Slide {expected} of'))",
                timeout=120_000)
            _settled(page)
            assert _slide_no(page) == expected

        press("PageDown", 2)
        press("ArrowRight", 3)
        press("Space", 4)
        press("PageUp", 3)
        press("ArrowLeft", 2)
        press("End", N_SLIDES)
        press("Home", 1)
        press("ArrowDown", 2)
        press("ArrowUp", 1)
        assert not bs.exceptions_on_page(page)
        # the way back: the page with its sidebar, on the same slide
        page.keyboard.press("PageDown")
        page.wait_for_function("() => /[?&]slide=2(&|$)/.test(location.search)", timeout=120_000)
        _settled(page)
        page.get_by_role("button", name="✕ Exit").click()
        page.wait_for_function("() => !/present=1/.test(location.search)", timeout=120_000)
        bs.wait_for_app(page, 120_000)
        page.wait_for_selector("[data-testid='stSidebar']", state="visible", timeout=60_000)
        assert _slide_no(page) == 2
    finally:
        page.context.close()


def press_key(page, key: str) -> None:
    """Press ``key`` once the clicker listens (its key listener is attached again after
    each run; a key pressed before is lost)."""
    page.wait_for_function("() => !!window.__lpKeys", timeout=120_000)
    page.keyboard.press(key)


def shows(page, *texts: str) -> None:
    """Wait until the page shows every one of ``texts`` (the presenter view redraws itself)."""
    page.wait_for_function("texts => texts.every(t => document.body.innerText.includes(t))",
                           arg=list(texts), timeout=120_000)


def test_the_presenter_view_follows_the_main_window(app, browser):
    b, blocked = browser
    main = bs.new_offline_page(b, blocked, 1280, 720, timeout=120_000)
    notes = bs.new_offline_page(b, blocked, 1000, 800, timeout=120_000)
    try:
        main.goto(f"{app.url}/presentation?present=1&talk=follow1&slide=3")
        _settled(main)
        notes.goto(f"{app.url}/presentation?presenter=1&talk=follow1")
        shows(notes, "Slide 3 of 18", "Next: Inclusiveness")
        body = notes.locator("body").inner_text()
        assert "Income against the living-income benchmark" in body
        assert "Next: Inclusiveness: women and youth" in body
        assert "Living-income benchmark:" in body and "Data: Indicators for Q4 2018" in body
        timer = notes.locator(".lp-timer")
        first = timer.inner_text()
        assert re.fullmatch(r"Time \d\d:\d\d", first)
        notes.wait_for_function(f"() => document.querySelector('.lp-timer').textContent !== {first!r}",
                                timeout=30_000)  # the timer runs
        press_key(main, "PageDown")
        shows(notes, "Slide 4 of 18", "Next: The New Business Model Principles")
        _settled(main)
        press_key(main, "End")
        shows(notes, "Slide 18 of 18", "(last slide)", "Key lesson in full")
        assert not bs.exceptions_on_page(notes) and not bs.exceptions_on_page(main)
    finally:
        main.context.close()
        notes.context.close()
