"""`interviewer bench`: its statistics, its reproducibility and the shape of what it prints.

Nothing here asserts how fast anything is: timings depend on the machine. What is asserted is
structure and what must hold whatever the clock says.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from agent.config import Settings
from agent.interview.interviewer import Interviewer, Timings, TurnResult
from devtools import bench

ROOT = Path(__file__).resolve().parent.parent


def test_percentiles_are_nearest_rank():
    values = [15, 20, 35, 40, 50]
    assert [bench.percentile(values, p) for p in (5, 30, 40, 50, 100)] == [15, 20, 20, 35, 50]
    hundred = list(range(100, 0, -1))  # order does not matter
    assert (bench.percentile(hundred, 50), bench.percentile(hundred, 95)) == (50, 95)
    assert bench.percentile(hundred, 99) == 99
    assert bench.percentile([7.5], 99) == 7.5  # always an observed value
    with pytest.raises(ValueError):
        bench.percentile([], 50)
    with pytest.raises(ValueError):
        bench.percentile([1.0], 0)


def test_summary_is_ordered_and_counts_the_sample():
    stats = bench.summary([3.0, 1.0, 2.0, 10.0])
    assert stats["p50"] <= stats["p95"] <= stats["p99"] <= stats["max"] == 10.0
    assert stats["n"] == 4 and stats["mean"] == 4.0


def test_verdict_compares_each_target():
    result = {
        "offline": {"turn_ms": {"p95": 12.0}},
        "llm": {"overhead_ratio": 1.2, "calls_per_answer": 1.0},
        "startup": {"import_s": None},
    }
    verdict = bench.verdict(result)
    assert verdict["offline.turn_ms.p95"] == "met"
    assert verdict["llm.overhead_ratio"] == "missed"
    assert verdict["llm.calls_per_answer"] == "met"
    assert verdict["startup.import_s"] == "not measured"
    assert verdict["regrade.concurrent_over_single"] == "not measured"


def _scripted_texts(tmp_path: Path, bank, seed: int) -> list[tuple[int, str, bool]]:
    settings = Settings(transcripts_dir=Path(tempfile.mkdtemp(dir=tmp_path)) / "transcripts")
    with Interviewer(settings, bank=bank) as iv:
        return [
            (turn.interview, turn.text, turn.result.finished)
            for turn in bench.scripted_interviews(iv, 3, seed)
        ]


def test_scripted_candidates_are_reproducible(tmp_path, bank):
    first = _scripted_texts(tmp_path, bank, seed=5)
    assert first == _scripted_texts(tmp_path, bank, seed=5)
    assert first != _scripted_texts(tmp_path, bank, seed=6)
    assert {n for n, _, _ in first} == {-1, 0, 1, 2}  # a warm-up, then the measured three
    assert sum(done for _, _, done in first) == 4  # every interview ran to its end


def test_timed_provider_passes_streaming_through_and_counts():
    calls = []

    class Streaming:
        brain, model, streams = "llm", "m", True

        def assess(self, question, answer, asked_probes=(), on_delta=None):
            calls.append(on_delta)
            return "graded"

    timed = bench.TimedProvider(Streaming())
    assert timed.streams is True
    assert timed.assess("q", "a", (), on_delta=print) == "graded"
    assert calls == [print]
    elapsed, n = timed.take()
    assert n == 1 and elapsed >= 0 and timed.take() == (0.0, 0)


def test_timed_provider_counts_a_call_that_raises():
    class Failing:
        brain, model = "llm", "m"

        def assess(self, question, answer, asked_probes=()):
            raise TimeoutError("no reply")

    timed = bench.TimedProvider(Failing())
    assert timed.streams is False
    with pytest.raises(TimeoutError):
        timed.assess("q", "a")
    assert timed.take()[1] == 1


def test_a_turns_phases_add_up_to_its_wall_time():
    result = TurnResult("i", [], False, None, timings=Timings(graph_ms=7.0, persist_ms=2.0))
    phases = bench.phases_of(bench.Turn(0, "an answer", result, ms=10.0), provider_ms=5.0)
    assert set(phases) == set(bench.PHASES)
    assert phases == {"turn": 10.0, "provider": 5.0, "graph": 2.0, "persist": 2.0, "lookup": 1.0}
    assert phases["turn"] == sum(v for k, v in phases.items() if k != "turn")


@pytest.fixture(scope="module")
def bench_json() -> dict:
    """One real, small run of the command, as a user would type it."""
    env = {**os.environ}
    for name in ("INTERVIEWER_CONFIG", "INTERVIEWER_PROFILE", "INTERVIEWER_TRANSCRIPTS_DIR"):
        env.pop(name, None)
    done = subprocess.run(
        [sys.executable, "-m", "agent", "bench", "--json", "--interviews", "2", "--seed", "7"],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert "offline:" in done.stderr  # progress goes to stderr, the JSON alone to stdout
    return json.loads(done.stdout)


def test_bench_json_has_every_key_with_sane_values(bench_json):
    r = bench_json
    assert r["seed"] == 7 and r["percentile_method"] == "nearest-rank"
    assert r["machine"]["cpus"] >= 1

    off = r["offline"]
    assert off["interviews"] == 2 and off["turns"] == off["turn_ms"]["n"] > 0
    stats = off["turn_ms"]
    assert 0 < stats["p50"] <= stats["p95"] <= stats["p99"] <= stats["max"]
    assert set(off["phases_ms"]) == {"graph", "engine", "persistence", "lookup"}
    assert all(p["n"] == stats["n"] for p in off["phases_ms"].values())
    assert off["phases_ms"]["persistence"]["p50"] > 0  # a transcript is written every turn

    llm = r["llm"]
    assert "error" not in llm, llm
    assert llm["server_delay_ms"] == 200
    assert llm["overhead_ratio"] >= 1.0 and llm["overhead_ratio_no_stream"] >= 1.0
    assert llm["calls_per_answer"] == 1.0 and llm["report_calls_per_interview"] <= 1.0
    assert llm["fallbacks"] == 0 and llm["answers_graded"] > 0
    assert llm["tokens_per_interview"] > 0
    assert set(llm["overhead_breakdown_ms"]) == {
        "provider_beyond_delay", "graph", "persistence", "lookup"
    }

    reg = r["regrade"]
    assert "error" not in reg, reg
    assert reg["questions"] == 8
    assert reg["single_call_s"] >= 0.2 and reg["concurrent_s"] >= 0.2
    assert reg["concurrent_over_single"] > 0 and reg["serial_over_single"] > 0

    start = r["startup"]
    assert start["import_s"] > 0 and start["import_session_s"] > 0
    assert start.get("first_render_s") is not None, start.get("first_render_s_error")
    assert start.get("server_ready_s") is not None, start.get("server_ready_s_error")
    assert set(start["method"]) >= {"import_s", "first_render_s", "server_ready_s"}

    assert set(r["verdict"]) == set(bench.TARGETS)
    assert set(r["verdict"].values()) <= {"met", "missed"}


def test_bench_table_names_each_figure_and_target():
    result = {
        "seed": 1,
        "percentile_method": "nearest-rank",
        "machine": {"cpus": 2, "load_average_1m_at_start": 0.1, "load_average_1m_at_end": 0.2},
        "offline": {
            "turn_ms": bench.summary([1.0, 2.0]),
            "start_ms": bench.summary([1.0]),
            "phases_ms": {"graph": bench.summary([1.0])},
        },
        "llm": {"error": "not available: no server"},
    }
    result["verdict"] = bench.verdict(result)
    table = bench.format_table(result)
    assert "offline turn ms p50/p95/p99 (n=2)" in table and "p95 <= 20  met" in table
    assert "  graph ms p50/p95/p99" in table and "1.0/2.0/2.0" in table
    (llm_row,) = [line for line in table.splitlines() if line.startswith("llm ")]
    assert "n/a" in llm_row and "not available: no server" in llm_row
    assert "regrade" not in table and "startup" not in table  # unmeasured sections: no rows
