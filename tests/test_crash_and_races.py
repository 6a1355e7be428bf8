"""SIGKILL in the middle of commits, concurrent imports from several processes, an
import racing a rollback, several processes opening one store: on SQLite and on
PostgreSQL, every submission is wholly there or wholly absent, stored once, with a
complete history. Child processes come from a forkserver that has imported linkdash
(tests/store_workers.py), so each starts in milliseconds; the tests wait on events
and queues, and a killed child kills itself at a random statement of its work."""

from __future__ import annotations

import multiprocessing as mp
import queue as queue_mod
import random
from collections import Counter

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from linkdash.store import DATA_TABLES, Store
from tests import store_workers as w

KILLS = 20
WAIT = 120  # seconds: a bound for a child on a loaded machine, never reached when all is well


@pytest.fixture(scope="module")
def ctx():
    c = mp.get_context("forkserver")
    c.set_forkserver_preload(["linkdash.store", "linkdash.demo", "tests.store_workers",
                             "alembic.command", "alembic.config", "alembic.runtime.migration"])
    return c


def _indicator_values(store) -> dict:
    t = DATA_TABLES["Indicators"]
    with store.engine.connect() as conn:
        return {(r[0], r[1], r[2]): float(r[3]) for r in conn.execute(
            sa.select(t.c.pilot_id, t.c.quarter, t.c.indicator, t.c.value)
            .where(t.c.superseded_by.is_(None), t.c.value.is_not(None)))}


def _crash_values(store) -> pd.Series:
    """The current numbers of Indicators, Pilots (target_households) and the notes of
    Progress, by key: what the crash test's variants change."""
    out = {}
    with store.engine.connect() as conn:
        t = DATA_TABLES["Indicators"]
        for r in conn.execute(sa.select(t.c.pilot_id, t.c.quarter, t.c.indicator, t.c.value)
                              .where(t.c.superseded_by.is_(None), t.c.value.is_not(None))):
            out[("I", r[0], r[1], r[2])] = float(r[3])
        t = DATA_TABLES["Pilots"]
        for r in conn.execute(sa.select(t.c.pilot_id, t.c.target_households)
                              .where(t.c.superseded_by.is_(None))):
            out[("P", r[0], "", "")] = float(r[1])
        t = DATA_TABLES["Progress"]
        for r in conn.execute(sa.select(t.c.pilot_id, t.c.milestone, t.c.notes)
                              .where(t.c.superseded_by.is_(None))):
            out[("M", r[0], r[1], "")] = float(r[2].split()[-1])
    return pd.Series(out, dtype=float).sort_index()


def _expected(k: int) -> pd.Series:
    v = w.variant(k)
    out = {("I", r.pilot_id, r.quarter, r.indicator): float(r.value)
           for r in v["Indicators"].itertuples(index=False) if pd.notna(r.value)}
    out.update({("P", r.pilot_id, "", ""): float(r.target_households)
                for r in v["Pilots"].itertuples(index=False)})
    out.update({("M", r.pilot_id, r.milestone, ""): float(k) for r in v["Progress"].itertuples(index=False)})
    return pd.Series(out, dtype=float).sort_index()


def _same_values(a: pd.Series, b: pd.Series) -> bool:
    return list(a.index) == list(b.index) and np.allclose(a.to_numpy(), b.to_numpy(), rtol=1e-12)


def _written_as_counted(store) -> None:
    """Every upload wrote exactly the versions its summary counts (new + changed)."""
    with store.engine.connect() as conn:
        written = Counter()
        for t in DATA_TABLES.values():
            for sid, n in conn.execute(sa.select(t.c.submission_id, sa.func.count())
                                       .group_by(t.c.submission_id)).all():
                written[sid] += n
    subs = store.submissions()
    for r in subs[subs.kind != "rollback"].itertuples():
        assert written[r.id] == r.new + r.changed, f"submission {r.id}"


