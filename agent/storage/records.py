"""Stored interviews: the checkpoint is the source of truth, the transcript its readable record.

A transcript names the checkpoint it was written from. When an interview's latest checkpoint is
another (the process died between saving the state and writing the file), any open through
`Records` - listing, loading, reading them all - first rewrites the transcript from the
checkpoint; an interview that exists only as a checkpoint (a kill during start-up) gets its
transcript then too. Repairs are made by whoever can take the interview's turn at once; one
that is under way is left to its writer.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from langgraph.checkpoint.sqlite import SqliteSaver

from agent.config import Settings
from agent.interview.state import InterviewState, stored_questions
from agent.storage.checkpoints import (
    StorageError,
    latest_checkpoints,
    latest_state,
    open_checkpoints,
    prune,
)
from agent.storage.locks import Locks
from agent.storage.transcripts import (
    Listing,
    Transcript,
    TranscriptError,
    TranscriptStore,
    check_id,
    newest_first,
    split_readable,
)

Grader = tuple[str, str]  # (brain, model)


def transcript_from(
    interview_id: str,
    values: InterviewState,
    *,
    grader: Grader,
    checkpoint_id: str | None,
) -> Transcript:
    """The transcript of an interview in state `values`, graded by `grader`."""
    turns = values.get("messages", [])
    created = turns[0]["at"] if turns else datetime.now(UTC).isoformat()
    return Transcript(
        id=interview_id,
        created_at=created,
        updated_at=datetime.now(UTC).isoformat(timespec="milliseconds"),
        status=values.get("status", "in_progress"),
        settings=dict(values.get("settings", {})),
        brain=grader[0],
        model=grader[1],
        plan=values.get("plan", []),
        questions=stored_questions(values),
        turns=turns,
        grades=values.get("grades", []),
        report=values.get("report"),
        checkpoint_id=checkpoint_id,
    )


class Records:
    """The transcripts folder, kept in step with the checkpoint database (see the module)."""

    def __init__(
        self,
        transcripts: TranscriptStore,
        checkpoints: SqliteSaver | None,
        locks: Locks,
        grader: Grader,
    ) -> None:
        """`grader` names the brain for an interview whose transcript and grades do not."""
        self.transcripts = transcripts
        self.checkpoints = checkpoints
        self.locks = locks
        self.grader = grader

    @property
    def directory(self) -> Path:
        return self.transcripts.directory

    def path_for(self, interview_id: str) -> Path:
        return self.transcripts.path_for(interview_id)

    def save(self, transcript: Transcript) -> Path:
        return self.transcripts.save(transcript)

    def delete(self, interview_id: str) -> None:
        self.transcripts.delete(interview_id)

    # --- reading, with repairs ------------------------------------------------------------

    def load(self, interview_id: str) -> Transcript:
        """An interview's transcript, brought up to date with its checkpoint first."""
        check_id(interview_id)
        try:
            current: Transcript | None = self.transcripts.load(interview_id)
        except TranscriptError as exc:
            current, missing = None, exc
        latest = self._latest(interview_id).get(interview_id)
        if latest is not None and (current is None or current.checkpoint_id != latest):
            repaired = self._repair(interview_id, current)
            if repaired is not None:
                return repaired
        if current is None:
            raise missing
        return current

    def list(self) -> list[Listing]:
        """Every interview and every unreadable file, newest first (see `TranscriptStore.list`)."""
        return newest_first(listing for listing, _ in self._scan())

    def read_all(self) -> tuple[list[Transcript], list[Listing]]:
        """Every interview's transcript, and the listings of files that could not be read."""
        return split_readable(self._scan())

    def _scan(self) -> Iterator[tuple[Listing, Transcript | None]]:
        latest = self._latest()
        for listing, transcript in self.transcripts.scan():
            interview_id = listing.path.stem
            wanted = latest.pop(interview_id, None)
            if wanted is not None and (transcript is None or transcript.checkpoint_id != wanted):
                transcript = self._repair(interview_id, transcript) or transcript
                if transcript is not None:
                    listing = self.transcripts.listing(listing.path, transcript)
            yield listing, transcript
        for interview_id in latest:  # only a checkpoint: killed before its first transcript
            transcript = self._repair(interview_id, None)
            if transcript is not None:
                yield self.transcripts.listing(self.path_for(interview_id), transcript), transcript

    def _latest(self, interview_id: str | None = None) -> dict[str, str]:
        if self.checkpoints is None:
            return {}
        try:
            return latest_checkpoints(self.checkpoints, interview_id)
        except sqlite3.Error:  # the transcripts are still worth showing
            return {}

    def _repair(self, interview_id: str, current: Transcript | None) -> Transcript | None:
        """The transcript rewritten from the latest checkpoint, when that is ahead of `current`
        and nobody else is writing the interview; it is saved when the folder allows."""
        try:
            check_id(interview_id)
            with self.locks.attempt(interview_id) as held:
                if not held or self.checkpoints is None:
                    return None
                found = latest_state(self.checkpoints, interview_id)
                if found is None:
                    return None
                values, checkpoint_id = found
                if current is not None and len(values.get("messages", [])) < len(current.turns):
                    return None  # not the state this transcript was written from: leave it
                grader = (current.brain, current.model) if current else self._grader_of(values)
                repaired = transcript_from(
                    interview_id, values, grader=grader, checkpoint_id=checkpoint_id
                )
                try:
                    self.transcripts.save(repaired)
                except TranscriptError:
                    pass  # shown up to date all the same; the next open tries again
                return repaired
        except (TranscriptError, StorageError, OSError, sqlite3.Error, ValueError):
            return None  # a repair is a courtesy: reading what is there must still work

    def _grader_of(self, values: InterviewState) -> Grader:
        grades = values.get("grades") or []
        if grades:
            return str(grades[-1].get("brain", "")), str(grades[-1].get("model", ""))
        return self.grader

    # --- housekeeping ------------------------------------------------------------------------

    def prune_all(self) -> tuple[int, int]:
        """Prune every interview nobody is writing to its latest checkpoint: (interviews seen,
        checkpoints deleted)."""
        if self.checkpoints is None:
            return 0, 0
        seen = deleted = 0
        for interview_id in self._latest():
            try:
                check_id(interview_id)
            except TranscriptError:
                continue  # not one of ours
            seen += 1
            with self.locks.attempt(interview_id) as held:
                if held:
                    deleted += prune(self.checkpoints, interview_id)
        return seen, deleted


@contextmanager
def open_records(settings: Settings) -> Iterator[Records]:
    """The stored interviews, for commands that read them without running one (list, show,
    regrade, gc). Without a checkpoint database, or with one that cannot be opened, the
    transcripts are read as they are."""
    saver = None
    if settings.checkpoints.exists():
        try:
            saver = open_checkpoints(settings.checkpoints)
        except StorageError:
            saver = None
    active = settings.active
    try:
        yield Records(
            TranscriptStore(settings.transcripts_dir),
            saver,
            Locks(settings.locks_dir),
            (active.brain, active.model),
        )
    finally:
        if saver is not None:
            saver.conn.close()
