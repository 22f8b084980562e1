"""Collecting witness cosignatures: after new checkpoints, ask each witness to cosign.

A round takes the newest checkpoint and, for each witness of the configured policy (those
with a URL), sends it with the consistency proof from the size that witness last
cosigned (C2SP tlog-witness `add-checkpoint`). A 409 names the size the witness knows:
the round retries once from there. A cosignature is verified with the witness's pinned key
before it is stored. Nothing here runs inside a handoff's transaction and every request
has a timeout, so a witness that is down delays cosigning and never blocks the exchange.

It runs as a background thread of the app (`COSIGN_INTERVAL_SECONDS` > 0 with a
`WITNESS_POLICY_FILE`) or as `flask admin cosign [--every N]`. It is the server's one way
out besides the notification worker, to the witnesses the operator configured (never to
an address a request names); httpx is imported only when it runs, so a server that
cosigns nothing loads no HTTP client (tests/security/test_api07_ssrf.py).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask

from exchange.config import ConfigError
from exchange.protocol.cosignature import verify_cosignatures
from exchange.protocol.verification import VerificationError
from exchange.protocol.witness_policy import Witness, parse_policy
from exchange.protocol.witness_requests import (
    AddCheckpoint,
    parse_conflict,
    parse_cosignature_lines,
)
from exchange.services import transparency, witnessing
from exchange.storage import database
from exchange.storage.database import Database

if TYPE_CHECKING:
    import httpx

_log = logging.getLogger(__name__)
REQUEST_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Outcome:
    witness: str
    size: int
    result: str  # "cosigned", "up to date", or why not

    @property
    def cosigned(self) -> bool:
        return self.result in ("cosigned", "up to date")


def witnesses_from_policy(path: Path) -> list[Witness]:
    """The witnesses of a policy file that have a URL to submit to."""
    policy = parse_policy(path.read_text(encoding="utf-8"))
    return [witness for witness in policy.witnesses.values() if witness.url]


def _request(db: Database, old: int, size: int, note: str) -> bytes | str:
    """The add-checkpoint body from `old`, or why there is none."""
    if old > size:
        return f"the witness knows size {old}, beyond this log's {size}: a split view?"
    with database.read(db) as session:
        if 0 < old < size and transparency.checkpoint_at(session, old) is None:
            return f"the witness knows size {old}, which is no checkpoint of this log"
        proof = transparency.consistency(session, old, size) if 0 < old < size else []
    return AddCheckpoint(old, tuple(proof), note).encode()


def _cosign_one(
    db: Database,
    witness: Witness,
    size: int,
    note: str,
    old: int,
    client: httpx.Client,
    now: Callable[[], datetime],
) -> Outcome:
    import httpx

    name = witness.key.name
    if old == size:
        return Outcome(name, size, "up to date")
    for attempt in range(2):
        body = _request(db, old, size, note)
        if isinstance(body, str):
            return Outcome(name, size, body)
        try:
            answer = client.post(
                f"{str(witness.url).rstrip('/')}/add-checkpoint",
                content=body,
                headers={"Content-Type": "text/plain; charset=utf-8"},
            )
        except httpx.HTTPError as exc:
            return Outcome(name, size, f"unreachable: {type(exc).__name__}")
        if answer.status_code == 409 and attempt == 0:
            try:
                old = parse_conflict(answer.content)
            except VerificationError as exc:
                return Outcome(name, size, f"refused 409: {exc}")
            continue
        if answer.status_code != 200:
            reason = answer.text.strip().splitlines()[0][:200] if answer.text.strip() else ""
            return Outcome(name, size, f"refused {answer.status_code}: {reason}")
        try:
            lines = parse_cosignature_lines(answer.content)
            found = verify_cosignatures(note + "".join(lines), [witness.key])
        except VerificationError as exc:
            return Outcome(name, size, f"a bad answer: {exc}")
        if name not in found:
            return Outcome(name, size, "answered without a cosignature by its pinned key")
        with database.write(db) as session:
            witnessing.store(session, size, found[name], now())
        return Outcome(name, size, "cosigned")
    return Outcome(name, size, "refused 409 twice")


def http_client() -> httpx.Client:
    """The client a round sends with: every request times out."""
    import httpx

    return httpx.Client(timeout=REQUEST_TIMEOUT_SECONDS)


def cosign_round(
    db: Database,
    witnesses: Sequence[Witness],
    client: httpx.Client,
    now: Callable[[], datetime],
) -> list[Outcome]:
    """Ask every witness to cosign the newest checkpoint; one outcome per witness."""
    with database.read(db) as session:
        latest = transparency.latest_checkpoint(session)
        known = witnessing.last_cosigned_sizes(session)
        if latest is None:
            return []
        size, note = latest.size, latest.note
    outcomes = []
    for witness in witnesses:
        old = known.get(witness.key.name, 0)
        outcome = _cosign_one(db, witness, size, note, old, client, now)
        if not outcome.cosigned:
            _log.warning(
                "witness %s did not cosign size %d: %s", outcome.witness, size, outcome.result
            )
        outcomes.append(outcome)
    return outcomes


_BACKGROUND = "exchange.cosigner.background"


def start_background(app: Flask) -> threading.Thread | None:
    """A daemon thread running a round every COSIGN_INTERVAL_SECONDS, if configured."""
    from exchange import runtime

    interval = app.config.get("COSIGN_INTERVAL_SECONDS") or 0
    policy_file = app.config.get("WITNESS_POLICY_FILE")
    if not isinstance(interval, int | float) or isinstance(interval, bool) or interval < 0:
        raise ConfigError(f"EXCHANGE_COSIGN_INTERVAL_SECONDS must be >= 0, got {interval!r}")
    if interval == 0 or not policy_file:
        return None
    try:
        witnesses = witnesses_from_policy(Path(policy_file))
    except (OSError, VerificationError) as exc:
        raise ConfigError(f"EXCHANGE_WITNESS_POLICY_FILE {policy_file}: {exc}") from exc
    stop = threading.Event()

    def run() -> None:
        with http_client() as client:
            while not stop.wait(interval):
                with app.app_context():
                    try:
                        cosign_round(runtime.get_database(), witnesses, client, runtime.now)
                    except Exception:  # a round must never kill the thread; it logs and retries
                        _log.exception("cosigning round failed")

    thread = threading.Thread(target=run, name="cosigner", daemon=True)
    app.extensions[_BACKGROUND] = (stop, thread)
    thread.start()
    return thread


def stop_background(app: Flask, timeout: float = 30) -> None:
    """Stop the background thread and wait for its round to end, so that nothing uses the
    database afterwards (its pool can then be closed without a connection left open)."""
    started: tuple[threading.Event, threading.Thread] | None = app.extensions.pop(_BACKGROUND, None)
    if started is not None:
        stop, thread = started
        stop.set()
        thread.join(timeout)
