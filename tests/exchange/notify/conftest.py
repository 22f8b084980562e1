"""Fixtures of the notification tests: an exchange whose clock is the real time (the
worker process signs with the wall clock, and receivers check it), a real receiver
process, and the worker as a real process (`flask --app wsgi worker`)."""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from exchange import create_app, runtime
from exchange.protocol import key_management
from schemas.common import format_utc
from schemas.subscriptions import SUBSCRIPTION_TYP, target_sha256
from tests.conftest import KEY_PASSPHRASE, PUBLIC_URL, FakeClock, app_config
from tests.helpers.world import Official, standard_world

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
# Loopback allowed and plain http: the receivers are local processes.
NOTIFY_SETTINGS: dict[str, Any] = {
    "NOTIFY_ALLOW_HTTP": True,
    "NOTIFY_ALLOWED_NETWORKS": ["127.0.0.0/8"],
    "NOTIFY_BACKOFF_SECONDS": 0.05,
    "NOTIFY_POLL_SECONDS": 0.05,
    "NOTIFY_TIMEOUT_SECONDS": 2,
    "NOTIFY_LEASE_SECONDS": 3,
}


@pytest.fixture
def clock():
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def app(tmp_path, database_url, clock):
    app = create_app(app_config(tmp_path, database_url, clock, **NOTIFY_SETTINGS))
    yield app
    with app.app_context():
        runtime.get_database().engine.dispose()


@pytest.fixture
def world(app, client, clock):
    return standard_world(app, client, clock)


def subscription_statement(
    official: Official,
    target: str,
    *,
    channel: str = "webhook",
    events: tuple[str, ...] = ("case", "handoff", "deadline_breached", "deadline_approaching"),
    priorities: tuple[str, ...] = ("urgent", "high", "normal"),
    scope: str = "own",
    subscription_id: str | None = None,
) -> str:
    payload = {
        "typ": SUBSCRIPTION_TYP,
        "org": official.org,
        "official": official.id,
        "subscription_id": subscription_id or str(uuid.uuid4()),
        "channel": channel,
        "target_sha256": target_sha256(target),
        "scope": scope,
        "events": list(events),
        "priorities": list(priorities),
        "issued_at": format_utc(official.world.clock()),
    }
    return key_management.sign(payload, official.identity.signing_key)


def subscribe(official: Official, target: str, **options: Any) -> dict[str, Any]:
    statement = subscription_statement(official, target, **options)
    response = official.post("/v1/subscriptions", {"statement": statement, "target": target})
    assert response.status_code == 201, response.get_json()
    created: dict[str, Any] = response.get_json()
    return created


class Receiver:
    def __init__(self, path: Path, *options: str) -> None:
        self.path = path
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.helpers.receiver", str(path), *options],
            cwd=ROOT,
            stdout=subprocess.PIPE,
        )
        assert self.process.stdout is not None
        self.port = int(self.process.stdout.readline())
        self.url = f"http://127.0.0.1:{self.port}/hooks/hotline"

    def lines(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text().splitlines()]

    def requests(self) -> list[dict[str, Any]]:
        return [line for line in self.lines() if "headers" in line]

    def answers(self) -> list[dict[str, Any]]:
        return [line for line in self.lines() if "answered" in line]

    def wait_for(self, count: int, what: str = "requests", timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while len(getattr(self, what)()) < count:
            assert time.monotonic() < deadline, f"{what}: {getattr(self, what)()}"
            time.sleep(0.02)

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()
        assert self.process.stdout is not None
        self.process.stdout.close()


@pytest.fixture
def receiver(tmp_path):
    started: list[Receiver] = []

    def start(*options: str) -> Receiver:
        started.append(Receiver(tmp_path / f"received-{len(started)}.jsonl", *options))
        return started[-1]

    yield start
    for each in started:
        each.stop()


class WorkerProcess:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.path = log
        self.log = log.open("ab")
        self.process = subprocess.Popen(
            [str(BIN / "flask"), "--app", "wsgi", "worker"],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait_started(self, timeout: float = 20) -> None:
        """Until the worker logged that its loop runs (its app and keys are loaded)."""
        deadline = time.monotonic() + timeout
        while b"notification worker started" not in self.path.read_bytes():
            assert self.process.poll() is None, self.path.read_text()
            assert time.monotonic() < deadline, self.path.read_text()
            time.sleep(0.02)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


@pytest.fixture
def worker(tmp_path, database_url, app):
    """`worker(**settings)`: a worker process on this test's database and server keys."""
    env = {
        **os.environ,
        "EXCHANGE_INSTANCE_PATH": app.instance_path,
        "EXCHANGE_DATABASE_URL": database_url,
        "EXCHANGE_KEY_PASSPHRASE": KEY_PASSPHRASE,
        "EXCHANGE_PUBLIC_URL": PUBLIC_URL,
        "EXCHANGE_RATE_LIMIT_ENABLED": "false",
    }
    started: list[WorkerProcess] = []

    def start(**settings: Any) -> WorkerProcess:
        merged = {**NOTIFY_SETTINGS, **settings}
        process_env = {**env, **{f"EXCHANGE_{k}": json.dumps(v) for k, v in merged.items()}}
        started.append(WorkerProcess(process_env, tmp_path / "worker.log"))
        return started[-1]

    yield start
    for each in started:
        each.stop()
