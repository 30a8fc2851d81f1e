"""`interviewer bench`: per-turn latency percentiles, LLM overhead and calls, startup times.

Every figure comes from real code paths: the compiled graph with its SQLite checkpointer, the
transcript store writing to disk, the LLM provider over HTTP to a loopback OpenAI-compatible
server, the Streamlit app in a fresh process. Candidates are scripted from fixed seeds, so two
runs do the same work; only the clock differs.

Percentiles use the nearest-rank method: p95 is the smallest sample with at least 95% of samples
at or below it, always an observed value, never an interpolation.
"""

from __future__ import annotations

import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.config import PROJECT_ROOT, Settings
from agent.grading.assessment import Assessment
from agent.grading.providers import OfflineProvider, Provider
from agent.grading.rubrics import Bank, Question, load_bank

if TYPE_CHECKING:
    from agent.grading.llm import LLMProvider
    from agent.interview.interviewer import Interviewer, TurnResult
    from agent.profiles import Profile
    from devtools.fakeserver import Recorded, Reply

PERCENTILE_METHOD = "nearest-rank"
DEFAULT_SEED = 20240601
DEFAULT_INTERVIEWS = 50
QUESTIONS_PER_INTERVIEW = 3
MAX_TURNS_PER_INTERVIEW = 40
LLM_INTERVIEWS = 10  # at most; each answer waits for the server's delay
LLM_DELAY_MS = 200.0
FIRST_PIECE_SHARE = 0.25  # of the server's time before a streamed reply's first piece
REGRADE_QUESTIONS = 8
CHARS_PER_TOKEN = 4  # the usual estimate for English text with OpenAI tokenizers

TARGETS = {
    "offline.turn_ms.p95": 20.0,
    "offline.storage.checkpoints_over_transcripts": 2.0,
    "llm.overhead_ratio": 1.05,
    "llm.calls_per_answer": 1.0,
    "llm.report_calls_per_interview": 1.0,
    "regrade.concurrent_over_single": 1.5,
    "startup.import_s": 1.5,
}


# --- statistics --------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """The nearest-rank p-th percentile (0 < p <= 100) of a non-empty sample."""
    if not values:
        raise ValueError("percentile of an empty sample")
    if not 0 < p <= 100:
        raise ValueError("p must be in (0, 100]")
    ordered = sorted(values)
    rank = math.ceil(p / 100 * len(ordered))
    return ordered[rank - 1]


def summary(values: Sequence[float], digits: int = 2) -> dict:
    """p50/p95/p99 (nearest rank), mean and max of a sample, rounded."""
    return {
        "p50": round(percentile(values, 50), digits),
        "p95": round(percentile(values, 95), digits),
        "p99": round(percentile(values, 99), digits),
        "mean": round(statistics.fmean(values), digits),
        "max": round(max(values), digits),
        "n": len(values),
    }


# --- a provider that times the grading brain ---------------------------------------------------


class TimedProvider:
    """Wraps a provider and adds up the time spent inside it, so graph time can exclude it."""

    def __init__(self, inner: Provider) -> None:
        self.inner = inner
        self.brain = inner.brain
        self.model = inner.model
        self.streams = getattr(inner, "streams", False)
        self.elapsed_ms = 0.0
        self.calls = 0

    def assess(
        self, question: Question, answer: str, asked_probes: tuple[str, ...] = (), **kwargs: Any
    ) -> Assessment:
        t0 = time.perf_counter()
        try:
            return self.inner.assess(question, answer, asked_probes, **kwargs)
        finally:
            self.elapsed_ms += (time.perf_counter() - t0) * 1000
            self.calls += 1

    def take(self) -> tuple[float, int]:
        """Time and calls since the last `take`."""
        elapsed, calls = self.elapsed_ms, self.calls
        self.elapsed_ms, self.calls = 0.0, 0
        return elapsed, calls


# --- scripted candidates -----------------------------------------------------------------------

