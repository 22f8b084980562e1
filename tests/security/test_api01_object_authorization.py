"""API1:2023 Broken Object Level Authorization: every route that takes an id, every official.

The matrix is keyed by the app's own url_map: a route with a path parameter that has no
entry here fails `test_every_route_with_an_id_is_in_the_matrix`, so a new route cannot be
added without deciding who may reach which objects through it.

Already covered in tests/exchange/api/test_authorization.py, and not repeated here: case
visibility per official for a routed, a queued and another platform's case; handoffs on
cases the caller may not see; the inbox; the open directory; revoking another official's
key (one case). This module adds the assignment dimension (a case reassigned away, a case
waiting in the lead's queue), every official against every object for each route, the
full-database `unchanged` check, and the routes and queries not covered there.
"""

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from exchange.client import authoring
from exchange.protocol import envelope as env
from tests.exchange.api.support import (
    assert_problem,
    assignment,
    created,
    new_id,
    receipt,
    without_request_id,
)
from tests.helpers.world import Official, World, statement_of
from tests.schemas import examples
from tests.security.support import signed_in, unchanged

OFFICIALS = (
    "officer-1",
    "officer-2",
    "caseworker-1",
    "cs-reviewer",
    "cs-second",
    "cs-lead",
    "ch-reviewer",
    "ch-lead",
    "auditor-1",
)
# Who may see each case (see `Cases`); everybody else gets the 404 of a missing case.
VISIBLE = {
    "routed": {"officer-1", "officer-2", "cs-reviewer", "cs-lead", "auditor-1"},
    "queued": {"officer-1", "officer-2", "cs-lead", "auditor-1"},
    "reassigned": {"officer-1", "officer-2", "cs-second", "cs-lead", "auditor-1"},
    "helpline": {"caseworker-1", "ch-reviewer", "ch-lead", "auditor-1"},
}


@dataclass
class Cases:
    """Four cases: routed to cs-reviewer; in clipshare's queue; taken from cs-reviewer and
    given to cs-second; a helpline case at chatter routed to ch-reviewer."""

    world: World
    sent: dict[str, env.Envelope]

    def case_id(self, name: str) -> str:
        return statement_of(self.sent[name])["case_id"]


def make_cases(world: World) -> Cases:
    world.enroll("clipshare", "cs-second", "platform_official")
    world.route("chatter", "fraud", "ch-reviewer")
    officer, caseworker = world.officials["officer-1"], world.officials["caseworker-1"]
    sent = {
        "routed": world.seal_case(officer, "clipshare"),
        "queued": world.seal_case(officer, "clipshare", category="ncii"),
        "reassigned": world.seal_case(officer, "clipshare"),
        "helpline": world.seal_case(caseworker, "chatter", category="fraud"),
    }
    for name, sealed in sent.items():
        created((caseworker if name == "helpline" else officer).send(sealed))
    lead = world.officials["cs-lead"]
    created(lead.send(assignment(world, lead, sent["reassigned"], "cs-second")))
    signed_in(world)
    return Cases(world, sent)


def plausible_handoff(world: World, person: Official, case: env.Envelope) -> env.Envelope:
    """What `person` would send if the case were theirs: a withdrawal from an agency, a
    receipt binding the right record from anyone else."""
    statement = statement_of(case)
    if person.role == "agency_officer":
        return world.reply(
            person,
            statement["case_id"],
            "withdrawal",
            statement["handoff_id"],
            statement["to"][0],
            body=examples.withdrawal_body(),
        )
    return receipt(world, person, case, statement["sender"]["org"])


# --- one check per route -----------------------------------------------------------------------


def read_case(world: World, cases: Cases) -> None:
    for official_id in OFFICIALS:
        person = world.officials[official_id]
        missing = assert_problem(person.get(f"/v1/cases/{new_id()}"), 404, "not-found")
        for name in cases.sent:
            path = f"/v1/cases/{cases.case_id(name)}"
            if official_id in VISIBLE[name]:
                assert person.get(path).status_code == 200, (official_id, name)
                continue
            with unchanged(world):
                problem = assert_problem(person.get(path), 404, "not-found")
            assert without_request_id(problem) == without_request_id(missing), (official_id, name)


