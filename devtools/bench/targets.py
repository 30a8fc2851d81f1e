"""What each figure should be at most, and whether a run met it."""

from __future__ import annotations

from typing import Any

TARGETS = {
    "offline.turn_ms.p95": 20.0,
    "offline.storage.checkpoints_over_transcripts": 2.0,
    "llm.overhead_ratio": 1.05,
    "llm.calls_per_answer": 1.0,
    "llm.report_calls_per_interview": 1.0,
    "regrade.concurrent_over_single": 1.5,
    "startup.import_s": 1.5,
}
# The scale section's, judged only when it ran (it runs only when asked for).
SCALE_TARGETS = {
    "scale.postgres.steady.turn_ms.p95": 100.0,
    "scale.postgres.errors": 0,
    "scale.local.errors": 0,
}


def _lookup(result: dict, dotted: str) -> float | None:
    value: Any = result
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value if isinstance(value, int | float) else None


def verdict(result: dict) -> dict[str, str]:
    """Each target: "met", "missed" or "not measured"."""
    targets = {**TARGETS, **(SCALE_TARGETS if "scale" in result else {})}
    out = {}
    for key, limit in targets.items():
        value = _lookup(result, key)
        out[key] = "not measured" if value is None else ("met" if value <= limit else "missed")
    return out
