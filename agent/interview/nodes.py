"""The interviewer's graph nodes: each takes the state and returns a partial update."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from langgraph.runtime import get_runtime
from langgraph.types import interrupt

from agent.grading.assessment import Flag
from agent.grading.engine import assess, screen_answer, unanswered
from agent.grading.model_reply import Speech, probe_target
from agent.grading.providers import Provider
from agent.grading.rubrics import DIFFICULTIES, TRACK_TITLES, Bank, Question
from agent.grading.screen import command_of
from agent.interview.job import job_topics
from agent.interview.next_step import (
    FEEDBACK_PREFIX,
    Spoken,
    Step,
    next_step,
    probe_prefix,
    spoken_part,
)
from agent.interview.planner import select_questions
from agent.interview.questions import InterviewQuestions
from agent.interview.report import CORRECTED_CAP, build_report, hint_cap, report_summary
from agent.interview.state import Current, InterviewState, Message, stored_questions
from agent.interview.verdict import whole

# A strong answer (this score or more, nothing left to probe) gets a stretch probe; a reply to it
# that the rubric engine scores this much on its own is credited in the report.
STRETCH_FROM = 75.0
STRETCH_STRONG = 50.0
# The next question's level follows the candidate: up after a question scored this much or
# more, down after one scored this much or less.
LEVEL_UP_FROM = 75.0
LEVEL_DOWN_TO = 40.0


@dataclass(frozen=True)
class Deps:
    """What nodes need besides the state."""

    provider: Provider
    bank: Bank


@dataclass(frozen=True)
class Said:
    """Words of one interviewer message as they are said: drafts while a model writes it (each
    the whole text so far), then the message itself (`final`). All carry the message's id, so a
    front end replaces the draft it shows with what comes next under the same id: a longer
    draft, the message, or, when the model's reply was not used, a message that supersedes it."""

    message_id: str
    text: str
    final: bool


OnSaid = Callable[[Said], None]


@dataclass(frozen=True)
class Listeners:
    """Who hears the interviewer speak during one graph run (LangGraph's run context, never
    checkpointed), called from the node itself as it runs. A model streams its words only when
    someone listens."""

    on_said: OnSaid | None = None


def _listeners() -> Listeners | None:
    try:
        return get_runtime(Listeners).context
    except RuntimeError:  # not running inside a graph call
        return None


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def message_id(position: int) -> str:
    """The id of the message at `position` in the conversation (0 is the first)."""
    return f"m{position}"


def _next_id(state: InterviewState) -> str:
    return message_id(len(state.get("messages") or []))


def _say(
    state: InterviewState,
    kind: str,
    text: str,
    question_id: str | None,
    since: float | None = None,
) -> Message:
    """The interviewer's next message, told to whoever listens to this run as it is made."""
    message: Message = {
        "id": _next_id(state),
        "role": "interviewer",
        "kind": kind,
        "text": text,
        "question_id": question_id,
        "at": now_iso(),
    }
    if since is not None:
        message["latency_ms"] = round((time.time() - since) * 1000, 2)
    listeners = _listeners()
    if listeners and listeners.on_said:
        listeners.on_said(Said(message["id"], text, final=True))
    return message


def question_of(state: InterviewState, deps: Deps, question_id: str) -> Question:
    """The interview's question: its stored copy, else the bank's (see InterviewQuestions)."""
    return InterviewQuestions.of_state(state, deps.bank)[question_id]


# --- nodes -------------------------------------------------------------------------------------


