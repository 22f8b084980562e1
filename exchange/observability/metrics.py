"""Prometheus metrics at `/metrics` (prometheus_client).

Counted as they happen, per process:

* `hotline_http_requests_total{endpoint, method, status}` and
  `hotline_http_request_duration_seconds{endpoint, method}`; the endpoint is the route's
  pattern (`/v1/cases/<case_id>`), never the raw path, so case ids make no new series;
* `hotline_handoffs_accepted_total{kind}`: handoffs whose transaction committed;
* `hotline_commit_batch_size`: handoff requests answered by one group commit
  (`exchange.log.group_commit`; a re-post answered from the log counts too), so the batches
  that concurrent handoffs actually form under load can be watched.

Read from the database at scrape time, so every process reports the same shared truth:

* `hotline_log_entries`: the log's size;
* `hotline_cases_overdue{platform, deadline}`: open cases past their ack or action deadline;
* `hotline_database_up`: 0 if those queries failed.

Under gunicorn, set `PROMETHEUS_MULTIPROC_DIR` to an empty directory (gunicorn.conf.py
does): each worker then writes its counters there and a scrape of any worker reports the
sum over all of them. Without it, each process reports its own counts (fine for one
process). If `METRICS_TOKEN` is set, a scrape needs `Authorization: Bearer <token>`.
"""

import hmac
import os
from collections.abc import Iterator
from dataclasses import dataclass

from flask import Flask, Response, current_app, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import event, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from exchange import runtime
from exchange.api.problems import problem
from exchange.log import transaction
from exchange.observability import timing
from exchange.protocol.workflow import AWAITING_ACK, AWAITING_ACTION
from exchange.runtime import now
from exchange.services import outbox
from exchange.storage.database import Database
from exchange.storage.models import Case, LogHead
from schemas.enums import Kind

_EXTENSION = "exchange.metrics"
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"


@dataclass(frozen=True)
class Metrics:
    registry: CollectorRegistry | None  # None in multiprocess mode: the files are the registry
    requests: Counter
    latency: Histogram
    handoffs: Counter
    batches: Histogram


def _multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROCESS_ENV))


def _create(registry: CollectorRegistry | None) -> Metrics:
    return Metrics(
        registry,
        Counter(
            "hotline_http_requests",
            "HTTP requests answered, by route pattern, method and status.",
            ["endpoint", "method", "status"],
            registry=registry,
        ),
        Histogram(
            "hotline_http_request_duration_seconds",
            "Time from the first request hook to the response, by route pattern and method.",
            ["endpoint", "method"],
            registry=registry,
        ),
        Counter(
            "hotline_handoffs_accepted",
            "Handoffs committed, by kind.",
            ["kind"],
            registry=registry,
        ),
        Histogram(
            "hotline_commit_batch_size",
            "Handoff requests answered by one group commit (one transaction, one checkpoint).",
            buckets=(1, 2, 3, 4, 6, 8, 12, 16, 32, 64),
            registry=registry,
        ),
    )


