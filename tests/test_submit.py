"""The submission workflow end to end: an .xlsx built with openpyxl goes through
``linkdash.importer.check_file`` and the store. Also pins the ``--json`` shape of
validate/import (like datasette's tests/test_error_shape.py)."""

from __future__ import annotations

import pytest

from conftest import sample_counts, sample_tables, workbook_bytes
from linkdash import access, cli, submit

ADMIN = access.local_admin("admin@example.org")


def _plant_errors(wb):
    ws = wb["Indicators"]
    assert ws["C1"].value == "households_reached" and ws["E1"].value == "participants_women"
    ws["C2"] = "abc"  # not a number
    ws["E3"] = 5000  # more women than participants


GOOD = workbook_bytes(sample_tables())
BAD = workbook_bytes(sample_tables(), edit=_plant_errors)


def test_import_stores_the_workbook(store):
    out = submit.import_file(store, GOOD, "q1.xlsx", actor=access.local_admin("kenya.team@example.org"))
    assert out.ok and out.errors == []
    assert out.changes.counts() == {"new": sample_counts(), "changed": 0, "unchanged": 0}
    assert out.submission_id is not None
    p = store.load()
    assert sorted(p.pilots.pilot_id) == ["KEN-DAIRY", "VNM-DAIRY"]
    assert p.milestones.iloc[0].notes == "=Kick-off in Nairobi"  # text, not a formula
    subs = store.submissions()
    assert subs.iloc[0].user == "kenya.team@example.org"
    assert store.submission_file(out.submission_id) == ("q1.xlsx", GOOD)


def test_validate_previews_and_stores_nothing(store):
    submit.import_file(store, GOOD, "q1.xlsx", actor=ADMIN)
    changed = workbook_bytes(sample_tables(income=480.0))
    out = submit.validate(store, changed, "q2.xlsx")
    assert out.ok and out.submission_id is None
    assert out.changes.counts() == {"new": 0, "changed": 4, "unchanged": sample_counts() - 4}
    d = out.changes.detail
    assert set(zip(d.field, d.old, d.new)) == {("income_avg_usd", 410.5, 480.0),
                                               ("income_avg_usd", 411.5, 481.0)}
    assert store.data_version() == 1 and len(store.submissions()) == 1


def test_errors_store_nothing_and_name_their_cells(store):
    out = submit.import_file(store, BAD, "bad.xlsx", actor=ADMIN)
    assert not out.ok and out.changes is None and out.submission_id is None
    cells = {(p.sheet, p.cell, p.code) for p in out.errors}
    assert ("Indicators", "C2", "not_a_number") in cells
    assert ("Indicators", "E3", "part_above_total") in cells
    assert store.data_version() == 0 and store.load().pilots.empty and store.submissions().empty


def test_the_same_file_twice_changes_nothing_and_says_so(store):
    first = submit.import_file(store, GOOD, "q1.xlsx", actor=ADMIN)
    for again in (submit.validate(store, GOOD, "copy.xlsx"),
                  submit.import_file(store, GOOD, "copy.xlsx", actor=ADMIN)):
        assert again.ok and again.submission_id is None
        assert again.changes.counts() == {"new": 0, "changed": 0, "unchanged": 0}
        dup = [w for w in again.warnings if w.code == "duplicate_file"]
        assert len(dup) == 1 and f"submission {first.submission_id}" in dup[0].message
    assert len(store.submissions()) == 1
    assert "Nothing stored: the same file is submission" in submit.format_outcome(again)


def test_rows_outside_the_users_scope_are_errors(store):
    submit.import_file(store, workbook_bytes(sample_tables(income=1.0)), "seed.xlsx", actor=ADMIN)
    access.set_user(store, ADMIN, "kenya.team@example.org", "country", "KEN-DAIRY")
    kenya = access.actor_for(store, "kenya.team@example.org")
    out = submit.import_file(store, GOOD, "q1.xlsx", actor=kenya)
    assert not out.ok
    assert {p.code for p in out.errors} == {"out_of_scope", "admin_only"}
    assert {p.value for p in out.errors if p.code == "out_of_scope"} == {"VNM-DAIRY"}
    assert {p.sheet for p in out.errors if p.code == "admin_only"} == {"Benchmarks", "Rates"}
    assert len(store.submissions()) == 1


def test_scope_of_a_user_comes_from_their_role(store):
    submit.import_file(store, GOOD, "q1.xlsx", actor=ADMIN)
    access.import_users_csv(store, ADMIN, "email,scope\nkenya.team@example.org,KEN-DAIRY\n"
                                          "asia@example.org,Asia\n")
    pilots = store.load().pilots
    assert access.pilot_scope(ADMIN, pilots) is None
    assert access.pilot_scope(access.actor_for(store, "kenya.team@example.org"), pilots) == {"KEN-DAIRY"}
    assert access.pilot_scope(access.actor_for(store, "asia@example.org"), pilots) == {"VNM-DAIRY"}
    assert access.pilot_scope(access.actor_for(store, "stranger@example.org"), pilots) == set()


