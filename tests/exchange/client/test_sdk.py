"""The SDK against a live server: trust in keys through the log, retries, the inbox cursor."""

import json
import socket
import sqlite3
import threading
import uuid

import httpx
import pytest

from exchange.client import authoring
from exchange.client import profile as profiles
from exchange.client.client import Client
from exchange.client.errors import DirectoryMismatchError, ServerRefusedError, TrustError
from exchange.client.profile import Profile
from exchange.client.transport import Transport
from exchange.ops.devserver import LiveServer
from exchange.protocol import note
from exchange.protocol.key_management import code_sha256
from keys import Identity
from schemas.statement import ReceiptMeta
from tests.schemas import examples


def _enroll(server: LiveServer, org: str, official: str, role: str, state) -> Client:
    code = server.invite(org, official, role)
    identity = Identity.generate()
    transport = Transport(server.url)
    log_key = transport.request("GET", "/v1/log/key", auth=False)
    statement = authoring.enrollment(identity, org, official, code_sha256(code), transport.clock())
    transport.post_json("/v1/enroll", {"code": code, "statement": statement}, auth=False)
    transport.close()
    profile = Profile(
        official,
        server.url,
        "unused",
        org,
        official,
        log_key["origin"],
        (log_key["verifier_key"],),
        audience=f"{server.url}/v1/token",
    )
    return Client(profile, identity, state_dir=state / official)


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    root = tmp_path_factory.mktemp("sdk")
    with LiveServer(root / "instance") as server:
        for org, kind in (("police", "agency"), ("clipshare", "platform")):
            server.admin("org", "create", org, "--kind", kind, "--name", org.title())
        officer = _enroll(server, "police", "officer", "agency_officer", root)
        lead = _enroll(server, "clipshare", "lead", "platform_lead", root)
        yield server, officer, lead, root


def _body():
    body = examples.deepfake_case_body()
    body["issuer_case_ref"] = f"SDK-{uuid.uuid4().hex[:10]}"
    return body


def test_submit_open_acknowledge_respond(live):
    _, officer, lead, _ = live
    sent = officer.submit(_body(), "clipshare")
    opened = lead.open_case(sent.case_id)
    assert opened.timeline[0].record["body"]["category"] == "sexual_deepfake"
    receipt = lead.acknowledge(sent.case_id)
    assert receipt.state == "acknowledged"
    acknowledged = officer.open_case(sent.case_id).timeline[1]
    meta = acknowledged.statement.meta_as(ReceiptMeta)
    assert meta.record_sha256 == opened.timeline[0].record_sha256
    assert meta.handoff_id == opened.timeline[0].handoff_id
    assert lead.respond(sent.case_id, examples.response_body()).state == "actioned"


def test_inbox_cursor_is_persisted_and_gap_free(live):
    _, officer, lead, _ = live
    before = [entry.seq for entry in lead.inbox()]
    sent = [officer.submit(_body(), "clipshare").case_id for _ in range(3)]
    fresh = Client(lead.profile, lead.identity, state_dir=lead.state_dir)
    new = list(fresh.inbox())
    assert [entry.case_id for entry in new] == sent
    assert [entry.seq for entry in new] == list(range(new[0].seq, new[0].seq + 3))
    assert fresh.inbox_cursor() == new[-1].seq
    assert list(fresh.inbox()) == []
    assert before == list(range(1, len(before) + 1))