def post_handoff(world: World, cases: Cases) -> None:
    for official_id in OFFICIALS:
        person = world.officials[official_id]
        for name, case in cases.sent.items():
            if official_id in VISIBLE[name] and person.role != "auditor":
                continue  # their own cases: the workflow tests cover what they may send
            sealed = plausible_handoff(world, person, case)
            with unchanged(world):
                response = person.send(sealed)
                if person.role == "auditor":
                    assert_problem(response, 403, "forbidden")
                else:
                    assert_problem(response, 404, "not-found")


def read_organisation(suffix: str) -> Callable[[World, Cases], None]:
    """The directory is shared by design: every official reads every organisation (that is
    how an agency finds whom to encrypt to); an unknown one is a 404; reading logs nothing."""

    def check(world: World, cases: Cases) -> None:
        orgs = ("metro-police", "helpline", "clipshare", "chatter", "regulator")
        for official_id in OFFICIALS:
            person = world.officials[official_id]
            with unchanged(world):
                for org in orgs:
                    assert person.get(f"/v1/orgs/{org}{suffix}").status_code == 200
                assert_problem(person.get(f"/v1/orgs/nowhere{suffix}"), 404, "not-found")
                assert_problem(person.get(f"/v1/orgs/{new_id()}{suffix}"), 404, "not-found")

    return check


def revoke_key(world: World, cases: Cases) -> None:
    """Nobody revokes a key that is not theirs, whatever the statement claims; the refusal
    is the 404 of a key that does not exist."""
    for official_id in OFFICIALS:
        person = world.officials[official_id]
        missing = b"unknown-kid-" + official_id.encode()
        for victim_id in OFFICIALS:
            if victim_id == official_id:
                continue
            victim = world.officials[victim_id]
            for kid in (victim.identity.signing_kid, victim.identity.encryption_kid):
                # Signed by the attacker; once naming themselves, once the victim.
                for org, named in ((person.org, person.id), (victim.org, victim.id)):
                    statement = authoring.revocation(
                        person.identity.signing_key, org, named, kid, "compromised", world.clock()
                    )
                    with unchanged(world):
                        response = person.post(f"/v1/keys/{kid}/revoke", {"statement": statement})
                        assert_problem(response, 404, "not-found")
        statement = authoring.revocation(
            person.identity.signing_key,
            person.org,
            person.id,
            missing.hex(),
            "lost",
            world.clock(),
        )
        with unchanged(world):
            response = person.post(f"/v1/keys/{missing.hex()}/revoke", {"statement": statement})
            assert_problem(response, 404, "not-found")
    # The control: the same request for one's own key is accepted (the check can fail).
    officer = world.officials["officer-2"]
    kid = officer.identity.encryption_kid
    statement = authoring.revocation(
        officer.identity.signing_key, officer.org, officer.id, kid, "lost", world.clock()
    )
    created(officer.post(f"/v1/keys/{kid}/revoke", {"statement": statement}))


ORGS_OF = {"metro-police", "helpline", "clipshare", "chatter", "regulator"}
LEADS = {"officer-1", "caseworker-1", "cs-lead", "ch-lead", "auditor-1"}  # bootstrapped


def read_members(world: World, cases: Cases) -> None:
    """Membership, with pending invitations, is each organisation's own business."""
    for official_id in OFFICIALS:
        person = world.officials[official_id]
        with unchanged(world):
            for org in ORGS_OF:
                response = person.get(f"/v1/orgs/{org}/members")
                if org == person.org:
                    assert response.status_code == 200, (official_id, org)
                else:
                    assert_problem(response, 403, "forbidden")


def change_membership(world: World, cases: Cases) -> None:
    """Only a current lead of the organisation signs its membership: every other official,
    for every organisation, is refused and nothing changes."""
    for official_id in OFFICIALS:
        person = world.officials[official_id]
        for org in sorted(ORGS_OF):
            if org == person.org and official_id in LEADS:
                continue
            victim = next(p for p in world.officials.values() if p.org == org)
            statement = authoring.membership(
                person.identity.signing_key,
                org,
                "remove",
                world.clock(),
                official=victim.id,
            )
            slug = "lead-of-another-organisation" if official_id in LEADS else "not-a-lead"
            with unchanged(world):
                response = person.post(f"/v1/orgs/{org}/membership", {"statement": statement})
                assert_problem(response, 403, slug)
    # The control: clipshare's lead removes cs-second (the check can fail).
    created(world.membership("clipshare", "remove", official="cs-second"))


