"""Sending one notification by e-mail through the operator's SMTP relay.

The same metadata as a webhook, in plain words, with a link: never case content. The
relay is the operator's own (SMTP_HOST), so no SSRF check applies; the connection is
upgraded with STARTTLS (certificate verified) unless SMTP_STARTTLS is false.
"""

import json
import smtplib
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Any

from exchange.services.outbox import Claimed, Outcome

_SUBJECTS = {
    "case": "New {priority} case for you",
    "handoff": "New {kind} on case {case_id}",
    "withdrawal": "Case {case_id} was withdrawn",
    "deadline_approaching": "The {deadline} deadline of {priority} case {case_id} is near",
    "deadline_breached": "The {deadline} deadline of {priority} case {case_id} has passed",
    "test": "Test notification from Hotline Exchange",
}
_LABELS = (
    ("case_id", "Case"),
    ("handoff_id", "Handoff"),
    ("kind", "Kind"),
    ("priority", "Priority"),
    ("category", "Category"),
    ("state", "State"),
    ("deadline", "Deadline"),
    ("due_at", "Due at"),
    ("ack_due_at", "Acknowledge by"),
    ("action_due_at", "Act by"),
    ("log_index", "Log entry"),
)


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    starttls: bool
    username: str | None
    password: str | None
    sender: str
    timeout: float
    ca_file: str | None = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "SmtpSettings | None":
        if not config["SMTP_HOST"]:
            return None
        return cls(
            config["SMTP_HOST"],
            int(config["SMTP_PORT"]),
            config["SMTP_STARTTLS"],
            config["SMTP_USERNAME"],
            config["SMTP_PASSWORD"],
            config["SMTP_FROM"],
            float(config["NOTIFY_TIMEOUT_SECONDS"]),
            config["SMTP_CA_FILE"],
        )


def message(claimed: Claimed, sender: str, public_url: str) -> EmailMessage:
    document = json.loads(claimed.body)
    data: dict[str, Any] = document["data"]
    subject = _SUBJECTS.get(claimed.event, "Hotline Exchange: {event}")
    lines = [f"Hotline Exchange: {claimed.event.replace('_', ' ')}", ""]
    lines += [f"{label}: {data[key]}" for key, label in _LABELS if key in data]
    if "case_id" in data:
        lines += [
            "",
            f"Open it with the hotline CLI (`hotline show {data['case_id']}`) or at",
            f"{public_url.rstrip('/')}/v1/cases/{data['case_id']}",
            "",
            "This message holds no case content: the case is end-to-end encrypted and",
            "only your own client can decrypt it.",
        ]
    mail = EmailMessage()
    mail["Subject"] = subject.format_map({"event": claimed.event, **data})
    mail["From"] = sender
    mail["To"] = claimed.target
    mail["Message-ID"] = f"<{claimed.id}@hotline-exchange>"
    mail.set_content("\n".join(lines) + "\n")
    return mail


def send(settings: SmtpSettings, claimed: Claimed, public_url: str, now: datetime) -> Outcome:
    started = time.monotonic()
    error = None
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout) as smtp:
            if settings.starttls:
                smtp.starttls(context=ssl.create_default_context(cafile=settings.ca_file))
            if settings.username:
                smtp.login(settings.username, settings.password or "")
            smtp.send_message(message(claimed, settings.sender, public_url))
    except (OSError, smtplib.SMTPException) as exc:
        error = f"{type(exc).__name__}: {exc}"
    return Outcome(
        delivered=error is None,
        status_code=None,
        error=error,
        started_at=now,
        duration_ms=int((time.monotonic() - started) * 1000),
    )
