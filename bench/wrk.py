"""The load generator that is not the bottleneck: wrk, sending each prepared request once.

`bench.load`'s Python clients saturate before the bare endpoint does on this machine
(issue 15: about 1,600-2,260 req/s where wrk reaches about 3,250), which made every ratio
to the ceiling too generous. wrk (Debian's package) runs one thread and one connection
per client, like those clients; `wrk_once.lua` hands thread k of n the requests k, k + n,
..., times each answer with the monotonic clock, and marks when its last answer is in.
wrk only knows durations, so this module stops it (SIGINT) as soon as every thread has
marked, and the throughput is the requests over the time from the first request sent to
the last answer, as for `bench.load`. The generator's own CPU time is kept, to show what
share of the machine it took from the server.
"""

import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from bench.load import LoadResult, Request, children_cpu

SCRIPT = Path(__file__).with_name("wrk_once.lua")


def available() -> bool:
    return shutil.which("wrk") is not None


def _raw(host: str, request: Request) -> bytes:
    method, path, body, headers = request
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


def run(url: str, requests: Sequence[Request], clients: int, expected: int) -> LoadResult:
    """Send `requests` over `clients` connections (one wrk thread each), each once."""
    clients = max(1, min(clients, len(requests)))
    host = urlsplit(url).netloc
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as name:
        folder = Path(name)
        prepared, marker = folder / "requests", folder / "finished"
        with prepared.open("wb") as out:
            for request in requests:
                raw = _raw(host, request)
                out.write(b"%d\n" % len(raw) + raw)
        marker.touch()
        command = [
            "wrk",
            f"--threads={clients}",
            f"--connections={clients}",
            "--duration=3600s",
            "--timeout=60s",
            f"--script={SCRIPT}",
            url,
            "--",
            str(prepared),
            str(marker),
            str(expected),
            str(clients),
        ]
        cpu_before = children_cpu()
        wrk = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        while wrk.poll() is None and len(marker.read_text().split()) < clients:
            time.sleep(0.002)
        wrk.send_signal(signal.SIGINT)
        output, _ = wrk.communicate(timeout=60)
        cpu = children_cpu() - cpu_before
    return _parse(output, cpu, len(requests))


def _parse(output: str, cpu: float, sent: int) -> LoadResult:
    latencies: list[float] = []
    answered = errors = 0
    starts: list[float] = []
    ends: list[float] = []
    for line in output.splitlines():
        if line.startswith("L "):
            latencies.append(float(line[2:]))
        elif line.startswith("THREAD "):
            _, _, got, failed, started, ended = line.split()
            answered += int(got)
            errors += int(failed)
            starts.append(float(started))
            ends.append(float(ended))
    if answered != sent or not starts or min(ends) < 0:
        raise RuntimeError(f"wrk answered {answered} of {sent} requests:\n{output[-2000:]}")
    return LoadResult(answered, errors, max(ends) - min(starts), latencies, cpu)
