"""The store on SQLite and PostgreSQL: migrations, preview/commit, blanks, duplicate
files, all-or-nothing commits, rollback, history and loading."""

from __future__ import annotations

import datetime as dt
import functools
import threading

import pandas as pd
import pytest
import sqlalchemy as sa

from conftest import sample_counts, sample_tables
from linkdash import store as store_mod
from linkdash.store import DATA_TABLES, Store, default_url, normalize_url


def _indicator(portfolio, pilot, quarter, code):
    ind = portfolio.indicators
    hit = ind[(ind.pilot_id == pilot) & (ind.quarter == quarter) & (ind.indicator == code)]
    assert len(hit) <= 1
    return None if hit.empty else hit.iloc[0]


def _rows(store, sheet) -> int:
    t = DATA_TABLES[sheet]
    with store.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()


# --- opening -----------------------------------------------------------------------

def test_open_migrates_and_is_idempotent(store_url):
    s1 = Store.open(store_url)
    s2 = Store.open(store_url)  # second open: already at head, nothing breaks
    assert s1.data_version() == 0 == s2.data_version()
    assert s2.load().pilots.empty
    assert s2.submissions().empty
    s1.close()
    s2.close()


def test_migrated_schema_matches_the_models(store):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with store.engine.connect() as conn:
        # (the model's objects for the other dialect only are left out: the lessons'
        # unique index is on md5(lesson) on PostgreSQL)
        only = functools.partial(store_mod.include_object, dialect=conn.dialect.name)
        context = MigrationContext.configure(conn, opts={"include_object": only})
        from linkdash import roles  # the users and role history (migration 0003)

        diffs = compare_metadata(context, [store_mod.metadata, roles.metadata])
    assert diffs == []


def test_several_processes_opening_at_once_all_succeed(store_url):
    errors, stores = [], []

    def open_one():
        try:
            stores.append(Store.open(store_url))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert {s.data_version() for s in stores} == {0}
    for s in stores:
        s.close()


def test_url_defaults_and_postgres_driver(monkeypatch, tmp_path):
    monkeypatch.delenv("LINKDASH_DATABASE_URL", raising=False)
    monkeypatch.setenv("LINKDASH_DATA_DIR", str(tmp_path))
    assert default_url() == f"sqlite:///{tmp_path / 'linkdash.sqlite'}"
    monkeypatch.setenv("LINKDASH_DATABASE_URL", "postgresql://u@h/db")
    assert default_url() == "postgresql://u@h/db"
    assert normalize_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("sqlite:///x.sqlite") == "sqlite:///x.sqlite"


def test_open_without_url_uses_the_data_dir(monkeypatch, tmp_path):
    monkeypatch.delenv("LINKDASH_DATABASE_URL", raising=False)
    monkeypatch.setenv("LINKDASH_DATA_DIR", str(tmp_path / "sub"))
    s = Store.open()
    s.commit(sample_tables(), file_bytes=b"x", filename="x.xlsx", user=None)
    s.close()
    assert (tmp_path / "sub" / "linkdash.sqlite").exists()
    assert len(Store.open().load().pilots) == 2


# --- preview and commit ---------------------------------------------------------------

def test_first_commit_stores_everything_and_load_gives_typed_frames(store):
    tables = sample_tables()
    preview = store.preview(tables)
    assert preview.counts() == {"new": sample_counts(), "changed": 0, "unchanged": 0}
    assert store.data_version() == 0 and store.load().pilots.empty  # preview stores nothing

    result = store.commit(tables, file_bytes=b"file-1", filename="q1.xlsx", user="a@x.org")
    assert result.submission_id is not None
    assert result.changes.counts() == preview.counts()
    assert store.data_version() == 1

    p = store.load()
    assert sorted(p.pilots.pilot_id) == ["KEN-DAIRY", "VNM-DAIRY"]
    ken = p.pilots.set_index("pilot_id").loc["KEN-DAIRY"]
    assert ken.country_name == "Kenya"
    assert ken.start_date == dt.date(2016, 6, 6) and type(ken.start_date) is dt.date
    assert ken.latitude == pytest.approx(-0.42)
    assert ken.site is None
    assert _indicator(p, "KEN-DAIRY", "2017-Q2", "households_reached").value == 110.0
    unit = _indicator(p, "VNM-DAIRY", "2017-Q1", "volume_unit")
    assert unit.text == "litres" and pd.isna(unit.value)
    assert p.milestones.milestone.tolist()[:2] == ["training_workshop", "vc_map"]
    assert p.milestones.iloc[0].notes == "=Kick-off in Nairobi"
    assert p.benchmarks.iloc[0].year == 2017
    assert p.lessons.iloc[0].lesson.startswith("Women joined")
    assert p.rates.iloc[0].units_per_usd == pytest.approx(103.2)
    assert p.indicators.value.dtype == "float64"


