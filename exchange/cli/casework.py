"""Casework: submit, inbox, show, ack, respond, ask, supplement, withdraw, close, assign, cases."""

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from exchange.cli import ids, inputs
from exchange.cli.common import UsageProblem, read_json
from exchange.cli.contract import json_option, note, progress_over
from exchange.cli.output import deadline, deadlines_line, echo_json, relative, table
from exchange.cli.session import client, reports_errors
from exchange.client.client import Client, InboxEntry, OpenedCase, Sent, write_record
from exchange.protocol.envelope.templates import EXAMPLE_AGENCY, EXAMPLE_PLATFORM
from exchange.protocol.workflow import AWAITING_ACK, State
from schemas.common import parse_utc
from schemas.enums import Category, ClosureReason, Kind, Priority, WithdrawalReason
from schemas.messages import body_errors

_JSON = json_option
# What a record from `hotline envelope template` carries that the client sets itself.
_SET_BY_CLIENT = ("handoff_id", "case_id", "issued_at", "sender", "in_reply_to")
_PLACEHOLDER_ORGS = {EXAMPLE_AGENCY, EXAMPLE_PLATFORM}


def _sent(sent: Sent, as_json: bool, verb: str) -> None:
    if as_json:
        echo_json(
            {
                "case_id": sent.case_id,
                "handoff_id": sent.handoff_id,
                "kind": sent.kind,
                "state": sent.state,
                "log": sent.log,
            }
        )
        return
    click.echo(f"{verb} case {sent.case_id}: now {sent.state} (log entry {sent.log['index']})")


def _document(source: str | None, what: str) -> dict[str, Any]:
    if source is None:
        raise UsageProblem(f"give the {what} as a JSON file (or - for stdin)")
    document = read_json(source)
    if not isinstance(document, dict):
        raise UsageProblem(f"{source} must hold a JSON object")
    return document


def _checked(kind: Kind, body: dict[str, Any], source: str) -> dict[str, Any]:
    """The body, if it is a valid `kind` body; else exit 2 naming the fields at fault."""
    problem = body_errors(kind, body)
    if problem is not None:
        raise UsageProblem(f"{source}: {problem}")
    return body


def _body(source: str | None, kind: Kind) -> dict[str, Any]:
    """The body of `kind` in `source`: a bare body, or a full record whose body is used."""
    return _body_of(_document(source, str(kind)), kind, source or "-")


def _body_of(document: dict[str, Any], kind: Kind, name: str) -> dict[str, Any]:
    if "kind" in document:
        # A full record (from `hotline envelope template`): its kind must be this one.
        if document["kind"] != kind:
            raise UsageProblem(f"{name} is a {document['kind']}, not a {kind}")
        body = document.get("body")
        if not isinstance(body, dict):
            raise UsageProblem(f"{name}: body must be an object")
        return _checked(kind, body, name)
    return _checked(kind, document, name)


def _recipient(document: dict[str, Any], to: str | None, source: str) -> str:
    """--to, else the record's own `to`; a record addressed elsewhere is refused."""
    named = [org for org in document.get("to") or [] if org not in _PLACEHOLDER_ORGS]
    if to is None:
        if len(named) != 1:
            raise UsageProblem(f"name the platform with --to (as {source} names none)")
        return str(named[0])
    if named and named != [to]:
        raise UsageProblem(f"{source} is addressed to {', '.join(named)}, not --to {to}")
    return to


