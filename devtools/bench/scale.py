"""The scale benchmark: how many turns a second one process serves, how fast a turn is at half
that load, and what an interview takes in storage, on local files and on PostgreSQL.

A process holds one `Interviewer`, shared by all its sessions, as an app replica does; here the
sessions are simulated candidates, a thread each, running scripted interviews back to back with
the offline benchmark's answers and commands (`candidates.scripted_reply`). A turn is one
`Interviewer.reply`. Starting an interview is timed apart, but what it costs is inside the turns
a second, and so is the state read a candidate makes after each turn to see its question (the
app's page reads the state to render it, too).

- Saturation: K candidates answer without pause (a closed loop) until the measurement's turns
  are done: the turns a second the process serves flat out.
- Steady load: turns are due at a fixed rate, half the best saturation figure, spread across
  enough candidates that each thinks between its turns, so an interview has at most one turn in
  flight. A turn is timed from when it was due, not from when it began (an open loop: a turn
  that waited for its candidate's previous one counts the wait, and a slow server cannot slow
  the load down).
- Storage: what the store takes once every interview has ended, divided by the interviews.
"""

from __future__ import annotations

import math
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from agent.config import Settings, redact_url
from agent.grading.rubrics import Bank, load_bank
from devtools.bench import scratch
from devtools.bench.candidates import (
    DEFAULT_SEED,
    MAX_TURNS_PER_INTERVIEW,
    QUESTIONS_PER_INTERVIEW,
    current_question,
    scripted_reply,
)
from devtools.bench.stats import summary

if TYPE_CHECKING:
    from agent.interview.interviewer import Interviewer

STORAGES = ("local", "postgres")
LEVELS = (1, 10, 50)  # candidates sharing one process
TURNS = 1000  # turns in each measurement: a saturation level, the steady load
THINK_S = 3.0  # a steady-load candidate's time between turns: far above a turn's
ANSWER_EVERY_S = 30  # how often a candidate answers, for the capacity sentence
BROWSER_SESSIONS = 5
_ERROR_SAMPLES = 5  # distinct error messages kept per measurement


@dataclass(frozen=True)
class ScalePlan:
    """What the scale benchmark measures, and on which PostgreSQL server."""

    levels: tuple[int, ...] = LEVELS
    turns: int = TURNS
    think_s: float = THINK_S
    storages: tuple[str, ...] = STORAGES
    database_url: str | None = None  # None: a throwaway server from Debian's binaries
    browser_sessions: int = BROWSER_SESSIONS  # 0: no browser


