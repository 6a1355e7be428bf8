"""What the crash and concurrency tests (tests/test_crash_and_races.py) run in other
processes. Started through a ``forkserver`` that has imported linkdash already, so a
new importing process is ready in milliseconds even on a busy machine."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import os

import pandas as pd

TODAY = dt.date(2019, 6, 30)


@functools.lru_cache(maxsize=1)
def _demo() -> dict[str, pd.DataFrame]:
    from linkdash.demo import demo_tables

    return demo_tables(TODAY)


def variant(k: int) -> dict[str, pd.DataFrame]:
    """Pilots, Progress and the Indicators from 2018-Q3 of the demo data, with
    every number scaled by a factor of ``k`` and every milestone's note naming ``k``
    (k = 0: the demo itself): each variant changes several hundred stored values of
    three sheets at once."""
    demo = _demo()
    f = 1 + k / 1000
    pilots = demo["Pilots"].copy()
    pilots["target_households"] = (pilots["target_households"].astype(float) * f).astype(object)
    progress = demo["Progress"].copy()
    progress["notes"] = [f"variant {k}"] * len(progress)
    ind = demo["Indicators"]
    ind = ind[ind["quarter"] >= "2018-Q3"].copy()
    # parts and totals grow alike; scores stay whole numbers 1 to 5
    is_score = ind["indicator"].str.startswith("nbmp_")
    ind["value"] = (ind["value"].astype(float) * f).where(~is_score, ind["value"]).astype(object)
    return {"Pilots": pilots, "Progress": progress, "Indicators": ind.reset_index(drop=True)}


def file_bytes(tag: str) -> bytes:
    return f"linkdash test file {tag}".encode()


def sha(tag: str) -> str:
    return hashlib.sha256(file_bytes(tag)).hexdigest()


def _then_exit(url: str, ready, counted, act, kill_at: int | None = None) -> None:
    """Open the store, say so, ``act(store)`` and exit at once. The statements ``act``
    sends are counted: with ``kill_at`` the process SIGKILLs itself just before statement
    number ``kill_at`` (the test's kill moment, the same on a loaded machine); without
    it, the count is put on ``counted`` (to spread the kills over ``act``)."""
    import signal

    import sqlalchemy as sa

    from linkdash.store import Store

    store = Store.open(url)
    n = 0

    def count(*_args) -> None:
        nonlocal n
        n += 1
        if n == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    sa.event.listen(store.engine, "before_cursor_execute", count)
    ready.set()
    act(store)
    if counted is not None:
        counted.put(n)
        counted.close()
        counted.join_thread()  # flushed before the hard exit
    os._exit(0)


def commit_tables(url: str, tag: str, tables, ready, counted=None, kill_at: int | None = None) -> None:
    """Commit ``tables`` as the file ``tag`` in a process killed mid-way (``_then_exit``)."""
    _then_exit(url, ready, counted, lambda store: store.commit(
        tables, file_bytes=file_bytes(tag), filename=f"{tag}.xlsx", user="crash"), kill_at)


def rollback_submission(url: str, sid: int, ready, counted=None, kill_at: int | None = None) -> None:
    """Roll back submission ``sid`` in a process killed mid-way (``_then_exit``)."""
    def roll_back(store) -> None:
        assert store.rollback(sid, user="crash").ok

    _then_exit(url, ready, counted, roll_back, kill_at)


def indicator_file(pilot: str, income: float) -> dict[str, pd.DataFrame]:
    rows = [{"pilot_id": pilot, "quarter": q, "indicator": ind, "value": v, "text": None}
            for q in ("2017-Q1", "2017-Q2")
            for ind, v in (("income_avg_usd", income), ("households_reached", 100.0 + income % 7))]
    return {"Indicators": pd.DataFrame(rows, dtype=object)}


def commit_many(url: str, worker: str, pilot: str, n: int, start, results) -> None:
    """``n`` commits of small Indicators files for ``pilot``; puts
    (tag, submission_id or None, error codes) on ``results`` for each."""
    from linkdash.store import Store

    store = Store.open(url)
    start.wait()
    for i in range(n):
        tag = f"{worker}-{i}"
        income = 400.0 + 10 * (abs(hash(worker)) % 50) + i
        try:
            r = store.commit(indicator_file(pilot, income), file_bytes=file_bytes(tag),
                             filename=f"{tag}.xlsx", user=worker)
            results.put((tag, pilot, income, r.submission_id, [p.code for p in r.errors]))
        except Exception as exc:  # noqa: BLE001 - reported to the test
            results.put((tag, pilot, income, None, [repr(exc)]))
    store.close()


def rollback_many(url: str, n: int, start, stop, results) -> None:
    """``n`` times: roll back the newest upload that is not rolled back yet (waiting
    for one while the committers still run: ``stop`` says they are done)."""
    import time

    from linkdash.store import Store

    store = Store.open(url)
    start.wait()
    done = 0
    while done < n:
        subs = store.submissions()
        live = subs[(subs.kind == "upload") & (subs.status == "committed")
                    & (subs.filename != "base.xlsx")]
        if live.empty:
            if stop.is_set():
                break
            time.sleep(0.01)  # polling for the condition "an upload exists"
            continue
        try:
            r = store.rollback(int(live.id.iloc[0]), user="racer")
            results.put(("rollback", int(live.id.iloc[0]), r.ok, r.message))
        except Exception as exc:  # noqa: BLE001
            results.put(("rollback", int(live.id.iloc[0]), False, repr(exc)))
        done += 1
    store.close()


def open_store(url: str, start, results) -> None:
    from linkdash.store import Store

    start.wait()
    try:
        s = Store.open(url)
        results.put(("ok", s.data_version()))
        s.close()
    except Exception as exc:  # noqa: BLE001
        results.put(("error", repr(exc)))
