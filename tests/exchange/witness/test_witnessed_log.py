"""The exchange and two witnesses as real processes: the log collects cosignatures, the public
checkpoint carries them, and `hotline audit verify --witness-policy` accepts a checkpoint
only with a quorum. A witness down (then killed and restarted) delays cosigning, never a
change; a split view made by the operator (a copied database grown two ways) is refused
by both witnesses, and its new entries never get a quorum.
"""

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from exchange.client import authoring
from exchange.client.client import Client
from exchange.client.errors import TrustError
from exchange.client.profile import Profile
from exchange.client.transport import Transport
from exchange.ops.devserver import LiveServer
from exchange.ops.witness_process import LiveWitness
from exchange.protocol.cosignature import witness_vkey
from exchange.protocol.key_management import code_sha256
from exchange.protocol.witness_policy import QuorumError, parse_policy, verify_witnessed
from exchange.protocol.witnessed import WitnessedReceipt, verify_witnessed_receipt
from keys import Identity
from tests.exchange.cli.conftest import Hotline

pytestmark = pytest.mark.slow


@dataclass
class Setup:
    server: LiveServer
    witnesses: list[LiveWitness]
    policy: Path
    hotline: Hotline
    origin: str
    log_vkey: str
    officer: Client


def enroll_officer(server: LiveServer, state: Path, policy: Path) -> Client:
    """An agency officer's SDK client that trusts only checkpoints with a witness quorum."""
    server.admin("org", "create", "police", "--kind", "agency", "--name", "Police")
    code = server.invite("police", "officer", "agency_officer")
    identity = Identity.generate()
    transport = Transport(server.url)
    key = transport.request("GET", "/v1/log/key", auth=False)
    statement = authoring.enrollment(
        identity, "police", "officer", code_sha256(code), transport.clock()
    )
    transport.post_json("/v1/enroll", {"code": code, "statement": statement}, auth=False)
    transport.close()
    profile = Profile(
        "officer",
        server.url,
        "unused",
        "police",
        "officer",
        key["origin"],
        (key["verifier_key"],),
        audience=f"{server.url}/v1/token",
    )
    witnesses = parse_policy(policy.read_text())
    return Client(profile, identity, state_dir=state, witness_policy=witnesses)


def write_policy(path: Path, witnesses: list[LiveWitness]) -> None:
    path.write_text(
        "".join(f"witness w{n} {w.vkey} {w.url}\n" for n, w in enumerate(witnesses, 1))
        + "group both all w1 w2\nquorum both\n"
    )


@pytest.fixture(scope="module")
def setup(tmp_path_factory) -> Iterator[Setup]:
    root = tmp_path_factory.mktemp("witnessed")
    policy = root / "witnesses.policy"
    settings = {"EXCHANGE_WITNESS_POLICY_FILE": str(policy)}
    with LiveServer(root / "instance", settings=settings) as server:
        key = httpx.get(f"{server.url}/v1/log/key").json()
        folders = [root / "w1", root / "w2"]
        witnesses = [
            LiveWitness(folder, f"w{n}.test/witness", [key["verifier_key"]]).start()
            for n, folder in enumerate(folders, 1)
        ]
        try:
            write_policy(policy, witnesses)
            server.admin("org", "create", "regulator", "--kind", "auditor", "--name", "Regulator")
            hotline = Hotline(server, root / "config", root / "keys")
            hotline.enroll("regulator", "auditor", "auditor")
            officer = enroll_officer(server, root / "officer", policy)
            yield Setup(
                server, witnesses, policy, hotline, key["origin"], key["verifier_key"], officer
            )
            officer.close()
        finally:
            for witness in witnesses:
                witness.stop()


def audit(setup: Setup, state: Path):
    return setup.hotline(
        "auditor", "audit", "verify", "--witness-policy", setup.policy, "--state", state
    )


