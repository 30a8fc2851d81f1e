"""The end-of-interview report: overall and per-track scores, per-question detail, what to study."""

from __future__ import annotations

from statistics import mean

from agent.grading.rubrics import MISSED_AT_OR_BELOW, TRACK_TITLES

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


def build_report(grades: list[dict], settings: dict) -> dict:
    """Summarise graded questions; study topics come from the criteria scored lowest."""
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
    return {
        "overall": overall,
        "band": band(overall),
        "questions_answered": len(grades),
        "per_track": {t: round(mean(s), 1) for t, s in per_track.items()},
        "questions": [
            {
                "question_id": g["question_id"],
                "track": g["track"],
                "score": g["score"],
                "band": band(g["score"]),
                "flags": g["flags"],
            }
            for g in grades
        ],
        "study_next": study[:12],
        "settings": {k: settings[k] for k in ("role", "company_type", "tracks") if k in settings},
    }


def report_summary(report: dict) -> str:
    """The interviewer's closing words."""
    if not report["questions_answered"]:
        return "The interview ended before any question was answered, so there is no score."
    lines = [
        f"That's the end of the interview. Overall: {report['overall']:.0f}/100 "
        f"({report['band']}) over {report['questions_answered']} question(s)."
    ]
    for track, score in report["per_track"].items():
        lines.append(f"- {TRACK_TITLES.get(track, track)}: {score:.0f}/100")
    uncertain = [q for q in report["questions"] if "uncertain" in q["flags"]]
    if uncertain:
        lines.append(
            f"{len(uncertain)} grade(s) are uncertain (the rubric engine's signals disagree); "
            "`interviewer regrade ID --profile NAME` grades them again with a model."
        )
    if report["study_next"]:
        topics = {f"{s['question_id']} / {s['criterion']}" for s in report["study_next"][:5]}
        lines.append("Study next: " + ", ".join(sorted(topics)))
    return "\n".join(lines)
