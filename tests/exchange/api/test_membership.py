"""Organisations sign their own membership: a lead's statement, or nothing changes.

The operator's invitation is pending: the official gets no token, is not a recipient,
and a case encrypted to them is refused with its own problem type, until a current lead
of their organisation approves them. Each refusal changes nothing.
"""

import pytest

from exchange import runtime
from exchange.client import authoring
from exchange.protocol import envelope as env
from exchange.protocol.key_management import code_sha256
from exchange.services import operator
from tests.exchange.api.support import assert_problem, created
from tests.helpers.world import Official


def pending(world, org="clipshare", official="cs-rogue", role="platform_official") -> Official:
    """An official the operator alone invited, enrolled with their own keys."""
    code = world.operator_invite(org, official, role)
    person = Official(world, org, official, role)
    created(
        world.client.post(
            "/v1/enroll",
            json={
                "code": code,
                "statement": authoring.enrollment(
                    person.identity, org, official, code_sha256(code), world.clock()
                ),
            },
        )
    )
    world.officials[official] = person
    return person


def listed_kids(world, org):
    lead = world.officials[world.leads[org]]
    return {key["kid"] for key in lead.get(f"/v1/orgs/{org}/keys").get_json()["keys"]}


def test_an_operator_invitation_receives_nothing_until_a_lead_approves(world):
    officer, cs_lead = world.officials["officer-1"], world.officials["cs-lead"]
    rogue = pending(world)
    [entry] = [e for e in world.log_entries() if e["event"] == "official_invited"]
    assert (entry["actor"], entry["details"]["official"]) == (None, "cs-rogue")
    # Not a recipient: the directory leaves their keys out, and the server refuses a case
    # sealed to them with its own problem type.
    assert rogue.identity.encryption_kid not in listed_kids(world, "clipshare")
    record = world.case_record(officer, "clipshare")
    sealed = env.seal(
        record,
        officer.identity.signing_key,
        [*world.keys_of("clipshare", "metro-police")],  # world.keys_of includes the rogue
    )
    before = world.log_size()
    body = assert_problem(
        officer.post("/v1/cases", sealed.to_json()), 422, "unapproved-recipient-keys"
    )
    assert body["unapproved_kids"] == [rogue.identity.encryption_kid]
    assert world.log_size() == before
    with pytest.raises(AssertionError, match="approved official"):
        rogue.login()
    # The lead approves: the server now requires the case to reach them too.
    response = cs_lead.post(
        "/v1/orgs/clipshare/membership",
        {
            "statement": authoring.membership(
                cs_lead.identity.signing_key,
                "clipshare",
                "approve",
                world.clock(),
                official="cs-rogue",
                role="platform_official",
                categories=["ncii"],
                lead=False,
            )
        },
    )
    answer = created(response)
    assert answer["event"] == "member_approved"
    assert answer["code"] is None
    assert answer["member"] == {
        "id": "cs-rogue",
        "org": "clipshare",
        "role": "platform_official",
        "title": "",
        "categories": ["ncii"],
        "languages": [],
        "contact": {},
        "enrolled": True,
        "active": True,
        "approved": True,
        "lead": False,
    }
    [approval] = world.log_entries(answer["log"]["index"])
    assert approval["actor"] == {
        "org": "clipshare",
        "official": "cs-lead",
        "kid": cs_lead.identity.signing_kid,
    }
    assert approval["details"] == {
        "org": "clipshare",
        "official": "cs-rogue",
        "role": "platform_official",
        "categories": ["ncii"],
        "lead": False,
    }
    assert rogue.identity.encryption_kid in listed_kids(world, "clipshare")
    created(officer.post("/v1/cases", sealed.to_json()))
    assert rogue.get("/v1/inbox").status_code == 200


def test_a_case_that_leaves_out_an_approved_official_is_refused(world):
    officer = world.officials["officer-1"]
    rogue = pending(world)
    world.approve("clipshare", "cs-rogue", "platform_official")
    record = world.case_record(officer, "clipshare")
    readers = [
        k
        for k in world.keys_of("clipshare", "metro-police")
        if k != rogue.identity.encryption_public_key
    ]
    sealed = env.seal(record, officer.identity.signing_key, readers)
    body = assert_problem(
        officer.post("/v1/cases", sealed.to_json()), 422, "missing-recipient-keys"
    )
    assert body["missing_kids"] == [rogue.identity.encryption_kid]


def test_a_lead_invites_and_the_invited_official_enrolls_approved(world):
    cs_lead = world.officials["cs-lead"]
    before = world.log_size()
    answer = created(
        world.membership(
            "clipshare",
            "invite",
            official="cs-night",
            role="platform_official",
            categories=["csam", "ncii"],
            lead=False,
            title="Night shift",
        )
    )
    assert answer["event"] == "member_invited"
    assert answer["member"]["approved"] is True
    [entry] = world.log_entries(before)
    assert entry["event"] == "member_invited"
    assert entry["actor"]["official"] == "cs-lead"
    assert entry["details"] == {
        "org": "clipshare",
        "official": "cs-night",
        "role": "platform_official",
        "categories": ["csam", "ncii"],
        "lead": False,
        "title": "Night shift",
    }
    person = Official(world, "clipshare", "cs-night", "platform_official")
    created(
        world.client.post(
            "/v1/enroll",
            json={
                "code": answer["code"],
                "statement": authoring.enrollment(
                    person.identity,
                    "clipshare",
                    "cs-night",
                    code_sha256(answer["code"]),
                    world.clock(),
                ),
            },
        )
    )
    assert person.get("/v1/inbox").status_code == 200
    members = {m["id"]: m for m in cs_lead.get("/v1/orgs/clipshare/members").get_json()["members"]}
    assert (members["cs-night"]["approved"], members["cs-lead"]["lead"]) == (True, True)


