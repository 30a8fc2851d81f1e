"""Calibration: how well grades agree with labelled answers (Spearman rho, QWK, within-1).

Three splits, each a JSON Lines file in `rubrics/calibration/`:
- `dev`: answers the engine's cues may be tuned on;
- `heldout`: other answers to the same questions, never looked at while tuning;
- `heldout-questions`: every answer to questions whose answers were never looked at while
  tuning, so the figures say how the engine grades a question it was not fitted to.
The worst mis-grades are listed for `dev` only, so a tuning run never shows a held-out answer.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from statistics import mean, median
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent.grading.assessment import Assessment
from agent.grading.providers import Provider
from agent.grading.rubrics import Bank, RubricError
from agent.interview.report import band_level

Kind = Literal[
    "excellent",
    "good",
    "partial",
    "weak",
    "confident-wrong",
    "injection",
    "keyword-list",
    "off-topic",
    "non-answer",
    "one-liner",
    "rambling",
    "plain-words",
    "question-echo",
]
SPLITS = ("dev", "heldout", "heldout-questions")
HELD_OUT = ("heldout", "heldout-questions")
MUST_STAY_LOW: tuple[str, ...] = ("injection", "keyword-list", "non-answer", "question-echo")
LOW_CEILING = 25.0
WRONG_CEILING = 35.0  # a confidently wrong answer stays below a pass
# Answers a confidently wrong one must score below, on the same question.
HONEST_KINDS: tuple[str, ...] = ("partial", "good", "excellent", "plain-words")
PLAIN_WORDS_MEAN = 60.0
TARGET_RHO = 0.85
TARGET_QWK = 0.80


class LabelledAnswer(BaseModel):
    """One calibration answer with its 0-4 label."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    question_id: str
    answer: str
    label: int = Field(ge=0, le=4)
    kind: Kind
    note: str = ""


def to_scale(score: float) -> int:
    """A 0-100 score on the 0-4 label scale: the report's bands."""
    return band_level(score)


def calibration_dir(rubrics_dir: Path) -> Path:
    return rubrics_dir / "calibration"


def load_split(rubrics_dir: Path, split: str) -> list[LabelledAnswer]:
    """The labelled answers of one split; a bad line fails naming the file and line."""
    path = calibration_dir(rubrics_dir) / f"{split}.jsonl"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise RubricError(f"{path.name}: cannot read: {exc}") from None
    out = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            out.append(LabelledAnswer.model_validate(json.loads(line)))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise RubricError(f"{path.name}:{number}: {exc}") from None
    return out


# --- statistics --------------------------------------------------------------------------------


def _ranks(values: list[float]) -> list[float]:
    """Average ranks, ties sharing their mean rank."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def spearman(x: list[float], y: list[float]) -> float:
    rx, ry = _ranks(x), _ranks(y)
    n = len(x)
    mx, my = sum(rx) / n, sum(ry) / n
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    vx = sum((a - mx) ** 2 for a in rx) ** 0.5
    vy = sum((b - my) ** 2 for b in ry) ** 0.5
    return cov / (vx * vy) if vx and vy else 0.0


def quadratic_kappa(labels: list[int], predicted: list[int], categories: int = 5) -> float:
    """Cohen's kappa with quadratic weights."""
    n = len(labels)
    observed = [[0.0] * categories for _ in range(categories)]
    for a, b in zip(labels, predicted, strict=True):
        observed[a][b] += 1
    hist_a = [sum(row) for row in observed]
    hist_b = [sum(observed[i][j] for i in range(categories)) for j in range(categories)]
    num = den = 0.0
    for i in range(categories):
        for j in range(categories):
            weight = (i - j) ** 2 / (categories - 1) ** 2
            num += weight * observed[i][j]
            den += weight * hist_a[i] * hist_b[j] / n
    return 1.0 - num / den if den else 1.0


# --- the run -----------------------------------------------------------------------------------


@dataclass
class Graded:
    item: LabelledAnswer
    split: str
    assessment: Assessment

    @property
    def predicted(self) -> int:
        return to_scale(self.assessment.score)


def grade_all(
    bank: Bank, provider: Provider, items: Iterable[tuple[str, LabelledAnswer]]
) -> list[Graded]:
    graded = []
    for split, item in items:
        if item.question_id not in bank:
            raise RubricError(f"calibration answer for unknown question {item.question_id!r}")
        assessment = provider.assess(bank.get(item.question_id), item.answer)
        graded.append(Graded(item, split, assessment))
    return graded


