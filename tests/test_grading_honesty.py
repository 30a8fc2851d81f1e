"""Grades that cannot be bluffed: support, wrong claims, plain words, buzzword strings, feedback
and uncertainty, with answers written for these tests (none is in the calibration files)."""

from __future__ import annotations

import pytest

from agent.grading.engine import assess
from agent.grading.rubrics import MISSED_AT_OR_BELOW, Question
from agent.interview.report import build_report, report_summary

REGULARISATION = Question.model_validate(
    {
        "id": "test-regularisation",
        "track": "ml-system-design",
        "difficulty": "junior",
        "question": "How do L1 and L2 regularisation differ, and when would you use each?",
        "hint": "Think about what each penalty does to small weights.",
        "criteria": [
            {
                "id": "l1-sparsity",
                "description": "Explains that L1 drives some weights to exactly zero.",
                "weight": 3,
                "concepts": [
                    {"name": "sparse weights", "cues": ["l1", "lasso", "sparse", "exactly zero"]}
                ],
                "levels": {"0": "none", "1": "names", "2": "explains", "3": "explains why"},
                "probe": "What happens to a small weight under L1?",
            },
            {
                "id": "l2-shrinkage",
                "description": "Explains that L2 shrinks all weights smoothly.",
                "weight": 3,
                "concepts": [
                    {"name": "shrinkage", "cues": ["l2", "ridge", "shrink", "weight decay"]}
                ],
                "levels": {"0": "none", "1": "names", "2": "explains", "3": "explains why"},
                "probe": "What happens to a small weight under L2?",
            },
            {
                "id": "when",
                "description": "Says when to use each.",
                "weight": 2,
                "concepts": [
                    {
                        "name": "choice",
                        "cues": ["feature selection", "correlated features", "many features"],
                    }
                ],
                "levels": {"0": "none", "1": "names", "2": "explains", "3": "explains why"},
                "probe": "Which would you pick with many correlated features?",
            },
        ],
        "reference_answer": "L1 zeroes weights (sparsity); L2 shrinks them smoothly.",
        "common_mistakes": ["Swapping L1 and L2."],
        "misconceptions": [
            {
                "claim": "L2 sets weights exactly to zero and so selects features.",
                "correction": "L1 produces exact zeros; L2 only shrinks weights towards zero.",
                "criterion": "l2-shrinkage",
                "cues": ["l2 & exactly zero", "ridge & exactly zero", "l2 & selects features"],
            }
        ],
    }
)

L2_BLUFF = (
    "L2 regularisation sets the weights exactly to zero, which is why it is the standard way to "
    "do feature selection. L1 shrinks the weights smoothly so every feature stays in the model, "
    "which is why you use it when you have many correlated features."
)


def scores(result) -> dict[str, int]:
    return {c.id: c.score for c in result.criteria}


def test_a_sentence_about_what_was_not_done_is_never_evidence(bank):
    q = bank.get("seed-inference-latency")
    done = assess(q, "We profiled the service and measured p99 latency against a baseline.")
    not_done = assess(q, "We didn't do any proper profiling or measure p99 latency at all.")
    assert scores(done)["measurement"] >= 1
    assert scores(not_done)["measurement"] == 0
    assert all(not c.evidence for c in not_done.criteria)


def test_a_hedged_sentence_is_never_evidence(bank):
    q = bank.get("seed-inference-latency")
    said = assess(q, "I would use dynamic batching so the GPU serves many requests at once.")
    hedged = assess(q, "Maybe dynamic batching or something like that, I'm not sure.")
    assert scores(said)["batching"] >= 1
    assert scores(hedged)["batching"] == 0


def test_a_stated_misconception_earns_nothing_and_caps_the_answer():
    result = assess(REGULARISATION, L2_BLUFF)
    assert "misconception" in result.flags
    assert result.score <= 25
    l2 = next(c for c in result.criteria if c.id == "l2-shrinkage")
    assert l2.score <= 1
    assert not any("exactly to zero" in quote for quote in l2.evidence)


def test_feedback_quotes_the_wrong_claim_and_says_what_is_right():
    feedback = assess(REGULARISATION, L2_BLUFF).feedback
    assert "L2 regularisation sets the weights exactly to zero" in feedback
    assert "L1 produces exact zeros" in feedback


def test_rejecting_a_misconception_is_not_stating_it():
    answer = (
        "A common myth is that L2 sets weights exactly to zero. In fact L1 drives small weights "
        "to exactly zero, so it selects features, while L2 shrinks all weights smoothly, which "
        "is better when you have many correlated features."
    )
    result = assess(REGULARISATION, answer)
    assert "misconception" not in result.flags
    assert result.score >= 60


def test_a_correct_contrast_in_one_sentence_is_not_the_misconception():
    answer = (
        "L1 pushes small weights to exactly zero, unlike L2, which only shrinks them, so L1 "
        "doubles as feature selection when you have many features."
    )
    assert "misconception" not in assess(REGULARISATION, answer).flags


def test_a_wrong_claim_scores_below_an_honest_partial_answer():
    partial = assess(
        REGULARISATION,
        "L1 drives some weights to exactly zero, so the model ends up sparse and simpler.",
    )
    bluff = assess(REGULARISATION, L2_BLUFF)
    assert bluff.score < partial.score


@pytest.mark.parametrize(
    "answer",
    [
        "We use Kafka and Spark with a feature store and embeddings using Kubernetes and MLOps "
        "best practices for scalable real-time inference with batching and quantization",
        "Batching plus quantization via TensorRT with ONNX and caching & p99 monitoring",
        "- batching\n- quantization\n- TensorRT\n- caching\n- p99",
        "Batching; quantization; distillation; TensorRT; caching; autoscaling",
    ],
)
def test_buzzword_strings_are_capped_however_they_are_joined(bank, answer):
    result = assess(bank.get("seed-inference-latency"), answer)
    assert "keyword-list" in result.flags
    assert result.score <= 25


