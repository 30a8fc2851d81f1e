"""`interviewer bench --scale`: the capacity section at tiny sizes, on local files and on a real
PostgreSQL server.

Nothing here asserts how fast anything is: timings depend on the machine. What is asserted is
the shape of the result, that nothing failed, and that the counts add up.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from agent.cli import main
from agent.config import Settings
from agent.grading.providers import OfflineProvider
from agent.interview.interviewer import Interviewer
from devtools import bench
from devtools.bench.memory import bench_browser_memory
from devtools.bench.scale import ScalePlan, bench_scale, fresh_database, saturate
from devtools.browser import CHROMIUM

ROOT = Path(__file__).resolve().parent.parent
TURNS = 8


def _adds_up(m: dict, candidates: int) -> None:
    """One measurement's counts: every turn answered, every interview accounted for."""
    assert m["candidates"] == candidates
    assert m["turns"] == m["answered"] == m["turn_ms"]["n"] == TURNS
    assert m["errors"] == m["closing_errors"] == 0 and m["error_samples"] == []
    assert m["interviews"] >= candidates  # each started one before the clock ran
    assert m["interviews"] == m["finished"] + m["left_open"]
    assert m["start_ms"]["n"] == m["interviews"]
    assert m["seconds"] > 0 and m["turns_per_s"] > 0
    stats = m["turn_ms"]
    assert 0 < stats["p50"] <= stats["p95"] <= stats["p99"] <= stats["max"]


@pytest.fixture(scope="module")
def scale_result(postgres_server, bank, tmp_path_factory) -> dict:
    """One tiny run of the section on both storages, PostgreSQL given by URL."""
    plan = ScalePlan(
        levels=(1, 2), turns=TURNS, think_s=0.5, database_url=postgres_server.url,
        browser_sessions=0,
    )  # fmt: skip
    return bench_scale(plan, seed=3, bank=bank, workdir=tmp_path_factory.mktemp("scale"))


@pytest.mark.parametrize("storage", ["local", "postgres"])
def test_scale_counts_add_up_and_nothing_fails(scale_result, storage):
    s = scale_result[storage]
    assert "error" not in s, s
    assert [m["candidates"] for m in s["saturation"]] == [1, 2]
    for level, candidates in zip(s["saturation"], (1, 2), strict=True):
        _adds_up(level, candidates)
    assert s["best_turns_per_s"] == max(m["turns_per_s"] for m in s["saturation"])

    steady = s["steady"]
    _adds_up(steady, steady["candidates"])
    half = s["best_turns_per_s"] / 2
    assert steady["offered_turns_per_s"] == round(half, 2)
    # Candidates enough that each thinks 0.5 s between turns; no more than there are turns.
    assert steady["candidates"] == min(TURNS, math.ceil(half * 0.5))

    assert s["errors"] == 0
    stored = s["storage"]
    measured = [*s["saturation"], steady]
    assert stored["interviews"] == 1 + sum(m["interviews"] for m in measured)  # and the warm-up
    assert stored["bytes"] > 0
    assert stored["bytes_per_interview"] == round(stored["bytes"] / stored["interviews"])
    assert s["candidates_answering_every_30s"] == math.floor(half * 30)


def test_scale_names_where_it_measured(scale_result, postgres_server):
    assert scale_result["levels"] == [1, 2] and scale_result["turns_per_measurement"] == TURNS
    assert "temporary folder" in scale_result["local"]["where"]
    assert "fresh database" in scale_result["postgres"]["where"]
    assert "browser" not in scale_result  # zero browser sessions: not measured
    assert {"saturation", "steady", "storage", "capacity"} <= set(scale_result["method"])


