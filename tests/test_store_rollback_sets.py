"""The set-based rollback (``linkdash.store.rollback``: a few statements per table) leaves
exactly the rows the row by row rollback left (``rollback_reference``, the code it
replaced): random histories of several submissions (overlapping keys, blanks that must
not erase, texts, pilots that other values still name, rollbacks in random order, of
rollbacks and of submissions already rolled back) played on two stores, one rolled back
each way; after every step both hold the same rows (values, ``submission_id``,
``superseded_by``, ``origin_id``, in the same order for each key) and the same
submissions, and every rollback reports the same (restored, removed, kept and their
order, message). On SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import os
import random
import re

import pandas as pd
import pytest
import sqlalchemy as sa
from rollback_reference import reference_rollback

from conftest import BACKENDS, pg_schema_url, pg_skip_reason, sample_tables
from linkdash import catalogue
from linkdash.store import DATA_TABLES, LAYOUT, Store, submissions_table

PILOTS = ("KEN-DAIRY", "VNM-DAIRY", "UGA-GOAT")
QUARTERS = ("2017-Q1", "2017-Q2", "2017-Q3", "2017-Q4")
CODES = ("income_avg_usd", "volume_sold", "sales_usd", "households_reached")


@pytest.fixture(params=BACKENDS)
def two_stores(request, tmp_path):
    """(store rolled back the new way, store rolled back the old way), both empty."""
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            urls = [f"sqlite:///{tmp_path / name}.sqlite" for name in ("new", "old")]
        else:
            reason = pg_skip_reason()
            if reason:
                if os.environ.get("LINKDASH_REQUIRE_POSTGRES") == "1":
                    pytest.fail(reason + " (LINKDASH_REQUIRE_POSTGRES=1)")
                pytest.skip(reason)
            urls = [stack.enter_context(pg_schema_url()) for _ in range(2)]
        stores = [Store.open(u) for u in urls]
        for s in stores:
            stack.callback(s.close)
        yield tuple(stores)


def _random_tables(rng: random.Random) -> dict[str, pd.DataFrame]:
    """A random upload: indicator values of some pilots (values from a small set, so
    some are unchanged; blanks; texts), those pilots' rows with some columns blank and
    a random target, and now and then Progress notes, Targets and Rates."""
    pilots = rng.sample(PILOTS, rng.randint(1, len(PILOTS)))
    base = sample_tables(pilots=tuple(sorted(pilots)), quarters=QUARTERS[:1])
    prow = base["Pilots"].copy()
    prow["target_households"] = [rng.choice([None, 500.0, 600.0, 700.0]) for _ in range(len(prow))]
    for col in ("producer_org", "latitude", "longitude"):
        if rng.random() < 0.5:
            prow[col] = None
    tables = {"Pilots": prow}
    rows = []
    for p in pilots:
        for q in rng.sample(QUARTERS, rng.randint(1, len(QUARTERS))):
            for code in rng.sample(CODES, rng.randint(1, len(CODES))):
                rows.append({"pilot_id": p, "quarter": q, "indicator": code,
                             "value": rng.choice([None, 100.0, 200.0, 300.0, 400.0]), "text": None})
            if rng.random() < 0.4:
                rows.append({"pilot_id": p, "quarter": q, "indicator": "volume_unit", "value": None,
                             "text": rng.choice([None, "litres", "kg"])})
    tables["Indicators"] = pd.DataFrame(rows, columns=["pilot_id", "quarter", "indicator", "value", "text"],
                                        dtype=object)
    if rng.random() < 0.4:
        tables["Progress"] = pd.DataFrame(
            [{"pilot_id": p, "milestone": m, "notes": rng.choice([None, "on track", "late"])}
             for p in pilots for m in rng.sample(["vc_map", "training_workshop"], rng.randint(1, 2))],
            dtype=object)
    if rng.random() < 0.4:
        tables["Targets"] = pd.DataFrame(
            [{"pilot_id": p, "indicator": "households_reached", "target": rng.choice([600.0, 800.0])}
             for p in pilots], dtype=object)
    if rng.random() < 0.3:
        tables["Rates"] = pd.DataFrame([{"currency": "KES", "quarter": rng.choice(QUARTERS),
                                         "units_per_usd": rng.choice([100.0, 103.2])}], dtype=object)
    return tables


def _rows(store: Store) -> dict[str, list[tuple]]:
    """Every stored row of every table (but its id) in the order of the versions of each
    key, and every submission (but its time). (The copies one rollback restores may
    get their ids in another order: they are of different keys, each the newest of its
    key, so only the order within a key has a meaning.)"""
    s = submissions_table
    out = {}
    with store.engine.connect() as conn:
        for sheet in catalogue.SHEET_ORDER:
            t = DATA_TABLES[sheet]
            keys, _ = LAYOUT[sheet]
            out[sheet] = [tuple(r)[1:] for r in conn.execute(
                sa.select(t).order_by(*[t.c[k] for k in keys], t.c.id))]
        out["submissions"] = [tuple(r) for r in conn.execute(
            sa.select(s.c.id, s.c.kind, s.c.filename, s.c.user, s.c.status, s.c.rolled_back_by,
                      s.c.summary).order_by(s.c.id))]
    return out


def _same_result(new, old) -> dict:
    a, b = new.as_dict(), old.as_dict()
    for d in (a, b):  # (a refusal names the time of the earlier rollback, to the minute)
        d["message"] = re.sub(r" on \d{4}-\d\d-\d\d \d\d:\d\d UTC", "", d["message"])
    assert a == b
    return a


@pytest.mark.parametrize("seed", range(4))
def test_random_histories_roll_back_as_row_by_row(two_stores, seed):
    new, old = two_stores
    rng = random.Random(seed)
    committed: list[int] = []
    reasons: set[str] = set()
    done = {"commits": 0, "rollbacks": 0, "refused": 0, "kept": 0, "restored": 0, "removed": 0}
    for step in range(30):
        if not committed or rng.random() < 0.5:
            tables = _random_tables(rng)
            results = [s.commit(tables, file_bytes=f"{seed}-{step}".encode(), filename=f"{step}.xlsx",
                                user="u@x.org") for s in (new, old)]
            assert results[0].submission_id == results[1].submission_id
            assert [p.code for p in results[0].errors] == [p.code for p in results[1].errors]
            if results[0].submission_id is not None:
                committed.append(results[0].submission_id)
                done["commits"] += 1
            continue
        # any submission: mostly uploads, now and then a rollback or one already undone
        sid = rng.choice(committed) if rng.random() < 0.85 else rng.randint(1, max(committed) + 1)
        got = _same_result(new.rollback(sid, user="admin@x.org"), reference_rollback(old, sid, "admin@x.org"))
        if got["ok"]:
            done["rollbacks"] += 1
            committed.append(got["submission_id"])
            done["kept"] += len(got["kept"])
            reasons.update(re.sub(r"\d+", "N", k["reason"]) for k in got["kept"])
            done["restored"] += got["restored"]
            done["removed"] += got["removed"]
        else:
            done["refused"] += 1
        assert _rows(new) == _rows(old), f"seed {seed}, step {step}: rollback of {sid}"
    # at the end: every live upload undone, in random order
    live = [int(r.id) for r in new.submissions().itertuples()
            if r.kind == "upload" and r.status == "committed"]
    rng.shuffle(live)
    for sid in live:
        got = _same_result(new.rollback(sid), reference_rollback(old, sid))
        assert got["ok"]
        done["kept"] += len(got["kept"])
        reasons.update(re.sub(r"\d+", "N", k["reason"]) for k in got["kept"])
        done["restored"] += got["restored"]
        done["removed"] += got["removed"]
        assert _rows(new) == _rows(old), f"seed {seed}: final rollback of {sid}"
    # no value is left whose every submission is undone (a pilot's row may stay: it was
    # kept while values of a later upload named it)
    assert new.load().indicators.empty
    # the history exercised every branch of the rule
    assert done["rollbacks"] and done["restored"] and done["removed"] and done["kept"], done
    assert "kept: changed later by submission N" in reasons


def test_rollback_after_rollback_and_pilots_in_use_as_row_by_row(two_stores):
    """The cases of the rule, by hand: S 1470 -> 1500, T 1500 -> 1600; a new pilot whose
    values a later upload still names; a value a later upload removed by rollback."""
    new, old = two_stores
    ken = ("KEN-DAIRY",)

    def ind(value, pilot="KEN-DAIRY", quarter="2017-Q1"):
        return {"Indicators": pd.DataFrame([{"pilot_id": pilot, "quarter": quarter,
                                             "indicator": "income_avg_usd", "value": value, "text": None}],
                                           dtype=object)}

    steps = [sample_tables(pilots=ken), ind(1470.0), ind(1500.0), ind(1600.0),
             sample_tables(pilots=("UGA-GOAT",)), ind(5.0, "UGA-GOAT", "2017-Q3")]
    for k, tables in enumerate(steps):
        for s in (new, old):
            assert s.commit(tables, file_bytes=f"{k}".encode(), filename=f"{k}.xlsx", user=None).ok
    for sid in (3, 4, 5, 2, 6, 1):  # S, T, the new pilot (kept: 6 names it), A, 6, base
        got = _same_result(new.rollback(sid), reference_rollback(old, sid))
        assert got["ok"]
        assert _rows(new) == _rows(old), f"rollback of {sid}"
        if sid == 4:  # T: 1470 comes back, not S's 1500
            assert new.load().indicators.set_index(["pilot_id", "quarter", "indicator"]).value[
                ("KEN-DAIRY", "2017-Q1", "income_avg_usd")] == 1470.0
        if sid == 5:
            assert {"key": "UGA-GOAT", "by": 6} in [{k: d[k] for k in ("key", "by")} for d in got["kept"]]


def test_a_value_removed_later_is_kept_as_row_by_row(two_stores):
    """No sequence of commits and rollbacks removes a value whose submission is live
    (a rollback restores that submission's version instead), but the rule says what to
    do then: keep it, naming the submission that removed it. Made here by hand."""
    new, old = two_stores
    t = DATA_TABLES["Indicators"]
    later = {"Indicators": pd.DataFrame([{"pilot_id": "KEN-DAIRY", "quarter": "2017-Q1",
                                          "indicator": "income_avg_usd", "value": 1.0, "text": None}],
                                        dtype=object)}
    for s in (new, old):
        assert s.commit(sample_tables(), file_bytes=b"1", filename="1.xlsx", user=None).ok
        assert s.commit(later, file_bytes=b"2", filename="2.xlsx", user=None).ok
        with s.engine.begin() as conn:  # as if submission 2 had removed its value
            conn.execute(sa.update(t).where(t.c.origin_id == 2, t.c.superseded_by.is_(None))
                         .values(superseded_by=2))
    got = _same_result(new.rollback(1), reference_rollback(old, 1))
    assert [(k["key"], k["reason"]) for k in got["kept"]] == [
        ("KEN-DAIRY / 2017-Q1 / income_avg_usd", "kept: removed later by submission 2")]
    assert _rows(new) == _rows(old)


def test_two_versions_replaced_by_one_submission_as_row_by_row(two_stores):
    """A store that migration 0002 repaired (two rows of a key were current; the older
    one was marked replaced by the newer one's submission) can hold two versions that
    name the same submission as what replaced them: the latest is restored, as before."""
    new, old = two_stores
    t = DATA_TABLES["Indicators"]

    def ind(value):
        return {"Indicators": pd.DataFrame([{"pilot_id": "KEN-DAIRY", "quarter": "2017-Q1",
                                             "indicator": "income_avg_usd", "value": value, "text": None}],
                                           dtype=object)}

    for s in (new, old):
        for k, tables in enumerate([sample_tables(), ind(1470.0), ind(1500.0)]):
            assert s.commit(tables, file_bytes=f"{k}".encode(), filename=f"{k}.xlsx", user=None).ok
        with s.engine.begin() as conn:  # the base's version too, as 0002's repair may leave it
            conn.execute(sa.update(t).where(t.c.submission_id == 1, t.c.superseded_by == 2,
                                            t.c.indicator == "income_avg_usd", t.c.quarter == "2017-Q1",
                                            t.c.pilot_id == "KEN-DAIRY").values(superseded_by=3))
    got = _same_result(new.rollback(3), reference_rollback(old, 3))
    assert got["ok"] and got["restored"] == 1
    assert _rows(new) == _rows(old)
    assert new.load().indicators.set_index(["pilot_id", "quarter", "indicator"]).value[
        ("KEN-DAIRY", "2017-Q1", "income_avg_usd")] == 1470.0


# --- SIGKILL in the middle of a rollback ------------------------------------------------

KILLS = 10
WAIT = 120  # seconds: a bound for a child on a loaded machine, never reached when all is well


def _current(store: Store) -> dict[str, list[tuple]]:
    """Every current row's key, values and origin, by table."""
    out = {}
    with store.engine.connect() as conn:
        for sheet in catalogue.SHEET_ORDER:
            t = DATA_TABLES[sheet]
            keys, cols = LAYOUT[sheet]
            out[sheet] = sorted((tuple(r) for r in conn.execute(
                sa.select(*[t.c[c] for c in cols], t.c.origin_id).where(t.c.superseded_by.is_(None)))),
                key=repr)
    return out


def test_sigkill_during_a_rollback_leaves_it_whole_or_absent(store_url):
    """A rollback killed at a random moment: the store opens, and holds either every
    value as before the rollback (the submission still live) or every value as after
    it (the submission rolled back), never a mix."""
    import multiprocessing as mp

    from tests import store_workers as w

    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["linkdash.store", "tests.store_workers", "alembic.command", "alembic.config"])
    store = Store.open(store_url)
    assert store.commit(w.variant(0), file_bytes=w.file_bytes("v0"), filename="v0.xlsx", user=None).ok
    after = _current(store)  # what every rollback below must leave
    rng = random.Random(20261202)
    seen: dict[str, int] = {"before": 0, "after": 0}
    statements = None
    for k in range(1, KILLS + 2):
        sid = store.commit(w.variant(k), file_bytes=w.file_bytes(f"v{k}"), filename=f"v{k}.xlsx",
                           user=None).submission_id
        assert sid is not None
        before = _current(store)
        assert before != after
        ready = ctx.Event()
        if statements is None:  # the first: how many statements a rollback sends, to spread the kills
            counted = ctx.Queue()
            p = ctx.Process(target=w.rollback_submission, args=(store_url, sid, ready, counted))
        else:  # the moment of the kill: a statement
            p = ctx.Process(target=w.rollback_submission, args=(store_url, sid, ready),
                            kwargs={"kill_at": rng.randint(1, int(2.5 * statements))})
        p.start()
        assert ready.wait(WAIT), "the rolling back process did not start"
        if statements is None:
            statements = counted.get(timeout=WAIT)
        p.join(WAIT)
        assert p.exitcode is not None
        reopened = Store.open(store_url)  # the store opens after the kill
        try:
            status = reopened.submission(sid)["status"]
            values = _current(reopened)
            assert values == (after if status == "rolled_back" else before), f"kill {k}: a mix"
            seen["after" if status == "rolled_back" else "before"] += 1
            if status != "rolled_back":
                assert reopened.rollback(sid).ok  # the same rollback again, whole
                assert _current(reopened) == after
        finally:
            reopened.close()
    store.close()
    print(f"\n{store.engine.dialect.name}: rollbacks killed {KILLS} times, {seen} (first: not killed)")
