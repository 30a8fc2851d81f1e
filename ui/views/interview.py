"""Interview page: set up an interview, answer in the chat, read the report at the end.

The interview id lives in the URL (`?interview=ID`), so a reload or a new tab continues it.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime

import streamlit as st
import turns
from chat_view import LiveReply, show_conversation, show_message
from components import (
    COMPANY_LABELS,
    DIFFICULTY_LABELS,
    FEEDBACK_LABELS,
    PRACTICE_KEY,
    REVIEW_PAGE,
    ROLE_LABELS,
    USER_ERRORS,
    brain_banner,
    interviewer,
    md,
    track_title,
)
from report_view import lookup, show_report
from signin import current_viewer, own, refuse

from agent.access import Viewer, may_answer, may_read
from agent.grading.rubrics import COMPANY_TYPES, DIFFICULTIES, ROLES, TRACKS
from agent.grading.screen import command_of
from agent.interview.interviewer import MAX_JOB_CHARS, Interviewer, interview_options
from agent.interview.job import job_topics
from agent.interview.progress import RECENT, REVISIT_AFTER, load_all, practice_history
from agent.interview.questions import InterviewQuestions
from agent.interview.state import InterviewState
from agent.storage.transcripts import Transcript, TranscriptError

STREAM_KEY = "stream_from"  # {"id": interview id, "index": first message to stream}
CONFIRM_END_KEY = "confirm_end"  # the interview whose "End interview" awaits confirmation
MAX_ANSWER_CHARS = 20_000


def set_active(interview_id: str | None) -> None:
    """Remember the interview in this session and in the URL."""
    if interview_id:
        st.session_state["interview_id"] = interview_id
        st.query_params["interview"] = interview_id
    else:
        st.session_state.pop("interview_id", None)
        st.query_params.pop("interview", None)


def active_id() -> str | None:
    from_url = st.query_params.get("interview")
    if from_url:
        st.session_state["interview_id"] = from_url
        return from_url
    remembered = st.session_state.get("interview_id")
    if remembered:
        st.query_params["interview"] = remembered
    return remembered


def new_interview_button(label: str = "Start a new interview") -> None:
    if st.button(label, icon=":material/add:", type="primary"):
        set_active(None)
        st.rerun()


# --- set-up --------------------------------------------------------------------------------------


def setup(iv: Interviewer, viewer: Viewer | None) -> None:
    st.write("Pick what to practise. The interviewer asks one question at a time, follows up on "
             "what your answer left out, and scores every answer against a rubric.")
    practice = st.session_state.get(PRACTICE_KEY) or {}
    practice_question = lookup(InterviewQuestions(iv.bank), practice.get("question_id", ""))
    if practice:
        st.session_state.setdefault("setup_tracks", [practice["track"]])
    if practice_question is not None:
        with st.container(border=True):
            st.caption("Practising a question you missed before; it will be asked first:")
            st.text(practice_question.question)
            if st.button("Don't start with this question", type="tertiary"):
                st.session_state.pop(PRACTICE_KEY, None)
                st.rerun()

    role = st.segmented_control(
        "Role", ROLES, format_func=ROLE_LABELS.get, default=ROLES[0], required=True,
        key="setup_role",
    )
    company = st.segmented_control(
        "Company type", COMPANY_TYPES, format_func=COMPANY_LABELS.get, default="big-tech",
        required=True, key="setup_company",
    )
    per_role = Counter(
        q.track for q in iv.bank.questions if role in q.roles and q.source != "resume"
    )
    offered = [t for t in TRACKS if any(q.track == t for q in iv.bank.questions)]
    if st.session_state.get("setup_tracks"):
        st.session_state["setup_tracks"] = [
            t for t in st.session_state["setup_tracks"] if t in offered
        ]
    tracks = st.pills(
        "Tracks (none selected: a mix of all)",
        offered,
        selection_mode="multi",
        format_func=lambda t: f"{track_title(t)} ({per_role.get(t, 0)})",
        key="setup_tracks",
    )
    left, right = st.columns(2)
    with left:
        questions = st.slider("Number of questions", 1, 10, 3, key="setup_questions")
    with right:
        followups = st.slider(
            "Follow-ups per question", 0, 5, iv.settings.max_followups, key="setup_followups",
            help="How many times the interviewer may probe what an answer left out.",
        )
    difficulty = st.segmented_control(
        "Difficulty", ["any", *DIFFICULTIES], format_func=DIFFICULTY_LABELS.get, default="any",
        required=True, key="setup_difficulty",
    )
    feedback = st.radio(
        "Feedback", ["end", "each"], format_func=FEEDBACK_LABELS.get, horizontal=True,
        key="setup_feedback",
    )
    with st.expander("Resume deep-dive (optional)", icon=":material/description:"):
        resume = st.text_area(
            "Resume bullets or project lines, one per line",
            placeholder="Cut inference latency from 200 ms to 50 ms with batching and "
            "quantization\nBuilt a RAG assistant with LangChain, +30% retrieval accuracy",
            key="setup_resume",
        )
    with st.expander("Job description (optional)", icon=":material/work:"):
        job = st.text_area(
            "Paste the job advert: the questions lean to its topics, and the report says which "
            "of them were covered",
            max_chars=MAX_JOB_CHARS, height=160, key="setup_job",
        )
        if topics := job_topics(job or ""):
            st.caption("Topics found: " + md(", ".join(topics)))
        elif (job or "").strip():
            st.caption("No ML or AI topics found in it: the questions are chosen as usual.")
    history = practice_history(load_all(iv.store, scope=own(viewer))[0], datetime.now(UTC))
    if history.avoid or history.revisit:
        st.caption(
            f":material/history: Practice builds on your earlier interviews: {len(history.avoid)} "
            f"question(s) asked in the last {RECENT.days} days are left out while others fit, "
            f"and {len(history.revisit)} you scored low on at least {REVISIT_AFTER.days} days "
            "ago come back."
        )
    if not st.button("Start interview", type="primary", icon=":material/play_arrow:"):
        return
    try:
        options = interview_options(
            role=role,
            company_type=company,
            tracks=list(tracks or []),
            questions=int(questions),
            difficulty=None if difficulty == "any" else difficulty,
            max_followups=int(followups),
            feedback=feedback,
            resume=(resume or "").splitlines(),  # cleaned by interview_options
            job=job,
            history=history,
        )
        # Stored as its file has it: the bank adds the field-wide claims when it is asked.
        custom = None if practice_question is None else [iv.bank.as_written(practice_question.id)]
        with st.spinner("Preparing your interview…"):
            result = iv.start(
                options, custom_questions=custom, owner=viewer.email if viewer else None
            )
    except ValueError as exc:  # InterviewError, or no question matches the choices
        st.error(f"The interview could not start: {exc}", icon=":material/error:")
        return
    st.session_state.pop(PRACTICE_KEY, None)
    st.session_state[STREAM_KEY] = {"id": result.interview_id, "index": 0}
    set_active(result.interview_id)
    st.rerun()


# --- an interview in progress --------------------------------------------------------------------


@st.fragment(run_every=1)
def answer_timer(asked_at: float) -> None:
    elapsed = max(0, int(time.time() - asked_at))
    hours, rest = divmod(elapsed, 3600)
    minutes, seconds = divmod(rest, 60)
    clock = f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"
    st.markdown(f":material/timer: **{clock}** on this answer")


def progress_header(iv: Interviewer, state: InterviewState) -> None:
    plan = state.get("plan") or []
    current = state.get("current") or {}
    total = max(len(plan), 1)
    index = min(int(state.get("index", 0)), total - 1)
    question = lookup(InterviewQuestions.of_state(state, iv.bank), current.get("question_id", ""))
    used = int(current.get("followups", 0))
    most = int(state["settings"].get("max_followups", 0))
    step = "first answer" if used == 0 else f"follow-up {used} of {most}"
    where = f" · {md(track_title(question.track))}, {question.difficulty}" if question else ""
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    with left:
        st.progress(index / total, text=f"**Question {index + 1} of {total}**{where} · {step}")
    with right:
        if current.get("asked_at"):
            answer_timer(float(current["asked_at"]))


SAVE_ERROR_KEY = "save_error"  # the last turn's failed save, shown once on the next render


def not_sent(exc: turns.TurnBusy) -> None:
    st.warning(f"Not sent: {exc}. Try again in a moment.", icon=":material/hourglass_top:")


def outcome(turn: turns.Turn) -> Exception | None:
    """A finished turn's error meant for the candidate, if any. Any other error is raised (the
    app shows a calm message and logs the details); a failed save is kept for the next render."""
    if turn.error is not None:
        if not isinstance(turn.error, USER_ERRORS):
            raise turn.error
        return turn.error
    if turn.result is not None and turn.result.save_error:
        st.session_state[SAVE_ERROR_KEY] = turn.result.save_error
    return None


def take_turn(iv: Interviewer, interview_id: str, text: str, chat) -> None:
    """Send the candidate's words (an answer or a command) and show the reply as it comes."""
    with chat:
        kind = "command" if command_of(text) else "answer"
        show_message({"role": "candidate", "kind": kind, "text": text})
        waiting = st.empty()
        waiting.caption(":material/hourglass_top: The interviewer is considering your answer…")

    def run(on_said):
        return iv.reply(interview_id, text, on_said=on_said)

    try:
        turn = turns.start(interview_id, run)
    except turns.TurnBusy as exc:
        waiting.empty()
        not_sent(exc)
        return
    live = LiveReply(chat, waiting)
    for said in turn.events():
        live.hear(said)
    turn.wait()
    if error := outcome(turn):
        waiting.empty()
        with chat:
            st.error(str(error), icon=":material/error:")
        return
    st.rerun()


