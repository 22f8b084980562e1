"""Webhooks end to end: a case submitted over HTTP, the worker as a real process, a real
receiver process, and the deliveries verified with `standardwebhooks` (not our code)."""

import base64
import time

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from tests.exchange.notify.conftest import subscribe


def verified(request, secret):
    body = base64.b64decode(request["body"])
    return Webhook(secret).verify(body, request["headers"])


def test_a_submitted_case_reaches_the_receiver_once_signed_and_without_content(
    world, receiver, worker
):
    hook = receiver()
    reviewer = world.officials["cs-reviewer"]
    created = subscribe(reviewer, hook.url, events=("case",), priorities=("urgent",))
    assert created["secret"].startswith("whsec_")
    assert created["channel"] == "webhook"
    running = worker()
    running.wait_started()  # polling before the case arrives
    sealed, response = world.submit(world.officials["officer-1"], "clipshare")
    accepted_at = time.time()
    assert response.status_code == 201, response.get_json()
    case = response.get_json()

    hook.wait_for(1)
    time.sleep(0.5)  # nothing else follows
    [request] = hook.requests()
    assert request["at"] - accepted_at < 2
    assert request["path"] == "/hooks/hotline"
    assert request["headers"]["content-type"] == "application/json"
    document = verified(request, created["secret"])
    assert request["headers"]["webhook-id"].startswith("msg_")
    assert document["type"] == "case"
    data = document["data"]
    assert sorted(data) == [
        "ack_due_at",
        "action_due_at",
        "case_id",
        "category",
        "handoff_id",
        "kind",
        "log_index",
        "platform",
        "priority",
        "state",
    ]
    assert (data["case_id"], data["kind"], data["priority"], data["category"]) == (
        case["case_id"],
        "case",
        "urgent",
        "sexual_deepfake",
    )
    # No case content: nothing of the record's body is in what was sent.
    body = base64.b64decode(request["body"]).decode()
    assert sealed.jwe["ciphertext"][:32] not in body
    for secret_word in ("https://", "description", "evidence", "victim"):
        assert secret_word not in body
    # Another secret does not verify it: the signature is the subscription's own.
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + base64.b64encode(b"x" * 32).decode()).verify(
            base64.b64decode(request["body"]), request["headers"]
        )
    # The delivery log shows it, to its owner only.
    [entry] = reviewer.get("/v1/notifications").get_json()["notifications"]
    assert (entry["status"], entry["event"], entry["id"]) == (
        "delivered",
        "case",
        request["headers"]["webhook-id"],
    )
    assert [a["status_code"] for a in entry["attempts"]] == [204]
    lead = world.officials["cs-lead"]
    assert lead.get("/v1/notifications").get_json() == {"notifications": []}
    running.stop()  # SIGTERM: the worker finishes its loop and exits cleanly
    assert running.process.returncode == 0
    assert b"notification worker stopped" in running.path.read_bytes()


def test_a_receiver_that_fails_three_times_gets_it_on_the_fourth_try(world, receiver, worker):
    hook = receiver("--fail-first", "3")
    reviewer = world.officials["cs-reviewer"]
    created = subscribe(reviewer, hook.url, events=("case",))
    worker()
    _, response = world.submit(world.officials["officer-1"], "clipshare")
    assert response.status_code == 201
    hook.wait_for(4, "answers")
    time.sleep(0.5)
    requests = hook.requests()
    assert len(requests) == 4
    assert len({r["headers"]["webhook-id"] for r in requests}) == 1  # one message, retried
    assert len({r["body"] for r in requests}) == 1  # the same bytes every time
    for request in requests:
        verified(request, created["secret"])
    assert [a["status"] for a in hook.answers()] == [500, 500, 500, 204]
    deadline = time.monotonic() + 5
    while True:
        [entry] = reviewer.get("/v1/notifications").get_json()["notifications"]
        if entry["status"] == "delivered" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert entry["status"] == "delivered"
    assert [(a["attempt"], a["outcome"], a["status_code"]) for a in entry["attempts"]] == [
        (1, "retry", 500),
        (2, "retry", 500),
        (3, "retry", 500),
        (4, "delivered", 204),
    ]
    assert entry["attempts"][0]["error"] == "the receiver answered 500"
    metrics = world.client.get("/metrics").get_data(as_text=True).splitlines()
    for line in (
        'hotline_notifications{status="delivered"} 1.0',
        'hotline_notifications{status="pending"} 0.0',
        'hotline_notification_attempts_last_hour{outcome="retry"} 3.0',
        'hotline_notification_attempts_last_hour{outcome="delivered"} 1.0',
        "hotline_notification_oldest_pending_seconds 0.0",
    ):
        assert line in metrics


@pytest.mark.slow
def test_a_worker_killed_mid_delivery_loses_nothing(world, receiver, worker):
    hook = receiver("--hang-first", "1")
    reviewer = world.officials["cs-reviewer"]
    created = subscribe(reviewer, hook.url, events=("case",))
    for _ in range(3):
        _, response = world.submit(world.officials["officer-1"], "clipshare")
        assert response.status_code == 201
    first = worker()
    hook.wait_for(3)  # all three in flight; the first is held by the receiver
    hook.wait_for(2, "answers")
    time.sleep(0.5)  # the two answered ones are recorded
    first.kill()
    worker()  # the held one's lease lapses (3 s), and it is sent again
    hook.wait_for(3, "answers", timeout=20)
    time.sleep(0.5)
    answered = [a["id"] for a in hook.answers() if a["status"] == 204]
    ids = {r["headers"]["webhook-id"] for r in hook.requests()}
    assert len(ids) == 3
    assert sorted(answered) == sorted(ids)  # each delivered, and each once
    for request in hook.requests():
        verified(request, created["secret"])
    statuses = [n["status"] for n in reviewer.get("/v1/notifications").get_json()["notifications"]]
    assert statuses == ["delivered"] * 3


@pytest.mark.slow
def test_two_workers_share_the_queue_without_sending_twice(world, receiver, worker):
    hook = receiver()
    reviewer = world.officials["cs-reviewer"]
    created = subscribe(reviewer, hook.url, events=("case",))
    for _ in range(12):
        _, response = world.submit(world.officials["officer-1"], "clipshare")
        assert response.status_code == 201
    worker(NOTIFY_BATCH=2, NOTIFY_CONCURRENCY=2)
    worker(NOTIFY_BATCH=2, NOTIFY_CONCURRENCY=2)
    hook.wait_for(12, "answers", timeout=30)
    time.sleep(1)  # anything sent twice would arrive by now
    ids = [r["headers"]["webhook-id"] for r in hook.requests()]
    assert len(ids) == 12
    assert len(set(ids)) == 12
    for request in hook.requests():
        verified(request, created["secret"])
