"""The scored report: overall and per-track scores, per-question criteria with evidence, downloads.

Anything that came from an answer or a model (evidence, missing points, feedback, the answer
itself) is shown with `st.text`; Markdown is used only for our own labels.
"""

from __future__ import annotations

from collections.abc import Mapping

import altair as alt
import pandas as pd
import streamlit as st
from components import (
    INTERVIEW_PAGE,
    PRACTICE_KEY,
    company_label,
    md,
    role_label,
    track_title,
    when,
)

from agent.grading.rubrics import Bank, Question, criterion_title
from agent.interview.questions import InterviewQuestions, StoredQuestionError
from agent.interview.report import band, build_report
from agent.interview.study import study_plan
from agent.interview.verdict import whole
from agent.storage.transcripts import Grade, Transcript, to_markdown

BAND_COLORS = {
    "excellent": "#2e7d32",
    "good": "#2f5d8a",
    "partial": "#e0a800",
    "weak": "#e07000",
    "no credit": "#c62828",
}
FLAG_NOTES = {
    "non-answer": "No real answer was given.",
    "off-topic": "The answer did not address the question.",
    "injection": "Part of the answer tried to instruct the grader. It was ignored; "
    "it can never raise a score.",
    "keyword-list": "Terms were listed without explanation, which earns little credit.",
    "contradiction": "The answer contradicts itself.",
    "misconception": "The answer states a known misconception, which keeps it below a pass.",
    "question-echo": "The answer restated the question without answering it.",
    "uncertain": "This grade is uncertain: the rubric engine's signals disagree (for instance "
    "the right terms next to a wrong claim). A regrade with a model judges the meaning: "
    "interviewer regrade ID --profile NAME.",
    "rambling": "The answer was long and unfocused.",
    "skipped": "This question was skipped; it counts as 0 in the overall.",
    "hinted": "A hint was used, so this question counts at most 80 (two or more hints: 60).",
    "offline-fallback": "The model's grade could not be used, so the offline rubric engine "
    "graded this answer.",
}
COLUMNS = [2.6, 1, 4, 2.6]


def lookup(questions: InterviewQuestions, question_id: str) -> Question | None:
    """The question's rubric as the interview asked it; None when it is unknown or its stored
    copy is not readable (the report shows the grades without it)."""
    try:
        return questions.get(question_id)
    except StoredQuestionError:
        return None


def criterion_label(question: Question | None, criterion_id: str) -> tuple[str, str]:
    """A criterion's title and, when its question's rubric is known, its description."""
    title = criterion_title(criterion_id)
    if question is not None:
        try:
            return title, question.criterion(criterion_id).description
        except KeyError:
            pass
    return title, ""


def show_report(t: Transcript, bank: Bank, *, key: str) -> None:
    """The whole report for one transcript."""
    questions = InterviewQuestions.of_transcript(t, bank)
    report = t.report
    if report is None:
        st.info(
            "This interview is not finished: the scores below cover the questions answered so "
            "far.",
            icon=":material/pending:",
        )
        asked = [q for g in t.grades if (q := lookup(questions, g.question_id)) is not None]
        report = build_report([g.model_dump() for g in t.grades], t.settings, asked)
    _headline(t, report)
    if not report.get("questions_answered"):
        st.caption("No question was answered, so there is nothing to score.")
        _downloads(t, key)
        return
    _verdict(report)
    _track_chart(report)
    _job_topics(report, t)
    _study_next(t, bank, questions, key)
    st.subheader("Question by question")
    weakest = min(range(len(t.grades)), key=lambda i: t.grades[i].score, default=0)
    for i, grade in enumerate(t.grades):
        _question(i, grade, lookup(questions, grade.question_id), key=key, open_=i == weakest)
    _downloads(t, key)


def _headline(t: Transcript, report: Mapping) -> None:
    settings = t.settings
    st.caption(
        f"{md(when(t.created_at))} · {md(role_label(str(settings.get('role', ''))))} · "
        f"{md(company_label(str(settings.get('company_type', ''))))} · "
        f"graded by {md(t.brain)} ({md(t.model)})"
    )
    answered = int(report.get("questions_answered", 0))
    skipped = int(report.get("questions_skipped", 0))
    c1, c2, c3 = st.columns(3)
    overall = float(report.get("overall", 0.0))
    scored = answered or skipped
    c1.metric("Overall", f"{whole(overall)}/100" if scored else "-", border=True)
    c2.metric("Band", str(report.get("band", band(overall))) if scored else "-", border=True)
    c3.metric(
        "Questions answered",
        answered,
        delta=f"{skipped} skipped, counted as 0" if skipped else None,
        delta_color="off",
        border=True,
    )


