"""The OpenAI-compatible server the LLM benchmarks grade against: the fake server in a process
of its own on 127.0.0.1, answering every grading request after a fixed delay."""

from __future__ import annotations

import math
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from agent.config import PROJECT_ROOT
from devtools.bench.scratch import reap

if TYPE_CHECKING:
    from agent.profiles import Profile
    from devtools.fakeserver import Recorded, Reply

FIRST_PIECE_SHARE = 0.25  # of the server's time before a streamed reply's first piece
CHARS_PER_TOKEN = 4  # the usual estimate for English text with OpenAI tokenizers


def tokens(text: str) -> int:
    """The estimated number of tokens in `text`."""
    return max(1, math.ceil(len(text) / CHARS_PER_TOKEN))


def _responder(delay_s: float) -> Callable[[Recorded], Reply]:
    """Plausible grades for any request, each taking the server `delay_s` in all, as a model's
    generation would: a streamed reply's first piece after FIRST_PIECE_SHARE of it and the rest
    paced evenly to the end, an unstreamed one whole at the end. Usage is counted from what was
    actually sent and returned."""
    from devtools.fakeserver import Reply, echo_grader

    grader = echo_grader()

    def respond(request: Recorded) -> Reply:
        content = grader(request).content or ""
        return Reply(
            content=content,
            delay=delay_s * FIRST_PIECE_SHARE,
            duration=delay_s,
            prompt_tokens=tokens(request.text),
            completion_tokens=tokens(content),
        )

    return respond


def serve_loopback(delay_s: float) -> None:
    """Serve grades on 127.0.0.1 until stdin closes; print the base URL first."""
    from devtools.fakeserver import FakeServer

    with FakeServer(responder=_responder(delay_s)) as server:
        print(server.base_url, flush=True)
        sys.stdin.read()


@contextmanager
def loopback_server(delay_s: float) -> Iterator[str]:
    """The loopback OpenAI-compatible server in a process of its own, as a model server would
    be, so its work does not compete with ours for the interpreter; yields its base URL.

    Its stderr goes to a file, shown only if it fails to start: http.server prints a traceback
    whenever a client drops a kept-alive connection, which is noise here."""
    code = f"from devtools.bench.loopback import serve_loopback; serve_loopback({delay_s!r})"
    with tempfile.TemporaryFile("w+") as errors:
        proc = subprocess.Popen(
            [sys.executable, "-c", code],
            cwd=PROJECT_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
        try:
            assert proc.stdout is not None
            base_url = proc.stdout.readline().strip()
            if not base_url.startswith("http://127.0.0.1:"):
                proc.wait(timeout=10)
                errors.seek(0)
                last = (errors.read().strip().splitlines() or ["no output"])[-1]
                raise RuntimeError(f"the loopback server did not start: {last}")
            yield base_url
        finally:
            if proc.stdin:
                proc.stdin.close()
            reap(proc)
            if proc.stdout:
                proc.stdout.close()


def bench_profile(base_url: str) -> Profile:
    """The model profile that grades against the loopback server."""
    from agent.profiles import Profile

    return Profile(
        name="bench",
        base_url=base_url,
        model="fake-model",
        timeout=10.0,
        total_timeout=30.0,
        backoff=0.0,
        max_attempts=2,
    )
