"""How fast is ``importer.check_file`` on a large Indicators workbook?

Builds (once, cached in benchmarks/out/) a 50,000-row Indicators workbook for 2,000
pilots x 25 quarters with every indicator column (about 10% blank cells), then measures,
each in its own subprocess (so peak memory is that method's alone), several repeats:

- ``calamine``: plain ``python_calamine`` read of the sheet into Python lists (baseline)
- ``pandas+openpyxl``: ``pandas.read_excel(engine="openpyxl")``
- ``check_file``: our whole check (read, find headers, parse and check every cell,
  build the long table), against a stored portfolio that knows the 2,000 pilots

Goals: check_file <= 1.5x calamine, >= 5x faster than pandas+openpyxl, peak < 500 MB.

    .venv/bin/python benchmarks/bench_import.py [--rows N] [--repeats R]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
sys.path.insert(0, str(ROOT))

N_PILOTS = 2000


def pilot_ids() -> list[str]:
    return [f"KEN-P{i:04d}" for i in range(N_PILOTS)]


def build(path: Path, rows: int) -> None:
    from openpyxl import Workbook

    from linkdash import catalogue, quarters

    rng = random.Random(7)
    codes = list(catalogue.indicators())
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Indicators")
    ws.append(["LINK quarterly indicators (benchmark)"])
    ws.append(["pilot_id", "quarter", *codes])
    per_pilot = -(-rows // N_PILOTS)
    qs = quarters.span("2011-Q1", quarters.shift("2011-Q1", per_pilot - 1))
    n = 0
    for pid in pilot_ids():
        for q in qs:
            if n >= rows:
                break
            vals = {}
            for code in codes:
                ind = catalogue.indicators()[code]
                if rng.random() < 0.1 and ind.kind != "unit":
                    vals[code] = None
                elif ind.kind == "score":
                    vals[code] = rng.randint(1, 5)
                elif ind.kind == "unit":
                    vals[code] = "litres"
                elif ind.kind == "money":
                    vals[code] = round(rng.uniform(100, 3000), 2)
                elif ind.total:
                    vals[code] = None  # filled below from its total
                else:
                    vals[code] = rng.randint(50, 2000)
            for code in codes:
                ind = catalogue.indicators()[code]
                if ind.total and rng.random() >= 0.1:
                    tot = vals.get(ind.total)
                    vals[code] = rng.randint(0, tot) if tot is not None else rng.randint(0, 40)
            ws.append([pid, q, *[vals[c] for c in codes]])
            n += 1
    wb.save(path)


def current_portfolio():
    import pandas as pd

    from linkdash.portfolio import Portfolio

    pil = pd.DataFrame({"pilot_id": pilot_ids(), "country": "KEN", "value_chain": "dairy_cow",
                        "region": "Africa", "currency": "KES"})
    return Portfolio(pilots=pil)


def run_method(method: str, path: str, repeats: int) -> dict:
    import resource

    times = []
    if method == "calamine":
        from python_calamine import CalamineWorkbook

        def once():
            with CalamineWorkbook.from_path(path) as wb:
                rows = wb.get_sheet_by_name("Indicators").to_python()
            assert len(rows) > 1000
    elif method == "pandas+openpyxl":
        import pandas as pd

        def once():
            df = pd.read_excel(path, sheet_name="Indicators", engine="openpyxl", header=1)
            assert len(df) > 1000
    else:
        from linkdash.importer import check_file

        data = Path(path).read_bytes()
        current = current_portfolio()

        def once():
            c = check_file(data, Path(path).name, current)
            assert c.report.ok, c.report.errors[:3]
            assert len(c.tables["Indicators"]) > 1000
    for _ in range(repeats):
        t = time.perf_counter()
        once()
        times.append(time.perf_counter() - t)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"median_s": statistics.median(times), "times": times, "peak_mb": peak_mb}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--method")
    ap.add_argument("--path")
    args = ap.parse_args()
    if args.method:  # child process
        print(json.dumps(run_method(args.method, args.path, args.repeats)))
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"indicators_{args.rows}.xlsx"
    if not path.exists():
        t = time.perf_counter()
        build(path, args.rows)
        print(f"built {path.name} ({path.stat().st_size / 2**20:.1f} MB) in {time.perf_counter() - t:.1f} s")
    results = {}
    for method, reps in (("calamine", args.repeats), ("check_file", args.repeats),
                         ("pandas+openpyxl", max(1, min(3, args.repeats)))):
        out = subprocess.run([sys.executable, __file__, "--method", method, "--path", str(path),
                              "--repeats", str(reps)], capture_output=True, text=True, cwd=ROOT)
        if out.returncode:
            print(out.stderr)
            return 1
        results[method] = json.loads(out.stdout.strip().splitlines()[-1])
    base = results["calamine"]["median_s"]
    print(f"\n{args.rows:,} Indicators rows x {27} columns, {path.stat().st_size / 2**20:.1f} MB; "
          f"median of repeats; peak = max RSS of the process")
    print(f"{'method':<18}{'median s':>10}{'x calamine':>12}{'peak MB':>10}{'repeats':>9}")
    for method, r in results.items():
        print(f"{method:<18}{r['median_s']:>10.3f}{r['median_s'] / base:>12.2f}{r['peak_mb']:>10.0f}"
              f"{len(r['times']):>9}")
    cf, pd_ = results["check_file"]["median_s"], results["pandas+openpyxl"]["median_s"]
    print(f"\ncheck_file / calamine = {cf / base:.2f} (goal <= 1.5); pandas+openpyxl / check_file = "
          f"{pd_ / cf:.1f} (goal >= 5); check_file peak {results['check_file']['peak_mb']:.0f} MB "
          f"(goal < 500)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
