"""The Streamlit app, page by page, through `streamlit.testing.v1.AppTest` (no browser).

Each test points the app at its own transcripts folder; interviews are created either through
the UI or through `agent` directly, and assertions read both the rendered page and the files.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from agent.config import load_settings
from agent.grading.providers import OfflineProvider
from agent.grading.rubrics import load_bank
from agent.interview.interviewer import Interviewer, interview_options
from agent.storage.records import Records
from agent.storage.transcripts import TranscriptStore
from devtools.fakeserver import FakeServer, answer_of, echo_grader

ROOT = Path(__file__).resolve().parent.parent
UI = ROOT / "ui"
APP = str(UI / "app.py")
GOOD_ANSWER = (
    "I would measure p99 latency against a 100 ms budget rather than the mean, profile where time "
    "goes, quantize the model to INT8 and check accuracy on a held-out set, and use dynamic "
    "batching, which raises throughput but adds queueing delay, so I cap the wait."
)
NASTY = "<script>alert('x')</script> <b>bold</b>\n| a | b |\n|---|---|\n| 1 | 2 |\n# Heading $x^2$"


@pytest.fixture
def transcripts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated configuration: transcripts under tmp_path, offline grading, fast streaming."""
    folder = tmp_path / "transcripts"
    monkeypatch.setenv("INTERVIEWER_TRANSCRIPTS_DIR", str(folder))
    config = tmp_path / "interviewer.toml"
    config.write_text("", encoding="utf-8")
    monkeypatch.setenv("INTERVIEWER_CONFIG", str(config))
    for name in (
        "INTERVIEWER_PROFILE",
        "INTERVIEWER_RUBRICS_DIR",
        "INTERVIEWER_CHECKPOINT_DB",
        "INTERVIEWER_MAX_FOLLOWUPS",
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.syspath_prepend(str(UI))
    import chat_view

    monkeypatch.setattr(chat_view, "WORD_DELAY_S", 0.0)
    monkeypatch.setattr(chat_view, "MAX_STREAM_S", 0.0)
    return folder


def run_app(page: str | None = None, **query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def button(at: AppTest, label: str):
    found = [b for b in at.button if b.label == label]
    assert found, f"no button {label!r}; buttons: {[b.label for b in at.button]}"
    return found[0]


def unescape(markdown: str) -> str:
    return re.sub(r"\\(.)", r"\1", markdown)


def texts(at: AppTest) -> list[str]:
    return [t.value for t in at.text]


def everything(at: AppTest) -> str:
    """All text-like content on the page, for 'never shown' checks."""
    parts: list[str] = []
    for kind in ("text", "markdown", "caption", "code", "error", "warning", "info", "success"):
        parts += [str(e.value) for e in at.get(kind)]
    parts += [df.value.to_string() for df in at.dataframe]
    return "\n".join(parts)


def make_interview(
    *, finish: bool = True, answers: int = 2, answer: str = GOOD_ANSWER, **options
) -> str:
    """An interview created through `agent`, the way the CLI would."""
    with Interviewer(load_settings()) as iv:
        opts = {"questions": 2, "max_followups": 0, "seed": 11, **options}
        result = iv.start(interview_options(**opts))
        for _ in range(answers):
            if result.finished:
                break
            result = iv.reply(result.interview_id, answer)
        if finish and not result.finished:
            result = iv.reply(result.interview_id, "end")
        return result.interview_id


def start_from_setup(at: AppTest, questions: int = 2, followups: int = 0) -> AppTest:
    at.slider(key="setup_questions").set_value(questions)
    at.slider(key="setup_followups").set_value(followups)
    button(at, "Start interview").click().run()
    assert not at.exception, at.exception
    return at


# --- Interview page ------------------------------------------------------------------------------


def test_setup_offers_every_choice_and_names_the_grading_brain(transcripts: Path) -> None:
    at = run_app()
    assert at.title[0].value == "Mock interview"
    labels = {group.label for group in at.button_group}
    assert labels >= {"Role", "Company type", "Difficulty"}
    assert any(label.startswith("Tracks") for label in labels)
    assert {s.label for s in at.slider} == {"Number of questions", "Follow-ups per question"}
    assert at.radio[0].label == "Feedback"
    assert at.text_area[0].label.startswith("Resume bullets")
    banner = unescape(at.info[0].value)
    assert "rubric engine" in banner and "(rubric-engine)" in banner


def test_a_pasted_job_description_weights_the_questions_and_the_report_covers_its_topics(
    transcripts: Path,
) -> None:
    job = "ML engineer: serve models at low latency with TensorRT, and run A/B tests."
    at = run_app()
    at.text_area(key="setup_job").input(job).run()
    assert any(
        "Model serving and latency" in unescape(c.value) and "Experimentation" in c.value
        for c in at.caption
    ), "the topics found are shown before starting"
    at.button_group(key="setup_tracks").set_value(["mlops"]).run()  # most cover serving
    start_from_setup(at)
    for _ in range(2):
        at.chat_input[0].set_value(GOOD_ANSWER).run()
    assert not at.exception, at.exception
    assert "The job's topics" in [s.value for s in at.subheader]
    shown = "\n".join(unescape(m.value) for m in at.markdown)
    assert "**Model serving and latency**: Q" in shown
    assert "**Experimentation and evaluation**: " in shown
    saved = TranscriptStore(transcripts).load(at.query_params["interview"])
    assert saved.settings["job"] == job
    assert [r["topic"] for r in saved.report["job_topics"]] == [
        "Model serving and latency", "Experimentation and evaluation"
    ]


def test_interview_runs_to_a_report_and_keeps_its_id_in_the_url(transcripts: Path) -> None:
    at = start_from_setup(run_app())
    interview_id = at.query_params["interview"]
    assert interview_id
    assert texts(at)[0].startswith("Question 1 of 2")
    assert "Question 1 of 2" in at.get("progress")[0].proto.text

    at.chat_input[0].set_value(GOOD_ANSWER).run()
    assert not at.exception, at.exception
    assert any(t.startswith("Question 2 of 2") for t in texts(at))
    at.chat_input[0].set_value(GOOD_ANSWER).run()
    assert not at.exception, at.exception

    assert [h.value for h in at.header] == ["Your report"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Questions answered"] == "2"
    assert metrics["Overall"].endswith("/100")
    assert at.get("vega_lite_chart"), "per-track chart missing"
    assert {b.label for b in at.get("download_button")} == {"Download Markdown", "Download JSON"}
    saved = json.loads((transcripts / f"{interview_id}.json").read_text(encoding="utf-8"))
    assert saved["status"] == "finished" and len(saved["grades"]) == 2


def test_reload_with_the_id_in_the_url_resumes_the_interview(transcripts: Path) -> None:
    interview_id = make_interview(finish=False, answers=1)
    at = run_app(interview=interview_id)
    assert any(t.startswith("Question 2 of 2") for t in texts(at))
    assert "Question 2 of 2" in at.get("progress")[0].proto.text
    assert at.chat_input, "the resumed interview should wait for an answer"
    assert any("on this answer" in m.value for m in at.markdown), "answer timer missing"


def test_opening_an_interview_finishes_a_turn_cut_short_by_a_crash(
    transcripts: Path, crashing_provider: OfflineProvider
) -> None:
    interview_id = make_interview(finish=False, answers=0)
    with Interviewer(load_settings(), provider=crashing_provider) as iv:
        with pytest.raises(KeyboardInterrupt):
            iv.reply(interview_id, GOOD_ANSWER)
    on_disk = TranscriptStore(transcripts).load(interview_id)
    assert [t.kind for t in on_disk.turns] == ["question"], "the crash left the answer unsaved"

    at = run_app(interview=interview_id)
    assert any(t.startswith("Question 2 of 2") for t in texts(at)), "the cut turn went on"
    assert at.chat_input, "and the interview waits for the next answer"
    on_disk = TranscriptStore(transcripts).load(interview_id)
    assert [t.text for t in on_disk.turns if t.role == "candidate"] == [GOOD_ANSWER]
    assert len(on_disk.grades) == 1 and on_disk.grades[0].answer == GOOD_ANSWER


def test_an_answer_to_an_interview_open_in_a_terminal_is_refused_in_words(
    transcripts: Path,
) -> None:
    interview_id = make_interview(finish=False, answers=0)
    with Interviewer(load_settings()) as terminal:  # as `interviewer run` holds it
        terminal.hold_open(interview_id)
        at = run_app(interview=interview_id)
        at.chat_input[0].set_value(GOOD_ANSWER).run()
        assert not at.exception, at.exception
        assert "is open in another process" in at.error[0].value
    on_disk = TranscriptStore(transcripts).load(interview_id)
    assert [t.role for t in on_disk.turns] == ["interviewer"], "the answer was not taken"


def test_hint_repeat_and_skip_buttons_go_through_the_graph(transcripts: Path) -> None:
    at = start_from_setup(run_app())
    interview_id = at.query_params["interview"]
    button(at, "Hint").click().run()
    button(at, "Repeat").click().run()
    button(at, "Skip").click().run()
    assert not at.exception, at.exception
    captions = [c.value for c in at.caption]
    assert "Asked for a hint" in captions and "Skipped the question" in captions
    with Interviewer(load_settings()) as iv:
        state = iv.state(interview_id)
    kinds = [(m["role"], m["kind"]) for m in state["messages"]]
    assert ("interviewer", "hint") in kinds and ("interviewer", "repeat") in kinds
    assert state["grades"][0]["flags"][-1] == "skipped"
    assert state["index"] == 1


def test_end_asks_for_confirmation_then_shows_the_report(transcripts: Path) -> None:
    at = start_from_setup(run_app())
    at.chat_input[0].set_value(GOOD_ANSWER).run()
    button(at, "End interview").click().run()
    assert not at.header, "ending must wait for confirmation"
    button(at, "Keep going").click().run()
    assert at.chat_input and not at.header
    button(at, "End interview").click().run()
    button(at, "End and see the report").click().run()
    assert not at.exception, at.exception
    assert [h.value for h in at.header] == ["Your report"]
    assert {m.label: m.value for m in at.metric}["Questions answered"] == "1"
    saved = json.loads(
        (transcripts / f"{at.query_params['interview']}.json").read_text(encoding="utf-8")
    )
    assert saved["status"] == "finished" and len(saved["grades"]) == 1


def test_candidate_text_is_shown_verbatim_never_as_markdown_or_html(transcripts: Path) -> None:
    at = start_from_setup(run_app(), followups=1)
    at.chat_input[0].set_value(NASTY).run()
    assert not at.exception, at.exception
    assert NASTY in texts(at)
    for kind in ("markdown", "caption", "html"):
        for element in at.get(kind):
            assert "<script>" not in str(element.value) and "| a | b |" not in str(element.value)


def test_bad_ids_in_the_url_get_a_message_not_a_traceback(transcripts: Path) -> None:
    at = run_app(interview="../../etc/passwd")
    assert "not valid" in at.error[0].value
    assert button(at, "Start a new interview")
    at = run_app(interview="20000101-000000-abcdef")
    assert "no interview with id" in at.warning[0].value.lower()


def test_ending_when_the_transcript_cannot_be_saved_says_so_and_still_reports(
    transcripts: Path, monkeypatch
) -> None:
    at = start_from_setup(run_app())
    at.chat_input[0].set_value(GOOD_ANSWER).run()
    interview_id = at.query_params["interview"]
    before = (transcripts / f"{interview_id}.json").read_bytes()
    button(at, "End interview").click().run()

    def disk_full(path, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("agent.storage.transcripts.write_atomic", disk_full)
    button(at, "End and see the report").click().run()
    assert not at.exception, at.exception
    assert any("could not be saved" in w.value and "No space left" in w.value for w in at.warning)
    assert [h.value for h in at.header] == ["Your report"]
    assert {m.label: m.value for m in at.metric}["Questions answered"] == "1"
    assert (transcripts / f"{interview_id}.json").read_bytes() == before


def test_practising_a_missed_question_starts_with_it_and_keeps_resume_deep_dives(
    transcripts: Path,
) -> None:
    make_interview(answers=2)
    at = run_app("views/progress.py")
    at.button(key="q-0").click().run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Mock interview"
    practised = texts(at)[0]
    assert any("asked first" in c.value for c in at.caption)
    # AppTest reruns the page it last switched to, so follow the app's switch explicitly.
    at.switch_page("views/interview.py").run()
    at.text_area[0].input("Cut p99 inference latency from 200 ms to 50 ms with batching")
    start_from_setup(at, questions=3)
    first = texts(at)[0]
    assert first.startswith("Question 1 of 3") and first.endswith(practised)
    with Interviewer(load_settings()) as iv:
        state = iv.state(at.query_params["interview"])
    assert len(state["custom_questions"]) == 2, "the resume deep-dive must not be dropped"
    assert state["plan"][1] == state["custom_questions"][1]["id"]


def test_study_next_says_what_to_read_and_practises_the_question_again(transcripts: Path) -> None:
    at = start_from_setup(run_app(), questions=1)
    at.chat_input[0].set_value("Accuracy is all I would look at.").run()
    assert not at.exception, at.exception
    assert "Study next" in [s.value for s in at.subheader]
    interview_id = at.query_params["interview"]
    [grade] = TranscriptStore(transcripts).load(interview_id).grades
    question = load_bank().get(grade.question_id)
    reads = [t.removeprefix("Read: ") for t in texts(at) if t.startswith("Read: ")]
    reference = " ".join(question.reference_answer.split())
    assert reads and all(" ".join(r.split()) in reference for r in reads), reads
    assert any(t.startswith(("A common wrong claim: ", "You said: ")) for t in texts(at))
    assert not any(c.id in unescape(m.value) for m in at.markdown for c in question.criteria
                   if "-" in c.id), "criteria by their titles, never by their ids"

    button(at, "Practise this question").click().run()
    at.switch_page("views/interview.py").run()
    assert not at.exception, at.exception
    assert "interview" not in at.query_params, "a new interview is set up"
    assert question.question in texts(at) and any("asked first" in c.value for c in at.caption)


# --- Review page ---------------------------------------------------------------------------------


def test_review_lists_interviews_and_unreadable_files_without_breaking(transcripts: Path) -> None:
    make_interview()
    make_interview(finish=False, answers=1, seed=3)
    (transcripts / "notes.json").write_text('{"hello": 1}', encoding="utf-8")
    (transcripts / "broken.json").write_text("{not json", encoding="utf-8")
    (transcripts / "binary.json").write_bytes(b"\xff\xfe\x00garbage")
    at = run_app("views/review.py")
    table = at.dataframe[0].value
    assert len(table) == 2
    assert set(table["Status"]) == {"Finished", "In progress"}
    assert "3 file(s)" in at.expander[0].label
    reasons = "\n".join(texts(at))
    assert "notes.json" in reasons and "broken.json" in reasons and "binary.json" in reasons


def test_review_filters_and_sorts(transcripts: Path) -> None:
    make_interview(answer=GOOD_ANSWER)
    make_interview(answer="I don't know.", seed=5)
    make_interview(finish=False, answers=1, seed=3)
    at = run_app("views/review.py")
    status = at.button_group[0]
    status.set_value("in_progress").run()
    assert list(at.dataframe[0].value["Status"]) == ["In progress"]
    assert len(at.selectbox[1].options) == 1
    at.button_group[0].set_value("finished").run()
    at.selectbox[0].set_value("Highest score").run()
    highest = list(at.dataframe[0].value["Score"])
    at.selectbox[0].set_value("Lowest score").run()
    lowest = list(at.dataframe[0].value["Score"])
    assert len(highest) == 2 and highest[0] > highest[1]
    assert lowest == highest[::-1]


def test_review_opens_one_interview_with_its_report_and_chat(transcripts: Path) -> None:
    interview_id = make_interview()
    at = run_app("views/review.py")
    at.selectbox[1].set_value(interview_id).run()
    assert not at.exception, at.exception
    assert at.query_params["interview"] == interview_id
    assert {"Report", "Conversation"} <= {t.label for t in at.tabs}
    assert len(at.chat_message) >= 4
    assert {m.label for m in at.metric} >= {"Overall", "Questions answered"}
    assert any(b.label == "Download Markdown" for b in at.get("download_button"))


def test_review_shows_why_the_model_did_not_grade_as_plain_text(transcripts: Path) -> None:
    interview_id = make_interview()
    path = TranscriptStore(transcripts).path_for(interview_id)
    data = json.loads(path.read_text(encoding="utf-8"))
    note = "Note: m could not grade this answer (HTTP 500: **<b>boom</b>**); the engine did."
    data["grades"][0]["flags"].append("offline-fallback")
    data["grades"][0]["note"] = note
    path.write_text(json.dumps(data), encoding="utf-8")
    at = run_app("views/review.py")
    at.selectbox[1].set_value(interview_id).run()
    assert not at.exception, at.exception
    assert any("offline rubric engine" in w.value for w in at.warning)
    assert note in texts(at)


def test_review_deletes_only_after_confirmation(transcripts: Path) -> None:
    interview_id = make_interview()
    path = transcripts / f"{interview_id}.json"
    at = run_app("views/review.py")
    at.selectbox[1].set_value(interview_id).run()
    button(at, "Delete…").click().run()
    button(at, "Cancel").click().run()
    assert path.exists()
    button(at, "Delete…").click().run()
    button(at, "Delete").click().run()
    assert not at.exception, at.exception
    assert not path.exists()
    assert at.success and "Deleted" in at.success[0].value
    with Interviewer(load_settings()) as iv:
        assert iv.state(interview_id) is None, "the checkpointed state must go too"


def test_review_with_no_interviews_says_so(transcripts: Path) -> None:
    at = run_app("views/review.py")
    assert "No interviews yet" in at.info[0].value


# --- Progress page -------------------------------------------------------------------------------


def test_progress_charts_scores_and_lists_missed_criteria(transcripts: Path) -> None:
    make_interview(seed=1)
    make_interview(seed=2)
    at = run_app("views/progress.py")
    assert at.get("vega_lite_chart"), "scores-over-time chart missing"
    assert at.metric and all(m.value.endswith("/100") for m in at.metric)
    assert "Most often missed" in [s.value for s in at.subheader]
    assert any("missed" in m.value for m in at.markdown)
    assert any(b.label == "Practise" for b in at.button)
    # The question browser lists the chosen track's bank questions (and reruns on its own).
    browser = at.selectbox[0]
    assert browser.label == "Track"
    before = [t for t in texts(at) if t.startswith("• [")]
    tracks = sorted({q.track for q in load_bank().questions})
    browser.set_value(tracks[-1] if browser.value != tracks[-1] else tracks[0]).run()
    assert not at.exception, at.exception
    listed = [t for t in texts(at) if t.startswith("• [")]
    assert before and listed and listed != before


def test_progress_compares_like_with_like_on_a_time_axis_that_never_repeats(
    transcripts: Path,
) -> None:
    from tests.test_progress import grade, transcript

    store = TranscriptStore(transcripts)
    minute = "2026-01-05T09:14:{:02d}+00:00"
    store.save(transcript("a", minute.format(1), [grade("q-easy", "mlops", {"x": 3}, "junior")]))
    store.save(transcript("b", minute.format(20), [grade("q-hard", "mlops", {"x": 0}, "senior")]))
    store.save(transcript("c", minute.format(40), [grade("q-hard", "mlops", {"x": 3}, "senior")]))
    at = run_app("views/progress.py")
    metrics = {m.label: m for m in at.metric}
    junior, senior = metrics["MLOps & model deployment · junior"], metrics[
        "MLOps & model deployment · senior"
    ]
    assert junior.value == "100/100" and not junior.proto.delta, "nothing to compare with"
    assert senior.proto.delta == "+100 since last time at this level"
    spec = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    assert spec["encoding"]["x"]["sort"] == ["Jan 05 09:14", "Jan 05 09:14 (2)", "Jan 05 09:14 (3)"]
    [again] = [df.value for df in at.dataframe if "Question" in df.value]
    assert list(again["Question"]) == ["What about q-hard?"]
    assert (list(again["Before"]), list(again["Latest"])) == ([0.0], [100.0])


def test_progress_without_interviews_invites_one(transcripts: Path) -> None:
    at = run_app("views/progress.py")
    assert "Finish an interview" in at.info[0].value


# --- Settings page -------------------------------------------------------------------------------


def test_settings_show_configuration_with_keys_hidden(
    transcripts: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "sk-test-0123456789abcdefSECRET"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    at = run_app("views/settings.py")
    page = everything(at)
    assert secret not in page and "SECRET" not in page
    # The configuration table is there, with the key's row present but masked.
    shown = dict(zip(at.dataframe[0].value["Setting"], at.dataframe[0].value["Value"], strict=True))
    assert shown["transcripts_dir"] == str(transcripts)
    assert shown["profiles.openai.api_key"] == "****CRET"
    assert shown["checkpoints"] == str(transcripts / ".checkpoints.sqlite")
    assert str(transcripts) in texts(at)
    assert "Question bank" in [s.value for s in at.subheader]


def test_settings_model_check_runs_and_shows_the_verdict(
    transcripts: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import agent.doctor

    def run_doctor(settings, profile=None):
        report = agent.doctor.DoctorReport(profile={"name": profile or settings.profile})
        report.add("profile", "ok", "offline engine")
        report.add("reachable", "warn", "slow answer", ms=812.4)
        report.verdict = "Ready: checked " + settings.transcripts_dir.name
        return report

    monkeypatch.setattr(agent.doctor, "run_doctor", run_doctor)
    at = run_app("views/settings.py")
    button(at, "Run the model check").click().run()
    assert not at.exception, at.exception
    assert at.success[0].value == "Ready: checked transcripts"
    [table] = [df.value for df in at.dataframe if "Check" in df.value]
    assert list(table["Check"]) == ["profile", "reachable"]
    assert list(table["Result"]) == ["ok", "warning"]


def test_settings_model_check_that_fails_says_so_in_red(
    transcripts: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import agent.doctor

    def run_doctor(settings, profile=None):
        report = agent.doctor.DoctorReport(profile={})
        report.add("reachable", "fail", "connection refused")
        report.verdict = "Not usable: the server does not answer"
        return report

    monkeypatch.setattr(agent.doctor, "run_doctor", run_doctor)
    at = run_app("views/settings.py")
    button(at, "Run the model check").click().run()
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == ["Not usable: the server does not answer"]
    assert not at.success


@pytest.fixture
def model_server(transcripts: Path) -> Iterator[FakeServer]:
    """A loopback model server that grades any answer and passes the model check. The
    interviewers the app cached (one holds a model client) are closed after the test."""
    with FakeServer(api_key=TYPED_KEY, responder=echo_grader()) as server:
        yield server
        st.cache_resource.clear()
        assert server.errors == [], server.errors


TYPED_KEY = "typed-in-key-0123456789"


def local_profile(config: Path, server: FakeServer, name: str = "local") -> None:
    config.write_text(
        config.read_text(encoding="utf-8")
        + f'[profiles.{name}]\nbase_url = "{server.base_url}"\nmodel = "fake-model"\n'
        'api_key_env = "LOCAL_MODEL_KEY"\ntimeout = 5\nbackoff = 0\nmax_attempts = 2\n',
        encoding="utf-8",
    )


def fill(at: AppTest, **values: str) -> None:
    """Type into the text inputs labelled as the keywords say (`base_url` -> "Base URL")."""
    labels = {"name": "Name", "base_url": "Base URL", "model": "Model"}
    for field, value in values.items():
        label = labels.get(field, field)
        [box] = [t for t in at.text_input if t.label == label or t.label.startswith(label)]
        box.input(value)


def test_settings_switch_this_session_to_a_configured_model_check_it_and_grade_with_it(
    transcripts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model_server: FakeServer
) -> None:
    monkeypatch.setenv("LOCAL_MODEL_KEY", TYPED_KEY)
    local_profile(tmp_path / "interviewer.toml", model_server)
    at = run_app("views/settings.py")
    assert "rubric engine" in unescape(at.info[0].value), "the default grades until switched"
    at.selectbox(key="settings_profile").set_value("local").run()
    button(at, "Use for this session").click().run()
    assert not at.exception, at.exception
    assert "fake-model" in unescape(at.info[0].value)

    button(at, "Run the model check").click().run()
    assert not at.exception, at.exception
    assert at.success[0].value.startswith("Ready: fake-model")
    [table] = [df.value for df in at.dataframe if "Check" in df.value]
    assert list(table["Result"]) == ["ok"] * 6
    assert {r.path for r in model_server.requests} >= {"/v1/models", "/v1/chat/completions"}

    at.switch_page("views/interview.py").run()
    start_from_setup(at, questions=1)
    at.chat_input[0].set_value(GOOD_ANSWER).run()
    assert not at.exception, at.exception
    assert any(answer_of(r) == GOOD_ANSWER for r in model_server.completions), "model graded it"
    saved = TranscriptStore(transcripts).load(at.query_params["interview"])
    assert saved.brain == "llm" and saved.model == "fake-model"
    assert load_settings().profile == "offline", "the file's default is left as it was"

    at.switch_page("views/settings.py").run()
    button(at, "Back to offline").click().run()
    assert "rubric engine" in unescape(at.info[0].value)
    assert at.selectbox(key="settings_profile").value == "offline"


def test_settings_add_a_model_with_a_key_typed_for_this_session_only(
    transcripts: Path, tmp_path: Path, model_server: FakeServer
) -> None:
    config = tmp_path / "interviewer.toml"
    at = run_app("views/settings.py")
    fill(at, name="box", base_url="localhost:11434", model="fake-model")
    button(at, "Add for this session").click().run()
    assert "must be an http(s) URL" in at.error[0].value

    fill(at, base_url=model_server.base_url, **{"Or the key itself": TYPED_KEY})
    button(at, "Add for this session").click().run()
    assert not at.exception, at.exception
    assert at.selectbox(key="settings_profile").value == "box"
    assert "fake-model" in unescape(at.info[0].value), "the session grades with it at once"
    button(at, "Run the model check").click().run()
    assert at.success[0].value.startswith("Ready: fake-model"), everything(at)
    assert {r.authorization for r in model_server.requests} == {f"Bearer {TYPED_KEY}"}

    fill(at, name="box-saved")
    button(at, "Add and save to interviewer.toml").click().run()
    assert not at.exception, at.exception
    assert "key you typed is not saved" in at.success[0].value
    saved = load_settings().profiles["box-saved"]
    assert saved.base_url == model_server.base_url and saved.key() == "not-needed"
    assert "box-saved" in config.read_text(encoding="utf-8")
    on_disk = [p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()]
    assert not any(TYPED_KEY.encode() in data for data in on_disk), "the key was written"
    assert TYPED_KEY not in everything(at)


def test_settings_save_a_model_whose_key_is_in_a_variable_as_the_default(
    transcripts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model_server: FakeServer
) -> None:
    monkeypatch.setenv("BOX_KEY", TYPED_KEY)
    at = run_app("views/settings.py")
    fill(at, name="box", base_url=model_server.base_url, model="fake-model",
         **{"Environment variable": "BOX_KEY"})
    at.checkbox[0].check()
    button(at, "Add and save to interviewer.toml").click().run()
    assert not at.exception, at.exception
    text = (tmp_path / "interviewer.toml").read_text(encoding="utf-8")
    assert 'profile = "box"' in text and 'api_key_env = "BOX_KEY"' in text
    assert TYPED_KEY not in text
    settings = load_settings()
    assert settings.profile == "box" and settings.active.key() == TYPED_KEY
    fill(at, name="box")
    button(at, "Add and save to interviewer.toml").click().run()
    assert "already has a profile 'box'" in at.error[0].value


# --- errors --------------------------------------------------------------------------------------


def test_a_broken_question_bank_is_a_message(
    transcripts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "no-rubrics"
    empty.mkdir()
    monkeypatch.setenv("INTERVIEWER_RUBRICS_DIR", str(empty))
    at = run_app()
    assert "question bank could not be loaded" in at.error[0].value


def test_a_bad_setting_is_a_message(transcripts: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTERVIEWER_MAX_FOLLOWUPS", "lots")
    at = run_app()
    assert "configuration could not be loaded" in at.error[0].value


def test_an_unexpected_failure_is_a_calm_message(
    transcripts: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(self):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(Records, "list", explode)
    at = run_app("views/review.py")
    assert "Something went wrong" in at.error[0].value
    assert "disk on fire" not in everything(at)


# --- pure helpers ------------------------------------------------------------------------------


def test_masked_settings_hide_every_key_however_it_is_named(transcripts: Path) -> None:
    import components
    from pydantic import SecretStr

    class Fake:
        checkpoints = Path("/x/.checkpoints.sqlite")

        def public(self) -> dict:
            return {
                "profile": "remote",
                "profiles": {
                    "remote": {
                        "base_url": "https://user:hunter2@models.example/v1",
                        "api_key": "****WXYZ",
                        "api_key_env": "REMOTE_KEY",
                        "token": "plain-token-value",
                        "secret": SecretStr("deep-secret"),
                        "api_key_source": "$REMOTE_KEY",
                    },
                    "offline": {"api_key": "(none)"},
                },
            }

    rows = dict(components.masked_settings(Fake()))  # type: ignore[arg-type]
    shown = "\n".join(f"{k}={v}" for k, v in rows.items())
    for secret in ("hunter2", "plain-token-value", "deep-secret"):
        assert secret not in shown
    assert rows["profiles.remote.api_key"] == "****WXYZ"
    assert rows["profiles.remote.token"] == "set (hidden)"
    assert rows["profiles.offline.api_key"] == "not set"
    assert rows["profiles.remote.api_key_env"] == "REMOTE_KEY"
    assert rows["profiles.remote.base_url"] == "https://•••@models.example/v1"
    assert rows["checkpoints"] == "/x/.checkpoints.sqlite"


def test_criterion_ids_read_as_titles(transcripts: Path) -> None:
    from agent.grading.rubrics import criterion_title

    assert criterion_title("cd-pipeline") == "CD pipeline"
    assert criterion_title("why-not-rnns") == "Why not RNNs"
    assert criterion_title("heads-and-positions") == "Heads and positions"


def test_streamed_words_join_back_to_the_exact_text(transcripts: Path) -> None:
    import chat_view

    for text in ["", "  leading", "a  b\n\nc ", "one", "tabs\tand\nnewlines  "]:
        assert "".join(chat_view.word_chunks(text)) == text


def test_resume_deep_dive_reports_show_their_own_reference_answer(transcripts: Path) -> None:
    interview_id = make_interview(
        questions=1, resume=["Cut p99 inference latency from 200 ms to 50 ms with batching"]
    )
    with Interviewer(load_settings()) as iv:
        deep_dive = iv.state(interview_id)["custom_questions"][0]
    at = run_app("views/review.py", interview=interview_id)
    assert at.title[0].value == "Review" and at.selectbox[1].value == interview_id
    assert deep_dive["reference_answer"] in texts(at)
    assert not any("No reference answer" in c.value for c in at.caption)


def test_an_unusable_checkpoint_database_is_a_message(
    transcripts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INTERVIEWER_CHECKPOINT_DB", str(tmp_path))  # a folder, not a file
    at = run_app()
    assert "could not start" in at.error[0].value and str(tmp_path) in at.error[0].value


@pytest.fixture
def latency_only(transcripts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A bank of the one seed question on inference latency, so the question asked is known."""
    import shutil

    import yaml

    from agent.grading.rubrics import default_rubrics_dir

    source = default_rubrics_dir()
    folder = tmp_path / "rubrics"
    folder.mkdir()
    data = yaml.safe_load((source / "seed.yaml").read_text(encoding="utf-8"))
    data["questions"] = [q for q in data["questions"] if q["id"] == "seed-inference-latency"]
    (folder / "seed.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    for extra in ("deep-dive.yaml",):
        if (source / extra).exists():
            shutil.copy(source / extra, folder / extra)
    monkeypatch.setenv("INTERVIEWER_RUBRICS_DIR", str(folder))
    return transcripts


def test_pushback_quotes_a_wrong_claim_and_the_verdict_ends_the_report(latency_only: Path) -> None:
    from tests.test_engine import STRONG_LATENCY

    wrong = "Quantization is lossless, so there is no need to re-check accuracy."
    at = start_from_setup(run_app(), questions=1, followups=2)
    at.chat_input[0].set_value(wrong).run()
    assert not at.exception, at.exception
    said = [unescape(m.value) for m in at.markdown] + texts(at)
    assert any(f'You said: "{wrong}" Are you sure?' in s for s in said), said
    at.chat_input[0].set_value(STRONG_LATENCY).run()  # corrects the claim, covers the rubric
    assert not at.exception, at.exception
    said = [unescape(m.value) for m in at.markdown] + texts(at)
    assert any("Let me raise the bar:" in s for s in said), "a strong answer raises the bar"
    at.chat_input[0].set_value(STRONG_LATENCY).run()
    assert not at.exception, at.exception
    assert any(s.value.startswith("Verdict: ") for s in at.subheader)
    saved = TranscriptStore(latency_only).load(at.query_params["interview"])
    (grade,) = saved.grades
    assert [c["outcome"] for c in grade.challenges] == ["corrected"]
    assert grade.stretch and grade.stretch[0]["answer"] == STRONG_LATENCY
    assert saved.report["verdict"]["indicative"] is True


def test_sessions_on_two_models_share_one_database_pool(
    transcripts: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    model_server: FakeServer,
    pg_url: str,
) -> None:
    import psycopg

    monkeypatch.setenv("INTERVIEWER_DATABASE_URL", pg_url)
    monkeypatch.setenv("LOCAL_MODEL_KEY", TYPED_KEY)
    local_profile(tmp_path / "interviewer.toml", model_server)
    offline = run_app()
    start_from_setup(offline, questions=1)
    offline.chat_input[0].set_value(GOOD_ANSWER).run()
    switched = run_app("views/settings.py")
    switched.selectbox(key="settings_profile").set_value("local").run()
    button(switched, "Use for this session").click().run()
    switched.switch_page("views/interview.py").run()
    start_from_setup(switched, questions=1)
    switched.chat_input[0].set_value(GOOD_ANSWER).run()
    assert not offline.exception and not switched.exception
    assert any(answer_of(r) == GOOD_ANSWER for r in model_server.completions), "model graded it"

    with psycopg.connect(pg_url) as conn:
        (sessions,) = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name LIKE %s",
            (f"interviewer pid {os.getpid()} %",),
        ).fetchone()
    # One pool (two connections busy at once here: a turn's transcript save and its pruning
    # overlap) and one lock session, whichever model grades; one storage per model made 6.
    assert sessions <= 3, sessions
