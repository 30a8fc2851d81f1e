"""What a bench run makes and must clean up: its working folder and the processes it starts."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def workdir(base: Path | None = None) -> Iterator[Path]:
    """A fresh folder (under `base`, if given), removed afterwards."""
    with tempfile.TemporaryDirectory(
        prefix="interviewer-bench-", dir=base, ignore_cleanup_errors=True
    ) as path:
        yield Path(path)


def reap(proc: subprocess.Popen, timeout: float = 10) -> None:
    """Wait for `proc` to exit, killing it if it has not within `timeout` seconds."""
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
