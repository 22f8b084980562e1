"""Notifications leave the exchange here: the worker that delivers the outbox by webhook
and e-mail, and runs the deadline scheduler (`flask --app wsgi worker`)."""

import signal
import threading
from types import FrameType

import click
from flask import Flask, current_app
from flask.cli import with_appcontext


@click.command("worker")
@click.option("--once", is_flag=True, help="Run the scheduler and one delivery batch, then exit.")
@with_appcontext
def worker_command(once: bool) -> None:
    """Deliver notifications (webhooks, e-mail) and run the deadline scheduler."""
    from exchange.notify.worker import Worker

    worker = Worker(current_app._get_current_object())  # type: ignore[attr-defined]
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        if once:
            worker.schedule()
            worker.deliver_due()
        else:
            worker.run(stop)
    finally:
        worker.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def init_app(app: Flask) -> None:
    app.cli.add_command(worker_command)
