"""The Streamlit app: Interview, Review, Progress and Settings pages over `agent/`.

Run with `make run` (or `streamlit run ui/app.py`). With an `[auth]` section in Streamlit's
secrets, people sign in and each sees their own interviews (see signin.py); without one, the app
is one person's.
"""

from __future__ import annotations

import logging

import streamlit as st
from components import (
    INTERVIEW_PAGE,
    PROGRESS_PAGE,
    REVIEW_PAGE,
    SETTINGS_PAGE,
    STYLE,
    USER_ERRORS,
)
from signin import account_box, current_viewer

log = logging.getLogger("interviewer.ui")

st.set_page_config(
    page_title="Mock interviewer",
    page_icon="🎙️",
    layout="centered",
)
st.html(STYLE)

# With sign-in configured, nobody reaches a page (or its navigation) before signing in.
viewer = current_viewer()

# The page scripts live in views/, not pages/: Streamlit would also auto-discover a pages/
# folder and serve its scripts on their own, outside this navigation.
page = st.navigation(
    [
        st.Page(INTERVIEW_PAGE, title="Interview", icon=":material/forum:", default=True),
        st.Page(REVIEW_PAGE, title="Review", icon=":material/history:"),
        st.Page(PROGRESS_PAGE, title="Progress", icon=":material/trending_up:"),
        st.Page(SETTINGS_PAGE, title="Settings", icon=":material/settings:"),
    ]
)
account_box(viewer)

try:
    page.run()
except USER_ERRORS as exc:
    st.error(str(exc), icon=":material/error:")
except Exception:  # never a traceback in the browser; the details go to the server log
    log.exception("page %r failed", page.title)
    st.error(
        "Something went wrong on this page. Your interviews are saved after every turn, so "
        "nothing is lost: reload the page to carry on. The details are in the server log.",
        icon=":material/error:",
    )
