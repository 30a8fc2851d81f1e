"""Settings page: the model that grades (pick, add, check, save), the configuration (keys
hidden), where transcripts go, the question bank."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st
from components import (
    MODEL_KEY,
    brain_banner,
    current_settings,
    interviewer,
    masked_settings,
    md,
    track_title,
)
from signin import current_viewer

from agent.access import Viewer, scope_for
from agent.config import DEFAULT_CONFIG, Settings, save_profile
from agent.grading.rubrics import DIFFICULTIES
from agent.interview.interviewer import Interviewer
from agent.profiles import ConfigError, Profile, build_profile

if TYPE_CHECKING:
    from agent.doctor import DoctorReport

STATUS_WORDS = {"ok": "ok", "warn": "warning", "fail": "FAILED", "skip": "skipped"}
CHOICE_KEY = "settings_profile"  # the profile picked in the Model section's list
NEXT_CHOICE_KEY = "settings_profile_next"  # one to pick there on the next run (just added)
SAVED_KEY = "settings_saved"  # where a profile was just saved, said once


def show_doctor_report(report: DoctorReport) -> None:
    """The doctor's findings: one row per check, then its verdict."""
    if report.checks:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Check": c.name,
                        "Result": STATUS_WORDS.get(c.status, c.status),
                        "Time (ms)": c.ms,
                        "Detail": c.detail,
                    }
                    for c in report.checks
                ]
            ),
            hide_index=True,
            placeholder="–",
            column_config={
                "Time (ms)": st.column_config.NumberColumn(format="%.0f"),
                "Detail": st.column_config.TextColumn(width="large"),
            },
        )
    if report.verdict:
        (st.success if report.ok else st.error)(report.verdict)


def profile_label(profile: Profile) -> str:
    return f"{profile.name} · {profile.describe()}"


def check_model(settings: Settings, name: str) -> None:
    """Run `interviewer doctor` on one profile and show what it found."""
    from agent.doctor import run_doctor  # loads the model SDK: only when a check is asked for

    try:
        with st.spinner("Checking the model…"):
            report = run_doctor(settings, name)
    except Exception as exc:
        st.error(f"The model check could not run: {exc}", icon=":material/error:")
        return
    show_doctor_report(report)


def choose_model(settings: Settings) -> None:
    """Pick the profile that grades this session's interviews, and check it."""
    st.subheader("Model")
    st.caption(
        "Which brain grades your interviews in this browser session. The model check tests "
        "that a profile's model is reachable, accepts the key, answers, streams, and which "
        "structured-output mode works (the same as `interviewer doctor`)."
    )
    names = sorted(settings.profiles)
    if (pending := st.session_state.pop(NEXT_CHOICE_KEY, None)) in names:
        st.session_state[CHOICE_KEY] = pending
    if st.session_state.get(CHOICE_KEY) not in names:
        st.session_state[CHOICE_KEY] = settings.profile
    chosen = st.selectbox(
        "Model profile", names, format_func=lambda n: profile_label(settings.profiles[n]),
        key=CHOICE_KEY,
    )
    with st.container(horizontal=True):
        use = st.button(
            "Use for this session", icon=":material/check:", disabled=chosen == settings.profile,
            help="Interviews you start in this browser session are graded by this profile.",
        )
        check = st.button("Run the model check", icon=":material/stethoscope:")
    default = current_settings().profile
    if settings.profile != default:
        st.caption(f"This session grades with {md(settings.profile)}; new sessions use "
                   f"{md(default)}, the default (interviewer.toml or INTERVIEWER_PROFILE).")
        if st.button(f"Back to {default}", type="tertiary"):
            st.session_state[MODEL_KEY]["profile"] = default
            st.session_state[NEXT_CHOICE_KEY] = default
            st.rerun()
    if use:
        st.session_state.setdefault(MODEL_KEY, {})["profile"] = chosen
        st.rerun()
    if check:
        check_model(settings, chosen)


