"""Nothing lost, nothing hangs: seven ways an interview once broke under faults and hostile input,
each reproduced as it was found."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from agent import cli
from agent.config import Settings
from agent.doctor import run_doctor
from agent.grading.model_reply import Speech
from agent.grading.providers import OfflineProvider
from agent.grading.rubrics import Bank, Question
from agent.interview.interviewer import Interviewer, InterviewError, interview_options
from agent.interview.progress import load_all
from agent.storage.transcripts import TranscriptStore
from devtools.fakeserver import FakeServer, Recorded, Reply, echo_grader, grade_reply
from tests.fake_llm import LATENCY_ANSWER, llm_profile, llm_settings

from .test_faults import ANSWERS, ROOT, _env, _run_threads, _send, _spawn, _wait_for

ESCAPES = ("\x1b", "\x07", "\x9b", "\x9d")


def _candidate_texts(store: TranscriptStore, interview_id: str) -> list[str]:
    return [t.text for t in store.load(interview_id).turns if t.role == "candidate"]


def _use_folder(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    monkeypatch.setenv("INTERVIEWER_TRANSCRIPTS_DIR", str(folder))


# --- 1. a kill after the final checkpoint, before the transcript write -------------------------


def _finished_behind_its_transcript(settings: Settings, bank: Bank) -> str:
    """A finished interview whose transcript is put back as it was before the last answer: what a
    kill after the final checkpoint, before the transcript was written, leaves."""
    with Interviewer(settings, bank=bank) as iv:
        iid = iv.start(interview_options(questions=1, seed=3, max_followups=0)).interview_id
        path = iv.store.path_for(iid)
        before_last_answer = path.read_bytes()
        assert iv.reply(iid, ANSWERS[0]).finished
    path.write_bytes(before_last_answer)
    assert TranscriptStore(settings.transcripts_dir).load(iid).status == "in_progress"
    return iid


def _open_review(settings: Settings, bank: Bank, iid: str) -> None:
    with Interviewer(settings, bank=bank) as iv:
        listed = {item.id: item for item in iv.store.list()}
        assert listed[iid].status == "finished" and listed[iid].score is not None


def _open_progress(settings: Settings, bank: Bank, iid: str) -> None:
    with Interviewer(settings, bank=bank) as iv:
        transcripts, _ = load_all(iv.store)
    assert [t.status for t in transcripts if t.id == iid] == ["finished"]


OPENS = {
    "list": lambda settings, bank, iid: cli.main(["list"]),
    "show": lambda settings, bank, iid: cli.main(["show", iid]),
    "run --continue": lambda settings, bank, iid: cli.main(["run", "--continue", iid]),
    "regrade": lambda settings, bank, iid: cli.main(["regrade", iid]),
    "review": _open_review,
    "progress": _open_progress,
}


@pytest.mark.parametrize("how", list(OPENS))
def test_a_transcript_behind_its_checkpoint_is_repaired_by_any_open(
    how, settings, bank, monkeypatch, capsys
):
    iid = _finished_behind_its_transcript(settings, bank)
    _use_folder(monkeypatch, settings.transcripts_dir)

    OPENS[how](settings, bank, iid)

    transcript = TranscriptStore(settings.transcripts_dir).load(iid)
    assert transcript.status == "finished" and transcript.report is not None
    assert [g.answer for g in transcript.grades] == [ANSWERS[0]]
    assert [t.text for t in transcript.turns if t.role == "candidate"] == [ANSWERS[0]]
    assert "Traceback" not in capsys.readouterr().err


def test_after_the_repair_list_show_and_regrade_tell_the_truth(settings, bank, monkeypatch, capsys):
    iid = _finished_behind_its_transcript(settings, bank)
    _use_folder(monkeypatch, settings.transcripts_dir)

    assert cli.main(["list"]) == 0
    (line,) = [row for row in capsys.readouterr().out.splitlines() if row.startswith(iid)]
    assert "finished" in line and "score -" not in line
    assert cli.main(["show", iid]) == 0
    assert "## Report" in capsys.readouterr().out
    assert cli.main(["regrade", iid]) == 0
    assert cli.main(["run", "--continue", iid]) == 2
    assert "has already finished" in capsys.readouterr().err


def test_an_interview_that_exists_only_as_a_checkpoint_is_listed(
    settings, bank, monkeypatch, capsys
):
    with Interviewer(settings, bank=bank) as iv:
        iid = iv.start(interview_options(questions=2, seed=3)).interview_id
    # A kill during start-up, after the first checkpoint, before the first transcript write.
    (settings.transcripts_dir / f"{iid}.json").unlink()
    _use_folder(monkeypatch, settings.transcripts_dir)

    assert cli.main(["list"]) == 0

    (line,) = [row for row in capsys.readouterr().out.splitlines() if row.startswith(iid)]
    assert "in_progress" in line
    assert TranscriptStore(settings.transcripts_dir).load(iid).turns


# --- 2. two writers on one interview -----------------------------------------------------------


class Rendezvous(OfflineProvider):
    """Grades offline, but first waits a moment for a second grading call: two writers that do
    not take turns are then inside one interview's turn at the same time, every time."""

    def __init__(self, wait: float = 0.3) -> None:
        self.wait = wait
        self._inside = 0
        self._cond = threading.Condition()

    def assess(self, question: Question, answer: str, asked_probes: tuple[str, ...] = ()):
        with self._cond:
            self._inside += 1
            self._cond.notify_all()
            self._cond.wait_for(lambda: self._inside >= 2, timeout=self.wait)
        try:
            return super().assess(question, answer, asked_probes)
        finally:
            with self._cond:
                self._inside -= 1


