"""`hotline report compliance`: deadlines kept per platform, computed on this machine.

The client fetches the log's entries and latest checkpoint, verifies them with the
auditor core against the log key pinned in the profile, and computes the figures itself:
it does not take the server's word (nor its `/v1/reports` numbers) for anything.

Exit codes: 0 ok; 1 the log does not verify or the server refused; 2 usage or connection.
The HTML file holds identifiers and metadata only, never case content, so it is written
like any other file (0644 under the usual umask), for sharing.
"""

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from exchange.cli.common import UsageProblem
from exchange.cli.contract import HotlineGroup, ProgressOf, json_option
from exchange.cli.log_audit import load_witness_policy, witness_policy_option
from exchange.cli.output import echo_json, table
from exchange.cli.session import client, reports_errors
from exchange.reports import ComplianceReport, Period, PeriodError, UnknownPlatformError
from exchange.reports.fetch import compliance_report
from exchange.reports.format import duration, share
from exchange.reports.html import render
from schemas.common import format_utc, parse_utc
from schemas.reports import BoundError, parse_bound


@click.group(cls=HotlineGroup)
def report() -> None:
    """Reports computed from the verified transparency log."""


def write_report_file(path: Path, text: str) -> None:
    """Write atomically: a reader never sees half a report."""
    partial = path.with_name(path.name + ".partial")
    try:
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
    except OSError as exc:
        raise UsageProblem(f"cannot write {path}: {exc.strerror}") from exc


def _moment(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        return parse_utc(text)
    except ValueError as exc:
        raise UsageProblem(f"--as-of: {exc}") from exc


# Below this many entries a report takes well under a second: no progress bar.
_PROGRESS_FROM = 2000
# The period of a report without --from: long enough to hold a month of casework.
DEFAULT_DAYS = 30


def _period(start: str | None, end: str | None) -> Period:
    """--from/--to, each defaulting: to today (UTC) included, from DEFAULT_DAYS before."""
    end_text = end or datetime.now(UTC).date().isoformat()
    try:
        if start is not None:
            return Period.parse(start, end_text)
        try:
            until = parse_bound(end_text, end=True)
        except BoundError as exc:
            raise PeriodError(f"to {end_text[:40]!r}: {exc}") from exc
        return Period(until - timedelta(days=DEFAULT_DAYS), until)
    except PeriodError as exc:
        raise UsageProblem(str(exc)) from exc


def _time(seconds: float | None) -> str:
    return "-" if seconds is None else duration(seconds)


def _share(fraction: float | None) -> str:
    return "-" if fraction is None else share(fraction)


def _summary(result: ComplianceReport) -> None:
    rows = []
    for platform in result.platforms:
        f = platform.figures
        ack, action = f.acknowledgement, f.action
        rows.append(
            [
                platform.platform,
                str(f.cases_received),
                _time(ack.time.median_seconds),
                _time(ack.time.p90_seconds),
                _share(ack.share_met),
                _time(action.time.median_seconds),
                _time(action.time.p90_seconds),
                _share(action.share_met),
                str(f.outcomes["actioned"]),
                str(f.declined),
                str(f.overdue.count),
            ]
        )
    bounds = result.period.to_json()
    click.echo(
        f"Cases submitted from {bounds['from']} to {bounds['to']} (end excluded),"
        f" as of {format_utc(result.as_of)}"
    )
    if not any(platform.figures.cases_received for platform in result.platforms):
        click.echo("No case was submitted in this period: widen it with --from and --to.")
    table(
        rows,
        [
            "PLATFORM",
            "CASES",
            "ACK MEDIAN",
            "ACK P90",
            "ACK IN TIME",
            "ACTION MEDIAN",
            "ACTION P90",
            "ACTION IN TIME",
            "ACTIONED",
            "DECLINED",
            "OVERDUE",
        ],
    )
    for platform in result.platforms:
        for case in platform.figures.overdue.cases:
            missed = ", ".join(
                f"{d.deadline} overdue by {duration(d.overdue_seconds)}" for d in case.deadlines
            )
            click.echo(f"  overdue: {platform.platform} case {case.case_id} ({missed})")
    _evidence(result)
    checkpoint = result.checkpoint
    click.echo(
        f"Computed from {checkpoint.size} entries of log {checkpoint.origin}, verified"
        f" against its checkpoint with root {checkpoint.root}."
    )


def _evidence(result: ComplianceReport) -> None:
    """What a regulator fines on (docs/reports.md): claims against verification, interim
    answers that never became final, agencies' questions left past their deadline."""
    rows = []
    for platform in result.platforms:
        e = platform.figures.evidence
        rows.append(
            [
                platform.platform,
                str(e.removals_claimed),
                str(e.removals_verified),
                str(e.claims_contradicted),
                str(e.interim_only),
                str(e.questions_overdue),
                str(sum(e.breach_entries.values())),
            ]
        )
    table(
        rows,
        [
            "PLATFORM",
            "REMOVALS CLAIMED",
            "VERIFIED",
            "CONTRADICTED",
            "INTERIM ONLY",
            "QUESTIONS OVERDUE",
            "BREACHES LOGGED",
        ],
    )


@report.command()
@click.option("--platform", metavar="ORG", help="One platform; every platform if absent.")
@click.option(
    "--from",
    "start",
    metavar="DATE",
    help=f"First day (YYYY-MM-DD) or instant (default: {DEFAULT_DAYS} days before --to).",
)
@click.option(
    "--to",
    "end",
    metavar="DATE",
    help="Last day included, or instant excluded (default: today, UTC).",
)
@click.option(
    "--as-of",
    metavar="TIMESTAMP",
    help="Count what was logged up to this RFC 3339 UTC time (default: now), to reproduce a"
    " report.",
)
@click.option(
    "--html",
    "html_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report as one self-contained HTML page.",
)
@witness_policy_option
@json_option
@reports_errors
def compliance(
    platform: str | None,
    start: str | None,
    end: str | None,
    as_of: str | None,
    html_file: Path | None,
    witness_policy: Path | None,
    as_json: bool,
) -> None:
    """Deadlines kept per platform for the cases submitted from --from to --to.

    Computed here from the log, verified against the log key pinned in your profile (and,
    with --witness-policy, only up to a checkpoint a quorum of those witnesses cosigned).
    Without --from and --to: the last 30 days, today included.
    """
    period = _period(start, end)
    moment = _moment(as_of)
    with client(load_witness_policy(witness_policy)) as session:
        try:
            with ProgressOf("Fetching the log", at_least=_PROGRESS_FROM) as progress:
                result = compliance_report(session, period, moment, platform, progress)
        except UnknownPlatformError as exc:
            raise UsageProblem(str(exc)) from exc
        server = session.profile.server
    if html_file is not None:
        write_report_file(html_file, render(result, server=server))
    if as_json:
        echo_json(result.to_json())
    else:
        _summary(result)
    if html_file is not None:
        click.echo(f"HTML report written to {html_file}", err=as_json)
