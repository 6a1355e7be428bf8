"""Who may do what, as direct tests of ``linkdash`` functions on SQLite and PostgreSQL:
every role (admin, director of Africa, country team of KEN-DAIRY, viewer, a signed-in
person without a role) x every action (import, commit, reference data, rollback,
original-file download, user management)."""

from __future__ import annotations

import pytest

from conftest import sample_tables, workbook_bytes
from linkdash import access, roles, submit

ADMIN = access.local_admin("admin@example.org")
ROLE_NAMES = ("admin", "director", "country", "viewer", "none")


def _only(sheet: str, **kw):
    return {sheet: sample_tables(**kw)[sheet]}


@pytest.fixture
def world(store):
    """Two pilots (KEN-DAIRY in Africa, VNM-DAIRY in Asia) sent by an admin as
    submission 1 (with a benchmark and a rate), and one user of each role."""
    first = submit.import_file(store, workbook_bytes(sample_tables()), "seed.xlsx", actor=ADMIN)
    assert first.submission_id == 1
    access.set_user(store, ADMIN, "admin@example.org", "admin")
    access.set_user(store, ADMIN, "africa@example.org", "director", "Africa")
    access.set_user(store, ADMIN, "kenya@example.org", "country", "KEN-DAIRY")
    access.set_user(store, ADMIN, "viewer@example.org", "viewer")
    actors = {
        "admin": access.actor_for(store, "admin@example.org"),
        "director": access.actor_for(store, "africa@example.org"),
        "country": access.actor_for(store, "kenya@example.org"),
        "viewer": access.actor_for(store, "viewer@example.org"),
        "none": access.actor_for(store, "stranger@example.org"),
    }
    assert actors["none"].role is None and not actors["none"].may_read
    return store, actors


def _codes(outcome) -> set[str]:
    return {p.code for p in outcome.errors}


# --- import -------------------------------------------------------------------------

KEN_ONLY = workbook_bytes(_only("Indicators", pilots=("KEN-DAIRY",), income=777.0))
VNM_ONLY = workbook_bytes(_only("Indicators", pilots=("VNM-DAIRY",), income=777.0))


@pytest.mark.parametrize("role,ok,codes", [
    ("admin", True, set()), ("director", True, set()), ("country", True, set()),
    ("viewer", False, {"not_allowed"}), ("none", False, {"not_allowed"})])
def test_import_of_a_kenyan_quarter(world, role, ok, codes):
    store, actors = world
    out = submit.import_file(store, KEN_ONLY, "ken.xlsx", actor=actors[role])
    assert out.ok is ok and _codes(out) == codes
    assert (out.submission_id is not None) is ok
    if ok:
        assert store.submissions().iloc[0]["user"] == actors[role].email
    else:
        assert len(store.submissions()) == 1


@pytest.mark.parametrize("role,codes", [
    ("admin", set()), ("director", {"out_of_scope"}), ("country", {"out_of_scope"}),
    ("viewer", {"not_allowed"}), ("none", {"not_allowed"})])
def test_import_of_another_regions_pilot(world, role, codes):
    store, actors = world
    out = submit.import_file(store, VNM_ONLY, "vnm.xlsx", actor=actors[role])
    assert _codes(out) == codes
    if "out_of_scope" in codes:  # each row named: sheet, cell, pilot
        assert {(p.sheet, p.cell, p.value) for p in out.errors} == {
            ("Indicators", "A2", "VNM-DAIRY"), ("Indicators", "A3", "VNM-DAIRY")}
    assert (out.submission_id is not None) is (role == "admin")


# --- reference data ---------------------------------------------------------------------

def _pilot_moved(wb):
    ws = wb["Pilots"]
    assert ws["C1"].value == "country"
    ws["C2"] = "Uganda"


REFERENCE_FILES = {
    "benchmark": (workbook_bytes({"Benchmarks": sample_tables()["Benchmarks"].assign(
        living_income_usd=9999.0)}), ("Benchmarks", "A2")),
    "rate": (workbook_bytes({"Rates": sample_tables()["Rates"].assign(units_per_usd=1.0)}),
             ("Rates", "A2")),
    "pilot moved to another country": (
        workbook_bytes(_only("Pilots", pilots=("KEN-DAIRY",)), edit=_pilot_moved), ("Pilots", "C2")),
    "new pilot": (workbook_bytes(_only("Pilots", pilots=("UGA-GOAT",))), ("Pilots", "A2")),
}


