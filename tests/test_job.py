"""A job description's topics weight the plan, and the report can say which were covered."""

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
