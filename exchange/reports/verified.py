"""The only way entries reach a report: verified by the auditor core against a checkpoint.

`verify_log` (exchange.auditor) checks every leaf against the signed checkpoint, every
statement signature against the key the log's own key events made valid, and replays
every case through the state machine; it raises an AuditError at the first problem. Only
then are the entries parsed for the report. The server calls this on its own log with its
own verifier keys; the client, on what the server served, with the key it pinned.
"""

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from exchange.auditor import verify_log
from exchange.reports.compliance import LogCheckpoint


@dataclass(frozen=True)
class VerifiedLog:
    checkpoint: LogCheckpoint
    entries: tuple[dict[str, Any], ...]


def verify_entries(
    texts: Sequence[str], checkpoint_note: str, verifier_keys: Sequence[str], origin: str
) -> VerifiedLog:
    """The entries (RFC 8785 text, from index 0) parsed, once the auditor verified them all.

    Raises `exchange.auditor.AuditError` (a VerificationError) naming the first problem.
    """
    audited = verify_log(texts, checkpoint_note, verifier_keys, origin)
    checkpoint = LogCheckpoint(
        origin=audited.checkpoint.origin,
        size=audited.checkpoint.size,
        root=base64.b64encode(audited.checkpoint.root).decode("ascii"),
        note=audited.note,
        verifier_keys=tuple(verifier_keys),
    )
    return VerifiedLog(checkpoint, tuple(json.loads(text) for text in texts))
