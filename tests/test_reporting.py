"""The upload in words (linkdash/reporting.py) and the one answer to "is this
illustrative?" (linkdash/illustrative.py), without streamlit: problems grouped as a
person reads them, what a file covers, what is unusual for a quarterly upload, the
commit and the history in words, removing and loading again the illustrative data."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from linkdash import access, demo, illustrative, reporting, submit
from linkdash.problems import Problem
from linkdash.store import Store
from tests.workbook_builder import xlsx_bytes

ADMIN = access.local_admin("test")


@pytest.fixture
def store(demo_url):
    s = Store.open(demo_url)
    yield s
    s.close()


def outlier_rows(portfolio, quarter="2018-Q4", factor=40.0, indicators=None) -> list[list]:
    """Every pilot reports ``quarter`` at ``factor`` times its previous quarter: each
    value is far from the pilot's earlier quarters (an outlier)."""
    from linkdash import catalogue

    counts = [c for c, i in catalogue.indicators().items() if i.kind == "count"]
    ind = portfolio.indicators
    prev = ind[(ind["quarter"] == "2018-Q3") & ind["value"].notna()
               & ind["indicator"].isin(indicators or counts)]
    wide = prev.pivot(index="pilot_id", columns="indicator", values="value")
    codes = list(wide.columns)
    rows = [["pilot_id", "quarter", *codes]]
    for pid, r in wide.iterrows():
        rows.append([pid, quarter, *[None if pd.isna(r[c]) else float(round(r[c] * factor)) for c in codes]])
    return rows


def check(store, sheets: dict, name="q.xlsx"):
    return submit.validate(store, xlsx_bytes(sheets), name, actor=ADMIN)


# --- problems, grouped ----------------------------------------------------------------

def test_three_errors_and_hundreds_of_warnings_put_the_errors_first(store):
    current = store.load()
    rows = outlier_rows(current)
    n_pilots = len(rows) - 1
    rows += [["NOPE-PILOT", "2018-Q4", *[5] + [None] * (len(rows[0]) - 3)],
             ["KEN-DAIRY", "2017-Q2", "lots", *[None] * (len(rows[0]) - 3)],
             ["UGA-DAIRY", "2031-Q2", *[5] + [None] * (len(rows[0]) - 3)]]
    outcome = check(store, {"Indicators": rows})
    assert len(outcome.warnings) > 100
    assert [p.code for p in outcome.errors] == ["unknown_pilot", "not_a_number", "future_quarter"]
    grouped = reporting.group_problems(outcome.errors, outcome.warnings,
                                       reporting.pilot_names(current.pilots))
    assert grouped.errors == outcome.errors and len(grouped.errors) >= 2
    outliers = next(g for g in grouped.warning_groups if g.code == "outlier")
    n = sum(1 for w in outcome.warnings if w.code == "outlier")
    assert outliers.title == f"{n} outliers in {n_pilots} pilots"
    assert sum(c for _, c in outliers.pilots) + outliers.no_pilot == n
    assert {p for p, _ in outliers.pilots} == {r[0] for r in rows[1:n_pilots + 1]}
    # every warning is in exactly one group; the most frequent kind comes first
    assert sum(len(g.problems) for g in grouped.warning_groups) == len(outcome.warnings)
    sizes = [len(g.problems) for g in grouped.warning_groups]
    assert sizes == sorted(sizes, reverse=True)
    lines = outliers.pilot_lines(reporting.pilot_names(current.pilots))
    assert re.match(r"^.+ \([A-Z]{3}-[A-Z]+\): \d+$", lines[0]), lines[0]


def test_the_command_line_prints_errors_then_each_kind_of_warning_under_its_title(store):
    rows = outlier_rows(store.load(), indicators=["households_reached", "participants_total"])
    rows.append(["NOPE-PILOT", "2018-Q4", 5, 5])
    text = submit.format_outcome(check(store, {"Indicators": rows}))
    lines = text.splitlines()
    first_warning = next(i for i, t in enumerate(lines) if t.startswith("WARNING"))
    assert all(not t.startswith("ERROR") for t in lines[first_warning:])
    assert lines[0].startswith("ERROR") and "NOPE-PILOT" in lines[0]
    title = lines[first_warning - 1]
    assert re.fullmatch(r"-- \d+ outliers in \d+ pilots \(warnings\) --", title), title
    assert "(s)" not in text


