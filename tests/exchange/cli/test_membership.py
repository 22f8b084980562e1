"""`hotline org`, `hotline key` and `hotline monitor` against a live server.

The issue's promise, end to end: an agency's `hotline submit` after an operator-only
invitation does not encrypt to the uninvited official; after the organisation's lead
approves them, it does; and the lead's `hotline monitor` reports both, exit 1 on the
operator's change.
"""

import json

from sqlalchemy import create_engine, text

from tests.exchange.cli.test_casework import _case_file


def recipients(hotline, case_id):
    """The kids the case's JWE is encrypted to, read as the operator from the database."""
    engine = create_engine(hotline.server.database_url)
    try:
        with engine.connect() as connection:
            jwe = connection.scalar(
                text("SELECT jwe FROM handoffs WHERE case_id = :c AND kind = 'case'"),
                {"c": case_id},
            )
    finally:
        engine.dispose()
    return {r["header"]["kid"] for r in json.loads(jwe)["recipients"]}


def enc_kid(hotline, official):
    jwks = json.loads((hotline.keys / official / "public.jwks").read_text())
    return next(k["kid"] for k in jwks["keys"] if k["use"] == "enc")


def enroll_with(hotline, official, code):
    result = hotline(
        official,
        "enroll",
        "--server",
        hotline.server.url,
        "--code",
        code,
        "--key-dir",
        str(hotline.keys / official),
        "--yes",
    )
    assert result.exit_code == 0, result.output


def monitor(hotline):
    result = hotline("lead", "monitor", "--json")
    return result.exit_code, json.loads(result.stdout)


def test_an_operator_only_invitation_gets_no_case_until_the_lead_approves(hotline, tmp_path):
    monitor(hotline)  # whatever happened before: from here on
    hotline.enroll("clipshare", "rogue", "platform_official")  # invited by the operator alone
    code, seen = monitor(hotline)
    assert code == 1
    assert [(c["event"], c["official"], c["authorised"]) for c in seen["changes"]] == [
        ("official_invited", "rogue", False),
        ("official_enrolled", "rogue", True),
    ]
    again = hotline("lead", "monitor")
    assert again.exit_code == 0, again.output  # reported once
    assert "0 change(s)" in again.stdout

    first = hotline.json("officer", "submit", str(_case_file(tmp_path)), "--to", "clipshare")
    sealed_to = recipients(hotline, first["case_id"])
    assert enc_kid(hotline, "rogue") not in sealed_to
    assert enc_kid(hotline, "reviewer") in sealed_to

    approved = hotline.json(
        "lead", "org", "approve", "rogue", "--role", "platform_official", "--categories", "ncii"
    )
    assert approved["event"] == "member_approved"
    code, seen = monitor(hotline)
    assert code == 0
    assert [(c["event"], c["signer"], c["authorised"]) for c in seen["changes"]] == [
        ("member_approved", "lead", True)
    ]
    assert seen["changes"][0]["summary"] == "rogue approved as platform_official (ncii)"

    (tmp_path / "second").mkdir()
    second = hotline.json(
        "officer", "submit", str(_case_file(tmp_path / "second")), "--to", "clipshare"
    )
    assert enc_kid(hotline, "rogue") in recipients(hotline, second["case_id"])


def test_a_lead_invites_lists_and_removes(hotline):
    invited = hotline.json(
        "ch-lead", "org", "invite", "ch-night", "--role", "platform_official", "--title", "Nights"
    )
    assert invited["event"] == "member_invited"
    enroll_with(hotline, "ch-night", invited["code"])
    assert hotline.json("ch-night", "whoami")["id"] == "ch-night"
    members = {m["id"]: m for m in hotline.json("ch-lead", "org", "members")}
    assert (members["ch-night"]["approved"], members["ch-lead"]["lead"]) == (True, True)
    table = hotline("ch-lead", "org", "members")
    assert table.exit_code == 0
    assert table.stdout.splitlines()[0].split() == [
        "OFFICIAL",
        "ROLE",
        "CATEGORIES",
        "LEAD",
        "STATUS",
    ]
    removed = hotline("ch-lead", "org", "remove", "ch-night")
    assert removed.exit_code == 0, removed.output
    assert removed.stdout.startswith("Removed ch-night (log entry ")
    assert hotline("ch-night", "whoami").exit_code == 1


def test_only_a_lead_of_the_organisation_signs(hotline):
    not_lead = hotline("reviewer", "org", "approve", "lead", "--role", "platform_lead")
    assert not_lead.exit_code == 1
    assert not_lead.stderr == (
        "error: Only a current lead of the organisation signs its membership:"
        " reviewer is not a current lead of clipshare\n"
    )
    bad = hotline("lead", "org", "approve", "nobody", "--role", "platform_official")
    assert bad.exit_code == 1
    assert "nobody is not an active official of clipshare" in bad.stderr
    usage = hotline(
        "lead", "org", "approve", "x", "--role", "platform_official", "--categories", "gossip"
    )
    assert usage.exit_code == 2
    assert usage.stderr == "error: unknown categories: gossip\n"


def test_an_official_rotates_and_revokes_their_own_keys(hotline, tmp_path):
    invited = hotline.json("lead", "org", "invite", "cs-rotator", "--role", "platform_official")
    enroll_with(hotline, "cs-rotator", invited["code"])
    old = hotline.json("cs-rotator", "whoami")["kid"]
    rotated = hotline.json("cs-rotator", "key", "rotate", "--new-key-dir", str(tmp_path / "new"))
    new = hotline.json("cs-rotator", "whoami")["kid"]
    assert new != old
    assert new == next(k["kid"] for k in rotated["keys"] if k["use"] == "sig")
    revoked = hotline.json("cs-rotator", "key", "revoke", old, "--reason", "superseded")
    assert revoked["keys"][0]["kid"] == old
    twice = hotline("cs-rotator", "key", "revoke", old, "--reason", "superseded")
    assert twice.exit_code == 1
    assert "already revoked" in twice.stderr
    # One kid in 64 begins with "-": it is still the argument, not an unknown option.
    dashed = hotline("cs-rotator", "key", "revoke", "-" + "A" * 42, "--reason", "lost")
    assert (dashed.exit_code, dashed.stderr) == (
        1,
        f"error: No such resource: no key -{'A' * 42} of yours\n",
    )
    assert (
        hotline("cs-rotator", "key", "rotate", "--new-key-dir", str(tmp_path / "new")).exit_code
        == 2
    )


def test_a_lead_objects_to_the_operators_replacement_of_all_leads(hotline):
    hotline.server.invite("chatter", "ch-usurper", "platform_lead")  # pending, by the operator
    started = hotline.server.admin("org", "replace-leads", "chatter", "ch-usurper").stdout
    ident = started.split()[1]
    assert f"hotline org object {ident}" in started
    objected = hotline.json("ch-lead", "org", "object", ident)
    assert objected["event"] == "lead_replacement_objected"
    assert objected["member"]["id"] == "ch-usurper"
    assert objected["member"]["lead"] is False
    late = hotline.server.admin("org", "complete-replacement", "chatter", check=False)
    assert late.returncode == 1
    assert "no pending replacement of chatter's leads" in late.stderr
