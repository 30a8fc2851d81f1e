"""Resume and project deep-dives: quantified claims become rubric questions of their own."""

from __future__ import annotations

import hashlib
import re

from agent.grading.rubrics import Question
from agent.grading.text import BULLET

MAX_BULLETS = 5
MAX_BULLET_CHARS = 400

_NUMBER = re.compile(
    r"(\d+(?:\.\d+)?\s*(?:%|percent|ms|s\b|sec|seconds|x\b|×|k\b|m\b|gb|qps|rps|hours?|days?)"
    r"|\$\s?\d[\d,.]*[kmb]?|\d+(?:\.\d+)?\s*(?:->|→|to)\s*\d+(?:\.\d+)?\s*\w*)",
    re.IGNORECASE,
)
_TECH = re.compile(
    r"\b(langchain|llamaindex|openai|gpt-?4o?|llama|mistral|rag|retrieval|vector|faiss|pinecone|"
    r"batch(?:ing)?|quantiz\w*|distill\w*|pruning|onnx|tensorrt|triton|vllm|kubernetes|k8s|docker|"
    r"mlflow|airflow|kubeflow|spark|kafka|fastapi|pytorch|tensorflow|xgboost|lora|fine-?tun\w*|"
    r"embedding\w*|cach\w*|gpu|a/b test\w*|feature store)\b",
    re.IGNORECASE,
)
_LATENCY_WORDS = re.compile(r"\b(latency|ms|throughput|qps|inference|speed|faster)\b", re.I)
_QUALITY_WORDS = re.compile(r"\b(accuracy|precision|recall|f1|auc|ndcg|quality|relevance)\b", re.I)


def quantified(bullet: str) -> bool:
    """True when a line makes a measurable claim (a number with a unit, a before -> after)."""
    return bool(_NUMBER.search(bullet))


def clean_bullets(text_or_lines: str | list[str]) -> list[str]:
    """Resume lines, stripped of bullet marks, blank lines and overlong text."""
    lines = text_or_lines.splitlines() if isinstance(text_or_lines, str) else list(text_or_lines)
    out: list[str] = []
    for line in lines:
        line = BULLET.sub("", line).strip()
        line = "".join(ch for ch in line if ch.isprintable())
        if len(line) >= 12:
            out.append(line[:MAX_BULLET_CHARS])
    return out[:MAX_BULLETS]


def _measurement_cues(bullet: str) -> list[str]:
    cues = ["measured", "baseline", "benchmark", "before and after", "compared against", "metric"]
    if _LATENCY_WORDS.search(bullet):
        cues += ["p50", "p95", "p99", "percentile", "tail latency", "median", "load test", "profil"]
    if _QUALITY_WORDS.search(bullet) or "%" in bullet:
        cues += [
            "test set",
            "eval set",
            "evaluation set",
            "held out",
            "a/b test",
            "labelled",
            "labeled",
            "golden set",
            "offline evaluation",
            "relative",
            "absolute",
        ]
    return cues


def deep_dive(bullet: str, index: int) -> Question:
    """A question probing one resume claim: measurement, approach, trade-offs, ownership."""
    digest = hashlib.sha1(bullet.encode("utf-8")).hexdigest()[:8]
    techs = sorted({m.group(0).lower() for m in _TECH.finditer(bullet)})
    tech_cues = techs or ["approach", "architecture", "pipeline"]
    claim = " ".join(bullet.split())
    is_quantified = quantified(bullet)
    measure_text = (
        "Explains how the number was measured: which metric or percentile, the baseline, the data "
        "or traffic it was measured on, and whether the gain held in production."
    )
    data = {
        "id": f"resume-{index + 1}-{digest}",
        "track": "projects",
        "difficulty": "mid",
        "source": "resume",
        "question": (
            f"Your resume says: \u201c{claim}\u201d. Walk me through it: what was the problem, "
            + ("how did you measure the result, " if is_quantified else "")
            + "what did you do yourself, and what trade-offs did you make?"
        ),
        "hint": "Start with the baseline and how you measured it, then what you tried in order.",
        "criteria": [
            {
                "id": "measurement",
                "description": measure_text,
                "weight": 3 if is_quantified else 2,
                "concepts": [
                    {"name": "how it was measured", "cues": _measurement_cues(bullet)},
                ],
                "levels": {
                    "0": "No word on how the result was measured.",
                    "1": "Restates the number without saying how it was measured.",
                    "2": "Names the metric and the baseline.",
                    "3": "Names metric, percentile or test set, baseline, conditions and caveats.",
                },
                "probe": "How exactly did you measure that result, and against what baseline?",
            },
            {
                "id": "approach",
                "description": "Explains what was built or changed and why it worked.",
                "weight": 3,
                "concepts": [
                    {"name": "the techniques used", "cues": tech_cues},
                    {
                        "name": "what was tried first",
                        "cues": ["first", "tried", "experiment", "iteration", "ablation", "then"],
                    },
                ],
                "levels": {
                    "0": "No description of the approach.",
                    "1": "Names the tools without saying how they were used.",
                    "2": "Explains the approach and why it helped.",
                    "3": "Explains the approach, what was tried and discarded, and why.",
                },
                "probe": "What did you try, in what order, and why did the final approach work?",
            },
            {
                "id": "trade-offs",
                "description": "Names the costs of the solution: accuracy, latency, memory, money.",
                "weight": 2,
                "concepts": [
                    {
                        "name": "trade-offs",
                        "cues": [
                            "trade-off",
                            "tradeoff",
                            "downside",
                            "cost",
                            "at the expense",
                            "accuracy drop",
                            "memory",
                            "complexity",
                            "compromise",
                            "downside",
                        ],
                    }
                ],
                "levels": {
                    "0": "No trade-offs.",
                    "1": "Says there were trade-offs without naming them.",
                    "2": "Names a concrete trade-off.",
                    "3": "Names trade-offs with numbers and how they were decided.",
                },
                "probe": "What did this cost you: accuracy, latency, memory, money or complexity?",
            },
            {
                "id": "ownership",
                "description": "Says clearly what the candidate personally did versus the team.",
                "weight": 2,
                "concepts": [
                    {
                        "name": "personal contribution",
                        "cues": [
                            "i built",
                            "i implemented",
                            "i designed",
                            "i wrote",
                            "i led",
                            "i owned",
                            "my part",
                            "my role",
                            "i personally",
                            "i was responsible",
                            "i proposed",
                            "i ran",
                        ],
                    }
                ],
                "levels": {
                    "0": "Only 'we' with no personal part.",
                    "1": "A vague personal role.",
                    "2": "A clear personal contribution.",
                    "3": "A clear contribution with decisions the candidate made and why.",
                },
                "probe": "Which parts of this did you do yourself?",
            },
        ],
        "reference_answer": (
            "A strong answer states the baseline and how it was measured (e.g. p95 latency under "
            "production-like load, or accuracy on a fixed labelled test set), the steps tried in "
            "order with their individual effect, the trade-offs accepted (accuracy, memory, cost, "
            "complexity) and exactly which parts the candidate built or decided."
        ),
        "common_mistakes": [
            "Repeating the headline number without the baseline or how it was measured.",
            "Only 'we': no personal contribution.",
            "No trade-offs, as if the change were free.",
        ],
    }
    return Question.model_validate(data)


def deep_dives(bullets: list[str]) -> list[Question]:
    """Deep-dive questions for resume lines, quantified claims first."""
    lines = clean_bullets(bullets)
    ordered = sorted(lines, key=lambda b: not quantified(b))
    return [deep_dive(b, i) for i, b in enumerate(ordered)]
