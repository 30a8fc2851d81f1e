"""`interviewer doctor`: is the configured model usable, and if not, what to do about it.

Checks, in order, stopping at the first that makes the rest pointless: the profile (key present
where one is needed), the server is reachable, the key is accepted, a chat reply and its latency,
streaming, and which structured-output mode works. Ends with one verdict a person can act on.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Literal

import openai

from agent.config import Settings
from agent.grading import prompts
from agent.grading.model_reply import GradeError, extract_json
from agent.profiles import Profile, mask_key

Status = Literal["ok", "warn", "fail", "skip"]
_PROBE_SCHEMA = {
    "type": "object",
    "properties": {"status": {"type": "string"}, "count": {"type": "integer"}},
    "required": ["status", "count"],
    "additionalProperties": False,
}


@dataclass
class Check:
    name: str
    status: Status
    detail: str
    ms: float | None = None


@dataclass
class DoctorReport:
    """What the doctor found for one profile."""

    profile: dict[str, object]
    checks: list[Check] = field(default_factory=list)
    mode: str | None = None
    verdict: str = ""
    server_models: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(c.status == "fail" for c in self.checks)

    def add(self, name: str, status: Status, detail: str, ms: float | None = None) -> Check:
        check = Check(name, status, detail, None if ms is None else round(ms, 1))
        self.checks.append(check)
        return check

    def to_json(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "verdict": self.verdict,
            "structured_output": self.mode,
            "profile": self.profile,
            "checks": [c.__dict__ for c in self.checks],
        }


def run_doctor(settings: Settings, profile: str | None = None) -> DoctorReport:
    """Check the active profile (or `profile`) and return the findings with a verdict."""
    chosen = settings.profile_named(profile) if profile else settings.active
    report = DoctorReport(profile=chosen.public())
    if settings.database_url is not None:
        _check_database(report, settings)
    if chosen.brain == "offline":
        report.add("profile", "ok", "offline rubric engine: no model or network needed")
        report.verdict = (
            _verdict(report, chosen)
            if not report.ok
            else (
                "Ready: the offline rubric engine grades. To use a model, add a profile to "
                "interviewer.toml and select it with --profile or INTERVIEWER_PROFILE."
            )
        )
        return report
    from agent.grading.llm import LLMProvider  # the SDK is only loaded when a model is configured

    if _check_profile(report, chosen):
        provider = LLMProvider(chosen)
        try:
            if _check_server(report, provider) and _check_chat(report, provider):
                _check_stream(report, provider)
                _check_structured(report, provider)
        finally:
            provider.close()
    report.verdict = _verdict(report, chosen)
    return report


def _check_database(report: DoctorReport, settings: Settings) -> None:
    """The interview database answers and its tables are migrated (as start-up would)."""
    from agent.storage.checkpoints import StorageError
    from agent.storage.postgres import PostgresStorage  # psycopg loads only when used

    t0 = time.perf_counter()
    try:
        storage = PostgresStorage(settings.database_url.get_secret_value())  # type: ignore[union-attr]
    except StorageError as exc:
        report.add("database", "fail", str(exc), _ms(t0))
        return
    try:
        count = len(storage.latest())
    finally:
        storage.close()
    report.add("database", "ok", f"{storage.describe()}: {count} interview(s)", _ms(t0))


def _check_profile(report: DoctorReport, profile: Profile) -> bool:
    if profile.is_openai and not profile.key():
        report.add("profile", "fail", "no API key: set OPENAI_API_KEY (or api_key_env)")
        return False
    key = mask_key(profile.key())
    report.add("profile", "ok", f"{profile.describe()}; key {key} from {profile.key_source}")
    return True


def _check_server(report: DoctorReport, provider) -> bool:
    """Reachability and auth via GET /models; a server without that endpoint still passes."""
    profile: Profile = provider.profile
    t0 = time.perf_counter()
    try:
        models = [m.id for m in provider.client.models.list(timeout=min(profile.timeout, 15))]
    except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
        report.add("reachable", "ok", f"{profile.base_url} answered", _ms(t0))
        report.add("auth", "fail", _reason(exc, provider))
        return False
    except openai.NotFoundError:
        report.add("reachable", "ok", "server answered (it has no /models list)", _ms(t0))
        report.add("auth", "skip", "checked with the chat request below")
        return True
    except Exception as exc:
        report.add("reachable", "fail", _reason(exc, provider), _ms(t0))
        return False
    report.add("reachable", "ok", f"{profile.base_url} lists {len(models)} model(s)", _ms(t0))
    report.add("auth", "ok", "accepted")
    report.server_models = models
    return True


def _check_chat(report: DoctorReport, provider) -> bool:
    messages = _messages(prompts.DOCTOR_PING)
    deadline = time.monotonic() + provider.profile.timeout
    try:
        done = provider.request(messages, "prompt", {}, deadline)
    except Exception as exc:
        detail = _reason(exc, provider)
        if report.server_models and provider.model not in report.server_models:
            shown = ", ".join(report.server_models[:5])
            detail += f" (the server lists: {shown}; Ollama needs `ollama pull NAME`)"
        report.add("chat", "fail", detail)
        return False
    words = " ".join(done.text.split())[:60] or "(empty)"
    report.add("chat", "ok", f"replied {words!r}", done.ms)
    return True


def _check_stream(report: DoctorReport, provider) -> None:
    """Stream a short reply the way grading does (the same request and reader)."""
    from agent.grading.llm import DeadlineExceeded

    pieces: list[str] = []
    t0 = time.perf_counter()
    first: float | None = None

    def on_piece(piece: str) -> None:
        nonlocal first
        first = first if first is not None else _ms(t0)
        pieces.append(piece)

    deadline = time.monotonic() + provider.profile.timeout
    params = provider.params(_messages(prompts.DOCTOR_PING), "prompt", {}, deadline)
    try:
        provider.stream_chat(params, deadline, on_piece)
    except DeadlineExceeded:
        pass  # what came within the time limit is enough to tell
    except Exception as exc:
        report.add(
            "streaming",
            "warn",
            f"not available ({_reason(exc, provider)}); replies will appear whole",
            _ms(t0),
        )
        return
    if not pieces:
        report.add("streaming", "warn", "the stream carried no text", _ms(t0))
        return
    report.add("streaming", "ok", f"{len(pieces)} chunks, first after {first:.0f} ms", _ms(t0))


def _check_structured(report: DoctorReport, provider) -> None:
    """Try each mode in the provider's order; the first whose JSON validates is the one used."""
    messages = _messages(prompts.render(prompts.DOCTOR_JSON, schema=json.dumps(_PROBE_SCHEMA)))
    notes: list[str] = []
    accepted: str | None = None
    t0 = time.perf_counter()
    for mode in provider.modes:
        deadline = time.monotonic() + provider.profile.timeout
        try:
            done = provider.request(messages, mode, _PROBE_SCHEMA, deadline)
        except Exception as exc:
            notes.append(f"{mode}: refused ({_reason(exc, provider)})")
            continue
        accepted = accepted or mode
        if _valid_probe(done.text):
            report.mode = mode
            notes.append(f"{mode}: works")
            report.add("structured output", "ok", "; ".join(notes), _ms(t0))
            return
        notes.append(f"{mode}: accepted, but the reply was not the JSON asked for")
    status: Status = "warn" if accepted else "fail"
    report.mode = accepted
    report.add("structured output", status, "; ".join(notes), _ms(t0))


