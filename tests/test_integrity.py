"""Values that must be right after rollbacks and races, and what the schema itself
guards: rollback after rollback, write skew refused at commit, NUL bytes and
non-finite numbers refused by the store, one current row per key, finite numbers
and bounded text as constraints. Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import math
import sqlite3

import numpy as np
import pandas as pd
import psycopg
import pytest
import sqlalchemy as sa

from conftest import sample_tables
from linkdash.store import DATA_TABLES, Store

KEN = "KEN-DAIRY"

from linkdash import access  # noqa: E402

ADMIN = access.local_admin()


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


# --- write skew: the rules that involve stored values, again at commit ----------------------

def _indicators_file(rows) -> bytes:
    from conftest import workbook_bytes

    return workbook_bytes(_ind(rows))


def _pilots_file(**values) -> bytes:
    from conftest import workbook_bytes

    row = {"pilot_id": KEN, "country": "KEN", "value_chain": "dairy_cow", **values}
    return workbook_bytes({"Pilots": pd.DataFrame([row], dtype=object)})


def _nothing_of(store, before_version, before_subs):
    assert store.data_version() == before_version
    assert len(store.submissions()) == before_subs


def test_a_total_lowered_and_a_part_raised_meanwhile_refuse_the_second(store):
    from linkdash import cli, submit

    base = _commit(store, sample_tables(pilots=(KEN,)), "base")  # total 120, women 40
    lower = _indicators_file([(KEN, "2017-Q1", "participants_total", 50.0)])
    raise_ = _indicators_file([(KEN, "2017-Q1", "participants_women", 100.0)])
    a = submit.validate(store, lower, "lower.xlsx", actor=ADMIN)
    b = submit.validate(store, raise_, "raise.xlsx", actor=ADMIN)
    assert a.ok and b.ok  # each is fine against the data it was checked on
    first = submit.commit(store, a, lower, "lower.xlsx", actor=ADMIN)
    assert first.ok and first.submission_id is not None
    version, subs = store.data_version(), len(store.submissions())
    second = submit.commit(store, b, raise_, "raise.xlsx", actor=ADMIN)
    assert not second.ok and second.submission_id is None
    [p] = second.errors
    assert p.code == "conflict" and p.severity == "error" and p.sheet == "Indicators"
    assert p.value == 100.0
    assert "Participants" in p.message and "100" in p.message and "50" in p.message
    assert f"stored for {KEN} 2017-Q1 by submission {first.submission_id}" in p.message
    _nothing_of(store, version, subs)
    assert _value(store, code="participants_women") == 40.0
    assert _value(store, code="participants_total") == 50.0
    # the JSON and the text the command line prints say so, and the exit code is 1
    out = second.as_json()
    assert out["ok"] is False and out["errors"][0]["code"] == "conflict" and "changes" not in out
    assert cli.print_outcome(second) == 1
    assert base < first.submission_id


def test_a_part_raised_and_a_total_lowered_meanwhile_refuse_the_second(store):
    from linkdash import submit

    _commit(store, sample_tables(pilots=(KEN,)), "base")
    lower = _indicators_file([(KEN, "2017-Q1", "participants_total", 50.0)])
    raise_ = _indicators_file([(KEN, "2017-Q1", "participants_women", 100.0)])
    a = submit.validate(store, lower, "lower.xlsx", actor=ADMIN)
    b = submit.validate(store, raise_, "raise.xlsx", actor=ADMIN)
    first = submit.commit(store, b, raise_, "raise.xlsx", actor=ADMIN)
    assert first.ok
    second = submit.commit(store, a, lower, "lower.xlsx", actor=ADMIN)
    [p] = second.errors
    assert p.code == "conflict" and p.value == 50.0
    assert "(50) in this file is less than" in p.message and "(100)" in p.message
    assert f"by submission {first.submission_id}" in p.message
    assert _value(store, code="participants_total") == 120.0


def test_a_start_date_moved_and_an_earlier_quarter_meanwhile_refuse_the_second(store):
    from linkdash import submit

    _commit(store, sample_tables(pilots=(KEN,)), "base")  # start 2016-06-06, quarters 2017-Q1..Q2
    later_start = _pilots_file(start_date=dt.date(2017, 3, 1))  # 2017-Q1: fine for the stored quarters
    early = _indicators_file([(KEN, "2016-Q4", "households_reached", 80.0)])  # after 2016-Q2: fine
    a = submit.validate(store, later_start, "start.xlsx", actor=ADMIN)
    b = submit.validate(store, early, "early.xlsx", actor=ADMIN)
    assert a.ok and b.ok, (a.errors, b.errors)
    first = submit.commit(store, a, later_start, "start.xlsx", actor=ADMIN)
    assert first.ok
    second = submit.commit(store, b, early, "early.xlsx", actor=ADMIN)
    [p] = second.errors
    assert p.code == "conflict" and p.sheet == "Indicators" and p.value == "2016-Q4"
    assert "2017-03-01" in p.message and f"stored by submission {first.submission_id}" in p.message
    assert _value(store, quarter="2016-Q4", code="households_reached") is None


def test_an_earlier_quarter_and_a_start_date_moved_meanwhile_refuse_the_second(store):
    from linkdash import submit

    _commit(store, sample_tables(pilots=(KEN,)), "base")
    later_start = _pilots_file(start_date=dt.date(2017, 3, 1))
    early = _indicators_file([(KEN, "2016-Q4", "households_reached", 80.0)])
    a = submit.validate(store, later_start, "start.xlsx", actor=ADMIN)
    b = submit.validate(store, early, "early.xlsx", actor=ADMIN)
    first = submit.commit(store, b, early, "early.xlsx", actor=ADMIN)
    assert first.ok
    second = submit.commit(store, a, later_start, "start.xlsx", actor=ADMIN)
    [p] = second.errors
    assert p.code == "conflict" and p.sheet == "Pilots" and p.value == "2017-03-01"
    assert "2016-Q4" in p.message and f"by submission {first.submission_id}" in p.message
    ken = store.load().pilots.set_index("pilot_id").loc[KEN]
    assert ken.start_date == dt.date(2016, 6, 6)


def test_an_end_date_against_a_start_date_stored_meanwhile(store):
    _commit(store, sample_tables(pilots=(KEN,)), "base")
    s = _commit(store, _pilot_row(start_date=dt.date(2017, 1, 1)), "start")
    result = store.commit(_pilot_row(end_date=dt.date(2016, 12, 31)), file_bytes=b"end",
                          filename="end.xlsx", user=None)
    [p] = result.errors
    assert p.code == "conflict" and p.value == "2016-12-31"
    assert "2017-01-01" in p.message and f"stored by submission {s}" in p.message


def test_rows_for_a_pilot_that_a_rollback_removed_meanwhile(store):
    from linkdash import submit

    first = _commit(store, sample_tables(), "base")
    data = _indicators_file([(KEN, "2017-Q3", "households_reached", 90.0)])
    checked = submit.validate(store, data, "q3.xlsx", actor=ADMIN)
    assert checked.ok
    rb = store.rollback(first)
    refused = submit.commit(store, checked, data, "q3.xlsx", actor=ADMIN)
    assert [p.code for p in refused.errors] == ["conflict"]
    assert f"submission {rb.submission_id} removed it" in refused.errors[0].message
    assert store.load().indicators.empty


def test_rechecks_do_not_refuse_what_is_consistent(store):
    _commit(store, sample_tables(pilots=(KEN,)), "base")
    # a part within the stored total, a total above the stored part, dates in order
    ok = store.commit({**_ind([(KEN, "2017-Q1", "participants_women", 120.0),
                               (KEN, "2017-Q2", "participants_total", 41.0)]),
                       **_pilot_row(start_date=dt.date(2017, 1, 1), end_date=dt.date(2019, 1, 1))},
                      file_bytes=b"ok", filename="ok.xlsx", user=None)
    assert ok.ok and ok.submission_id is not None, ok.errors


def test_concurrent_commits_that_conflict_store_exactly_one(store):
    """Two threads commit the two halves of a write skew at the same moment: the
    commits run one after the other, the second finds the first's value."""
    import threading

    _commit(store, sample_tables(pilots=(KEN,)), "base")
    files = {"lower": _ind([(KEN, "2017-Q1", "participants_total", 50.0)]),
             "raise": _ind([(KEN, "2017-Q1", "participants_women", 100.0)])}
    results, start = {}, threading.Barrier(2)

    def go(name):
        start.wait()
        results[name] = store.commit(files[name], file_bytes=name.encode(), filename=name, user=None)

    threads = [threading.Thread(target=go, args=(n,)) for n in files]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ok = [n for n, r in results.items() if r.ok]
    assert len(ok) == 1 and [p.code for r in results.values() for p in r.errors] == ["conflict"]
    store.load()
    women, total = _value(store, code="participants_women"), _value(store, code="participants_total")
    assert women <= total


