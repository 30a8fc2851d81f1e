"""Interview transcripts: one schema-versioned JSON file per interview, written atomically."""

from __future__ import annotations

import json
import os
import re
import stat
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agent.grading.assessment import CriterionGrade, Flag, WrongClaim
from agent.grading.rubrics import TRACK_TITLES, criterion_title

# 3: an interview names the signed-in user it belongs to, if any.
# 2: the questions an interview plans are stored with it (1: their ids only).
SCHEMA_VERSION = 3
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
# Far above any interview the CLI and the app can produce (answers are capped), and low enough
# that a stray huge file is named in the listing instead of being read into memory.
MAX_TRANSCRIPT_BYTES = 64 * 2**20


class TranscriptError(Exception):
    """A transcript cannot be found, read, parsed or written; the message says which and why."""


def check_id(interview_id: str) -> str:
    """Reject ids that could escape the transcripts folder or are not ours."""
    if not isinstance(interview_id, str) or not _ID.fullmatch(interview_id):
        raise TranscriptError(
            f"invalid interview id {interview_id!r}: use letters, digits, '-' and '_' only"
        )
    return interview_id


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Turn(_Model):
    id: str | None = None  # the message's id in the interview (none in older transcripts)
    role: Literal["interviewer", "candidate"]
    kind: str
    text: str
    question_id: str | None = None
    at: str
    latency_ms: float | None = None


class Grade(_Model):
    question_id: str
    question: str
    track: str
    difficulty: str
    score: float = Field(ge=0, le=100)
    criteria: list[CriterionGrade]
    flags: list[Flag]
    feedback: str
    hints: int
    followups: int
    answer: str
    brain: str
    model: str
    followup_criterion: str | None = None
    followup: str | None = None
    note: str = ""  # why the offline engine graded it instead of the model, if it did
    claims: list[WrongClaim] = Field(default_factory=list)  # known misconceptions it stated
    # Wrong claims put back to the candidate (claim, quote, outcome, reply), and stretch probes
    # asked on a strong answer (probe, answer, strong).
    challenges: list[dict] = Field(default_factory=list)
    stretch: list[dict] = Field(default_factory=list)


class Transcript(_Model):
    schema_version: Literal[1, 2, 3] = SCHEMA_VERSION
    id: str
    owner: str | None = None  # the signed-in user's e-mail (or subject); none in local mode
    created_at: str
    updated_at: str
    status: Literal["in_progress", "finished"]
    settings: dict
    brain: str
    model: str
    plan: list[str]
    # The planned questions as they were then (`Question` data, checked where they are looked
    # up: agent.interview.questions), so old interviews regrade and report as they were graded.
    questions: list[dict] = []
    turns: list[Turn]
    grades: list[Grade]
    report: dict | None = None
    checkpoint_id: str | None = None  # the state it was written from; another is newer

    @field_validator("questions")
    @classmethod
    def _questions_have_ids(cls, questions: list[dict]) -> list[dict]:
        if not all(isinstance(q.get("id"), str) for q in questions):
            raise ValueError("every stored question must have a text id")
        return questions

    @field_validator("report")
    @classmethod
    def _report_readable(cls, report: dict | None) -> dict | None:
        """What listings and renderings read from a report is there, with its type."""
        if report is None:
            return None
        number = (int, float)
        if not isinstance(report.get("overall"), number) or isinstance(report["overall"], bool):
            raise ValueError("report.overall must be a number")
        if not isinstance(report.get("band"), str):
            raise ValueError("report.band must be text")
        per_track = report.get("per_track")
        if not isinstance(per_track, dict) or not all(
            isinstance(v, number) and not isinstance(v, bool) for v in per_track.values()
        ):
            raise ValueError("report.per_track must map tracks to numbers")
        return report


