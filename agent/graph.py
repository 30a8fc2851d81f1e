"""The interviewer as a LangGraph state machine."""

from __future__ import annotations

import os
import sqlite3
import time
from functools import partial
from pathlib import Path

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.graph import END, START, StateGraph

from agent import nodes
from agent.nodes import Deps, Listeners
from agent.providers import Provider
from agent.rubrics import Bank
from agent.state import InterviewState


def build_graph(provider: Provider, bank: Bank, checkpointer: BaseCheckpointSaver):
    """A fresh compiled graph: plan -> ask -> await -> assess -> probe / hint / next -> report."""
    deps = Deps(provider=provider, bank=bank)
    g = StateGraph(InterviewState, context_schema=Listeners)
    g.add_node("plan_interview", partial(nodes.plan_interview, deps=deps))
    g.add_node("ask_question", partial(nodes.ask_question, deps=deps))
    g.add_node("await_answer", nodes.await_answer)
    g.add_node("assess_answer", partial(nodes.assess_answer, deps=deps))
    g.add_node("probe_gap", partial(nodes.probe_gap, deps=deps))
    g.add_node("give_hint", partial(nodes.give_hint, deps=deps))
    g.add_node("repeat_prompt", nodes.repeat_prompt)
    g.add_node("record_grade", partial(nodes.record_grade, deps=deps))
    g.add_node("finish_interview", partial(nodes.finish_interview, deps=deps))

    g.add_edge(START, "plan_interview")
    g.add_edge("plan_interview", "ask_question")
    g.add_edge("ask_question", "await_answer")
    g.add_conditional_edges("await_answer", nodes.route_after_answer)
    g.add_conditional_edges("assess_answer", nodes.route_after_assess)
    g.add_edge("probe_gap", "await_answer")
    g.add_edge("give_hint", "await_answer")
    g.add_edge("repeat_prompt", "await_answer")
    g.add_conditional_edges("record_grade", nodes.route_after_record)
    g.add_edge("finish_interview", END)
    return g.compile(checkpointer=checkpointer)


def sqlite_checkpointer(path: Path) -> SqliteSaver:
    """A SQLite checkpointer in WAL mode, safe to share between threads and processes.

    Commits are not synced to disk one by one (synchronous=NORMAL): a graph run commits after
    every step, and syncing each would queue up a disk flush per step for the run to wait on
    at its end. They survive the process being killed all the same; to survive a power cut too,
    call `sync_checkpoints` once a run is over, which flushes them all at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
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
