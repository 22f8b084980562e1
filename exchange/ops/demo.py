"""`make demo`: a real exchange on a free port, driven only through the SDK over HTTP.

A regulator and a victim-support centre (agencies), two platforms with a designated
official and a lead each, and an auditor. Every step checks that the system behaved as
described; the demo exits non-zero at the first step that did not.
"""

import base64
import hashlib
import json
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from exchange.auditor import verify_log
from exchange.auditor.http import HttpSource
from exchange.auditor.source import SourceError, checkpoint_size, iter_entries
from exchange.cli.monitor import Watched, watch
from exchange.cli.reporting import write_report_file
from exchange.client import authoring
from exchange.client.client import Client
from exchange.client.errors import ClientError, ServerRefusedError
from exchange.client.profile import Profile
from exchange.client.transport import Transport
from exchange.ops.demo_witnesses import witnessed
from exchange.ops.devserver import BIN, LiveServer
from exchange.ops.receiver import WebhookInbox, webhook_inbox
from exchange.protocol import envelope as env
from exchange.protocol.key_management import code_sha256
from exchange.protocol.verification import VerificationError
from exchange.reports import ComplianceReport, Period
from exchange.reports.fetch import compliance_report
from exchange.reports.format import duration
from exchange.reports.html import render
from keys import Identity
from schemas.common import format_utc

# Normal-priority deadlines of seconds, so one case can visibly miss them during the demo.
DEADLINES = {"urgent": [3600, 86400], "high": [14400, 259200], "normal": [3, 6]}
# Distinctive plaintext: the demo's test checks none of it reaches the server's database.
SECRET_MARKERS = (
    "Dr Ilse Varga-Moreau",
    "tg-channel-wolfpack-leaks",
    "mirror-hydra-7731.example",
    "the uploader works at the victim's gym",
)


class DemoFailedError(RuntimeError):
    """A step did not behave as the scenario says."""


def expect(condition: bool, what: str) -> None:
    if not condition:
        raise DemoFailedError(what)
    print(f"  ok  {what}")


@dataclass
class Cast:
    regulator: Client
    helpline: Client
    clip_official: Client
    clip_lead: Client
    chat_official: Client
    chat_lead: Client
    auditor: Client
    tickets: WebhookInbox | None = None  # ClipShare's ticketing system, told by webhook


def _enroll(
    server: LiveServer, workdir: Path, org: str, official: str, role: str, *options: str
) -> Client:
    code = server.invite(org, official, role, *options)
    identity = Identity.generate()
    transport = Transport(server.url)
    try:
        log = transport.request("GET", "/v1/log/key", auth=False)
        statement = authoring.enrollment(
            identity, org, official, code_sha256(code), transport.clock()
        )
        enrolled = transport.post_json(
            "/v1/enroll", {"code": code, "statement": statement}, auth=False
        )
    finally:
        transport.close()
    profile = Profile(
        official,
        server.url,
        "",
        org,
        official,
        log["origin"],
        (log["verifier_key"],),
        audience=enrolled["token_endpoint"],
    )
    return Client(profile, identity, state_dir=workdir / "clients" / official)


def set_up(server: LiveServer, workdir: Path) -> Cast:
    print("Setting up organisations and officials (operator)")
    for org, kind, name in (
        ("online-safety-regulator", "agency", "Online Safety Regulator"),
        ("safe-harbour-helpline", "agency", "Safe Harbour Victim Support"),
        ("clipshare", "platform", "ClipShare"),
        ("chatter", "platform", "Chatter"),
        ("audit-office", "auditor", "Court Audit Office"),
    ):
        server.admin("org", "create", org, "--kind", kind, "--name", name)
    # Each organisation's first official is its lead, bootstrapped by the operator and
    # marked so in the log; the leads approve everyone else.
    regulator = _enroll(
        server, workdir, "online-safety-regulator", "osr-duty-officer", "agency_officer"
    )
    helpline = _enroll(server, workdir, "safe-harbour-helpline", "shh-caseworker", "agency_officer")
    clip_lead = _enroll(server, workdir, "clipshare", "cs-lead", "platform_lead")
    chat_lead = _enroll(server, workdir, "chatter", "ch-lead", "platform_lead")
    auditor = _enroll(server, workdir, "audit-office", "court-auditor", "auditor")
    clip_official = _enroll(server, workdir, "clipshare", "cs-designated", "platform_official")
    chat_official = _enroll(server, workdir, "chatter", "ch-designated", "platform_official")
    cast = Cast(regulator, helpline, clip_official, clip_lead, chat_official, chat_lead, auditor)
    memberships(cast)
    expect(True, "5 organisations, 7 officials enrolled with keys generated on their machines")
    return cast


