"""Reading untrusted bytes where a crash cannot take the server with it.

Parsers written in Rust or C (calamine, zlib, expat) can abort the whole process, loop
for minutes or allocate without limit on a hostile file, and no ``except`` catches an
abort. ``run_isolated(func, *args)`` therefore runs ``func`` in a child process forked
from a small *fork server* (``multiprocessing``'s forkserver, with the reading modules
imported once), with

- a memory limit (``RLIMIT_AS``: the child's address space when it starts plus
  ``memory_mb``), so an allocation of hundreds of GB fails at once inside the child;
- a CPU-time limit (``RLIMIT_CPU``) and a wall-clock limit: the parent kills the child
  when ``seconds`` have passed;

and gives back ``Isolated(ok=True, value=...)``, or ``Isolated(ok=False, fault=...)`` when
the child died, ran out of time or memory, or raised. The caller turns a fault into a
problem record ("this file could not be read safely"); the server answers the next
request either way. While the child works the parent waits on a pipe and holds no lock,
so every other session goes on.

The fork server is started once per process (the first upload pays about a second);
each file is then a ``fork()`` of it, a few milliseconds. Limits come from the
environment, so an installation can raise them: ``LINKDASH_READ_SECONDS`` (default 60),
``LINKDASH_READ_MEMORY_MB`` (default 1500).
"""

from __future__ import annotations

import io
import multiprocessing
import multiprocessing.context
import os
import pickle
import resource
import signal
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing import context, forkserver, popen_forkserver, reduction, spawn, util
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

DEFAULT_SECONDS = 60.0
DEFAULT_MEMORY_MB = 1500
# what the fork server imports once, for every child (calamine too: the reader imports
# it only when it reads a spreadsheet, and its import costs each child 20 to 40 ms)
PRELOAD = ["linkdash.importer", "python_calamine"]

_lock = threading.Lock()
_context: Any = None


@dataclass(frozen=True)
class Limits:
    seconds: float = DEFAULT_SECONDS
    memory_mb: int = DEFAULT_MEMORY_MB

    @classmethod
    def from_env(cls) -> Limits:
        def num(name: str, default: float) -> float:
            try:
                v = float(os.environ.get(name, ""))
                return v if v > 0 else default
            except ValueError:
                return default

        return cls(num("LINKDASH_READ_SECONDS", DEFAULT_SECONDS),
                   int(num("LINKDASH_READ_MEMORY_MB", DEFAULT_MEMORY_MB)))


@dataclass(frozen=True)
class Isolated:
    ok: bool
    value: Any = None
    fault: str = ""  # "timeout" | "memory" | "crashed" | "error"
    detail: str = ""  # for the log, never for the user
    peak_mb: float = 0.0  # the child's peak resident memory (when it finished)
    # this process's peak resident memory until the child's answer came: while the two
    # processes exist at once, they hold at most ``peak_mb + parent_peak_mb``
    parent_peak_mb: float = 0.0


def warm() -> None:
    """Start the fork server now (in the background), so that the first upload does
    not wait for it."""
    def start() -> None:
        try:
            _ctx()
        except Exception:  # noqa: BLE001 - the first upload starts it again
            pass

    threading.Thread(target=start, name="linkdash-forkserver", daemon=True).start()


def _importable_by_fork_server() -> None:
    """Python 3.11's fork server ignores the parent's ``sys.path``: it preloads
    ``PRELOAD`` only if ``linkdash`` is importable from its working directory or
    ``PYTHONPATH``, and otherwise each reader imports pandas and linkdash again (0.3-0.5 s
    an upload). The fork server inherits the environment: ``PYTHONPATH`` names the
    folder that holds ``linkdash``."""
    root = str(Path(__file__).resolve().parents[1])
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if root not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([root, *paths])


# In the readers, glibc's malloc asks for transparent huge pages (where the kernel grants
# them on request, "madvise"): a reader touches some 300 MB of fresh memory for the
# 50,000-row workbook, which in 4 KB pages was 50,000 page faults and 0.1 s of the read.
# glibc reads it when a process starts: it is set while the fork server starts, and only
# for it (and so its readers); an older glibc ignores it.
HUGE_PAGES_TUNABLE = "glibc.malloc.hugetlb=1"


def _start_fork_server() -> None:
    before = os.environ.get("GLIBC_TUNABLES")
    tunables = [t for t in (before or "").split(":") if t]
    if not any(t.startswith("glibc.malloc.hugetlb=") for t in tunables):
        os.environ["GLIBC_TUNABLES"] = ":".join([*tunables, HUGE_PAGES_TUNABLE])
    try:
        forkserver.ensure_running()
    finally:
        if before is None:
            os.environ.pop("GLIBC_TUNABLES", None)
        else:
            os.environ["GLIBC_TUNABLES"] = before


def _ctx():
    global _context
    with _lock:
        if _context is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(PRELOAD)
            _importable_by_fork_server()
            _start_fork_server()
            _context = ctx
        return _context