def plan_interview(state: InterviewState, deps: Deps) -> dict:
    settings = state["settings"]
    written = InterviewQuestions(deps.bank, state.get("custom_questions") or [])
    custom = state.get("custom_questions") or []
    bank = deps.bank.with_extra([written[q["id"]] for q in custom])
    # Questions chosen to practise lead; deep-dives take at most half the interview (rounded
    # up); the bank fills the rest.
    chosen = [q["id"] for q in custom if q.get("source") != "resume"]
    dives = [q["id"] for q in custom if q.get("source") == "resume"]
    custom_ids = chosen + dives[: (settings["questions"] + 1) // 2]
    plan = select_questions(
        bank,
        role=settings["role"],
        company_type=settings["company_type"],
        tracks=settings["tracks"],
        count=settings["questions"],
        difficulty=settings["difficulty"],
        seed=settings["seed"],
        first=custom_ids,
        job=job_topics(settings.get("job") or ""),
        exclude=settings.get("avoid") or [],
        prefer=settings.get("revisit") or [],
    )
    if not plan:
        raise ValueError("no questions match this role, tracks and difficulty")
    return {
        "plan": plan,
        "questions": written.stored_copies(plan),
        "index": 0,
        "status": "in_progress",
        "pending": None,
    }


def ask_question(state: InterviewState, deps: Deps) -> dict:
    plan, stored = _adapted_plan(state, deps)
    qid = plan[state["index"]]
    question = InterviewQuestions(deps.bank, stored)[qid]
    k, n = state["index"] + 1, len(state["plan"])
    title = TRACK_TITLES[question.track]
    text = f"Question {k} of {n} ({title}, {question.difficulty}): {question.question}"
    current: Current = {
        "question_id": qid,
        "answers": [],
        "followups": 0,
        "probed": [],
        "hints": 0,
        "redirected": False,
        "last_prompt": text,
        "asked_at": time.time(),
        "awaiting": None,
        "challenges": [],
        "withdrawn": [],
        "stretched": [],
        "stretch_left": len(question.stretch),
    }
    message = _say(state, "question", text, qid)
    update = {"current": current, "assessment": None, "messages": [message]}
    if plan != state["plan"]:
        update |= {"plan": plan, "questions": stored}
    return update


def _adapted_plan(state: InterviewState, deps: Deps) -> tuple[list[str], list[dict]]:
    """The plan with its next bank question moved to the level the candidate has shown: one up
    after a strong answer, one down after a weak one, within one level of the level chosen (any
    level when none was). A question of the same track replaces it; without one, it stays."""
    plan, stored = list(state["plan"]), stored_questions(state)
    grades = state.get("grades") or []
    index = state["index"]
    custom = {q["id"] for q in state.get("custom_questions") or []}
    if not grades or plan[index] in custom:
        return plan, stored
    last = grades[-1]
    shift = 1 if last["score"] >= LEVEL_UP_FROM else -1 if last["score"] <= LEVEL_DOWN_TO else 0
    chosen = state["settings"].get("difficulty")
    low, high = 0, len(DIFFICULTIES) - 1
    if chosen in DIFFICULTIES:
        at = DIFFICULTIES.index(chosen)
        low, high = max(low, at - 1), min(high, at + 1)
    if last.get("difficulty") not in DIFFICULTIES:
        return plan, stored
    target = DIFFICULTIES[min(high, max(low, DIFFICULTIES.index(last["difficulty"]) + shift))]
    planned = question_of(state, deps, plan[index])
    if planned.difficulty == target:
        return plan, stored
    role = state["settings"]["role"]
    avoid = set(state["settings"].get("avoid") or [])
    options = sorted(
        (
            q
            for q in deps.bank.questions
            if q.track == planned.track
            and q.difficulty == target
            and role in q.roles
            and q.source != "resume"
            and q.id not in plan
        ),
        # Questions asked recently come last, as the planner has them; then company fit.
        key=lambda q: (
            q.id in avoid,
            state["settings"]["company_type"] not in q.company_types,
            q.id,
        ),
    )
    if not options:
        return plan, stored
    plan[index] = options[0].id
    written = InterviewQuestions(deps.bank, stored)
    return plan, [*stored, *written.stored_copies([options[0].id])]


def await_answer(state: InterviewState) -> dict:
    """Wait for the candidate. Alone in its node: a node re-runs from its top on resume."""
    text = interrupt({"prompt": state["current"]["last_prompt"]})
    text = text if isinstance(text, str) else str(text)
    received = time.time()
    command = command_of(text)
    message: Message = {
        "id": _next_id(state),
        "role": "candidate",
        "kind": "command" if command else "answer",
        "text": text,
        "question_id": state["current"]["question_id"],
        "at": now_iso(),
        "latency_ms": round((received - state["current"]["asked_at"]) * 1000, 2),
    }
    pending = {"text": text, "command": command, "received_at": received}
    return {"pending": pending, "messages": [message]}


def assess_answer(state: InterviewState, deps: Deps) -> dict:
    current = dict(state["current"])
    reply = state["pending"]["text"]
    current["answers"] = [*current["answers"], reply]
    question = question_of(state, deps, current["question_id"])
    _resolve(current, question, reply)
    answer = _graded_text(current)
    speech = _speech({**state, "current": current}, deps, question, answer)
    extra = {"speech": speech} if speech else {}  # only a streaming brain is given one
    assessment = deps.provider.assess(question, answer, tuple(current["probed"]), **extra)
    update: dict = {"current": current, "assessment": assessment.model_dump()}
    if "offline-fallback" in assessment.flags:
        # The model failed on this answer: say so now, as a turn of its own in the transcript.
        note = assessment.note or "Note: graded by the offline rubric engine."
        update["messages"] = [_say(state, "note", note, question.id)]
    return update


def _resolve(current: Current, question: Question, reply: str) -> None:
    """What a reply to a challenge or a stretch probe settled: a wrong claim corrected (its
    sentence no longer graded) or repeated, a harder question answered well or not."""
    awaiting, current["awaiting"] = current.get("awaiting"), None
    if awaiting == "challenge" and current.get("challenges"):
        challenge = dict(current["challenges"][-1])
        repeated = any(
            w.claim == challenge["claim"] for w, _ in screen_answer(question, reply).claims
        )
        challenge["outcome"] = "repeated" if repeated else "corrected"
        challenge["reply"] = reply
        current["challenges"] = [*current["challenges"][:-1], challenge]
        if not repeated:
            current["withdrawn"] = [*current.get("withdrawn", []), challenge["quote"]]
    elif awaiting == "stretch" and current.get("stretched"):
        stretch = dict(current["stretched"][-1])
        stretch["answer"] = reply
        stretch["strong"] = assess(question, reply).score >= STRETCH_STRONG
        current["stretched"] = [*current["stretched"][:-1], stretch]


def _graded_text(current: Current) -> str:
    """The answers so far, less the sentences the candidate withdrew when challenged."""
    answer = "\n".join(current["answers"])
    for quote in current.get("withdrawn", []):
        answer = answer.replace(quote, "")
    return answer


def _due(current: Current, assessment: dict) -> dict[str, bool]:
    """Whether a challenge or a stretch probe is due after `assessment`: a known wrong claim not
    yet put back to the candidate; a strong answer with a stretch probe left."""
    challenged = {c["quote"] for c in current.get("challenges", [])}
    flags = assessment.get("flags", [])
    return {
        "challenge_due": any(c["quote"] not in challenged for c in assessment.get("claims", [])),
        "stretch_due": current.get("stretch_left", 0) > 0
        and assessment.get("score", 0) >= STRETCH_FROM
        and not {"injection", "keyword-list", "misconception"} & set(flags),
    }


def _speech(state: InterviewState, deps: Deps, question: Question, answer: str) -> Speech | None:
    """Where a model's words go while it writes them: previewed as the message they become,
    decided by `next_step` from what the reply has settled so far. The preview is a draft of
    the next message, under its id."""
    listeners = _listeners()
    if not (deps.provider.streams and listeners and listeners.on_said):
        return None
    current, settings = state["current"], state["settings"]
    screen = screen_answer(question, answer)
    screened = screen.flags
    asked = tuple(current["probed"])
    challenge_due = _due(current, {"claims": [c.model_dump() for c in screen.wrong_claims()]})
    # The score is not known while the reply streams: a stretch probe may or may not be due.
    stretches = [False, True] if current.get("stretch_left", 0) else [False]

    def says(fields: dict) -> Spoken | None:
        # Fields the model has not written yet could go either way: decide only when the
        # answer is the same whatever they turn out to be.
        off_topic = [fields["off_topic"]] if "off_topic" in fields else [False, True]
        if "followup_criterion" in fields:
            target = fields["followup_criterion"]
            targets = [target if probe_target(target, question, asked) else None]
        else:
            targets = [None, "pending"]
        outcomes = set()
        for off in off_topic:
            flags = [*screened, *(["off-topic"] if off else [])]
            for target in targets:
                for stretch_due in stretches:
                    step = next_step(
                        current,
                        settings,
                        flags,
                        target,
                        challenge_due=challenge_due["challenge_due"],
                        stretch_due=stretch_due,
                    )
                    outcomes.add(spoken_part(step, flags, settings))
        return outcomes.pop() if len(outcomes) == 1 else None

    return Speech(says, _drafts(listeners.on_said, _next_id(state)))


def _drafts(on_said: OnSaid, draft_id: str) -> Callable[[str], None]:
    """Takes the pieces of a model's words and tells `on_said` the whole draft so far."""
    draft = ""

    def piece(words: str) -> None:
        nonlocal draft
        draft += words
        on_said(Said(draft_id, draft, final=False))

    return piece


def probe_gap(state: InterviewState, deps: Deps) -> dict:
    """Ask about what the answer left out, or steer an off-topic answer back."""
    current = dict(state["current"])
    assessment = state["assessment"] or {}
    question = question_of(state, deps, current["question_id"])
    since = state["pending"]["received_at"]
    step = _step(state)
    kind = "probe"
    if step == "redirect":
        current["redirected"] = True
        text = f"That doesn't seem to address the question. Let me ask again: {question.question}"
    elif step == "challenge":
        kind, text = "challenge", _challenge(current, assessment, question)
    elif step == "stretch":
        kind, text = "stretch", _stretch(current, question)
    else:
        criterion = assessment["followup_criterion"]
        current["probed"] = [*current["probed"], criterion]
        followup = assessment.get("followup") or question.criterion(criterion).probe
        text = probe_prefix(assessment.get("flags", [])) + followup
    current["followups"] += 1
    current["last_prompt"] = text
    current["asked_at"] = time.time()
    return {"current": current, "messages": [_say(state, kind, text, question.id, since)]}


def _challenge(current: dict, assessment: dict, question: Question) -> str:
    """Put a wrong claim back to the candidate in their own words, with a question that tests
    it (its criterion's probe); the reply decides whether it was corrected."""
    challenged = {c["quote"] for c in current.get("challenges", [])}
    claim = next(c for c in assessment["claims"] if c["quote"] not in challenged)
    current["challenges"] = [
        *current.get("challenges", []),
        {"claim": claim["claim"], "quote": claim["quote"], "outcome": "pending"},
    ]
    current["awaiting"] = "challenge"
    criterion = claim.get("criterion")
    test = (
        question.criterion(criterion).probe
        if criterion and any(c.id == criterion for c in question.criteria)
        else "How would you check that?"
    )
    return f'You said: "{_short(claim["quote"])}" Are you sure? {test}'


def _stretch(current: dict, question: Question) -> str:
    """Raise the bar on a strong answer: the question's next stretch probe."""
    asked = len(current.get("stretched", []))
    probe = " ".join(question.stretch[asked].split())
    current["stretched"] = [
        *current.get("stretched", []),
        {"probe": probe, "answer": "", "strong": False},
    ]
    current["stretch_left"] = len(question.stretch) - asked - 1
    current["awaiting"] = "stretch"
    return f"Good. Let me raise the bar: {probe}"


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def give_hint(state: InterviewState, deps: Deps) -> dict:
    current = dict(state["current"])
    question = question_of(state, deps, current["question_id"])
    since = state["pending"]["received_at"]
    if current["hints"] == 0:
        text = f"A hint: {question.hint}"
    else:
        uncovered = _weakest_criterion(state, question)
        text = f"Another hint: {uncovered.probe}" if uncovered else f"A hint: {question.hint}"
    if state["pending"]["command"] is None:
        text = "No problem, let's work through it. " + text
    current["hints"] += 1
    current["followups"] += 1 if state["pending"]["command"] is None else 0
    current["asked_at"] = time.time()
    return {"current": current, "messages": [_say(state, "hint", text, question.id, since)]}


def _weakest_criterion(state: InterviewState, question: Question):
    assessment = state.get("assessment")
    if not assessment:
        return max(question.criteria, key=lambda c: c.weight)
    scores = {c["id"]: c["score"] for c in assessment["criteria"]}
    return min(question.criteria, key=lambda c: (scores.get(c.id, 0), -c.weight))


def repeat_prompt(state: InterviewState) -> dict:
    current = dict(state["current"])
    current["asked_at"] = time.time()
    text = current["last_prompt"]
    message = _say(state, "repeat", text, current["question_id"], state["pending"]["received_at"])
    return {"current": current, "messages": [message]}


def record_grade(state: InterviewState, deps: Deps) -> dict:
    """Store the current question's grade and move to the next question."""
    current = state["current"]
    question = question_of(state, deps, current["question_id"])
    command = (state.get("pending") or {}).get("command")
    update: dict = {"index": state["index"] + 1, "assessment": None}
    if command == "end" and not current["answers"]:
        return update  # ended before answering: the question is not counted
    assessment = state.get("assessment")
    if command == "skip" and not current["answers"]:
        assessment = None
    if assessment is None:
        assessment = unanswered(question).model_dump()
    # "skip" after an answer only declines the follow-up: the question counts as answered.
    assessment = _with_hint_cap(assessment, current["hints"])
    challenges = [
        {**c, "outcome": "unanswered"} if c["outcome"] == "pending" else c
        for c in current.get("challenges", [])
    ]
    if any(c["outcome"] == "corrected" for c in challenges):
        assessment = _with_cap(assessment, CORRECTED_CAP, "corrected", "after a corrected claim")
    grade = {
        **assessment,
        "challenges": challenges,
        "stretch": [s for s in current.get("stretched", []) if s.get("answer")],
        "track": question.track,
        "difficulty": question.difficulty,
        "question": question.question,
        "hints": current["hints"],
        "followups": current["followups"],
        "answer": "\n".join(current["answers"]),
    }
    update["grades"] = [grade]
    if state["settings"]["feedback"] == "each" and command != "end":
        since = (state.get("pending") or {}).get("received_at")
        text = FEEDBACK_PREFIX + assessment["feedback"]
        update["messages"] = [_say(state, "feedback", text, question.id, since)]
    return update


def _with_hint_cap(assessment: dict, hints: int) -> dict:
    """A question answered with hints scores at most `hint_cap(hints)`; the feedback says so."""
    return _with_cap(assessment, hint_cap(hints), "hinted", f"with {hints} hint(s)")


def _with_cap(assessment: dict, cap: float, flag: Flag, why: str) -> dict:
    if assessment["score"] <= cap:
        return assessment
    feedback = re.sub(r"^Score \d+/100[^.]*\.\s*", "", assessment["feedback"])
    return {
        **assessment,
        "score": cap,
        "flags": [*assessment["flags"], flag],
        "feedback": f"Score {whole(cap)}/100 (at most {whole(cap)} {why}). " + feedback,
    }


def finish_interview(state: InterviewState, deps: Deps) -> dict:
    grades = state.get("grades") or []
    stored = InterviewQuestions.of_state(state, deps.bank)
    asked = [q for g in grades if (q := stored.get(g["question_id"])) is not None]
    report = build_report(grades, state["settings"], asked)
    text = report_summary(report)
    since = (state.get("pending") or {}).get("received_at")
    return {
        "report": report,
        "status": "finished",
        "pending": None,
        "messages": [_say(state, "report", text, None, since)],
    }


# --- routers -----------------------------------------------------------------------------------


def route_after_answer(
    state: InterviewState,
) -> Literal["assess_answer", "give_hint", "repeat_prompt", "record_grade"]:
    command = state["pending"]["command"]
    if command == "hint":
        return "give_hint"
    if command == "repeat":
        return "repeat_prompt"
    if command in ("skip", "end"):
        return "record_grade"
    return "assess_answer"


_NODE_OF_STEP = {
    "challenge": "probe_gap",
    "stretch": "probe_gap",
    "probe": "probe_gap",
    "redirect": "probe_gap",
    "hint": "give_hint",
    "grade": "record_grade",
}


def _step(state: InterviewState) -> Step:
    assessment = state["assessment"] or {}
    return next_step(
        state["current"],
        state["settings"],
        assessment.get("flags", []),
        assessment.get("followup_criterion"),
        **_due(state["current"], assessment),
    )


def route_after_assess(
    state: InterviewState,
) -> Literal["probe_gap", "give_hint", "record_grade"]:
    return _NODE_OF_STEP[_step(state)]


def route_after_record(state: InterviewState) -> Literal["ask_question", "finish_interview"]:
    ended = (state.get("pending") or {}).get("command") == "end"
    if ended or state["index"] >= len(state["plan"]):
        return "finish_interview"
    return "ask_question"