def add_model(settings: Settings) -> None:
    """A form for a new OpenAI-compatible profile: for this session, or saved to the file."""
    where = settings.config_file or DEFAULT_CONFIG
    with st.expander("Add a model", icon=":material/add:"), st.form("add-model"):
        st.caption(
            "Any OpenAI-compatible server: OpenAI, or a local Ollama, llama.cpp, vLLM or LM "
            "Studio. The key comes from an environment variable you name, or you type it in "
            "for this session only: it is never saved, logged or shown."
        )
        name = st.text_input("Name", placeholder="ollama")
        base_url = st.text_input("Base URL", placeholder="http://localhost:11434/v1",
                                 help="Empty: OpenAI's API (https://api.openai.com/v1).")
        model = st.text_input("Model", placeholder="qwen2.5:7b-instruct")
        key_env = st.text_input(
            "Environment variable holding the key (optional)", placeholder="VLLM_API_KEY",
            help="Its value is read from the app's environment; the file keeps only its name "
            "(api_key_env). A local server without a key needs neither this nor a key below.",
        )
        key = st.text_input("Or the key itself, for this session only (optional)",
                            type="password")
        default = st.checkbox(f"Make it the default in {where.name} when saving")
        with st.container(horizontal=True):
            add = st.form_submit_button("Add for this session", type="primary")
            save = st.form_submit_button(f"Add and save to {where.name}", icon=":material/save:")
    if not (add or save):
        return
    if not name.strip():
        st.error("Give the model a name, such as ollama.", icon=":material/error:")
        return
    given = {"base_url": base_url, "model": model, "api_key_env": key_env}
    try:
        profile = build_profile(
            name.strip(),
            {field: value.strip() for field, value in given.items() if value.strip()},
            os.environ,
            entered_key=key or None,
        )
        if save:
            path = save_profile(settings, profile, default=default)
    except ConfigError as exc:
        st.error(f"The model could not be added: {exc}", icon=":material/error:")
        return
    choice = st.session_state.setdefault(MODEL_KEY, {})
    if key or not save:  # a key typed in stays in this session's memory, never in the file
        choice.setdefault("added", {})[profile.name] = profile
    choice["profile"] = profile.name
    st.session_state[NEXT_CHOICE_KEY] = profile.name
    if save:
        kept = " The key you typed is not saved: it is used in this session only." if key else ""
        st.session_state[SAVED_KEY] = f"Saved profile {profile.name} to {path}.{kept}"
    st.rerun()


def stored_interviews(iv: Interviewer, settings: Settings, viewer: Viewer | None) -> None:
    """Where interviews are kept (a database's password never shown), and how many of those the
    viewer may read are there."""
    listed = iv.store.list(scope_for(settings, viewer))
    readable = sum(1 for i in listed if i.ok)
    counted = f"{readable} interview(s) " + ("stored" if viewer is None else "you can read")
    if settings.database_url is not None:
        st.text(settings.database_display)
        st.caption(f"{counted}, in the PostgreSQL database (database_url), written after every "
                   "turn. Set INTERVIEWER_DATABASE_URL to use another database.")
        return
    st.text(str(settings.transcripts_dir))
    if viewer is None:  # unreadable files are listed to a reader of everyone's only
        counted += f", {sum(1 for i in listed if not i.ok)} unreadable file(s)"
    st.caption(f"{counted}. One JSON file per interview, written after every turn. Set "
               "INTERVIEWER_TRANSCRIPTS_DIR to store them elsewhere.")


iv = interviewer()
viewer = current_viewer()
settings = iv.settings
st.title("Settings")
brain_banner(iv.provider)
if saved := st.session_state.pop(SAVED_KEY, None):
    st.success(saved, icon=":material/save:")
choose_model(settings)
if viewer is None:
    add_model(settings)

    st.subheader("Active configuration")
    st.caption("Read from the environment (`INTERVIEWER_*`, `OPENAI_*`) and the config file where "
               "there is one. Keys are never shown.")
    rows = masked_settings(settings)
    st.dataframe(
        pd.DataFrame(rows, columns=["Setting", "Value"]),
        hide_index=True,
        width="stretch",
        height=min(38 + 35 * len(rows), 600),
    )
else:
    # A shared deployment: models, servers and files are its operator's (interviewer.toml),
    # and the app never sends requests to an address a user typed in.
    st.caption("The models on offer are set by whoever runs this service. Its configuration "
               "is not shown here.")

st.subheader("Where transcripts are stored")
stored_interviews(iv, settings, viewer)

st.subheader("Question bank")
st.caption(f"{len(iv.bank)} questions from {iv.settings.rubrics_dir}")
coverage = iv.bank.coverage()
st.dataframe(
    pd.DataFrame(
        [
            {"Track": track_title(track), **{d.capitalize(): row[d] for d in DIFFICULTIES},
             "Total": sum(row.values())}
            for track, row in coverage.items()
        ]
    ),
    hide_index=True,
)
