"""Two app replicas sharing one PostgreSQL database, in a real headless Chromium.

An interview starts on replica A, takes an answer on replica B, takes the next on A, which is
killed (SIGKILL) while it grades that answer; B carries on from where A stopped and finishes the
interview. Nothing the candidate handed over is lost: the transcript in the database has every
answer, in order.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from devtools.browser import CHROMIUM, CHROMIUM_ARGS
from devtools.fakeserver import FakeServer, Recorded, Reply, echo_grader
from tests.servers import app_env, free_port, require_browser, streamlit
from tests.test_e2e_browser import ANSWER_2, TIMEOUT_MS, _send

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
ANSWERS = [
    "I would shadow-deploy the model, then run an A/B test and watch for drift in the inputs.",
    ANSWER_2,
    "Monitor data drift with a population stability index and alert when it crosses a bound.",
]


@contextmanager
def replica(tmp_path: Path, name: str, database_url: str, config: str) -> Iterator[tuple]:
    """One app replica (`streamlit run ui/app.py`) on its own port: (URL, process, log)."""
    folder = tmp_path / name
    folder.mkdir()
    (folder / "interviewer.toml").write_text(config, encoding="utf-8")
    env = app_env(
        INTERVIEWER_DATABASE_URL=database_url,
        INTERVIEWER_CONFIG=str(folder / "interviewer.toml"),
        INTERVIEWER_TRANSCRIPTS_DIR=str(folder / "transcripts"),
    )
    port = free_port()
    log = folder / "streamlit.log"
    with streamlit(ROOT / "ui" / "app.py", port=port, log=log, env=env, name=name) as proc:
        yield f"http://127.0.0.1:{port}", proc, log


def _candidate_answers(database_url: str, interview_id: str) -> tuple[str, list[str]]:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT status, data::jsonb -> 'turns' FROM transcripts WHERE id = %s",
            (interview_id,),
        ).fetchone()
    assert row is not None, "the interview is in the database"
    status, turns = row
    return status, [t["text"] for t in turns if t["role"] == "candidate"]


def test_answer_on_either_replica_and_a_replica_killed_mid_turn_loses_nothing(tmp_path, pg_url):
    require_browser()
    from playwright.sync_api import expect, sync_playwright

    # Replica A grades with a model server that, once told to, takes minutes to reply: A is
    # killed while it waits. Replica B grades offline.
    slow, waiting = threading.Event(), threading.Event()
    grader = echo_grader(probe=False)

    def respond(request: Recorded) -> Reply:
        if slow.is_set() and request.schema is not None:
            waiting.set()
            return Reply(delay=300, content="{}")
        return grader(request)

    expect.set_options(timeout=TIMEOUT_MS)
    with FakeServer(responder=respond) as server:
        model_config = (
            'profile = "slow"\n[profiles.slow]\n'
            f'base_url = "{server.base_url}"\nmodel = "fake-model"\ntimeout = 600\n'
            "total_timeout = 600\nmax_attempts = 1\n"
        )
        with (
            replica(tmp_path, "a", pg_url, model_config) as (url_a, proc_a, log_a),
            replica(tmp_path, "b", pg_url, "") as (url_b, _, log_b),
            sync_playwright() as p,
        ):
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.set_default_timeout(TIMEOUT_MS)

                # Start on A: three questions, no follow-ups.
                page.goto(url_a)
                followups = page.get_by_role("slider", name="Follow-ups per question")
                followups.focus()
                followups.press("Home")
                expect(followups).to_have_value("0")
                page.get_by_role("button", name="Start interview").click()
                expect(page.get_by_text("Question 1 of 3").first).to_be_visible()
                page.wait_for_url("**/?interview=*")
                interview_id = page.url.split("interview=")[1].split("&")[0]

                # The first answer on B.
                page.goto(f"{url_b}/?interview={interview_id}")
                expect(page.get_by_text("Question 1 of 3").first).to_be_visible()
                _send(page, ANSWERS[0])
                expect(page.get_by_text("Question 2 of 3").first).to_be_visible()

                # The second on A, which is killed while its model grades it.
                page.goto(f"{url_a}/?interview={interview_id}")
                expect(page.get_by_text("Question 2 of 3").first).to_be_visible()
                slow.set()
                _send(page, ANSWERS[1])
                assert waiting.wait(60), "replica A asked its model to grade the answer"
                os.kill(proc_a.pid, signal.SIGKILL)
                proc_a.wait(timeout=30)

                # B picks the interview up where A stopped, and finishes it.
                page.goto(f"{url_b}/?interview={interview_id}")
                expect(page.get_by_text("Question 3 of 3").first).to_be_visible()
                _send(page, ANSWERS[2])
                expect(page.get_by_role("heading", name="Your report")).to_be_visible()
            finally:
                browser.close()
        status, answers = _candidate_answers(pg_url, interview_id)
        assert status == "finished"
        assert answers == ANSWERS
        for log in (log_a, log_b):
            assert "Traceback" not in log.read_text(encoding="utf-8"), log.read_text()
