"""The verdict rule, the hint cap and honest counting in the report."""

from __future__ import annotations

import pytest

from agent.interview.report import build_report, hint_cap, report_summary
from agent.interview.verdict import HIRE_BAR, decide, level_held, whole


def grade(score: float, *, qid: str = "q", flags=(), claims=(), difficulty="mid") -> dict:
    return {
        "question_id": qid,
        "track": "mlops",
        "difficulty": difficulty,
        "score": score,
        "flags": list(flags),
        "claims": list(claims),
        "brain": "offline",
        "answer": "We batch requests on the GPU, which raises throughput.",
        "criteria": [
            {
                "id": "a",
                "score": 3 if score >= 60 else 0,
                "max_score": 3,
                "evidence": ["We batch requests on the GPU."] if score >= 60 else [],
                "missing": [] if score >= 60 else ["batching"],
            },
        ],
    }


WRONG = {
    "quote": "Quantization is lossless.",
    "claim": "Quantization is lossless.",
    "correction": "It can cost accuracy.",
    "criterion": None,
}


@pytest.mark.parametrize(
    ("scores", "claims", "verdict"),
    [
        ([90, 85], [], "strong hire"),
        ([90, 85], [WRONG], "hire"),  # a wrong claim keeps it from strong hire
        ([100, 30], [], "hire"),  # overall 65, but a question below 35 is no strong hire
        ([60, 55], [], "lean no hire"),
        ([30, 20], [], "no hire"),
    ],
)
def test_the_verdict_follows_the_documented_rule(scores, claims, verdict):
    grades = [grade(s, qid=f"q{i}", claims=claims if i == 0 else ()) for i, s in enumerate(scores)]
    overall = sum(scores) / len(scores)
    assert decide(overall, grades, "mid") == verdict


def test_the_bar_rises_with_the_level():
    grades = [grade(66)]
    assert decide(66, grades, "junior") == "hire"
    assert decide(66, grades, "senior") == "lean no hire"
    assert HIRE_BAR["junior"] < HIRE_BAR["mid"] < HIRE_BAR["senior"]


def test_the_level_held_is_the_chosen_one_else_the_questions_own():
    assert level_held([grade(50, difficulty="senior")], "junior") == "junior"
    grades = [grade(50, difficulty="senior"), grade(50, difficulty="senior"), grade(50)]
    assert level_held(grades, None) == "senior"


def test_the_report_counts_skips_apart_as_zero_and_gives_reasons_with_evidence():
    grades = [grade(90, qid="good"), grade(0, qid="gone", flags=["skipped"])]
    report = build_report(grades, {"role": "ml-engineer", "company_type": "startup"})
    assert report["overall"] == 45.0
    assert report["questions_answered"] == 1 and report["questions_skipped"] == 1
    verdict = report["verdict"]
    assert verdict["verdict"] == "lean no hire" and verdict["indicative"]
    kinds = [r["kind"] for r in verdict["reasons"]]
    assert "skipped" in kinds and "strength" in kinds
    strength = next(r for r in verdict["reasons"] if r["kind"] == "strength")
    assert strength["evidence"] == "We batch requests on the GPU."
    summary = report_summary(report)
    assert "1 skipped and counted as 0" in summary
    assert "LEAN NO HIRE" in summary and "indicative" in summary
    assert "a mid ML engineer at an AI startup" in summary


def test_one_rounding_rule_and_the_hint_cap():
    assert [whole(x) for x in (68.5, 68.49, 0.5, 99.5)] == [69, 68, 1, 100]
    assert [hint_cap(n) for n in (0, 1, 2, 5)] == [100.0, 80.0, 60.0, 60.0]


def test_a_hint_caps_the_question_and_the_transcript_holds_the_verdict(settings, bank):
    import json

    from agent.grading.rubrics import Bank
    from agent.interview.interviewer import Interviewer, interview_options
    from tests.test_engine import STRONG_LATENCY

    one = Bank([bank.get("seed-inference-latency")])
    with Interviewer(settings, bank=one) as iv:
        start = iv.start(interview_options(questions=1, max_followups=0, seed=3))
        iv.reply(start.interview_id, "hint")
        done = iv.reply(start.interview_id, STRONG_LATENCY)
    assert done.finished
    saved = json.loads((settings.transcripts_dir / f"{start.interview_id}.json").read_text())
    (graded,) = saved["grades"]
    assert graded["hints"] == 1 and "hinted" in graded["flags"]
    assert graded["score"] == 80.0 and graded["feedback"].startswith("Score 80/100")
    verdict = saved["report"]["verdict"]
    assert verdict["verdict"] in ("strong hire", "hire", "lean no hire", "no hire")
    assert verdict["graded_by"] == "offline" and verdict["indicative"] is True
    assert "Verdict for" in done.messages[-1]["text"]


def test_skipping_the_follow_up_after_an_answer_counts_the_question_as_answered(settings, bank):
    from agent.grading.rubrics import Bank
    from agent.interview.interviewer import Interviewer, interview_options

    one = Bank([bank.get("seed-inference-latency")])
    with Interviewer(settings, bank=one) as iv:
        start = iv.start(interview_options(questions=1, max_followups=2, seed=3))
        iv.reply(start.interview_id, "I would quantize the model to INT8.")
        done = iv.reply(start.interview_id, "skip")
        state = iv.state(start.interview_id)
    assert done.finished
    assert "skipped" not in state["grades"][0]["flags"] and state["grades"][0]["score"] > 0
    assert state["report"]["questions_answered"] == 1
    assert state["report"]["questions_skipped"] == 0
