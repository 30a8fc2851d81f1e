"""What a model must return for one answer, and the checks its reply passes before it counts.

The model proposes; this module decides. A criterion's points stand only on quotes found verbatim
in the answer ("no quote, no points"), scores are clamped to the rubric's scale, the overall
0-100 is computed here from the criterion weights, and the injection pre-screen caps the answer
whatever the model said. `Preview` reads a reply while it streams, to pass the interviewer's words
on as they are written.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeGuard

import pydantic_core
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent.grading.assessment import Assessment, CriterionGrade, Flag
from agent.grading.engine import CAP_OFF_TOPIC, screen_answer, weighted_score
from agent.grading.feedback import feedback_text
from agent.grading.rubrics import MAX_LEVEL, Question
from agent.grading.screen import injection_spans
from agent.interview.next_step import Spoken

MAX_QUOTES = 4
MIN_FOLLOWUP_WORDS = 4  # shorter "questions" from a weak model give way to the rubric's probe
FEEDBACK_CHARS = 800  # the most of a model's feedback that is kept
FOLLOWUP_CHARS = 500  # the most of a model's follow-up question that is kept
_MIN_QUOTE_CHARS = 4


class GradeError(ValueError):
    """The model's reply is not a usable grade; the message is fed back to it when re-asking."""


class CriterionReply(BaseModel):
    model_config = ConfigDict(extra="ignore")

    evidence: list[str] = Field(default_factory=list)
    score: int
    missing: list[str] = Field(default_factory=list)


class GradeReply(BaseModel):
    """The JSON object the model returns for one answer."""

    model_config = ConfigDict(extra="ignore")

    criteria: dict[str, CriterionReply]
    off_topic: bool = False
    feedback: str = ""
    followup_criterion: str | None = None
    followup: str | None = None


def response_schema(question: Question) -> dict:
    """The JSON schema for `question`'s reply: one entry per criterion, ids fixed by the rubric.

    Written out inline (no $ref) and within the subset OpenAI's strict mode and llama.cpp's
    grammar converter both take; key order is the order we want the model to think in.
    """
    ids = [c.id for c in question.criteria]
    criterion = {
        "type": "object",
        "properties": {
            "evidence": {"type": "array", "items": {"type": "string"}},
            "score": {"type": "integer", "enum": list(range(MAX_LEVEL + 1))},
            "missing": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["evidence", "score", "missing"],
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {
            "criteria": {
                "type": "object",
                "properties": {cid: criterion for cid in ids},
                "required": ids,
                "additionalProperties": False,
            },
            "off_topic": {"type": "boolean"},
            "feedback": {"type": "string"},
            "followup_criterion": {"anyOf": [{"type": "string", "enum": ids}, {"type": "null"}]},
            "followup": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        },
        "required": ["criteria", "off_topic", "feedback", "followup_criterion", "followup"],
        "additionalProperties": False,
    }


# --- reading the reply -------------------------------------------------------------------------

_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.DOTALL)


def strip_wrapping(text: str) -> str:
    """Drop reasoning blocks and code fences around the JSON."""
    text = _THINK.sub("", text)
    if re.match(r"\s*<think>", text, re.IGNORECASE):  # never closed: no answer after it
        return ""
    fenced = _FENCE.search(text)
    return (fenced.group(1) if fenced else text).strip()


def extract_json(text: str) -> object:
    """The first JSON value in a reply, ignoring prose before and after it."""
    body = strip_wrapping(text)
    start = body.find("{")
    if start < 0:
        raise GradeError("the reply contains no JSON object")
    try:
        value, _ = json.JSONDecoder().raw_decode(body[start:])
    except json.JSONDecodeError as exc:
        raise GradeError(f"the JSON is malformed ({exc.msg} at character {exc.pos})") from None
    return value


def parse_reply(text: str, question: Question) -> GradeReply:
    """The model's reply as a validated `GradeReply`, or `GradeError` saying what is wrong."""
    data = extract_json(text)
    try:
        reply = GradeReply.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'top level'}: {e['msg']}"
            for e in exc.errors()[:4]
        )
        raise GradeError(f"the JSON does not match the schema ({problems})") from None
    ids = [c.id for c in question.criteria]
    missing = [cid for cid in ids if cid not in reply.criteria]
    if missing:
        raise GradeError(f"criteria missing from the reply: {', '.join(missing)}")
    return reply


def partial_fields(buffer: str) -> dict:
    """What can be read so far from a reply still streaming in (strings may be cut short)."""
    if re.search(r"<think>", buffer, re.IGNORECASE) and not re.search(
        r"</think>", buffer, re.IGNORECASE
    ):
        return {}
    body = _THINK.sub("", buffer)
    start = body.find("{")
    if start < 0:
        return {}
    try:
        value = pydantic_core.from_json(body[start:], allow_partial="trailing-strings")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


# --- checking it -------------------------------------------------------------------------------

_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u00a0": " ",
    }
)
_ELLIPSIS = re.compile(r"\.\.\.|\u2026")


