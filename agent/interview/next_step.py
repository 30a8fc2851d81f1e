"""What the interviewer does once an answer is assessed: the one rule, for the graph's router and
for the live preview of a model's reply alike."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from agent.interview.state import Current, InterviewOptions

Step = Literal["challenge", "probe", "stretch", "redirect", "hint", "grade"]
# The part of a model's reply the interviewer says next, and the words put before it.
Spoken = tuple[Literal["followup", "feedback"], str]

INJECTION_NOTICE = "I'll only grade what you say about the question itself. "
FEEDBACK_PREFIX = "Feedback: "


def next_step(
    current: Current,
    settings: InterviewOptions,
    flags: Sequence[str],
    followup_criterion: str | None,
    *,
    challenge_due: bool = False,
    stretch_due: bool = False,
) -> Step:
    """Challenge a wrong claim, probe a gap, raise the bar on a strong answer, steer an
    off-topic answer back once, offer a hint for a non-answer, or grade and move on; the
    follow-up budget bounds all but grading.

    A wrong claim comes first: it costs more than a gap. The bar is raised only when nothing is
    left to probe.
    """
    if current["followups"] >= settings["max_followups"]:
        return "grade"
    if "non-answer" in flags:
        return "hint" if current["hints"] == 0 else "grade"
    if "off-topic" in flags and not current["redirected"]:
        return "redirect"
    if challenge_due:
        return "challenge"
    if followup_criterion:
        return "probe"
    if stretch_due:
        return "stretch"
    return "grade"


def probe_prefix(flags: Sequence[str]) -> str:
    """What a probe opens with: a word on an answer that tried to instruct the grader."""
    return INJECTION_NOTICE if "injection" in flags else ""


def spoken_part(step: Step, flags: Sequence[str], settings: InterviewOptions) -> Spoken | None:
    """Which of a model's texts the interviewer says next after `step`: its follow-up when
    probing, its feedback when grading with feedback after each answer, else none (a challenge
    and a stretch probe are the interviewer's own words)."""
    if step == "probe":
        return "followup", probe_prefix(flags)
    if step == "grade" and settings["feedback"] == "each":
        return "feedback", FEEDBACK_PREFIX
    return None
