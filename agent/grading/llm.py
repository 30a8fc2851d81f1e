"""The LLM interviewer: grades an answer with any OpenAI-compatible model, in one round trip.

One request per answer returns the per-criterion grades, the feedback and the follow-up (see
`agent.grading.model_reply`). Servers differ in how they take structured output, so requests walk
a chain of modes, remembered per provider once one works: `json_schema` -> `json_object` with the
schema attached (llama.cpp's server) -> plain `json_object` -> JSON described in the prompt only.
A reply that does not validate is re-asked with the error at most twice. Transport faults (429,
5xx, timeouts, refused connections) are retried by tenacity with exponential backoff and jitter
(the SDK's own retries are off, so attempts don't multiply) inside a bound on total time. When
all of that fails the offline rubric engine grades the answer, flagged "offline-fallback": an
interview never stops because of the model.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import openai
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_exponential_jitter,
)

from agent.grading import engine, prompts
from agent.grading.assessment import Assessment
from agent.grading.model_reply import (
    GradeError,
    GradeReply,
    Preview,
    Speech,
    parse_reply,
    response_schema,
    to_assessment,
)
from agent.grading.rubrics import Question
from agent.grading.screen import is_non_answer
from agent.grading.transport import http_client
from agent.profiles import STRUCTURED_MODES, ConfigError, Profile, StructuredMode, mask_key

log = logging.getLogger(__name__)

MAX_REASKS = 2
MAX_RETRY_AFTER_S = 20.0


class ModelError(Exception):
    """The model could not produce a usable grade; the message says why, for a person."""


class ModeUnsupported(Exception):
    """The server refused this structured-output mode."""


class _Transient(Exception):
    """A fault worth retrying that the SDK does not raise itself (e.g. a garbled body)."""


@dataclass
class Completion:
    """One model reply and what it cost."""

    text: str
    ms: float
    first_token_ms: float | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass
class Stats:
    """Counters across a provider's life, for `interviewer bench` and the doctor."""

    answers: int = 0
    calls: int = 0  # HTTP requests for chat completions, retries included
    reasks: int = 0
    fallbacks: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, n in counts.items():
                setattr(self, name, getattr(self, name) + n)


def make_client(profile: Profile) -> openai.OpenAI:
    """An SDK client for `profile` with its own retries off; nothing read from the environment."""
    client = openai.OpenAI(
        api_key=profile.key(),
        base_url=profile.base_url,
        max_retries=0,
        timeout=profile.timeout,
        http_client=http_client(),  # a request ends at its timeout, however the server drips
    )
    if not profile.is_openai:  # never forward OpenAI account headers or keys elsewhere
        client.organization = None
        client.project = None
        client.admin_api_key = None
    return client


def describe_error(exc: BaseException, profile: Profile) -> str:
    """A one-line reason a person can act on; never contains the key."""
    return scrub(_describe(exc, profile), profile)


def scrub(text: str, profile: Profile) -> str:
    """`text` with the profile's key masked, in case a server echoed it in an error."""
    key = profile.key()
    return text.replace(key, mask_key(key)) if len(key) >= 8 else text


def _describe(exc: BaseException, profile: Profile) -> str:
    url = profile.base_url
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return (
            f"authentication failed at {url} (HTTP {exc.status_code}): check the API key "
            f"for profile {profile.name!r} (key from {profile.key_source})"
        )
    if isinstance(exc, openai.APITimeoutError):
        return f"the model at {url} did not answer within {profile.timeout:g} s"
    if isinstance(exc, openai.APIConnectionError):
        return f"cannot connect to {url}: is the server running and the base_url right?"
    if isinstance(exc, openai.NotFoundError):
        return (
            f"not found at {url} (HTTP 404): check base_url and that model "
            f"{profile.model!r} exists there"
        )
    if isinstance(exc, openai.APIStatusError):
        return f"the server at {url} answered HTTP {exc.status_code}: {api_message(exc)}"
    if isinstance(exc, _Transient):
        return f"the server at {url} sent an unreadable response ({exc})"
    return f"{type(exc).__name__}: {_short(str(exc))}"


def api_message(exc: openai.APIStatusError) -> str:
    """The server's own error message, without the SDK's "Error code: N - " wrapping."""
    body = exc.body
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return _short(body["message"])
    return _short(exc.message)


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, openai.APIConnectionError | _Transient):  # includes timeouts
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in (408, 409, 429) or exc.status_code >= 500
    return False


