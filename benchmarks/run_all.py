"""`make bench`: one table of what a director waits for and what the server holds, at 13,
100 and 1,000 generated pilots x 40 quarters (``linkdash.generate``), each figure a
median of several runs with its baseline measured in the same run:

- every page drawn in Chromium, against a bare Streamlit page with one plotly chart
  (``bench_browser.py``), and the app server's memory with that store loaded;
- every page's script time (AppTest: first run after new data, filter change new and
  cached) and the plotly figure data it sends (``bench_pages.py``);
- importing the generated workbook (read, check, preview, commit) against bare
  ``python_calamine`` and ``pandas.read_excel(engine="openpyxl")`` reads, time and peak
  memory, SQLite against PostgreSQL, and ``Store.load`` on each (``bench_scale_import.py``);
- the import's stages one by one (check, preview, commit: time and peak memory each) at
  the largest size, into an empty store, a new quarter into the full store and a
  13-pilot quarter, against a bare calamine read (``bench_commit.py``, its own table).

    make bench                                   # full: about an hour on 2 busy cores
    .venv/bin/python benchmarks/run_all.py --quick   # 13 and 100 pilots, 1 run: minutes
    .venv/bin/python benchmarks/run_all.py --also-older  # then bench_import, bench_deck, bench_sessions

docs/performance.md explains the table. Every part can be run alone (see its --help).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
PAGES = ["overview", "progress", "outcomes", "pilot", "lessons", "presentation", "upload", "submissions"]
# goals of issue 13 (checked in the table, never in tests)
DRAW_GOAL = {13: 1.25, 1000: 2.0}
FILTER_GOAL_S, JSON_GOAL_KB, MEMORY_GOAL_MB, IMPORT_GOAL_X, IMPORT_GOAL_MB = 0.5, 1000, 400, 1.5, 500


def _run(script: str, args: list[str], out: Path) -> dict | None:
    t = time.perf_counter()
    print(f"running {script} {' '.join(args)} ...", file=sys.stderr, flush=True)
    res = subprocess.run([sys.executable, str(HERE / script), *args, "--json", str(out)],
                         cwd=ROOT, stdout=subprocess.PIPE, text=True)
    print(f"  {script}: {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
    if res.returncode or not out.exists():
        print(f"  {script} failed (exit {res.returncode})", file=sys.stderr)
        return None
    return json.loads(out.read_text())


def machine() -> str:
    mem = ""
    try:
        kb = int(next(x for x in open("/proc/meminfo") if x.startswith("MemTotal")).split()[1])
        mem = f", {kb / 2**20:.0f} GiB memory"
    except (OSError, StopIteration, ValueError):
        pass
    cpu = ""
    try:
        cpu = next(x for x in open("/proc/cpuinfo") if x.startswith("model name")).split(":", 1)[1].strip()
    except (OSError, StopIteration):
        pass
    return (f"{os.cpu_count()} cores ({cpu}){mem}, load average {os.getloadavg()[0]:.1f} at the end; "
            f"Python {platform.python_version()}, {platform.platform(terse=True)}")


def _ok(value: float | None, goal: float | None, *, at_most: bool = True) -> str:
    if value is None or goal is None:
        return ""
    return " ✓" if (value <= goal if at_most else value >= goal) else " ✗"


def table(sizes: list[int], pages: dict | None, browser: dict | None, imports: dict[int, dict]) -> list[str]:
    head = "| measure | " + " | ".join(f"{n:,} pilots" for n in sizes) + " | goal |"
    lines = [head, "|" + "---|" * (len(sizes) + 2)]

    def row(name: str, cells: list[str], goal: str = "") -> None:
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {goal} |")

    if browser:
        def bare(n: int) -> float:  # the bare page measured between this size's pages
            r = browser["sizes"].get(str(n), {})
            return r.get("baseline_median_ms", browser["baseline_median_ms"]) / 1000

        row("bare one-chart page drawn (baseline), s", [f"{bare(n):.2f}" for n in sizes])
        for p in PAGES:
            cells = []
            for n in sizes:
                r = browser["sizes"].get(str(n))
                if not r or p not in r["pages_ms"]:
                    cells.append("")
                    continue
                base = bare(n)
                s = r["pages_ms"][p] / 1000
                cells.append(f"{s:.2f} (×{s / base:.2f}){_ok(s / base, DRAW_GOAL.get(n))}")
            row(f"{p}: drawn in Chromium, s (× bare)", cells, "≤1.25× at 13, ≤2× at 1,000")
        cells = []
        for n in sizes:
            m = browser["sizes"].get(str(n), {}).get("memory_mb", {})
            rss = m.get("VmRSS")
            goal = MEMORY_GOAL_MB if n == 1000 else None
            cells.append(f"{rss:.0f} (peak {m.get('VmHWM', 0):.0f}){_ok(rss, goal)}" if rss else "")
        row("app server memory after every page, MB", cells, f"≤{MEMORY_GOAL_MB} at 1,000")
    if pages:
        for p in PAGES:
            cells, kb = [], []
            for n in sizes:
                r = pages.get(str(n), {}).get(p)
                if not r:
                    cells.append("")
                    kb.append("")
                    continue
                worst = max(r["filter_new_s"], r["filter_cached_s"])
                cells.append(f"{r['first_s']:.2f} / {r['filter_new_s']:.2f} / {r['filter_cached_s']:.2f}"
                             f"{_ok(worst, FILTER_GOAL_S if n == 1000 else None)}")
                kb.append(f"{r['json_bytes'] / 1000:,.0f} in {r['charts']}"
                          f"{_ok(r['json_bytes'] / 1000, JSON_GOAL_KB)}")
            row(f"{p}: script s, first run / filter new / filter cached", cells, "filter ≤0.5 s at 1,000")
            row(f"{p}: figure JSON KB in N charts", kb, f"≤{JSON_GOAL_KB} KB a page")
    if imports:
        names = {"calamine": "bare python_calamine read of the workbook",
                 "pandas+openpyxl": "pandas.read_excel(engine=openpyxl)",
                 "check": "check (read + every rule)",
                 "import sqlite": "import: read, check, preview, commit (SQLite)",
                 "import postgresql": "import: read, check, preview, commit (PostgreSQL)",
                 "load sqlite": "Store.load (SQLite)", "load postgresql": "Store.load (PostgreSQL)"}
        for m, label in names.items():
            cells = []
            for n in sizes:
                r = imports.get(n, {}).get("methods", {}).get(m)
                base = imports.get(n, {}).get("methods", {}).get("calamine", {}).get("median_s")
                if not r or "median_s" not in r:
                    cells.append((r or {}).get("skipped", "")[:40] if r else "")
                    continue
                x = r["median_s"] / base if base and not m.startswith("load") else None
                goal_x = IMPORT_GOAL_X if m.startswith("import") and n == 1000 else None
                goal_mb = IMPORT_GOAL_MB if m.startswith("import") and n == 1000 else None
                cells.append(f"{r['median_s']:.2f} s (×{x:.1f}){_ok(x, goal_x)}, "
                             f"{r['peak_mb']:.0f} MB{_ok(r['peak_mb'], goal_mb)}" if x is not None
                             else f"{r['median_s']:.2f} s, {r['peak_mb']:.0f} MB")
            goal = "≤1.5× calamine, ≤500 MB at 1,000" if m.startswith("import") else ""
            row(f"{label}: time{'' if m.startswith('load') else ' (× calamine)'}, peak", cells, goal)
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="13 and 100 pilots, one run each: a few minutes")
    ap.add_argument("--pilots", help="sizes, comma-separated (default 13,100,1000; quick 13,100)")
    ap.add_argument("--quarters", type=int, default=40)
    ap.add_argument("--runs", type=int, help="runs per figure (default 3; quick 1)")
    ap.add_argument("--also-older", action="store_true",
                    help="then run bench_import.py, bench_deck.py and bench_sessions.py as well")
    ap.add_argument("--table-only", action="store_true",
                    help="print the table of the last run's results (benchmarks/out/*.json)")
    args = ap.parse_args()
    sizes = [int(x) for x in (args.pilots or ("13,100" if args.quick else "13,100,1000")).split(",")]
    runs = args.runs or (1 if args.quick else 3)
    OUT.mkdir(parents=True, exist_ok=True)
    if args.table_only:
        load = lambda p: json.loads(p.read_text()) if p.exists() else None  # noqa: E731
        imports = {n: load(OUT / f"import_{n}.json") for n in sizes if (OUT / f"import_{n}.json").exists()}
        print("\n".join(table(sizes, load(OUT / "pages.json"), load(OUT / "browser.json"), imports)))
        commits = load(OUT / f"commit_{max(sizes)}.json")
        if commits:
            sys.path.insert(0, str(HERE))
            import bench_commit

            print()
            bench_commit.print_table(commits)
        return 0
    started = time.perf_counter()
    q = ["--quarters", str(args.quarters)]
    pilots = ["--pilots", ",".join(map(str, sizes))]
    browser = _run("bench_browser.py", [*pilots, *q, "--runs", str(runs)], OUT / "browser.json")
    pages = _run("bench_pages.py", [*pilots, *q, "--repeat", str(runs)], OUT / "pages.json")
    imports = {}
    for n in sizes:
        if n < 100 and len(sizes) > 1:
            continue  # the small file tells nothing about the import
        got = _run("bench_scale_import.py", ["--pilots", str(n), *q, "--repeat", str(runs)],
                   OUT / f"import_{n}.json")
        if got:
            imports[n] = got
    largest = max(sizes)
    commits = _run("bench_commit.py", ["--pilots", str(largest), *q, "--repeat", str(runs)],
                   OUT / f"commit_{largest}.json")
    print(f"\nLINK Pilot Monitor benchmarks: generated pilots x {args.quarters} quarters, median of "
          f"{runs} run(s) each; {machine()}; {time.perf_counter() - started:.0f} s in all.\n")
    print("\n".join(table(sizes, pages, browser, imports)))
    if commits:
        sys.path.insert(0, str(HERE))
        import bench_commit

        print()
        bench_commit.print_table(commits)
    failed = int(browser is None or pages is None or not imports or commits is None)
    if args.also_older:
        for script in ("bench_import.py", "bench_deck.py", "bench_sessions.py"):
            print(f"\n=== {script} ===", flush=True)
            failed |= subprocess.call([sys.executable, str(HERE / script)], cwd=ROOT)
    return failed


if __name__ == "__main__":
    sys.exit(main())
