"""Importing the generated workbook of N pilots x Q quarters (every sheet; about 25
values per pilot and quarter), against bare reads of the same file, and SQLite against
PostgreSQL. Each method runs in its own process (its peak memory is that process's
maximum resident memory; for the importer, the larger of it and both processes together
while the isolated reader ran):

- ``calamine``: ``python_calamine`` reads every sheet into Python lists (the baseline)
- ``pandas+openpyxl``: ``pandas.read_excel(sheet_name=None, engine="openpyxl")``
- ``check``: ``importer.check_file`` against an empty store (read and check)
- ``import sqlite`` / ``import postgresql``: what the Upload page and ``python -m linkdash
  import`` do: read, check, preview, commit (``submit.import_file``) into an empty store
- ``load sqlite`` / ``load postgresql``: ``Store.load`` of a store holding that data
  (what an app server reads once per data version)

    .venv/bin/python benchmarks/bench_scale_import.py [--pilots 1000] [--quarters 40] [--repeat 3]

Goals (issue 13): import at most 1.5x a bare calamine read, within 500 MB.
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

import scale_data  # noqa: E402  (imports nothing heavy: the calamine process stays bare)

METHODS = ["calamine", "pandas+openpyxl", "check", "import sqlite", "import postgresql",
           "load sqlite", "load postgresql"]


def _calamine(path: str) -> None:
    from python_calamine import CalamineWorkbook

    with CalamineWorkbook.from_path(path) as wb:
        rows = [wb.get_sheet_by_name(n).to_python() for n in wb.sheet_names]
    assert sum(len(r) for r in rows) > 10


def _pandas(path: str) -> None:
    import pandas as pd

    frames = pd.read_excel(path, sheet_name=None, engine="openpyxl")
    assert len(frames) > 1


def child(method: str, path: str, repeat: int, pilots: int, quarters: int) -> dict:
    """Run ``method`` once untimed (imports and first-use costs: the app has paid them
    before anyone uploads), then ``repeat`` times timed (set-up not timed)."""
    data = Path(path).read_bytes()
    name = Path(path).name
    cleanup: list[str] = []
    extra: dict = {}

    if method == "calamine":
        def once():
            _calamine(path)
    elif method == "pandas+openpyxl":
        def once():
            _pandas(path)
    elif method == "check":
        from linkdash import importer, sandbox
        from linkdash.portfolio import Portfolio

        sandbox.warm()  # the app starts the reader's fork server ahead of the first upload

        def once():
            c = importer.check_file(data, name, Portfolio())
            assert c.report.ok, c.report.errors[:3]
    elif method.startswith("import"):
        from linkdash import sandbox, submit
        from linkdash.access import shell_admin
        from linkdash.store import Store

        sandbox.warm()
        stores: list = []

        def setup():
            if method.endswith("sqlite"):
                url = f"sqlite:///{tempfile.mkdtemp(prefix='bench-import-')}/s.sqlite"
            else:
                url, schema = scale_data.new_postgres_schema()
                cleanup.append(schema)
            stores.append(Store.open(url))

        def once():
            out = submit.import_file(stores[-1], data, name, actor=shell_admin())
            assert out.ok and out.submission_id, out.errors[:3]
            extra["values"] = out.changes.new
    else:  # load
        from linkdash.store import Store

        if method.endswith("sqlite"):
            url = scale_data.sqlite_store(pilots, quarters)
        else:  # filled by another process, so this one's peak is the load's
            url, schema = scale_data.new_postgres_schema()
            cleanup.append(schema)
            subprocess.run([sys.executable, "-m", "linkdash", "--db", url, "generate", "--pilots",
                            str(pilots), "--quarters", str(quarters), "--load", "--as-admin"],
                           cwd=ROOT, check=True, capture_output=True)
        store = Store.open(url)

        def once():
            assert len(store.load().pilots) == pilots

    times: list[float] = []
    first_together = 0.0
    for i in range(repeat + 1):
        if method.startswith("import"):
            setup()
        t = time.perf_counter()
        once()
        if i:  # the first run is the warm-up
            times.append(time.perf_counter() - t)
        elif method == "check" or method.startswith("import"):
            # both processes together during the first read (later reads would add this
            # process's peak of the earlier runs, which had ended before they began)
            from linkdash import importer

            first_together = importer.last_read_together_peak_mb
    for schema in cleanup:
        scale_data.drop_postgres(schema)
    peak = own = scale_data.hwm_mb()
    reader = 0.0
    if method == "check" or method.startswith("import"):
        from linkdash import importer

        # the file is read in an isolated child (linkdash.sandbox): the two processes
        # exist together only while it reads (this process's peak until the read's end +
        # the child's peak, taken at the first run), and
        # this process alone after it (the rules, the preview and the commit): the import's
        # peak is the larger of the two, as bench_import.py measures it
        reader = importer.last_reader_peak_mb or 0.0
        peak = max(own, first_together or own + reader)
    return {"median_s": statistics.median(times), "times": times, "peak_mb": peak,
            "reader_peak_mb": reader, "own_peak_mb": own, **extra}


def run(pilots: int, quarters: int, repeat: int, methods: list[str] | None = None) -> dict:
    path = scale_data.workbook(pilots, quarters)
    scale_data.sqlite_store(pilots, quarters)
    pg = scale_data.postgres_available()
    out: dict = {"file_mb": path.stat().st_size / 2**20, "pilots": pilots, "quarters": quarters,
                 "methods": {}}
    for method in methods or METHODS:
        if method.endswith("postgresql") and pg:
            out["methods"][method] = {"skipped": f"PostgreSQL not available: {pg}"}
            continue
        reps = 1 if method == "pandas+openpyxl" else repeat
        cmd = [sys.executable, __file__, "--child", method, "--path", str(path), "--repeat", str(reps),
               "--pilots", str(pilots), "--quarters", str(quarters)]
        res = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        if res.returncode:
            why = res.stderr.strip().splitlines()[-1] if res.stderr.strip() else "failed"
            out["methods"][method] = {"error": why}
            continue
        out["methods"][method] = json.loads(res.stdout.strip().splitlines()[-1])
        print(f"  import bench: {method} done", file=sys.stderr, flush=True)
    return out


def print_table(res: dict) -> None:
    base = res["methods"].get("calamine", {}).get("median_s")
    print(f"Import of the generated workbook, {res['pilots']} pilots x {res['quarters']} quarters "
          f"({res['file_mb']:.1f} MB), median; peak = the larger of this process's max RSS and, "
          "while the isolated reader ran, both processes together")
    print("| method | median s | x calamine | peak MB |")
    print("|---|---|---|---|")
    for m, r in res["methods"].items():
        if "median_s" not in r:
            print(f"| {m} | {r.get('skipped') or r.get('error')} | | |")
            continue
        ratio = f"{r['median_s'] / base:.2f}" if base else ""
        print(f"| {m} | {r['median_s']:.2f} | {ratio} | {r['peak_mb']:.0f} |")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pilots", type=int, default=1000)
    ap.add_argument("--quarters", type=int, default=40)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--child")
    ap.add_argument("--path")
    ap.add_argument("--json")
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.path, args.repeat, args.pilots, args.quarters)))
        return 0
    res = run(args.pilots, args.quarters, args.repeat, args.methods.split(","))
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1))
    print_table(res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