class DatabaseCollector(Collector):
    """Gauges computed from the shared database when scraped, in the scraping request."""

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("hotline_database_up", "1 if the database answered this scrape.")
        try:
            size, overdue = self._read()
        except SQLAlchemyError:
            current_app.logger.warning("metrics: the database did not answer", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily(
            "hotline_log_entries", "Entries in the transparency log.", value=size
        )
        cases = GaugeMetricFamily(
            "hotline_cases_overdue",
            "Open cases past their acknowledgement or action deadline, by platform.",
            labels=["platform", "deadline"],
        )
        for (platform, deadline), count in sorted(overdue.items()):
            cases.add_metric([platform, deadline], count)
        yield cases

    @staticmethod
    def _read() -> tuple[int, dict[tuple[str, str], int]]:
        moment = now()
        overdue: dict[tuple[str, str], int] = {}
        with runtime.read() as session:
            head = session.get(LogHead, 1)
            for deadline, due, states in (
                ("ack", Case.ack_due_at, AWAITING_ACK),
                ("action", Case.action_due_at, AWAITING_ACTION),
            ):
                rows = session.execute(
                    select(Case.platform_org, func.count())
                    .where(Case.state.in_([str(s) for s in states]), due <= moment)
                    .group_by(Case.platform_org)
                )
                for platform, count in rows:
                    overdue[(platform, deadline)] = count
        return (head.size if head else 0), overdue


class NotificationCollector(Collector):
    """The notification outbox, read from the database when scraped (every process and
    every worker share it): depth by status, the oldest pending message's age, the last
    hour's attempts by outcome and delivery latency (queued to delivered)."""

    def collect(self) -> Iterator[Metric]:
        try:
            with runtime.read() as session:
                stats = outbox.stats(session, now())
        except SQLAlchemyError:
            return  # hotline_database_up says so
        depth = GaugeMetricFamily(
            "hotline_notifications", "Notifications in the outbox, by status.", labels=["status"]
        )
        for status in ("pending", "delivered", "failed", "cancelled"):
            depth.add_metric([status], stats.by_status.get(status, 0))
        yield depth
        yield GaugeMetricFamily(
            "hotline_notification_oldest_pending_seconds",
            "Age of the oldest notification not yet delivered (0 if none).",
            value=stats.oldest_pending_seconds,
        )
        attempts = GaugeMetricFamily(
            "hotline_notification_attempts_last_hour",
            "Delivery attempts in the last hour, by outcome (retry and failed are failures).",
            labels=["outcome"],
        )
        for outcome in ("delivered", "retry", "failed"):
            attempts.add_metric([outcome], stats.attempts_last_hour.get(outcome, 0))
        yield attempts
        latency = GaugeMetricFamily(
            "hotline_notification_latency_seconds",
            "Queued-to-delivered time of the last hour's deliveries, by quantile.",
            labels=["quantile"],
        )
        values = stats.latency_last_hour
        for quantile in (0.5, 0.95, 1.0):
            index = min(len(values) - 1, int(quantile * len(values)))
            latency.add_metric([str(quantile)], values[index] if values else 0.0)
        yield latency


_HANDOFF_EVENTS = frozenset(kind.value for kind in Kind)


def count_handoffs(db: Database, counter: Counter) -> None:
    """Count handoffs when their transaction commits: by the log entries it sealed, one per
    handoff (a refused unit of a group commit took its entries back with its savepoint)."""

    @event.listens_for(db.writes, "after_commit")
    def _committed(session: Session) -> None:
        # Also fires for a savepoint (a unit of a group commit): only the transaction's
        # own end counts.
        if session.in_nested_transaction():
            return
        sealed = transaction.sealed_so_far(session)
        for entry in sealed.entries if sealed is not None else ():
            if entry["event"] in _HANDOFF_EVENTS:
                counter.labels(kind=entry["event"]).inc()


def _metrics() -> Metrics:
    metrics: Metrics = current_app.extensions[_EXTENSION]
    return metrics


def _observe(response: Response) -> Response:
    metrics = _metrics()
    rule = request.url_rule
    endpoint = rule.rule if rule is not None else "<unmatched>"
    metrics.requests.labels(endpoint, request.method, str(response.status_code)).inc()
    seconds = timing.elapsed_seconds()
    if seconds is not None:
        metrics.latency.labels(endpoint, request.method).observe(seconds)
    return response


def _authorised() -> bool:
    expected = current_app.config["METRICS_TOKEN"]
    if not expected:
        return True
    supplied = request.headers.get("Authorization", "")
    return hmac.compare_digest(supplied.encode(), f"Bearer {expected}".encode())


def scrape() -> Response:
    """The Prometheus text exposition of every metric, summed over processes if shared."""
    if not _authorised():
        return problem(
            401,
            "unauthenticated",
            "Authentication is required",
            "send the metrics token: Authorization: Bearer <token>",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    metrics = _metrics()
    registry = metrics.registry
    if registry is None:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        registry.register(DatabaseCollector())
        registry.register(NotificationCollector())
    # content_type, not mimetype: Flask would append a second "; charset=utf-8".
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


def init_app(app: Flask) -> None:
    """Needs the database (`runtime.init_app`) first: the handoff counter hooks its sessions."""
    if _multiprocess():
        metrics = _create(None)
    else:
        registry = CollectorRegistry()
        metrics = _create(registry)
        registry.register(DatabaseCollector())
        registry.register(NotificationCollector())
    app.extensions[_EXTENSION] = metrics
    with app.app_context():
        count_handoffs(runtime.get_database(), metrics.handoffs)
        runtime.current().committer.observe(metrics.batches.observe)
    app.after_request(_observe)
    app.add_url_rule("/metrics", "metrics", scrape, methods=["GET"])
