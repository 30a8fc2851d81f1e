"""The interviewer's own tables in PostgreSQL, as numbered migrations applied at start-up.

Every replica runs `migrate` when it starts. It holds a session advisory lock while it works, so
replicas starting together apply each migration once, one after another; each migration runs in
its own transaction with the row that records it, so a crash leaves the database at a version,
never between two. LangGraph's checkpoint tables are created by its saver's own migrations,
under the same lock.

Never edit a migration that has shipped: add the next one.
"""

from __future__ import annotations

import time

import psycopg
from langgraph.checkpoint.postgres import PostgresSaver

# Any constant both halves of every replica agree on: "interviewer migrate" as two int4s.
MIGRATION_LOCK = (0x696E7476, 0x6D696772)
LOCK_WAIT_S = 120.0

# Each migration is its statements, run in order in one transaction.
MIGRATIONS: list[tuple[str, ...]] = [
    # 1: transcripts, one row per interview, the whole transcript as JSON (json, not jsonb:
    # it keeps any text a candidate typed, NUL escapes included, exactly as written).
    (
        """CREATE TABLE transcripts (
            id TEXT PRIMARY KEY,
            schema_version INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            status TEXT NOT NULL,
            checkpoint_id TEXT,
            data JSON NOT NULL
        )""",
        "CREATE INDEX transcripts_created_idx ON transcripts (created_at DESC)",
    ),
    # 2: interviews belong to the signed-in user who started them; listed by owner and date.
    (
        "ALTER TABLE transcripts ADD COLUMN owner TEXT",
        "UPDATE transcripts SET owner = lower(data ->> 'owner') WHERE data ->> 'owner' IS NOT NULL",
        "CREATE INDEX transcripts_owner_created_idx ON transcripts (owner, created_at DESC)",
    ),
    # 3: regrades of an interview by another profile, one per (interview, profile).
    (
        """CREATE TABLE regrades (
            interview_id TEXT NOT NULL,
            profile TEXT NOT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            data JSON NOT NULL,
            PRIMARY KEY (interview_id, profile)
        )""",
    ),
    # 4: what a listing shows of a transcript, so listings do not read whole transcripts
    # (written with each save; rows saved before it have none and are read in full).
    ("ALTER TABLE transcripts ADD COLUMN summary JSON",),
]

_VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS interviewer_migrations (
    version INTEGER PRIMARY KEY,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)
"""


def current_version(conn: psycopg.Connection) -> int:
    """The newest migration applied to the database (0: none)."""
    conn.execute(_VERSION_TABLE)
    row = conn.execute("SELECT coalesce(max(version), 0) FROM interviewer_migrations").fetchone()
    return int(_first(row))


def migrate(conn: psycopg.Connection, *, target: int | None = None) -> list[int]:
    """Bring the database on `conn` (an autocommit connection) up to `target` (by default the
    newest migration), checkpoint tables included; the versions applied now."""
    target = len(MIGRATIONS) if target is None else target
    _lock(conn)
    try:
        PostgresSaver(conn).setup()  # type: ignore[arg-type]
        applied = []
        for version in range(current_version(conn) + 1, target + 1):
            with conn.transaction():
                for statement in MIGRATIONS[version - 1]:
                    conn.execute(statement)
                conn.execute("INSERT INTO interviewer_migrations (version) VALUES (%s)", (version,))
            applied.append(version)
        return applied
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s, %s)", MIGRATION_LOCK)


def _lock(conn: psycopg.Connection, wait: float = LOCK_WAIT_S) -> None:
    """Take the migration lock, asking again until it is free.

    Not `pg_advisory_lock`: a statement blocked in it is an open transaction, and the saver's
    `CREATE INDEX CONCURRENTLY` in the replica holding the lock waits for every open
    transaction to end, which Postgres then reports as a deadlock."""
    deadline = time.monotonic() + wait
    while not _first(
        conn.execute("SELECT pg_try_advisory_lock(%s, %s)", MIGRATION_LOCK).fetchone()
    ):
        if time.monotonic() > deadline:
            raise TimeoutError(f"another replica has been migrating the database for {wait:g} s")
        time.sleep(0.05)


def _first(row: object) -> object:
    """The first column of a row, whichever row factory made it."""
    if isinstance(row, dict):
        return next(iter(row.values()))
    return row[0]  # type: ignore[index]
