"""Shared fixtures: real bank, real graph and checkpointer, files under tmp_path."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from agent.config import Settings
from agent.grading.assessment import Assessment
from agent.grading.providers import OfflineProvider
from agent.grading.rubrics import Bank, Question, load_bank
from agent.interview.interviewer import Interviewer
from devtools.pgserver import PostgresServer, find_pg_bin


@pytest.fixture(autouse=True)
def isolated_config(tmp_path_factory, monkeypatch):
    """Tests never read a developer's own interviewer.toml, keys or model settings."""
    config = tmp_path_factory.mktemp("config") / "interviewer.toml"
    config.write_text("")
    monkeypatch.setenv("INTERVIEWER_CONFIG", str(config))
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "INTERVIEWER_PROFILE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def close_model_clients():
    """Close the LLM providers a test made, so their connections end with the test."""
    from tests.fake_llm import close_made

    yield
    close_made()


@pytest.fixture(scope="session")
def bank() -> Bank:
    return load_bank()


@pytest.fixture
def question(bank: Bank) -> Question:
    """The seed's worked question on optimising inference latency."""
    return bank.get("seed-inference-latency")


class CrashingProvider(OfflineProvider):
    """Dies inside grading, as a process killed between taking an answer and replying would."""

    def assess(self, question: Question, answer: str, asked_probes: tuple[str, ...] = ()):
        raise KeyboardInterrupt


@pytest.fixture
def crashing_provider() -> CrashingProvider:
    return CrashingProvider()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(transcripts_dir=tmp_path / "transcripts")


@pytest.fixture
def interviewer(settings: Settings, bank: Bank):
    with Interviewer(settings, bank=bank) as iv:
        yield iv


class ScriptedProvider:
    """A provider that returns queued assessments, records what it was sent, and fails when its
    script runs out, so a test cannot pass on empty output."""

    brain = "scripted"
    model = "script"
    streams = False

    def __init__(self) -> None:
        self.queue: list[Assessment] = []
        self.calls: list[tuple[str, str, tuple[str, ...]]] = []

    def enqueue(self, *assessments: Assessment) -> ScriptedProvider:
        self.queue.extend(assessments)
        return self

    def assess(
        self, question: Question, answer: str, asked_probes: tuple[str, ...] = (), speech=None
    ):
        self.calls.append((question.id, answer, asked_probes))
        if not self.queue:
            raise AssertionError(f"script ran out: unexpected assess() for {question.id}")
        return self.queue.pop(0)

    def describe(self) -> str:
        return "scripted assessments"

    def close(self) -> None:
        return None


@pytest.fixture
def scripted() -> ScriptedProvider:
    return ScriptedProvider()


@pytest.fixture(scope="session")
def postgres_server():
    """One real PostgreSQL server for the session (Debian's binaries; `make test` installs them)."""
    if find_pg_bin() is None:
        reason = "no PostgreSQL server binaries under /usr/lib/postgresql (make postgres-deps)"
        if os.environ.get("CI"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    with PostgresServer() as server:
        yield server


@pytest.fixture
def pg_url(postgres_server: PostgresServer):
    """The URL of a fresh, empty database of this test's own, dropped afterwards."""
    name = f"test_{uuid.uuid4().hex[:16]}"
    url = postgres_server.create_database(name)
    yield url
    try:
        postgres_server.drop_database(name)
    except RuntimeError:
        pass


@pytest.fixture(params=["local", "postgres"])
def any_settings(request, tmp_path: Path) -> Settings:
    """Settings on each storage in turn: local files, then a fresh PostgreSQL database."""
    if request.param == "local":
        return Settings(transcripts_dir=tmp_path / "transcripts")
    url = request.getfixturevalue("pg_url")
    return Settings(transcripts_dir=tmp_path / "transcripts", database_url=url)
