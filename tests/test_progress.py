"""Progress across interviews: per-track history and the criteria missed most often."""

from __future__ import annotations

from pathlib import Path

from agent.grading.assessment import CriterionGrade
from agent.interview.interviewer import Interviewer, interview_options
from agent.interview.progress import load_all, missed_criteria, track_history
from agent.interview.report import build_report
from agent.storage.transcripts import Grade, Transcript, TranscriptStore


def grade(question_id: str, track: str, scores: dict[str, int]) -> Grade:
    return Grade(
        question_id=question_id,
        question=f"What about {question_id}?",
        track=track,
        difficulty="mid",
        score=100 * sum(scores.values()) / (3 * len(scores)),
        criteria=[
            CriterionGrade(
                id=cid, score=s, max_score=3, missing=[] if s >= 2 else [f"{cid} idea"]
            )
            for cid, s in scores.items()
        ],
        flags=[],
        feedback="",
        hints=0,
        followups=0,
        answer="an answer",
        brain="offline",
        model="rubric-engine",
    )


def transcript(
    tid: str, created: str, grades: list[Grade], *, finished: bool = True
) -> Transcript:
    settings = {"role": "ml-engineer", "company_type": "big-tech", "tracks": []}
    report = build_report([g.model_dump() for g in grades], settings)
    return Transcript(
        id=tid,
        created_at=created,
        updated_at=created,
        status="finished" if finished else "in_progress",
        settings=settings,
        brain="offline",
        model="rubric-engine",
        plan=[g.question_id for g in grades],
        turns=[],
        grades=grades,
        report=report if finished else None,
    )


def test_track_history_has_finished_interviews_only_oldest_first() -> None:
    later = transcript("b", "2026-02-01T10:00:00+00:00", [grade("q1", "mlops", {"x": 3})])
    earlier = transcript("a", "2026-01-01T10:00:00+00:00", [grade("q1", "mlops", {"x": 0})])
    unfinished = transcript(
        "c", "2026-03-01T10:00:00+00:00", [grade("q2", "llms", {"x": 3})], finished=False
    )
    points = track_history([later, unfinished, earlier])
    assert [(p.interview_id, p.track, p.score) for p in points] == [
        ("a", "mlops", 0.0),
        ("b", "mlops", 100.0),
    ]


def test_missed_criteria_counts_misses_against_times_graded_most_missed_first() -> None:
    t1 = transcript(
        "a", "2026-01-01T10:00:00+00:00",
        [grade("q1", "mlops", {"percentiles": 0, "batching": 3})],
    )
    t2 = transcript(
        "b", "2026-01-02T10:00:00+00:00",
        [grade("q1", "mlops", {"percentiles": 1, "batching": 0}),
         grade("q2", "llms", {"context": 2})],
    )
    missed = missed_criteria([t1, t2])
    assert [(m.question_id, m.criterion_id, m.times_missed, m.times_graded) for m in missed] == [
        ("q1", "percentiles", 2, 2),
        ("q1", "batching", 1, 2),
    ]
    assert missed[0].top_missing() == ["percentiles idea"]
    assert missed[0].miss_rate == 1.0
    assert missed_criteria([t1, t2], limit=1)[0].criterion_id == "percentiles"


def test_a_missed_criterion_names_the_interview_that_missed_it_last() -> None:
    older = transcript("a", "2026-01-01T10:00:00+00:00", [grade("q1", "mlops", {"x": 0})])
    newer = transcript("b", "2026-01-02T10:00:00+00:00", [grade("q1", "mlops", {"x": 1})])
    passed = transcript("c", "2026-01-03T10:00:00+00:00", [grade("q1", "mlops", {"x": 3})])
    [missed] = missed_criteria([newer, passed, older])  # the one whose copy describes it
    assert missed.last_interview_id == "b" and missed.times_missed == 2


def test_load_all_lists_unreadable_files_instead_of_raising(tmp_path: Path) -> None:
    store = TranscriptStore(tmp_path)
    store.save(transcript("good-1", "2026-01-01T10:00:00+00:00", [grade("q", "mlops", {"x": 1})]))
    (tmp_path / "foreign.json").write_text('{"hello": "world"}', encoding="utf-8")
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    readable, unreadable = load_all(store)
    assert [t.id for t in readable] == ["good-1"]
    assert sorted(item.id for item in unreadable) == ["broken", "foreign"]
    assert all(item.error for item in unreadable)


def test_load_all_reads_each_file_once_and_trusts_what_it_read(
    tmp_path: Path, monkeypatch
) -> None:
    store = TranscriptStore(tmp_path)
    store.save(transcript("good-1", "2026-01-01T10:00:00+00:00", [grade("q", "mlops", {"x": 1})]))
    (tmp_path / "good-1.json").rename(tmp_path / "kept-under-another-name.json")
    reads: list[str] = []
    real_read = TranscriptStore._read

    def read(path: Path) -> Transcript:
        reads.append(path.name)
        return real_read(path)

    monkeypatch.setattr(TranscriptStore, "_read", staticmethod(read))
    readable, unreadable = load_all(store)
    assert [t.id for t in readable] == ["good-1"] and not unreadable
    assert reads == ["kept-under-another-name.json"]


def test_progress_reads_real_interviews(interviewer: Interviewer) -> None:
    for seed in (1, 2):
        result = interviewer.start(interview_options(questions=1, max_followups=0, seed=seed))
        interviewer.reply(result.interview_id, "I don't know.")
    readable, unreadable = load_all(interviewer.store)
    assert len(readable) == 2 and not unreadable
    assert len(track_history(readable)) == 2
    assert missed_criteria(readable), "a non-answer misses every criterion"


def test_delete_removes_transcript_and_checkpoint(interviewer: Interviewer) -> None:
    result = interviewer.start(interview_options(questions=1, max_followups=0, seed=1))
    path = interviewer.store.path_for(result.interview_id)
    assert path.exists() and interviewer.exists(result.interview_id)
    interviewer.delete(result.interview_id)
    assert not path.exists() and not interviewer.exists(result.interview_id)
