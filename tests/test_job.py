"""A job description's topics weight the plan, and the report can say which were covered."""

import pytest

from agent.interview.interviewer import MAX_JOB_CHARS, InterviewError, interview_options
from agent.interview.job import coverage, job_topics, question_topics
from agent.interview.planner import select_questions

JOB = (
    "Senior ML Engineer: build retrieval-augmented generation (RAG) over our documents, serve "
    "models at low latency with TensorRT, and run A/B tests on ranking changes."
)


def test_a_job_description_names_its_topics():
    topics = job_topics(JOB)
    assert {
        "RAG and retrieval",
        "Model serving and latency",
        "Experimentation and evaluation",
    } <= set(topics)
    assert "Security, privacy and compliance" not in topics
    assert job_topics("We sell shoes.") == []


def test_the_plan_leans_to_the_jobs_topics(bank):
    topics = job_topics(JOB)
    base = dict(role="ml-engineer", company_type="enterprise", count=4)
    hits_with = hits_without = 0
    for seed in range(12):
        with_job = select_questions(bank, seed=seed, job=topics, **base)
        without = select_questions(bank, seed=seed, **base)
        hits_with += sum(bool(question_topics(bank.get(q)) & set(topics)) for q in with_job)
        hits_without += sum(bool(question_topics(bank.get(q)) & set(topics)) for q in without)
    assert hits_with > hits_without


def test_coverage_lists_each_topic_with_the_questions_that_covered_it(bank):
    q = bank.get("seed-inference-latency")
    (row,) = coverage(["Model serving and latency"], [q])
    assert row == {"topic": "Model serving and latency", "questions": ["seed-inference-latency"]}
    assert coverage(["Fine-tuning"], [q]) == [{"topic": "Fine-tuning", "questions": []}]


def test_an_interview_for_a_job_plans_its_topics_and_reports_which_were_covered(interviewer):
    options = interview_options(questions=2, max_followups=0, seed=5, job=f"  {JOB}\n")
    assert options["job"] == JOB
    result = interviewer.start(options)
    for _ in range(2):
        result = interviewer.reply(result.interview_id, "I don't know.")
    state = interviewer.state(result.interview_id)
    topics = job_topics(JOB)
    assert state["settings"]["job"] == JOB
    rows = state["report"]["job_topics"]
    assert [row["topic"] for row in rows] == topics
    covered = {qid for row in rows for qid in row["questions"]}
    assert covered, "the plan took up the job's topics"
    stored = interviewer.store.load(result.interview_id)
    assert stored.report["job_topics"] == rows and stored.settings["job"] == JOB


def test_an_interview_without_a_job_and_one_saved_before_jobs_existed_plan_alike(interviewer):
    options = interview_options(questions=2, max_followups=0, seed=5)
    assert options["job"] is None
    older = {k: v for k, v in options.items() if k != "job"}  # a checkpoint from before
    plans = []
    for opts in (options, older):
        result = interviewer.start(opts)  # type: ignore[arg-type]
        plans.append(interviewer.state(result.interview_id)["plan"])
        result = interviewer.reply(result.interview_id, "end")
        assert interviewer.state(result.interview_id)["report"]["job_topics"] == []
    assert plans[0] == plans[1]


def test_a_job_description_too_long_to_be_one_is_refused():
    with pytest.raises(InterviewError, match="at most 20,000"):
        interview_options(job="x" * (MAX_JOB_CHARS + 1))
