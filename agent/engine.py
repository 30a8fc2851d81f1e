"""The offline rubric engine: grades an answer against a question's criteria, no model needed.

It finds each criterion's concepts in the answer by stemmed cue phrases, ignores mentions that are
negated ("latency is not a concern"), credits a concept more when the sentence that names it also
explains (a reason, an example, a number, a trade-off), and keeps those sentences as evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from agent.assessment import Assessment, CriterionGrade, Flag
from agent.rubrics import MAX_LEVEL, MISSED_AT_OR_BELOW, Criterion, Question
from agent.screen import injection_spans, is_non_answer
from agent.text import Sentence, find, sentences, stem, stems

_STOPWORDS = frozenset(
    "a an the and or but if then so because as of to in on at by for with from into about than "
    "that this these those it its is are was were be been being do does did have has had i we you "
    "they he she my our your their me us them which who what when where why how not no can could "
    "would should will may might must also just more most very such there here all any each some "
    "while whereas since".split()
)
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
_EXPLAIN_STEMS = frozenset(
    stem(w)
    for w in (
        "because so since therefore thus hence which means meaning lead leads causes result "
        "reduce reduces increase increases improve improves lower higher faster slower cheaper "
        "tradeoff trade but however whereas while instead unlike rather versus vs example "
        "instance if when allows enables helps avoid cost costs expense depends otherwise "
        "measure measured compared baseline better worse risk instead ensure prevents without "
        "like such check verify validate test need needs keep goal order per"
    ).split()
)
_MIN_EXPLAIN_WORDS = 7
_ABSOLUTE = re.compile(
    r"\b(always (?:lowers?|reduces?|improves?|better|faster|wins?|works?)|the only way|only thing|"
    r"no need to|doesn'?t matter|does not matter|"
    r"don'?t matter|is just noise|can (?:safely )?ignore|guarantee[sd]?|"
    r"completely (?:eliminat|remov|solv)\w*|"
    r"100% (?:accurate|reliable)|no downside|zero risk)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Cue:
    stems: tuple[str, ...]


@dataclass
class _Hit:
    sentence: Sentence
    explains: bool


@lru_cache(maxsize=4096)
def _compile_cues(cues: tuple[str, ...]) -> tuple[_Cue, ...]:
    return tuple(_Cue(stems(c)) for c in cues if stems(c))


def _negated(sentence: Sentence, start: int, length: int) -> bool:
    """A cue is negated by a negator shortly before it, or by `is not`/`never` right after it."""
    ws = sentence.words
    clause = sentence.clauses[start]
    for i in range(max(0, start - _NEGATION_WINDOW), start):
        if sentence.clauses[i] != clause:
            continue
        w = ws[i]
        contraction = w == "t" and i > 0 and ws[i - 1].endswith("n")
        if (
            (w in _NEGATORS or contraction)
            and not _contrast_between(ws, i, start)
            and all(between in _TRANSPARENT for between in ws[i + 1 : start])
        ):
            nxt = ws[i + 1] if i + 1 < len(ws) else ""
            if nxt not in ("only", "just", "merely"):
                return True
        if w == "no" and i == start - 1:
            return True
    end = start + length
    after = [w for k, w in enumerate(ws[end : end + 3], end) if sentence.clauses[k] == clause]
    for j, w in enumerate(after):
        if w in ("not", "never") or (w == "t" and j > 0 and after[j - 1].endswith("n")):
            nxt = after[j + 1] if j + 1 < len(after) else ""
            if nxt not in ("only", "just", "merely"):
                return True
    return False


def _contrast_between(ws: tuple[str, ...], i: int, j: int) -> bool:
    return any(w in ("but", "however", "instead", "rather") for w in ws[i + 1 : j])


def _explains(sentence: Sentence) -> bool:
    """A long enough sentence that gives a reason, an example, a number or a contrast."""
    if len(sentence.words) < _MIN_EXPLAIN_WORDS:
        return False
    function_words = sum(1 for w in sentence.words if w in _STOPWORDS)
    if function_words / len(sentence.words) < 0.15:
        return False
    if _ABSOLUTE.search(sentence.text):
        return False  # sweeping claims ("always", "the only way") assert rather than explain
    has_marker = any(s in _EXPLAIN_STEMS for s in sentence.stems)
    has_number = any(ch.isdigit() for w in sentence.words for ch in w)
    long_prose = len(sentence.words) >= 12 and function_words / len(sentence.words) >= 0.25
    return has_marker or has_number or long_prose


def _find_concept(cues: tuple[_Cue, ...], sents: list[Sentence]) -> tuple[_Hit | None, bool]:
    """The best sentence naming a concept (explaining beats mentioning), and whether it was
    only ever named in the negative."""
    best: _Hit | None = None
    negated_only = False
    for sentence in sents:
        found = [(at, cue) for cue in cues if (at := find(cue.stems, sentence.stems)) >= 0]
        if not found:
            continue
        # One negated phrasing dismisses the concept for the whole clause ("never use batching
        # to group requests" does not cover batching through "group requests").
        negated_clauses = {
            sentence.clauses[at] for at, cue in found if _negated(sentence, at, len(cue.stems))
        }
        if any(sentence.clauses[at] not in negated_clauses for at, _ in found):
            hit = _Hit(sentence, _explains(sentence))
            if best is None or (hit.explains and not best.explains):
                best = hit
            if best.explains:
                break
        else:
            negated_only = True
    return best, negated_only and best is None


def _level(hits: list[_Hit | None]) -> int:
    covered = [h for h in hits if h is not None]
    if not covered:
        return 0
    explained = [h for h in covered if h.explains]
    if not explained:
        return 1
    fraction = len(covered) / len(hits)
    depth = len({h.sentence.text for h in explained})
    longest = max(len(h.sentence.words) for h in explained)
    deep = (
        depth >= 2 or (len(explained) >= 2 and longest >= 18) or (len(hits) == 1 and longest >= 22)
    )
    if fraction >= 0.66 and deep:
        return 3
    return 2


def _keyword_list(sents: list[Sentence]) -> bool:
    """A bare list of terms: short comma- or line-separated items, or few function words, and no
    sentence that explains anything."""
    all_words = [w for s in sents for w in s.words]
    if len(all_words) < 3 or any(_explains(s) for s in sents):
        return False
    function_ratio = sum(1 for w in all_words if w in _STOPWORDS) / len(all_words)
    items = [i for s in sents for i in re.split(r"[,;/|\u2022]|\band\b", s.text) if i.strip()]
    short_items = sum(1 for i in items if len(i.split()) <= 4)
    listy = len(items) >= 4 and short_items / len(items) >= 0.75
    return function_ratio < 0.2 or listy


_VOCABULARY: dict[int, tuple[Question, frozenset[str]]] = {}


def _topic_vocabulary(question: Question) -> frozenset[str]:
    cached = _VOCABULARY.get(id(question))
    if cached is not None and cached[0] is question:
        return cached[1]
    text = " ".join(
        [question.question, question.reference_answer, question.hint]
        + [c.description for c in question.criteria]
        + [cue for c in question.criteria for concept in c.concepts for cue in concept.cues]
    )
    vocab = frozenset(s for s in stems(text) if s not in _STOPWORDS and len(s) > 2)
    if len(_VOCABULARY) >= 1024:  # resume questions are built per interview: keep this bounded
        _VOCABULARY.clear()
    _VOCABULARY[id(question)] = (question, vocab)
    return vocab


def _on_topic_ratio(question: Question, sents: list[Sentence]) -> float:
    vocab = _topic_vocabulary(question)
    content = [s for sent in sents for s in sent.stems if s not in _STOPWORDS and len(s) > 2]
    if not content:
        return 0.0
    return sum(1 for s in content if s in vocab) / len(content)


_REJECTING = re.compile(
    r"\b(instead of|rather than|myth|mistake|misconception|pitfall|wrong to|it'?s wrong|"
    r"people (?:think|assume|believe)|tempting to|naive(?:ly)?|common error|fallacy|not true)\b",
    re.IGNORECASE,
)


@lru_cache(maxsize=4096)
def _compile_claim_cues(cues: tuple[str, ...]) -> tuple[tuple[_Cue, ...], ...]:
    """Each cue as its parts: one phrase, or the ` & `-joined phrases that must share a clause."""
    out = []
    for cue in cues:
        parts = tuple(_Cue(stems(p)) for p in cue.split("&") if stems(p))
        if parts:
            out.append(parts)
    return tuple(out)


def _states(sentence: Sentence, parts: tuple[_Cue, ...]) -> bool:
    """The sentence asserts every part of a claim cue: all in one clause, none negated."""
    if len(parts) == 1:
        at = find(parts[0].stems, sentence.stems)
        return at >= 0 and not _negated(sentence, at, len(parts[0].stems))
    for clause in set(sentence.clauses):
        lo = sentence.clauses.index(clause)
        hi = lo + sentence.clauses.count(clause)
        window = sentence.stems[lo:hi]
        spots = [find(p.stems, window) for p in parts]
        if all(at >= 0 for at in spots) and not any(
            _negated(sentence, lo + at, len(p.stems)) for at, p in zip(spots, parts, strict=True)
        ):
            return True
    return False


def claimed_misconceptions(question: Question, sents: list[Sentence]) -> dict[int, str]:
    """Index of each known wrong claim the answer states -> the first sentence stating it
    (sentences that reject the claim, "people think ...", do not count)."""
    found: dict[int, str] = {}
    claim_sents = [s for s in sents if not _REJECTING.search(s.text)]
    for index, wrong in enumerate(question.misconceptions):
        cues = _compile_claim_cues(tuple(wrong.cues))
        for sentence in claim_sents:
            if any(_states(sentence, parts) for parts in cues):
                found[index] = sentence.text
                break
    return found


def _misconceptions(question: Question, sents: list[Sentence]) -> dict[str, set[str]]:
    """Criterion id -> sentences stating a known wrong claim against it (not ones rejecting it)."""
    found: dict[str, set[str]] = {}
    for index, text in claimed_misconceptions(question, sents).items():
        found.setdefault(question.misconceptions[index].criterion, set()).add(text)
    return found


def _grade_criterion(
    criterion: Criterion, sents: list[Sentence], cap: int, wrong: set[str] = frozenset()
) -> tuple[CriterionGrade, bool]:
    """The criterion's grade, and whether the answer named one of its concepts only to dismiss
    it."""
    if wrong:
        # A sentence that states a known misconception earns nothing for this criterion.
        sents = [s for s in sents if s.text not in wrong]
        cap = min(cap, 1)
    hits: list[_Hit | None] = []
    missing: list[str] = []
    dismissed = False
    for concept in criterion.concepts:
        hit, negated_only = _find_concept(_compile_cues(tuple(concept.cues)), sents)
        hits.append(hit)
        dismissed = dismissed or negated_only
        if hit is None:
            missing.append(concept.name)
    # Dismissing a required idea ("latency is not a concern") caps the criterion at weak.
    level = min(_level(hits), 1 if dismissed else cap)
    evidence: list[str] = []
    for hit in hits:
        if hit is not None and hit.sentence.text not in evidence:
            evidence.append(hit.sentence.text)
    if level < MAX_LEVEL and not missing:
        missing.append(f"more depth: {criterion.levels.describe(level + 1)}")
    grade = CriterionGrade(
        id=criterion.id,
        score=level,
        max_score=criterion.max_score,
        evidence=evidence,
        missing=missing,
        level=criterion.levels.describe(level),
    )
    return grade, dismissed


def weighted_score(question: Question, grades: list[CriterionGrade]) -> float:
    """The overall 0-100 score: criterion levels weighted by the rubric (both brains use it)."""
    total = sum(c.weight for c in question.criteria)
    got = sum(
        c.weight * g.score / g.max_score for c, g in zip(question.criteria, grades, strict=True)
    )
    return 100.0 * got / total


# Caps on the overall score for answers that must never pass as more than weak.
CAP_INJECTION = 10.0
CAP_KEYWORD_LIST = 12.0
CAP_OFF_TOPIC = 10.0
_OFF_TOPIC_RATIO = 0.12


def assess(question: Question, answer: str, asked_probes: tuple[str, ...] = ()) -> Assessment:
    """Grade `answer` against `question`'s rubric, with evidence and the follow-up to ask."""
    flags: list[Flag] = []
    all_sents = sentences(answer)
    spans = injection_spans(answer)
    if spans:
        flags.append("injection")
    # Sentences that carry the injection never earn credit.
    sents = (
        [s for s in all_sents if not any(span in s.text for span in spans)] if spans else all_sents
    )

    if is_non_answer(answer):
        flags.append("non-answer")
        sents = []
    keyword_list = bool(sents) and _keyword_list(sents)
    if keyword_list:
        flags.append("keyword-list")
    cap = 1 if keyword_list else MAX_LEVEL
    wrong = _misconceptions(question, sents)
    if wrong:
        flags.append("misconception")
    graded = [_grade_criterion(c, sents, cap, wrong.get(c.id, set())) for c in question.criteria]
    grades = [grade for grade, _ in graded]
    score = weighted_score(question, grades)

    on_topic = _on_topic_ratio(question, sents) if sents else 0.0
    if sents and "non-answer" not in flags and on_topic < _OFF_TOPIC_RATIO:
        flags.append("off-topic")
        score = min(score, CAP_OFF_TOPIC)
    elif sents and not any(g.score for g in grades) and on_topic < 2 * _OFF_TOPIC_RATIO:
        flags.append("off-topic")
    if keyword_list:
        score = min(score, CAP_KEYWORD_LIST)
    if spans:
        score = min(score, CAP_INJECTION)
    if any(
        dismissed and c.weight >= 2
        for c, (_, dismissed) in zip(question.criteria, graded, strict=True)
    ):
        flags.append("contradiction")

    score = round(score, 1)  # the feedback text and the stored score say the same number
    target = followup_target(question, grades, asked_probes)
    return Assessment(
        question_id=question.id,
        score=score,
        criteria=grades,
        flags=flags,
        feedback=feedback_text(question, grades, score, flags, _claims(question, wrong)),
        followup_criterion=target.id if target else None,
        followup=target.probe if target else None,
    )


