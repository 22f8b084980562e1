"""Registering and removing targets: signed statements in the log, exact refusals,
the outbox written in the handoff's own transaction, SSRF refusals, e-mail."""

import email
import email.policy
import json
import re
import socket
import uuid

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from exchange import runtime
from exchange.auditor import verify_log
from exchange.notify.worker import Worker
from exchange.protocol import key_management
from exchange.services import destinations, handoffs
from exchange.services.caller import Caller
from exchange.services.destinations import DestinationPolicy
from exchange.storage.models import InboxItem, Notification
from schemas.common import format_utc
from schemas.subscriptions import SUBSCRIPTION_REMOVAL_TYP
from tests.exchange.log.helpers import bundle_from_database
from tests.exchange.notify.conftest import subscribe, subscription_statement
from tests.helpers.world import statement_of
from tests.schemas import examples

PROBLEM = "urn:hotline:problem:"
HOOK = "http://127.0.0.1:9/hook"


def count(app, model):
    with app.app_context(), runtime.read() as session:
        return session.scalar(select(func.count()).select_from(model))


def removal_statement(world, official, subscription_id):
    return key_management.sign(
        {
            "typ": SUBSCRIPTION_REMOVAL_TYP,
            "org": official.org,
            "official": official.id,
            "subscription_id": subscription_id,
            "issued_at": format_utc(world.clock()),
        },
        official.identity.signing_key,
    )


def test_registering_and_removing_are_signed_statements_in_the_log(world):
    reviewer = world.officials["cs-reviewer"]
    size = world.log_size()
    created = subscribe(reviewer, HOOK)
    [added] = world.log_entries(size)
    assert added["event"] == "subscription_added"
    assert added["actor"]["official"] == "cs-reviewer"
    assert added["details"] == {
        "org": "clipshare",
        "official": "cs-reviewer",
        "subscription": created["id"],
    }
    assert HOOK not in str(added)  # the log names the target by its digest only
    assert created["log"]["index"] == size
    listed = reviewer.get("/v1/subscriptions").get_json()["subscriptions"]
    assert [(s["id"], s["target"], "secret" in s) for s in listed] == [(created["id"], HOOK, False)]
    removal = key_management.sign(
        {
            "typ": SUBSCRIPTION_REMOVAL_TYP,
            "org": "clipshare",
            "official": "cs-reviewer",
            "subscription_id": created["id"],
            "issued_at": format_utc(world.clock()),
        },
        reviewer.identity.signing_key,
    )
    path = f"/v1/subscriptions/{created['id']}/remove"
    response = reviewer.post(path, {"statement": removal})
    assert response.status_code == 200
    assert response.get_json()["removed_at"] == format_utc(world.clock())
    [removed] = world.log_entries(size + 1)
    assert removed["event"] == "subscription_removed"
    assert reviewer.get("/v1/subscriptions").get_json() == {"subscriptions": []}
    again = reviewer.post(path, {"statement": removal})
    assert (again.status_code, again.get_json()["type"]) == (404, PROBLEM + "not-found")


@pytest.mark.parametrize(
    ("target", "signed_target", "options", "status", "slug"),
    [
        (HOOK, "http://127.0.0.1:9/other", {}, 422, "subscription-statement-invalid"),
        (HOOK, HOOK, {"scope": "organisation"}, 403, "forbidden"),
        ("ftp://127.0.0.1/x", "ftp://127.0.0.1/x", {}, 422, "unsafe-destination"),
        ("http://10.1.2.3/x", "http://10.1.2.3/x", {}, 422, "unsafe-destination"),
        ("http://169.254.169.254/x", "http://169.254.169.254/x", {}, 422, "unsafe-destination"),
        ("not-an-address", "not-an-address", {"channel": "email"}, 422, "unprocessable"),
    ],
)
def test_refusals_are_exact_and_change_nothing(world, target, signed_target, options, status, slug):
    reviewer = world.officials["cs-reviewer"]
    size = world.log_size()
    statement = subscription_statement(reviewer, signed_target, **options)
    response = reviewer.post("/v1/subscriptions", {"statement": statement, "target": target})
    assert (response.status_code, response.get_json()["type"]) == (status, PROBLEM + slug)
    assert world.log_size() == size
    assert reviewer.get("/v1/subscriptions").get_json() == {"subscriptions": []}


def test_a_statement_signed_by_someone_else_is_refused(world):
    reviewer, lead = world.officials["cs-reviewer"], world.officials["cs-lead"]
    statement = subscription_statement(lead, HOOK)
    response = reviewer.post("/v1/subscriptions", {"statement": statement, "target": HOOK})
    assert response.status_code == 422
    assert response.get_json()["type"] == PROBLEM + "subscription-statement-invalid"


