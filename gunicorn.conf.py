"""gunicorn settings for the exchange: `gunicorn -c gunicorn.conf.py wsgi:app` (`make serve`).

Everything can be set from the environment (docs/deployment.md lists the variables);
command-line flags override this file. Each worker builds its own app after the fork
(no preload), so no database connection, Redis connection or key is shared by inheritance.
"""

import os
import shutil
import tempfile
from typing import Any

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS") or 2 * (os.cpu_count() or 1) + 1)
threads = int(os.environ.get("GUNICORN_THREADS", "1"))  # >1 selects the gthread worker
# A worker silent this long is killed and replaced; in-flight transactions roll back.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# On SIGTERM, workers finish their requests for up to this long before being killed.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
preload_app = False
# Recycle workers now and then, staggered, so that no slow leak can build up.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "10000"))
max_requests_jitter = max_requests // 10
_SHARED_MEMORY = "/dev/shm"  # noqa: S108 - where gunicorn's docs put the workers' heartbeat
if os.path.isdir(_SHARED_MEMORY):
    worker_tmp_dir = _SHARED_MEMORY

# The app writes one JSON line per request itself: no separate access log. gunicorn's
# own messages (start, worker exits, timeouts) go out as JSON lines too.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("EXCHANGE_LOG_LEVEL", "info").lower()
logconfig_dict: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "exchange.observability.json_lines.JsonFormatter"}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stderr",
        }
    },
    "root": {"level": loglevel.upper(), "handlers": ["stderr"]},
    "loggers": {
        "gunicorn.error": {"level": loglevel.upper(), "handlers": [], "propagate": True},
        "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": True},
    },
}

# Prometheus: every worker counts into files in one directory, and any worker's /metrics
# reports the sum. Set PROMETHEUS_MULTIPROC_DIR to choose it; otherwise a fresh one is made.
_METRICS_ENV = "PROMETHEUS_MULTIPROC_DIR"
_made_metrics_dir = not os.environ.get(_METRICS_ENV)
if _made_metrics_dir:
    os.environ[_METRICS_ENV] = tempfile.mkdtemp(prefix="hotline-metrics-")


def on_starting(server: Any) -> None:
    """Start from empty counters: files left by an earlier run would be added in."""
    directory = os.environ[_METRICS_ENV]
    os.makedirs(directory, mode=0o700, exist_ok=True)
    for name in os.listdir(directory):
        if name.endswith(".db"):
            os.remove(os.path.join(directory, name))


def post_worker_init(worker: Any) -> None:
    """Freeze what the worker loaded (modules, mappers, schemas and their load plans).

    The collector then never scans those objects again. Before, a full collection went
    over about 185,000 of them and took about 90 ms on a 2-CPU machine, paid by whichever
    request set it off; when that request held the log's write lock, every writer
    queued behind it waited too (the submit's p99 in `make bench`).
    """
    import gc

    gc.collect()
    gc.freeze()
    worker.log.info("%d objects of the loaded app frozen for the collector", gc.get_freeze_count())


def child_exit(server: Any, worker: Any) -> None:
    """A worker ended: its live gauges go; its counters stay in the sums."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def on_exit(server: Any) -> None:
    if _made_metrics_dir:
        shutil.rmtree(os.environ[_METRICS_ENV], ignore_errors=True)
