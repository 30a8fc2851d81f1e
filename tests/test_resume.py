from agent.grading.engine import assess
from agent.interview.cv import clean_bullets, deep_dives, quantified
from agent.interview.interviewer import Interviewer, interview_options

LATENCY = (
    "Optimized model inference latency from 200ms -> 50ms using batch processing & quantization"
)
RAG = "Integrated LLM API (LangChain + OpenAI) for knowledge retrieval, improving accuracy by 30%"


def test_quantified_claims_are_recognised():
    assert quantified(LATENCY) and quantified(RAG)
    assert not quantified("Worked on recommendation models with the data team")


def test_bullets_are_cleaned_and_bounded():
    lines = clean_bullets("- " + LATENCY + "\n\n* short\n\u2022 " + RAG + "\n" + "x" * 5000)
    assert lines[0] == LATENCY and lines[1] == RAG
    assert all(len(line) <= 400 for line in lines)


def test_a_line_opening_with_a_number_keeps_it_and_numbered_bullets_lose_theirs():
    claim = "3.5x lower p95 latency by batching requests"
    assert clean_bullets([claim, "2) " + claim, "12. " + claim]) == [claim] * 3


def test_deep_dive_probes_measurement_approach_tradeoffs_ownership():
    [q] = deep_dives([LATENCY])
    assert q.track == "projects" and q.source == "resume"
    assert LATENCY in q.question
    assert [c.id for c in q.criteria] == ["measurement", "approach", "trade-offs", "ownership"]
    cues = {cue for c in q.criteria for concept in c.concepts for cue in concept.cues}
    assert {"p95", "baseline", "quantization"} <= cues


def test_deep_dive_rewards_a_measured_owned_answer():
    [q] = deep_dives([LATENCY])
    vague = assess(q, "We made it faster with batching and it was great.")
    strong = assess(
        q,
        "The baseline was 200 ms at p95, measured with a load test replaying production traffic. "
        "I first tried dynamic batching, which raised throughput but added queueing delay, so I "
        "capped the wait at 5 ms. I built the INT8 quantization step myself, and the trade-off "
        "was a 0.3% accuracy drop on our held-out test set, which product accepted.",
    )
    assert strong.score >= 70 > vague.score


def test_resume_lines_lead_the_interview(settings, bank):
    with Interviewer(settings, bank=bank) as iv:
        start = iv.start(interview_options(questions=3, resume=[LATENCY, RAG], seed=1))
        plan = iv.state(start.interview_id)["plan"]
        end = iv.reply(start.interview_id, "end")
    assert plan[0].startswith("resume-") and plan[1].startswith("resume-")
    assert not plan[2].startswith("resume-")
    assert LATENCY in start.messages[0]["text"]
    assert end.finished


def test_own_questions_lead_and_resume_deep_dives_follow(settings, bank):
    practise = bank.get("seed-genai-reliability")
    with Interviewer(settings, bank=bank) as iv:
        start = iv.start(
            interview_options(questions=4, resume=[LATENCY], seed=1), custom_questions=[practise]
        )
        plan = iv.state(start.interview_id)["plan"]
    assert plan[0] == practise.id
    assert plan[1].startswith("resume-")
