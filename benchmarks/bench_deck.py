"""The learning-event deck (.pptx) of the demo data, as the Presentation page makes it:
cold (no map picture kept: kaleido draws it), warm (the data unchanged since the last
deck: the map picture is kept), and the deck without a map, each the median of several
runs, against a baseline measured in the same run: a bare python-pptx deck of 21 blank
slides and one picture of the map's size (what writing any deck costs on this machine).

    .venv/bin/python benchmarks/bench_deck.py [--runs 3]

The issue's budget: at most 5 s warm and 10 s cold on this machine.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def baseline(png: bytes) -> None:
    from pptx import Presentation
    from pptx.util import Inches

    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(13.333), Inches(7.5)
    for i in range(21):
        slide = prs.slides.add_slide(prs.slide_layouts[6])
        if i == 2:
            slide.shapes.add_picture(io.BytesIO(png), Inches(1), Inches(1.5), Inches(9), Inches(5.2))
    prs.save(io.BytesIO())


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    os.environ["LINKDASH_CACHE_DIR"] = tempfile.mkdtemp(prefix="bench-deck-")
    from linkdash import deck, demo

    portfolio = demo.demo_portfolio()
    deck.deck_bytes(portfolio, with_map=False)  # imports and first-use costs out of the runs

    def cold() -> None:
        deck._MAP_MEMO.clear()
        for f in deck.map_cache_dir().glob("*.png"):
            f.unlink()
        b = deck.deck_bytes(portfolio)
        assert b"ppt/media/image" in b, "the map picture is missing: is Chromium installed?"

    rows: dict[str, list[float]] = {"cold (map drawn by kaleido)": [], "warm (map kept, data unchanged)": [],
                                    "no map at all": [], "baseline: bare python-pptx deck, 1 picture": []}
    for _ in range(args.runs):
        rows["cold (map drawn by kaleido)"].append(_timed(cold))
        rows["warm (map kept, data unchanged)"].append(_timed(lambda: deck.deck_bytes(portfolio)))
        rows["no map at all"].append(_timed(lambda: deck.deck_bytes(portfolio, with_map=False)))
        png = next(iter(deck._MAP_MEMO.values()))
        rows["baseline: bare python-pptx deck, 1 picture"].append(_timed(lambda: baseline(png)))
    base = statistics.median(rows["baseline: bare python-pptx deck, 1 picture"])
    print(f"Demo data: {len(portfolio.pilots)} pilots, {args.runs} runs each, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    print("| deck | median s | min s | max s | x baseline | budget |")
    print("|---|---|---|---|---|---|")
    budgets = {"cold (map drawn by kaleido)": "10 s", "warm (map kept, data unchanged)": "5 s"}
    for name, ts in rows.items():
        med = statistics.median(ts)
        print(f"| {name} | {med:.2f} | {min(ts):.2f} | {max(ts):.2f} | {med / base:.1f} | "
              f"{budgets.get(name, '')} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
