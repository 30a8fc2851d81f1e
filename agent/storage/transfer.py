"""`interviewer migrate`: copy the interviews kept in local files into the PostgreSQL database.

Each interview's transcript, its latest checkpoint with the writes pending on it (what resuming
needs: an interview in progress carries on in the database where it stopped) and its regrades.
Safe to run again: an interview the database already has, as new or newer, is skipped; one in use
by a running interview is skipped with a note to run again later.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from langgraph.checkpoint.base import BaseCheckpointSaver

from agent.config import Settings
from agent.profiles import ConfigError
from agent.storage.backend import LocalStorage
from agent.storage.locks import InterviewBusy
from agent.storage.postgres import PostgresStorage
from agent.storage.records import Records
from agent.storage.transcripts import Transcript, TranscriptError


@dataclass
class Copied:
    """What a copy did: the interviews copied, and those skipped with the reason."""

    source: str
    target: str
    copied: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    regrades: int = 0

    def summary(self) -> str:
        lines = [
            f"Copied {len(self.copied)} interview(s) and {self.regrades} regrade(s) from "
            f"{self.source} to {self.target}; skipped {len(self.skipped)}."
        ]
        lines += [f"  skipped {interview_id}: {why}" for interview_id, why in self.skipped]
        return "\n".join(lines)


def copy_to_database(settings: Settings, owner: str | None = None) -> Copied:
    """Copy every local interview in `settings`' transcripts folder into its database; those
    without an owner become `owner`'s (an e-mail), for a deployment where people sign in."""
    if settings.database_url is None:
        raise ConfigError(
            "set database_url in interviewer.toml or INTERVIEWER_DATABASE_URL to the database "
            "to copy the interviews into"
        )
    source = LocalStorage(settings.model_copy(update={"database_url": None}), create=False)
    try:
        target = PostgresStorage(settings.database_url.get_secret_value())
    except Exception:
        source.close()
        raise
    report = Copied(source=source.describe(), target=target.describe())
    try:
        active = settings.active
        # Read through Records, so a transcript behind its checkpoint is brought up to date and
        # an interview that is only a checkpoint gets its transcript before it is copied.
        transcripts, unreadable = Records(source, (active.brain, active.model)).read_all()
        report.skipped += [(item.id, item.error) for item in unreadable]
        for transcript in sorted(transcripts, key=lambda t: t.created_at):
            if owner and not transcript.owner:
                transcript = transcript.model_copy(update={"owner": owner.strip().lower()})
            skipped = _copy_one(source, target, transcript, report)
            if skipped:
                report.skipped.append((transcript.id, skipped))
            else:
                report.copied.append(transcript.id)
    finally:
        target.close()
        source.close()
    return report


def _copy_one(
    source: LocalStorage, target: PostgresStorage, transcript: Transcript, report: Copied
) -> str | None:
    """Copy one interview; why it was skipped, or None when it was copied."""
    interview_id = transcript.id
    with source.locks.attempt(interview_id) as held:
        if not held:
            return "in use by a running interview; run migrate again when it has ended"
        try:
            there = target.transcripts.load(interview_id)
        except TranscriptError:
            there = None
        if there is not None and there.updated_at >= transcript.updated_at:
            return "already in the database (as new or newer)"
        try:
            with target.locks.turn(interview_id, wait=0):
                if source.saver is not None:
                    _copy_checkpoint(source.saver, target.saver, interview_id, transcript.owner)
                target.transcripts.save(transcript)
        except InterviewBusy:
            return "in use in the database right now; run migrate again in a moment"
        report.regrades += _copy_regrades(source, target, interview_id)
    return None


def _copy_checkpoint(
    source: BaseCheckpointSaver, target: BaseCheckpointSaver, interview_id: str, owner: str | None
) -> None:
    """The interview's latest checkpoint and the writes pending on it, as they are but for the
    owner, which the state names too (a transcript is rewritten from the state)."""
    saved = source.get_tuple({"configurable": {"thread_id": interview_id}})
    if saved is None:
        return
    checkpoint = saved.checkpoint
    if owner and checkpoint["channel_values"].get("owner") != owner:
        versions = checkpoint["channel_versions"]
        checkpoint = {
            **checkpoint,
            "channel_values": {**checkpoint["channel_values"], "owner": owner},
            "channel_versions": {
                **versions,
                "owner": target.get_next_version(versions.get("owner"), None),
            },
        }
    parent = (saved.parent_config or {}).get("configurable", {}).get("checkpoint_id")
    config = {
        "configurable": {"thread_id": interview_id, "checkpoint_ns": "", "checkpoint_id": parent}
    }
    target.delete_thread(interview_id)  # an older copy of the same interview, if any
    written = target.put(config, checkpoint, saved.metadata, checkpoint["channel_versions"])
    by_task: dict[str, list[tuple[str, object]]] = defaultdict(list)
    for task_id, channel, value in saved.pending_writes or ():
        by_task[task_id].append((channel, value))
    for task_id, writes in by_task.items():
        target.put_writes(written, writes, task_id)


def _copy_regrades(source: LocalStorage, target: PostgresStorage, interview_id: str) -> int:
    folder = source.settings.transcripts_dir / "regrades"
    count = 0
    for path in sorted(folder.glob(f"{interview_id}.regrade-*.json")):
        profile = path.name.removeprefix(f"{interview_id}.regrade-").removesuffix(".json")
        try:
            target.save_regrade(interview_id, profile, path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            continue  # a regrade can be made again; the interview is what matters
        count += 1
    return count