class _Popen(popen_forkserver.Popen):
    """The forkserver's Popen, except that the child does not import the parent's main
    module again (multiprocessing would re-run ``streamlit``'s or a script's ``__main__``
    in every child; the reader needs only ``linkdash``). Same steps as Python 3.11's
    ``popen_forkserver.Popen._launch`` otherwise."""

    def _launch(self, process_obj):
        prep_data = spawn.get_preparation_data(process_obj._name)
        prep_data.pop("init_main_from_path", None)
        prep_data.pop("init_main_from_name", None)
        buf = io.BytesIO()
        context.set_spawning_popen(self)
        try:
            reduction.dump(prep_data, buf)
            reduction.dump(process_obj, buf)
        finally:
            context.set_spawning_popen(None)
        # _fds and util.close_fds: multiprocessing internals that typeshed leaves out
        self.sentinel, w = forkserver.connect_to_new_process(self._fds)  # type: ignore[attr-defined]
        parent_w = os.dup(w)
        self.finalizer = util.Finalize(self, util.close_fds,  # type: ignore[attr-defined]
                                       (parent_w, self.sentinel))
        with open(w, "wb", closefd=True) as f:
            f.write(buf.getbuffer())
        self.pid = forkserver.read_signed(self.sentinel)


class _Process(multiprocessing.context.ForkServerProcess):
    @staticmethod
    def _Popen(process_obj):
        return _Popen(process_obj)


def _status_kb(field: str) -> int | None:
    """A ``/proc/self/status`` figure in kB (``VmSize``, ``VmHWM``), None without /proc."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _vm_bytes() -> int:
    return (_status_kb("VmSize") or 0) * 1024


def peak_rss_kb() -> int:
    """This process's own peak resident memory in kB (VmHWM). Not ``ru_maxrss``: Linux
    carries that across ``exec``, so a process started by a large one (a benchmark that
    built its data first, a supervisor) would report its parent's peak as its own."""
    hwm = _status_kb("VmHWM")
    return hwm if hwm is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _child(conn, limits: Limits, func: Callable, args: tuple) -> None:
    """In the child: set the limits, run ``func`` and send back a pickled result."""
    try:
        budget = int(limits.memory_mb) * 2**20
        limit = _vm_bytes() + budget
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        cpu = max(1, int(limits.seconds) + 1)
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    except (ValueError, OSError):
        pass
    try:
        value = func(*args)
        peak_kb = peak_rss_kb()
        payload = pickle.dumps(("ok", (value, peak_kb)), protocol=pickle.HIGHEST_PROTOCOL)
    except MemoryError:
        payload = pickle.dumps(("memory", "MemoryError"))
    except BaseException as exc:  # noqa: BLE001 - a Rust panic is a BaseException
        payload = pickle.dumps(("error", "".join(traceback.format_exception(exc))[-4000:]))
    try:
        conn.send_bytes(payload)
    finally:
        conn.close()
    # the answer is sent: end at once, without freeing what the reading built, one
    # object at a time (the parent waits for the exit)
    os._exit(0)


def run_isolated(func: Callable, *args: Any, limits: Limits | None = None) -> Isolated:
    """``func(*args)`` in a forked child with memory and time limits (see the module
    docstring). ``func`` must be importable (module level) and its result picklable."""
    limits = limits or Limits.from_env()
    ctx = _ctx()
    recv, send = ctx.Pipe(duplex=False)
    proc = _Process(target=_child, args=(send, limits, func, args), daemon=True)
    proc.start()
    send.close()
    deadline = time.monotonic() + limits.seconds
    payload: bytes | None = None
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return Isolated(False, fault="timeout", detail=f"more than {limits.seconds:g} s")
            ready = wait([recv, proc.sentinel], timeout=left)
            if recv in ready:
                try:
                    payload = recv.recv_bytes()
                except (EOFError, OSError):
                    payload = None
                break
            if proc.sentinel in ready:
                # died; a result may still be in the pipe
                if recv.poll(0):
                    try:
                        payload = recv.recv_bytes()
                    except (EOFError, OSError):
                        payload = None
                break
    finally:
        if payload is None and proc.is_alive():
            proc.kill()
        proc.join(5)
        if proc.is_alive() and proc.pid is not None:  # pragma: no cover - a child that ignores SIGKILL
            os.kill(proc.pid, signal.SIGKILL)
        recv.close()
    if payload is None:
        code = proc.exitcode
        if code is not None and code < 0:
            sig = -code
            if sig == signal.SIGXCPU:
                return Isolated(False, fault="timeout", detail="CPU time limit")
            if sig in (signal.SIGKILL, signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS):
                # an allocation refused under RLIMIT_AS aborts Rust and most C code
                return Isolated(False, fault="crashed", detail=f"signal {signal.Signals(sig).name}")
        return Isolated(False, fault="crashed", detail=f"exit code {code}")
    parent_kb = peak_rss_kb()
    status, value = pickle.loads(payload)
    if status == "ok":
        return Isolated(True, value[0], peak_mb=value[1] / 1024, parent_peak_mb=parent_kb / 1024)
    return Isolated(False, fault=status, detail=str(value))


__all__ = ["Limits", "Isolated", "run_isolated", "warm"]
