"""A real witness process (`hotline-witness serve`) on a free local port: for the demo and tests.

Its key is made with `hotline-witness keygen` and its state is a SQLite file in `folder`,
so a restart (even after SIGKILL) finds both again.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from exchange.ops.devserver import BIN, free_port


class LiveWitness:
    def __init__(self, folder: Path, name: str, log_vkeys: Sequence[str]) -> None:
        self.folder = folder
        self.name = name
        self.log_vkeys = list(log_vkeys)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.key = folder / "witness.pem"
        self.state = folder / "witness.db"
        self.log = folder / "witness.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.vkey = ""

    def _command(self, *args: str) -> list[str]:
        return [str(BIN / "hotline-witness"), *args, "--key", str(self.key), "--name", self.name]

    def start(self) -> LiveWitness:
        self.folder.mkdir(parents=True, exist_ok=True)
        if not self.key.exists():
            made = subprocess.run(  # noqa: S603 - our own command, fixed arguments
                self._command("keygen"), capture_output=True, text=True, check=True
            )
            self.vkey = made.stdout.strip()
        else:
            self.vkey = subprocess.run(  # noqa: S603
                self._command("vkey"), capture_output=True, text=True, check=True
            ).stdout.strip()
        logs = [argument for vkey in self.log_vkeys for argument in ("--log", vkey)]
        command = [*self._command("serve"), "--state", str(self.state), "--port", str(self.port)]
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(  # noqa: S603
                [*command, *logs], stdout=output, stderr=output
            )
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"the witness exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/vkey", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"the witness did not start: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL: no cleanup, as a power cut would leave it."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self) -> LiveWitness:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