def _victim_subscription(world: World) -> tuple[Official, str]:
    """cs-reviewer's e-mail target (no outbound check applies to an address)."""
    victim = world.officials["cs-reviewer"]
    target = "cs-reviewer@clipshare.example"
    statement = authoring.subscription(
        victim.identity.signing_key,
        victim.org,
        victim.id,
        subscription_id=new_id(),
        channel="email",
        target=target,
        scope="own",
        events=["case"],
        priorities=["urgent"],
        now=world.clock(),
    )
    body = created(victim.post("/v1/subscriptions", {"statement": statement, "target": target}))
    return victim, body["id"]


def remove_subscription(world: World, cases: Cases) -> None:
    """Nobody removes another official's target, whoever the statement names."""
    victim, subscription_id = _victim_subscription(world)
    for official_id in OFFICIALS:
        person = world.officials[official_id]
        if person is victim:
            continue
        for org, named in ((person.org, person.id), (victim.org, victim.id)):
            statement = authoring.subscription_removal(
                person.identity.signing_key, org, named, subscription_id, world.clock()
            )
            with unchanged(world):
                response = person.post(
                    f"/v1/subscriptions/{subscription_id}/remove", {"statement": statement}
                )
                if person.role == "auditor":
                    assert_problem(response, 403, "forbidden")
                else:
                    assert_problem(response, 404, "not-found")
    statement = authoring.subscription_removal(
        victim.identity.signing_key, victim.org, victim.id, subscription_id, world.clock()
    )
    response = victim.post(f"/v1/subscriptions/{subscription_id}/remove", {"statement": statement})
    assert response.status_code == 200  # the control: its owner may


def send_test_message(world: World, cases: Cases) -> None:
    """Nobody sends test messages to another official's target."""
    victim, subscription_id = _victim_subscription(world)
    for official_id in OFFICIALS:
        person = world.officials[official_id]
        if person is victim:
            continue
        with unchanged(world):
            response = person.post(f"/v1/subscriptions/{subscription_id}/test", {})
            if person.role == "auditor":
                assert_problem(response, 403, "forbidden")
            else:
                assert_problem(response, 404, "not-found")
    response = victim.post(f"/v1/subscriptions/{subscription_id}/test", {})
    assert response.status_code == 202  # the control


def static_files(world: World, cases: Cases) -> None:
    """Flask's static route: the app ships no static files, so every path is a 404."""
    for path in (
        "app.js",
        "../wsgi.py",
        "..%2f..%2fwsgi.py",
        "exchange.storage.database",
        "instance/x",
    ):
        with unchanged(world):
            assert_problem(world.client.get(f"/static/{path}"), 404, "not-found")


def docs_assets(world: World, cases: Cases) -> None:
    """The docs page's assets: the few Swagger UI files it names, and nothing else of
    their folder or of the disk, whatever the path."""
    with unchanged(world):
        assert world.client.get("/docs/assets/swagger-ui.css").status_code == 200
    for path in (
        "LICENSE",
        "index.css",
        "../__init__.py",
        "..%2f..%2fwsgi.py",
        "etc/passwd",
        "swagger-ui.css/..",
    ):
        with unchanged(world):
            assert_problem(world.client.get(f"/docs/assets/{path}"), 404, "not-found")


def public_tiles(world: World, cases: Cases) -> None:
    """Hash tiles are public by design (C2SP tlog-tiles): the same bytes for every official
    and for no one; the entry bundles, which name organisations and cases, are not served."""
    with unchanged(world):
        anonymous = world.client.get("/tile/0/000.p/1")
    assert anonymous.status_code == 200
    for official_id in OFFICIALS:
        with unchanged(world):
            assert world.officials[official_id].get("/tile/0/000.p/1").data == anonymous.data
    with unchanged(world):
        assert_problem(world.client.get("/tile/entries/000.p/1"), 404, "not-found")


MATRIX: dict[tuple[str, str], Callable[[World, Cases], None]] = {
    ("GET", "/v1/cases/<string:case_id>"): read_case,
    ("POST", "/v1/cases/<string:case_id>/handoffs"): post_handoff,
    ("GET", "/v1/orgs/<string:org_id>"): read_organisation(""),
    ("GET", "/v1/orgs/<string:org_id>/officials"): read_organisation("/officials"),
    ("GET", "/v1/orgs/<string:org_id>/keys"): read_organisation("/keys"),
    ("GET", "/v1/orgs/<string:org_id>/members"): read_members,
    ("POST", "/v1/orgs/<string:org_id>/membership"): change_membership,
    ("POST", "/v1/keys/<string:kid>/revoke"): revoke_key,
    ("POST", "/v1/subscriptions/<string:subscription_id>/remove"): remove_subscription,
    ("POST", "/v1/subscriptions/<string:subscription_id>/test"): send_test_message,
    ("GET", "/static/<path:filename>"): static_files,
    ("GET", "/docs/assets/<path:filename>"): docs_assets,
    ("GET", "/tile/<level>/<path:index>"): public_tiles,
}


