"""Settings, read once from the environment and passed explicitly."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseModel):
    """Everything configurable, in one typed object."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    transcripts_dir: Path = PROJECT_ROOT / "transcripts"
    rubrics_dir: Path = PROJECT_ROOT / "rubrics"
    checkpoint_db: Path | None = None
    max_followups: int = Field(default=2, ge=0, le=5)

    @property
    def checkpoints(self) -> Path:
        return self.checkpoint_db or self.transcripts_dir / ".checkpoints.sqlite"


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Settings from `INTERVIEWER_*` environment variables over the defaults."""
    env = os.environ if env is None else env
    values: dict = {}
    if env.get("INTERVIEWER_TRANSCRIPTS_DIR"):
        values["transcripts_dir"] = Path(env["INTERVIEWER_TRANSCRIPTS_DIR"]).expanduser()
    if env.get("INTERVIEWER_RUBRICS_DIR"):
        values["rubrics_dir"] = Path(env["INTERVIEWER_RUBRICS_DIR"]).expanduser()
    if env.get("INTERVIEWER_CHECKPOINT_DB"):
        values["checkpoint_db"] = Path(env["INTERVIEWER_CHECKPOINT_DB"]).expanduser()
    if env.get("INTERVIEWER_MAX_FOLLOWUPS"):
        values["max_followups"] = int(env["INTERVIEWER_MAX_FOLLOWUPS"])
    return Settings(**values)
