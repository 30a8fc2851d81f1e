"""Settings page: the active configuration (keys hidden), where transcripts go, the model check."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st
from components import brain_banner, interviewer, masked_settings, track_title

from agent.config import Settings
from agent.grading.rubrics import DIFFICULTIES

if TYPE_CHECKING:
    from agent.doctor import DoctorReport

STATUS_WORDS = {"ok": "ok", "warn": "warning", "fail": "FAILED", "skip": "skipped"}


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


def show_doctor(settings: Settings) -> None:
    st.subheader("Model check")
    st.caption("Checks that a profile's model is reachable, accepts the key, answers, streams, "
               "and which structured-output mode works (the same as `interviewer doctor`).")
    profiles = sorted(settings.profiles)
    chosen = None
    if len(profiles) > 1:
        index = profiles.index(settings.profile) if settings.profile in profiles else 0
        chosen = st.selectbox("Profile to check", profiles, index=index)
    if not st.button("Run the model check", icon=":material/stethoscope:"):
        return
    from agent.doctor import run_doctor  # loads the model SDK: only when a check is asked for

    try:
        with st.spinner("Checking the model…"):
            report = run_doctor(settings, chosen)
    except Exception as exc:
        st.error(f"The model check could not run: {exc}", icon=":material/error:")
        return
    show_doctor_report(report)


iv = interviewer()
settings = iv.settings
st.title("Settings")
brain_banner(iv.provider)

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

st.subheader("Where transcripts are stored")
st.text(str(settings.transcripts_dir))
listed = iv.store.list()
st.caption(
    f"{sum(1 for i in listed if i.ok)} interview(s) stored, "
    f"{sum(1 for i in listed if not i.ok)} unreadable file(s). One JSON file per interview, "
    "written after every turn. Set INTERVIEWER_TRANSCRIPTS_DIR to store them elsewhere."
)

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

show_doctor(settings)
