"""The worker's delivery rules in process: STARTTLS with credentials, timeouts, giving up,
targets removed while a message waits, secrets sealed to their subscription."""

import base64
import datetime as dt
import ipaddress
import socket
import ssl
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import select
from standardwebhooks import Webhook

from exchange import config, runtime
from exchange.notify import webhook
from exchange.notify.worker import Worker
from exchange.ops.receiver import WebhookInbox
from exchange.services import webhook_secrets
from exchange.services.destinations import DestinationPolicy
from exchange.services.outbox import Claimed
from exchange.storage.models import DeliveryAttempt, Notification
from tests.exchange.notify.conftest import subscribe
from tests.exchange.notify.test_subscriptions import HOOK, Mailbox, removal_statement


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def self_signed(tmp_path):
    """A certificate for 127.0.0.1 and its key, as a private CA the settings name."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "smtp.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "smtp.pem", tmp_path / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def deliver(app):
    with app.app_context():
        worker = Worker(app)
        try:
            return worker.deliver_due()
        finally:
            worker.close()


def rows(app):
    with app.app_context(), runtime.read() as session:
        notifications = session.scalars(select(Notification)).all()
        attempts = session.scalars(select(DeliveryAttempt).order_by(DeliveryAttempt.id)).all()
        return notifications, attempts


def test_email_goes_over_starttls_with_the_configured_credentials(app, world, tmp_path):
    cert, key = self_signed(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (
            auth_data.login,
            auth_data.password,
        ) == (b"relay-user", b"relay-password")
        logins.append((mechanism, ok))
        return AuthResult(success=ok)

    mailbox, port = Mailbox(), free_port()
    smtp = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=server_tls,
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
    )
    smtp.start()
    try:
        app.config.update(
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=port,
            SMTP_CA_FILE=str(cert),
            SMTP_USERNAME="relay-user",
            SMTP_PASSWORD="relay-password",
        )
        subscribe(world.officials["cs-reviewer"], "cs@clipshare.example", channel="email")
        _, response = world.submit(world.officials["officer-1"], "clipshare")
        assert response.status_code == 201
        assert deliver(app) == 1
    finally:
        smtp.stop()
    assert [m.rcpt_tos for m in mailbox.messages] == [["cs@clipshare.example"]]
    assert [ok for _, ok in logins] == [True]  # logged in, after STARTTLS (required)
    _, attempts = rows(app)
    assert [(a.outcome, a.error) for a in attempts] == [("delivered", None)]


def test_email_to_a_relay_whose_certificate_is_not_trusted_is_not_sent(app, world, tmp_path):
    cert, key = self_signed(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    mailbox, port = Mailbox(), free_port()
    smtp = Controller(
        mailbox, hostname="127.0.0.1", port=port, tls_context=server_tls, require_starttls=True
    )
    smtp.start()
    try:
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)  # system CAs only
        subscribe(world.officials["cs-reviewer"], "cs@clipshare.example", channel="email")
        _, response = world.submit(world.officials["officer-1"], "clipshare")
        assert response.status_code == 201
        assert deliver(app) == 1
    finally:
        smtp.stop()
    assert mailbox.messages == []
    _, [attempt] = rows(app)
    assert attempt.outcome == "retry"
    assert attempt.error.startswith("SSLCertVerificationError")


@contextmanager
def silent_listener():
    """Accepts connections and never answers: a receiver too slow to wait for."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/slow"
    finally:
        listener.close()


def test_a_slow_receiver_times_out_and_the_message_gives_up_in_time(app, world):
    app.config.update(NOTIFY_TIMEOUT_SECONDS=0.3, NOTIFY_GIVE_UP_SECONDS=1)
    with silent_listener() as url:
        subscribe(world.officials["cs-reviewer"], url, events=("case",))
        _, response = world.submit(world.officials["officer-1"], "clipshare")
        assert response.status_code == 201
        started = time.monotonic()
        assert deliver(app) == 1
        assert time.monotonic() - started < 2
        world.clock.advance(seconds=2)  # past the give-up time: the next failure is the last
        assert deliver(app) == 1
        assert deliver(app) == 0
    [notification], attempts = rows(app)
    assert (notification.status, notification.attempts) == ("failed", 2)
    assert [(a.outcome, a.error) for a in attempts] == [
        ("retry", "the receiver did not answer in time"),
        ("failed", "the receiver did not answer in time"),
    ]


def test_a_target_removed_while_a_message_waits_gets_nothing(app, world):
    reviewer = world.officials["cs-reviewer"]
    created = subscribe(reviewer, HOOK, events=("case",))
    _, response = world.submit(world.officials["officer-1"], "clipshare")
    assert response.status_code == 201
    removed = reviewer.post(
        f"/v1/subscriptions/{created['id']}/remove",
        {"statement": removal_statement(world, reviewer, created["id"])},
    )
    assert removed.status_code == 200
    assert deliver(app) == 0
    [notification], attempts = rows(app)
    assert (notification.status, notification.last_error) == (
        "cancelled",
        "the target was removed",
    )
    assert attempts == []


