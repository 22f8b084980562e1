"""A load generator: several client processes sending prepared requests over real HTTP.

Everything costly on the client (sealing, signing) happens before the timed part; the
timed part is sending bytes and reading answers. Latencies are per request; throughput
is requests over the wall time from the common start to the last answer.
"""

import http.client
import multiprocessing
import os
import resource
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

Request = tuple[str, str, bytes | None, dict[str, str]]  # method, path, body, headers


@dataclass(frozen=True)
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies: Sequence[float]
    # CPU seconds the load generator itself used (0 where not measured).
    generator_cpu: float = 0.0

    @classmethod
    def combined(cls, parts: Sequence["LoadResult"]) -> "LoadResult":
        """Several runs as one: their requests over the time they took together."""
        return cls(
            sum(part.requests for part in parts),
            sum(part.errors for part in parts),
            sum(part.seconds for part in parts),
            [latency for part in parts for latency in part.latencies],
            sum(part.generator_cpu for part in parts),
        )

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

    @property
    def generator_share(self) -> float:
        """The generator's CPU time as a share of all the machine's CPUs over the run."""
        return self.generator_cpu / (self.seconds * (os.cpu_count() or 1))

    def line(self, name: str) -> str:
        generator = f", generator {self.generator_share:.0%} CPU" if self.generator_cpu else ""
        return (
            f"  {name:34} {self.rps:8.1f} req/s  p50 {self.percentile(50) * 1e3:7.2f} ms  "
            f"p99 {self.percentile(99) * 1e3:7.2f} ms  ({self.requests} requests"
            + (f", {self.errors} errors" if self.errors else "")
            + f"{generator})"
        )


def _client(
    url: str,
    requests: Sequence[Request],
    expected: int,
    start_at: float,
    out: "multiprocessing.Queue[tuple[list[float], int, float]]",
) -> None:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=60)
    latencies: list[float] = []
    errors = 0
    while time.monotonic() < start_at:
        time.sleep(0.001)
    for method, path, body, headers in requests:
        began = time.perf_counter()
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            if response.status != expected:
                errors += 1
            if response.getheader("Connection", "").lower() == "close":
                connection.close()
        except (OSError, http.client.HTTPException):
            errors += 1
            connection.close()
        latencies.append(time.perf_counter() - began)
    out.put((latencies, errors, time.monotonic()))


def run(url: str, requests: Sequence[Request], clients: int, expected: int) -> LoadResult:
    """Send `requests` from `clients` processes at once; each request is sent once."""
    queue: multiprocessing.Queue[tuple[list[float], int, float]] = multiprocessing.Queue()
    cpu_before = children_cpu()
    start_at = time.monotonic() + 0.5
    shares = [list(requests[i::clients]) for i in range(clients)]
    workers = [
        multiprocessing.Process(target=_client, args=(url, share, expected, start_at, queue))
        for share in shares
    ]
    for worker in workers:
        worker.start()
    results = [queue.get() for _ in workers]
    for worker in workers:
        worker.join()
    cpu = children_cpu() - cpu_before
    latencies = [latency for result in results for latency in result[0]]
    finished = max(result[2] for result in results)
    return LoadResult(
        len(latencies), sum(result[1] for result in results), finished - start_at, latencies, cpu
    )


def children_cpu() -> float:
    """CPU seconds of this process's finished children (the generator's processes)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def median(values: Sequence[float]) -> float:
    return statistics.median(values)