def _monitored(lead: Client, org: str) -> Watched:
    watched = watch(lead, org)
    for change in watched.changes:
        check = "ok" if change.authorised else "NOT SIGNED BY A LEAD"
        print(f"      entry {change.index:>3}  {change.summary:<58} {check}")
    return watched


def memberships(cast: Cast) -> None:
    """The operator invited the designated officials; only their leads' approval counts."""
    print("Membership: the operator invites, the platform's lead approves (hotline org/monitor)")
    pending = cast.clip_lead.keys("clipshare")
    expect(
        cast.clip_official.identity.encryption_kid not in {k["kid"] for k in pending},
        "an official the operator alone invited is no recipient of ClipShare's cases",
    )
    print("  cs-lead runs `hotline monitor`:")
    watched = _monitored(cast.clip_lead, "clipshare")
    expect(
        [c.official for c in watched.unauthorised] == ["cs-designated"],
        "the monitor flags the operator's invitation (exit 1): no lead signed it",
    )
    for lead, org, official in (
        (cast.clip_lead, "clipshare", "cs-designated"),
        (cast.chat_lead, "chatter", "ch-designated"),
    ):
        categories = ["sexual_deepfake", "ncii"] if org == "clipshare" else ["ncii"]
        lead.membership(
            "approve",
            official=official,
            role="platform_official",
            categories=categories,
            lead=False,
        )
        for category in categories:
            lead.membership("route", category=category, official=official)
    print("  cs-lead approves cs-designated and routes them cases; `hotline monitor` again:")
    watched = _monitored(cast.clip_lead, "clipshare")
    expect(
        bool(watched.changes) and not watched.unauthorised,
        "the monitor reports the approval and routing, each signed by the lead (exit 0)",
    )
    listed = cast.clip_lead.transport.get("/v1/orgs/clipshare/keys")["keys"]
    expect(
        cast.clip_official.identity.encryption_kid in {k["kid"] for k in listed},
        "the approved official now receives ClipShare's cases",
    )


def _ref() -> str:
    return f"DEMO-{uuid.uuid4().hex[:8].upper()}"


def deepfake_case() -> dict[str, Any]:
    return {
        "issuer_case_ref": _ref(),
        "request_type": "removal_order",
        "category": "sexual_deepfake",
        "keywords": ["deepfake", "face swap"],
        "minor_involved": "no",
        "priority": "urgent",
        "escalation_reason": f"{SECRET_MARKERS[0]} is being extorted; copies spread hourly.",
        "legal_basis": [
            {"jurisdiction": "EU", "instrument": "Regulation (EU) 2022/2065", "article": "Art. 9"}
        ],
        "statement_of_reasons": f"Fabricated sexual video of {SECRET_MARKERS[0]}, published "
        "without consent.",
        "territorial_scope": ["EU"],
        "redress_info": "The provider may challenge this order within one month.",
        "language": "en",
        "on_behalf_of": {"type": "victim", "victim_ref": "osr-v-000231"},
        "contact": {"title": "Duty officer", "email": "duty@osr.example"},
        "items": [
            {
                "item_id": "video-1",
                "locators": [
                    {"type": "url", "value": f"https://{SECRET_MARKERS[2]}/v/8kQ2xZ"},
                    {"type": "url", "value": "https://clipshare.example/v/8kQ2xZ"},
                ],
                "requested_actions": ["remove", "hash_block", "preserve"],
                "hashes": [],
                "content_type": "video",
                "annotations": ["generative_ai", "viral"],
            },
            {
                "item_id": "channel-1",
                "locators": [
                    {"type": "channel", "value": f"clipshare.example/@{SECRET_MARKERS[1]}"}
                ],
                "requested_actions": ["suspend_account", "preserve"],
                "hashes": [],
                "content_type": "channel",
                "annotations": ["recurring"],
            },
        ],
    }


