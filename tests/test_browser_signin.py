"""Sign-in end to end in real Chromium: the app with ``[auth]`` pointing at a local
OpenID Connect provider (``oidc-provider-mock``, started here on localhost), an
administrator signing in and out, and a signed-in person without a role."""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests import browser_support as bs

pytestmark = pytest.mark.browser

USERS = {"admin@example.org": True, "stranger@example.org": True, "unverified@example.org": False}


@pytest.fixture(scope="module")
def provider():
    bs.require_browser()
    try:
        from oidc_provider_mock import User, run_server_in_thread
    except ImportError as e:  # pragma: no cover - a laptop without the test dependencies
        pytest.skip(f"oidc-provider-mock is not installed: {e}")
    users = [User(sub=e, claims={"email": e, "email_verified": v}) for e, v in USERS.items()]
    with run_server_in_thread(port=bs.free_port(), user_claims=users) as server:
        yield f"http://localhost:{server.server_port}"


class SignInApp(bs.AppServer):
    """The same server, started with this test's secrets file."""

    def __init__(self, db_url: str, port: int, log: Path, secrets: Path):
        super().__init__(db_url, port, log, ["--secrets.files", str(secrets)])
        self.secrets = secrets


@pytest.fixture(scope="module")
def signin_app(provider):
    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite:///{tmp}/linkdash.sqlite"
        bs.load_demo(db_url)
        subprocess.run([sys.executable, "-m", "linkdash", "--db", db_url, "user", "add",
                        "admin@example.org", "admin", "--as-admin"],
                       cwd=bs.ROOT, check=True, capture_output=True)
        port = bs.free_port()
        secrets = Path(tmp) / "secrets.toml"
        secrets.write_text(
            "[auth]\n"
            f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
            'cookie_secret = "test-cookie-secret-0123456789abcdef"\n'
            'client_id = "linkdash-test"\nclient_secret = "linkdash-test-secret"\n'
            f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n')
        server = SignInApp(db_url, port, Path(tmp) / "streamlit.log", secrets)
        server.start()
        try:
            yield server
        finally:
            server.stop()


def sign_in(page, app, email: str) -> None:
    page.goto(app.url)
    bs.wait_for_app(page)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("input[name='sub']")
    page.fill("input[name='sub']", email)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(re.compile(r"^http://127\.0\.0\.1:\d+/"))
    bs.wait_for_app(page)


def sign_out(page, button) -> None:
    """Sign out: the app ends the session at the provider too (its end-session page),
    then comes back signed out."""
    button.click()
    page.get_by_role("button", name="End session").click()
    page.wait_for_url(re.compile(r"^http://127\.0\.0\.1:\d+/"))
    page.get_by_role("button", name="Sign in").wait_for()


def test_an_admin_signs_in_sees_the_data_and_signs_out(signin_app, page):
    sign_in(page, signin_app, "admin@example.org")
    page.get_by_text("Signed in as").wait_for()
    assert "admin@example.org" in page.locator("[data-testid='stSidebar']").inner_text()
    # (the sidebar is drawn before the page's cards: wait for them, not for a moment)
    page.locator("[data-testid='stMetric']").first.wait_for(timeout=60_000)
    nav = page.locator("[data-testid='stSidebarNav']").inner_text()
    assert "Admin" in nav and "Upload" in nav and "Audit" in nav
    bs.screenshot(page, "signin-admin")
    assert not bs.exceptions_on_page(page)
    sign_out(page, page.locator("[data-testid='stSidebar']").get_by_role("button", name="Sign out"))
    assert page.locator("[data-testid='stMetric']").count() == 0


def test_a_person_without_a_role_is_asked_to_see_an_administrator(signin_app, page):
    sign_in(page, signin_app, "stranger@example.org")
    page.get_by_text("Ask an administrator").wait_for()
    assert page.locator("[data-testid='stMetric']").count() == 0
    assert page.locator("[data-testid='stSidebarNav']").count() == 0
    bs.screenshot(page, "signin-no-role")
    sign_out(page, page.get_by_role("button", name="Sign out"))


def test_an_unverified_email_is_not_let_in(signin_app, page):
    sign_in(page, signin_app, "unverified@example.org")
    page.get_by_text("not say that this e-mail address is verified").wait_for()
    assert page.locator("[data-testid='stMetric']").count() == 0
