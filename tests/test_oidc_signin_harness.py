"""The sign-in harness itself, end to end: Streamlit's st.login() against a local OpenID provider.

A throwaway app (written to tmp_path, not the interviewer) signs two users in and out in a real
headless Chromium, so a failure here is the harness's (tests/oidc.py) or Streamlit's auth, never
the interviewer's.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from devtools.browser import CHROMIUM, CHROMIUM_ARGS
from tests.oidc import OidcProvider, sign_in, sign_out, streamlit_app, write_auth_secrets
from tests.servers import free_port, require_browser, require_signin_packages

pytestmark = pytest.mark.browser

TIMEOUT_MS = 30_000

APP = """\
import streamlit as st

if not st.user.is_logged_in:
    st.write("Signed out")
    if st.button("Sign in"):
        st.login()
else:
    st.write(f"Email: {st.user.email}")
    st.write(f"Name: {st.user.get('name')}")
    st.write(f"Groups: {st.user.get('groups')}")
    if st.button("Sign out"):
        st.logout()
"""


@pytest.fixture
def signin_app(tmp_path: Path):
    """The throwaway app on a free port, signed in against a fresh provider; yields its URL."""
    require_browser()
    require_signin_packages()
    script = tmp_path / "app.py"
    script.write_text(APP, encoding="utf-8")
    log = tmp_path / "streamlit.log"
    with OidcProvider(tmp_path) as provider:
        port = free_port()
        secrets_file = write_auth_secrets(tmp_path / "secrets", provider, port)
        with streamlit_app(script, port=port, secrets_file=secrets_file, log=log) as url:
            yield url
    assert "Traceback" not in log.read_text(encoding="utf-8"), log.read_text(encoding="utf-8")


def test_two_users_sign_in_and_out_through_a_local_openid_provider(signin_app) -> None:
    from playwright.sync_api import expect, sync_playwright

    url = signin_app
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context()
            page = context.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(url)
            expect(page.get_by_text("Signed out")).to_be_visible()

            sign_in(page, url, "ada", "ada@example.com", name="Ada Lovelace")
            expect(page.get_by_text("Email: ada@example.com")).to_be_visible()
            expect(page.get_by_text("Name: Ada Lovelace")).to_be_visible()
            expect(page.get_by_text("Groups: None")).to_be_visible()

            sign_out(page, url)
            expect(page.get_by_text("Signed out")).to_be_visible()
            expect(page.get_by_text("ada@example.com")).to_have_count(0)
            context.close()

            # The second user in a browser of their own: nothing of the first one's remains.
            context = browser.new_context()
            page = context.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            sign_in(page, url, "grace", "grace@example.com", groups=["coaches"])
            expect(page.get_by_text("Email: grace@example.com")).to_be_visible()
            expect(page.get_by_text("Groups: ['coaches']")).to_be_visible()
            expect(page.get_by_text("Name: None")).to_be_visible()
            context.close()
        finally:
            browser.close()
