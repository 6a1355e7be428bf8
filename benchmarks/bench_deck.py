"""The learning-event deck (.pptx) of the demo data, as the Presentation page makes it.

- cold: new data, nothing kept (the map's projected boundaries are worked out again);
- warm: the data unchanged since the last deck (the boundaries are kept per view);
- the deck without its map slide's map;
- the previous path, for comparison in the same run: the deck without a map plus the
  map drawn as a picture by kaleido in a headless Chromium (what a cold deck cost
  before the map was drawn with slide shapes; skipped without Chromium);
- the baseline: a bare python-pptx deck of 21 slides, each a title and a small native
  chart (what writing any deck of charts costs on this machine).

Each is the median of several runs.

    .venv/bin/python benchmarks/bench_deck.py [--runs 5]

With ``--pilots 100,1000`` it times instead the deck and the report of generated
portfolios (``linkdash.generate``, 40 quarters) as they are made now (beyond 20 pilots a
slide and a card for the 5 lowest and 5 highest by income against the living income) and
with a slide and a card for every pilot (``find`` = every pilot: what they were before),
with their slides and megabytes, against the same bare deck:

    .venv/bin/python benchmarks/bench_deck.py --pilots 100,1000 --runs 3

The issue's budget: at most 5 s warm and 10 s cold on this machine.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def baseline() -> None:
    """A bare python-pptx deck of 21 slides, each a title and a small native chart."""
    from pptx import Presentation
    from pptx.chart.data import CategoryChartData
    from pptx.enum.chart import XL_CHART_TYPE
    from pptx.util import Inches

    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(13.333), Inches(7.5)
    for i in range(21):
        slide = prs.slides.add_slide(prs.slide_layouts[5])
        slide.shapes.title.text = f"Slide {i + 1}"
        data = CategoryChartData()
        data.categories = [f"Q{q % 4 + 1} {2017 + q // 4}" for q in range(8)]
        data.add_series("Values", [float(q) for q in range(8)])
        slide.shapes.add_chart(XL_CHART_TYPE.LINE, Inches(1), Inches(1.5), Inches(11), Inches(5), data)
    prs.save(io.BytesIO())


def _chromium() -> str | None:
    for c in (os.environ.get("BROWSER_PATH"), "/usr/bin/chromium", shutil.which("chromium")):
        if c and Path(c).exists():
            return c
    return None


CARD = b'<article class="pilot"'


def at_scale(sizes: list[int], runs: int) -> int:
    """The deck and the report at ``sizes`` pilots: the ranking's ends, and every pilot."""
    from pptx import Presentation

    from linkdash import deck, generate, report

    base = [_timed(baseline) for _ in range(runs)]
    print(f"{runs} runs each, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    print("| pilots | output | pilot slides or cards | median s | min s | max s | x baseline | MB |")
    print("|---|---|---|---|---|---|---|---|")
    for n in sizes:
        portfolio = generate.portfolio(n, 40)
        every = tuple(portfolio.pilots["pilot_id"])
        for what, find in (("chosen", ()), ("every pilot (before)", every)):
            out: dict[str, bytes] = {}

            def make_deck(find=find, out=out, portfolio=portfolio) -> None:
                out["deck"] = deck.deck_bytes(portfolio, find=find)

            def make_report(find=find, out=out, portfolio=portfolio) -> None:
                out["report"] = report.report_bytes(portfolio, find=find)

            for name, fn in (("deck", make_deck), ("report", make_report)):
                ts = [_timed(fn) for _ in range(runs)]
                base.append(_timed(baseline))
                if name == "deck":
                    count = len(Presentation(io.BytesIO(out["deck"])).slides)
                    shown = f"{count} slides"
                else:
                    shown = f"{out['report'].count(CARD)} cards"
                med = statistics.median(ts)
                print(f"| {n:,} | {name}, {what} | {shown} | {med:.2f} | {min(ts):.2f} | {max(ts):.2f} | "
                      f"{med / statistics.median(base):.0f} | {len(out[name]) / 1e6:.1f} |")
    print(f"baseline (bare python-pptx deck, 21 small charts): median {statistics.median(base):.2f} s "
          f"of {len(base)} runs")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--no-previous", action="store_true", help="skip the previous (kaleido) path")
    ap.add_argument("--pilots", default="", help="e.g. 100,1000: the deck and report at scale instead")
    args = ap.parse_args()
    if args.pilots:
        return at_scale([int(n) for n in args.pilots.split(",")], args.runs)
    from pptx import Presentation

    from linkdash import deck, demo, maps, story

    portfolio = demo.demo_portfolio()
    deck.deck_bytes(portfolio, with_map=False)  # imports and first-use costs out of the runs

    def cold() -> None:
        maps._projected_countries.cache_clear()
        b = deck.deck_bytes(portfolio)
        if len(b) < 50_000:
            raise SystemExit("the deck is too small")

    def check_map() -> None:
        prs = Presentation(io.BytesIO(deck.deck_bytes(portfolio)))
        slide = prs.slides[2]
        groups = [sh for sh in slide.shapes if sh.shape_type == 6 and sh.name == "Map"]  # group
        if not groups or len(groups[0].shapes) < 20:
            raise SystemExit("the map slide holds no map")

    chromium = None if args.no_previous else _chromium()
    if chromium:
        os.environ.setdefault("BROWSER_PATH", chromium)
    told = story.resolve(portfolio)

    def previous_cold() -> None:
        deck.deck_bytes(portfolio, with_map=False)
        fig = maps.country_map(told.view, story.MAP_FIGURE, told.quarter, width_px=1000, height_px=520)
        fig.update_layout(width=1000, height=580)
        fig.to_image(format="png", width=1000, height=580, scale=2)

    names = {"cold": "cold: new data, nothing kept", "warm": "warm: data unchanged since the last deck",
             "nomap": "the deck without its map", "previous": "previous path, cold: map drawn by kaleido",
             "base": "baseline: bare python-pptx deck, 21 small charts"}
    rows: dict[str, list[float]] = {k: [] for k in names}
    check_map()
    for _ in range(args.runs):
        rows["cold"].append(_timed(cold))
        rows["warm"].append(_timed(lambda: deck.deck_bytes(portfolio)))
        rows["nomap"].append(_timed(lambda: deck.deck_bytes(portfolio, with_map=False)))
        if chromium:
            try:
                rows["previous"].append(_timed(previous_cold))
            except Exception as e:  # noqa: BLE001 - the comparison is optional
                print(f"previous path skipped: {type(e).__name__}: {e}")
                chromium = None
        rows["base"].append(_timed(baseline))
    base = statistics.median(rows["base"])
    print(f"Demo data: {len(portfolio.pilots)} pilots, {args.runs} runs each, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    print("| deck | median s | min s | max s | x baseline | budget |")
    print("|---|---|---|---|---|---|")
    budgets = {"cold": "10 s", "warm": "5 s"}
    for key, ts in rows.items():
        if not ts:
            print(f"| {names[key]} | skipped (no Chromium) | | | | |")
            continue
        med = statistics.median(ts)
        print(f"| {names[key]} | {med:.2f} | {min(ts):.2f} | {max(ts):.2f} | {med / base:.1f} | "
              f"{budgets.get(key, '')} |")
    over = [names[k] for k, limit in (("cold", 10), ("warm", 5)) if statistics.median(rows[k]) > limit]
    if over:
        print("over budget: " + ", ".join(over))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