def test_two_writers_on_one_interview_take_turns_and_keep_every_answer(any_settings, bank):
    provider = Rendezvous()
    with Interviewer(any_settings, provider=provider, bank=bank) as iv:
        iid = iv.start(interview_options(questions=10, seed=8, max_followups=2)).interview_id
    sent = {
        tag: [f"{tag} answer {n}: batching raises throughput." for n in range(3)]
        for tag in ("left", "right")
    }

    def answer(tag: str, barrier: threading.Barrier, out: dict) -> None:
        with Interviewer(any_settings, provider=provider, bank=bank) as iv:
            barrier.wait()
            for text in sent[tag]:
                iv.reply(iid, text)
        out[tag] = iid

    _run_threads(answer, list(sent))

    with Interviewer(any_settings, bank=bank) as iv:
        state = iv.state(iid) or {}
        taken = [m["text"] for m in state["messages"] if m["role"] == "candidate"]
        assert sorted(taken) == sorted(sent["left"] + sent["right"])  # every answer, once
        for tag, texts in sent.items():
            assert [t for t in taken if t.startswith(tag)] == texts  # each writer's in order
        assert _candidate_texts(iv.store, iid) == taken


def test_a_second_run_on_an_open_interview_is_told_so_and_the_first_keeps_every_answer(tmp_path):
    transcripts, log = tmp_path / "transcripts", tmp_path / "first.log"
    store = TranscriptStore(transcripts)
    first = _spawn(transcripts, log, "--questions", "5", "--seed", "11")
    try:
        iid = _wait_for(lambda: _only_json(transcripts), "the first transcript", proc=first)
        _send(first, ANSWERS[0])
        _wait_for(lambda: len(_candidate_texts(store, iid)) == 1, "answer 1 on disk", proc=first)

        second = subprocess.run(
            [sys.executable, "-m", "agent", "run", "--continue", iid],
            input=ANSWERS[5] + "\n",
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=_env(transcripts),
            timeout=60,
        )

        assert second.returncode != 0
        assert f"interview {iid} is open in another process" in second.stderr
        assert "Traceback" not in second.stderr
        out, _ = first.communicate(ANSWERS[1] + "\n" + ANSWERS[2] + "\n", timeout=120)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(timeout=30)
    assert first.returncode == 0, log.read_text()
    assert _candidate_texts(store, iid)[:3] == ANSWERS[:3]
    assert ANSWERS[5] not in _candidate_texts(store, iid)


