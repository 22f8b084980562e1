"""The operator invites an official of their own into a platform and enrolls them.

The invitation is on record but pending: nothing is encrypted to the operator's official
until a lead of the platform approves them with a signed statement.
"""

import pytest

from exchange.client import authoring
from exchange.client.errors import DirectoryMismatchError
from exchange.client.transport import Transport
from exchange.protocol.key_management import code_sha256
from keys import Identity
from tests.adversary.conftest import Enrolled, case_body, recipient_kids
from tests.helpers.proxy import rewrite_json

pytestmark = pytest.mark.slow


def test_an_official_invited_by_the_operator_alone_receives_no_case(bare_stage, tmp_path):
    stage = bare_stage
    code = stage.server.invite("clipshare", "rogue", "platform_official")
    identity = Identity.generate()
    transport = Transport(stage.server.url)
    statement = authoring.enrollment(
        identity, "clipshare", "rogue", code_sha256(code), transport.clock()
    )
    transport.post_json("/v1/enroll", {"code": code, "statement": statement}, auth=False)
    transport.close()
    stage.people["rogue"] = Enrolled("clipshare", "rogue", identity)
    stage.proxy.forwarded.clear()
    stage.client("officer", tmp_path / "officer").submit(case_body(), "clipshare")
    (posted,) = stage.proxy.posted("/v1/cases")
    assert stage.kid("rogue", "enc") not in recipient_kids(posted)
    assert stage.kid("lead", "enc") in recipient_kids(posted)

    # Once ClipShare's lead approves them, they are a case handler like any other.
    stage.approve("clipshare", "rogue", "platform_official")
    stage.proxy.forwarded.clear()
    stage.client("officer", tmp_path / "officer-again").submit(case_body(), "clipshare")
    (posted,) = stage.proxy.posted("/v1/cases")
    assert stage.kid("rogue", "enc") in recipient_kids(posted)


def test_a_lying_answer_that_lists_an_unapproved_official_is_refused(bare_stage, tmp_path):
    """The operator's own official, enrolled but never approved, added to the directory
    answer: the client's log says no lead approved them, and nothing is sent."""
    stage = bare_stage
    code = stage.server.invite("clipshare", "unapproved", "platform_official")
    identity = Identity.generate()
    transport = Transport(stage.server.url)
    statement = authoring.enrollment(
        identity, "clipshare", "unapproved", code_sha256(code), transport.clock()
    )
    transport.post_json("/v1/enroll", {"code": code, "statement": statement}, auth=False)
    transport.close()
    stage.people["unapproved"] = Enrolled("clipshare", "unapproved", identity)
    theirs = {**stage.jwk("unapproved", "enc"), "official": "unapproved"}
    theirs |= {"role": "platform_official", "status": "active", "registered_log_index": 0}
    stage.proxy.forwarded.clear()
    with (
        stage.proxy.lying(
            "GET",
            "/v1/orgs/clipshare/keys",
            rewrite_json(lambda document: document["keys"].append(theirs)),
        ),
        pytest.raises(
            DirectoryMismatchError,
            match=f"^the server lists key {theirs['kid']} of unapproved, whom no lead of"
            " clipshare approved in the log$",
        ),
    ):
        stage.client("officer", tmp_path / "officer").submit(case_body(), "clipshare")
    assert stage.proxy.posted("/v1/cases") == []
