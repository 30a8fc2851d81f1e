"""Where a turn's time goes: inside the grading brain, the graph, persistence, the rest."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from agent.grading.assessment import Assessment
from agent.grading.model_reply import Speech
from agent.grading.providers import Provider
from agent.grading.rubrics import Question

if TYPE_CHECKING:
    from devtools.bench.candidates import Turn

PHASES = ("turn", "provider", "graph", "persist", "lookup")


class TimedProvider:
    """Wraps a provider and adds up the time spent inside it, so graph time can exclude it."""

    def __init__(self, inner: Provider) -> None:
        self.inner = inner
        self.brain = inner.brain
        self.model = inner.model
        self.streams = inner.streams
        self.elapsed_ms = 0.0
        self.calls = 0

    def assess(
        self,
        question: Question,
        answer: str,
        asked_probes: tuple[str, ...] = (),
        speech: Speech | None = None,
    ) -> Assessment:
        t0 = time.perf_counter()
        try:
            return self.inner.assess(question, answer, asked_probes, speech)
        finally:
            self.elapsed_ms += (time.perf_counter() - t0) * 1000
            self.calls += 1

    def describe(self) -> str:
        return self.inner.describe()

    def close(self) -> None:
        self.inner.close()

    def take(self) -> tuple[float, int]:
        """Time and calls since the last `take`."""
        elapsed, calls = self.elapsed_ms, self.calls
        self.elapsed_ms, self.calls = 0.0, 0
        return elapsed, calls


def phases_of(turn: Turn, provider_ms: float) -> dict[str, float]:
    """A turn's wall time split: provider = inside the grading brain, graph = the graph run
    without it, persist = syncing checkpoints and writing the transcript, lookup = the rest of
    Interviewer.reply."""
    t = turn.result.timings
    return {
        "turn": turn.ms,
        "provider": provider_ms,
        "graph": t.graph_ms - provider_ms,
        "persist": t.persist_ms,
        "lookup": turn.ms - t.graph_ms - t.persist_ms,
    }
