"""What every page shares: settings, the cached interviewer, labels and calm error handling."""

from __future__ import annotations

import hashlib
import re
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

import streamlit as st
from pydantic import SecretBytes, SecretStr

from agent.config import Settings, load_settings
from agent.grading.providers import Provider
from agent.grading.rubrics import TRACK_TITLES, Bank, RubricError, load_bank
from agent.interview.interviewer import Interviewer, InterviewError, settle_heap
from agent.interview.progress import parse_time
from agent.storage.backend import Storage, open_storage
from agent.storage.checkpoints import StorageError
from agent.storage.transcripts import TranscriptError

# Errors whose message is written for the user: shown as they are, never as a traceback.
USER_ERRORS: tuple[type[Exception], ...] = (
    InterviewError,
    TranscriptError,
    RubricError,
    StorageError,
)

ROLE_LABELS = {"ml-engineer": "ML engineer", "ai-engineer": "AI engineer"}
COMPANY_LABELS = {
    "startup": "AI startup",
    "big-tech": "Big Tech",
    "enterprise": "Traditional enterprise",
}
DIFFICULTY_LABELS = {"any": "Any", "junior": "Junior", "mid": "Mid", "senior": "Senior"}
FEEDBACK_LABELS = {"end": "Only at the end", "each": "After each answer"}

INTERVIEW_PAGE = "views/interview.py"
REVIEW_PAGE = "views/review.py"
PROGRESS_PAGE = "views/progress.py"
SETTINGS_PAGE = "views/settings.py"

# Set by the Progress page for the Interview set-up: {"track": ..., "question_id": ...}
PRACTICE_KEY = "practice"
# Set by the Settings page, for this session only: {"profile": name, "added": {name: Profile}}
MODEL_KEY = "session_model"

# Style only (no user text): the highlight behind evidence quotes in reports.
STYLE = """
<style>
div[class*="st-key-evidence-"] {
  background: #fff4c2;
  border-left: 3px solid #e0a800;
  border-radius: 4px;
  padding: 0.2rem 0.5rem;
}
</style>
"""


def track_title(track: str) -> str:
    return TRACK_TITLES.get(track, track)


def role_label(role: str) -> str:
    return ROLE_LABELS.get(role, role or "-")


def company_label(company_type: str) -> str:
    return COMPANY_LABELS.get(company_type, company_type or "-")


def when(stamp: str) -> str:
    """A transcript timestamp as 'YYYY-MM-DD HH:MM UTC'."""
    parsed = parse_time(stamp)
    if parsed == datetime.min.replace(tzinfo=parsed.tzinfo):
        return "unknown date"
    return parsed.strftime("%Y-%m-%d %H:%M UTC")


def fail(message: str) -> None:
    """Show a clear message and stop this page run."""
    st.error(message, icon=":material/error:")
    st.stop()


def current_settings() -> Settings:
    """Settings as `agent.config` reads them (environment, and config files where supported)."""
    try:
        return load_settings()
    except Exception as exc:  # a bad value in the environment or a config file
        fail(f"The configuration could not be loaded: {exc}")
        raise  # unreachable: fail() stops the run


def session_settings(settings: Settings) -> Settings:
    """`settings` with the model this session chose on the Settings page, and the profiles it
    added there (their keys in memory only)."""
    choice = st.session_state.get(MODEL_KEY) or {}
    for profile in (choice.get("added") or {}).values():
        settings = settings.with_added(profile)
    chosen = choice.get("profile")
    return settings.with_profile(chosen) if chosen in settings.profiles else settings


