"""Many directors at once: N concurrent Chromium sessions open the Overview of the app
on the demo data; the time from each navigation until its KPI cards and a chart are
drawn (p50, p95, max), against one session alone measured in the same run.

    .venv/bin/python benchmarks/bench_sessions.py [--sessions 20] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    from tests import browser_support as bs

    if not Path(bs.CHROMIUM).exists():
        print("skipped: /usr/bin/chromium is not installed")
        return 0
    rows = []
    with bs.running_app(with_demo=True) as app, bs.offline_browser() as (browser, blocked):
        bs.concurrent_sessions(browser, blocked, app.url + "/", 1)  # warm the server's caches
        for n in (1, args.sessions):
            times, errors = [], 0
            for _ in range(args.rounds):
                for s in bs.concurrent_sessions(browser, blocked, app.url + "/", n):
                    times.append(s["drawn_ms"] / 1000)
                    errors += bool(s["exceptions"])
            times.sort()
            p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
            rows.append((n, statistics.median(times), p95, times[-1], errors))
    base = rows[0][1]
    print("| sessions at once | p50 s | p95 s | max s | p50 x one session | sessions with errors |")
    print("|---|---|---|---|---|---|")
    for n, p50, p95, mx, err in rows:
        print(f"| {n} | {p50:.2f} | {p95:.2f} | {mx:.2f} | {p50 / base:.1f} | {err} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