def test_every_route_with_an_id_is_in_the_matrix(app):
    routes = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.arguments
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes == set(MATRIX)


@pytest.mark.parametrize("route", sorted(MATRIX), ids=" ".join)
def test_every_official_against_every_object(world, route):
    cases = make_cases(world)
    MATRIX[route](world, cases)


# --- ids in queries: the inbox cursor, the case list, log entries and proofs ----------------


def test_the_case_list_never_crosses_organisations_or_assignments(world):
    cases = make_cases(world)
    for official_id in OFFICIALS:
        person = world.officials[official_id]
        with unchanged(world):
            listed = {c["case_id"] for c in person.get("/v1/cases?limit=100").get_json()["cases"]}
        expected = {cases.case_id(n) for n in cases.sent if official_id in VISIBLE[n]}
        assert listed == expected, official_id


def test_an_inbox_cursor_reaches_only_the_callers_own_sequence(world):
    """`after` is a position in the caller's own inbox, never another official's."""
    cases = make_cases(world)
    reviewer = world.officials["cs-reviewer"]
    seen = reviewer.get("/v1/inbox?after=0&limit=100").get_json()
    mine = {item["case"]["case_id"] for item in seen["items"]}
    assert mine == {cases.case_id("routed")}  # the reassigned case left with its assignment
    for after in range(0, seen["last_seq"] + 3):
        page = reviewer.get(f"/v1/inbox?after={after}&limit=100").get_json()
        assert {item["case"]["case_id"] for item in page["items"]} <= mine


def test_log_entries_and_proofs_of_other_cases_reveal_only_hashes(world):
    cases = make_cases(world)
    size = world.log_size()
    entries = world.log_entries()
    for official_id in OFFICIALS:
        person = world.officials[official_id]
        with unchanged(world):
            served = person.get(f"/v1/log/entries?start=0&end={size}").get_json()["entries"]
        for entry, row in zip(entries, served, strict=True):
            name = next(
                (n for n in cases.sent if entry["case_id"] == cases.case_id(n)),
                None,
            )
            if entry["case_id"] is not None and name is None:
                pytest.fail(f"an entry of an unknown case: {entry}")
            # cs-reviewer's once-assigned case is no longer readable: VISIBLE says so.
            readable = name is None or official_id in VISIBLE[name]
            assert (row["entry"] is not None) == readable, (official_id, entry["index"])
        # A proof of any index is hashes only: nothing of the entry it proves.
        proof = person.get(f"/v1/log/proof/inclusion?index=0&tree_size={size}").get_json()
        assert set(proof) == {"index", "tree_size", "leaf_hash", "proof"}


def test_a_case_id_in_another_officials_statement_is_not_an_oracle(world):
    """Posting to a case you may not see, with a statement naming that same case, is the
    404 of a case that does not exist, even when every other field is right."""
    cases = make_cases(world)
    stranger = world.officials["ch-lead"]
    for name in ("routed", "queued", "reassigned"):
        case = cases.sent[name]
        statement = statement_of(case)
        ack = world.reply(
            stranger,
            statement["case_id"],
            "receipt",
            statement["handoff_id"],
            "metro-police",
            meta={
                "handoff_id": statement["handoff_id"],
                "record_sha256": statement["record_sha256"],
                "received_at": statement["issued_at"],
            },
        )
        missing = world.reply(
            stranger,
            new_id(),
            "receipt",
            statement["handoff_id"],
            "metro-police",
            meta={
                "handoff_id": statement["handoff_id"],
                "record_sha256": statement["record_sha256"],
                "received_at": statement["issued_at"],
            },
        )
        with unchanged(world):
            seen = assert_problem(stranger.send(ack), 404, "not-found")
            unseen = assert_problem(stranger.send(missing), 404, "not-found")
        assert without_request_id(seen) == without_request_id(unseen)
