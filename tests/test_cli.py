"""The `interviewer` command as a user runs it: a real subprocess, real files."""

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agent.cli import _Live, _read_answer, _show, main
from agent.interview.interviewer import TurnResult
from agent.interview.nodes import Said
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
    assert f"`interviewer run --continue {iid}`" in lines[started]
    assert proc.returncode == 130
    assert f"interrupted; continue with `interviewer run --continue {iid}`" in err
    assert "Traceback" not in err

    continued = cli("run", "--continue", iid, stdin="end\n", env_dir=tmp_path)
    assert continued.returncode == 0, continued.stderr
    assert f"Continuing interview {iid}." in continued.stdout
    assert continued.stderr == ""


# --- continuing an interview and giving a CV use different words ------------------------------

CV_LINE = "Cut inference latency from 200 ms to 50 ms with batching and quantization"


@pytest.fixture
def in_folder(tmp_path, monkeypatch):
    """`cli.main` in-process, with transcripts in `tmp_path` and the working folder there too."""
    monkeypatch.setenv("INTERVIEWER_TRANSCRIPTS_DIR", str(tmp_path / "transcripts"))
    monkeypatch.delenv("INTERVIEWER_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cv.txt").write_text(CV_LINE + "\n", encoding="utf-8")
    return tmp_path


def _run(monkeypatch, capsys, *args: str, stdin: str = "end\n") -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(["run", *args])
    out, err = capsys.readouterr()
    return code, out, err


def _started_id(out: str) -> str:
    return next(line.split()[1] for line in out.splitlines() if line.startswith("Interview "))


def test_cv_file_opens_with_a_deep_dive_and_continue_takes_the_id(in_folder, monkeypatch, capsys):
    code, out, err = _run(monkeypatch, capsys, "--cv", "cv.txt", "--questions", "2", stdin="")
    assert code == 0 and err == "", err
    iid = _started_id(out)
    assert "Question 1 of 2 (Projects & resume deep-dive" in out
    assert "200 ms" in out.split("Question 1 of 2", 1)[1].splitlines()[0]

    code, out, err = _run(monkeypatch, capsys, "--continue", iid)
    assert code == 2 and "has already finished" in err


@pytest.mark.parametrize(("old", "new"), [("--resume", "--continue"), ("--resume-file", "--cv")])
def test_the_old_spellings_still_work_with_a_one_line_note(
    old, new, in_folder, monkeypatch, capsys
):
    code, out, _ = _run(monkeypatch, capsys, "--questions", "2", stdin="")
    iid = _started_id(out)
    value = iid if old == "--resume" else "cv.txt"
    code, out, err = _run(monkeypatch, capsys, old, value, "--questions", "2", stdin="")
    assert err.splitlines()[0] == f"interviewer: note: {old} is now {new}; the old name still works"
    if old == "--resume":
        assert code == 2 and f"interview {iid} has already finished" in err
    else:
        assert code == 0 and len(err.splitlines()) == 1
        assert "Projects & resume deep-dive" in out


@pytest.mark.parametrize("option", ["--continue", "--resume"])
def test_continue_given_a_cv_file_says_to_use_cv(option, in_folder, monkeypatch, capsys):
    for value in ("cv.txt", str(in_folder / "cv.txt"), "notes.md"):
        code, out, err = _run(monkeypatch, capsys, option, value)
        assert code == 2 and out == ""
        error = err.splitlines()[-1]
        assert error == (
            f"interviewer: error: --continue takes an interview id (see `interviewer list`), "
            f"and {value!r} looks like a file: to give your CV, use --cv {value}"
        )
    assert not (in_folder / "transcripts").exists() or not list(
        (in_folder / "transcripts").glob("*.json")
    ), "nothing was started"


def test_a_cv_that_is_an_interview_id_says_to_use_continue(in_folder, monkeypatch, capsys):
    iid = "20261207-101500-a1b2c3"
    code, out, err = _run(monkeypatch, capsys, "--cv", iid)
    assert code == 2 and out == ""
    assert err == (
        f"interviewer: error: --cv takes a file of CV lines, and {iid!r} is an interview id: "
        f"to continue that interview, use --continue {iid}\n"
    )
    (in_folder / iid).write_text(CV_LINE, encoding="utf-8")  # a file of that name is a CV
    code, out, err = _run(monkeypatch, capsys, "--cv", iid, "--questions", "1", stdin="")
    assert code == 0 and "Projects & resume deep-dive" in out, err


