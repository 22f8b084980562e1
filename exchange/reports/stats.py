"""Summary statistics of durations: count, median, 90th percentile and maximum.

Percentiles are nearest-rank (the definition of NIST's handbook and of most SLA reports):
the p-th percentile of n values sorted ascending is the value at 1-based rank
ceil(p * n / 100). Every figure is therefore a duration some case actually took, which a
platform can look up in the log and cannot argue away as an interpolation artefact. The
median is the 50th percentile by the same rule: for an even count, the lower of the two
middle values.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any


def nearest_rank(ascending: Sequence[float], percent: int) -> float:
    """The `percent`-th nearest-rank percentile of values already sorted ascending."""
    if not ascending:
        raise ValueError("no values")
    if not 0 < percent <= 100:
        raise ValueError("percent must be in 1..100")
    rank = -(-percent * len(ascending) // 100)  # ceil without floats
    return ascending[rank - 1]


@dataclass(frozen=True)
class DurationStats:
    """Seconds; every figure but `count` is None when there is nothing to summarise."""

    count: int
    median_seconds: float | None
    p90_seconds: float | None
    max_seconds: float | None

    @classmethod
    def of(cls, seconds: Iterable[float]) -> "DurationStats":
        values = sorted(seconds)
        if not values:
            return cls(0, None, None, None)
        return cls(len(values), nearest_rank(values, 50), nearest_rank(values, 90), values[-1])

    def to_json(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "median_seconds": self.median_seconds,
            "p90_seconds": self.p90_seconds,
            "max_seconds": self.max_seconds,
        }
