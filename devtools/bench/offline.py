"""The offline benchmark: scripted interviews through the real graph, SQLite checkpointer and
transcript store, graded by the rubric engine."""

from __future__ import annotations

from pathlib import Path

from agent.config import Settings
from agent.grading.providers import OfflineProvider
from agent.grading.rubrics import Bank, load_bank
from devtools.bench import scratch
from devtools.bench.candidates import DEFAULT_INTERVIEWS, DEFAULT_SEED, scripted_interviews
from devtools.bench.stats import summary
from devtools.bench.timing import PHASES, TimedProvider, phases_of


def bench_offline(
    interviews: int = DEFAULT_INTERVIEWS,
    seed: int = DEFAULT_SEED,
    *,
    bank: Bank | None = None,
    workdir: Path | None = None,
) -> dict:
    """Scripted interviews through the real graph, SQLite checkpointer and transcript store."""
    from agent.interview.interviewer import Interviewer, settle_heap

    provider = TimedProvider(OfflineProvider())
    samples: dict[str, list[float]] = {k: [] for k in PHASES}
    start_ms: list[float] = []
    engine_calls = 0
    with scratch.workdir(workdir) as root:
        settings = Settings(transcripts_dir=root / "transcripts")
        with Interviewer(settings, provider=provider, bank=bank or load_bank()) as iv:
            settle_heap()  # as the CLI and the app do once started
            # The warm-up interview is not recorded: caches and lazy imports are not measured.
            for turn in scripted_interviews(iv, interviews, seed, on_start=start_ms.append):
                engine, calls = provider.take()
                if turn.interview < 0:
                    continue
                for phase, ms in phases_of(turn, engine).items():
                    samples[phase].append(ms)
                engine_calls += calls
            log_bytes = log_size(settings.checkpoints)
        storage = {**storage_of(settings), "log_bytes_while_open": log_bytes}
    return {
        "interviews": interviews,
        "turns": len(samples["turn"]),
        "turn_ms": summary(samples["turn"]),
        "start_ms": summary(start_ms),
        "phases_ms": {
            "graph": summary(samples["graph"]),
            "engine": summary(samples["provider"]),
            "persistence": summary(samples["persist"]),
            "lookup": summary(samples["lookup"]),
        },
        "phases_note": (
            "a turn is one Interviewer.reply call; graph = the LangGraph run incl. SQLite "
            "checkpoint writes, minus engine; engine = time inside the rubric engine; "
            "persistence = pruning and syncing the checkpoints, then the transcript write (temp "
            "file, fsync, rename); lookup = checkpoint reads in Interviewer.reply outside the "
            "graph run"
        ),
        "engine_calls_per_turn": round(engine_calls / max(len(samples["turn"]), 1), 3),
        "storage": storage,
    }


def storage_of(settings: Settings) -> dict:
    """What the interviews take on disk: transcripts, and the checkpoint database."""
    from agent.storage.checkpoints import storage_bytes

    transcripts = sum(p.stat().st_size for p in settings.transcripts_dir.glob("*.json"))
    checkpoints = storage_bytes(settings.checkpoints)
    return {
        "transcripts_bytes": transcripts,
        "checkpoints_bytes": checkpoints,
        "checkpoints_over_transcripts": round(checkpoints / max(transcripts, 1), 2),
    }


def log_size(database: Path) -> int:
    """The size of SQLite's write-ahead log beside `database` and its index, while it is open:
    bounded by SQLite's automatic checkpoints, folded into the database when the last connection
    closes."""
    from agent.storage.checkpoints import storage_bytes

    return storage_bytes(database) - database.stat().st_size
