"""Each lie a server (or anyone between it and the client) could tell about who receives a
case, told by a real proxy in front of a real server: the SDK refuses it, naming the
discrepancy, and nothing encrypted reaches the server."""

import json
import re
import stat

import pytest

from exchange.client.errors import DirectoryMismatchError, TrustError
from exchange.protocol import note
from exchange.protocol.checkpoint import verify_checkpoint
from exchange.protocol.verification import VerificationError
from keys import Identity
from tests.adversary.conftest import case_body, recipient_kids
from tests.helpers.proxy import rewrite_json

pytestmark = pytest.mark.slow


def _refused(stage, lies, tmp_path, error, message):
    """The agency's submit is refused with exactly `message`; nothing reached /v1/cases."""
    officer = stage.client("officer", tmp_path / "officer")
    with pytest.raises(error, match=f"^{re.escape(message)}$"):
        officer.submit(case_body(), "clipshare")
    assert lies.posted("/v1/cases") == []


def _keys(change):
    return rewrite_json(lambda document: change(document["keys"]))


def test_the_honest_answer_seals_to_exactly_the_handlers_in_the_log(stage, lies, tmp_path):
    sent = stage.client("officer", tmp_path / "officer").submit(case_body(), "clipshare")
    replica = tmp_path / "officer" / "directory.json"
    assert stat.S_IMODE(replica.stat().st_mode) == 0o600
    assert len(json.loads(replica.read_text())["entries"]) > 10
    (posted,) = lies.posted("/v1/cases")
    assert recipient_kids(posted) == {
        stage.kid("officer", "enc"),
        stage.kid("clerk", "enc"),
        stage.kid("lead", "enc"),
        stage.kid("reviewer", "enc"),  # the rotated-in key; `second`'s was revoked
    }
    assert sent.state == "submitted"


def test_an_extra_key_in_the_directory_answer(stage, lies, tmp_path):
    intruder = Identity.generate().public_jwks()["keys"][1]
    extra = {**intruder, "official": "lead", "role": "platform_lead", "status": "active"}
    extra["registered_log_index"] = 3
    with lies.lying("GET", "/v1/orgs/clipshare/keys", _keys(lambda keys: keys.append(extra))):
        _refused(
            stage,
            lies,
            tmp_path,
            DirectoryMismatchError,
            f"the server lists key {intruder['kid']} for clipshare,"
            " but the log registers no such key",
        )


def test_the_right_officials_key_but_of_another_organisation(stage, lies, tmp_path):
    """Othershop's lead's real key, presented as clipshare's lead's."""
    theirs = {
        **stage.jwk("shopper", "enc"),
        "official": "lead",
        "role": "platform_lead",
        "status": "active",
        "registered_log_index": 3,
    }
    with lies.lying("GET", "/v1/orgs/clipshare/keys", _keys(lambda keys: keys.append(theirs))):
        _refused(
            stage,
            lies,
            tmp_path,
            DirectoryMismatchError,
            f"the server lists key {theirs['kid']} for clipshare,"
            " but the log registers it to shopper of othershop",
        )


def test_a_revoked_key_presented_as_current(stage, lies, tmp_path):
    revoked_kid = stage.kid("second", "enc")
    before = {k["kid"]: k for k in stage.notes["keys-before-revocation"]["keys"]}
    shown = {**before[revoked_kid], "status": "active"}
    with lies.lying("GET", "/v1/orgs/clipshare/keys", _keys(lambda keys: keys.append(shown))):
        officer = stage.client("officer", tmp_path / "officer")
        with pytest.raises(DirectoryMismatchError) as refused:
            officer.submit(case_body(), "clipshare")
    revoked_at = officer.replica.current().directory.keys[revoked_kid].until
    assert str(refused.value) == (
        f"the server lists key {revoked_kid} of second as active,"
        f" but the log has it revoked since entry {revoked_at}"
    )
    assert lies.posted("/v1/cases") == []


def test_a_rotated_out_key_presented_as_current(stage, lies, tmp_path):
    old = stage.notes["reviewer-old"].public_jwks()["keys"][1]["kid"]

    def unretire(keys):
        for key in keys:
            if key["kid"] == old:
                key["status"] = "active"

    with lies.lying("GET", "/v1/orgs/clipshare/keys", _keys(unretire)):
        officer = stage.client("officer", tmp_path / "officer")
        with pytest.raises(DirectoryMismatchError) as refused:
            officer.submit(case_body(), "clipshare")
    retired_at = officer.replica.current().directory.keys[old].until
    assert str(refused.value) == (
        f"the server lists key {old} of reviewer as active,"
        f" but the log has it retired since entry {retired_at}"
    )
    assert lies.posted("/v1/cases") == []


def test_a_key_registration_hidden_from_the_answer(stage, lies, tmp_path):
    """The reviewer dropped: an intended recipient the agency would not encrypt to."""
    officer = stage.client("officer", tmp_path / "honest", through_proxy=False)

    def drop(keys):
        keys[:] = [k for k in keys if k["official"] != "reviewer"]

    first = officer.replica.current().directory.officials["reviewer"].kids[0]
    since = officer.replica.current().directory.keys[first].since
    with lies.lying("GET", "/v1/orgs/clipshare/keys", _keys(drop)):
        _refused(
            stage,
            lies,
            tmp_path,
            DirectoryMismatchError,
            f"the server's answer for clipshare omits key {first} of reviewer,"
            f" registered at log entry {since}",
        )


