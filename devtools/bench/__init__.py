"""`interviewer bench`: per-turn latency percentiles, LLM overhead and calls, startup times.

Every figure comes from real code paths: the compiled graph with its SQLite checkpointer, the
transcript store writing to disk, the LLM provider over HTTP to a loopback OpenAI-compatible
server, the Streamlit app in a fresh process. Candidates are scripted from fixed seeds, so two
runs do the same work; only the clock differs.

One module a concern: `stats` (percentiles), `candidates` (scripted interviews), `timing` (where
a turn's time goes), `offline`, `llm`, `regrade` and `startup` (the four benchmarks),
`loopback` (the model server they grade against), `scratch` (folders and child processes),
`targets` and `table` (judging and printing a result). This module runs them all.

`scale` (and `memory`, the app's memory per browser session) runs only when asked for: it
measures capacity, takes minutes and starts a database server.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence

from agent.grading.rubrics import load_bank
from devtools.bench.candidates import DEFAULT_INTERVIEWS, DEFAULT_SEED, scripted_interviews
from devtools.bench.llm import LLM_DELAY_MS, LLM_INTERVIEWS, bench_llm
from devtools.bench.offline import bench_offline, storage_of
from devtools.bench.regrade import REGRADE_QUESTIONS, bench_regrade
from devtools.bench.scale import ScalePlan, bench_scale
from devtools.bench.startup import bench_startup
from devtools.bench.stats import PERCENTILE_METHOD
from devtools.bench.table import format_table
from devtools.bench.targets import TARGETS, verdict

__all__ = [
    "DEFAULT_INTERVIEWS",
    "DEFAULT_SEED",
    "ON_REQUEST",
    "SECTIONS",
    "TARGETS",
    "ScalePlan",
    "bench_llm",
    "bench_offline",
    "bench_regrade",
    "bench_scale",
    "bench_startup",
    "format_table",
    "run_bench",
    "scripted_interviews",
    "storage_of",
    "verdict",
]

SECTIONS = ("offline", "llm", "regrade", "startup")  # what a plain `interviewer bench` runs
ON_REQUEST = ("scale",)


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
    scale: ScalePlan | None = None,
    log: Callable[[str], None] = lambda message: None,
) -> dict:
    """The `sections` asked for, as one JSON-ready object; `log` hears progress. `scale` is what
    the scale section measures (by default, `ScalePlan()`)."""
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
        "scale": (
            "capacity of one process, on local files and on PostgreSQL",
            lambda: bench_scale(scale, seed, bank=bank, log=log),
        ),
    }
    for name in (*SECTIONS, *ON_REQUEST):
        if name in sections:
            what, measure = plan[name]
            log(f"{name}: {what} ...")
            result[name] = _guarded(measure)
    result["machine"]["load_average_1m_at_end"] = round(os.getloadavg()[0], 2)
    result["verdict"] = verdict(result)
    return result
