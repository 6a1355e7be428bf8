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

``--profile DIR`` also profiles (cProfile) the script runs of the new-filter change, all
rounds together, into ``DIR/<page>_<pilots>.prof`` (read it with ``python -m pstats``, or
snakeviz); the profiler slows the runs, so take the times from a run without it.
"""

from __future__ import annotations

import argparse
import cProfile
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


class _ScriptProfile:
    """cProfile of the page scripts AppTest runs while ``on``: AppTest runs each script in
    a thread of its own, which a profiler started in this one does not see, so the
    script thread's body (``LocalScriptRunner._run_script_thread``, private to
    Streamlit's testing module: good enough for a benchmark) runs under the profiler."""

    def __init__(self) -> None:
        from streamlit.testing.v1 import local_script_runner

        self.profile, self.on = cProfile.Profile(), False
        runner = local_script_runner.LocalScriptRunner
        run_thread = runner._run_script_thread

        def profiled(runner_self) -> None:
            if not self.on:
                return run_thread(runner_self)
            self.profile.enable()
            try:
                return run_thread(runner_self)
            finally:
                self.profile.disable()

        runner._run_script_thread = profiled


def bench_page(name: str, repeat: int, pilot: str, profile: _ScriptProfile | None = None) -> dict:
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
        if profile:
            profile.on = True
        new.append(_timed(lambda region=region: region.set_value(["Africa"]).run()))
        if profile:
            profile.on = False
        _check(at, name)
        at.multiselect(key="region").set_value([]).run()
        cached.append(_timed(lambda at=at: at.multiselect(key="region").set_value(["Africa"]).run()))
        _check(at, name)
    return {"first_s": statistics.median(first), "filter_new_s": statistics.median(new),
            "filter_cached_s": statistics.median(cached), "charts": data[0], "json_bytes": data[1],
            "runs": repeat, "filter_new_each_s": new}


def run(sizes: list[int], quarters: int, repeat: int, pages: list[str], profile_dir: Path | None = None
        ) -> dict:
    os.environ.setdefault("STREAMLIT_LOGGER_LEVEL", "error")  # AppTest's "no runtime" warnings
    import streamlit.logger

    streamlit.logger.set_log_level("error")
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    out: dict = {}
    profile = _ScriptProfile() if profile_dir else None
    for n in sizes:
        url = scale_data.sqlite_store(n, quarters)
        os.environ["LINKDASH_DATABASE_URL"] = url
        os.environ.pop("LINKDASH_ACCESS_FILE", None)
        pilot = scale_data.first_pilot(url)
        out[str(n)] = {}
        for name in pages:
            if profile:
                profile.profile = cProfile.Profile()
            out[str(n)][name] = bench_page(name, repeat, pilot, profile)
            if profile and profile_dir:
                profile_dir.mkdir(parents=True, exist_ok=True)
                profile.profile.dump_stats(str(profile_dir / f"{name}_{n}.prof"))
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
    ap.add_argument("--profile", type=Path, metavar="DIR",
                    help="also write a cProfile of each page's new-filter runs to DIR/<page>_<pilots>.prof")
    args = ap.parse_args()
    sizes = [int(x) for x in args.pilots.split(",")]
    results = run(sizes, args.quarters, args.repeat, args.pages.split(","), args.profile)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    print_table(results, args.quarters)
    return 0


if __name__ == "__main__":
    sys.exit(main())
