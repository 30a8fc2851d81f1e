"""A throwaway PostgreSQL server for the tests and the benchmark, run from Debian's server
binaries.

`PostgresServer` makes a fresh cluster in a temporary folder and serves it on a Unix socket only
(no TCP port, so parallel runs never clash), with `trust` auth for the `postgres` user. PostgreSQL
refuses to run as root, so under root (as in CI) every server command runs as the `postgres`
system user and the folder is handed to that user; root still connects through the socket.

The tests' server trades durability for speed; a `durable` one waits for the disk on every
commit, as a production server does, so that the benchmark measures what a deployment would see.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import quote

SETTINGS = {"listen_addresses": "''", "max_connections": "200"}
# Speed over durability, for data that lives only as long as a test session.
FAST = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


def find_pg_bin() -> Path | None:
    """The newest /usr/lib/postgresql/<version>/bin holding initdb and pg_ctl, or None."""
    found = [
        d
        for d in Path("/usr/lib/postgresql").glob("*/bin")
        if (d / "initdb").is_file() and (d / "pg_ctl").is_file() and d.parent.name.isdigit()
    ]
    return max(found, key=lambda d: int(d.parent.name), default=None)


class PostgresServer:
    """One cluster listening on a socket in its own temporary folder; use it as a context
    manager, or call `start()` and `stop()`."""

    def __init__(self, bin_dir: Path | None = None, *, durable: bool = False) -> None:
        self.bin_dir = bin_dir or find_pg_bin()
        self.durable = durable
        if self.bin_dir is None:
            raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql")
        self.as_postgres = os.geteuid() == 0
        self.base: Path | None = None

    # The socket lives in `base` itself: a short path, as a socket path must stay under 108 bytes.
    @property
    def socket_dir(self) -> Path:
        assert self.base is not None, "server not started"
        return self.base

    @property
    def data_dir(self) -> Path:
        return self.socket_dir / "data"

    @property
    def log(self) -> Path:
        return self.socket_dir / "server.log"

    @property
    def url(self) -> str:
        return self.url_for("postgres")

    def url_for(self, database: str) -> str:
        return f"postgresql://postgres@/{database}?host={quote(str(self.socket_dir), safe='/')}"

    def start(self) -> PostgresServer:
        self.base = Path(tempfile.mkdtemp(prefix="pg-"))
        if self.as_postgres:
            shutil.chown(self.base, user="postgres", group="postgres")
        try:
            flags = "-U postgres --auth=trust --encoding=UTF8 --locale=C --no-sync".split()
            self._run("initdb", "-D", self.data_dir, *flags)
            settings = {**SETTINGS, **({} if self.durable else FAST)}
            settings["unix_socket_directories"] = f"'{self.socket_dir}'"
            with open(self.data_dir / "postgresql.conf", "a") as conf:
                conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
            self._run("pg_ctl", "start", "-D", self.data_dir, "-l", self.log, "-w", "-t", "60")
        except BaseException:
            with contextlib.suppress(RuntimeError):
                self.stop()
            raise
        return self

    def create_database(self, name: str) -> str:
        """Create database `name` (a plain lower-case identifier) and return its URL."""
        self.psql(f'CREATE DATABASE "{_identifier(name)}"')
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        """Drop database `name`, ending any connections still open to it."""
        self.psql(f'DROP DATABASE IF EXISTS "{_identifier(name)}" WITH (FORCE)')

    def psql(self, sql: str) -> str:
        flags = "-X -q -v ON_ERROR_STOP=1 -U postgres -d postgres".split()
        return self._run("psql", *flags, "-h", self.socket_dir, "-c", sql)

    def stop(self) -> None:
        """Stop the server at once (the data is thrown away) and remove its folder."""
        if self.base is None:
            return
        try:
            if (self.data_dir / "postmaster.pid").exists():
                self._run("pg_ctl", "stop", "-D", self.data_dir, "-m", "immediate", "-w")
        finally:
            shutil.rmtree(self.base, ignore_errors=True)
            self.base = None

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _run(self, program: str, *args: str | Path) -> str:
        command = [str(self.bin_dir / program), *map(str, args)]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        # PG* variables from the caller's shell must not point the tools elsewhere.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        try:
            done = subprocess.run(
                command, cwd=self.base, env=env, capture_output=True, text=True, timeout=90
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise RuntimeError(f"{program} failed: {exc}{self._log_tail()}") from exc
        if done.returncode != 0:
            raise RuntimeError(
                f"{program} exited with {done.returncode}:\n{done.stdout}{done.stderr}"
                f"{self._log_tail()}"
            )
        return done.stdout

    def _log_tail(self) -> str:
        if self.base is None:
            return ""
        try:
            return "\nserver log:\n" + self.log.read_text(errors="replace")[-3000:]
        except OSError:
            return ""


def _identifier(name: str) -> str:
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise ValueError(f"not a plain database name: {name!r}")
    return name
