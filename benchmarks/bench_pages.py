"""Each page's script time (Streamlit AppTest, no browser) and the plotly figure data it
sends, on generated data of N pilots x Q quarters (``linkdash.generate``).

    .venv/bin/python benchmarks/bench_pages.py [--pilots 13,100,1000] [--quarters 40] [--repeat 3]

For every page and size, the median over ``--repeat`` rounds of:

- first run: the page right after new data (the app's data caches dropped, as after a
  commit): read the store, compute the figures and charts, render;
- filter change, new: choosing a region not chosen before (its charts are computed);
- filter change, cached: switching back to a region already seen (served from cache);

and, from the first run, the figure data: the number of plotly charts (maps included)
and the bytes of their JSON. Goals (issue 13): a filter change within 0.5 s of script
time at 1,000 pilots; at most 1 MB of figure data per page.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import scale_data  # noqa: E402

FILTER_GOAL_S = 0.5
JSON_GOAL_BYTES = 1_000_000


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def _check(at, what: str) -> None:
    if at.exception:
        raise SystemExit(f"{what}: {at.exception[0].value}")


def figure_data(at) -> tuple[int, int]:
    """(charts, bytes of their JSON) of the plotly charts an AppTest run drew."""
    charts = at.get("plotly_chart")
    return len(charts), sum(len(c.proto.spec.encode()) for c in charts)


def bench_page(name: str, repeat: int, pilot: str) -> dict:
    from streamlit.testing.v1 import AppTest

    from linkdash import ui

    first, new, cached, data = [], [], [], (0, 0)
    for _ in range(repeat):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=900)
        if name == "pilot":
            at.query_params["pilot"] = pilot
        at.run()
        _check(at, name)
        ui.data_changed()  # as right after a commit: nothing of the data is cached
        first.append(_timed(lambda at=at: at.switch_page(f"pages/{name}.py").run()))
        _check(at, name)
        data = figure_data(at)
        region = at.multiselect(key="region")
        new.append(_timed(lambda region=region: region.set_value(["Africa"]).run()))
        _check(at, name)
        at.multiselect(key="region").set_value([]).run()
        cached.append(_timed(lambda at=at: at.multiselect(key="region").set_value(["Africa"]).run()))
        _check(at, name)
    return {"first_s": statistics.median(first), "filter_new_s": statistics.median(new),
            "filter_cached_s": statistics.median(cached), "charts": data[0], "json_bytes": data[1],
            "runs": repeat}


def run(sizes: list[int], quarters: int, repeat: int, pages: list[str]) -> dict:
    os.environ.setdefault("STREAMLIT_LOGGER_LEVEL", "error")  # AppTest's "no runtime" warnings
    import streamlit.logger

    streamlit.logger.set_log_level("error")
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    out: dict = {}
    for n in sizes:
        url = scale_data.sqlite_store(n, quarters)
        os.environ["LINKDASH_DATABASE_URL"] = url
        os.environ.pop("LINKDASH_ACCESS_FILE", None)
        pilot = scale_data.first_pilot(url)
        out[str(n)] = {name: bench_page(name, repeat, pilot) for name in pages}
        print(f"  pages at {n} pilots done", file=sys.stderr, flush=True)
    return out


def print_table(results: dict, quarters: int) -> None:
    print(f"Page script runs (AppTest, median; seconds) and figure data, {quarters} quarters")
    print("| pilots | page | first run | filter change, new | filter change, cached | charts "
          "| figure JSON KB |")
    print("|---|---|---|---|---|---|---|")
    for n, pages in results.items():
        for name, r in pages.items():
            print(f"| {n} | {name} | {r['first_s']:.2f} | {r['filter_new_s']:.2f} | "
                  f"{r['filter_cached_s']:.2f} | {r['charts']} | {r['json_bytes'] / 1000:.0f} |")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pilots", default="13,100,1000")
    ap.add_argument("--quarters", type=int, default=40)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--pages", default=",".join(scale_data.PAGES))
    ap.add_argument("--json", help="also write the results to this file")
    args = ap.parse_args()
    sizes = [int(x) for x in args.pilots.split(",")]
    results = run(sizes, args.quarters, args.repeat, args.pages.split(","))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    print_table(results, args.quarters)
    return 0


if __name__ == "__main__":
    sys.exit(main())