class Candidate:
    """One simulated person on the shared `Interviewer`: one interview open at a time, one call
    in flight. What it measures stays on it, so the threads share nothing but the interviewer."""

    def __init__(self, iv: Interviewer, name: str, seed: int) -> None:
        self.iv = iv
        self.name = name
        self.seed = seed
        self.rng = random.Random(seed)
        self.turn_ms: list[float] = []
        self.start_ms: list[float] = []
        self.turns = 0  # replies sent, answered or failed
        self.interviews = 0  # started
        self.finished = 0
        self.errors: list[str] = []
        self.open: str | None = None  # the interview waiting for this candidate's answer
        self._text = ""  # what the candidate will answer next
        self._replies = 0  # to the open interview
        self._heard: list[object] = []  # listened to as a front end listens

    def start(self) -> bool:
        """Start the next interview and read its first question; False when that failed."""
        from agent.interview.interviewer import interview_options

        n = self.interviews
        options = interview_options(
            role=("ml-engineer", "ai-engineer")[n % 2],
            company_type=("startup", "big-tech", "enterprise")[n % 3],
            questions=QUESTIONS_PER_INTERVIEW,
            feedback=("end", "each")[n % 2],
            seed=self.seed * 1000 + n,
        )
        interview_id = f"{self.name}-{n + 1:03d}"
        t0 = time.perf_counter()
        try:
            self.iv.start(options, interview_id=interview_id, on_said=self._heard.append)
            self.start_ms.append((time.perf_counter() - t0) * 1000)
            self._heard.clear()
            self.interviews += 1
            self.open, self._replies = interview_id, 0
            self._read_question()
        except Exception as exc:  # any failure is a figure, not the end of the run
            self._failed(exc)
            return False
        return True

    def answer(self, due: float | None = None) -> None:
        """Answer the open interview, timed from `due` (a `perf_counter` time) or from now."""
        self.turns += 1
        ms = self._reply(self._text, time.perf_counter() if due is None else due)
        if ms is not None:
            self.turn_ms.append(ms)

    def end(self) -> None:
        """End the open interview, untimed: storage is measured on ended interviews."""
        self._reply("end", time.perf_counter())

    def _reply(self, text: str, t0: float) -> float | None:
        """Send `text` to the open interview: the milliseconds since `t0` when it was answered,
        None when it failed (the interview is then given up, as a person would)."""
        assert self.open is not None, "no interview to answer"
        try:
            result = self.iv.reply(self.open, text, on_said=self._heard.append)
            ms = (time.perf_counter() - t0) * 1000
            self._heard.clear()
            if result.save_error:
                raise RuntimeError(f"the transcript was not saved: {result.save_error}")
            if result.finished:
                self.finished += 1
                self.open = None
            else:
                self._read_question()
        except Exception as exc:  # any failure is a figure, not the end of the run
            self._failed(exc)
            self.open = None
            return None
        return ms

    def _read_question(self) -> None:
        self._replies += 1
        if self._replies < MAX_TURNS_PER_INTERVIEW:
            self._text = scripted_reply(current_question(self.iv, self.open), self.rng)
        else:
            self._text = "end"

    def _failed(self, exc: Exception) -> None:
        self.errors.append(f"{type(exc).__name__}: {exc}"[:300])


class Budget:
    """The turns a measurement may still take, shared by its candidates."""

    def __init__(self, turns: int) -> None:
        self._left = turns
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            if self._left <= 0:
                return False
            self._left -= 1
            return True


def _crowd(iv: Interviewer, size: int, tag: str, seed: int) -> list[Candidate]:
    """`size` candidates, each with its first interview started (before any clock runs)."""
    crowd = [Candidate(iv, f"{tag}-c{i:03d}", seed + i) for i in range(size)]
    for candidate in crowd:
        candidate.start()
    return crowd


def _run_all(crowd: list[Candidate], work: Callable[[int, Candidate], None]) -> float:
    """Run `work` on a thread per candidate, released together; the seconds until all ended."""
    gate = threading.Barrier(len(crowd) + 1)

    def run(i: int, candidate: Candidate) -> None:
        gate.wait()
        work(i, candidate)

    threads = [threading.Thread(target=run, args=(i, c), daemon=True) for i, c in enumerate(crowd)]
    for thread in threads:
        thread.start()
    gate.wait()
    t0 = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - t0


def _tally(crowd: list[Candidate], seconds: float) -> dict:
    """What a measurement's candidates did, before their open interviews are ended."""
    turn_ms = [ms for c in crowd for ms in c.turn_ms]
    start_ms = [ms for c in crowd for ms in c.start_ms]
    errors = [e for c in crowd for e in c.errors]
    return {
        "candidates": len(crowd),
        "turns": sum(c.turns for c in crowd),
        "answered": len(turn_ms),
        "errors": len(errors),
        "error_samples": sorted(set(errors))[:_ERROR_SAMPLES],
        "seconds": round(seconds, 3),
        "turns_per_s": round(len(turn_ms) / seconds, 2) if seconds > 0 else 0.0,
        "turn_ms": summary(turn_ms) if turn_ms else None,
        "start_ms": summary(start_ms) if start_ms else None,
        "interviews": sum(c.interviews for c in crowd),
        "finished": sum(c.finished for c in crowd),
        "left_open": sum(c.open is not None for c in crowd),
    }


def _end_open(crowd: list[Candidate]) -> int:
    """End every interview still open; the errors doing so."""
    errors = 0
    for candidate in crowd:
        if candidate.open is not None:
            before = len(candidate.errors)
            candidate.end()
            errors += len(candidate.errors) - before
    return errors