def test_changed_values_are_counted_with_old_and_new(store):
    store.commit(sample_tables(), file_bytes=b"1", filename="a.xlsx", user=None)
    changes = store.preview(sample_tables(income=500.0))
    # income_avg_usd for 2 pilots x 2 quarters changes; everything else is the same
    assert changes.counts() == {"new": 0, "changed": 4, "unchanged": sample_counts() - 4}
    d = changes.detail
    assert set(d.kind) == {"changed"}
    row = d[(d.key == "KEN-DAIRY / 2017-Q1 / income_avg_usd")].iloc[0]
    assert (row.sheet, row.field, row.old, row.new) == ("Indicators", "income_avg_usd", 410.5, 500.0)


def test_unchanged_values_are_not_rewritten(store):
    store.commit(sample_tables(), file_bytes=b"1", filename="a.xlsx", user=None)
    before = {s: _rows(store, s) for s in DATA_TABLES}
    result = store.commit(sample_tables(income=500.0), file_bytes=b"2", filename="b.xlsx", user=None)
    after = {s: _rows(store, s) for s in DATA_TABLES}
    assert after["Indicators"] == before["Indicators"] + 4  # only the 4 new versions
    assert {s: after[s] for s in after if s != "Indicators"} == \
        {s: before[s] for s in before if s != "Indicators"}
    hist = store.history("KEN-DAIRY")
    inc = hist[hist.key == "KEN-DAIRY / 2017-Q1 / income_avg_usd"]
    assert inc.value.tolist() == [410.5, 500.0]
    assert inc.current.tolist() == [False, True]
    assert inc.submission_id.tolist()[1] == result.submission_id


def test_blank_never_erases_a_stored_value(store):
    store.commit(sample_tables(), file_bytes=b"1", filename="a.xlsx", user=None)
    t = sample_tables()
    t["Pilots"].loc[0, "pilot_name"] = None
    t["Pilots"].loc[0, "latitude"] = float("nan")
    t["Pilots"].loc[0, "target_households"] = 900.0  # and one real change in that row
    t["Progress"] = t["Progress"][["pilot_id", "milestone", "status"]]  # columns absent
    ind = t["Indicators"]
    ind.loc[ind.indicator == "households_reached", "value"] = None
    changes = store.preview(t)
    assert changes.changed == 1  # the one Pilots row
    assert changes.unchanged == sample_counts() - 1 - 4  # the 4 blank indicators are not values
    store.commit(t, file_bytes=b"2", filename="b.xlsx", user=None)
    p = store.load()
    ken = p.pilots.set_index("pilot_id").loc["KEN-DAIRY"]
    assert ken.pilot_name == "Kenya dairy cows"
    assert ken.latitude == pytest.approx(-0.42)
    assert ken.target_households == 900.0
    assert p.milestones.iloc[0].planned_start == dt.date(2016, 6, 6)
    assert _indicator(p, "KEN-DAIRY", "2017-Q1", "households_reached").value == 100.0


