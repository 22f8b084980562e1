"""API4:2023 Unrestricted Resource Consumption: huge inputs are refused before any work.

Already covered elsewhere, and not repeated here: a body over the default limit on
/v1/cases, /v1/token and /v1/enroll and a configurable limit on /v1/enroll
(tests/exchange/api/test_problems.py::test_a_body_over_the_limit_is_a_413,
::test_the_body_limit_is_configurable); JSON nested too deeply, even 100 000 levels, on
/v1/cases (::test_json_nested_deeper_than_allowed_is_a_400); `limit` over 100 on
/v1/cases (test_listing.py::test_bad_filters_are_schema_errors); a 5000-character bearer
token (test_auth.py); envelope size caps in the envelope code itself
(tests/exchange/protocol/envelope/test_policy.py); rate limits (tests/exchange/ops/test_limits.py).

This module adds: the body limit and the depth limit on every route that takes a body,
the recipient cap (configured and schema), item counts, page sizes of every paginated
route, statements over their size cap, and huge query strings.
"""

import copy
import json
from typing import Any

import pytest

from exchange import create_app, runtime
from exchange.api.parsing import MAX_REPORTED_ERRORS
from exchange.protocol import envelope as env
from exchange.protocol.envelope.canonical import canonical
from exchange.protocol.envelope.jose import STATEMENT_TYP, sign_compact
from keys import Identity
from schemas.case_body import MAX_ITEMS
from schemas.common import MAX_JWE_RECIPIENTS
from schemas.envelope import MAX_STATEMENT_CHARS
from tests.conftest import app_config
from tests.exchange.api.support import assert_problem, created, new_id
from tests.helpers.world import World, standard_world, statement_of
from tests.security.support import signed_in, unchanged

SMALL_BODY = 8 * 1024


@pytest.fixture
def small_world(tmp_path, database_url, clock):
    """An exchange with a small body limit and at most 4 recipients per JWE."""
    app = create_app(
        app_config(tmp_path, database_url, clock, MAX_BODY_BYTES=SMALL_BODY, MAX_RECIPIENTS=4)
    )
    world = signed_in(standard_world(app, app.test_client(), clock))
    yield world
    with app.app_context():
        runtime.get_database().engine.dispose()


def post_routes(app: Any) -> list[str]:
    """Every route that takes a body, with its ids filled in."""
    found = []
    for rule in app.url_map.iter_rules():
        if "POST" in rule.methods:
            found.append(
                rule.rule.replace("<string:case_id>", new_id()).replace("<string:kid>", "k" * 43)
            )
    assert len(found) >= 7, found
    return found


def test_every_body_over_the_limit_is_a_413(small_world):
    world = small_world
    officer = world.officials["officer-1"]
    for path in post_routes(world.app):
        if path == "/v1/token":
            media_type, big = "application/x-www-form-urlencoded", b"a=" + b"a" * SMALL_BODY
        else:
            media_type = "application/json"
            big = json.dumps({"statement": "a" * SMALL_BODY, "jwe": None}).encode()
        with unchanged(world):
            response = world.client.post(
                path, data=big, headers={**officer.headers(), "Content-Type": media_type}
            )
            assert_problem(response, 413, "payload-too-large")


def test_a_case_within_the_limit_still_passes(small_world):
    """The control: a real case fits in 8 KiB, so the refusals above are about size."""
    world = small_world
    officer = world.officials["officer-1"]
    sealed = world.seal_case(officer, "clipshare")
    assert len(json.dumps(sealed.to_json())) < SMALL_BODY
    created(officer.send(sealed))


def test_every_json_body_nested_too_deeply_is_a_400(app, world):
    officer = signed_in(world).officials["officer-1"]
    depth = app.config["MAX_JSON_DEPTH"]
    too_deep = b'{"statement": ' + b"[" * depth + b"]" * depth + b"}"
    for path in post_routes(app):
        if path == "/v1/token":
            continue  # form-encoded: no nesting to speak of (a JSON body there is a 415)
        with unchanged(world):
            response = world.client.post(
                path,
                data=too_deep,
                headers={**officer.headers(), "Content-Type": "application/json"},
            )
            assert_problem(response, 400, "json-too-deep")


def test_more_recipients_than_configured_are_refused(small_world):
    world = small_world
    officer = world.officials["officer-1"]
    record = world.case_record(officer, "clipshare")
    # clipshare's two handlers, metro-police's two officers: 4, the configured maximum.
    keys = world.keys_of("clipshare", "metro-police")
    assert len(keys) == 4
    extra = [Identity.generate().encryption_public_key]
    sealed = env.seal(record, officer.identity.signing_key, keys + extra)
    with unchanged(world):
        problem = assert_problem(officer.send(sealed), 422, "envelope-malformed")
    assert "4" in problem["detail"]
    created(officer.send(env.seal(record, officer.identity.signing_key, keys)))