def test_the_destination_policy_refuses_private_addresses_unless_allowed():
    strict = DestinationPolicy()
    for url, why in [
        ("http://example.com/", "must use https"),
        ("https://user:pw@example.com/", "no credentials"),
        ("https://127.0.0.1/", "127.0.0.1, a non-public address"),
        ("https://[::1]/", "::1, a non-public address"),
        ("https://192.168.1.10/", "192.168.1.10, a non-public address"),
    ]:
        with pytest.raises(destinations.UnsafeDestinationError, match=re.escape(why)):
            destinations.check_webhook(strict, url)
    # A public name that resolves (as at send time, after a rebinding) to loopback:
    rebound = DestinationPolicy(resolve=lambda host, port: ["127.0.0.1"])
    with pytest.raises(
        destinations.UnsafeDestinationError, match=re.escape("hooks.example.org resolves")
    ):
        destinations.check_webhook(rebound, "https://hooks.example.org/x")
    public = DestinationPolicy(resolve=lambda host, port: ["93.184.215.14"])
    assert destinations.check_webhook(public, "https://hooks.example.org/x") == ["93.184.215.14"]
    loopback = DestinationPolicy.from_settings(True, ["127.0.0.0/8"])
    assert destinations.check_webhook(loopback, "http://127.0.0.1:8080/") == ["127.0.0.1"]


def test_a_rolled_back_handoff_queues_nothing_and_a_committed_one_queues_once(app, world):
    subscribe(world.officials["cs-reviewer"], HOOK, events=("case",))
    officer = world.officials["officer-1"]
    caller = Caller("officer-1", "metro-police", "agency", "agency_officer", "")
    with app.app_context():
        policy = runtime.handoff_policy()
        for commit in (False, True):
            sealed = world.seal_case(officer, "clipshare")
            with runtime.read() as session:
                checked = handoffs.check(session, policy, caller, sealed, None)

            class RolledBackError(Exception):
                pass

            try:
                with runtime.write() as session:
                    handoffs.accept(session, world.clock(), policy, caller, checked)
                    if not commit:
                        raise RolledBackError
            except RolledBackError:
                assert count(app, Notification) == 0
                assert count(app, InboxItem) == 0
    with app.app_context(), runtime.read() as session:
        [queued] = session.scalars(select(Notification)).all()
        assert (queued.event, queued.case_id, queued.official_id) == (
            "case",
            statement_of(sealed)["case_id"],
            "cs-reviewer",
        )