def test_a_browser_answer_to_an_interview_open_in_a_terminal_is_refused_plainly(tmp_path, bank):
    transcripts, log = tmp_path / "transcripts", tmp_path / "cli.log"
    store = TranscriptStore(transcripts)
    terminal = _spawn(transcripts, log, "--questions", "3", "--seed", "4")
    try:
        iid = _wait_for(lambda: _only_json(transcripts), "the first transcript", proc=terminal)
        with Interviewer(Settings(transcripts_dir=transcripts), bank=bank) as browser:
            with pytest.raises(InterviewError, match="open in another process"):
                browser.reply(iid, ANSWERS[4])
        _send(terminal, ANSWERS[0])
        _wait_for(
            lambda: _candidate_texts(store, iid) == ANSWERS[:1],
            "the terminal's answer",
            proc=terminal,
        )
    finally:
        terminal.communicate("", timeout=120)
    assert terminal.returncode == 0, log.read_text()
    assert ANSWERS[4] not in _candidate_texts(store, iid)


def _only_json(folder: Path) -> str | None:
    found = sorted(folder.glob("*.json")) if folder.is_dir() else []
    return found[0].stem if len(found) == 1 else None


# --- 3. a model server that drips its reply ----------------------------------------------------


def _dripping(content: str) -> FakeServer:
    # 3 bytes a second: each read gets a byte well within the read timeout, the body never ends.
    return FakeServer(responder=lambda request: Reply(content=content, drip=0.3))


def _within(seconds: float, call):
    """Run `call` on a thread; fail (instead of hanging the suite) if it takes over `seconds`."""
    box: dict = {}

    def run() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:  # surfaced below
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    t0 = time.monotonic()
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still waiting after {seconds:g} s"
    if "error" in box:
        raise box["error"]
    return box["value"], time.monotonic() - t0


@pytest.mark.parametrize("stream", [True, False])
def test_a_dripping_model_server_is_cut_off_at_the_time_limit_then_offline_grades(stream, question):
    limits = {"timeout": 1.0, "total_timeout": 2.5, "max_attempts": 3, "stream": stream}
    from agent.grading.llm import LLMProvider

    with _dripping(grade_reply({c.id: (3, ["p99"]) for c in question.criteria})) as server:
        provider = LLMProvider(llm_profile(server, **limits))
        try:
            speech = Speech(lambda fields: None, lambda text: None) if stream else None
            result, _ = _within(30, lambda: provider.assess(question, LATENCY_ANSWER, (), speech))
        finally:
            provider.close()
    assert "offline-fallback" in result.flags
    assert "within" in result.note or "limit" in result.note, result.note


def test_doctor_does_not_hang_on_a_dripping_server(tmp_path):
    with _dripping("ready") as server:
        settings = llm_settings(tmp_path, llm_profile(server, timeout=1.0, max_attempts=1))
        report, _ = _within(30, lambda: run_doctor(settings))
    assert not report.ok
    chat = next(c for c in report.checks if c.name == "chat")
    assert chat.status == "fail" and "did not answer within 1 s" in chat.detail


# --- 4. terminal escape sequences --------------------------------------------------------------

HOSTILE = (
    "\x1b]0;pwned title\x07 clear \x1b[2J now \x1b]8;;http://evil.example\x1b\\link\x1b]8;;\x1b\\ "
    "csi \x9b31m and osc \x9d0;t\x9c. " + LATENCY_ANSWER
)


def _assert_inert(text: str) -> None:
    found = [repr(c) for c in ESCAPES if c in text]
    assert not found, f"raw control characters reached the terminal: {found}"


def test_escape_sequences_in_answers_and_files_never_reach_the_terminal(
    tmp_path, monkeypatch, capsys
):
    folder = tmp_path / "transcripts"
    _use_folder(monkeypatch, folder)
    monkeypatch.setattr(sys, "stdin", io.StringIO(HOSTILE + "\nend\n"))
    assert cli.main(["run", "--questions", "1", "--seed", "2", "--followups", "1"]) == 0
    run = capsys.readouterr()
    _assert_inert(run.out + run.err)
    iid = Path(run.out.strip().splitlines()[-1].removeprefix("Transcript: ")).stem
    stored = TranscriptStore(folder).load(iid)
    assert stored.turns[1].text == HOSTILE  # kept exactly; only what is printed is neutralised

    assert cli.main(["show", iid]) == 0
    shown = capsys.readouterr().out
    _assert_inert(shown)
    assert "pwned title" in shown

    assert cli.main(["show", iid, "--format", "json"]) == 0
    dumped = capsys.readouterr().out
    _assert_inert(dumped)
    assert json.loads(dumped)["turns"][1]["text"] == HOSTILE  # the JSON still says it exactly

    crafted = json.loads((folder / f"{iid}.json").read_text())
    crafted.update(
        id="crafted",
        status="in_progress",
        report=None,
        brain="\x1b[2Jx",
        model="\x1b]0;t\x07m",
        settings={"role": "\x1b[31mred", "tracks": []},
    )
    (folder / "crafted.json").write_text(json.dumps(crafted))
    (folder / "bad\x1b[2J.json").write_text("{not json")
    assert cli.main(["list"]) == 0
    listed = capsys.readouterr()
    _assert_inert(listed.out + listed.err)
    assert "crafted" in listed.out


