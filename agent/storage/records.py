"""Stored interviews: the checkpoint is the source of truth, the transcript its readable record.

A transcript names the checkpoint it was written from. When an interview's latest checkpoint is
another (the process died between saving the state and writing the file), any open through
`Records` - listing, loading, reading them all - first rewrites the transcript from the
checkpoint; an interview that exists only as a checkpoint (a kill during start-up) gets its
transcript then too. Repairs are made by whoever can take the interview's turn at once; one
that is under way is left to its writer.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from agent.config import Settings
from agent.interview.state import InterviewState, stored_questions
from agent.storage.backend import Storage, open_storage
from agent.storage.checkpoints import StorageError, latest_state
from agent.storage.transcripts import (
    EVERYONE,
    Listing,
    Scope,
    Transcript,
    TranscriptError,
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
        owner=values.get("owner"),
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
    """The transcripts, kept in step with the checkpoints (see the module)."""

    def __init__(self, storage: Storage, grader: Grader) -> None:
        """`grader` names the brain for an interview whose transcript and grades do not."""
        self.storage = storage
        self.transcripts = storage.transcripts
        self.checkpoints = storage.saver
        self.locks = storage.locks
        self.grader = grader

    def path_for(self, interview_id: str) -> Path:
        """An interview's transcript file (local storage only)."""
        return self.transcripts.path_for(interview_id)

    def location(self, interview_id: str) -> str:
        """Where an interview's transcript is kept, as it may be shown."""
        return self.storage.location(interview_id)

    def save(self, transcript: Transcript) -> str:
        return str(self.transcripts.save(transcript))

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

    def list(self, scope: Scope = EVERYONE) -> list[Listing]:
        """Every interview `scope` may see and, to a reader of everyone's, every unreadable
        one, newest first (see `TranscriptStore.list`). Listings are summaries: a transcript is
        read in full only when it is behind its checkpoint."""
        latest = self._latest()
        listed = []
        for listing in self.transcripts.list(scope):
            wanted = latest.pop(listing.key, None)
            if wanted is not None and (not listing.ok or listing.checkpoint_id != wanted):
                repaired = self._repair(listing.key, self._current(listing))
                if repaired is not None:
                    listing = self.transcripts.listing(listing.key, repaired)
            listed.append(listing)
        listed += [item for item, _ in self._checkpoints_only(latest, scope)]
        return newest_first(listed)

    def _current(self, listing: Listing) -> Transcript | None:
        if not listing.ok:
            return None
        try:
            return self.transcripts.load(listing.key)
        except TranscriptError:
            return None

    def read_all(self, scope: Scope = EVERYONE) -> tuple[list[Transcript], list[Listing]]:
        """Every interview's transcript `scope` may see, and the listings of those that could
        not be read."""
        return split_readable(self._scan(scope))

    def _scan(self, scope: Scope) -> Iterator[tuple[Listing, Transcript | None]]:
        latest = self._latest()
        for listing, transcript in self.transcripts.scan(scope):
            wanted = latest.pop(listing.key, None)
            if wanted is not None and (transcript is None or transcript.checkpoint_id != wanted):
                transcript = self._repair(listing.key, transcript) or transcript
                if transcript is not None:
                    listing = self.transcripts.listing(listing.key, transcript)
            yield listing, transcript
        yield from self._checkpoints_only(latest, scope)

    def _checkpoints_only(
        self, latest: dict[str, str], scope: Scope
    ) -> Iterator[tuple[Listing, Transcript]]:
        """Of the interviews in `latest` that no listing named, those that are only a
        checkpoint (killed before their first transcript), repaired. (The others are
        interviews outside `scope`, or files that are not transcripts.)"""
        for interview_id in sorted(set(latest) - self.transcripts.known(latest)):
            transcript = self._repair(interview_id, None)
            if transcript is not None and scope.allows(transcript.owner):
                yield self.transcripts.listing(interview_id, transcript), transcript

    def _latest(self, interview_id: str | None = None) -> dict[str, str]:
        try:
            return self.storage.latest(interview_id)
        except self.storage.errors:  # the transcripts are still worth showing
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
        except (TranscriptError, StorageError, OSError, ValueError, *self.storage.errors):
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
        seen, before = 0, self.storage.checkpoint_count()
        for interview_id in self._latest():
            try:
                check_id(interview_id)
            except TranscriptError:
                continue  # not one of ours
            seen += 1
            with self.locks.attempt(interview_id) as held:
                if held:
                    self.storage.prune(interview_id)
        return seen, before - self.storage.checkpoint_count()


@contextmanager
def open_records(settings: Settings) -> Iterator[Records]:
    """The stored interviews, for commands that read them without running one (list, show,
    regrade, gc). Locally, without a checkpoint database or with one that cannot be opened,
    the transcripts are read as they are."""
    storage = open_storage(settings, create=False)
    active = settings.active
    try:
        yield Records(storage, (active.brain, active.model))
    finally:
        storage.close()