@pytest.mark.parametrize("what", list(REFERENCE_FILES))
def test_reference_data_is_changed_by_admins_only(world, what):
    store, actors = world
    data, cell = REFERENCE_FILES[what]
    for role in ("director", "country", "viewer", "none"):
        out = submit.validate(store, data, "ref.xlsx", actor=actors[role])
        assert not out.ok, (what, role)
        if role in ("viewer", "none"):
            assert _codes(out) == {"not_allowed"}
            continue
        assert cell in {(p.sheet, p.cell) for p in out.errors}, (what, role, out.errors)
        assert _codes(out) <= {"admin_only", "out_of_scope"}
        assert all(p.message for p in out.errors)
        refused = submit.import_file(store, data, "ref.xlsx", actor=actors[role])
        assert refused.submission_id is None
    out = submit.import_file(store, data, "ref.xlsx", actor=actors["admin"])
    assert out.ok and out.submission_id is not None, out.errors


def test_a_country_user_sending_other_pilots_a_benchmark_and_a_rate_gets_each_row_named(world):
    store, actors = world
    out = submit.validate(store, workbook_bytes(sample_tables(income=500.0)), "all.xlsx",
                          actor=actors["country"])
    named = {(p.code, p.sheet, p.cell) for p in out.errors}
    assert ("admin_only", "Benchmarks", "A2") in named and ("admin_only", "Rates", "A2") in named
    assert ("out_of_scope", "Indicators", "A4") in named  # VNM-DAIRY's first quarter
    assert all(p.value == "VNM-DAIRY" for p in out.errors if p.code == "out_of_scope")
    sheets = [p.sheet for p in out.errors]
    assert sheets.index("Pilots") < sheets.index("Benchmarks") < sheets.index("Rates")


def test_a_pilots_own_facts_may_be_changed_by_its_country_team(world):
    store, actors = world
    tables = _only("Pilots", pilots=("KEN-DAIRY",))
    tables["Pilots"] = tables["Pilots"].assign(producer_org="New cooperative name")
    out = submit.import_file(store, workbook_bytes(tables), "name.xlsx", actor=actors["country"])
    assert out.ok and out.changes.changed == 1, out.errors


@pytest.mark.parametrize("role", ["director", "country", "viewer", "none"])
def test_commit_checks_the_tables_again_whoever_validated_them(world, role):
    """An outcome checked for an admin cannot be committed by someone else."""
    store, actors = world
    data = workbook_bytes(sample_tables(income=600.0))
    checked = submit.validate(store, data, "all.xlsx", actor=actors["admin"])
    assert checked.ok
    out = submit.commit(store, checked, data, "all.xlsx", actor=actors[role])
    assert not out.ok and out.submission_id is None
    assert _codes(out) & {"out_of_scope", "admin_only", "not_allowed"}
    assert len(store.submissions()) == 1


# --- rollback ------------------------------------------------------------------------------

def test_rollback_by_role(world):
    store, actors = world
    ken = submit.import_file(store, KEN_ONLY, "ken.xlsx", actor=actors["country"]).submission_id
    vnm = submit.import_file(store, VNM_ONLY, "vnm.xlsx", actor=ADMIN).submission_id
    version = store.data_version()
    for role in ("country", "viewer", "none"):
        for sid in (1, ken, vnm):
            r = submit.rollback(store, sid, actor=actors[role])
            assert not r.ok and "may not roll back" in r.message, (role, sid)
    # a director: not another region's values, not reference data (the seed made pilots)
    r = submit.rollback(store, vnm, actor=actors["director"])
    assert not r.ok and "VNM-DAIRY" in r.message
    r = submit.rollback(store, 1, actor=actors["director"])
    assert not r.ok and "VNM-DAIRY" in r.message
    assert store.data_version() == version  # nothing changed
    r = submit.rollback(store, ken, actor=actors["director"])
    assert r.ok, r.message
    assert store.submission(r.submission_id)["user"] == "africa@example.org"
    assert submit.rollback(store, vnm, actor=actors["admin"]).ok


def test_a_director_may_not_roll_back_reference_data_of_their_region(world):
    store, actors = world
    bench = sample_tables()["Benchmarks"].assign(living_income_usd=3000.0)
    sid = submit.import_file(store, workbook_bytes({"Benchmarks": bench}), "b.xlsx",
                             actor=ADMIN).submission_id
    r = submit.rollback(store, sid, actor=actors["director"])
    assert not r.ok and "reference data" in r.message


# --- original files -------------------------------------------------------------------------

def test_original_files_by_role(world):
    store, actors = world
    ken = submit.import_file(store, KEN_ONLY, "ken.xlsx", actor=ADMIN).submission_id
    allowed = {"admin": {1, ken}, "director": {ken}, "country": set(), "viewer": set(), "none": set()}
    for role, ids in allowed.items():
        for sid in (1, ken):
            if sid in ids:
                name, data = access.original_file(store, actors[role], sid)
                assert data == (KEN_ONLY if sid == ken else store.submission_file(1)[1])
            else:
                with pytest.raises(access.Denied):
                    access.original_file(store, actors[role], sid)


