"""Beyond one machine: deploy/nginx.conf (the shipped file, its ports replaced) in front
of two `streamlit run` processes on one PostgreSQL database. The page is served through
nginx (WebSocket upgrade included); two uploads sent at once from two processes are both
stored, one after the other; and each app server shows the new data at its next page run
(the data version), without a restart."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests import browser_support as bs
from tests.conftest import pg_schema_url, pg_skip_reason, sample_tables, workbook_bytes

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parent.parent
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
N_PILOTS = 13


def _require(what: str | None) -> None:
    if what is None:
        return
    if "1" in (os.environ.get("LINKDASH_REQUIRE_BROWSER"), os.environ.get("LINKDASH_REQUIRE_POSTGRES")):
        pytest.fail(what)
    pytest.skip(what)


@pytest.fixture
def pg_url():
    _require(pg_skip_reason())
    with pg_schema_url() as url:
        yield url


def nginx_config(listen: int, upstream: list[int]) -> str:
    """deploy/nginx.conf with its listening port and its app servers' ports replaced."""
    text = (ROOT / "deploy" / "nginx.conf").read_text()
    text, n = re.subn(r"listen 127\.0\.0\.1:8080;", f"listen 127.0.0.1:{listen};", text)
    assert n == 1, "deploy/nginx.conf no longer listens on 127.0.0.1:8080"
    servers = "".join(f"        server 127.0.0.1:{p};\n" for p in upstream)
    text, n = re.subn(r"(        server 127\.0\.0\.1:85\d\d;\n)+", servers, text)
    assert n == 1, "deploy/nginx.conf no longer lists its app servers as server 127.0.0.1:85xx"
    return text


class Nginx:
    def __init__(self, prefix: Path, listen: int, upstream: list[int]):
        self.prefix, self.port = prefix, listen
        self.url = f"http://127.0.0.1:{listen}"
        for d in ("logs", "tmp"):
            (prefix / d).mkdir(parents=True, exist_ok=True)
        (prefix / "nginx.conf").write_text(nginx_config(listen, upstream))
        if os.geteuid() == 0:  # workers drop to nobody: let them reach their temp files
            for d in (prefix, prefix / "tmp"):
                d.chmod(0o777)
        self.proc: subprocess.Popen | None = None

    def _cmd(self, *extra: str) -> list[str]:
        return [NGINX, "-p", str(self.prefix), "-c", str(self.prefix / "nginx.conf"), *extra]

    def start(self) -> None:
        test = subprocess.run(self._cmd("-t"), capture_output=True, text=True)
        assert test.returncode == 0, test.stderr
        self.proc = subprocess.Popen(self._cmd("-g", "daemon off;"), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        if bs.wait_healthy(self.url, self.proc, 30):
            return
        if self.proc.poll() is not None:
            raise RuntimeError(f"nginx stopped: {self.proc.stderr.read().decode()}")
        raise RuntimeError(f"nginx did not answer on {self.url}: {self.log()}")

    def log(self) -> str:
        p = self.prefix / "logs" / "error.log"
        return p.read_text(errors="replace") if p.exists() else ""

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            subprocess.run(self._cmd("-s", "quit"), capture_output=True)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def _pilots_shown(page, expected: str, timeout: float = 120_000) -> None:
    """Wait until the Overview's "Pilots" card shows ``expected``."""
    page.wait_for_function(
        """(want) => [...document.querySelectorAll("[data-testid='stMetric']")].some(m => {
            const l = m.querySelector("[data-testid='stMetricLabel']");
            const v = m.querySelector("[data-testid='stMetricValue']");
            return l && v && l.innerText.trim() === 'Pilots' && v.innerText.trim() === want; })""",
        arg=expected, timeout=timeout)


def _import(db_url: str, path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "linkdash", "--db", db_url, "import", str(path),
                           "--as-admin"], cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_two_app_servers_behind_nginx_share_one_postgresql(pg_url, browser, tmp_path):
    if not Path(NGINX).exists():
        _require("nginx is not installed (Debian package nginx)")
    from linkdash import generate
    from linkdash.store import Store

    store = Store.open(pg_url)
    try:
        generate.load_store(store, generate.generate_tables(N_PILOTS, 8))
        version = store.data_version()
    finally:
        store.close()
    servers = [bs.AppServer(pg_url, bs.free_port(), tmp_path / f"app{i}.log") for i in range(2)]
    proxy = Nginx(tmp_path / "nginx", bs.free_port(), [s.port for s in servers])
    b, blocked = browser
    pages = []
    try:
        for s in servers:
            s.start()
        proxy.start()
        # each server draws the Overview (and so holds the portfolio of this version)
        for url in (proxy.url, *[s.url for s in servers]):
            page = bs.new_offline_page(b, blocked)
            page.goto(url + "/")
            bs.wait_for_app(page)
            _pilots_shown(page, str(N_PILOTS))
            assert bs.exceptions_on_page(page) == []
            pages.append(page)

        # two uploads at once, from two processes: both stored, one after the other
        one = sample_tables(pilots=("KEN-DAIRY",))
        two = {k: v for k, v in sample_tables(pilots=("UGA-GOAT",)).items()
               if k not in ("Benchmarks", "Rates")}
        files = []
        for name, tables in (("one.xlsx", one), ("two.xlsx", two)):
            files.append(tmp_path / name)
            files[-1].write_bytes(workbook_bytes(tables))
        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(lambda f: _import(pg_url, f), files))
        for r in results:
            assert r.returncode == 0, r.stdout + r.stderr
        store = Store.open(pg_url)
        try:
            assert store.data_version() == version + 2
            subs = store.submissions()
            assert len(subs) == 3 and set(subs["status"]) == {"committed"}
            assert {"KEN-DAIRY", "UGA-GOAT"} <= set(store.load().pilots["pilot_id"])
        finally:
            store.close()

        # the next page run of every server shows the new data (no restart): through
        # nginx, and on each server directly
        for page in pages:
            page.reload()
            bs.wait_for_app(page)
            _pilots_shown(page, str(N_PILOTS + 2))
            assert bs.exceptions_on_page(page) == []
        assert blocked == []
        # the page went through nginx, WebSocket included
        access = (proxy.prefix / "logs" / "access.log").read_text()
        assert re.search(r'"GET /_stcore/stream HTTP/1\.1" 101 ', access), access[-2000:]
    finally:
        for page in pages:
            page.context.close()
        proxy.stop()
        for s in servers:
            s.stop()
