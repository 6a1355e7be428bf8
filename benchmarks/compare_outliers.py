"""TEMPORARY (issue 14): the outlier rule broken into steps gives the same problems as
before (``outliers_before.py``, the old copy), and how long each takes.

Every call of the rule during ``check_file`` of the inputs below runs both versions
into their own reports; their problems (code, severity, sheet, cell, value, message)
must be equal. Then each call is timed again, old and new alternating, 5 times each
(median and least; the first argument: another number of times). Inputs: the
tests/fixtures workbooks; the demo export (into an empty store, over itself, with
slips); generated 200 pilots x 40 quarters with planted slips (into a store of the
pilots only, over the unslipped data, over its first 30 quarters).

    /work/main/.venv/bin/python benchmarks/compare_outliers.py
"""

from __future__ import annotations

import datetime as dt
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import outliers_before  # noqa: E402

from linkdash import catalogue, demo, exports, generate, rules  # noqa: E402
from linkdash.importer import check_file  # noqa: E402
from linkdash.portfolio import Portfolio  # noqa: E402
from linkdash.problems import Report  # noqa: E402
from linkdash.rules import outliers  # noqa: E402
from tests.workbook_builder import reference_portfolio  # noqa: E402

TODAY = dt.date(2026, 8, 1)
REPEATS = int(sys.argv[1]) if len(sys.argv) > 1 else 5  # timed runs of each version (median)
CALLS: list[tuple[str, tuple]] = []
COMPARED = {"problems": 0, "outlier": 0, "outliers_not_listed": 0, "calls": 0}


def _rows(report: Report) -> list[tuple]:
    return [(p.code, p.severity, p.sheet, p.cell, p.value, p.message) for p in report.problems]


def _same(a: list[tuple], b: list[tuple]) -> bool:
    """Equal, NaN values equal to NaN."""
    def key(r):
        return tuple("nan" if isinstance(v, float) and v != v else v for v in r)
    return len(a) == len(b) and all(key(x) == key(y) for x, y in zip(a, b))


def _checked(name: str):
    def both(long, p, ctx, report):
        old, new = Report(), Report()
        outliers_before.outlier_rules(long, p, ctx, old)
        outliers.outlier_rules(long, p, ctx, new)
        a, b = _rows(old), _rows(new)
        if not _same(a, b):
            raise SystemExit(f"{name}: DIFFERENT ({len(a)} before, {len(b)} after)")
        COMPARED["calls"] += 1
        COMPARED["problems"] += len(b)
        for r in b:
            COMPARED[r[0]] += 1
        CALLS.append((name, (long, p, ctx)))
        report.problems.extend(new.problems)
    return both


def run(name: str, data: bytes, filename: str, current: Portfolio) -> None:
    rules.outlier_rules = _checked(name)
    c = check_file(data, filename, current, today=TODAY, isolated=False)
    n = sum(p.code in ("outlier", "outliers_not_listed") for p in c.report.problems)
    print(f"{name}: {n} outlier problems, same before and after", flush=True)


def planted(ind, rng: np.random.Generator, n: int, unit_slip: bool = False):
    """A copy of long Indicators with ``n`` values slipped (x10, x1000, /1000, /10), and with
    ``unit_slip`` every money and volume column x1000 in the last quarter (many outliers)."""
    kinds = catalogue.indicators()
    out = ind.copy()
    ok = out[out["indicator"].map(lambda c: kinds[c].kind not in ("score", "unit") and not kinds[c].total)
             & out["value"].notna() & (out["value"] > 0)]
    targets = rng.choice(ok.index.to_numpy(), n, replace=False)
    out.loc[targets, "value"] = out.loc[targets, "value"] * rng.choice([10, 1000, 0.001, 0.1], n)
    if unit_slip:
        money = out["indicator"].map(lambda c: kinds[c].kind in ("money", "nonneg"))
        hit = money & (out["quarter"] == out["quarter"].max())
        out.loc[hit, "value"] = out.loc[hit, "value"] * 1000
    return out


def main() -> None:
    rng = np.random.default_rng(14)
    fixtures = ROOT / "tests" / "fixtures"
    ref = reference_portfolio()
    dp = demo.demo_portfolio()
    for f in sorted(fixtures.glob("libreoffice_*.*")):
        if f.suffix in (".xlsx", ".ods", ".xls"):
            for cur_name, cur in (("reference", ref), ("demo", dp)):
                run(f"fixture {f.name} over {cur_name}", f.read_bytes(), f.name, cur)

    bare = Portfolio(pilots=dp.pilots)
    run("demo export into an empty store", exports.export_xlsx_bytes(dp), "demo.xlsx", Portfolio())
    run("demo export over itself", exports.export_xlsx_bytes(dp), "demo.xlsx", dp)
    slipped = dp.indicators.copy()
    slipped = planted(slipped, rng, 40)
    slip_tables = demo.demo_tables(TODAY) | {"Indicators": slipped}
    data = generate.workbook_bytes(slip_tables)
    run("demo export with 40 slips into the pilots only", data, "demo.xlsx", bare)
    run("demo export with 40 slips over the demo data", data, "demo.xlsx", dp)
    half = Portfolio(pilots=dp.pilots, indicators=dp.indicators[dp.indicators["quarter"] <= "2018-Q1"])
    run("demo export with 40 slips over its quarters to 2018-Q1", data, "demo.xlsx", half)

    tables = generate.generate_tables(200, 40)
    gp = demo.portfolio_from_tables(tables)
    g_bare = Portfolio(pilots=gp.pilots)
    ind = planted(tables["Indicators"], rng, 400, unit_slip=True)
    data = generate.workbook_bytes({"Pilots": tables["Pilots"], "Indicators": ind})
    run("generated 200 x 40 with 400 slips + a unit slip in the last quarter", data, "g.xlsx", g_bare)
    ind = planted(tables["Indicators"], rng, 400)
    data = generate.workbook_bytes({"Pilots": tables["Pilots"], "Indicators": ind})
    run("generated 200 x 40 with 400 slips, into the pilots only", data, "g.xlsx", g_bare)
    run("generated 200 x 40 with slips over the unslipped data", data, "g.xlsx", gp)
    first30 = sorted(gp.indicators["quarter"].unique())[29]
    g30 = Portfolio(pilots=gp.pilots, indicators=gp.indicators[gp.indicators["quarter"] <= first30])
    run("generated 200 x 40 with slips over its first 30 quarters", data, "g.xlsx", g30)
    print(f"\ncompared {COMPARED['calls']} calls: {COMPARED['problems']:,} problems "
          f"({COMPARED['outlier']:,} outlier, {COMPARED['outliers_not_listed']} outliers_not_listed), "
          f"all the same\n")

    print(f"{'input':<78} {'before ms':>10} {'after ms':>10} {'ratio':>6} "
          f"{'min before':>11} {'min after':>10}")
    for name, (long, p, ctx) in CALLS:
        times: dict[str, list[float]] = {"old": [], "new": []}
        for _ in range(REPEATS):
            for which, fn in (("old", outliers_before.outlier_rules), ("new", outliers.outlier_rules)):
                t = time.perf_counter()
                fn(long, p, ctx, Report())
                times[which].append(time.perf_counter() - t)
        a, b = statistics.median(times["old"]) * 1e3, statistics.median(times["new"]) * 1e3
        lo_a, lo_b = min(times["old"]) * 1e3, min(times["new"]) * 1e3
        print(f"{name:<78} {a:10.2f} {b:10.2f} {b / a:6.2f} {lo_a:11.2f} {lo_b:10.2f}")


if __name__ == "__main__":
    main()
