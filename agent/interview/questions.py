"""An interview's questions by id: the copies stored with the interview first, then the bank.

An interview stores every question it plans, as its rubric was then (`stored_copies`), in its
state and so in its transcript. The graph, the report, Review, Progress and regrade all find
questions through `InterviewQuestions`, so editing the bank or the deep-dive template changes
new interviews only, never how an old one is graded again or reported.

The field-wide wrong claims (rubrics/field/) are not stored: checked in every answer of their
track, they belong to the grader's knowledge of the field, as its code does, and the bank in
use adds them to each question found here. Storing them would put hundreds of kilobytes in
every checkpoint.

Interviews stored before their questions were (transcript schema 1) find bank questions in the
bank, and their resume deep-dives rebuilt from the resume lines they kept.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping

from pydantic import ValidationError

from agent.grading.rubrics import Bank, Question
from agent.interview.cv import deep_dives
from agent.interview.state import InterviewState, stored_questions
from agent.storage.transcripts import Transcript


class StoredQuestionError(ValueError):
    """A question stored with an interview is not valid question data."""


class InterviewQuestions:
    """The questions of one interview, found by id."""

    def __init__(self, bank: Bank, stored: Iterable[Mapping] = ()) -> None:
        self.bank = bank
        self._stored: dict[str, Mapping] = {}
        for data in stored:
            self._stored.setdefault(str(data.get("id")), data)

    @classmethod
    def of_state(cls, state: InterviewState, bank: Bank) -> InterviewQuestions:
        return cls(bank, stored_questions(state))

    @classmethod
    def of_transcript(cls, transcript: Transcript, bank: Bank) -> InterviewQuestions:
        if transcript.schema_version > 1:
            return cls(bank, transcript.questions)
        lines = transcript.settings.get("resume") or []
        rebuilt = deep_dives(list(lines), bank.deep_dive) if bank.deep_dive else []
        return cls(bank, [q.model_dump(by_alias=True) for q in rebuilt])

    def get(self, question_id: str) -> Question | None:
        """The question, or None when neither the interview nor the bank has it. Raises
        `StoredQuestionError` when the interview's copy is not valid."""
        data = self._stored.get(question_id)
        if data is not None:
            return _validated(data, self.bank)
        return self.bank.get(question_id) if question_id in self.bank else None

    def __getitem__(self, question_id: str) -> Question:
        question = self.get(question_id)
        if question is None:
            raise KeyError(f"unknown question id: {question_id}")
        return question

    def stored_copies(self, plan: list[str]) -> list[dict]:
        """What the interview stores of the questions in `plan`: each as written for it, or as
        its bank file has it."""
        return [
            dict(self._stored[qid]) if qid in self._stored else _data(self.bank.as_written(qid))
            for qid in plan
        ]


def _data(question: Question) -> dict:
    return question.model_dump(by_alias=True)


# Stored copies validated and given the field-wide claims once, not at every lookup (which
# would also defeat the engine's per-question caches): by id, the last few versions seen, each
# with the bank's field-wide claims it was given.
_VALIDATED: dict[str, list[tuple[Mapping, list, Question]]] = {}
_VERSIONS_PER_ID = 4
_MAX_IDS = 512


def _validated(data: Mapping, bank: Bank) -> Question:
    question_id = str(data.get("id"))
    versions = _VALIDATED.get(question_id, [])
    for seen, field, question in versions:
        if field is bank.field and seen == data:
            return question
    try:
        question = bank.with_field(Question.model_validate(data))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise StoredQuestionError(
            f"question {question_id!r} stored with this interview is not valid ({where}: "
            f"{first['msg']})"
        ) from None
    if len(_VALIDATED) >= _MAX_IDS:
        _VALIDATED.clear()
    seen = copy.deepcopy(dict(data))  # compared with later lookups: nobody may change it
    _VALIDATED[question_id] = [(seen, bank.field, question), *versions][:_VERSIONS_PER_ID]
    return question
