"""What `agent.storage.checkpoints.standing` reads from the installed LangGraph: whether a thread
waits for an answer, for each way a run can stop. A LangGraph upgrade that changes any of these
fails here, not in an interview."""

from __future__ import annotations

import operator
from importlib.metadata import version
from typing import Annotated, TypedDict

import pytest
from langgraph.graph import START, StateGraph
from langgraph.types import Command, interrupt

from agent.storage.checkpoints import open_checkpoints, standing, thread_config

LANGGRAPH = version("langgraph")


class _State(TypedDict, total=False):
    answers: Annotated[list[str], operator.add]
    graded: Annotated[list[str], operator.add]


class _Faults:
    """Where the tiny graph below dies, as a crashed process would."""

    def __init__(self) -> None:
        self.in_wait = False  # after taking the answer, before the node returns
        self.in_grade: BaseException | None = None


def _graph(saver, faults: _Faults):
    """ask -> wait (interrupt) -> grade -> ask ...: the shape of the interview graph."""

    def ask(state: _State) -> dict:
        return {}

    def wait(state: _State) -> dict:
        answer = interrupt({"prompt": f"question {len(state.get('answers', [])) + 1}"})
        if faults.in_wait:
            raise KeyboardInterrupt  # dies as a killed process does: nothing more is written
        return {"answers": [answer]}

    def grade(state: _State) -> dict:
        if faults.in_grade is not None:
            raise faults.in_grade
        return {"graded": [state["answers"][-1]]}

    g = StateGraph(_State)
    g.add_node("ask", ask)
    g.add_node("wait", wait)
    g.add_node("grade", grade)
    g.add_edge(START, "ask")
    g.add_edge("ask", "wait")
    g.add_edge("wait", "grade")
    g.add_edge("grade", "ask")
    return g.compile(checkpointer=saver)


@pytest.fixture
def built(tmp_path):
    saver = open_checkpoints(tmp_path / "checkpoints.sqlite")
    faults = _Faults()
    yield _graph(saver, faults), faults
    saver.conn.close()


def _run(graph, graph_input) -> None:
    graph.invoke(graph_input, thread_config("t"))


def test_a_thread_never_run_has_no_state_and_does_not_wait(built):
    graph, _ = built
    now = standing(graph, "t")
    assert now.values == {} and not now.waiting and now.prompt is None


def test_a_run_stopped_in_interrupt_waits_with_its_prompt(built):
    graph, _ = built
    _run(graph, {})
    now = standing(graph, "t")
    assert now.waiting, f"langgraph {LANGGRAPH}"
    assert now.prompt == "question 1"
    _run(graph, Command(resume="a1"))
    now = standing(graph, "t")
    assert now.waiting and now.prompt == "question 2"
    assert now.values == {"answers": ["a1"], "graded": ["a1"]}


def test_a_node_still_to_run_is_not_a_wait(built):
    graph, faults = built
    _run(graph, {})
    faults.in_grade = KeyboardInterrupt()
    with pytest.raises(KeyboardInterrupt):
        _run(graph, Command(resume="a1"))
    now = standing(graph, "t")
    assert not now.waiting and now.snapshot.next == ("grade",), f"langgraph {LANGGRAPH}"
    assert now.values["answers"] == ["a1"], "the answer taken is in the checkpoint"
    faults.in_grade = None
    _run(graph, None)  # running on finishes the turn
    assert standing(graph, "t").waiting


def test_a_failed_node_is_not_a_wait(built):
    graph, faults = built
    _run(graph, {})
    faults.in_grade = RuntimeError("grader broke")
    with pytest.raises(RuntimeError):
        _run(graph, Command(resume="a1"))
    assert not standing(graph, "t").waiting, f"langgraph {LANGGRAPH}"


def test_an_answer_handed_over_but_not_taken_is_not_a_wait(built):
    graph, faults = built
    _run(graph, {})
    faults.in_wait = True
    with pytest.raises(KeyboardInterrupt):
        _run(graph, Command(resume="a1"))
    faults.in_wait = False
    now = standing(graph, "t")
    # LangGraph's own snapshot still shows the task waiting on its question ...
    assert now.snapshot.interrupts and now.snapshot.next == ("wait",), f"langgraph {LANGGRAPH}"
    # ... but the answer it was handed is pending: that is not a clean wait.
    assert not now.waiting
    _run(graph, None)  # running on takes the answer that was handed over
    assert standing(graph, "t").waiting
    _run(graph, Command(resume="a2"))
    assert standing(graph, "t").values["answers"] == ["a1", "a2"]


def test_resuming_over_an_answer_not_taken_replaces_it(built):
    """Why a pending answer must be run on before the next one is given: LangGraph keeps one
    resume value, and a new one takes its place."""
    graph, faults = built
    _run(graph, {})
    faults.in_wait = True
    with pytest.raises(KeyboardInterrupt):
        _run(graph, Command(resume="a1"))
    faults.in_wait = False
    _run(graph, Command(resume="a2"))
    assert standing(graph, "t").values["answers"] == ["a2"], (
        f"langgraph {LANGGRAPH} no longer drops the first answer: `standing` may be simplified"
    )


def test_a_graph_that_ended_does_not_wait(tmp_path):
    saver = open_checkpoints(tmp_path / "checkpoints.sqlite")
    g = StateGraph(_State)
    g.add_node("only", lambda state: {"answers": ["done"]})
    g.add_edge(START, "only")
    graph = g.compile(checkpointer=saver)
    try:
        _run(graph, {})
        now = standing(graph, "t")
        assert now.values["answers"] == ["done"] and not now.waiting and now.prompt is None
    finally:
        saver.conn.close()
