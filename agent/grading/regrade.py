"""`interviewer regrade ID --profile NAME`: grade a stored interview's answers again, with
another brain, all questions at once, and compare.

The result is stored in `transcripts/regrades/ID.regrade-PROFILE.json` (schema-versioned),
beside the transcripts but out of the way of `interviewer list`, which reads every
`transcripts/*.json` as an interview.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from agent.config import Settings
from agent.grading.assessment import CriterionGrade, Flag
from agent.grading.providers import Provider, close_provider, make_provider
from agent.grading.rubrics import Bank, load_bank
from agent.interview.questions import InterviewQuestions, StoredQuestionError
from agent.storage.records import open_records
from agent.storage.transcripts import Grade, TranscriptError, check_id

REGRADE_SCHEMA_VERSION = 1
MAX_WORKERS = 8


class RegradedQuestion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question_id: str
    original_score: float
    score: float | None
    delta: float | None
    criteria: list[CriterionGrade] = []
    flags: list[Flag] = []
    feedback: str = ""
    note: str = ""  # why the offline engine graded it instead of the model, if it did
    brain: str = ""
    model: str = ""
    error: str | None = None


class Regrade(BaseModel):
    """A stored regrade: every question's new grade beside the original score."""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = REGRADE_SCHEMA_VERSION
    kind: Literal["regrade"] = "regrade"
    interview_id: str
    profile: str
    brain: str
    model: str
    created_at: str
    original_brain: str
    original_model: str
    original_overall: float | None
    overall: float | None
    elapsed_s: float
    questions: list[RegradedQuestion]


def _regrade_one(
    provider: Provider, questions: InterviewQuestions, grade: Grade
) -> RegradedQuestion:
    try:
        question = questions.get(grade.question_id)
        error = None if question else "its rubric is no longer in the question bank"
    except StoredQuestionError as exc:
        question, error = None, str(exc)
    if question is None:
        return RegradedQuestion(
            question_id=grade.question_id,
            original_score=grade.score,
            score=None,
            delta=None,
            error=error,
        )
    new = provider.assess(question, grade.answer, ())
    return RegradedQuestion(
        question_id=grade.question_id,
        original_score=grade.score,
        score=new.score,
        delta=round(new.score - grade.score, 1),
        criteria=new.criteria,
        flags=new.flags,
        feedback=new.feedback,
        note=new.note,
        brain=new.brain,
        model=new.model,
    )


def _mean(scores: list[float]) -> float | None:
    return round(sum(scores) / len(scores), 1) if scores else None


def regrade(
    settings: Settings,
    interview_id: str,
    profile: str | None = None,
    *,
    provider: Provider | None = None,
    bank: Bank | None = None,
    workers: int = MAX_WORKERS,
) -> Regrade:
    """Grade every answer of a stored interview again, concurrently, with `profile`'s brain."""
    with open_records(settings) as records:  # a transcript behind its checkpoint is repaired
        transcript = records.load(interview_id)
    name = profile or settings.profile
    # The interview's own copies of its questions: a bank edited since changes nothing here.
    questions = InterviewQuestions.of_transcript(
        transcript, bank or load_bank(settings.rubrics_dir)
    )
    grades = transcript.grades
    if not grades:
        raise TranscriptError(f"interview {interview_id} has no graded answers to regrade")
    owned = provider is None
    provider = provider or make_provider(settings, name)
    t0 = time.perf_counter()
    try:
        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(grades)))) as pool:
            results = list(pool.map(lambda g: _regrade_one(provider, questions, g), grades))
    finally:
        if owned:
            close_provider(provider)
    done = [r for r in results if r.score is not None]
    return Regrade(
        interview_id=transcript.id,
        profile=name,
        brain=provider.brain,
        model=provider.model,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        original_brain=transcript.brain,
        original_model=transcript.model,
        original_overall=_mean([r.original_score for r in done]),
        overall=_mean([r.score for r in done if r.score is not None]),
        elapsed_s=round(time.perf_counter() - t0, 3),
        questions=results,
    )


def regrade_path(settings: Settings, interview_id: str, profile: str) -> Path:
    """Where local storage keeps a regrade."""
    name = f"{check_id(interview_id)}.regrade-{profile}.json"
    return settings.transcripts_dir / "regrades" / name


def save_regrade(settings: Settings, result: Regrade) -> str:
    """Keep the regrade with the interview: a file written atomically (temp file, then rename),
    or a row in the database; where it went."""
    with open_records(settings) as records:
        return records.storage.save_regrade(
            result.interview_id, result.profile, result.model_dump_json(indent=2)
        )


def format_regrade(result: Regrade) -> str:
    """Per-question scores before and after, and the overall change."""
    lines = [
        f"Regrade of {result.interview_id}: {result.original_brain} ({result.original_model})"
        f" -> {result.brain} ({result.model}), profile {result.profile}",
        f"{'question':<36}{'before':>8}{'after':>8}{'diff':>8}  notes",
    ]
    for q in result.questions:
        after = "-" if q.score is None else f"{q.score:.1f}"
        diff = "-" if q.delta is None else f"{q.delta:+.1f}"
        notes = q.error or ", ".join(q.flags)
        lines.append(f"{q.question_id:<36}{q.original_score:>8.1f}{after:>8}{diff:>8}  {notes}")
    if result.overall is not None and result.original_overall is not None:
        delta = result.overall - result.original_overall
        lines.append(
            f"{'overall':<36}{result.original_overall:>8.1f}{result.overall:>8.1f}{delta:>+8.1f}"
        )
    lines += [f"{q.question_id}: {q.note}" for q in result.questions if q.note]
    lines.append(f"({len(result.questions)} question(s) in {result.elapsed_s:.1f} s)")
    return "\n".join(lines)