def test_every_problem_code_has_words_and_a_count_reads_as_a_sentence():
    from linkdash.problems import CODES

    for code in CODES:
        assert code in reporting.KIND_WORDS, code
        one, many = reporting.KIND_WORDS[code]
        assert "_" not in one + many, code
    assert reporting.kind_words("outlier", 1) == "1 outlier"
    assert reporting.kind_words("outlier", 312) == "312 outliers"
    assert reporting.kind_words("unknown_column", 2) == "2 ignored columns"


def test_outliers_past_the_listed_ones_are_counted_in_their_group():
    listed = [Problem("outlier", "warning", "Indicators", f"C{i}", 9.0,
                      f"Households reached for {pid} 2018-Q4 is 9, far from ...")
              for i, pid in enumerate(["KEN-DAIRY", "KEN-DAIRY", "UGA-DAIRY"], start=2)]
    rest = Problem("outliers_not_listed", "warning", "Indicators", None, 4000,
                   "4,000 more values (of 9 pilots) are far from their earlier quarters; ...")
    grouped = reporting.group_problems([], [*listed, rest], {"KEN-DAIRY", "UGA-DAIRY"})
    (g,) = grouped.warning_groups
    assert g.title == "4,003 outliers (the 3 farthest listed, in 2 pilots)"
    assert g.problems[0] is rest and g.pilots == [("KEN-DAIRY", 2), ("UGA-DAIRY", 1)]


def test_a_problem_names_its_pilot_only_when_it_is_a_known_one():
    p = Problem("outlier", "warning", "Indicators", "C4", 9.0,
                "Households reached for KEN-DAIRY 2018-Q4 is 9, far from ...")
    assert reporting.pilot_of(p, {"KEN-DAIRY"}) == "KEN-DAIRY"
    assert reporting.pilot_of(p, {"UGA-DAIRY"}) is None
    sheet = Problem("unknown_column", "warning", "Indicators", "F1", "Colour", "Column 'Colour' ...")
    grouped = reporting.group_problems([], [p, sheet], {"KEN-DAIRY"})
    assert [g.title for g in grouped.warning_groups] == ["1 outlier in 1 pilot", "1 ignored column"]


# --- what a file covers, what is unusual ------------------------------------------------

def test_the_preview_says_which_pilots_quarters_and_sheets_a_file_covers(store):
    outcome = check(store, {"Indicators": [
        ["Pilot ID", "Quarter", "Households reached"],
        ["KEN-DAIRY", "2018-Q4", 1300], ["UGA-DAIRY", "2018-Q3", 900], ["UGA-DAIRY", "2018-Q4", 950]],
        "Lessons": [["pilot_id", "quarter", "lesson"], ["KEN-DAIRY", "2018-Q4", "Milk cools faster."]]})
    cov = reporting.coverage(outcome.tables, store.load().pilots)
    assert cov.pilots == ["KEN-DAIRY", "UGA-DAIRY"] and cov.quarters == ["2018-Q3", "2018-Q4"]
    assert cov.sheets == [("Indicators", 3), ("Lessons", 1)]
    text = cov.sentence()
    assert text == ("This file covers 2 pilots (Kenya dairy cows and Uganda dairy cows), "
                    "2018-Q3 to 2018-Q4 (2 quarters), in 2 sheets: Indicators (3 rows), "
                    "Lessons (1 row)."), text


def test_a_normal_quarterly_upload_is_not_unusual(store):
    current = store.load()
    outcome = check(store, {"Indicators": outlier_rows(current, "2019-Q1", 1.02,
                                                       ["households_reached"])})
    ch = outcome.changes
    assert ch.new > 0
    assert reporting.unusual_changes(ch.detail, current.pilots, changed=ch.changed,
                                     sent=ch.new + ch.changed, latest_quarter="2019-Q1") == []


