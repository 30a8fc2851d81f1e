"""The question bank: rubric data files loaded into validated models."""

from __future__ import annotations

import copy
import functools
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from string import Template
from typing import Annotated, Literal, TypeVar

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from agent.config import RUBRICS_DIR

Track = Literal[
    "ml-system-design",
    "mlops",
    "llms",
    "prompting-rag",
    "enterprise-ai",
    "projects",
]
Difficulty = Literal["junior", "mid", "senior"]
Role = Literal["ml-engineer", "ai-engineer"]
CompanyType = Literal["startup", "big-tech", "enterprise"]

TRACKS: tuple[str, ...] = Track.__args__
DIFFICULTIES: tuple[str, ...] = Difficulty.__args__
ROLES: tuple[str, ...] = Role.__args__
COMPANY_TYPES: tuple[str, ...] = CompanyType.__args__

TRACK_TITLES: dict[str, str] = {
    "ml-system-design": "ML system design",
    "mlops": "MLOps & model deployment",
    "llms": "LLMs & foundation models",
    "prompting-rag": "Prompt engineering, RAG & fine-tuning",
    "enterprise-ai": "AI in the enterprise",
    "projects": "Projects & resume deep-dive",
}

# Short words in criterion ids that are words, not acronyms (see criterion_title).
_NOT_ACRONYMS = frozenset(
    "a an and or the of to in on for vs per not non why how use by at is it as no new off set own "
    "end few out pre was buy bad fix fit log top low gap key tip pro con mix one two all any can "
    "get run raw way who".split()
)


def criterion_title(criterion_id: str) -> str:
    """A criterion id as people read it: 'cd-pipeline' -> 'CD pipeline', 'why-not-rnns' ->
    'Why not RNNs'."""
    words = []
    for word in criterion_id.split("-"):
        if len(word) <= 3 and word.isalpha() and word not in _NOT_ACRONYMS:
            word = word.upper()
        elif len(word) in (4, 5) and word.endswith("s") and not set(word[:-1]) & set("aeiouy"):
            word = word[:-1].upper() + "s"
        words.append(word)
    title = " ".join(words)
    return title[:1].upper() + title[1:]


MAX_LEVEL = 3
# A criterion scored at or below this level counts as missed: the report's "study next", the
# feedback's "to improve" and the progress page's most-missed criteria all use it.
MISSED_AT_OR_BELOW = 1
# libyaml's safe loader when PyYAML was built with it: the same documents, ten times faster
# (the bank loads in ~0.07 s instead of ~0.7 s, which every CLI command and app start pays).
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


_T = TypeVar("_T")
_PER_QUESTION_LIMIT = 1024  # CV deep-dives are built per interview: caches stay bounded


def per_question(compute: Callable[[Question], _T]) -> Callable[[Question], _T]:
    """Memoise `compute` once per question object. Questions are keyed by identity (a frozen
    model with lists does not hash), each entry holding its question so the id stays its own."""
    cache: dict[int, tuple[Question, _T]] = {}

    @functools.wraps(compute)
    def cached(question: Question) -> _T:
        hit = cache.get(id(question))
        if hit is not None and hit[0] is question:
            return hit[1]
        value = compute(question)
        if len(cache) >= _PER_QUESTION_LIMIT:
            cache.clear()
        cache[id(question)] = (question, value)
        return value

    return cached


class RubricError(ValueError):
    """A rubric file is unreadable or invalid; the message names file, question and field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# Answers are split into clauses at these words, which drops them: a cue holding one never matches.
_CLAUSE_WORDS = re.compile(r"\b(but|while|whereas|although)\b", re.IGNORECASE)
# A misconception cue's parts must sit in one clause, so no part may hold a clause break.
_CLAUSE_BREAKS = re.compile(r"[,:;()\u2014\u2013]|\s-\s")


def _unmatchable(cue: str) -> str | None:
    found = _CLAUSE_WORDS.search(cue)
    if found:
        return f"cue {cue!r} holds {found.group(0)!r}, a clause break, so it can never match"
    return None


class Concept(_Strict):
    """One idea a criterion looks for, with the phrasings that count as naming it."""

    name: str = Field(min_length=1)
    cues: list[str] = Field(min_length=1)

    @field_validator("cues", mode="before")
    @classmethod
    def _numbers_are_cues_too(cls, cues: object) -> object:
        # YAML reads an unquoted 429 or 0.5 as a number; as a cue it means the text "429".
        if isinstance(cues, list):
            return [
                str(c) if isinstance(c, int | float) and not isinstance(c, bool) else c
                for c in cues
            ]
        return cues

    @field_validator("cues")
    @classmethod
    def _cues_not_blank(cls, cues: list[str]) -> list[str]:
        if any(not cue.strip() for cue in cues):
            raise ValueError("cues must not be blank")
        problems = [p for p in map(_unmatchable, cues) if p]
        if problems:
            raise ValueError("; ".join(problems))
        return cues


class Levels(_Strict):
    """Anchored descriptors for each score on the 0-3 scale."""

    none: str = Field(alias="0", min_length=1)
    weak: str = Field(alias="1", min_length=1)
    good: str = Field(alias="2", min_length=1)
    excellent: str = Field(alias="3", min_length=1)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def describe(self, level: int) -> str:
        return (self.none, self.weak, self.good, self.excellent)[level]


class Criterion(_Strict):
    """One thing a strong answer must do, with how to recognise and probe it."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    description: str = Field(min_length=1)
    weight: float = Field(gt=0, le=10)
    concepts: list[Concept] = Field(min_length=1)
    levels: Levels
    probe: str = Field(min_length=1)

    @property
    def max_score(self) -> int:
        return MAX_LEVEL


