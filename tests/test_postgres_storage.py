"""Interviews in PostgreSQL: migrations, replicas sharing one database, one writer across
processes, a replica killed mid-turn, and the URL's password kept out of every message.

Every test runs against a real PostgreSQL server (tests/conftest.py's `pg_url`)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import psycopg
import pytest

from agent import cli
from agent.config import Settings
from agent.interview.interviewer import Interviewer, InterviewError, interview_options
from agent.storage.checkpoints import StorageError
from agent.storage.migrations import MIGRATIONS, current_version, migrate
from agent.storage.postgres import PostgresStorage
from agent.storage.transcripts import Scope
from tests.test_faults import ANSWERS

ROOT = Path(__file__).resolve().parent.parent


def _settings(tmp_path: Path, url: str) -> Settings:
    return Settings(transcripts_dir=tmp_path / "transcripts", database_url=url)


def _candidate_texts(iv: Interviewer, interview_id: str) -> list[str]:
    return [t.text for t in iv.store.load(interview_id).turns if t.role == "candidate"]


def _wait_until(predicate, what: str, proc: subprocess.Popen | None = None, timeout=60.0):
    deadline = threading.Event()
    timer = threading.Timer(timeout, deadline.set)
    timer.start()
    try:
        while not predicate():
            if proc is not None and proc.poll() is not None:
                raise AssertionError(f"the child ended ({proc.returncode}) before {what}")
            if deadline.wait(0.02):
                raise AssertionError(f"timed out waiting for {what}")
    finally:
        timer.cancel()


# --- migrations ---------------------------------------------------------------------------


def test_a_first_version_database_is_migrated_to_the_current_one_keeping_its_rows(pg_url):
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert migrate(conn, target=1) == [1]
        conn.execute(
            "INSERT INTO transcripts (id, schema_version, created_at, updated_at, status, data) "
            "VALUES ('old-1', 2, '2026-01-01', '2026-01-01', 'finished', %s)",
            (json.dumps({"id": "old-1", "owner": "Ann@Example.com"}),),
        )

        assert migrate(conn) == list(range(2, len(MIGRATIONS) + 1))

        assert current_version(conn) == len(MIGRATIONS)
        (owner,) = conn.execute("SELECT owner FROM transcripts WHERE id = 'old-1'").fetchone()
        assert owner == "ann@example.com"
        indexes = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes").fetchall()}
        assert "transcripts_owner_created_idx" in indexes
        assert conn.execute("SELECT count(*) FROM regrades").fetchone() == (0,)
        assert migrate(conn) == [], "a second run changes nothing"


def test_replicas_starting_together_apply_each_migration_once(pg_url):
    errors: list[BaseException] = []
    barrier = threading.Barrier(4, timeout=30)

    def start() -> None:
        try:
            barrier.wait()
            PostgresStorage(pg_url).close()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    with psycopg.connect(pg_url) as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM interviewer_migrations")]
    assert sorted(versions) == list(range(1, len(MIGRATIONS) + 1))


# --- interviews ---------------------------------------------------------------------------


def test_an_interview_lives_in_the_database_and_nothing_in_local_files(tmp_path, pg_url, bank):
    settings = _settings(tmp_path, pg_url)
    hostile = "We quantize to int8.\x00 <script>alert(1)</script> \x1b[31m ' OR 1=1; --"
    with Interviewer(settings, bank=bank) as iv:
        iid = iv.start(interview_options(questions=1, seed=4), owner="Ann@Example.com").interview_id
        result = iv.reply(iid, hostile)
        if not result.finished:
            result = iv.reply(iid, "end")
        assert result.save_error is None and result.finished
        saved = iv.store.load(iid)
        listed = iv.store.list()
    assert saved.owner == "ann@example.com" and saved.status == "finished"
    assert _texts(saved)[0] == hostile, "kept exactly as typed"
    assert [item.id for item in listed] == [iid] and listed[0].owner == "ann@example.com"
    assert not list(tmp_path.rglob("*.json")) and not list(tmp_path.rglob("*.sqlite"))


def _texts(transcript) -> list[str]:
    return [t.text for t in transcript.turns if t.role == "candidate"]


def test_any_replica_continues_any_interview(tmp_path, pg_url, bank):
    settings = _settings(tmp_path, pg_url)
    with Interviewer(settings, bank=bank) as a, Interviewer(settings, bank=bank) as b:
        iid = a.start(interview_options(questions=3, seed=9, max_followups=0)).interview_id
        b.reply(iid, ANSWERS[0])
        a.reply(iid, ANSWERS[1])
        b.reply(iid, ANSWERS[2])
        assert a.store.load(iid).status == "finished"
        assert _candidate_texts(a, iid) == ANSWERS[:3] == _candidate_texts(b, iid)


def test_the_cli_lists_shows_regrades_and_collects_on_postgres(
    tmp_path, pg_url, bank, monkeypatch, capsys
):
    settings = _settings(tmp_path, pg_url)
    with Interviewer(settings, bank=bank) as iv:
        iid = iv.start(interview_options(questions=1, seed=2, max_followups=0)).interview_id
        iv.reply(iid, ANSWERS[0])
    monkeypatch.setenv("INTERVIEWER_DATABASE_URL", pg_url)
    monkeypatch.setenv("INTERVIEWER_TRANSCRIPTS_DIR", str(tmp_path / "transcripts"))

    assert cli.main(["list"]) == 0
    assert iid in capsys.readouterr().out
    assert cli.main(["show", iid, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["id"] == iid
    assert cli.main(["regrade", iid]) == 0
    assert f"regrade of {iid} by offline" in capsys.readouterr().out
    assert cli.main(["gc"]) == 0
    assert "interviews take" in capsys.readouterr().out
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM regrades").fetchone() == (1,)
        threads = conn.execute("SELECT count(*) FROM checkpoints WHERE thread_id = %s", (iid,))
        assert threads.fetchone() == (1,)


# --- one writer across processes ----------------------------------------------------------

_HOLD_TURN = """
import sys, time
from agent.storage.postgres import PostgresStorage
from agent.storage.transcripts import Scope
storage = PostgresStorage(sys.argv[1])
with storage.locks.turn(sys.argv[2], wait=5):
    print("holding", flush=True)
    time.sleep(120)