def test_new_rows_for_other_pilots_and_quarters_are_added(store):
    store.commit(sample_tables(), file_bytes=b"1", filename="a.xlsx", user=None)
    t = sample_tables(pilots=("KEN-DAIRY", "UGA-GOAT"), quarters=("2017-Q2", "2017-Q3"))
    changes = store.preview(t)
    s = changes.by_sheet
    assert s["Pilots"] == {"new": 1, "changed": 0, "unchanged": 1}
    # UGA: 2 quarters x 6; KEN 2017-Q3: 6 new; KEN 2017-Q2 gets other numbers (j=0 values):
    # households, participants, women, volume change; income and unit stay the same
    assert s["Indicators"] == {"new": 18, "changed": 4, "unchanged": 2}
    assert s["Lessons"] == {"new": 2, "changed": 0, "unchanged": 0}  # key includes the quarter
    assert s["Rates"] == {"new": 1, "changed": 0, "unchanged": 0}  # KES 2017-Q2
    assert s["Benchmarks"] == {"new": 0, "changed": 0, "unchanged": 1}
    assert changes.new == sum(v["new"] for v in s.values())
    store.commit(t, file_bytes=b"2", filename="b.xlsx", user=None)
    p = store.load()
    assert sorted(p.pilots.pilot_id) == ["KEN-DAIRY", "UGA-GOAT", "VNM-DAIRY"]
    assert set(p.indicators.quarter) == {"2017-Q1", "2017-Q2", "2017-Q3"}
    assert len(p.lessons) == 4  # lesson key includes the quarter


def test_same_file_twice_changes_nothing_and_names_the_first(store):
    first = store.commit(sample_tables(), file_bytes=b"same bytes", filename="a.xlsx", user=None)
    version = store.data_version()
    again = store.commit(sample_tables(income=1.0), file_bytes=b"same bytes", filename="a.xlsx", user=None)
    assert again.submission_id is None
    assert again.duplicate_of == first.submission_id
    assert again.changes.counts() == {"new": 0, "changed": 0, "unchanged": 0}
    [w] = again.warnings
    assert w.code == "duplicate_file" and w.severity == "warning"
    assert f"submission {first.submission_id}" in w.message
    assert dt.date.today().isoformat()[:4] in w.message  # the date of the earlier one
    assert store.data_version() == version
    assert len(store.submissions()) == 1
    assert _indicator(store.load(), "KEN-DAIRY", "2017-Q1", "income_avg_usd").value == 410.5


def test_commit_is_all_or_nothing(store, monkeypatch):
    store.commit(sample_tables(), file_bytes=b"1", filename="a.xlsx", user=None)
    before = store.load()
    version = store.data_version()
    calls = []
    real = Store._insert_rows

    def failing(conn, table, rows):
        calls.append(table.name)
        if len(calls) == 3:  # pilots and milestones went in, then the disk "fails"
            raise RuntimeError("disk full")
        real(conn, table, rows)

    monkeypatch.setattr(Store, "_insert_rows", staticmethod(failing))
    t = sample_tables(pilots=("KEN-DAIRY", "VNM-DAIRY", "UGA-GOAT"), income=999.0)
    with pytest.raises(RuntimeError):
        store.commit(t, file_bytes=b"2", filename="b.xlsx", user=None)
    assert len(calls) == 3
    after = store.load()
    assert store.data_version() == version
    assert store.submissions().id.tolist() == [1]
    pd.testing.assert_frame_equal(after.pilots, before.pilots)
    pd.testing.assert_frame_equal(after.indicators, before.indicators)
    pd.testing.assert_frame_equal(after.milestones, before.milestones)


def test_submissions_list_and_file(store):
    a = store.commit(sample_tables(), file_bytes=b"AAA", filename="a.xlsx", user="a@x.org")
    b = store.commit(sample_tables(income=2.0), file_bytes=b"BBB", filename="b.xlsx", user="b@x.org")
    subs = store.submissions()
    assert subs.id.tolist() == [b.submission_id, a.submission_id]  # newest first
    assert list(subs.columns[:9]) == ["id", "kind", "filename", "user", "created_at", "status",
                                      "new", "changed", "unchanged"]
    first = subs.iloc[1]
    assert ((first.kind, first.filename, first.user, first.status)
            == ("upload", "a.xlsx", "a@x.org", "committed"))
    assert (first.new, first.changed, first.unchanged) == (sample_counts(), 0, 0)
    assert subs.iloc[0].changed == 4
    assert first.created_at.tzinfo is not None
    assert abs((dt.datetime.now(dt.UTC) - first.created_at).total_seconds()) < 120
    assert store.submission_file(a.submission_id) == ("a.xlsx", b"AAA")
    assert store.submission_file(999) is None


