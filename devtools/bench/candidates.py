"""Scripted candidates: interviews driven from fixed seeds, so two runs do the same work."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agent.grading.rubrics import Question

if TYPE_CHECKING:
    from agent.interview.interviewer import Interviewer, TurnResult

DEFAULT_SEED = 20240601
DEFAULT_INTERVIEWS = 50
QUESTIONS_PER_INTERVIEW = 3
MAX_TURNS_PER_INTERVIEW = 40

_WEAK = (
    "I would look at the data first and then decide what to do with the model.",
    "It depends on the use case, but generally you want something that works well.",
)
_NON_ANSWER = ("I don't know.", "pass", "")
_ACTIONS = (
    ("strong", 30),
    ("partial", 25),
    ("weak", 15),
    ("non-answer", 6),
    ("hint", 8),
    ("repeat", 5),
    ("skip", 6),
    ("markdown", 3),
    ("end", 2),
)


def scripted_reply(question: Question, rng: random.Random) -> str:
    """One candidate message for `question`, drawn from a fixed mix of answers and commands."""
    action = rng.choices([a for a, _ in _ACTIONS], weights=[w for _, w in _ACTIONS])[0]
    if action == "strong":
        return question.reference_answer
    if action == "partial":
        sents = [s for s in question.reference_answer.replace("\n", " ").split(". ") if s]
        k = max(1, len(sents) // 3)
        return ". ".join(sents[:k]).strip() + "."
    if action == "weak":
        return rng.choice(_WEAK)
    if action == "non-answer":
        return rng.choice(_NON_ANSWER)
    if action == "markdown":
        return "| option | latency |\n|---|---|\n| batching | lower cost |\n<b>p99</b> matters"
    return action  # a command: hint, repeat, skip, end


@dataclass
class Turn:
    """One scripted reply and its wall time."""

    interview: int  # -1 is the warm-up interview
    text: str
    result: TurnResult
    ms: float


def scripted_interviews(
    iv: Interviewer,
    interviews: int,
    seed: int,
    *,
    questions: int = QUESTIONS_PER_INTERVIEW,
    on_start: Callable[[float], None] = lambda ms: None,
) -> Iterator[Turn]:
    """Run a warm-up and then `interviews` scripted interviews, yielding every reply.

    Replies are listened to as a front end listens (messages and a model's drafts of them), so
    a model streams when its profile says so, as it would for a person."""
    from agent.interview.interviewer import interview_options

    heard: list[object] = []
    listen = {"on_said": heard.append}

    for n in range(-1, interviews):
        rng = random.Random(seed * 1000 + n)
        options = interview_options(
            role=("ml-engineer", "ai-engineer")[n % 2],
            company_type=("startup", "big-tech", "enterprise")[n % 3],
            questions=questions,
            feedback=("end", "each")[n % 2],
            seed=seed + n,
        )
        iid = f"bench-{n + 1:04d}"
        t0 = time.perf_counter()
        result = iv.start(options, interview_id=iid, **listen)
        if n >= 0:
            on_start((time.perf_counter() - t0) * 1000)
        turns = 0
        while not result.finished:
            turns += 1
            if turns < MAX_TURNS_PER_INTERVIEW:
                text = scripted_reply(current_question(iv, iid), rng)
            else:
                text = "end"
            t0 = time.perf_counter()
            result = iv.reply(iid, text, **listen)
            heard.clear()
            ms = (time.perf_counter() - t0) * 1000
            if result.save_error:
                raise RuntimeError(f"bench transcript write failed: {result.save_error}")
            yield Turn(n, text, result, ms)


def current_question(iv: Interviewer, interview_id: str) -> Question:
    """The question the interview is on."""
    state = iv.state(interview_id) or {}
    return iv.bank.get(state["current"]["question_id"])
