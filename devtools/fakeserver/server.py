"""The fake server itself: an OpenAI-compatible HTTP server on 127.0.0.1 that answers from a
script or a responder, with delays and faults, and records every request."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Reply:
    """One scripted answer to a chat completion request.

    `content` is the assistant message; `status` other than 200 sends an OpenAI-style error with
    `error`; `body` sends raw bytes instead (malformed JSON); `delay` waits before answering (a
    timeout when longer than the client's); `chunk_delay` paces streamed chunks.

    A streamed reply can break off after `cut_after` pieces: with `stream_error` the server
    then sends that error as an event and ends the body, without it the connection just drops.

    `duration`, when set, is the whole reply's time from the request's arrival, the server's own
    work included, as a model's generation time would be: a streamed reply's first chunk comes
    after `delay` and the rest at even intervals, the last at `duration`; an unstreamed reply
    comes whole at `duration`.

    `drip`, when set, sends the headers at once and then the body one byte every `drip`
    seconds: a server that never pauses long enough to trip a read timeout, yet never finishes.
    """

    content: str | None = None
    status: int = 200
    error: str = ""
    body: str | None = None
    delay: float = 0.0
    chunk_delay: float = 0.0
    duration: float | None = None
    cut_after: int | None = None
    stream_error: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    prompt_tokens: int = 50
    completion_tokens: int | None = None
    drip: float = 0.0


@dataclass(frozen=True)
class Recorded:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None

    @property
    def authorization(self) -> str:
        return self.headers.get("authorization", "")

    @property
    def response_format(self) -> dict | None:
        return (self.body or {}).get("response_format")

    @property
    def contents(self) -> list[str]:
        """Each message's content, in order."""
        return [str(m.get("content", "")) for m in (self.body or {}).get("messages", [])]

    @property
    def text(self) -> str:
        """All message contents, joined: what the model was shown."""
        return "\n".join(self.contents)

    @property
    def schema(self) -> dict | None:
        """The JSON schema the reply must match: attached to `response_format` (`json_schema`,
        or `json_object` with a schema as llama.cpp takes it), else the first schema written
        into a message, as a prompt asking for plain JSON carries it; None when there is none."""
        fmt = self.response_format or {}
        attached = (fmt.get("json_schema") or {}).get("schema") or fmt.get("schema")
        if is_schema(attached):
            return attached
        for content in self.contents:
            if found := _schema_in(content):
                return found
        return None


Responder = Callable[[Recorded], Reply]


class FakeServer:
    """An OpenAI-compatible HTTP server on 127.0.0.1, run in a background thread."""

    def __init__(
        self,
        *,
        port: int = 0,
        models: Iterable[str] = ("fake-model",),
        reject_formats: Iterable[str] = (),
        reject_status: int = 400,
        api_key: str | None = None,
        responder: Responder | None = None,
    ) -> None:
        """`reject_formats` lists response_format types refused (with `reject_status`), like
        llama.cpp's server refusing `json_schema`; `api_key` makes other keys get 401."""
        self.models = list(models)
        self.reject_formats = set(reject_formats)
        self.reject_status = reject_status
        self.api_key = api_key
        self.responder = responder
        self.requests: list[Recorded] = []
        self.connections = 0  # TCP connections accepted: fewer than requests when kept alive
        self.errors: list[str] = []
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> FakeServer:
        self._thread.start()
        return self

    def close(self) -> None:
        self._closing.set()  # wakes handlers sleeping in a scripted delay
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def enqueue(self, *replies: Reply) -> None:
        with self._lock:
            self._script.extend(replies)

    @property
    def pending(self) -> int:
        """Scripted replies not yet used."""
        with self._lock:
            return len(self._script)

    @property
    def completions(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    # --- used by the handler ---------------------------------------------------------------

    def _record(self, request: Recorded) -> None:
        with self._lock:
            self.requests.append(request)

    def _next_reply(self, request: Recorded) -> Reply:
        with self._lock:
            if self._script:
                return self._script.popleft()
            if self.responder is None:
                self.errors.append(f"script exhausted at request {len(self.requests)}")
                return Reply(status=500, error="fake server: no scripted reply left")
        return self.responder(request)

    def _sleep(self, seconds: float) -> bool:
        """Wait, unless the server is closing; False when it is."""
        return not self._closing.wait(seconds) if seconds > 0 else True

    def _sleep_until(self, deadline: float) -> bool:
        """Wait until `deadline` (monotonic), unless the server is closing; False when it is."""
        return self._sleep(deadline - time.monotonic())


def free_port() -> int:
    """A loopback port nothing listens on (at the moment of asking)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _handler_for(server: FakeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        fake = server

    return Handler


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # TCP_NODELAY, as real model servers set it: headers and body go out in separate writes, and
    # with Nagle's algorithm plus delayed ACKs every reply would stall ~40 ms on loopback.
    disable_nagle_algorithm = True
    fake: FakeServer

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        request = self._recorded(None)
        self.fake._record(request)
        if not self._authorized(request):
            return
        if self.path.rstrip("/").endswith("/models"):
            data = [{"id": m, "object": "model", "owned_by": "fake"} for m in self.fake.models]
            self._json(200, {"object": "list", "data": data})
        else:
            self._json(404, _error("not found", "not_found_error"))

    def setup(self) -> None:
        super().setup()
        with self.fake._lock:
            self.fake.connections += 1

    def parse_request(self) -> bool:
        # A request has arrived once its first line is read: the server's time runs from here.
        self.arrived = time.monotonic()
        return super().parse_request()

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            body = {"_unparsed": raw.decode("utf-8", "replace")}
        request = self._recorded(body)
        self.fake._record(request)
        if not self._authorized(request):
            return
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._json(404, _error("not found", "not_found_error"))
            return
        kind = (body.get("response_format") or {}).get("type")
        if kind in self.fake.reject_formats:
            message = f"response_format type {kind!r} is not supported; use 'text' or 'json_object'"
            self._json(self.fake.reject_status, _error(message, "invalid_request_error"))
            return
        self._answer(body, self.fake._next_reply(request))

    # --- replies ---------------------------------------------------------------------------

    def _answer(self, body: dict, reply: Reply) -> None:
        streamed = bool(body.get("stream")) and reply.status == 200 and reply.body is None
        if reply.body is not None:
            status, data = reply.status, reply.body.encode()
        elif reply.status != 200:
            payload = _error(reply.error or f"error {reply.status}", "server_error")
            status, data = reply.status, json.dumps(payload).encode()
        else:
            status, data = 200, json.dumps(_completion(body, reply)).encode()
        # A whole reply is ready before the wait, so a paced one lands at its duration exactly.
        wait = reply.delay if streamed or reply.duration is None else reply.duration
        if not self.fake._sleep_until(self.arrived + wait):
            return
        try:
            if reply.drip:
                self._drip(body, reply, streamed)
            elif streamed:
                self._stream(body, reply)
            else:
                self._raw(status, data, "application/json", reply.headers)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
            pass

    def _stream(self, body: dict, reply: Reply) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        cid, model = f"chatcmpl-{uuid.uuid4().hex[:12]}", body.get("model", "fake-model")

        def event(choices: list[dict], **extra: object) -> None:
            self._event(
                {
                    "id": cid,
                    "object": "chat.completion.chunk",
                    "model": model,
                    "created": int(time.time()),
                    "choices": choices,
                    **extra,
                }
            )

        pieces = [{"role": "assistant", "content": ""}]
        pieces += [{"content": p} for p in _pieces(reply.content or "")]
        first, step = self.arrived + reply.delay, reply.chunk_delay
        if reply.duration is not None:  # the last piece at the duration, the others evenly before
            step = (reply.duration - reply.delay) / max(len(pieces) - 1, 1)
        for i, delta in enumerate(pieces):
            if not self.fake._sleep_until(first + i * step):
                return
            if i == reply.cut_after:
                if reply.stream_error:
                    self._event(_error(reply.stream_error, "server_error"))
                    self._chunk(b"")
                else:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                return
            event([{"index": 0, "delta": delta, "finish_reason": None}])
        event([{"index": 0, "delta": {}, "finish_reason": "stop"}])
        if (body.get("stream_options") or {}).get("include_usage"):
            event([], usage=_usage(reply))
        self._chunk(b"data: [DONE]\n\n")
        self._chunk(b"")

    def _drip(self, body: dict, reply: Reply, streamed: bool) -> None:
        """The reply's headers at once, then its body a byte at a time (see `Reply.drip`)."""
        if streamed:
            delta = {"role": "assistant", "content": reply.content or ""}
            chunk = {
                "id": "chatcmpl-drip",
                "object": "chat.completion.chunk",
                "model": body.get("model", "fake-model"),
                "created": int(time.time()),
                "choices": [{"index": 0, "delta": delta, "finish_reason": "stop"}],
            }
            data = b"data: " + json.dumps(chunk).encode() + b"\n\ndata: [DONE]\n\n"
            ctype = "text/event-stream"
        else:
            data, ctype = json.dumps(_completion(body, reply)).encode(), "application/json"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.flush()
        for i in range(len(data)):
            if not self.fake._sleep(reply.drip):
                return
            self.wfile.write(data[i : i + 1])
            self.wfile.flush()

    def _event(self, data: dict) -> None:
        self._chunk(b"data: " + json.dumps(data).encode() + b"\n\n")

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _json(self, status: int, payload: dict, headers: dict[str, str] | None = None) -> None:
        self._raw(status, json.dumps(payload).encode(), "application/json", headers or {})

    def _raw(self, status: int, data: bytes, ctype: str, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _recorded(self, body: dict | None) -> Recorded:
        headers = {k.lower(): v for k, v in self.headers.items()}
        return Recorded(method=self.command, path=self.path, headers=headers, body=body)

    def _authorized(self, request: Recorded) -> bool:
        if self.fake.api_key is None or request.authorization == f"Bearer {self.fake.api_key}":
            return True
        self._json(401, _error("Incorrect API key provided", "invalid_request_error"))
        return False


def _error(message: str, kind: str) -> dict:
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


def _usage(reply: Reply) -> dict:
    completion = reply.completion_tokens
    if completion is None:
        completion = max(1, len((reply.content or "").split()))
    return {
        "prompt_tokens": reply.prompt_tokens,
        "completion_tokens": completion,
        "total_tokens": reply.prompt_tokens + completion,
    }


def _completion(body: dict, reply: Reply) -> dict:
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "fake-model"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply.content},
                "finish_reason": "stop",
            }
        ],
        "usage": _usage(reply),
    }


def _pieces(text: str) -> list[str]:
    """Split text into token-like pieces (a word with its leading space)."""
    return re.findall(r"\s*\S+|\s+$", text) or ([text] if text else [])


def is_schema(value: object) -> bool:
    """Whether `value` is a JSON schema with properties."""
    return isinstance(value, dict) and isinstance(value.get("properties"), dict)


def _schema_in(text: str) -> dict | None:
    """The first JSON object in `text` that is a schema with properties."""
    decoder, start = json.JSONDecoder(), text.find("{")
    while start >= 0:
        try:
            value, end = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            end = start + 1
        else:
            if is_schema(value):
                return value
        start = text.find("{", end)
    return None