def test_concurrent_commits_both_land(store):
    errors = []

    def commit(pilot, payload):
        try:
            store.commit(sample_tables(pilots=(pilot,)), file_bytes=payload, filename="f.xlsx", user=None)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=commit, args=a)
               for a in (("KEN-DAIRY", b"k"), ("VNM-DAIRY", b"v"), ("UGA-GOAT", b"u"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.data_version() == 3
    assert sorted(store.load().pilots.pilot_id) == ["KEN-DAIRY", "UGA-GOAT", "VNM-DAIRY"]
    # Benchmarks/Rates rows are the same key in all three: one new, then unchanged
    assert sorted(store.submissions().new.tolist()) == [sample_counts(1, 2) - 2] * 2 + [sample_counts(1, 2)]


# --- rollback ------------------------------------------------------------------------

def test_rollback_restores_changed_values_and_removes_new_ones(store):
    store.commit(sample_tables(), file_bytes=b"1", filename="a.xlsx", user=None)
    second = store.commit(sample_tables(pilots=("KEN-DAIRY", "UGA-GOAT"), income=777.0),
                          file_bytes=b"2", filename="b.xlsx", user=None)
    version = store.data_version()
    result = store.rollback(second.submission_id, user="admin@x.org")
    assert result.ok, result.message
    assert result.restored == 2  # KEN's income in 2 quarters
    assert result.removed == sample_counts(1, 2) - 2  # everything of UGA but the shared benchmark/rate rows
    assert result.kept == []
    assert store.data_version() == version + 1
    p = store.load()
    assert sorted(p.pilots.pilot_id) == ["KEN-DAIRY", "VNM-DAIRY"]
    assert _indicator(p, "KEN-DAIRY", "2017-Q1", "income_avg_usd").value == 410.5
    subs = store.submissions().set_index("id")
    assert subs.loc[second.submission_id, "status"] == "rolled_back"
    assert subs.loc[second.submission_id, "rolled_back_by"] == result.submission_id
    assert subs.loc[result.submission_id, "kind"] == "rollback"
    assert subs.loc[result.submission_id, "user"] == "admin@x.org"


def test_rollback_keeps_values_a_later_submission_changed(store):
    first = store.commit(sample_tables(), file_bytes=b"1", filename="a.xlsx", user=None)
    t = sample_tables(pilots=("KEN-DAIRY",), quarters=("2017-Q1",), income=555.0)
    later = store.commit({"Indicators": t["Indicators"]}, file_bytes=b"2", filename="b.xlsx", user=None)
    result = store.rollback(first.submission_id, user=None)
    assert result.ok
    kept = {(k["key"], k["by"]) for k in result.kept}
    # the later value stays, and so does its pilot's row (a value is never left without
    # its pilot)
    assert kept == {("KEN-DAIRY / 2017-Q1 / income_avg_usd", later.submission_id),
                    ("KEN-DAIRY", later.submission_id)}
    reasons = {k["key"]: k["reason"] for k in result.kept}
    assert reasons["KEN-DAIRY / 2017-Q1 / income_avg_usd"] == \
        f"kept: changed later by submission {later.submission_id}"
    assert reasons["KEN-DAIRY"] == f"kept: submission {later.submission_id} still has values of this pilot"
    assert result.removed == sample_counts() - 2
    p = store.load()
    assert list(p.pilots.pilot_id) == ["KEN-DAIRY"]
    assert p.indicators[["pilot_id", "quarter", "indicator", "value"]].values.tolist() == \
        [["KEN-DAIRY", "2017-Q1", "income_avg_usd", 555.0]]


def test_rolling_back_an_earlier_submission_after_a_later_one_was_undone(store):
    first = store.commit(sample_tables(), file_bytes=b"1", filename="a.xlsx", user=None)
    second = store.commit(sample_tables(income=600.0), file_bytes=b"2", filename="b.xlsx", user=None)
    assert store.rollback(second.submission_id).restored == 4
    # the income values are the first submission's again, so undoing it removes them
    result = store.rollback(first.submission_id)
    assert result.ok and result.kept == []
    assert result.removed == sample_counts()
    assert store.load().indicators.empty


def test_rollback_refusals_change_nothing(store):
    first = store.commit(sample_tables(), file_bytes=b"1", filename="a.xlsx", user=None)
    rb = store.rollback(first.submission_id)
    version = store.data_version()
    subs = len(store.submissions())
    twice = store.rollback(first.submission_id)
    assert not twice.ok and f"already rolled back by submission {rb.submission_id}" in twice.message
    of_rollback = store.rollback(rb.submission_id)
    assert not of_rollback.ok and "is itself a rollback" in of_rollback.message
    unknown = store.rollback(4242)
    assert not unknown.ok and "no submission 4242" in unknown.message
    assert store.data_version() == version
    assert len(store.submissions()) == subs


def test_same_file_after_its_rollback_is_stored_again(store):
    first = store.commit(sample_tables(), file_bytes=b"1", filename="a.xlsx", user=None)
    store.rollback(first.submission_id)
    again = store.commit(sample_tables(), file_bytes=b"1", filename="a.xlsx", user=None)
    assert again.submission_id is not None and again.changes.new == sample_counts()
    assert len(store.load().pilots) == 2


def test_history_of_a_pilot_lists_the_submissions_that_touched_it(store):
    a = store.commit(sample_tables(), file_bytes=b"1", filename="a.xlsx", user="a@x.org")
    b = store.commit(sample_tables(pilots=("VNM-DAIRY",), income=3.0), file_bytes=b"2",
                     filename="b.xlsx", user="b@x.org")
    ken = store.history("KEN-DAIRY")
    vnm = store.history("vnm-dairy")
    assert set(ken.submission_id) == {a.submission_id}
    assert set(vnm.submission_id) == {a.submission_id, b.submission_id}
    assert set(vnm[vnm.submission_id == b.submission_id].user) == {"b@x.org"}
    assert not ken.empty and ken.current.all()


def test_load_returns_the_whole_demo_portfolio(store):
    # (how fast: benchmarks/bench_scale_import.py, Store.load; never a timed test)
    from linkdash.demo import demo_tables

    tables = demo_tables(dt.date(2019, 6, 30))
    store.commit(tables, file_bytes=b"demo", filename="demo", user=None, kind="demo")
    p = store.load()
    assert len(p.pilots) == 13
    assert len(p.indicators) == int(tables["Indicators"][["value", "text"]].notna().any(axis=1).sum())


# --- preview against the loaded portfolio -----------------------------------------------

def _random_indicator_file(seed: int, stored: pd.DataFrame) -> pd.DataFrame:
    """An Indicators table the way a quarterly file gives one: some stored keys again
    (most the same, some changed, some blank, the unit sometimes renamed), plus keys
    of a new quarter."""
    import random

    rng = random.Random(seed)
    rows = []
    for r in stored.itertuples(index=False):
        roll = rng.random()
        if roll < 0.3:
            continue  # not in this file
        if r.indicator == "volume_unit":
            text = "kg" if roll > 0.9 else r.text
            rows.append({"pilot_id": r.pilot_id, "quarter": r.quarter, "indicator": r.indicator,
                         "value": None, "text": text})
            continue
        value = None if roll > 0.95 else (r.value + 1.5 if roll > 0.8 else r.value)
        rows.append({"pilot_id": r.pilot_id, "quarter": r.quarter, "indicator": r.indicator,
                     "value": value, "text": None})
    for r in stored[stored.quarter == "2017-Q2"].itertuples(index=False):
        rows.append({"pilot_id": r.pilot_id, "quarter": "2017-Q3", "indicator": r.indicator,
                     "value": None if r.indicator == "volume_unit" else rng.uniform(1, 900),
                     "text": "litres" if r.indicator == "volume_unit" else None})
    rng.shuffle(rows)
    return pd.DataFrame(rows, columns=["pilot_id", "quarter", "indicator", "value", "text"],
                        dtype=object)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_preview_against_the_loaded_portfolio_equals_the_stored_rows(store, seed):
    """The Upload page previews against the portfolio it already holds: the same counts
    and the same old/new rows as reading the store, and as the commit then reports."""
    store.commit(sample_tables(), file_bytes=b"1", filename="a.xlsx", user=None)
    store.commit(sample_tables(income=450.0), file_bytes=b"2", filename="b.xlsx", user=None)
    current = store.load()
    assert current.data_version == store.data_version() == 2
    tables = {"Indicators": _random_indicator_file(seed, current.indicators)}
    read = store.preview(tables)
    held = store.preview(tables, current)
    assert held.counts() == read.counts()
    assert held.new > 0 and held.changed > 0 and held.unchanged > 0
    cols = ["key", "field", "kind"]
    a = held.detail.sort_values(cols).reset_index(drop=True)
    b = read.detail.sort_values(cols).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    # every changed row's old value is the stored one (the second submission's income)
    ind = current.indicators
    stored = {f"{r.pilot_id} / {r.quarter} / {r.indicator}": (r.text if r.indicator == "volume_unit"
                                                              else r.value)
              for r in ind.itertuples(index=False)}
    changed = a[a.kind == "changed"]
    assert changed.old.tolist() == [stored[k] for k in changed.key]
    assert all(k in stored for k in changed.key) and not any(k in stored for k in a[a.kind == "new"].key)
    result = store.commit(tables, file_bytes=b"3", filename="c.xlsx", user=None)
    assert result.changes.counts() == held.counts()


def test_preview_ignores_a_portfolio_older_than_the_store(store):
    """A portfolio read before someone else's commit is not trusted: the preview reads
    the store, so it counts against what a commit would find."""
    store.commit(sample_tables(), file_bytes=b"1", filename="a.xlsx", user=None)
    stale = store.load()
    store.commit(sample_tables(income=500.0), file_bytes=b"2", filename="b.xlsx", user=None)
    changes = store.preview(sample_tables(income=500.0), stale)
    assert changes.counts() == {"new": 0, "changed": 0, "unchanged": sample_counts()}
    # a filtered portfolio is a part of the store, never its state
    from linkdash.portfolio import Filter

    part = store.load().filtered(Filter(pilots=("KEN-DAIRY",)))
    assert part.data_version is None
    changes = store.preview(sample_tables(income=510.0), part)
    assert changes.changed == 4  # income of both pilots, both quarters: VNM too


# --- a new quarter reads what it can match, not the history ----------------------------------

def _next_quarter(pilots: int, quarters: int) -> dict[str, pd.DataFrame]:
    """The Pilots sheet of ``pilots`` x ``quarters`` generated data and the Indicators of
    the quarter after it (what a director sends each quarter)."""
    from linkdash import generate
    from linkdash import quarters as qs

    nxt = qs.shift(generate.LAST_QUARTER, 1)
    new = generate.generate_tables(pilots, quarters + 1, last_quarter=nxt)
    ind = new["Indicators"]
    return {"Pilots": generate.generate_tables(pilots, quarters)["Pilots"],
            "Indicators": ind[ind["quarter"] == nxt].reset_index(drop=True)}


def _commit_steps(tmp_path, history: int) -> int:
    """SQLite virtual-machine steps (in thousands) that committing one new quarter of 20
    pilots takes, in a store holding ``history`` quarters of them."""
    from linkdash import generate

    store = Store.open(f"sqlite:///{tmp_path / f'h{history}.sqlite'}")
    generate.load_store(store, generate.generate_tables(20, history))
    tables = _next_quarter(20, history)
    steps = [0]

    def count() -> int:
        steps[0] += 1
        return 0

    sa.event.listen(store.engine, "checkout",
                    lambda dbapi_conn, *_: dbapi_conn.set_progress_handler(count, 1000))
    result = store.commit(tables, file_bytes=None, filename="next quarter", user="test")
    assert result.ok and result.changes.new == len(tables["Indicators"].dropna(how="all"))
    store.close()
    return steps[0]


def test_committing_a_new_quarter_reads_the_rows_it_can_match_not_the_whole_history(tmp_path):
    # The commit re-checks the file against the store: the values stored for its pilots
    # and quarters, and the first quarter each pilot reported. Read through the index on
    # ``superseded_by`` (every current row has it NULL), they cost a scan of all of the
    # history: 1.9 s to commit a quarter of 1,000 pilots x 40 quarters instead of 0.9 s.
    short, long = _commit_steps(tmp_path, 4), _commit_steps(tmp_path, 40)
    assert long < 1.5 * short, (short, long)
