"""A real server process on a free local port: for the demo, and for client and CLI tests.

It is started the way an operator would: `flask --app wsgi admin init`, then a WSGI
server, with `EXCHANGE_*` variables pointing at a fresh instance folder and database.
The operator's admin commands run in the calling process (`run_admin`), the server in
a process of its own. Development only: the key passphrase is a constant.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent
PASSPHRASE = "development server passphrase"  # noqa: S105 - a throwaway dev server


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _environment(env: Mapping[str, str]) -> Iterator[None]:
    """os.environ as `env` for the duration: the app reads its settings from it. For a
    process whose other threads do not read the environment meanwhile (a test, the demo,
    the benchmark's set-up)."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def run_admin(env: Mapping[str, str], args: Sequence[str]) -> subprocess.CompletedProcess[str]:
    """`flask --app wsgi admin <args>` with the settings in `env`, run in this process.

    The same command on an app built by the same factory, as `flask` would build it, from
    the same settings; each command gets a fresh app, so keys rotated by the last one are
    read again. What it saves is a new Python importing the whole exchange for every
    command: about 3 s each on a slow machine, and a server's set-up runs a dozen. The
    cosigning thread is not started (`admin cosign` runs a round itself).
    """
    from exchange import create_app, runtime

    with _environment(env):
        app = create_app({"COSIGN_INTERVAL_SECONDS": 0})
        try:
            result = app.test_cli_runner().invoke(args=["admin", *args])
        finally:
            with app.app_context():
                runtime.get_database().engine.dispose()
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(
        ["flask", "--app", "wsgi", "admin", *args], result.exit_code, result.stdout, result.stderr
    )


class LiveServer:
    def __init__(
        self,
        instance: Path,
        database_url: str | None = None,
        settings: Mapping[str, str] | None = None,
        workers: int = 0,
        wsgi_app: str = "wsgi:app",
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.instance = instance
        self.database_url = database_url or f"sqlite:///{instance / 'exchange.storage.database'}"
        self.workers = workers
        self.wsgi_app = wsgi_app
        self.env = {
            **os.environ,
            "EXCHANGE_INSTANCE_PATH": str(instance),
            "EXCHANGE_DATABASE_URL": self.database_url,
            "EXCHANGE_KEY_PASSPHRASE": PASSPHRASE,
            "EXCHANGE_PUBLIC_URL": self.url,
            **(settings or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.led: set[str] = set()  # organisations whose first lead was bootstrapped
        self.root = Path(__file__).resolve().parents[2]
        self.log = instance / "server.log"

    def admin(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """`flask --app wsgi admin …` with the server's settings (`run_admin`)."""
        result = run_admin(self.env, args)
        if check and result.returncode != 0:
            raise RuntimeError(f"admin {' '.join(args)} failed: {result.stderr or result.stdout}")
        return result

    def invite(self, org: str, official: str, role: str, *options: str) -> str:
        """The operator's invitation; an organisation's first is bootstrapped as its lead."""
        if org not in self.led:
            self.led.add(org)
            options = (*options, "--bootstrap-lead")
        output = self.admin("official", "invite", org, official, "--role", role, *options).stdout
        match = re.search(r"Enrollment code: (\S+)", output)
        if match is None:
            raise RuntimeError(f"no code in: {output}")
        return match.group(1)

    def start(self) -> LiveServer:
        self.instance.mkdir(parents=True, exist_ok=True)
        self.admin("init")
        if self.workers:
            # The production settings (gunicorn.conf.py), on this port with these workers.
            self.env["GUNICORN_BIND"] = f"127.0.0.1:{self.port}"
            self.env["GUNICORN_WORKERS"] = str(self.workers)
            command = [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", self.wsgi_app]
        else:
            command = [
                str(BIN / "flask"),
                "--app",
                "wsgi",
                "run",
                "--port",
                str(self.port),
                "--no-reload",
                "--no-debugger",
                "--with-threads",
            ]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own server, fixed arguments
                command, cwd=self.root, env=self.env, stdout=log, stderr=log
            )
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"the server exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the server did not start: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