def leaves(value):
    """Every string in a JSON document."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in leaves(item)]
    return []


class Mailbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append(envelope)
        return "250 OK"


def test_an_email_arrives_at_the_smtp_server_with_no_case_content(app, world):
    mailbox = Mailbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    smtp = Controller(mailbox, hostname="127.0.0.1", port=port)
    smtp.start()
    try:
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
        app.config.update(SMTP_STARTTLS=False)
        reviewer = world.officials["cs-reviewer"]
        subscribe(reviewer, "reviewer@clipshare.example", channel="email", events=("case",))
        sealed, response = world.submit(world.officials["officer-1"], "clipshare")
        assert response.status_code == 201
        case_id = statement_of(sealed)["case_id"]
        with app.app_context():
            worker = Worker(app)
            try:
                assert worker.deliver_due() == 1
            finally:
                worker.close()
    finally:
        smtp.stop()
    [mail] = mailbox.messages
    assert mail.rcpt_tos == ["reviewer@clipshare.example"]
    text = mail.content.decode()
    assert "Subject: New urgent case for you" in text
    assert f"Case: {case_id}" in text
    assert "Priority: urgent" in text
    assert "Category: sexual_deepfake" in text
    assert f"http://hotline.test/v1/cases/{case_id}" in text
    body = email.message_from_bytes(mail.content, policy=email.policy.default)
    words = body.get_body().get_content()
    # Every string of the case body, but the category (clear, signed metadata).
    content = [
        v
        for v in leaves(examples.deepfake_case_body())
        if len(v) >= 8 and v not in "sexual_deepfake"
    ]
    assert content  # the case body has strings to look for
    assert [v for v in content if v in text or v in words] == []
    [entry] = reviewer.get("/v1/notifications").get_json()["notifications"]
    assert (entry["status"], entry["attempts"][0]["outcome"]) == ("delivered", "delivered")


def test_a_test_message_is_queued_for_its_owner_only(world):
    reviewer, lead = world.officials["cs-reviewer"], world.officials["cs-lead"]
    created = subscribe(reviewer, HOOK)
    response = reviewer.post(f"/v1/subscriptions/{created['id']}/test", {})
    assert response.status_code == 202
    assert response.get_json()["status"] == "pending"
    other = lead.post(f"/v1/subscriptions/{created['id']}/test", {})
    assert (other.status_code, other.get_json()["type"]) == (404, PROBLEM + "not-found")
    unknown = reviewer.post(f"/v1/subscriptions/{uuid.uuid4()}/test", {})
    assert unknown.status_code == 404


def test_the_auditor_verifies_subscription_statements_in_the_log(app, world, database_url):
    reviewer = world.officials["cs-reviewer"]
    created = subscribe(reviewer, HOOK)
    removal = key_management.sign(
        {
            "typ": SUBSCRIPTION_REMOVAL_TYP,
            "org": "clipshare",
            "official": "cs-reviewer",
            "subscription_id": created["id"],
            "issued_at": format_utc(world.clock()),
        },
        reviewer.identity.signing_key,
    )
    assert reviewer.post(f"/v1/subscriptions/{created['id']}/remove", {"statement": removal})
    with app.app_context():
        verifier = runtime.server_keys().log.verifier_key
    bundle = bundle_from_database(database_url)
    report = verify_log(
        bundle.entries, bundle.checkpoint, [verifier], bundle.origin, witnesses=bundle.checkpoints
    )
    assert report.entries == world.log_size()
    events = [json.loads(leaf)["event"] for leaf in bundle.entries]
    assert events[-2:] == ["subscription_added", "subscription_removed"]


def test_the_scheduler_warns_before_a_deadline_and_escalates_a_breach_to_the_leads(app, world):
    reviewer, lead = world.officials["cs-reviewer"], world.officials["cs-lead"]
    subscribe(reviewer, HOOK, events=("deadline_approaching", "deadline_breached"))
    subscribe(lead, HOOK + "/lead", events=("deadline_breached",))
    sealed, response = world.submit(world.officials["officer-1"], "clipshare")
    assert response.status_code == 201
    case_id = statement_of(sealed)["case_id"]

    def scheduled():
        with app.app_context():
            worker = Worker(app)
            try:
                worker.schedule()
            finally:
                worker.close()

    def events(official):
        listed = official.get("/v1/notifications").get_json()["notifications"]
        return sorted((n["event"], n["case_id"]) for n in listed)

    scheduled()  # the ack deadline (1 h for urgent) is exactly one lead time away
    assert events(reviewer) == [("deadline_approaching", case_id)]
    world.clock.advance(minutes=51)  # 9 minutes left: the 10-minute warning
    scheduled()
    scheduled()  # a second run queues nothing new
    assert events(reviewer) == [("deadline_approaching", case_id)] * 2
    assert events(lead) == []
    size = world.log_size()
    world.clock.advance(minutes=10)  # the acknowledgement deadline has passed
    scheduled()
    [breach] = world.log_entries(size)
    assert (breach["event"], breach["case_id"], breach["details"]["deadline"]) == (
        "deadline_breached",
        case_id,
        "ack",
    )
    assert events(lead) == [("deadline_breached", case_id)]  # escalated to the lead
    assert events(reviewer)[-1] == ("deadline_breached", case_id)
    scheduled()
    assert world.log_size() == size + 1
    assert len(events(lead)) == 1


def test_more_refusals_each_with_its_exact_problem_and_no_change(world):
    reviewer, lead = world.officials["cs-reviewer"], world.officials["cs-lead"]

    def post(official, statement, target=HOOK):
        return official.post("/v1/subscriptions", {"statement": statement, "target": target})

    size = world.log_size()
    garbage = post(reviewer, "e30.e30.e30")
    assert (garbage.status_code, garbage.get_json()["type"]) == (
        422,
        PROBLEM + "subscription-statement-invalid",
    )
    world.clock.advance(minutes=-10)
    stale = subscription_statement(reviewer, HOOK)
    world.clock.advance(minutes=10)
    assert post(reviewer, stale).get_json()["type"] == PROBLEM + "clock-skew"
    assert world.log_size() == size
    # A platform lead may subscribe for the whole organisation; the same id twice is a 409.
    chosen = str(uuid.uuid4())
    statement = subscription_statement(lead, HOOK, scope="organisation", subscription_id=chosen)
    assert post(lead, statement).status_code == 201
    again = subscription_statement(lead, HOOK, subscription_id=chosen)
    twice = post(lead, again)
    assert (twice.status_code, twice.get_json()["type"]) == (409, PROBLEM + "already-exists")
    # A removal must name the subscription of the URL, signed by its owner.
    other = subscribe(reviewer, HOOK)
    wrong = removal_statement(world, reviewer, chosen)
    refused = reviewer.post(f"/v1/subscriptions/{other['id']}/remove", {"statement": wrong})
    assert (refused.status_code, refused.get_json()["type"]) == (
        422,
        PROBLEM + "subscription-statement-invalid",
    )
    assert [s["id"] for s in reviewer.get("/v1/subscriptions").get_json()["subscriptions"]] == [
        other["id"]
    ]
    auditor = world.officials["auditor-1"]
    forbidden = auditor.get("/v1/subscriptions")
    assert (forbidden.status_code, forbidden.get_json()["type"]) == (403, PROBLEM + "forbidden")


def test_a_send_is_pinned_to_the_address_that_was_checked():
    pinned = destinations.pinned("https://hooks.example.org:8443/in?x=1", "93.184.215.14")
    assert (pinned.url, pinned.host_header, pinned.server_name) == (
        "https://93.184.215.14:8443/in?x=1",
        "hooks.example.org:8443",
        "hooks.example.org",
    )
    v6 = destinations.pinned("https://hooks.example.org/in", "2606:2800:220:1::1")
    assert (v6.url, v6.host_header) == ("https://[2606:2800:220:1::1]/in", "hooks.example.org")