def write_atomic(path: Path, data: str) -> None:
    """Write `data` to `path` via a synced temp file and a rename, so a crash never leaves a
    half-written file. Raises OSError."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class Scope:
    """Whose interviews a reader may see: everyone's (local mode, a coach of everyone), or those
    of the owners named and of the domains listed ("@bootcamp.example")."""

    everyone: bool = True
    owners: frozenset[str] = frozenset()
    domains: tuple[str, ...] = ()

    def allows(self, owner: str | None) -> bool:
        if self.everyone:
            return True
        if owner is None:
            return False
        owner = owner.lower()
        return owner in self.owners or owner.endswith(self.domains)


EVERYONE = Scope()


@dataclass(frozen=True)
class Listing:
    """One stored interview: readable with a summary, or not with the reason.

    `key` is what the store knows it by (a file's name without `.json`, a row's id); `path` is
    its file, for the transcripts folder only."""

    id: str
    key: str
    path: Path | None
    ok: bool
    error: str = ""
    created_at: str = ""
    status: str = ""
    role: str = ""
    company_type: str = ""
    tracks: tuple[str, ...] = ()
    brain: str = ""
    model: str = ""
    score: float | None = None
    owner: str | None = None
    checkpoint_id: str | None = None


def listing_of(key: str, t: Transcript, path: Path | None = None) -> Listing:
    """What a listing shows of transcript `t`, stored under `key`."""
    try:
        return Listing(
            id=t.id,
            key=key,
            path=path,
            ok=True,
            created_at=t.created_at,
            status=t.status,
            role=str(t.settings.get("role", "")),
            company_type=str(t.settings.get("company_type", "")),
            tracks=tuple(sorted({g.track for g in t.grades}) or _strings(t.settings, "tracks")),
            brain=t.brain,
            model=t.model,
            score=t.report["overall"] if t.report else None,
            owner=t.owner,
            checkpoint_id=t.checkpoint_id,
        )
    except (KeyError, TypeError, ValueError) as exc:  # valid JSON, but not our shape
        raise TranscriptError(f"{key}: not a transcript ({exc!r})") from None


def parse_transcript(raw: str | bytes, name: str) -> Transcript:
    """A transcript from its JSON text; `name` says where it came from in the error."""
    try:
        return Transcript.model_validate(json.loads(raw))
    except json.JSONDecodeError as exc:
        raise TranscriptError(f"{name}: not valid JSON ({exc.msg})") from None
    except RecursionError:
        raise TranscriptError(f"{name}: not a transcript (nested too deeply)") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise TranscriptError(f"{name}: not a transcript ({where}: {first['msg']})") from None


def transcript_json(transcript: Transcript) -> str:
    """A transcript as the JSON text it is stored as."""
    try:
        return transcript.model_dump_json(indent=2)
    except ValueError as exc:  # e.g. text that cannot be encoded as UTF-8
        raise TranscriptError(f"could not save transcript {transcript.id}: {exc}") from None


class TranscriptStore:
    """The transcripts folder."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def path_for(self, interview_id: str) -> Path:
        return self.directory / f"{check_id(interview_id)}.json"

    def location(self, interview_id: str) -> str:
        return str(self.path_for(interview_id))

    def save(self, transcript: Transcript) -> Path:
        """Write via a temp file and rename, so a crash never leaves a half-written transcript."""
        path = self.path_for(transcript.id)
        data = transcript_json(transcript)
        try:
            write_atomic(path, data)
        except OSError as exc:
            raise TranscriptError(
                f"could not save transcript {transcript.id} to {self.directory}: "
                f"{exc.strerror or exc}"
            ) from None
        return path

    def known(self, interview_ids: Iterable[str]) -> set[str]:
        """Those of `interview_ids` that have a transcript file, readable or not."""
        found = set()
        for interview_id in interview_ids:
            try:
                if self.path_for(interview_id).exists():
                    found.add(interview_id)
            except TranscriptError:
                found.add(interview_id)  # not an id of ours: never repaired as one
        return found

    def load(self, interview_id: str) -> Transcript:
        path = self.path_for(interview_id)
        if not path.exists():
            raise TranscriptError(f"no transcript with id {interview_id!r} in {self.directory}")
        return self._read(path)

    @staticmethod
    def _read(path: Path) -> Transcript:
        return parse_transcript(_read_regular(path), path.name)

    def list(self, scope: Scope = EVERYONE) -> list[Listing]:
        """Every `*.json` file, newest first; unreadable files are listed, never raised."""
        return newest_first(listing for listing, _ in self.scan(scope))

    def read_all(self, scope: Scope = EVERYONE) -> tuple[list[Transcript], list[Listing]]:
        """Every readable transcript, and the listings of the files that are not: each file is
        read once."""
        return split_readable(self.scan(scope))

    def scan(self, scope: Scope = EVERYONE) -> Iterator[tuple[Listing, Transcript | None]]:
        """Each `*.json` file's listing and, when it is readable, its transcript; of another
        scope's interviews, nothing (and unreadable files only to a reader of everyone's)."""
        if not self.directory.is_dir():
            return
        for path in self.directory.glob("*.json"):
            try:
                t = self._read(path)
                if scope.allows(t.owner):
                    yield self.listing(path.stem, t), t
            except TranscriptError as exc:
                if scope.everyone:
                    yield (
                        Listing(id=path.stem, key=path.stem, path=path, ok=False, error=str(exc)),
                        None,
                    )

    def listing(self, key: str, t: Transcript) -> Listing:
        """What the listing shows of transcript `t`, stored as `key`.json."""
        return listing_of(key, t, self.directory / f"{key}.json")

    def delete(self, interview_id: str) -> None:
        path = self.path_for(interview_id)
        if not path.exists():
            raise TranscriptError(f"no transcript with id {interview_id!r}")
        path.unlink()


