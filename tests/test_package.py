"""The package ships whole: the wheel, installed alone in a fresh venv and run from a folder
outside the checkout, checks its bank, holds an interview and serves the browser app.

Offline throughout: the wheel is built with this venv's setuptools (`--no-build-isolation`,
`--no-index`), installed without dependencies, and the fresh venv borrows this venv's
site-packages for them through a .pth file, which puts them after its own site-packages so the
installed `agent` is the one imported, never the checkout's.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import urllib.request
import zipfile
from importlib.metadata import version
from pathlib import Path, PurePosixPath

import pytest

from agent.browser_app import streamlit_args
from agent.cli import main
from agent.config import STREAMLIT_CONFIG
from tests.servers import free_port, stop, wait_for_http

pytestmark = pytest.mark.package

ROOT = Path(__file__).resolve().parent.parent
ANSWER = (
    "I would weight the loss towards the rare class, resample only the training split, and "
    "judge the model on precision and recall at a threshold chosen on a validation set.\n"
)
# The installed app once through Streamlit's AppTest: it imports every view and reads the
# packaged bank when an interview starts.
APP_CHECK = """
import sys
from streamlit.testing.v1 import AppTest
from agent.browser_app import APP
sys.path.insert(0, str(APP.parent))
at = AppTest.from_file(str(APP), default_timeout=60).run()
assert not at.exception, at.exception
assert at.title[0].value == "Mock interview", at.title
at.slider(key="setup_questions").set_value(1)
[start] = [b for b in at.button if b.label == "Start interview"]
start.click().run()
assert not at.exception, at.exception
print("\\n".join(t.value for t in at.text))
"""


def _source_files() -> list[str]:
    """The checkout's files as a release would take them: tracked or new, never git-ignored."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs a git checkout to tell source files from ignored ones")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return sorted(name for name in listed.split("\0") if name and (ROOT / name).is_file())


def _offline_env(home: Path) -> dict[str, str]:
    """This environment without our settings or Python overrides, and a fresh home folder (no
    ~/.streamlit, no pip configuration of the person running the tests)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("INTERVIEWER_", "OPENAI_", "STREAMLIT_", "PYTHON", "PIP_"))
    }
    home.mkdir()
    env["HOME"] = str(home)
    return env


def _run(cmd: list[str], cwd: Path, env: dict[str, str], stdin: str = "") -> str:
    done = subprocess.run(
        cmd, cwd=cwd, env=env, input=stdin, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"{cmd} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    assert "Traceback" not in done.stderr, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The wheel built from this checkout and installed in a fresh venv."""
    if int(version("setuptools").split(".")[0]) < 77:
        pytest.fail("this venv's setuptools is older than 77: `make test` installs the dev extras")
    tmp = tmp_path_factory.mktemp("package")
    env = _offline_env(tmp / "home")
    source = tmp / "source"
    files = _source_files()
    for name in files:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    # A developer's sign-in secrets sit beside the app's config (git-ignored); they never ship.
    (source / ".streamlit" / "secrets.toml").write_text('cookie_secret = "x"\n', encoding="utf-8")

    dist = tmp / "dist"
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--wheel-dir",
            str(dist),
            str(source),
        ],
        tmp,
        env,
    )
    [wheel] = dist.glob("*.whl")

    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], tmp, env)
    python = venv / "bin" / "python"
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        tmp,
        env,
    )
    site = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], tmp, env
        ).strip()
    )
    ours = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (site / "borrowed-dependencies.pth").write_text("\n".join(sorted(ours)) + "\n")

    elsewhere = tmp / "elsewhere"
    elsewhere.mkdir()
    return {
        "files": files,
        "wheel": wheel,
        "venv": venv,
        "site": site,
        "cwd": elsewhere,
        "env": env,
    }


