"""Progress page: scores over time, compared like with like (a track at one level, the same
question), and the rubric points missed most often. Signed in, it is the viewer's own progress
only."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st
from components import INTERVIEW_PAGE, PRACTICE_KEY, interviewer, md, track_title
from report_view import criterion_label, lookup
from signin import current_viewer, own

from agent.interview.progress import (
    Change,
    LevelScore,
    MissedCriterion,
    level_changes,
    level_history,
    load_all,
    missed_criteria,
    question_changes,
    question_history,
    time_labels,
)
from agent.interview.questions import InterviewQuestions
from agent.storage.transcripts import Transcript


def practise(track: str, question_id: str | None, level: str | None = None) -> None:
    """Open the Interview set-up for this track (at this level), starting with the question if
    given."""
    st.session_state[PRACTICE_KEY] = {"track": track, "question_id": question_id or ""}
    st.session_state["setup_tracks"] = [track]
    if level:
        st.session_state["setup_difficulty"] = level
    st.session_state.pop("interview_id", None)
    st.switch_page(INTERVIEW_PAGE)


def series_name(track: str, level: str) -> str:
    return f"{track_title(track)} · {level}"


def history_chart(levels: list[LevelScore]) -> None:
    """One line per track at one level; one mark per interview, each labelled once."""
    labels = time_labels((s.interview_id, s.at) for s in levels)
    order = list(dict.fromkeys(labels[s.interview_id] for s in levels))
    data = pd.DataFrame(
        {
            "When": [labels[s.interview_id] for s in levels],
            "Questions": [series_name(s.track, s.difficulty) for s in levels],
            "Score": [s.score for s in levels],
            "Asked": [s.questions for s in levels],
        }
    )
    chart = (
        alt.Chart(data)
        .mark_line(point=alt.OverlayMarkDef(size=60))
        .encode(
            x=alt.X("When:O", sort=order, title=None, axis=alt.Axis(labelAngle=-30)),
            y=alt.Y("Score:Q", scale=alt.Scale(domain=[0, 100]), title="Score (0-100)"),
            color=alt.Color(
                "Questions:N",
                legend=alt.Legend(orient="bottom", columns=2, title=None, labelLimit=0),
            ),
            tooltip=["Questions", alt.Tooltip("Score:Q", format=".0f"), "When", "Asked"],
        )
        .properties(height=320)
    )
    st.altair_chart(chart, width="stretch")


def latest_by_level(changes: list[Change]) -> None:
    """The latest score of each track at each level, beside the time before at that level."""
    cols = st.columns(min(len(changes), 3) or 1)
    for i, change in enumerate(changes):
        delta = (
            f"{change.delta:+.0f} since last time at this level"
            if change.delta is not None
            else None
        )
        with cols[i % len(cols)]:
            st.metric(
                series_name(change.track, change.difficulty),
                f"{change.latest:.0f}/100",
                delta=delta,
                border=True,
                height=130,
                help=f"Mean score on {change.difficulty} questions of this track in your latest "
                f"interview with them ({change.times} interview(s) in all); compared only with "
                "the same track at the same level.",
            )
            if st.button(
                "Practise this", icon=":material/school:",
                key=f"track-{change.track}-{change.difficulty}", type="tertiary",
                help="Start an interview on this track at this level",
            ):
                practise(change.track, None, change.difficulty)


def repeated_questions(changes: list[Change]) -> None:
    """Questions answered more than once: the latest score against the time before."""
    if not changes:
        return
    st.subheader("Questions you answered again")
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Question": c.question,
                    "Track": track_title(c.track),
                    "Level": c.difficulty,
                    "Before": c.previous,
                    "Latest": c.latest,
                    "Change": c.delta,
                    "Times": c.times,
                }
                for c in changes
            ]
        ),
        hide_index=True,
        column_config={
            "Question": st.column_config.TextColumn(width="large"),
            **{
                name: st.column_config.NumberColumn(format="%.0f")
                for name in ("Before", "Latest")
            },
            "Change": st.column_config.NumberColumn(format="%+.0f"),
        },
    )


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
viewer = current_viewer()
st.title("Progress")
transcripts, unreadable = load_all(iv.store, scope=own(viewer))  # a coach's too: only their own
if unreadable:
    st.caption(f"{len(unreadable)} unreadable file(s) in the transcripts folder are left out; "
               "the Review page lists them.")

points = question_history(transcripts)
st.subheader("Scores over time")
if not points:
    st.info("Finish an interview to see your scores here.", icon=":material/insights:")
    st.page_link(INTERVIEW_PAGE, label="Start an interview", icon=":material/play_arrow:")
else:
    st.caption("Each track at each level on its own: a score is only compared with the same kind "
               "of questions.")
    levels = level_history(points)
    latest_by_level(level_changes(levels))
    history_chart(levels)
    repeated_questions(question_changes(points))

st.subheader("Most often missed")
missed = missed_criteria(transcripts, limit=8)
if not missed:
    st.caption("Rubric points your answers miss will be listed here, with a way to practise them.")
transcripts_by_id = {t.id: t for t in transcripts}
for i, items in enumerate(by_question(missed)):
    missed_card(i, items, iv.bank, transcripts_by_id)

with st.expander("All questions by track", icon=":material/menu_book:"):
    question_browser(iv.bank)
