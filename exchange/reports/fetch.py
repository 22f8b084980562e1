"""The client's side: fetch the log with the SDK, verify it, and compute the report locally.

The server's own report endpoint is a convenience; this is the one a platform cannot
dispute and a regulator need not trust the exchange for. The checkpoint is the latest the
client verified with the log key pinned at enrollment (and consistent with the last one
it saw); the entries are the server's, verified against it by the auditor core.
"""

from collections.abc import Callable, Iterator
from datetime import datetime

from exchange.client.client import Client
from exchange.client.errors import TrustError
from exchange.reports.compliance import ComplianceReport, compute
from exchange.reports.period import Period
from exchange.reports.verified import VerifiedLog, verify_entries

# The server's page limit for /v1/log/entries.
PAGE = 1000


# `progress(done, total)`, told after each page of entries (a bar, in the CLI).
Progress = Callable[[int, int], None]


def _pages(client: Client, size: int, progress: Progress | None = None) -> Iterator[str]:
    start = 0
    while start < size:
        rows = client.transport.get("/v1/log/entries", start=start, end=size)["entries"]
        if not rows:
            raise TrustError(f"the server served {start} entries of a checkpoint of {size}")
        for row in rows:
            yield str(row["entry"])
        start += len(rows)
        if progress is not None:
            progress(start, size)


def verified_log(client: Client, progress: Progress | None = None) -> VerifiedLog:
    """The whole log up to the latest checkpoint, verified with the profile's pinned key."""
    return verified_texts(client, progress)[1]


def verified_texts(
    client: Client, progress: Progress | None = None
) -> tuple[list[str], VerifiedLog]:
    """The same, with the entries' exact text: what an evidence pack's bundle carries."""
    latest = client.log.checkpoint(refresh=True)
    texts = list(_pages(client, latest.checkpoint.size, progress))
    verified = verify_entries(
        texts, latest.note, client.profile.log_verifier_keys, client.profile.log_origin
    )
    return texts, verified


def compliance_report(
    client: Client,
    period: Period,
    now: datetime,
    platform: str | None = None,
    progress: Progress | None = None,
) -> ComplianceReport:
    """What `hotline report compliance` computes: fetched, verified, computed here."""
    log = verified_log(client, progress)
    return compute(
        log.entries, checkpoint=log.checkpoint, period=period, now=now, platform=platform
    )
