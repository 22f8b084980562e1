"""API3:2023 Broken Object Property Level Authorization: what a client may set and see.

Already covered elsewhere, and not repeated here: an unknown member of the envelope and
unknown query parameters of /v1/inbox (tests/exchange/api/test_problems.py::
test_schema_errors_are_a_422_with_errors_by_field), an extra token form field
(test_auth.py::test_the_token_request_form_is_checked), auditors' case detail without a
JWE (test_authorization.py::test_an_auditor_reads_but_never_acts), case summaries without
one (test_listing.py::test_summaries_carry_no_jwe_and_the_auditor_lists_everything), and
officials' `entry: null` for other organisations' log entries
(test_lead_review.py::test_officials_read_only_the_log_entries_of_their_own_cases).

This module adds: an extra member at every level of every JSON body, named in the 422;
server-owned properties (`state`, `assignee`, `log_index`, ...) smuggled into the signed
statement or its meta; and a crawl of every readable route as an auditor and as a stranger
that no byte of any JWE, and no private key member, ever comes back.
"""

import copy
import json
from typing import Any

import pytest

from exchange.client import authoring
from exchange.protocol import envelope as env
from exchange.protocol.envelope.canonical import canonical
from exchange.protocol.envelope.jose import STATEMENT_TYP, sign_compact
from exchange.protocol.key_management import code_sha256
from keys import Identity
from tests.exchange.api.support import assert_problem, created, submit
from tests.helpers.world import World, statement_of
from tests.security.support import signed_in, unchanged

SERVER_OWNED = ("state", "assignee", "log_index", "received_at", "outcome", "ack_due_at")


def _at(document: dict[str, Any], path: tuple[Any, ...]) -> dict[str, Any]:
    target = document
    for step in path:
        target = target[step]
    return target


ENVELOPE_LEVELS = [
    (),
    ("jwe",),
    ("jwe", "recipients", 0),
    ("jwe", "recipients", 0, "header"),
    ("jwe", "recipients", 0, "header", "epk"),
]


@pytest.mark.parametrize("level", ENVELOPE_LEVELS, ids=lambda p: "/".join(map(str, p)) or "top")
def test_an_extra_member_anywhere_in_an_envelope_is_named_in_a_422(world, level):
    officer = signed_in(world).officials["officer-1"]
    sealed = world.seal_case(officer, "clipshare")
    for name in SERVER_OWNED:
        document = copy.deepcopy(sealed.to_json())
        _at(document, level)[name] = "closed"
        with unchanged(world):
            problem = assert_problem(officer.post("/v1/cases", document), 422, "validation-failed")
        errors = problem["errors"]
        for step in level:
            errors = errors[str(step)] if str(step) in errors else errors[step]
        assert name in errors, problem["errors"]
    created(officer.send(sealed))


def test_an_extra_member_in_every_other_json_body_is_named_in_a_422(world, clock):
    officer = signed_in(world).officials["officer-1"]
    new = Identity.generate()
    rotation, proof = authoring.rotation(
        officer.identity.signing_key, new, officer.org, officer.id, clock()
    )
    kid = officer.identity.encryption_kid
    revocation = authoring.revocation(
        officer.identity.signing_key, officer.org, officer.id, kid, "lost", clock()
    )
    code = world.invite("metro-police", "officer-9", "agency_officer")
    enrollment = authoring.enrollment(
        Identity.generate(), "metro-police", "officer-9", code_sha256(code), clock()
    )
    _, statement = submit(world, officer)
    case = world.seal_case(officer, "clipshare")
    bodies = {
        "/v1/enroll/invitation": {"code": code},
        "/v1/enroll": {"code": code, "statement": enrollment},
        "/v1/keys/rotate": {"statement": rotation, "proof": proof},
        f"/v1/keys/{kid}/revoke": {"statement": revocation},
        f"/v1/cases/{statement['case_id']}/handoffs": case.to_json(),
    }
    for path, body in bodies.items():
        for name in SERVER_OWNED:
            with unchanged(world):
                response = officer.post(path, {**body, name: "x"})
                problem = assert_problem(response, 422, "validation-failed")
            assert set(problem["errors"]) == {name}, (path, problem)
    # The controls: without the extra member, each of these is accepted.
    assert officer.post("/v1/enroll/invitation", bodies["/v1/enroll/invitation"]).status_code == 200
    created(world.client.post("/v1/enroll", json=bodies["/v1/enroll"]))
    created(officer.post(f"/v1/keys/{kid}/revoke", bodies[f"/v1/keys/{kid}/revoke"]))
    created(officer.post("/v1/keys/rotate", bodies["/v1/keys/rotate"]))


def _resigned(world: World, sealed: env.Envelope, change: Any) -> env.Envelope:
    """The officer's own statement, changed and validly re-signed by the officer."""
    officer = world.officials["officer-1"]
    payload = statement_of(sealed)
    change(payload)
    token = sign_compact(canonical(payload), officer.identity.signing_key, STATEMENT_TYP)
    return env.Envelope(token, sealed.jwe)