def test_a_directory_answer_that_contradicts_the_log_at_the_same_checkpoint(stage, lies, tmp_path):
    """The role the log gave is not the role the answer claims."""

    def promote(keys):
        for key in keys:
            if key["official"] == "second":
                key["role"] = "platform_lead"

    with lies.lying("GET", "/v1/orgs/clipshare/keys", _keys(promote)):
        _refused(
            stage,
            lies,
            tmp_path,
            DirectoryMismatchError,
            "the server lists second as platform_lead, but the log has them as platform_official",
        )


def test_a_deactivated_officials_key_presented_as_current(stage, lies, tmp_path):
    (former,) = [k for k in stage.notes["former-keys"] if k["use"] == "enc"]
    officer = stage.client("officer", tmp_path / "honest", through_proxy=False)
    until = officer.replica.current().directory.officials["former"].until
    with lies.lying("GET", "/v1/orgs/clipshare/keys", _keys(lambda keys: keys.append(former))):
        _refused(
            stage,
            lies,
            tmp_path,
            DirectoryMismatchError,
            f"the server lists key {former['kid']} of former, but the log deactivated former"
            f" at entry {until}",
        )


def test_a_colleagues_key_presented_as_the_leads(stage, lies, tmp_path):
    moved = stage.kid("reviewer", "enc")

    def reassign(keys):
        for key in keys:
            if key["kid"] == moved:
                key["official"] = "lead"

    with lies.lying("GET", "/v1/orgs/clipshare/keys", _keys(reassign)):
        _refused(
            stage,
            lies,
            tmp_path,
            DirectoryMismatchError,
            f"the server lists key {moved} as lead's, but the log registers it to reviewer",
        )


def test_other_key_material_under_a_registered_kid(stage, lies, tmp_path):
    """The lead's kid, with the operator's own X25519 key behind it."""
    kid = stage.kid("lead", "enc")
    substitute = Identity.generate().public_jwks()["keys"][1]["x"]

    def swap_material(keys):
        for key in keys:
            if key["kid"] == kid:
                key["x"] = substitute

    with lies.lying("GET", "/v1/orgs/clipshare/keys", _keys(swap_material)):
        _refused(
            stage,
            lies,
            tmp_path,
            DirectoryMismatchError,
            f"the server's key {kid} is not the key the log registers under that kid",
        )


def test_a_registration_index_the_log_does_not_have(stage, lies, tmp_path):
    kid = stage.kid("lead", "enc")
    officer = stage.client("officer", tmp_path / "honest", through_proxy=False)
    since = officer.replica.current().directory.keys[kid].since

    def move(keys):
        for key in keys:
            if key["kid"] == kid:
                key["registered_log_index"] = since + 1

    with lies.lying("GET", "/v1/orgs/clipshare/keys", _keys(move)):
        _refused(
            stage,
            lies,
            tmp_path,
            DirectoryMismatchError,
            f"the server says key {kid} was registered at log entry {since + 1},"
            f" the log says {since}",
        )


def test_a_revocation_hidden_from_the_directory_feed(stage, lies, tmp_path):
    """The revocation left out of the directory feed, another real entry in its place."""

    def hide_revocation(document):
        entries = document["entries"]
        for position, item in enumerate(entries):
            if '"key_revoked"' in item["entry"]:
                item["entry"] = entries[position - 1]["entry"]

    with lies.lying("GET", "/v1/log/directory", rewrite_json(hide_revocation)):
        officer = stage.client("officer", tmp_path / "officer")
        size = officer.log.checkpoint().checkpoint.size
        _refused(
            stage,
            lies,
            tmp_path,
            TrustError,
            "the directory entries the server sent do not hash to the directory root of"
            f" checkpoint {size}: an entry is hidden, added or altered",
        )


def test_a_directory_feed_that_stops_short(stage, lies, tmp_path):
    """The revocation simply left out: the feed ends before the checkpoint's directory."""

    def drop_revocation(document):
        document["entries"] = [e for e in document["entries"] if '"key_revoked"' not in e["entry"]]

    with lies.lying("GET", "/v1/log/directory", rewrite_json(drop_revocation)):
        replica = stage.client("officer", tmp_path / "honest", through_proxy=False).replica
        size = replica.current().size
        _refused(
            stage,
            lies,
            tmp_path,
            TrustError,
            f"the server did not return directory entry {size - 1} of {size}",
        )


def test_a_directory_entry_that_is_not_the_one_at_its_position(stage, lies, tmp_path):
    """Two directory entries swapped: each is in the log, neither at its place."""

    def swap(document):
        entries = document["entries"]
        entries[1]["entry"], entries[2]["entry"] = entries[2]["entry"], entries[1]["entry"]

    with lies.lying("GET", "/v1/log/directory", rewrite_json(swap)):
        officer = stage.client("officer", tmp_path / "officer")
        size = officer.log.checkpoint().checkpoint.size
        _refused(
            stage,
            lies,
            tmp_path,
            TrustError,
            "the directory entries the server sent do not hash to the directory root of"
            f" checkpoint {size}: an entry is hidden, added or altered",
        )