# --- what no store may keep -------------------------------------------------------------------

def _refused(store, tables, code):
    version, subs = store.data_version(), len(store.submissions())
    result = store.commit(tables, file_bytes=b"bad-" + code.encode(), filename="bad.xlsx", user=None)
    assert result.submission_id is None and not result.ok
    assert {p.code for p in result.errors} == {code}, result.errors
    assert all(p.severity == "error" for p in result.errors)
    _nothing_of(store, version, subs)
    return result.errors


def test_nul_in_text_is_refused_on_both_stores(store):
    t = sample_tables()
    t["Progress"].loc[1, "notes"] = "bad\x00note"
    [p] = _refused(store, t, "nul_character")
    assert "KEN-DAIRY / vc_map" in p.message and "notes" in p.message
    assert store.load().pilots.empty
    # a NUL in a key too, and in the user's name
    t = sample_tables()
    t["Lessons"].loc[0, "lesson"] = "\x00"
    _refused(store, t, "nul_character")
    r = store.commit(sample_tables(), file_bytes=b"u", filename="f.xlsx", user="a\x00b")
    assert [p.code for p in r.errors] == ["nul_character"]


@pytest.mark.parametrize("bad", [math.inf, -math.inf, 1e309])
def test_numbers_that_are_not_finite_are_refused(store, bad):
    t = sample_tables()
    t["Indicators"].loc[3, "value"] = bad
    [p] = _refused(store, t, "not_finite")
    assert "income_avg_usd" in p.message
    t = sample_tables()
    t["Pilots"].loc[0, "latitude"] = bad
    _refused(store, t, "not_finite")


