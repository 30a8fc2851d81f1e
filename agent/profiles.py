"""Model profiles: which brain grades and how to reach an OpenAI-compatible server.

A profile is a base URL, a model name and where its key comes from (like `simonw/llm`'s
`api_base` models). Keys are resolved once, when settings load, and follow one rule: the
`OPENAI_API_KEY` variable is only ever sent to api.openai.com. A local server gets the profile's
own key (`api_key` or the variable named by `api_key_env`) or a placeholder.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

OPENAI_BASE_URL = "https://api.openai.com/v1"
OPENAI_HOST = "api.openai.com"
PLACEHOLDER_KEY = "not-needed"
ENTERED = "entered for this session"  # a key's source when typed in, never saved
StructuredMode = Literal["json_schema", "json_object+schema", "json_object", "prompt"]
STRUCTURED_MODES: tuple[StructuredMode, ...] = StructuredMode.__args__


class ConfigError(ValueError):
    """The configuration file or environment is invalid; the message names file, profile, field."""


def is_openai_url(url: str) -> bool:
    """True only for OpenAI's own API host over https."""
    parts = urlsplit(url)
    return parts.scheme == "https" and (parts.hostname or "").lower() == OPENAI_HOST


def mask_key(key: str | SecretStr | None) -> str:
    """A key as it may be shown: never more than its last four characters."""
    if isinstance(key, SecretStr):
        key = key.get_secret_value()
    if not key:
        return "(none)"
    if key == PLACEHOLDER_KEY:
        return PLACEHOLDER_KEY
    return f"****{key[-4:]}" if len(key) >= 12 else "****"


class Profile(BaseModel):
    """One way of grading: the offline engine, or a model behind an OpenAI-compatible API."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,40}$")
    brain: Literal["offline", "llm"] = "llm"
    base_url: str = OPENAI_BASE_URL
    model: str = Field(default="gpt-4o-mini", min_length=1)
    api_key: SecretStr | None = None
    api_key_env: str | None = None
    key_source: str = "none"
    timeout: float = Field(default=60.0, gt=0, le=3600)
    total_timeout: float = Field(default=180.0, gt=0, le=7200)
    max_attempts: int = Field(default=4, ge=1, le=10)
    backoff: float = Field(default=0.5, ge=0, le=30)
    max_tokens: int = Field(default=1200, ge=16, le=32768)
    temperature: float | None = Field(default=None, ge=0, le=2)
    structured_output: Literal["auto", StructuredMode] = "auto"
    stream: bool = True

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http(s) URL such as http://localhost:11434/v1")
        return url.rstrip("/")

    @property
    def is_openai(self) -> bool:
        return is_openai_url(self.base_url)

    def key(self) -> str:
        """The key to send: the resolved one, or a placeholder servers without auth accept."""
        if self.api_key is not None and self.api_key.get_secret_value():
            return self.api_key.get_secret_value()
        return "" if self.is_openai else PLACEHOLDER_KEY

    def describe(self) -> str:
        """Which brain and model, in words for a banner."""
        if self.brain == "offline":
            return "offline rubric engine (no model, no network)"
        return f"{self.model} at {self.base_url} (profile {self.name})"

    def public(self) -> dict[str, object]:
        """The profile as it may be displayed or logged: the key masked."""
        data = self.model_dump(exclude={"api_key"})
        data["api_key"] = mask_key(self.key()) if self.brain == "llm" else "(none)"
        return data


OFFLINE = Profile(name="offline", brain="offline", model="rubric-engine")


def _resolve_key(
    name: str, raw: dict, base_url: str, env: Mapping[str, str], entered: str | None
) -> tuple[str, str]:
    """The profile's key and where it came from, enforcing the OpenAI-key rule."""
    openai_key = env.get("OPENAI_API_KEY", "")
    openai_url = is_openai_url(base_url)
    if entered:
        if raw.get("api_key") or raw.get("api_key_env"):
            raise ConfigError(
                f"profile {name!r}: give the key or the variable that holds it, not both"
            )
        key, source = entered, ENTERED
    elif raw.get("api_key"):
        key, source = str(raw["api_key"]), "config file"
    elif raw.get("api_key_env"):
        var = str(raw["api_key_env"])
        if var == "OPENAI_API_KEY" and not openai_url:
            raise ConfigError(
                f"profile {name!r}: OPENAI_API_KEY is only sent to {OPENAI_HOST}; put this "
                f"server's key in another variable and name it in api_key_env"
            )
        if _not_a_key(var):
            raise ConfigError(
                f"profile {name!r}: api_key_env must name the variable holding this server's "
                f"key, not {var}, which holds the interviewer's own settings or a database's"
            )
        key, source = env.get(var, ""), f"${var}" + ("" if env.get(var) else " (unset)")
    elif openai_url:
        key, source = openai_key, "$OPENAI_API_KEY" + ("" if openai_key else " (unset)")
    else:
        key, source = "", f"none ({PLACEHOLDER_KEY!r} is sent)"
    if key and key == openai_key and not openai_url:
        host = urlsplit(base_url).hostname
        raise ConfigError(
            f"profile {name!r} would send the OPENAI_API_KEY value to {host};"
            f" it is only sent to {OPENAI_HOST}"
        )
    return key, source


def _not_a_key(var: str) -> bool:
    """Variables whose values must never be sent to a model server as its key: the
    interviewer's own settings (the database URL holds a password) and PostgreSQL's."""
    upper = var.upper()
    return upper.startswith(("INTERVIEWER_", "PG")) or upper.endswith("DATABASE_URL")


def build_profile(
    name: str, raw: Mapping[str, object], env: Mapping[str, str], *, entered_key: str | None = None
) -> Profile:
    """A profile from its TOML table; OPENAI_BASE_URL applies where base_url is not set.

    `entered_key` is a key typed in for this session: the profile holds it in memory only."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"profile {name!r}: must be a table")
    data = dict(raw)
    if data.get("brain") == "offline":
        data.setdefault("model", "rubric-engine")
    data.setdefault("base_url", env.get("OPENAI_BASE_URL") or OPENAI_BASE_URL)
    base_url = str(data["base_url"])
    key, source = _resolve_key(name, data, base_url, env, entered_key)
    data.pop("api_key", None)
    try:
        secret = SecretStr(key) if key else None
        return Profile(name=name, api_key=secret, key_source=source, **data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(profile)"
        raise ConfigError(f"profile {name!r} field {where}: {first['msg']}") from None


def builtin_profiles(env: Mapping[str, str]) -> dict[str, Profile]:
    """Profiles that exist without a config file: the offline engine and OpenAI."""
    return {"offline": OFFLINE, "openai": build_profile("openai", {}, env)}