def test_continue_with_cv_lines_is_refused(in_folder, monkeypatch, capsys):
    code, out, _ = _run(monkeypatch, capsys, "--questions", "2", stdin="")
    iid = _started_id(out)
    for extra in (["--cv", "cv.txt"], ["--bullet", CV_LINE]):
        code, out, err = _run(monkeypatch, capsys, "--continue", iid, *extra)
        assert code == 2 and out == ""
        assert err == (
            "interviewer: error: --cv and --bullet start a new interview; "
            "leave them out with --continue\n"
        )


# --- choosing the questions -------------------------------------------------------------------


def _planned(in_folder, out: str) -> list[str]:
    transcript = Transcript.model_validate_json(
        (in_folder / "transcripts" / f"{_started_id(out)}.json").read_text(encoding="utf-8")
    )
    return transcript.plan


def test_question_starts_with_the_chosen_questions_in_order(in_folder, monkeypatch, capsys):
    chosen = ["seed-llm-vs-foundation-models", "ops-quantization"]
    args = [a for qid in chosen for a in ("--question", qid)]
    code, out, err = _run(monkeypatch, capsys, *args, "--seed", "4", stdin="")
    assert code == 0 and err == "", err
    plan = _planned(in_folder, out)
    assert plan[:2] == chosen and len(plan) == 3, "the bank fills the default three"
    first = out.split("Question 1 of 3", 1)[1].splitlines()[0]
    assert first.startswith(" (LLMs & foundation models")

    code, out, err = _run(monkeypatch, capsys, *args, *args, "--questions", "2", stdin="")
    assert code == 0 and _planned(in_folder, out) == chosen, "repeats are asked once"

    # Chosen questions are not deep-dives: none is cut to leave room for the bank.
    three = [*args, "--question", "ops-docker-model-serving", "--cv", "cv.txt"]
    code, out, err = _run(monkeypatch, capsys, *three, "--questions", "4", stdin="")
    plan = _planned(in_folder, out)
    assert plan[:3] == [*chosen, "ops-docker-model-serving"] and plan[3].startswith("resume-")


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (
            ["--question", "seed-llm-vs-foundation-model"],
            "argument --question: unknown question id 'seed-llm-vs-foundation-model' "
            "(did you mean seed-llm-vs-foundation-models",
        ),
        (
            ["--question", "seed-llm-vs-foundation-models", "--question", "zzz"],
            "argument --question: unknown question id 'zzz' (the ids are in ",
        ),
        (
            ["--question", "seed-llm-vs-foundation-models", "--question", "ops-quantization",
             "--questions", "1"],
            "argument --questions: 1 is fewer than the 2 questions chosen with --question",
        ),
        (
            ["--continue", "20261207-101500-a1b2c3", "--question", "seed-llm-vs-foundation-models"],
            "--question and --job-file start a new interview; leave them out with --continue",
        ),
    ],
)
def test_a_question_that_cannot_be_asked_is_refused_in_one_line(
    args, error, in_folder, monkeypatch, capsys
):
    code, out, err = _run(monkeypatch, capsys, *args)
    assert code == 2 and out == ""
    assert err.startswith(f"interviewer: error: {error}") and len(err.splitlines()) == 1
    assert not (in_folder / "transcripts").exists() or not list(
        (in_folder / "transcripts").glob("*.json")
    ), "nothing was started"


# --- a model's words, printed as they are written --------------------------------------------


def test_a_draft_grows_on_one_line_and_its_message_ends_it(capsys):
    live = _Live()
    for text in ("What", "What would you", "What would you measure?"):
        live.hear(Said("m3", text, final=False))
    live.hear(Said("m3", "What would you measure?", final=True))
    live.hear(Said("m4", "Question 2 of 2: why?", final=True))
    assert capsys.readouterr().out == (
        "\nInterviewer: What would you measure?\n\nInterviewer: Question 2 of 2: why?\n"
    )


