"""Shared fixtures.

- ``store``: a fresh, migrated ``Store``, once on SQLite (a file in a temp dir) and
  once on PostgreSQL (a new schema per test on ``LINKDASH_TEST_POSTGRES_URL``, default
  ``postgresql://postgres@127.0.0.1:5432/test``). The PostgreSQL case is skipped when
  the server does not answer, unless ``LINKDASH_REQUIRE_POSTGRES=1`` (then it fails).
- ``store_url``: the same, as a URL (for command-line tests in a subprocess).
- ``sample_tables()``: hand-built input tables in the shape ``importer.check_file``
  returns (``CheckedWorkbook.tables``), for two pilots.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import uuid
from urllib.parse import quote

import pandas as pd
import pytest

# a problem with a code that is not in problems.CODES (or with another severity) is a
# bug: under the tests it raises, in this process and in the app servers they start
os.environ.setdefault("LINKDASH_STRICT_CODES", "1")

PG_URL = os.environ.get("LINKDASH_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _pg_available() -> str | None:
    """None when PostgreSQL answers, else the reason it does not."""
    try:
        import psycopg

        with psycopg.connect(PG_URL, connect_timeout=3):
            return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not available"
        return f"PostgreSQL at {PG_URL} not available: {exc}"


_PG_REASON: list[str | None] = []


def pg_skip_reason() -> str | None:
    if not _PG_REASON:
        _PG_REASON.append(_pg_available())
    return _PG_REASON[0]


def _with_search_path(url: str, schema: str) -> str:
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options={quote('-csearch_path=' + schema)}"


@contextlib.contextmanager
def pg_schema_url():
    """The URL of a new, empty schema on ``PG_URL`` (dropped afterwards)."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield _with_search_path(PG_URL, schema)
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=BACKENDS)
def store_url(request, tmp_path):
    """A URL of an empty database (not yet migrated) on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'linkdash.sqlite'}"
        return
    reason = pg_skip_reason()
    if reason:
        if os.environ.get("LINKDASH_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason + " (LINKDASH_REQUIRE_POSTGRES=1)")
        pytest.skip(reason)
    with pg_schema_url() as url:
        yield url


@pytest.fixture
def store(store_url):
    from linkdash.store import Store

    s = Store.open(store_url)
    try:
        yield s
    finally:
        s.close()


def sample_tables(*, pilots: tuple[str, ...] = ("KEN-DAIRY", "VNM-DAIRY"),
                  quarters: tuple[str, ...] = ("2017-Q1", "2017-Q2"),
                  income: float = 410.5) -> dict[str, pd.DataFrame]:
    """Input tables as ``CheckedWorkbook.tables`` gives them: canonical codes, typed
    values, None for blank, Indicators long. Change counts for a fresh store:
    Pilots 1 per pilot, Progress 2 per pilot, Indicators 6 values per pilot and
    quarter, Targets 1 per pilot, Lessons 1 per pilot, Benchmarks 1, Rates 1."""
    info = {
        "KEN-DAIRY": ("Kenya dairy cows", "KEN", "dairy_cow", "Africa", "KES", -0.42, 36.95),
        "VNM-DAIRY": ("Vietnam dairy cows", "VNM", "dairy_cow", "Asia", "VND", 21.82, 105.21),
        "UGA-GOAT": ("Uganda goats", "UGA", "goat_meat", "Africa", "UGX", 1.37, 32.29),
    }
    prow = []
    for p in pilots:
        name, country, chain, region, cur, lat, lon = info[p]
        prow.append({
            "pilot_id": p, "pilot_name": name, "country": country, "value_chain": chain,
            "region": region, "cycle": "Asia & Africa", "producer_org": f"{name} cooperative",
            "site": None, "latitude": lat, "longitude": lon,
            "start_date": dt.date(2016, 6, 6), "end_date": dt.date(2018, 12, 31),
            "target_households": 600.0, "currency": cur,
        })
    mrow = []
    for p in pilots:
        mrow.append({"pilot_id": p, "milestone": "training_workshop",
                     "planned_start": dt.date(2016, 6, 6), "planned_end": dt.date(2016, 6, 10),
                     "actual_start": dt.date(2016, 6, 6), "actual_end": dt.date(2016, 6, 10),
                     "status": "completed", "notes": "=Kick-off in Nairobi"})
        mrow.append({"pilot_id": p, "milestone": "vc_map",
                     "planned_start": dt.date(2016, 7, 1), "planned_end": dt.date(2016, 9, 30),
                     "actual_start": dt.date(2016, 7, 15), "actual_end": None,
                     "status": "in_progress", "notes": None})
    irow = []
    for i, p in enumerate(pilots):
        for j, q in enumerate(quarters):
            base = 100.0 * (i + 1) + 10 * j
            for code, value, text in (("households_reached", base, None),
                                      ("participants_total", base + 20, None),
                                      ("participants_women", 40.0 + j, None),
                                      ("income_avg_usd", income + i, None),
                                      ("volume_sold", 1234.5 * (j + 1), None),
                                      ("volume_unit", None, "litres")):
                irow.append({"pilot_id": p, "quarter": q, "indicator": code, "value": value, "text": text})
    trow = [{"pilot_id": p, "indicator": "households_reached", "baseline": 0.0,
             "baseline_quarter": "2016-Q3", "target": 600.0, "target_quarter": "2019-Q4"}
            for p in pilots]
    lrow = [{"pilot_id": p, "quarter": quarters[0], "kind": "insight",
             "lesson": f"Women joined the {p} cooperative board once meetings moved to market day.",
             "milestone": "prototype_cycle", "author": "a.director@example.org"} for p in pilots]
    brow = [{"country": "KEN", "year": 2017, "living_income_usd": 2400.0, "source": "Anker"}]
    rrow = [{"currency": "KES", "quarter": quarters[0], "units_per_usd": 103.2}]
    return {
        "Pilots": pd.DataFrame(prow, dtype=object),
        "Progress": pd.DataFrame(mrow, dtype=object),
        "Indicators": pd.DataFrame(irow, dtype=object),
        "Targets": pd.DataFrame(trow, dtype=object),
        "Lessons": pd.DataFrame(lrow, dtype=object),
        "Benchmarks": pd.DataFrame(brow, dtype=object),
        "Rates": pd.DataFrame(rrow, dtype=object),
    }


def sample_counts(n_pilots: int = 2, n_quarters: int = 2) -> int:
    """How many stored values ``sample_tables`` holds (all ``new`` on a fresh store)."""
    return n_pilots * (1 + 2 + 6 * n_quarters + 1 + 1) + 1 + 1


@pytest.fixture(name="sample_tables")
def sample_tables_fixture():
    """The builder itself, so tests can call ``sample_tables(pilots=...)``."""
    return sample_tables


def wide_indicators(long: pd.DataFrame) -> pd.DataFrame:
    """Long ``pilot_id, quarter, indicator, value, text`` -> one row per pilot and
    quarter with one column per indicator (as people fill in the Indicators sheet)."""
    rows: dict[tuple, dict] = {}
    for r in long.to_dict("records"):
        row = rows.setdefault((r["pilot_id"], r["quarter"]),
                              {"pilot_id": r["pilot_id"], "quarter": r["quarter"]})
        row[r["indicator"]] = r["text"] if r["indicator"] == "volume_unit" else r["value"]
    return pd.DataFrame(list(rows.values()))


def workbook_bytes(tables: dict[str, pd.DataFrame], *, headers: str = "codes",
                   edit=None) -> bytes:
    """An .xlsx (built with openpyxl) holding ``tables`` (``sample_tables()`` shape):
    one sheet each, header row 1 (``headers="codes"`` or ``"labels"``), Indicators wide.
    ``edit(workbook)`` may change cells before saving (e.g. to plant an error)."""
    import io

    from openpyxl import Workbook

    from linkdash import catalogue

    wb = Workbook()
    wb.remove(wb.active)
    for name in catalogue.SHEET_ORDER:
        if name not in tables:
            continue
        df = wide_indicators(tables[name]) if name == "Indicators" else tables[name]
        ws = wb.create_sheet(name)
        sheet = catalogue.sheets()[name]
        cols = list(df.columns)

        def head(c):
            if headers == "labels":
                try:
                    return sheet.column(c).header  # noqa: B023 (used in this iteration)
                except KeyError:
                    return c
            return c

        ws.append([head(c) for c in cols])
        for rec in df.to_dict("records"):
            cells = []
            for c in cols:
                v = rec[c]
                if v is None or (isinstance(v, float) and v != v):
                    v = None
                cells.append(v)
            ws.append(cells)
            for i, v in enumerate(cells):  # text stays text, never a formula
                if isinstance(v, str):
                    ws.cell(row=ws.max_row, column=i + 1).data_type = "s"
    if edit is not None:
        edit(wb)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# --- the app in a real browser (tests/test_browser*.py) -----------------------------
# One demo app and one offline Chromium per test module; a fresh page per test.

from tests import browser_support as bs  # noqa: E402


@pytest.fixture(scope="module")
def app():
    bs.require_browser()
    with bs.running_app(with_demo=True) as server:
        yield server


@pytest.fixture(scope="module")
def browser():
    bs.require_browser()
    with bs.offline_browser() as (browser, blocked):
        yield browser, blocked


@pytest.fixture
def page(browser):
    b, blocked = browser
    page = bs.new_offline_page(b, blocked)
    yield page
    page.context.close()


# --- the app on the demo data, for AppTests --------------------------------------------

@pytest.fixture(scope="module")
def demo_file(tmp_path_factory):
    """A SQLite file holding the demo data, made once per module."""
    from linkdash import demo
    from linkdash.store import Store

    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    store = Store.open(f"sqlite:///{path}")
    demo.load_demo(store)
    store.close()
    return path


@pytest.fixture
def demo_url(demo_file, tmp_path, monkeypatch):
    """A copy of the demo store for one test, named by LINKDASH_DATABASE_URL."""
    import shutil

    path = tmp_path / "linkdash.sqlite"
    shutil.copy(demo_file, path)
    url = f"sqlite:///{path}"
    monkeypatch.setenv("LINKDASH_DATABASE_URL", url)
    monkeypatch.delenv("LINKDASH_ACCESS_FILE", raising=False)
    return url
