"""An interview keeps the questions it asked: stored with it, found through one lookup, and so
graded again and reported as asked whatever happens to the bank afterwards."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from streamlit.testing.v1 import AppTest

from agent.config import Settings
from agent.grading.providers import OfflineProvider
from agent.grading.regrade import regrade
from agent.grading.rubrics import DEEP_DIVE_FILE, Question, default_rubrics_dir, load_bank
from agent.interview.interviewer import Interviewer, interview_options
from agent.interview.questions import InterviewQuestions
from agent.storage.transcripts import SCHEMA_VERSION, Transcript, TranscriptStore
from tests.fake_llm import LATENCY_ANSWER

UI = Path(__file__).resolve().parent.parent / "ui"
LINE = "Cut p99 inference latency from 200 ms to 50 ms with batching and INT8 quantization"
DEEP_DIVE_ANSWER = (
    "The baseline was 200 ms at p95, measured with a load test replaying production traffic. "
    "I first tried dynamic batching, then built the INT8 quantization step myself; the trade-off "
    "was a 0.3% accuracy drop on our held-out test set."
)


@pytest.fixture
def rubrics(tmp_path: Path) -> Path:
    """A copy of the shipped bank, field-wide claims and deep-dive template, free to edit."""
    folder = tmp_path / "rubrics"
    folder.mkdir()
    for path in default_rubrics_dir().glob("*.yaml"):
        shutil.copy(path, folder / path.name)
    shutil.copytree(default_rubrics_dir() / "field", folder / "field")
    return folder


@pytest.fixture
def rubric_settings(tmp_path: Path, rubrics: Path) -> Settings:
    return Settings(transcripts_dir=tmp_path / "transcripts", rubrics_dir=rubrics)


def finished_interview(settings: Settings) -> str:
    """A finished offline interview: a resume deep-dive, then a bank question."""
    with Interviewer(settings, provider=OfflineProvider()) as iv:
        options = interview_options(
            questions=2, tracks=["mlops"], max_followups=0, resume=[LINE], seed=5
        )
        result = iv.start(options)
        for answer in (DEEP_DIVE_ANSWER, LATENCY_ANSWER):
            result = iv.reply(result.interview_id, answer)
        assert result.finished
        return result.interview_id


def edit_yaml(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def gut(question: dict) -> None:
    """A rubric no answer can meet, with new words to show for it."""
    question["reference_answer"] = "Edited after the interview."
    for criterion in question["criteria"]:
        criterion["description"] = "Edited after the interview."
        for concept in criterion["concepts"]:
            concept["cues"] = ["zyzzyva"]


def edit_bank(rubrics: Path, question_id: str) -> None:
    """Gut the bank question `question_id` and the deep-dive template."""

    def gut_the_question(data: dict) -> None:
        for question in data["questions"]:
            if question["id"] == question_id:
                gut(question)

    edit_yaml(rubrics / DEEP_DIVE_FILE, lambda data: gut(data["question"]))
    for path in rubrics.glob("*.yaml"):
        if path.name != DEEP_DIVE_FILE:
            edit_yaml(path, gut_the_question)


def test_every_planned_question_is_stored_in_full_in_the_state_and_the_transcript(
    rubric_settings: Settings,
):
    interview_id = finished_interview(rubric_settings)
    with Interviewer(rubric_settings, provider=OfflineProvider()) as iv:
        state = iv.state(interview_id)
        bank = iv.bank
    deep_dive, asked = state["plan"]
    assert deep_dive.startswith("resume-") and asked in bank
    stored = {q["id"]: q for q in state["questions"]}
    assert set(state["plan"]) <= stored.keys()
    # A bank question is stored as its file has it: the field-wide claims come from the bank.
    assert Question.model_validate(stored[asked]) == bank.as_written(asked)
    assert len(bank.get(asked).misconceptions) > len(bank.as_written(asked).misconceptions)
    assert LINE in Question.model_validate(stored[deep_dive]).question

    saved = json.loads((rubric_settings.transcripts_dir / f"{interview_id}.json").read_text())
    assert saved["schema_version"] == SCHEMA_VERSION == 3
    assert saved["questions"] == state["questions"]


def test_an_edited_bank_changes_neither_report_nor_regrade_of_an_old_interview(
    rubric_settings: Settings, rubrics: Path
):
    interview_id = finished_interview(rubric_settings)
    before = load_bank(rubrics)
    transcript = TranscriptStore(rubric_settings.transcripts_dir).load(interview_id)
    deep_dive, asked = transcript.plan
    as_asked = InterviewQuestions.of_transcript(transcript, before)
    reference = {qid: as_asked[qid].reference_answer for qid in transcript.plan}

    edit_bank(rubrics, asked)
    after = load_bank(rubrics)
    assert after.get(asked).reference_answer == "Edited after the interview."
    assert after.deep_dive.question.reference_answer == "Edited after the interview."

    questions = InterviewQuestions.of_transcript(transcript, after)
    assert {qid: questions[qid].reference_answer for qid in transcript.plan} == reference
    assert questions[asked].criteria == before.get(asked).criteria
    assert questions[asked].misconceptions == before.get(asked).misconceptions

    result = regrade(rubric_settings, interview_id, provider=OfflineProvider(), bank=after)
    assert [q.question_id for q in result.questions] == [deep_dive, asked]
    assert all(q.score is not None and q.score > 0 for q in result.questions)
    assert [q.delta for q in result.questions] == [0.0, 0.0]


def test_an_interview_stored_before_questions_were_loads_and_grades_with_the_bank(
    rubric_settings: Settings, rubrics: Path
):
    interview_id = finished_interview(rubric_settings)
    store = TranscriptStore(rubric_settings.transcripts_dir)
    path = store.path_for(interview_id)
    data = json.loads(path.read_text(encoding="utf-8"))
    del data["questions"]
    path.write_text(json.dumps({**data, "schema_version": 1}), encoding="utf-8")
    old = store.load(interview_id)
    assert old.schema_version == 1 and old.questions == []

    deep_dive, asked = old.plan
    bank = load_bank(rubrics)
    questions = InterviewQuestions.of_transcript(old, bank)
    assert questions[asked] is bank.get(asked)
    assert LINE in questions[deep_dive].question  # rebuilt from the resume line it kept
    unchanged = regrade(rubric_settings, interview_id, provider=OfflineProvider())
    assert [q.delta for q in unchanged.questions] == [0.0, 0.0]

    edit_bank(rubrics, asked)  # with only ids stored, the bank of the day grades
    edited = regrade(rubric_settings, interview_id, provider=OfflineProvider())
    assert all(q.score is not None and q.delta < 0 for q in edited.questions)


def test_the_graph_asks_and_grades_from_its_stored_copy_when_the_bank_changes_midway(
    rubric_settings: Settings, rubrics: Path
):
    with Interviewer(rubric_settings, provider=OfflineProvider()) as iv:
        options = interview_options(questions=1, tracks=["mlops"], max_followups=0, seed=5)
        interview_id = iv.start(options).interview_id
        asked = iv.state(interview_id)["plan"][0]
    edit_bank(rubrics, asked)
    with Interviewer(rubric_settings, provider=OfflineProvider()) as iv:  # a restart
        assert iv.bank.get(asked).reference_answer == "Edited after the interview."
        result = iv.reply(interview_id, LATENCY_ANSWER)
        [grade] = iv.state(interview_id)["grades"]
    assert result.finished
    assert grade["score"] > 0, "graded against the rubric it was asked with, not the gutted one"


def test_a_stored_question_that_is_not_valid_is_named_by_regrade(
    rubric_settings: Settings, rubrics: Path
):
    interview_id = finished_interview(rubric_settings)
    store = TranscriptStore(rubric_settings.transcripts_dir)
    transcript = store.load(interview_id)
    broken = [{**transcript.questions[0], "difficulty": "impossible"}, *transcript.questions[1:]]
    data = transcript.model_dump()
    data["questions"] = broken
    store.save(Transcript.model_validate(data))
    result = regrade(rubric_settings, interview_id, provider=OfflineProvider())
    first, second = result.questions
    assert first.score is None and "stored with this interview is not valid" in first.error
    assert "difficulty" in first.error
    assert second.delta == 0.0


def test_review_shows_the_rubric_an_old_interview_was_asked_after_the_bank_changed(
    rubric_settings: Settings, rubrics: Path, monkeypatch: pytest.MonkeyPatch
):
    interview_id = finished_interview(rubric_settings)
    transcript = TranscriptStore(rubric_settings.transcripts_dir).load(interview_id)
    as_asked = InterviewQuestions.of_transcript(transcript, load_bank(rubrics))
    references = [as_asked[qid].reference_answer for qid in transcript.plan]
    edit_bank(rubrics, transcript.plan[1])

    monkeypatch.setenv("INTERVIEWER_TRANSCRIPTS_DIR", str(rubric_settings.transcripts_dir))
    monkeypatch.setenv("INTERVIEWER_RUBRICS_DIR", str(rubrics))
    monkeypatch.syspath_prepend(str(UI))
    at = AppTest.from_file(str(UI / "app.py"), default_timeout=60)
    at.query_params["interview"] = interview_id
    at.run()
    at.switch_page("views/review.py").run()
    assert not at.exception, at.exception
    shown = [t.value for t in at.text]
    assert all(reference in shown for reference in references)
    assert "Edited after the interview." not in shown
