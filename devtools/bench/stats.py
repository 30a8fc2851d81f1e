"""Percentiles and summaries of timing samples.

Percentiles use the nearest-rank method: p95 is the smallest sample with at least 95% of samples
at or below it, always an observed value, never an interpolation.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

PERCENTILE_METHOD = "nearest-rank"


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