@click.command()
@click.argument("case_file", metavar="CASE.json|-")
@click.option("--to", "to", help="The platform's organisation id (else the record's `to`).")
@click.option(
    "--attach",
    "attachments",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A file to attach (hashed and encrypted with the case); repeatable.",
)
@click.option("--quiet", "-q", is_flag=True, help="Print only the case id (for scripts).")
@_JSON
@reports_errors
def submit(
    case_file: str, to: str | None, attachments: tuple[Path, ...], quiet: bool, as_json: bool
) -> None:
    """Seal a case on this machine and send it to a platform.

    CASE.json is a case body, or a full record from `hotline envelope template`: then
    its `to` is used when --to is not given, and its ids, time and sender are set here.
    """
    document = _document(case_file, "case")
    to = _recipient(document, to, case_file)
    body = inputs.attach(_body_of(document, Kind.CASE, case_file), attachments)
    _checked(Kind.CASE, body, case_file)
    replaced = [name for name in _SET_BY_CLIENT if document.get(name) is not None]
    if "kind" in document and replaced:
        note(f"{case_file}: {', '.join(replaced)} are set by hotline (a new case, sent by you)")
    with client() as session:
        sent = session.submit(body, to)
        case = session.case(sent.case_id)
    if as_json:
        echo_json(
            {
                "case_id": sent.case_id,
                "handoff_id": sent.handoff_id,
                "state": sent.state,
                "assignee": case["assignee"],
                "ack_due_at": case["ack_due_at"],
                "action_due_at": case["action_due_at"],
                "log": sent.log,
            }
        )
        return
    if quiet:
        click.echo(sent.case_id)
        return
    click.echo(f"Sent case {sent.case_id} to {to} (log entry {sent.log['index']}).")
    if attachments:
        click.echo(f"With {len(attachments)} attachment(s), encrypted in the case.")
    click.echo(
        f"Acknowledgement due {relative(case['ack_due_at'])}, "
        f"action due {relative(case['action_due_at'])}."
    )


def _inbox_rows(entries: list[InboxEntry]) -> list[list[str]]:
    rows = []
    for entry in entries:
        case, handoff = entry.case, entry.handoff
        rows.append(
            [
                str(entry.seq),
                case["case_id"],
                handoff["kind"],
                f"{handoff['sender']['official']}@{handoff['sender']['org']}",
                case["category"],
                case["priority"],
                deadline(case),
                case["state"],
            ]
        )
    return rows


def _pull(session: Client, from_start: bool) -> list[InboxEntry]:
    start = 0 if from_start else session.inbox_cursor()
    return list(progress_over(session.inbox(after=start), "Fetching"))


def _still_waiting(session: Client) -> None:
    """Nothing new; but cases already fetched may still await this platform's receipt."""
    waiting = [
        c
        for state in sorted(AWAITING_ACK)
        for c in session.cases(state=str(state))
        if c["platform_org"] == session.profile.org
    ]
    click.echo("Nothing new since your last inbox.")
    for case in waiting:
        click.echo(
            f"  case {case['case_id']} still awaits acknowledgement ({deadline(case)}):"
            f" hotline ack {case['case_id'][:8]}"
        )
    click.echo("`hotline cases` lists every case; `hotline inbox --from-start` shows all again.")


@click.command()
@click.option("--watch", is_flag=True, help="Keep polling for new handoffs.")
@click.option("--interval", default=15, show_default=True, help="Seconds between polls.")
@click.option("--from-start", is_flag=True, help="Show everything again, from the first.")
@_JSON
@reports_errors
def inbox(watch: bool, interval: int, from_start: bool, as_json: bool) -> None:
    """New handoffs addressed to you (each fetch is on record), from where you left off."""
    headers = ["SEQ", "CASE", "KIND", "FROM", "CATEGORY", "PRIORITY", "DUE", "STATE"]
    with client() as session:
        while True:
            entries = _pull(session, from_start)
            from_start = False
            if as_json:
                echo_json([{"seq": e.seq, "case": e.case, "handoff": e.handoff} for e in entries])
            elif entries:
                table(_inbox_rows(entries), headers)
            elif not watch:
                _still_waiting(session)
            if not watch:
                return
            time.sleep(interval)


def _show_text(opened: OpenedCase) -> None:
    case = opened.case
    click.echo(
        f"Case {case['case_id']}  {case['category']}  priority {case['priority']}  "
        f"state {case['state']}"
    )
    click.echo(
        f"  from {case['issuer_official']}@{case['issuer_org']} "
        f"(ref {case['issuer_case_ref']}) to {case['platform_org']}; "
        f"assignee {case['assignee'] or '-'}"
    )
    click.echo(f"  {deadlines_line(case)}")
    click.echo("Timeline (every signature, digest and log inclusion verified):")
    for handoff in opened.timeline:
        click.echo(
            f"  [{handoff.log_index}] {handoff.received_at} {handoff.kind} by "
            f"{handoff.sender['official']}@{handoff.sender['org']}"
        )
        if handoff.record is not None:
            for line in _summary(handoff.kind, handoff.record["body"]):
                click.echo(f"      {line}")
        elif handoff.statement.document.get("meta"):
            meta = handoff.statement.document["meta"]
            click.echo("      " + ", ".join(f"{name} {value}" for name, value in meta.items()))