_WEAK = (
    "I would look at the data first and then decide what to do with the model.",
    "It depends on the use case, but generally you want something that works well.",
)
_NON_ANSWER = ("I don't know.", "pass", "")
_ACTIONS = (
    ("strong", 30),
    ("partial", 25),
    ("weak", 15),
    ("non-answer", 6),
    ("hint", 8),
    ("repeat", 5),
    ("skip", 6),
    ("markdown", 3),
    ("end", 2),
)


def scripted_reply(question: Question, rng: random.Random) -> str:
    """One candidate message for `question`, drawn from a fixed mix of answers and commands."""
    action = rng.choices([a for a, _ in _ACTIONS], weights=[w for _, w in _ACTIONS])[0]
    if action == "strong":
        return question.reference_answer
    if action == "partial":
        sents = [s for s in question.reference_answer.replace("\n", " ").split(". ") if s]
        k = max(1, len(sents) // 3)
        return ". ".join(sents[:k]).strip() + "."
    if action == "weak":
        return rng.choice(_WEAK)
    if action == "non-answer":
        return rng.choice(_NON_ANSWER)
    if action == "markdown":
        return "| option | latency |\n|---|---|\n| batching | lower cost |\n<b>p99</b> matters"
    return action  # a command: hint, repeat, skip, end


@dataclass
class Turn:
    """One scripted reply and its wall time."""

    interview: int  # -1 is the warm-up interview
    text: str
    result: TurnResult
    ms: float


def scripted_interviews(
    iv: Interviewer,
    interviews: int,
    seed: int,
    *,
    questions: int = QUESTIONS_PER_INTERVIEW,
    on_start: Callable[[float], None] = lambda ms: None,
) -> Iterator[Turn]:
    """Run a warm-up and then `interviews` scripted interviews, yielding every reply.

    Replies are listened to as a front end listens (complete messages and a model's deltas), so
    a model streams when its profile says so, as it would for a person."""
    from agent.interview.interviewer import interview_options

    heard: list[str] = []
    listen = {"on_text": heard.append, "on_delta": heard.append}

    for n in range(-1, interviews):
        rng = random.Random(seed * 1000 + n)
        options = interview_options(
            role=("ml-engineer", "ai-engineer")[n % 2],
            company_type=("startup", "big-tech", "enterprise")[n % 3],
            questions=questions,
            feedback=("end", "each")[n % 2],
            seed=seed + n,
        )
        iid = f"bench-{n + 1:04d}"
        t0 = time.perf_counter()
        result = iv.start(options, interview_id=iid, **listen)
        if n >= 0:
            on_start((time.perf_counter() - t0) * 1000)
        turns = 0
        while not result.finished:
            turns += 1
            if turns < MAX_TURNS_PER_INTERVIEW:
                text = scripted_reply(_current_question(iv, iid), rng)
            else:
                text = "end"
            t0 = time.perf_counter()
            result = iv.reply(iid, text, **listen)
            heard.clear()
            ms = (time.perf_counter() - t0) * 1000
            if result.save_error:
                raise RuntimeError(f"bench transcript write failed: {result.save_error}")
            yield Turn(n, text, result, ms)


PHASES = ("turn", "provider", "graph", "persist", "lookup")


def phases_of(turn: Turn, provider_ms: float) -> dict[str, float]:
    """A turn's wall time split: provider = inside the grading brain, graph = the graph run
    without it, persist = syncing checkpoints and writing the transcript, lookup = the rest of
    Interviewer.reply."""
    t = turn.result.timings
    return {
        "turn": turn.ms,
        "provider": provider_ms,
        "graph": t.graph_ms - provider_ms,
        "persist": t.persist_ms,
        "lookup": turn.ms - t.graph_ms - t.persist_ms,
    }


def log_size(database: Path) -> int:
    """The size of SQLite's write-ahead log beside `database` and its index, while it is open:
    bounded by SQLite's automatic checkpoints, folded into the database when the last connection
    closes."""
    from agent.storage.checkpoints import storage_bytes

    return storage_bytes(database) - database.stat().st_size


def _current_question(iv: Interviewer, interview_id: str) -> Question:
    state = iv.state(interview_id) or {}
    return iv.bank.get(state["current"]["question_id"])


@contextmanager
def _workdir(base: Path | None = None) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(
        prefix="interviewer-bench-", dir=base, ignore_cleanup_errors=True
    ) as path:
        yield Path(path)


# --- offline ----------------------------------------------------------------------------------


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
    with _workdir(workdir) as root:
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


# --- LLM over the loopback server --------------------------------------------------------------


def _tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / CHARS_PER_TOKEN))