def test_server_owned_properties_cannot_be_signed_into_a_statement(world):
    """A statement is strict: a member the server owns, at the top or in `meta`, is refused
    with the field named, even though the sender's signature over it is valid."""
    officer = signed_in(world).officials["officer-1"]
    sealed = world.seal_case(officer, "clipshare")
    for name in SERVER_OWNED:
        top = _resigned(world, sealed, lambda p, n=name: p.update({n: "closed"}))
        in_meta = _resigned(world, sealed, lambda p, n=name: p["meta"].update({n: "cs-lead"}))
        with unchanged(world):
            problem = assert_problem(officer.send(top), 422, "envelope-invalid-statement")
            assert name in problem["errors"]
            problem = assert_problem(officer.send(in_meta), 422, "envelope-invalid-statement")
            assert name in problem["errors"]["meta"]
    created(officer.send(sealed))


def test_a_case_cannot_choose_its_own_assignee_or_deadlines(world, clock):
    """The routing table and the deadline policy decide; nothing in the envelope can."""
    officer = signed_in(world).officials["officer-1"]
    sealed = world.seal_case(officer, "clipshare", category="ncii", priority="normal")
    answer = created(officer.send(sealed))
    detail = officer.get(f"/v1/cases/{answer['case_id']}").get_json()
    assert detail["assignee"] is None  # ncii is not routed: the lead's queue
    assert detail["state"] == "submitted"
    assert detail["ack_due_at"] == "2026-03-04T09:00:00Z"  # normal: 24 h
    assert detail["timeline"][0]["log_index"] == answer["log"]["index"]


# --- what comes back ---------------------------------------------------------------------------


def readable_paths(world: World, case_ids: list[str]) -> list[str]:
    """Every GET route of the app, with real ids; query routes with their widest query."""
    size = world.log_size()
    paths = [
        "/v1/orgs",
        "/v1/cases?limit=100",
        "/v1/inbox?limit=100",
        "/v1/subscriptions",
        "/v1/notifications?limit=100",
        f"/v1/log/entries?start=0&end={size}",
        f"/v1/log/directory?start=0&end={size}",
        f"/v1/log/proof/inclusion?index=0&tree_size={size}",
        f"/v1/log/proof/consistency?old=1&new={size}",
        "/v1/log/checkpoint",
        "/v1/log/key",
        "/checkpoint",  # public (tlog-tiles)
        "/v1/reports/compliance?from=2026-01-01&to=2026-12-31",
        "/v1/openapi.json",
        "/",
        "/docs",
        "/docs/init.js",
        "/docs/assets/swagger-ui.css",
        "/healthz",
        "/readyz",
        "/metrics",
    ]
    for org in ("metro-police", "helpline", "clipshare", "chatter", "regulator"):
        paths += [f"/v1/orgs/{org}", f"/v1/orgs/{org}/officials", f"/v1/orgs/{org}/keys?status=all"]
        paths.append(f"/v1/orgs/{org}/members")  # the caller's own organisation only
    paths += [f"/v1/cases/{case_id}" for case_id in case_ids]
    return paths


def test_the_crawl_covers_every_get_route(app, world):
    crawled = {path.split("?")[0] for path in readable_paths(world, ["CASE"])}
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and rule.endpoint != "static":
            pattern = (
                rule.rule.replace("<string:case_id>", "CASE")
                .replace("<string:org_id>", "clipshare")
                .replace("<path:filename>", "swagger-ui.css")
            )
            if pattern == "/tile/<level>/<path:index>":
                continue  # bytes of 32-byte hashes, nothing else: test_api01's public_tiles
            assert pattern in crawled, rule.rule


def jwe_fragments(sealed: env.Envelope) -> set[str]:
    """Every value of the JWE that says anything: ciphertext, iv, tag, wrapped keys."""
    assert sealed.jwe is not None
    found = {sealed.jwe["ciphertext"], sealed.jwe["iv"], sealed.jwe["tag"]}
    found |= {r["encrypted_key"] for r in sealed.jwe["recipients"]}
    found.add(json.dumps(sealed.jwe, sort_keys=True))
    return found


@pytest.mark.parametrize("official_id", ["auditor-1", "caseworker-1", "ch-lead", "ch-reviewer"])
def test_no_jwe_ever_reaches_an_auditor_or_a_stranger(world, official_id):
    officer, reviewer = world.officials["officer-1"], world.officials["cs-reviewer"]
    case, statement = submit(world, officer)
    reviewer.get("/v1/inbox")  # delivered: more entries, same secrecy
    signed_in(world)
    person = world.officials[official_id]
    secrets = jwe_fragments(case)
    for path in readable_paths(world, [statement["case_id"]]):
        response = person.get(path)
        assert response.status_code < 500, path
        text = response.get_data(as_text=True)
        for secret in secrets:
            assert secret not in text, (official_id, path)
        if response.is_json and path != "/v1/openapi.json":
            assert not list(jwes_in(response.get_json())), (official_id, path)
    # The control: the case's own agency does get it, so the check above can fail.
    assert list(jwes_in(officer.get(f"/v1/cases/{statement['case_id']}").get_json()))


def jwes_in(document: Any) -> Any:
    """Every non-null `jwe` member anywhere in a JSON document."""
    if isinstance(document, dict):
        if document.get("jwe") is not None:
            yield document["jwe"]
        for value in document.values():
            yield from jwes_in(value)
    elif isinstance(document, list):
        for value in document:
            yield from jwes_in(value)


def test_no_private_key_member_or_enrollment_code_is_ever_served(world):
    code = world.invite("clipshare", "cs-invited", "platform_official")
    person = signed_in(world).officials["officer-1"]
    for path in readable_paths(world, []):
        text = person.get(path).get_data(as_text=True)
        assert '"d":' not in text, path  # the private part of an OKP JWK
        assert code not in text, path
        assert code_sha256(code) not in text, path