class Misconception(_Strict):
    """A known wrong claim; stating it earns nothing, caps the criterion it undermines and caps
    the whole answer below a pass.

    A cue is a phrase, or phrases joined by ` & ` that must all appear in one sentence, in any
    order ("l2 & exactly zero"), so one cue catches the many ways people word the same claim.
    """

    claim: str = Field(min_length=1)
    correction: str = ""
    # The criterion the claim undermines; none for a field-wide claim, which undermines the
    # answer as a whole.
    criterion: str | None = None
    cues: list[str] = Field(min_length=1)

    _cues = field_validator("cues", mode="before")(Concept._numbers_are_cues_too.__func__)

    @field_validator("cues")
    @classmethod
    def _parts_not_blank(cls, cues: list[str]) -> list[str]:
        if any(not part.strip() for cue in cues for part in cue.split("&")):
            raise ValueError("cues and their ' & ' parts must not be blank")
        problems = [p for p in map(_unmatchable, cues) if p] + [
            f"cue {cue!r} has a part with punctuation that splits clauses; a cue's parts must "
            "fit in one clause"
            for cue in cues
            if any(_CLAUSE_BREAKS.search(part) for part in cue.split("&"))
        ]
        if problems:
            raise ValueError("; ".join(problems))
        return cues


class Question(_Strict):
    """A bank question with its rubric."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    track: Track
    difficulty: Difficulty
    roles: list[Role] = Field(default_factory=lambda: list(ROLES), min_length=1)
    company_types: list[CompanyType] = Field(
        default_factory=lambda: list(COMPANY_TYPES), min_length=1
    )
    question: str = Field(min_length=10)
    hint: str = Field(min_length=1)
    criteria: list[Criterion] = Field(min_length=3, max_length=6)
    reference_answer: str = Field(min_length=1)
    # Harder questions one level up, for an answer that already covers the rubric.
    stretch: list[str] = Field(default_factory=list)
    common_mistakes: list[str] = Field(min_length=1)
    misconceptions: list[Misconception] = Field(default_factory=list)
    source: Literal["seed", "bank", "resume"] = "bank"

    @model_validator(mode="after")
    def _criterion_ids_unique(self) -> Question:
        ids = [c.id for c in self.criteria]
        dupes = [i for i, n in Counter(ids).items() if n > 1]
        if dupes:
            raise ValueError(f"duplicate criterion ids: {', '.join(dupes)}")
        unknown = [
            m.criterion for m in self.misconceptions if m.criterion and m.criterion not in ids
        ]
        if unknown:
            raise ValueError(f"misconception names unknown criterion: {', '.join(unknown)}")
        return self

    def criterion(self, criterion_id: str) -> Criterion:
        for criterion in self.criteria:
            if criterion.id == criterion_id:
                return criterion
        raise KeyError(criterion_id)


class FieldMisconception(_Strict):
    """A wrong claim common across the field, checked in every answer of the tracks it names."""

    claim: str = Field(min_length=1)
    correction: str = Field(min_length=1)
    tracks: list[Track] = Field(min_length=1)
    cues: list[str] = Field(min_length=1)

    _cues = field_validator("cues", mode="before")(Concept._numbers_are_cues_too.__func__)
    _valid = field_validator("cues")(Misconception._parts_not_blank.__func__)

    def as_misconception(self) -> Misconception:
        return Misconception(claim=self.claim, correction=self.correction, cues=self.cues)


class FieldFile(_Strict):
    """The top level of one `rubrics/field/*.yaml` file."""

    misconceptions: list[FieldMisconception] = Field(min_length=1)

    def as_misconceptions(self) -> list[Misconception]:
        return [m.as_misconception() for m in self.misconceptions]


class RubricFile(_Strict):
    """The top level of one `rubrics/*.yaml` file."""

    questions: list[Question] = Field(min_length=1)


DEEP_DIVE_FILE = "deep-dive.yaml"
CLAIM = "claim"  # the placeholder, `$claim`, that stands for the resume line in the template


class ConceptCues(_Strict):
    """Cues the deep-dive template adds to one of its question's concepts."""

    concept: str = Field(min_length=1)
    cues: list[str] = Field(min_length=1)

    _cues = field_validator("cues", mode="before")(Concept._numbers_are_cues_too.__func__)
    _valid = field_validator("cues")(Concept._cues_not_blank.__func__)


