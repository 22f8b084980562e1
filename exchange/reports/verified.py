"""The only way entries reach a report: verified by the auditor core against a checkpoint.

`verify_log` (exchange.auditor) checks every leaf against the signed checkpoint, every
statement signature against the key the log's own key events made valid, and replays
every case through the state machine; it raises an AuditError at the first problem. Only
then are the entries parsed for the report. The server calls this on its own log with its
own verifier keys; the client, on what the server served, with the key it pinned.

`VerifiedReports` is the same for a log that grows: each entry verified once, when it is
new, and folded into the histories reports read (the server keeps one per database).
"""

import base64
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from exchange.auditor import AuditReport, LogVerifier, verify_log
from exchange.reports.compliance import ComplianceReport, LogCheckpoint
from exchange.reports.incremental import Histories
from exchange.reports.period import Period


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
    audited = verify_log(
        texts, checkpoint_note, verifier_keys, origin, progress=_progress(time_limit)
    )
    checkpoint = _log_checkpoint(audited, verifier_keys)
    return VerifiedLog(checkpoint, tuple(json.loads(text) for text in texts))


class VerifiedReports:
    """A log verified as it grows, and the histories its reports read, kept in step.

    `extend` verifies the entries after those verified before (`exchange.auditor.
    LogVerifier`) and only then folds them into the histories (`incremental.Histories`);
    `report` computes from those what `compliance.compute` would from every entry. After
    an `extend` that raised, the state is spent (`SpentVerifierError`): start a new one.
    """

    def __init__(self, verifier_keys: Sequence[str], origin: str) -> None:
        self.verifier_keys = tuple(verifier_keys)
        self._verifier = LogVerifier(verifier_keys, origin)
        self._histories = Histories()
        self.checkpoint: LogCheckpoint | None = None

    @property
    def size(self) -> int:
        """Entries verified so far: the next `extend` starts at this index."""
        return self._verifier.size

    def extend(
        self,
        texts: Sequence[str],
        checkpoint_note: str,
        *,
        time_limit: tuple[float, float] | None = None,
    ) -> None:
        """Verify the entries from index `size` on against the checkpoint, then keep them.

        Raises as `verify_entries` does (`read` of `TimeLimitError` counts from index 0).
        """
        audited = self._verifier.extend(texts, checkpoint_note, progress=_progress(time_limit))
        self._histories.extend(json.loads(text) for text in texts)
        self.checkpoint = _log_checkpoint(audited, self.verifier_keys)

    def report(
        self, *, period: Period, now: datetime, platform: str | None = None
    ) -> ComplianceReport:
        """The report of `period` as of `now` from every entry verified (`UnknownPlatformError`
        for a platform not in the log)."""
        if self.checkpoint is None:
            raise ValueError("nothing verified yet")
        return self._histories.report(
            checkpoint=self.checkpoint, period=period, now=now, platform=platform
        )


def _progress(time_limit: tuple[float, float] | None) -> Callable[[int], None] | None:
    if time_limit is None:
        return None
    began, seconds = time_limit

    def progress(read: int) -> None:
        if time.monotonic() - began > seconds:
            raise TimeLimitError(read, seconds)

    return progress


def _log_checkpoint(audited: AuditReport, verifier_keys: Sequence[str]) -> LogCheckpoint:
    return LogCheckpoint(
        origin=audited.checkpoint.origin,
        size=audited.checkpoint.size,
        root=base64.b64encode(audited.checkpoint.root).decode("ascii"),
        note=audited.note,
        verifier_keys=tuple(verifier_keys),
    )