def test_a_sealed_secret_opens_only_for_its_subscription_and_passphrase():
    key = webhook_secrets.sealing_key(b"passphrase one")
    secret = webhook_secrets.new_secret()
    sealed = webhook_secrets.seal(key, "sub-a", secret)
    assert webhook_secrets.unseal(key, "sub-a", sealed) == secret
    with pytest.raises(webhook_secrets.SealedSecretError):
        webhook_secrets.unseal(key, "sub-b", sealed)
    with pytest.raises(webhook_secrets.SealedSecretError):
        webhook_secrets.unseal(webhook_secrets.sealing_key(b"passphrase two"), "sub-a", sealed)
    assert webhook_secrets.display(secret).startswith("whsec_")


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("NOTIFY_ALLOWED_NETWORKS", ["not-a-network"], "must be a JSON list of CIDR networks"),
        ("NOTIFY_ALLOWED_NETWORKS", "10.0.0.0/8", "must be a JSON list of CIDR networks"),
        ("NOTIFY_ALLOW_HTTP", "yes", "NOTIFY_ALLOW_HTTP must be true or false"),
        ("NOTIFY_LEASE_SECONDS", 5, "must exceed EXCHANGE_NOTIFY_TIMEOUT_SECONDS"),
        ("DEADLINE_WARNINGS_SECONDS", [600, -1], "must list positive seconds"),
        ("NOTIFY_BATCH", 0, "NOTIFY_BATCH must be a positive number"),
    ],
)
def test_notification_settings_are_checked_at_start(setting, value, message):
    settings = {**config.DEFAULTS, "PUBLIC_URL": "https://x.test", setting: value}
    with pytest.raises(config.ConfigError, match=message):
        config._check(settings)


def test_a_target_that_became_private_is_refused_at_send_time(app, world, receiver):
    hook = receiver()
    subscribe(world.officials["cs-reviewer"], hook.url, events=("case",))
    _, response = world.submit(world.officials["officer-1"], "clipshare")
    assert response.status_code == 201
    app.config.update(NOTIFY_ALLOWED_NETWORKS=[])  # as if the name now pointed inside
    assert deliver(app) == 1
    assert hook.requests() == []
    _, [attempt] = rows(app)
    assert (attempt.outcome, attempt.status_code, attempt.error) == (
        "retry",
        None,
        "refused: 127.0.0.1 resolves to 127.0.0.1, a non-public address",
    )


def test_flask_worker_once_sweeps_and_delivers_in_process(app, world, receiver, runner):
    hook = receiver()
    created = subscribe(world.officials["cs-reviewer"], hook.url, events=("case",))
    _, response = world.submit(world.officials["officer-1"], "clipshare")
    assert response.status_code == 201
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    [request] = hook.requests()
    body = base64.b64decode(request["body"])
    assert Webhook(created["secret"]).verify(body, request["headers"])["type"] == "case"
    [notification], [attempt] = rows(app)
    assert (notification.status, attempt.status_code) == ("delivered", 204)


def test_the_demo_receiver_believes_only_signed_fresh_deliveries():
    inbox = WebhookInbox()
    inbox.secret = b"k" * 32
    body = b'{"data":{"case_id":"c-1"},"timestamp":"2026-01-01T00:00:00Z","type":"case"}'
    stamp = int(time.time())
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(stamp),
        "webhook-signature": webhook.signature(inbox.secret, "msg_1", stamp, body),
    }
    assert inbox.record(headers, body) is True
    assert inbox.wait_for("c-1", "case", timeout=0)["data"] == {"case_id": "c-1"}
    assert inbox.wait_for("c-2", "case", timeout=0) is None
    assert inbox.record({**headers, "webhook-id": "msg_2"}, body) is False  # not its signature
    stale = str(stamp - 600)
    assert inbox.record({**headers, "webhook-timestamp": stale}, body) is False
    assert inbox.refused == 2


def test_an_https_send_connects_to_the_checked_address_and_verifies_the_name(tmp_path):
    """The request goes to the address the SSRF check resolved, while TLS (SNI and the
    certificate) and the Host header still use the registered name."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hooks.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("hooks.test")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "hooks.pem", tmp_path / "hooks.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            seen.append(
                (self.headers["host"], self.rfile.read(int(self.headers["content-length"])))
            )
            self.send_response(204)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert_path, key_path)
    server.socket = tls.wrap_socket(server.socket, server_side=True)
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    resolved = []

    def resolve(host, port):
        resolved.append(host)
        return ["127.0.0.1"]

    policy = DestinationPolicy(
        allowed_networks=(ipaddress.ip_network("127.0.0.0/8"),), resolve=resolve
    )
    claimed = Claimed(
        "msg_1",
        1,
        "test",
        '{"type":"test"}',
        now,
        "s",
        "webhook",
        f"https://hooks.test:{port}/in",
        None,
    )
    client = httpx.Client(verify=ssl.create_default_context(cafile=str(cert_path)), timeout=5)
    try:
        outcome = webhook.send(client, policy, claimed, b"k" * 32, now)
        wrong_name = Claimed(
            "msg_2", 1, "test", "{}", now, "s", "webhook", f"https://other.test:{port}/in", None
        )
        refused = webhook.send(client, policy, wrong_name, b"k" * 32, now)
    finally:
        client.close()
        server.shutdown()
        server.server_close()
    assert (outcome.delivered, outcome.status_code, outcome.error) == (True, 204, None)
    assert seen == [(f"hooks.test:{port}", b'{"type":"test"}')]
    assert resolved == ["hooks.test", "other.test"]
    # other.test also resolves to the server, whose certificate is not for that name.
    assert refused.delivered is False
    assert refused.error.startswith("ConnectError")
    assert "certificate" in refused.error