def test_the_log_is_cosigned_2_of_2_and_the_auditor_checks_the_quorum(setup, tmp_path):
    setup.server.admin("org", "create", "first", "--kind", "agency", "--name", "First")
    size = int(httpx.get(f"{setup.server.url}/v1/log/checkpoint").text.split("\n")[1])
    cosigned = setup.server.admin("cosign").stdout
    assert cosigned == (
        f"w1.test/witness size {size}: cosigned\nw2.test/witness size {size}: cosigned\n"
    )
    public = httpx.get(f"{setup.server.url}/checkpoint")
    assert public.headers["Cache-Control"] == "public, max-age=5"
    witnessed = verify_witnessed(
        public.text, [setup.log_vkey], setup.origin, parse_policy(setup.policy.read_text())
    )
    assert (witnessed.checkpoint.size, witnessed.witnesses) == (size, ["w1", "w2"])
    # A second round has nothing to do.
    assert setup.server.admin("cosign").stdout.count(": up to date") == 2

    verified = audit(setup, tmp_path / "state.json")
    assert verified.exit_code == 0, verified.output
    assert f"Verified log {setup.origin}: {size} entries" in verified.stdout
    assert "  witnessed by w1, w2 (the policy needs 2 of (w1, w2))\n" in verified.stdout
    head = setup.hotline(
        "auditor",
        "audit",
        "checkpoint",
        "--witness-policy",
        setup.policy,
        "--state",
        tmp_path / "state.json",
    )
    assert head.exit_code == 0, head.output
    assert head.stdout.startswith(f"Checkpoint of log {setup.origin}: size {size}\n")
    assert "  witnessed by w1, w2 (the policy needs 2 of (w1, w2))\n" in head.stdout
    assert setup.officer.log.checkpoint(refresh=True).checkpoint.size == size
    assert setup.officer.log.witnesses == ["w1", "w2"]
    # A receipt that a court can check offline, years later, with the policy alone.
    kept = setup.officer.log.witnessed_receipt(size - 1).to_json()
    witnessed = verify_witnessed_receipt(
        WitnessedReceipt.from_json(kept),
        [setup.log_vkey],
        setup.origin,
        parse_policy(setup.policy.read_text()),
    )
    assert witnessed.checkpoint.size == size
    with pytest.raises(TrustError, match=f"log entry {size} is not witnessed yet"):
        setup.officer.log.witnessed_receipt(size)


def test_an_evidence_pack_carries_the_cosigned_checkpoint(setup, tmp_path):
    """`report evidence --witness-policy`: the pack's log ends at the witnessed checkpoint,
    whose cosignatures the offline checks require again."""
    setup.server.admin("org", "create", "clipshare", "--kind", "platform", "--name", "Clip")
    setup.server.admin("cosign")
    public = httpx.get(f"{setup.server.url}/checkpoint").text
    out = tmp_path / "pack"
    written = setup.hotline(
        "auditor",
        "report",
        "evidence",
        "--platform",
        "clipshare",
        "--out",
        out,
        "--witness-policy",
        setup.policy,
        "--json",
    )
    assert written.exit_code == 0, written.output
    assert json.loads(written.stdout)["witnesses"] == ["w1", "w2"]
    assert (out / "checkpoint.txt").read_text() == public
    assert public.count("\n\u2014 w") == 2  # the two cosignature lines
    assert "cosigned by w1, w2" in (out / "VERIFY.md").read_text()
    verified = setup.hotline(
        None,
        "audit",
        "verify",
        "--bundle",
        out / "log.bundle",
        "--log-key",
        setup.log_vkey,
        "--witness-policy",
        setup.policy,
        "--state",
        tmp_path / "state.json",
    )
    assert verified.exit_code == 0, verified.output
    assert "  witnessed by w1, w2 (the policy needs 2 of (w1, w2))\n" in verified.stdout
    checked = setup.hotline(
        None,
        "report",
        "evidence-check",
        out,
        "--log-key",
        setup.log_vkey,
        "--witness-policy",
        setup.policy,
        "--json",
    )
    assert checked.exit_code == 0, checked.output
    assert json.loads(checked.stdout)["witnesses"] == ["w1", "w2"]
    # A policy the checkpoint does not meet: one more witness, in the quorum.
    stricter = tmp_path / "stricter.policy"
    third = witness_vkey("w3.test/witness", Ed25519PrivateKey.generate().public_key())
    stricter.write_text(
        "".join(f"witness w{n} {w.vkey}\n" for n, w in enumerate(setup.witnesses, 1))
        + f"witness w3 {third}\ngroup three all w1 w2 w3\nquorum three\n"
    )
    refused = setup.hotline(
        None,
        "report",
        "evidence-check",
        out,
        "--log-key",
        setup.log_vkey,
        "--witness-policy",
        stricter,
    )
    assert refused.exit_code == 1, refused.output
    assert refused.stderr == (
        "error: the evidence pack does not verify: the checkpoint of log.bundle is not"
        " witnessed: checkpoint lacks a witness quorum: cosigned by w1, w2; the policy needs"
        " 3 of (w1, w2, w3)\n"
    )