def test_a_key_the_log_never_registered_is_refused(live):
    """A compromised server inserts a key of its own into the directory: not in the log."""
    server, officer, _, _ = live
    intruder = Identity.generate()
    jwk = intruder.public_jwks()["keys"][1]
    db = sqlite3.connect(server.database_url.removeprefix("sqlite:///"))
    # It even claims the index where the lead's real keys were registered.
    (index,) = db.execute(
        "SELECT registered_log_index FROM official_keys WHERE official_id = 'lead'"
    ).fetchone()
    with db:
        db.execute(
            "INSERT INTO official_keys (kid, official_id, use, jwk, status, registered_at, "
            "registered_log_index, retired_at) VALUES (?, 'lead', 'enc', ?, 'active', "
            "'2026-01-01 00:00:00', ?, NULL)",
            (jwk["kid"], json.dumps(jwk), index),
        )
    officer._keys.clear()
    try:
        refusal = (
            f"the server lists key {jwk['kid']} for clipshare, but the log registers no such key"
        )
        with pytest.raises(DirectoryMismatchError, match=f"^{refusal}$"):
            officer.submit(_body(), "clipshare")
    finally:
        with db:
            db.execute("DELETE FROM official_keys WHERE kid = ?", (jwk["kid"],))
        db.close()
        officer._keys.clear()


def test_a_log_key_other_than_the_pinned_one_is_refused(live, tmp_path):
    server, officer, _, _ = live
    other = Identity.generate().signing_key.public_key()
    pinned = (note.verifier_key(officer.profile.log_origin, other),)
    profile = Profile(
        "p", server.url, "unused", "police", "officer", officer.profile.log_origin, pinned
    )
    stranger = Client(profile, officer.identity, state_dir=tmp_path)
    with pytest.raises(TrustError, match="does not verify with the pinned key"):
        stranger.submit(_body(), "clipshare")


def _agency_and_platform(server: LiveServer, root) -> Client:
    """A police officer and a platform lead enrolled on a fresh server; the officer."""
    for org, kind in (("police", "agency"), ("clipshare", "platform")):
        server.admin("org", "create", org, "--kind", kind, "--name", org.title())
    officer = _enroll(server, "police", "officer", "agency_officer", root)
    _enroll(server, "clipshare", "lead", "platform_lead", root)
    return officer


def test_a_rolled_back_log_is_detected(tmp_path):
    """The operator restores an older database after this client saw a newer checkpoint."""
    server = LiveServer(tmp_path / "instance").start()
    try:
        officer = _agency_and_platform(server, tmp_path)
        database = server.database_url.removeprefix("sqlite:///")
        old = sqlite3.connect(tmp_path / "old.db")
        with sqlite3.connect(database) as live_db:
            live_db.backup(old)
        old.close()
        officer.submit(_body(), "clipshare")
        seen = officer.log.checkpoint(refresh=True).checkpoint.size
        server.stop()
        with sqlite3.connect(tmp_path / "old.db") as backup, sqlite3.connect(database) as live_db:
            backup.backup(live_db)
        server.start()
        with pytest.raises(TrustError, match=f"the log shrank from {seen} to "):
            officer.log.checkpoint(refresh=True)
    finally:
        server.stop()


@pytest.fixture
def rotated(tmp_path):
    """A live server whose log key was rotated after its clients pinned the first one."""
    server = LiveServer(tmp_path / "instance").start()
    try:
        officer = _agency_and_platform(server, tmp_path)
        officer.submit(_body(), "clipshare")
        (old,) = officer.profile.log_verifier_keys
        server.admin("rotate-log-key")
        server.stop()  # an instance keeps the key it loaded: restart it with the new one
        server.start()
        yield server, officer, old
    finally:
        server.stop()


def test_a_client_follows_the_log_key_handover_and_remembers_the_new_key(rotated):
    server, officer, old = rotated
    new = httpx.get(f"{server.url}/v1/log/key").json()["verifier_key"]
    assert new != old

    sent = officer.submit(_body(), "clipshare")

    assert officer.open_case(sent.case_id).case["case_id"] == sent.case_id
    assert officer.log.verifier_keys == (old, new)
    learned = officer.state_dir / "log-verifier-keys"
    assert learned.read_text() == f"{old}\n{new}\n"
    assert learned.stat().st_mode & 0o777 == 0o600
    # A later client with the same state trusts the new key from the start.
    later = Client(officer.profile, officer.identity, state_dir=officer.state_dir)
    assert later.log.verifier_keys == (old, new)
    assert later.log.checkpoint().checkpoint.size > 0