def wait_for_running_turn(interview_id: str) -> bool:
    """A reply still being worked out (say, before a reload) finishes before the page reads it.
    True when there was one to wait for (the state has moved on since it was read)."""
    turn = turns.running(interview_id)
    if turn is None:
        return False
    with st.spinner("The interviewer is finishing a reply…"):
        turn.wait(timeout=600)
    return True


def finish_cut_short_turn(iv: Interviewer, interview_id: str) -> bool:
    """Once per session, when an unfinished interview opens: a turn cut short by a crash or a
    restart (its answer kept in the checkpoint, no reply yet) is finished now, and the
    transcript is brought up to date, so the page shows where the interview really stands.
    True when it ran (the state may have moved on)."""
    recovered = st.session_state.setdefault("recovered_interviews", set())
    if interview_id in recovered:
        return False
    recovered.add(interview_id)

    def run(on_said):
        return iv.recover(interview_id, on_said=on_said)

    try:
        turn = turns.start(interview_id, run)
    except turns.TurnBusy:  # another session is taking a turn: it finishes the cut one itself
        return False
    with st.spinner("Finishing the reply that was cut short…"):
        turn.wait(timeout=600)
    outcome(turn)  # only an unexpected error stops the page; it reads the state next either way
    return True


def _forget_end_request() -> None:
    st.session_state.pop(CONFIRM_END_KEY, None)