def _digest(secret: str) -> str:
    """What tells two secrets apart in a cache key, without the secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


@st.cache_resource(show_spinner="Loading the question bank…")
def _cached_bank(rubrics_dir: str) -> Bank:
    return load_bank(Path(rubrics_dir))


def _close_storage(storage: Storage) -> None:
    storage.close()


@st.cache_resource(
    show_spinner="Opening the interviews' storage…", max_entries=4, on_release=_close_storage
)
def _cached_storage(key: str, _settings: Settings) -> Storage:
    return open_storage(_settings)


@st.cache_resource(max_entries=4, on_release=Interviewer.close)
def _cached_interviewer(key: str, _settings: Settings) -> Interviewer:
    """One per model configuration; all of them share the question bank and the storage (one
    connection pool to a database, not one per model)."""
    url = _settings.database_url.get_secret_value() if _settings.database_url else ""
    storage_key = " ".join(
        [str(_settings.transcripts_dir), str(_settings.checkpoints), _digest(url)]
    )
    interviewer = Interviewer(
        _settings,
        bank=_cached_bank(str(_settings.rubrics_dir)),
        storage=_cached_storage(storage_key, _settings),
    )
    settle_heap()
    return interviewer


def interviewer() -> Interviewer:
    """One interviewer per configuration, shared by all sessions of this server that use it."""
    settings = session_settings(current_settings())
    # Keys are masked in the JSON: a digest tells two keys typed in for a profile apart.
    digest = _digest(settings.active.key())
    try:
        return _cached_interviewer(f"{settings.model_dump_json()} {digest}", settings)
    except RubricError as exc:
        fail(f"The question bank could not be loaded: {exc}")
    except StorageError as exc:
        fail(f"The interviewer could not start: {exc}")
    except (OSError, ValueError, sqlite3.Error) as exc:
        where = f" (checkpoints: {settings.checkpoints})" if isinstance(exc, sqlite3.Error) else ""
        fail(f"The interviewer could not start: {exc}{where}")
    raise AssertionError("unreachable")


def brain_banner(provider: Provider, *, compact: bool = False) -> None:
    """Say plainly which brain grades the answers (never a key)."""
    brain, model, detail = provider.brain, provider.model, provider.describe()
    if brain == "offline":
        if compact:
            st.caption(
                f":material/rule: Graded offline by the rubric engine ({md(model)}): "
                "no model, no network."
            )
        else:
            st.info(
                f"Graded offline by the **rubric engine** ({md(model)}): your answer is matched "
                "against each rubric criterion, with the sentences that earned points quoted as "
                "evidence. No model, no network.",
                icon=":material/rule:",
            )
    elif compact:
        st.caption(f":material/psychology: Graded by {md(detail)}")
    else:
        st.info(
            f"Graded by **{md(detail)}**. Every point awarded must quote your own "
            "words; if the model fails, the offline rubric engine grades that answer and the "
            "report says so.",
            icon=":material/psychology:",
        )


# --- settings display ----------------------------------------------------------------------------

_SECRET_NAME = re.compile(r"(^|_)(api_?)?key$|token$|secret|password|passwd", re.IGNORECASE)
_URL_CREDENTIALS = re.compile(r"(://)[^/@\s]+@")


def masked_settings(settings: Settings) -> list[tuple[str, str]]:
    """Every setting as (name, shown value), with anything that looks like a key hidden.

    Starts from `Settings.public()` (keys already masked) and masks again regardless.
    """
    data = settings.public()
    rows: list[tuple[str, str]] = []

    def walk(prefix: str, value: Any) -> None:
        name = prefix.rsplit(".", 1)[-1]
        if isinstance(value, SecretStr | SecretBytes) or (
            _SECRET_NAME.search(name) and not isinstance(value, dict | list | tuple)
        ):
            rows.append((prefix, _masked(value)))
        elif isinstance(value, dict):
            if not value:
                rows.append((prefix, "(none)"))
            if value.get("brain") == "offline":  # the rest (URL, timeouts) does not apply
                value = {k: v for k, v in value.items() if k in ("name", "brain", "model")}
            for key, item in value.items():
                walk(f"{prefix}.{key}", item)
        elif isinstance(value, list | tuple) and any(isinstance(v, dict) for v in value):
            for i, item in enumerate(value):
                walk(f"{prefix}[{i}]", item)
        else:
            shown = "-" if value is None else str(value)
            rows.append((prefix, _URL_CREDENTIALS.sub(r"\1•••@", shown)))

    for field_name, value in data.items():
        walk(field_name, value)
    rows.append(("checkpoints", str(settings.checkpoints)))  # derived, so not in public()
    return rows


def _masked(value: Any) -> str:
    """A secret as it may be shown: whether it is set, or a mask that `agent` already applied."""
    if isinstance(value, SecretStr | SecretBytes):
        value = value.get_secret_value()
    if value is None or value in ("", b"", "(none)"):
        return "not set"
    if isinstance(value, str) and value.startswith("****") and len(value) <= 8:
        return value
    return "set (hidden)"


_MD_PUNCT = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&])")


def md(text: str) -> str:
    """Our own short text (titles, rubric wording) escaped for a Markdown label."""
    return _MD_PUNCT.sub(r"\\\1", " ".join(str(text).split()))
