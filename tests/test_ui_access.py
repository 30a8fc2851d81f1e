"""Signed-in use of the app, page by page through AppTest: whose interviews each person sees,
reads and answers.

AppTest fakes the signed-in user (`at.user`) and the secrets (`at.secrets`, with an `[auth]`
section, which is what turns sign-in on); the sign-in round trip itself is the browser test's
(tests/test_signin_browser.py). Interviews are created through `agent` with their owner.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from agent.config import load_settings
from agent.interview.interviewer import Interviewer, interview_options
from agent.storage.transcripts import TranscriptStore
from tests import test_ui_app
from tests.test_ui_app import APP, GOOD_ANSWER, button, everything, start_from_setup, unescape

transcripts = test_ui_app.transcripts  # the same isolated configuration as the other UI tests

COHORTS = """\
[[cohorts]]
name = "autumn"
coaches = ["coach@example.com", "group:coaches"]
members = ["ann@example.com", "bob@example.com"]
"""
# Only the section's presence matters to the app; st.login() is never clicked here.
AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "not-a-secret",
    "client_id": "tests",
    "client_secret": "not-a-secret",
    "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
}
NOT_YOURS = "This interview is not yours, so it is not shown."
ANN_ANSWER = (
    "Ann's own words: I would compare p99 latency with the 100 ms budget and batch requests "
    "dynamically."
)


@pytest.fixture
def cohort(transcripts: Path) -> Path:
    """The isolated configuration of `transcripts` (tests/test_ui_app.py), with one cohort."""
    config = transcripts.parent / "interviewer.toml"
    config.write_text(COHORTS, encoding="utf-8")
    return transcripts


def signed_in(email: str | None, page: str | None = None, **query: str) -> AppTest:
    """The app as `email` sees it once signed in (signed out when None)."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": False} if email is None else {"is_logged_in": True, "email": email}
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def interview_of(owner: str, *, finish: bool = True) -> str:
    """An interview `owner` started and answered once (then ended, when `finish`)."""
    with Interviewer(load_settings()) as iv:
        opts = interview_options(questions=2, max_followups=0, seed=11)
        result = iv.start(opts, owner=owner)
        result = iv.reply(result.interview_id, ANN_ANSWER)
        if finish:
            result = iv.reply(result.interview_id, "end")
        return result.interview_id


def owners(at: AppTest) -> list[str]:
    """The owners of the interviews the Review page lists (a coach's table has the column)."""
    return sorted(at.dataframe[0].value["Owner"])


# --- signing in ----------------------------------------------------------------------------------


def test_signed_out_every_page_shows_only_the_welcome_and_the_sign_in_button(
    cohort: Path,
) -> None:
    interview_id = interview_of("ann@example.com")
    for query in ({}, {"interview": interview_id}):
        at = signed_in(None, **query)
        assert [b.label for b in at.button] == ["Sign in"]
        assert not at.slider and not at.chat_input and not at.selectbox
        assert ANN_ANSWER not in everything(at)


def test_the_sidebar_names_the_signed_in_user_and_the_cohorts_they_coach(cohort: Path) -> None:
    at = signed_in("Coach@Example.com")
    sidebar = "\n".join(unescape(c.value) for c in at.sidebar.caption)
    assert "Signed in as coach@example.com" in sidebar
    assert "Coach of autumn" in sidebar
    assert [b.label for b in at.sidebar.button] == ["Sign out"]
    assert button(at, "Start interview")


