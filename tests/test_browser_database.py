"""PostgreSQL going away while the app runs: the test starts its own PostgreSQL (initdb
on a free port), the app draws the Overview from it, the database stops, the pages say
so in words (no traceback), and they recover once the database is back."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests import browser_support as bs

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


def _pg_bin() -> Path | None:
    for root in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (root / "initdb").exists():
            return root
    found = shutil.which("initdb")
    return Path(found).parent if found else None


class OwnPostgres:
    """A throw-away PostgreSQL cluster in a temporary folder (as the ``postgres`` user
    when the tests run as root, since PostgreSQL refuses to run as root)."""

    def __init__(self, bin_dir: Path, root: Path):
        self.bin, self.root = bin_dir, root
        self.data = root / "data"
        self.port = bs.free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = list(args)
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--"] + cmd
        return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=120)

    def init(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres",
                  "--auth=trust", "-E", "UTF8")

    def start(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60", "-l",
                  str(self.root / "pg.log"), "-o",
                  f"-p {self.port} -h 127.0.0.1 -k {self.root} -c fsync=off", "start")

    def stop(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-w", "-m", "immediate", "stop",
                  check=False)


@pytest.fixture
def own_postgres():
    bin_dir = _pg_bin()
    if bin_dir is None:
        reason = "PostgreSQL's initdb is not installed"
        if os.environ.get("LINKDASH_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason + " (LINKDASH_REQUIRE_POSTGRES=1)")
        pytest.skip(reason)
    tmp = Path(tempfile.mkdtemp(prefix="linkdash-pg-"))
    os.chmod(tmp, 0o755)
    pg = OwnPostgres(bin_dir, tmp / "pg")
    pg.init()
    pg.start()
    try:
        yield pg
    finally:
        pg.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def test_pages_say_the_database_is_away_and_recover(browser, own_postgres, tmp_path):
    b, blocked = browser
    bs.require_browser()
    subprocess.run([sys.executable, "-m", "linkdash", "--db", own_postgres.url, "demo", "--as-admin"],
                   cwd=bs.ROOT, check=True, capture_output=True, timeout=300)
    server = bs.AppServer(own_postgres.url, bs.free_port(), tmp_path / "streamlit.log")
    server.start()
    try:
        page = bs.new_offline_page(b, blocked)
        page.goto(server.url + "/")
        bs.wait_for_app(page)
        page.wait_for_selector("[data-testid='stMetric']")

        own_postgres.stop()
        for path in ("/", "/progress", "/submissions"):
            page.goto(server.url + path)
            bs.wait_for_app(page)
            page.get_by_text("The database is not answering").wait_for()
            assert not bs.exceptions_on_page(page), path
            assert "Traceback" not in page.inner_text("body")
        bs.screenshot(page, "database_away")

        own_postgres.start()
        page.get_by_role("button", name="Try again").click()
        bs.wait_for_app(page)
        page.goto(server.url + "/")
        bs.wait_for_app(page)
        page.wait_for_selector("[data-testid='stMetric']")
        assert "not answering" not in page.inner_text("body")
        assert not bs.exceptions_on_page(page)
        page.context.close()
    finally:
        server.stop()
    assert server.proc.returncode is not None
