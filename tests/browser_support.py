"""Start the real app with `streamlit run` and drive it in Debian's headless Chromium.

Patterned on Streamlit's own e2e conftest: a free port, a health check on
``/_stcore/health``, the server's output shown when it does not answer, and a wait
for the script to finish after every action. Every request that is not to localhost
is blocked (and recorded), so a page that needs the internet to draw fails here.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}


def require_browser() -> None:
    """Skip without Chromium or Playwright, unless CI says a skip is a failure."""
    missing = None
    if not Path(CHROMIUM).exists():
        missing = f"{CHROMIUM} is not installed (Debian package chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            missing = "the playwright package is not installed"
    if missing:
        if os.environ.get("LINKDASH_REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser tests are required here but {missing}")
        pytest.skip(missing)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, seconds: float) -> bool:
    """Poll ``url``'s Streamlit health endpoint (which nginx passes on) until it answers
    ok, the process ``proc`` stops, or ``seconds`` pass; whether it answered."""
    deadline = time.time() + seconds
    while time.time() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.read() == b"ok":
                    return True
        except OSError:
            time.sleep(0.3)  # polling a server that is starting (not a test's wait)
    return False


class AppServer:
    def __init__(self, db_url: str, port: int, log: Path, extra_args: list[str] | None = None,
                 root: Path = ROOT):
        self.db_url, self.port, self.log = db_url, port, log
        self.root = root  # the checkout whose app.py runs (benchmarks: an earlier one, to compare)
        self.extra_args = list(extra_args or [])  # more `streamlit run` options (a secrets file)
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        env = {**os.environ, "LINKDASH_DATABASE_URL": self.db_url, "PYTHONUNBUFFERED": "1"}
        self._log = open(self.log, "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(self.root / "app.py"),
             "--server.port", str(self.port), "--server.address", "127.0.0.1",
             "--server.headless", "true", "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none", *self.extra_args],
            cwd=self.root, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        if wait_healthy(self.url, self.proc, 60):
            return
        self.stop()
        raise RuntimeError(f"streamlit did not answer on {self.url}:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        if getattr(self, "_log", None):
            self._log.close()


def load_demo(db_url: str) -> None:
    subprocess.run([sys.executable, "-m", "linkdash", "--db", db_url, "demo", "--as-admin"],
                   cwd=ROOT, check=True, capture_output=True)


@contextmanager
def running_app(with_demo: bool = True):
    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite:///{tmp}/linkdash.sqlite"
        if with_demo:
            load_demo(db_url)
        server = AppServer(db_url, free_port(), Path(tmp) / "streamlit.log")
        server.start()
        try:
            yield server
        finally:
            server.stop()


@contextmanager
def offline_browser():
    """A Chromium in which every request to a host other than localhost is aborted.
    Yields (browser, blocked) where ``blocked`` lists the URLs that were refused."""
    from playwright.sync_api import sync_playwright

    blocked: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser, blocked
        finally:
            browser.close()


def new_offline_page(browser, blocked: list[str], width: int = 1400, height: int = 1000, *,
                     local_servers: bool = True, timeout: float = 30_000):
    """A page whose every request leaves the machine is aborted and listed in
    ``blocked``: files, data and blob URLs pass, and so does localhost unless
    ``local_servers`` is False (a report opened from disk needs no server)."""
    context = browser.new_context(viewport={"width": width, "height": height},
                                  accept_downloads=True)

    def guard(route):
        url = route.request.url
        host = urlparse(url).hostname or ""
        if url.startswith(("file:", "data:", "blob:")) or (local_servers and host in LOCAL_HOSTS):
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    page.set_default_timeout(timeout)
    return page


def wait_for_app(page, timeout: float = 120_000) -> None:
    """Wait until the app is connected and its script has finished running."""
    page.wait_for_selector("[data-testid='stApp']", timeout=timeout)
    # the script done and no grey placeholder left: the script can be done while elements
    # whose code loads lazily still show one (cards, inputs: seen on a busy machine)
    page.wait_for_function(
        "() => { const a = document.querySelector(\"[data-testid='stApp']\");"
        " return a && a.getAttribute('data-test-script-state') === 'notRunning'"
        " && !document.querySelector(\"[data-testid='stSkeleton']\"); }",
        timeout=timeout)
    charts_settled(page, timeout)


# every plotly chart (maps too: SVG shapes, see linkdash.maps) has drawn its SVG
_CHARTS_DRAWN = """() => [...document.querySelectorAll('.js-plotly-plot')]
    .every(gd => gd.querySelector('.main-svg'))"""

# resolves once every chart's drawn size has stayed the same over three painted frames
# (a relayout after a resize or a rerun is done)
_SIZES_STABLE = """() => new Promise(resolve => {
    let last = null, same = 0;
    const step = () => {
        const k = [...document.querySelectorAll('.js-plotly-plot .main-svg')]
            .map(e => {
                const r = e.getBoundingClientRect();
                return Math.round(r.width) + 'x' + Math.round(r.height);
            })
            .join();
        same = (k === last) ? same + 1 : 0; last = k;
        if (same >= 3) resolve(true); else requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
})"""


def charts_settled(page, timeout: float = 120_000) -> None:
    """Wait until every chart on the page is drawn and has stopped changing size (a
    condition on the page, never a fixed time)."""
    page.wait_for_function(_CHARTS_DRAWN, timeout=timeout)
    page.wait_for_function(_SIZES_STABLE, timeout=timeout)


def stable_box(page, locator, timeout: float = 30_000) -> dict:
    """The element's bounding box once it has stopped moving (same box over three
    painted frames: scrolling and relayout are done)."""
    handle = locator.element_handle(timeout=timeout)
    page.wait_for_function("""(el) => new Promise(resolve => {
        let last = null, same = 0;
        const step = () => { const r = el.getBoundingClientRect();
            const k = [r.x, r.y, r.width, r.height].map(Math.round).join();
            same = (k === last) ? same + 1 : 0; last = k;
            if (same >= 3) resolve(true); else requestAnimationFrame(step); };
        requestAnimationFrame(step); })""", arg=handle, timeout=timeout)
    return locator.bounding_box()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    # Streamlit scrolls inside its main block, so a full-page shot shows one screen:
    # grow the viewport to the content's height for the picture, then restore it.
    size = page.viewport_size
    height = page.evaluate("""() => Math.max(...[...document.querySelectorAll(
        "[data-testid='stMain'], [data-testid='stAppViewContainer'], section.main")]
        .map(e => e.scrollHeight), document.body.scrollHeight)""")
    page.set_viewport_size({"width": size["width"], "height": min(max(height, size["height"]), 6000)})
    charts_settled(page)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)
    return path


def exceptions_on_page(page) -> list[str]:
    return page.locator("[data-testid='stException']").all_inner_texts()


# Set by every page before any script runs: the time (ms since navigation) at which the
# page first showed its KPI cards and a drawn plotly chart, for load measurements.
DRAWN_PROBE = """
(() => {
  const done = () => document.querySelector("[data-testid='stMetric']")
    && document.querySelector(".js-plotly-plot .main-svg")
    && (document.querySelector("[data-testid='stApp']") || {getAttribute: () => null})
         .getAttribute('data-test-script-state') === 'notRunning';
  const obs = new MutationObserver(() => {
    if (window.__drawnAt === undefined && done()) { window.__drawnAt = performance.now(); obs.disconnect(); }
  });
  document.addEventListener('DOMContentLoaded', () =>
    obs.observe(document.documentElement, {subtree: true, childList: true, attributes: true}));
})();
"""


def concurrent_sessions(browser, blocked: list[str], url: str, n: int, timeout: float = 180_000
                        ) -> list[dict]:
    """Open ``url`` in ``n`` browser sessions at once (separate contexts: separate
    Streamlit sessions) and wait until each has drawn its cards and a chart. -> one dict
    per session: ``drawn_ms`` (since its navigation started) and ``exceptions``."""
    pages = []
    for _ in range(n):
        page = new_offline_page(browser, blocked, timeout=timeout)
        page.add_init_script(DRAWN_PROBE)
        pages.append(page)
    for page in pages:  # start every navigation before waiting for any
        page.goto(url, wait_until="commit")
    out = []
    for page in pages:
        page.wait_for_function("() => window.__drawnAt !== undefined", timeout=timeout)
        out.append({"drawn_ms": page.evaluate("window.__drawnAt"),
                    "exceptions": exceptions_on_page(page)})
    for page in pages:
        page.context.close()
    return out
