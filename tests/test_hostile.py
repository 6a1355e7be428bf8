"""Hostile and broken files (tests/hostile.py) through the real import, as the Upload page
and ``python -m linkdash import`` run it: each gets its clear problem, in bounded time
and memory, nothing of it is stored, and the process that checked it goes on."""

from __future__ import annotations

import time

import pytest

from linkdash import access, sandbox, submit
from linkdash.importer import check_file
from tests import hostile
from tests.workbook_builder import reference_portfolio

ADMIN = access.local_admin()

TIME_BOUND_S = 45  # generous: the reader's own wall-clock limit is 60 s; most take < 1 s
MEMORY_BOUND_MB = 400  # growth of the checking (server) process's peak memory


def _peak_mb() -> float:
    return sandbox.peak_rss_kb() / 1024  # (ru_maxrss may be a launcher's, carried across exec)


@pytest.fixture(scope="module")
def reference():
    return reference_portfolio()


@pytest.mark.parametrize("kind", sorted(hostile.KINDS))
def test_hostile_file_gets_its_problem_and_changes_nothing(kind, store):
    make, expected = hostile.KINDS[kind]
    filename, data = make()
    demo_like = hostile.reference_pilots_workbook()
    assert submit.import_file(store, demo_like, "pilots.xlsx", actor=ADMIN).ok
    version, before = store.data_version(), len(store.submissions())
    peak = _peak_mb()
    t = time.monotonic()
    outcome = submit.import_file(store, data, filename, actor=ADMIN)
    elapsed = time.monotonic() - t
    codes = {p.code for p in outcome.errors + outcome.warnings}
    assert codes & expected, (kind, sorted(codes), [p.message for p in outcome.errors[:3]])
    assert elapsed < TIME_BOUND_S, (kind, elapsed)
    assert _peak_mb() - peak < MEMORY_BOUND_MB, (kind, _peak_mb() - peak)
    for p in outcome.errors + outcome.warnings:
        assert p.message and len(p.message) < 1200, p  # a message a person reads
        assert p.value is None or len(str(p.value)) <= 200, p
    if outcome.errors:
        assert store.data_version() == version
        assert len(store.submissions()) == before
    # the store still works: a good file imports after the hostile one
    good = submit.import_file(store, hostile.good_indicators(), "good.xlsx", actor=ADMIN)
    assert good.ok and good.submission_id is not None, [p.message for p in good.errors]


def test_at_least_forty_kinds():
    assert len(hostile.KINDS) >= 40


def test_a_crashing_reader_leaves_this_process_answering(reference):
    """The 2 KB workbook that makes calamine allocate 512 GB: the child dies, this
    process gets one clear error and checks the next file as usual."""
    name, data = hostile.corner_cells()
    c = check_file(data, name, reference)
    assert [p.code for p in c.report.errors] == ["file_unsafe"]
    assert "could not be read safely" in c.report.errors[0].message
    assert "correct the cells" not in c.report.errors[0].message.lower()
    ok = check_file(hostile.good_indicators(), "good.xlsx", reference)
    assert ok.report.ok, ok.report.errors


def test_time_limit_stops_a_slow_reader():
    """A reader that never ends is stopped at the wall-clock limit."""
    t = time.monotonic()
    r = sandbox.run_isolated(time.sleep, 30, limits=sandbox.Limits(seconds=2, memory_mb=500))
    assert not r.ok and r.fault == "timeout"
    assert time.monotonic() - t < 15


def test_memory_limit_stops_a_greedy_reader():
    r = sandbox.run_isolated(bytearray, 3 * 2**30, limits=sandbox.Limits(seconds=20, memory_mb=300))
    assert not r.ok and r.fault in ("memory", "crashed")


def test_the_isolated_reader_gives_the_same_result_as_reading_here(reference):
    data = hostile.good_indicators()
    a = check_file(data, "good.xlsx", reference)
    b = check_file(data, "good.xlsx", reference, isolated=False)
    assert a.report.problems == b.report.problems
    assert a.tables["Indicators"].equals(b.tables["Indicators"])


