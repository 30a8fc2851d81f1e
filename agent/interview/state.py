"""The interview's state: JSON-native, so checkpoints and transcripts serialise as they are."""

from __future__ import annotations

import operator
from typing import Annotated, Literal, TypedDict

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


class Pending(TypedDict):
    """The candidate's latest message, waiting to be handled."""

    text: str
    command: str | None
    received_at: float


class InterviewState(TypedDict, total=False):
    interview_id: str
    settings: InterviewOptions
    custom_questions: list[dict]
    plan: list[str]
    index: int
    current: Current
    pending: Pending | None
    assessment: dict | None
    messages: Annotated[list[Message], operator.add]
    grades: Annotated[list[dict], operator.add]
    report: dict | None
    status: Literal["in_progress", "finished"]