def test_a_witness_down_delays_cosigning_and_blocks_nothing(setup, tmp_path):
    w2 = setup.witnesses[1]
    w2.kill()
    created = setup.server.admin("org", "create", "ngo", "--kind", "agency", "--name", "NGO")
    assert created.returncode == 0  # the exchange goes on without its witness
    size = int(httpx.get(f"{setup.server.url}/v1/log/checkpoint").text.split("\n")[1])
    outcomes = setup.server.admin("cosign").stdout.splitlines()
    assert outcomes == [
        f"w1.test/witness size {size}: cosigned",
        f"w2.test/witness size {size}: unreachable: ConnectError",
    ]
    refused = audit(setup, tmp_path / "state.json")
    assert refused.exit_code == 1
    assert refused.stderr == (
        "error: the checkpoint is not witnessed: checkpoint lacks a witness quorum:"
        " cosigned by w1; the policy needs 2 of (w1, w2)\n"
    )
    with pytest.raises(TrustError) as distrusted:
        setup.officer.log.checkpoint(refresh=True)
    assert str(distrusted.value) == (
        "the log checkpoint is not witnessed: checkpoint lacks a witness quorum:"
        " cosigned by w1; the policy needs 2 of (w1, w2)"
    )
    # Restarted after its kill -9, the witness catches up from the size it last cosigned.
    w2.start()
    assert setup.server.admin("cosign").stdout.splitlines() == [
        f"w1.test/witness size {size}: up to date",
        f"w2.test/witness size {size}: cosigned",
    ]
    assert audit(setup, tmp_path / "state.json").exit_code == 0
    assert setup.officer.log.checkpoint(refresh=True).checkpoint.size == size


def test_a_split_view_is_refused_by_the_witnesses(setup, tmp_path):
    """The operator copies the database and grows the copy differently: a second history
    signed by the same log key, shown to another party. The witnesses, which cosigned the
    first history, refuse the second; its new entries never get a quorum."""
    setup.server.admin("cosign")
    fork_instance = tmp_path / "fork"
    shutil.copytree(setup.server.instance, fork_instance, ignore=shutil.ignore_patterns("*.log"))
    settings = {"EXCHANGE_WITNESS_POLICY_FILE": str(setup.policy)}
    with LiveServer(fork_instance, settings=settings) as fork:
        forked = fork.admin("org", "create", "shadow", "--kind", "platform", "--name", "Shadow")
        assert forked.returncode == 0
        fork.admin("org", "create", "shadow-2", "--kind", "platform", "--name", "Shadow 2")
        setup.server.admin("org", "create", "honest", "--kind", "platform", "--name", "Honest")
        assert setup.server.admin("cosign").stdout.count(": cosigned") == 2
        honest_size = int(httpx.get(f"{setup.server.url}/checkpoint").text.split("\n")[1])

        refusals = fork.admin("cosign").stdout.splitlines()
        fork_checkpoint = httpx.get(f"{fork.url}/v1/log/checkpoint").text
        fork_size = int(fork_checkpoint.split("\n")[1])
        assert fork_size == honest_size + 1
        # RFC 9162 2.1.4.2: from a power-of-two size the proof starts at the witness's own
        # old root, so the fork shows in the new root; from any other size, in the old one.
        # Which one this is depends on the tests that ran before on this module's server.
        if honest_size & (honest_size - 1) == 0:
            mismatch = f"consistency proof to {fork_size} gives new root"
        else:
            mismatch = f"consistency proof from {honest_size} gives old root"
        for name, line in zip(("w1", "w2"), refusals, strict=True):
            assert line.startswith(
                f"{name}.test/witness size {fork_size}: refused 422:"
                f" consistency proof does not verify: {mismatch}"
            ), line
        policy = parse_policy(setup.policy.read_text())
        with pytest.raises(QuorumError, match="cosigned by no pinned witness"):
            verify_witnessed(fork_checkpoint, [setup.log_vkey], setup.origin, policy)
        # What the fork can show as witnessed is only the history before the fork.
        shown = httpx.get(f"{fork.url}/checkpoint").text
        assert int(shown.split("\n")[1]) < honest_size
