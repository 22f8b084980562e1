"""`make demo`: a real exchange on a free port, driven only through the SDK over HTTP.

A regulator and a victim-support centre (agencies), two platforms with a designated
official and a lead each, and an auditor. Every step checks that the system behaved as
described; the demo exits non-zero at the first step that did not.
"""

import hashlib
import json
import statistics
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

from exchange import envelope as env
from exchange.client import statements
from exchange.client.client import Client
from exchange.client.errors import ServerRefusedError
from exchange.client.profile import Profile
from exchange.client.transport import Transport
from exchange.devserver import LiveServer
from exchange.services.operator import code_sha256
from keys import Identity
from schemas.common import format_utc, parse_utc

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


def _enroll(
    server: LiveServer, workdir: Path, org: str, official: str, role: str, *options: str
) -> Client:
    code = server.invite(org, official, role, *options)
    identity = Identity.generate()
    transport = Transport(server.url)
    try:
        log = transport.request("GET", "/v1/log/key", auth=False)
        statement = statements.enrollment(
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
    cast = Cast(
        regulator=_enroll(
            server, workdir, "online-safety-regulator", "osr-duty-officer", "agency_officer"
        ),
        helpline=_enroll(
            server, workdir, "safe-harbour-helpline", "shh-caseworker", "agency_officer"
        ),
        clip_official=_enroll(
            server,
            workdir,
            "clipshare",
            "cs-designated",
            "platform_official",
            "--categories",
            "sexual_deepfake,ncii",
        ),
        clip_lead=_enroll(server, workdir, "clipshare", "cs-lead", "platform_lead"),
        chat_official=_enroll(
            server, workdir, "chatter", "ch-designated", "platform_official", "--categories", "ncii"
        ),
        chat_lead=_enroll(server, workdir, "chatter", "ch-lead", "platform_lead"),
        auditor=_enroll(server, workdir, "audit-office", "court-auditor", "auditor"),
    )
    for platform, category, official in (
        ("clipshare", "sexual_deepfake", "cs-designated"),
        ("clipshare", "ncii", "cs-designated"),
        ("chatter", "ncii", "ch-designated"),
    ):
        server.admin("routing", "set", platform, category, official)
    expect(True, "5 organisations, 7 officials enrolled with keys generated on their machines")
    return cast


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


def pull(client: Client, case_id: str) -> None:
    seen = [entry.case_id for entry in client.inbox()]
    expect(case_id in seen, f"{client.profile.official} finds case {case_id[:8]} in their inbox")


def scenario(server: LiveServer, cast: Cast) -> dict[str, str]:
    cases: dict[str, str] = {}

    print("1. An urgent sexual-deepfake removal order, with URL and channel locators")
    sent = cast.regulator.submit(deepfake_case(), "clipshare")
    cases["deepfake"] = sent.case_id
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
    print("8. The auditor verifies the whole log")
    checkpoint = cast.auditor.log.checkpoint(refresh=True)
    expect(
        checkpoint.checkpoint.size > 0,
        f"checkpoint of {checkpoint.checkpoint.size} entries verifies with the pinned log key",
    )
    return checkpoint.note


def summary(cast: Cast, checkpoint: str) -> None:
    print("\nSummary (from the auditor's view: metadata only)")
    every = list(cast.auditor.cases())
    outcomes = Counter(case["outcome"] or case["state"] for case in every)
    for outcome, count in sorted(outcomes.items()):
        print(f"  {outcome:26} {count}")

    def seconds(case: dict[str, Any], field: str) -> float | None:
        if not case[field]:
            return None
        return (parse_utc(case[field]) - parse_utc(case["submitted_at"])).total_seconds()

    for label, field in (("acknowledgement", "acknowledged_at"), ("action", "responded_at")):
        times = [t for t in (seconds(c, field) for c in every) if t is not None]
        if times:
            print(
                f"  {label} time: median {statistics.median(times):.1f} s, "
                f"max {max(times):.1f} s over {len(times)} cases"
            )
    print("  checkpoint:")
    for line in checkpoint.splitlines():
        print(f"    {line}")


@contextmanager
def demo_server(workdir: Path) -> Iterator[LiveServer]:
    settings = {
        "EXCHANGE_DEADLINES": json.dumps(DEADLINES),
        "EXCHANGE_LOG_ORIGIN": "demo.hotline-exchange.local/log",
    }
    with LiveServer(workdir / "instance", settings=settings) as server:
        yield server


def main(argv: list[str]) -> int:
    workdir = Path(argv[0]) if argv else Path(tempfile.mkdtemp(prefix="hotline-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"Hotline Exchange demo in {workdir}")
    try:
        with demo_server(workdir) as server:
            print(f"Server on {server.url} (SQLite: {server.database_url})")
            cast = set_up(server, workdir)
            scenario(server, cast)
            summary(cast, audit(server, workdir, cast))
    except (DemoFailedError, ServerRefusedError, RuntimeError) as exc:
        print(f"DEMO FAILED: {exc}", file=sys.stderr)
        return 1
    print("\nDemo complete: every step behaved as described.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