def _responder(delay_s: float) -> Callable[[Recorded], Reply]:
    """Plausible grades for any request, each taking the server `delay_s` in all, as a model's
    generation would: a streamed reply's first piece after FIRST_PIECE_SHARE of it and the rest
    paced evenly to the end, an unstreamed one whole at the end. Usage is counted from what was
    actually sent and returned."""
    from devtools.fakeserver import Reply, echo_grader

    grader = echo_grader()

    def respond(request: Recorded) -> Reply:
        content = grader(request).content or ""
        return Reply(
            content=content,
            delay=delay_s * FIRST_PIECE_SHARE,
            duration=delay_s,
            prompt_tokens=_tokens(request.text),
            completion_tokens=_tokens(content),
        )

    return respond


def serve_loopback(delay_s: float) -> None:
    """Serve grades on 127.0.0.1 until stdin closes; print the base URL first."""
    from devtools.fakeserver import FakeServer

    with FakeServer(responder=_responder(delay_s)) as server:
        print(server.base_url, flush=True)
        sys.stdin.read()


def reap(proc: subprocess.Popen, timeout: float = 10) -> None:
    """Wait for `proc` to exit, killing it if it has not within `timeout` seconds."""
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def loopback_server(delay_s: float) -> Iterator[str]:
    """The loopback OpenAI-compatible server in a process of its own, as a model server would
    be, so its work does not compete with ours for the interpreter; yields its base URL.

    Its stderr goes to a file, shown only if it fails to start: http.server prints a traceback
    whenever a client drops a kept-alive connection, which is noise here."""
    code = f"from devtools.bench import serve_loopback; serve_loopback({delay_s!r})"
    with tempfile.TemporaryFile("w+") as errors:
        proc = subprocess.Popen(
            [sys.executable, "-c", code], cwd=PROJECT_ROOT, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=errors, text=True,
        )
        try:
            assert proc.stdout is not None
            base_url = proc.stdout.readline().strip()
            if not base_url.startswith("http://127.0.0.1:"):
                proc.wait(timeout=10)
                errors.seek(0)
                last = (errors.read().strip().splitlines() or ["no output"])[-1]
                raise RuntimeError(f"the loopback server did not start: {last}")
            yield base_url
        finally:
            if proc.stdin:
                proc.stdin.close()
            reap(proc)
            if proc.stdout:
                proc.stdout.close()


def _bench_profile(base_url: str) -> Profile:
    from agent.profiles import Profile

    return Profile(
        name="bench",
        base_url=base_url,
        model="fake-model",
        timeout=10.0,
        total_timeout=30.0,
        backoff=0.0,
        max_attempts=2,
    )


def _counters(llm: LLMProvider) -> tuple[int, int, int, int]:
    s = llm.stats
    return s.calls, s.answers, s.prompt_tokens + s.completion_tokens, s.fallbacks


