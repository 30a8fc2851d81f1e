"""Where interviews live, chosen by configuration: local files (the default) or PostgreSQL.

Either way an interview is a LangGraph checkpoint thread (the truth), a transcript (its readable
record), regrades, and a writer lock that lets one turn at a time run. `Storage` is what the rest
of the interviewer asks for; `open_storage` picks the backend from `Settings.database_url`.
"""

from __future__ import annotations

import sqlite3
from typing import Protocol

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.sqlite import SqliteSaver

from agent.config import Settings
from agent.storage.checkpoints import (
    StorageError,
    compact,
    latest_checkpoints,
    open_checkpoints,
    prune,
    storage_bytes,
    storage_error,
    sync_checkpoints,
)
from agent.storage.locks import Locks
from agent.storage.transcripts import (
    TranscriptError,
    TranscriptStore,
    check_id,
    write_atomic,
)


class Storage(Protocol):
    """One backend's checkpoints, transcripts, regrades and locks."""

    saver: BaseCheckpointSaver | None  # None: reading transcripts only, no state database yet
    transcripts: TranscriptStore  # or the database's table with the same methods
    locks: Locks  # or the database's advisory locks with the same methods
    # The backend's own errors, which `error` turns into one sentence.
    errors: tuple[type[Exception], ...]

    def describe(self) -> str:
        """Where interviews are kept, as it may be shown (no password)."""
        ...

    def location(self, interview_id: str) -> str:
        """Where one interview's transcript is, as it may be shown."""
        ...

    def latest(self, interview_id: str | None = None) -> dict[str, str]:
        """Each interview's latest checkpoint id (or only `interview_id`'s)."""
        ...

    def prune(self, interview_id: str) -> None:
        """Delete an interview's checkpoints but the latest (after every turn)."""
        ...

    def checkpoint_count(self) -> int:
        """How many checkpoints are kept, of every interview (what `gc` reports on)."""
        ...

    def sync(self) -> None:
        """Make every commit so far durable (a no-op where commits already are)."""
        ...

    def compact(self) -> None:
        """Give space freed by pruning back to the disk."""
        ...

    def size_bytes(self) -> int:
        """What the interviews' state and transcripts take."""
        ...

    def save_regrade(self, interview_id: str, profile: str, data: str) -> str:
        """Keep a regrade (its JSON text); where it was kept."""
        ...

    def error(self, exc: Exception) -> StorageError:
        """The one sentence for a failed read or write of the state."""
        ...

    def close(self) -> None: ...


class LocalStorage:
    """The transcripts folder and the SQLite checkpoint database beside it (the default)."""

    def __init__(self, settings: Settings, *, create: bool = True) -> None:
        """With `create` false, and no database yet or one that cannot be opened, only the
        transcripts are read."""
        self.settings = settings
        self.path = settings.checkpoints
        self.saver: SqliteSaver | None = None
        if create:
            self.saver = open_checkpoints(self.path)
        elif self.path.exists():
            try:
                self.saver = open_checkpoints(self.path)
            except StorageError:
                pass  # the transcripts are still worth reading
        self.transcripts = TranscriptStore(settings.transcripts_dir)
        self.locks = Locks(settings.locks_dir)
        self.errors: tuple[type[Exception], ...] = (sqlite3.Error,)

    def describe(self) -> str:
        return str(self.settings.transcripts_dir)

    def location(self, interview_id: str) -> str:
        return self.transcripts.location(interview_id)

    def latest(self, interview_id: str | None = None) -> dict[str, str]:
        if self.saver is None:
            return {}
        return latest_checkpoints(self.saver, interview_id)

    def prune(self, interview_id: str) -> None:
        if self.saver is not None:
            prune(self.saver, interview_id)

    def checkpoint_count(self) -> int:
        if self.saver is None:
            return 0
        with self.saver.cursor(transaction=False) as cur:
            (count,) = cur.execute(
                "SELECT count(*) FROM checkpoints WHERE checkpoint_ns = ''"
            ).fetchone()
        return count

    def sync(self) -> None:
        sync_checkpoints(self.path)

    def compact(self) -> None:
        if self.saver is not None:
            compact(self.saver)

    def size_bytes(self) -> int:
        folder = self.settings.transcripts_dir
        files = sum(p.stat().st_size for p in folder.glob("*.json") if p.is_file())
        return storage_bytes(self.path) + files

    def save_regrade(self, interview_id: str, profile: str, data: str) -> str:
        name = f"{check_id(interview_id)}.regrade-{profile}.json"
        path = self.settings.transcripts_dir / "regrades" / name
        try:
            write_atomic(path, data)
        except OSError as exc:
            reason = exc.strerror or exc
            raise TranscriptError(f"could not save the regrade to {path}: {reason}") from None
        return str(path)

    def error(self, exc: Exception) -> StorageError:
        return storage_error(self.path, exc)  # type: ignore[arg-type]

    def close(self) -> None:
        self.locks.release_all()
        if self.saver is not None:
            self.saver.conn.close()


def open_storage(settings: Settings, *, create: bool = True) -> Storage:
    """The storage `settings` name: PostgreSQL when `database_url` is set, else local files.

    `create` false opens local storage for reading, without creating a state database."""
    if settings.database_url is not None:
        from agent.storage.postgres import PostgresStorage  # psycopg loads only when used

        return PostgresStorage(settings.database_url.get_secret_value())
    return LocalStorage(settings, create=create)
