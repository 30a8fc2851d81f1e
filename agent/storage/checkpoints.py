"""The checkpoint database: where each interview's state lives (LangGraph's SQLite saver).

One thread per interview. Only an interview's latest checkpoint is ever read (to resume, to
repair its transcript, to regrade), so after every turn the older ones are pruned: the database
holds about one state per interview, not one per graph step.

Whether an interview waits for an answer is read here too, through LangGraph's public view of a
checkpoint (`StateSnapshot`), never through its internal write channels.
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.pregel import Pregel
from langgraph.types import StateSnapshot

from agent.interview.state import InterviewState

# SQLite's own write-ahead log is kept to this size once it has been copied into the database.
WAL_LIMIT_BYTES = 4 * 2**20
_STATE_KEYS = frozenset(InterviewState.__annotations__)


class StorageError(Exception):
    """The interview state cannot be read or written; the message says what, where and what to do
    about it, in one sentence."""


def storage_error(path: Path, exc: sqlite3.Error | OSError) -> StorageError:
    """The one sentence for a failed read or write of the checkpoint database at `path`."""
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    lowered = reason.lower()
    if "full" in lowered or "no space" in lowered:
        advice = "free some disk space"
    elif "readonly" in lowered or "read-only" in lowered or "permission" in lowered:
        advice = f"make {path.parent} writable"
    else:
        advice = "check the disk"
    return StorageError(
        f"could not save the interview state in {path} ({reason}): {advice}; "
        "every answer acknowledged before this one is kept"
    )


def open_checkpoints(path: Path) -> SqliteSaver:
    """A SQLite checkpointer in WAL mode, safe to share between threads and processes.

    Commits are not synced to disk one by one (synchronous=NORMAL): a graph run commits after
    every step, and syncing each would queue up a disk flush per step for the run to wait on
    at its end. They survive the process being killed all the same; to survive a power cut too,
    call `sync_checkpoints` once a run is over, which flushes them all at once."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(
            f"cannot create the folder {path.parent} for the interview state "
            f"({exc.strerror or exc}): set checkpoint_db in interviewer.toml or "
            "INTERVIEWER_CHECKPOINT_DB to a file in a writable folder"
        ) from None
    try:
        return _connect(path)
    except sqlite3.Error as exc:
        raise StorageError(
            f"cannot open the interview state database {path} ({exc}): make {path.parent} "
            "writable, or set checkpoint_db in interviewer.toml or INTERVIEWER_CHECKPOINT_DB "
            "to another file"
        ) from None


def _connect(path: Path) -> SqliteSaver:
    conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
    saver = SqliteSaver(conn)
    # Switching a new database to WAL needs an exclusive lock that SQLite does not wait for (the
    # busy timeout does not apply), so two interviewers opening a fresh database at once collide
    # with "database is locked". Retry briefly; set the tables up here too, under the same guard.
    attempts_left = 250
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(f"PRAGMA journal_size_limit={WAL_LIMIT_BYTES}")
            saver.setup()
            return saver
        except sqlite3.OperationalError as exc:
            attempts_left -= 1
            if "locked" not in str(exc) or not attempts_left:
                conn.close()
                raise
            time.sleep(0.02)


def sync_checkpoints(path: Path) -> None:
    """Flush every commit made so far to the checkpoint database at `path` to disk.

    In WAL mode a commit lands in the write-ahead log, which SQLite itself syncs only when it
    copies the log into the database (and then syncs the database too)."""
    try:
        fd = os.open(path.with_name(path.name + "-wal"), os.O_RDONLY)
    except FileNotFoundError:  # no log: every commit is in the database file, already synced
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def thread_config(thread_id: str) -> RunnableConfig:
    """How a graph run or read addresses one interview's checkpoints."""
    # LangGraph saves checkpoints on a thread pool it starts for every run, with as many threads
    # as it finds work for. One is enough and is quickest: nodes run one at a time on the
    # calling thread, each save waits only on those submitted before it, and a second thread
    # would only contend with the first for the database lock.
    return {"configurable": {"thread_id": thread_id}, "max_concurrency": 1}


