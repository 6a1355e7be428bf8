"""A large portfolio for tests of pages and charts at scale (issue 13): the 13 demo
pilots copied ``ceil(n / 13)`` times with new ids (``KEN-DAIRY-007``), names ("Kenya
dairy cows 7") and incomes and counts spread by a copy factor, cut to ``n`` pilots.
Every copy keeps the demo's milestones, targets, lessons, benchmarks and reporting
gaps, so the figures stay meaningful. Private to the tests until the generator of
branch ``scale`` (``linkdash/generate.py``) is merged.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from linkdash import demo
from linkdash.portfolio import Portfolio

# indicators scaled by a copy's factor (money and counts of people), so the copies rank apart
_SCALED = ("income_avg_usd", "income_avg_usd_women_headed", "income_avg_usd_men_headed",
           "sales_usd", "households_reached", "participants_total", "participants_women",
           "participants_youth")


@functools.lru_cache(maxsize=4)
def big_portfolio(n: int = 1000) -> Portfolio:
    """``n`` pilots (at least 13) built from the demo data, deterministically."""
    base = demo.demo_portfolio()
    copies = -(-n // len(base.pilots))
    ids = base.pilots["pilot_id"].tolist()

    def new_id(pid: str, k: int) -> str:
        return pid if k == 0 else f"{pid}-{k:03d}"

    keep = {new_id(pid, k) for k in range(copies) for pid in ids}
    keep = set(sorted(keep, key=lambda p: (len(p), p))[:n]) if len(keep) > n else keep

    def copy(df: pd.DataFrame, k: int) -> pd.DataFrame:
        out = df.copy()
        if "pilot_id" in out.columns:
            out["pilot_id"] = [new_id(p, k) for p in out["pilot_id"]]
        return out

    frames: dict[str, list[pd.DataFrame]] = {k: [] for k in
                                             ("pilots", "milestones", "indicators", "targets", "lessons")}
    for k in range(copies):
        factor = 1.0 if k == 0 else 0.6 + 0.8 * ((k * 37) % 100) / 100  # 0.6 .. 1.4
        p = copy(base.pilots, k)
        if k:
            p["pilot_name"] = [f"{name} {k}" for name in base.pilots["pilot_name"]]
        frames["pilots"].append(p)
        frames["milestones"].append(copy(base.milestones, k))
        ind = copy(base.indicators, k)
        scaled = ind["indicator"].isin(_SCALED).to_numpy()
        vals = ind["value"].to_numpy(dtype="float64").copy()
        vals[scaled] = np.round(vals[scaled] * factor)
        # parts never exceed their totals: women and youth scale with participants
        ind["value"] = vals
        frames["indicators"].append(ind)
        frames["targets"].append(copy(base.targets, k))
        frames["lessons"].append(copy(base.lessons, k))
    out = {name: pd.concat(parts, ignore_index=True) for name, parts in frames.items()}
    out = {name: df[df["pilot_id"].isin(keep)].reset_index(drop=True) for name, df in out.items()}
    return Portfolio(pilots=out["pilots"], milestones=out["milestones"], indicators=out["indicators"],
                     targets=out["targets"], lessons=out["lessons"], benchmarks=base.benchmarks,
                     rates=base.rates)


@functools.lru_cache(maxsize=2)
def big_tables(n: int = 1000) -> dict[str, pd.DataFrame]:
    """``big_portfolio(n)`` as importer tables (``CheckedWorkbook.tables``), to commit to
    a store for page tests at scale."""
    from linkdash import catalogue

    p = big_portfolio(n)
    base = demo.demo_tables()
    sheets = catalogue.sheets()
    pilot_cols = [c.code for c in sheets["Pilots"].all_columns]
    ind = p.indicators.copy()
    ind["text"] = ind["text"].astype(object).where(ind["text"].notna(), None)
    return {
        "Pilots": p.pilots[pilot_cols].astype(object).where(p.pilots[pilot_cols].notna(), None),
        "Progress": p.milestones[sheets["Progress"].codes].astype(object),
        "Indicators": ind,
        "Targets": p.targets[sheets["Targets"].codes].astype(object),
        "Lessons": p.lessons[sheets["Lessons"].codes].astype(object),
        "Benchmarks": base["Benchmarks"], "Rates": base["Rates"],
    }


def big_store(path, n: int = 1000) -> str:
    """A SQLite store at ``path`` holding ``big_tables(n)``; returns its URL."""
    from linkdash.store import Store

    url = f"sqlite:///{path}"
    store = Store.open(url)
    try:
        result = store.commit(big_tables(n), file_bytes=f"scale fixture {n}".encode(),
                              filename=f"{n} pilots (test fixture)", user="test", kind="demo")
        assert not getattr(result, "errors", None), result.errors
    finally:
        store.close()
    return url
