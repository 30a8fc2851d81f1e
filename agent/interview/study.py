"""What to study after an interview: for the questions scored lowest, what a full answer covers
(the reference answer's own sentences on each point missed) and the wrong claims to avoid."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from agent.grading.engine import assess
from agent.grading.rubrics import MISSED_AT_OR_BELOW, Question
from agent.storage.transcripts import Grade

STUDY_QUESTIONS = 3  # the questions a report asks you to study, lowest score first
CLAIMS_PER_QUESTION = 2


@dataclass(frozen=True)
class StudyPoint:
    """One rubric point an answer missed, and where the reference answer makes it."""

    criterion_id: str
    description: str  # what a full answer does on this point
    missing: tuple[str, ...]  # what the grade said was left out
    read: tuple[str, ...]  # the reference answer's sentences on it
    full_marks: str = ""  # what an answer scoring full marks on it does


@dataclass(frozen=True)
class WrongClaimNote:
    """A wrong claim to avoid: one the answer made (with its words), or a common one."""

    claim: str
    correction: str
    quote: str = ""  # the candidate's sentence, when the answer made it


@dataclass(frozen=True)
class StudyItem:
    """One question to go back to."""

    question_id: str
    question: str
    track: str
    score: float
    points: tuple[StudyPoint, ...]
    claims: tuple[WrongClaimNote, ...] = field(default=())
    in_bank: bool = True  # it can be practised again (a CV deep-dive cannot)


def _reference_sentences(question: Question) -> dict[str, tuple[str, ...]]:
    """Each criterion's sentences in the question's reference answer, as the rubric engine finds
    them there; a sentence goes to the first criterion that finds it."""
    used: set[str] = set()
    found: dict[str, tuple[str, ...]] = {}
    for criterion in assess(question, question.reference_answer).criteria:
        fresh = tuple(q for q in criterion.evidence if q not in used)
        used.update(fresh)
        found[criterion.id] = fresh
    return found


def study_item(grade: Grade, question: Question | None, in_bank: bool) -> StudyItem | None:
    """What to study for one graded question; None when it missed nothing."""
    missed = [c for c in grade.criteria if c.score <= MISSED_AT_OR_BELOW]
    if not missed and not grade.claims:
        return None
    reference = _reference_sentences(question) if question is not None else {}
    points = []
    for c in missed:
        try:
            rubric = question.criterion(c.id) if question is not None else None
        except KeyError:
            rubric = None
        points.append(
            StudyPoint(
                criterion_id=c.id,
                description=rubric.description if rubric else "",
                missing=tuple(c.missing),
                read=reference.get(c.id, ()),
                full_marks=rubric.levels.excellent if rubric else "",
            )
        )
    claims = [WrongClaimNote(w.claim, w.correction, w.quote) for w in grade.claims]
    if not claims and question is not None:
        ids = {c.id for c in missed}
        claims = [
            WrongClaimNote(m.claim, m.correction)
            for m in question.misconceptions
            if m.criterion in ids and m.correction
        ]
    return StudyItem(
        question_id=grade.question_id,
        question=grade.question,
        track=grade.track,
        score=grade.score,
        points=tuple(points),
        claims=tuple(claims[:CLAIMS_PER_QUESTION]),
        in_bank=in_bank,
    )


def study_plan(
    grades: Iterable[Grade],
    question_of: Callable[[str], Question | None],
    in_bank: Callable[[str], bool],
    limit: int = STUDY_QUESTIONS,
) -> list[StudyItem]:
    """The questions to study, lowest score first, with what to read and what not to claim."""
    items = []
    for grade in sorted(grades, key=lambda g: g.score):
        item = study_item(grade, question_of(grade.question_id), in_bank(grade.question_id))
        if item is not None:
            items.append(item)
        if len(items) == limit:
            break
    return items