def _verdict(report: Mapping) -> None:
    verdict = report.get("verdict")
    if not verdict:
        return
    st.subheader(f"Verdict: {verdict['verdict']}")
    st.caption(
        f"For {md(verdict['for'])}; the bar for a hire is {verdict['bar']}/100. The questions "
        f"settled at {md(verdict.get('level_held', verdict['level']))} level."
    )
    for reason in verdict["reasons"]:
        st.markdown(f"- {md(reason['text'])}")
        if reason["evidence"]:
            st.caption(f"“{md(reason['evidence'])}”")
    st.markdown(f"**To change it:** {md(verdict['to_change'])}")
    (st.info if verdict.get("indicative") else st.caption)(md(verdict["caveat"]))


def _track_chart(report: Mapping) -> None:
    per_track = report.get("per_track") or {}
    if not per_track:
        return
    st.subheader("By track")
    data = pd.DataFrame(
        {
            "Track": [track_title(t) for t in per_track],
            "Score": [float(s) for s in per_track.values()],
            "Band": [band(float(s)) for s in per_track.values()],
        }
    )
    bars = (
        alt.Chart(data)
        .mark_bar(cornerRadiusEnd=3, size=24)
        .encode(
            x=alt.X("Score:Q", scale=alt.Scale(domain=[0, 100]), title="Score (0-100)"),
            y=alt.Y("Track:N", sort="-x", title=None, axis=alt.Axis(labelLimit=260)),
            color=alt.Color(
                "Band:N",
                scale=alt.Scale(domain=list(BAND_COLORS), range=list(BAND_COLORS.values())),
                legend=None,
            ),
            tooltip=["Track", alt.Tooltip("Score:Q", format=".0f"), "Band"],
        )
    )
    labels = bars.mark_text(align="left", dx=4, color="#333").encode(
        text=alt.Text("Score:Q", format=".0f"), color=alt.value("#333")
    )
    st.altair_chart((bars + labels).properties(height=alt.Step(40)), width="stretch")


def _job_topics(report: Mapping, t: Transcript) -> None:
    """Each topic of the job description, and the questions (by number) that covered it."""
    rows = report.get("job_topics") or []
    if not rows:
        return
    number = {g.question_id: i + 1 for i, g in reversed(list(enumerate(t.grades)))}
    st.subheader("The job's topics")
    st.caption("Topics named in the job description, and the questions of this interview on each.")
    lines = []
    for row in rows:
        asked = [f"Q{number[q]}" for q in row.get("questions") or [] if q in number]
        topic = md(str(row.get("topic", "")))
        if asked:
            lines.append(f"- :material/check_circle: **{topic}**: {', '.join(asked)}")
        else:
            lines.append(f"- :material/radio_button_unchecked: **{topic}**: not covered yet")
    st.markdown("\n".join(lines))


def _practise(track: str, question_id: str) -> None:
    """Open the Interview set-up with this question to be asked first."""
    st.session_state[PRACTICE_KEY] = {"track": track, "question_id": question_id}
    st.session_state["setup_tracks"] = [track]
    st.session_state.pop("interview_id", None)
    st.query_params.pop("interview", None)
    st.switch_page(INTERVIEW_PAGE)


