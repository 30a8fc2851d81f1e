"""End to end in a real headless Chromium: `streamlit run` on a free port, driven by Playwright.

Uses Debian's Chromium (`make browser-deps`); Playwright never downloads a browser here.
Screenshots of every step go to test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.browser import CHROMIUM, CHROMIUM_ARGS
from tests.servers import app_env, free_port, require_browser, streamlit

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
TIMEOUT_MS = 30_000
ANSWER_1 = (
    "Offline metrics can hide training-serving skew and data drift, so I would shadow-deploy the "
    "model, then run an A/B test while monitoring the prediction distribution. "
    '<img src=x onerror="window.__injected = 1"> <b>not bold</b>\n| a | b |\n|---|---|\n| 1 | 2 |'
)
ANSWER_2 = (
    "We track p99 latency against a 100 ms budget, quantize the model to INT8 with TensorRT and "
    "check accuracy on a held-out set; dynamic batching raises throughput but adds queueing delay."
)


@pytest.fixture
def app_server(tmp_path: Path) -> Iterator[tuple[str, Path, Path]]:
    """`streamlit run ui/app.py` with transcripts under tmp_path; yields (URL, folder, log)."""
    require_browser()
    transcripts = tmp_path / "transcripts"
    config = tmp_path / "interviewer.toml"
    config.write_text("", encoding="utf-8")
    env = app_env(INTERVIEWER_TRANSCRIPTS_DIR=str(transcripts), INTERVIEWER_CONFIG=str(config))
    port = free_port()
    log = tmp_path / "streamlit.log"
    with streamlit(ROOT / "ui" / "app.py", port=port, log=log, env=env):
        yield f"http://127.0.0.1:{port}", transcripts, log
    assert "Traceback" not in log.read_text(encoding="utf-8"), log.read_text(encoding="utf-8")


def _shot(page, name: str) -> None:
    """A full-length screenshot: Streamlit scrolls inside its main element, so grow the window."""
    ARTIFACTS.mkdir(exist_ok=True)
    height = page.evaluate(
        "(document.querySelector('[data-testid=stMain]') || document.body).scrollHeight"
    )
    page.set_viewport_size({"width": 1280, "height": min(max(height + 40, 900), 8000)})
    page.wait_for_timeout(800)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    page.set_viewport_size({"width": 1280, "height": 900})


def _send(page, text: str) -> None:
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(text)
    box.press("Enter")


def _choose_first(page, label: str, attempts: int = 5) -> None:
    """Pick a selectbox's first option. A click that lands while the page is still rerunning
    opens a list the rerun then closes, so open it again until the options show."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    box = page.get_by_test_id("stSelectbox").filter(has_text=label)
    option = page.get_by_role("option").first
    for attempt in range(attempts):
        box.click()
        try:
            option.wait_for(state="visible", timeout=5000)
        except PlaywrightTimeout:
            if attempt == attempts - 1:
                raise
            continue
        option.click()
        return


def _no_error_shown(page) -> None:
    assert page.get_by_test_id("stException").count() == 0
    assert page.get_by_test_id("stAlertContentError").count() == 0


def test_offline_interview_report_and_review_in_a_real_browser(app_server) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, transcripts, log = app_server
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(url)

            # Set-up: two questions, no follow-ups, feedback after each answer.
            start = page.get_by_role("button", name="Start interview")
            expect(start).to_be_visible()
            expect(page.get_by_text("rubric engine").first).to_be_visible()
            questions = page.get_by_role("slider", name="Number of questions")
            followups = page.get_by_role("slider", name="Follow-ups per question")
            questions.focus()
            questions.press("ArrowLeft")
            expect(questions).to_have_value("2")
            followups.focus()
            followups.press("Home")
            expect(followups).to_have_value("0")
            page.get_by_text("After each answer").click()
            # A job description: the topics it names show before the interview starts.
            page.get_by_text("Job description (optional)").click()
            job = page.get_by_role("textbox", name="Paste the job advert")
            job.fill("ML engineer: serve models at low latency with TensorRT, and run A/B tests.")
            job.press("Control+Enter")
            expect(page.get_by_text("Topics found:")).to_contain_text("Model serving and latency")
            _shot(page, "01-setup")
            start.click()

            # The first question, with the interview id in the URL.
            expect(page.get_by_test_id("stChatInputTextArea")).to_be_visible()
            expect(page.get_by_text("Question 1 of 2").first).to_be_visible()
            page.wait_for_url("**/?interview=*")
            interview_id = page.url.split("interview=")[1].split("&")[0]
            _shot(page, "02-question-1")

            _send(page, ANSWER_1)
            expect(page.get_by_text("Question 2 of 2").first).to_be_visible()
            # The candidate's HTML and Markdown are shown as typed, never rendered or run.
            chat = page.get_by_test_id("stChatMessage")
            expect(chat.filter(has_text="<b>not bold</b>")).to_have_count(1)
            assert page.evaluate("window.__injected") is None
            assert chat.locator("table, img, b").count() == 0

            # A reload resumes the same interview from the URL.
            page.reload()
            expect(page.get_by_text("Question 2 of 2").first).to_be_visible()
            expect(chat.filter(has_text="<b>not bold</b>")).to_have_count(1)
            _shot(page, "03-question-2")

            _send(page, ANSWER_2)
            expect(page.get_by_role("heading", name="Your report")).to_be_visible()
            expect(page.get_by_test_id("stMetric").filter(has_text="Overall")).to_be_visible()
            expect(page.get_by_role("button", name="Download Markdown")).to_be_visible()
            expect(page.get_by_test_id("stVegaLiteChart").first).to_be_visible()
            expect(page.get_by_role("heading", name="The job's topics")).to_be_visible()
            expect(page.get_by_role("heading", name=re.compile(r"^Verdict: "))).to_be_visible()
            indicative = page.get_by_test_id("stAlertContentInfo").get_by_text("indicative")
            expect(indicative).to_be_visible()
            _no_error_shown(page)
            _shot(page, "04-report")
            assert (transcripts / f"{interview_id}.json").exists()

            # Find it on the Review page and open it.
            page.get_by_test_id("stSidebarNavLink").filter(has_text="Review").click()
            expect(page.get_by_role("heading", name="Review")).to_be_visible()
            _choose_first(page, "Open an interview")
            expect(page.get_by_role("tab", name="Conversation")).to_be_visible()
            page.wait_for_url(f"**/review?interview={interview_id}")
            expect(page.get_by_test_id("stMetric").filter(has_text="Overall")).to_be_visible()
            page.get_by_role("tab", name="Conversation").click()
            expect(page.get_by_text("Question 2 of 2").first).to_be_visible()
            _no_error_shown(page)
            _shot(page, "05-review")
        except Exception:
            if "page" in locals():
                _shot(page, "failure")
            print(f"--- streamlit log ---\n{log.read_text(encoding='utf-8')}")  # shown on failure
            raise
        finally:
            browser.close()
