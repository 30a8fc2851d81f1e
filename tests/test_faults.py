"""Faults: a killed process, interviews at once, broken files, a full or missing disk."""

from __future__ import annotations

import errno
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from agent import cli
from agent.config import Settings
from agent.interview.interviewer import Interviewer, interview_options
from agent.storage.transcripts import Transcript, TranscriptStore

ROOT = Path(__file__).resolve().parent.parent

ANSWERS = [
    f"Answer {n}: I would measure p95 latency against a baseline because the mean hides the "
    f"slow tail, then batch requests to raise throughput (marker {n})."
    for n in range(1, 9)
]


def _env(transcripts: Path) -> dict[str, str]:
    env = {**os.environ, "INTERVIEWER_TRANSCRIPTS_DIR": str(transcripts)}
    for name in ("INTERVIEWER_CONFIG", "INTERVIEWER_PROFILE", "INTERVIEWER_CHECKPOINT_DB"):
        env.pop(name, None)
    return env


def _spawn(transcripts: Path, log: Path, *args: str) -> subprocess.Popen:
    """`python -m agent run ...` with answers fed through a pipe and output to a file."""
    with log.open("a") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "agent", "run", *args],
            stdin=subprocess.PIPE,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=ROOT,
            env=_env(transcripts),
        )


def _wait_for(predicate, what: str, timeout: float = 60.0, proc: subprocess.Popen | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"process exited ({proc.returncode}) while waiting for {what}")
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def _candidate_turns(transcript: Transcript) -> list[str]:
    return [t.text for t in transcript.turns if t.role == "candidate"]


def _candidate_texts(store: TranscriptStore, interview_id: str) -> list[str]:
    return _candidate_turns(store.load(interview_id))


def _only_transcript(transcripts: Path) -> str | None:
    found = sorted(transcripts.glob("*.json")) if transcripts.is_dir() else []
    return found[0].stem if len(found) == 1 else None


def _send(proc: subprocess.Popen, text: str) -> None:
    assert proc.stdin is not None
    proc.stdin.write(text + "\n")
    proc.stdin.flush()


