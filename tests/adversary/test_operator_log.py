"""The operator, with the database and the server's keys, writes a key of their own into
the log for an existing official: a correctly signed checkpoint over a forged entry.

The log key vouches that the entry is on record, not that it is true: the client's replica
replays the rotation as the auditor does, finds it is not signed by the official's current
key, and refuses to seal anything. This changes the log for good: its own server.
"""

import json
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from exchange.client import authoring
from exchange.client.errors import TrustError
from keys import Identity
from tests.adversary.conftest import case_body

pytestmark = pytest.mark.slow

_FORGE = """
import json, sys
from sqlalchemy import select
from wsgi import app
from exchange import runtime
from exchange.log.entries import append
from exchange.protocol.events import Event
from exchange.protocol.leaf import Actor
from exchange.storage.models import OfficialKey

forged = json.loads(sys.argv[1])
with app.app_context():
    with runtime.write() as session:
        retired = sorted(
            session.scalars(
                select(OfficialKey.kid).where(
                    OfficialKey.official_id == "lead", OfficialKey.status == "active"
                )
            )
        )
        appended = append(
            session,
            Event.KEY_ROTATED,
            runtime.now(),
            actor=Actor("clipshare", "lead", forged["kid"]),
            statement=forged["statement"],
            details={"keys": forged["keys"], "retired": retired, "proof": forged["proof"]},
        )
print(appended.index)
"""


def test_a_key_rotation_the_official_never_signed(bare_stage, tmp_path):
    stage = bare_stage
    rogue = Identity.generate()
    statement, proof = authoring.rotation(
        rogue.signing_key, rogue, "clipshare", "lead", datetime.now(UTC)
    )
    forged = {
        "kid": rogue.signing_kid,
        "statement": statement,
        "proof": proof,
        "keys": rogue.public_jwks()["keys"],
    }
    done = subprocess.run(
        [sys.executable, "-c", _FORGE, json.dumps(forged)],
        cwd=stage.server.root,
        env=stage.server.env,
        capture_output=True,
        text=True,
        check=True,
    )
    index = int(done.stdout.strip())
    stage.proxy.forwarded.clear()
    officer = stage.client("officer", tmp_path / "officer")
    with pytest.raises(TrustError) as refused:
        officer.submit(case_body(), "clipshare")
    assert str(refused.value) == (
        f"the log's directory does not replay: entry {index}:"
        f" key {rogue.signing_kid} was not an active key of lead [signer-key]"
    )
    assert stage.proxy.posted("/v1/cases") == []
