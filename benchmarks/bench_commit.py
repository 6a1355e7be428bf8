"""The import's stages (check, preview, commit) one by one, their time and peak memory,
against a bare calamine read of the same workbook measured in the same run (issue 13):

- ``calamine``: ``python_calamine`` reads every sheet of the P x Q workbook (the baseline)
- ``empty sqlite`` / ``empty postgresql``: the P x Q workbook (every sheet, about 27
  values per pilot and quarter: a million at 1,000 x 40) into an empty store
- ``quarter sqlite`` / ``quarter postgresql``: one new quarter of all P pilots (its
  Pilots and Indicators sheets) into a store holding the P x Q data, checked and previewed
  against ``Store.load()`` as the Upload page does
- ``small sqlite`` / ``small postgresql``: one new quarter of 13 pilots into a store of
  13 x Q (the usual upload)
- ``rollback sqlite`` / ``rollback postgresql``: a store holding the P x Q data (one
  submission) and the same tables sent again with every indicator value 1% higher (a
  second submission that changed about 910,000 values at 1,000 x 40); timed: rolling back
  the second (``restore``: every changed value comes back), then the first (``remove``:
  every value goes). The store is made once per run (SQLite: a file in benchmarks/out/,
  copied for each repetition; PostgreSQL: a template database, copied with CREATE
  DATABASE ... TEMPLATE for each repetition and dropped at the end of the run)

Each case runs in its own process: once untimed (imports, first use), then ``--repeat``
times; a stage's peak is the process's peak resident memory (VmHWM, reset before each
stage through /proc/self/clear_refs), the check's with the isolated reader's next to it.
Set-up (stores, workbooks) is not timed and not in the peaks.

    .venv/bin/python benchmarks/bench_commit.py [--pilots 1000] [--quarters 40] [--repeat 3]
    .venv/bin/python benchmarks/bench_commit.py --before /tmp/linkdash-before   # two codes, one run

``--before DIR``: also run every case with the ``linkdash`` package of DIR (for instance
``git archive <commit> | tar -x -C DIR``), so before and after share the machine's load.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import scale_data  # noqa: E402

CASES = ["calamine", "empty sqlite", "empty postgresql", "quarter sqlite", "quarter postgresql",
         "small sqlite", "small postgresql", "rollback sqlite", "rollback postgresql"]
STAGES = ["check", "preview", "commit"]
SMALL_PILOTS = 13


def _reset_hwm() -> None:
    Path("/proc/self/clear_refs").write_text("5")


def _next_quarter_tables(pilots: int, quarters: int):
    """The Pilots sheet of the P x Q data and the Indicators of the quarter after it."""
    from linkdash import generate
    from linkdash import quarters as qs

    old = generate.generate_tables(pilots, quarters)
    nxt = qs.shift(generate.LAST_QUARTER, 1)
    new = generate.generate_tables(pilots, quarters + 1, last_quarter=nxt)
    ind = new["Indicators"]
    ind = ind[(ind["quarter"] == nxt) & ind["pilot_id"].isin(set(old["Pilots"]["pilot_id"]))]
    return {"Pilots": old["Pilots"], "Indicators": ind.reset_index(drop=True)}


def quarter_workbook(pilots: int, quarters: int) -> Path:
    from linkdash import generate

    path = scale_data.OUT / f"next_quarter_{pilots}x{quarters}.xlsx"
    if not path.exists():
        scale_data.OUT.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        generate.write_workbook(_next_quarter_tables(pilots, quarters), tmp)
        tmp.rename(path)
    return path


# --- rollback of a large submission -------------------------------------------------------

# PostgreSQL template database, one per schema version (as ``scale_data.sqlite_store``)
ROLLBACK_TEMPLATE = "linkdash_bench_rollback_{pilots}x{quarters}_schema{head}"


def _changed_tables(pilots: int, quarters: int):
    """The P x Q tables with every indicator value 1% higher."""
    from linkdash import generate

    tables = generate.generate_tables(pilots, quarters)
    ind = tables["Indicators"].copy()
    ind["value"] = ind["value"] * 1.01
    return {**tables, "Indicators": ind}


def _fill_rollback_store(url: str, pilots: int, quarters: int) -> None:
    from linkdash import generate
    from linkdash.store import Store

    store = Store.open(url)
    if store.is_empty():  # (SQLite: a copy of scale_data's loaded store)
        generate.load_store(store, generate.generate_tables(pilots, quarters))
    result = store.commit(_changed_tables(pilots, quarters), file_bytes=None,
                          filename="every value 1% higher", user="bench")
    assert result.ok and result.changes.changed, result.errors[:3]
    store.close()


def _database_url(name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(scale_data.PG_URL).set(database=name).render_as_string(hide_password=False)


def rollback_store(backend: str, pilots: int, quarters: int) -> str:
    """The store the rollback case copies (made on first use): a SQLite path, or the
    name of a PostgreSQL template database."""
    if backend == "sqlite":
        path = scale_data.OUT / f"rollback_{pilots}x{quarters}_schema{scale_data.schema_head()}.sqlite"
        if not path.exists():
            tmp = path.with_suffix(".building")
            for p in tmp.parent.glob(tmp.name + "*"):
                p.unlink()
            shutil.copy(scale_data.sqlite_store(pilots, quarters).removeprefix("sqlite:///"), tmp)
            _fill_rollback_store(f"sqlite:///{tmp}", pilots, quarters)
            for p in tmp.parent.glob(tmp.name + "-*"):  # SQLite's side files (WAL checkpointed)
                p.unlink()
            tmp.rename(path)
        return str(path)
    import psycopg

    name = ROLLBACK_TEMPLATE.format(pilots=pilots, quarters=quarters, head=scale_data.schema_head())
    with psycopg.connect(scale_data.PG_URL, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return name
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        _fill_rollback_store(_database_url(name), pilots, quarters)
    except BaseException:
        drop_database(name)
        raise
    return name


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(scale_data.PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def rollback_child(backend: str, repeat: int, pilots: int, quarters: int) -> dict:
    """Roll back the second submission (restore), then the first (remove), on a fresh
    copy of the rollback store each time (copying is not timed)."""
    import uuid

    import psycopg

    from linkdash.store import Store

    source = rollback_store(backend, pilots, quarters)
    runs: list[dict] = []
    for _ in range(repeat):
        if backend == "sqlite":
            folder = tempfile.mkdtemp(prefix="bench-rollback-")
            shutil.copy(source, f"{folder}/s.sqlite")
            url, copy = f"sqlite:///{folder}/s.sqlite", folder
        else:
            copy = f"bench_rb_{uuid.uuid4().hex[:10]}"
            with psycopg.connect(scale_data.PG_URL, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{source}"')
            url = _database_url(copy)
        store = Store.open(url)
        base, changed = sorted(store.submissions().id.tolist())[:2]
        run: dict = {"rss_mb": _rss_mb()}
        for name, sid in (("restore", changed), ("remove", base)):
            _reset_hwm()
            t = time.perf_counter()
            result = store.rollback(sid, user="bench")
            run[f"{name}_s"] = time.perf_counter() - t
            run[f"{name}_mb"] = scale_data.hwm_mb()
            assert result.ok, result.message
            run[f"{name}_counts"] = [result.restored, result.removed, len(result.kept)]
            del result
        store.close()
        if backend == "sqlite":
            shutil.rmtree(copy, ignore_errors=True)
        else:
            drop_database(copy)
        runs.append(run)
    out: dict = {"runs": runs}
    for k in runs[0]:
        vals = [r[k] for r in runs]
        out[k] = statistics.median(vals) if isinstance(vals[0], float) else vals[0]
    out["peak_mb"] = max(out["restore_mb"], out["remove_mb"])
    return out


def child(case: str, repeat: int, pilots: int, quarters: int, code: str) -> dict:
    sys.path.insert(0, code)  # the linkdash package measured
    import linkdash

    assert Path(linkdash.__file__).resolve().is_relative_to(Path(code).resolve()), linkdash.__file__
    if case.startswith("rollback "):
        return rollback_child(case.split()[1], repeat, pilots, quarters)
    if case == "calamine":
        from python_calamine import CalamineWorkbook

        path = str(scale_data.workbook(pilots, quarters))
        times = []
        for i in range(repeat + 1):
            _reset_hwm()
            t = time.perf_counter()
            with CalamineWorkbook.from_path(path) as wb:
                rows = [wb.get_sheet_by_name(n).to_python() for n in wb.sheet_names]
            del rows
            if i:
                times.append(time.perf_counter() - t)
        return {"total_s": statistics.median(times), "times": times, "peak_mb": scale_data.hwm_mb()}

    from linkdash import importer, sandbox
    from linkdash.portfolio import Portfolio
    from linkdash.store import Store

    sandbox.warm()
    kind, backend = case.split()
    size = SMALL_PILOTS if kind == "small" else pilots
    path = scale_data.workbook(pilots, quarters) if kind == "empty" else quarter_workbook(size, quarters)
    data, name = path.read_bytes(), path.name
    cleanup: list[str] = []

    def new_store() -> Store:
        if backend == "sqlite":
            folder = tempfile.mkdtemp(prefix="bench-commit-")
            cleanup.append(folder)
            if kind == "empty":
                return Store.open(f"sqlite:///{folder}/s.sqlite")
            src = scale_data.sqlite_store(size, quarters).removeprefix("sqlite:///")
            shutil.copy(src, f"{folder}/s.sqlite")
            return Store.open(f"sqlite:///{folder}/s.sqlite")
        url, schema = scale_data.new_postgres_schema()
        cleanup.append(schema)
        store = Store.open(url)
        if kind != "empty":
            from linkdash import generate

            generate.load_store(store, generate.generate_tables(size, quarters))
        return store

    runs: list[dict] = []
    for i in range(repeat + 1):
        store = new_store()
        current = store.load() if kind != "empty" else Portfolio()
        run: dict = {}
        _reset_hwm()
        t = time.perf_counter()
        checked = importer.check_file(data, name, current)
        run["check_s"] = time.perf_counter() - t
        run["check_mb"] = scale_data.hwm_mb()
        run["reader_mb"] = importer.last_reader_peak_mb or 0.0
        run["check_errors"] = len(checked.report.errors)
        _reset_hwm()
        t = time.perf_counter()
        changes = store.preview(checked.tables, current,
                                indicator_keys=getattr(checked.tables, "indicator_keys", None))
        run["preview_s"] = time.perf_counter() - t
        run["preview_mb"] = scale_data.hwm_mb()
        _reset_hwm()
        t = time.perf_counter()
        result = store.commit(checked.tables, file_bytes=data, filename=name, user="bench")
        run["commit_s"] = time.perf_counter() - t
        run["commit_mb"] = scale_data.hwm_mb()
        assert result.ok and result.submission_id, result.errors[:3]
        assert result.changes.counts() == changes.counts(), (result.changes, changes)
        run["new"], run["changed"], run["unchanged"] = (changes.new, changes.changed, changes.unchanged)
        store.close()
        del checked, changes, result, current
        if i:
            runs.append(run)
    for item in cleanup:
        if item.startswith("/"):
            shutil.rmtree(item, ignore_errors=True)
        else:
            scale_data.drop_postgres(item)
    out: dict = {"runs": runs}
    for k in runs[0]:
        vals = [r[k] for r in runs]
        out[k] = statistics.median(vals) if isinstance(vals[0], float) else vals[0]
    out["total_s"] = statistics.median([r["check_s"] + r["preview_s"] + r["commit_s"] for r in runs])
    out["peak_mb"] = max(out["check_mb"], out["preview_mb"], out["commit_mb"])
    return out


def run(pilots: int, quarters: int, repeat: int, cases: list[str], codes: dict[str, str]) -> dict:
    scale_data.workbook(pilots, quarters)
    pg = scale_data.postgres_available()
    if any(c.startswith("quarter") for c in cases):
        quarter_workbook(pilots, quarters)
        scale_data.sqlite_store(pilots, quarters)
    if any(c.startswith("small") for c in cases):
        quarter_workbook(SMALL_PILOTS, quarters)
        scale_data.sqlite_store(SMALL_PILOTS, quarters)
    templates = []  # made by this run (the rollback stores), dropped at its end
    for case in cases:
        if case.startswith("rollback "):
            backend = case.split()[1]
            if backend == "postgresql" and pg:
                continue
            made = rollback_store(backend, pilots, quarters)
            if backend == "postgresql":
                templates.append(made)
    out: dict = {"pilots": pilots, "quarters": quarters, "repeat": repeat, "uptime_start": _uptime(),
                 "results": {}}
    for case in cases:
        for label, code in codes.items():
            if case.endswith("postgresql") and pg:
                out["results"][f"{case} [{label}]"] = {"skipped": f"PostgreSQL not available: {pg}"}
                continue
            if case == "calamine" and label != "after":
                continue  # one baseline
            reps = repeat * 2 + 1 if case.startswith("small") else repeat
            cmd = [sys.executable, __file__, "--child", case, "--code", code, "--repeat", str(reps),
                   "--pilots", str(pilots), "--quarters", str(quarters)]
            t = time.perf_counter()
            res = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
            key = case if case == "calamine" else f"{case} [{label}]"
            if res.returncode:
                tail = res.stderr.strip().splitlines()[-3:] if res.stderr.strip() else ["failed"]
                out["results"][key] = {"error": " | ".join(tail)}
            else:
                out["results"][key] = json.loads(res.stdout.strip().splitlines()[-1])
            print(f"  {key}: {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
    for name in templates:
        drop_database(name)
    out["uptime_end"] = _uptime()
    return out


def _uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return f"load {os.getloadavg()}"


def print_table(res: dict) -> None:
    rollbacks = {k: r for k, r in res["results"].items() if k.startswith("rollback ")}
    if len(rollbacks) == len(res["results"]):
        print(f"load: {res['uptime_start']}  ->  {res['uptime_end']}")
        print_rollbacks(res, rollbacks)
        return
    base = res["results"].get("calamine", {}).get("total_s")
    print(f"Import stages, {res['pilots']:,} pilots x {res['quarters']} quarters, median of "
          f"{res['repeat']} ({2 * res['repeat'] + 1} for small); peak = max RSS of the process "
          "during the stage (check: + the isolated reader's)")
    print(f"load: {res['uptime_start']}  ->  {res['uptime_end']}")
    print("| case | values new/changed/unchanged | check s (MB) | preview s (MB) | commit s (MB) "
          "| total s (× calamine) | peak MB |")
    print("|---|---|---|---|---|---|---|")
    for key, r in res["results"].items():
        if key in rollbacks:
            continue
        if "total_s" not in r:
            print(f"| {key} | {r.get('skipped') or r.get('error')} | | | | | |")
            continue
        if key == "calamine":
            print(f"| bare calamine read (baseline) | | | | | {r['total_s']:.2f} (×1.0) "
                  f"| {r['peak_mb']:.0f} |")
            continue
        x = f" (×{r['total_s'] / base:.1f})" if base else ""
        print(f"| {key} | {r['new']:,}/{r['changed']:,}/{r['unchanged']:,} "
              f"| {r['check_s']:.2f} ({r['check_mb']:.0f} + {r['reader_mb']:.0f}) "
              f"| {r['preview_s']:.2f} ({r['preview_mb']:.0f}) | {r['commit_s']:.2f} ({r['commit_mb']:.0f}) "
              f"| {r['total_s']:.2f}{x} | {r['peak_mb']:.0f} |")
    if rollbacks:
        print_rollbacks(res, rollbacks)


def print_rollbacks(res: dict, rollbacks: dict) -> None:
    print()
    print(f"Rollback, {res['pilots']:,} pilots x {res['quarters']} quarters, median of {res['repeat']}: "
          "restore = roll back the submission that changed every value by 1%, then remove = roll back "
          "the first (every value goes); peak = max RSS of the process during that rollback "
          "(the process before it: rss)")
    print("| case | restore: restored/removed/kept | restore s (peak MB) "
          "| remove: restored/removed/kept | remove s (peak MB) | rss MB | × before |")
    print("|---|---|---|---|---|---|---|")
    for key, r in rollbacks.items():
        if "restore_s" not in r:
            print(f"| {key} | {r.get('skipped') or r.get('error')} | | | | | |")
            continue
        before = rollbacks.get(key.replace("[after]", "[before]"), {})
        ratio = ""
        if key.endswith("[after]") and "restore_s" in before:
            ratio = (f"{r['restore_s'] / before['restore_s']:.2f} / "
                     f"{r['remove_s'] / before['remove_s']:.2f}")
        rc, mc = r["restore_counts"], r["remove_counts"]
        print(f"| {key} | {rc[0]:,}/{rc[1]:,}/{rc[2]:,} | {r['restore_s']:.2f} ({r['restore_mb']:.0f}) "
              f"| {mc[0]:,}/{mc[1]:,}/{mc[2]:,} | {r['remove_s']:.2f} ({r['remove_mb']:.0f}) "
              f"| {r['rss_mb']:.0f} | {ratio} |")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pilots", type=int, default=1000)
    ap.add_argument("--quarters", type=int, default=40)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--before", help="a checkout whose linkdash package is measured too")
    ap.add_argument("--child")
    ap.add_argument("--code", default=str(ROOT))
    ap.add_argument("--json")
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.repeat, args.pilots, args.quarters, args.code)))
        return 0
    codes = {"after": str(ROOT)}
    if args.before:
        codes = {"before": args.before, **codes}
    res = run(args.pilots, args.quarters, args.repeat, args.cases.split(","), codes)
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1))
    print_table(res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
