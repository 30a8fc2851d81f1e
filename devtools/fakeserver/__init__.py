"""A loopback OpenAI-compatible server with scripted replies, delays and faults.

It listens on 127.0.0.1 (a free port by default), serves `GET /v1/models` and
`POST /v1/chat/completions` (plain JSON or SSE streaming) and records every request, so tests and
`interviewer bench` exercise the real wire path and can assert what was actually sent.

    with FakeServer() as server:
        server.enqueue(Reply(content='{"ok": true}'), Reply(status=429))
        ...  # point a profile at server.base_url

Replies are taken from the script in order; when it runs out, `responder` computes the reply
from the request (e.g. `echo_grader()`, for long runs such as benchmarks) or, without one, the
server answers 500 and records an error in `server.errors`, so a test cannot pass on output
nobody scripted.

The server is in `server`, the scripted model output (`grade_reply`, `echo_grader`) in `grader`;
both are imported from here.
"""

from devtools.fakeserver.grader import (
    answer_of,
    criterion_ids,
    echo_grader,
    grade_reply,
    grading_prompt,
    instance_of,
    template_values,
)
from devtools.fakeserver.server import FakeServer, Recorded, Reply, Responder, free_port

__all__ = [
    "FakeServer",
    "Recorded",
    "Reply",
    "Responder",
    "answer_of",
    "criterion_ids",
    "echo_grader",
    "free_port",
    "grade_reply",
    "grading_prompt",
    "instance_of",
    "template_values",
]
