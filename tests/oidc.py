"""A local OpenID Connect provider for browser tests, and the steps that sign a user in and out.

The provider is `oidc-provider-mock` (PyPI), run as its own process (`python -m
oidc_provider_mock`) so it shares no state, logging or warning filters with the app or pytest.
It accepts any client_id / client_secret and any redirect URI (no client registration), and its
authorisation page is a form with one text field, `sub`, and an "Authorize" button. Claims are not
typed into that form: `PUT /users/<sub>` with a JSON object sets a user's claims beforehand (a
`sub` nobody set gets `{"email": sub}`). Standard claims (email, name, ...) reach the ID token
only for the scopes that carry them; Streamlit asks for "openid email profile", so email and
name arrive, and non-standard claims such as `groups` always do.

Streamlit's `st.login()` reads an `[auth]` section from secrets. `write_auth_secrets` writes one
into a folder of the test's own; start Streamlit with `secrets_args(path)` (`--secrets.files
<path>`), which replaces the default secrets locations (./.streamlit and ~/.streamlit), so the
repository's own .streamlit folder is neither read nor written.

Cookies: Streamlit keeps the signed-in user in a cookie for the redirect_uri's host and only
accepts it over a websocket whose Origin is the redirect_uri's origin, so open the app at
`http://localhost:<port>` (as `app_url(port)` does), never at 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from tests.servers import free_port, stop, streamlit

__all__ = [
    "OidcProvider",
    "app_url",
    "secrets_args",
    "set_user_claims",
    "sign_in",
    "sign_out",
    "streamlit_app",
    "wait_for_app_run",
    "write_auth_secrets",
]

CLIENT_ID = "mock-interviewer-tests"
STARTUP_TIMEOUT = 30.0


class OidcProvider:
    """oidc-provider-mock on 127.0.0.1 on a free port, for the length of a `with` block.

    >>> with OidcProvider(tmp_path) as provider:
    ...     provider.set_user("coach", {"email": "coach@example.com", "groups": ["coaches"]})
    """

    def __init__(self, folder: Path, *, attempts: int = 3) -> None:
        self.log = Path(folder) / "oidc-provider.log"
        self.attempts = attempts
        self.port = 0
        self._proc: subprocess.Popen | None = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def __enter__(self) -> OidcProvider:
        # A free port can be taken between asking and binding: start again on another one.
        for attempt in range(self.attempts):
            self.port = free_port()
            self._proc = self._start()
            if self._wait_until_up():
                return self
            stop(self._proc, timeout=5)
            self._proc = None
            if attempt == self.attempts - 1:
                raise RuntimeError(
                    f"oidc-provider-mock did not start:\n{self.log.read_text()[-3000:]}"
                )
        raise AssertionError("unreachable")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._proc is not None:
            stop(self._proc, timeout=10)
            self._proc = None

    def _start(self) -> subprocess.Popen:
        env = {**os.environ, "NO_COLOR": "1", "PYTHONWARNINGS": "ignore::DeprecationWarning"}
        with self.log.open("a", encoding="utf-8") as out:
            return subprocess.Popen(
                [sys.executable, "-m", "oidc_provider_mock",
                 "--host", "127.0.0.1", "--port", str(self.port)],
                env=env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def _wait_until_up(self) -> bool:
        """True once the discovery document answers; False if the process exits first."""
        assert self._proc is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(self.metadata_url, timeout=2) as response:
                    if response.status == 200:
                        return True
            except OSError:
                time.sleep(0.2)
        return False

    def set_user(self, sub: str, claims: dict[str, object]) -> None:
        """Replace the claims the provider issues for `sub` (besides `sub` itself)."""
        set_user_claims(self.issuer, sub, claims)


def set_user_claims(issuer: str, sub: str, claims: dict[str, object]) -> None:
    """`PUT /users/<sub>` on an oidc-provider-mock: its next ID token for `sub` carries `claims`."""
    request = urllib.request.Request(
        f"{issuer}/users/{urllib.parse.quote(sub, safe='')}",
        data=json.dumps(claims).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="PUT",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        if response.status != 204:
            raise RuntimeError(f"setting the claims of {sub!r} answered {response.status}")


def app_url(port: int) -> str:
    """The URL to open the app at: the same origin as the redirect_uri, for the auth cookie."""
    return f"http://localhost:{port}"


def write_auth_secrets(folder: Path, provider: OidcProvider, app_port: int) -> Path:
    """Write `<folder>/.streamlit/secrets.toml` with an `[auth]` section for `provider`."""
    path = Path(folder) / ".streamlit" / "secrets.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    auth = {
        "redirect_uri": f"{app_url(app_port)}/oauth2callback",
        "cookie_secret": secrets.token_hex(32),
        "client_id": CLIENT_ID,
        "client_secret": secrets.token_urlsafe(24),
        "server_metadata_url": provider.metadata_url,
    }
    # json.dumps writes a valid TOML basic string for these plain ASCII values.
    lines = ["[auth]", *(f"{key} = {json.dumps(value)}" for key, value in auth.items())]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def secrets_args(secrets_file: Path) -> list[str]:
    """`streamlit run` options that read secrets from `secrets_file` only."""
    return ["--secrets.files", str(secrets_file)]


@contextmanager
def streamlit_app(
    script: Path,
    *,
    port: int,
    secrets_file: Path,
    log: Path,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 60,
) -> Iterator[str]:
    """`streamlit run script` on loopback with `secrets_file`; yields the URL to open it at."""
    with streamlit(
        script,
        port=port,
        log=log,
        env=env,
        cwd=cwd or script.parent,
        options=secrets_args(secrets_file),
        timeout=timeout,
    ):
        yield app_url(port)


def sign_in(
    page,
    app_url: str,
    sub: str,
    email: str,
    name: str | None = None,
    groups: Sequence[str] | None = None,
    *,
    button: str = "Sign in",
    timeout_ms: float = 30_000,
) -> None:
    """Sign `sub` in through the app's own button and the provider's form; back on the app after.

    The claims (email, and name and groups when given) are set on the provider first, so the
    ID token, and so `st.user`, carries exactly these.
    """
    app = app_url.rstrip("/")
    if not page.url.startswith(app):
        page.goto(app)
    page.get_by_role("button", name=button).click(timeout=timeout_ms)
    page.wait_for_url("**/oauth2/authorize?**", timeout=timeout_ms)
    issuer = "{0.scheme}://{0.netloc}".format(urllib.parse.urlsplit(page.url))
    claims: dict[str, object] = {"email": email}
    if name is not None:
        claims["name"] = name
    if groups is not None:
        claims["groups"] = list(groups)
    set_user_claims(issuer, sub, claims)
    page.locator("input[name=sub]").fill(sub)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{app}/", timeout=timeout_ms)
    wait_for_app_run(page, timeout_ms)
    if page.get_by_role("button", name=button).count():
        raise AssertionError(f"{sub!r} is back on the app but not signed in (see the app's log)")


def sign_out(
    page,
    app_url: str,
    *,
    button: str = "Sign out",
    signed_out_button: str = "Sign in",
    timeout_ms: float = 30_000,
) -> None:
    """Sign out through the app's button and the provider's end-session page; back on the app.

    st.logout() clears Streamlit's auth cookies and sends the browser to the provider's
    end_session_endpoint; oidc-provider-mock asks there to confirm ("End session") and then
    redirects to the redirect_uri, which Streamlit answers with a redirect to the app.
    """
    app = app_url.rstrip("/")
    page.get_by_role("button", name=button).click(timeout=timeout_ms)
    page.wait_for_url("**/oauth2/end_session?**", timeout=timeout_ms)
    page.get_by_role("button", name="End session").click()
    page.wait_for_url(f"{app}/", timeout=timeout_ms)
    wait_for_app_run(page, timeout_ms)
    page.get_by_role("button", name=signed_out_button).wait_for(timeout=timeout_ms)


def wait_for_app_run(page, timeout_ms: float = 30_000) -> None:
    """Wait until Streamlit has connected and finished running the script once."""
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(
        timeout=timeout_ms
    )