def test_a_sign_in_that_names_nobody_is_refused(cohort: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": True, "name": "No Address"}
    at.run()
    assert not at.exception, at.exception
    assert "no e-mail address or subject" in at.error[0].value
    assert [b.label for b in at.button] == ["Sign out"]


# --- Interview page ------------------------------------------------------------------------------


def test_an_interview_started_signed_in_belongs_to_its_candidate(cohort: Path) -> None:
    at = start_from_setup(signed_in("ann@example.com"))
    interview_id = at.query_params["interview"]
    at.chat_input[0].set_value(GOOD_ANSWER).run()
    assert not at.exception, at.exception
    assert TranscriptStore(cohort).load(interview_id).owner == "ann@example.com"


def test_another_candidate_gets_a_refusal_and_nothing_of_the_interview(cohort: Path) -> None:
    for finished in (True, False):
        interview_id = interview_of("ann@example.com", finish=finished)
        at = signed_in("bob@example.com", interview=interview_id)
        assert [w.value for w in at.warning] == [NOT_YOURS]
        assert not at.chat_input and not at.get("progress") and not at.header
        assert ANN_ANSWER not in everything(at)
        assert "Continue this interview" not in [link.label for link in at.get("page_link")]


def test_a_coach_is_sent_to_review_and_cannot_answer(cohort: Path) -> None:
    interview_id = interview_of("ann@example.com", finish=False)
    at = signed_in("lead@example.com", interview=interview_id)  # no coach: not even read
    assert [w.value for w in at.warning] == [NOT_YOURS]
    at = signed_in("coach@example.com", interview=interview_id)
    assert "as their coach you can read it, not answer it" in at.info[-1].value
    assert not at.chat_input and not at.get("progress")
    assert ANN_ANSWER not in everything(at)
    links = at.get("page_link")
    assert [link.proto.label for link in links] == ["Read it on the Review page"]
    assert f"interview={interview_id}" in links[0].proto.query_string


def test_the_owner_still_answers_their_own_interview(cohort: Path) -> None:
    interview_id = interview_of("ann@example.com", finish=False)
    at = signed_in("ann@example.com", interview=interview_id)
    assert at.chat_input, "the owner answers the question waiting for them"
    at.chat_input[0].set_value(GOOD_ANSWER).run()
    assert not at.exception, at.exception
    assert [h.value for h in at.header] == ["Your report"]


# --- Review page ---------------------------------------------------------------------------------


def test_review_lists_only_the_candidates_own_interviews(cohort: Path) -> None:
    ann, bob = interview_of("ann@example.com"), interview_of("bob@example.com")
    at = signed_in("bob@example.com", "views/review.py")
    assert len(at.dataframe[0].value) == 1 and "Owner" not in at.dataframe[0].value.columns
    at.selectbox[1].set_value(bob).run()  # [0] is the sort order
    assert not at.exception, at.exception
    assert button(at, "Delete…"), "Bob's own interview opens"
    at = signed_in("bob@example.com", "views/review.py", interview=ann)
    assert [w.value for w in at.warning] == [NOT_YOURS]
    assert not at.dataframe and not at.selectbox and not at.tabs
    assert ANN_ANSWER not in everything(at)


def test_a_coach_reviews_the_cohort_read_only_with_owners_shown(cohort: Path) -> None:
    ann = interview_of("ann@example.com", finish=False)
    interview_of("bob@example.com")
    interview_of("eve@elsewhere.example")  # in no cohort the coach has
    at = signed_in("coach@example.com", "views/review.py")
    assert owners(at) == ["ann@example.com", "bob@example.com"]
    assert len(at.selectbox[1].options) == 2
    at = signed_in("coach@example.com", "views/review.py", interview=ann)
    assert unescape(at.subheader[0].value).startswith("ann@example.com · ")
    assert ANN_ANSWER in everything(at), "the coach reads the conversation"
    labels = [b.label for b in at.button] + [link.proto.label for link in at.get("page_link")]
    assert "Delete…" not in labels and "Continue this interview" not in labels
    assert any("Read-only" in c.value for c in at.caption)


def test_a_coach_by_group_reads_the_cohort(cohort: Path) -> None:
    interview_of("ann@example.com")
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": True, "email": "mentor@example.com", "groups": ["coaches"]}
    at.run()
    at.switch_page("views/review.py").run()
    assert not at.exception, at.exception
    assert owners(at) == ["ann@example.com"]


def test_the_owner_keeps_continue_and_delete_on_review(cohort: Path) -> None:
    ann = interview_of("ann@example.com", finish=False)
    at = signed_in("ann@example.com", "views/review.py", interview=ann)
    assert button(at, "Delete…")
    assert "Continue this interview" in [link.proto.label for link in at.get("page_link")]


# --- Progress and Settings -----------------------------------------------------------------------


def test_progress_is_personal_even_for_a_coach(cohort: Path) -> None:
    interview_of("ann@example.com")
    at = signed_in("coach@example.com", "views/progress.py")
    assert at.info[0].value.startswith("Finish an interview")
    at = signed_in("ann@example.com", "views/progress.py")
    assert not at.info, "Ann sees her own scores"
    assert at.get("vega_lite_chart")


def test_settings_count_only_the_interviews_the_viewer_may_read(cohort: Path) -> None:
    interview_of("ann@example.com")
    interview_of("bob@example.com")
    at = signed_in("bob@example.com", "views/settings.py")
    assert any(c.value.startswith("1 interview(s) you can read.") for c in at.caption)
    at = signed_in("coach@example.com", "views/settings.py")
    assert any(c.value.startswith("2 interview(s) you can read.") for c in at.caption)


def test_signed_in_settings_offer_no_new_model_and_hide_the_configuration(cohort: Path) -> None:
    at = signed_in("bob@example.com", "views/settings.py")
    assert not [e for e in at.get("expander") if "Add a model" in str(e.proto.label)]
    assert all("Setting" not in table.value.columns for table in at.dataframe), "no configuration"
    assert any("set by whoever runs this service" in c.value for c in at.caption)
