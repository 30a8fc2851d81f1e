"""The interview's state: JSON-native, so checkpoints and transcripts serialise as they are."""

from __future__ import annotations

import operator
from typing import Annotated, Literal, NotRequired, TypedDict

Feedback = Literal["each", "end"]


class InterviewOptions(TypedDict):
    """What the candidate chose when starting an interview."""

    role: str
    company_type: str
    tracks: list[str]
    questions: int
    difficulty: str | None
    max_followups: int
    feedback: Feedback
    resume: list[str]
    seed: int
    # A job description pasted in: its topics weight the plan and the report covers them.
    # Interviews started before it existed have none.
    job: NotRequired[str | None]
    # From the candidate's earlier interviews (agent.interview.progress.practice_history):
    # questions asked recently, kept out of the plan, and those scored low a while ago, brought
    # back. Interviews started before practice history have neither.
    avoid: NotRequired[list[str]]
    revisit: NotRequired[list[str]]


class Message(TypedDict, total=False):
    """One turn of the conversation."""

    id: str  # "m<n>": its place in the conversation, so the same in a re-run; old ones have none
    role: Literal["interviewer", "candidate"]
    kind: str  # question, probe, hint, repeat, feedback, note, report / answer, command
    text: str
    question_id: str | None
    at: str
    latency_ms: float  # interviewer: time to reply; candidate: time taken to answer


class Current(TypedDict, total=False):
    """The question being asked now."""

    question_id: str
    answers: list[str]
    followups: int
    probed: list[str]
    hints: int
    redirected: bool
    last_prompt: str
    asked_at: float
    # What the next reply answers when it is not the question or a probe: "challenge" (a wrong
    # claim put back to the candidate) or "stretch" (a harder question on a strong answer).
    awaiting: str | None
    challenges: list[dict]  # claim, quote, outcome: pending / corrected / repeated / unanswered
    withdrawn: list[str]  # sentences the candidate corrected when challenged: no longer graded
    stretched: list[dict]  # probe, answer, strong
    stretch_left: int  # stretch probes of this question not yet asked


class Pending(TypedDict):
    """The candidate's latest message, waiting to be handled."""

    text: str
    command: str | None
    received_at: float


class InterviewState(TypedDict, total=False):
    interview_id: str
    owner: str | None  # the signed-in user it belongs to (none in single-user local mode)
    settings: InterviewOptions
    # Questions written for this interview (resume deep-dives, one to practise), offered to
    # the planner ahead of the bank's.
    custom_questions: list[dict]
    plan: list[str]
    # Every planned question as it was when planned (`Question` data), so later edits of the
    # bank or of the deep-dive template never change this interview (agent.interview.questions).
    questions: list[dict]
    index: int
    current: Current
    pending: Pending | None
    assessment: dict | None
    messages: Annotated[list[Message], operator.add]
    grades: Annotated[list[dict], operator.add]
    report: dict | None
    status: Literal["in_progress", "finished"]


def stored_questions(state: InterviewState) -> list[dict]:
    """The questions stored with the interview: every planned one; before planning, or in a
    state saved before all were stored, those written for it."""
    if "questions" in state:
        return state["questions"]
    return state.get("custom_questions") or []