def _unsupported_mode(exc: openai.APIStatusError) -> bool:
    """A refusal of the response_format itself (llama.cpp's server answers 500 for it)."""
    if exc.status_code not in (400, 404, 415, 422, 500, 501):
        return False
    text = f"{exc.message} {exc.body}".lower()
    return any(word in text for word in ("response_format", "json_schema", "json_object", "schema"))


def _wait(base: float) -> Callable[[RetryCallState], float]:
    """Exponential backoff with jitter, stretched to a server's Retry-After when it sends one."""
    backoff = wait_exponential_jitter(multiplier=base, max=max(base * 16, 0.01), jitter=base)

    def wait(state: RetryCallState) -> float:
        delay = backoff(state)
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, openai.APIStatusError):
            try:
                hinted = float(exc.response.headers.get("retry-after", ""))
            except ValueError:
                hinted = 0.0
            delay = max(delay, min(hinted, MAX_RETRY_AFTER_S))
        return delay

    return wait


class DeadlineExceeded(Exception):
    """The bound on total time per answer ran out."""


class LLMProvider:
    """Grades answers with a model behind an OpenAI-compatible API (see the module docstring)."""

    brain = "llm"
    streams = True  # assess() previews its reply through `speech`

    def __init__(
        self,
        profile: Profile,
        *,
        client: openai.OpenAI | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if profile.brain != "llm":
            raise ConfigError(f"profile {profile.name!r} is not an LLM profile")
        if not profile.key():
            raise ConfigError(
                f"profile {profile.name!r} has no API key for {profile.base_url}: "
                f"set {profile.api_key_env or 'OPENAI_API_KEY'}"
            )
        self.profile = profile
        self.model = profile.model
        self.client = client or make_client(profile)
        self.stats = Stats()
        self._sleep = sleep
        pinned = profile.structured_output
        self._modes: tuple[StructuredMode, ...] = (
            STRUCTURED_MODES if pinned == "auto" else (pinned,)
        )
        self._mode_index = 0
        self._lock = threading.Lock()

    def close(self) -> None:
        """Release the connections kept alive for the next request."""
        self.client.close()

    @property
    def mode(self) -> StructuredMode:
        """The structured-output mode requests use now (the first that the server accepted)."""
        return self._modes[self._mode_index]

    @property
    def modes(self) -> tuple[StructuredMode, ...]:
        """The structured-output modes this provider may use, in the order it tries them."""
        return self._modes

    def describe(self) -> str:
        return self.profile.describe()

    # --- grading -------------------------------------------------------------------------------

    def assess(
        self,
        question: Question,
        answer: str,
        asked_probes: tuple[str, ...] = (),
        speech: Speech | None = None,
    ) -> Assessment:
        """Grade `answer`; never raises because of the model (falls back to the offline engine)."""
        if is_non_answer(answer):
            return engine.assess(question, answer, asked_probes)  # nothing for a model to judge
        self.stats.add(answers=1)
        deadline = time.monotonic() + self.profile.total_timeout
        preview = Preview(speech, question) if speech else None
        try:
            reply = self._grade(question, answer, asked_probes, deadline, preview)
            return to_assessment(
                question, answer, asked_probes, reply, brain=self.brain, model=self.model
            )
        except ModelError as exc:
            reason = str(exc)
        except Exception as exc:  # a bug or an SDK surprise must not end the interview either
            log.exception("unexpected error grading %s with %s", question.id, self.model)
            reason = f"unexpected {type(exc).__name__}"
        return self._fallback(question, answer, asked_probes, reason)

    def _fallback(
        self, question: Question, answer: str, asked: tuple[str, ...], reason: str
    ) -> Assessment:
        self.stats.add(fallbacks=1)
        reason = scrub(reason, self.profile)
        log.warning("offline fallback for %s (%s): %s", question.id, self.model, reason)
        offline = engine.assess(question, answer, asked)
        return offline.model_copy(
            update={
                "flags": [*offline.flags, "offline-fallback"],
                "note": fallback_note(self.model, reason),
            }
        )

    def _grade(
        self,
        question: Question,
        answer: str,
        asked: tuple[str, ...],
        deadline: float,
        preview: Preview | None,
    ) -> GradeReply:
        schema = response_schema(question)
        messages = prompts.grading_messages(question, answer, asked, schema)
        for attempt in range(MAX_REASKS + 1):
            completion = self.complete(messages, schema, deadline, preview)
            try:
                return parse_reply(completion.text, question)
            except GradeError as exc:
                if attempt == MAX_REASKS:
                    raise ModelError(
                        f"its reply did not validate after {MAX_REASKS} re-asks: {exc}"
                    ) from None
                self.stats.add(reasks=1)
                log.info("re-asking %s: %s", self.model, exc)
                messages = [
                    *messages,
                    {"role": "assistant", "content": completion.text[:6000]},
                    {"role": "user", "content": prompts.render(prompts.REASK, error=str(exc))},
                ]
        raise AssertionError("unreachable")

    # --- requests ------------------------------------------------------------------------------

    def complete(
        self,
        messages: list[dict],
        schema: dict,
        deadline: float,
        preview: Preview | None = None,
    ) -> Completion:
        """One reply in the remembered structured-output mode, stepping down when refused."""
        while True:
            mode = self.mode
            try:
                return self.call(messages, mode, schema, deadline, preview)
            except ModeUnsupported as exc:
                if not self._step_down(mode):
                    raise ModelError(f"the server refused structured output: {exc}") from None

    def _step_down(self, refused: StructuredMode) -> bool:
        with self._lock:
            if self.mode != refused:  # another thread already moved on
                return True
            if self._mode_index + 1 >= len(self._modes):
                return False
            self._mode_index += 1
            log.info("%s refused %s; using %s from now on", self.model, refused, self.mode)
            return True

    def call(
        self,
        messages: list[dict],
        mode: StructuredMode,
        schema: dict,
        deadline: float,
        preview: Preview | None = None,
    ) -> Completion:
        """One reply in `mode`, retrying transport faults with backoff until `deadline`."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ModelError(f"no reply within the {self.profile.total_timeout:g} s limit")
        retrying = Retrying(
            retry=retry_if_exception(_retryable),
            stop=stop_after_attempt(self.profile.max_attempts) | stop_before_delay(remaining),
            wait=_wait(self.profile.backoff),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    if preview is not None:
                        preview.restart()
                    completion = self.request(messages, mode, schema, deadline, preview)
        except ModeUnsupported:
            raise
        except DeadlineExceeded:
            raise ModelError(
                f"no complete reply within the {self.profile.total_timeout:g} s limit"
            ) from None
        except Exception as exc:
            raise ModelError(describe_error(exc, self.profile)) from exc
        return completion

    def request(
        self,
        messages: list[dict],
        mode: StructuredMode,
        schema: dict,
        deadline: float,
        preview: Preview | None = None,
    ) -> Completion:
        """Exactly one HTTP request."""
        params = self.params(messages, mode, schema, deadline)
        self.stats.add(calls=1)
        t0 = time.perf_counter()
        try:
            if preview is not None and self.profile.stream:
                return self._streamed(params, t0, deadline, preview)
            response = self.client.chat.completions.create(**params)
        except openai.APIStatusError as exc:
            if mode != "prompt" and _unsupported_mode(exc):
                refusal = f"{mode}: HTTP {exc.status_code} {api_message(exc)}"
                raise ModeUnsupported(refusal) from exc
            raise
        except json.JSONDecodeError as exc:
            raise _Transient("the response body is not JSON") from exc
        try:
            text = response.choices[0].message.content or ""
        except (AttributeError, IndexError, TypeError):
            raise _Transient("the response has no message") from None
        usage = getattr(response, "usage", None)
        return self._done(text, t0, None, usage)

    def _streamed(self, params: dict, t0: float, deadline: float, preview: Preview) -> Completion:
        buffer, first = "", None

        def on_piece(piece: str) -> None:
            nonlocal buffer, first
            first = first if first is not None else (time.perf_counter() - t0) * 1000
            buffer += piece
            preview.feed(buffer)

        usage = self.stream_chat(params, deadline, on_piece)
        return self._done(buffer, t0, first, usage)

    def stream_chat(
        self, params: dict, deadline: float, on_piece: Callable[[str], None]
    ) -> dict | None:
        """Stream one chat completion, giving `on_piece` each piece of text as it comes; returns
        the usage the server reported, if any. Raises DeadlineExceeded past `deadline`.

        The server-sent events are read to the end of the body. The SDK's own stream stops
        reading at `data: [DONE]` and closes the response before its last bytes, so the
        connection could not be reused and every answer would pay for a new one (a TLS
        handshake, against a hosted model). Reading the lines through the SDK's
        streaming-response API keeps the connection in the pool, and the chunks are read as
        plain JSON, which is all the interviewer needs of them.
        """
        usage = None
        with self.client.chat.completions.with_streaming_response.create(
            **params, stream=True, stream_options={"include_usage": True}
        ) as response:
            try:
                for line in response.iter_lines():
                    if time.monotonic() > deadline:
                        raise DeadlineExceeded()
                    chunk = _sse_data(line)
                    if chunk is None:
                        continue
                    usage = chunk.get("usage") or usage
                    piece = _delta_text(chunk)
                    if piece:
                        on_piece(piece)
            except Exception as exc:
                fault = _transport_fault(exc, response.http_request)
                if fault is None:
                    raise
                raise fault from exc
        return usage

    def _done(self, text: str, t0: float, first: float | None, usage: object) -> Completion:
        prompt_tokens = _count(usage, "prompt_tokens")
        completion_tokens = _count(usage, "completion_tokens")
        self.stats.add(prompt_tokens=prompt_tokens, completion_tokens=completion_tokens)
        ms = (time.perf_counter() - t0) * 1000
        return Completion(text, ms, first, prompt_tokens, completion_tokens)

    def params(
        self, messages: list[dict], mode: StructuredMode, schema: dict, deadline: float
    ) -> dict:
        """The fields of one chat completion request in `mode`, within the time left."""
        timeout = max(0.05, min(self.profile.timeout, deadline - time.monotonic()))
        return {
            "model": self.model,
            "messages": messages,
            "timeout": timeout,
            **format_params(mode, schema),
            **self.sampling(),
        }

    def sampling(self) -> dict:
        """Token limit and temperature, under the names this server takes."""
        # OpenAI's newer models take only max_completion_tokens; other servers know max_tokens.
        key = "max_completion_tokens" if self.profile.is_openai else "max_tokens"
        params: dict = {key: self.profile.max_tokens}
        if self.profile.temperature is not None:
            params["temperature"] = self.profile.temperature
        return params


def _sse_data(line: str) -> dict | None:
    """The JSON object a server-sent event line carries; None for anything else (comments,
    event names, blank lines, the closing [DONE]). An error the server reports mid-stream, or a
    line that is not JSON, is a fault worth another try."""
    if not line.startswith("data:"):
        return None
    data = line[5:].strip()
    if not data or data == "[DONE]":
        return None
    try:
        chunk = json.loads(data)
    except json.JSONDecodeError:
        raise _Transient("a streamed chunk is not JSON") from None
    if not isinstance(chunk, dict):
        raise _Transient("a streamed chunk is not a JSON object")
    error = chunk.get("error")
    if error:
        message = error.get("message") if isinstance(error, dict) else error
        raise _Transient(f"the stream ended in an error: {_short(str(message))}")
    return chunk


def _delta_text(chunk: dict) -> str:
    """The assistant text a streamed chunk adds."""
    text = ""
    for choice in chunk.get("choices") or ():
        delta = choice.get("delta") if isinstance(choice, dict) else None
        content = delta.get("content") if isinstance(delta, dict) else None
        if isinstance(content, str):
            text += content
    return text


def _count(usage: object, name: str) -> int:
    """A token count from usage as the SDK gives it (an object) or a stream sends it (a dict)."""
    value = usage.get(name) if isinstance(usage, dict) else getattr(usage, name, None)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _transport_fault(exc: Exception, request: object) -> Exception | None:
    """The SDK's error for a transport fault while a streamed body is read (which the SDK
    leaves as the HTTP library's own error): a timeout or a broken connection. httpx and its
    successor httpx2, which the SDK uses depending on its version, name their errors alike."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    if "TimeoutException" in names:
        return openai.APITimeoutError(request=request)  # type: ignore[arg-type]
    if "TransportError" in names:
        return openai.APIConnectionError(request=request)  # type: ignore[arg-type]
    return None


def format_params(mode: StructuredMode, schema: dict) -> dict:
    """The request fields that ask for JSON in `mode`."""
    if mode == "json_schema":
        spec = {"name": "grade", "schema": schema, "strict": True}
        return {"response_format": {"type": "json_schema", "json_schema": spec}}
    if mode == "json_object+schema":
        return {"response_format": {"type": "json_object", "schema": schema}}
    if mode == "json_object":
        return {"response_format": {"type": "json_object"}}
    return {}


def fallback_note(model: str, reason: str) -> str:
    """A fallback grade's note: what failed and who graded instead."""
    return f"Note: {model} could not grade this answer ({reason}); the offline rubric engine did."
