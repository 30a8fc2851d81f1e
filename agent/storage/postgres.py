"""Interviews in PostgreSQL: any number of stateless app replicas share one database.

- Checkpoints: LangGraph's own Postgres saver, over a psycopg 3 connection pool.
- Transcripts and regrades: rows with a JSON column (tables in `agent.storage.migrations`).
- One writer per interview, across replicas: session advisory locks, held on one connection per
  process. Postgres drops a session's locks when its connection ends, so a replica that is
  killed mid-turn frees the interview for the next replica at once; within a process, a lock
  per interview keeps its threads apart (an advisory lock is re-entrant within its session).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

import psycopg
from langgraph.checkpoint.postgres import PostgresSaver
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from agent.config import redact_url
from agent.storage.checkpoints import StorageError
from agent.storage.locks import InterviewBusy
from agent.storage.migrations import migrate
from agent.storage.transcripts import (
    EVERYONE,
    Listing,
    Scope,
    Transcript,
    TranscriptError,
    check_id,
    listing_of,
    newest_first,
    parse_transcript,
    split_readable,
    transcript_json,
)

log = logging.getLogger(__name__)

POOL_SIZE = 10  # connections per process at most; a turn holds one only while it reads or writes
CONNECT_TIMEOUT_S = 10
# Advisory lock spaces (the first of the two int4 keys): a turn, and an interview held open.
_TURN, _OPEN = 0x74726E00, 0x6F706E00


class PostgresStorage:
    """A PostgreSQL database as the interviews' storage (see the module)."""

    def __init__(self, url: str) -> None:
        self.display = redact_url(url)
        self.errors: tuple[type[Exception], ...] = (psycopg.Error,)
        name = f"interviewer pid {os.getpid()} on {socket.gethostname()}"[:63]
        self.pool = ConnectionPool(
            url,
            min_size=1,
            max_size=POOL_SIZE,
            timeout=CONNECT_TIMEOUT_S,
            kwargs={
                "autocommit": True,
                "prepare_threshold": 0,
                "row_factory": dict_row,
                "application_name": name,
                "connect_timeout": CONNECT_TIMEOUT_S,
            },
            open=False,
            name="interviewer",
        )
        try:
            # One plain connection first: a wrong URL or a server that is down fails at once
            # with its own reason, where the pool would retry until its timeout.
            with psycopg.connect(
                url, autocommit=True, application_name=name, connect_timeout=CONNECT_TIMEOUT_S
            ) as conn:
                migrate(conn)
            self.pool.open(wait=True, timeout=CONNECT_TIMEOUT_S)
        except (psycopg.Error, TimeoutError) as exc:  # PoolTimeout is a psycopg error
            self.pool.close()
            raise StorageError(
                f"cannot open the interview database {self.display} ({_reason(exc)}): check "
                "that the server runs and the URL (database_url or INTERVIEWER_DATABASE_URL)"
            ) from None
        self.saver = PooledSaver(self.pool)
        self.transcripts = PgTranscripts(self.pool, self.display)
        self.locks = PgLocks(url, name)

    def describe(self) -> str:
        return self.display

    def location(self, interview_id: str) -> str:
        return f"{self.display} (interview {interview_id})"

    def latest(self, interview_id: str | None = None) -> dict[str, str]:
        sql = (
            "SELECT thread_id, max(checkpoint_id) AS latest FROM checkpoints "
            "WHERE checkpoint_ns = ''"
        )
        args: tuple[str, ...] = ()
        if interview_id is not None:
            sql, args = sql + " AND thread_id = %s", (interview_id,)
        with self.pool.connection() as conn:
            rows = conn.execute(sql + " GROUP BY thread_id", args).fetchall()
        return {r["thread_id"]: r["latest"] for r in rows if r["latest"] is not None}

    def prune(self, interview_id: str) -> None:
        self.saver.prune([interview_id])

    def checkpoint_count(self) -> int:
        with self.pool.connection() as conn:
            row = conn.execute(
                "SELECT count(*) AS n FROM checkpoints WHERE checkpoint_ns = ''"
            ).fetchone()
        return int(row["n"]) if row else 0

    def sync(self) -> None:
        """Every commit is durable when it returns: nothing to do."""

    def compact(self) -> None:
        """Postgres's autovacuum gives pruned rows' space back: nothing to do."""

    def size_bytes(self) -> int:
        tables = ("checkpoints", "checkpoint_blobs", "checkpoint_writes", "transcripts", "regrades")
        sql = " + ".join(f"pg_total_relation_size('{t}')" for t in tables)
        with self.pool.connection() as conn:
            row = conn.execute(f"SELECT {sql} AS bytes").fetchone()
        return int(row["bytes"]) if row else 0

    def save_regrade(self, interview_id: str, profile: str, data: str) -> str:
        try:
            with self.pool.connection() as conn:
                conn.execute(
                    "INSERT INTO regrades (interview_id, profile, data) VALUES (%s, %s, %s) "
                    "ON CONFLICT (interview_id, profile) DO UPDATE "
                    "SET data = excluded.data, created_at = now()",
                    (check_id(interview_id), profile, data),
                )
        except psycopg.Error as exc:
            raise TranscriptError(f"could not save the regrade: {_reason(exc)}") from None
        return f"{self.display} (regrade of {interview_id} by {profile})"

    def error(self, exc: Exception) -> StorageError:
        return StorageError(
            f"could not read or save the interview state in {self.display} ({_reason(exc)}): "
            "check that the database server runs; every answer acknowledged before this one "
            "is kept"
        )

    def close(self) -> None:
        self.locks.close()
        self.pool.close()