class DeepDiveTemplate(_Strict):
    """`rubrics/deep-dive.yaml`: the question asked about one resume line. `question` is a
    question like the bank's, with `$claim` in its text where the line goes; the other fields
    say how the line changes it (the file explains each)."""

    question: Question
    measured_question: str = Field(min_length=10)
    measured_weights: dict[str, Annotated[float, Field(gt=0, le=10)]] = Field(default_factory=dict)
    speed_cues: ConceptCues
    quality_cues: ConceptCues
    techniques: str = Field(min_length=1)

    @field_validator("question")
    @classmethod
    def _question_places_the_claim(cls, question: Question) -> Question:
        _check_placeholders(question.question)
        return question

    @field_validator("measured_question")
    @classmethod
    def _measured_places_the_claim(cls, text: str) -> str:
        return _check_placeholders(text)

    @field_validator("measured_weights")
    @classmethod
    def _weights_name_criteria(cls, weights: dict, info: ValidationInfo) -> dict:
        question = info.data.get("question")
        unknown = [c for c in weights if question and c not in {k.id for k in question.criteria}]
        if unknown:
            raise ValueError(f"unknown criterion: {', '.join(unknown)}")
        return weights

    @field_validator("speed_cues", "quality_cues")
    @classmethod
    def _cues_name_a_concept(cls, cues: ConceptCues, info: ValidationInfo) -> ConceptCues:
        _check_concept(info.data.get("question"), cues.concept)
        return cues

    @field_validator("techniques")
    @classmethod
    def _techniques_name_a_concept(cls, name: str, info: ValidationInfo) -> str:
        _check_concept(info.data.get("question"), name)
        return name


def _check_placeholders(text: str) -> str:
    template = Template(text)
    names = set(template.get_identifiers()) if template.is_valid() else None
    if names != {CLAIM}:
        raise ValueError(
            f"the text must hold ${CLAIM} and no other placeholder (write $$ for a dollar sign)"
        )
    return text


def _check_concept(question: Question | None, name: str) -> None:
    if question is None:
        return  # the question itself is invalid, and named as such
    found = [c for k in question.criteria for c in k.concepts if c.name == name]
    if len(found) != 1:
        what = "no concept" if not found else "more than one concept"
        raise ValueError(f"the question has {what} named {name!r}")