def saturate(iv: Interviewer, candidates: int, turns: int, seed: int) -> dict:
    """`candidates` answering back to back until `turns` turns are done: turns a second flat out."""
    budget = Budget(turns)
    crowd = _crowd(iv, candidates, f"sat{candidates}", seed)

    def work(i: int, candidate: Candidate) -> None:
        while budget.take():
            if candidate.open is None and not candidate.start():
                return  # cannot start an interview: this candidate leaves
            candidate.answer()

    result = _tally(crowd, _run_all(crowd, work))
    result["closing_errors"] = _end_open(crowd)
    return result


def at_rate(iv: Interviewer, rate: float, turns: int, think_s: float, seed: int) -> dict:
    """`turns` turns due at `rate` a second, spread across candidates who think `think_s` between
    their turns; each turn timed from when it was due."""
    size = max(1, min(turns, math.ceil(rate * think_s)))
    crowd = _crowd(iv, size, "steady", seed)

    def work(i: int, candidate: Candidate) -> None:
        for slot in range(i, turns, size):
            if candidate.open is None and not candidate.start():
                return  # cannot start an interview: this candidate leaves
            due = first_due + slot / rate
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            candidate.answer(due)

    # Time enough for every thread to be started and waiting when the first turn falls due.
    first_due = time.perf_counter() + 0.2 + size * 0.001
    _run_all(crowd, work)
    result = _tally(crowd, time.perf_counter() - first_due)
    result.update(
        offered_turns_per_s=round(rate, 2),
        think_s=round(size / rate, 2),
    )
    result["closing_errors"] = _end_open(crowd)
    return result


def _warm_up(iv: Interviewer, seed: int) -> int:
    """One whole interview, not measured: caches and lazy imports are not what is measured. The
    errors it met."""
    from agent.interview.interviewer import settle_heap

    (candidate,) = _crowd(iv, 1, "warm", seed)
    while candidate.open is not None:
        candidate.answer()
    settle_heap()  # as the CLI and the app do once started
    return len(candidate.errors)


def bench_storage(
    settings: Settings, plan: ScalePlan, seed: int, bank: Bank, log: Callable[[str], None]
) -> dict:
    """Saturation at each level, then the steady load at half the best, then storage: one
    `Interviewer` on `settings`'s storage throughout."""
    from agent.interview.interviewer import Interviewer

    with Interviewer(settings, bank=bank) as iv:
        warm_errors = _warm_up(iv, seed)
        saturation = []
        for k in plan.levels:
            log(f"  {k} candidates, {plan.turns} turns back to back ...")
            saturation.append(saturate(iv, k, plan.turns, seed + 1000 * k))
        best = max(level["turns_per_s"] for level in saturation)
        rate = best / 2
        log(f"  {plan.turns} turns at {rate:.1f} a second ...")
        steady = at_rate(iv, rate, plan.turns, plan.think_s, seed + 999)
        stored = iv.storage.size_bytes()
    measured = [*saturation, steady]
    interviews = 1 + sum(m["interviews"] for m in measured)  # the warm-up's too
    return {
        "saturation": saturation,
        "best_turns_per_s": best,
        "steady": steady,
        "errors": warm_errors + sum(m["errors"] + m["closing_errors"] for m in measured),
        "storage": {
            "interviews": interviews,
            "bytes": stored,
            "bytes_per_interview": round(stored / interviews),
        },
        "candidates_answering_every_30s": math.floor(rate * ANSWER_EVERY_S),
    }


