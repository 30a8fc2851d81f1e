"""The interviewer as a LangGraph state machine."""

from __future__ import annotations

from functools import partial

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph

from agent.grading.providers import Provider
from agent.grading.rubrics import Bank
from agent.interview import nodes
from agent.interview.nodes import Deps, Listeners
from agent.interview.state import InterviewState


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