def test_text_longer_than_the_limit_is_refused(store):
    t = sample_tables()
    t["Progress"].loc[0, "notes"] = "x" * 2001
    [p] = _refused(store, t, "text_too_long")
    assert "2,001" in p.message
    t["Progress"].loc[0, "notes"] = "é" * 2000  # exactly the limit, in characters
    assert store.commit(t, file_bytes=b"ok", filename="ok.xlsx", user=None).ok
    assert store.load().milestones.notes.str.len().max() == 2000


# --- the schema itself -------------------------------------------------------------------------

def _raw_insert(store, table, **values):
    with store.engine.begin() as conn:
        sub = conn.execute(sa.text("SELECT max(id) FROM submissions")).scalar()
        t = DATA_TABLES[table]
        conn.execute(sa.insert(t).values(submission_id=sub, origin_id=sub, **values))


def test_the_schema_refuses_a_row_that_names_a_submission_not_stored(store):
    # foreign keys on SQLite, statement-level triggers on PostgreSQL (migration 0005):
    # a row, one written alone or a bulk write (COPY on PostgreSQL), the commit's update
    # that marks rows superseded, and the removal of a submission that rows name
    from linkdash.store.changes import Columns, _insert_columns

    _commit(store, sample_tables(pilots=(KEN,)), "base")
    before, submissions = store.load(), store.submissions()["id"].tolist()
    with store.engine.connect() as conn:
        sub = conn.execute(sa.text("SELECT max(id) FROM submissions")).scalar()
    ind = DATA_TABLES["Indicators"]
    row = dict(pilot_id=KEN, quarter="2010-Q1", indicator="sales_usd", value=1.0)
    for bad in ({"submission_id": sub + 7, "origin_id": sub},
                {"submission_id": sub, "origin_id": sub + 7},
                {"submission_id": sub, "origin_id": sub, "superseded_by": sub + 7}):
        with pytest.raises(sa.exc.IntegrityError, match="(?i)foreign key|names a submission"):
            with store.engine.begin() as conn:
                conn.execute(sa.insert(ind).values(**row, **bad))
    many = Columns({"pilot_id": np.array([KEN] * 3, dtype=object),
                    "quarter": np.array(["2010-Q1", "2010-Q2", "2010-Q3"], dtype=object),
                    "indicator": np.array(["sales_usd"] * 3, dtype=object),
                    "value": np.array([1.0, 2.0, 3.0])},
                   constants={"submission_id": sub, "origin_id": sub + 7})
    # (written on the driver's own connection: the driver's error)
    with pytest.raises((sqlite3.IntegrityError, psycopg.IntegrityError),
                       match="(?i)foreign key|names a submission"):
        with store.engine.begin() as conn:
            _insert_columns(conn, ind, many)
    with pytest.raises(sa.exc.IntegrityError, match="(?i)foreign key|names a submission"):
        with store.engine.begin() as conn:
            conn.execute(sa.update(ind).where(ind.c.pilot_id == KEN).values(superseded_by=sub + 7))
    with pytest.raises(sa.exc.IntegrityError, match="(?i)foreign key|cannot be removed"):
        with store.engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM submissions WHERE id = :s"), {"s": sub})
    # rows that name stored submissions are written as before; nothing above was kept
    with store.engine.begin() as conn:
        _insert_columns(conn, ind, many.with_constants(origin_id=sub))
    after = store.load()
    assert len(after.indicators) == len(before.indicators) + 3
    assert store.submissions()["id"].tolist() == submissions


