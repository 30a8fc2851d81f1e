"""The `interviewer` command as a user runs it: a real subprocess, real files."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agent.cli import _read_answer
from agent.storage.transcripts import Transcript

from .test_engine import STRONG_LATENCY

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str, stdin: str = "", env_dir: Path, timeout: int = 120):
    env = {**os.environ, "INTERVIEWER_TRANSCRIPTS_DIR": str(env_dir)}
    return subprocess.run(
        [sys.executable, "-m", "agent", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=timeout,
    )


def test_piped_run_completes_and_prints_transcript_path(tmp_path):
    result = cli("run", "--questions", "2", "--seed", "3", stdin="a1\na2\n", env_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Graded by: offline (rubric-engine)" in result.stdout
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("Transcript: ")
    path = Path(last.removeprefix("Transcript: "))
    transcript = Transcript.model_validate_json(path.read_text())
    assert transcript.status == "finished" and transcript.report is not None
    answers = [t.text for t in transcript.turns if t.role == "candidate"]
    assert answers[:2] == ["a1", "a2"]


def test_running_out_of_input_ends_with_a_report(tmp_path):
    result = cli("run", "--questions", "3", stdin="", env_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "ended before any question was answered" in result.stdout
    assert "Transcript: " in result.stdout


def test_list_and_show(tmp_path):
    run = cli("run", "--questions", "1", "--track", "mlops", stdin="skip\n", env_dir=tmp_path)
    iid = Path(run.stdout.strip().splitlines()[-1].removeprefix("Transcript: ")).stem
    listing = cli("list", env_dir=tmp_path)
    assert iid in listing.stdout
    md = cli("show", iid, env_dir=tmp_path)
    assert md.returncode == 0 and f"# Mock interview {iid}" in md.stdout
    js = cli("show", iid, "--format", "json", env_dir=tmp_path)
    assert json.loads(js.stdout)["id"] == iid


def test_grade_json_has_the_documented_shape(tmp_path):
    result = cli(
        "grade",
        "--question",
        "seed-inference-latency",
        "--answer",
        STRONG_LATENCY,
        "--json",
        env_dir=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"question_id", "score", "criteria", "flags", "feedback"}
    assert data["feedback"].startswith("Score ")
    assert 0 <= data["score"] <= 100 and data["score"] >= 75
    for criterion in data["criteria"]:
        assert set(criterion) == {"id", "score", "max_score", "evidence", "missing"}
        assert 0 <= criterion["score"] <= criterion["max_score"]


def test_grade_batch_on_the_four_seed_ids(tmp_path):
    batch = tmp_path / "answers.jsonl"
    ids = [
        "seed-research-vs-production",
        "seed-inference-latency",
        "seed-llm-vs-foundation-models",
        "seed-genai-reliability",
    ]
    batch.write_text(
        "\n".join(json.dumps({"question_id": i, "answer": "I don't know"}) for i in ids)
    )
    result = cli("grade", "--batch", str(batch), env_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["question_id"] for r in rows] == ids
    assert all(r["score"] == 0 and "non-answer" in r["flags"] for r in rows)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("grade", "--question", "nope", "--answer", "x"), "unknown question id: nope"),
        (("show", "../etc/passwd"), "invalid interview id"),
        (("show", "20990101-000000-abcdef"), "no transcript"),
        (("run", "--questions", "0"), "between 1 and 20"),
        (("run", "--track", "cooking"), "invalid choice"),
        (("frobnicate",), "invalid choice"),
    ],
)
def test_bad_arguments_give_one_line_and_nonzero_exit(tmp_path, args, message):
    result = cli(*args, env_dir=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_rubrics_check_reports_coverage(tmp_path):
    result = cli("rubrics", "check", env_dir=tmp_path)
    assert result.returncode == 0
    assert "OK:" in result.stdout and "mlops" in result.stdout


def test_in_a_terminal_any_command_sends_at_once_and_an_answer_waits_for_a_blank_line(
    monkeypatch,
):
    typed = iter(["give me a hint", "batching raises throughput", "at a latency cost", ""])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(typed))
    assert _read_answer(interactive=True) == "give me a hint"
    assert _read_answer(interactive=True) == "batching raises throughput\nat a latency cost"


def test_the_interview_id_comes_first_and_ctrl_c_says_how_to_continue(tmp_path):
    env = {**os.environ, "INTERVIEWER_TRANSCRIPTS_DIR": str(tmp_path)}
    log = tmp_path / "out.log"
    with log.open("w") as out, subprocess.Popen(
        [sys.executable, "-m", "agent", "run", "--questions", "2", "--seed", "3"],
        stdin=subprocess.PIPE, stdout=out, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env,
    ) as proc:
        deadline = time.monotonic() + 60
        while "Question 1 of 2" not in log.read_text() and time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    lines = log.read_text().splitlines()
    started = next(i for i, line in enumerate(lines) if line.startswith("Interview "))
    assert started < next(i for i, line in enumerate(lines) if "Question 1 of 2" in line)
    iid = lines[started].split()[1]
    assert f"`interviewer run --resume {iid}`" in lines[started]
    assert proc.returncode == 130
    assert f"interrupted; continue with `interviewer run --resume {iid}`" in err
    assert "Traceback" not in err

    resumed = cli("run", "--resume", iid, stdin="end\n", env_dir=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert f"Resuming interview {iid}." in resumed.stdout
