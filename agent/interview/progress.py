"""Progress across interviews: per-track scores over time and the criteria most often missed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from agent.grading.rubrics import MISSED_AT_OR_BELOW
from agent.storage.transcripts import Listing, Transcript, TranscriptStore


@dataclass(frozen=True)
class TrackScore:
    """One track's score in one finished interview."""

    interview_id: str
    at: datetime
    track: str
    score: float


@dataclass
class MissedCriterion:
    """How often one rubric criterion was missed across interviews."""

    question_id: str
    criterion_id: str
    track: str
    question: str
    times_missed: int = 0
    times_graded: int = 0
    last_missed: datetime | None = None
    # The interview that missed it last: its copy of the question is the one to describe.
    last_interview_id: str = ""
    missing: Counter[str] = field(default_factory=Counter)

    @property
    def miss_rate(self) -> float:
        return self.times_missed / self.times_graded if self.times_graded else 0.0

    def top_missing(self, n: int = 3) -> list[str]:
        """The concepts most often left out, most frequent first."""
        return [concept for concept, _ in self.missing.most_common(n)]


def parse_time(stamp: str) -> datetime:
    """An ISO timestamp as an aware datetime; unparseable stamps sort first."""
    try:
        parsed = datetime.fromisoformat(stamp)
    except (TypeError, ValueError):
        return datetime.min.replace(tzinfo=UTC)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def load_all(store: TranscriptStore) -> tuple[list[Transcript], list[Listing]]:
    """Every readable transcript (oldest first) and the listings of files that could not be read."""
    transcripts, unreadable = store.read_all()
    transcripts.sort(key=lambda t: parse_time(t.created_at))
    return transcripts, unreadable


def track_history(transcripts: Iterable[Transcript]) -> list[TrackScore]:
    """Per-track scores of finished interviews, oldest first."""
    points: list[TrackScore] = []
    for t in transcripts:
        if t.status != "finished" or not t.report:
            continue
        for track, score in (t.report.get("per_track") or {}).items():
            points.append(TrackScore(t.id, parse_time(t.created_at), track, float(score)))
    points.sort(key=lambda p: (p.at, p.track))
    return points


def missed_criteria(transcripts: Iterable[Transcript], limit: int = 10) -> list[MissedCriterion]:
    """Criteria missed at least once, most often missed first (then by miss rate, then recency)."""
    table: dict[tuple[str, str], MissedCriterion] = {}
    for t in transcripts:
        at = parse_time(t.created_at)
        for grade in t.grades:
            for criterion in grade.criteria:
                key = (grade.question_id, criterion.id)
                entry = table.setdefault(
                    key,
                    MissedCriterion(grade.question_id, criterion.id, grade.track, grade.question),
                )
                entry.times_graded += 1
                if criterion.score <= MISSED_AT_OR_BELOW:
                    entry.times_missed += 1
                    entry.missing.update(criterion.missing)
                    if entry.last_missed is None or at >= entry.last_missed:
                        entry.last_missed = at
                        entry.last_interview_id = t.id
    missed = [m for m in table.values() if m.times_missed]
    oldest = datetime.min.replace(tzinfo=UTC)
    missed.sort(
        key=lambda m: (m.times_missed, m.miss_rate, m.last_missed or oldest), reverse=True
    )
    return missed[:limit]
