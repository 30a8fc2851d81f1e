"""The browser app: its script, its Streamlit settings, and how `interviewer ui` starts it.

The app's settings are `.streamlit/config.toml` (headless, no usage statistics, no tracebacks in
the page, the theme). Streamlit reads that file only from the folder it is started in, so the
installed command passes it as flags instead; options given after `interviewer ui` come later and
win.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping, Sequence

from agent.config import STREAMLIT_CONFIG, UI_DIR

APP = UI_DIR / "app.py"


def _flag_value(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def config_flags(config: Mapping[str, object], prefix: str = "") -> list[str]:
    """A config.toml's options as `streamlit run` flags (`[server] port = 1`: `--server.port 1`)."""
    flags: list[str] = []
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flags += config_flags(value, f"{name}.")
        elif isinstance(value, list):
            for item in value:
                flags += [f"--{name}", _flag_value(item)]
        else:
            flags += [f"--{name}", _flag_value(value)]
    return flags


def streamlit_args(options: Sequence[str]) -> list[str]:
    """`streamlit run` on the app with the app's own settings, then `options`."""
    settings = tomllib.loads(STREAMLIT_CONFIG.read_text(encoding="utf-8"))
    return ["run", str(APP), *config_flags(settings), *options]


def serve(options: Sequence[str], profile: str | None = None) -> int:
    """Run the app in this process until it is stopped; the exit status."""
    from streamlit.web import cli as streamlit_cli  # heavy: only the app pays for it

    if profile:
        # The app loads its settings as every process does; this is the setting it reads.
        os.environ["INTERVIEWER_PROFILE"] = profile
    try:
        streamlit_cli.main(streamlit_args(options), prog_name="streamlit")
    except SystemExit as exc:  # click ends every run this way, 0 when the server stopped cleanly
        return exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    return 0
