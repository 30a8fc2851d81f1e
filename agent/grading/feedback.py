"""What the interviewer says about one answer: spoken to the candidate, built from what this
answer did and missed, never praising a point the criteria table scores as missed."""

from __future__ import annotations

from agent.grading.assessment import CriterionGrade, Flag
from agent.grading.rubrics import MISSED_AT_OR_BELOW, Misconception, Question

_QUOTE_CHARS = 160
_SCREENED: dict[str, str] = {
    "non-answer": "You didn't give an answer, so this question scores 0.",
    "injection": "Your answer tried to instruct the grader; that text was ignored and earns "
    "nothing.",
    "question-echo": "You restated the question without answering it.",
    "off-topic": "Your answer did not address this question.",
}
UNCERTAIN = (
    "This grade is uncertain (the rubric engine's signals disagree); a regrade with a model "
    "would judge the meaning."
)


def feedback_text(
    question: Question,
    grades: list[CriterionGrade],
    score: float,
    flags: list[Flag],
    claims: list[tuple[Misconception, str]] = (),
) -> str:
    """A short, plain verdict an interviewer would give after the answer."""
    for flag, text in _SCREENED.items():
        if flag in flags:
            return text
    parts = [f"Score {score:.0f}/100."]
    if "keyword-list" in flags:
        parts.append("You listed terms without explaining them; say how and why each applies.")
    for wrong, sentence in claims[:2]:
        parts.append(_challenge(wrong, sentence))
    pairs = list(zip(question.criteria, grades, strict=True))
    covered = [c for c, g in pairs if g.score > MISSED_AT_OR_BELOW]
    if covered and not claims:
        parts.append("You covered " + _names(_hit_concepts(covered, grades, question)) + " well.")
    missed = sorted(
        (cg for cg in pairs if cg[1].score <= MISSED_AT_OR_BELOW),
        key=lambda cg: (cg[1].score, -cg[0].weight),
    )
    if missed:
        criterion, grade = missed[0]
        names = [m for m in grade.missing if not m.startswith("more depth")]
        if names:
            parts.append("To improve, add " + _names(names[:2]) + ".")
        else:
            names = [concept.name for concept in criterion.concepts[:2]]
            parts.append(
                "To improve, explain " + _names(names) + " in more depth: why it "
                "matters, with an example or a number."
            )
    if "uncertain" in flags:
        parts.append(UNCERTAIN)
    return " ".join(parts)


def _challenge(wrong: Misconception, sentence: str) -> str:
    quote = " ".join(sentence.split())
    if len(quote) > _QUOTE_CHARS:
        quote = quote[: _QUOTE_CHARS - 3].rstrip() + "..."
    right = " ".join((wrong.correction or "").split())
    text = f'You said "{quote}", which is a common misconception.'
    return f"{text} {right}" if right else f"{text} It is not true that {_lower(wrong.claim)}"


def _hit_concepts(covered: list, grades: list[CriterionGrade], question: Question) -> list[str]:
    """The concept names the covered criteria were credited for, highest weight first."""
    by_id = {g.id: g for g in grades}
    names: list[str] = []
    for criterion in sorted(covered, key=lambda c: -c.weight):
        missing = set(by_id[criterion.id].missing)
        names += [c.name for c in criterion.concepts if c.name not in missing]
    return names[:3]


def _names(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _lower(text: str) -> str:
    text = " ".join(text.split())
    return text[:1].lower() + text[1:] if text[1:2].islower() else text
