"""The grading brains behind one interface; the graph does not know which one it talks to."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from agent.grading import engine
from agent.grading.assessment import Assessment
from agent.grading.model_reply import Speech
from agent.grading.rubrics import Question

if TYPE_CHECKING:
    from agent.config import Settings


class Provider(Protocol):
    """Grades one answer and proposes the follow-up, in one call.

    `streams` says whether `assess` previews the interviewer's next words through `speech` as a
    model writes them; `describe` names the brain for a banner (never a key); `close` releases
    what the provider holds.
    """

    brain: str
    model: str
    streams: bool

    def assess(
        self,
        question: Question,
        answer: str,
        asked_probes: tuple[str, ...] = (),
        speech: Speech | None = None,
    ) -> Assessment: ...

    def describe(self) -> str: ...

    def close(self) -> None: ...


class OfflineProvider:
    """The rubric engine: no key, no network, nothing to stream or to close."""

    brain = "offline"
    model = "rubric-engine"
    streams = False

    def assess(
        self,
        question: Question,
        answer: str,
        asked_probes: tuple[str, ...] = (),
        speech: Speech | None = None,
    ) -> Assessment:
        return engine.assess(question, answer, asked_probes)

    def describe(self) -> str:
        return "rubric engine (no model, no network)"

    def close(self) -> None:
        return None


def close_provider(provider: Provider) -> None:
    """Release what a provider holds (an LLM provider's kept-alive connections)."""
    provider.close()


def make_provider(settings: Settings, profile: str | None = None) -> Provider:
    """The provider for the active profile (or `profile`): the offline engine by default."""
    chosen = settings.profile_named(profile) if profile else settings.active
    if chosen.brain == "offline":
        return OfflineProvider()
    from agent.grading.llm import LLMProvider  # imported here: the SDK is only loaded when used

    return LLMProvider(chosen)


def describe(provider: Provider) -> str:
    """Which brain grades, in words for a banner (no key, ever)."""
    return f"{provider.brain}: {provider.describe()}"
