"""Review page: list, filter and sort stored interviews; replay one and read its report.

Signed in, the list holds the viewer's own interviews and, for a coach, their cohorts' (with
whose each one is); only an interview's owner continues or deletes it."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from chat_view import show_conversation
from components import INTERVIEW_PAGE, interviewer, md, role_label, track_title, when
from report_view import show_report
from signin import current_viewer, refuse

from agent.access import Viewer, is_coach, may_answer, scope_for
from agent.interview.interviewer import Interviewer
from agent.storage.transcripts import Listing, Scope, TranscriptError

SORTS = {
    "Newest first": (lambda item: item.created_at, True),
    "Oldest first": (lambda item: item.created_at, False),
    "Highest score": (lambda item: -1.0 if item.score is None else item.score, True),
    "Lowest score": (lambda item: 101.0 if item.score is None else item.score, False),
}
CONFIRM_DELETE_KEY = "confirm_delete"  # the interview whose deletion awaits confirmation
STATUS_LABELS = {"finished": "Finished", "in_progress": "In progress"}


def describe(item: Listing, viewer: Viewer | None) -> str:
    """One line for an interview, starting with whose it is when it is not the viewer's."""
    score = "no score yet" if item.score is None else f"{item.score:.0f}/100"
    whose = "" if may_answer(viewer, item.owner) else f"{item.owner} · "
    return f"{whose}{when(item.created_at)} · {role_label(item.role)} · {score}"


def filtered(items: list[Listing]) -> list[Listing]:
    c1, c2, c3 = st.columns([2, 2, 1.4])
    with c1:
        tracks = st.multiselect(
            "Tracks", sorted({t for item in items for t in item.tracks}), format_func=track_title,
            placeholder="All tracks",
        )
    with c2:
        roles = st.multiselect(
            "Role", sorted({item.role for item in items if item.role}), format_func=role_label,
            placeholder="All roles",
        )
    with c3:
        order = st.selectbox("Sort", list(SORTS))
    status = st.segmented_control(
        "Status", ["all", "finished", "in_progress"],
        format_func=lambda s: STATUS_LABELS.get(s, "All"), default="all", required=True,
        label_visibility="collapsed",
    )
    chosen = [
        item for item in items
        if (not tracks or set(tracks) & set(item.tracks))
        and (not roles or item.role in roles)
        and (status == "all" or item.status == status)
    ]
    key, reverse = SORTS[order]
    return sorted(chosen, key=key, reverse=reverse)


def table(items: list[Listing], owners: bool) -> None:
    """The interviews, one row each; with `owners` (for a coach), whose each one is, in the room
    that otherwise says which brain graded it."""
    rows = [
        {
            "Owner": item.owner or "-",
            "Date": when(item.created_at).removesuffix(" UTC"),
            "Role": role_label(item.role),
            "Tracks": ", ".join(track_title(t) for t in item.tracks) or "All",
            "Graded by": item.model if item.brain == "offline" else f"{item.model} ({item.brain})",
            "Score": item.score,
            "Status": STATUS_LABELS.get(item.status, item.status),
        }
        for item in items
    ]
    st.dataframe(
        pd.DataFrame(rows).drop(columns="Graded by" if owners else "Owner"),
        hide_index=True,
        column_config={
            "Owner": st.column_config.TextColumn(width=150),
            "Date": st.column_config.TextColumn("Date (UTC)", width=128),
            "Role": st.column_config.TextColumn(width=95),
            "Tracks": st.column_config.TextColumn(width=150 if owners else 195),
            "Graded by": st.column_config.TextColumn(width=105),
            "Score": st.column_config.ProgressColumn(
                "Score", min_value=0, max_value=100, format="%.0f", width=90
            ),
            "Status": st.column_config.TextColumn(width=85),
        },
    )


def _forget_delete_request() -> None:
    st.session_state.pop(CONFIRM_DELETE_KEY, None)


