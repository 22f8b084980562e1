"""`hotline notify` against a live server, its worker process and a real receiver:
an official registers a webhook, a case submitted with the CLI reaches it, signed."""

import base64
import subprocess
import time

import pytest
from standardwebhooks import Webhook

from exchange.ops.devserver import BIN, LiveServer
from tests.exchange.cli.conftest import Hotline
from tests.exchange.cli.test_casework import _case_file
from tests.exchange.notify.conftest import ROOT, Receiver

SETTINGS = {
    "EXCHANGE_NOTIFY_ALLOW_HTTP": "true",
    "EXCHANGE_NOTIFY_ALLOWED_NETWORKS": '["127.0.0.0/8"]',
    "EXCHANGE_NOTIFY_POLL_SECONDS": "0.05",
    "EXCHANGE_NOTIFY_TIMEOUT_SECONDS": "2",
    "EXCHANGE_NOTIFY_LEASE_SECONDS": "5",
}


@pytest.fixture(scope="module")
def notified(tmp_path_factory):
    root = tmp_path_factory.mktemp("notify-cli")
    receiver = Receiver(root / "received.jsonl")
    with LiveServer(root / "instance", settings=SETTINGS) as server:
        worker = subprocess.Popen(
            [str(BIN / "flask"), "--app", "wsgi", "worker"],
            cwd=ROOT,
            env=server.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for org, kind in (("police", "agency"), ("clipshare", "platform")):
                server.admin("org", "create", org, "--kind", kind, "--name", org.title())
            cli = Hotline(server, root / "config", root / "keys")
            cli.enroll("police", "officer", "agency_officer")
            # clipshare's first official is its bootstrapped lead, who signs the routing.
            cli.enroll("clipshare", "reviewer", "platform_official")
            cli.json("reviewer", "org", "route", "sexual_deepfake", "reviewer")
            yield cli, receiver
        finally:
            worker.terminate()
            worker.wait(10)
            receiver.stop()


def test_notify_add_list_test_log_and_remove(notified, tmp_path):
    hotline, receiver = notified
    created = hotline.json(
        "reviewer", "notify", "add", "--webhook", receiver.url, "--event", "case"
    )
    assert created["events"] == ["case"]
    assert created["priorities"] == ["high", "normal", "urgent"]
    secret = created["secret"]
    [listed] = hotline.json("reviewer", "notify", "list")
    assert (listed["id"], listed["target"]) == (created["id"], receiver.url)

    sent = hotline.json("officer", "submit", str(_case_file(tmp_path)), "--to", "clipshare")
    receiver.wait_for(1)
    [request] = receiver.requests()
    delivered = Webhook(secret).verify(base64.b64decode(request["body"]), request["headers"])
    assert (delivered["type"], delivered["data"]["case_id"]) == ("case", sent["case_id"])

    queued = hotline.json("reviewer", "notify", "test", created["id"])
    receiver.wait_for(2)
    assert receiver.requests()[1]["headers"]["webhook-id"] == queued["id"]
    deadline = time.monotonic() + 10
    while True:
        log = hotline.json("reviewer", "notify", "log")
        if all(n["status"] == "delivered" for n in log) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert [(n["event"], n["status"]) for n in log] == [
        ("test", "delivered"),
        ("case", "delivered"),
    ]
    shown = hotline("reviewer", "notify", "log")
    assert shown.exit_code == 0
    assert "delivered" in shown.stdout

    removed = hotline.json("reviewer", "notify", "remove", created["id"])
    assert removed["removed_at"] is not None
    assert hotline.json("reviewer", "notify", "list") == []
    again = hotline("reviewer", "notify", "remove", created["id"])
    assert again.exit_code == 1
    assert again.output == f"error: No such resource: subscription {created['id']} was removed\n"


def test_notify_add_refuses_an_unsafe_target_with_exit_1(notified):
    hotline, _ = notified
    result = hotline("reviewer", "notify", "add", "--webhook", "http://10.0.0.7/hook")
    assert result.exit_code == 1
    assert "10.0.0.7, a non-public address" in result.output
    both = hotline("reviewer", "notify", "add")
    assert both.exit_code == 2