def _llm_interviews(
    base_url: str, interviews: int, seed: int, bank: Bank, root: Path, *, stream: bool
) -> dict:
    """Scripted interviews graded over HTTP; per-turn times split into phases."""
    from agent.grading.llm import LLMProvider
    from agent.interview.interviewer import Interviewer, settle_heap

    llm = LLMProvider(_bench_profile(base_url).model_copy(update={"stream": stream}))
    timed = TimedProvider(llm)
    phases: dict[str, list[float]] = {k: [] for k in PHASES}
    totals = dict.fromkeys(("calls", "answers", "tokens", "fallbacks", "report_calls"), 0)
    settings = Settings(transcripts_dir=root / ("stream" if stream else "plain"))
    with Interviewer(settings, provider=timed, bank=bank) as iv:
        settle_heap()  # as the CLI and the app do once started
        last = _counters(llm)
        for turn in scripted_interviews(iv, interviews, seed):
            now = _counters(llm)
            calls, answers, tokens, fallbacks = (a - b for a, b in zip(now, last, strict=True))
            last = now
            provider_ms, _ = timed.take()
            if turn.interview < 0:
                continue
            totals["calls"] += calls
            totals["answers"] += answers
            totals["tokens"] += tokens
            totals["fallbacks"] += fallbacks
            if turn.result.finished:
                totals["report_calls"] += calls - answers  # beyond grading the last answer
            if calls == 1 and answers == 1:
                for phase, ms in phases_of(turn, provider_ms).items():
                    phases[phase].append(ms)
    llm.close()
    if not phases["turn"]:
        raise RuntimeError("no turn made exactly one model call")
    return {"phases": phases, **totals}


def bench_llm(
    interviews: int = LLM_INTERVIEWS,
    seed: int = DEFAULT_SEED,
    *,
    delay_ms: float = LLM_DELAY_MS,
    bank: Bank | None = None,
    workdir: Path | None = None,
) -> dict:
    """Scripted interviews graded by the LLM provider against the loopback server, streamed
    (as the interviewer runs by default) and not."""
    bank = bank or load_bank()
    delay_s = delay_ms / 1000
    with _workdir(workdir) as root, loopback_server(delay_s) as base_url:
        streamed = _llm_interviews(base_url, interviews, seed, bank, root, stream=True)
        plain = _llm_interviews(base_url, interviews, seed, bank, root, stream=False)
    phases = streamed["phases"]
    mean = {k: statistics.fmean(v) for k, v in phases.items()}

    def ratio(run: dict) -> float:
        return round(statistics.fmean(run["phases"]["turn"]) / delay_ms, 3)

    return {
        "interviews": interviews,
        "server_delay_ms": delay_ms,
        "overhead_ratio": ratio(streamed),
        "overhead_ratio_no_stream": ratio(plain),
        "overhead_ms_per_turn": round(mean["turn"] - delay_ms, 2),
        "overhead_breakdown_ms": {
            "provider_beyond_delay": round(mean["provider"] - delay_ms, 2),
            "graph": round(mean["graph"], 2),
            "persistence": round(mean["persist"], 2),
            "lookup": round(mean["lookup"], 2),
        },
        "model_turn_ms": summary(phases["turn"]),
        "calls_per_answer": round(streamed["calls"] / max(streamed["answers"], 1), 3),
        "report_calls_per_interview": round(streamed["report_calls"] / interviews, 3),
        "tokens_per_interview": round(streamed["tokens"] / interviews),
        "answers_graded": streamed["answers"],
        "calls": streamed["calls"],
        "fallbacks": streamed["fallbacks"] + plain["fallbacks"],
        "note": (
            "overhead_ratio = mean wall time of Interviewer.reply over turns that made exactly "
            "one model call, divided by the server's fixed delay. The server runs in its own "
            "process and takes exactly the delay per reply, counted from the request's first "
            "line, its own work included: a streamed reply's first piece comes after "
            f"{FIRST_PIECE_SHARE:.0%} of it and the rest evenly up to its end, as a model "
            "generates them; a whole reply comes at its end. overhead_ratio streams, as the "
            "interviewer does for a person; overhead_ratio_no_stream has streaming off. Tokens "
            f"estimated at {CHARS_PER_TOKEN} characters per token of the texts actually "
            "exchanged; commands and non-answers never call the model"
        ),
    }


def _regrade_transcript(settings: Settings, bank: Bank, seed: int) -> str:
    """A stored, finished offline interview of REGRADE_QUESTIONS answered questions."""
    from agent.interview.interviewer import Interviewer, interview_options

    with Interviewer(settings, provider=OfflineProvider(), bank=bank) as iv:
        options = interview_options(
            questions=REGRADE_QUESTIONS, max_followups=0, seed=seed, tracks=[]
        )
        result = iv.start(options, interview_id="bench-regrade")
        while not result.finished:
            question = _current_question(iv, "bench-regrade")
            result = iv.reply("bench-regrade", question.reference_answer)
        graded = len((iv.state("bench-regrade") or {}).get("grades", []))
    if graded != REGRADE_QUESTIONS:
        raise RuntimeError(
            f"the regrade transcript has {graded} graded questions, not {REGRADE_QUESTIONS}"
        )
    return "bench-regrade"


