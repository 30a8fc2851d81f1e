"""`python -m devtools.fakeserver`: serve plausible grades until interrupted."""

from __future__ import annotations

import argparse
import threading

from devtools.fakeserver.grader import echo_grader
from devtools.fakeserver.server import FakeServer, Recorded, Reply


def main(argv: list[str] | None = None) -> None:
    """Serve plausible grades on --port until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m devtools.fakeserver", description=__doc__)
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--reject", action="append", default=[], help="refuse a response_format")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each reply")
    args = parser.parse_args(argv)
    grader = echo_grader()

    def respond(request: Recorded) -> Reply:
        reply = grader(request)
        return Reply(content=reply.content, delay=args.delay, chunk_delay=0.01)

    server = FakeServer(
        port=args.port, responder=respond, reject_formats=args.reject, reject_status=500
    )
    print(f"fake OpenAI-compatible server at {server.base_url} (Ctrl-C to stop)", flush=True)
    server.start()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.close()


if __name__ == "__main__":
    main()
