"""One writer per interview, across threads and processes.

Two advisory locks per interview (`flock`, so the system drops them when their holder dies, even
by SIGKILL), as files in a folder beside the checkpoint database:

- the *turn* lock is held while one turn runs: a second writer waits for it, then takes its
  own turn on the state as the first left it, so no answer is handed to a prompt twice;
- the *open* lock is held by a process that keeps the interview open for a person at a terminal
  (`interviewer run`): anyone else's turn is refused with a message saying so, instead of
  answering a question that person is looking at.

`flock` locks belong to an open file, so two threads of one process exclude each other too.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from agent.storage.checkpoints import StorageError
from agent.storage.transcripts import check_id


class InterviewBusy(Exception):
    """Another writer has the interview; the message says who and what to do."""


class Locks:
    """The interviews' locks, as files in `folder`."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._open: dict[str, int] = {}  # interviews this object holds open: their lock file

    def _file(self, interview_id: str, kind: str) -> int:
        path = self.folder / f"{check_id(interview_id)}.{kind}"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise StorageError(
                f"cannot create the lock file {path} ({exc.strerror or exc}): make "
                f"{self.folder.parent} writable"
            ) from None

    @contextmanager
    def turn(self, interview_id: str, wait: float) -> Iterator[None]:
        """Hold the interview's turn, waiting up to `wait` seconds for another writer's turn to
        end. Raises InterviewBusy when it does not, or when another process holds the interview
        open."""
        fd = self._file(interview_id, "turn")
        try:
            if not _lock(fd, fcntl.LOCK_EX, wait):
                raise InterviewBusy(
                    f"interview {interview_id} is busy with another turn that has not ended "
                    f"within {wait:g} s; try again in a moment"
                )
            if interview_id not in self._open:
                self._refuse_if_open_elsewhere(interview_id)
            yield
        finally:
            os.close(fd)  # closing the file releases its lock

    @contextmanager
    def attempt(self, interview_id: str) -> Iterator[bool]:
        """Hold the interview's turn if nobody else does, without waiting: True when held."""
        fd = self._file(interview_id, "turn")
        try:
            yield _lock(fd, fcntl.LOCK_EX, 0)
        finally:
            os.close(fd)

    def hold_open(self, interview_id: str, wait: float) -> None:
        """Keep the interview open for this process's user until `release` (or the process
        ends): other writers' turns are refused. Raises InterviewBusy when someone else holds it
        open."""
        if interview_id in self._open:
            return
        with self.turn(interview_id, wait):  # no turn of anyone else is under way meanwhile
            fd = self._file(interview_id, "open")
            if not _lock(fd, fcntl.LOCK_EX, 0):  # pragma: no cover - excluded by the turn
                os.close(fd)
                raise InterviewBusy(f"interview {interview_id} is open in another process")
            os.ftruncate(fd, 0)
            os.write(fd, f"pid {os.getpid()}".encode())
            self._open[interview_id] = fd

    def release(self, interview_id: str) -> None:
        fd = self._open.pop(interview_id, None)
        if fd is not None:
            os.close(fd)

    def release_all(self) -> None:
        for interview_id in list(self._open):
            self.release(interview_id)

    def forget(self, interview_id: str) -> None:
        """Remove a deleted interview's lock files."""
        self.release(interview_id)
        for kind in ("turn", "open"):
            (self.folder / f"{check_id(interview_id)}.{kind}").unlink(missing_ok=True)

    def _refuse_if_open_elsewhere(self, interview_id: str) -> None:
        fd = self._file(interview_id, "open")
        try:
            if _lock(fd, fcntl.LOCK_SH, 0):
                return
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "another process"
        finally:
            os.close(fd)
        raise InterviewBusy(
            f"interview {interview_id} is open in another process ({holder}), for example "
            "`interviewer run` in a terminal: answer there, or end that run first"
        )


def _lock(fd: int, kind: int, wait: float) -> bool:
    """Take a lock on `fd`, trying until `wait` seconds have passed; True when taken."""
    deadline = time.monotonic() + wait
    pause = 0.001
    while True:
        try:
            fcntl.flock(fd, kind | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
        time.sleep(pause)
        pause = min(pause * 2, 0.05)