def bench_regrade(
    seed: int = DEFAULT_SEED,
    *,
    delay_ms: float = LLM_DELAY_MS,
    repeats: int = 3,
    bank: Bank | None = None,
    workdir: Path | None = None,
) -> dict:
    """Regrade an 8-question transcript with the LLM provider: concurrently, serially, and one
    grading call alone, against the loopback server at a fixed delay."""
    from agent.grading.llm import LLMProvider
    from agent.grading.regrade import regrade

    bank = bank or load_bank()
    with _workdir(workdir) as root, loopback_server(delay_ms / 1000) as base_url:
        settings = Settings(transcripts_dir=root / "transcripts")
        iid = _regrade_transcript(settings, bank, seed)
        llm = LLMProvider(_bench_profile(base_url))
        warm = regrade(settings, iid, "bench", provider=llm, bank=bank)
        first = bank.get(warm.questions[0].question_id)
        single: list[float] = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            llm.assess(first, first.reference_answer)
            single.append(time.perf_counter() - t0)
        concurrent = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            regrade(settings, iid, "bench", provider=llm, bank=bank)
            concurrent.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        regrade(settings, iid, "bench", provider=llm, bank=bank, workers=1)
        serial = time.perf_counter() - t0
        llm.close()
    one, together = statistics.median(single), statistics.median(concurrent)
    return {
        "questions": REGRADE_QUESTIONS,
        "server_delay_ms": delay_ms,
        "single_call_s": round(one, 3),
        "concurrent_s": round(together, 3),
        "serial_s": round(serial, 3),
        "concurrent_over_single": round(together / one, 3),
        "serial_over_single": round(serial / one, 3),
        "note": (
            f"single call and concurrent regrade: medians of {repeats} runs after a warm-up "
            "regrade; serial (one worker): one run; the server runs in its own process"
        ),
    }


# --- startup ----------------------------------------------------------------------------------


def _timed_import(module: str, env: dict[str, str]) -> float:
    code = (
        "import time; t0 = time.perf_counter(); "
        f"import {module}; print(time.perf_counter() - t0)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
        timeout=120, check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def _cli_help_s(env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "agent", "--help"], cwd=PROJECT_ROOT, env=env,
        capture_output=True, timeout=120, check=True,
    )
    return time.perf_counter() - t0


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def _server_ready_s(env: dict[str, str], timeout: float = 60.0) -> float:
    """Spawn `streamlit run ui/app.py` and time until it serves the page and its health check."""
    from devtools.fakeserver import free_port

    port = free_port()
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(PROJECT_ROOT / "ui" / "app.py"),
        "--server.port", str(port), "--server.address", "127.0.0.1",
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
    ]
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        base = f"http://127.0.0.1:{port}"
        while time.perf_counter() - t0 < timeout:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with status {proc.returncode}")
            if _http_ok(f"{base}/_stcore/health") and _http_ok(f"{base}/"):
                return time.perf_counter() - t0
            time.sleep(0.05)
        raise RuntimeError(f"streamlit did not serve the page within {timeout:.0f} s")
    finally:
        proc.terminate()
        reap(proc)


_APPTEST = """
import sys
from streamlit.testing.v1 import AppTest
at = AppTest.from_file(sys.argv[1], default_timeout=60).run()
if at.exception:
    raise SystemExit("the app raised: " + str(at.exception[0].value))
"""


def _first_render_s(env: dict[str, str]) -> float:
    """A fresh process that imports Streamlit and runs the app script once, headless."""
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", _APPTEST, str(PROJECT_ROOT / "ui" / "app.py")],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=180,
    )
    wall = time.perf_counter() - t0
    if out.returncode != 0:
        lines = (out.stderr or out.stdout).strip().splitlines()
        raise RuntimeError(lines[-1] if lines else f"exit status {out.returncode}")
    return wall


