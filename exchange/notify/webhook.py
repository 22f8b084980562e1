"""Sending one webhook in the Standard Webhooks format (standardwebhooks.com).

Headers `webhook-id` (the notification's id, the same on every retry), `webhook-timestamp`
(Unix seconds of this attempt) and `webhook-signature` (`v1,` + base64 HMAC-SHA256 of
`id.timestamp.body` under the subscription's secret). Redirects are not followed (a
redirect is a new destination nobody checked), the answer is read up to 64 KiB only (to
keep the connection) and never used, and the target is checked against the SSRF policy
again right before the request, which then goes to the address checked (the host name
kept for the Host header, SNI and the certificate check).
"""

import base64
import hashlib
import hmac
import time
from datetime import datetime

import httpx

from exchange.errors import UnsafeDestinationError
from exchange.services import destinations
from exchange.services.destinations import DestinationPolicy
from exchange.services.outbox import Claimed, Outcome

USER_AGENT = "HotlineExchange-Webhooks/1"


MAX_ANSWER_BYTES = 64 * 1024


def _drain(response: httpx.Response) -> None:
    """Read a short answer to its end, so the connection is kept for the next message;
    a long one is cut off (the connection is then dropped): nothing of it is used."""
    read = 0
    for chunk in response.iter_raw():
        read += len(chunk)
        if read > MAX_ANSWER_BYTES:
            break


def signature(secret: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(secret, signed, hashlib.sha256).digest()).decode()


def send(
    client: httpx.Client,
    policy: DestinationPolicy,
    claimed: Claimed,
    secret: bytes,
    now: datetime,
) -> Outcome:
    started = time.monotonic()
    body = claimed.body.encode()
    timestamp = int(now.timestamp())
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": claimed.id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, claimed.id, timestamp, body),
    }
    status: int | None = None
    error: str | None = None
    try:
        addresses = destinations.check_webhook(policy, claimed.target)
        target = destinations.pinned(claimed.target, addresses[0])
        with client.stream(
            "POST",
            target.url,
            content=body,
            headers={**headers, "host": target.host_header},
            extensions={"sni_hostname": target.server_name},
        ) as response:
            status = response.status_code
            _drain(response)
        if not 200 <= status < 300:
            error = f"the receiver answered {status}"
    except UnsafeDestinationError as exc:
        error = f"refused: {exc.detail}"
    except httpx.TimeoutException:
        error = "the receiver did not answer in time"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"
    return Outcome(
        delivered=error is None,
        status_code=status,
        error=error,
        started_at=now,
        duration_ms=int((time.monotonic() - started) * 1000),
    )
