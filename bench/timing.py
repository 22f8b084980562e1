"""Small, honest timing: best-of-N medians, so one noisy moment does not decide a ratio."""

import statistics
import time
from collections.abc import Callable


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


def fmt_seconds(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} µs"