def bench_startup(repeats: int = 3, workdir: Path | None = None) -> dict:
    """Fresh-process times: importing the package, the CLI, and the app's first render."""
    with _workdir(workdir) as root:
        env = {
            **os.environ,
            "INTERVIEWER_TRANSCRIPTS_DIR": str(root / "transcripts"),
            "INTERVIEWER_PROFILE": "offline",
        }
        env.pop("PYTHONSTARTUP", None)
        result: dict = {
            "import_s": round(min(_timed_import("agent", env) for _ in range(repeats)), 4),
            "import_session_s": round(
                min(_timed_import("agent.interview.interviewer", env) for _ in range(repeats)), 3
            ),
            "cli_help_s": round(min(_cli_help_s(env) for _ in range(repeats)), 3),
        }
        measures = (("first_render_s", _first_render_s), ("server_ready_s", _server_ready_s))
        for key, measure in measures:
            try:
                result[key] = round(statistics.median(measure(env) for _ in range(repeats)), 3)
            except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
                result[key] = None
                result[f"{key}_error"] = str(exc)
    result["method"] = {
        "import_s": f"fastest of {repeats} fresh `python -c 'import agent'`, timed inside",
        "import_session_s": (
            "the same for `import agent.interview.interviewer` (graph, engine, checkpointer)"
        ),
        "cli_help_s": f"fastest of {repeats} `python -m agent --help`, whole process",
        "first_render_s": (
            f"median of {repeats}: fresh process spawn until Streamlit's AppTest has run "
            "ui/app.py once without error (browser-free; includes importing streamlit and agent)"
        ),
        "server_ready_s": (
            f"median of {repeats}: `streamlit run ui/app.py` spawn until / and /_stcore/health "
            "both return 200 (the server is up; the script runs when a browser connects)"
        ),
    }
    return result


# --- the whole bench --------------------------------------------------------------------------

SECTIONS = ("offline", "llm", "regrade", "startup")


def _guarded(measure: Callable[[], dict]) -> dict:
    """A section's figures, or None with the reason when it cannot run here."""
    try:
        return measure()
    except (ImportError, RuntimeError, OSError) as exc:
        return {"error": f"not available: {exc}"}


def run_bench(
    interviews: int = DEFAULT_INTERVIEWS,
    seed: int = DEFAULT_SEED,
    *,
    sections: Sequence[str] = SECTIONS,
    log: Callable[[str], None] = lambda message: None,
) -> dict:
    """All sections, as one JSON-ready object; `log` hears progress."""
    result: dict = {
        "seed": seed,
        "percentile_method": PERCENTILE_METHOD,
        "machine": {
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "load_average_1m_at_start": round(os.getloadavg()[0], 2),
        },
        "targets": TARGETS,
    }
    bank = load_bank()
    llm_interviews = min(interviews, LLM_INTERVIEWS)
    plan: dict[str, tuple[str, Callable[[], dict]]] = {
        "offline": (
            f"{interviews} scripted offline interviews",
            lambda: bench_offline(interviews, seed, bank=bank),
        ),
        "llm": (
            f"{llm_interviews} scripted interviews graded over HTTP ({LLM_DELAY_MS:.0f} ms delay)",
            lambda: bench_llm(llm_interviews, seed, bank=bank),
        ),
        "regrade": (
            f"regrading {REGRADE_QUESTIONS} questions concurrently and serially",
            lambda: bench_regrade(seed, bank=bank),
        ),
        "startup": ("fresh-process imports and the Streamlit app", bench_startup),
    }
    for name in SECTIONS:
        if name in sections:
            what, measure = plan[name]
            log(f"{name}: {what} ...")
            result[name] = _guarded(measure)
    result["machine"]["load_average_1m_at_end"] = round(os.getloadavg()[0], 2)
    result["verdict"] = verdict(result)
    return result


def _lookup(result: dict, dotted: str) -> float | None:
    value: Any = result
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value if isinstance(value, int | float) else None


