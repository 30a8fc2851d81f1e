"""The regrade benchmark: one stored interview regraded by the LLM provider concurrently and
serially, against the loopback server at a fixed delay."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from agent.config import Settings
from agent.grading.providers import OfflineProvider
from agent.grading.rubrics import Bank, load_bank
from devtools.bench import scratch
from devtools.bench.candidates import DEFAULT_SEED, current_question
from devtools.bench.llm import LLM_DELAY_MS
from devtools.bench.loopback import bench_profile, loopback_server

REGRADE_QUESTIONS = 8


def _regrade_transcript(settings: Settings, bank: Bank, seed: int) -> str:
    """A stored, finished offline interview of REGRADE_QUESTIONS answered questions."""
    from agent.interview.interviewer import Interviewer, interview_options

    with Interviewer(settings, provider=OfflineProvider(), bank=bank) as iv:
        options = interview_options(
            questions=REGRADE_QUESTIONS, max_followups=0, seed=seed, tracks=[]
        )
        result = iv.start(options, interview_id="bench-regrade")
        while not result.finished:
            question = current_question(iv, "bench-regrade")
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
    with scratch.workdir(workdir) as root, loopback_server(delay_ms / 1000) as base_url:
        settings = Settings(transcripts_dir=root / "transcripts")
        iid = _regrade_transcript(settings, bank, seed)
        llm = LLMProvider(bench_profile(base_url))
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