def _kill(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    if proc.stdin:
        try:
            proc.stdin.close()
        except BrokenPipeError:
            pass


def _finish(transcripts: Path, log: Path, interview_id: str, answers: list[str]) -> str:
    """Resume, give `answers`, let input run out (which ends the interview); return the output."""
    proc = _spawn(transcripts, log, "--continue", interview_id)
    proc.communicate("".join(a + "\n" for a in answers), timeout=120)
    output = log.read_text()
    assert proc.returncode == 0, output
    return output


# --- SIGKILL mid-interview ---------------------------------------------------------------------


def test_sigkill_after_acknowledged_answers_loses_none_and_resume_finishes(tmp_path):
    transcripts, log = tmp_path / "transcripts", tmp_path / "out.log"
    store = TranscriptStore(transcripts)
    proc = _spawn(transcripts, log, "--questions", "5", "--seed", "11")
    iid = _wait_for(lambda: _only_transcript(transcripts), "the first transcript", proc=proc)
    for n, answer in enumerate(ANSWERS[:3], 1):
        _send(proc, answer)
        _wait_for(
            lambda n=n: len(_candidate_texts(store, iid)) == n, f"answer {n} on disk", proc=proc
        )
    _kill(proc)
    assert _candidate_texts(store, iid) == ANSWERS[:3]

    output = _finish(transcripts, log, iid, ANSWERS[3:5])

    assert f"Continuing interview {iid}." in output
    assert "Interviewer: None" not in output
    transcript = store.load(iid)
    assert transcript.status == "finished" and transcript.report is not None
    assert _candidate_texts(store, iid) == [*ANSWERS[:5], "end"]


def test_sigkill_at_any_point_of_a_turn_keeps_every_answer_taken(tmp_path, bank):
    """Kill while a turn is being handled, at several points; each restart picks up cleanly and
    every answer that reached the transcript or the checkpoint is in the final transcript."""
    transcripts, log = tmp_path / "transcripts", tmp_path / "out.log"
    store = TranscriptStore(transcripts)
    proc = _spawn(transcripts, log, "--questions", "10", "--seed", "5", "--followups", "1")
    iid = _wait_for(lambda: _only_transcript(transcripts), "the first transcript", proc=proc)
    on_disk: list[str] = []
    taken: list[str] = []
    sent: list[str] = []
    delays = (0.0, 0.004, 0.008, 0.012, 0.02, 0.04)
    for resumes, (answer, delay) in enumerate(zip(ANSWERS, delays, strict=False)):
        if resumes:
            proc = _spawn(transcripts, log, "--continue", iid)
            _wait_for(
                lambda n=resumes: log.read_text().count(f"Continuing interview {iid}.") == n,
                "the resumed process",
                proc=proc,
            )
        _send(proc, answer)
        sent.append(answer)
        time.sleep(delay)
        _kill(proc)
        texts = _candidate_texts(store, iid)
        # What was on disk before is still there, in order; nothing is doubled or invented. An
        # answer the process took but had not yet written shows up at the next restart.
        assert texts[: len(on_disk)] == on_disk
        assert _in_order(texts, sent)
        on_disk = texts
        with Interviewer(Settings(transcripts_dir=transcripts), bank=bank) as iv:
            state = iv.state(iid) or {}
        checkpointed = [m["text"] for m in state["messages"] if m["role"] == "candidate"]
        assert checkpointed[: len(taken)] == taken
        taken = checkpointed

    _finish(transcripts, log, iid, [ANSWERS[7]])

    texts = _candidate_texts(store, iid)
    output = log.read_text()
    assert texts[: len(taken)] == taken, output
    assert texts[: len(on_disk)] == on_disk, output
    assert texts[-2:] == [ANSWERS[7], "end"] or texts[-1] == ANSWERS[7], output
    assert _in_order([t for t in texts if t != "end"], [*sent, ANSWERS[7]])
    assert store.load(iid).status == "finished"
    assert "Interviewer: None" not in output


def _in_order(texts: list[str], sent: list[str]) -> bool:
    """Every text is one of `sent`, each at most once, in the order they were sent."""
    positions = [sent.index(t) for t in texts if t in sent]
    return len(positions) == len(texts) and positions == sorted(set(positions))


def test_answer_taken_but_not_graded_before_a_crash_is_graded_after_restart(
    any_settings, bank, crashing_provider
):
    with Interviewer(any_settings, bank=bank) as iv:
        iid = iv.start(interview_options(questions=3, seed=2)).interview_id
        iv.reply(iid, ANSWERS[0])
    with Interviewer(any_settings, provider=crashing_provider, bank=bank) as iv:
        with pytest.raises(KeyboardInterrupt):
            iv.reply(iid, ANSWERS[1])

    with Interviewer(any_settings, bank=bank) as iv:
        recovered = iv.recover(iid)
        assert recovered.messages, "the cut-short turn is finished on recovery"
        assert iv.waiting_prompt(iid) == recovered.messages[-1]["text"]
        assert _candidate_texts(iv.store, iid) == ANSWERS[:2]
        iv.reply(iid, ANSWERS[2])
        assert _candidate_texts(iv.store, iid) == ANSWERS[:3]
        state = iv.state(iid)
    assert ANSWERS[1] in json.dumps(state["grades"] or state["current"])


def test_answer_handed_over_but_not_yet_taken_before_a_crash_is_kept(
    any_settings, bank, monkeypatch
):
    """Dying inside the waiting node leaves the answer as a pending resume value: the next
    answer must not be swallowed in its place."""

    def die(text):
        raise KeyboardInterrupt

    with Interviewer(any_settings, bank=bank) as iv:
        iid = iv.start(interview_options(questions=3, seed=2)).interview_id
        iv.reply(iid, ANSWERS[0])
        with monkeypatch.context() as m:
            m.setattr("agent.interview.nodes.command_of", die)
            with pytest.raises(KeyboardInterrupt):
                iv.reply(iid, ANSWERS[1])

    with Interviewer(any_settings, bank=bank) as iv:
        iv.reply(iid, ANSWERS[2])
        iv.reply(iid, ANSWERS[3])
        assert _candidate_texts(iv.store, iid) == ANSWERS[:4]


def test_reply_after_a_cut_short_turn_is_not_swallowed(any_settings, bank, crashing_provider):
    with Interviewer(any_settings, bank=bank) as iv:
        iid = iv.start(interview_options(questions=3, seed=2)).interview_id
    with Interviewer(any_settings, provider=crashing_provider, bank=bank) as iv:
        with pytest.raises(KeyboardInterrupt):
            iv.reply(iid, ANSWERS[0])
    with Interviewer(any_settings, bank=bank) as iv:
        result = iv.reply(iid, ANSWERS[1])  # without an explicit recover()
        assert result.messages
        assert _candidate_texts(iv.store, iid) == ANSWERS[:2]


# --- interviews at once ------------------------------------------------------------------------


def _interview(iv: Interviewer, tag: str, barrier: threading.Barrier, out: dict) -> None:
    barrier.wait()
    iid = iv.start(interview_options(questions=2, seed=len(tag), max_followups=1)).interview_id
    for n in range(6):
        result = iv.reply(iid, f"{tag} answer {n}: we batch requests because it raises throughput.")
        assert result.save_error is None
        if result.finished:
            break
    else:
        iv.reply(iid, "end")
    out[tag] = iid


def _assert_separate_and_complete(store: TranscriptStore, ids: dict[str, str]) -> None:
    assert len(set(ids.values())) == len(ids)
    for tag, iid in ids.items():
        transcript = store.load(iid)
        assert transcript.status == "finished" and transcript.report is not None
        texts = _candidate_turns(transcript)
        assert texts and all(t.startswith(f"{tag} answer") or t == "end" for t in texts)
        assert [t.text for t in transcript.turns].count(texts[0]) == 1


def _run_threads(target_for, tags) -> dict[str, str]:
    barrier, out, errors = threading.Barrier(len(tags), timeout=60), {}, []

    def run(tag):
        try:
            target_for(tag, barrier, out)
        except BaseException as exc:  # surfaced below: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(tag,)) for tag in tags]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    if errors:
        raise errors[0]
    stuck = [t.name for t in threads if t.is_alive()]
    assert not stuck, f"threads still running after 120 s: {stuck}"
    assert set(out) == set(tags)  # every interview got as far as its transcript id
    return out


def test_two_interviews_on_one_shared_interviewer_in_threads(any_settings, bank):
    with Interviewer(any_settings, bank=bank) as iv:
        ids = _run_threads(lambda tag, b, out: _interview(iv, tag, b, out), ["alpha", "bravo"])
    with Interviewer(any_settings, bank=bank) as iv:
        _assert_separate_and_complete(iv.store, ids)


def test_two_interviewers_on_one_database_in_threads(any_settings, bank):
    def target(tag, barrier, out):
        with Interviewer(any_settings, bank=bank) as iv:
            _interview(iv, tag, barrier, out)

    ids = _run_threads(target, ["charlie", "delta"])
    with Interviewer(any_settings, bank=bank) as iv:
        _assert_separate_and_complete(iv.store, ids)


def test_opening_a_new_checkpoint_database_while_another_writer_holds_it(tmp_path, bank):
    """Switching a fresh database to WAL is not covered by SQLite's busy timeout: it must wait
    for the other writer, not fail with "database is locked"."""
    path = tmp_path / "state.sqlite"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("CREATE TABLE other (x)")
    holder.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.3, holder.execute, args=("COMMIT",))
    release.start()
    try:
        settings = Settings(transcripts_dir=tmp_path / "transcripts", checkpoint_db=path)
        with Interviewer(settings, bank=bank) as iv:
            iid = iv.start(interview_options(questions=1, seed=1)).interview_id
            assert iv.exists(iid)
    finally:
        release.join()
        holder.close()