def test_a_stale_checkpoint_replayed_to_hide_a_revocation(stage, lies, tmp_path):
    """A client that saw the revocation is shown the log from before it."""
    state = tmp_path / "officer"
    stage.client("officer", state).submit(case_body(), "clipshare")
    seen = stage.client("officer", state).log.checkpoint().checkpoint.size
    stale = stage.notes["before-revocation"]
    lies.forwarded.clear()
    old_keys = stage.notes["keys-before-revocation"]
    with (
        lies.lying("GET", "/v1/log/checkpoint", lambda _q, _b: stale.encode()),
        lies.lying("GET", "/v1/orgs/clipshare/keys", rewrite_json(lambda _d: old_keys)),
    ):
        officer = stage.client("officer", state)
        old_size = int(stale.split("\n")[1])
        with pytest.raises(
            TrustError,
            match=f"^the log shrank from {seen} to {old_size} entries: a fork or rollback$",
        ):
            officer.submit(case_body(), "clipshare")
    assert lies.posted("/v1/cases") == []


def test_a_checkpoint_by_another_key_with_no_handover_list(stage, lies, tmp_path):
    """A checkpoint signed by a key the client never pinned, and no handovers to follow."""
    rogue = Identity.generate().signing_key
    honest = stage.client("officer", tmp_path / "honest", through_proxy=False)
    text = honest.log.checkpoint().note.split("\n\n")[0] + "\n"
    forged = note.sign(text, stage.origin, rogue)

    def no_handovers(document):
        del document["handovers"]

    with (
        lies.lying("GET", "/v1/log/checkpoint", lambda _q, _b: forged.encode()),
        lies.lying("GET", "/v1/log/key", rewrite_json(no_handovers)),
    ):
        with pytest.raises(VerificationError) as unpinned:
            verify_checkpoint(forged, [stage.verifier_key], stage.origin)
        _refused(
            stage,
            lies,
            tmp_path,
            TrustError,
            f"the log checkpoint does not verify with the pinned key: {unpinned.value}",
        )


def test_a_log_entry_that_is_not_the_one_at_its_index(stage, lies, tmp_path):
    """Opening a case: the server answers for the case's entry with another real entry."""
    sent = stage.client("officer", tmp_path / "officer").submit(case_body(), "clipshare")
    index = sent.log["index"]
    honest = stage.client("lead", tmp_path / "honest", through_proxy=False)
    other = honest.log.transport.get("/v1/log/entries", start=index - 1, end=index)["entries"][0]

    def substitute(document):
        document["entries"][0]["entry"] = other["entry"]

    def for_index(query, body):
        if query.get("start") == [str(index)]:
            return rewrite_json(substitute)(query, body)
        return body

    with lies.lying("GET", "/v1/log/entries", for_index):
        lead = stage.client("lead", tmp_path / "lead")
        with pytest.raises(TrustError, match=f"^log entry {index} is not proven in the checkpoint"):
            lead.open_case(sent.case_id)


def test_a_handoff_shown_as_sent_with_a_key_not_the_senders(stage, lies, tmp_path):
    """Opening a case checks the sender's key against the replica, not the server's word."""
    sent = stage.client("officer", tmp_path / "officer").submit(case_body(), "clipshare")
    shopper_kid = stage.kid("shopper", "sig")

    def swap_sender(document):
        document["timeline"][0]["sender"]["kid"] = shopper_kid

    with lies.lying("GET", f"/v1/cases/{sent.case_id}", rewrite_json(swap_sender)):
        lead = stage.client("lead", tmp_path / "lead")
        with pytest.raises(
            DirectoryMismatchError,
            match=f"^the sender's key {shopper_kid} is not a key of officer of police in the log$",
        ):
            lead.open_case(sent.case_id)


def test_hotline_submit_refuses_with_one_line_and_exit_1(stage, lies, tmp_path):
    """The CLI: the discrepancy on one line, exit 1, nothing sent."""
    theirs = {
        **stage.jwk("shopper", "enc"),
        "official": "lead",
        "role": "platform_lead",
        "status": "active",
        "registered_log_index": 3,
    }
    case_file = tmp_path / "case.json"
    case_file.write_text(json.dumps(case_body()))
    with lies.lying("GET", "/v1/orgs/clipshare/keys", _keys(lambda keys: keys.append(theirs))):
        result = stage.hotline("submit", str(case_file), "--to", "clipshare")
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: the server lists key {theirs['kid']} for clipshare,"
        " but the log registers it to shopper of othershop\n"
    )
    assert lies.posted("/v1/cases") == []
    honest = stage.hotline("submit", str(case_file), "--to", "clipshare")
    assert honest.exit_code == 0, honest.output
    (posted,) = lies.posted("/v1/cases")
    assert theirs["kid"] not in recipient_kids(posted)