def test_renamed_pilots_moved_sites_and_old_quarters_are_flagged_before_commit(store):
    current = store.load()
    ken = current.pilots.set_index("pilot_id").loc["KEN-DAIRY"]
    outcome = check(store, {
        "Pilots": [["pilot_id", "pilot_name", "country", "value_chain", "latitude", "longitude"],
                   ["KEN-DAIRY", "Kenya milk", "Kenya", "dairy_cow", ken["latitude"] + 1.0,
                    ken["longitude"]]],
        "Indicators": [["Pilot ID", "Quarter", "Households reached"], ["UGA-DAIRY", "2016-Q4", 7]]})
    ch = outcome.changes
    found = {u.code: u for u in reporting.unusual_changes(
        ch.detail, current.pilots, changed=ch.changed, latest_quarter=current.latest_quarter())}
    assert set(found) == {"renamed_pilot", "moved_site", "old_quarters"}
    assert found["renamed_pilot"].lines == [f"KEN-DAIRY “{ken['pilot_name']}” is renamed “Kenya milk”"]
    moved = found["moved_site"].lines[0]
    assert moved.startswith(f"{ken['pilot_name']} (KEN-DAIRY): moved 111 km"), moved
    assert found["old_quarters"].title == "1 value changed in 1 quarter a year or more before 2018-Q4"
    assert found["old_quarters"].lines[0].startswith("2016-Q4: 1 value changed (Uganda")


def test_many_values_changed_at_once_is_flagged(store):
    current = store.load()
    rows = outlier_rows(current, "2018-Q3", 1.5)
    outcome = check(store, {"Indicators": rows})
    ch = outcome.changes
    assert ch.changed > reporting.MANY_CHANGED
    found = reporting.unusual_changes(ch.detail, current.pilots, changed=ch.changed,
                                      sent=ch.new + ch.changed + ch.unchanged, latest_quarter="2018-Q4")
    many = next(u for u in found if u.code == "many_changed")
    assert many.title == f"{ch.changed:,} stored values would change at once"
    # a one-site move of less than a kilometre is a correction of decimals, not a move
    small = pd.DataFrame([["Pilots", "KEN-DAIRY", "latitude", -0.42, -0.4201, "changed"]],
                         columns=["sheet", "key", "field", "old", "new", "kind"])
    assert reporting.unusual_changes(small, current.pilots) == []


def test_the_preview_rows_name_pilots_and_indicators_in_words(store):
    current = store.load()
    outcome = check(store, {"Indicators": [["Pilot ID", "Quarter", "Participants women"],
                                           ["KEN-DAIRY", "2019-Q1", 150]],
                            "Progress": [["pilot_id", "milestone", "status"],
                                         ["KEN-DAIRY", "vc_map", "in_progress"]]})
    words = reporting.detail_in_words(outcome.changes.detail, reporting.pilot_names(current.pilots))
    text = words.to_string()
    assert "Participants women" in text and "participants_women" not in text
    assert "Value chain map: Status" in text and "in progress" in text
    assert "Kenya dairy cows (KEN-DAIRY)" in text
    assert not words.isin(["None", "nan"]).any().any()


# --- the commit and the history in words ------------------------------------------------

def test_the_commit_is_said_in_words_with_the_quarter_to_look_at(store):
    data = xlsx_bytes({"Indicators": [["Pilot ID", "Quarter", "Households reached", "Participants total"],
                                      ["KEN-DAIRY", "2019-Q1", 1234, 300], ["UGA-DAIRY", "2019-Q1", 900, 200],
                                      ["UGA-DAIRY", "2018-Q4", 1, None]]})
    outcome = submit.import_file(store, data, "q.xlsx", actor=ADMIN)
    cov = reporting.coverage(outcome.tables, store.load().pilots)
    text = reporting.committed_sentence(outcome.changes.new, outcome.changes.changed, cov,
                                        submission_id=outcome.submission_id)
    assert text == (f"Stored 4 new values and changed 1 for 2 pilots in 2018-Q4 to 2019-Q1 "
                    f"(2 quarters) (submission #{outcome.submission_id}).")
    assert reporting.report_quarter(cov) == "2019-Q1"
    one = reporting.coverage({"Indicators": outcome.tables["Indicators"].iloc[:1]}, store.load().pilots)
    assert reporting.committed_sentence(0, 1, one) == "Changed 1 value for Kenya dairy cows in 2019-Q1."


