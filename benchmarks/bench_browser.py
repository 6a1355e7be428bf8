"""Page time in Chromium until drawn, for every page, on generated data of N pilots x Q
quarters, against a bare Streamlit page with one plotly chart (benchmarks/baseline_app.py)
served on the same machine in the same run; and the app server's memory.

    .venv/bin/python benchmarks/bench_browser.py [--pilots 13,100,1000] [--quarters 40] [--runs 3]
        [--before DIR]

``--before DIR`` also serves the app of another checkout (``git worktree add DIR COMMIT``)
on the same store and measures it alternately with this one and the bare page: a change's
effect in one run on a noisy machine (the store's schema must be one both can read).

A warm server (every page opened once first), a new browser session per run (a fresh
context, as someone opening a link). "Drawn": the script has finished, no element is
still loading, every plotly chart (maps included) has drawn its SVG, for two painted
frames in a row; the time is the page's own clock since its navigation began. Each
figure is the median of ``--runs``; the baseline is measured alternately with the
pages. Memory: the app server's resident memory (VmRSS) after all runs and its peak
(VmHWM), with the store of that size loaded and shared by every session.

Goals (issue 13): every page within 1.25x the bare page at 13 pilots and 2x at 1,000
pilots x 40 quarters; the app process within 400 MB with the 1,000-pilot store loaded.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import scale_data  # noqa: E402

# One page load, read every animation frame: when the first heading showed, the script
# finished, the first and the last plotly chart drew their SVG, and the page was "drawn"
# (script finished, a heading, no placeholder left, every chart drawn, for two painted
# frames in a row): ms since navigation began; no "drawn" after ``limit`` ms.
# (benchmarks/page_timeline.py reports every moment; this benchmark the last.)
TIMELINE = """limit => new Promise(resolve => {
  const t = {}; let ok = 0; const start = performance.now();
  const step = () => {
    const now = performance.now();
    const app = document.querySelector("[data-testid='stApp']");
    if (!t.heading && document.querySelector("[data-testid='stMain'] h1")) t.heading = now;
    if (!t.script && app && app.getAttribute('data-test-script-state') === 'notRunning') t.script = now;
    const charts = [...document.querySelectorAll("[data-testid='stPlotlyChart']")];
    charts.forEach(c => { if (!c.__lpSeen && c.querySelector('.main-svg')) {
      c.__lpSeen = true; t.first_chart = t.first_chart || now; t.last_chart = now; } });
    const ready = app && app.getAttribute('data-test-script-state') === 'notRunning' && t.heading
      && !document.querySelector("[data-testid='stSkeleton']")
      && charts.every(c => c.querySelector('.main-svg'));
    ok = ready ? ok + 1 : 0;
    if (ok >= 2) { t.drawn = now; resolve(t); }
    else if (now - start > limit) resolve(t);
    else requestAnimationFrame(step);
  };
  requestAnimationFrame(step);
})"""


def page_url(base: str, name: str, pilot: str) -> str:
    if name == "overview":
        return base + "/"
    return f"{base}/{name}" + (f"?pilot={pilot}" if name == "pilot" else "")


def page_timeline(browser, blocked: list[str], url: str, *, limit_ms: int = 600_000, cdp=None) -> dict:
    """The moments of one load of ``url`` (``TIMELINE``) in a new browser session at
    1440x900; ``cdp``: called with the page's CDP session before it loads and after it
    is drawn (a profiler). A page with a JavaScript error is a RuntimeError."""
    from tests import browser_support as bs

    page = bs.new_offline_page(browser, blocked, width=1440, height=900, timeout=limit_ms + 60_000)
    try:
        session = page.context.new_cdp_session(page) if cdp else None
        if cdp:
            cdp(session, "start")
        page.goto(url, wait_until="commit")
        t = page.evaluate(TIMELINE, limit_ms)
        if cdp:
            cdp(session, "stop")
        if bs.exceptions_on_page(page):
            raise RuntimeError(f"{url}: {bs.exceptions_on_page(page)[0][:300]}")
        return t
    finally:
        page.context.close()


def drawn_ms(browser, blocked: list[str], url: str) -> float:
    t = page_timeline(browser, blocked, url)
    if "drawn" not in t:
        raise RuntimeError(f"{url} was not drawn within 10 minutes")
    return t["drawn"]


def memory_mb(pid: int) -> dict[str, float]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(rest.split()[0]) / 1024
    return out


class Baseline:
    def __init__(self, tmp: Path):
        from tests import browser_support as bs

        self.port = bs.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(tmp / "baseline.log", "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "benchmarks" / "baseline_app.py"),
             "--server.port", str(self.port), "--server.address", "127.0.0.1",
             "--server.headless", "true", "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none"],
            cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT)
        import urllib.request

        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/_stcore/health", timeout=1) as r:
                    if r.read() == b"ok":
                        return
            except OSError:
                time.sleep(0.3)  # polling a server that is starting
        raise RuntimeError("the baseline app did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        self.log.close()


def run(sizes: list[int], quarters: int, runs: int, pages: list[str], before: Path | None = None) -> dict:
    from tests import browser_support as bs

    out: dict = {"baseline_ms": [], "sizes": {}}
    with tempfile.TemporaryDirectory() as tmp, bs.offline_browser() as (browser, blocked):
        base = Baseline(Path(tmp))
        try:
            for _ in range(2):  # warm
                drawn_ms(browser, blocked, base.url + "/")
            for n in sizes:
                url = scale_data.sqlite_store(n, quarters)
                pilot = scale_data.first_pilot(url)
                # this checkout's app ("pages_ms") and, to compare, the earlier one's
                apps = {"pages_ms": bs.AppServer(url, bs.free_port(), Path(tmp) / f"app{n}.log")}
                if before is not None:
                    apps["before_ms"] = bs.AppServer(url, bs.free_port(), Path(tmp) / f"before{n}.log",
                                                     root=before)
                try:
                    for app in apps.values():
                        app.start()
                    for name in pages:  # warm: every page's data and charts cached
                        for app in apps.values():
                            drawn_ms(browser, blocked, page_url(app.url, name, pilot))
                    times = {key: {name: [] for name in pages} for key in apps}
                    bare: list[float] = []
                    for _ in range(runs):
                        for name in pages:
                            bare.append(drawn_ms(browser, blocked, base.url + "/"))
                            for key, app in apps.items():
                                url_ = page_url(app.url, name, pilot)
                                times[key][name].append(drawn_ms(browser, blocked, url_))
                    out["baseline_ms"] += bare
                    out["sizes"][str(n)] = {
                        **{key: {k: statistics.median(v) for k, v in t.items()} for key, t in times.items()},
                        # the bare page measured between this size's pages (the machine's
                        # load changes over a long run)
                        "baseline_median_ms": statistics.median(bare),
                        "memory_mb": memory_mb(apps["pages_ms"].proc.pid),
                    }
                finally:
                    for app in apps.values():
                        app.stop()
                print(f"  browser at {n} pilots done", file=sys.stderr, flush=True)
        finally:
            base.stop()
    out["baseline_median_ms"] = statistics.median(out["baseline_ms"])
    out["runs"] = runs
    return out


def print_table(res: dict, quarters: int) -> None:
    print(f"Page drawn in Chromium (median of {res['runs']}; seconds), {quarters} quarters, "
          "against the bare one-chart page measured between that size's pages")
    compare = any(r.get("before_ms") for r in res["sizes"].values())
    extra = " before: drawn s | before: x bare page |" if compare else ""
    print("| pilots | page | drawn s | x bare page | app memory MB (now / peak) |" + extra)
    print("|---|---|---|---|---|" + ("---|---|" if compare else ""))
    for n, r in res["sizes"].items():
        base = r.get("baseline_median_ms", res["baseline_median_ms"])
        mem = r["memory_mb"]
        for name, ms in r["pages_ms"].items():
            old = r.get("before_ms", {}).get(name)
            tail = "" if not compare else (f" {old / 1000:.2f} | {old / base:.2f} |" if old else " | |")
            print(f"| {n} | {name} | {ms / 1000:.2f} | {ms / base:.2f} | "
                  f"{mem.get('VmRSS', 0):.0f} / {mem.get('VmHWM', 0):.0f} |" + tail)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pilots", default="13,100,1000")
    ap.add_argument("--quarters", type=int, default=40)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--pages", default=",".join(scale_data.PAGES))
    ap.add_argument("--json")
    ap.add_argument("--before", type=Path, help="a checkout of an earlier commit to measure beside this one")
    args = ap.parse_args()
    if args.before is not None and not (args.before / "app.py").exists():
        ap.error(f"--before {args.before}: no app.py there (make one with `git worktree add DIR COMMIT`)")
    from tests import browser_support as bs

    if not Path(bs.CHROMIUM).exists():
        print("skipped: /usr/bin/chromium is not installed")
        return 0
    res = run([int(x) for x in args.pilots.split(",")], args.quarters, args.runs, args.pages.split(","),
              before=args.before.resolve() if args.before else None)
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1))
    print_table(res, args.quarters)
    return 0


if __name__ == "__main__":
    sys.exit(main())
