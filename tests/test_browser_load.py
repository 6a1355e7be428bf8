"""Twenty directors open the Overview at once: every session draws its cards and its
charts, with no error on any. (How long it takes is measured in
benchmarks/bench_sessions.py, not asserted here.)"""

from __future__ import annotations

import pytest

from tests import browser_support as bs

pytestmark = pytest.mark.browser


def test_twenty_concurrent_sessions_all_draw_the_overview(app, browser):
    b, blocked = browser
    sessions = bs.concurrent_sessions(b, blocked, app.url + "/", 20, timeout=600_000)
    assert len(sessions) == 20
    assert all(s["drawn_ms"] > 0 for s in sessions)
    failed = [s["exceptions"] for s in sessions if s["exceptions"]]
    assert not failed, f"{failed}\n--- the server's log ---\n{app.output()[-6000:]}"
    assert "Traceback" not in app.output(), app.output()[-6000:]
    assert app.proc.poll() is None
    assert not blocked