def _study_next(t: Transcript, bank: Bank, questions: InterviewQuestions, key: str) -> None:
    """For the questions scored lowest: what a full answer covers, in the reference answer's
    words, the wrong claims to avoid, and a button to practise the question again."""
    items = study_plan(
        t.grades, lambda qid: lookup(questions, qid), lambda qid: qid in bank
    )
    if not items:
        return
    st.subheader("Study next")
    st.caption("The questions you scored lowest: the points your answer missed, what the "
               "reference answer says on each, and the wrong claims to avoid.")
    for i, item in enumerate(items):
        with st.container(border=True):
            st.caption(f"{md(track_title(item.track))} · {whole(item.score)}/100")
            st.text(item.question)  # a deep-dive question quotes the candidate's CV line
            for point in item.points:
                st.markdown(f"**{md(criterion_title(point.criterion_id))}**",
                            help=md(point.description) if point.description else None)
                if point.missing:
                    st.text("Missing: " + "; ".join(point.missing))
                for sentence in point.read:
                    st.text(f"Read: {sentence}")
                if not point.read and point.full_marks:
                    st.text(f"Full marks: {point.full_marks}")
            for claim in item.claims:
                said = f"You said: “{claim.quote}”" if claim.quote else "A common wrong claim"
                st.text(f"{said}: {claim.claim}" + (f" In fact: {claim.correction}"
                                                     if claim.correction else ""))
            if item.in_bank and st.button(
                "Practise this question", icon=":material/replay:", key=f"{key}-practise-{i}",
                help="Start an interview that opens with this question",
            ):
                _practise(item.track, item.question_id)


def _question(
    i: int, grade: Grade, question: Question | None, *, key: str, open_: bool = False
) -> None:
    label = (
        f"Q{i + 1} · {md(track_title(grade.track))} · {grade.score:.0f}/100 "
        f"({md(band(grade.score))})"
    )
    with st.expander(label, expanded=open_):
        st.text(grade.question)
        for flag in grade.flags:
            note = FLAG_NOTES.get(flag, flag)
            if flag == "skipped":
                st.caption(md(note))
            else:
                st.warning(note, icon=":material/flag:")
            if flag == "offline-fallback" and grade.note:
                st.text(grade.note)  # it quotes the server, so it is shown as plain text
        if grade.feedback:
            st.caption("Feedback")
            st.text(grade.feedback)
        criteria, answer, reference = st.tabs(["Criteria", "Your answer", "Reference answer"])
        with criteria:
            _criteria_table(grade, question, key=f"{key}-{i}")
        with answer:
            if grade.answer.strip():
                st.text(grade.answer)
            else:
                st.caption("No answer was given.")
            if grade.hints or grade.followups:
                st.caption(f"Hints used: {grade.hints} · follow-ups: {grade.followups}")
        with reference:
            _reference(question)


def _criteria_table(grade: Grade, question: Question | None, *, key: str) -> None:
    head = st.columns(COLUMNS)
    names = ["Criterion", "Score", "Evidence (your words)", "Missing"]
    for col, name in zip(head, names, strict=True):
        col.markdown(f"**{name}**")
    for j, criterion in enumerate(grade.criteria):
        title, description = criterion_label(question, criterion.id)
        cols = st.columns(COLUMNS)
        with cols[0]:
            st.markdown(f"**{md(title)}**", help=md(description) if description else None)
            if criterion.level:
                st.caption(md(criterion.level))
        with cols[1]:
            fraction = criterion.score / criterion.max_score if criterion.max_score else 0.0
            st.progress(
                min(max(fraction, 0.0), 1.0), text=f"{criterion.score}/{criterion.max_score}"
            )
        with cols[2]:
            for k, quote in enumerate(criterion.evidence):
                with st.container(key=f"evidence-{key}-{j}-{k}"):
                    st.text(f"“{quote}”")
            if not criterion.evidence:
                st.caption("No evidence in the answer.")
        with cols[3]:
            if criterion.missing:
                st.text("\n".join(f"• {point}" for point in criterion.missing))
            else:
                st.caption("Nothing missing.")
        if j < len(grade.criteria) - 1:
            st.divider()


def _reference(question: Question | None) -> None:
    if question is None:
        st.caption(
            "No reference answer: this question's rubric was not stored with the interview and "
            "is no longer in the question bank."
        )
        return
    st.text(question.reference_answer)
    if question.common_mistakes:
        st.caption("Common mistakes")
        for mistake in question.common_mistakes:
            st.text(f"• {mistake}")


def _downloads(t: Transcript, key: str) -> None:
    with st.container(horizontal=True):
        st.download_button(
            "Download Markdown",
            to_markdown(t),
            file_name=f"interview-{t.id}.md",
            mime="text/markdown",
            icon=":material/description:",
            key=f"{key}-md",
            on_click="ignore",
        )
        st.download_button(
            "Download JSON",
            t.model_dump_json(indent=2),
            file_name=f"interview-{t.id}.json",
            mime="application/json",
            icon=":material/data_object:",
            key=f"{key}-json",
            on_click="ignore",
        )