def summarise(graded: list[Graded], worst: int = 8) -> dict:
    """Agreement figures, score bands per kind, target checks and the worst mis-grades."""
    labels = [g.item.label for g in graded]
    scores = [g.assessment.score for g in graded]
    predicted = [g.predicted for g in graded]
    bands: dict[str, dict] = {}
    for kind in sorted({g.item.kind for g in graded}):
        ks = [g.assessment.score for g in graded if g.item.kind == kind]
        bands[kind] = {
            "n": len(ks),
            "min": min(ks),
            "median": median(ks),
            "mean": round(mean(ks), 1),
            "max": max(ks),
        }
    rho = spearman([float(v) for v in labels], scores)
    qwk = quadratic_kappa(labels, predicted)
    within1 = sum(abs(a - b) <= 1 for a, b in zip(labels, predicted, strict=True)) / len(graded)
    exact = sum(a == b for a, b in zip(labels, predicted, strict=True)) / len(graded)
    too_high = [
        g for g in graded if g.item.kind in MUST_STAY_LOW and g.assessment.score > LOW_CEILING
    ]
    wrong_too_high = [
        g for g in graded if g.item.kind == "confident-wrong" and g.assessment.score > WRONG_CEILING
    ]
    wrong_above_honest = _confident_wrong_violations(graded)
    plain = [g.assessment.score for g in graded if g.item.kind == "plain-words"]
    ranked = sorted(
        (g for g in graded if g.split not in HELD_OUT),
        key=lambda g: (
            abs(g.predicted - g.item.label),
            abs(g.assessment.score - 25 * g.item.label),
        ),
        reverse=True,
    )
    return {
        "n": len(graded),
        "questions": len({g.item.question_id for g in graded}),
        "spearman_rho": round(rho, 3),
        "qwk": round(qwk, 3),
        "exact": round(exact, 3),
        "within_1": round(within1, 3),
        "bands": bands,
        "targets": {
            "spearman_rho": rho >= TARGET_RHO,
            "qwk": qwk >= TARGET_QWK,
            "adversarial_at_most_25": not too_high,
            "confident_wrong_at_most_35": not wrong_too_high,
            "confident_wrong_below_honest": not wrong_above_honest,
            "plain_words_mean_60": not plain or mean(plain) >= PLAIN_WORDS_MEAN,
        },
        "violations": [_brief(g) for g in too_high + wrong_too_high]
        + [{"confident_wrong_not_below": v} for v in wrong_above_honest],
        "worst": [_row(g) for g in ranked[:worst] if g.predicted != g.item.label],
    }


def _confident_wrong_violations(graded: list[Graded]) -> list[str]:
    out = []
    for g in graded:
        if g.item.kind != "confident-wrong":
            continue
        honest = [
            o
            for o in graded
            if o.item.question_id == g.item.question_id and o.item.kind in HONEST_KINDS
        ]
        for o in honest:
            if g.assessment.score >= o.assessment.score:
                out.append(
                    f"{g.item.question_id}: confident-wrong {g.assessment.score} >= "
                    f"{o.item.kind} {o.assessment.score}"
                )
    return out


def _brief(g: Graded) -> dict:
    """A violation without the answer's text when the answer is held out."""
    row = _row(g)
    if g.split in HELD_OUT:
        row["answer"] = "(held out)"
        row["evidence"] = {}
    return row


def _row(g: Graded) -> dict:
    return {
        "split": g.split,
        "question_id": g.item.question_id,
        "kind": g.item.kind,
        "label": g.item.label,
        "predicted": g.predicted,
        "score": g.assessment.score,
        "flags": list(g.assessment.flags),
        "answer": g.item.answer if len(g.item.answer) <= 240 else g.item.answer[:237] + "...",
        "evidence": {c.id: c.evidence for c in g.assessment.criteria if c.evidence},
    }


def calibrate(bank: Bank, provider: Provider, rubrics_dir: Path, split: str = "all") -> dict:
    """Grade a split (or both) and summarise agreement; 'all' also reports each split alone."""
    splits = SPLITS if split == "all" else (split,)
    items = [(s, item) for s in splits for item in load_split(rubrics_dir, s)]
    graded = grade_all(bank, provider, items)
    result = {"split": split, "brain": provider.brain, "model": provider.model}
    result["overall"] = summarise(graded)
    if split == "all":
        for s in SPLITS:
            result[s] = summarise([g for g in graded if g.split == s])
    return result