def test_a_question_echo_is_capped(bank):
    q = bank.get("seed-research-vs-production")
    echo = (
        "That's a great question. The key differences between ML research and ML in production "
        "are really important, and there are many differences between research and production."
    )
    result = assess(q, echo)
    assert "question-echo" in result.flags
    assert result.score <= 10


def test_feedback_speaks_to_the_candidate_and_praises_only_what_the_table_credits(bank):
    q = bank.get("seed-inference-latency")
    answer = (
        "I'd measure p95 and p99 latency rather than the mean, because the mean hides the slow "
        "tail that users notice, and profile against a baseline to find the bottleneck."
    )
    result = assess(q, answer)
    assert "You " in result.feedback or result.feedback.startswith("You")
    missed = {c.id for c in result.criteria if c.score <= MISSED_AT_OR_BELOW}
    praised = result.feedback.split("You covered ", 1)[-1].split(" well.")[0]
    for criterion in q.criteria:
        if criterion.id in missed:
            for concept in criterion.concepts:
                assert concept.name not in praised, (concept.name, result.feedback)
    assert "the candidate" not in result.feedback.lower()


def test_conflicting_signals_make_the_grade_uncertain_and_the_report_says_so():
    answer = (
        "L2 regularisation sets the weights exactly to zero, so it selects features. "
        "L1, the lasso, also makes the weights sparse, because its penalty has a corner at zero "
        "that pulls small weights all the way down. Ridge shrinks weights smoothly, which helps "
        "with many correlated features, since it spreads weight across them."
    )
    result = assess(REGULARISATION, answer)
    assert "misconception" in result.flags and "uncertain" in result.flags
    assert "uncertain" in result.feedback
    grade = {"question_id": REGULARISATION.id, "track": REGULARISATION.track, **result.model_dump()}
    summary = report_summary(build_report([grade], {}))
    assert "uncertain" in summary and "regrade" in summary


def test_a_plain_answer_without_conflict_is_not_uncertain(bank):
    result = assess(
        bank.get("seed-inference-latency"),
        "I'd measure p99 latency first, because the mean hides slow requests, and then batch "
        "requests on the GPU, which raises throughput at a small cost in waiting time.",
    )
    assert "uncertain" not in result.flags


def test_a_long_answer_full_of_fillers_is_rambling_and_capped(bank):
    q = bank.get("seed-inference-latency")
    ramble = (
        "So yeah, latency, I think it's basically about making things faster, you know. "
        "Honestly we had a model once that was kind of slow, maybe two seconds, I don't remember "
        "exactly, and I think someone tried batching, which probably helped, or something. "
        "Anyway, quantization is also a thing, I believe it makes the weights smaller, kind of "
        "like compression, and TensorRT maybe, which is NVIDIA's thing, pretty complicated to set "
        "up to be honest, with the CUDA versions and all that stuff that never matches. "
        "We also measured p99 I think, or maybe p95, whatever the dashboard showed at the time. "
        "And caching, caching is good, basically you keep results around so you don't recompute "
        "them every time, which I guess is kind of obvious. So yeah, batching, quantization, "
        "TensorRT, caching, monitoring, that's basically it, I think, more or less what we did. "
        "Oh and GPUs, I guess bigger GPUs probably help too, but they cost a lot, so whatever."
    )
    result = assess(q, ramble)
    assert "rambling" in result.flags
    assert result.score <= 50
    assert all(c.score <= 2 for c in result.criteria)


def test_not_just_denies_a_claim_worded_with_just():
    wrong = REGULARISATION.misconceptions[0].model_copy(
        update={"cues": ["feature store is just a database"]}
    )
    q = REGULARISATION.model_copy(update={"misconceptions": [wrong]})
    assert "misconception" in assess(q, "A feature store is just a database.").flags
    assert "misconception" not in assess(q, "A feature store is not just a database.").flags


def test_no_reference_answer_or_correction_states_a_known_misconception(bank):
    """The bank's own right answers never trip its wrong-claim cues (the candidate's quoted
    'nothing ever broke' in a correction aside)."""
    from agent.grading.claims import claimed_misconceptions
    from agent.grading.text import sentences

    hits = []
    for q in bank.questions:
        for text in [q.reference_answer, *(m.correction for m in q.misconceptions)]:
            for i, sentence in claimed_misconceptions(q, sentences(text)).items():
                if "'" not in sentence:  # a quoted wrong claim is cited, not stated
                    hits.append((q.id, q.misconceptions[i].claim, sentence))
    assert hits == []


@pytest.mark.parametrize(
    ("claim_cue", "sentence"),
    [
        ("quantization & lossless", "8-bit quantisation is often near-lossless."),
        ("attention cost & grows linearly", "Attention cost grows faster than linearly."),
        (
            "kv cache & caches the weights",
            "At high concurrency the KV cache can exceed the weights.",
        ),
        (
            "distillation quantizes & quantizes",
            "Distilled and quantized models lose some accuracy.",
        ),
        ("model executes & the tool", "The model itself executes nothing; our code runs the tool."),
        (
            "oversample & before splitting",
            "If you oversample before splitting, you leak duplicates.",
        ),
    ],
)
def test_nuance_conditions_and_lists_do_not_state_a_claim(claim_cue, sentence):
    wrong = REGULARISATION.misconceptions[0].model_copy(update={"cues": [claim_cue]})
    q = REGULARISATION.model_copy(update={"misconceptions": [wrong]})
    assert "misconception" not in assess(q, sentence).flags
