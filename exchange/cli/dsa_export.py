"""`hotline export-dsa`: a platform's final responses as DSA statements of reasons.

The platform's official decrypts and verifies its cases here, maps each final response
to a statement of reasons (`exchange.client.dsa_statements`), checks each against the
DSA Transparency Database's schema, and writes `{"statements": [...]}`, the body of the
database's batch endpoint. Nothing is sent to the EU: the platform submits the file.
The file holds text from decrypted records, so it is written owner-only.
"""

from datetime import datetime
from pathlib import Path
from typing import Any

import click

from exchange.cli import ids
from exchange.cli.contract import UsageProblem, echo_json, json_option, note, progress_over
from exchange.cli.session import client, reports_errors
from exchange.client.client import Client, write_record
from exchange.client.dsa_statements import (
    NotExportableError,
    decided_case,
    statement_of_reasons,
)
from schemas.dsa import MAX_BATCH
from schemas.reports import BoundError, parse_bound


def _bound(text: str | None, name: str, *, end: bool) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_bound(text, end=end)
    except BoundError as exc:
        raise UsageProblem(f"--{name} {text[:40]!r}: {exc}") from exc


def _case_ids(session: Client, given: tuple[str, ...]) -> list[str]:
    if given:
        return list(dict.fromkeys(ids.case_id(session, each) for each in given))
    mine = session.profile.org
    return [c["case_id"] for c in session.cases() if c["platform_org"] == mine]


def _export(
    session: Client,
    case_ids: list[str],
    period: tuple[datetime | None, datetime | None],
    trusted: tuple[str, ...],
) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    start, end = period
    statements: list[dict[str, Any]] = []
    skipped: list[dict[str, str]] = []
    for case_id in progress_over(case_ids, "Exporting"):
        opened = session.open_case(case_id)
        if opened.case["platform_org"] != session.profile.org:
            skipped.append({"case_id": case_id, "reason": "not a case of your platform"})
            continue
        try:
            decided = decided_case(opened)
            if (start and decided.answered_at < start) or (end and decided.answered_at >= end):
                continue
            statements.append(statement_of_reasons(decided, trusted))
        except NotExportableError as exc:
            skipped.append({"case_id": case_id, "reason": str(exc)})
    return statements, skipped


@click.command(name="export-dsa")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the statements here, as the batch endpoint's body (owner-only file).",
)
@click.option(
    "--case", "cases", multiple=True, help="Only this case (its id or start); repeatable."
)
@click.option("--from", "start", help="Final responses from this date or UTC time on.")
@click.option("--to", "end", help="Final responses until this date (included) or UTC time.")
@click.option(
    "--trusted-flagger",
    "trusted",
    multiple=True,
    metavar="ORG",
    help="An agency with trusted-flagger status (Art. 22 DSA); repeatable.",
)
@json_option
@reports_errors
def export_dsa(
    out: Path,
    cases: tuple[str, ...],
    start: str | None,
    end: str | None,
    trusted: tuple[str, ...],
    as_json: bool,
) -> None:
    """Your platform's final responses as DSA Transparency Database statements of reasons.

    One statement per case whose final response restricted content, checked against the
    database's schema; the others are listed as skipped, with the reason. The file is what
    the platform submits (POST /api/v1/statements); nothing is sent from here.
    """
    period = (_bound(start, "from", end=False), _bound(end, "to", end=True))
    if period[0] and period[1] and period[1] <= period[0]:
        raise UsageProblem("--to must be after --from")
    with client() as session:
        statements, skipped = _export(session, _case_ids(session, cases), period, trusted)
    try:
        write_record(out, {"statements": statements})
    except OSError as exc:
        raise UsageProblem(f"cannot write {out}: {exc.strerror}") from exc
    if len(statements) > MAX_BATCH:
        note(f"the batch endpoint takes at most {MAX_BATCH} statements a call: submit in parts")
    if as_json:
        echo_json({"out": str(out), "statements": len(statements), "skipped": skipped})
        return
    click.echo(f"Wrote {len(statements)} statement(s) of reasons to {out}.")
    for each in skipped:
        click.echo(f"  skipped case {each['case_id']}: {each['reason']}")
