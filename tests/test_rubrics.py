from pathlib import Path

import pytest

from agent.grading.rubrics import TRACKS, RubricError, load_bank, load_file

SEED_IDS = (
    "seed-research-vs-production",
    "seed-inference-latency",
    "seed-llm-vs-foundation-models",
    "seed-genai-reliability",
)


def test_bank_holds_the_four_seed_questions(bank):
    for qid in SEED_IDS:
        assert bank.get(qid).source == "seed"


def test_every_track_has_at_least_four_questions(bank):
    coverage = bank.coverage()
    for track in TRACKS:
        assert sum(coverage[track].values()) >= 4, track


def test_criteria_weights_positive_and_probes_present(bank):
    for q in bank.questions:
        assert 3 <= len(q.criteria) <= 6
        for c in q.criteria:
            assert c.weight > 0 and c.probe.strip() and c.concepts


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


GOOD = (Path(__file__).parent.parent / "rubrics" / "seed.yaml").read_text(encoding="utf-8")


def test_unknown_field_fails_naming_file_question_and_field(tmp_path):
    broken = GOOD.replace("    hint: >-\n", "    hnit: >-\n", 1)
    path = _write(tmp_path, "broken.yaml", broken)
    with pytest.raises(RubricError) as err:
        load_file(path)
    message = str(err.value)
    assert "broken.yaml" in message
    assert "seed-research-vs-production" in message
    assert "hnit" in message


def test_bad_weight_fails_naming_the_field(tmp_path):
    broken = GOOD.replace("weight: 3", "weight: -1", 1)
    with pytest.raises(RubricError, match=r"bad\.yaml.*criteria\.0\.weight"):
        load_file(_write(tmp_path, "bad.yaml", broken))


def test_invalid_yaml_fails_naming_the_file(tmp_path):
    with pytest.raises(RubricError, match="oops.yaml: not valid YAML"):
        load_file(_write(tmp_path, "oops.yaml", "questions: [unclosed"))


def test_duplicate_question_id_across_files_fails(tmp_path):
    _write(tmp_path, "a.yaml", GOOD)
    _write(tmp_path, "b.yaml", GOOD)
    with pytest.raises(RubricError, match="b.yaml: question 'seed-research-vs-production'"):
        load_bank(tmp_path)


def test_empty_directory_fails(tmp_path):
    with pytest.raises(RubricError, match="no rubric files"):
        load_bank(tmp_path)


def test_field_wide_claims_join_the_questions_of_their_tracks_and_cap_answers(tmp_path):
    import shutil

    from agent.grading.engine import assess
    from agent.grading.rubrics import default_rubrics_dir, load_bank

    shutil.copy(default_rubrics_dir() / "seed.yaml", tmp_path / "seed.yaml")
    (tmp_path / "field").mkdir()
    (tmp_path / "field" / "serving.yaml").write_text(
        "misconceptions:\n"
        "  - claim: Batching makes each single request faster.\n"
        "    correction: Batching raises throughput; each request waits for its batch.\n"
        "    tracks: [mlops]\n"
        "    cues: [batching & each request & faster]\n",
        encoding="utf-8",
    )
    bank = load_bank(tmp_path)
    latency = bank.get("seed-inference-latency")  # an mlops question
    research = bank.get("seed-research-vs-production")  # ml-system-design: not its track
    claim = "Batching makes each single request faster."
    assert claim in [m.claim for m in latency.misconceptions]
    assert claim not in [m.claim for m in research.misconceptions]
    answer = (
        "I'd measure p99 latency against a baseline, because the mean hides the slow tail. "
        "Batching makes each request faster, since the GPU splits the work between them."
    )
    result = assess(latency, answer)
    assert "misconception" in result.flags and result.score <= 20
    assert not any("Batching makes" in q for c in result.criteria for q in c.evidence)


def test_a_bad_field_file_names_the_file(tmp_path):
    import shutil

    from agent.grading.rubrics import RubricError, default_rubrics_dir, load_bank

    shutil.copy(default_rubrics_dir() / "seed.yaml", tmp_path / "seed.yaml")
    (tmp_path / "field").mkdir()
    (tmp_path / "field" / "bad.yaml").write_text(
        "misconceptions:\n  - claim: x\n    correction: y\n    tracks: [nope]\n    cues: [a]\n",
        encoding="utf-8",
    )
    with pytest.raises(RubricError, match=r"field/bad\.yaml"):
        load_bank(tmp_path)