def test_a_handover_that_does_not_verify_is_refused(rotated):
    server, officer, _ = rotated
    database = server.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(database) as db:
        # Behind the application's back (the triggers refuse it otherwise): another index.
        db.execute("DROP TRIGGER log_entries_no_update")
        (index, leaf) = db.execute(
            "SELECT \"index\", leaf FROM log_entries WHERE event = 'log_key_rotated'"
        ).fetchone()
        marker = "log-key-rotation\\n"
        forged = leaf.replace(f"{marker}{index}\\n", f"{marker}{index + 1}\\n")
        assert forged != leaf
        db.execute('UPDATE log_entries SET leaf = ? WHERE "index" = ?', (forged, index))
    with pytest.raises(TrustError, match="offers a log key handover that fails"):
        officer.log.checkpoint(refresh=True)
    assert not (officer.state_dir / "log-verifier-keys").exists()


def _content_length(head: bytes) -> int | None:
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length"):
            return int(line.split(b":")[1])
    return None


class DroppingProxy:
    """Forwards requests; drops the first POST /v1/cases connection before its answer."""

    def __init__(self, target_port: int, drops: int = 1) -> None:
        self.target_port = target_port
        self.drops = drops
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen()
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            client, _ = self.listener.accept()
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    @staticmethod
    def _read_message(sock: socket.socket) -> bytes:
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(65536)
        head, _, body = data.partition(b"\r\n\r\n")
        length = _content_length(head) or 0
        while len(body) < length:
            body += sock.recv(65536)
        return head + b"\r\n\r\n" + body

    def _relay(self, client: socket.socket) -> None:
        client.settimeout(10)
        request = self._read_message(client)
        with socket.create_connection(("127.0.0.1", self.target_port), timeout=10) as upstream:
            upstream.sendall(request)
            answer = self._read_message(upstream)
        if request.startswith(b"POST /v1/cases ") and self.drops > 0:
            self.drops -= 1
            client.close()  # the server acted; the client never hears of it
            return
        client.sendall(answer)
        client.close()


def test_a_lost_response_is_retried_with_the_same_bytes_exactly_once(live):
    server, officer, _, root = live
    proxy = DroppingProxy(server.port)
    via_proxy = Profile(
        "proxied",
        f"http://127.0.0.1:{proxy.port}",
        "unused",
        "police",
        "officer",
        officer.profile.log_origin,
        officer.profile.log_verifier_keys,
        audience=officer.profile.token_endpoint,
    )
    client = Client(via_proxy, officer.identity, state_dir=root / "proxied")
    body = _body()
    sent = client.submit(body, "clipshare")
    assert proxy.drops == 0
    assert sent.state == "submitted"
    matching = [c for c in officer.cases() if c["issuer_case_ref"] == body["issuer_case_ref"]]
    assert [c["case_id"] for c in matching] == [sent.case_id]


def test_server_problems_are_typed(live):
    _, officer, lead, _ = live
    sent = officer.submit(_body(), "clipshare")
    with pytest.raises(ServerRefusedError) as refused:
        lead.respond(sent.case_id, examples.response_body())
    assert refused.value.status == 409
    assert refused.value.slug == "invalid-transition"
    assert refused.value.problem["state"] in ("submitted", "delivered")


def test_profiles_round_trip(tmp_path, monkeypatch):
    monkeypatch.setenv("HOTLINE_CONFIG", str(tmp_path))
    profile = Profile("a", "http://x", "/keys", "org", "me", "origin", ("vk",))
    profiles.save(profile)
    assert profiles.load() == profile
    assert profiles.load("a") == profile
    assert (tmp_path / "config.json").stat().st_mode & 0o077 == 0
