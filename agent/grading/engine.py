"""The offline rubric engine: grades an answer against a question's criteria, no model needed.

It finds each criterion's concepts in the answer by stemmed cue phrases, credits only sentences
that support them (not negated, not said of something that was not done, not hedged away),
credits a concept more when the sentence that names it also explains (a reason, an example, a
number, a trade-off), and keeps those sentences as evidence. A stated misconception earns nothing
and caps the answer below a pass; lists of terms, question echoes, injections and non-answers are
capped whatever cues they contain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from agent.grading.assessment import Assessment, CriterionGrade, Flag, WrongClaim
from agent.grading.claims import Cue, claimed_misconceptions, compile_cues, negated, supports
from agent.grading.feedback import feedback_text
from agent.grading.rubrics import MAX_LEVEL, Criterion, Misconception, Question, per_question
from agent.grading.screen import injection_spans, is_non_answer, is_question_echo
from agent.grading.text import STOPWORDS as _STOPWORDS
from agent.grading.text import Sentence, find, sentences, stem, stems

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
# Sweeping claims assert rather than explain: a sentence with one earns no depth credit, and
# an answer full of them is graded as uncertain.
_ABSOLUTE = re.compile(
    r"\b(always|never (?:need|needs|matters?|happens?)|no need|(?:don'?t|do not|doesn'?t|does not) "
    r"need|not needed|(?:isn'?t|is not|aren'?t) (?:needed|necessary|required)|unnecessary|"
    r"guarantee[sd]?|by default|entirely|completely|all you need|"
    r"the only (?:thing|way|metric|factor)|only thing|eliminat\w*|solves?|solved|proves?|100%|"
    r"zero risk|no risk|no downside|perfectly|automatically|(?:is|are) enough|alone is|"
    r"on its own is|any (?:task|model|problem|domain)|every (?:task|case|time|request|model)|"
    r"(?:doesn'?t|does not|don'?t) matter|is just noise|can (?:safely )?ignore)\b",
    re.IGNORECASE,
)
_SWEEPING_SENTENCES = 2


@dataclass
class _Hit:
    sentence: Sentence
    explains: bool


@lru_cache(maxsize=8192)  # asked for each concept a sentence names
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


@lru_cache(maxsize=1024)
def _question_stems(text: str) -> frozenset[str]:
    return frozenset(stems(text))


@lru_cache(maxsize=8192)
def _answer_cues(cues: tuple[str, ...], asked: frozenset[str]) -> tuple[Cue, ...]:
    """A concept's cues less those made only of the question's own words: repeating the
    question names no idea of the answer's own."""
    compiled = compile_cues(tuple(cues))
    return tuple(c for c in compiled if not asked.issuperset(c.stems))


def _find_concept(cues: tuple[Cue, ...], sents: list[Sentence]) -> tuple[_Hit | None, bool]:
    """The best sentence supporting a concept (explaining beats mentioning), and whether the
    answer only ever named it to dismiss it."""
    best: _Hit | None = None
    dismissed = False
    for sentence in sents:
        have = sentence.stem_set
        found = [
            (at, cue)
            for cue in cues
            if cue.needs <= have and (at := find(cue.stems, sentence.stems)) >= 0
        ]
        if not found:
            continue
        # One negated phrasing dismisses the concept for the whole clause ("never use batching
        # to group requests" does not cover batching through "group requests").
        negated_clauses = {
            sentence.clauses[at] for at, cue in found if negated(sentence, at, len(cue.stems))
        }
        supported = [
            at
            for at, cue in found
            if sentence.clauses[at] not in negated_clauses
            and supports(sentence, at, len(cue.stems))
        ]
        if supported:
            hit = _Hit(sentence, _explains(sentence))
            if best is None or (hit.explains and not best.explains):
                best = hit
            if best.explains:
                break
        elif negated_clauses:
            dismissed = True
    return best, dismissed and best is None


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


# Words that join the items of a list of terms however it is punctuated: "Kafka and Spark with
# a feature store using Kubernetes".
_LIST_JOINERS = re.compile(r"[,;/|&+\u2022]|\b(?:and|with|using|plus|via|or|as well as)\b", re.I)
_CAUSAL_STEMS = frozenset(
    stem(w)
    for w in (
        "because so since therefore thus hence means meaning if when but however whereas instead "
        "unlike rather versus vs otherwise which lets allows reduces increases avoids prevents"
    ).split()
)


