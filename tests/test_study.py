"""Study next: what to read from the reference answer and which wrong claims to avoid."""

from __future__ import annotations

from agent.grading.assessment import WrongClaim
from agent.grading.engine import assess
from agent.grading.rubrics import Bank
from agent.interview.study import study_plan
from agent.storage.transcripts import Grade

QUESTION = "ops-mlflow-tracking-registry"


def graded(bank: Bank, question_id: str, answer: str, **extra) -> Grade:
    question = bank.get(question_id)
    a = assess(question, answer)
    return Grade(
        question_id=question_id,
        question=question.question,
        track=question.track,
        difficulty=question.difficulty,
        score=a.score,
        criteria=a.criteria,
        flags=a.flags,
        feedback="",
        hints=0,
        followups=0,
        answer=answer,
        brain="offline",
        model="rubric-engine",
        **extra,
    )


def test_each_missed_point_reads_the_reference_answers_own_sentences(bank: Bank) -> None:
    grade = graded(bank, QUESTION, "I don't know.")
    [item] = study_plan([grade], bank.get, lambda qid: qid in bank)
    question = bank.get(QUESTION)
    assert [p.criterion_id for p in item.points] == [c.id for c in question.criteria]
    tracking = item.points[0]
    assert tracking.read and all(s in question.reference_answer for s in tracking.read)
    assert tracking.description == question.criterion("tracking-purpose").description
    read = [s for p in item.points for s in p.read]
    assert len(read) == len(set(read)), "a sentence is given to one point"
    assert item.claims and all(not c.quote and c.correction for c in item.claims)
    assert {c.claim for c in item.claims} <= {m.claim for m in question.misconceptions}
    assert item.in_bank


def test_a_claim_the_answer_made_comes_before_common_ones_and_good_answers_need_no_study(
    bank: Bank,
) -> None:
    said = WrongClaim(
        quote="We only log the final accuracy.",
        claim="Logging the final metrics is enough.",
        correction="Log what reproduces the run.",
    )
    weak = graded(bank, QUESTION, "We only log the final accuracy.", claims=[said])
    strong_answer = bank.get("seed-inference-latency").reference_answer
    strong = graded(bank, "seed-inference-latency", strong_answer)
    [item] = study_plan([strong, weak], bank.get, lambda qid: True)
    assert item.question_id == QUESTION
    assert [(c.quote, c.claim) for c in item.claims] == [(said.quote, said.claim)]


def test_the_lowest_scores_come_first_and_a_deep_dive_cannot_be_practised(bank: Bank) -> None:
    grades = [
        graded(bank, "seed-inference-latency", "We batch requests to cut latency."),
        graded(bank, QUESTION, "I don't know."),
    ]
    items = study_plan(grades, bank.get, lambda qid: qid != QUESTION, limit=1)
    assert [(i.question_id, i.in_bank) for i in items] == [(QUESTION, False)]