@dataclass(frozen=True)
class Standing:
    """Where an interview's graph stands as of its latest checkpoint."""

    snapshot: StateSnapshot
    waiting: bool  # it waits for the candidate's answer, and for nothing else (see `standing`)

    @property
    def values(self) -> InterviewState:
        return self.snapshot.values  # type: ignore[return-value]

    @property
    def prompt(self) -> str | None:
        """What the interview asked and waits on an answer to, if it waits."""
        for pending in self.snapshot.interrupts:
            if isinstance(pending.value, dict):
                return pending.value.get("prompt")
        return None


def standing(graph: Pregel, thread_id: str) -> Standing:
    """Where the interview `thread_id` stands: its state, and whether it waits for an answer.

    It waits when every task of the checkpoint's step is paused in `interrupt()` (a task still
    to run, finished or failed has no pending interrupt in LangGraph's live snapshot) and every
    write saved for the step comes from one of those tasks. A write from anyone else is input
    handed to the run that no task has taken yet: an answer, when the process died inside the
    waiting node. Resuming would put the next answer in its place, so such an interview is
    not waiting: running it on first takes the answer it was given."""
    snapshot = graph.get_state(thread_config(thread_id))
    return Standing(snapshot, _waits(graph.checkpointer, snapshot))


def _waits(saver: object, snapshot: StateSnapshot) -> bool:
    if not snapshot.interrupts or not isinstance(saver, BaseCheckpointSaver):
        return False
    paused = {task.id for task in snapshot.tasks if task.interrupts and task.error is None}
    if len(paused) != len(snapshot.tasks):
        return False
    saved = saver.get_tuple(snapshot.config)
    return saved is not None and all(w[0] in paused for w in saved.pending_writes or ())


def latest_checkpoints(saver: SqliteSaver, thread_id: str | None = None) -> dict[str, str]:
    """Each interview's latest checkpoint id (or only `thread_id`'s), without reading any state.

    Checkpoint ids grow with time, which is how the saver itself finds the latest."""
    sql = "SELECT thread_id, max(checkpoint_id) FROM checkpoints WHERE checkpoint_ns = ''"
    args: tuple[str, ...] = ()
    if thread_id is not None:
        sql, args = sql + " AND thread_id = ?", (thread_id,)
    with saver.cursor(transaction=False) as cur:
        rows = cur.execute(sql + " GROUP BY thread_id", args).fetchall()
    return {thread: checkpoint for thread, checkpoint in rows if checkpoint is not None}


def latest_state(saver: SqliteSaver, thread_id: str) -> tuple[InterviewState, str] | None:
    """An interview's state as of its latest checkpoint, and that checkpoint's id."""
    saved = saver.get_tuple({"configurable": {"thread_id": thread_id}})
    if saved is None:
        return None
    values = saved.checkpoint["channel_values"]
    state: InterviewState = {k: v for k, v in values.items() if k in _STATE_KEYS}  # type: ignore[assignment]
    return state, saved.checkpoint["id"]


def prune(saver: SqliteSaver, thread_id: str) -> int:
    """Delete an interview's checkpoints but the latest, and their writes; the number deleted.

    The latest checkpoint and its pending writes are all that resuming, recovering a cut-short
    turn, repairing the transcript and regrading read. Call it only as the interview's writer."""
    with saver.cursor() as cur:
        (latest,) = cur.execute(
            "SELECT max(checkpoint_id) FROM checkpoints WHERE thread_id = ? AND checkpoint_ns = ''",
            (thread_id,),
        ).fetchone()
        if latest is None:
            return 0
        deleted = cur.execute(
            "DELETE FROM checkpoints WHERE thread_id = ? AND checkpoint_ns = '' "
            "AND checkpoint_id < ?",
            (thread_id, latest),
        ).rowcount
        cur.execute(
            "DELETE FROM writes WHERE thread_id = ? AND checkpoint_ns = '' AND checkpoint_id < ?",
            (thread_id, latest),
        )
    return deleted


def compact(saver: SqliteSaver) -> None:
    """Give the space that pruned checkpoints left inside the file back to the disk."""
    with saver.lock:
        saver.conn.commit()
        saver.conn.execute("VACUUM")
        saver.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def storage_bytes(path: Path) -> int:
    """What the checkpoint database at `path` takes on disk: the file, its log and its index."""
    total = 0
    for suffix in ("", "-wal", "-shm"):
        try:
            total += path.with_name(path.name + suffix).stat().st_size
        except FileNotFoundError:
            pass
    return total