def test_two_interview_processes_at_once(tmp_path):
    transcripts = tmp_path / "transcripts"
    procs = {}
    for tag in ("echo", "foxtrot"):
        answers = "".join(f"{tag} answer {n}: batching raises throughput.\n" for n in range(8))
        proc = _spawn(transcripts, tmp_path / f"{tag}.log", "--questions", "2", "--followups", "1")
        procs[tag] = (proc, answers)
    for proc, answers in procs.values():
        assert proc.stdin is not None
        proc.stdin.write(answers)
        proc.stdin.close()
    ids = {}
    for tag, (proc, _) in procs.items():
        proc.wait(timeout=120)
        output = (tmp_path / f"{tag}.log").read_text()
        assert proc.returncode == 0, output
        ids[tag] = Path(output.strip().splitlines()[-1].removeprefix("Transcript: ")).stem
    _assert_separate_and_complete(TranscriptStore(transcripts), ids)


# --- broken files in the transcripts folder ----------------------------------------------------


def _valid_transcript(settings: Settings, bank) -> tuple[str, str]:
    with Interviewer(settings, bank=bank) as iv:
        iid = iv.start(interview_options(questions=1, seed=3)).interview_id
        iv.reply(iid, ANSWERS[0])
        iv.reply(iid, "end")
    return iid, (settings.transcripts_dir / f"{iid}.json").read_text()


