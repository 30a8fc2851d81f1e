"""The app's memory per browser session: the Streamlit server's resident memory once one
browser session shows the Interview page, and again once N more do, each in its own headless
Chromium context (its own cookies, so its own Streamlit session)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from agent.config import PROJECT_ROOT
from devtools.bench import scratch
from devtools.browser import CHROMIUM, CHROMIUM_ARGS

RENDER_TIMEOUT_MS = 60_000
SETTLE_S = 2.0  # after the pages render, for the server's session set-up to finish
MB = 2**20


def rss_bytes(pid: int) -> int:
    """The resident memory of process `pid`, from Linux's /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"process {pid} reports no resident memory")


@contextmanager
def app_server(root: Path, timeout: float = 60.0) -> Iterator[tuple[str, subprocess.Popen]]:
    """`streamlit run ui/app.py`, headless on a free port, with an empty configuration and its
    interviews under `root`: its URL and process."""
    from devtools.bench.startup import _http_ok
    from devtools.fakeserver import free_port

    config = root / "interviewer.toml"
    config.write_text("", encoding="utf-8")
    env = {
        **os.environ,
        "INTERVIEWER_TRANSCRIPTS_DIR": str(root / "transcripts"),
        "INTERVIEWER_CONFIG": str(config),
        "INTERVIEWER_PROFILE": "offline",
    }
    for name in (
        "INTERVIEWER_DATABASE_URL",
        "INTERVIEWER_RUBRICS_DIR",
        "INTERVIEWER_CHECKPOINT_DB",
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "PYTHONSTARTUP",
    ):
        env.pop(name, None)
    port = free_port()
    command = [
        sys.executable, "-m", "streamlit", "run", str(PROJECT_ROOT / "ui" / "app.py"),
        "--server.port", str(port), "--server.address", "127.0.0.1",
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    log = root / "streamlit.log"
    with log.open("w", encoding="utf-8") as out:
        proc = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while not _http_ok(f"{url}/_stcore/health"):
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(encoding="utf-8", errors="replace")[-2000:]
                raise RuntimeError(f"the app did not start within {timeout:.0f} s:\n{tail}")
            time.sleep(0.1)
        yield url, proc
    finally:
        proc.terminate()
        scratch.reap(proc)


def _open_session(browser, url: str) -> None:
    """A new browser context on `url`, once it shows the Interview page."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(url, timeout=RENDER_TIMEOUT_MS)
    start = page.get_by_role("button", name="Start interview")
    start.wait_for(state="visible", timeout=RENDER_TIMEOUT_MS)


def bench_browser_memory(sessions: int = 5, *, workdir: Path | None = None) -> dict:
    """The app server's resident memory with one browser session, then with `sessions` more:
    what each further session costs."""
    if not CHROMIUM.exists():
        raise RuntimeError(f"no Chromium at {CHROMIUM} (make browser-deps)")
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    t0 = time.perf_counter()
    with scratch.workdir(workdir) as root, app_server(root) as (url, proc):
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
                try:
                    _open_session(browser, url)
                    time.sleep(SETTLE_S)
                    one = rss_bytes(proc.pid)
                    for _ in range(sessions):
                        _open_session(browser, url)
                    time.sleep(SETTLE_S)
                    after = rss_bytes(proc.pid)
                finally:
                    browser.close()
        except PlaywrightError as exc:
            raise RuntimeError(f"the browser could not load the app: {exc}") from None
    return {
        "sessions": sessions,
        "rss_one_session_mb": round(one / MB, 1),
        "rss_after_mb": round(after / MB, 1),
        "mb_per_session": round((after - one) / MB / sessions, 2),
        "seconds": round(time.perf_counter() - t0, 1),
        "method": (
            f"`streamlit run ui/app.py` (offline, local files); its VmRSS {SETTLE_S:g} s after "
            f"one headless Chromium context showed the Interview page, and again after "
            f"{sessions} more contexts did; (after - one) / {sessions}"
        ),
    }