def test_wheel_holds_the_package_rubrics_and_app_but_no_dev_tools_tests_or_secrets(installed):
    with zipfile.ZipFile(installed["wheel"]) as wheel:
        names = {PurePosixPath(n) for n in wheel.namelist()}
    tops = {n.parts[0] for n in names}
    assert tops == {"agent", "mock_interviewer-0.1.0.dist-info"}, tops
    assert not any(n.parts[1] in ("devtools", "tests") for n in names if len(n.parts) > 1)
    shipped = {
        "agent": "agent",  # every module of the package, every rubric file, every app file
        "rubrics": "agent/rubrics",
        "ui": "agent/ui",
    }
    for folder, inside in shipped.items():
        expected = {
            PurePosixPath(inside, *PurePosixPath(name).parts[1:])
            for name in installed["files"]
            if PurePosixPath(name).parts[0] == folder
        }
        assert expected, folder
        assert expected <= names, sorted(map(str, expected - names))
    assert PurePosixPath("agent/streamlit_config/config.toml") in names
    assert not [n for n in names if n.name == "secrets.toml"]


def test_installed_interviewer_runs_from_another_folder(installed):
    venv, cwd, env = installed["venv"], installed["cwd"], installed["env"]
    interviewer = str(venv / "bin" / "interviewer")
    where = _run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import agent.config as c; print(c.INSTALLED, c.RUBRICS_DIR, c.HOME_DIR, sep='\\n')",
        ],
        cwd,
        env,
    ).split("\n")
    assert where[:3] == ["True", str(installed["site"] / "agent" / "rubrics"), str(cwd)], where

    checked = _run([interviewer, "rubrics", "check"], cwd, env)
    assert "ml-system-design" in checked and "projects" in checked, checked

    # No interviewer.toml: transcripts go to ./transcripts of the folder it runs in.
    out = _run([interviewer, "run", "--questions", "1", "--seed", "1"], cwd, env, stdin=ANSWER)
    assert "Question 1 of 1" in out and "Overall:" in out, out
    [record] = (cwd / "transcripts").glob("*.json")
    assert json.loads(record.read_text(encoding="utf-8"))["id"] in out
    assert not (installed["site"] / "agent" / "transcripts").exists()

    # An interviewer.toml in that folder is read, its paths taken from where it is.
    (cwd / "interviewer.toml").write_text('transcripts_dir = "interviews"\n', encoding="utf-8")
    _run([interviewer, "run", "--questions", "1", "--seed", "2"], cwd, env, stdin=ANSWER)
    assert len(list((cwd / "interviews").glob("*.json"))) == 1
    assert len(list((cwd / "transcripts").glob("*.json"))) == 1


def test_installed_browser_app_serves_and_starts_an_interview(installed, tmp_path):
    venv, cwd, env = installed["venv"], installed["cwd"], installed["env"]
    rendered = _run([str(venv / "bin" / "python"), "-c", APP_CHECK], cwd, env)
    assert "Question 1 of 1" in rendered, rendered

    port = free_port()
    log = tmp_path / "ui.log"
    with log.open("w", encoding="utf-8") as out:
        proc = subprocess.Popen(
            [
                str(venv / "bin" / "interviewer"),
                "ui",
                "--server.headless",
                "true",
                "--server.port",
                str(port),
                "--server.address",
                "127.0.0.1",
            ],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            wait_for_http(f"{url}/_stcore/health", proc, log, "interviewer ui", 90)
            with urllib.request.urlopen(url, timeout=10) as page:
                assert page.status == 200
        finally:
            stop(proc, timeout=20)
    text = log.read_text(encoding="utf-8")
    assert proc.returncode == 0, text
    assert f"127.0.0.1:{port}" in text and "Traceback" not in text, text


def test_ui_hands_streamlit_the_app_settings_and_the_callers_options_win():
    from streamlit.web.cli import main_run

    settings = tomllib.loads(STREAMLIT_CONFIG.read_text(encoding="utf-8"))
    args = streamlit_args(["--server.port", "8123", "--theme.base", "dark"])
    parsed = main_run.make_context("run", args[1:]).params  # as `streamlit run` reads them
    expected = {
        f"{section}_{key}": value
        for section, table in settings.items()
        for key, value in table.items()
    }
    assert expected["browser_gatherUsageStats"] is False and expected["server_headless"] is True
    expected |= {"server_port": 8123, "theme_base": "dark"}
    assert {key: parsed[key] for key in expected} == expected
    assert Path(parsed["target"]).name == "app.py"


def test_other_commands_still_refuse_options_they_do_not_know(capsys):
    assert main(["list", "--server.port", "8123"]) == 2
    assert "unrecognized arguments: --server.port 8123" in capsys.readouterr().err
