"""How fast is ``importer.check_file`` on a large Indicators workbook?

Builds (once, cached in benchmarks/out/) a 50,000-row Indicators workbook for 2,000
pilots x 25 quarters with every indicator column (about 10% blank cells), then measures,
each in its own subprocess, several repeats, every run paired with a plain calamine read
in the same process (the machine is shared and noisy: a ratio of two runs a second apart
is steadier than a ratio of medians taken minutes apart); peak memory comes from another
process running the method once:

- ``calamine``: plain ``python_calamine`` read of the sheet into Python lists (baseline)
- ``pandas+openpyxl``: ``pandas.read_excel(engine="openpyxl")``
- ``check_file``: our whole check (read, find headers, parse and check every cell,
  build the long table), against a stored portfolio that knows the 2,000 pilots
- ``check+preview``: what the Upload page does before Commit: ``check_file`` against
  the stored portfolio, then ``Store.preview`` of the tables against it. The portfolio
  (``Store.load``) is read once per data version and cached by the page, so it is
  loaded before the timing and its time is printed apart (``python -m linkdash
  validate`` reads it once per command, so a command costs that much more). Setup (not
  timed): a temporary SQLite store holding the 2,000 pilots and the first 20% of the
  Indicators rows (one value in ten of those altered), so the preview sees new, changed
  and unchanged values.
- ``check+preview (new quarter)``: the same, against a store holding only the 2,000
  pilots (the common quarterly case: every value in the file is new).

Goals (issue 3): check+preview <= 1.5x calamine, >= 5x faster than pandas+openpyxl,
peak < 500 MB.

    .venv/bin/python benchmarks/bench_import.py [--rows N] [--repeats R]
"""

from __future__ import annotations

import argparse
import json
import os
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


STORED_SHARE = 0.2  # of the Indicators rows, stored before check+preview


def build_store(path: str, db: str, share: float) -> None:
    """A SQLite store at ``db`` with the 2,000 pilots and the first ``share`` of the
    file's Indicators rows, one stored value in ten altered (so the file changes it back).
    Run in its own process, so that the check+preview process's peak memory is that
    of loading, checking and previewing alone."""
    import numpy as np

    from linkdash.importer import check_file
    from linkdash.store import Store

    data = Path(path).read_bytes()
    checked = check_file(data, Path(path).name, current_portfolio())
    ind = checked.tables["Indicators"]
    stored_pilots = set(pilot_ids()[:int(N_PILOTS * share)])
    old = ind[ind["pilot_id"].isin(stored_pilots)].reset_index(drop=True)
    alter = (np.arange(len(old)) % 10 == 0) & old["value"].notna().to_numpy()
    old.loc[alter, "value"] = old.loc[alter, "value"] + 1.0
    pil = current_portfolio().pilots.assign(cycle="Asia & Africa")
    store = Store.open(f"sqlite:///{db}")
    store.commit({"Pilots": pil, "Indicators": old}, file_bytes=b"bench setup",
                 filename="setup.xlsx", user=None)
    store.close()


def _calamine_once(path: str) -> None:
    from python_calamine import CalamineWorkbook

    with CalamineWorkbook.from_path(path) as wb:
        rows = wb.get_sheet_by_name("Indicators").to_python()
    assert len(rows) > 1000


def run_method(method: str, path: str, repeats: int, db: str | None, peak_only: bool) -> dict:
    """Time ``method`` ``repeats`` times, each run paired with a plain calamine read in
    the same process (alternating which goes first), so that every ratio compares two
    runs a second apart on this shared, noisy machine. With ``peak_only``: one run of
    the method alone, for its peak memory."""
    extra: dict = {}
    if method == "calamine":
        def once():
            _calamine_once(path)
    elif method == "pandas+openpyxl":
        import pandas as pd

        def once():
            df = pd.read_excel(path, sheet_name="Indicators", engine="openpyxl", header=1)
            assert len(df) > 1000
    elif method.startswith("check+preview"):
        new_quarter = method == "check+preview (new quarter)"
        from linkdash.importer import check_file
        from linkdash.store import Store

        data = Path(path).read_bytes()
        store = Store.open(f"sqlite:///{db}")
        t = time.perf_counter()
        current = store.load()  # what the Upload page has cached for this data version
        # (ui.load_portfolio: one read per data version, shared by every upload)
        extra["load_s"] = time.perf_counter() - t

        def once():
            c = check_file(data, Path(path).name, current)
            assert c.report.ok, c.report.errors[:3]
            ch = store.preview(c.tables, current, indicator_keys=c.tables.indicator_keys)
            if new_quarter:
                assert ch.new > 0 and ch.changed == ch.unchanged == 0, ch.counts()
            else:
                assert ch.new > 0 and ch.changed > 0 and ch.unchanged > 0, ch.counts()
            extra["counts"] = ch.counts()
    else:
        from linkdash.importer import check_file

        data = Path(path).read_bytes()
        current = current_portfolio()

        def once():
            c = check_file(data, Path(path).name, current)
            assert c.report.ok, c.report.errors[:3]
            assert len(c.tables["Indicators"]) > 1000

    def timed(f) -> float:
        t = time.perf_counter()
        f()
        return time.perf_counter() - t

    if peak_only:
        once()
        # the file is read in an isolated child (linkdash.sandbox): while it runs, both
        # processes exist, holding at most this process's peak until then + the child's;
        # after it, this process alone (its peak, the rules and the preview)
        from linkdash import importer, sandbox

        own = sandbox.peak_rss_kb() / 1024
        return {"peak_mb": max(own, importer.last_read_together_peak_mb),
                "reader_peak_mb": importer.last_reader_peak_mb,
                "parent_peak_mb": own, **extra}
    from linkdash import sandbox

    sandbox.warm()  # the app starts the reader's fork server ahead of the first upload too
    times, base, ratios = [], [], []
    for r in range(repeats):
        if r % 2:
            tm, tc = timed(once), timed(lambda: _calamine_once(path))
        else:
            tc, tm = timed(lambda: _calamine_once(path)), timed(once)
        times.append(tm)
        base.append(tc)
        ratios.append(tm / tc)
    return {"median_s": statistics.median(times), "calamine_s": statistics.median(base),
            "ratio": statistics.median(ratios), "ratios": ratios, "times": times, **extra}


