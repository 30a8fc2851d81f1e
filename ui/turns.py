"""Turns that outlive the browser: each call into the interviewer runs on its own thread.

Streamlit stops a page's script when the tab reloads or closes, and reruns it when the user
clicks something. If that happened inside `Interviewer.reply` (for instance while a reply was
being shown word by word from its callbacks), the graph would stop half-way through a turn. So
the turn runs on a worker thread that never touches Streamlit; the page only reads the words it
produces from a queue. A page that finds a turn still running for its interview waits for it.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator

from agent.interview.interviewer import TurnResult
from agent.interview.nodes import OnSaid, Said

Run = Callable[[OnSaid], TurnResult]  # (on_said) -> result

_running: dict[str, Turn] = {}
_lock = threading.Lock()


class TurnBusy(RuntimeError):
    """The interviewer is still working on this interview's previous message."""


class Turn:
    """One call into the interviewer for one interview."""

    def __init__(self, interview_id: str, run: Run) -> None:
        self.interview_id = interview_id
        self.result: TurnResult | None = None
        self.error: Exception | None = None
        self._events: queue.Queue[Said | None] = queue.Queue()  # None: the turn is over
        self._thread = threading.Thread(
            target=self._work, args=(run,), name=f"turn-{interview_id}", daemon=True
        )

    def _work(self, run: Run) -> None:
        try:
            self.result = run(self._events.put)
        except Exception as exc:  # handed to the page, which shows it
            self.error = exc
        finally:
            with _lock:
                if _running.get(self.interview_id) is self:
                    del _running[self.interview_id]
            self._events.put(None)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def events(self) -> Iterator[Said]:
        """The interviewer's words (drafts and messages) as the turn produces them, until it
        ends."""
        while True:
            try:
                said = self._events.get(timeout=0.5)
            except queue.Empty:
                if not self.alive and self._events.empty():
                    return
                continue
            if said is None:
                return
            yield said

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the turn is over; True when it is."""
        self._thread.join(timeout)
        return not self.alive


def start(interview_id: str, run: Run) -> Turn:
    """Run a turn in the background; refuses while the same interview has one running."""
    with _lock:
        current = _running.get(interview_id)
        if current is not None and current.alive:
            raise TurnBusy("the interviewer is still replying to your previous message")
        turn = Turn(interview_id, run)
        _running[interview_id] = turn
        turn._thread.start()
    return turn


def running(interview_id: str) -> Turn | None:
    """The turn still running for this interview, from any browser tab, if there is one."""
    with _lock:
        turn = _running.get(interview_id)
    return turn if turn is not None and turn.alive else None