def verdict(result: dict) -> dict[str, str]:
    """Each target: "met", "missed" or "not measured"."""
    out = {}
    for key, limit in TARGETS.items():
        value = _lookup(result, key)
        out[key] = "not measured" if value is None else ("met" if value <= limit else "missed")
    return out


def _row(name: str, value: object, target: str = "") -> str:
    return f"{name:<44} {value!s:>16}  {target}"


def _ms3(stats: dict) -> str:
    return f"{stats['p50']:.1f}/{stats['p95']:.1f}/{stats['p99']:.1f}"


def _target(key: str, result: dict) -> str:
    state = result.get("verdict", {}).get(key, "")
    return f"<= {TARGETS[key]:g}  {state}"


def format_table(result: dict) -> str:
    """The bench result as a plain-text table."""
    lines = [
        f"interviewer bench  seed={result['seed']}  cpus={result['machine']['cpus']}  "
        f"load {result['machine']['load_average_1m_at_start']}"
        f"->{result['machine'].get('load_average_1m_at_end')}  "
        f"percentiles: {result['percentile_method']}",
        "",
        _row("metric", "value", "target"),
        _row("-" * 44, "-" * 16, "-" * 16),
    ]
    off = result.get("offline")
    if off and "error" not in off:
        lines.append(_row(
            f"offline turn ms p50/p95/p99 (n={off['turn_ms']['n']})",
            _ms3(off["turn_ms"]),
            _target("offline.turn_ms.p95", result).replace("<=", "p95 <="),
        ))
        for phase, stats in off["phases_ms"].items():
            lines.append(_row(f"  {phase} ms p50/p95/p99", _ms3(stats)))
        lines.append(_row("offline start ms p50/p95/p99", _ms3(off["start_ms"])))
        if storage := off.get("storage"):
            lines.append(_row(
                f"checkpoints / transcripts ({storage['checkpoints_bytes'] / 1e6:.2f} / "
                f"{storage['transcripts_bytes'] / 1e6:.2f} MB)",
                storage["checkpoints_over_transcripts"],
                _target("offline.storage.checkpoints_over_transcripts", result),
            ))
            lines.append(_row(
                "  write-ahead log while open MB", f"{storage['log_bytes_while_open'] / 1e6:.2f}"
            ))
    llm = result.get("llm")
    if llm and "error" not in llm:
        lines += [
            _row(f"llm overhead ratio (delay {llm['server_delay_ms']:.0f} ms)",
                 llm["overhead_ratio"], _target("llm.overhead_ratio", result)),
            _row("  streaming off", llm["overhead_ratio_no_stream"]),
            *(
                _row(f"  {phase} ms (mean)", ms)
                for phase, ms in llm["overhead_breakdown_ms"].items()
            ),
            _row("llm turn ms p50/p95/p99", _ms3(llm["model_turn_ms"])),
            _row("llm calls per answer", llm["calls_per_answer"],
                 _target("llm.calls_per_answer", result)),
            _row("llm calls per final report", llm["report_calls_per_interview"],
                 _target("llm.report_calls_per_interview", result)),
            _row("llm tokens per interview (estimated)", llm["tokens_per_interview"]),
        ]
    reg = result.get("regrade")
    if reg and "error" not in reg:
        lines += [
            _row(f"regrade {reg['questions']} q concurrent / single call",
                 reg["concurrent_over_single"], _target("regrade.concurrent_over_single", result)),
            _row("regrade serial / single call", reg["serial_over_single"]),
            _row("regrade single call s", reg["single_call_s"]),
        ]
    start = result.get("startup")
    if start and "error" not in start:
        lines.append(_row("startup import agent s", start["import_s"],
                          _target("startup.import_s", result)))
        for key in ("import_session_s", "cli_help_s", "first_render_s", "server_ready_s"):
            value = start.get(key)
            lines.append(_row(f"startup {key}", "n/a" if value is None else value))
    for name in SECTIONS:
        section = result.get(name)
        if section and "error" in section:
            lines.append(_row(name, "n/a", section["error"]))
    return "\n".join(lines)