def _valid_probe(text: str) -> bool:
    try:
        data = extract_json(text)
    except GradeError:
        return False
    return (
        isinstance(data, dict)
        and isinstance(data.get("status"), str)
        and isinstance(data.get("count"), int)
    )


_ADVICE = {
    "streaming": "replies will appear whole instead of word by word",
    "structured output": (
        "the model's JSON did not validate in the check; expect some answers to be graded "
        "by the offline engine (flagged) - a larger or instruction-tuned model helps"
    ),
}


def _verdict(report: DoctorReport, profile: Profile) -> str:
    failed = [c for c in report.checks if c.status == "fail"]
    if failed:
        return f"Not ready: {failed[0].name}: {failed[0].detail}"
    chat = next((c for c in report.checks if c.name == "chat"), None)
    latency = f", about {chat.ms / 1000:.1f} s per short reply" if chat and chat.ms else ""
    tip = ""
    if report.mode and report.mode != profile.structured_output and report.mode != "json_schema":
        table = f"[profiles.{profile.name}]"
        tip = f' Tip: set structured_output = "{report.mode}" in {table} to skip refused modes.'
    warned = [c for c in report.checks if c.status == "warn"]
    if warned:
        advice = "; ".join(f"{c.name}: {_ADVICE.get(c.name, c.detail)}" for c in warned)
        return f"Usable with warnings ({profile.model}{latency}): {advice}.{tip}"
    mode = f"structured output {report.mode}{latency}"
    return f"Ready: {profile.model} grades interviews ({mode}).{tip}"


def format_report(report: DoctorReport) -> str:
    """The report as the CLI prints it."""
    p = report.profile
    where = f" {p['model']} at {p['base_url']}" if p["brain"] == "llm" else ""
    lines = [f"Profile {p['name']}: {p['brain']}{where}"]
    for c in report.checks:
        ms = f"{c.ms:>8.0f} ms" if c.ms is not None else " " * 11
        lines.append(f"  [{c.status:<4}] {c.name:<18}{ms}  {c.detail}")
    lines.append(report.verdict)
    return "\n".join(lines)


def _messages(text: str) -> list[dict]:
    return [
        {"role": "system", "content": prompts.DOCTOR_SYSTEM},
        {"role": "user", "content": text},
    ]


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000


def _reason(exc: BaseException, provider) -> str:
    from agent.grading.llm import ModelError, ModeUnsupported, describe_error

    if isinstance(exc, ModeUnsupported | ModelError) and exc.__cause__ is not None:
        exc = exc.__cause__  # the transport error behind our wrapper says more
    return describe_error(exc, provider.profile)
