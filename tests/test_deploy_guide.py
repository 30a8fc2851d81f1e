"""docs/deploy.md, tried for real: its nginx configuration, as written there, in front of two
`interviewer ui` replicas that share a real PostgreSQL and the guide's interviewer.toml and
sign-in settings. In Chromium, through nginx, a user signs in and answers; then the replica that
served them is marked `down` and nginx reloaded, as the guide's upgrade does, and the interview
carries on on the other replica.

Needs nginx (`make nginx-deps`), Chromium (`make browser-deps`) and PostgreSQL's server binaries
(`make postgres-deps`): skipped without them, failed under CI, where `make test` installs them.
"""

from __future__ import annotations

import contextlib
import datetime
import http.client
import importlib.util
import json
import os
import re
import secrets
import signal
import ssl
import subprocess
import sys
import time
import tomllib
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from agent.config import load_settings
from devtools.browser import CHROMIUM, CHROMIUM_ARGS
from tests.oidc import OidcProvider, sign_in, wait_for_app_run
from tests.servers import free_port, stop, wait_for_http

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "deploy.md"
NGINX = Path("/usr/sbin/nginx")
INTERVIEWER = Path(sys.executable).with_name("interviewer")
# The guide's placeholders, which the test points at its own ports and certificate.
REPLICAS = ("127.0.0.1:8501", "127.0.0.1:8502")
HTTPS_LISTEN, HTTP_LISTEN = "listen 443 ssl;", "listen 80;"
CERTIFICATE = "/etc/ssl/interviewer/fullchain.pem"
CERTIFICATE_KEY = "/etc/ssl/interviewer/privkey.pem"
AUTH_KEYS = {"redirect_uri", "cookie_secret", "client_id", "client_secret", "server_metadata_url"}
EMAIL = "sam@example.com"
TIMEOUT_MS = 30_000
STREAM = "/_stcore/stream"  # Streamlit's websocket
HOST_CONFIG = "/_stcore/host-config"  # asked for before the websocket opens, and on reconnecting
ANSWER_1 = (
    "Offline metrics can hide training-serving skew and data drift, so I would shadow-deploy the "
    "model, then run an A/B test while monitoring the prediction distribution."
)
ANSWER_2 = (
    "We track p99 latency against a 100 ms budget, quantize the model to INT8 with TensorRT and "
    "check accuracy on a held-out set; dynamic batching raises throughput but adds queueing delay."
)


def require(present: bool, reason: str) -> None:
    """Skip without something the test needs; fail under CI, where `make test` installs it."""
    if present:
        return
    if os.environ.get("CI"):
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def guide_block(info: str, containing: str) -> str:
    """The one fenced block of the guide with this info string that contains `containing`."""
    fence = re.compile(r"^```(?P<info>[^\n]*)\n(?P<body>.*?)^```", re.MULTILINE | re.DOTALL)
    found = [
        m["body"]
        for m in fence.finditer(GUIDE.read_text(encoding="utf-8"))
        if m["info"].strip() == info and containing in m["body"]
    ]
    assert len(found) == 1, f"{GUIDE.name}: want one ```{info} block with {containing!r}"
    return found[0]


def substituted(text: str, replacements: dict[str, str]) -> str:
    for old, new in replacements.items():
        assert text.count(old) == 1, f"{GUIDE.name}'s nginx block should have {old!r} once"
        text = text.replace(old, new)
    return text


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for localhost and its key, as the files nginx reads."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "fullchain.pem", folder / "privkey.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class Front:
    """nginx serving the guide's configuration from a prefix of its own."""

    proc: subprocess.Popen
    prefix: Path
    url: str  # https://localhost:PORT, the public origin of the test
    tls: ssl.SSLContext  # trusts the test's certificate

    @property
    def conf(self) -> Path:
        return self.prefix / "interviewer.conf"

    @property
    def access_log(self) -> Path:
        return self.prefix / "access.log"

    @property
    def error_log(self) -> Path:
        return self.prefix / "error.log"

    def requests(self) -> list[tuple[str, str, str]]:
        """(path, status, upstream) of every request logged so far, in the order they ended."""
        lines = self.access_log.read_text(encoding="utf-8").splitlines()
        return [tuple(line.split(" ", 2)) for line in lines]  # type: ignore[misc]

    def get(self, path: str) -> str:
        with urllib.request.urlopen(self.url + path, timeout=10, context=self.tls) as response:
            return response.read().decode("utf-8")

    def reload(self, conf: str) -> None:
        """Serve `conf` instead (checked first), as `nginx -s reload` does."""
        self.conf.write_text(conf, encoding="utf-8")
        check_nginx(self.prefix)
        self.proc.send_signal(signal.SIGHUP)

    def wait_until_routed_to(self, replica: str, timeout: float = 15) -> None:
        """After a reload: until this client's next request is served by `replica`."""
        deadline = time.monotonic() + timeout
        while True:
            since = len(self.requests())
            self.get("/")
            if routed_to(self, since) == {replica}:
                return
            assert time.monotonic() < deadline, f"nginx does not send to {replica} after reload"
            time.sleep(0.2)