# The open dialog is remembered in session state, so it survives the rerun its own buttons cause.
@st.dialog("End the interview?", on_dismiss=_forget_end_request)
def confirm_end(iv: Interviewer, interview_id: str, before: int) -> None:
    st.write("You'll get the report for the questions answered so far. "
             "An unanswered current question is not counted.")
    left, right = st.columns(2)
    if left.button("End and see the report", type="primary", width="stretch"):
        _forget_end_request()

        def run(on_said):
            return iv.reply(interview_id, "end", on_said=on_said)

        try:  # a turn like any other, so a rerun cannot cut it short
            turn = turns.start(interview_id, run)
        except turns.TurnBusy as exc:
            not_sent(exc)
            return
        with st.spinner("Writing your report…"):
            turn.wait()
        if error := outcome(turn):
            st.error(str(error), icon=":material/error:")
            return
        st.session_state[STREAM_KEY] = {"id": interview_id, "index": before + 1}
        st.rerun()
    if right.button("Keep going", width="stretch"):
        _forget_end_request()
        st.rerun()


def in_progress(iv: Interviewer, interview_id: str, state: InterviewState) -> None:
    messages = state.get("messages") or []
    progress_header(iv, state)
    show_save_error()
    chat = st.container()
    with chat:
        show_conversation(messages, stream_from=pending_stream(interview_id))
    with st.container(horizontal=True):
        hint = st.button("Hint", icon=":material/lightbulb:", help="A nudge in the right direction")
        repeat = st.button("Repeat", icon=":material/replay:", help="Ask the question again")
        skip = st.button("Skip", icon=":material/skip_next:", help="Move to the next question")
        end = st.button("End interview", icon=":material/stop_circle:",
                        help="Finish now and see the report")
    typed = st.chat_input(
        "Your answer (Enter sends, Shift+Enter for a new line)", max_chars=MAX_ANSWER_CHARS
    )
    if end:
        st.session_state[CONFIRM_END_KEY] = interview_id
    if st.session_state.get(CONFIRM_END_KEY) == interview_id:
        confirm_end(iv, interview_id, len(messages))
        return
    word = "hint" if hint else "repeat" if repeat else "skip" if skip else None
    text = word or (typed if typed and typed.strip() else None)
    if text:
        take_turn(iv, interview_id, text, chat)


