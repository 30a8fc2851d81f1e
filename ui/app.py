"""Minimal chat page: runs a whole offline interview in the browser."""

from __future__ import annotations

import streamlit as st

from agent.config import load_settings
from agent.session import InterviewError, Interviewer, interview_settings


@st.cache_resource
def interviewer() -> Interviewer:
    return Interviewer(load_settings())


st.set_page_config(page_title="Mock interviewer", page_icon=":material/record_voice_over:")
st.title("Mock interview")
iv = interviewer()
st.caption(f"Graded by: {iv.provider.brain} ({iv.provider.model})")

if "interview_id" not in st.session_state:
    n = st.number_input("Questions", 1, 10, 2)
    if st.button("Start interview", type="primary"):
        result = iv.start(interview_settings(questions=int(n)))
        st.session_state.interview_id = result.interview_id
        st.rerun()
    st.stop()

interview_id = st.session_state.interview_id
state = iv.state(interview_id) or {}
for message in state.get("messages", []):
    with st.chat_message("assistant" if message["role"] == "interviewer" else "user"):
        st.text(message["text"])
if state.get("status") == "finished":
    st.success(f"Finished. Transcript: {iv.store.path_for(interview_id)}")
elif answer := st.chat_input("Your answer (or hint / repeat / skip / end)"):
    try:
        iv.reply(interview_id, answer)
    except InterviewError as exc:
        st.error(str(exc))
    st.rerun()