def test_escape_sequences_in_a_model_follow_up_never_reach_the_terminal(
    tmp_path, monkeypatch, capsys
):
    hostile = "\x1b]0;owned\x07Tell me \x1b[2Jmore \x1b]8;;http://x\x1b\\here\x1b]8;;\x1b\\"
    grader = echo_grader()

    def respond(request: Recorded) -> Reply:
        reply = json.loads(grader(request).content or "{}")
        if reply.get("followup"):
            reply["followup"] = hostile
        reply["feedback"] = "Good. " + hostile
        return Reply(content=json.dumps(reply))

    with FakeServer(responder=respond) as server:
        config = tmp_path / "interviewer.toml"
        config.write_text(
            f'profile = "fake"\ntranscripts_dir = "transcripts"\n[profiles.fake]\n'
            f'base_url = "{server.base_url}"\nmodel = "fake-model"\napi_key = "k"\n'
            "backoff = 0\nmax_attempts = 1\n"
        )
        monkeypatch.setenv("INTERVIEWER_CONFIG", str(config))
        monkeypatch.setattr(sys, "stdin", io.StringIO(f"{LATENCY_ANSWER}\n{LATENCY_ANSWER}\n"))
        code = cli.main(
            ["run", "--questions", "1", "--seed", "1", "--followups", "1", "--feedback", "each"]
        )
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "Tell me" in out.out
    _assert_inert(out.out + out.err)


# --- 5. storage errors -------------------------------------------------------------------------


def _limited_connect(pragma: str):
    """sqlite3.connect, then `pragma` on the new connection (a real SQLite limit, a real error)."""
    real = sqlite3.connect

    def connect(*args, **kwargs):
        conn = real(*args, **kwargs)
        conn.execute(pragma)
        return conn

    return connect


@pytest.mark.parametrize(
    ("pragma", "reason"),
    [
        ("PRAGMA query_only = ON", "readonly"),
        ("PRAGMA max_page_count = 1", "full"),
    ],
    ids=["read-only", "disk-full"],
)
def test_a_checkpoint_database_that_cannot_be_written_gives_one_clear_sentence(
    pragma, reason, settings, bank, monkeypatch, capsys
):
    with Interviewer(settings, bank=bank) as iv:
        iid = iv.start(interview_options(questions=3, seed=4)).interview_id
        iv.reply(iid, ANSWERS[0])
    with sqlite3.connect(settings.checkpoints) as conn:
        conn.execute("VACUUM")  # no free pages left inside the file: the next turn must grow it
    _use_folder(monkeypatch, settings.transcripts_dir)
    monkeypatch.setattr(sys, "stdin", io.StringIO(ANSWERS[1] + "\n"))
    with monkeypatch.context() as m:
        real = sqlite3.connect
        limited = _limited_connect(pragma)
        # Only the checkpoint database is limited, once the interviewer has opened it.
        m.setattr(
            sqlite3,
            "connect",
            lambda *a, **k: limited(*a, **k) if "check_same_thread" in k else real(*a, **k),
        )
        code = cli.main(["run", "--continue", iid])

    err = capsys.readouterr().err
    assert code != 0
    assert err.startswith("interviewer: error:") and err.count("\n") == 1, err
    assert reason in err and str(settings.checkpoints) in err
    assert f"interviewer run --continue {iid}" in err  # what to do
    assert _candidate_texts(TranscriptStore(settings.transcripts_dir), iid) == ANSWERS[:1]
    with Interviewer(settings, bank=bank) as iv:  # the command it gave, once the disk is fixed
        iv.recover(iid)
        iv.reply(iid, ANSWERS[2])
        texts = _candidate_texts(iv.store, iid)
    # Nothing acknowledged is lost; the answer that failed was either taken whole or not at all.
    assert texts in ([ANSWERS[0], ANSWERS[2]], ANSWERS[:3])


