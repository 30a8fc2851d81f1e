"""What an answer asserts: negated mentions, hedges, things not done, and known wrong claims.

Only a sentence that supports an idea is evidence for it. A mention that is negated ("latency is
not a concern"), said of something the candidate did not do ("we didn't run a proper ablation"),
or hedged away ("I think it's something like batching, not sure") names the idea without
supporting it. A sentence that states one of the question's known misconceptions is a wrong
claim, which costs more than a gap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache

from agent.grading.rubrics import Misconception, Question, per_question
from agent.grading.text import Sentence, find_loose, stems

_NEGATORS = frozenset(
    "not never none nothing nobody cannot nor neither dont doesnt isnt arent wont cant shouldnt "
    "didnt wasnt werent avoid avoids avoided".split()
)
_NEGATION_WINDOW = 6
# Words a negation reaches through to the concept: "never really use batching", "don't need a
# feature store". Any other word between them takes the negation instead: "you cannot average
# percentiles" rejects averaging, not percentiles.
_TRANSPARENT = frozenset(
    "a an the any much many really actually even ever at all use using used need needs needed "
    "care about consider worry bother require requires matter matters want recommend do does did "
    "have has be is are was were to t s rely on more of them it they can could will would "
    "handle handles support supports include includes cover covers process deal with work "
    "understand generate produce".split()
)
# Words right after a cue that deny it: "latency is not a concern", "the model executes nothing".
_NEGATED_AFTER = frozenset(("not", "never", "nothing", "none"))
_CONTRAST = frozenset(("but", "however", "instead", "rather"))
_NOT_LIMITING = ("only", "just", "merely")
# Negations of doing ("didn't", "did not", "never", "no", "without"): the rest of the clause
# describes something that did not happen, so nothing in it is evidence, whatever the words
# between ("we didn't do a proper ablation"). A condition ("if you don't batch, ...") explains
# instead, so it is left alone.
_NOT_DONE = frozenset(("not", "never", "no", "without", "nobody", "nothing", "neither", "nor"))
_NOT_DONE_WINDOW = 8
_CONDITION = frozenset(("if", "unless", "when", "otherwise", "whether"))

# Phrases that withdraw what the sentence says: the speaker does not stand behind it.
_HEDGE = re.compile(
    r"\b(not (?:really |entirely |totally |100% |quite )?sure|no idea|(?:do not|don'?t|dont) "
    r"(?:really |actually )?know|i guess|never heard|heard (?:of|about)|not familiar|"
    r"(?:haven'?t|have not|never) (?:really )?(?:used|worked with|tried|done)|no experience|"
    r"(?:don'?t|can'?t|cannot|do not) remember|i forget|i'?m guessing|just guessing|"
    r"or something(?: like that)?|some kind of|something like that|kind of thing|"
    r"not (?:an|a) expert|to be honest i|vaguely)\b",
    re.IGNORECASE,
)

# A sentence that rejects or reports a wrong claim rather than stating it.
_REJECTING = re.compile(
    r"\b(instead of|rather than|myth|mistake|misconception|pitfall|wrong to|it'?s wrong|"
    r"people (?:think|assume|believe)|tempting to|naive(?:ly)?|common error|fallacy|not true|"
    r"misleading|contrary to|is false|isn'?t true|doesn'?t mean|does not mean|not necessarily)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Cue:
    """One cue phrase as stems."""

    stems: tuple[str, ...]

    @cached_property
    def needs(self) -> frozenset[str]:
        return frozenset(self.stems)


@lru_cache(maxsize=4096)
def compile_cues(cues: tuple[str, ...]) -> tuple[Cue, ...]:
    return tuple(Cue(stems(c)) for c in cues if stems(c))


def _is_negator(ws: tuple[str, ...], i: int) -> bool:
    w = ws[i]
    return w in _NEGATORS or (w == "t" and i > 0 and ws[i - 1].endswith("n"))


def negated(sentence: Sentence, start: int, length: int) -> bool:
    """A cue is negated by a negator shortly before it, or by `is not`/`never` right after it."""
    ws = sentence.words
    clause = sentence.clauses[start]
    for i in range(max(0, start - _NEGATION_WINDOW), start):
        if sentence.clauses[i] != clause:
            continue
        if (
            _is_negator(ws, i)
            and not _contrast_between(ws, i, start)
            and all(between in _TRANSPARENT for between in ws[i + 1 : start])
        ):
            nxt = ws[i + 1] if i + 1 < len(ws) else ""
            if nxt not in _NOT_LIMITING:
                return True
        if ws[i] == "no" and i == start - 1:
            return True
    end = start + length
    after = [w for k, w in enumerate(ws[end : end + 3], end) if sentence.clauses[k] == clause]
    for j, w in enumerate(after):
        if w in _NEGATED_AFTER or (w == "t" and j > 0 and after[j - 1].endswith("n")):
            nxt = after[j + 1] if j + 1 < len(after) else ""
            if nxt not in _NOT_LIMITING:
                return True
    return False


def not_done(sentence: Sentence, start: int) -> bool:
    """The cue at `start` sits in a clause saying something was not done or does not exist."""
    ws = sentence.words
    clause = sentence.clauses[start]
    first = start
    while first > 0 and sentence.clauses[first - 1] == clause:
        first -= 1
    if any(w in _CONDITION for w in ws[first:start]):
        return False
    for i in range(max(first, start - _NOT_DONE_WINDOW), start):
        if (ws[i] in _NOT_DONE or _is_negator(ws, i)) and not _contrast_between(ws, i, start):
            nxt = ws[i + 1] if i + 1 < len(ws) else ""
            if nxt not in _NOT_LIMITING:
                return True
    return False


def _contrast_between(ws: tuple[str, ...], i: int, j: int) -> bool:
    return any(w in _CONTRAST for w in ws[i + 1 : j])


@lru_cache(maxsize=8192)  # asked for each cue a sentence holds
def hedged(sentence: Sentence) -> bool:
    """The speaker withdraws the sentence ("not sure", "I guess", "or something like that")."""
    return bool(_HEDGE.search(sentence.text))


def supports(sentence: Sentence, start: int, length: int) -> bool:
    """The sentence names the cue at `start` and stands behind it."""
    return not (negated(sentence, start, length) or not_done(sentence, start) or hedged(sentence))


# --- known wrong claims ------------------------------------------------------------------------


@dataclass(frozen=True)
class _ClaimCue:
    """A claim cue's parts, and every stem they need (a sentence lacking one cannot match)."""

    parts: tuple[Cue, ...]
    needs: frozenset[str]


