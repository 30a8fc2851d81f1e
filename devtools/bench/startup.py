"""The startup benchmark: fresh-process times for importing the package, the CLI, and the
Streamlit app's first render and server."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from agent.config import PROJECT_ROOT
from devtools.bench import scratch


def _timed_import(module: str, env: dict[str, str]) -> float:
    code = (
        f"import time; t0 = time.perf_counter(); import {module}; print(time.perf_counter() - t0)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def _cli_help_s(env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "agent", "--help"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        timeout=120,
        check=True,
    )
    return time.perf_counter() - t0


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def _server_ready_s(env: dict[str, str], timeout: float = 60.0) -> float:
    """Spawn `streamlit run ui/app.py` and time until it serves the page and its health check."""
    from devtools.fakeserver import free_port

    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(PROJECT_ROOT / "ui" / "app.py"),
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        base = f"http://127.0.0.1:{port}"
        while time.perf_counter() - t0 < timeout:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with status {proc.returncode}")
            if _http_ok(f"{base}/_stcore/health") and _http_ok(f"{base}/"):
                return time.perf_counter() - t0
            time.sleep(0.05)
        raise RuntimeError(f"streamlit did not serve the page within {timeout:.0f} s")
    finally:
        proc.terminate()
        scratch.reap(proc)


_APPTEST = """
import sys
from streamlit.testing.v1 import AppTest
at = AppTest.from_file(sys.argv[1], default_timeout=60).run()
if at.exception:
    raise SystemExit("the app raised: " + str(at.exception[0].value))
"""


def _first_render_s(env: dict[str, str]) -> float:
    """A fresh process that imports Streamlit and runs the app script once, headless."""
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", _APPTEST, str(PROJECT_ROOT / "ui" / "app.py")],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    wall = time.perf_counter() - t0
    if out.returncode != 0:
        lines = (out.stderr or out.stdout).strip().splitlines()
        raise RuntimeError(lines[-1] if lines else f"exit status {out.returncode}")
    return wall


def bench_startup(repeats: int = 3, workdir: Path | None = None) -> dict:
    """Fresh-process times: importing the package, the CLI, and the app's first render."""
    with scratch.workdir(workdir) as root:
        env = {
            **os.environ,
            "INTERVIEWER_TRANSCRIPTS_DIR": str(root / "transcripts"),
            "INTERVIEWER_PROFILE": "offline",
        }
        env.pop("PYTHONSTARTUP", None)
        result: dict = {
            "import_s": round(min(_timed_import("agent", env) for _ in range(repeats)), 4),
            "import_session_s": round(
                min(_timed_import("agent.interview.interviewer", env) for _ in range(repeats)), 3
            ),
            "cli_help_s": round(min(_cli_help_s(env) for _ in range(repeats)), 3),
        }
        measures = (("first_render_s", _first_render_s), ("server_ready_s", _server_ready_s))
        for key, measure in measures:
            try:
                result[key] = round(statistics.median(measure(env) for _ in range(repeats)), 3)
            except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
                result[key] = None
                result[f"{key}_error"] = str(exc)
    result["method"] = {
        "import_s": f"fastest of {repeats} fresh `python -c 'import agent'`, timed inside",
        "import_session_s": (
            "the same for `import agent.interview.interviewer` (graph, engine, checkpointer)"
        ),
        "cli_help_s": f"fastest of {repeats} `python -m agent --help`, whole process",
        "first_render_s": (
            f"median of {repeats}: fresh process spawn until Streamlit's AppTest has run "
            "ui/app.py once without error (browser-free; includes importing streamlit and agent)"
        ),
        "server_ready_s": (
            f"median of {repeats}: `streamlit run ui/app.py` spawn until / and /_stcore/health "
            "both return 200 (the server is up; the script runs when a browser connects)"
        ),
    }
    return result
