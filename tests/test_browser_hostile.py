"""The worst files, uploaded through the real app in Chromium: the uploader gets a clear
message (never an endless "Reading and checking..."), and the server still answers
another director's session, which draws its Overview."""

from __future__ import annotations

import urllib.request

import pytest

from tests import browser_support as bs
from tests import hostile

pytestmark = pytest.mark.browser

WORST = ["corner_cells", "date_serial_huge", "ods_repeated_columns", "ragged_csv", "long_digits",
         "formula_errors_unclosed"]


def _health(url: str) -> bytes:
    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=10) as r:
        return r.read()


def test_worst_files_leave_the_server_answering_other_sessions(browser, tmp_path):
    b, blocked = browser
    with bs.running_app(with_demo=True) as app:
        uploader = bs.new_offline_page(b, blocked)
        other = bs.new_offline_page(b, blocked)
        for kind in WORST:
            name, data = hostile.KINDS[kind][0]()
            path = tmp_path / name
            path.write_bytes(data)
            uploader.goto(app.url + "/upload")
            bs.wait_for_app(uploader)
            with uploader.expect_file_chooser() as fc:
                uploader.get_by_test_id("stFileUploaderDropzone").click()
            fc.value.set_files(str(path))
            # the answer: an error box naming the file, not a spinner for ever
            uploader.locator("[data-testid='stAlertContentError']").first.wait_for(timeout=90_000)
            bs.wait_for_app(uploader)
            text = uploader.inner_text("body")
            assert name in text, (kind, text[:500])
            assert not bs.exceptions_on_page(uploader), kind
            # meanwhile and afterwards the server answers everyone else
            assert _health(app.url) == b"ok"
            other.goto(app.url + "/")
            bs.wait_for_app(other)
            other.wait_for_selector("[data-testid='stMetric']")
            assert not bs.exceptions_on_page(other)
            assert app.proc.poll() is None, app.output()[-2000:]
        bs.screenshot(uploader, "upload_hostile_last")
        uploader.context.close()
        other.context.close()
    assert not blocked
