"""``python -m linkdash`` in a subprocess: exit codes and output of validate, import,
submissions, rollback and export (0 ok, 1 errors or refused)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import sample_counts, sample_tables, workbook_bytes

ROOT = Path(__file__).resolve().parent.parent


def run(db: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    e = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    e.pop("LINKDASH_DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "linkdash", "--db", db, *args],
                          capture_output=True, text=True, cwd=ROOT, env=e, timeout=300)


@pytest.fixture
def files(tmp_path):
    good = tmp_path / "q1.xlsx"
    good.write_bytes(workbook_bytes(sample_tables()))
    changed = tmp_path / "q2.xlsx"
    changed.write_bytes(workbook_bytes(sample_tables(income=450.0), headers="labels"))

    def plant(wb):
        wb["Indicators"]["C2"] = "lots"

    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(workbook_bytes(sample_tables(), edit=plant))
    return good, changed, bad


def test_import_twice_rollback_and_history(store_url, files):
    good, changed, _ = files
    r = run(store_url, "user", "add", "kenya@example.org", "admin", "--as-admin")
    assert r.returncode == 0, r.stderr
    r = run(store_url, "import", str(good), "--user", "kenya@example.org", "--json")
    assert r.returncode == 0, r.stderr
    first = json.loads(r.stdout)
    assert first["ok"] is True and first["changes"]["new"] == sample_counts()

    r = run(store_url, "import", str(good), "--json", "--as-admin")  # the same file again
    assert r.returncode == 0, r.stderr
    again = json.loads(r.stdout)
    assert again["changes"] == {"new": 0, "changed": 0, "unchanged": 0}
    assert again["submission_id"] is None
    assert [w["code"] for w in again["warnings"]] == ["duplicate_file"]

    r = run(store_url, "import", str(changed), "--as-admin")
    assert r.returncode == 0, r.stderr
    assert "Changes: 0 new, 4 changed" in r.stdout and "Stored as submission 2." in r.stdout

    r = run(store_url, "submissions", "--json")
    subs = json.loads(r.stdout)
    shell = subs[0]["user"]
    assert shell.endswith("at the server shell (--as-admin)")
    assert [(s["id"], s["user"], s["changed"]) for s in subs] == [(2, shell, 4), (1, "kenya@example.org", 0)]

    r = run(store_url, "rollback", "2", "--user", "kenya@example.org")
    assert r.returncode == 0 and "4 values restored" in r.stdout
    r = run(store_url, "rollback", "2", "--as-admin")
    assert r.returncode == 1 and "already rolled back by submission 3" in r.stdout
    r = run(store_url, "rollback", "3", "--as-admin")
    assert r.returncode == 1 and "itself a rollback" in r.stdout
    r = run(store_url, "submissions")
    assert r.returncode == 0 and "undone by 3" in r.stdout and "rollback of 2" in r.stdout


def test_validate_exit_codes_and_nothing_stored(tmp_path, files):
    good, _, bad = files
    db = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    r = run(db, "validate", str(bad), "--json", "--as-admin")
    assert r.returncode == 1
    out = json.loads(r.stdout)
    assert out["ok"] is False and "changes" not in out
    assert ("Indicators", "C2", "not_a_number") in {(e["sheet"], e["cell"], e["code"]) for e in out["errors"]}
    r = run(db, "import", str(bad), "--as-admin")
    assert r.returncode == 1 and "Indicators!C2" in r.stdout and "nothing stored" in r.stdout
    r = run(db, "validate", str(good), "--as-admin")
    assert r.returncode == 0 and "Nothing stored (validate only)" in r.stdout
    r = run(db, "submissions", "--json")
    assert json.loads(r.stdout) == []


def test_import_limited_to_the_users_scope(tmp_path, files):
    good, changed, _ = files
    db = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    assert run(db, "import", str(good), "--as-admin").returncode == 0
    access = tmp_path / "access.csv"
    access.write_text("email,scope\nkenya@example.org,KEN-DAIRY\n")
    r = run(db, "user", "import-csv", str(access), "--as-admin")
    assert r.returncode == 0 and "1 added" in r.stdout, r.stderr
    r = run(db, "import", str(changed), "--user", "kenya@example.org", "--json")
    assert r.returncode == 1
    errors = json.loads(r.stdout)["errors"]
    assert {e["code"] for e in errors} == {"out_of_scope", "admin_only"}
    assert {(e["sheet"], e["cell"]) for e in errors if e["code"] == "admin_only"} == {
        ("Benchmarks", "A2"), ("Rates", "A2")}


def test_the_command_line_acts_as_someone_never_silently_as_admin(tmp_path, files):
    good, _, _ = files
    db = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    for args in (("import", str(good)), ("rollback", "1"), ("demo",), ("user", "list"),
                 ("validate", str(good))):
        r = run(db, *args)
        assert r.returncode == 2 and "--as-admin" in r.stderr, (args, r.stderr)
    r = run(db, "import", str(good), "--user", "stranger@example.org")
    assert r.returncode == 2 and "has no role" in r.stderr
    assert run(db, "user", "add", "v@example.org", "viewer", "--as-admin").returncode == 0
    r = run(db, "import", str(good), "--user", "v@example.org")
    assert r.returncode == 1 and "not_allowed" in r.stdout
    r = run(db, "user", "add", "x@example.org", "admin", "--user", "v@example.org")
    assert r.returncode == 1 and "Only administrators" in r.stderr
    assert run(db, "submissions", "--json").stdout.strip() == "[]"


def test_user_add_list_remove_and_the_history(tmp_path):
    db = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    r = run(db, "user", "add", "Asia.Director@example.org", "director", "asia, Africa", "--as-admin")
    assert r.returncode == 0, r.stderr
    r = run(db, "user", "add", "team@example.org", "country", "--as-admin")
    assert r.returncode == 1 and "needs a scope" in r.stderr
    r = run(db, "user", "add", "boss@example.org", "admin", "--as-admin")
    assert r.returncode == 0
    r = run(db, "user", "list", "--user", "boss@example.org", "--json")
    assert [(u["email"], u["role"], u["scope"]) for u in json.loads(r.stdout)] == [
        ("asia.director@example.org", "director", "Asia, Africa"), ("boss@example.org", "admin", "")]
    r = run(db, "user", "remove", "boss@example.org", "--user", "boss@example.org")
    assert r.returncode == 1 and "last administrator" in r.stderr
    r = run(db, "user", "remove", "asia.director@example.org", "--as-admin")
    assert r.returncode == 0
    from linkdash import roles
    from linkdash.store import Store

    hist = roles.role_changes(Store.open(db).engine)
    assert list(hist["action"]) == ["remove", "add", "add"]
    assert hist.iloc[0]["by"].endswith("(--as-admin)")


def test_export_csv_and_unknown_format(tmp_path, files):
    good, _, _ = files
    db = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    assert run(db, "import", str(good), "--as-admin").returncode == 0
    out = tmp_path / "ind.csv"
    r = run(db, "export", str(out))
    assert r.returncode == 0, r.stderr
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("pilot_id,quarter,households_reached,")
    assert len(lines) == 1 + 4
    r = run(db, "export", str(tmp_path / "x.docx"))
    assert r.returncode == 1


def test_export_of_a_filter_holds_its_pilots_and_reimports_unchanged(tmp_path, files):
    import openpyxl

    good, _, _ = files
    db = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    assert run(db, "import", str(good), "--as-admin").returncode == 0
    out = tmp_path / "africa.xlsx"
    r = run(db, "export", str(out), "--region", "africa")  # any case
    assert r.returncode == 0, r.stderr
    assert "Africa (1 pilot)" in r.stdout and str(out) in r.stdout
    wb = openpyxl.load_workbook(out)
    for sheet in ("Pilots", "Progress", "Indicators", "Targets", "Lessons"):
        ids = {row[0] for row in wb[sheet].iter_rows(min_row=2, values_only=True)}
        assert ids == {"KEN-DAIRY"}, sheet
    r = run(db, "import", str(out), "--json", "--as-admin")
    assert r.returncode == 0, r.stderr
    changes = json.loads(r.stdout)["changes"]
    assert changes["new"] == 0 and changes["changed"] == 0 and changes["unchanged"] > 0

    csv_out = tmp_path / "vn.csv"
    r = run(db, "export", str(csv_out), "--country", "Viet Nam", "--quarter", "Q1 2017")
    assert r.returncode == 0, r.stderr
    lines = csv_out.read_text(encoding="utf-8-sig").splitlines()
    assert [line.split(",")[:2] for line in lines[1:]] == [["VNM-DAIRY", "2017-Q1"]]

    r = run(db, "export", str(tmp_path / "m.xlsx"), "--region", "Mars")
    assert r.returncode == 2 and "unknown region" in r.stderr
    r = run(db, "export", str(tmp_path / "none.csv"), "--region", "Latin America")
    assert r.returncode == 1 and not (tmp_path / "none.csv").exists()
