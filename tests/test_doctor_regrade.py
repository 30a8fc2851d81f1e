"""`interviewer doctor` and `interviewer regrade` against the loopback server."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from agent.cli import main
from agent.doctor import format_report, run_doctor
from agent.grading.regrade import format_regrade, regrade, regrade_path, save_regrade
from agent.interview.interviewer import Interviewer, interview_options
from agent.profiles import Profile
from devtools.fakeserver import FakeServer, Reply, echo_grader
from tests.fake_llm import LATENCY_ANSWER, llm_profile, llm_settings
from tests.servers import free_port

PING = Reply(content="ready")
PROBE_JSON = Reply(content='{"status": "ok", "count": 3}')


def _config_env(tmp_path, base_url: str) -> dict[str, str]:
    path = tmp_path / "interviewer.toml"
    path.write_text(
        f'profile = "local"\ntranscripts_dir = "transcripts"\n\n[profiles.local]\n'
        f'base_url = "{base_url}"\nmodel = "fake-model"\nbackoff = 0\nmax_attempts = 2\n'
        f"timeout = 3\n",
        encoding="utf-8",
    )
    return {"INTERVIEWER_CONFIG": str(path)}


# --- doctor ------------------------------------------------------------------------------------


def test_doctor_passes_and_names_the_structured_mode(tmp_path):
    with FakeServer() as server:
        server.enqueue(PING, Reply(content="ready now"), PROBE_JSON)
        report = run_doctor(llm_settings(tmp_path, llm_profile(server)))
        assert server.pending == 0
    assert report.ok and report.mode == "json_schema"
    names = [c.name for c in report.checks]
    assert names == ["profile", "reachable", "auth", "chat", "streaming", "structured output"]
    assert report.verdict.startswith("Ready: fake-model")
    assert "ready" in format_report(report)


def test_doctor_streams_the_way_grading_does_and_warns_when_a_stream_breaks(tmp_path):
    with FakeServer() as server:
        server.enqueue(PING, Reply(content="ready to go now"), PROBE_JSON)
        report = run_doctor(llm_settings(tmp_path, llm_profile(server)))
        streamed = server.completions[1].body
    check = next(c for c in report.checks if c.name == "streaming")
    assert check.status == "ok" and check.detail.startswith("4 chunks")
    assert streamed["stream"] is True and streamed["stream_options"] == {"include_usage": True}

    with FakeServer() as server:
        broken = Reply(content="ready to go now", cut_after=1, stream_error="overloaded")
        server.enqueue(PING, broken, PROBE_JSON)
        report = run_doctor(llm_settings(tmp_path, llm_profile(server)))
        assert server.pending == 0, "the structured-output check ran after it"
    check = next(c for c in report.checks if c.name == "streaming")
    assert check.status == "warn" and "the stream ended in an error: overloaded" in check.detail
    structured = next(c for c in report.checks if c.name == "structured output")
    assert structured.status == "ok" and report.mode == "json_schema"
    assert report.ok, "grading still works, with replies appearing whole"


def test_doctor_finds_the_mode_a_llama_cpp_style_server_takes(tmp_path):
    with FakeServer(reject_formats={"json_schema"}, reject_status=500) as server:
        server.enqueue(PING, PING, PROBE_JSON)
        report = run_doctor(llm_settings(tmp_path, llm_profile(server)))
        sent = [r.response_format for r in server.completions]
    assert report.ok and report.mode == "json_object+schema"
    assert sent[-1]["type"] == "json_object" and "schema" in sent[-1]
    assert 'structured_output = "json_object+schema"' in report.verdict


def test_doctor_warns_when_no_mode_yields_valid_json(tmp_path):
    with FakeServer() as server:
        server.enqueue(PING, PING, *[Reply(content="sure thing")] * 4)
        report = run_doctor(llm_settings(tmp_path, llm_profile(server)))
        assert server.pending == 0, "every structured-output mode was tried"
    assert report.ok, "usable: answers fall back to the offline engine"
    structured = next(c for c in report.checks if c.name == "structured output")
    assert structured.status == "warn" and report.mode == "json_schema"
    assert report.verdict.startswith("Usable with warnings")
    assert "offline engine" in report.verdict


def test_doctor_fails_clearly_when_the_server_is_down(tmp_path):
    down = f"http://127.0.0.1:{free_port()}/v1"
    profile = Profile(name="down", base_url=down, model="m", timeout=2)
    report = run_doctor(llm_settings(tmp_path, profile))
    assert not report.ok
    assert report.verdict.startswith("Not ready: reachable: cannot connect to")
    assert "is the server running" in report.verdict


def test_doctor_fails_on_a_rejected_key_and_never_prints_it(tmp_path, capsys, monkeypatch):
    with FakeServer(api_key="right-key-000000") as server:
        env = _config_env(tmp_path, server.base_url)
        path = tmp_path / "interviewer.toml"
        path.write_text(path.read_text() + 'api_key_env = "LOCAL_KEY"\n', encoding="utf-8")
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("LOCAL_KEY", "wrong-key-123456789")
        code = main(["doctor"])
    out = capsys.readouterr().out
    assert code == 1
    assert "Not ready: auth: authentication failed" in out
    assert "wrong-key-123456789" not in out and "****6789" in out


def test_doctor_json_output(tmp_path, capsys, monkeypatch):
    with FakeServer() as server:
        server.enqueue(PING, PING, PROBE_JSON)
        for key, value in _config_env(tmp_path, server.base_url).items():
            monkeypatch.setenv(key, value)
        assert main(["doctor", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True and data["structured_output"] == "json_schema"
    assert data["profile"]["api_key"] == "not-needed"


# --- regrade -----------------------------------------------------------------------------------


@pytest.fixture
def stored_interview(tmp_path, bank):
    """A finished three-question offline interview on disk."""
    settings = llm_settings(tmp_path, Profile(name="unused", model="m", base_url="http://x:1/v1"))
    settings = settings.with_profile("offline")
    with Interviewer(settings, bank=bank) as iv:
        iid = iv.start(interview_options(questions=3, max_followups=0, seed=11)).interview_id
        for _ in range(3):
            iv.reply(iid, LATENCY_ANSWER)
    return iid


def test_regrade_grades_concurrently_stores_beside_and_compares(tmp_path, bank, stored_interview):
    def slow_grader(request):
        reply = echo_grader(probe=False)(request)
        return Reply(content=reply.content, delay=0.4)

    with FakeServer(responder=slow_grader) as server:
        settings = llm_settings(tmp_path, llm_profile(server))
        t0 = time.monotonic()
        result = regrade(settings, stored_interview, "fake", bank=bank)
        elapsed = time.monotonic() - t0
        assert len(server.completions) == 3
    assert elapsed < 0.4 * 3, "the three questions were graded at the same time"
    assert result.brain == "llm" and result.original_brain == "offline"
    assert all(q.score is not None and q.brain == "llm" for q in result.questions)
    assert all(q.delta == pytest.approx(q.score - q.original_score) for q in result.questions)

    path = Path(save_regrade(settings, result))
    assert path == regrade_path(settings, stored_interview, "fake")
    assert path.parent.name == "regrades" and path.name.endswith(".regrade-fake.json")
    stored = json.loads(path.read_text())
    assert stored["schema_version"] == 1 and stored["kind"] == "regrade"
    table = format_regrade(result)
    assert stored_interview in table and "overall" in table


def test_regrade_says_why_the_model_did_not_grade(tmp_path, bank, stored_interview):
    with FakeServer(responder=lambda request: Reply(status=401, error="bad key")) as server:
        settings = llm_settings(tmp_path, llm_profile(server, max_attempts=1))
        result = regrade(settings, stored_interview, "fake", bank=bank)
    assert all("offline-fallback" in q.flags for q in result.questions)
    reason = result.questions[0].note
    assert reason.startswith("Note: fake-model could not grade") and "authentication" in reason
    assert f"{result.questions[0].question_id}: {reason}" in format_regrade(result).splitlines()
    assert not any(q.feedback.startswith("Note:") for q in result.questions)


def test_grade_cli_says_why_the_model_did_not_grade(tmp_path, capsys, monkeypatch):
    with FakeServer(responder=lambda request: Reply(status=500, error="model crashed")) as server:
        for key, value in _config_env(tmp_path, server.base_url).items():
            monkeypatch.setenv(key, value)
        args = ["grade", "--question", "seed-inference-latency", "--answer", LATENCY_ANSWER]
        assert main(args) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "offline-fallback" in lines[0]
    assert lines[1].startswith("Note: fake-model could not grade") and "model crashed" in lines[1]


def test_regrade_cli_prints_differences_and_leaves_list_clean(
    tmp_path, stored_interview, capsys, monkeypatch
):
    with FakeServer(responder=echo_grader(probe=False)) as server:
        for key, value in _config_env(tmp_path, server.base_url).items():
            monkeypatch.setenv(key, value)
        assert main(["regrade", stored_interview, "--profile", "local"]) == 0
    out = capsys.readouterr().out
    assert "-> llm (fake-model), profile local" in out and "Saved:" in out
    assert main(["list"]) == 0
    listing = capsys.readouterr().out
    assert "unreadable" not in listing and stored_interview in listing


def test_regrade_of_an_unknown_interview_is_a_clear_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("INTERVIEWER_TRANSCRIPTS_DIR", str(tmp_path))
    monkeypatch.setenv("INTERVIEWER_CONFIG", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("", encoding="utf-8")
    assert main(["regrade", "20240101-000000-abcdef"]) == 2
    assert "no transcript with id" in capsys.readouterr().err