# The open dialog is remembered in session state, so it survives the rerun its own buttons cause.
@st.dialog("Delete this interview?", on_dismiss=_forget_delete_request)
def confirm_delete(iv: Interviewer, interview_id: str, label: str) -> None:
    st.write("This removes the transcript and its saved state for good:")
    st.text(label)
    left, right = st.columns(2)
    if left.button("Delete", type="primary", icon=":material/delete:", width="stretch"):
        _forget_delete_request()
        try:
            iv.delete(interview_id)
        except TranscriptError as exc:
            st.error(str(exc), icon=":material/error:")
            return
        st.query_params.pop("interview", None)
        if st.session_state.get("interview_id") == interview_id:
            st.session_state.pop("interview_id", None)
        st.session_state["deleted"] = label
        st.rerun()
    if right.button("Cancel", width="stretch"):
        _forget_delete_request()
        st.rerun()


def owner_actions(
    iv: Interviewer, item: Listing, viewer: Viewer | None, *, can_continue: bool
) -> None:
    """Continue (while it can) and delete: for the interview's owner only."""
    with st.container(horizontal=True):
        if can_continue:
            st.page_link(
                INTERVIEW_PAGE, label="Continue this interview", icon=":material/play_arrow:",
                query_params={"interview": item.id},
            )
        if st.button("Delete…", icon=":material/delete:", key=f"delete-{item.id}"):
            st.session_state[CONFIRM_DELETE_KEY] = item.id
    if st.session_state.get(CONFIRM_DELETE_KEY) == item.id:
        confirm_delete(iv, item.id, describe(item, viewer))


def outside(iv: Interviewer, scope: Scope, interview_id: str) -> bool:
    """Whether the interview exists but `scope` may not read it."""
    if scope.everyone:
        return False
    try:
        return not scope.allows(iv.store.load(interview_id).owner)
    except TranscriptError:  # no such interview: the page says it is not in the list
        return False


def show_one(iv: Interviewer, item: Listing, viewer: Viewer | None) -> None:
    try:
        transcript = iv.store.load(item.id)
    except TranscriptError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    try:
        state = iv.state(item.id)
    except TranscriptError:
        state = None
    st.subheader(md(describe(item, viewer)))  # an owner's e-mail is not Markdown
    if may_answer(viewer, transcript.owner):
        can_continue = transcript.status != "finished" and state is not None
        owner_actions(iv, item, viewer, can_continue=can_continue)
    else:
        st.caption(":material/visibility: Read-only: only the candidate can continue or delete "
                   "this interview.")
    report, conversation = st.tabs(["Report", "Conversation"])
    with report:
        show_report(transcript, iv.bank, key=f"review-{item.id}")
    with conversation:
        show_conversation([turn.model_dump() for turn in transcript.turns])


iv = interviewer()
viewer = current_viewer()
scope = scope_for(iv.settings, viewer)
st.title("Review")
if deleted := st.session_state.pop("deleted", None):
    st.success(f"Deleted: {deleted}", icon=":material/check:")

listings = iv.store.list(scope)
readable = [item for item in listings if item.ok]
wanted = st.query_params.get("interview")
if wanted and wanted not in {item.id for item in readable} and outside(iv, scope, wanted):
    refuse()
    if st.button("Show my interviews", icon=":material/history:"):
        st.query_params.pop("interview", None)
        st.rerun()
    st.stop()
unreadable = [item for item in listings if not item.ok]

if unreadable:
    with st.expander(f"{len(unreadable)} file(s) in the transcripts folder could not be read",
                     icon=":material/warning:"):
        st.caption("They are left untouched. Each line names the file and what is wrong with it.")
        for item in unreadable:
            st.text(item.error or item.path.name)

if not readable:
    st.info("No interviews yet. Finished and unfinished interviews appear here.",
            icon=":material/inbox:")
    st.page_link(INTERVIEW_PAGE, label="Start an interview", icon=":material/play_arrow:")
    st.stop()

shown = filtered(readable)
if not shown:
    st.info("No interview matches these filters.", icon=":material/filter_alt_off:")
    st.stop()
table(shown, owners=is_coach(iv.settings, viewer))

by_id = {item.id: item for item in shown}
ids = list(by_id)
choice = st.selectbox(
    "Open an interview",
    ids,
    index=ids.index(wanted) if wanted in by_id else None,
    format_func=lambda i: describe(by_id[i], viewer),
    placeholder="Choose an interview to replay and read its report",
)
if choice:
    if st.query_params.get("interview") != choice:
        st.query_params["interview"] = choice
    show_one(iv, by_id[choice], viewer)
elif wanted and wanted not in by_id:
    st.caption("The interview in the address is not in this list (filtered out or deleted).")