def _child(method: str, path: Path, repeats: int, db: str | None, peak_only: bool) -> dict:
    cmd = [sys.executable, __file__, "--method", method, "--path", str(path),
           "--repeats", str(repeats)] + (["--db", db] if db else []) + (["--peak"] if peak_only else [])
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if out.returncode:
        raise SystemExit(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--method")
    ap.add_argument("--path")
    ap.add_argument("--db")
    ap.add_argument("--peak", action="store_true")
    ap.add_argument("--build-store", metavar="DB")
    ap.add_argument("--stored-share", type=float, default=STORED_SHARE)
    args = ap.parse_args()
    if args.build_store:  # child process: the store for check+preview
        build_store(args.path, args.build_store, args.stored_share)
        return 0
    if args.method:  # child process
        print(json.dumps(run_method(args.method, args.path, args.repeats, args.db, args.peak)))
        return 0
    import tempfile

    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"indicators_{args.rows}.xlsx"
    if not path.exists():
        t = time.perf_counter()
        build(path, args.rows)
        print(f"built {path.name} ({path.stat().st_size / 2**20:.1f} MB) in {time.perf_counter() - t:.1f} s")
    tmp = tempfile.TemporaryDirectory()
    dbs, setup = {}, {}
    for method, share in (("check+preview", STORED_SHARE), ("check+preview (new quarter)", 0.0)):
        dbs[method] = f"{tmp.name}/{len(dbs)}.sqlite"
        t = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--build-store", dbs[method], "--path", str(path),
                        "--stored-share", str(share)], check=True, cwd=ROOT)
        setup[method] = time.perf_counter() - t
    results = {}
    for method, reps in (("calamine", args.repeats), ("check_file", args.repeats),
                         ("check+preview", args.repeats),
                         ("check+preview (new quarter)", args.repeats),
                         ("pandas+openpyxl", max(1, min(3, args.repeats)))):
        db = dbs.get(method)
        load = os.getloadavg()[0]
        results[method] = _child(method, path, reps, db, peak_only=False)
        results[method]["load"] = (load, os.getloadavg()[0])
        results[method]["peak_mb"] = _child(method, path, 1, db, peak_only=True)["peak_mb"]
    tmp.cleanup()
    print(f"\n{args.rows:,} Indicators rows x {27} columns, {path.stat().st_size / 2**20:.1f} MB. "
          f"Each method's runs alternate with a plain calamine read in the same process; "
          f"'x calamine' is the median of those paired ratios. Peak = max RSS of a process "
          f"running the method once, and while our isolated reader runs, that process's peak "
          f"until then + the reader's (the check+preview stores are built by other processes).")
    print("(load: the machine's 1-minute load average when the method's runs began and ended; "
          f"{len(os.sched_getaffinity(0))} cores)")
    print(f"{'method':<30}{'median s':>10}{'calamine s':>12}{'x calamine':>12}{'peak MB':>10}"
          f"{'repeats':>9}{'load':>12}")
    for method, r in results.items():
        print(f"{method:<30}{r['median_s']:>10.3f}{r['calamine_s']:>12.3f}{r['ratio']:>12.2f}"
              f"{r['peak_mb']:>10.0f}{len(r['times']):>9}{r['load'][0]:>6.1f}-{r['load'][1]:<5.1f}")
    pd_ratio = results["pandas+openpyxl"]["ratio"]
    goals = []
    for method in ("check+preview", "check+preview (new quarter)"):
        cp = results[method]
        print(f"\n{method}: store built in {setup[method]:.1f} s by another process (not timed); "
              f"Store.load {cp['load_s']:.2f} s (not timed: once per data version); "
              f"changes {cp['counts']}; paired ratios {', '.join(f'{x:.2f}' for x in cp['ratios'])}")
        goals += [
            (f"{method} <= 1.5 x calamine", cp["ratio"], cp["ratio"] <= 1.5),
            (f"pandas+openpyxl / {method} >= 5", pd_ratio / cp["ratio"], pd_ratio / cp["ratio"] >= 5),
            (f"{method} peak < 500 MB", cp["peak_mb"], cp["peak_mb"] < 500),
        ]
    print()
    for what, value, ok in goals:
        print(f"{'PASS' if ok else 'FAIL'}  {what}: {value:.2f}")
    print(f"(check_file alone: {results['check_file']['ratio']:.2f} x calamine)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
