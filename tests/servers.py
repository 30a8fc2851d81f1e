"""Helpers for tests that start a server on loopback."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

from devtools.browser import CHROMIUM
from devtools.fakeserver import free_port

__all__ = [
    "free_port",
    "require_browser",
    "require_signin_packages",
    "stop",
    "streamlit",
    "wait_for_http",
]

ROOT = Path(__file__).resolve().parent.parent
# What a developer's shell may set that would point a started app at their own files or models.
APP_ENV = (
    "INTERVIEWER_PROFILE",
    "INTERVIEWER_RUBRICS_DIR",
    "INTERVIEWER_CHECKPOINT_DB",
    "INTERVIEWER_DATABASE_URL",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
)


def app_env(**values: str) -> dict[str, str]:
    """This process's environment without the app's own settings, then `values`."""
    env = {k: v for k, v in os.environ.items() if k not in APP_ENV}
    return {**env, **values}


def require_browser() -> None:
    """Skip, saying why, when the browser tests cannot run here (`make test` installs both)."""
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium is not installed at {CHROMIUM}: run `make browser-deps`")
    pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")


def require_signin_packages() -> None:
    """Skip, saying why, without Streamlit's sign-in support or the local OpenID provider.
    Looked up, not imported: both run in their own processes, and importing oidc_provider_mock
    here would raise Authlib's deprecation warning inside pytest."""
    for module, install in (
        ("authlib", "'streamlit[auth]'"),
        ("oidc_provider_mock", "oidc-provider-mock"),
    ):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed: pip install {install}")


@contextmanager
def streamlit(
    script: Path,
    *,
    port: int,
    log: Path,
    env: dict[str, str] | None = None,
    cwd: Path = ROOT,
    options: Sequence[str] = (),
    name: str = "streamlit",
    timeout: float = 60,
) -> Iterator[subprocess.Popen]:
    """`streamlit run script` headless on 127.0.0.1:`port`, its output in `log`, until the block
    ends (or the test kills it first)."""
    with log.open("w", encoding="utf-8") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(script),
             "--server.port", str(port), "--server.address", "127.0.0.1",
             "--server.headless", "true", "--browser.gatherUsageStats", "false", *options],
            cwd=cwd, env=env or dict(os.environ), stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            wait_for_http(f"http://127.0.0.1:{port}/_stcore/health", proc, log, name, timeout)
            yield proc
        finally:
            if proc.poll() is None:
                stop(proc, timeout=15)


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