class _NoLock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


class PooledSaver(PostgresSaver):
    """LangGraph's Postgres saver over a connection pool, without its process-wide lock.

    The saver holds one `threading.Lock` around every call, which a single shared connection
    needs; over a pool each call takes a connection of its own, and the lock only made one
    replica's sessions queue for each other's checkpoint writes. Ten candidates answering at
    once on one process: 35-37 turns a second with the lock, 43-52 without (three paired runs
    of `interviewer bench --scale`'s saturation, 400 turns each, no errors either way)."""

    def __init__(self, pool: ConnectionPool) -> None:
        super().__init__(pool)  # type: ignore[arg-type]
        self.lock = _NoLock()  # type: ignore[assignment]


class PgTranscripts:
    """The transcripts table, with the methods of the transcripts folder."""

    def __init__(self, pool: ConnectionPool, display: str) -> None:
        self.pool = pool
        self.display = display

    def location(self, interview_id: str) -> str:
        return f"{self.display} (interview {interview_id})"

    def save(self, transcript: Transcript) -> str:
        data = transcript_json(transcript)
        try:
            with self.pool.connection() as conn:
                conn.execute(
                    """INSERT INTO transcripts
                       (id, schema_version, created_at, updated_at, status, checkpoint_id, owner,
                        data, summary)
                       VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
                       ON CONFLICT (id) DO UPDATE SET schema_version = excluded.schema_version,
                        updated_at = excluded.updated_at, status = excluded.status,
                        checkpoint_id = excluded.checkpoint_id, owner = excluded.owner,
                        data = excluded.data, summary = excluded.summary""",
                    (
                        check_id(transcript.id),
                        transcript.schema_version,
                        transcript.created_at,
                        transcript.updated_at,
                        transcript.status,
                        transcript.checkpoint_id,
                        transcript.owner.lower() if transcript.owner else None,
                        data,
                        _summary(listing_of(transcript.id, transcript)),
                    ),
                )
        except psycopg.Error as exc:
            raise TranscriptError(
                f"could not save transcript {transcript.id} to {self.display}: {_reason(exc)}"
            ) from None
        return self.location(transcript.id)

    def known(self, interview_ids: Iterable[str]) -> set[str]:
        """Those of `interview_ids` that have a transcript row."""
        with self.pool.connection() as conn:
            rows = conn.execute(
                "SELECT id FROM transcripts WHERE id = ANY(%s)", (list(interview_ids),)
            ).fetchall()
        return {row["id"] for row in rows}

    def load(self, interview_id: str) -> Transcript:
        rows = self._select("WHERE id = %s", (check_id(interview_id),))
        if not rows:
            raise TranscriptError(f"no transcript with id {interview_id!r} in {self.display}")
        return parse_transcript(rows[0]["data"], interview_id)

    def list(self, scope: Scope = EVERYONE) -> list[Listing]:
        """Listings from the rows' summaries; a row saved without one is read in full."""
        listed = []
        for row in self._select(
            *_scoped(scope),
            columns="id, summary::text AS summary, "
            "CASE WHEN summary IS NULL THEN data::text END AS data",
        ):
            if row["summary"] is not None:
                listing = _from_summary(row["id"], row["summary"])
                if scope.allows(listing.owner):
                    listed.append(listing)
                continue
            listed += [item for item, _ in self._parsed([row], scope)]
        return newest_first(listed)

    def read_all(self, scope: Scope = EVERYONE) -> tuple[list[Transcript], list[Listing]]:
        return split_readable(self.scan(scope))

    def scan(self, scope: Scope = EVERYONE) -> Iterator[tuple[Listing, Transcript | None]]:
        """Each row's listing and, when it is readable, its transcript; only `scope`'s."""
        yield from self._parsed(self._select(*_scoped(scope)), scope)

    def _parsed(
        self, rows: list[dict], scope: Scope
    ) -> Iterator[tuple[Listing, Transcript | None]]:
        for row in rows:
            key = row["id"]
            try:
                t = parse_transcript(row["data"], key)
                if scope.allows(t.owner):
                    yield listing_of(key, t), t
            except TranscriptError as exc:
                if scope.everyone:
                    yield Listing(id=key, key=key, path=None, ok=False, error=str(exc)), None

    def listing(self, key: str, t: Transcript) -> Listing:
        return listing_of(key, t)

    def delete(self, interview_id: str) -> None:
        with self.pool.connection() as conn:
            deleted = conn.execute(
                "DELETE FROM transcripts WHERE id = %s", (check_id(interview_id),)
            ).rowcount
            conn.execute("DELETE FROM regrades WHERE interview_id = %s", (interview_id,))
        if not deleted:
            raise TranscriptError(f"no transcript with id {interview_id!r}")

    def _select(
        self, where: str, args: tuple, columns: str = "id, data::text AS data"
    ) -> list[dict]:
        # The JSON comes back as text, parsed and checked like a file's.
        try:
            with self.pool.connection() as conn:
                return conn.execute(
                    f"SELECT {columns} FROM transcripts {where} ORDER BY created_at DESC", args
                ).fetchall()
        except psycopg.Error as exc:
            raise TranscriptError(
                f"could not read transcripts from {self.display}: {_reason(exc)}"
            ) from None