def test_a_message_that_supersedes_its_draft_follows_on_a_line_of_its_own(capsys):
    live = _Live()
    live.hear(Said("m3", "Feedback: Good", final=False))
    live.hear(Said("m3", "Note: the model failed; graded offline.", final=True))
    assert capsys.readouterr().out == (
        "\nInterviewer: Feedback: Good\n\nInterviewer: Note: the model failed; graded offline.\n"
    )


def test_messages_heard_live_are_not_printed_again_even_with_the_same_words(capsys):
    live = _Live()
    question = "Question 1 of 1: what is p99?"
    live.hear(Said("m0", question, final=True))
    turn = TurnResult(
        interview_id="x",
        messages=[
            {"id": "m0", "role": "interviewer", "text": question},
            {"id": "m2", "role": "interviewer", "text": question},  # a repeat, not heard live
        ],
        finished=False,
        transcript_path=None,
    )
    _show(turn, live)
    assert capsys.readouterr().out == f"\nInterviewer: {question}\n" * 2


def test_a_job_file_weights_the_plan_and_the_summary_says_which_topics_were_covered(
    in_folder, monkeypatch, capsys
):
    job = "We need an MLOps engineer: MLflow model registry, Docker and Kubernetes deployment."
    (in_folder / "job.txt").write_text(job, encoding="utf-8")
    code, out, err = _run(
        monkeypatch, capsys, "--job-file", "job.txt", "--questions", "2", "--followups", "0",
        "--seed", "1", stdin="I don't know\nI don't know\n",
    )
    assert code == 0 and err == "", err
    transcript = Transcript.model_validate_json(
        (in_folder / "transcripts" / f"{_started_id(out)}.json").read_text(encoding="utf-8")
    )
    assert transcript.settings["job"] == job
    assert "The job's topics covered: MLOps and deployment." in out

    code, out, err = _run(monkeypatch, capsys, "--job-file", "missing.txt")
    assert code == 2 and err.startswith(
        "interviewer: error: cannot read the job description file missing.txt:"
    )


def test_a_piped_interview_challenges_a_wrong_claim_and_ends_with_a_verdict(tmp_path):
    wrong = "Quantization is lossless, so there is no need to re-check accuracy."
    fixed = "I was wrong: int8 can cost accuracy, so I compare it with the fp32 model first."
    run = cli(
        "run",
        "--question",
        "seed-inference-latency",
        "--questions",
        "1",
        "--followups",
        "1",
        stdin=f"{wrong}\n{fixed}\n",
        env_dir=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    assert f'You said: "{wrong}" Are you sure?' in run.stdout
    assert "Verdict for a " in run.stdout and "indicative" in run.stdout
    iid = Path(run.stdout.strip().splitlines()[-1].removeprefix("Transcript: ")).stem
    shown = cli("show", iid, "--format", "json", env_dir=tmp_path)
    data = json.loads(shown.stdout)
    verdicts = ("strong hire", "hire", "lean no hire", "no hire")
    assert data["report"]["verdict"]["verdict"] in verdicts
    (challenge,) = data["grades"][0]["challenges"]
    assert challenge["outcome"] == "corrected" and challenge["quote"] == wrong


def test_a_new_interview_leaves_out_the_questions_of_recent_ones(in_folder, monkeypatch, capsys):
    same = ["--track", "llms", "--questions", "2", "--seed", "9", "--followups", "0"]
    plans = []
    for _ in range(2):
        code, out, err = _run(monkeypatch, capsys, *same, stdin="I don't know\nskip\n")
        assert code == 0, err
        plans.append(_planned(in_folder, out))
    assert not set(plans[0]) & set(plans[1]), "the same seed, other questions"


def test_show_names_questions_and_criteria_as_people_read_them(in_folder, monkeypatch, capsys):
    code, out, _ = _run(
        monkeypatch, capsys, "--question", "ops-mlflow-tracking-registry", "--questions", "1",
        "--followups", "0", stdin="I don't know\n",
    )
    iid = _started_id(out)
    assert main(["show", iid]) == 0
    report = capsys.readouterr().out.split("## Conversation")[0]
    assert "### Q1 · MLOps & model deployment, junior: 0/100" in report
    assert "| Tracking purpose | 0/3 |" in report
    assert "ops-mlflow-tracking-registry" not in report and "tracking-purpose" not in report