def test_a_checkpoint_folder_that_cannot_be_created_gives_one_clear_sentence(
    tmp_path, monkeypatch, capsys
):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    _use_folder(monkeypatch, tmp_path / "transcripts")
    monkeypatch.setenv("INTERVIEWER_CHECKPOINT_DB", str(blocker / "sub" / "state.sqlite"))

    code = cli.main(["run", "--questions", "1"])

    err = capsys.readouterr().err
    assert code != 0
    assert err.startswith("interviewer: error:") and err.count("\n") == 1, err
    assert str(blocker / "sub") in err and "INTERVIEWER_CHECKPOINT_DB" in err


# --- 6. a FIFO in the transcripts folder -------------------------------------------------------


def test_a_fifo_named_like_a_transcript_does_not_hang_the_scan(tmp_path, settings, bank):
    iid, _ = _one_finished(settings, bank)
    os.mkfifo(settings.transcripts_dir / "x.json")
    try:
        listing = subprocess.run(
            [sys.executable, "-m", "agent", "list"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=_env(settings.transcripts_dir),
            timeout=60,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("`interviewer list` hung on a FIFO")
    assert listing.returncode == 0, listing.stderr
    assert iid in listing.stdout
    assert "x.json: not a regular file" in listing.stdout


def test_an_oversized_transcript_file_is_listed_as_unreadable_without_reading_it(settings):
    from agent.storage.transcripts import MAX_TRANSCRIPT_BYTES

    settings.transcripts_dir.mkdir(parents=True)
    with (settings.transcripts_dir / "huge.json").open("wb") as f:
        f.truncate(MAX_TRANSCRIPT_BYTES + 1)  # sparse: no disk used
    (item,) = TranscriptStore(settings.transcripts_dir).list()
    assert not item.ok and "too large" in (item.error or "")


def _one_finished(settings: Settings, bank: Bank) -> tuple[str, str]:
    with Interviewer(settings, bank=bank) as iv:
        iid = iv.start(interview_options(questions=1, seed=3)).interview_id
        iv.reply(iid, "end")
    return iid, (settings.transcripts_dir / f"{iid}.json").read_text()


# --- 7. arguments out of range -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "--seed", "99999999999999999999999"], "argument --seed"),
        (["run", "--seed", "-1"], "argument --seed"),
        (["run", "--questions", "21"], "argument --questions"),
        (["run", "--followups", "9"], "argument --followups"),
        (["bench", "--interviews", "0"], "argument --interviews"),
        (["regrade", "x", "--workers", "0"], "argument --workers"),
    ],
)
def test_arguments_out_of_range_are_refused_before_anything_runs(
    argv, message, tmp_path, monkeypatch, capsys
):
    _use_folder(monkeypatch, tmp_path / "transcripts")
    monkeypatch.setattr(sys, "stdin", io.StringIO("an answer\n"))
    assert cli.main(argv) == 2
    out = capsys.readouterr()
    assert out.out == ""  # not even the first question
    assert out.err.startswith(f"interviewer: error: {message}") and out.err.count("\n") == 1
    assert not (tmp_path / "transcripts").exists()


def test_a_huge_seed_through_the_api_is_refused_with_a_message():
    with pytest.raises(InterviewError, match="seed"):
        interview_options(seed=99999999999999999999999)


# --- checkpoint storage ------------------------------------------------------------------------


def _checkpoint_rows(settings: Settings) -> dict[str, int]:
    with sqlite3.connect(settings.checkpoints) as conn:
        rows = conn.execute("SELECT thread_id, count(*) FROM checkpoints GROUP BY thread_id")
        return dict(rows.fetchall())


def _stored_bytes(settings: Settings) -> int:
    with sqlite3.connect(settings.checkpoints) as conn:
        (checkpoints,) = conn.execute("SELECT sum(length(checkpoint)) FROM checkpoints").fetchone()
        (writes,) = conn.execute("SELECT coalesce(sum(length(value)), 0) FROM writes").fetchone()
    return checkpoints + writes