def test_scale_table_and_verdict(scale_result):
    result = {
        "seed": 3,
        "percentile_method": "nearest-rank",
        "machine": {"cpus": 2, "load_average_1m_at_start": 0.1, "load_average_1m_at_end": 0.2},
        "scale": scale_result,
    }
    verdict = bench.verdict(result)
    assert verdict["scale.local.errors"] == verdict["scale.postgres.errors"] == "met"
    assert verdict["scale.postgres.steady.turn_ms.p95"] in {"met", "missed"}
    result["verdict"] = verdict
    table = bench.format_table(result)
    assert "offline turn" not in table and "metric" not in table  # only the section that ran
    rows = [line for line in table.splitlines() if line.startswith(("local ", "PostgreSQL "))]
    assert len(rows) == 2 * 3  # two loads back to back and the steady one, per storage
    assert "candidates who answer every 30 s" in table
    assert "storage per interview" in table


def test_a_failing_turn_is_counted_not_raised(tmp_path, bank):
    class BrokenEngine(OfflineProvider):
        def assess(self, question, answer, asked_probes=(), speech=None):
            raise RuntimeError("engine down")

    settings = Settings(transcripts_dir=tmp_path / "transcripts")
    with Interviewer(settings, provider=BrokenEngine(), bank=bank) as iv:
        m = saturate(iv, candidates=2, turns=5, seed=1)
    # Commands (hint, skip, ...) need no grading, so only some turns fail.
    assert m["turns"] == 5 and m["errors"] > 0 and m["answered"] == 5 - m["errors"]
    assert any("RuntimeError: engine down" in e for e in m["error_samples"])
    # Each failed turn gave its interview up; the candidates started new ones.
    assert m["interviews"] == m["finished"] + m["left_open"] + m["errors"]


def test_fresh_database_is_new_and_dropped_afterwards(pg_url):
    with fresh_database(pg_url) as url:
        with psycopg.connect(url) as conn:
            name = conn.execute("SELECT current_database()").fetchone()[0]
            tables = conn.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
            ).fetchone()[0]
        assert name.startswith("interviewer_bench_") and tables == 0
    with psycopg.connect(pg_url) as conn:
        left = conn.execute("SELECT count(*) FROM pg_database WHERE datname = %s", (name,))
        assert left.fetchone()[0] == 0


@pytest.mark.parametrize(
    "argv",
    [
        ["bench", "--turns", "20"],
        ["bench", "--database-url", "postgresql:///x"],
        ["bench", "--scale", "--database-url", "mysql://localhost/x"],
    ],
)
def test_scale_options_are_refused_out_of_place(argv, capsys):
    assert main(argv) == 2
    assert "interviewer: error:" in capsys.readouterr().err


def test_bench_scale_command_prints_json(postgres_server):
    """The command as a user types it, on the tests' server, at its smallest."""
    env = {**os.environ}
    for name in ("INTERVIEWER_CONFIG", "INTERVIEWER_PROFILE", "INTERVIEWER_DATABASE_URL"):
        env.pop(name, None)
    command = [
        sys.executable, "-m", "agent", "bench", "--scale", "--json", "--turns", "10",
        "--browser-sessions", "0", "--database-url", postgres_server.url,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "scale on postgres storage" in done.stderr  # progress on stderr, JSON alone on stdout
    result = json.loads(done.stdout)
    assert "offline" not in result
    for storage in ("local", "postgres"):
        s = result["scale"][storage]
        assert [m["candidates"] for m in s["saturation"]] == [1, 10, 50]
        assert all(m["turns"] == 10 for m in [*s["saturation"], s["steady"]])
        assert s["errors"] == 0
    assert result["verdict"]["scale.postgres.errors"] == "met"


@pytest.mark.browser
def test_browser_memory_is_measured_per_session(tmp_path):
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium: run `make browser-deps`")
    pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")
    m = bench_browser_memory(1, workdir=tmp_path)
    assert m["sessions"] == 1
    assert m["rss_one_session_mb"] > 0 and m["rss_after_mb"] > 0
    per_session = (m["rss_after_mb"] - m["rss_one_session_mb"]) / m["sessions"]
    assert m["mb_per_session"] == pytest.approx(per_session, abs=0.1)