def test_sigkill_during_commits_leaves_each_submission_whole_or_absent(store_url, ctx):
    store = Store.open(store_url)
    store.commit(w.variant(0), file_bytes=w.file_bytes("v0"), filename="v0.xlsx", user=None)
    # how many statements a commit sends, to spread the kills over it
    ready, counted = ctx.Event(), ctx.Queue()
    p = ctx.Process(target=w.commit_tables, args=(store_url, "v1", w.variant(1), ready, counted))
    p.start()
    statements = counted.get(timeout=WAIT)
    p.join(WAIT)
    rng = random.Random(20260120)
    seen = Counter()
    state = 1  # the variant the store holds
    for k in range(2, 2 + KILLS):
        ready = ctx.Event()
        kill_at = rng.randint(1, int(1.5 * statements))  # the moment of the kill: a statement
        p = ctx.Process(target=w.commit_tables, args=(store_url, f"v{k}", w.variant(k), ready),
                        kwargs={"kill_at": kill_at})
        p.start()
        assert ready.wait(WAIT), "the importing process did not start"
        p.join(WAIT)
        assert p.exitcode is not None
        killed = p.exitcode == -9
        reopened = Store.open(store_url)  # the store opens after the kill
        try:
            values = _crash_values(reopened)
            if reopened.find_submission_by_hash(w.sha(f"v{k}")) is not None:
                assert _same_values(values, _expected(k)), f"kill {k}: partly stored"
                seen["whole" if killed else "finished"] += 1
            else:
                assert _same_values(values, _expected(state)), f"kill {k}: changed without its submission"
                seen["absent"] += 1
                # the same file imports again
                again = reopened.commit(w.variant(k), file_bytes=w.file_bytes(f"v{k}"),
                                        filename=f"v{k}.xlsx", user=None)
                assert again.ok and again.submission_id is not None
                assert _same_values(_crash_values(reopened), _expected(k))
            state = k
        finally:
            reopened.close()
    _written_as_counted(store)
    subs = store.submissions()
    assert len(subs) == KILLS + 2 and subs.filename.is_unique
    print(f"\n{store.engine.dialect.name}: {KILLS} kills (commit: {statements} statements): {dict(seen)}")
    assert seen["absent"] >= 1  # some kills came before the commit ended
    store.close()


def _replay_uploads(results) -> dict[tuple, float]:
    """What the store must hold: each accepted file's values, in submission order."""
    expected: dict[tuple, float] = {}
    for _tag, pilot, income, _sid, _ in sorted((r for r in results if r[3] is not None), key=lambda r: r[3]):
        for rec in w.indicator_file(pilot, income)["Indicators"].itertuples(index=False):
            expected[(rec.pilot_id, rec.quarter, rec.indicator)] = float(rec.value)
    return expected


def _drain(q, n):
    out = []
    for _ in range(n):
        out.append(q.get(timeout=WAIT))
    return out


def test_concurrent_imports_from_several_processes(store_url, ctx):
    from conftest import sample_tables

    store = Store.open(store_url)
    store.commit(sample_tables(pilots=("KEN-DAIRY", "VNM-DAIRY", "UGA-GOAT")), file_bytes=b"base",
                 filename="base.xlsx", user=None)
    workers = [("a", "KEN-DAIRY"), ("b", "KEN-DAIRY"), ("c", "VNM-DAIRY"), ("d", "UGA-GOAT")]
    n = 4
    start, results = ctx.Barrier(len(workers)), ctx.Queue()
    procs = [ctx.Process(target=w.commit_many, args=(store_url, name, pilot, n, start, results))
             for name, pilot in workers]
    for p in procs:
        p.start()
    got = _drain(results, n * len(workers))
    for p in procs:
        p.join(WAIT)
    assert [r for r in got if r[4]] == []  # no error, no conflict
    ids = [r[3] for r in got]
    assert len(set(ids)) == len(ids) == n * len(workers)
    subs = store.submissions()
    uploads = subs[subs.filename != "base.xlsx"]
    assert sorted(uploads.id) == sorted(ids)  # every accepted submission stored once
    assert uploads.filename.is_unique
    values = _indicator_values(store)
    for key, v in _replay_uploads(got).items():
        assert values[key] == pytest.approx(v), key
    _written_as_counted(store)
    # the history of KEN's income: one version per submission that changed it, in order
    hist = store.history("KEN-DAIRY")
    inc = hist[(hist.field == "income_avg_usd") & hist.key.str.contains("2017-Q1")]
    assert inc.current.sum() == 1
    assert inc.submission_id.is_monotonic_increasing
    print(f"\n{store.engine.dialect.name}: {len(ids)} concurrent imports from {len(workers)} processes")
    store.close()


