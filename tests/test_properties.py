"""Properties that hold for any input: grading stays on its scale, transcripts round-trip."""

from __future__ import annotations

import json
import tempfile
import unicodedata
from pathlib import Path
from typing import get_args

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from agent.grading import engine, text
from agent.grading.assessment import CriterionGrade, Flag
from agent.grading.rubrics import MAX_LEVEL, TRACKS, Question, load_bank
from agent.storage.transcripts import Grade, Transcript, TranscriptError, TranscriptStore, Turn

BOUNDED = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
BANK = load_bank()
SEED_QUESTIONS = [q for q in BANK.questions if q.source == "seed"]


def _vocabulary() -> list[str]:
    """Words the rubrics look for, so generated answers reach the scoring paths too."""
    words = set()
    for q in BANK.questions:
        for c in q.criteria:
            for concept in c.concepts:
                for cue in concept.cues:
                    words.update(cue.split())
    return sorted(words)


_GLUE = [
    "because", "so", "not", "never", "but", "instead", "which", "the", "we", "is", "don't",
    "e.g.", "p99", "200ms", "50%", "-", "*", "1.", "\n", ".", ";", "?", "!", ",", "ignore",
    "previous", "instructions", "give", "full", "marks", "score", "100", "I", "know", "pass",
]
_surrogate_free_text = st.text(max_size=400)
_rubric_like = st.lists(
    st.sampled_from(_vocabulary() + _GLUE), max_size=120
).map(" ".join)


def _sentences(*questions: Question) -> list[str]:
    return sorted(
        {s.strip() for q in questions for s in q.reference_answer.split(". ") if s.strip()}
    )


def _made_of(sentences: list[str]) -> st.SearchStrategy[str]:
    """Whole sentences, some negated or cut, strung together."""
    return st.lists(
        st.tuples(
            st.sampled_from(["", "", "It is not true that ", "We never ", "- ", "1. "]),
            st.sampled_from(sentences),
            st.sampled_from([". ", ".\n", "; ", " because it is cheaper. ", ""]),
        ).map("".join),
        min_size=1,
        max_size=8,
    ).map("".join)


# Sentences of any reference answer: text on topic for some question, rarely for the one asked.
_reference_like = _made_of(_sentences(*BANK.questions))
_mixed = st.lists(
    st.one_of(_rubric_like, _reference_like, _surrogate_free_text), max_size=4
).map("\n".join)
_with_surrogates = st.text(
    alphabet=st.characters(min_codepoint=0xD7F0, max_codepoint=0xE010), max_size=30
)
ANSWERS = st.one_of(_surrogate_free_text, _rubric_like, _reference_like, _mixed, _with_surrogates)


def _check(question: Question, answer: str, asked: tuple[str, ...]) -> None:
    a = engine.assess(question, answer, asked)
    assert 0.0 <= a.score <= 100.0
    assert [c.id for c in a.criteria] == [c.id for c in question.criteria]
    for grade, criterion in zip(a.criteria, question.criteria, strict=True):
        assert grade.max_score == criterion.max_score == MAX_LEVEL
        assert 0 <= grade.score <= grade.max_score
        for quote in grade.evidence:
            assert quote and quote in answer  # evidence is always the candidate's own words
    if a.followup_criterion is not None:
        assert a.followup_criterion not in asked
        chosen = next(g for g in a.criteria if g.id == a.followup_criterion)
        assert chosen.score == 0
    assert isinstance(a.feedback, str) and a.feedback
    json.dumps(a.model_dump())  # JSON-native, as checkpoints and transcripts need


@BOUNDED
@given(answer=ANSWERS, probed=st.sets(st.integers(0, 5), max_size=3))
def test_grading_any_text_on_every_seed_question_stays_on_scale(answer, probed):
    for question in SEED_QUESTIONS:
        ids = [c.id for c in question.criteria]
        asked = tuple(ids[i] for i in sorted(probed) if i < len(ids))
        _check(question, answer, asked)


# A question with any text, or with sentences of its own reference answer, so the top of the
# scale and an answer with nothing left to probe are reached too.
_OWN_SENTENCES = {q.id: _made_of(_sentences(q)) for q in BANK.questions}  # built once
# Questions are drawn by id: a question's own repr (rubric and catalogue) is too long to print.
QUESTION_AND_ANSWER = st.sampled_from([q.id for q in BANK.questions]).flatmap(
    lambda qid: st.tuples(st.just(qid), ANSWERS | _OWN_SENTENCES[qid])
)


@BOUNDED
@given(question_and_answer=QUESTION_AND_ANSWER)
def test_grading_any_text_on_any_bank_question_stays_on_scale(question_and_answer):
    qid, answer = question_and_answer
    _check(BANK.get(qid), answer, ())


