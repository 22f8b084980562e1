"""Notification throughput: the rate one worker delivers signed webhooks from the outbox.

One worker (`exchange.notify.worker.Worker`, its production code: claim, unseal the
secret, sign, POST, record each attempt) drains N queued notifications to a local
receiver process on SQLite. The ceiling is the same POSTs of the same bodies, with the
same concurrency, sent by a bare httpx client with no database and no signing, to the
same receiver, in the same run (the mean of one run before and one after the worker's):
the ratio is what the outbox's bookkeeping costs (a claim, and an attempt recorded in a
write transaction, per message).
"""

import multiprocessing
import os
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from exchange import create_app, runtime
from exchange.notify.worker import Worker
from exchange.services import notifications, operator, webhook_secrets
from exchange.storage import migrate
from exchange.storage.database import make_database
from exchange.storage.models import Notification, Subscription

COUNT = int(os.environ.get("BENCH_NOTIFICATIONS", "2000"))
CONCURRENCY = int(os.environ.get("BENCH_NOTIFY_CONCURRENCY", "8"))
TARGET_RATIO = 0.15


def _serve(port: "multiprocessing.Queue[int]") -> None:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", "0")))
            self.send_response(204)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port.put(server.server_address[1])
    server.serve_forever()


@contextmanager
def receiver() -> Iterator[str]:
    ports: multiprocessing.Queue[int] = multiprocessing.Queue()
    process = multiprocessing.Process(target=_serve, args=(ports,), daemon=True)
    process.start()
    try:
        yield f"http://127.0.0.1:{ports.get(timeout=10)}/hook"
    finally:
        process.terminate()
        process.join()


def _queue(app: Any, url: str) -> list[str]:
    now = datetime.now(UTC)
    with app.app_context():
        with runtime.write() as session:
            operator.create_organisation(session, now, "bench-platform", "platform", "Bench")
            operator.invite_official(
                session,
                now,
                timedelta(hours=1),
                org_id="bench-platform",
                official_id="bench-official",
                role="platform_official",
            )
            secret = webhook_secrets.new_secret()
            session.add(
                Subscription(
                    id="00000000-0000-4000-8000-000000000001",
                    org_id="bench-platform",
                    official_id="bench-official",
                    channel="webhook",
                    target=url,
                    scope="own",
                    events=["case"],
                    priorities=["urgent"],
                    secret_sealed=webhook_secrets.seal(
                        runtime.secret_sealing_key(),
                        "00000000-0000-4000-8000-000000000001",
                        secret,
                    ),
                    created_at=now,
                    created_log_index=0,
                    removed_at=None,
                    removed_log_index=None,
                )
            )
        bodies = []
        with runtime.write() as session:
            for n in range(COUNT):
                body = notifications.body(
                    "case",
                    now,
                    {
                        "case_id": f"00000000-0000-4000-8000-{n:012d}",
                        "handoff_id": f"10000000-0000-4000-8000-{n:012d}",
                        "kind": "case",
                        "priority": "urgent",
                        "category": "sexual_deepfake",
                        "state": "submitted",
                        "platform": "bench-platform",
                        "ack_due_at": "2026-01-01T01:00:00Z",
                        "action_due_at": "2026-01-02T00:00:00Z",
                        "log_index": n,
                    },
                )
                bodies.append(body)
                session.add(
                    Notification(
                        id=notifications.new_id(),
                        subscription_id="00000000-0000-4000-8000-000000000001",
                        official_id="bench-official",
                        event="case",
                        dedupe_key=f"bench:{n}",
                        case_id=None,
                        body=body,
                        created_at=now,
                        next_attempt_at=now,
                        leased_until=None,
                        attempts=0,
                        status=notifications.PENDING,
                        delivered_at=None,
                        last_error=None,
                    )
                )
    return bodies


def _ceiling(url: str, bodies: list[str]) -> float:
    with httpx.Client(timeout=10) as client, ThreadPoolExecutor(CONCURRENCY) as pool:
        started = time.perf_counter()
        statuses = list(
            pool.map(
                lambda body: (
                    client.post(
                        url, content=body, headers={"content-type": "application/json"}
                    ).status_code
                ),
                bodies,
            )
        )
        elapsed = time.perf_counter() - started
    assert statuses == [204] * len(bodies)
    return len(bodies) / elapsed


def _worker_rate(app: Any) -> float:
    with app.app_context():
        worker = Worker(app)
        try:
            started = time.perf_counter()
            while worker.deliver_due():
                pass
            elapsed = time.perf_counter() - started
        finally:
            worker.close()
        with runtime.read() as session:
            from sqlalchemy import func, select

            delivered = session.scalar(
                select(func.count())
                .select_from(Notification)
                .where(Notification.status == notifications.DELIVERED)
            )
    assert delivered == COUNT, delivered
    return COUNT / elapsed


def run() -> list[str]:
    workdir = Path(tempfile.mkdtemp(prefix="hotline-bench-notify-"))
    url = f"sqlite:///{workdir / 'exchange.db'}"
    engine = make_database(url).engine
    migrate.upgrade(engine)
    engine.dispose()
    app = create_app(
        {
            "INSTANCE_PATH": str(workdir / "instance"),
            "DATABASE_URL": url,
            "KEY_PASSPHRASE": "bench passphrase",
            "NOTIFY_ALLOW_HTTP": True,
            "NOTIFY_ALLOWED_NETWORKS": ["127.0.0.0/8"],
            "NOTIFY_BATCH": CONCURRENCY * 4,
            "NOTIFY_CONCURRENCY": CONCURRENCY,
            "LOG_LEVEL": "WARNING",
        }
    )
    with receiver() as hook:
        bodies = _queue(app, hook)
        # The ceiling before and after the worker's run: the machine's speed drifts.
        before = _ceiling(hook, bodies)
        rate = _worker_rate(app)
        ceiling = (before + _ceiling(hook, bodies)) / 2
    ratio = rate / ceiling
    return [
        f"notify: one worker, {COUNT} queued webhooks to a local receiver process, "
        f"{CONCURRENCY} in flight, SQLite",
        f"    bare httpx POSTs, same bodies (ceiling)  {ceiling:8.0f} /s",
        f"    worker: claim, sign, POST, record        {rate:8.0f} /s",
        f"    worker / bare throughput {ratio:.3f} (target >= {TARGET_RATIO}): "
        + ("ok" if ratio >= TARGET_RATIO else "MISSED"),
    ]