def test_human_output_lists_errors_then_warnings_then_changes(store, capsys):
    out = submit.validate(store, BAD, "bad.xlsx")
    assert cli.print_outcome(out, as_json=False) == 1
    text = capsys.readouterr().out
    assert text.index("Indicators!C2") < text.index("Indicators!E3")
    assert "nothing stored" in text
    ok = submit.validate(store, GOOD, "good.xlsx")
    assert cli.print_outcome(ok, as_json=False) == 0
    text = capsys.readouterr().out
    assert f"Changes: {sample_counts()} new, 0 changed, 0 unchanged." in text


def test_the_history_and_a_rollback_in_words(store):
    assert submit.submissions_lines(store.submissions()) == ["No submissions yet."]
    submit.import_file(store, GOOD, "q1.xlsx", actor=ADMIN)
    second = submit.import_file(store, workbook_bytes(sample_tables(income=480.0)), "q2.xlsx", actor=ADMIN)
    done = submit.rollback(store, second.submission_id, actor=ADMIN)
    [said] = submit.rollback_lines(done)
    assert done.ok and "4 values restored" in said
    again = submit.rollback(store, second.submission_id, actor=ADMIN)
    assert not again.ok and "already rolled back by submission 3" in submit.rollback_lines(again)[0]
    header, *rows = submit.submissions_lines(store.submissions())
    assert header.split()[:2] == ["id", "kind"] and len(rows) == 3
    assert rows[0].split()[:2] == ["3", "rollback"]
    assert "rollback of 2: 4 restored, 0 removed, 0 kept" in rows[0]
    assert rows[1].split()[:2] == ["2", "upload"]
    assert "undone by 3" in rows[1] and rows[1].endswith("/ q2.xlsx")
    records = submit.submissions_json(store.submissions())
    assert [(r["id"], r["rolled_back_by"]) for r in records] == [(3, None), (2, 3), (1, None)]
    assert all(isinstance(r["created_at"], str) and "summary" not in r for r in records)


# --- the pinned --json shape ----------------------------------------------------------

PROBLEM_KEYS = {"code", "severity", "sheet", "cell", "value", "message"}


def _check_problem(d: dict, severity: str) -> None:
    assert set(d) == PROBLEM_KEYS
    assert d["severity"] == severity
    assert isinstance(d["code"], str) and d["code"]
    assert d["sheet"] is None or isinstance(d["sheet"], str)
    assert d["cell"] is None or (isinstance(d["cell"], str) and d["cell"][0].isalpha()
                                 and d["cell"][-1].isdigit())
    assert d["value"] is None or isinstance(d["value"], (str, int, float, bool))
    assert isinstance(d["message"], str) and d["message"]


def test_json_shape_of_a_file_with_errors(store):
    import json

    shape = json.loads(json.dumps(submit.validate(store, BAD, "bad.xlsx").as_json()))
    assert list(shape) == ["ok", "errors", "warnings", "submission_id"]  # no "changes"
    assert shape["ok"] is False and shape["submission_id"] is None
    assert shape["errors"]
    for e in shape["errors"]:
        _check_problem(e, "error")
    for w in shape["warnings"]:
        _check_problem(w, "warning")
    first = next(e for e in shape["errors"] if e["cell"] == "C2")
    assert first == {"code": "not_a_number", "severity": "error", "sheet": "Indicators",
                     "cell": "C2", "value": "abc", "message": first["message"]}


@pytest.mark.parametrize("action", ["validate", "import"])
def test_json_shape_of_a_good_file(store, action):
    import json

    fn = submit.validate if action == "validate" else submit.import_file
    shape = json.loads(json.dumps(fn(store, GOOD, "good.xlsx", actor=ADMIN).as_json()))
    assert list(shape) == ["ok", "errors", "warnings", "changes", "submission_id"]
    assert shape["ok"] is True and shape["errors"] == []
    assert shape["changes"] == {"new": sample_counts(), "changed": 0, "unchanged": 0}
    if action == "validate":
        assert shape["submission_id"] is None
    else:
        assert isinstance(shape["submission_id"], int)


def test_json_shape_of_a_duplicate(store):
    import json

    submit.import_file(store, GOOD, "good.xlsx", actor=ADMIN)
    shape = json.loads(json.dumps(submit.import_file(store, GOOD, "good.xlsx", actor=ADMIN).as_json()))
    assert shape["ok"] is True and shape["submission_id"] is None
    assert shape["changes"] == {"new": 0, "changed": 0, "unchanged": 0}
    [dup] = [w for w in shape["warnings"] if w["code"] == "duplicate_file"]
    _check_problem(dup, "warning")