def test_an_operator_reinvitation_withdraws_the_approval(world):
    reviewer = world.officials["cs-reviewer"]
    reviewer.headers()  # a token from before the re-invitation
    assert reviewer.identity.encryption_kid in listed_kids(world, "clipshare")
    # An enrolled official is re-invited only on purpose (lost keys, a new device).
    world.operator_invite("clipshare", "cs-reviewer", "platform_official", reissue=True)
    assert reviewer.identity.encryption_kid not in listed_kids(world, "clipshare")
    assert_problem(reviewer.get("/v1/inbox"), 401, "invalid-token")


def test_removal_ends_access_and_the_last_lead_stays(world):
    reviewer = world.officials["cs-reviewer"]
    reviewer.headers()
    created(world.membership("clipshare", "remove", official="cs-reviewer"))
    assert_problem(reviewer.get("/v1/inbox"), 401, "invalid-token")
    before = world.log_size()
    body = assert_problem(
        world.membership("clipshare", "remove", official="cs-lead"), 409, "last-lead"
    )
    assert "last lead" in body["detail"]
    assert world.log_size() == before


def _statement(world, signer, org, action="approve", **fields):
    fields = fields or {
        "official": "cs-reviewer",
        "role": "platform_official",
        "categories": [],
        "lead": False,
    }
    return authoring.membership(signer.identity.signing_key, org, action, world.clock(), **fields)


@pytest.mark.parametrize(
    ("signer", "org", "fields", "status", "slug"),
    [
        ("cs-reviewer", "clipshare", {}, 403, "not-a-lead"),
        ("ch-lead", "clipshare", {}, 403, "lead-of-another-organisation"),
        ("officer-2", "clipshare", {}, 403, "not-a-lead"),
        (
            "cs-lead",
            "clipshare",
            {"official": "nobody", "role": "platform_official", "categories": [], "lead": False},
            404,
            "unknown-official",
        ),
        (
            "cs-lead",
            "clipshare",
            {
                "official": "ch-reviewer",
                "role": "platform_official",
                "categories": [],
                "lead": False,
            },
            404,
            "unknown-official",
        ),
        (
            "cs-lead",
            "clipshare",
            {"official": "cs-reviewer", "role": "agency_officer", "categories": [], "lead": False},
            422,
            "unprocessable",
        ),
        ("cs-lead", "clipshare", {"official": "cs-reviewer"}, 422, "invalid-membership-statement"),
    ],
)
def test_refusals_name_their_problem_and_change_nothing(world, signer, org, fields, status, slug):
    person = world.officials[signer]
    statement = _statement(world, person, org, **fields)
    before = world.log_size()
    assert_problem(
        person.post(f"/v1/orgs/{org}/membership", {"statement": statement}), status, slug
    )
    assert world.log_size() == before


def test_a_statement_applies_once(world):
    cs_lead = world.officials["cs-lead"]
    statement = _statement(world, cs_lead, "clipshare")
    created(cs_lead.post("/v1/orgs/clipshare/membership", {"statement": statement}))
    before = world.log_size()
    assert_problem(
        cs_lead.post("/v1/orgs/clipshare/membership", {"statement": statement}),
        409,
        "statement-replayed",
    )
    assert world.log_size() == before


def test_a_statement_for_another_org_or_by_another_key_is_refused(world):
    cs_lead, ch_lead = world.officials["cs-lead"], world.officials["ch-lead"]
    # Signed for chatter, sent to clipshare's URL.
    for_chatter = _statement(
        world,
        cs_lead,
        "chatter",
        official="ch-reviewer",
        role="platform_official",
        categories=[],
        lead=False,
    )
    assert_problem(
        cs_lead.post("/v1/orgs/clipshare/membership", {"statement": for_chatter}),
        422,
        "invalid-membership-statement",
    )
    # Signed by another lead's key than the caller's.
    by_other = _statement(world, ch_lead, "clipshare")
    assert_problem(
        cs_lead.post("/v1/orgs/clipshare/membership", {"statement": by_other}),
        422,
        "invalid-membership-statement",
    )


def test_routing_goes_only_to_an_approved_official(world):
    pending(world)
    body = assert_problem(
        world.membership("clipshare", "route", category="ncii", official="cs-rogue"),
        422,
        "unprocessable",
    )
    assert "not approved" in body["detail"]


def test_only_an_organisations_own_officials_list_its_members(world):
    assert_problem(world.officials["ch-lead"].get("/v1/orgs/clipshare/members"), 403, "forbidden")


def test_the_operator_bootstraps_a_lead_only_once(world):
    with world.app.app_context(), runtime.write() as session:
        operator.create_organisation(session, world.clock(), "newplat", "platform", "New")
    world.operator_invite("newplat", "np-lead", "platform_lead", bootstrap_lead=True)
    before = world.log_size()
    with pytest.raises(Exception, match="newplat already has a lead") as refused:
        world.operator_invite("newplat", "np-2", "platform_lead", bootstrap_lead=True)
    assert refused.value.slug == "organisation-has-leads"
    assert world.log_size() == before