"""


def test_a_turn_held_by_another_process_excludes_until_that_process_dies(pg_url):
    iid = "20990101-000000-aaaaaa"
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_TURN, pg_url, iid],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        storage = PostgresStorage(pg_url)
        try:
            with pytest.raises(Exception, match="busy with another turn"):
                with storage.locks.turn(iid, wait=0.3):
                    pass
            with storage.locks.attempt(iid) as held:
                assert not held
            holder.send_signal(signal.SIGKILL)
            holder.wait(timeout=30)
            with storage.locks.turn(iid, wait=30):  # the dead session's lock is gone
                with storage.locks.attempt("20990101-000000-bbbbbb") as other:
                    assert other, "other interviews were never held up"
        finally:
            storage.close()
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.wait(timeout=30)
        holder.stdout.close()


_SLOW_REPLICA = """
import sys, time
from pathlib import Path
from agent.config import Settings
from agent.grading.providers import OfflineProvider
from agent.interview.interviewer import Interviewer

class Slow(OfflineProvider):
    def assess(self, question, answer, asked_probes=()):
        Path(sys.argv[3]).write_text("grading")
        time.sleep(120)

url, transcripts, marker, iid, answer = sys.argv[1:6]
settings = Settings(transcripts_dir=Path(transcripts), database_url=url)
with Interviewer(settings, provider=Slow()) as iv:
    iv.reply(iid, answer)