def test_every_turn_leaves_one_checkpoint_per_interview_and_it_still_resumes(settings, bank):
    with Interviewer(settings, bank=bank) as iv:
        iid = iv.start(interview_options(questions=3, seed=6, max_followups=1)).interview_id
        for answer in ANSWERS[:3]:
            iv.reply(iid, answer)
            assert _checkpoint_rows(settings) == {iid: 1}
    with Interviewer(settings, bank=bank) as iv:  # a restart resumes from what was kept
        iv.recover(iid)
        iv.reply(iid, ANSWERS[3])
        assert _candidate_texts(iv.store, iid) == ANSWERS[:4]
        assert iv.reply(iid, "end").finished
    assert _checkpoint_rows(settings) == {iid: 1}


def test_checkpoints_hold_at_most_twice_what_the_transcripts_hold(tmp_path, bank):
    from devtools.bench import scripted_interviews, storage_of

    settings = Settings(transcripts_dir=tmp_path / "transcripts")
    with Interviewer(settings, provider=OfflineProvider(), bank=bank) as iv:
        for _ in scripted_interviews(iv, 12, seed=3):
            pass
    storage = storage_of(settings)
    assert len(_checkpoint_rows(settings)) == 13  # the warm-up interview and twelve more
    assert set(_checkpoint_rows(settings).values()) == {1}
    assert _stored_bytes(settings) <= 2 * storage["transcripts_bytes"]
    assert storage["checkpoints_over_transcripts"] <= 2.5  # the file, with SQLite's own slack


def test_gc_prunes_a_database_written_before_pruning_and_says_how_much(
    settings, bank, monkeypatch, capsys
):
    with monkeypatch.context() as m:
        # as older versions did
        m.setattr("agent.storage.backend.LocalStorage.prune", lambda self, thread_id: None)
        with Interviewer(settings, bank=bank) as iv:
            done = iv.start(interview_options(questions=2, seed=1)).interview_id
            for answer in (*ANSWERS[:2], "end"):
                iv.reply(done, answer)
            open_ = iv.start(interview_options(questions=3, seed=2)).interview_id
            iv.reply(open_, ANSWERS[0])
    rows = _checkpoint_rows(settings)
    assert min(rows.values()) > 1
    _use_folder(monkeypatch, settings.transcripts_dir)

    assert cli.main(["gc"]) == 0

    out = capsys.readouterr().out
    assert f"Pruned {sum(rows.values()) - 2} old checkpoint(s) of 2 interview(s)" in out
    assert " MB -> " in out
    assert _checkpoint_rows(settings) == {done: 1, open_: 1}
    with Interviewer(settings, bank=bank) as iv:
        iv.reply(open_, ANSWERS[1])
        assert _candidate_texts(iv.store, open_) == ANSWERS[:2]
        assert iv.store.load(done).status == "finished"


def test_bench_reports_the_checkpoint_storage(bank):
    from devtools import bench

    result = bench.bench_offline(2, 5, bank=bank)
    storage = result["storage"]
    assert storage["transcripts_bytes"] > 0 and storage["checkpoints_bytes"] > 0
    assert storage["checkpoints_over_transcripts"] == round(
        storage["checkpoints_bytes"] / storage["transcripts_bytes"], 2
    )
    table = bench.format_table(
        {
            "seed": 5,
            "percentile_method": "nearest-rank",
            "machine": {"cpus": 1, "load_average_1m_at_start": 0.0},
            "offline": result,
            "verdict": {},
        }
    )
    assert "checkpoints / transcripts" in table and "write-ahead log while open" in table


# --- text for terminals ------------------------------------------------------------------------


def test_printable_shows_control_characters_and_keeps_the_rest():
    from agent.terminal import printable, printable_json

    shown = printable("a\x1b[2Jb\x07\r\x9bc\x7f\td\ne ü 👩🏽‍💻")
    assert shown == "a␛[2Jb␇␍<U+009B>c␡\td\ne ü 👩🏽‍💻"
    dumped = json.dumps({"x": "\x1b\x9b\x7f ü"}, ensure_ascii=False)
    assert json.loads(printable_json(dumped)) == {"x": "\x1b\x9b\x7f ü"}
    _assert_inert(printable_json(dumped))