def test_an_import_racing_a_rollback(store_url, ctx):
    from conftest import sample_tables

    store = Store.open(store_url)
    store.commit(sample_tables(pilots=("KEN-DAIRY",)), file_bytes=b"base", filename="base.xlsx",
                 user=None)
    n = 6
    start, stop, results = ctx.Barrier(2), ctx.Event(), ctx.Queue()
    committer = ctx.Process(target=w.commit_many, args=(store_url, "c", "KEN-DAIRY", n, start, results))
    roller = ctx.Process(target=w.rollback_many, args=(store_url, n, start, stop, results))
    committer.start()
    roller.start()
    got = []
    commits = 0
    while commits < n:
        r = results.get(timeout=WAIT)
        got.append(r)
        commits += r[0] != "rollback"
    stop.set()
    roller.join(WAIT)
    committer.join(WAIT)
    while True:
        try:
            got.append(results.get_nowait())
        except queue_mod.Empty:
            break
    uploads = [r for r in got if r[0] != "rollback"]
    rollbacks = [r for r in got if r[0] == "rollback"]
    assert all(r[3] is not None and not r[4] for r in uploads), uploads
    assert all(ok or "already rolled back" in msg for _, _, ok, msg in rollbacks), rollbacks
    subs = store.submissions().set_index("id")
    for r in uploads:
        assert subs.loc[r[3], "kind"] == "upload"
    done = [sid for _, sid, ok, _ in rollbacks if ok]
    assert sorted(subs[subs.status == "rolled_back"].index) == sorted(done)
    # what the store must hold: replay every submission in order with the rollback rule
    expected = _replay_with_rollbacks(store, {r[3]: r for r in uploads})
    values = _indicator_values(store)
    ken = {k: v for k, v in values.items() if k[2] in ("income_avg_usd", "households_reached")}
    assert ken == pytest.approx(expected)
    _written_as_counted(store)
    print(f"\n{store.engine.dialect.name}: {len(uploads)} imports raced {len(done)} rollbacks")
    store.close()


def _replay_with_rollbacks(store, uploads: dict) -> dict[tuple, float]:
    """The spec's rules, replayed: a commit stores what differs; rolling back S puts
    every value S set that is still current back to the latest value set before S by
    a submission not rolled back, or removes it."""
    from conftest import sample_tables

    versions: dict[tuple, list[tuple[float, int]]] = {}  # key -> [(value, origin)] in order
    current: dict[tuple, tuple[float, int] | None] = {}
    rolled: set[int] = set()

    def write(sid, rows):
        for key, v in rows:
            cur = current.get(key)
            if cur is None or cur[0] != v:
                versions.setdefault(key, []).append((v, sid))
                current[key] = (v, sid)

    base = sample_tables(pilots=("KEN-DAIRY",))["Indicators"]
    subs = store.submissions().sort_values("id")
    for r in subs.itertuples():
        if r.filename == "base.xlsx":
            write(r.id, [((x.pilot_id, x.quarter, x.indicator), x.value) for x in base.itertuples()
                         if x.value is not None and x.indicator in ("income_avg_usd", "households_reached")])
        elif r.kind == "upload":
            tag, pilot, income, _, _ = uploads[r.id]
            write(r.id, [((x.pilot_id, x.quarter, x.indicator), float(x.value)) for x in
                         w.indicator_file(pilot, income)["Indicators"].itertuples()])
        elif r.kind == "rollback":
            target = r.summary["rolled_back"]
            for key, cur in list(current.items()):
                if cur is None or cur[1] != target:
                    continue
                hist = versions[key]
                first = next(i for i, (_, o) in enumerate(hist) if o == target)
                earlier = [h for h in hist[:first] if h[1] not in rolled]
                current[key] = earlier[-1] if earlier else None
                if current[key] is not None:
                    hist.append(current[key])
            rolled.add(target)
    return {k: v[0] for k, v in current.items() if v is not None}


def test_several_processes_opening_one_new_store_at_once(store_url, ctx):
    n = 6
    start, results = ctx.Barrier(n), ctx.Queue()
    procs = [ctx.Process(target=w.open_store, args=(store_url, start, results)) for _ in range(n)]
    for p in procs:
        p.start()
    got = _drain(results, n)
    for p in procs:
        p.join(WAIT)
    assert got == [("ok", 0)] * n
