"""Progress page: scores over time per track, and the rubric points missed most often."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st
from components import INTERVIEW_PAGE, PRACTICE_KEY, interviewer, md, track_title
from report_view import criterion_label, lookup

from agent.interview.progress import (
    MissedCriterion,
    TrackScore,
    load_all,
    missed_criteria,
    track_history,
)
from agent.interview.questions import InterviewQuestions
from agent.storage.transcripts import Transcript


def practise(track: str, question_id: str | None) -> None:
    """Open the Interview set-up for this track, starting with the question if given."""
    st.session_state[PRACTICE_KEY] = {"track": track, "question_id": question_id or ""}
    st.session_state["setup_tracks"] = [track]
    st.session_state.pop("interview_id", None)
    st.switch_page(INTERVIEW_PAGE)


def history_chart(points: list[TrackScore]) -> None:
    data = pd.DataFrame(
        {
            "Date": [p.at for p in points],
            "Track": [track_title(p.track) for p in points],
            "Score": [p.score for p in points],
            "Interview": [p.interview_id for p in points],
        }
    )
    chart = (
        alt.Chart(data)
        .mark_line(point=alt.OverlayMarkDef(size=60))
        .encode(
            x=alt.X("Date:T", title=None, axis=alt.Axis(format="%b %d %H:%M", tickCount=6)),
            y=alt.Y("Score:Q", scale=alt.Scale(domain=[0, 100]), title="Score (0-100)"),
            color=alt.Color(
                "Track:N", legend=alt.Legend(orient="bottom", columns=2, title=None, labelLimit=0)
            ),
            tooltip=["Track", alt.Tooltip("Score:Q", format=".0f"), "Date:T", "Interview"],
        )
        .properties(height=320)
    )
    st.altair_chart(chart, width="stretch")


def latest_by_track(points: list[TrackScore]) -> None:
    by_track: dict[str, list[TrackScore]] = {}
    for p in points:
        by_track.setdefault(p.track, []).append(p)
    cols = st.columns(min(len(by_track), 3) or 1)
    for i, (track, series) in enumerate(sorted(by_track.items())):
        last = series[-1].score
        delta = f"{last - series[-2].score:+.0f} since last time" if len(series) > 1 else None
        with cols[i % len(cols)]:
            st.metric(
                track_title(track), f"{last:.0f}/100", delta=delta, border=True, height=130,
                help=f"Latest score; {len(series)} interview(s) on this track",
            )
            if st.button("Practise this track", icon=":material/school:", key=f"track-{track}",
                         type="tertiary"):
                practise(track, None)


def by_question(missed: list[MissedCriterion]) -> list[list[MissedCriterion]]:
    """The missed criteria grouped by question, in the order their first criterion ranks."""
    groups: dict[str, list[MissedCriterion]] = {}
    for item in missed:
        groups.setdefault(item.question_id, []).append(item)
    return list(groups.values())


def missed_card(i: int, items: list[MissedCriterion], bank, by_id: dict[str, Transcript]) -> None:
    first = items[0]
    asked = by_id.get(first.last_interview_id)
    questions = InterviewQuestions.of_transcript(asked, bank) if asked else InterviewQuestions(bank)
    question = lookup(questions, first.question_id)
    with st.container(border=True):
        text, action = st.columns([5, 1.5], vertical_alignment="top")
        with text:
            st.caption(md(track_title(first.track)))
            st.markdown(f"**{md(first.question)}**")
            for item in items:
                title, description = criterion_label(question, item.criterion_id)
                missing = "; ".join(item.top_missing())
                st.markdown(
                    f"- {md(title)} · missed **{item.times_missed}** of {item.times_graded}"
                    + (f" · usually missing: {md(missing)}" if missing else ""),
                    help=md(description) if description else None,
                )
        with action:  # practising starts a new interview, with the bank's question
            if first.question_id in bank and st.button(
                "Practise", icon=":material/replay:", key=f"q-{i}",
                help="Start an interview that opens with this question",
            ):
                practise(first.track, first.question_id)


@st.fragment
def question_browser(bank) -> None:
    """The bank by track; picking a track reruns only this part, not the transcripts above."""
    track = st.selectbox("Track", sorted({q.track for q in bank.questions}),
                         format_func=track_title)
    for q in bank.questions:
        if q.track == track and q.source != "resume":
            st.text(f"• [{q.difficulty}] {q.question}")


iv = interviewer()
st.title("Progress")
transcripts, unreadable = load_all(iv.store)
if unreadable:
    st.caption(f"{len(unreadable)} unreadable file(s) in the transcripts folder are left out; "
               "the Review page lists them.")

points = track_history(transcripts)
st.subheader("Scores over time")
if not points:
    st.info("Finish an interview to see your scores here.", icon=":material/insights:")
    st.page_link(INTERVIEW_PAGE, label="Start an interview", icon=":material/play_arrow:")
else:
    latest_by_track(points)
    history_chart(points)

st.subheader("Most often missed")
missed = missed_criteria(transcripts, limit=8)
if not missed:
    st.caption("Rubric points your answers miss will be listed here, with a way to practise them.")
transcripts_by_id = {t.id: t for t in transcripts}
for i, items in enumerate(by_question(missed)):
    missed_card(i, items, iv.bank, transcripts_by_id)

with st.expander("All questions by track", icon=":material/menu_book:"):
    question_browser(iv.bank)