def _summary(kind: str, body: dict[str, Any]) -> list[str]:
    if kind == "case":
        lines = [f"{body['request_type']}: {body['statement_of_reasons'][:160]}"]
        for item in body["items"]:
            where = ", ".join(loc["value"] for loc in item["locators"]) or "(hashes only)"
            lines.append(
                f"item {item['item_id']}: {', '.join(item['requested_actions'])} — {where}"
            )
        return lines
    if kind == "response":
        return [
            f"outcome {body['outcome']}"
            + (f" ({body.get('reason_code')})" if body.get("reason_code") else "")
        ]
    if kind == "question":
        return [f"? {q}" for q in body["questions"]]
    return [f"{key}: {value}" for key, value in body.items() if isinstance(value, str)][:5]


@click.command()
@click.argument("case_id")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the decrypted records here (owner-only file).",
)
@click.option(
    "--save-attachments",
    "attachments_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the case's attachments into this folder, each after checking its SHA-256.",
)
@_JSON
@reports_errors
def show(case_id: str, out: Path | None, attachments_dir: Path | None, as_json: bool) -> None:
    """Decrypt, verify and print a case and its timeline (CASE_ID: the id or its start)."""
    with client() as session:
        opened = session.open_case(ids.case_id(session, case_id))
    summary = {key: value for key, value in opened.case.items() if key != "timeline"}
    document: dict[str, Any] = {
        "case": summary,
        "timeline": [
            {
                "handoff_id": h.handoff_id,
                "kind": h.kind,
                "sender": h.sender,
                "log_index": h.log_index,
                "received_at": h.received_at,
                "statement": dict(h.statement.document),
                "record": h.record,
                "record_sha256": h.record_sha256,
            }
            for h in opened.timeline
        ],
    }
    if out is not None:
        write_record(out, document)
    saved: list[Path] = []
    if attachments_dir is not None:
        items = inputs.attachments_of(h.record for h in opened.timeline)
        saved = inputs.save_attachments(items, attachments_dir)
        document["saved_attachments"] = [str(path) for path in saved]
    if as_json:
        echo_json(document)
        return
    _show_text(opened)
    for path in saved:
        click.echo(f"Saved attachment {path} (SHA-256 checked)")
    if attachments_dir is not None and not saved:
        click.echo("No attachments to save.")


@click.command()
@click.argument("case_id")
@_JSON
@reports_errors
def ack(case_id: str, as_json: bool) -> None:
    """Acknowledge a case (or its withdrawal) with a receipt of what you decrypted."""
    with client() as session:
        _sent(session.acknowledge(ids.case_id(session, case_id)), as_json, "Acknowledged")


@click.command()
@click.argument("case_id")
@click.argument("response_file", metavar="RESPONSE.json|-")
@_JSON
@reports_errors
def respond(case_id: str, response_file: str, as_json: bool) -> None:
    """Answer a case with what you did (outcome, actions, reason code)."""
    body = _body(response_file, Kind.RESPONSE)
    with client() as session:
        found = ids.case_id(session, case_id)
        _check_action_times(body, session.case(found), response_file)
        _sent(session.respond(found, body), as_json, "Answered")


# How far an action's time may stray outside [submission, now] (clocks drift).
_CLOCK_SKEW = timedelta(minutes=5)


def _check_action_times(body: dict[str, Any], case: dict[str, Any], source: str) -> None:
    """An action is dated between the case's submission and now: the server cannot check
    it (it never sees the body), so the client does, before anything is signed."""
    earliest = parse_utc(case["submitted_at"]) - _CLOCK_SKEW
    latest = datetime.now(UTC) + _CLOCK_SKEW
    for index, action in enumerate(body.get("actions_taken") or []):
        at = parse_utc(action["at"])
        if at < earliest:
            raise UsageProblem(
                f"{source}: actions_taken[{index}].at {action['at']} is before the case was"
                f" submitted ({case['submitted_at']})"
            )
        if at > latest:
            raise UsageProblem(
                f"{source}: actions_taken[{index}].at {action['at']} is in the future"
            )


