"""Settings, read once from `interviewer.toml` and the environment, and passed explicitly.

The file is `interviewer.toml` in `HOME_DIR` (the checkout, or the current folder once installed),
or the path in `INTERVIEWER_CONFIG`. Top-level keys: `profile` (the active one), `transcripts_dir`,
`rubrics_dir`, `checkpoint_db`, `database_url`, `max_followups`, `group_claim`; then
`[profiles.NAME]` tables and `[[cohorts]]` (see `interviewer.example.toml`). Environment wins over
the file: `INTERVIEWER_PROFILE`, `INTERVIEWER_TRANSCRIPTS_DIR`, `INTERVIEWER_DATABASE_URL`, ...,
and the ecosystem's `OPENAI_API_KEY` (sent to api.openai.com only) and `OPENAI_BASE_URL`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from agent.profiles import OFFLINE, ConfigError, Profile, build_profile, builtin_profiles

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent
# A source checkout keeps rubrics/, ui/ and .streamlit/ at its top, beside agent/ (DESIGN.md's
# shape); the wheel ships them inside agent/ as package data (pyproject.toml maps each one there).
INSTALLED = (PACKAGE_DIR / "rubrics").is_dir()
DATA_ROOT = PACKAGE_DIR if INSTALLED else PROJECT_ROOT
RUBRICS_DIR = DATA_ROOT / "rubrics"
UI_DIR = DATA_ROOT / "ui"
STREAMLIT_CONFIG = DATA_ROOT / ("streamlit_config" if INSTALLED else ".streamlit") / "config.toml"
# The user's own files (interviewer.toml, transcripts/) live in the checkout, or, installed, in the
# folder the command starts in, the way Streamlit reads ./.streamlit and MLflow writes ./mlruns.
HOME_DIR = Path.cwd() if INSTALLED else PROJECT_ROOT
DEFAULT_CONFIG = HOME_DIR / "interviewer.toml"


class Cohort(BaseModel):
    """Candidates whose interviews some coaches may read (signed-in mode only).

    `members` are e-mail addresses or whole domains ("@bootcamp.example"); `coaches` are e-mail
    addresses or "group:NAME" for everyone whose group claim (`group_claim`) lists NAME."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    coaches: list[str] = Field(min_length=1)
    members: list[str] = Field(min_length=1)


class Settings(BaseModel):
    """Everything configurable, in one typed object."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    transcripts_dir: Path = HOME_DIR / "transcripts"
    rubrics_dir: Path = RUBRICS_DIR
    checkpoint_db: Path | None = None
    # A postgresql:// URL: interviews live in that database instead of local files. It may
    # hold a password, so it is never displayed as it is (see `database_display`).
    database_url: SecretStr | None = None
    cohorts: list[Cohort] = Field(default_factory=list)
    group_claim: str = "groups"
    max_followups: int = Field(default=2, ge=0, le=5)
    profile: str = "offline"
    profiles: dict[str, Profile] = Field(default_factory=lambda: {"offline": OFFLINE})
    config_file: Path | None = None

    @model_validator(mode="after")
    def _profile_exists(self) -> Settings:
        self.profile_named(self.profile)
        return self

    @model_validator(mode="after")
    def _database_is_postgres(self) -> Settings:
        if self.database_url is not None:
            scheme = urlsplit(self.database_url.get_secret_value()).scheme
            if scheme not in ("postgresql", "postgres"):
                raise ConfigError(
                    f"database_url must be a postgresql:// URL, not {scheme or 'plain text'!r}"
                )
        return self

    @property
    def database_display(self) -> str | None:
        """The database URL as it may be shown: any password replaced by ***."""
        return redact_url(self.database_url.get_secret_value()) if self.database_url else None

    @property
    def checkpoints(self) -> Path:
        return self.checkpoint_db or self.transcripts_dir / ".checkpoints.sqlite"

    @property
    def locks_dir(self) -> Path:
        """Where each interview's writer locks live: beside the database they guard."""
        return self.checkpoints.with_name(self.checkpoints.name + "-locks")

    @property
    def active(self) -> Profile:
        """The profile that grades."""
        return self.profiles[self.profile]

    def profile_named(self, name: str) -> Profile:
        if name not in self.profiles:
            where = f" in {self.config_file}" if self.config_file else ""
            raise ConfigError(
                f"unknown profile {name!r}{where}; choose from {', '.join(sorted(self.profiles))}"
            )
        return self.profiles[name]

    def with_profile(self, name: str | None) -> Settings:
        """The same settings with another active profile (e.g. from `--profile`)."""
        if not name or name == self.profile:
            return self
        self.profile_named(name)
        return self.model_copy(update={"profile": name})

    def with_added(self, profile: Profile) -> Settings:
        """The same settings with one more profile (or another under its name)."""
        return self.model_copy(update={"profiles": {**self.profiles, profile.name: profile}})

    def public(self) -> dict[str, object]:
        """The settings as they may be displayed: every key masked."""
        return {
            "config_file": str(self.config_file) if self.config_file else None,
            "profile": self.profile,
            "transcripts_dir": str(self.transcripts_dir),
            "database": self.database_display,
            "rubrics_dir": str(self.rubrics_dir),
            "max_followups": self.max_followups,
            "profiles": {name: p.public() for name, p in sorted(self.profiles.items())},
        }


