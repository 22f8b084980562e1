"""Casework: submit, inbox, show, ack, respond, ask, supplement, withdraw, close, assign, cases."""

import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from exchange.cli.common import UsageProblem, read_json
from exchange.cli.output import echo_json, relative, table
from exchange.cli.session import client, reports_errors
from exchange.client.client import Client, InboxEntry, OpenedCase, Sent, write_record
from schemas.enums import Category, ClosureReason, Priority, WithdrawalReason

_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


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


def _body(source: str | None, what: str) -> dict[str, Any]:
    if source is None:
        raise UsageProblem(f"give the {what} as a JSON file (or - for stdin)")
    document = read_json(source)
    if not isinstance(document, dict):
        raise UsageProblem(f"{source} must hold a JSON object")
    # A full record (from `hotline envelope template`) is accepted too: its body is used.
    body = document.get("body", document) if "kind" in document else document
    if not isinstance(body, dict):
        raise UsageProblem(f"{source}: body must be an object")
    return body


@click.command()
@click.argument("case_file", metavar="CASE.json|-")
@click.option("--to", "to", required=True, help="The platform's organisation id.")
@_JSON
@reports_errors
def submit(case_file: str, to: str, as_json: bool) -> None:
    """Seal a case on this machine and send it to a platform."""
    body = _body(case_file, "case")
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
    click.echo(f"Sent case {sent.case_id} to {to} (log entry {sent.log['index']}).")
    click.echo(
        f"Acknowledgement due {relative(case['ack_due_at'])}, "
        f"action due {relative(case['action_due_at'])}."
    )


def _inbox_rows(entries: list[InboxEntry]) -> list[list[str]]:
    rows = []
    for entry in entries:
        case, handoff = entry.case, entry.handoff
        due = case["ack_due_at"] if case["acknowledged_at"] is None else case["action_due_at"]
        rows.append(
            [
                str(entry.seq),
                case["case_id"],
                handoff["kind"],
                f"{handoff['sender']['official']}@{handoff['sender']['org']}",
                case["category"],
                case["priority"],
                "overdue" if case["overdue"] else relative(due),
                case["state"],
            ]
        )
    return rows


def _pull(session: Client, from_start: bool) -> list[InboxEntry]:
    start = 0 if from_start else session.inbox_cursor()
    with click.progressbar(session.inbox(after=start), label="Fetching", file=sys.stderr) as bar:
        return list(bar)


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
            elif entries or not watch:
                table(_inbox_rows(entries), headers)
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
    click.echo(
        f"  ack due {relative(case['ack_due_at'])}, action due "
        f"{relative(case['action_due_at'])}{'  OVERDUE' if case['overdue'] else ''}"
    )
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
@_JSON
@reports_errors
def show(case_id: str, out: Path | None, as_json: bool) -> None:
    """Decrypt, verify and print a case and its timeline."""
    with client() as session:
        opened = session.open_case(case_id)
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
    if as_json:
        echo_json(document)
    else:
        _show_text(opened)


@click.command()
@click.argument("case_id")
@_JSON
@reports_errors
def ack(case_id: str, as_json: bool) -> None:
    """Acknowledge a case (or its withdrawal) with a receipt of what you decrypted."""
    with client() as session:
        _sent(session.acknowledge(case_id), as_json, "Acknowledged")


@click.command()
@click.argument("case_id")
@click.argument("response_file", metavar="RESPONSE.json|-")
@_JSON
@reports_errors
def respond(case_id: str, response_file: str, as_json: bool) -> None:
    """Answer a case with what you did (outcome, actions, reason code)."""
    body = _body(response_file, "response")
    with client() as session:
        _sent(session.respond(case_id, body), as_json, "Answered")


@click.command()
@click.argument("case_id")
@click.argument("question_file", metavar="[QUESTION.json|-]", required=False)
@click.option("--question", "questions", multiple=True, help="A question (repeatable).")
@_JSON
@reports_errors
def ask(case_id: str, question_file: str | None, questions: tuple[str, ...], as_json: bool) -> None:
    """Ask the other side for more information."""
    body = {"questions": list(questions)} if questions else _body(question_file, "question")
    with client() as session:
        _sent(session.ask(case_id, body), as_json, "Asked about")


@click.command()
@click.argument("case_id")
@click.argument("supplement_file", metavar="[SUPPLEMENT.json|-]", required=False)
@click.option("--text", help="The information, as text.")
@_JSON
@reports_errors
def supplement(case_id: str, supplement_file: str | None, text: str | None, as_json: bool) -> None:
    """Give more information (an answer, new items, attachments)."""
    body = {"text": text} if text else _body(supplement_file, "supplement")
    with client() as session:
        _sent(session.supplement(case_id, body), as_json, "Supplemented")


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
        _sent(session.withdraw(case_id, body), as_json, "Withdrew")


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
        _sent(session.close_case(case_id, body), as_json, "Closed")


@click.command()
@click.argument("case_id")
@click.argument("official_id")
@_JSON
@reports_errors
def assign(case_id: str, official_id: str, as_json: bool) -> None:
    """Hand a case to one of your platform's officials (leads only)."""
    with client() as session:
        _sent(session.assign(case_id, official_id), as_json, f"Assigned to {official_id}:")


@click.command()
@click.option("--state")
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
                "overdue" if c["overdue"] else relative(c["action_due_at"], now),
            ]
            for c in found
        ],
        ["CASE", "FROM", "TO", "CATEGORY", "PRIORITY", "STATE", "ACTION DUE"],
    )