def _broken_files(valid: str) -> dict[str, bytes | None]:
    data = json.loads(valid)
    return {
        "corrupt": b"{this is not json",
        "truncated": valid.encode()[: len(valid) // 2],
        "empty": b"",
        "foreign-object": json.dumps({"name": "not an interview", "version": 3}).encode(),
        "foreign-list": b"[1, 2, 3]",
        "foreign-string": b'"hello"',
        "future-schema": json.dumps({**data, "schema_version": 99}).encode(),
        "bad-report": json.dumps({**data, "id": "bad-report", "report": {"x": 1}}).encode(),
        "bad-score": json.dumps({**data, "report": {**data["report"], "overall": "high"}}).encode(),
        "deeply-nested": b"[" * 100_000 + b"]" * 100_000,
        "not-utf8": b"\xff\xfe\x00\x00garbage",
        "a-directory": None,
    }


def test_unreadable_files_are_listed_and_the_others_still_load(settings, bank, capsys, monkeypatch):
    iid, valid = _valid_transcript(settings, bank)
    folder = settings.transcripts_dir
    broken = _broken_files(valid)
    for name, content in broken.items():
        if content is None:
            (folder / f"{name}.json").mkdir()
        else:
            (folder / f"{name}.json").write_bytes(content)

    odd = {**json.loads(valid), "id": "odd-settings", "settings": {"tracks": 5}, "grades": []}
    (folder / "odd-settings.json").write_text(json.dumps(odd))

    listing = TranscriptStore(folder).list()

    by_id = {item.id: item for item in listing}
    assert by_id[iid].ok and by_id[iid].status == "finished"
    assert TranscriptStore(folder).load(iid).id == iid
    assert by_id["odd-settings"].ok and by_id["odd-settings"].tracks == ()
    for name in broken:
        assert not by_id[name].ok, name
        assert by_id[name].error.startswith(f"{name}.json"), by_id[name].error
    assert [item.ok for item in listing] == sorted((item.ok for item in listing), reverse=True)

    monkeypatch.setenv("INTERVIEWER_TRANSCRIPTS_DIR", str(folder))
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert iid in out
    for name in broken:
        assert f"unreadable: {name}.json" in out, name
    readable = [line for line in out.splitlines() if line.startswith((iid, "odd-settings"))]
    assert len(readable) == 2 and not any("unreadable" in line for line in readable), readable
    assert cli.main(["show", "odd-settings"]) == 0
    capsys.readouterr()
    for name in broken:
        assert cli.main(["show", name]) == 2
        err = capsys.readouterr().err
        assert err.startswith("interviewer: error:") and err.count("\n") == 1, err


# --- a full disk or a missing folder -----------------------------------------------------------


def _fail_with(code: int):
    def fail(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    return fail


@pytest.mark.parametrize("where", ["fsync", "replace", "write"])
def test_disk_full_keeps_the_saved_transcript_and_the_checkpointed_state(
    settings, bank, monkeypatch, where
):
    folder = settings.transcripts_dir
    with Interviewer(settings, bank=bank) as iv:
        iid = iv.start(interview_options(questions=3, seed=4)).interview_id
        assert iv.reply(iid, ANSWERS[0]).save_error is None
        before = (folder / f"{iid}.json").read_bytes()

        with monkeypatch.context() as m:
            if where == "write":
                m.setattr("agent.storage.transcripts.tempfile.mkstemp", _fail_with(errno.ENOSPC))
            else:
                m.setattr(f"agent.storage.transcripts.os.{where}", _fail_with(errno.ENOSPC))
            failed = iv.reply(iid, ANSWERS[1])

        assert failed.save_error is not None
        assert "No space left on device" in failed.save_error and iid in failed.save_error
        assert failed.transcript_path is None
        assert failed.messages, "the interview itself goes on"
        assert (folder / f"{iid}.json").read_bytes() == before
        assert [p.name for p in folder.iterdir() if p.suffix == ".tmp"] == []
        state = iv.state(iid)
        assert ANSWERS[1] in [m["text"] for m in state["messages"]]

        after = iv.reply(iid, ANSWERS[2])
        assert after.save_error is None
    assert _candidate_texts(TranscriptStore(folder), iid) == ANSWERS[:3]


def test_every_turn_flushes_the_checkpoint_log_to_disk(settings, bank, monkeypatch):
    """Commits are not synced one by one (synchronous=NORMAL), so each run syncs them at its end."""
    synced: list[str] = []
    wal_sizes: list[int] = []
    real_fsync = os.fsync
    wal = str(settings.checkpoints) + "-wal"

    def fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        if synced[-1] == wal:
            wal_sizes.append(os.fstat(fd).st_size)
        real_fsync(fd)

    with Interviewer(settings, bank=bank) as iv:
        assert iv.checkpointer.conn.execute("PRAGMA synchronous").fetchone() == (1,)  # NORMAL
        iid = iv.start(interview_options(questions=2, seed=4)).interview_id
        monkeypatch.setattr("agent.storage.checkpoints.os.fsync", fsync)
        for answer in ANSWERS[:2]:
            iv.reply(iid, answer)
            assert wal_sizes[-1] == os.path.getsize(wal), "synced after the turn's last commit"
    assert synced.count(wal) == 2, "once per turn"
    assert any(f".{iid}." in p and p.endswith(".tmp") for p in synced), "and the transcript"


def test_a_failed_flush_of_the_checkpoint_log_is_reported_and_the_interview_goes_on(
    settings, bank, monkeypatch
):
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        if os.readlink(f"/proc/self/fd/{fd}").endswith("-wal"):
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        real_fsync(fd)

    with Interviewer(settings, bank=bank) as iv:
        iid = iv.start(interview_options(questions=3, seed=4)).interview_id
        with monkeypatch.context() as m:
            m.setattr("agent.storage.checkpoints.os.fsync", fsync)
            failed = iv.reply(iid, ANSWERS[0])
        assert failed.save_error == (
            "could not flush the interview state to disk: Input/output error"
        )
        assert failed.messages and failed.transcript_path is not None
        assert iv.reply(iid, ANSWERS[1]).save_error is None
    assert _candidate_texts(TranscriptStore(settings.transcripts_dir), iid) == ANSWERS[:2]


def test_transcripts_folder_replaced_by_a_file_gives_a_clear_error(tmp_path, bank):
    folder = tmp_path / "transcripts"
    settings = Settings(transcripts_dir=folder, checkpoint_db=tmp_path / "state.sqlite")
    with Interviewer(settings, bank=bank) as iv:
        iid = iv.start(interview_options(questions=2, seed=4)).interview_id
        saved = (folder / f"{iid}.json").read_bytes()
        (folder / f"{iid}.json").rename(tmp_path / "kept.json")
        folder.rmdir()
        folder.write_text("not a folder")

        failed = iv.reply(iid, ANSWERS[0])

        assert failed.save_error and "could not save transcript" in failed.save_error
        assert str(folder) in failed.save_error
        assert (tmp_path / "kept.json").read_bytes() == saved
        assert ANSWERS[0] in [m["text"] for m in iv.state(iid)["messages"]]

        folder.unlink()
        assert iv.reply(iid, ANSWERS[1]).save_error is None
    assert _candidate_texts(TranscriptStore(folder), iid) == ANSWERS[:2]


def test_cli_warns_when_a_save_fails_and_still_finishes(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "transcripts"
    monkeypatch.setenv("INTERVIEWER_TRANSCRIPTS_DIR", str(folder))
    monkeypatch.delenv("INTERVIEWER_CONFIG", raising=False)
    real_replace = os.replace
    calls = {"n": 0}

    def flaky_replace(src, dst):
        calls["n"] += 1
        if calls["n"] == 2:  # the first answer's save
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_replace(src, dst)

    monkeypatch.setattr("agent.storage.transcripts.os.replace", flaky_replace)
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{ANSWERS[0]}\n{ANSWERS[1]}\n"))

    assert cli.main(["run", "--questions", "2", "--seed", "1", "--followups", "0"]) == 0

    out = capsys.readouterr().out
    assert "Warning: could not save transcript" in out and "No space left on device" in out
    iid = Path(out.strip().splitlines()[-1].removeprefix("Transcript: ")).stem
    transcript = TranscriptStore(folder).load(iid)
    assert transcript.status == "finished"
    assert _candidate_turns(transcript)[:2] == ANSWERS[:2]
    assert Transcript.model_validate_json((folder / f"{iid}.json").read_text()) == transcript
