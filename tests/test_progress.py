"""Progress across interviews: per-track history and the criteria missed most often."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from agent.grading.assessment import CriterionGrade
from agent.interview.interviewer import Interviewer, interview_options
from agent.interview.planner import select_questions
from agent.interview.progress import (
    RECENT,
    REVISIT_AFTER,
    level_changes,
    level_history,
    load_all,
    missed_criteria,
    practice_history,
    question_changes,
    question_history,
    time_labels,
)
from agent.interview.report import build_report
from agent.storage.transcripts import Grade, Transcript, TranscriptStore


def grade(question_id: str, track: str, scores: dict[str, int], difficulty: str = "mid") -> Grade:
    return Grade(
        question_id=question_id,
        question=f"What about {question_id}?",
        track=track,
        difficulty=difficulty,
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


def test_question_history_has_finished_interviews_only_oldest_first() -> None:
    later = transcript("b", "2026-02-01T10:00:00+00:00", [grade("q1", "mlops", {"x": 3})])
    earlier = transcript("a", "2026-01-01T10:00:00+00:00", [grade("q1", "mlops", {"x": 0})])
    unfinished = transcript(
        "c", "2026-03-01T10:00:00+00:00", [grade("q2", "llms", {"x": 3})], finished=False
    )
    points = question_history([later, unfinished, earlier])
    assert [(p.interview_id, p.question_id, p.score) for p in points] == [
        ("a", "q1", 0.0),
        ("b", "q1", 100.0),
    ]


def test_progress_compares_a_track_only_at_the_same_level() -> None:
    first = transcript(
        "a", "2026-01-01T10:00:00+00:00",
        [grade("easy", "mlops", {"x": 3}, "junior"), grade("hard", "mlops", {"x": 0}, "senior")],
    )
    second = transcript(
        "b", "2026-01-02T10:00:00+00:00", [grade("hard-2", "mlops", {"x": 1}, "senior")]
    )
    third = transcript("c", "2026-01-03T10:00:00+00:00", [grade("mid", "mlops", {"x": 3})])
    changes = level_changes(level_history(question_history([first, second, third])))
    by_level = {c.difficulty: c for c in changes}
    assert [c.difficulty for c in changes] == ["junior", "mid", "senior"]
    assert by_level["senior"].previous == 0.0 and by_level["senior"].delta == 100 / 3
    # A first score at a level compares with nothing: not with another level's score.
    assert by_level["junior"].delta is None and by_level["mid"].delta is None


def test_progress_compares_a_question_with_itself() -> None:
    runs = [
        transcript("a", "2026-01-01T10:00:00+00:00", [grade("q1", "mlops", {"x": 0})]),
        transcript("b", "2026-01-02T10:00:00+00:00", [grade("q2", "mlops", {"x": 3})]),
        transcript("c", "2026-01-03T10:00:00+00:00", [grade("q1", "mlops", {"x": 2})]),
    ]
    [change] = question_changes(question_history(runs))
    assert (change.question_id, change.previous, change.times) == ("q1", 0.0, 2)
    assert change.question == "What about q1?" and round(change.delta or 0) == 67


def test_time_labels_never_repeat_and_keep_time_order() -> None:
    at = datetime(2026, 1, 5, 9, 14, tzinfo=UTC)
    moments = [("c", at + timedelta(days=1)), ("a", at), ("b", at + timedelta(seconds=20))]
    assert time_labels(moments) == {
        "a": "Jan 05 09:14", "b": "Jan 05 09:14 (2)", "c": "Jan 06 09:14"
    }
    spans_years = time_labels([("a", at), ("b", at.replace(year=2027))])
    assert spans_years == {"a": "2026 Jan 05 09:14", "b": "2027 Jan 05 09:14"}


def _asked(tid: str, when: datetime, scores: dict[str, int]) -> Transcript:
    return transcript(
        tid, when.isoformat(), [grade(qid, "mlops", {"x": s}) for qid, s in scores.items()]
    )


def test_practice_avoids_recent_questions_and_brings_low_scores_back_after_a_while() -> None:
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    history = practice_history(
        [
            _asked("a", now - RECENT - timedelta(days=1), {"long-ago-good": 3, "long-ago-low": 1}),
            _asked("b", now - REVISIT_AFTER - timedelta(hours=1), {"low": 0, "good": 3}),
            _asked("c", now - timedelta(hours=2), {"today-low": 0, "good-then-low": 0}),
            _asked("d", now - REVISIT_AFTER * 2, {"good-then-low": 3}),
        ],
        now,
    )
    assert set(history.avoid) == {"good", "today-low", "good-then-low"}
    assert history.revisit == ("low", "long-ago-low"), "lowest score first"


def test_the_planner_leaves_recent_questions_out_and_brings_due_ones_back(bank) -> None:
    base = dict(role="ml-engineer", company_type="big-tech", tracks=["mlops"], count=3, seed=7)
    usual = select_questions(bank, **base)
    fresh = select_questions(bank, exclude=usual, **base)
    assert not set(fresh) & set(usual)
    every = [q.id for q in bank.questions if q.track == "mlops"]
    assert set(select_questions(bank, exclude=every, **base)) == set(usual), (
        "recent questions are still used when nothing else fits"
    )
    due = next(q for q in every if q not in usual)
    assert select_questions(bank, prefer=[due], **base)[0] == due


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
    assert len(level_history(question_history(readable))) >= 2
    assert missed_criteria(readable), "a non-answer misses every criterion"


def test_delete_removes_transcript_and_checkpoint(interviewer: Interviewer) -> None:
    result = interviewer.start(interview_options(questions=1, max_followups=0, seed=1))
    path = interviewer.store.path_for(result.interview_id)
    assert path.exists() and interviewer.exists(result.interview_id)
    interviewer.delete(result.interview_id)
    assert not path.exists() and not interviewer.exists(result.interview_id)


def test_an_interview_started_with_its_history_plans_around_it(interviewer: Interviewer) -> None:
    options = dict(questions=2, max_followups=0, seed=3, tracks=["llms"])
    first = interviewer.start(interview_options(**options))
    interviewer.reply(first.interview_id, "I don't know.")
    interviewer.reply(first.interview_id, "skip")
    readable, _ = load_all(interviewer.store)
    now = datetime.now(UTC)
    history = practice_history(readable, now)
    planned = interviewer.state(first.interview_id)["plan"]
    assert set(history.avoid) == set(planned)

    second = interviewer.start(interview_options(**options, history=history))
    state = interviewer.state(second.interview_id)
    assert state["settings"]["avoid"] == list(history.avoid)
    assert not set(state["plan"]) & set(planned), "the same seed, other questions"

    later = practice_history(readable, now + REVISIT_AFTER)
    assert set(later.revisit) == set(planned), "both scored low: they come back"
    third = interviewer.start(interview_options(**options, history=later))
    assert set(interviewer.state(third.interview_id)["plan"]) == set(planned)