@contextmanager
def fresh_database(url: str) -> Iterator[str]:
    """A new, empty database on the server at `url` (its URL), dropped afterwards: the benchmark
    never writes into a database that exists."""
    import psycopg

    name = f"interviewer_bench_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise RuntimeError(
            f"cannot create a database for the benchmark on {redact_url(url)} ({reason}): it "
            "needs a role that may CREATE DATABASE, as it never writes into an existing one"
        ) from None
    try:
        yield urlsplit(url)._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def storage_settings(
    storage: str, root: Path, database_url: str | None
) -> Iterator[tuple[Settings, str]]:
    """Settings for `storage` ("local" or "postgres"), and a sentence saying where that is."""
    transcripts = root / storage / "transcripts"  # never a user's own folder, even unused
    if storage == "local":
        where = "local files (SQLite checkpoints, JSON transcripts) in a temporary folder"
        yield Settings(transcripts_dir=transcripts), where
        return
    with _postgres_server(database_url) as (server_url, where):
        with fresh_database(server_url) as url:
            yield Settings(transcripts_dir=transcripts, database_url=url), where


@contextmanager
def _postgres_server(database_url: str | None) -> Iterator[tuple[str, str]]:
    """The server's URL, and what it is: `database_url`'s, or one started for this run."""
    if database_url is not None:
        yield database_url, f"a fresh database on {redact_url(database_url)}, dropped afterwards"
        return
    from devtools.pgserver import PostgresServer

    with PostgresServer(durable=True) as server:
        version = server.bin_dir.parent.name if server.bin_dir else "?"
        where = (
            f"a throwaway PostgreSQL {version} server started for this run (Debian's binaries, "
            "durable commits, on this machine over a Unix socket)"
        )
        yield server.url, where


def bench_scale(
    plan: ScalePlan | None = None,
    seed: int = DEFAULT_SEED,
    *,
    bank: Bank | None = None,
    workdir: Path | None = None,
    log: Callable[[str], None] = lambda message: None,
) -> dict:
    """Each storage's saturation, steady load and storage, then the app's memory per browser
    session; a storage or the browser that cannot run here says why."""
    plan = plan or ScalePlan()
    bank = bank or load_bank()
    result: dict = {
        "levels": list(plan.levels),
        "turns_per_measurement": plan.turns,
        "method": METHOD,
    }
    with scratch.workdir(workdir) as root:
        for storage in plan.storages:
            log(f"scale on {storage} storage:")
            t0 = time.perf_counter()
            try:
                with storage_settings(storage, root, plan.database_url) as (settings, where):
                    log(f"  {where}")
                    figures = bench_storage(settings, plan, seed, bank, log)
                result[storage] = {"where": where, **figures}
            except (ImportError, RuntimeError, OSError) as exc:
                result[storage] = {"error": f"not available: {exc}"}
            result[storage]["run_s"] = round(time.perf_counter() - t0, 1)
        if plan.browser_sessions:
            from devtools.bench.memory import bench_browser_memory

            log(f"scale: app memory, 1 then {1 + plan.browser_sessions} browser sessions ...")
            try:
                result["browser"] = bench_browser_memory(plan.browser_sessions, workdir=root)
            except (ImportError, RuntimeError, OSError) as exc:
                result["browser"] = {"error": f"not available: {exc}"}
    return result


METHOD = {
    "process": (
        "one Interviewer (graph, checkpointer, storage) shared by every simulated candidate, a "
        "thread each, as an app replica shares one across its sessions; offline rubric engine"
    ),
    "turn": (
        "one Interviewer.reply with a scripted answer or command (the offline benchmark's mix); "
        "interview starts and the state read after each turn load the process but are not "
        "turns"
    ),
    "saturation": (
        "K candidates answering back to back (closed loop) until the measurement's turns are "
        "done; turns_per_s = answered turns / wall time"
    ),
    "steady": (
        "turns due at half the best saturation rate, each candidate thinking between its turns "
        "(one turn in flight per interview); a turn is timed from when it was due (open loop)"
    ),
    "storage": (
        "Storage.size_bytes() once every interview has ended (checkpoints, transcripts; SQLite's "
        "write-ahead log while open; PostgreSQL tables with their indexes and not yet vacuumed "
        "rows), divided by the interviews started"
    ),
    "capacity": (
        f"candidates answering every {ANSWER_EVERY_S} s that one process serves at the steady "
        f"load: floor(best saturation turns/s / 2 * {ANSWER_EVERY_S})"
    ),
}