def test_nul_text_is_refused_alike_on_every_store(store):
    name, data = hostile.nul_text()
    out = submit.import_file(store, data, name, actor=ADMIN)
    assert not out.ok
    bad = [p for p in out.errors if p.code == "bad_text"]
    assert bad and bad[0].sheet == "Progress" and bad[0].cell == "D2"
    assert "\\x00" in bad[0].value


def test_infinite_money_through_a_tiny_rate_is_an_error(reference):
    from tests.workbook_builder import xlsx_bytes

    data = xlsx_bytes({
        "Rates": [["currency", "quarter", "units_per_usd"], ["KES", "2017-Q3", 1e-300]],
        "Indicators": [["pilot_id", "quarter", "income_avg_local"], ["KEN-DAIRY", "2017-Q3", 1e300]],
    })
    c = check_file(data, "rates.xlsx", reference)
    errs = [(p.code, p.sheet, p.cell) for p in c.report.errors]
    assert ("not_a_number", "Indicators", "C2") in errs, errs


def test_the_fork_server_holds_the_reading_modules_whatever_the_working_directory(tmp_path):
    """Python 3.11's fork server ignores the parent's sys.path: started from a folder where
    linkdash is not importable it preloaded nothing, and every upload's reader imported
    pandas and linkdash again (0.3-0.5 s an upload). Started from elsewhere, it holds
    them (pandas' compiled modules are mapped in its memory)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    code = (f"import sys; sys.path.insert(0, {str(root)!r})\n"
            "from multiprocessing import forkserver\n"
            "from linkdash import sandbox\n"
            "import os; sandbox.run_isolated(os.getpid)  # (answers once it has preloaded)\n"
            "pid = forkserver._forkserver._forkserver_pid\n"
            "print(any('/pandas/_libs/' in line for line in open(f'/proc/{pid}/maps')))\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "True", "the fork server did not preload linkdash.importer"


@pytest.mark.parametrize("before", [None, "glibc.malloc.arena_max=2"])
def test_the_readers_malloc_asks_for_huge_pages_and_the_server_is_left_alone(monkeypatch, before):
    """The fork server (and so every reader) starts with glibc's huge-page tunable, beside
    any tunables already set; the server's own environment is as it was afterwards."""
    import os
    from multiprocessing import forkserver

    if before is None:
        monkeypatch.delenv("GLIBC_TUNABLES", raising=False)
    else:
        monkeypatch.setenv("GLIBC_TUNABLES", before)
    seen = []
    monkeypatch.setattr(forkserver, "ensure_running", lambda: seen.append(os.environ.get("GLIBC_TUNABLES")))
    sandbox._start_fork_server()
    wanted = sandbox.HUGE_PAGES_TUNABLE if before is None else f"{before}:{sandbox.HUGE_PAGES_TUNABLE}"
    assert seen == [wanted]
    assert os.environ.get("GLIBC_TUNABLES") == before


def test_the_readers_memory_figures_are_this_servers_own_not_its_launchers(tmp_path):
    """The isolated read reports its peak and the server's peak while it ran (the
    benchmark's import memory). Linux carries ``ru_maxrss`` across ``exec``: a server
    started by a large process (a benchmark that had just generated a 1,000-pilot
    workbook, a supervisor) reported the launcher's peak as its own (the import's peak
    read 775 MB, measured alone 352 MB). The figures are the processes' own (VmHWM)."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    (tmp_path / "pilots.xlsx").write_bytes(hostile.reference_pilots_workbook())
    measure = (f"import sys; sys.path.insert(0, {str(root)!r})\n"
               "from linkdash import importer\n"
               f"data = open({str(tmp_path / 'pilots.xlsx')!r}, 'rb').read()\n"
               "assert importer.read_isolated(data, 'pilots.xlsx').report.ok\n"
               "print(importer.last_reader_peak_mb, importer.last_read_together_peak_mb)\n")
    # the launcher holds 600 MB (touched), then becomes the server by exec
    launcher = ("import os, sys\n"
                "ballast = bytearray(600 * 2**20)\n"
                "for i in range(0, len(ballast), 4096): ballast[i] = 1\n"
                f"os.execv(sys.executable, [sys.executable, '-c', {measure!r}])\n")
    out = subprocess.run([sys.executable, "-c", launcher], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    reader, together = map(float, out.stdout.split())
    assert 0 < reader < together < 450, (reader, together)
