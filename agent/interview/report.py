"""The end-of-interview report: overall and per-track scores, per-question detail, what to study."""

from __future__ import annotations

from collections.abc import Sequence
from statistics import mean

from agent.grading.rubrics import MISSED_AT_OR_BELOW, TRACK_TITLES, Question
from agent.interview.job import coverage, job_topics
from agent.interview.verdict import build_verdict, whole

# The lowest 0-100 score of each band, best first; below the last one: "no credit".
BANDS = ((80, "excellent"), (60, "good"), (35, "partial"), (15, "weak"))


def band(score: float) -> str:
    """A plain-words band for a 0-100 score."""
    for floor, name in BANDS:
        if score >= floor:
            return name
    return "no credit"


def band_level(score: float) -> int:
    """The band of a 0-100 score as a level: 4 (excellent) down to 0 (no credit)."""
    for rank, (floor, _) in enumerate(BANDS):
        if score >= floor:
            return len(BANDS) - rank
    return 0


# A hint helps: the question it helped with scores at most this much (one hint, two or more).
HINT_CAPS = (100.0, 80.0, 60.0)


# A wrong claim corrected when challenged recovers part of the credit: the question scores at
# most this much. A claim repeated when challenged keeps the misconception's cap.
CORRECTED_CAP = 70.0


def hint_cap(hints: int) -> float:
    """The most a question answered after `hints` hints can score."""
    return HINT_CAPS[min(hints, len(HINT_CAPS) - 1)]


def build_report(grades: list[dict], settings: dict, asked: Sequence[Question] = ()) -> dict:
    """Summarise graded questions; study topics come from the criteria scored lowest. `asked`
    are the graded questions, for the report to say which topics of the job they covered."""
    per_track: dict[str, list[float]] = {}
    for grade in grades:
        per_track.setdefault(grade["track"], []).append(grade["score"])
    overall = round(mean(g["score"] for g in grades), 1) if grades else 0.0
    study: list[dict] = []
    for grade in grades:
        for criterion in grade["criteria"]:
            if criterion["score"] <= MISSED_AT_OR_BELOW:
                study.append(
                    {
                        "question_id": grade["question_id"],
                        "track": grade["track"],
                        "criterion": criterion["id"],
                        "missing": criterion["missing"],
                    }
                )
    skipped = sum(1 for g in grades if "skipped" in g["flags"])
    return {
        "overall": overall,
        "band": band(overall),
        "questions_answered": len(grades) - skipped,
        "questions_skipped": skipped,  # counted as 0 in the overall
        "per_track": {t: round(mean(s), 1) for t, s in per_track.items()},
        "questions": [
            {
                "question_id": g["question_id"],
                "track": g["track"],
                "score": g["score"],
                "band": band(g["score"]),
                "flags": g["flags"],
                "hints": g.get("hints", 0),
            }
            for g in grades
        ],
        "verdict": build_verdict(overall, grades, settings) if grades else None,
        "study_next": study[:12],
        # Each topic of the job description, with the questions that covered it.
        "job_topics": coverage(job_topics(settings.get("job") or ""), list(asked)),
        "settings": {k: settings[k] for k in ("role", "company_type", "tracks") if k in settings},
    }


def _job_lines(rows: list[dict]) -> list[str]:
    """Which topics of the job description the questions covered, and which they did not."""
    covered = [row["topic"] for row in rows if row["questions"]]
    missed = [row["topic"] for row in rows if not row["questions"]]
    lines = [f"The job's topics covered: {', '.join(covered)}."] if covered else []
    if missed:
        lines.append(f"Not covered by these questions: {', '.join(missed)}.")
    return lines


def report_summary(report: dict) -> str:
    """The interviewer's closing words."""
    if not report["questions_answered"] and not report.get("questions_skipped"):
        return "The interview ended before any question was answered, so there is no score."
    skipped = report.get("questions_skipped", 0)
    counted = f"{report['questions_answered']} answered"
    if skipped:
        counted += f", {skipped} skipped and counted as 0"
    lines = [
        f"That's the end of the interview. Overall: {whole(report['overall'])}/100 "
        f"({report['band']}) over {counted}."
    ]
    for track, score in report["per_track"].items():
        lines.append(f"- {TRACK_TITLES.get(track, track)}: {whole(score)}/100")
    lines += _verdict_lines(report.get("verdict"))
    uncertain = [q for q in report["questions"] if "uncertain" in q["flags"]]
    if uncertain:
        lines.append(
            f"{len(uncertain)} grade(s) are uncertain (the rubric engine's signals disagree); "
            "`interviewer regrade ID --profile NAME` grades them again with a model."
        )
    lines += _job_lines(report.get("job_topics") or [])
    lines += _study_lines(report["study_next"])
    return "\n".join(lines)


def _verdict_lines(verdict: dict | None) -> list[str]:
    if not verdict:
        return []
    lines = [
        f"Verdict for {verdict['for']}: {verdict['verdict'].upper()}.",
        f"  The questions settled at {verdict['level_held']} level.",
    ]
    for reason in verdict["reasons"]:
        quote = f' ("{reason["evidence"]}")' if reason["evidence"] else ""
        lines.append(f"  - {reason['text']}{quote}")
    lines.append(f"  To change it: {verdict['to_change']}")
    lines.append(f"  {verdict['caveat']}")
    return lines


def _study_lines(study: list[dict]) -> list[str]:
    topics: list[str] = []
    for item in study:
        topic = f"{'; '.join(item['missing'][:2])} ({TRACK_TITLES.get(item['track'], '')})"
        if item["missing"] and topic not in topics:
            topics.append(topic)
    return ["Study next: " + ", ".join(topics[:4])] if topics else []
