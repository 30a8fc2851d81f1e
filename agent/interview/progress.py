"""Progress across interviews, comparing like with like: the same question, or the same track
at the same level; the criteria most often missed; and what the next interview should avoid
(asked recently) or bring back (scored low a while ago)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from statistics import mean

from agent.grading.rubrics import DIFFICULTIES, MISSED_AT_OR_BELOW
from agent.interview.report import BANDS
from agent.storage.transcripts import EVERYONE, Listing, Scope, Transcript, TranscriptStore

# A question asked in the last RECENT days is left out of the next plan, unless it scored below
# the "good" band and was asked at least REVISIT_AFTER ago: then it comes back, to be practised.
RECENT = timedelta(days=14)
REVISIT_AFTER = timedelta(days=3)
REVISIT_BELOW = dict((name, floor) for floor, name in BANDS)["good"]


@dataclass(frozen=True)
class QuestionScore:
    """One question's score in one finished interview."""

    interview_id: str
    at: datetime
    question_id: str
    question: str
    track: str
    difficulty: str
    score: float


@dataclass(frozen=True)
class LevelScore:
    """One interview's mean score on the questions of one track at one level."""

    interview_id: str
    at: datetime
    track: str
    difficulty: str
    score: float
    questions: int


@dataclass(frozen=True)
class Change:
    """The latest score on one thing (a question, or a track at a level) beside the score the
    time before on the same thing, if there was one."""

    track: str
    difficulty: str
    latest: float
    previous: float | None
    times: int
    question_id: str = ""
    question: str = ""

    @property
    def delta(self) -> float | None:
        return None if self.previous is None else self.latest - self.previous


@dataclass(frozen=True)
class PracticeHistory:
    """What earlier interviews say about the next one's questions."""

    avoid: tuple[str, ...] = ()  # asked recently
    revisit: tuple[str, ...] = ()  # scored low a while ago, lowest first


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


def load_all(
    store: TranscriptStore, *, scope: Scope = EVERYONE
) -> tuple[list[Transcript], list[Listing]]:
    """Every readable transcript `scope` may see (oldest first) and the listings of files that
    could not be read."""
    transcripts, unreadable = store.read_all(scope)
    transcripts.sort(key=lambda t: parse_time(t.created_at))
    return transcripts, unreadable


def question_history(transcripts: Iterable[Transcript]) -> list[QuestionScore]:
    """Every graded question of finished interviews, oldest first."""
    points = [
        QuestionScore(
            t.id,
            parse_time(t.created_at),
            g.question_id,
            g.question,
            g.track,
            g.difficulty,
            g.score,
        )
        for t in transcripts
        if t.status == "finished"
        for g in t.grades
    ]
    points.sort(key=lambda p: p.at)
    return points


def _level_order(difficulty: str) -> int:
    return DIFFICULTIES.index(difficulty) if difficulty in DIFFICULTIES else len(DIFFICULTIES)


def level_history(points: Iterable[QuestionScore]) -> list[LevelScore]:
    """Per interview, the mean score of each track's questions at each level, oldest first."""
    groups: dict[tuple[str, str, str], list[QuestionScore]] = {}
    for p in points:
        groups.setdefault((p.interview_id, p.track, p.difficulty), []).append(p)
    levels = [
        LevelScore(iid, group[0].at, track, level, mean(p.score for p in group), len(group))
        for (iid, track, level), group in groups.items()
    ]
    levels.sort(key=lambda s: (s.at, s.track, _level_order(s.difficulty)))
    return levels


def level_changes(levels: Iterable[LevelScore]) -> list[Change]:
    """Each track at each level: the latest score and the one the time before, by track."""
    series: dict[tuple[str, str], list[LevelScore]] = {}
    for s in levels:
        series.setdefault((s.track, s.difficulty), []).append(s)
    return [
        Change(track, level, runs[-1].score, runs[-2].score if len(runs) > 1 else None, len(runs))
        for (track, level), runs in sorted(
            series.items(), key=lambda item: (item[0][0], _level_order(item[0][1]))
        )
    ]


def question_changes(points: Iterable[QuestionScore]) -> list[Change]:
    """Questions answered more than once: the latest score and the one before, most recently
    answered first."""
    series: dict[str, list[QuestionScore]] = {}
    for p in points:
        series.setdefault(p.question_id, []).append(p)
    repeated = [runs for runs in series.values() if len(runs) > 1]
    repeated.sort(key=lambda runs: runs[-1].at, reverse=True)
    return [
        Change(
            track=last.track,
            difficulty=last.difficulty,
            latest=last.score,
            previous=before.score,
            times=len(runs),
            question_id=last.question_id,
            question=last.question,
        )
        for runs in repeated
        for before, last in [runs[-2:]]
    ]


def time_labels(moments: Iterable[tuple[str, datetime]]) -> dict[str, str]:
    """A label for each (id, time), in time order and never twice the same: the date and the
    time of day, then "(2)", "(3)" for more in the same minute; the year when they span more
    than one."""
    ordered = sorted(dict(moments).items(), key=lambda item: item[1])
    years = {at.year for _, at in ordered}
    pattern = "%b %d %H:%M" if len(years) <= 1 else "%Y %b %d %H:%M"
    labels: dict[str, str] = {}
    seen: Counter[str] = Counter()
    for key, at in ordered:
        label = at.strftime(pattern)
        seen[label] += 1
        labels[key] = label if seen[label] == 1 else f"{label} ({seen[label]})"
    return labels


def practice_history(transcripts: Iterable[Transcript], now: datetime) -> PracticeHistory:
    """The questions to leave out of the next plan and those to bring back (see RECENT)."""
    last: dict[str, tuple[datetime, float | None]] = {}  # when last asked, and its score then
    for t in transcripts:
        at = parse_time(t.created_at)
        scored = {g.question_id: g.score for g in t.grades}
        asked = [turn.question_id for turn in t.turns if turn.kind == "question"]
        for qid in dict.fromkeys([*asked, *scored]):
            if qid and (qid not in last or at >= last[qid][0]):
                last[qid] = (at, scored.get(qid))
    avoid: list[str] = []
    revisit: list[tuple[float, str]] = []
    for qid, (at, score) in last.items():
        if score is not None and score < REVISIT_BELOW and now - at >= REVISIT_AFTER:
            revisit.append((score, qid))
        elif now - at < RECENT:
            avoid.append(qid)
    return PracticeHistory(tuple(avoid), tuple(qid for _, qid in sorted(revisit)))


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
    missed.sort(key=lambda m: (m.times_missed, m.miss_rate, m.last_missed or oldest), reverse=True)
    return missed[:limit]
