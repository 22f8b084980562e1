"""Small, honest timing: best-of-N medians, so one noisy moment does not decide a ratio."""

import statistics
import time
from collections.abc import Callable, Mapping


def per_call(
    operation: Callable[[], object], *, repeat: int = 5, min_seconds: float = 0.2
) -> float:
    """Seconds per call: the median over `repeat` runs of a loop lasting at least min_seconds."""
    operation()  # warm caches and imports outside the measurement
    calls = 1
    while True:
        start = time.perf_counter()
        for _ in range(calls):
            operation()
        if time.perf_counter() - start >= min_seconds / 10:
            break
        calls *= 2
    loops = max(1, int(calls * min_seconds / max(time.perf_counter() - start, 1e-9)))
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(loops):
            operation()
        samples.append((time.perf_counter() - start) / loops)
    return statistics.median(samples)


def in_turn(
    operations: Mapping[str, Callable[[], object]], *, rounds: int = 9, min_seconds: float = 0.1
) -> dict[str, float]:
    """Seconds per call of each operation, timed in turn round after round, medians.

    This machine's speed drifts (other tenants, clock scaling); operations compared by a
    ratio are timed in turn so each sees the same drift, where timing one after the other
    would compare different moments.
    """
    samples: dict[str, list[float]] = {name: [] for name in operations}
    for _ in range(rounds):
        for name, operation in operations.items():
            samples[name].append(per_call(operation, repeat=1, min_seconds=min_seconds))
    return {name: statistics.median(times) for name, times in samples.items()}


def fmt_seconds(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} µs"
