"""Who is using the app: nobody in particular in local mode, or the user signed in through
Streamlit's OpenID Connect support when an `[auth]` section is in its secrets.

The rules (who reads and who answers which interview) are `agent.access`'s; this module only
finds the viewer, asks them to sign in, and says "not yours" the same way on every page.
"""

from __future__ import annotations

import streamlit as st
from components import current_settings, md

from agent.access import Viewer, coaches
from agent.storage.transcripts import EVERYONE, Scope

NOT_YOURS = "This interview is not yours, so it is not shown."


def sign_in_configured() -> bool:
    """Whether the secrets configure sign-in. Without a secrets file at all Streamlit would
    raise on `"auth" in st.secrets`, so its quiet probe comes first."""
    return st.secrets.load_if_toml_exists() and "auth" in st.secrets


def current_viewer() -> Viewer | None:
    """The signed-in user, or None in local mode (no sign-in configured). Anyone else gets the
    welcome and the sign-in button, and the page stops there."""
    if not sign_in_configured():
        return None
    if not st.user.get("is_logged_in"):
        welcome()
        st.stop()
    try:
        return Viewer.from_claims(st.user.to_dict(), current_settings().group_claim)
    except ValueError as exc:
        st.error(f"Your sign-in cannot be used here ({exc}), so your interviews could not be "
                 "kept apart from others'. Sign out and use another account.",
                 icon=":material/person_off:")
        sign_out_button()
        st.stop()
    raise AssertionError("unreachable")


def welcome() -> None:
    st.title("Mock interviewer")
    st.write("Practise ML and AI engineering interviews: one question at a time, follow-ups on "
             "what your answer left out, and a report scored against a rubric.")
    st.write("Sign in to start an interview or to read your earlier ones.")
    if st.button("Sign in", icon=":material/login:", type="primary"):
        st.login()


def sign_out_button() -> None:
    if st.button("Sign out", icon=":material/logout:"):
        st.logout()


def account_box(viewer: Viewer | None) -> None:
    """In the sidebar: who is signed in, the cohorts they coach, and the way out."""
    if viewer is None:
        return
    with st.sidebar:
        who = f"{viewer.name} ({viewer.email})" if viewer.name else viewer.email
        st.caption(f":material/account_circle: Signed in as {md(who)}")
        coached = [c.name for c in current_settings().cohorts if coaches(c, viewer)]
        if coached:
            st.caption(f":material/groups: Coach of {md(', '.join(coached))}: you can read "
                       "their interviews, not answer them.")
        sign_out_button()


def own(viewer: Viewer | None) -> Scope:
    """The viewer's own interviews only (everyone's in local mode): what Progress and the
    practice history draw on, even for a coach."""
    if viewer is None:
        return EVERYONE
    return Scope(everyone=False, owners=frozenset({viewer.email}))


def refuse() -> None:
    """The plain refusal for an interview the viewer may not read: nothing of it is shown."""
    st.warning(NOT_YOURS, icon=":material/block:")