def test_the_schema_refuses_a_second_current_row_per_key(store):
    _commit(store, sample_tables(pilots=(KEN,)), "base")
    with pytest.raises(sa.exc.IntegrityError):
        _raw_insert(store, "Indicators", pilot_id=KEN, quarter="2017-Q1",
                    indicator="income_avg_usd", value=1.0)
    with pytest.raises(sa.exc.IntegrityError):
        _raw_insert(store, "Lessons", pilot_id=KEN, quarter="2017-Q1", kind="insight",
                    lesson=sample_tables(pilots=(KEN,))["Lessons"].lesson[0])
    with pytest.raises(sa.exc.IntegrityError):
        _raw_insert(store, "Pilots", pilot_id=KEN, country="KEN", value_chain="dairy_cow")
    # a superseded version of the same key is fine (that is the history)
    with store.engine.begin() as conn:
        sub = conn.execute(sa.text("SELECT max(id) FROM submissions")).scalar()
        conn.execute(sa.insert(DATA_TABLES["Indicators"]).values(
            pilot_id=KEN, quarter="2017-Q1", indicator="income_avg_usd", value=1.0,
            submission_id=sub, origin_id=sub, superseded_by=sub))
    # long lessons fit the index (PostgreSQL indexes their md5)
    _raw_insert(store, "Lessons", pilot_id=KEN, quarter="2017-Q2", kind="insight",
                lesson="ü" * 2000)


@pytest.mark.parametrize("bad", [math.inf, -math.inf])
def test_the_schema_refuses_numbers_that_are_not_finite(store, bad):
    _commit(store, sample_tables(pilots=(KEN,)), "base")
    with pytest.raises(sa.exc.IntegrityError):
        _raw_insert(store, "Indicators", pilot_id=KEN, quarter="2017-Q3", indicator="sales_usd", value=bad)
    with pytest.raises(sa.exc.IntegrityError):
        _raw_insert(store, "Rates", currency="KES", quarter="2017-Q4", units_per_usd=bad)
    _raw_insert(store, "Indicators", pilot_id=KEN, quarter="2017-Q3", indicator="sales_usd",
                value=1.7976931348623157e308)  # the largest finite number is fine


def test_the_schema_refuses_nan_or_stores_it_as_null(store):
    _commit(store, sample_tables(pilots=(KEN,)), "base")
    if store.engine.dialect.name == "postgresql":
        with pytest.raises(sa.exc.IntegrityError):
            _raw_insert(store, "Indicators", pilot_id=KEN, quarter="2017-Q3", indicator="sales_usd",
                        value=math.nan)
    else:  # SQLite turns NaN into NULL itself
        _raw_insert(store, "Indicators", pilot_id=KEN, quarter="2017-Q3", indicator="sales_usd",
                    value=math.nan)
        rows = _current_rows(store, "Indicators")
        assert rows[rows.quarter == "2017-Q3"].value.isna().all()