@pytest.mark.parametrize(
    "reached",
    [
        lambda a: a.score == 100.0,
        lambda a: a.score == 0.0,
        lambda a: 0 < a.score < 100 and any(c.evidence for c in a.criteria),
        lambda a: a.followup_criterion is None,
    ],
    ids=["full-marks", "no-credit", "partial-with-evidence", "nothing-to-probe"],
)
def test_the_grading_strategy_reaches_each_kind_of_grade(reached):
    find(
        QUESTION_AND_ANSWER,
        lambda qa: reached(engine.assess(BANK.get(qa[0]), qa[1], ())),
        settings=settings(max_examples=500, deadline=None, database=None),
    )


def test_the_seed_questions_are_in_the_bank():
    assert {q.id for q in SEED_QUESTIONS} >= {
        "seed-research-vs-production",
        "seed-inference-latency",
        "seed-llm-vs-foundation-models",
        "seed-genai-reliability",
    }


# --- transcripts -------------------------------------------------------------------------------

_text = st.text(max_size=60)
_finite = st.floats(allow_nan=False, allow_infinity=False)
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | _finite | _text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=12,
)
_ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}", fullmatch=True)

_turns = st.builds(
    Turn,
    role=st.sampled_from(["interviewer", "candidate"]),
    kind=st.sampled_from(["question", "probe", "hint", "answer", "command", "report"]),
    text=st.text(max_size=300),
    question_id=st.none() | _text,
    at=_text,
    latency_ms=st.none() | _finite,
)
_criteria = st.builds(
    CriterionGrade,
    id=_text,
    score=st.integers(0, MAX_LEVEL),
    max_score=st.just(MAX_LEVEL),
    evidence=st.lists(st.text(max_size=80), max_size=3),
    missing=st.lists(_text, max_size=3),
    level=_text,
)
_grades = st.builds(
    Grade,
    question_id=_text,
    question=_text,
    track=st.sampled_from(TRACKS),
    difficulty=st.sampled_from(["junior", "mid", "senior"]),
    score=st.floats(0, 100),
    criteria=st.lists(_criteria, max_size=4),
    flags=st.lists(st.sampled_from(get_args(Flag)), max_size=3, unique=True),
    feedback=st.text(max_size=120),
    hints=st.integers(0, 5),
    followups=st.integers(0, 5),
    answer=st.text(max_size=300),
    brain=_text,
    model=_text,
    followup_criterion=st.none() | _text,
    followup=st.none() | _text,
)
_reports = st.none() | st.fixed_dictionaries(
    {
        "overall": st.floats(0, 100),
        "band": st.sampled_from(["excellent", "good", "partial", "weak", "no credit"]),
        "per_track": st.dictionaries(st.sampled_from(TRACKS), st.floats(0, 100), max_size=3),
    },
    optional={"study_next": st.lists(_json, max_size=3), "extra": _json},
)
TRANSCRIPTS = st.builds(
    Transcript,
    id=_ids,
    created_at=_text,
    updated_at=_text,
    status=st.sampled_from(["in_progress", "finished"]),
    settings=st.dictionaries(_text, _json, max_size=5),
    brain=_text,
    model=_text,
    plan=st.lists(_text, max_size=5),
    turns=st.lists(_turns, max_size=8),
    grades=st.lists(_grades, max_size=3),
    report=_reports,
)


@BOUNDED
@given(transcript=TRANSCRIPTS)
def test_a_transcript_written_and_read_back_is_equal(transcript):
    with tempfile.TemporaryDirectory() as folder:
        store = TranscriptStore(Path(folder))
        path = store.save(transcript)
        assert store.load(transcript.id) == transcript
        assert path.name == f"{transcript.id}.json"
        (listed,) = store.list()
        assert listed.ok and listed.id == transcript.id


@BOUNDED
@given(transcript=TRANSCRIPTS, bad=_with_surrogates.filter(lambda s: any(
    0xD800 <= ord(ch) <= 0xDFFF for ch in s
)))
def test_a_transcript_that_cannot_be_encoded_fails_clearly_and_writes_nothing(transcript, bad):
    broken = transcript.model_copy(update={"model": bad})
    with tempfile.TemporaryDirectory() as folder:
        store = TranscriptStore(Path(folder))
        with pytest.raises(TranscriptError, match="could not save transcript"):
            store.save(broken)
        assert list(Path(folder).iterdir()) == []


# --- text matching primitives ------------------------------------------------------------------


@BOUNDED
@given(
    needle=st.lists(st.sampled_from("abc"), max_size=4).map(tuple),
    haystack=st.lists(st.sampled_from("abc"), max_size=14).map(tuple),
)
def test_find_returns_the_first_contiguous_occurrence(needle, haystack):
    n = len(needle)
    hits = [i for i in range(len(haystack) - n + 1) if n and haystack[i : i + n] == needle]
    assert text.find(needle, haystack) == (hits[0] if hits else -1)


@BOUNDED
@given(raw=st.text(alphabet=st.characters(max_codepoint=0x3000)) | st.text(max_size=50))
def test_clean_drops_exactly_the_control_characters(raw):
    normal = unicodedata.normalize("NFKC", raw)
    expected = [ch for ch in normal if ch in "\n\t" or unicodedata.category(ch)[0] != "C"]
    assert text.clean(raw) == "".join(expected)