def ncii_case(priority: str = "high") -> dict[str, Any]:
    return {
        "issuer_case_ref": _ref(),
        "request_type": "notice",
        "category": "ncii",
        "keywords": [],
        "minor_involved": "no",
        "priority": priority,
        "legal_basis": [
            {
                "jurisdiction": "IE",
                "instrument": "Harassment, Harmful Communications and Related Offences Act 2020",
                "article": "s. 2",
            }
        ],
        "statement_of_reasons": "Intimate images shared without consent; hashes made on the "
        "victim's own device.",
        "territorial_scope": ["IE"],
        "redress_info": "Contact the helpline about this notice.",
        "language": "en-IE",
        "on_behalf_of": {"type": "victim", "victim_ref": "shh-c9a41e7b"},
        "contact": {"title": "Case team", "email": "cases@safe-harbour.example"},
        "items": [
            {
                "item_id": f"img-{n}",
                "locators": [],
                "requested_actions": ["hash_block", "remove"],
                "hashes": [
                    {"algo": "pdq", "value": hashlib.sha256(f"image {n}".encode()).hexdigest()}
                ],
                "content_type": "image",
                "annotations": ["cross_platform"],
            }
            for n in (1, 2, 3)
        ],
    }


def actioned(item_id: str) -> dict[str, Any]:
    action = "hash_block" if item_id.startswith("img") else "remove"
    taken = {
        "item_id": item_id,
        "action": action,
        "at": format_utc(datetime.now(UTC)),
        "territorial_scope": None,
    }
    return {"outcome": "actioned", "automated_detection": False, "actions_taken": [taken]}


def subscribe_tickets(cast: Cast, tickets: WebhookInbox) -> None:
    print("0. ClipShare's designated official registers a webhook instead of polling")
    created = cast.clip_official.notifications.add(
        "webhook", tickets.url, events=["case", "deadline_breached"], priorities=["urgent", "high"]
    )
    tickets.secret = base64.b64decode(created["secret"].removeprefix("whsec_"))
    expect(
        created["secret"].startswith("whsec_"),
        f"a signed statement at log index {created['log']['index']}; the secret shown once",
    )
    cast.tickets = tickets


def notified(cast: Cast, case_id: str) -> None:
    if cast.tickets is None:
        return
    document = cast.tickets.wait_for(case_id, "case")
    expect(
        document is not None,
        f"ClipShare's ticketing system is told of case {case_id[:8]} by a signed webhook,"
        f" before anyone polls (metadata only: {_brief(document)})",
    )


def _brief(document: dict[str, Any] | None) -> str:
    data = document["data"] if document else {}
    return f"{data.get('priority')}, {data.get('category')}, ack by {data.get('ack_due_at')}"


def pull(client: Client, case_id: str) -> None:
    seen = [entry.case_id for entry in client.inbox()]
    expect(case_id in seen, f"{client.profile.official} finds case {case_id[:8]} in their inbox")