class PgLocks:
    """One writer per interview across every replica (see the module)."""

    def __init__(self, url: str, name: str) -> None:
        self._url = url
        self._name = name
        self._conn: psycopg.Connection | None = None
        self._conn_lock = threading.Lock()  # one statement at a time on the shared session
        self._threads: dict[str, threading.Lock] = {}
        self._threads_lock = threading.Lock()
        self._open: set[str] = set()  # interviews this process holds open

    # --- the shared session ---------------------------------------------------------------

    def _execute(self, sql: str, args: tuple) -> object:
        with self._conn_lock:
            if self._conn is None or self._conn.closed:
                if self._open:  # its locks went with the old session
                    log.warning("lost the database session holding %s open", sorted(self._open))
                    self._open.clear()
                self._conn = psycopg.connect(
                    self._url,
                    autocommit=True,
                    application_name=self._name,
                    connect_timeout=CONNECT_TIMEOUT_S,
                )
            try:
                row = self._conn.execute(sql, args).fetchone()
            except psycopg.OperationalError:
                self._conn.close()
                raise
            return row[0] if row else None

    def _try(self, space: int, interview_id: str, *, shared: bool = False) -> bool:
        fn = "pg_try_advisory_lock_shared" if shared else "pg_try_advisory_lock"
        return bool(self._execute(f"SELECT {fn}(%s, %s)", (space, _key(interview_id))))

    def _unlock(self, space: int, interview_id: str, *, shared: bool = False) -> None:
        fn = "pg_advisory_unlock_shared" if shared else "pg_advisory_unlock"
        try:
            self._execute(f"SELECT {fn}(%s, %s)", (space, _key(interview_id)))
        except psycopg.Error:
            pass  # the session is gone, and its locks with it

    def _thread_lock(self, interview_id: str) -> threading.Lock:
        with self._threads_lock:
            return self._threads.setdefault(interview_id, threading.Lock())

    # --- what the interviewer asks for (as `agent.storage.locks.Locks`) --------------------

    @contextmanager
    def turn(self, interview_id: str, wait: float) -> Iterator[None]:
        """Hold the interview's turn, waiting up to `wait` seconds for another writer (in this
        process or any other) to end theirs. Raises InterviewBusy when it does not, or when
        another process holds the interview open."""
        check_id(interview_id)
        deadline = time.monotonic() + wait
        local = self._thread_lock(interview_id)
        if not local.acquire(timeout=max(wait, 0)):
            raise _busy(interview_id, wait)
        try:
            if not _poll(lambda: self._try(_TURN, interview_id), deadline):
                raise _busy(interview_id, wait)
            try:
                if interview_id not in self._open:
                    self._refuse_if_open_elsewhere(interview_id)
                yield
            finally:
                self._unlock(_TURN, interview_id)
        finally:
            local.release()

    @contextmanager
    def attempt(self, interview_id: str) -> Iterator[bool]:
        """Hold the interview's turn if nobody else does, without waiting: True when held."""
        local = self._thread_lock(check_id(interview_id))
        if not local.acquire(blocking=False):
            yield False
            return
        try:
            held = self._try(_TURN, interview_id)
            try:
                yield held
            finally:
                if held:
                    self._unlock(_TURN, interview_id)
        finally:
            local.release()

    def hold_open(self, interview_id: str, wait: float) -> None:
        if interview_id in self._open:
            return
        with self.turn(interview_id, wait):
            if not self._try(_OPEN, interview_id):
                raise InterviewBusy(f"interview {interview_id} is open in another process")
            self._open.add(interview_id)

    def release(self, interview_id: str) -> None:
        if interview_id in self._open:
            self._open.discard(interview_id)
            self._unlock(_OPEN, interview_id)

    def release_all(self) -> None:
        for interview_id in list(self._open):
            self.release(interview_id)

    def forget(self, interview_id: str) -> None:
        self.release(interview_id)
        with self._threads_lock:
            self._threads.pop(interview_id, None)

    def close(self) -> None:
        self.release_all()
        with self._conn_lock:
            if self._conn is not None:
                self._conn.close()

    def _refuse_if_open_elsewhere(self, interview_id: str) -> None:
        if self._try(_OPEN, interview_id, shared=True):
            self._unlock(_OPEN, interview_id, shared=True)
            return
        holder = self._execute(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
            "WHERE l.locktype = 'advisory' AND l.classid = %s AND l.objid = %s AND l.granted "
            "LIMIT 1",
            (_OPEN, _key(interview_id) & 0xFFFFFFFF),
        )
        raise InterviewBusy(
            f"interview {interview_id} is open in another process ({holder or 'another replica'}),"
            " for example `interviewer run` in a terminal: answer there, or end that run first"
        )