def normalise(text: str) -> str:
    """Case-, width- and whitespace-insensitive form used to compare quotes with the answer."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES).casefold()
    return " ".join(text.split())


def quote_in(quote: str, answer_norm: str) -> bool:
    """True when every piece of `quote` (split at an ellipsis) appears in order, at word
    boundaries, in the normalised answer."""
    pos = 0
    pieces = [p.strip(" \t\"'.,;:") for p in _ELLIPSIS.split(normalise(quote))]
    pieces = [p for p in pieces if p]
    if not pieces or sum(len(p) for p in pieces) < _MIN_QUOTE_CHARS:
        return False
    for piece in pieces:
        found = re.compile(r"(?<!\w)" + re.escape(piece) + r"(?!\w)").search(answer_norm, pos)
        if not found:
            return False
        pos = found.end()
    return True


def _verified(quotes: list[str], answer_norm: str, blocked: list[str]) -> list[str]:
    """Quotes found in the answer that are not part of an injection attempt."""
    out: list[str] = []
    for quote in quotes:
        q = " ".join(quote.split())
        if not quote_in(q, answer_norm) or q in out:
            continue
        q_norm = normalise(q)
        if any(quote_in(q, span) or quote_in(span, q_norm) for span in blocked):
            continue
        out.append(q)
    return out[:MAX_QUOTES]


def overall(question: Question, grades: list[CriterionGrade]) -> float:
    """0-100 from the criterion weights, as the offline engine weighs them; the model's own
    total is never used."""
    return round(weighted_score(question, grades), 1)


def to_assessment(
    question: Question,
    answer: str,
    asked_probes: tuple[str, ...],
    reply: GradeReply,
    *,
    brain: str,
    model: str,
) -> Assessment:
    """The checked grade: quotes verified, scores clamped, caps and flags applied."""
    answer_norm = normalise(answer)
    blocked = [normalise(s) for s in injection_spans(answer)]
    grades: list[CriterionGrade] = []
    for criterion in question.criteria:
        item = reply.criteria[criterion.id]
        quotes = _verified(item.evidence, answer_norm, blocked)
        score = min(max(item.score, 0), criterion.max_score) if quotes else 0
        missing = [" ".join(m.split())[:200] for m in item.missing if m.strip()][:4]
        grades.append(
            CriterionGrade(
                id=criterion.id,
                score=score,
                max_score=criterion.max_score,
                evidence=quotes if score else [],
                missing=missing,
                level=criterion.levels.describe(score),
            )
        )
    # The answer screens cap a model's grade as they cap the engine's.
    screened = screen_answer(question, answer)
    score = min(overall(question, grades), screened.cap)
    flags: list[Flag] = list(screened.flags)
    if reply.off_topic:
        flags.append("off-topic")
        score = min(score, CAP_OFF_TOPIC)
    target, text = _followup(question, asked_probes, reply)
    feedback = squeeze(reply.feedback, FEEDBACK_CHARS)
    return Assessment(
        question_id=question.id,
        score=score,
        criteria=grades,
        flags=flags,
        feedback=feedback or feedback_text(question, grades, score, flags, screened.claims),
        claims=screened.wrong_claims(),
        followup_criterion=target,
        followup=text,
        brain=brain,
        model=model,
    )


def _followup(
    question: Question, asked: tuple[str, ...], reply: GradeReply
) -> tuple[str | None, str | None]:
    """The model's follow-up when it names a rubric criterion not yet probed; else none."""
    target = reply.followup_criterion
    if not probe_target(target, question, asked):
        return None, None
    text = squeeze(reply.followup or "", FOLLOWUP_CHARS)
    if len(text.split()) < MIN_FOLLOWUP_WORDS:
        text = question.criterion(target).probe
    return target, text


def squeeze(text: str, limit: int) -> str:
    """A model's text as the interviewer says it: whitespace collapsed, cut at `limit`."""
    return " ".join(text.split())[:limit]


def probe_target(target: object, question: Question, asked: tuple[str, ...]) -> TypeGuard[str]:
    """Whether a criterion the model names is one to probe: in the rubric, not asked yet."""
    return (
        isinstance(target, str)
        and any(c.id == target for c in question.criteria)
        and target not in asked
    )


def all_scored(fields: dict, question: Question) -> bool:
    """A streaming reply has scored every criterion (so what it says next is about the grade)."""
    criteria = fields.get("criteria")
    return isinstance(criteria, dict) and all(
        isinstance(criteria.get(c.id), dict) and isinstance(criteria[c.id].get("score"), int)
        for c in question.criteria
    )


@dataclass(frozen=True)
class Speech:
    """Where a model's words go while it writes them.

    `says(fields)` names the part of the reply the interviewer will say next, with the words
    it opens with, once the fields read so far settle it (None until then, or when nothing the
    model writes is said next); `emit` gets the words as they stream.
    """

    says: Callable[[dict], Spoken | None]
    emit: Callable[[str], None]


class Preview:
    """Passes the interviewer's next words to `speech.emit` while a reply streams in.

    Text is whitespace-normalised exactly as the final grade is, so the preview is always a
    prefix of the message that follows it.
    """

    _LIMITS = {"feedback": FEEDBACK_CHARS, "followup": FOLLOWUP_CHARS}

    def __init__(self, speech: Speech, question: Question) -> None:
        self.speech = speech
        self.question = question
        self.spoken: Spoken | None = None
        self.sent = 0
        self.enabled = True

    def feed(self, buffer: str) -> None:
        if not self.enabled:
            return
        fields = partial_fields(buffer)
        if self.spoken is None:
            if not all_scored(fields, self.question):
                return
            self.spoken = self.speech.says(fields)
            if self.spoken is None:
                return
        name, opening = self.spoken
        value = fields.get(name)
        if not isinstance(value, str):
            return
        # A follow-up too short to use gives way to the rubric's probe: wait until it is not
        # (a word more than the minimum: the last may still be growing).
        if name == "followup" and not self.sent and len(value.split()) <= MIN_FOLLOWUP_WORDS:
            return
        text = opening + squeeze(value, self._LIMITS[name])
        if len(text) > self.sent:
            self.speech.emit(text[self.sent :])
            self.sent = len(text)

    def restart(self) -> None:
        """A new attempt: once words were shown, a second reply must not repeat them."""
        if self.sent:
            self.enabled = False
        else:
            self.spoken = None
