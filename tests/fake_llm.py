"""Fixtures and helpers for tests that talk to the loopback fake model server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.config import Settings
from agent.grading.llm import LLMProvider
from agent.grading.rubrics import Question
from agent.profiles import OFFLINE, Profile
from devtools.fakeserver import FakeServer, Reply, grade_reply

LATENCY_ANSWER = (
    "First I measure p50 and p99 latency with a profiler to find the bottleneck. "
    "Then dynamic batching on the GPU raises throughput, because one kernel launch serves "
    "many requests, while a small batch timeout keeps p99 in check. "
    "Int8 quantization shrinks the model, so each forward pass is cheaper."
)


@pytest.fixture
def fake() -> Iterator[FakeServer]:
    """A started fake server; the test fails if a request found no scripted reply."""
    with FakeServer() as server:
        yield server
        assert server.errors == [], server.errors


def llm_profile(server: FakeServer, **overrides) -> Profile:
    values = {
        "name": "fake",
        "base_url": server.base_url,
        "model": "fake-model",
        "timeout": 5.0,
        "total_timeout": 20.0,
        "backoff": 0.0,
        "max_attempts": 3,
    }
    values.update(overrides)
    return Profile(**values)


# Providers made by `provider_for`, closed after each test (see conftest) so no kept-alive
# connection is left for the garbage collector to report in a later test.
MADE: list[LLMProvider] = []


def provider_for(server: FakeServer, **overrides) -> LLMProvider:
    provider = LLMProvider(llm_profile(server, **overrides))
    MADE.append(provider)
    return provider


def close_made() -> None:
    while MADE:
        MADE.pop().close()


def llm_settings(tmp_path: Path, profile: Profile) -> Settings:
    return Settings(
        transcripts_dir=tmp_path / "transcripts",
        profile=profile.name,
        profiles={"offline": OFFLINE, profile.name: profile},
    )


def full_marks(question: Question, quote: str, **kwargs) -> str:
    """A reply giving every criterion 3 points on `quote`."""
    return grade_reply({c.id: (3, [quote]) for c in question.criteria}, **kwargs)


def good_reply(question: Question, answer: str, **kwargs) -> Reply:
    """A well-formed grade quoting real sentences of `answer`, 2 points each."""
    first = answer.split(". ")[0]
    return Reply(content=grade_reply({c.id: (2, [first]) for c in question.criteria}, **kwargs))


def assert_secret_nowhere(folder: Path, secret: str) -> None:
    """No file written under `folder` (transcripts, checkpoints, regrades) holds `secret`."""
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert files, f"nothing was written under {folder}"
    for path in files:
        assert secret.encode() not in path.read_bytes(), f"{secret!r} leaked into {path}"


def load_json(path: str | Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))
