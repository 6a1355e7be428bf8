"""How long each page's script run takes on the demo data (Streamlit AppTest, no browser).

    .venv/bin/python benchmarks/bench_pages.py [--repeat 5]

For every page, the median over ``--repeat`` rounds of:

- first run: the page right after new data (the app's data caches dropped, as after a
  commit): load the portfolio, compute the figures and charts, render;
- filter change, new: choosing a region not chosen before (its charts are computed);
- filter change, cached: switching back to a region already seen (served from cache).

Goal: every page's script run under 0.5 s once its data is cached.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAGES = ["overview", "progress", "outcomes", "pilot", "lessons", "upload", "submissions", "presentation"]
GOAL_S = 0.5


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def _check(at, what: str) -> None:
    if at.exception:
        raise SystemExit(f"{what}: {at.exception[0].value}")


def bench_page(name: str, repeat: int) -> dict[str, float]:
    from streamlit.testing.v1 import AppTest

    from linkdash import ui

    first, new, cached = [], [], []
    for _ in range(repeat):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        if name == "pilot":
            at.query_params["pilot"] = "KEN-DAIRY"
        at.run()
        _check(at, name)
        ui.data_changed()  # as right after a commit: nothing of the data is cached
        first.append(_timed(lambda: at.switch_page(f"pages/{name}.py").run()))
        _check(at, name)
        region = at.multiselect(key="region")
        new.append(_timed(lambda: region.set_value(["Africa"]).run()))
        _check(at, name)
        at.multiselect(key="region").set_value([]).run()
        cached.append(_timed(lambda: at.multiselect(key="region").set_value(["Africa"]).run()))
        _check(at, name)
    return {"first run": statistics.median(first),
            "filter change, new": statistics.median(new),
            "filter change, cached": statistics.median(cached)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    import logging

    logging.getLogger("streamlit").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.sqlite"
        os.environ["LINKDASH_DATABASE_URL"] = url
        from linkdash import demo
        from linkdash.store import Store

        store = Store.open(url)
        import contextlib
        import io

        with contextlib.redirect_stdout(io.StringIO()):
            demo.load_demo(store)
        rows = {name: bench_page(name, args.repeat) for name in PAGES}

    cols = ["first run", "filter change, new", "filter change, cached"]
    print(f"Page script runs on the demo data (AppTest, median of {args.repeat}; seconds)")
    print(f"{'page':<12}" + "".join(f"{c:>24}" for c in cols) + "  goal < 0.5 s (cached)")
    worst = 0.0
    for name, r in rows.items():
        ok = "ok" if r["filter change, cached"] < GOAL_S else "SLOW"
        worst = max(worst, r["filter change, cached"])
        print(f"{name:<12}" + "".join(f"{r[c]:>24.3f}" for c in cols) + f"  {ok}")
    print(f"slowest cached run: {worst:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