_FILE_KEYS = set(Settings.model_fields) - {"config_file"}  # every setting but the file's own path


def redact_url(url: str) -> str:
    """`url` with any password (and any `password=` query value) replaced by ***."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        user, _, host = netloc.rpartition("@")
        netloc = f"{user.split(':', 1)[0]}:***@{host}"
    query = re.sub(r"(?i)(password=)[^&]*", r"\1***", parts.query)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _read_config(env: Mapping[str, str]) -> tuple[dict, Path | None]:
    """The TOML file's contents and path; no file at the default path means no settings."""
    explicit = env.get("INTERVIEWER_CONFIG")
    path = Path(explicit).expanduser() if explicit else DEFAULT_CONFIG
    if not path.exists():
        if explicit:
            raise ConfigError(f"INTERVIEWER_CONFIG points to {path}, which does not exist")
        return {}, None
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    unknown = sorted(set(data) - _FILE_KEYS)
    if unknown:
        known = ", ".join(sorted(_FILE_KEYS))
        raise ConfigError(f"{path}: unknown setting {unknown[0]!r}; known: {known}")
    return data, path


def _file_values(data: dict, path: Path | None, env: Mapping[str, str]) -> dict:
    values: dict = {}
    base = path.parent if path else HOME_DIR
    for key in ("transcripts_dir", "rubrics_dir", "checkpoint_db"):
        if key in data:
            values[key] = base / Path(str(data[key])).expanduser()
    for key in ("max_followups", "database_url", "cohorts", "group_claim"):
        if key in data:
            values[key] = data[key]
    profiles = builtin_profiles(env)
    tables = data.get("profiles", {})
    if not isinstance(tables, dict):
        raise ConfigError(f"{path}: 'profiles' must be tables like [profiles.ollama]")
    for name, raw in tables.items():
        try:
            profiles[name] = build_profile(name, raw, env)
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc}") from None
    values["profiles"] = profiles
    if "profile" in data:
        values["profile"] = str(data["profile"])
    values["config_file"] = path
    return values


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Settings from the config file, then `INTERVIEWER_*` environment variables, then defaults."""
    env = os.environ if env is None else env
    data, path = _read_config(env)
    values: dict = _file_values(data, path, env)
    if env.get("INTERVIEWER_PROFILE"):
        values["profile"] = env["INTERVIEWER_PROFILE"]
    if env.get("INTERVIEWER_TRANSCRIPTS_DIR"):
        values["transcripts_dir"] = Path(env["INTERVIEWER_TRANSCRIPTS_DIR"]).expanduser()
    if env.get("INTERVIEWER_RUBRICS_DIR"):
        values["rubrics_dir"] = Path(env["INTERVIEWER_RUBRICS_DIR"]).expanduser()
    if env.get("INTERVIEWER_CHECKPOINT_DB"):
        values["checkpoint_db"] = Path(env["INTERVIEWER_CHECKPOINT_DB"]).expanduser()
    if env.get("INTERVIEWER_DATABASE_URL"):
        values["database_url"] = env["INTERVIEWER_DATABASE_URL"]
    if env.get("INTERVIEWER_MAX_FOLLOWUPS"):
        values["max_followups"] = int(env["INTERVIEWER_MAX_FOLLOWUPS"])
    profile = values.get("profile", "offline")
    if profile not in values["profiles"]:
        names = ", ".join(sorted(values["profiles"]))
        source = "INTERVIEWER_PROFILE" if env.get("INTERVIEWER_PROFILE") else str(path)
        raise ConfigError(f"unknown profile {profile!r} (from {source}); choose from {names}")
    try:
        return Settings(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(settings)"
        raise ConfigError(f"{path or 'settings'}: {where}: {first['msg']}") from None


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _toml_string(value: str) -> str:
    # JSON's escapes (\" \\ \n \uXXXX) are TOML's; the result is checked by reading it back.
    return json.dumps(value, ensure_ascii=False)


def save_profile(
    settings: Settings,
    profile: Profile,
    *,
    default: bool = False,
    env: Mapping[str, str] | None = None,
) -> Path:
    """Add `profile` to the config file as a `[profiles.NAME]` table, and make it the default
    profile if asked; the file it writes to, created if need be.

    A key is never written: only `api_key_env`, the name of the variable that holds it. The new
    file is read back the way `load_settings` reads it before it replaces the old one."""
    env = os.environ if env is None else env
    path = settings.config_file or DEFAULT_CONFIG
    old, _ = _read_config({**env, "INTERVIEWER_CONFIG": str(path)}) if path.exists() else ({}, None)
    if profile.name in (old.get("profiles") or {}) or profile.name == OFFLINE.name:
        raise ConfigError(f"{path} already has a profile {profile.name!r}; choose another name")
    table = {"base_url": profile.base_url, "model": profile.model}
    if profile.api_key_env:
        table["api_key_env"] = profile.api_key_env
    name = profile.name if _BARE_KEY.fullmatch(profile.name) else _toml_string(profile.name)
    text = path.read_text(encoding="utf-8").rstrip("\n") if path.exists() else ""
    lines = [*([text, ""] if text else []), f"[profiles.{name}]"]
    lines += [f"{key} = {_toml_string(value)}" for key, value in table.items()]
    if default:
        lines = _with_default("\n".join(lines).splitlines(), profile.name)
    new_text = "\n".join(lines) + "\n"
    try:
        data = tomllib.loads(new_text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: the profile could not be written as TOML: {exc}") from None
    if data["profiles"][profile.name] != table or (default and data.get("profile") != profile.name):
        raise ConfigError(f"{path}: the profile could not be written as TOML")
    _file_values(data, path, env)  # every profile still builds, the OpenAI-key rule holds
    partial = path.with_name(f".{path.name}.partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial.write_text(new_text, encoding="utf-8")
        partial.replace(path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise ConfigError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def _with_default(lines: list[str], name: str) -> list[str]:
    """The file's lines with `profile = NAME` among its top-level settings (before any table)."""
    first_table = next(
        (i for i, line in enumerate(lines) if line.lstrip().startswith("[")), len(lines)
    )
    setting = f"profile = {_toml_string(name)}"
    for i in range(first_table):
        if re.match(r"\s*profile\s*=", lines[i]):
            return [*lines[:i], setting, *lines[i + 1 :]]
    return [*lines[:first_table], setting, "", *lines[first_table:]]