def newest_first(listings: Iterable[Listing]) -> list[Listing]:
    """Readable transcripts newest first, then the files that could not be read."""
    return sorted(listings, key=lambda item: (item.ok, item.created_at), reverse=True)


def split_readable(
    scanned: Iterable[tuple[Listing, Transcript | None]],
) -> tuple[list[Transcript], list[Listing]]:
    """The readable transcripts of a scan, and the listings of the files that were not."""
    pairs = list(scanned)
    return [t for _, t in pairs if t is not None], [item for item, t in pairs if t is None]


_KINDS = {
    stat.S_IFDIR: "a folder",
    stat.S_IFIFO: "a named pipe",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a device",
    stat.S_IFBLK: "a device",
}


def _read_regular(path: Path) -> str:
    """The text of a regular file of at most MAX_TRANSCRIPT_BYTES; anything else (a named pipe,
    a device, a folder, a huge file) is refused without waiting on it or reading it in."""
    try:
        # Non-blocking, so opening a named pipe with no writer returns at once instead of
        # waiting for one; it changes nothing for a regular file.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise TranscriptError(f"{path.name}: unreadable: {exc.strerror or exc}") from None
    too_large = TranscriptError(
        f"{path.name}: too large to be a transcript (over {MAX_TRANSCRIPT_BYTES // 2**20} MB)"
    )
    try:
        info = os.fstat(fd)
        kind = stat.S_IFMT(info.st_mode)
        if kind != stat.S_IFREG:
            what = _KINDS.get(kind, "not a file")
            raise TranscriptError(f"{path.name}: not a regular file ({what}); left alone")
        if info.st_size > MAX_TRANSCRIPT_BYTES:
            raise too_large
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(MAX_TRANSCRIPT_BYTES + 1)  # it may have grown since
    except OSError as exc:
        raise TranscriptError(f"{path.name}: unreadable: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if len(data) > MAX_TRANSCRIPT_BYTES:
        raise too_large
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TranscriptError(f"{path.name}: unreadable: {exc}") from None


def _strings(data: dict, key: str) -> list[str]:
    value = data.get(key)
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def to_markdown(t: Transcript) -> str:
    """A readable report and conversation."""
    lines = [f"# Mock interview {t.id}", ""]
    s = t.settings
    lines.append(
        f"- Date: {t.created_at}\n- Role: {s.get('role')}\n"
        f"- Company type: {s.get('company_type')}\n"
        f"- Graded by: {t.brain} ({t.model})\n- Status: {t.status}"
    )
    if t.report:
        lines += [
            "",
            "## Report",
            "",
            f"Overall: **{t.report['overall']:.0f}/100** ({t.report['band']})",
            "",
        ]
        for track, score in t.report["per_track"].items():
            lines.append(f"- {TRACK_TITLES.get(track, track)}: {score:.0f}/100")
    for i, g in enumerate(t.grades):
        title = f"Q{i + 1} · {TRACK_TITLES.get(g.track, g.track)}, {g.difficulty}"
        lines += ["", f"### {title}: {g.score:.0f}/100", "", f"> {g.question}", ""]
        if g.flags:
            lines.append(f"Flags: {', '.join(g.flags)}\n")
        lines.append("| criterion | score | evidence | missing |")
        lines.append("|---|---|---|---|")
        for c in g.criteria:
            evidence = " / ".join(f"“{_cell(e)}”" for e in c.evidence) or "-"
            missing = "; ".join(_cell(m) for m in c.missing) or "-"
            name = criterion_title(c.id)
            lines.append(f"| {name} | {c.score}/{c.max_score} | {evidence} | {missing} |")
    lines += ["", "## Conversation", ""]
    for turn in t.turns:
        who = "Interviewer" if turn.role == "interviewer" else "Candidate"
        body = _quote(turn.text)
        lines.append(f"**{who}** ({turn.kind}):\n\n{body}\n")
    return "\n".join(lines)


# What Markdown or HTML would act on inside a table cell; a backslash makes each one literal.
_CELL_SPECIAL = re.compile(r"([\\`*_\[\]()<>|~&!#])")


def _cell(text: str) -> str:
    # Evidence quotes the candidate: escaped, so it shows as text, never as a tag or a link.
    return _CELL_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _quote(text: str) -> str:
    # Candidate text is data: shown as a quoted code block so Markdown and HTML stay inert.
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"
