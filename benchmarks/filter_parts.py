"""Where the Overview's new-filter run goes: each figure and chart it computes, timed
alone (no profiler), on generated data of N pilots x Q quarters. Not part of ``make
bench``; for finding what to make faster, and for A/B runs of two checkouts:

    .venv/bin/python benchmarks/filter_parts.py [--pilots 1000] [--region Africa] [--repeat 9]
    .venv/bin/python benchmarks/filter_parts.py --before DIR    # DIR's linkdash too, alternated

As when a director changes the sidebar's filter: the whole portfolio's figures, grid and
map are made first (the page showed them), then each round forgets the filtered part
and makes, in the page's order, the part (``Portfolio.filtered``), ``portfolio_figures``,
``figure_changes``, ``pilots_not_reporting``, the reporting grid and the map (each
finished for the page, as ``ui.chart`` does). A new region's map projection is made once
per process (``maps._projected_countries``), so the rounds after the first reuse it, as
the app does. Prints the median of each part, in ms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

PARTS = ("filtered", "portfolio_figures", "figure_changes", "pilots_not_reporting",
         "reporting_grid_chart", "country_map")


def measure(url: str, region: str, repeat: int) -> dict[str, float]:
    """Median ms of each part (and ``total``) with the ``linkdash`` on ``sys.path``."""
    from linkdash import charts, figures, maps
    from linkdash.portfolio import Filter
    from linkdash.store import Store
    from linkdash.ui.page import finish_figure

    pf = Store.open(url).load()
    flt, q = Filter(regions=(region,)), pf.latest_quarter()
    figures.portfolio_figures(pf, Filter(), q, None)  # the page before the filter changed
    figures.figure_changes(pf, Filter(), q, None)
    charts.reporting_grid_chart(pf, q)
    maps.country_map(pf, "households_reached", q)
    steps = {
        "filtered": lambda: pf.filtered(flt),
        "portfolio_figures": lambda: figures.portfolio_figures(pf, flt, q, None),
        "figure_changes": lambda: figures.figure_changes(pf, flt, q, None),
        "pilots_not_reporting": lambda: figures.pilots_not_reporting(pf.filtered(flt), q),
        "reporting_grid_chart": lambda: finish_figure(charts.reporting_grid_chart(pf.filtered(flt), q), True),
        "country_map": lambda: finish_figure(
            maps.country_map(pf.filtered(flt), "households_reached", q), True),
    }
    times: dict[str, list[float]] = {k: [] for k in (*PARTS, "total")}
    for _ in range(repeat):
        pf._memo.pop("parts", None)  # a filter not chosen before: its part is made anew
        start = time.perf_counter()
        for name, step in steps.items():
            t = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - t)
        times["total"].append(time.perf_counter() - start)
    return {k: statistics.median(v) * 1000 for k, v in times.items()}


def _in_checkout(checkout: Path, url: str, region: str, repeat: int) -> dict[str, float]:
    code = ("import json, sys; sys.path[:0] = [sys.argv[1], sys.argv[2]]; import filter_parts; "
            "print(json.dumps(filter_parts.measure(sys.argv[3], sys.argv[4], int(sys.argv[5]))))")
    env = dict(os.environ, STREAMLIT_LOGGER_LEVEL="error")
    out = subprocess.run([sys.executable, "-c", code, str(checkout), str(ROOT / "benchmarks"), url, region,
                          str(repeat)], check=True, capture_output=True, text=True, env=env, cwd=checkout)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pilots", type=int, default=1000)
    ap.add_argument("--quarters", type=int, default=40)
    ap.add_argument("--region", default="Africa")
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--before", type=Path, help="another checkout, measured alternately in the same run")
    ap.add_argument("--rounds", type=int, default=2, help="alternations with --before")
    args = ap.parse_args()
    import scale_data

    url = scale_data.sqlite_store(args.pilots, args.quarters)
    runs: list[tuple[str, dict[str, float]]] = []
    for _ in range(args.rounds if args.before else 1):
        if args.before:
            runs.append(("before", _in_checkout(args.before.resolve(), url, args.region, args.repeat)))
        runs.append(("after", _in_checkout(ROOT, url, args.region, args.repeat)))
    print(f"Overview, new filter ({args.region}) at {args.pilots} pilots x {args.quarters} quarters: "
          f"median of {args.repeat}, ms")
    print("| part | " + " | ".join(name for name, _ in runs) + " |")
    print("|---" * (len(runs) + 1) + "|")
    for part in (*PARTS, "total"):
        print(f"| {part} | " + " | ".join(f"{r[part]:.1f}" for _, r in runs) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
