"""The demo's last act: two witnesses beside the exchange, a 2-of-2 quorum, and a split view
that the witnesses refuse (what `make demo` shows after the scenario)."""

import shutil
from pathlib import Path
from typing import Protocol

import httpx

from exchange.ops.devserver import LiveServer
from exchange.ops.witness_process import LiveWitness
from exchange.protocol.witness_policy import (
    QuorumError,
    describe_quorum,
    parse_policy,
    verify_witnessed,
)


class _Expect(Protocol):
    def __call__(self, condition: bool, what: str) -> None: ...


def _size(note: str) -> int:
    return int(note.split("\n")[1])


def witnessed(
    server: LiveServer, workdir: Path, log_keys: tuple[str, ...], expect: _Expect
) -> None:
    print("10. Two witnesses cosign the log; a split view is refused")
    origin = httpx.get(f"{server.url}/v1/log/key").json()["origin"]
    witnesses = [
        LiveWitness(workdir / f"witness-{n}", f"witness-{n}.demo", log_keys) for n in (1, 2)
    ]
    try:
        for witness in witnesses:
            witness.start()
            print(f"  witness {witness.vkey} on {witness.url}")
        policy_file = workdir / "witnesses.policy"
        policy_file.write_text(
            "".join(f"witness w{n} {w.vkey} {w.url}\n" for n, w in enumerate(witnesses, 1))
            + "group both all w1 w2\nquorum both\n",
            encoding="utf-8",
        )
        policy = parse_policy(policy_file.read_text(encoding="utf-8"))
        server.env["EXCHANGE_WITNESS_POLICY_FILE"] = str(policy_file)
        cosigned = server.admin("cosign").stdout
        expect(cosigned.count(": cosigned") == 2, "both witnesses cosign the newest checkpoint")
        public = httpx.get(f"{server.url}/checkpoint").text
        verified = verify_witnessed(public, log_keys, origin, policy)
        expect(
            verified.witnesses == ["w1", "w2"],
            f"the auditor accepts checkpoint {verified.checkpoint.size}: cosigned by"
            f" {', '.join(verified.witnesses)}, the policy needs {describe_quorum(policy)}",
        )

        # The operator copies its database and grows the copy differently, to show another
        # party another history, signed by the same log key.
        fork_dir = workdir / "fork-instance"
        shutil.copytree(server.instance, fork_dir, ignore=shutil.ignore_patterns("*.log"))
        settings = {k: v for k, v in server.env.items() if k.startswith("EXCHANGE_")}
        for own in ("EXCHANGE_INSTANCE_PATH", "EXCHANGE_DATABASE_URL", "EXCHANGE_PUBLIC_URL"):
            settings.pop(own)
        with LiveServer(fork_dir, settings=settings) as fork:
            for name in ("shadow-1", "shadow-2"):
                fork.admin("org", "create", name, "--kind", "platform", "--name", name)
            server.admin("org", "create", "observer", "--kind", "auditor", "--name", "Observer")
            server.admin("cosign")
            refused = fork.admin("cosign").stdout.splitlines()
            for line in refused:
                print(f"  fork: {line}")
            expect(
                all(": refused" in line for line in refused) and len(refused) == 2,
                "both witnesses refuse the forked history (its proof does not verify)",
            )
            forked = httpx.get(f"{fork.url}/v1/log/checkpoint").text
            try:
                verify_witnessed(forked, log_keys, origin, policy)
                shown = "accepted"
            except QuorumError as exc:
                shown = str(exc)
            expect(
                shown.startswith("checkpoint lacks a witness quorum"),
                f"a party shown the fork (size {_size(forked)}) refuses it: {shown}",
            )
    finally:
        for witness in witnesses:
            witness.stop()