def nginx_command(prefix: Path, *args: str) -> list[str]:
    """nginx on `prefix`'s nginx.conf, its early error log in `prefix` too (not /var/log)."""
    return [str(NGINX), "-p", f"{prefix}/", "-c", str(prefix / "nginx.conf"),
            "-e", str(prefix / "error.log"), *args]  # fmt: skip


def check_nginx(prefix: Path) -> None:
    """`nginx -t` on the configuration as it is now."""
    checked = subprocess.run(nginx_command(prefix, "-t"), capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


def wrapper_conf(prefix: Path) -> str:
    """A main nginx.conf that keeps everything in `prefix` and includes the guide's block, which
    the guide puts in conf.d, inside `http`, as Debian's nginx.conf does."""
    temp = "\n".join(
        f"    {kind}_temp_path {prefix / kind}_temp;"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    # Workers run as nobody by default, who cannot write under pytest's private tmp folder.
    user = "user root;\n" if os.geteuid() == 0 else ""
    return f"""{user}daemon off;
worker_processes 1;
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} info;
events {{ worker_connections 256; }}
http {{
    log_format routed '$uri $status $upstream_addr';
    access_log {prefix / "access.log"} routed;
{temp}
    include {prefix / "interviewer.conf"};
}}
"""


def wait_for_https(front: Front, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if front.proc.poll() is not None:
            pytest.fail(f"nginx exited:\n{front.error_log.read_text()[-3000:]}")
        with contextlib.suppress(OSError):
            if front.get("/_stcore/health") == "ok":
                return
        time.sleep(0.2)
    pytest.fail(f"nginx did not answer within {timeout:g} s:\n{front.error_log.read_text()}")


@dataclass
class Deployment:
    """Two replicas behind nginx, as the test started them."""

    front: Front
    http_port: int  # the guide's port 80, which redirects to https
    replicas: dict[str, subprocess.Popen]  # by upstream address, as nginx logs them
    nginx_conf: str  # the guide's block as the test serves it
    db_url: str
    logs: list[Path]


def auth_secrets(path: Path, origin: str, provider: OidcProvider) -> None:
    """The guide's [auth] section, its values this test's: the public origin is nginx's."""
    auth = tomllib.loads(guide_block("toml", "[auth]"))["auth"]
    assert set(auth) == AUTH_KEYS
    public_host = re.search(r"server_name (\S+);", guide_block("nginx", "upstream"))[1]
    assert auth["redirect_uri"] == f"https://{public_host}/oauth2callback"
    auth |= {
        "redirect_uri": f"{origin}/oauth2callback",
        "cookie_secret": secrets.token_hex(32),
        "client_id": "mock-interviewer-tests",
        "client_secret": secrets.token_urlsafe(24),
        "server_metadata_url": provider.metadata_url,
    }
    lines = ["[auth]", *(f"{key} = {json.dumps(value)}" for key, value in auth.items())]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def replica_env(tmp_path: Path, db_url: str) -> dict[str, str]:
    """The guide's interviewer.toml, with the test's database and the offline engine grading
    (the environment wins over the file, as the guide says)."""
    config = tmp_path / "interviewer.toml"
    config.write_text(guide_block("toml", "database_url"), encoding="utf-8")
    env = {
        **os.environ,
        "INTERVIEWER_CONFIG": str(config),
        "INTERVIEWER_DATABASE_URL": db_url,
        "INTERVIEWER_PROFILE": "offline",
        "INTERVIEWER_TRANSCRIPTS_DIR": str(tmp_path / "transcripts"),
    }
    for name in (
        "INTERVIEWER_RUBRICS_DIR",
        "INTERVIEWER_CHECKPOINT_DB",
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
    ):
        env.pop(name, None)
    settings = load_settings(env)
    assert settings.cohorts and settings.profiles["vllm"].base_url.endswith("/v1")
    return env


@pytest.fixture
def deployment(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Deployment]:
    """Two replicas on a fresh PostgreSQL database behind the guide's nginx configuration, with
    sign-in."""
    require(NGINX.exists(), f"nginx is not installed at {NGINX}: run `make nginx-deps`")
    require(CHROMIUM.exists(), f"Chromium is not installed at {CHROMIUM}: run `make browser-deps`")
    require(importlib.util.find_spec("playwright") is not None, "Playwright is not installed")
    pg_url = request.getfixturevalue("pg_url")  # after the checks: a skip starts no server
    env = replica_env(tmp_path, pg_url)
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    cert, key = self_signed_certificate(prefix)
    https_port, http_port, *ports = (free_port() for _ in range(4))
    replicas = tuple(f"127.0.0.1:{port}" for port in ports)
    conf = substituted(
        guide_block("nginx", "upstream"),
        {
            REPLICAS[0]: replicas[0],
            REPLICAS[1]: replicas[1],
            HTTPS_LISTEN: f"listen 127.0.0.1:{https_port} ssl;",
            HTTP_LISTEN: f"listen 127.0.0.1:{http_port};",
            CERTIFICATE: str(cert),
            CERTIFICATE_KEY: str(key),
        },
    )
    (prefix / "interviewer.conf").write_text(conf, encoding="utf-8")
    (prefix / "nginx.conf").write_text(wrapper_conf(prefix), encoding="utf-8")
    logs = [tmp_path / f"replica-{port}.log" for port in ports]
    with contextlib.ExitStack() as stack:
        provider = stack.enter_context(OidcProvider(tmp_path))
        origin = f"https://localhost:{https_port}"
        secrets_file = tmp_path / "secrets.toml"
        auth_secrets(secrets_file, origin, provider)
        procs = []
        for port, log in zip(ports, logs, strict=True):
            with log.open("w", encoding="utf-8") as out:
                proc = subprocess.Popen(
                    [str(INTERVIEWER), "ui", "--server.address", "127.0.0.1",
                     "--server.port", str(port), "--server.headless", "true",
                     "--secrets.files", str(secrets_file)],
                    cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT,
                )  # fmt: skip
            stack.callback(stop, proc, 15)
            procs.append(proc)
        check_nginx(prefix)
        nginx = subprocess.Popen(
            nginx_command(prefix), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        stack.callback(stop, nginx, 15)
        front = Front(nginx, prefix, origin, ssl.create_default_context(cafile=str(cert)))
        for port, proc, log in zip(ports, procs, logs, strict=True):
            wait_for_http(f"http://127.0.0.1:{port}/_stcore/health", proc, log, "replica", 60)
        wait_for_https(front, 30)
        yield Deployment(
            front, http_port, dict(zip(replicas, procs, strict=True)), conf, pg_url, logs
        )
    for log in logs:
        text = log.read_text(encoding="utf-8")
        assert "Traceback" not in text, text


def stored(db_url: str) -> list[tuple[str, str | None, list[str]]]:
    """Each interview in the database: its id, owner and the candidate's answers."""
    with psycopg.connect(db_url) as conn:
        rows = conn.execute("SELECT id, owner, data FROM transcripts").fetchall()
    return [
        (row[0], row[1], [t["text"] for t in row[2]["turns"] if t["role"] == "candidate"])
        for row in rows
    ]


def routed_to(front: Front, since: int) -> set[str]:
    """The replicas that served the page's requests logged after the first `since` (the
    websocket's own line is logged when it closes, so it is left out)."""
    return {up for path, _, up in front.requests()[since:] if path != STREAM}


def send(page, text: str) -> None:
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(text)
    box.press("Enter")


def show_logs(d: Deployment) -> None:
    for path in (*d.logs, d.front.error_log, d.front.access_log):
        print(f"--- {path.name} ---\n{path.read_text(encoding='utf-8')[-4000:]}")


def test_the_guides_nginx_config_keeps_a_signed_in_interview_going_across_replicas(
    deployment: Deployment,
) -> None:
    from playwright.sync_api import expect, sync_playwright

    d, front = deployment, deployment.front
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(
                ignore_https_errors=True, viewport={"width": 1280, "height": 900}
            )
            page = context.new_page()
            page.set_default_timeout(TIMEOUT_MS)

            # Sign in through nginx: login, the provider, /oauth2callback, all on the public origin.
            sign_in(page, front.url, "sam", EMAIL, timeout_ms=TIMEOUT_MS)
            served = routed_to(front, 0)
            assert len(served) == 1, f"not sticky: one browser was sent to {served}"
            first = served.pop()
            (other,) = set(d.replicas) - {first}

            # One turn over the websocket, through nginx.
            followups = page.get_by_role("slider", name="Follow-ups per question")
            followups.focus()
            followups.press("Home")
            expect(followups).to_have_value("0")
            page.get_by_role("button", name="Start interview").click()
            page.wait_for_url("**/?interview=*")
            interview_id = page.url.split("interview=")[1].split("&")[0]
            expect(page.get_by_text("Question 1 of 3").first).to_be_visible()
            send(page, ANSWER_1)
            expect(page.get_by_text("Question 2 of 3").first).to_be_visible()
            assert stored(d.db_url) == [(interview_id, EMAIL, [ANSWER_1])]
            assert routed_to(front, 0) == {first}

            # The guide's upgrade, steps 1 and 2: the replica marked down, nginx reloaded, the
            # replica stopped. The page reconnects by itself to the other replica, still signed
            # in (one cookie_secret), and the interview carries on there.
            down = re.sub(
                rf"server {re.escape(first)}[^;]*;", f"server {first} down;", d.nginx_conf
            )
            assert down != d.nginx_conf
            front.reload(down)
            front.wait_until_routed_to(other)
            since = len(front.requests())
            stop(d.replicas[first], timeout=15)
            reconnected = time.monotonic() + TIMEOUT_MS / 1000
            while (HOST_CONFIG, "200", other) not in front.requests()[since:]:
                assert time.monotonic() < reconnected, "the page did not reconnect"
                time.sleep(0.2)
            wait_for_app_run(page, TIMEOUT_MS)
            expect(page.get_by_role("button", name="Sign in")).to_have_count(0)
            expect(page.get_by_text("Question 2 of 3").first).to_be_visible()
            send(page, ANSWER_2)
            expect(page.get_by_text("Question 3 of 3").first).to_be_visible()
            assert routed_to(front, since) == {other}
        except Exception:
            show_logs(d)
            raise
        finally:
            browser.close()

    assert stored(d.db_url) == [(interview_id, EMAIL, [ANSWER_1, ANSWER_2])]
    # Every websocket went through nginx (101 Switching Protocols), to the first replica until
    # it was marked down and to the other after; each is logged when it closes.
    deadline = time.monotonic() + 10
    while other not in (upstreams := [up for path, _, up in front.requests() if path == STREAM]):
        assert time.monotonic() < deadline, f"websockets logged: {front.requests()}"
        time.sleep(0.2)
    assert {status for path, status, _ in front.requests() if path == STREAM} == {"101"}
    assert upstreams[0] == first and upstreams[-1] == other, upstreams
    assert upstreams == sorted(upstreams, key=[first, other].index), upstreams

    # Plain http is sent to https.
    plain = http.client.HTTPConnection("127.0.0.1", d.http_port, timeout=10)
    plain.request("GET", "/?interview=x")
    response = plain.getresponse()
    assert (response.status, response.getheader("Location")) == (
        301,
        "https://127.0.0.1/?interview=x",
    )
    plain.close()