def _listy(sentence: Sentence) -> bool:
    """A sentence that strings terms together without saying anything about them."""
    items = [i for i in _LIST_JOINERS.split(sentence.text) if i and i.strip()]
    if len(items) < 4:
        return False
    short = sum(1 for i in items if len(i.split()) <= 4)
    return short / len(items) >= 0.75 and not any(s in _CAUSAL_STEMS for s in sentence.stems)


def _keyword_list(sents: list[Sentence]) -> bool:
    """A bare list of terms, however it is punctuated or joined: comma- or line-separated items,
    buzzwords strung together with "and"/"with"/"using", or few function words, and no sentence
    that explains anything."""
    all_words = [w for s in sents for w in s.words]
    if len(all_words) < 3:
        return False
    listy = [s for s in sents if _listy(s)]
    if any(_explains(s) for s in sents if s not in listy):
        return False
    function_ratio = sum(1 for w in all_words if w in _STOPWORDS) / len(all_words)
    listy_words = sum(len(s.words) for s in listy)
    items = [i for s in sents for i in re.split(r"[,;/|\u2022]|\band\b", s.text) if i.strip()]
    short_items = sum(1 for i in items if len(i.split()) <= 4)
    comma_list = len(items) >= 4 and short_items / len(items) >= 0.75
    return function_ratio < 0.2 or comma_list or listy_words / len(all_words) >= 0.6


@per_question
def _topic_vocabulary(question: Question) -> frozenset[str]:
    text = " ".join(
        [question.question, question.reference_answer, question.hint]
        + [c.description for c in question.criteria]
        + [cue for c in question.criteria for concept in c.concepts for cue in concept.cues]
    )
    return frozenset(s for s in stems(text) if s not in _STOPWORDS and len(s) > 2)


def _content(sents: list[Sentence]) -> list[str]:
    """The stems of an answer that carry meaning: no function words, no short ones."""
    return [s for sent in sents for s in sent.stems if s not in _STOPWORDS and len(s) > 2]


def _share(content: list[str], words: frozenset[str]) -> float:
    """The part of `content` found among `words`."""
    return sum(1 for s in content if s in words) / len(content) if content else 0.0


_ECHO_SHARE = 0.4  # of the content words, for an answer that earned nothing


# Words too common in answers on any topic to say which idea a sentence is about.
_GENERIC = frozenset(
    stems(
        "model models data use using used system systems make makes need needs way ways thing "
        "things get gets one two also well good better best work works time times new first "
        "set sets run runs take takes give gives based able often usually every much many "
        "different same real really simple actual actually case cases part parts point kind "
        "approach problem problems issue issues result results right wrong check"
    )
)
# A sentence that explains, using this many of a concept's distinctive words, covers it; with
# this many, it explains it.
PARAPHRASE_MIN_TERMS = 2
PARAPHRASE_DEPTH_TERMS = 4


@per_question
def _concept_terms(question: Question) -> dict[str, dict[str, frozenset[str]]]:
    """Per criterion and concept, the distinctive words of its name, cues and description: a
    sentence that uses several of them explains the idea in its own words."""
    asked = set(stems(question.question))
    out: dict[str, dict[str, frozenset[str]]] = {}
    for criterion in question.criteria:
        shared = stems(criterion.description + " " + criterion.levels.excellent)
        out[criterion.id] = {
            concept.name: frozenset(
                s
                for s in (*stems(concept.name), *stems(" ".join(concept.cues)), *shared)
                if s not in _STOPWORDS and s not in _GENERIC and s not in asked and len(s) > 2
            )
            for concept in criterion.concepts
        }
    return out


def _find_paraphrase(terms: frozenset[str], sents: list[Sentence]) -> _Hit | None:
    """A sentence that explains a concept without its cue phrases, in several of its words."""
    best: _Hit | None = None
    for sentence in sents:
        used = terms.intersection(sentence.stems)
        if len(used) < PARAPHRASE_MIN_TERMS:
            continue
        if not _explains(sentence):
            continue
        at = next(i for i, s in enumerate(sentence.stems) if s in used)
        if supports(sentence, at, 1):
            hit = _Hit(sentence, len(used) >= PARAPHRASE_DEPTH_TERMS)
            if hit.explains:
                return hit
            best = best or hit
    return best


