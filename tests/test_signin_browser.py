"""Signed-in use end to end: the real app behind a local OpenID provider, in headless Chromium.

Two candidates of one cohort and their coach sign in through Streamlit's st.login(), each in a
browser of their own. Each candidate sees only their own interviews, a link to the other's gets
a refusal and nothing of it, and the coach reads both, read-only.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.browser import CHROMIUM, CHROMIUM_ARGS
from tests.oidc import OidcProvider, sign_in, streamlit_app, wait_for_app_run, write_auth_secrets
from tests.servers import app_env, free_port, require_browser, require_signin_packages
from tests.test_e2e_browser import ROOT

pytestmark = pytest.mark.browser

TIMEOUT_MS = 30_000
COHORTS = """\
[[cohorts]]
name = "autumn"
coaches = ["coach@example.com"]
members = ["ann@example.com", "bob@example.com"]
"""
ANN_WORDS = "Ann-7731 would shadow-deploy the model"
ANN_ANSWER = (
    f"{ANN_WORDS}, then run an A/B test while watching the prediction distribution, because "
    "offline metrics hide training-serving skew and drift."
)
NOT_YOURS = "This interview is not yours, so it is not shown."


@pytest.fixture
def signin_app(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The interviewer with sign-in against a fresh provider; yields (URL, transcripts)."""
    require_browser()
    require_signin_packages()
    transcripts = tmp_path / "transcripts"
    config = tmp_path / "interviewer.toml"
    config.write_text(COHORTS, encoding="utf-8")
    env = app_env(INTERVIEWER_TRANSCRIPTS_DIR=str(transcripts), INTERVIEWER_CONFIG=str(config))
    log = tmp_path / "streamlit.log"
    with OidcProvider(tmp_path) as provider:
        port = free_port()
        secrets_file = write_auth_secrets(tmp_path / "secrets", provider, port)
        with streamlit_app(
            ROOT / "ui" / "app.py", port=port, secrets_file=secrets_file, log=log, cwd=ROOT,
            env=env,
        ) as url:  # fmt: skip
            try:
                yield url, transcripts
            except Exception:
                print(f"--- streamlit log ---\n{log.read_text(encoding='utf-8')}")
                raise
    assert "Traceback" not in log.read_text(encoding="utf-8"), log.read_text(encoding="utf-8")


def _screenshot(page, path: str) -> None:
    """The whole page: Streamlit scrolls inside its main element, so grow the window first."""
    height = page.evaluate(
        "(document.querySelector('[data-testid=stMain]') || document.body).scrollHeight"
    )
    page.set_viewport_size({"width": 1280, "height": min(max(height + 40, 900), 6000)})
    page.wait_for_timeout(600)
    page.screenshot(path=path)
    page.set_viewport_size({"width": 1280, "height": 900})


def _open(page, url: str) -> None:
    page.goto(url)
    wait_for_app_run(page, TIMEOUT_MS)


def _start_interview(page):
    """Start an interview of two questions without follow-ups; the page waits on the first."""
    from playwright.sync_api import expect

    questions = page.get_by_role("slider", name="Number of questions")
    followups = page.get_by_role("slider", name="Follow-ups per question")
    questions.focus()
    questions.press("Home")
    questions.press("ArrowRight")
    expect(questions).to_have_value("2")
    followups.focus()
    followups.press("Home")
    expect(followups).to_have_value("0")
    page.get_by_role("button", name="Start interview").click()
    expect(page.get_by_test_id("stChatInputTextArea")).to_be_visible()
    page.wait_for_url("**/?interview=*")
    return page.url.split("interview=")[1].split("&")[0]


def _review_choices(page) -> list[str]:
    """The interviews the Review page offers to open, as its list describes them."""
    page.get_by_test_id("stSidebarNavLink").filter(has_text="Review").click()
    wait_for_app_run(page, TIMEOUT_MS)
    page.get_by_test_id("stSelectbox").filter(has_text="Open an interview").click()
    options = page.get_by_role("option")
    options.first.wait_for(state="visible")
    found = options.all_inner_texts()
    page.keyboard.press("Escape")
    return found