def test_the_schema_refuses_text_longer_than_the_limit(store):
    _commit(store, sample_tables(pilots=(KEN,)), "base")
    with pytest.raises(sa.exc.IntegrityError):
        _raw_insert(store, "Progress", pilot_id=KEN, milestone="peer_review", notes="x" * 2001)
    with pytest.raises(sa.exc.IntegrityError):
        _raw_insert(store, "Pilots", pilot_id="X" * 2001, country="KEN", value_chain="dairy_cow")
    _raw_insert(store, "Progress", pilot_id=KEN, milestone="peer_review", notes="x" * 2000)


# --- migration 0002 on a store that holds data ----------------------------------------------------

def _migrate_to(engine, revision):
    from alembic import command

    from linkdash.store.engine import alembic_config

    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def test_upgrading_a_0001_store_with_the_demo_data_keeps_it_and_repairs_what_0002_forbids(store_url):
    from linkdash import demo
    from linkdash.store import make_engine

    engine = make_engine(store_url)
    _migrate_to(engine, "0001")
    old = Store(engine)
    demo.load_demo(old)
    before = old.load()
    ind = DATA_TABLES["Indicators"]
    ms = DATA_TABLES["Progress"]
    # what 0001 let in: an infinite value, a 3,000-character note, a second current row
    with engine.begin() as conn:
        sub = conn.execute(sa.text("SELECT max(id) FROM submissions")).scalar()
        conn.execute(sa.insert(ind).values(pilot_id="KEN-DAIRY", quarter="2010-Q1",
                                           indicator="sales_usd", value=math.inf,
                                           submission_id=sub, origin_id=sub))
        conn.execute(sa.update(ms).where(ms.c.milestone == "vc_map", ms.c.pilot_id == "KEN-DAIRY")
                     .values(notes="n" * 3000))
        first = conn.execute(sa.select(ind).where(ind.c.superseded_by.is_(None))
                             .order_by(ind.c.id).limit(1)).mappings().one()
        twin = {k: first[k] for k in ("pilot_id", "quarter", "indicator", "text")}
        conn.execute(sa.insert(ind).values(**twin, value=first["value"] + 1,
                                           submission_id=sub, origin_id=sub))
    engine.dispose()

    upgraded = Store.open(store_url)  # runs 0002 (and 0003 to 0005 after it)
    try:
        with upgraded.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == "0005"
            inf_row = conn.execute(sa.select(ind.c.value).where(ind.c.quarter == "2010-Q1")).all()
            current_twins = conn.execute(sa.select(sa.func.count()).select_from(ind).where(
                ind.c.superseded_by.is_(None), ind.c.pilot_id == first["pilot_id"],
                ind.c.quarter == first["quarter"], ind.c.indicator == first["indicator"])).scalar()
        assert inf_row == [(None,)]  # not reported, no longer infinite
        assert current_twins == 1
        after = upgraded.load()
        assert len(after.pilots) == len(before.pilots) == 13
        notes = after.milestones.set_index(["pilot_id", "milestone"]).notes
        assert len(notes[("KEN-DAIRY", "vc_map")]) == 2000
        pd.testing.assert_frame_equal(after.targets, before.targets)
        assert len(after.indicators) == len(before.indicators) + 1  # the repaired 2010-Q1 row
        # the guards hold from now on, and the store works as before
        with pytest.raises(sa.exc.IntegrityError):
            _raw_insert(upgraded, "Indicators", pilot_id="KEN-DAIRY", quarter="2010-Q2",
                        indicator="sales_usd", value=math.inf)
        again = upgraded.commit(_ind([(KEN, "2018-Q4", "income_avg_usd", 999.0)]), file_bytes=b"x",
                                filename="x.xlsx", user=None)
        assert again.ok and again.submission_id is not None
        assert upgraded.rollback(again.submission_id).ok
    finally:
        upgraded.close()
