"""HTTP for model requests, with a hard wall-clock limit on each request.

An HTTP client's timeouts bound each wait for bytes, not a request: a server that sends its
headers and then one byte a second never trips a read timeout and never finishes either. Here
every connect, read and write of a model request waits at most until the request's deadline -
its timeout, counted from when it was sent - so a request is over by then whatever the server
does with its bytes. The SDK reports that as the timeout it is, and the provider's retries and
offline fallback take over as for any other.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Iterable
from contextvars import ContextVar
from types import ModuleType
from typing import Any

import openai


def _http_libraries() -> tuple[ModuleType, ModuleType]:
    """The HTTP library the SDK is built on (httpx, or its successor httpx2) and its core."""
    for http_name, core_name in (("httpx2", "httpcore2"), ("httpx", "httpcore")):
        try:
            http = importlib.import_module(http_name)
        except ImportError:
            continue
        if issubclass(openai.DefaultHttpxClient, http.Client):
            return http, importlib.import_module(core_name)
    raise ImportError("the openai SDK is built on neither httpx nor httpx2")


httpx, httpcore = _http_libraries()

# When the request being sent or read on this thread must be over (time.monotonic()). The SDK
# reads a response body on the thread that sent the request, after the transport has returned.
_deadline: ContextVar[float | None] = ContextVar("model_request_deadline", default=None)


def _left(timeout: float | None, error: type[Exception]) -> float | None:
    """The wait allowed for one read, write or connect: its own timeout, cut to what is left of
    the request's time; raises `error` when nothing is."""
    deadline = _deadline.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise error("the request's time limit ran out")
    return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):  # type: ignore[name-defined,misc]
    """A connection whose every wait ends at the request's deadline."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> _Stream:
        limit = _left(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, limit))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):  # type: ignore[name-defined,misc]
    """The usual network backend, handing out connections that keep to the deadline."""

    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> _Stream:
        limit = _left(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.connect_tcp(host, port, limit, local_address, socket_options))

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None) -> _Stream:
        limit = _left(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.connect_unix_socket(path, limit, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class WallClockTransport(httpx.HTTPTransport):  # type: ignore[name-defined,misc]
    """The SDK's usual transport, except that a request ends at its timeout, counted from when
    it is sent, however slowly the server sends what it sends."""

    def __init__(self) -> None:
        limits = openai.DEFAULT_CONNECTION_LIMITS
        super().__init__(limits=limits)
        # HTTPTransport takes no network backend, so its connection pool is made again with one;
        # otherwise the pool is the one HTTPTransport makes.
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_Backend(),
        )

    def handle_request(self, request: Any) -> Any:
        timeouts = [t for t in (request.extensions.get("timeout") or {}).values() if t]
        _deadline.set(time.monotonic() + max(timeouts) if timeouts else None)
        return super().handle_request(request)


class _Client(openai.DefaultHttpxClient):  # type: ignore[misc,valid-type]
    def __del__(self) -> None:
        # As the SDK does with the client it makes itself: kept-alive connections are closed
        # when an SDK client is dropped without being closed.
        try:
            if not self.is_closed:
                self.close()
        except Exception:  # pragma: no cover - the interpreter may be shutting down
            pass


def http_client() -> Any:
    """An HTTP client for the SDK: its own defaults, and the wall-clock limit per request."""
    return _Client(transport=WallClockTransport())