def test_the_history_says_statuses_and_kinds_in_words(store):
    outcome = submit.import_file(store, xlsx_bytes({"Indicators": [
        ["Pilot ID", "Quarter", "Households reached"], ["KEN-DAIRY", "2019-Q1", 1234]]}),
        "q.xlsx", actor=ADMIN)
    rb = submit.rollback(store, outcome.submission_id, actor=ADMIN)
    words = reporting.submissions_in_words(store.submissions())
    by_id = words.set_index("id")
    assert by_id.loc[outcome.submission_id, "status"] == f"rolled back by #{rb.submission_id}"
    assert by_id.loc[1, "kind"] == "illustrative demo data" and by_id.loc[1, "status"] == "stored"
    assert (by_id.loc[rb.submission_id, "what"]
            == f"undid #{outcome.submission_id}: 0 restored, 1 removed, 0 kept")
    assert by_id.loc[rb.submission_id, "filename"] == "q.xlsx"
    flat = words.astype(str).to_string()
    assert "rolled_back" not in flat and "None" not in flat and "nan" not in flat
    text = reporting.rollback_sentence(rb.ok, rb.message, rolled_back=rb.rolled_back,
                                       submission_id=rb.submission_id, restored=rb.restored,
                                       removed=rb.removed, kept=len(rb.kept))
    assert text == f"Rolled back submission #{outcome.submission_id} (recorded as #{rb.submission_id}): " \
                   "0 values restored, 1 removed."
    pick = reporting.describe_submission(store.submissions().iloc[1].to_dict())
    assert pick.startswith(f"#{outcome.submission_id} · upload · q.xlsx") and pick.endswith(
        f"rolled back by #{rb.submission_id}")


# --- illustrative data: one answer, removed and loaded again ---------------------------

def test_illustrative_alone_then_mixed_then_removed_and_loaded_again(store):
    ill = illustrative.state(store.submissions(), store.load())
    assert ill.any and ill.only and not ill.mixed and ill.demo_ids == (1,)
    data = xlsx_bytes({"Pilots": [["pilot_id", "pilot_name", "country", "value_chain", "site"],
                                  ["KEN-DAIRY", "Kenya dairy cows", "Kenya", "dairy_cow", "Real site"]],
                       "Indicators": [["Pilot ID", "Quarter", "Households reached"],
                                      ["KEN-DAIRY", "2018-Q4", 1500]]})
    real = submit.import_file(store, data, "real.xlsx", actor=ADMIN)
    assert real.ok and real.submission_id == 2
    ill = illustrative.state(store.submissions(), store.load())
    assert ill.mixed and ill.real_ids == (2,)
    plan = illustrative.removal(store.history(), ill)
    assert plan.possible, plan.blocked
    rb = submit.rollback(store, 1, actor=ADMIN)
    assert rb.ok
    after = store.load()
    assert not illustrative.state(store.submissions(), store.load()).any
    # the real values stay; the made-up ones are gone
    ken = after.indicators[(after.indicators["pilot_id"] == "KEN-DAIRY")]
    assert (ken.set_index(["quarter", "indicator"])["value"].to_dict()
            == {("2018-Q4", "households_reached"): 1500.0})
    assert list(after.pilots["pilot_id"]) == ["KEN-DAIRY"]
    # loading it again fills only what no real upload holds
    tables = illustrative.restore_tables(demo.demo_tables(), after)
    ind = tables["Indicators"]
    assert not ((ind["pilot_id"] == "KEN-DAIRY") & (ind["quarter"] == "2018-Q4")
                & (ind["indicator"] == "households_reached")).any()
    assert "KEN-DAIRY" not in set(tables["Pilots"]["pilot_id"])
    commit = store.commit(tables, file_bytes=demo.demo_file_bytes(tables), filename=demo.DEMO_FILENAME,
                          user="admin", kind=demo.DEMO_KIND)
    assert commit.ok and commit.submission_id is not None
    back = store.load()
    assert back.indicators.set_index(["pilot_id", "quarter", "indicator"]).loc[
        ("KEN-DAIRY", "2018-Q4", "households_reached"), "value"] == 1500.0
    assert len(back.pilots) == 13
    assert illustrative.state(store.submissions(), store.load()).mixed


