"""The only way entries reach a report: verified by the auditor core against a checkpoint.

`verify_log` (exchange.auditor) checks every leaf against the signed checkpoint, every
statement signature against the key the log's own key events made valid, and replays
every case through the state machine; it raises an AuditError at the first problem. Only
then are the entries parsed for the report. The server calls this on its own log with its
own verifier keys; the client, on what the server served, with the key it pinned.
"""

import base64
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from exchange.auditor import verify_log
from exchange.reports.compliance import LogCheckpoint


class TimeLimitError(Exception):
    """The verification ran past its time limit: no verdict on the log, only on the time."""

    def __init__(self, read: int, limit: float) -> None:
        super().__init__(f"the time limit of {limit:g} s passed with {read} entries read")
        self.read = read
        self.limit = limit


@dataclass(frozen=True)
class VerifiedLog:
    checkpoint: LogCheckpoint
    entries: tuple[dict[str, Any], ...]


def verify_entries(
    texts: Sequence[str],
    checkpoint_note: str,
    verifier_keys: Sequence[str],
    origin: str,
    *,
    time_limit: tuple[float, float] | None = None,
) -> VerifiedLog:
    """The entries (RFC 8785 text, from index 0) parsed, once the auditor verified them all.

    Raises `exchange.auditor.AuditError` (a VerificationError) naming the first problem.
    `time_limit` is (the `time.monotonic()` at which the work began, seconds allowed):
    past it, `TimeLimitError`, checked as the verification goes.
    """
    progress = None
    if time_limit is not None:
        began, seconds = time_limit

        def progress(read: int) -> None:
            if time.monotonic() - began > seconds:
                raise TimeLimitError(read, seconds)

    audited = verify_log(texts, checkpoint_note, verifier_keys, origin, progress=progress)
    checkpoint = LogCheckpoint(
        origin=audited.checkpoint.origin,
        size=audited.checkpoint.size,
        root=base64.b64encode(audited.checkpoint.root).decode("ascii"),
        note=audited.note,
        verifier_keys=tuple(verifier_keys),
    )
    return VerifiedLog(checkpoint, tuple(json.loads(text) for text in texts))