class Bank:
    """All questions, by id, in file order, each with the field-wide wrong claims of its track
    after its own."""

    def __init__(
        self,
        questions: list[Question],
        field: list[FieldMisconception] | None = None,
        deep_dive: DeepDiveTemplate | None = None,
    ) -> None:
        self.field = list(field or [])
        self.deep_dive = deep_dive
        self._written = {q.id: q for q in questions}
        # One shared list per track, so every question of a track holds the same claim objects
        # (the engine indexes their cues once per track, not once per question).
        self._field_by_track = {
            track: [m.as_misconception() for m in self.field if track in m.tracks]
            for track in TRACKS
        }
        questions = [self.with_field(q) for q in questions]
        self._questions = {q.id: q for q in questions}
        self.questions = questions

    def with_field(self, question: Question) -> Question:
        """`question` with the field-wide wrong claims of its track after its own."""
        claims = self._field_by_track[question.track]
        known = {m.claim for m in question.misconceptions}
        extra = [m for m in claims if m.claim not in known]
        if not extra:
            return question
        return question.model_copy(update={"misconceptions": [*question.misconceptions, *extra]})

    def __contains__(self, question_id: object) -> bool:
        return question_id in self._questions

    def __len__(self) -> int:
        return len(self.questions)

    def get(self, question_id: str) -> Question:
        try:
            return self._questions[question_id]
        except KeyError:
            raise KeyError(f"unknown question id: {question_id}") from None

    def as_written(self, question_id: str) -> Question:
        """The question as its file has it, without the field-wide claims: what an interview
        stores of it."""
        self.get(question_id)  # the same error for an unknown id
        return self._written[question_id]

    def with_extra(self, extra: list[Question]) -> Bank:
        """A bank that also holds `extra` (e.g. resume deep-dive questions). It shares this
        bank's question objects and field-wide claims, so what the engine has worked out for
        them (cue indexes) serves every interview, not only the first."""
        added = [q for q in extra if q.id not in self._questions]
        if not added:
            return self
        bank = copy.copy(self)
        bank._written = {**self._written, **{q.id: q for q in added}}
        bank.questions = [*self.questions, *(self.with_field(q) for q in added)]
        bank._questions = {q.id: q for q in bank.questions}
        return bank

    def coverage(self) -> dict[str, dict[str, int]]:
        """Question counts per track and difficulty."""
        table = {t: dict.fromkeys(DIFFICULTIES, 0) for t in TRACKS}
        for q in self.questions:
            table[q.track][q.difficulty] += 1
        return table


def default_rubrics_dir() -> Path:
    """The shipped bank: rubrics/ in a checkout, package data once installed."""
    return RUBRICS_DIR


def _format_error(path: Path, data: object, error: ValidationError) -> str:
    lines = []
    for err in error.errors():
        loc = list(err["loc"])
        where = ""
        if len(loc) >= 2 and loc[0] == "questions" and isinstance(loc[1], int):
            qid = "?"
            questions = data.get("questions") if isinstance(data, dict) else None
            if isinstance(questions, list) and loc[1] < len(questions):
                item = questions[loc[1]]
                if isinstance(item, dict):
                    qid = str(item.get("id", "?"))
            where = f" question {qid!r}"
            loc = loc[2:]
        field = ".".join(str(part) for part in loc) or "(top level)"
        lines.append(f"{path.name}:{where} field {field}: {err['msg']}")
    return "; ".join(lines)


def load_file(path: Path) -> list[Question]:
    """Load and validate one rubric file."""
    data = _read_yaml(path, path.name)
    try:
        return RubricFile.model_validate(data).questions
    except ValidationError as exc:
        raise RubricError(_format_error(path, data, exc)) from None


def load_bank(directory: Path | None = None) -> Bank:
    """Load every `*.yaml` file in `directory`; duplicate ids across files are an error."""
    directory = directory or default_rubrics_dir()
    paths = sorted(p for p in directory.glob("*.yaml") if p.name != DEEP_DIVE_FILE)
    if not paths:
        raise RubricError(f"no rubric files (*.yaml) in {directory}")
    questions: list[Question] = []
    seen: dict[str, str] = {}
    for path in paths:
        for q in load_file(path):
            if q.id in seen:
                raise RubricError(
                    f"{path.name}: question {q.id!r} field id: already defined in {seen[q.id]}"
                )
            seen[q.id] = path.name
            questions.append(q)
    deep_dive = directory / DEEP_DIVE_FILE
    template = load_deep_dive(deep_dive) if deep_dive.exists() else None
    return Bank(questions, load_field(directory / "field"), template)


def load_deep_dive(path: Path) -> DeepDiveTemplate:
    """Load and validate the resume deep-dive template."""
    data = _read_yaml(path, path.name)
    try:
        return DeepDiveTemplate.model_validate(data)
    except ValidationError as exc:
        raise RubricError(_format_error(path, data, exc)) from None


def _read_yaml(path: Path, name: str) -> object:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)
    except (OSError, UnicodeDecodeError) as exc:
        raise RubricError(f"{name}: cannot read: {exc}") from None
    except yaml.YAMLError as exc:
        raise RubricError(f"{name}: not valid YAML: {exc}") from None


def load_field(directory: Path) -> list[FieldMisconception]:
    """The field-wide wrong claims in `directory/*.yaml` (none when the folder is absent)."""
    out: list[FieldMisconception] = []
    for path in sorted(directory.glob("*.yaml")):
        data = _read_yaml(path, f"field/{path.name}")
        try:
            out.extend(FieldFile.model_validate(data).misconceptions)
        except ValidationError as exc:
            problems = "; ".join(
                f"field {'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
            )
            raise RubricError(f"field/{path.name}: {problems}") from None
    return out
