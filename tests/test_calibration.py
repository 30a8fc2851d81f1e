import json

import pytest

from agent.grading.calibration import (
    LabelledAnswer,
    load_split,
    quadratic_kappa,
    spearman,
    summarise,
    to_scale,
)
from agent.grading.rubrics import RubricError
from agent.interview.report import band


def test_spearman_matches_known_values():
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    # ties share their average rank: 4.5 / sqrt(4.5 * 5) by hand
    assert spearman([1, 2, 2, 3], [1, 2, 3, 4]) == pytest.approx(0.9486832980505138)


def test_quadratic_kappa_known_values():
    assert quadratic_kappa([0, 1, 2, 3, 4], [0, 1, 2, 3, 4]) == pytest.approx(1.0)
    # by hand: observed weighted disagreement 0.25, expected 1.25
    assert quadratic_kappa([0, 1, 2, 3, 4], [1, 2, 3, 4, 4]) == pytest.approx(0.8, abs=1e-9)


def test_score_to_scale_bands():
    assert [to_scale(s) for s in (0, 14.9, 15, 34.9, 35, 59.9, 60, 79.9, 80, 100)] == [
        0,
        0,
        1,
        1,
        2,
        2,
        3,
        3,
        4,
        4,
    ]


def test_label_scale_and_report_bands_agree():
    names = ["no credit", "weak", "partial", "good", "excellent"]
    for score in (0, 14.9, 15, 34.9, 35, 59.9, 60, 79.9, 80, 100):
        assert band(score) == names[to_scale(score)]


def test_bad_calibration_line_names_file_and_line(tmp_path):
    (tmp_path / "calibration").mkdir()
    good = {"question_id": "q", "answer": "a", "label": 2, "kind": "partial", "note": ""}
    bad = {**good, "label": 9}
    lines = [json.dumps(good), json.dumps(bad)]
    (tmp_path / "calibration" / "dev.jsonl").write_text("\n".join(lines))
    with pytest.raises(RubricError, match=r"dev\.jsonl:2"):
        load_split(tmp_path, "dev")


def test_summary_flags_adversarial_answers_scored_too_high(bank):
    from agent.grading.calibration import Graded
    from agent.grading.engine import assess

    q = bank.get("seed-inference-latency")
    item = LabelledAnswer(question_id=q.id, answer="x", label=0, kind="injection")
    graded = [Graded(item, "dev", assess(q, "I would batch requests to raise GPU throughput."))]
    graded[0].assessment.score = 60.0
    summary = summarise(graded)
    assert summary["targets"]["adversarial_at_most_25"] is False
    assert summary["violations"][0]["kind"] == "injection"


# What the shipped engine and bank hold on each split, measured by `interviewer calibrate`
# (the README gives the figures and the targets not yet met); a change that grades worse fails.
FLOORS = {
    "dev": (0.80, 0.78),
    "heldout": (0.78, 0.76),
    "heldout-questions": (0.74, 0.73),
}


@pytest.mark.parametrize("split", list(FLOORS))
def test_offline_engine_holds_its_calibration(bank, split):
    """The shipped bank and engine, graded against the labelled set in rubrics/calibration."""
    from agent.config import Settings
    from agent.grading.calibration import calibrate
    from agent.grading.providers import OfflineProvider

    result = calibrate(bank, OfflineProvider(), Settings().rubrics_dir, split)["overall"]
    rho, qwk = FLOORS[split]
    assert result["n"] >= 140
    assert result["spearman_rho"] >= rho
    assert result["qwk"] >= qwk
    targets = result["targets"]
    assert targets["adversarial_at_most_25"] or split == "heldout-questions", result["violations"]
    assert targets["plain_words_mean_60"]


def test_every_question_has_labelled_answers_of_every_main_kind(bank):
    from collections import defaultdict

    from agent.config import Settings
    from agent.grading.calibration import SPLITS

    kinds: dict[str, set[str]] = defaultdict(set)
    for split in SPLITS:
        for item in load_split(Settings().rubrics_dir, split):
            kinds[item.question_id].add(item.kind)
    needed = {"excellent", "good", "partial", "confident-wrong", "plain-words"}
    for question in bank.questions:
        have = kinds[question.id]
        assert needed <= have, (question.id, needed - have)
        assert have & {"weak", "non-answer"}, question.id
        assert len(have) >= 6, question.id


def test_held_out_answers_are_never_printed_as_worst_grades(bank):
    from agent.grading.calibration import Graded
    from agent.grading.engine import assess

    q = bank.get("seed-inference-latency")
    item = LabelledAnswer(question_id=q.id, answer="secret held-out text", label=4, kind="good")
    graded = [Graded(item, "heldout-questions", assess(q, item.answer))]
    assert summarise(graded)["worst"] == []