def _scoped(scope: Scope) -> tuple[str, tuple]:
    """The WHERE clause (and its arguments) of the rows `scope` may see."""
    if scope.everyone:
        return "", ()
    return "WHERE owner = ANY(%s) OR owner LIKE ANY(%s)", (
        sorted(scope.owners),
        [f"%{domain}" for domain in scope.domains],
    )


_SUMMARY_FIELDS = (
    "id created_at status role company_type tracks brain model score owner checkpoint_id"
).split()


def _summary(listing: Listing) -> str:
    return json.dumps({name: getattr(listing, name) for name in _SUMMARY_FIELDS})


def _from_summary(key: str, text: str) -> Listing:
    fields = json.loads(text)
    fields["tracks"] = tuple(fields["tracks"])
    return Listing(key=key, path=None, ok=True, **fields)


def _key(interview_id: str) -> int:
    """An interview's advisory lock key: a signed 32-bit hash of its id (two ids sharing one
    only make their turns wait for each other)."""
    return zlib.crc32(interview_id.encode()) - 2**31


def _poll(take: Callable[[], bool], deadline: float) -> bool:
    """Call `take` until it returns True (True) or `deadline` has passed (False)."""
    pause = 0.002
    while True:
        if take():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


def _busy(interview_id: str, wait: float) -> InterviewBusy:
    return InterviewBusy(
        f"interview {interview_id} is busy with another turn that has not ended within "
        f"{wait:g} s; try again in a moment"
    )


def _reason(exc: BaseException) -> str:
    """A database error in one line, without the URL or anything after the first line."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