def scenario(server: LiveServer, cast: Cast) -> dict[str, str]:
    cases: dict[str, str] = {}

    print("1. An urgent sexual-deepfake removal order, with URL and channel locators")
    sent = cast.regulator.submit(deepfake_case(), "clipshare")
    cases["deepfake"] = sent.case_id
    notified(cast, sent.case_id)
    expect(
        cast.regulator.case(sent.case_id)["assignee"] == "cs-designated",
        "routed to ClipShare's designated official for sexual deepfakes",
    )
    pull(cast.clip_official, sent.case_id)
    opened = cast.clip_official.open_case(sent.case_id)
    expect(
        opened.timeline[0].record is not None
        and opened.timeline[0].record["body"]["items"][1]["locators"][0]["type"] == "channel",
        "the official decrypts it and verifies both signatures and its log entry",
    )
    expect(
        cast.clip_official.acknowledge(sent.case_id).state == "acknowledged",
        "a signed receipt binds the SHA-256 of the decrypted record",
    )

    print("2. A question and a supplement")
    asked = cast.clip_official.ask(sent.case_id, {"questions": ["Is the channel operator known?"]})
    expect(asked.state == "needs_info", "ClipShare asks the regulator a question")
    answered = cast.regulator.supplement(sent.case_id, {"text": SECRET_MARKERS[3]})
    expect(answered.state == "supplemented", "the regulator answers with a supplement")
    reread = cast.clip_official.open_case(sent.case_id).timeline[-1].record or {}
    expect(
        reread.get("body", {}).get("text") == SECRET_MARKERS[3],
        "ClipShare decrypts the answer; the server only ever held its ciphertext",
    )
    done = cast.clip_official.respond(sent.case_id, actioned("video-1"))
    expect(done.state == "actioned", "ClipShare removes the video and says so")

    print("3. An NCII case carried only as hashes")
    ncii = cast.helpline.submit(ncii_case(), "chatter")
    cases["ncii"] = ncii.case_id
    pull(cast.chat_official, ncii.case_id)
    body = cast.chat_official.open_case(ncii.case_id).timeline[0].record
    expect(
        body is not None and all(not i["locators"] for i in body["body"]["items"]),
        "the images never left the victim: only PDQ hashes travel",
    )
    cast.chat_official.acknowledge(ncii.case_id)
    expect(
        cast.chat_official.respond(ncii.case_id, actioned("img-1")).state == "actioned",
        "Chatter hash-blocks the images",
    )

    print("4. A case sealed to the wrong platform's keys is refused")
    wrong_keys = cast.helpline.encryption_keys("chatter", "safe-harbour-helpline")
    record = {
        "handoff_id": str(uuid.uuid4()),
        "case_id": str(uuid.uuid4()),
        "kind": "case",
        "issued_at": format_utc(cast.helpline.clock()),
        "sender": {
            "org": "safe-harbour-helpline",
            "official": "shh-caseworker",
            "kid": cast.helpline.identity.signing_kid,
        },
        "to": ["clipshare"],
        "in_reply_to": None,
        "body": ncii_case(),
    }
    sealed = env.seal(record, cast.helpline.identity.signing_key, wrong_keys)
    try:
        cast.helpline.transport.post_json("/v1/cases", sealed.to_json())
        raise DemoFailedError("a case ClipShare cannot read was accepted")
    except ServerRefusedError as refused:
        expect(
            refused.slug == "missing-recipient-keys" and bool(refused.problem["missing_kids"]),
            "422 missing-recipient-keys names the ClipShare keys it lacks",
        )

    print("5. A withdrawal, acknowledged by the platform")
    withdrawn = cast.regulator.submit(deepfake_case(), "clipshare")
    cases["withdrawn"] = withdrawn.case_id
    expect(
        cast.regulator.withdraw(withdrawn.case_id, {"reason": "resolved_elsewhere"}).state
        == "withdrawn",
        "the regulator withdraws its order",
    )
    expect(
        cast.clip_official.acknowledge(withdrawn.case_id).state == "withdrawal_acknowledged",
        "ClipShare acknowledges the withdrawal",
    )
    try:
        cast.clip_official.respond(withdrawn.case_id, actioned("video-1"))
        raise DemoFailedError("a withdrawn case was answered")
    except ServerRefusedError as refused:
        expect(refused.status == 409, "nobody can answer a withdrawn case (409)")

    print("6. A case declined with a reason code")
    declined = cast.helpline.submit(ncii_case(), "clipshare")
    cases["declined"] = declined.case_id
    cast.clip_official.acknowledge(declined.case_id)
    answer = cast.clip_official.respond(
        declined.case_id,
        {
            "outcome": "not_actioned",
            "actions_taken": [],
            "automated_detection": False,
            "reason_code": "outside_territorial_scope",
            "explanation": "The images are not available in the requested territory.",
        },
    )
    expect(
        answer.state == "not_actioned", "ClipShare declines, with reason outside_territorial_scope"
    )

    print("7. A case answered after its deadline; the sweep records the breach")
    late = cast.helpline.submit(ncii_case(priority="normal"), "chatter")
    cases["late"] = late.case_id
    time.sleep(DEADLINES["normal"][1] + 1)
    swept = server.admin("sweep").stdout
    expect(
        f"deadline_breached {late.case_id} ack" in swept
        and f"deadline_breached {late.case_id} action" in swept,
        "the sweep logs both missed deadlines as deadline_breached events",
    )
    cast.chat_official.acknowledge(late.case_id)
    expect(
        cast.chat_official.respond(late.case_id, actioned("img-1")).state == "actioned",
        "Chatter answers, late, and the lateness stays on record",
    )
    expect("0 new breach(es)" in server.admin("sweep").stdout, "a second sweep logs nothing new")
    return cases


