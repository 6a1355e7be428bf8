"""Values that must be right after rollbacks and races, and what the schema itself
guards: rollback after rollback, write skew refused at commit, NUL bytes and
non-finite numbers refused by the store, one current row per key, finite numbers
and bounded text as constraints. Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest
import sqlalchemy as sa

from conftest import sample_tables
from linkdash.store import DATA_TABLES, Store

KEN = "KEN-DAIRY"


def _ind(rows) -> dict[str, pd.DataFrame]:
    """An Indicators table of (pilot, quarter, indicator, value) rows."""
    return {"Indicators": pd.DataFrame(
        [{"pilot_id": p, "quarter": q, "indicator": i, "value": v, "text": None}
         for p, q, i, v in rows], columns=["pilot_id", "quarter", "indicator", "value", "text"],
        dtype=object)}


def _value(store, pilot=KEN, quarter="2017-Q1", code="income_avg_usd"):
    ind = store.load().indicators
    hit = ind[(ind.pilot_id == pilot) & (ind.quarter == quarter) & (ind.indicator == code)]
    assert len(hit) <= 1
    return None if hit.empty else float(hit.iloc[0].value)


def _commit(store, tables, tag):
    result = store.commit(tables, file_bytes=tag.encode(), filename=f"{tag}.xlsx", user=None)
    assert result.submission_id is not None, getattr(result, "errors", None)
    return result.submission_id


def _current_rows(store, sheet) -> pd.DataFrame:
    t = DATA_TABLES[sheet]
    with store.engine.connect() as conn:
        return pd.read_sql(sa.select(t).where(t.c.superseded_by.is_(None)), conn)


# --- rollback after rollback ---------------------------------------------------------

def test_rollback_after_rollback_restores_the_latest_value_not_rolled_back(store):
    base = _commit(store, sample_tables(pilots=(KEN,)), "base")
    _commit(store, _ind([(KEN, "2017-Q1", "income_avg_usd", 1470.0)]), "a")
    s = _commit(store, _ind([(KEN, "2017-Q1", "income_avg_usd", 1500.0)]), "s")
    t = _commit(store, _ind([(KEN, "2017-Q1", "income_avg_usd", 1600.0)]), "t")
    first = store.rollback(s)
    assert first.ok
    assert [(k["key"], k["by"]) for k in first.kept] == [(f"{KEN} / 2017-Q1 / income_avg_usd", t)]
    assert _value(store) == 1600.0  # T is newer: kept
    second = store.rollback(t)
    assert second.ok and second.restored == 1 and second.removed == 0
    assert _value(store) == 1470.0  # not S's 1500: S is rolled back
    # the restored value is A's again: undoing A now goes back to the base submission
    assert store.rollback(base + 1).restored == 1
    assert _value(store) == 410.5
    assert len(_current_rows(store, "Indicators").query("indicator == 'income_avg_usd'")) == 2


def test_rollback_after_rollback_removes_a_value_no_live_submission_set(store):
    _commit(store, sample_tables(pilots=(KEN,)), "base")
    s = _commit(store, _ind([(KEN, "2017-Q3", "sales_usd", 1500.0)]), "s")  # new value
    t = _commit(store, _ind([(KEN, "2017-Q3", "sales_usd", 1600.0)]), "t")
    assert store.rollback(s).kept[0]["by"] == t
    assert _value(store, quarter="2017-Q3", code="sales_usd") == 1600.0
    result = store.rollback(t)
    assert result.ok and (result.restored, result.removed) == (0, 1)
    assert _value(store, quarter="2017-Q3", code="sales_usd") is None  # only S had set it


def test_rolling_back_the_origin_of_a_restored_value(store):
    """A restored copy carries its origin: undoing that origin later undoes the copy."""
    _commit(store, sample_tables(pilots=(KEN,)), "base")
    a = _commit(store, _ind([(KEN, "2017-Q1", "income_avg_usd", 1470.0)]), "a")
    s = _commit(store, _ind([(KEN, "2017-Q1", "income_avg_usd", 1500.0)]), "s")
    t = _commit(store, _ind([(KEN, "2017-Q1", "income_avg_usd", 1600.0)]), "t")
    assert store.rollback(t).restored == 1 and _value(store) == 1500.0  # S's again
    assert store.rollback(a).kept  # S changed it later
    assert store.rollback(s).restored == 1
    assert _value(store) == 410.5  # A is rolled back too: the base value


def _pilot_row(**values):
    row = {c: None for c in sample_tables()["Pilots"].columns}
    row.update(pilot_id=KEN, country="KEN", value_chain="dairy_cow")
    row.update(values)
    return {"Pilots": pd.DataFrame([row], dtype=object)}


OTHER_SHEETS = {
    # sheet: (tables with a value v, how to read the stored value back)
    "Pilots": (lambda v: _pilot_row(target_households=v),
               lambda p: p.pilots.set_index("pilot_id").target_households.get(KEN)),
    "Progress": (lambda v: {"Progress": pd.DataFrame([{
        "pilot_id": KEN, "milestone": "vc_map", "notes": f"note {v:g}"}], dtype=object)},
        lambda p: p.milestones.set_index("milestone").notes.get("vc_map")),
    "Targets": (lambda v: {"Targets": pd.DataFrame([{
        "pilot_id": KEN, "indicator": "households_reached", "target": v}], dtype=object)},
        lambda p: p.targets.set_index("indicator").target.get("households_reached")),
    "Lessons": (lambda v: {"Lessons": pd.DataFrame([{
        "pilot_id": KEN, "quarter": "2017-Q1", "kind": "insight", "author": f"a{v:g}@x.org",
        "lesson": f"Women joined the {KEN} cooperative board once meetings moved to market day."}],
        dtype=object)},
        lambda p: p.lessons.set_index("quarter").author.get("2017-Q1")),
    "Rates": (lambda v: {"Rates": pd.DataFrame([{
        "currency": "KES", "quarter": "2017-Q1", "units_per_usd": v}], dtype=object)},
        lambda p: p.rates.set_index("quarter").units_per_usd.get("2017-Q1")),
    "Benchmarks": (lambda v: {"Benchmarks": pd.DataFrame([{
        "country": "KEN", "year": 2017, "living_income_usd": v}], dtype=object)},
        lambda p: p.benchmarks.set_index("year").living_income_usd.get(2017)),
}


@pytest.mark.parametrize("sheet", sorted(OTHER_SHEETS))
def test_rollback_after_rollback_on_every_sheet(store, sheet):
    make, read = OTHER_SHEETS[sheet]

    def shown(v):
        if sheet == "Progress":
            return f"note {v:g}"
        if sheet == "Lessons":
            return f"a{v:g}@x.org"
        return v

    _commit(store, sample_tables(pilots=(KEN,)), "base")
    _commit(store, make(1470.0), "a")
    s = _commit(store, make(1500.0), "s")
    t = _commit(store, make(1600.0), "t")
    assert store.rollback(s).kept and read(store.load()) == shown(1600.0)
    result = store.rollback(t)
    assert result.ok and result.restored == 1
    assert read(store.load()) == shown(1470.0)
    assert len(_current_rows(store, sheet)) == len(sample_tables(pilots=(KEN,))[sheet])
