"""The production server for tests: gunicorn with the repository's gunicorn.conf.py.

`GunicornServer` starts the master on a free port of 127.0.0.1 with a fresh instance
folder and the test's database, and can list and SIGKILL its workers: what the
concurrency and kill tests need. Every wait is bounded; nothing is timed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from exchange.ops.devserver import free_port, run_admin

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PASSPHRASE = "gunicorn test server passphrase"
START_TIMEOUT = 60.0


class GunicornServer:
    def __init__(
        self,
        instance: Path,
        database_url: str,
        workers: int = 4,
        settings: Mapping[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.instance = instance
        self.workers = workers
        self.log = instance.parent / f"gunicorn-{self.port}.log"
        self.env = {
            **os.environ,
            "EXCHANGE_INSTANCE_PATH": str(instance),
            "EXCHANGE_DATABASE_URL": database_url,
            "EXCHANGE_KEY_PASSPHRASE": PASSPHRASE,
            "EXCHANGE_PUBLIC_URL": self.url,
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_WORKERS": str(workers),
            **(settings or {}),
        }
        self.env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # gunicorn.conf.py makes its own
        self.process: subprocess.Popen[bytes] | None = None

    # --- the operator's side -----------------------------------------------------------------

    def admin(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """`flask --app wsgi admin …` with the server's settings (`run_admin`)."""
        result = run_admin(self.env, args)
        if check and result.returncode != 0:
            raise RuntimeError(f"admin {' '.join(args)}: {result.stderr or result.stdout}")
        return result

    # --- the processes -----------------------------------------------------------------------

    def start(self) -> GunicornServer:
        self.instance.mkdir(parents=True, exist_ok=True)
        self.admin("init")  # migrations, and the server keys before the workers race for them
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                [str(BIN / "gunicorn"), "-c", str(REPO / "gunicorn.conf.py"), "wsgi:app"],
                cwd=REPO,
                env=self.env,
                stdout=output,
                stderr=output,
            )
        self.wait_for_workers(self.workers)
        return self

    def master_pid(self) -> int:
        if self.process is None:
            raise RuntimeError("the server is not running")
        return self.process.pid

    def worker_pids(self) -> list[int]:
        """The master's live child processes, from /proc (Linux)."""
        master = self.master_pid()
        children = Path(f"/proc/{master}/task/{master}/children")
        return sorted(int(pid) for pid in children.read_text().split()) if children.exists() else []

    def wait_for_workers(self, count: int, exclude: frozenset[int] = frozenset()) -> list[int]:
        """Wait until `count` workers (none of `exclude`) run and the server answers."""
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.tail()}")
            pids = [pid for pid in self.worker_pids() if pid not in exclude]
            if len(pids) >= count and self._answers():
                return pids
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not come up with {count} workers: {self.tail()}")
            time.sleep(0.1)

    def _answers(self) -> bool:
        try:
            return httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    def kill_worker(self, pid: int) -> None:
        """SIGKILL one worker mid-flight: no cleanup, no goodbye; the master replaces it."""
        if pid not in self.worker_pids():
            raise ValueError(f"{pid} is not a worker of this server")
        os.kill(pid, signal.SIGKILL)

    def stop(self) -> int | None:
        """SIGTERM, a graceful stop; SIGKILL if it takes longer than gunicorn should."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        code = self.process.returncode
        self.process = None
        return code

    # --- what it said ------------------------------------------------------------------------

    def tail(self, characters: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-characters:] if self.log.exists() else ""

    def log_lines(self) -> list[dict[str, Any]]:
        """Every line the server wrote, parsed (each must be one JSON object)."""
        text = self.log.read_text() if self.log.exists() else ""
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def __enter__(self) -> GunicornServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
