"""Pre-screening an answer before grading: injection attempts, non-answers, commands."""

from __future__ import annotations

import functools
import re
from typing import Literal

from agent.grading.text import STOPWORDS, clean, stems, words

Command = Literal["skip", "hint", "repeat", "end"]

_COMMANDS: dict[str, Command] = {
    "skip": "skip",
    "next question": "skip",
    "hint": "hint",
    "give me a hint": "hint",
    "repeat": "repeat",
    "repeat the question": "repeat",
    "end": "end",
    "end interview": "end",
    "end the interview": "end",
    "stop": "end",
    "quit": "end",
    "exit": "end",
}

_INJECTION = re.compile(
    r"""
    # an order to drop the instructions, opening a sentence or a bracketed note; mid-sentence
    # ("an attacker writes ignore previous instructions") it is discussion, not an attack
    (?:^|[.!?:\[(]\s*|\n\s*)(please\s+|now\s+|first\s+|also\s+)?(ignore|disregard|forget|override|bypass)\b[^.\n]{0,40}\b(instruction|rubric|rule|prompt|criteria|guideline|above|previous|prior)s?\b
  | \b(give|award|assign|grant)\b[^.\n]{0,20}\b(full|maximum|max|perfect|top|highest|100|10/10|4/4)\b[^.\n]{0,15}\b(mark|score|point|grade|credit)s?\b
  | \b(score|grade|mark|rate)\s+(this|me|it|my\s+answer|the\s+answer)\s+(as\s+|at\s+|with\s+|an?\s+)?(100|10\s*/\s*10|4\s*/\s*4|5\s*/\s*5|full|maximum|perfect|excellent|4)\b
  | \b(you\s+are|act\s+as|acting\s+as)\s+(now\s+)?(the|an?|my)?\s*(grader|evaluator|examiner|judge|scorer|assessor)\b
  | \byou\s+(must|will|should)\s+(output|return|give|respond|answer|assign)\b
  | ^\s*(system|assistant|developer)\s*:
  | <\|?\s*(im_start|im_end|system|endoftext)\s*\|?>
  | </?\s*(system|instructions?|candidate_answer|answer)\s*>
  | \b(new|updated|real)\s+instructions?\b
  | \bjailbreak\b
  | \b(ignore|disregard|forget|override|bypass)\s+(your|the\s+grading|the\s+scoring|all\s+grading)\s+(rubric|instructions?|criteria|rules|guidelines)
  | \b(note|message|instructions?|reminder)\s+(to|for)\s+(the\s+)?(ai|llm|model|assessment|grading|grader|evaluator|assessor|scorer|scoring)\b
  | \b(grading|assessment|scoring|evaluation|evaluator)\s+(model|ai|llm|system|bot)\s*[,:]
  | \b(important|attention|note)\s+(for|to)\s+(the\s+)?(scoring|grading|grader|evaluator|evaluation|assessment)\b
  | \byou\s+(are|'re)\s+(now\s+)?(required|instructed|obliged|in\s+\w+\s+mode)\b
  | \bas\s+the\s+(grader|evaluator|examiner|assessor|scorer|marker)\b
  | \b(grader|evaluator|examiner|assessor|scorer|marker)s?\s+(can|may|could)\s+(assume|give|award|assign|record|mark|score)\b
  | \b(record|award|give)\s+(me\s+|this\s+|it\s+)?(full|maximum|perfect|top)\s+(marks|score|points|credit)
  | "(score|grade|label|rating|overall)"\s*:\s*"?\d
  | "criteria"\s*:\s*[\[{]
  | [\[(]?\b(grader|evaluator|examiner|assessor|scorer|marker)s?\s*[:\]]
  | \b(grader|evaluator|examiner|assessor|scorer)s?\s+(must|should|shall|will|please|is\s+instructed)\b
  | \b(grader|grading|evaluator|evaluation|examiner|assessor|scorer|scoring)\s+(note|instruction|message|directive)s?\b
  | \b(record|output|give|assign|award|return|set)\s+(a\s+|the\s+)?(score|label|grade|mark|rating)\s+(of\s+|to\s+|as\s+)?\d
  | \bassign\s+((it|me|this|this\s+answer|the\s+answer|a)\s+)?((score|grade|mark)\s+(of\s+)?)?(\d+\s*/\s*\d+|full\s+marks|max(imum)?\s+(score|marks|points))
  | \brubric\s+(update|override|change|v\d)
  | \b(skip|no\s+need\s+for)\s+(the\s+|any\s+)?(probing|follow-?up\s+questions?)\b
  | "?\b(score|label)"?\s*[:=]\s*"?(100|4)\b
    """,
    re.IGNORECASE | re.VERBOSE | re.MULTILINE,
)