def test_removing_the_illustrative_data_keeps_the_pilots_real_values_need(store):
    """A real upload reports on a pilot whose Pilots row only the demo holds: removing
    the illustrative data rolls the demo back but keeps that row (the real values are
    never left without their pilot) and says so; the demo's other values are gone."""
    submit.import_file(store, xlsx_bytes({"Indicators": [
        ["Pilot ID", "Quarter", "Households reached"], ["UGA-DAIRY", "2019-Q1", 1000]]}),
        "real.xlsx", actor=ADMIN)
    plan = illustrative.removal(store.history(), illustrative.state(store.submissions(), store.load()))
    assert plan.possible and plan.kept_pilots == ["UGA-DAIRY"]
    for sid in plan.demo_ids:
        result = submit.rollback(store, sid, actor=ADMIN)
        assert result.ok, result.message
        assert any(k["key"] == "UGA-DAIRY" and "still has values" in k["reason"] for k in result.kept)
    after = store.load()
    assert list(after.pilots["pilot_id"]) == ["UGA-DAIRY"]
    assert after.indicators[["pilot_id", "quarter", "indicator", "value"]].values.tolist() == [
        ["UGA-DAIRY", "2019-Q1", "households_reached", 1000.0]]


# --- pure helpers the pages show (moved out of the ui package) ---------------------------

def test_user_text_shows_in_markdown_as_it_is():
    raw = "*bold* [link](http://x) `code` <b>#1</b> a_b 1.5-2 |~$!"
    escaped = reporting.md_literal(raw)
    assert re.sub(r"\\(.)", r"\1", escaped) == raw  # nothing lost
    assert not re.search(r"(?<!\\)[*`\[\]<>_#|~$]", escaped)  # no markdown character left bare


def test_problems_as_a_table_name_the_pilot_and_the_kind():
    problems = [Problem("not_a_number", "error", "Indicators", "D4", "lots", "KEN-DAIRY: not a number"),
                Problem("outlier", "warning", "Indicators", "E9", 12000.0, "GHA-COCOA is far from before")]
    df = reporting.problems_frame(problems, {"KEN-DAIRY": "Kenya dairy", "GHA-COCOA": "GHA-COCOA"})
    assert list(df.columns) == reporting.PROBLEM_COLUMNS
    assert df["pilot"].tolist() == ["Kenya dairy (KEN-DAIRY)", "GHA-COCOA"]
    assert df["value"].tolist() == ["lots", "12000"]
    assert df["severity"].tolist() == ["error", "warning"]
    assert df["kind"].iloc[1] == reporting.kind_words("outlier", 1)[2:]
    assert reporting.problems_frame([]).empty


class _Outcome:
    def __init__(self, sid, new=0, changed=0, warnings=(), tables=None):
        self.submission_id, self.warnings, self.tables = sid, list(warnings), tables
        self.changes = type("Changes", (), {"new": new, "changed": changed})()


def test_a_commit_in_words_names_the_file_safely_and_the_quarter_reported():
    cov = reporting.Coverage(["KEN-DAIRY"], {"KEN-DAIRY": "Kenya *dairy*"}, ["2018-Q3", "2018-Q4"], [])
    done = reporting.describe_commit(_Outcome(7, new=12, changed=2), "q4_final.xlsx", cov)
    assert done["quarter"] == "2018-Q4"
    assert "#7" in done["text"] and "12 new values" in done["text"]
    assert r"Kenya \*dairy\*" in done["text"] and r"q4\_final\.xlsx" in done["text"]
    same = reporting.describe_commit(_Outcome(None, warnings=[Problem(
        "outlier", "warning", "Indicators", "C3", 1.0, "nothing new")]), "q.xlsx")
    assert same["quarter"] is None and "changed nothing" in same["text"] and "nothing new" in same["text"]


def test_a_rollback_and_the_audit_log_in_words():
    result = type("R", (), dict(ok=True, message="", rolled_back=2, submission_id=3, restored=4,
                                removed=6, kept=[{"x": 1}]))()
    text = reporting.rollback_text(result)
    assert "#2" in text and "#3" in text and "4 values restored" in text and "1 kept" in text
    refused = type("R", (), dict(ok=False, message="Only an admin may roll back.", rolled_back=None,
                                 submission_id=None, restored=0, removed=0, kept=[]))()
    assert reporting.rollback_text(refused) == "Only an admin may roll back."
    log = pd.DataFrame({"event": ["demo", "role", "user_added"], "who": ["ana@x.org", None, ""]})
    words = reporting.audit_in_words(log)
    assert words["event"].tolist() == ["illustrative demo data", "role change", "user added"]
    assert words["who"].tolist() == ["ana@x.org", "—", "—"]
    assert log["event"].tolist() == ["demo", "role", "user_added"]  # the log itself is not changed