def audit(server: LiveServer, workdir: Path, cast: Cast) -> str:
    """What `hotline audit verify` does, as the auditor, with the key pinned at enrollment."""
    print("8. The auditor verifies the whole log")
    source = HttpSource(server.url, cast.auditor.transport.access_token)
    try:
        note = source.checkpoint()
        size = checkpoint_size(note)
        report = verify_log(
            iter_entries(source, size),
            note,
            cast.auditor.profile.log_verifier_keys,
            cast.auditor.profile.log_origin,
            witnesses=source.witnesses(),
        )
    finally:
        source.close()
    expect(
        report.entries == size and report.signatures > 0,
        f"all {size} entries verify: leaves, root, {report.signatures} statement signatures "
        "with the keys the log says were valid, and every case's transitions",
    )
    return note


# What the scenario did to each case it logged: the platform, and how the case ended.
PLAYED = {
    "deepfake": ("clipshare", "actioned"),
    "ncii": ("chatter", "actioned"),
    "withdrawn": ("clipshare", "withdrawn"),
    "declined": ("clipshare", "not_actioned"),
    "late": ("chatter", "actioned"),
}


def compliance(
    server: LiveServer, workdir: Path, cast: Cast, cases: dict[str, str], started: datetime
) -> ComplianceReport:
    """`hotline report compliance --html … --json` as the auditor: the same functions."""
    print("9. The compliance report of the scenario, computed from the verified log")
    now = datetime.now(UTC)
    period = Period.parse(started.date().isoformat(), now.date().isoformat())
    report = compliance_report(cast.auditor, period, now)
    write_report_file(workdir / "compliance.html", render(report, server=server.url))
    write_report_file(
        workdir / "compliance.json", json.dumps(report.to_json(), indent=2, ensure_ascii=False)
    )
    figures = {platform.platform: platform.figures for platform in report.platforms}
    expect(
        report.totals.cases_received == len(cases) == len(PLAYED),
        f"{len(PLAYED)} cases received (the refused one never entered the log)",
    )
    for platform in ("clipshare", "chatter"):
        played = [outcome for (to, outcome) in PLAYED.values() if to == platform]
        shown = {name: count for name, count in figures[platform].outcomes.items() if count}
        expect(
            figures[platform].cases_received == len(played) and shown == Counter(played),
            f"{platform}: {len(played)} cases, ended {dict(sorted(Counter(played).items()))}",
        )
    clip, chat = figures["clipshare"], figures["chatter"]
    expect(
        clip.reason_codes == {"outside_territorial_scope": 1} and clip.declined == 1,
        "ClipShare's one decline, with its reason code",
    )
    expect(
        all((d.met, d.missed, d.released) == (2, 0, 1) for d in (clip.acknowledgement, clip.action))
        and clip.acknowledgement.share_met == clip.action.share_met == 1.0,
        "ClipShare met every deadline; the withdrawal released the withdrawn case's",
    )
    withdrawals = clip.withdrawals
    expect(
        withdrawals.count == withdrawals.acknowledged == 1,
        f"the withdrawal, acknowledged after {duration(withdrawals.ack_time.max_seconds or 0)}",
    )
    late = cases["late"]
    missed = {
        sample.case_id
        for deadline in (chat.acknowledgement, chat.action)
        for sample in deadline.samples
        if sample.verdict == "missed"
    }
    expect(
        missed == {late}
        and (chat.acknowledgement.missed, chat.action.missed) == (1, 1)
        and chat.acknowledgement.share_met == chat.action.share_met == 0.5,
        "Chatter missed both deadlines of the late case, and no other",
    )
    expect(
        (chat.acknowledgement.breach_entries, chat.action.breach_entries) == (1, 1)
        and chat.acknowledgement.breach_entries_contradicted == 0
        and chat.action.breach_entries_contradicted == 0,
        "the sweep's two deadline_breached entries agree with the timestamps",
    )
    regulator = next(a for a in report.agencies if a.agency == "online-safety-regulator")
    expect(
        regulator.questions_from_platforms.answered == 1
        and report.totals.questions_from_agencies.unanswered == 0
        and report.totals.overdue.count == 0,
        "the regulator answered ClipShare's question; nothing is left overdue or unanswered",
    )
    print(f"  report: {workdir / 'compliance.html'} (and compliance.json beside it)")
    return report


