""""Export what you see" in the app (AppTest): the Overview and the Presentation page
offer data (.xlsx), indicators (.csv), slides (.pptx) and report (.html) of the sidebar's
filter, named for what they hold, built only when clicked.

AppTest does not hand out a download's bytes, so the tests keep the callables that
``st.download_button`` registers (``MediaFileManager.add_deferred``) and call them as
the server does when the button is clicked.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from linkdash import exports, figures
from linkdash.portfolio import Filter

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
LABELS = ["Data (.xlsx)", "Indicators (.csv)", "Slides (.pptx)", "Report (.html)"]


@pytest.fixture
def stored(demo_url):
    from linkdash.store import Store

    return Store.open(demo_url).load()


@pytest.fixture
def downloads(monkeypatch):
    """file id -> (callable, file name, mime) of every deferred download registered."""
    kept: dict[str, tuple] = {}
    original = MediaFileManager.add_deferred

    def keep(self, data_callable, mimetype, coordinates, file_name=None, **kw):
        file_id = original(self, data_callable, mimetype, coordinates, file_name=file_name, **kw)
        kept[file_id] = (data_callable, file_name, mimetype)
        return file_id

    monkeypatch.setattr(MediaFileManager, "add_deferred", keep)
    return kept


@pytest.fixture
def built(monkeypatch):
    """The formats built so far (every export goes through ``exports.export_bytes``)."""
    made: list[str] = []
    original = exports.export_bytes

    def counting(suffix, *args, **kw):
        made.append(suffix)
        return original(suffix, *args, **kw)

    monkeypatch.setattr(exports, "export_bytes", counting)
    return made


def open_page(name: str, query: dict) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(query)
    at.run()
    if name != "overview":
        at.switch_page(f"pages/{name}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def export_buttons(at: AppTest, downloads: dict) -> dict[str, tuple]:
    """label -> (callable, file name, mime) of the page's export buttons."""
    out = {}
    for b in at.get("download_button"):
        if b.label in LABELS:
            assert b.proto.deferred_file_id in downloads, f"{b.label} is not built on click"
            out[b.label] = downloads[b.proto.deferred_file_id]
    return out


def pilot_ids(xlsx: bytes, sheet: str) -> set[str]:
    ws = openpyxl.load_workbook(io.BytesIO(xlsx))[sheet]
    return {row[0] for row in ws.iter_rows(min_row=2, values_only=True) if row[0]}


def quarters_in(xlsx: bytes, sheet: str = "Indicators") -> set[str]:
    ws = openpyxl.load_workbook(io.BytesIO(xlsx))[sheet]
    return {row[1] for row in ws.iter_rows(min_row=2, values_only=True) if row[1]}


def test_overview_of_africa_offers_the_four_files_of_africa_only(demo_url, stored, downloads, built):
    africa = set(stored.pilots.loc[stored.pilots["region"] == "Africa", "pilot_id"])
    latest = figures.latest_quarter(stored.filtered(Filter(regions=("Africa",))))
    at = open_page("overview", {"region": "Africa"})
    assert any(s.value == "Export what you see" for s in at.subheader)
    buttons = export_buttons(at, downloads)
    assert list(buttons) == LABELS
    assert built == [], "a file was built before its button was clicked"
    assert [name for _, name, _ in buttons.values()] == [
        f"link-pilots_Africa_{latest}{suffix}" for suffix in (".xlsx", ".csv", ".pptx", ".html")]

    xlsx = buttons["Data (.xlsx)"][0]()
    assert xlsx[:2] == b"PK" and built == [".xlsx"]
    assert len(africa) == 6
    assert pilot_ids(xlsx, "Pilots") == africa
    for sheet in ("Progress", "Indicators", "Targets", "Lessons"):
        assert pilot_ids(xlsx, sheet) <= africa, sheet

    rows = list(csv.DictReader(io.StringIO(buttons["Indicators (.csv)"][0]().decode("utf-8-sig"))))
    assert rows and {r["pilot_id"] for r in rows} == africa & set(stored.indicators["pilot_id"])


def test_a_chosen_quarter_ends_the_data_file_and_names_it(demo_url, stored, downloads):
    qs = stored.quarters()
    chosen = qs[len(qs) // 2]
    at = open_page("overview", {"quarter": chosen})
    buttons = export_buttons(at, downloads)
    _, name, _ = buttons["Data (.xlsx)"]
    assert name == f"link-pilots_{chosen}.xlsx"
    xlsx = buttons["Data (.xlsx)"][0]()
    assert max(quarters_in(xlsx)) == chosen < qs[-1]
    assert pilot_ids(xlsx, "Pilots") == set(stored.pilots["pilot_id"])


def test_presentation_page_exports_what_its_slides_show(demo_url, stored, downloads, built):
    asia = set(stored.pilots.loc[stored.pilots["region"] == "Asia", "pilot_id"])
    at = open_page("presentation", {"region": "Asia"})
    buttons = export_buttons(at, downloads)
    assert list(buttons) == LABELS
    assert built == []
    assert all("_Asia_" in name for _, name, _ in buttons.values())
    assert pilot_ids(buttons["Data (.xlsx)"][0](), "Pilots") == asia
    page = buttons["Report (.html)"][0]().decode("utf-8")
    assert page.lstrip().lower().startswith("<!doctype html")
    names = dict(zip(stored.pilots["pilot_id"], stored.pilots["pilot_name"]))
    assert all(names[p] in page for p in asia)
    assert not any(n in page for p, n in names.items() if p not in asia)