_NON_ANSWERS = {
    "i don't know",
    "i do not know",
    "i dont know",
    "don't know",
    "dont know",
    "idk",
    "no idea",
    "i have no idea",
    "not sure",
    "i'm not sure",
    "im not sure",
    "i am not sure",
    "no clue",
    "dunno",
    "pass",
    "i pass",
    "next",
    "no",
    "nothing",
    "n/a",
    "na",
    "?",
    "...",
}

_NON_ANSWER_WORDS = set(
    "i im don t dont do not know no idea sure clue pass sorry can cannot answer this that "
    "question remember recall have any unfortunately honestly really next move on lets let us "
    "am it s skip haven never heard of".split()
)


def command_of(text: str) -> Command | None:
    """A candidate command when the whole message is one (`/skip`, `hint`, `end interview`)."""
    key = " ".join(clean(text).strip().lower().lstrip("/").split()).rstrip(".!")
    return _COMMANDS.get(key)


def is_injection(text: str) -> bool:
    """True when the text tries to instruct or manipulate the grader."""
    return bool(injection_spans(text))


@functools.lru_cache(maxsize=16)  # a turn screens the same answer in several places
def injection_spans(text: str) -> tuple[str, ...]:
    """The parts of the text that try to instruct or manipulate the grader."""
    return tuple(m.group(0) for m in _INJECTION.finditer(clean(text)))


# A sentence that declines to answer: not knowing, not having done it, passing it on.
_DEFLECTION = re.compile(
    r"\b(not (?:really |entirely |quite )?sure|no idea|i (?:do not|don'?t|dont) (?:really )?know|"
    r"i (?:couldn'?t|could not|can'?t|cannot) (?:really )?(?:explain|say|answer|go into|remember)|"
    r"i(?:'ve| have)? (?:haven'?t|have not|never|not) (?:really |actually )?(?:used|worked|done|"
    r"built|had|dealt|tried|thought|been involved|gone deep|looked)|read up|google it|"
    r"look (?:it |that )?up|ask (?:someone|somebody)|leave (?:it|that) to|"
    r"(?:question|one) for (?:the|our)|not my (?:area|field)|sorry|next question|"
    r"can we (?:skip|move|do)|need more experience|heard of (?:it|them|that)|not something i|"
    r"no experience|(?:don'?t|do not) have an answer|too (?:big|hard) for me|on the spot)\b",
    re.IGNORECASE,
)
_DEFLECTING_SHARE = 0.5  # of the words, for an answer that declines in more words than "idk"
_DEFLECTING_MAX_WORDS = 90


def is_non_answer(text: str) -> bool:
    """Empty, 'I don't know', 'pass' and other ways of not answering, short or padded out
    ("I haven't worked on deployment, I'd have to read up on it")."""
    stripped = " ".join(clean(text).strip().lower().split()).rstrip(".!")
    if not stripped or stripped in _NON_ANSWERS:
        return True
    ws = words(stripped)
    if not ws:
        return True
    if len(ws) <= 12 and all(w in _NON_ANSWER_WORDS for w in ws):
        return True
    if len(ws) > _DEFLECTING_MAX_WORDS:
        return False
    pieces = [p for p in re.split(r"(?<=[.!?;])\s+|\n+", clean(text)) if words(p)]
    declined = sum(len(words(p)) for p in pieces if _DEFLECTION.search(p))
    return declined / len(ws) >= _DEFLECTING_SHARE


# Words that fill an echo of the question without adding to it.
_ECHO_FILLER = frozenset(
    stems(
        "great good interesting important key main really very question answer think believe "
        "say would like many several various lot lots different difference differences thing "
        "things aspect aspects factor factors matter matters crucial essential fundamental "
        "basically actually definitely certainly course well yes so okay ok topic area areas "
        "role play plays significant big huge there both way ways involve involves consider "
        "considered quite rather pretty fairly overall general generally terms regard respect "
        "mention mentioned discuss talk talking point points depend depends context"
    )
)
_ECHO_NEW_STEMS = 2  # at most this many words of its own beyond the question and filler


def is_question_echo(question: str, answer: str) -> bool:
    """The answer restates the question (perhaps padded with filler) and adds nothing of its own."""
    asked = {s for s in stems(question) if s not in STOPWORDS}
    content = [s for s in stems(answer) if s not in STOPWORDS and len(s) > 2]
    shared = {s for s in content if s in asked}
    new = {s for s in content if s not in asked and s not in _ECHO_FILLER}
    return len(shared) >= 2 and len(new) <= _ECHO_NEW_STEMS