def pending_stream(interview_id: str) -> int | None:
    """Where the messages not yet shown start, once; afterwards everything renders at once."""
    marker = st.session_state.pop(STREAM_KEY, None)
    if marker and marker.get("id") == interview_id:
        return int(marker.get("index", 0))
    return None


# --- finished ------------------------------------------------------------------------------------


def show_save_error() -> None:
    """The last turn's failed save, once."""
    if error := st.session_state.pop(SAVE_ERROR_KEY, None):
        st.warning(f"Your answer was recorded, but the transcript could not be saved: {error}",
                   icon=":material/warning:")


def finished(iv: Interviewer, transcript: Transcript, state: InterviewState | None) -> None:
    show_save_error()
    messages = [turn.model_dump() for turn in transcript.turns]
    stream_from = pending_stream(transcript.id)
    if stream_from is not None:  # the closing words, as they were just said
        show_conversation(messages[stream_from:], stream_from=0)
    st.header("Your report")
    show_report(transcript, iv.bank, key=f"live-{transcript.id}")
    with st.expander("Conversation", icon=":material/forum:"):
        show_conversation(messages)
    new_interview_button()


def saved_transcript(iv: Interviewer, interview_id: str, state: InterviewState) -> Transcript:
    """The stored transcript (it records who graded), or one built from the live state when
    there is none or it was not saved since the interview finished."""
    try:
        stored = iv.store.load(interview_id)
    except TranscriptError:
        return iv.transcript_of(interview_id, state)
    return stored if stored.status == state.get("status") else iv.transcript_of(interview_id, state)


def not_yours(iv: Interviewer, viewer: Viewer | None, interview_id: str, owner: str | None) -> None:
    """Stop at an interview the viewer may not answer, showing nothing of it: its coach gets a
    way to read it on the Review page, anyone else the refusal."""
    st.session_state.pop("interview_id", None)  # not reopened on the next visit to this page
    if may_read(iv.settings, viewer, owner):
        st.info(f"This is {md(owner or 'someone else')}'s interview: as their coach you can read "
                "it, not answer it.", icon=":material/visibility:")
        st.page_link(REVIEW_PAGE, label="Read it on the Review page", icon=":material/history:",
                     query_params={"interview": interview_id})
    else:
        refuse()
    new_interview_button()
    st.stop()


# --- page ----------------------------------------------------------------------------------------

iv = interviewer()
viewer = current_viewer()
st.title("Mock interview")
interview_id = active_id()
brain_banner(iv.provider, compact=bool(interview_id))

if not interview_id:
    setup(iv, viewer)
    st.stop()

try:
    state = iv.state(interview_id)
except TranscriptError:
    set_active(None)
    st.error("This link does not point to an interview (the id in the address is not valid).",
             icon=":material/link_off:")
    new_interview_button()
    st.stop()

stored = None
if state is None:
    try:
        stored = iv.store.load(interview_id)
    except TranscriptError:
        st.warning(f"There is no interview with id {interview_id}. It may have been deleted.",
                   icon=":material/search_off:")
        set_active(None)
        new_interview_button()
        st.stop()

# Only the owner gets past here, and every turn (an answer, a recovery, the end) is taken below.
owner = stored.owner if stored is not None else state.get("owner")
if not may_answer(viewer, owner):
    not_yours(iv, viewer, interview_id, owner)

if stored is not None:
    if stored.status != "finished":
        st.warning("This interview's saved state is gone, so it cannot continue; here is what "
                   "was recorded.", icon=":material/warning:")
    finished(iv, stored, None)
else:
    if wait_for_running_turn(interview_id):
        state = iv.state(interview_id) or state
    if state.get("status") == "finished":
        finished(iv, saved_transcript(iv, interview_id, state), state)
    else:
        if finish_cut_short_turn(iv, interview_id):
            state = iv.state(interview_id) or state
        in_progress(iv, interview_id, state)
