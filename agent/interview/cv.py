"""Resume and project deep-dives: each line becomes a question of its own, from the bank's
template (rubrics/deep-dive.yaml), shaped by what the line claims."""

from __future__ import annotations

import hashlib
import re
from string import Template

from agent.grading.rubrics import CLAIM, DEEP_DIVE_FILE, DeepDiveTemplate, Question
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


def deep_dive(bullet: str, index: int, template: DeepDiveTemplate) -> Question:
    """The question `template` asks about one resume line (see rubrics/deep-dive.yaml)."""
    digest = hashlib.sha1(bullet.encode("utf-8")).hexdigest()[:8]
    measured = quantified(bullet)
    techniques = sorted({m.group(0).lower() for m in _TECH.finditer(bullet)})
    added: dict[str, list[str]] = {}
    for cues, words in (
        (template.speed_cues, _LATENCY_WORDS.search(bullet)),
        (template.quality_cues, _QUALITY_WORDS.search(bullet) or "%" in bullet),
    ):
        if words:
            added.setdefault(cues.concept, []).extend(cues.cues)
    data = template.question.model_dump(by_alias=True)
    text = template.measured_question if measured else data["question"]
    data["id"] = f"resume-{index + 1}-{digest}"
    data["question"] = Template(text).substitute({CLAIM: " ".join(bullet.split())})
    for criterion in data["criteria"]:
        if measured and criterion["id"] in template.measured_weights:
            criterion["weight"] = template.measured_weights[criterion["id"]]
        for concept in criterion["concepts"]:
            if concept["name"] == template.techniques and techniques:
                concept["cues"] = techniques
            concept["cues"] = [*concept["cues"], *added.get(concept["name"], [])]
    return Question.model_validate(data)


def deep_dives(bullets: list[str], template: DeepDiveTemplate | None) -> list[Question]:
    """Deep-dive questions for resume lines, quantified claims first; `template` is the bank's
    (`Bank.deep_dive`)."""
    lines = clean_bullets(bullets)
    if not lines:
        return []
    if template is None:
        raise ValueError(
            f"this question bank has no {DEEP_DIVE_FILE}, so resume lines cannot be asked about"
        )
    ordered = sorted(lines, key=lambda b: not quantified(b))
    return [deep_dive(b, i, template) for i, b in enumerate(ordered)]
