"""The grading brains behind one interface; the graph does not know which one it talks to."""

from __future__ import annotations

from typing import Protocol

from agent import engine
from agent.assessment import Assessment
from agent.rubrics import Question


class Provider(Protocol):
    """Grades one answer and proposes the follow-up, in one call."""

    brain: str
    model: str

    def assess(
        self, question: Question, answer: str, asked_probes: tuple[str, ...] = ()
    ) -> Assessment: ...


class OfflineProvider:
    """The rubric engine: no key, no network."""

    brain = "offline"
    model = "rubric-engine"

    def assess(
        self, question: Question, answer: str, asked_probes: tuple[str, ...] = ()
    ) -> Assessment:
        return engine.assess(question, answer, asked_probes)
