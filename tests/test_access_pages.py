"""Sign-in and roles through Streamlit's AppTest (``at.user`` per role, ``[auth]`` in
``at.secrets``), local mode, and the hardening of what the pages show and export."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from linkdash import access, submit
from linkdash.store import Store
from tests.workbook_builder import xlsx_bytes

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x",
        "client_id": "x", "client_secret": "x",
        "server_metadata_url": "http://127.0.0.1:1/.well-known/openid-configuration"}
ADMIN = access.local_admin("setup@example.org")
USERS = {"admin@example.org": ("admin", ""), "asia@example.org": ("director", "Asia"),
         "africa@example.org": ("director", "Africa"),
         "kenya@example.org": ("country", "KEN-DAIRY"), "viewer@example.org": ("viewer", "")}


@pytest.fixture
def roles_url(demo_url):
    store = Store.open(demo_url)
    for email, (role, scope) in USERS.items():
        access.set_user(store, ADMIN, email, role, scope)
    store.close()
    return demo_url


def signed_in(email: str | None, *, verified: bool = True, query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["auth"] = AUTH
    at.user = ({"is_logged_in": False} if email is None else
               {"is_logged_in": True, "email": email, "email_verified": verified, "name": email})
    at.query_params.update(query or {})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def page_titles(at: AppTest) -> list[str]:
    """The pages the navigation offers, by file name (``upload``, ``admin``...)."""
    return [Path(str(info["script_path"])).stem for info in at._registered_pages.values()
            if info.get("script_path")]


def go(at: AppTest, name: str) -> AppTest:
    at.switch_page(f"pages/{name}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest) -> str:
    parts = []
    for kind in ("title", "markdown", "caption", "info", "success", "warning", "error"):
        parts += [str(e.value) for e in getattr(at, kind)]
    return "\n".join(parts).replace("\\", "")  # markdown escapes of literal text


def kenya_and_more() -> bytes:
    """A country user's workbook touching another country's pilot, a benchmark and a rate."""
    return xlsx_bytes({
        "Indicators": [["pilot_id", "quarter", "households_reached"],
                       ["KEN-DAIRY", "2019-Q1", 1200], ["VNM-DAIRY", "2019-Q1", 900]],
        "Benchmarks": [["country", "year", "living_income_usd", "source"],
                       ["VNM", 2019, 1.0, "mine"]],
        "Rates": [["currency", "quarter", "units_per_usd"], ["VND", "2019-Q1", 1.0]],
    })


# --- who gets in --------------------------------------------------------------------------

def test_nobody_sees_data_before_signing_in(roles_url):
    at = signed_in(None)
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.metric and not at.dataframe


def test_a_signed_in_person_without_a_role_is_asked_to_see_an_administrator(roles_url):
    at = signed_in("stranger@example.org")
    assert "Ask an administrator" in texts(at)
    assert not at.metric and not at.dataframe and not at.get("plotly_chart")
    assert [b.label for b in at.button] == ["Sign out"]
    at.button(key="sign_out_gate").click().run()
    assert not at.exception
    assert at.user == {"is_logged_in": False}
    at.run()
    assert [b.label for b in at.button] == ["Sign in"]


def test_an_unverified_email_is_not_accepted_even_with_a_role(roles_url):
    at = signed_in("admin@example.org", verified=False)
    assert "not" in texts(at) and "verified" in texts(at)
    assert not at.metric


@pytest.mark.parametrize("email,upload,admin", [
    ("admin@example.org", True, True), ("asia@example.org", True, False),
    ("kenya@example.org", True, False), ("viewer@example.org", False, False)])
def test_each_role_sees_the_data_and_its_pages(roles_url, email, upload, admin):
    at = signed_in(email)
    assert at.metric, "no cards on the Overview"
    assert email in " ".join(c.value.replace("\\", "") for c in at.sidebar.caption)
    titles = page_titles(at)
    assert ("upload" in titles) is upload and ("admin" in titles) is admin
    assert {"overview", "submissions", "audit"} <= set(titles)
    assert "Sign out" in [b.label for b in at.sidebar.button]


def test_a_viewer_following_a_link_to_upload_or_admin_finds_no_such_page(roles_url):
    at = signed_in("viewer@example.org")
    for name in ("upload", "admin"):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(f"pages/{name}.py")


# --- upload, rollback and original files by role --------------------------------------------

def test_a_country_upload_of_other_data_is_refused_row_by_row(roles_url):
    at = go(signed_in("kenya@example.org"), "upload")
    at.file_uploader[0].set_value(("mixed.xlsx", kenya_and_more(), XLSX)).run()
    assert not at.exception
    errors = at.dataframe[0].value
    named = set(zip(errors["sheet"], errors["cell"]))
    assert {("Indicators", "A3"), ("Benchmarks", "A2"), ("Rates", "A2")} <= named
    assert errors["message"].str.contains("VNM-DAIRY").any()
    assert not any(b.key == "upload_commit" for b in at.button)


def test_a_country_upload_of_its_own_pilot_is_committed_under_its_name(roles_url):
    own = xlsx_bytes({"Indicators": [["pilot_id", "quarter", "households_reached"],
                                     ["KEN-DAIRY", "2019-Q1", 1200]]})
    at = go(signed_in("kenya@example.org"), "upload")
    at.file_uploader[0].set_value(("own.xlsx", own, XLSX)).run()
    at.button(key="upload_commit").click().run()
    assert not at.exception
    assert Store.open(roles_url).submissions().iloc[0]["user"] == "kenya@example.org"


def _africa_submission(url: str) -> int:
    data = xlsx_bytes({"Indicators": [["pilot_id", "quarter", "households_reached"],
                                      ["KEN-DAIRY", "2019-Q1", 1200]]})
    return submit.import_file(Store.open(url), data, "africa.xlsx",
                              actor=access.local_admin("admin@example.org")).submission_id


def test_a_director_may_not_roll_back_another_regions_submission(roles_url):
    sid = _africa_submission(roles_url)
    at = go(signed_in("asia@example.org"), "submissions")
    assert at.selectbox(key="submission_pick").value == sid
    assert not any(b.key == "rollback_go" for b in at.button)
    assert "KEN-DAIRY" in texts(at)
    assert not at.get("download_button"), "an Asian director got an African file"

    at = go(signed_in("africa@example.org"), "submissions")
    assert any(b.label.startswith("Download") for b in at.get("download_button"))
    at.checkbox(key=f"rollback_sure_{sid}").check().run()
    at.button(key="rollback_go").click().run()
    assert f"Rolled back submission #{sid}" in texts(at)


def test_a_viewer_finds_no_original_files(roles_url):
    _africa_submission(roles_url)
    for page in ("submissions", "audit"):
        at = go(signed_in("viewer@example.org"), page)
        assert not [b for b in at.get("download_button") if b.label.startswith("Download") and
                    "audit log" not in b.label], page
        assert "for administrators" in texts(at)


# --- admin and audit -------------------------------------------------------------------------------

def test_an_admin_adds_a_user_and_sees_it_on_the_audit_page(roles_url):
    at = go(signed_in("admin@example.org"), "admin")
    at.text_input(key="user_email").input("new.director@example.org")
    at.selectbox(key="user_role").select("director")
    at.text_input(key="user_scope").input("Africa")
    at.button[0].click()  # the form's Save
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Added new.director@example.org" in texts(at).replace("\\", "")
    assert "new.director@example.org" in set(at.dataframe[0].value["email"])
    go(at, "audit")
    log = at.dataframe[0].value
    row = log[log["what"].str.contains("new.director@example.org")].iloc[0]
    assert row["who"] == "admin@example.org" and row["event"] == "role change"
    assert "director (Africa)" in row["what"]
    assert (log["event"] == "illustrative demo data").any()  # the submissions are there too


def test_a_director_finds_no_admin_page(roles_url):
    at = signed_in("africa@example.org")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/admin.py")


# --- local mode -------------------------------------------------------------------------------

def test_local_mode_is_one_local_administrator_and_says_so(demo_url):
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert "Local mode" in " ".join(w.value for w in at.sidebar.warning)
    titles = page_titles(at)
    assert "upload" in titles and "admin" in titles


def test_local_mode_refuses_to_serve_another_address(demo_url):
    at = AppTest.from_file(APP, default_timeout=60)
    from streamlit import config

    old = config.get_option("server.address")
    config.set_option("server.address", "0.0.0.0")
    try:
        at.run()
    finally:
        config.set_option("server.address", old)
    assert "only serves this computer" in texts(at)
    assert not at.metric


def test_the_config_listens_on_127_0_0_1_and_hides_error_details():
    import tomllib

    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert cfg["server"]["address"] == "127.0.0.1"
    assert cfg["client"]["showErrorDetails"] in ("none", False)
    assert cfg["client"]["disableDataExport"] is True
    example = tomllib.loads((ROOT / ".streamlit" / "secrets.toml.example").read_text())
    assert {"redirect_uri", "cookie_secret", "client_id", "client_secret",
            "server_metadata_url"} <= set(example["auth"])


# --- hardening ------------------------------------------------------------------------------

def test_a_pilot_named_in_the_url_is_shown_as_text_never_as_a_link(demo_url):
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["pilot"] = "[x](https://example.org)"
    at.run()
    at.switch_page("pages/pilot.py").run()
    assert not at.exception
    shown = " ".join(w.value for w in at.warning)
    assert r"\[X\]\(HTTPS://EXAMPLE\.ORG\)" in shown, shown
    for el in (*at.markdown, *at.warning, *at.caption, *at.info):
        assert "](https://example.org)" not in el.value.lower().replace("\\", "") or "\\]" in el.value


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1+2", "@SUM(A1)", "\tx", "\rx"])
def test_csv_downloads_neutralise_formula_text(text):
    import pandas as pd

    from linkdash import exports, ui

    assert exports.csv_cell(text) == "'" + text
    body = ui.frame_csv_bytes(pd.DataFrame({"what": [text], "n": [-3.0]})).decode("utf-8-sig")
    assert body.splitlines()[1].startswith(("'", "\"'")) and body.rstrip().endswith(",-3")
