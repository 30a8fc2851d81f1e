import re
import shutil
from pathlib import Path

import pytest

from agent.cli import main
from agent.grading.engine import assess
from agent.grading.rubrics import (
    DEEP_DIVE_FILE,
    Bank,
    RubricError,
    default_rubrics_dir,
    load_bank,
    load_file,
)
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


def test_deep_dive_probes_measurement_approach_tradeoffs_ownership(bank):
    [q] = deep_dives([LATENCY], bank.deep_dive)
    assert q.track == "projects" and q.source == "resume"
    assert LATENCY in q.question
    assert [c.id for c in q.criteria] == ["measurement", "approach", "trade-offs", "ownership"]
    cues = {cue for c in q.criteria for concept in c.concepts for cue in concept.cues}
    assert {"p95", "baseline", "quantization"} <= cues


def test_deep_dive_rewards_a_measured_owned_answer(bank):
    [q] = deep_dives([LATENCY], bank.deep_dive)
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


PLAIN = "Worked on recommendation models with the data team"


def rubrics_with_template(folder: Path, old: str = "", new: str = "") -> Path:
    """A rubrics folder holding the seed questions and the deep-dive template, `old` replaced
    by `new` in the template."""
    shutil.copy(default_rubrics_dir() / "seed.yaml", folder / "seed.yaml")
    text = (default_rubrics_dir() / DEEP_DIVE_FILE).read_text(encoding="utf-8")
    assert old in text
    (folder / DEEP_DIVE_FILE).write_text(text.replace(old, new), encoding="utf-8")
    return folder


def test_the_deep_dive_is_the_template_in_rubrics_with_the_line_filled_in(tmp_path):
    folder = rubrics_with_template(tmp_path, "Start with the baseline", "Begin with the numbers")
    bank = load_bank(folder)
    assert len(bank) == len(load_file(folder / "seed.yaml"))  # the template is no question
    measured, plain = deep_dives([PLAIN, LATENCY], bank.deep_dive)
    assert measured.hint.startswith("Begin with the numbers") and plain.hint == measured.hint
    assert measured.question == (
        f"Your resume says: \u201c{LATENCY}\u201d. Walk me through it: what was the problem, how "
        "did you measure the result, what did you do yourself, and what trade-offs did you make?"
    )
    assert PLAIN in plain.question and "how did you measure" not in plain.question
    assert measured.criterion("measurement").weight == 3
    assert plain.criterion("measurement").weight == 2
    techniques, _ = (c.cues for c in measured.criterion("approach").concepts)
    assert techniques == ["batch", "quantization"]
    assert plain.criterion("approach").concepts[0].cues == ["approach", "architecture", "pipeline"]
    assert "p95" in measured.criterion("measurement").concepts[0].cues
    assert "p95" not in plain.criterion("measurement").concepts[0].cues


def test_a_dollar_claim_is_filled_in_as_written(bank):
    [q] = deep_dives(["Saved $2M a year by moving batch scoring to spot GPUs"], bank.deep_dive)
    assert "\u201cSaved $2M a year by moving batch scoring to spot GPUs\u201d" in q.question


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("      description: Explains what was built", "      descripton: Explains", "question"),
        ("measured_weights:\n  measurement: 3", "measured_weights:\n  measurment: 3", "measured"),
        ("the problem, how did you", "the $problem, how did you", "measured_question"),
        ("techniques: the techniques used", "techniques: the technique used", "techniques"),
        ("  concept: how it was measured\n  cues: [p50", "  concept: how\n  cues: [p50", "speed"),
    ],
)
def test_a_typo_in_the_deep_dive_template_fails_at_load_naming_file_and_field(
    tmp_path, old, new, field
):
    folder = rubrics_with_template(tmp_path, old, new)
    with pytest.raises(RubricError, match=rf"^{re.escape(DEEP_DIVE_FILE)}: field {field}"):
        load_bank(folder)


def test_rubrics_check_validates_the_deep_dive_template(tmp_path, monkeypatch, capsys):
    good = rubrics_with_template(tmp_path)
    monkeypatch.setenv("INTERVIEWER_RUBRICS_DIR", str(good))
    assert main(["rubrics", "check"]) == 0
    (good / DEEP_DIVE_FILE).write_text(
        (good / DEEP_DIVE_FILE).read_text(encoding="utf-8").replace("weight: 3", "weight: 30"),
        encoding="utf-8",
    )
    assert main(["rubrics", "check"]) == 2
    err = capsys.readouterr().err
    assert "deep-dive.yaml: field question.criteria.1.weight" in err


def test_a_bank_without_the_template_refuses_resume_lines_clearly(settings, bank):
    only = Bank([bank.get("seed-inference-latency")])
    with Interviewer(settings, bank=only) as iv:
        with pytest.raises(ValueError, match="no deep-dive.yaml, so resume lines cannot be"):
            iv.start(interview_options(questions=1, resume=[LATENCY]))
        assert iv.start(interview_options(questions=1)).messages
