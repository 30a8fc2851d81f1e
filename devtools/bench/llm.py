"""The LLM benchmark: scripted interviews graded over HTTP by the LLM provider, streamed and
not, with each turn's time beyond the server's delay split into phases."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import TYPE_CHECKING

from agent.config import Settings
from agent.grading.rubrics import Bank, load_bank
from devtools.bench import scratch
from devtools.bench.candidates import DEFAULT_SEED, scripted_interviews
from devtools.bench.loopback import (
    CHARS_PER_TOKEN,
    FIRST_PIECE_SHARE,
    bench_profile,
    loopback_server,
)
from devtools.bench.stats import summary
from devtools.bench.timing import PHASES, TimedProvider, phases_of

if TYPE_CHECKING:
    from agent.grading.llm import LLMProvider

LLM_INTERVIEWS = 10  # at most; each answer waits for the server's delay
LLM_DELAY_MS = 200.0


def _counters(llm: LLMProvider) -> tuple[int, int, int, int]:
    s = llm.stats
    return s.calls, s.answers, s.prompt_tokens + s.completion_tokens, s.fallbacks


def _llm_interviews(
    base_url: str, interviews: int, seed: int, bank: Bank, root: Path, *, stream: bool
) -> dict:
    """Scripted interviews graded over HTTP; per-turn times split into phases."""
    from agent.grading.llm import LLMProvider
    from agent.interview.interviewer import Interviewer, settle_heap

    llm = LLMProvider(bench_profile(base_url).model_copy(update={"stream": stream}))
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
    with scratch.workdir(workdir) as root, loopback_server(delay_s) as base_url:
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
