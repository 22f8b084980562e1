"""`hotline monitor`: every change to your organisation's membership and keys, from the log.

Run by a lead, by hand or on a schedule. It verifies the whole log up to a checkpoint it
verified (consistent with the last one this profile saw), replays every directory entry
with the auditor (`exchange.auditor`: each lead's statement checked against the keys the
log made valid at its index), and reports the organisation's changes since its last run.
Exit 1 if any was not signed by one of the organisation's leads (or, for an official's
own keys, by that official): an invitation, a deactivation or a key revocation by the
operator alone. The log size reached is kept in the profile's state folder.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from exchange.auditor import AuditError, verify_log
from exchange.auditor.http import HttpSource
from exchange.auditor.membership import Change
from exchange.auditor.source import SourceError, iter_entries
from exchange.cli.common import Refused, UsageProblem
from exchange.cli.contract import json_option
from exchange.cli.output import echo_json, table
from exchange.cli.session import client, reports_errors
from exchange.client.client import Client
from exchange.client.profile import write_private


def _last_size(path: Path) -> int:
    if not path.exists():
        return 0
    try:
        size = json.loads(path.read_text())["size"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UsageProblem(f"cannot read the monitor state {path}: {exc}") from exc
    if not isinstance(size, int) or size < 0:
        raise UsageProblem(f"the monitor state {path} holds no log size")
    return size


@dataclass(frozen=True)
class Watched:
    org: str
    since: int  # the log size the last run reached
    size: int  # the log size this run verified
    changes: list[Change]

    @property
    def unauthorised(self) -> list[Change]:
        return [c for c in self.changes if not c.authorised]


def watch(session: Client, org: str) -> Watched:
    """Verify the log up to a checkpoint this client verified, replay it, and return the
    organisation's changes since the last run (whose log size is then saved)."""
    verified = session.log.checkpoint(refresh=True)
    source = HttpSource(session.profile.server, token=session.transport.access_token)
    try:
        report = verify_log(
            iter_entries(source, verified.checkpoint.size),
            verified.note,
            session.log.verifier_keys,
            session.profile.log_origin,
        )
    except AuditError as exc:
        raise Refused(f"the log does not verify: {exc}") from exc
    except SourceError as exc:
        raise UsageProblem(str(exc)) from exc
    finally:
        source.close()
    state = session.state_dir / f"monitor-{org}.json"
    since = _last_size(state)
    if since > report.entries:
        raise Refused(f"the log has {report.entries} entries, fewer than {since} seen before")
    state.parent.mkdir(parents=True, exist_ok=True)
    write_private(state, json.dumps({"org": org, "size": report.entries}) + "\n")
    changes = [c for c in report.changes if c.org == org and c.index >= since]
    return Watched(org, since, report.entries, changes)


def _row(change: Change) -> dict[str, Any]:
    return {
        "index": change.index,
        "event": change.event,
        "official": change.official,
        "signer": change.signer,
        "authorised": change.authorised,
        "summary": change.summary,
    }


@click.command()
@click.option("--org", help="The organisation to watch (default: your own).")
@json_option
@reports_errors
def monitor(org: str | None, as_json: bool) -> None:
    """Report every membership and key change since the last run; exit 1 on one that no
    lead of the organisation signed."""
    with client() as session:
        watched = watch(session, org or session.profile.org)
    changes, unauthorised = watched.changes, watched.unauthorised
    if as_json:
        echo_json(
            {
                "org": watched.org,
                "from": watched.since,
                "to": watched.size,
                "changes": [_row(c) for c in changes],
                "unauthorised": len(unauthorised),
            }
        )
    else:
        click.echo(
            f"{watched.org}: {len(changes)} change(s) in log entries"
            f" {watched.since}..{watched.size - 1}"
        )
        table(
            [
                [
                    str(c.index),
                    c.summary,
                    c.signer or "-",
                    "ok" if c.authorised else click.style("NOT SIGNED BY A LEAD", fg="red"),
                ]
                for c in changes
            ],
            ["ENTRY", "CHANGE", "SIGNED BY", "CHECK"],
        )
    if unauthorised:
        first = unauthorised[0]
        raise Refused(
            f"{len(unauthorised)} change(s) to {watched.org} not signed by one of its leads,"
            f" first at entry {first.index}: {first.summary}"
        )