"""


def test_a_replica_killed_mid_turn_loses_no_answer_and_another_finishes(tmp_path, pg_url, bank):
    settings = _settings(tmp_path, pg_url)
    with Interviewer(settings, bank=bank) as b:
        iid = b.start(interview_options(questions=3, seed=5, max_followups=0)).interview_id
        b.reply(iid, ANSWERS[0])
    marker = tmp_path / "grading"
    a = subprocess.Popen(
        [sys.executable, "-c", _SLOW_REPLICA, pg_url, str(tmp_path), str(marker), iid, ANSWERS[1]],
        cwd=ROOT,
    )
    try:
        _wait_until(marker.exists, "replica A grading the answer", proc=a)
        os.kill(a.pid, signal.SIGKILL)
        a.wait(timeout=30)
    finally:
        if a.poll() is None:
            a.kill()

    with Interviewer(settings, bank=bank) as b:
        b.reply(iid, ANSWERS[2])  # the cut-short turn is finished first, with its answer
        if b.store.load(iid).status != "finished":
            b.reply(iid, "end")
        transcript = b.store.load(iid)
    assert _texts(transcript)[:3] == ANSWERS[:3]
    assert transcript.status == "finished"


def test_a_terminal_holding_an_interview_open_refuses_another_replica(tmp_path, pg_url, bank):
    settings = _settings(tmp_path, pg_url)
    with Interviewer(settings, bank=bank) as terminal, Interviewer(settings, bank=bank) as app:
        iid = terminal.start(interview_options(questions=2, seed=1)).interview_id
        terminal.hold_open(iid)
        with pytest.raises(InterviewError, match="open in another process"):
            app.reply(iid, ANSWERS[0])
        terminal.reply(iid, ANSWERS[1])
        terminal.locks.release(iid)
        app.reply(iid, ANSWERS[2])
        assert _candidate_texts(app, iid) == [ANSWERS[1], ANSWERS[2]]


# --- secrets and bad configuration --------------------------------------------------------


def test_a_database_that_cannot_be_reached_is_one_sentence_without_the_password(tmp_path):
    url = f"postgresql://ann:hunter2@/nowhere?host={tmp_path}&connect_timeout=1"
    with pytest.raises(StorageError) as raised:
        PostgresStorage(url)
    message = str(raised.value)
    assert "hunter2" not in message and "ann:***@" in message
    assert "\n" not in message and "check that the server runs" in message


def test_the_database_url_is_never_displayed_with_its_password(monkeypatch, capsys):
    monkeypatch.setenv("INTERVIEWER_DATABASE_URL", "postgresql://ann:hunter2@db.example/x")
    from agent.config import load_settings

    settings = load_settings()
    assert "hunter2" not in json.dumps(settings.public())
    assert "hunter2" not in repr(settings) and "hunter2" not in str(settings)
    monkeypatch.setenv("INTERVIEWER_DATABASE_URL", "mysql://db.example/x")
    assert cli.main(["list"]) != 0
    assert "postgresql://" in capsys.readouterr().err


# --- interviewer migrate ------------------------------------------------------------------


def test_migrate_copies_local_interviews_once_and_an_unfinished_one_carries_on(
    tmp_path, pg_url, bank, monkeypatch, capsys
):
    local = Settings(transcripts_dir=tmp_path / "transcripts")
    with Interviewer(local, bank=bank) as iv:
        done = iv.start(interview_options(questions=1, seed=3, max_followups=0)).interview_id
        iv.reply(done, ANSWERS[0])
        going = iv.start(interview_options(questions=3, seed=4, max_followups=0)).interview_id
        iv.reply(going, ANSWERS[1])
    (tmp_path / "transcripts" / "broken.json").write_text("{not json")
    monkeypatch.setenv("INTERVIEWER_TRANSCRIPTS_DIR", str(tmp_path / "transcripts"))
    assert cli.main(["regrade", done]) == 0
    capsys.readouterr()
    monkeypatch.setenv("INTERVIEWER_DATABASE_URL", pg_url)

    assert cli.main(["migrate"]) == 0
    first = capsys.readouterr().out
    assert cli.main(["migrate"]) == 0
    second = capsys.readouterr().out

    assert "Copied 2 interview(s) and 1 regrade(s)" in first
    assert "skipped broken: broken.json: not valid JSON" in first
    assert "Copied 0 interview(s)" in second and second.count("already in the database") == 2
    with Interviewer(_settings(tmp_path, pg_url), bank=bank) as iv:
        assert iv.store.load(done).status == "finished"
        iv.reply(going, ANSWERS[2])  # resumes in the database where it stopped
        assert _candidate_texts(iv, going) == ANSWERS[1:3]
        assert {item.id for item in iv.store.list()} == {done, going}


def test_a_listing_shows_only_its_scope_and_a_lost_transcript_comes_back_to_its_owner(
    tmp_path, pg_url, bank
):
    settings = _settings(tmp_path, pg_url)
    ann, bob = (
        Scope(everyone=False, owners=frozenset({"ann@example.com"})),
        Scope(everyone=False, owners=frozenset({"bob@example.com"})),
    )
    with Interviewer(settings, bank=bank) as iv:
        mine = iv.start(interview_options(questions=2, seed=1), owner="ann@example.com")
        theirs = iv.start(interview_options(questions=2, seed=2), owner="bob@example.com")
        with psycopg.connect(pg_url, autocommit=True) as conn:  # as a kill before the first save
            conn.execute("DELETE FROM transcripts WHERE id = %s", (mine.interview_id,))

        assert [item.id for item in iv.store.list(bob)] == [theirs.interview_id]
        assert [item.id for item in iv.store.list(ann)] == [mine.interview_id]
        assert iv.store.transcripts.known([mine.interview_id]) == {mine.interview_id}
        transcripts, _ = iv.store.read_all(ann)
        assert [t.owner for t in transcripts] == ["ann@example.com"]


def test_doctor_checks_the_database_and_says_why_it_is_not_ready(tmp_path, pg_url, capsys):
    from agent.doctor import run_doctor

    report = run_doctor(_settings(tmp_path, pg_url))
    assert report.ok and report.checks[0].name == "database"
    assert "0 interview(s)" in report.checks[0].detail

    down = run_doctor(_settings(tmp_path, f"postgresql://ann:pw1@/x?host={tmp_path}"))
    assert not down.ok and down.verdict.startswith("Not ready: database: cannot open")
    assert "pw1" not in down.verdict


def test_migrate_can_give_ownerless_interviews_to_a_signed_in_user(
    tmp_path, pg_url, bank, monkeypatch, capsys
):
    local = Settings(transcripts_dir=tmp_path / "transcripts")
    with Interviewer(local, bank=bank) as iv:
        going = iv.start(interview_options(questions=3, seed=4, max_followups=0)).interview_id
        iv.reply(going, ANSWERS[1])
    monkeypatch.setenv("INTERVIEWER_TRANSCRIPTS_DIR", str(tmp_path / "transcripts"))
    monkeypatch.setenv("INTERVIEWER_DATABASE_URL", pg_url)

    assert cli.main(["migrate", "--owner", "Ann@Example.com"]) == 0

    ann = Scope(everyone=False, owners=frozenset({"ann@example.com"}))
    with Interviewer(_settings(tmp_path, pg_url), bank=bank) as iv:
        assert [item.id for item in iv.store.list(ann)] == [going]
        iv.reply(going, ANSWERS[2])  # the state carries the owner: every later save keeps it
        assert iv.state(going)["owner"] == "ann@example.com"
        assert iv.store.load(going).owner == "ann@example.com"
        assert _candidate_texts(iv, going) == ANSWERS[1:3]


def test_the_app_and_the_listing_say_which_database_they_use(tmp_path, pg_url, monkeypatch, capsys):
    monkeypatch.setenv("INTERVIEWER_DATABASE_URL", pg_url)
    assert cli.main(["list"]) == 0
    assert capsys.readouterr().out.strip() == f"No transcripts in {pg_url}"

    monkeypatch.setenv("INTERVIEWER_DATABASE_URL", f"postgresql://ann:pw9@/x?host={tmp_path}")
    assert cli.main(["ui", "--server.port", "1"]) == 1  # it never gets as far as serving
    err = capsys.readouterr().err
    assert "cannot open the interview database" in err and "pw9" not in err


def test_listings_come_from_summaries_and_rows_saved_without_one_are_read_whole(
    tmp_path, pg_url, bank
):
    settings = _settings(tmp_path, pg_url)
    with Interviewer(settings, bank=bank) as iv:
        done = iv.start(interview_options(questions=1, seed=3, max_followups=0), owner="a@b.org")
        iv.reply(done.interview_id, ANSWERS[0])
        with psycopg.connect(pg_url, autocommit=True) as conn:
            # The listing must come from the summary: with the whole transcript made unreadable
            # it still lists the interview as it was.
            conn.execute("UPDATE transcripts SET data = '{}'")
            from_summary = iv.store.list()
            latest = iv.storage.latest(done.interview_id)[done.interview_id]
            iv.store.save(iv.transcript_of(done.interview_id, checkpoint_id=latest))
            conn.execute("UPDATE transcripts SET summary = NULL")  # as saved before migration 4
        read_whole = iv.store.list()
    assert from_summary == read_whole
    (item,) = read_whole
    assert item.status == "finished" and item.owner == "a@b.org" and item.score is not None


def test_interviewers_for_two_models_share_one_storage_and_leave_it_open(tmp_path, pg_url, bank):
    settings = _settings(tmp_path, pg_url)
    storage = PostgresStorage(pg_url)
    try:
        with Interviewer(settings, bank=bank, storage=storage) as a:
            iid = a.start(interview_options(questions=2, seed=1)).interview_id
        with Interviewer(settings, bank=bank, storage=storage) as b:  # another model, say
            b.reply(iid, ANSWERS[0])
            assert b.storage is storage
        assert not storage.pool.closed, "closing an interviewer left the shared storage open"
        assert [item.id for item in storage.transcripts.list()] == [iid]
    finally:
        storage.close()
