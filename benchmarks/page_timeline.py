"""Where a page's time goes in Chromium: for each load, when the first heading showed, when
the script finished, when each plotly chart drew its SVG and when the page was drawn (the
moments ``bench_browser.TIMELINE`` reads), against the bare one-chart page, on generated data;
optionally the main thread's CPU profile by script file, and an A/B of an environment
variable the app reads (two app servers on the same store, loads alternated).

    .venv/bin/python benchmarks/page_timeline.py --pilots 13 --pages pilot,outcomes --runs 5
    .venv/bin/python benchmarks/page_timeline.py --pages pilot --profile
    .venv/bin/python benchmarks/page_timeline.py --pages pilot --ab LP_SOMETHING=1

Milliseconds since navigation began, medians of ``--runs`` (after one warm-up load of each
page), and each page's ratio to the bare page measured between them. docs/performance.md
("What the browser profile shows at 13 pilots") was measured this way. A diagnosis tool,
not part of ``make bench``.
"""

from __future__ import annotations

import argparse
import collections
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_browser as bb  # noqa: E402
import scale_data  # noqa: E402

MOMENTS = ("heading", "script", "first_chart", "last_chart", "drawn")


def load(browser, blocked, url: str, profile: bool = False) -> tuple[dict, collections.Counter]:
    """One load's moments (``bench_browser.TIMELINE``) and, with ``profile``, the main
    thread's CPU time by script file (ms)."""
    by_file: collections.Counter = collections.Counter()

    def profiler(session, step: str) -> None:
        if step == "start":
            session.send("Profiler.enable")
            session.send("Profiler.setSamplingInterval", {"interval": 500})
            session.send("Profiler.start")
            return
        prof = session.send("Profiler.stop")["profile"]
        nodes = {n["id"]: n["callFrame"] for n in prof["nodes"]}
        for sample, us in zip(prof["samples"], prof["timeDeltas"]):
            cf = nodes[sample]
            by_file[cf["url"].rsplit("/", 1)[-1] or cf["functionName"]] += us / 1000

    t = bb.page_timeline(browser, blocked, url, limit_ms=120_000, cdp=profiler if profile else None)
    return t, by_file


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pilots", type=int, default=13)
    ap.add_argument("--quarters", type=int, default=40)
    ap.add_argument("--pages", default="overview,progress,outcomes,pilot,presentation")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--profile", action="store_true", help="also the main thread's CPU time by script file")
    ap.add_argument("--ab", metavar="VAR=VALUE", help="a second app server with this environment variable")
    args = ap.parse_args()
    from tests import browser_support as bs

    url = scale_data.sqlite_store(args.pilots, args.quarters)
    pilot = scale_data.first_pilot(url)
    pages = args.pages.split(",")
    variants = {"": None}
    if args.ab:
        variants[args.ab] = tuple(args.ab.split("=", 1))
    times: dict[str, list[dict]] = collections.defaultdict(list)
    cpu: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    with tempfile.TemporaryDirectory() as tmp, bs.offline_browser() as (browser, blocked):
        base = bb.Baseline(Path(tmp))
        apps = {}
        try:
            for name, var in variants.items():
                saved = os.environ.copy()
                if var:
                    os.environ[var[0]] = var[1]
                apps[name] = bs.AppServer(url, bs.free_port(), Path(tmp) / f"app{len(apps)}.log")
                apps[name].start()
                os.environ.clear()
                os.environ.update(saved)
            for page in pages:  # warm: each page's data and charts cached
                for app in apps.values():
                    load(browser, blocked, bb.page_url(app.url, page, pilot))
            for _ in range(args.runs):
                for page in pages:
                    t, f = load(browser, blocked, base.url + "/", args.profile)
                    times["bare"].append(t)
                    cpu["bare"].update(f)
                    for name, app in apps.items():
                        key = page + (f" [{name}]" if name else "")
                        t, f = load(browser, blocked, bb.page_url(app.url, page, pilot), args.profile)
                        times[key].append(t)
                        cpu[key].update(f)
        finally:
            for app in apps.values():
                app.stop()
            base.stop()
    bare = statistics.median(t.get("drawn", 0) for t in times["bare"])
    print(f"Page loads in Chromium, {args.pilots} pilots x {args.quarters} quarters, ms since navigation "
          f"(median of {args.runs}); x bare: drawn against the bare one-chart page")
    print("| page | " + " | ".join(MOMENTS) + " | x bare |")
    print("|---|" + "---|" * (len(MOMENTS) + 1))
    for key, ts in times.items():
        med = {m: statistics.median(t.get(m, 0) for t in ts) for m in MOMENTS}
        cells = " | ".join(f"{med[m]:.0f}" for m in MOMENTS)
        print(f"| {key} | {cells} | {med['drawn'] / bare:.2f} |")
    if args.profile:
        print("\nMain-thread CPU time by script file, ms per load (sampling profiler)")
        for key, c in cpu.items():
            top = ", ".join(f"{k} {v / len(times[key]):.0f}" for k, v in c.most_common(8))
            print(f"- {key}: {top}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