def test_a_director_of_two_regions_may_download_the_seed(world):
    store, actors = world
    access.set_user(store, ADMIN, "both@example.org", "director", "Asia, Africa")
    both = access.actor_for(store, "both@example.org")
    assert access.original_file(store, both, 1)[0] == "seed.xlsx"


# --- users ------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLE_NAMES)
def test_user_management_by_role(world, role):
    store, actors = world
    actor = actors[role]
    calls = [
        lambda: access.set_user(store, actor, "new@example.org", "viewer"),
        lambda: access.remove_user(store, actor, "viewer@example.org"),
        lambda: access.import_users_csv(store, actor, "email,scope\nx@example.org,Asia\n"),
        lambda: access.list_users(store, actor),
    ]
    before = len(roles.role_changes(store.engine))
    if role == "admin":
        for call in calls:
            call()
        assert len(roles.role_changes(store.engine)) == before + 3
        return
    for call in calls:
        with pytest.raises(access.Denied):
            call()
    assert len(roles.role_changes(store.engine)) == before


def test_every_role_change_is_in_the_history(store):
    access.set_user(store, ADMIN, "Team@Example.org", "country", "ken-dairy, UGA-DAIRY")
    access.set_user(store, ADMIN, "team@example.org", "director", "africa")
    assert access.set_user(store, ADMIN, "team@example.org", "director", "Africa") == "same"
    access.remove_user(store, ADMIN, "team@example.org")
    h = roles.role_changes(store.engine)
    assert list(zip(h.action, h.old_role, h.new_role, h.old_scope, h.new_scope)) == [
        ("remove", "director", None, "Africa", None),
        ("change", "country", "director", "KEN-DAIRY, UGA-DAIRY", "Africa"),
        ("add", None, "country", None, "KEN-DAIRY, UGA-DAIRY"),
    ]
    assert set(h["by"]) == {"admin@example.org"} and h["at"].notna().all()


def test_the_last_administrator_stays(store):
    access.set_user(store, ADMIN, "boss@example.org", "admin")
    with pytest.raises(roles.RoleError, match="last administrator"):
        access.set_user(store, ADMIN, "boss@example.org", "viewer")
    with pytest.raises(roles.RoleError, match="last administrator"):
        access.remove_user(store, ADMIN, "boss@example.org")
    access.set_user(store, ADMIN, "deputy@example.org", "admin")
    access.remove_user(store, ADMIN, "boss@example.org")


def test_bad_users_are_refused_with_a_reason(store):
    for email, role, scope, reason in [
            ("not-an-email", "viewer", "", "not an e-mail"),
            ("a@example.org", "owner", "", "not a role"),
            ("a@example.org", "director", "", "needs a scope"),
            ("a@example.org", "country", "Kenya dairy!", "neither a region")]:
        with pytest.raises(roles.RoleError, match=reason):
            access.set_user(store, ADMIN, email, role, scope)
    assert roles.list_users(store.engine).empty


def test_the_access_csv_format_imports_into_the_roles(store):
    text = ("email,scope\nAsia.Director@example.org,Asia\n"
            "kenya.team@example.org,\"KEN-DAIRY, UGA-DAIRY\"\nadmin@example.org,*\n"
            "reader@example.org,\n")
    assert access.import_users_csv(store, ADMIN, text) == {"add": 4, "change": 0, "same": 0}
    got = {u.email: (u.role, u.scope) for u in
           (roles.get_user(store.engine, e) for e in roles.list_users(store.engine)["email"])}
    assert got == {"asia.director@example.org": ("director", ("Asia",)),
                   "kenya.team@example.org": ("country", ("KEN-DAIRY", "UGA-DAIRY")),
                   "admin@example.org": ("admin", ()),
                   "reader@example.org": ("viewer", ())}
    with pytest.raises(roles.RoleError, match="line 2"):
        roles.parse_access_csv("email,scope,role\nx@example.org,,boss\n")


def test_the_command_line_actor_must_exist_with_a_role(store):
    with pytest.raises(access.Denied, match="--as-admin"):
        access.cli_actor(store, None, False)
    with pytest.raises(access.Denied, match="no role"):
        access.cli_actor(store, "stranger@example.org", False)
    assert access.cli_actor(store, None, True).is_admin
    access.set_user(store, ADMIN, "v@example.org", "viewer")
    assert access.cli_actor(store, "V@example.org", False).role == "viewer"