def test_more_recipients_than_the_schema_allows_are_a_422(world):
    officer = signed_in(world).officials["officer-1"]
    sealed = world.seal_case(officer, "clipshare")
    document = copy.deepcopy(sealed.to_json())
    first = document["jwe"]["recipients"][0]
    document["jwe"]["recipients"] = [first] * (MAX_JWE_RECIPIENTS + 1)
    with unchanged(world):
        problem = assert_problem(officer.post("/v1/cases", document), 422, "validation-failed")
    assert "recipients" in problem["errors"]["jwe"]


def _resigned(world: World, sealed: env.Envelope, **meta: Any) -> env.Envelope:
    officer = world.officials["officer-1"]
    payload = statement_of(sealed)
    payload["meta"].update(meta)
    return env.Envelope(
        sign_compact(canonical(payload), officer.identity.signing_key, STATEMENT_TYP), sealed.jwe
    )


@pytest.mark.parametrize("count", [0, MAX_ITEMS + 1, 2**53 - 1])
def test_an_item_count_out_of_bounds_is_refused(world, count):
    officer = signed_in(world).officials["officer-1"]
    sealed = _resigned(world, world.seal_case(officer, "clipshare"), item_count=count)
    with unchanged(world):
        problem = assert_problem(officer.send(sealed), 422, "envelope-invalid-statement")
    assert "item_count" in problem["errors"]["meta"]


def test_a_statement_over_its_size_cap_is_a_422(world):
    officer = signed_in(world).officials["officer-1"]
    sealed = world.seal_case(officer, "clipshare")
    head, payload, signature = sealed.statement.split(".")
    padded = (
        f"{head}.{payload}{'A' * (MAX_STATEMENT_CHARS - len(sealed.statement) + 4)}.{signature}"
    )
    assert len(padded) > MAX_STATEMENT_CHARS
    with unchanged(world):
        problem = assert_problem(
            officer.post("/v1/cases", {"statement": padded, "jwe": sealed.jwe}),
            422,
            "validation-failed",
        )
    assert "statement" in problem["errors"]


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/v1/inbox?limit=101", "limit"),
        ("/v1/inbox?limit=100000000000000000000", "limit"),
        ("/v1/cases?limit=101", "limit"),
        ("/v1/log/entries?start=0&end=9223372036854775808", "end"),
        ("/v1/log/proof/inclusion?index=0&tree_size=9223372036854775808", "tree_size"),
        ("/v1/log/proof/consistency?old=1&new=9223372036854775808", "new"),
    ],
)
def test_page_sizes_and_positions_are_bounded(world, path, field):
    person = signed_in(world).officials["cs-lead"]
    with unchanged(world):
        problem = assert_problem(person.get(path), 422, "validation-failed")
    assert set(problem["errors"]) == {field}


def test_a_log_page_is_capped_not_refused(world):
    auditor = signed_in(world).officials["auditor-1"]
    size = world.log_size()
    with unchanged(world):
        response = auditor.get(f"/v1/log/entries?start=0&end={2**63 - 1}")
    assert response.status_code == 200
    assert [e["index"] for e in response.get_json()["entries"]] == list(range(size))


@pytest.mark.parametrize(
    "query",
    [
        "cursor=" + "A" * 100_000,
        "state=submitted&" * 5_000 + "limit=1",
        "limit=1&limit=100",
        "&".join(f"p{i}=1" for i in range(2_000)),
        "updated_since=" + "9" * 10_000,
        "category=" + "%00" * 10_000,
    ],
    ids=["huge cursor", "5000 times", "twice", "2000 parameters", "huge time", "NULs"],
)
def test_huge_query_strings_are_a_422(world, query):
    person = signed_in(world).officials["officer-1"]
    with unchanged(world):
        response = person.get(f"/v1/cases?{query}")
        problem = assert_problem(response, 422, "validation-failed")
    assert len(response.data) < 64 * 1024, "a refusal must not echo a huge input back"
    assert problem["errors"]


def test_a_body_of_many_members_is_refused_without_echoing_it(world):
    officer = signed_in(world).officials["officer-1"]
    members = {f"m{i:06d}": 0 for i in range(100_000)}
    data = json.dumps({"statement": "a.b.c", "jwe": None, **members}).encode()
    with unchanged(world):
        response = world.client.post(
            "/v1/cases",
            data=data,
            headers={**officer.headers(), "Content-Type": "application/json"},
        )
        problem = assert_problem(response, 422, "validation-failed")
    assert len(response.data) < len(data) // 100
    assert len(problem["errors"]) == MAX_REPORTED_ERRORS
    assert problem["detail"] == (
        # Every unknown member, and the statement, which is no JWS.
        f"see errors for the first {MAX_REPORTED_ERRORS} of {len(members) + 1} fields at fault"
    )