def _claims(question: Question, wrong: dict[str, set[str]]) -> list[str]:
    return [m.claim for m in question.misconceptions if m.criterion in wrong]


def followup_target(
    question: Question, grades: list[CriterionGrade], asked: tuple[str, ...] = ()
) -> Criterion | None:
    """The highest-weight criterion still uncovered (score 0) and not yet probed."""
    open_ = [
        (c, g)
        for c, g in zip(question.criteria, grades, strict=True)
        if g.score == 0 and c.id not in asked
    ]
    if not open_:
        return None
    order = {c.id: i for i, c in enumerate(question.criteria)}
    open_.sort(key=lambda cg: (-cg[0].weight, order[cg[0].id]))
    return open_[0][0]


def feedback_text(
    question: Question,
    grades: list[CriterionGrade],
    score: float,
    flags: list[Flag],
    claims: list[str] = (),
) -> str:
    """A short, plain verdict an interviewer would give after the answer."""
    if "non-answer" in flags:
        return "No answer was given, so this question scores 0."
    if "injection" in flags:
        return "Instructions aimed at the grader were ignored and earn nothing."
    if "off-topic" in flags:
        return "The answer did not address the question."
    pairs = list(zip(question.criteria, grades, strict=True))
    strong = [c.description for c, g in pairs if g.score > MISSED_AT_OR_BELOW]
    weak = [c.description for c, g in pairs if g.score <= MISSED_AT_OR_BELOW]
    parts = [f"Score {score:.0f}/100."]
    if "keyword-list" in flags:
        parts.append("Terms were listed without explanation; say how and why they apply.")
    if claims:
        parts.append("Careful, this is a common misconception: " + claims[0])
    if strong:
        parts.append("Strong: " + _first_clause(strong[0]))
    if weak:
        parts.append("To improve: " + _first_clause(weak[0]))
    return " ".join(parts)


def _first_clause(text: str) -> str:
    text = " ".join(text.split())
    cut = text.find(": ")
    return (text[:cut] if 0 < cut < 120 else text).rstrip(".") + "."