def summary(report: ComplianceReport) -> None:
    print("\nSummary (from the verified log: metadata only)")
    for outcome, count in report.totals.outcomes.items():
        if count:
            print(f"  {outcome:26} {count}")
    for platform in report.platforms:
        for label, deadline in (
            ("acknowledgement", platform.figures.acknowledgement),
            ("action", platform.figures.action),
        ):
            time = deadline.time
            if time.count and time.median_seconds is not None and time.max_seconds is not None:
                print(
                    f"  {platform.platform} {label} time: median {duration(time.median_seconds)},"
                    f" max {duration(time.max_seconds)} over {time.count} case(s)"
                )
    print("  checkpoint:")
    for line in report.checkpoint.note.splitlines():
        print(f"    {line}")


@contextmanager
def demo_server(workdir: Path) -> Iterator[LiveServer]:
    settings = {
        "EXCHANGE_DEADLINES": json.dumps(DEADLINES),
        "EXCHANGE_LOG_ORIGIN": "demo.hotline-exchange.local/log",
        # The demo's webhook receiver is on this machine: allow loopback over plain http.
        "EXCHANGE_NOTIFY_ALLOW_HTTP": "true",
        "EXCHANGE_NOTIFY_ALLOWED_NETWORKS": '["127.0.0.0/8"]',
        "EXCHANGE_NOTIFY_POLL_SECONDS": "0.1",
        # Step 7 runs the sweep by hand to show it; the worker's own sweep stays out of it.
        "EXCHANGE_SWEEP_INTERVAL_SECONDS": "86400",
    }
    with LiveServer(workdir / "instance", settings=settings) as server:
        with (workdir / "worker.log").open("ab") as log:
            worker = subprocess.Popen(  # noqa: S603 - our own flask, fixed arguments
                [str(BIN / "flask"), "--app", "wsgi", "worker"],
                cwd=server.root,
                env=server.env,
                stdout=log,
                stderr=log,
            )
        try:
            yield server
        finally:
            worker.terminate()
            worker.wait(10)


def main(argv: list[str]) -> int:
    workdir = Path(argv[0]) if argv else Path(tempfile.mkdtemp(prefix="hotline-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"Hotline Exchange demo in {workdir}")
    started = datetime.now(UTC)
    try:
        with demo_server(workdir) as server:
            print(f"Server on {server.url} (SQLite: {server.database_url})")
            cast = set_up(server, workdir)
            with webhook_inbox() as tickets:
                subscribe_tickets(cast, tickets)
                cases = scenario(server, cast)
            audit(server, workdir, cast)
            summary(compliance(server, workdir, cast, cases, started))
            witnessed(server, workdir, cast.auditor.profile.log_verifier_keys, expect)
    except (DemoFailedError, ClientError, VerificationError, SourceError, RuntimeError) as exc:
        print(f"DEMO FAILED: {exc}", file=sys.stderr)
        return 1
    print("\nDemo complete: every step behaved as described.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
