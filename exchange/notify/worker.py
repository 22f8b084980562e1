"""The notification worker: delivers the outbox and runs the deadline scheduler.

`flask --app wsgi worker` runs one; run as many as you like (on PostgreSQL they share the
queue through `SKIP LOCKED` claims). Each loop: claim due notifications, send them
concurrently, record every attempt in one transaction; every SWEEP_INTERVAL_SECONDS, run
the deadline sweep (breaches logged and escalated) and queue "deadline approaching"
warnings. SIGTERM/SIGINT finish the batch in flight and stop.
"""

import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from flask import Flask

from exchange import runtime
from exchange.notify import mail, webhook
from exchange.notify.mail import SmtpSettings
from exchange.services import deadlines, notifications, outbox, webhook_secrets
from exchange.services.destinations import DestinationPolicy
from exchange.services.outbox import Claimed, Outcome, RetryPolicy
from exchange.storage import database
from schemas.subscriptions import Channel

logger = logging.getLogger("exchange.notify")


@dataclass(frozen=True)
class Settings:
    poll: float
    batch: int
    concurrency: int
    lease: timedelta
    timeout: float
    sweep_every: float
    warnings: tuple[timedelta, ...]
    retry: RetryPolicy
    destinations: DestinationPolicy
    smtp: SmtpSettings | None
    public_url: str

    @classmethod
    def of(cls, app: Flask) -> "Settings":
        c = app.config
        return cls(
            poll=float(c["NOTIFY_POLL_SECONDS"]),
            batch=int(c["NOTIFY_BATCH"]),
            concurrency=int(c["NOTIFY_CONCURRENCY"]),
            lease=timedelta(seconds=c["NOTIFY_LEASE_SECONDS"]),
            timeout=float(c["NOTIFY_TIMEOUT_SECONDS"]),
            sweep_every=float(c["SWEEP_INTERVAL_SECONDS"]),
            warnings=tuple(timedelta(seconds=s) for s in c["DEADLINE_WARNINGS_SECONDS"]),
            retry=RetryPolicy(
                base=timedelta(seconds=c["NOTIFY_BACKOFF_SECONDS"]),
                cap=timedelta(seconds=c["NOTIFY_BACKOFF_CAP_SECONDS"]),
                give_up_after=timedelta(seconds=c["NOTIFY_GIVE_UP_SECONDS"]),
            ),
            destinations=DestinationPolicy.from_settings(
                c["NOTIFY_ALLOW_HTTP"], c["NOTIFY_ALLOWED_NETWORKS"]
            ),
            smtp=SmtpSettings.from_config(c),
            public_url=c["PUBLIC_URL"],
        )


class Worker:
    """One worker process's loop. Needs the app context (the database, keys, clock)."""

    def __init__(self, app: Flask, rng: random.Random | None = None) -> None:
        self.app = app
        self.settings = Settings.of(app)
        self.sealing_key = runtime.secret_sealing_key()
        self.rng = rng or random.Random()  # noqa: S311 (jitter, not a secret)
        self.clock: Callable[[], datetime] = runtime.current().clock
        self.http = httpx.Client(
            timeout=self.settings.timeout, follow_redirects=False, trust_env=False
        )
        self.pool = ThreadPoolExecutor(self.settings.concurrency, "notify")
        self._last_sweep = float("-inf")

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        self.http.close()

    def run(self, stop: threading.Event) -> None:
        logger.info("notification worker started")
        while not stop.is_set():
            if time.monotonic() - self._last_sweep >= self.settings.sweep_every:
                self.schedule()
            if self.deliver_due() == 0:
                stop.wait(self.settings.poll)
        logger.info("notification worker stopped")

    def schedule(self) -> None:
        """The deadline sweep and "approaching" warnings, in one logged transaction."""
        self._last_sweep = time.monotonic()
        with runtime.write() as session:
            now = self.clock()
            breached = deadlines.sweep(session, now)
            warned = notifications.for_approaching(session, now, self.settings.warnings)
        if breached or warned:
            logger.info("deadlines: %d breached, %d warnings queued", len(breached), len(warned))

    def deliver_due(self) -> int:
        """Claim, send and record one batch; return how many were sent."""
        db = runtime.get_database()
        with database.write(db) as session:
            claimed = outbox.claim(session, self.clock(), self.settings.batch, self.settings.lease)
        if not claimed:
            return 0
        # Results are recorded as soon as they are in (those that arrived together, in
        # one transaction): a worker killed now re-sends only what was still in flight
        # (its lease lapses), never what was already answered.
        pending = {self.pool.submit(self._send, item): item for item in claimed}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            with database.write(db) as session:
                now = self.clock()
                for future in done:
                    item, outcome = pending.pop(future), future.result()
                    result = outbox.finish(
                        session, now, item, outcome, self.settings.retry, self.rng
                    )
                    if not outcome.delivered:
                        logger.warning("notification %s: %s (%s)", item.id, outcome.error, result)
        return len(claimed)

    def _send(self, claimed: Claimed) -> Outcome:
        now = self.clock()
        if claimed.channel == Channel.WEBHOOK:
            if claimed.secret_sealed is None:
                return _refused(now, "the webhook has no secret")
            try:
                secret = webhook_secrets.unseal(
                    self.sealing_key, claimed.subscription_id, claimed.secret_sealed
                )
            except webhook_secrets.SealedSecretError as exc:
                return _refused(now, str(exc))
            return webhook.send(self.http, self.settings.destinations, claimed, secret, now)
        if self.settings.smtp is None:
            return _refused(now, "no SMTP relay is configured (EXCHANGE_SMTP_HOST)")
        return mail.send(self.settings.smtp, claimed, self.settings.public_url, now)


def _refused(now: datetime, error: str) -> Outcome:
    return Outcome(False, None, error, now, 0)
