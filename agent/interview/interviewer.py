"""Running interviews: the graph, its checkpointer and the transcript store behind one object.

The CLI and the UI both drive interviews through `Interviewer`, so anything one can do the other
can too.
"""

from __future__ import annotations

import gc
import logging
import random
import re
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from langgraph.types import Command

from agent.config import Settings
from agent.grading.providers import Provider, close_provider, make_provider
from agent.grading.rubrics import (
    COMPANY_TYPES,
    DIFFICULTIES,
    ROLES,
    TRACKS,
    Bank,
    Question,
    load_bank,
)
from agent.interview.cv import clean_bullets, deep_dives
from agent.interview.graph import build_graph
from agent.interview.nodes import Listeners, OnSaid
from agent.interview.progress import PracticeHistory
from agent.interview.state import InterviewOptions, InterviewState, Message
from agent.storage.backend import Storage, open_storage
from agent.storage.checkpoints import Standing, standing, thread_config
from agent.storage.locks import InterviewBusy
from agent.storage.records import Records, transcript_from
from agent.storage.transcripts import Transcript, TranscriptError, check_id

log = logging.getLogger(__name__)


# The ranges of an interview's numeric settings, for every front end to check against.
QUESTIONS = (1, 20)
FOLLOWUPS = (0, 5)
SEEDS = (0, 2**63 - 1)  # what the checkpoint format stores as an integer
MAX_JOB_CHARS = 20_000  # a long job advert is a few thousand characters
# How long a turn waits for another writer's turn on the same interview to end: longer than a
# model's slowest answer, with its retries.
TURN_WAIT_S = 600.0


class InterviewError(ValueError):
    """A request the interviewer cannot carry out; the message is meant for the user."""


@dataclass
class Timings:
    """Where a turn's time went, in milliseconds."""

    graph_ms: float = 0.0
    persist_ms: float = 0.0


@dataclass
class TurnResult:
    """What one call produced: the interviewer's new messages and whether the interview is over."""

    interview_id: str
    messages: list[Message]
    finished: bool
    transcript_path: str | None
    save_error: str | None = None
    timings: Timings = field(default_factory=Timings)


def new_interview_id() -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{uuid.uuid4().hex[:6]}"


_GENERATED_ID = re.compile(r"\d{8}-\d{6}-[0-9a-f]{6}")


def is_generated_id(text: str) -> bool:
    """Whether `text` has the shape of an id `new_interview_id` makes."""
    return bool(_GENERATED_ID.fullmatch(text))


def interview_options(
    *,
    role: str = "ml-engineer",
    company_type: str = "big-tech",
    tracks: list[str] | None = None,
    questions: int = 3,
    difficulty: str | None = None,
    max_followups: int = 2,
    feedback: str = "end",
    resume: list[str] | None = None,
    seed: int | None = None,
    job: str | None = None,
    history: PracticeHistory | None = None,
) -> InterviewOptions:
    """Validated interview settings; a bad value raises `InterviewError` naming it."""
    tracks = list(tracks or [])
    if role not in ROLES:
        raise InterviewError(f"unknown role {role!r}; choose from {', '.join(ROLES)}")
    if company_type not in COMPANY_TYPES:
        raise InterviewError(
            f"unknown company type {company_type!r}; choose from {', '.join(COMPANY_TYPES)}"
        )
    for track in tracks:
        if track not in TRACKS:
            raise InterviewError(f"unknown track {track!r}; choose from {', '.join(TRACKS)}")
    if difficulty is not None and difficulty not in DIFFICULTIES:
        raise InterviewError(
            f"unknown difficulty {difficulty!r}; choose from {', '.join(DIFFICULTIES)}"
        )
    _check_range("number of questions", questions, QUESTIONS)
    _check_range("follow-ups per question", max_followups, FOLLOWUPS)
    if seed is not None:
        _check_range("the seed", seed, SEEDS)
    if feedback not in ("each", "end"):
        raise InterviewError("feedback must be 'each' or 'end'")
    job = (job or "").strip() or None
    if job is not None and len(job) > MAX_JOB_CHARS:
        raise InterviewError(
            f"the job description is {len(job):,} characters; paste at most {MAX_JOB_CHARS:,}"
        )
    return {
        "role": role,
        "company_type": company_type,
        "tracks": tracks,
        "questions": questions,
        "difficulty": difficulty,
        "max_followups": max_followups,
        "feedback": feedback,  # type: ignore[typeddict-item]
        "resume": clean_bullets(list(resume or [])),
        "seed": seed if seed is not None else random.randrange(2**31),
        "job": job,
        "avoid": list(history.avoid) if history else [],
        "revisit": list(history.revisit) if history else [],
    }


