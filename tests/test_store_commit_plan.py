"""The commit's Indicators plan made on arrays (``preview.indicator_plan(commit=True)``,
COPY / executemany in batches) stores exactly what the row by row plan (``_plan``, the
reference) stores: the same rows with the same history, the same ``Changes``, the same
refusals, on SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import datetime as dt

import numpy as np
import pandas as pd
import sqlalchemy as sa

from conftest import pg_schema_url, sample_tables
from linkdash.store import DATA_TABLES, Store
from linkdash.store import changes as changes_mod


def _row_by_row(monkeypatch) -> None:
    """Make ``Store.commit`` plan every sheet row by row (the reference)."""
    monkeypatch.setattr(Store, "_plan", staticmethod(lambda conn, sheet, df, keys: changes_mod._plan(
        conn, sheet, df)))


def _indicators(rows) -> dict[str, pd.DataFrame]:
    return {"Indicators": pd.DataFrame(
        [{"pilot_id": p, "quarter": q, "indicator": i, "value": v, "text": t} for p, q, i, v, t in rows],
        columns=["pilot_id", "quarter", "indicator", "value", "text"], dtype=object)}


# a history: new values, changed values and texts, blanks that must not erase, unchanged
# values, a value equal within 1e-12, a key given twice (row by row on both), a text only
STEPS = [
    sample_tables(),
    _indicators([("KEN-DAIRY", "2017-Q1", "income_avg_usd", 411.0, None),
                 ("KEN-DAIRY", "2017-Q1", "households_reached", None, None),
                 ("KEN-DAIRY", "2017-Q2", "income_avg_usd", 410.5 * (1 + 1e-14), None),
                 ("KEN-DAIRY", "2017-Q3", "volume_sold", 12.0, "litres"),
                 ("VNM-DAIRY", "2017-Q3", "volume_sold", None, "kg")]),
    _indicators([("KEN-DAIRY", "2017-Q3", "volume_sold", None, "kg"),
                 ("KEN-DAIRY", "2017-Q3", "income_avg_usd", 500.0, None),
                 ("VNM-DAIRY", "2017-Q3", "volume_sold", 7.5, None)]),
    _indicators([("KEN-DAIRY", "2017-Q4", "income_avg_usd", 1.0, None),
                 ("KEN-DAIRY", "2017-Q4", "income_avg_usd", 2.0, None)]),
]


def _history(store: Store) -> list[tuple]:
    t = DATA_TABLES["Indicators"]
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(t.c.pilot_id, t.c.quarter, t.c.indicator, t.c.value, t.c.text,
                                      t.c.submission_id, t.c.superseded_by, t.c.origin_id)).all()
    return sorted((tuple(r) for r in rows), key=repr)


def _commits(store: Store) -> list:
    out = []
    for k, tables in enumerate(STEPS):
        result = store.commit(tables, file_bytes=f"step {k}".encode(), filename=f"{k}.xlsx", user="u")
        assert result.ok, result.errors
        out.append((result.changes.counts(), result.changes.by_sheet, result.changes.detail))
    return out


def _reference_url(store_url: str, tmp_path):
    """A second empty store of the same kind."""
    if store_url.startswith("sqlite"):
        return contextlib.nullcontext(f"sqlite:///{tmp_path / 'reference.sqlite'}")
    return pg_schema_url()


def test_the_plan_on_arrays_stores_what_the_row_by_row_plan_stores(store_url, tmp_path, monkeypatch):
    fast = Store.open(store_url)
    got = _commits(fast)
    with _reference_url(store_url, tmp_path) as url, monkeypatch.context() as m:
        _row_by_row(m)
        ref = Store.open(url)
        expected = _commits(ref)
        assert _history(fast) == _history(ref)
        ref.close()
    for (counts, by_sheet, detail), (e_counts, e_by_sheet, e_detail) in zip(got, expected, strict=True):
        assert counts == e_counts and by_sheet == e_by_sheet
        pd.testing.assert_frame_equal(detail.reset_index(drop=True), e_detail.reset_index(drop=True))
    # the blank value of a row with a text kept the stored value: 12 litres -> 12 kg
    pf = fast.load().indicators
    row = pf[(pf.pilot_id == "KEN-DAIRY") & (pf.quarter == "2017-Q3") & (pf.indicator == "volume_sold")]
    assert (row.value.tolist(), row.text.tolist()) == ([12.0], ["kg"])
    # the key given twice: the later value, once
    row = pf[(pf.pilot_id == "KEN-DAIRY") & (pf.quarter == "2017-Q4")]
    assert row.value.tolist() == [2.0]
    fast.close()


def test_a_large_commit_writes_every_value_once_and_its_changes_later(store):
    """Tens of thousands of values (several write batches), then a file that changes
    every tenth and gives the others unchanged: one current row per key, the history of
    the changed ones, nothing rewritten for the others."""
    pilots = [f"KEN-DAIRY-{i:03d}" for i in range(60)]
    qs = [f"{y}-Q{q}" for y in range(2015, 2025) for q in range(1, 5)]
    inds = ["income_avg_usd", "households_reached", "sales_usd"]
    one = sample_tables(pilots=("KEN-DAIRY",))["Pilots"]
    pilot_rows = pd.concat([one] * len(pilots), ignore_index=True)
    pilot_rows["pilot_id"] = pilots
    pilot_rows["start_date"] = dt.date(2014, 1, 1)
    keys = pd.MultiIndex.from_product([pilots, qs, inds]).to_frame(index=False)
    keys.columns = ["pilot_id", "quarter", "indicator"]
    keys = keys.astype(object)
    keys["value"] = np.arange(len(keys), dtype=float)
    keys["text"] = None
    tables = {"Pilots": pilot_rows, "Indicators": keys.copy()}
    first = store.commit(tables, file_bytes=b"big", filename="big.xlsx", user=None)
    assert first.ok and first.changes.new == len(keys) + len(pilots)
    again = keys.copy()
    again.loc[::10, "value"] = -1.0
    second = store.commit({"Indicators": again}, file_bytes=b"big2", filename="big2.xlsx", user=None)
    assert second.ok, second.errors[:3]
    changed = len(keys[::10])
    assert second.changes.counts() == {"new": 0, "changed": changed, "unchanged": len(keys) - changed}
    assert len(second.changes.detail) == changed
    t = DATA_TABLES["Indicators"]
    with store.engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
        current = conn.execute(sa.select(sa.func.count()).select_from(t)
                               .where(t.c.superseded_by.is_(None))).scalar_one()
        replaced = conn.execute(sa.select(sa.func.count()).select_from(t)
                                .where(t.c.superseded_by == second.submission_id)).scalar_one()
    assert (total, current, replaced) == (len(keys) + changed, len(keys), changed)
    loaded = store.load().indicators.set_index(["pilot_id", "quarter", "indicator"])["value"]
    expected = again.set_index(["pilot_id", "quarter", "indicator"])["value"]
    pd.testing.assert_series_equal(loaded.sort_index(), expected.sort_index(), check_names=False)