@lru_cache(maxsize=4096)
def _compile_claim_cues(cues: tuple[str, ...]) -> tuple[_ClaimCue, ...]:
    """Each cue as its parts: one phrase, or the ` & `-joined phrases that must share a clause."""
    out = []
    for cue in cues:
        parts = tuple(Cue(stems(p)) for p in cue.split("&") if stems(p))
        if parts:
            out.append(_ClaimCue(parts, frozenset(s for p in parts for s in p.stems)))
    return tuple(out)


# People word a claim with a few more words than its cue: "sets the weights exactly to zero".
_CLAIM_SLACK = 2


# A degree word before a claim makes it the nuanced truth, not the sweeping claim: "often
# near-lossless" is not "lossless".
_QUALIFIERS = frozenset(
    "near nearly almost often usually mostly largely typically roughly sometimes virtually "
    "practically generally".split()
)


def _denied(sentence: Sentence, start: int, length: int) -> bool:
    """A claim part is denied by a negation, including "not just" and "not only" ("it is not
    just a database" rejects "it is just a database"), or softened by a degree word."""
    ws = sentence.words
    if start >= 1 and ws[start - 1] in _QUALIFIERS:
        return True
    if start >= 2 and ws[start - 1] in _NOT_LIMITING and _is_negator(ws, start - 2):
        return True
    if ws[start] in _NOT_LIMITING and start >= 1 and _is_negator(ws, start - 1):
        return True
    # Any negation earlier in the clause denies it: "nobody gets to skip review", "I don't
    # promise identical outputs".
    return negated(sentence, start, length) or not_done(sentence, start)


def _states(sentence: Sentence, parts: tuple[Cue, ...]) -> bool:
    """The sentence asserts every part of a claim cue: all in one clause, none negated."""
    for clause in set(sentence.clauses):
        lo = sentence.clauses.index(clause)
        hi = lo + sentence.clauses.count(clause)
        if sentence.words[lo] in _CONDITION:
            continue  # "if you oversample before splitting, ..." supposes, it does not claim
        window = sentence.stems[lo:hi]
        spots = [find_loose(p.stems, window, _CLAIM_SLACK) for p in parts]
        if all(at >= 0 for at in spots) and not any(
            _denied(sentence, lo + at, len(p.stems)) for at, p in zip(spots, parts, strict=True)
        ):
            return True
    return False


@lru_cache(maxsize=8192)
def rejects(sentence: Sentence) -> bool:
    """The sentence reports or rejects a claim ("a common myth is ...") rather than making it."""
    return bool(_REJECTING.search(sentence.text))


# Per question: each claim cue under one of the stems it needs, so a sentence is only tried
# against cues whose key stem it contains.
_ClaimIndex = dict[str, list[tuple[int, _ClaimCue]]]
_PARTS: dict[tuple[int, ...], tuple[list[Misconception], _ClaimIndex]] = {}


def _index_of(claims: list[Misconception]) -> _ClaimIndex:
    """Claim cues compiled and indexed once per run of claim objects: a question's own, and the
    field-wide ones its track shares with every other question of the track."""
    key = tuple(map(id, claims))
    cached = _PARTS.get(key)
    if cached is not None:
        return cached[1]
    index: _ClaimIndex = {}
    for number, wrong in enumerate(claims):
        for cue in _compile_claim_cues(tuple(wrong.cues)):
            stem_key = max(cue.needs, key=len)  # a long stem is a rare one
            index.setdefault(stem_key, []).append((number, cue))
    if len(_PARTS) >= 1024:  # resume questions are built per interview: keep this bounded
        _PARTS.clear()
    _PARTS[key] = (claims, index)  # the claims kept alive, so their ids stay theirs
    return index


@per_question
def _claim_index(question: Question) -> list[tuple[int, _ClaimIndex]]:
    """The question's claim indexes, each with the position of its first claim."""
    claims = question.misconceptions
    own = next((i for i, m in enumerate(claims) if m.criterion is None), len(claims))
    parts = [(0, _index_of(claims[:own]))]
    if own < len(claims):
        parts.append((own, _index_of(claims[own:])))
    return parts


def claimed_misconceptions(question: Question, sents: list[Sentence]) -> dict[int, str]:
    """Index of each known wrong claim the answer states -> the first sentence stating it."""
    found: dict[int, str] = {}
    parts = _claim_index(question)
    for sentence in sents:
        if rejects(sentence):
            continue
        have = sentence.stem_set
        for offset, index in parts:
            for stem in have & index.keys():
                for number, cue in index[stem]:
                    if offset + number in found or not cue.needs <= have:
                        continue
                    if _states(sentence, cue.parts):
                        found[offset + number] = sentence.text
    return found
