"""The grading brains behind one interface; the graph does not know which one it talks to."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from agent import engine
from agent.assessment import Assessment
from agent.rubrics import Question

if TYPE_CHECKING:
    from agent.config import Settings


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


def close_provider(provider: Provider) -> None:
    """Release what a provider holds (an LLM provider's kept-alive connections); the offline
    engine holds nothing."""
    close = getattr(provider, "close", None)
    if close is not None:
        close()


def make_provider(settings: Settings, profile: str | None = None) -> Provider:
    """The provider for the active profile (or `profile`): the offline engine by default."""
    chosen = settings.profile_named(profile) if profile else settings.active
    if chosen.brain == "offline":
        return OfflineProvider()
    from agent.llm import LLMProvider  # imported here: the SDK is only loaded when used

    return LLMProvider(chosen)


def describe(provider: Provider) -> str:
    """Which brain grades, in words for a banner (no key, ever)."""
    text = getattr(provider, "describe", None)
    if callable(text):
        return f"{provider.brain}: {text()}"
    if provider.brain == "offline":
        return "offline: rubric engine (no model, no network)"
    return f"{provider.brain}: {provider.model}"