@click.command()
@click.argument("case_id")
@click.argument("question_file", metavar="[QUESTION.json|-]", required=False)
@click.option("--question", "questions", multiple=True, help="A question (repeatable).")
@_JSON
@reports_errors
def ask(case_id: str, question_file: str | None, questions: tuple[str, ...], as_json: bool) -> None:
    """Ask the other side for more information."""
    body = {"questions": list(questions)} if questions else _body(question_file, Kind.QUESTION)
    with client() as session:
        _sent(session.ask(ids.case_id(session, case_id), body), as_json, "Asked about")


@click.command()
@click.argument("case_id")
@click.argument("supplement_file", metavar="[SUPPLEMENT.json|-]", required=False)
@click.option("--text", help="The information, as text.")
@click.option(
    "--attach",
    "attachments",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A file to attach (hashed and encrypted); repeatable.",
)
@_JSON
@reports_errors
def supplement(
    case_id: str,
    supplement_file: str | None,
    text: str | None,
    attachments: tuple[Path, ...],
    as_json: bool,
) -> None:
    """Give more information (an answer, new items, attachments)."""
    if text or (attachments and supplement_file is None):
        body: dict[str, Any] = {"text": text} if text else {}
    else:
        body = _body(supplement_file, Kind.SUPPLEMENT)
    body = _checked(Kind.SUPPLEMENT, inputs.attach(body, attachments), supplement_file or "--text")
    with client() as session:
        _sent(session.supplement(ids.case_id(session, case_id), body), as_json, "Supplemented")


@click.command()
@click.argument("case_id")
@click.option("--reason", type=click.Choice([str(v) for v in WithdrawalReason]), required=True)
@click.option("--explanation")
@_JSON
@reports_errors
def withdraw(case_id: str, reason: str, explanation: str | None, as_json: bool) -> None:
    """Withdraw your case; the platform must acknowledge the withdrawal."""
    body = {"reason": reason, **({"explanation": explanation} if explanation else {})}
    with client() as session:
        _sent(session.withdraw(ids.case_id(session, case_id), body), as_json, "Withdrew")


@click.command(name="close")
@click.argument("case_id")
@click.option("--reason", type=click.Choice([str(v) for v in ClosureReason]), required=True)
@click.option("--notes")
@_JSON
@reports_errors
def close_case(case_id: str, reason: str, notes: str | None, as_json: bool) -> None:
    """Close your case."""
    body = {"reason": reason, **({"notes": notes} if notes else {})}
    with client() as session:
        _sent(session.close_case(ids.case_id(session, case_id), body), as_json, "Closed")


@click.command()
@click.argument("case_id")
@click.argument("official_id")
@_JSON
@reports_errors
def assign(case_id: str, official_id: str, as_json: bool) -> None:
    """Hand a case to one of your platform's officials (leads only)."""
    with client() as session:
        found = ids.case_id(session, case_id)
        _sent(session.assign(found, official_id), as_json, f"Assigned to {official_id}:")


@click.command()
@click.option("--state", type=click.Choice([str(v) for v in State]))
@click.option("--category", type=click.Choice([str(v) for v in Category]))
@click.option("--priority", type=click.Choice([str(v) for v in Priority]))
@click.option("--overdue/--not-overdue", default=None)
@_JSON
@reports_errors
def cases(
    state: str | None,
    category: str | None,
    priority: str | None,
    overdue: bool | None,
    as_json: bool,
) -> None:
    """The cases you may see, with their state and deadlines."""
    filters = {
        "state": state,
        "category": category,
        "priority": priority,
        "overdue": None if overdue is None else str(overdue).lower(),
    }
    with client() as session:
        found = list(session.cases(**filters))
    if as_json:
        echo_json(found)
        return
    now = datetime.now(UTC)
    table(
        [
            [
                c["case_id"],
                c["issuer_org"],
                c["platform_org"],
                c["category"],
                c["priority"],
                c["state"],
                deadline(c, now),
            ]
            for c in found
        ],
        ["CASE", "FROM", "TO", "CATEGORY", "PRIORITY", "STATE", "DUE"],
    )
