"""What grading an answer produces, whichever brain graded it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Flag = Literal[
    "non-answer",
    "off-topic",
    "injection",
    "keyword-list",
    "contradiction",
    "misconception",
    "question-echo",
    "uncertain",
    "rambling",
    "skipped",
    "hinted",
    "corrected",
    "offline-fallback",
]


class CriterionGrade(BaseModel):
    """One criterion's score with the candidate's words that earned it."""

    model_config = ConfigDict(extra="forbid")

    id: str
    score: int = Field(ge=0)
    max_score: int = Field(gt=0)
    evidence: list[str] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list)
    level: str = ""


class WrongClaim(BaseModel):
    """A known misconception the answer stated: the candidate's sentence, the claim and what is
    right."""

    model_config = ConfigDict(extra="forbid")

    quote: str
    claim: str
    correction: str = ""
    criterion: str | None = None


class Assessment(BaseModel):
    """A graded answer: per-criterion scores, an overall 0-100, flags and what to ask next."""

    model_config = ConfigDict(extra="forbid")

    question_id: str
    score: float = Field(ge=0, le=100)
    criteria: list[CriterionGrade]
    flags: list[Flag] = Field(default_factory=list)
    feedback: str = ""
    followup_criterion: str | None = None
    followup: str | None = None
    brain: str = "offline"
    model: str = "rubric-engine"
    # Why another brain graded than the one asked (the model failed): for the candidate to see,
    # apart from the feedback on the answer itself.
    note: str = ""
    # Known misconceptions the answer stated, found by the answer screens whichever brain graded.
    claims: list[WrongClaim] = Field(default_factory=list)

    def grade_json(self) -> dict:
        """The shape `interviewer grade` prints."""
        return {
            "question_id": self.question_id,
            "score": round(self.score, 1),
            "criteria": [
                {
                    "id": c.id,
                    "score": c.score,
                    "max_score": c.max_score,
                    "evidence": c.evidence,
                    "missing": c.missing,
                }
                for c in self.criteria
            ],
            "flags": list(self.flags),
            "feedback": self.feedback,
        }
