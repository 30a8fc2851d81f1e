"""Choosing an interview's questions for a role, company type, tracks and difficulty."""

from __future__ import annotations

import random
from collections.abc import Iterable

from agent.grading.rubrics import DIFFICULTIES, TRACKS, Bank, Question
from agent.interview.job import job_fit

# What each company type leans on, as the study plan describes: startups on LLM APIs and shipping,
# Big Tech on system design and infrastructure, enterprises on business applications.
COMPANY_EMPHASIS: dict[str, tuple[str, ...]] = {
    "startup": ("llms", "prompting-rag", "mlops", "projects", "ml-system-design", "enterprise-ai"),
    "big-tech": ("ml-system-design", "mlops", "llms", "projects", "prompting-rag", "enterprise-ai"),
    "enterprise": (
        "enterprise-ai",
        "prompting-rag",
        "mlops",
        "projects",
        "llms",
        "ml-system-design",
    ),
}
ROLE_EMPHASIS: dict[str, tuple[str, ...]] = {
    "ml-engineer": ("ml-system-design", "mlops"),
    "ai-engineer": ("llms", "prompting-rag"),
}


def _track_order(company_type: str, role: str, tracks: Iterable[str]) -> list[str]:
    """Tracks the candidate chose keep their order; otherwise the company type's emphasis leads,
    nudged towards the role's core tracks."""
    chosen = list(dict.fromkeys(tracks))
    if chosen:
        return chosen
    emphasis = COMPANY_EMPHASIS.get(company_type, TRACKS)
    role_first = ROLE_EMPHASIS.get(role, ())

    def rank(track: str) -> float:
        return emphasis.index(track) - (1.5 if track in role_first else 0)

    return sorted(TRACKS, key=rank)


def _difficulty_fit(question: Question, difficulty: str | None) -> int:
    if difficulty is None:
        return 0
    gap = abs(DIFFICULTIES.index(question.difficulty) - DIFFICULTIES.index(difficulty))
    return {0: 3, 1: 1}.get(gap, -2)


def select_questions(
    bank: Bank,
    *,
    role: str,
    company_type: str,
    tracks: Iterable[str] = (),
    count: int,
    difficulty: str | None = None,
    seed: int = 0,
    exclude: Iterable[str] = (),
    first: Iterable[str] = (),
    job: Iterable[str] = (),
    prefer: Iterable[str] = (),
) -> list[str]:
    """Question ids, no repeats, spread over tracks in the order the company type emphasises.

    `first` ids (e.g. CV deep-dives) lead the plan; `exclude` ids (asked recently) are used only
    when nothing else fits; `prefer` ids (scored low a while ago) come back before the other
    questions of their track, when they are within a level of `difficulty`; questions on the
    `job` description's topics weigh more.
    """
    job_topics = list(job)
    rng = random.Random(seed)
    excluded = set(exclude)
    preferred = set(prefer)
    order = _track_order(company_type, role, tracks)
    plan = [qid for qid in first if qid in bank][:count]

    def score(q: Question) -> float:
        return (
            (2 if company_type in q.company_types else 0)
            + _difficulty_fit(q, difficulty)
            + job_fit(q, job_topics)
            + rng.random() * 1.5
        )

    def rank(q: Question) -> tuple[bool, float]:
        return q.id in preferred and _difficulty_fit(q, difficulty) >= 0, score(q)

    fresh: dict[str, list[Question]] = {}
    stale: dict[str, list[Question]] = {}
    for track in order:
        pool = [
            q
            for q in bank.questions
            if q.track == track and role in q.roles and q.source != "resume" and q.id not in plan
        ]
        fresh[track] = sorted((q for q in pool if q.id not in excluded), key=rank, reverse=True)
        stale[track] = sorted((q for q in pool if q.id in excluded), key=rank, reverse=True)
    for pools in (fresh, stale):
        while len(plan) < count and any(pools.values()):
            for track in order:
                if pools[track] and len(plan) < count:
                    plan.append(pools[track].pop(0).id)
    return plan