def range_text(bounds: tuple[int, int]) -> str:
    """How a range is said in messages: "between 1 and 20"."""
    return f"between {bounds[0]} and {bounds[1]}"


def _check_range(what: str, value: object, bounds: tuple[int, int]) -> None:
    whole = isinstance(value, int) and not isinstance(value, bool)
    if not whole or not bounds[0] <= value <= bounds[1]:  # type: ignore[operator]
        raise InterviewError(f"{what} must be a whole number {range_text(bounds)}")


def settle_heap() -> None:
    """Take everything alive now out of the cyclic garbage collector's sight.

    Call it when start-up is done (modules imported, the bank loaded, the graph compiled): those
    objects live as long as the process, yet a full collection walks all of them, and one lands
    in the middle of a turn now and then (about 80 ms on a 2-core machine; 5 ms once settled).
    Objects settled this way are still freed when nothing refers to them; only cycles among
    them are not. Calling it again settles what start-up added since, in a few milliseconds.
    """
    gc.collect()
    gc.freeze()


class Interviewer:
    """Starts, continues and stores interviews."""

    def __init__(
        self,
        settings: Settings,
        provider: Provider | None = None,
        bank: Bank | None = None,
        storage: Storage | None = None,
    ) -> None:
        """`provider`, `bank` and `storage` may be shared with other interviewers (one per model,
        say); a shared one is not closed by `close`. By default each is made from `settings`."""
        self.settings = settings
        self.bank = bank or load_bank(settings.rubrics_dir)
        self._owns_provider = provider is None
        self.provider = provider or make_provider(settings)
        self._owns_storage = storage is None
        self.storage = storage or open_storage(settings)
        self.checkpointer = self.storage.saver
        self.graph = build_graph(self.provider, self.bank, self.checkpointer)
        self.locks = self.storage.locks
        self.store = Records(self.storage, (self.provider.brain, self.provider.model))
        self._syncer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="checkpoint-sync")

    def close(self) -> None:
        self._syncer.shutdown()
        if self._owns_storage:  # a shared one's locks and connections are its owner's to end
            self.storage.close()
        if self._owns_provider:
            close_provider(self.provider)

    def __enter__(self) -> Interviewer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _turn(self, interview_id: str) -> Iterator[None]:
        """Be the interview's only writer while the block runs (see `agent.storage.locks`); a failed
        read or write of its state becomes one clear sentence."""
        try:
            with self.locks.turn(interview_id, TURN_WAIT_S), self._storage():
                yield
        except InterviewBusy as exc:
            raise InterviewError(str(exc)) from None

    @contextmanager
    def _storage(self) -> Iterator[None]:
        try:
            yield
        except self.storage.errors as exc:
            raise self.storage.error(exc) from None

    def hold_open(self, interview_id: str) -> None:
        """Keep the interview open for this process's user (a terminal session) until `close`:
        other processes and tabs are told so instead of taking its turns."""
        try:
            self.locks.hold_open(check_id(interview_id), TURN_WAIT_S)
        except InterviewBusy as exc:
            raise InterviewError(str(exc)) from None

    def start(
        self,
        options: InterviewOptions,
        *,
        interview_id: str | None = None,
        custom_questions: list[Question] | None = None,
        on_said: OnSaid | None = None,
        owner: str | None = None,
    ) -> TurnResult:
        """Plan an interview and ask its first question.

        `owner` is the signed-in user it belongs to (their e-mail), if any.

        `custom_questions` (e.g. one to practise again) lead the plan, then deep-dives of the
        resume lines in `options`.

        `on_said` hears the interviewer's words as they are said (see `_run`)."""
        interview_id = new_interview_id() if interview_id is None else check_id(interview_id)
        custom_questions = [
            *(custom_questions or []),
            *deep_dives(options["resume"], self.bank.deep_dive),
        ]
        initial: InterviewState = {
            "interview_id": interview_id,
            "owner": owner.lower() if owner else None,
            "settings": options,
            "custom_questions": [q.model_dump(by_alias=True) for q in custom_questions],
            "messages": [],
            "grades": [],
            "report": None,
        }
        with self._turn(interview_id):
            if self.exists(interview_id):
                raise InterviewError(f"interview {interview_id} already exists")
            return self._run(interview_id, initial, on_said)

    def reply(
        self,
        interview_id: str,
        text: str,
        *,
        on_said: OnSaid | None = None,
    ) -> TurnResult:
        """Hand the candidate's message (an answer or a command) to the waiting interview."""
        check_id(interview_id)
        if not isinstance(text, str):
            raise InterviewError("an answer must be text")
        # Lone surrogates (undecodable bytes smuggled into a str) cannot be written as UTF-8:
        # replace them, or every later transcript save of this interview would fail.
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        with self._turn(interview_id):
            return self._reply(interview_id, text, on_said)

    def _reply(self, interview_id: str, text: str, on_said: OnSaid | None) -> TurnResult:
        earlier = None
        now = standing(self.graph, interview_id)
        if not now.waiting:
            if not now.values:
                raise InterviewError(f"no interview with id {interview_id}")
            if now.values.get("status") == "finished":
                raise InterviewError(f"interview {interview_id} has finished")
            # Not waiting cleanly, yet neither missing nor finished: a turn was cut short.
            earlier = self._run(interview_id, None, on_said)
            if earlier.finished:
                return earlier
        result = self._run(interview_id, Command(resume=text), on_said)
        if earlier is not None:
            result.messages = [*earlier.messages, *result.messages]
        return result

    def recover(self, interview_id: str, *, on_said: OnSaid | None = None) -> TurnResult:
        """Pick an interview up after a crash or restart: finish a turn that was cut short (its
        answer is checkpointed but was not handled yet) and rewrite the transcript from the
        checkpoint, so nothing the candidate gave is missing from it."""
        with self._turn(check_id(interview_id)):
            return self._recover(interview_id, on_said)

    def _recover(self, interview_id: str, on_said: OnSaid | None) -> TurnResult:
        now = standing(self.graph, interview_id)
        if not now.values:
            raise InterviewError(f"no interview with id {interview_id}")
        finished = self._finish_cut_short(interview_id, on_said, now)
        if finished is not None:
            return finished
        values = now.values  # nothing ran since it was read
        path, error = self._persist(interview_id, values)
        return TurnResult(
            interview_id=interview_id,
            messages=[],
            finished=values.get("status") == "finished",
            transcript_path=path,
            save_error=error,
        )

    def _finish_cut_short(
        self,
        interview_id: str,
        on_said: OnSaid | None,
        now: Standing,
    ) -> TurnResult | None:
        """Run on to the next wait when the last run was cut short (a crash); the answer it was
        handling is already in the checkpoint. None when nothing was cut short.

        Cut short means the checkpoint holds anything but a plain wait for the candidate: a
        node still to run, writes of a step that never completed, or an answer handed over to
        the waiting node that it did not finish taking (see `standing`). `now` is where the
        interview stood when last read."""
        if not now.values or now.values.get("status") == "finished" or now.waiting:
            return None
        return self._run(interview_id, None, on_said)

    def state(self, interview_id: str) -> InterviewState | None:
        with self._storage():
            snapshot = self.graph.get_state(thread_config(check_id(interview_id)))
        return snapshot.values or None

    def exists(self, interview_id: str) -> bool:
        return self.state(interview_id) is not None

    def delete(self, interview_id: str) -> None:
        """Remove an interview: its transcript and its checkpointed state, so it cannot resume."""
        with self._turn(check_id(interview_id)):
            self.checkpointer.delete_thread(interview_id)
            self.store.delete(interview_id)
        self.locks.forget(interview_id)

    def waiting_prompt(self, interview_id: str) -> str | None:
        """The question or follow-up the interview is waiting on, if any."""
        with self._storage():
            return standing(self.graph, interview_id).prompt

    def _run(
        self,
        interview_id: str,
        graph_input: object,
        on_said: OnSaid | None,
    ) -> TurnResult:
        """Run the graph to its next wait; its nodes tell `on_said` what the interviewer says as
        they say it.

        `on_said` gets every interviewer message when it is complete and, while a model writes
        one, drafts of it, each the whole text so far, under the id of the message they become
        (see `nodes.Said`): show each in the place of what came before under that id. With
        nobody listening a model is not asked to stream at all.

        Only state values are streamed from the graph: streaming custom events as well would
        make LangGraph run every node on a worker thread of a pool it starts for each run.
        """
        config = thread_config(interview_id)
        listeners = Listeners(on_said=on_said)
        before: int | None = None  # messages before this run: the first values chunk is that state
        timings = Timings()
        t0 = time.perf_counter()
        values: InterviewState | None = None
        chunks = self.graph.stream(graph_input, config, context=listeners, stream_mode="values")
        for values in chunks:
            if before is None:
                before = len(values.get("messages", []))
        timings.graph_ms = (time.perf_counter() - t0) * 1000
        values = values or self.state(interview_id) or {}
        new = [m for m in values.get("messages", [])[before or 0 :] if m["role"] == "interviewer"]
        t1 = time.perf_counter()
        path, error = self._persist(interview_id, values)
        timings.persist_ms = (time.perf_counter() - t1) * 1000
        return TurnResult(
            interview_id=interview_id,
            messages=new,
            finished=values.get("status") == "finished",
            transcript_path=path,
            save_error=error,
            timings=timings,
        )

    def _persist(self, interview_id: str, values: InterviewState) -> tuple[str | None, str | None]:
        """Prune and sync the checkpoints and write the transcript: its path, and what went
        wrong."""
        errors = []
        checkpoint_id = self.storage.latest(interview_id).get(interview_id)
        # The checkpoints are pruned and synced while the transcript is written: both wait on
        # the disk.
        flushed = self._syncer.submit(self._settle, interview_id)
        path = None
        try:
            transcript = self.transcript_of(interview_id, values, checkpoint_id)
            path = self.store.save(transcript)
        except TranscriptError as exc:
            errors.append(str(exc))
        try:
            flushed.result()
        except OSError as exc:  # the state is committed still; only a power cut could lose it now
            errors.append(f"could not flush the interview state to disk: {exc.strerror or exc}")
        return path, "; ".join(errors) or None

    def _settle(self, interview_id: str) -> None:
        """Keep only the interview's latest checkpoint, then sync the log to disk."""
        try:
            self.storage.prune(interview_id)
        except self.storage.errors as exc:  # only leaves older checkpoints behind for next turn
            log.warning("could not prune the checkpoints of %s: %s", interview_id, exc)
        self.storage.sync()

    def transcript_of(
        self,
        interview_id: str,
        values: InterviewState | None = None,
        checkpoint_id: str | None = None,
    ) -> Transcript:
        """The transcript of the interview as of `values` (by default, its current state)."""
        values = values or self.state(interview_id)
        if values is None:
            raise InterviewError(f"no interview with id {interview_id}")
        grader = (self.provider.brain, self.provider.model)
        return transcript_from(interview_id, values, grader=grader, checkpoint_id=checkpoint_id)
