"""Helpers for tests that start a server on loopback."""

from __future__ import annotations

import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from devtools.fakeserver import free_port

__all__ = ["free_port", "stop", "wait_for_http"]


def wait_for_http(url: str, proc: subprocess.Popen, log: Path, what: str, timeout: float) -> None:
    """Wait until `url` answers 200; fail with the server's log if it exits or never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{what} exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"{what} did not start within {timeout:g} s:\n{log.read_text()[-3000:]}")


def stop(proc: subprocess.Popen, timeout: float) -> None:
    """Ask a server to stop; kill it if it has not within `timeout` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