def _grade_criterion(
    criterion: Criterion,
    sents: list[Sentence],
    cap: int,
    wrong: set[str] = frozenset(),
    terms: dict[str, frozenset[str]] | None = None,
    asked: frozenset[str] = frozenset(),
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
        hit, dismissed_only = _find_concept(_answer_cues(tuple(concept.cues), asked), sents)
        if hit is None and not dismissed_only and terms is not None:
            hit = _find_paraphrase(terms[concept.name], sents)
        hits.append(hit)
        dismissed = dismissed or dismissed_only
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
CAP_QUESTION_ECHO = 10.0
# A stated misconception keeps the answer below a pass; two or more, well below it.
CAP_MISCONCEPTION = 20.0
CAP_MISCONCEPTIONS = 10.0
_OFF_TOPIC_RATIO = 0.12
_WEAK_FLOOR = 15.0
_WEAK_FLOOR_ON_TOPIC = 0.4
# Signals that disagree make a grade uncertain: this much credit before a misconception's cap,
# or this many criteria named without one explained.
_UNCERTAIN_BEFORE_CAP = 50.0
_UNCERTAIN_NAMED_ONLY = 3
_UNCERTAIN_SWEEPING_FROM = 35.0  # sweeping claims in an answer that would pass


@dataclass(frozen=True)
class Screened:
    """What the answer screens found, whichever brain grades: the sentences that may earn
    credit, the flags, the cap on the overall score and the known wrong claims stated."""

    sents: list[Sentence]
    flags: list[Flag]
    cap: float
    claims: list[tuple[Misconception, str]]

    def wrong_claims(self) -> list[WrongClaim]:
        return [
            WrongClaim(
                quote=text,
                claim=" ".join(m.claim.split()),
                correction=" ".join(m.correction.split()),
                criterion=m.criterion,
            )
            for m, text in self.claims
        ]

    @property
    def keyword_list(self) -> bool:
        return "keyword-list" in self.flags

    def wrong_sentences(self, criterion_id: str) -> set[str]:
        return {text for wrong, text in self.claims if wrong.criterion == criterion_id}


# Fillers and hedges of an answer that talks around the question ("I think", "kind of", "so
# yeah", "to be honest"): in a long answer, this many per 100 words is rambling.
_FILLER = re.compile(
    r"\b(i think|i believe|i guess|kind of|sort of|and stuff|or something|to be honest|so yeah|"
    r"you know|i mean|i don'?t remember|not sure|maybe|probably|basically|honestly|anyway|"
    r"whatever)\b",
    re.IGNORECASE,
)
_RAMBLING_WORDS = 150
_RAMBLING_FILLERS_PER_100 = 2.0
CAP_RAMBLING = 50.0


def _rambling(answer: str, sents: list[Sentence]) -> bool:
    count = sum(len(s.words) for s in sents)
    return (
        count >= _RAMBLING_WORDS
        and 100 * len(_FILLER.findall(answer)) / count >= _RAMBLING_FILLERS_PER_100
    )


_SCREENED: dict[tuple[int, str], tuple[Question, Screened]] = {}
_SCREENED_LIMIT = 16


def screen_answer(question: Question, answer: str) -> Screened:
    """Injections, non-answers, question echoes, keyword lists and known misconceptions, each
    with its cap. A turn screens the same answer in several places (the live preview, the
    grade, a model's reply checked), so the last few are remembered; callers only read them."""
    hit = _SCREENED.get((id(question), answer))
    if hit is not None and hit[0] is question:
        return hit[1]
    screened = _screen(question, answer)
    if len(_SCREENED) >= _SCREENED_LIMIT:
        _SCREENED.clear()
    _SCREENED[(id(question), answer)] = (question, screened)
    return screened


def _screen(question: Question, answer: str) -> Screened:
    flags: list[Flag] = []
    cap = 100.0
    sents = sentences(answer)
    spans = injection_spans(answer)
    if spans:
        flags.append("injection")
        cap = CAP_INJECTION
        # Sentences that carry the injection never earn credit.
        sents = [s for s in sents if not any(span in s.text for span in spans)]
    if is_non_answer(answer):
        flags.append("non-answer")
        return Screened([], flags, 0.0, [])
    if is_question_echo(question.question, answer):
        flags.append("question-echo")
        cap = min(cap, CAP_QUESTION_ECHO)
    if sents and _keyword_list(sents):
        flags.append("keyword-list")
        cap = min(cap, CAP_KEYWORD_LIST)
    if _rambling(answer, sents):
        flags.append("rambling")
        cap = min(cap, CAP_RAMBLING)
    found = claimed_misconceptions(question, sents)
    claims = [(question.misconceptions[i], text) for i, text in sorted(found.items())]
    # A field-wide wrong claim names no criterion: its sentence earns nothing anywhere.
    field_wrong = {text for wrong, text in claims if wrong.criterion is None}
    sents = [s for s in sents if s.text not in field_wrong]
    if claims:
        flags.append("misconception")
        cap = min(cap, CAP_MISCONCEPTIONS if len(claims) >= 2 else CAP_MISCONCEPTION)
    return Screened(sents, flags, cap, claims)


def assess(question: Question, answer: str, asked_probes: tuple[str, ...] = ()) -> Assessment:
    """Grade `answer` against `question`'s rubric, with evidence and the follow-up to ask."""
    screened = screen_answer(question, answer)
    sents = screened.sents
    # A list of terms shows no depth; a rambling answer no command of the topic.
    level_cap = 1 if screened.keyword_list else 2 if "rambling" in screened.flags else MAX_LEVEL
    graded = [
        _grade_criterion(
            c,
            sents,
            level_cap,
            screened.wrong_sentences(c.id),
            _concept_terms(question)[c.id],
            _question_stems(question.question),
        )
        for c in question.criteria
    ]
    grades = [grade for grade, _ in graded]
    raw = weighted_score(question, grades)
    score = min(raw, screened.cap)
    flags = list(screened.flags)

    content = _content(sents)
    on_topic = _share(content, _topic_vocabulary(question))
    if sents and not any(g.score for g in grades) and "question-echo" not in flags:
        # Nothing credited and mostly the question's own words: the question said back.
        if _share(content, _question_stems(question.question)) >= _ECHO_SHARE:
            flags.append("question-echo")
            score = min(score, CAP_QUESTION_ECHO)
    if sents and on_topic < _OFF_TOPIC_RATIO and "question-echo" not in flags:
        flags.append("off-topic")
        score = min(score, CAP_OFF_TOPIC)
    elif sents and not any(g.score for g in grades) and on_topic < 2 * _OFF_TOPIC_RATIO:
        flags.append("off-topic")
    if not flags and on_topic >= _WEAK_FLOOR_ON_TOPIC and score < _WEAK_FLOOR:
        # An on-topic attempt that names no rubric point is weak, not nothing.
        score = _WEAK_FLOOR
    if any(
        dismissed and c.weight >= 2
        for c, (_, dismissed) in zip(question.criteria, graded, strict=True)
    ):
        flags.append("contradiction")
    named_only = sum(1 for g in grades if g.score == 1)
    sweeping = sum(1 for sentence in sents if _ABSOLUTE.search(sentence.text))
    if (
        (screened.claims and raw >= _UNCERTAIN_BEFORE_CAP)
        or (named_only >= _UNCERTAIN_NAMED_ONLY and not any(g.score >= 2 for g in grades))
        or (sweeping >= _SWEEPING_SENTENCES and score >= _UNCERTAIN_SWEEPING_FROM)
    ):
        flags.append("uncertain")

    score = round(score, 1)  # the feedback text and the stored score say the same number
    target = followup_target(question, grades, asked_probes)
    return Assessment(
        question_id=question.id,
        score=score,
        criteria=grades,
        flags=flags,
        feedback=feedback_text(question, grades, score, flags, screened.claims),
        claims=screened.wrong_claims(),
        followup_criterion=target.id if target else None,
        followup=target.probe if target else None,
    )


def unanswered(question: Question) -> Assessment:
    """The grade of a question skipped without an answer: nothing to send a brain."""
    grades = [
        CriterionGrade(
            id=c.id,
            score=0,
            max_score=c.max_score,
            missing=[concept.name for concept in c.concepts],
            level=c.levels.describe(0),
        )
        for c in question.criteria
    ]
    return Assessment(
        question_id=question.id, score=0.0, criteria=grades, flags=["skipped"], feedback="Skipped."
    )


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
