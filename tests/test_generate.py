"""The generator of N pilots x Q quarters (linkdash/generate.py): its workbook passes the
importer with no error, and loading its tables straight into a store gives the same
stored data and the same portfolio figures as importing that workbook."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from linkdash import figures, generate, submit
from linkdash.access import shell_admin
from linkdash.importer import check_file
from linkdash.portfolio import Filter, Portfolio
from linkdash.store import Store
from tests.conftest import pg_schema_url

ROOT = Path(__file__).resolve().parent.parent
N_PILOTS, N_QUARTERS = 30, 12


@pytest.fixture(scope="module")
def tables():
    return generate.generate_tables(N_PILOTS, N_QUARTERS)


@pytest.fixture(scope="module")
def workbook(tables):
    return generate.workbook_bytes(tables)


@pytest.fixture
def second_url(store_url, tmp_path):
    """Another empty database on the same backend as ``store_url``."""
    if store_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'second.sqlite'}"
        return
    with pg_schema_url() as url:
        yield url


def test_generated_workbook_imports_without_errors(tables, workbook):
    checked = check_file(workbook, "generated.xlsx", Portfolio())
    assert checked.report.errors == []
    # the file is what was generated: every pilot, every reported value
    assert len(checked.tables["Pilots"]) == N_PILOTS
    ind = checked.tables["Indicators"]
    assert len(ind) == len(tables["Indicators"])
    assert set(ind["quarter"]) == set(generate.quarter_span(N_QUARTERS))
    # plausible, not noise: few values are flagged as outliers
    outliers = [w for w in checked.report.warnings if w.code == "outlier"]
    assert len(outliers) < 0.02 * len(ind)
    assert {w.code for w in checked.report.warnings} <= {"outlier"}


def test_same_seed_same_data_other_seed_other_data():
    a = generate.generate_tables(12, 6, seed=5)
    b = generate.generate_tables(12, 6, seed=5)
    c = generate.generate_tables(12, 6, seed=6)
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name])
    assert not a["Indicators"]["value"].equals(c["Indicators"]["value"])


def test_size_follows_the_arguments():
    t = generate.generate_tables(50, 8)
    assert t["Pilots"]["pilot_id"].is_unique and len(t["Pilots"]) == 50
    ind = t["Indicators"]
    per_row = ind.groupby(["pilot_id", "quarter"]).size()
    assert ind["quarter"].nunique() == 8
    assert 0.95 * 50 * 8 <= len(per_row) <= 50 * 8  # a few pilot-quarters not reported
    assert len(t["Progress"]) == 50 * 9


def _frames(p: Portfolio) -> dict[str, pd.DataFrame]:
    return {name: getattr(p, name).reset_index(drop=True)
            for name in ("pilots", "milestones", "indicators", "targets", "lessons",
                         "benchmarks", "rates")}


def test_direct_load_equals_importing_the_workbook(store, second_url, tables, workbook):
    imported = submit.import_file(store, workbook, "generated.xlsx", actor=shell_admin())
    assert imported.ok and imported.errors == []
    direct = Store.open(second_url)
    try:
        generate.load_store(direct, tables)
        a, b = store.load(), direct.load()
        assert b.data_version == direct.data_version() and b.data_version > 0
        for name, frame in _frames(a).items():
            pd.testing.assert_frame_equal(frame, _frames(b)[name], check_dtype=False, obj=name)
        q = a.latest_quarter()
        assert q == generate.LAST_QUARTER
        for flt in (Filter(), Filter(regions=("Africa",))):
            fa = figures.portfolio_figures(a, flt, q, as_of=None)
            fb = figures.portfolio_figures(b, flt, q, as_of=None)
            assert fa == fb
            assert fa["pilots_total"] > 0 and fa["households_reached"] > 0
        # the submission counts the values as an import does
        assert direct.submissions().iloc[0]["new"] == store.submissions().iloc[0]["new"]
        with pytest.raises(ValueError):  # set-up tool: an empty store only
            generate.load_store(direct, tables)
    finally:
        direct.close()


def test_cli_writes_a_workbook_and_loads_a_store(tmp_path):
    out = tmp_path / "g.xlsx"
    db = f"sqlite:///{tmp_path / 'g.sqlite'}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-m", "linkdash", "--db", db, "generate", "--pilots", "5",
                          "--quarters", "4", str(out), "--load", "--as-admin"],
                         cwd=ROOT, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert out.exists() and "5 pilots x 4 quarters" in run.stdout
    s = Store.open(db)
    try:
        p = s.load()
        assert len(p.pilots) == 5 and p.quarters() == generate.quarter_span(4)
    finally:
        s.close()
    # loading needs an administrator, as `demo` does
    run = subprocess.run([sys.executable, "-m", "linkdash", "--db", db, "generate", "--load"],
                         cwd=ROOT, env=env, capture_output=True, text=True)
    assert run.returncode == 2


def test_pilots_are_inside_their_countries(tables):
    from linkdash import countries

    p = tables["Pilots"]
    inside = [countries.point_in_country(c, la, lo) for c, la, lo in
              zip(p["country"], p["latitude"], p["longitude"])]
    assert all(inside)
    assert np.all([pid.startswith(c + "-") for pid, c in zip(p["pilot_id"], p["country"])])