def _browser_for(browser, url: str, sub: str, email: str):
    """A fresh browser context with `email` signed in; its page is on the Interview page."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    sign_in(page, url, sub, email, timeout_ms=TIMEOUT_MS)
    return context, page


def test_candidates_see_only_their_own_interviews_and_a_coach_reads_both(signin_app) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, transcripts = signin_app
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            # Signed out: a welcome and the way in, nothing else.
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            _open(page, url)
            expect(page.get_by_role("button", name="Sign in")).to_be_visible()
            expect(page.get_by_role("button", name="Start interview")).to_have_count(0)
            expect(page.get_by_test_id("stSidebarNavLink")).to_have_count(0)
            _screenshot(page, "/tmp/signin-page.png")
            page.close()

            # Ann starts an interview and answers its first question.
            context, page = _browser_for(browser, url, "ann", "ann@example.com")
            expect(page.get_by_text("Signed in as ann@example.com")).to_be_visible()
            ann_id = _start_interview(page)
            box = page.get_by_test_id("stChatInputTextArea")
            box.fill(ANN_ANSWER)
            box.press("Enter")
            expect(page.get_by_text("Question 2 of 2").first).to_be_visible()
            expect(page.get_by_test_id("stChatMessage").filter(has_text=ANN_WORDS)).to_be_visible()
            context.close()

            # Bob: his own interview only; a link to Ann's shows the refusal and none of it.
            context, page = _browser_for(browser, url, "bob", "bob@example.com")
            bob_id = _start_interview(page)
            assert bob_id != ann_id
            choices = _review_choices(page)
            assert len(choices) == 1 and "@" not in choices[0], choices
            for address in (f"{url}/?interview={ann_id}", f"{url}/review?interview={ann_id}"):
                _open(page, address)
                expect(page.get_by_text(NOT_YOURS)).to_be_visible()
                expect(page.get_by_text(ANN_WORDS)).to_have_count(0)
                expect(page.get_by_test_id("stChatInputTextArea")).to_have_count(0)
                expect(page.get_by_test_id("stChatMessage")).to_have_count(0)
            context.close()

            # The coach: both interviews with their owners, Ann's readable, never answerable.
            context, page = _browser_for(browser, url, "coach", "coach@example.com")
            choices = _review_choices(page)
            assert sorted(c.split(" · ")[0] for c in choices) == [
                "ann@example.com", "bob@example.com"
            ], choices  # fmt: skip
            page.get_by_test_id("stSelectbox").filter(has_text="Open an interview").click()
            page.get_by_role("option").filter(has_text="ann@example.com").click()
            page.wait_for_url(f"**/review?interview={ann_id}")
            expect(page.get_by_text("Read-only: only the candidate")).to_be_visible()
            expect(page.get_by_role("tab", name="Report")).to_be_visible()
            expect(page.get_by_text("This interview is not finished")).to_be_visible()
            expect(page.get_by_role("button", name="Delete…")).to_have_count(0)
            expect(page.get_by_role("link", name="Continue this interview")).to_have_count(0)
            page.get_by_role("tab", name="Conversation").click()
            expect(page.get_by_test_id("stChatMessage").filter(has_text=ANN_WORDS)).to_be_visible()
            _screenshot(page, "/tmp/signin-coach-review.png")

            _open(page, f"{url}/?interview={ann_id}")
            expect(page.get_by_text("as their coach you can read it")).to_be_visible()
            expect(page.get_by_role("link", name="Read it on the Review page")).to_be_visible()
            expect(page.get_by_test_id("stChatInputTextArea")).to_have_count(0)
            expect(page.get_by_text(ANN_WORDS)).to_have_count(0)
            context.close()
        finally:
            browser.close()

    assert (transcripts / f"{ann_id}.json").exists() and (transcripts / f"{bob_id}.json").exists()
